//! The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` once per family,
//! then one sample per line, label values escaped. Pure: it writes into a `String`.

use std::fmt::Write;

use super::histogram::LatencyHistogram;

/// The `Content-Type` of this format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets on restart).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, sum and count.
    Histogram,
}

/// An exposition being written.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// Starts a family: its help text and type.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the family just started.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                self.text.push_str(key);
                self.text.push_str("=\"");
                escape_label_value(&mut self.text, value);
                self.text.push('"');
            }
            self.text.push('}');
        }
        self.text.push(' ');
        write_value(&mut self.text, value);
        self.text.push('\n');
    }

    /// A whole family of one sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// A histogram family (`_bucket`, `_sum`, `_count`) without labels.
    pub fn histogram(&mut self, name: &str, help: &str, h: &LatencyHistogram) {
        self.family(name, Kind::Histogram, help);
        let bucket = format!("{name}_bucket");
        for (bound, count) in h.cumulative() {
            let le = format_value(bound);
            self.sample(&bucket, &[("le", &le)], count as f64);
        }
        self.sample(&bucket, &[("le", "+Inf")], h.count() as f64);
        self.sample(&format!("{name}_sum"), &[], h.sum_secs());
        self.sample(&format!("{name}_count"), &[], h.count() as f64);
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// `\` → `\\`, `"` → `\"`, newline → `\n`, as the format requires of label values.
fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
}

fn format_value(value: f64) -> String {
    let mut s = String::new();
    write_value(&mut s, value);
    s
}

/// Integers without a fraction, others in Rust's shortest round-trip form; `NaN`, `+Inf`, `-Inf`.
fn write_value(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value.is_infinite() {
        out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        let _ = write!(out, "{}", value as i64);
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn families_samples_and_escaping() {
        let mut e = Exposition::default();
        e.family(
            "tagtally_zone_tags_present",
            Kind::Gauge,
            "Tags counted per zone.",
        );
        e.sample("tagtally_zone_tags_present", &[("zone", "floor")], 1234.0);
        e.sample(
            "tagtally_zone_tags_present",
            &[("zone", "odd\"name\\\n")],
            0.5,
        );
        e.single(
            "tagtally_up",
            Kind::Gauge,
            "help with \\ and\nnewline",
            f64::NAN,
        );
        assert_eq!(
            e.finish(),
            "# HELP tagtally_zone_tags_present Tags counted per zone.\n\
             # TYPE tagtally_zone_tags_present gauge\n\
             tagtally_zone_tags_present{zone=\"floor\"} 1234\n\
             tagtally_zone_tags_present{zone=\"odd\\\"name\\\\\\n\"} 0.5\n\
             # HELP tagtally_up help with \\\\ and\\nnewline\n\
             # TYPE tagtally_up gauge\n\
             tagtally_up NaN\n"
        );
    }

    #[test]
    fn a_histogram_has_buckets_up_to_inf_a_sum_and_a_count() {
        let mut h = LatencyHistogram::default();
        h.observe(Duration::from_millis(2));
        h.observe(Duration::from_secs(5));
        let mut e = Exposition::default();
        e.histogram("tagtally_commit_duration_seconds", "Commit time.", &h);
        let text = e.finish();
        assert!(text.contains("# TYPE tagtally_commit_duration_seconds histogram\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_bucket{le=\"0.001\"} 0\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_bucket{le=\"2.5\"} 1\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_sum 5.002\n"));
        assert!(text.contains("tagtally_commit_duration_seconds_count 2\n"));
    }
}
