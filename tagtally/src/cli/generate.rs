//! `tagtally generate` (hidden): man pages and shell completions written from the clap grammar in
//! `cli/mod.rs`, so they can never disagree with the binary they ship with. The Debian package is
//! built from this output (`.ci/package`); nothing else needs it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, Subcommand};
use clap_complete::Shell;
use tagtally::exit;

use super::Cli;

/// What `tagtally generate` writes.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Man pages: tagtally(1) and one page per command (tagtally-run(1), ...).
    Man(OutDir),
    /// Completion scripts for bash, zsh and fish.
    Completions(OutDir),
}

/// The directory to write into (created if missing).
#[derive(Debug, Args)]
pub struct OutDir {
    /// Directory for the generated files.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Runs `generate`.
pub fn run(command: &GenerateCommand) -> ExitCode {
    let result = match command {
        GenerateCommand::Man(OutDir { out }) => man_pages(out),
        GenerateCommand::Completions(OutDir { out }) => completions(out),
    };
    match result {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            exit::code(exit::OK)
        }
        Err(error) => {
            eprintln!("tagtally: cannot generate: {error}");
            exit::code(exit::IO_ERR)
        }
    }
}

/// Writes every man page into `out`; returns their paths.
pub fn man_pages(out: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    clap_mangen::generate_to(Cli::command(), out)?;
    listed(out)
}

/// Writes completion scripts for bash, zsh and fish into `out`; returns their paths.
pub fn completions(out: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let mut command = Cli::command();
    let mut written = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        written.push(clap_complete::generate_to(
            shell,
            &mut command,
            "tagtally",
            out,
        )?);
    }
    Ok(written)
}

fn listed(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn man_pages_cover_every_visible_command_and_not_this_one() {
        let dir = tempfile::tempdir().unwrap();
        let pages = man_pages(dir.path()).unwrap();
        let names: Vec<String> = pages
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for page in [
            "tagtally.1",
            "tagtally-run.1",
            "tagtally-check-config.1",
            "tagtally-status.1",
            "tagtally-metrics.1",
        ] {
            assert!(names.iter().any(|n| n == page), "{page} missing: {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("generate")), "{names:?}");
        let main = std::fs::read_to_string(dir.path().join("tagtally.1")).unwrap();
        assert!(main.starts_with(".ie"), "roff");
        assert!(main.contains("check\\-config"), "{main}");
    }

    #[test]
    fn completions_for_three_shells_know_the_commands() {
        let dir = tempfile::tempdir().unwrap();
        let files = completions(dir.path()).unwrap();
        assert_eq!(files.len(), 3);
        let bash = std::fs::read_to_string(dir.path().join("tagtally.bash")).unwrap();
        assert!(bash.contains("check-config") && bash.contains("metrics"));
        assert!(dir.path().join("_tagtally").exists());
        assert!(dir.path().join("tagtally.fish").exists());
    }
}
