//! Config problems, each with the file and the place in it, printed as `FILE:LINE:COL: message`.

use crate::host_port::HostPortError;
use crate::mqtt::BrokerUrlError;
use crate::span::{locate, Location};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What is wrong, with the offending values. Messages are lower-case, without a trailing period.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigProblem {
    /// A TOML syntax error, or a value of the wrong type or range (message from the parser).
    #[error("{0}")]
    Toml(String),
    /// The config file could not be read at all.
    #[error("cannot read the config file: {reason}")]
    ConfigUnreadable {
        /// The operating system's reason.
        reason: String,
    },
    /// Anyone on the gateway could rewrite the config.
    #[error("the config file is writable by every user (mode {mode:04o}): anyone could redirect the readers or the uplink; run `chmod o-w` on it")]
    ConfigWorldWritable {
        /// The file's permission bits.
        mode: u32,
    },
    /// A required top-level key is absent.
    #[error("missing required key `{key}`")]
    MissingKey {
        /// The key.
        key: &'static str,
    },
    /// A required section is absent.
    #[error("missing required section [{section}]")]
    MissingSection {
        /// The section's name.
        section: &'static str,
    },
    /// A top-level key the schema does not know.
    #[error("unknown key `{key}`, expected one of {expected}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys allowed there.
        expected: &'static str,
    },
    /// `zone`, `reader` or `sku-map` written as something else than `[[...]]` tables.
    #[error("`{key}` must be written as [[{key}]] tables")]
    NotArrayOfTables {
        /// The key.
        key: String,
    },
    /// `presence` or `mqtt` written as something else than a `[...]` table.
    #[error("`{key}` must be a table ([{key}])")]
    NotATable {
        /// The key.
        key: String,
    },
    /// A secret written into the config instead of a file.
    #[error("inline secrets are not accepted: put the {what} in a file that only tagtally can read and name that file with `{file_key}`")]
    InlineSecret {
        /// What the secret is.
        what: &'static str,
        /// The key that names the secret's file.
        file_key: &'static str,
    },
    /// Two zones, two readers or two sku-map entries with the same name or prefix.
    #[error("{what} `{name}` is declared twice (first at line {first_line})")]
    Duplicate {
        /// `zone`, `reader` or `sku-map epc-prefix`.
        what: &'static str,
        /// The repeated name.
        name: String,
        /// Line of the first declaration.
        first_line: usize,
    },
    /// An antenna mapped to a zone nobody declared.
    #[error(
        "reader `{reader}` maps antenna {antenna} to zone `{zone}`, which no [[zone]] declares"
    )]
    UnknownZone {
        /// The reader.
        reader: String,
        /// The antenna number.
        antenna: u16,
        /// The undeclared zone.
        zone: String,
    },
    /// An antenna key that is not 1..=65535.
    #[error("reader `{reader}`: antenna `{antenna}` is not a number from 1 to 65535")]
    BadAntenna {
        /// The reader.
        reader: String,
        /// The key as written.
        antenna: String,
    },
    /// A duration below the least that key accepts.
    #[error("`{key}` is {value:?}; it must be at least {min:?}")]
    TooShort {
        /// The key.
        key: &'static str,
        /// The duration given.
        value: std::time::Duration,
        /// The least accepted.
        min: std::time::Duration,
    },
    /// `suspect-after` as long as a zone's `depart-after`: tags would depart before the silence is seen.
    #[error("suspect-after ({suspect_after:?}) must be shorter than every zone's depart-after, and zone `{zone}` departs after {depart_after:?}: tags of a silent antenna would depart before it is suspect")]
    SuspectAfterNotBelowDepartAfter {
        /// The value given.
        suspect_after: std::time::Duration,
        /// The zone with the shortest `depart-after`.
        zone: String,
        /// Its `depart-after`.
        depart_after: std::time::Duration,
    },
    /// `sentinels` on a handheld reader.
    #[error("reader `{reader}` is a handheld (`role = \"handheld\"`): sentinels watch fixed antennas only; remove `sentinels`")]
    SentinelsOnHandheld {
        /// The reader.
        reader: String,
    },
    /// A `sentinels` key that is not one of the reader's antennas.
    #[error(
        "reader `{reader}` has sentinels for antenna `{antenna}`, which is not in its `antennas`"
    )]
    SentinelAntennaUnknown {
        /// The reader.
        reader: String,
        /// The antenna key as written.
        antenna: String,
    },
    /// A sentinel EPC that is not whole bytes of hex.
    #[error("sentinel epc `{epc}` is not usable: {reason}")]
    BadSentinelEpc {
        /// The EPC as written.
        epc: String,
        /// Why.
        reason: &'static str,
    },
    /// A reader that feeds no zone.
    #[error("reader `{reader}` maps no antenna to a zone")]
    NoAntennas {
        /// The reader.
        reader: String,
    },
    /// A key that belongs to another reader kind.
    #[error("`{key}` does not apply to {kind} reader `{reader}`")]
    KeyNotForKind {
        /// The reader.
        reader: String,
        /// The key.
        key: &'static str,
        /// The reader's kind.
        kind: &'static str,
    },
    /// A key the reader's kind needs.
    #[error("{kind} reader `{reader}` needs `{key}`")]
    MissingKeyForKind {
        /// The reader.
        reader: String,
        /// The key.
        key: &'static str,
        /// The reader's kind.
        kind: &'static str,
    },
    /// A serial reader with both `device` and `address`, or neither.
    #[error("{kind} reader `{reader}` takes exactly one of `device` (a serial port) and `address` (a serial-over-TCP bridge)")]
    SerialPortChoice {
        /// The reader.
        reader: String,
        /// The reader's kind.
        kind: &'static str,
    },
    /// A bad `address`.
    #[error("invalid address `{address}`: {reason}")]
    BadAddress {
        /// The address as written.
        address: String,
        /// What is wrong with it.
        reason: HostPortError,
    },
    /// A bad `[mqtt] url`.
    #[error("invalid mqtt url `{url}`: {reason}")]
    BadMqttUrl {
        /// The url as written.
        url: String,
        /// What is wrong with it.
        reason: BrokerUrlError,
    },
    /// A TLS file with a plain `mqtt://` url.
    #[error("`{key}` needs an mqtts:// url, but the url is plain mqtt://")]
    TlsFileWithoutTls {
        /// The TLS key.
        key: &'static str,
    },
    /// Half of a client certificate pair.
    #[error("`{present}` needs `{missing}` (mutual TLS takes the certificate and its key)")]
    UnpairedClientCert {
        /// The key that is there.
        present: &'static str,
        /// The key that is not.
        missing: &'static str,
    },
    /// MQTT carries a password only together with a user name.
    #[error("`password-file` needs `username`: MQTT sends a password only with a user name")]
    PasswordWithoutUsername,
    /// A topic prefix that would break the topic tree.
    #[error("invalid topic-prefix `{prefix}`: {reason}")]
    BadTopicPrefix {
        /// The prefix as written.
        prefix: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A client id a broker would refuse.
    #[error("invalid client-id `{client_id}`: {reason}")]
    BadClientId {
        /// The id as written.
        client_id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An sku-map prefix that is not hex EPC digits.
    #[error("invalid epc-prefix `{prefix}`: {reason}")]
    BadEpcPrefix {
        /// The prefix as written.
        prefix: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An sku-map SKU that HQ could not use.
    #[error("invalid sku `{sku}`: {reason}")]
    BadSku {
        /// The SKU as written.
        sku: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A control socket path longer than `sockaddr_un` holds.
    #[error(
        "control-socket path `{path}` is {len} bytes long; a unix socket path holds at most {max}"
    )]
    SocketPathTooLong {
        /// The path.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A file the config names cannot be opened.
    #[error("`{key}` {path}: cannot be read: {reason}")]
    FileUnreadable {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A path that names a directory, FIFO or device rather than a file.
    #[error("`{key}` {path}: is not a regular file but a {kind}")]
    NotAFile {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// A secret any local user could read.
    #[error("`{key}` {path}: is readable by every user (mode {mode:04o}); run `chmod o-r` on it")]
    SecretWorldReadable {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
        /// The file's permission bits.
        mode: u32,
    },
    /// A secret file with nothing (or only whitespace) in it.
    #[error("`{key}` {path}: is empty")]
    EmptySecret {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
    },
    /// A password file that is not UTF-8 text.
    #[error("`{key}` {path}: is not UTF-8 text")]
    SecretNotText {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
    },
    /// A named file far larger than its kind of content ever is.
    #[error("`{key}` {path}: is {len} bytes, more than the {max} bytes accepted")]
    FileTooLarge {
        /// The key naming the file.
        key: &'static str,
        /// The path checked.
        path: PathBuf,
        /// Its size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A certificate or key file whose content TLS cannot use.
    #[error("`{key}` {path}: {reason}")]
    BadTlsFile {
        /// The key naming the file.
        key: &'static str,
        /// The path.
        path: PathBuf,
        /// What TLS said.
        reason: String,
    },
    /// No `ca-file` and no usable system trust store for an `mqtts://` url.
    #[error("no `ca-file` given and the system trust store has no usable certificate ({reason})")]
    NoTrustedRoots {
        /// Why the system store gave nothing.
        reason: String,
    },
    /// The TLS library cannot be set up at all (a build problem, not the config's).
    #[error("tls cannot be set up: {reason}")]
    TlsUnavailable {
        /// Why.
        reason: String,
    },
    /// A reload that changes what only a restart can change.
    #[error("`{key}` changed; that takes a restart (systemctl restart tagtally), so the running config stays in force")]
    NeedsRestart {
        /// The key or section.
        key: &'static str,
    },
    /// Something other than a socket sits where the control socket goes.
    #[error("`{key}` {path}: exists and is not a socket; refusing to replace it")]
    NotASocket {
        /// The key naming the path.
        key: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// An antenna port the reader's module does not have.
    #[error("reader `{reader}`: antenna {antenna} does not exist on {family} modules (ports 1 to {max}{when})")]
    AntennaNotOnModule {
        /// The reader.
        reader: String,
        /// The antenna.
        antenna: u16,
        /// The module family.
        family: &'static str,
        /// The highest port.
        max: u16,
        /// When the bound applies, if not always.
        when: &'static str,
    },
    /// A region the reader's module has no preset for.
    #[error("reader `{reader}`: region `{region}` has no preset band on {family} modules (use one of {supported}, or leave `region` out to keep the module's own)")]
    RegionNotOnModule {
        /// The reader.
        reader: String,
        /// The region as written.
        region: &'static str,
        /// The module family.
        family: &'static str,
        /// The regions it has.
        supported: &'static str,
    },
    /// More zones or readers than the daemon can number.
    #[error("{count} {what} configured, at most {max} are supported")]
    TooMany {
        /// `zones` or `readers`.
        what: &'static str,
        /// How many there are.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A `username` MQTT cannot carry.
    #[error("invalid username: {reason}")]
    BadUsername {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// With `[epcis] sgln`, a zone name that cannot be an SGLN extension.
    #[error("zone `{zone}` cannot be named under [epcis] sgln {reason} (an SGLN extension is at most 20 characters)")]
    ZoneNotSgln {
        /// The zone.
        zone: String,
        /// The store's GLN and the SGLN rule the name breaks.
        reason: String,
    },
    /// `[replenish] min-file` that cannot be read or has a bad line (found by the daemon's plan).
    #[error("[replenish] min-file {}: {reason}", path.display())]
    BadMinFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why, with the line number when it is a line.
        reason: String,
    },
    /// `[replenish]` in a store without a zone of the role it needs.
    #[error("[replenish] brings items from a zone with role = \"stockroom\" to one with role = \"sales-floor\", and no [[zone]] has role = \"{role}\"")]
    ReplenishWithoutZone {
        /// The missing role.
        role: &'static str,
    },
    /// The stock engine refused the store layout although every check above passed: a gap in
    /// those checks, refused by the config plan (so by `check-config`) rather than left to `run`.
    #[error("the stock engine cannot use this store layout: {reason}")]
    EngineLayout {
        /// The engine's reason.
        reason: String,
    },
}

/// One problem in one config file, at a line and column when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The config file (or the origin given to [`crate::Config::from_str`]).
    pub file: PathBuf,
    /// Where in the file; `None` for problems of the whole file (unreadable, permissions).
    pub location: Option<Location>,
    /// What is wrong.
    pub problem: ConfigProblem,
}

impl ConfigError {
    /// The message alone, as [`Display`](fmt::Display) shows it after `FILE:LINE:COL: `: one
    /// line, long quoted values shortened.
    pub fn message(&self) -> String {
        OneLine(&self.problem).to_string()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        let message = OneLine(&self.problem);
        match self.location {
            Some(Location { line, col }) => {
                write!(formatter, "{}:{line}:{col}: {message}", self.file.display())
            }
            None => write!(formatter, "{}: {message}", self.file.display()),
        }
    }
}

/// Longest quoted value shown whole in a message, in characters; longer ones are cut.
pub const MAX_QUOTED_CHARS: usize = 80;
/// Characters kept of a longer quoted value.
const QUOTED_HEAD_CHARS: usize = 60;
/// Longest message shown, in characters, whatever it quotes.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// A message made safe for one line of a terminal or a log:
/// * quoted values (between backticks or double quotes) longer than [`MAX_QUOTED_CHARS`] are
///   cut, saying how long they were: a config may hold megabytes in one string, and echoing it
///   whole would flood the terminal and the journal;
/// * the workspace's one escaping rule for outside text applies
///   ([`tagtally_protocol::text::Escaped`]): messages quote values from the config text, and TOML
///   strings may hold any character; a raw newline would split one problem over two lines (or
///   forge a `FILE:LINE:COL:` line), an escape sequence would reach the technician's terminal;
/// * the whole is bounded by [`MAX_MESSAGE_CHARS`].
struct OneLine<'a>(&'a ConfigProblem);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        let message = shorten_quoted(&self.0.to_string());
        match message.char_indices().nth(MAX_MESSAGE_CHARS) {
            Some((cut, _)) => write!(
                formatter,
                "{}…",
                tagtally_protocol::text::Escaped(&message[..cut])
            ),
            None => write!(formatter, "{}", tagtally_protocol::text::Escaped(&message)),
        }
    }
}

/// `message` with every quoted value longer than [`MAX_QUOTED_CHARS`] cut to its first
/// [`QUOTED_HEAD_CHARS`] characters and a note of its length.
fn shorten_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(4 * MAX_MESSAGE_CHARS));
    let mut rest = message;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = &rest[open..open + 1];
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            break;
        };
        let value = &after[..close];
        out.push_str(&rest[..=open]);
        let chars = value.chars().count();
        if chars > MAX_QUOTED_CHARS {
            out.extend(value.chars().take(QUOTED_HEAD_CHARS));
            out.push_str(&format!("… ({chars} characters)"));
        } else {
            out.push_str(value);
        }
        out.push_str(quote);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

impl std::error::Error for ConfigError {}

/// Every problem found in a config, in file order (whole-file problems first). Never empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The problems, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One problem per line, so the whole set can be printed as it is.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            write!(formatter, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Collects problems while the loader goes on checking, turning byte spans into locations.
#[derive(Debug)]
pub(crate) struct ErrorSink<'t> {
    file: PathBuf,
    text: &'t str,
    errors: Vec<ConfigError>,
}

impl<'t> ErrorSink<'t> {
    pub(crate) fn new(file: &Path, text: &'t str) -> Self {
        ErrorSink {
            file: file.to_path_buf(),
            text,
            errors: Vec::new(),
        }
    }

    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, problem: ConfigProblem) {
        let location = Some(locate(self.text, span.start));
        self.push(location, problem);
    }

    /// Records a problem of the whole file.
    pub(crate) fn whole_file(&mut self, problem: ConfigProblem) {
        self.push(None, problem);
    }

    /// Records a parser error; `fallback` locates it when the parser gave no span.
    pub(crate) fn toml(&mut self, error: &toml::de::Error, fallback: Range<usize>) {
        let span = error.span().unwrap_or(fallback);
        self.at(span, ConfigProblem::Toml(error.message().to_owned()));
    }

    /// The line of the byte `offset`, for "first declared at line N" messages.
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        locate(self.text, offset).line
    }

    /// The location of the byte `offset`.
    pub(crate) fn location_of(&self, offset: usize) -> Location {
        locate(self.text, offset)
    }

    /// How many problems were recorded so far.
    pub(crate) fn len(&self) -> usize {
        self.errors.len()
    }

    fn push(&mut self, location: Option<Location>, problem: ConfigProblem) {
        self.errors.push(ConfigError {
            file: self.file.clone(),
            location,
            problem,
        });
    }

    /// The problems in file order: whole-file ones first, then by line and column.
    pub(crate) fn into_errors(mut self) -> Vec<ConfigError> {
        // A stable sort keeps problems at the same place in the order they were found.
        self.errors.sort_by_key(|error| error.location);
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_col_message() {
        let error = ConfigError {
            file: PathBuf::from("/etc/tagtally/tagtally.toml"),
            location: Some(Location { line: 3, col: 7 }),
            problem: ConfigProblem::MissingKey { key: "store" },
        };
        assert_eq!(
            error.to_string(),
            "/etc/tagtally/tagtally.toml:3:7: missing required key `store`"
        );
    }

    #[test]
    fn control_characters_quoted_from_the_config_are_escaped() {
        let error = ConfigError {
            file: PathBuf::from("t.toml"),
            location: Some(Location { line: 8, col: 18 }),
            problem: ConfigProblem::UnknownZone {
                reader: "r1".into(),
                antenna: 1,
                zone: "floor\nt.toml:1:1: all good\u{1b}[2K\t\r".into(),
            },
        };
        assert_eq!(
            error.to_string(),
            "t.toml:8:18: reader `r1` maps antenna 1 to zone \
             `floor\\nt.toml:1:1: all good\\u{1b}[2K\\t\\r`, which no [[zone]] declares"
        );
    }

    #[test]
    fn long_quoted_values_are_shortened() {
        let long = "x".repeat(10_000_000);
        let error = ConfigError {
            file: PathBuf::from("t.toml"),
            location: Some(Location { line: 2, col: 9 }),
            problem: ConfigProblem::BadSku {
                sku: long,
                reason: "it is longer than 128 characters",
            },
        };
        let shown = error.to_string();
        assert_eq!(
            shown,
            format!(
                "t.toml:2:9: invalid sku `{}… (10000000 characters)`: it is longer than 128 characters",
                "x".repeat(60)
            )
        );
        let toml = ConfigError {
            problem: ConfigProblem::Toml(format!("invalid value: string \"{}\"", "y".repeat(500))),
            ..error
        };
        assert!(toml.to_string().len() < 200, "{toml}");
    }

    #[test]
    fn a_message_is_bounded_even_without_quotes() {
        let error = ConfigError {
            file: PathBuf::from("t.toml"),
            location: None,
            problem: ConfigProblem::Toml("z".repeat(5000)),
        };
        assert_eq!(error.to_string().chars().count(), "t.toml: ".len() + 1001);
    }

    #[test]
    fn whole_file_problems_have_no_line_and_column() {
        let error = ConfigError {
            file: PathBuf::from("t.toml"),
            location: None,
            problem: ConfigProblem::ConfigWorldWritable { mode: 0o666 },
        };
        assert!(error
            .to_string()
            .starts_with("t.toml: the config file is writable by every user (mode 0666)"));
    }

    #[test]
    fn the_sink_sorts_by_place_whole_file_first() {
        let text = "a\nb\nc\n";
        let mut sink = ErrorSink::new(Path::new("t.toml"), text);
        sink.at(4..5, ConfigProblem::MissingKey { key: "c" });
        sink.at(0..1, ConfigProblem::MissingKey { key: "a" });
        sink.whole_file(ConfigProblem::ConfigWorldWritable { mode: 0o666 });
        let lines: Vec<_> = sink
            .into_errors()
            .iter()
            .map(|error| error.location.map(|location| location.line))
            .collect();
        assert_eq!(lines, [None, Some(1), Some(3)]);
    }

    #[test]
    fn messages_are_lower_case_without_trailing_period() {
        let samples = [
            ConfigProblem::PasswordWithoutUsername,
            ConfigProblem::InlineSecret {
                what: "mqtt password",
                file_key: "password-file",
            },
            ConfigProblem::NoAntennas { reader: "r".into() },
        ];
        for problem in samples {
            let message = problem.to_string();
            assert!(!message.ends_with('.'), "{message}");
            assert!(
                !message.starts_with(|c: char| c.is_uppercase()),
                "{message}"
            );
        }
    }
}
