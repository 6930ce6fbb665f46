//! Entry points: read a config file (or text), run every check, return the config or every problem.

use crate::config::Config;
use crate::error::{ConfigError, ConfigErrors, ConfigProblem, ErrorSink};
use crate::file_checks::{check_named_files, config_file_problem, FileChecks};
use crate::file_read::read_regular_file;
use crate::sections::read_sections;
use crate::validate::build;
use std::path::Path;

/// Largest config file accepted: a store with thousands of readers is well under 1 MiB, and a
/// bound keeps a mistaken (or hostile) huge file from costing time and memory to refuse.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

impl Config {
    /// Reads and validates the config at `path` the way the daemon does: schema, cross-field
    /// rules, the config file's permissions, and the files it names (readable, secrets private).
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        Config::load_with(path, &FileChecks::Real)
    }

    /// [`Config::load`], with the named files checked as `checks` says. The config file's own
    /// permissions are checked unless `checks` is [`FileChecks::Skip`].
    pub fn load_with(path: impl AsRef<Path>, checks: &FileChecks) -> Result<Config, ConfigErrors> {
        let path = path.as_ref();
        let unreadable = |reason: String| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                location: None,
                problem: ConfigProblem::ConfigUnreadable { reason },
            }])
        };
        let bytes = read_regular_file(path, MAX_CONFIG_BYTES)
            .map_err(|error| unreadable(error.to_string()))?;
        let text =
            String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8 text".to_owned()))?;
        let file_problem = match checks {
            FileChecks::Skip => None,
            FileChecks::Real | FileChecks::UnderRoot(_) => config_file_problem(path),
        };
        parse(&text, path, checks, file_problem)
    }

    /// Validates config `text` without touching the file system (schema and cross-field rules
    /// only). `origin` names the text in messages, and relative paths in it are resolved
    /// against `origin`'s directory.
    pub fn from_str(text: &str, origin: impl AsRef<Path>) -> Result<Config, ConfigErrors> {
        parse(text, origin.as_ref(), &FileChecks::Skip, None)
    }

    /// Validates config `text`, checking the files it names as `checks` says.
    pub fn from_str_with(
        text: &str,
        origin: impl AsRef<Path>,
        checks: &FileChecks,
    ) -> Result<Config, ConfigErrors> {
        parse(text, origin.as_ref(), checks, None)
    }
}

fn parse(
    text: &str,
    origin: &Path,
    checks: &FileChecks,
    file_problem: Option<ConfigProblem>,
) -> Result<Config, ConfigErrors> {
    let mut sink = ErrorSink::new(origin, text);
    if let Some(problem) = file_problem {
        sink.whole_file(problem);
    }
    let sections = read_sections(text, &mut sink);
    let (mut config, named_files) = build(sections, origin, &mut sink);
    let secrets = check_named_files(&named_files, checks, &mut sink);
    if let Some(config) = &mut config {
        config.mqtt.password = secrets.take(config.mqtt.password_file.as_deref());
    }
    debug_assert!(
        config.is_some() || sink.len() > 0,
        "every path that yields no config reports why"
    );
    match config {
        Some(config) if sink.len() == 0 => Ok(config),
        // Every path that yields no config has reported why, so this is never empty.
        _ => Err(ConfigErrors(sink.into_errors())),
    }
}
