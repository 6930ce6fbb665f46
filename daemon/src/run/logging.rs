//! Logging set-up: `tracing` to stderr at the config's `log-level`, as text or JSON lines
//! (`log-format`), with journald priorities when stderr is the journal.
//!
//! Under systemd, stderr is a stream to journald and every line would be stored at the unit's default
//! priority (info): `journalctl -p err` would show nothing. So when stderr *is* that stream
//! (`JOURNAL_STREAM` names its device and inode, as sd-daemon(3) says to check), every line starts
//! with its syslog priority in the `<N>` form journald strips and stores (`<3>` error, `<4>` warning,
//! `<6>` info, `<7>` debug and trace), and lines carry no timestamp and no colour: the journal adds
//! its own time and would show escape codes verbatim. Elsewhere (a technician running `tagtally run`
//! by hand, or stderr redirected to a file by a child of the service) there is no prefix, a timestamp,
//! and colour only on a terminal. JSON lines always carry their timestamp, for shippers that read
//! them from a file. `RUST_LOG`, when set, overrides `log-level` for debugging one module (e.g.
//! `RUST_LOG=tagtally::run=debug`).

use std::fmt;
use std::io::IsTerminal;

use tagtally_config::{LogFormat, LogLevel};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// The filter: `RUST_LOG` if set, else `level`, with the demo broker library silenced (it logs client disconnects as errors).
fn filter(level: LogLevel) -> EnvFilter {
    match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => {
            EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new(level.as_str()))
        }
        _ => EnvFilter::new(format!("{},rumqttd=off", level.as_str())),
    }
}

/// The syslog priority journald stores for a `tracing` level.
pub fn journal_priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// True when stderr is the journald stream systemd connected (`JOURNAL_STREAM` is `DEV:INODE` of it).
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    // The field types differ between targets (and libc backends); u64 holds them all.
    #[allow(clippy::unnecessary_cast)]
    match rustix::fs::fstat(std::io::stderr()) {
        Ok(stat) => names_stream(
            &value.to_string_lossy(),
            stat.st_dev as u64,
            stat.st_ino as u64,
        ),
        Err(_) => false,
    }
}

/// Whether a `JOURNAL_STREAM` value names the file with this device and inode.
fn names_stream(value: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = value.split_once(':') else {
        return false;
    };
    d.parse::<u64>() == Ok(dev) && i.parse::<u64>() == Ok(ino)
}

/// The prefix for a line written to stderr without `tracing` (fatal errors before logging is set up,
/// `check-config`'s problems): `<3>` on the journal, nothing elsewhere.
pub fn stderr_error_prefix() -> &'static str {
    if stderr_is_journal() {
        "<3>"
    } else {
        ""
    }
}

/// Puts the event's journald priority in front of what the inner format writes.
#[derive(Debug, Clone)]
pub struct JournalPriority<F>(pub F);

impl<S, N, F> FormatEvent<S, N> for JournalPriority<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", journal_priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// The formatting layer for `format`, `journal` prefixes and `ansi` colour, writing to `writer`.
pub fn layer<W>(
    format: LogFormat,
    journal: bool,
    ansi: bool,
    writer: W,
) -> Box<dyn Layer<Registry> + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let base = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_target(false);
    match (format, journal) {
        (LogFormat::Text, true) => base
            .with_ansi(false)
            .without_time()
            .map_event_format(JournalPriority)
            .boxed(),
        (LogFormat::Text, false) => base.with_ansi(ansi).boxed(),
        (LogFormat::Json, true) => base
            .json()
            .with_current_span(true)
            .map_event_format(JournalPriority)
            .boxed(),
        (LogFormat::Json, false) => base.json().with_current_span(true).boxed(),
    }
}

/// Logs to stderr. Returns false when a logger was already installed (a second call changes nothing).
pub fn init_stderr(level: LogLevel, format: LogFormat) -> bool {
    let journal = stderr_is_journal();
    let ansi = !journal && std::io::stderr().is_terminal();
    tracing_subscriber::registry()
        .with(layer(format, journal, ansi, std::io::stderr).with_filter(filter(level)))
        .try_init()
        .is_ok()
}

/// Logs to `writer` (e.g. a file), plain text with timestamps: for `tagtally demo`, whose screen is the HQ view.
pub fn init_writer<W>(level: LogLevel, writer: W) -> bool
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(layer(LogFormat::Text, false, false, writer).with_filter(filter(level)))
        .try_init()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Everything the layer writes, in one buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines_of(format: LogFormat, journal: bool) -> Vec<String> {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            layer(format, journal, false, move || writer.clone())
                .with_filter(EnvFilter::new("trace")),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("reader", reader = "ceiling-1");
            let _entered = span.enter();
            tracing::error!(seq = 7, "cannot commit");
            tracing::warn!("slow");
            tracing::info!("ready");
            tracing::debug!("detail");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn on_the_journal_an_error_line_carries_priority_3() {
        let lines = lines_of(LogFormat::Text, true);
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].starts_with("<3>"), "{}", lines[0]);
        assert!(lines[0].contains("cannot commit"));
        assert!(lines[0].contains("seq=7"));
        assert!(
            lines[0].contains("reader{reader=\"ceiling-1\"}")
                || lines[0].contains("reader{reader=ceiling-1}")
        );
        assert!(lines[1].starts_with("<4>"));
        assert!(lines[2].starts_with("<6>"));
        assert!(lines[3].starts_with("<7>"));
        // No timestamp: the journal has its own. The level follows the prefix directly.
        assert!(lines[0].starts_with("<3>ERROR"), "{}", lines[0]);
    }

    #[test]
    fn off_the_journal_lines_have_no_prefix_and_a_timestamp() {
        let lines = lines_of(LogFormat::Text, false);
        assert!(!lines[0].starts_with('<'));
        // RFC 3339 time first, e.g. 2026-12-03T20:31:00.123456Z.
        assert!(
            lines[0].as_bytes()[4] == b'-' && lines[0].contains('T'),
            "{}",
            lines[0]
        );
    }

    #[test]
    fn json_lines_parse_and_keep_the_journal_priority_in_front() {
        for journal in [true, false] {
            let lines = lines_of(LogFormat::Json, journal);
            assert_eq!(lines.len(), 4);
            let body = if journal {
                assert!(lines[0].starts_with("<3>{"), "{}", lines[0]);
                &lines[0][3..]
            } else {
                &lines[0][..]
            };
            let value: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(value["level"], "ERROR");
            assert_eq!(value["fields"]["message"], "cannot commit");
            assert_eq!(value["fields"]["seq"], 7);
            assert_eq!(value["span"]["reader"], "ceiling-1");
            assert!(value["timestamp"].is_string());
        }
    }

    #[test]
    fn journal_stream_must_name_the_stream_itself() {
        assert!(names_stream("64769:123456", 64769, 123456));
        // Another file (stderr redirected by a child of the service): no prefixes.
        assert!(!names_stream("64769:123456", 64769, 123457));
        assert!(!names_stream("garbage", 64769, 123456));
        assert!(!names_stream("64769:", 64769, 123456));
    }
}
