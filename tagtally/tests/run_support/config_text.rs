//! The `tagtally run` config of a test, written in one place: store, state directory and control
//! socket, top-level keys, `[presence]`, zones, LLRP readers, other tables, and `[mqtt]` last.

use std::fmt::Display;
use std::path::Path;
use std::process::{Command, Output};

/// A config under construction; [`ConfigText::mqtt`] finishes it.
#[derive(Debug, Clone)]
pub struct ConfigText {
    head: String,
    tables: String,
}

impl ConfigText {
    /// Store `store`, its state in `state_dir`, the control socket `dir/control.sock`.
    pub fn new(store: &str, dir: &Path, state_dir: &Path) -> ConfigText {
        ConfigText {
            head: format!(
                "store = \"{store}\"\nstate-dir = \"{}\"\ncontrol-socket = \"{}/control.sock\"\n",
                state_dir.display(),
                dir.display()
            ),
            tables: String::new(),
        }
    }

    /// Top-level lines (they go before every table), e.g. `log-level = "debug"`.
    pub fn top(mut self, lines: &str) -> Self {
        self.head.push_str(lines);
        self.head.push('\n');
        self
    }

    /// The `[presence]` table with `body`.
    pub fn presence(self, body: &str) -> Self {
        self.table(&format!("[presence]\n{body}"))
    }

    /// A `[[zone]]` named `name`.
    pub fn zone(self, name: &str) -> Self {
        self.table(&format!("[[zone]]\nname = \"{name}\""))
    }

    /// An LLRP `[[reader]]` at `address` with a 2 s keepalive; `antennas` is the inline table's
    /// body, e.g. `1 = "floor", 2 = "backroom"`.
    pub fn llrp(self, name: &str, address: impl Display, antennas: &str) -> Self {
        self.table(&format!(
            "[[reader]]\nname = \"{name}\"\nkind = \"llrp\"\naddress = \"{address}\"\n\
             antennas = {{ {antennas} }}\nkeepalive = \"2s\""
        ))
    }

    /// Any other table, written as it is.
    pub fn table(mut self, text: &str) -> Self {
        self.tables.push('\n');
        self.tables.push_str(text);
        self.tables.push('\n');
        self
    }

    /// The `[mqtt]` table with `url` and `extra` keys; the finished text.
    pub fn mqtt(self, url: &str, extra: &str) -> String {
        format!(
            "{}{}\n[mqtt]\nurl = \"{url}\"\n{extra}\n",
            self.head, self.tables
        )
    }
}

/// A valid config of store `s1`, its state at `state_dir`, with `top` lines at the top level: one
/// LLRP reader and a broker that are never reached (nothing listens on port 9).
pub fn unreachable_config(dir: &Path, state_dir: &Path, top: &str) -> String {
    ConfigText::new("s1", dir, state_dir)
        .top(top)
        .zone("floor")
        .llrp("r1", "127.0.0.1:9", "1 = \"floor\"")
        .mqtt("mqtt://127.0.0.1:9", "")
}

/// `tagtally run -c config` to its exit (for daemons that refuse to start).
pub fn run_to_exit(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tagtally"))
        .args(["run", "-c"])
        .arg(config)
        .env_remove("NOTIFY_SOCKET")
        .env_remove("RUST_LOG")
        .output()
        .expect("run tagtally")
}

/// What it wrote to stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
