//! `tagtally sim llrp --listen ADDR [--scenario FILE]`: runs the LLRP reader emulator until SIGINT or SIGTERM.
//!
//! Prints `LISTENING <host:port>` on stdout (flushed) once connections are accepted, so scripts
//! and tests can wait for that line. A bad scenario file exits 65 (bad input data); an address
//! that cannot be bound exits 74 (I/O error).

use std::io::Write;
use std::process::ExitCode;

use tagtally::exit;
use tagtally_sim::{LlrpSim, Scenario};

use super::SimLlrpArgs;

/// Runs `sim llrp`.
pub fn run(args: &SimLlrpArgs) -> ExitCode {
    let scenario = match &args.scenario {
        Some(path) => match Scenario::load(path) {
            Ok(scenario) => scenario,
            Err(error) => {
                eprintln!("tagtally: scenario {}: {error}", path.display());
                return exit::code(exit::DATA_ERR);
            }
        },
        None => Scenario::default(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tagtally: cannot start the runtime: {error}");
            return exit::code(exit::IO_ERR);
        }
    };
    runtime.block_on(serve(args, scenario))
}

async fn serve(args: &SimLlrpArgs, scenario: Scenario) -> ExitCode {
    let tags = scenario.tags.len()
        + scenario
            .populations
            .iter()
            .map(|p| p.count as usize)
            .sum::<usize>();
    let sim = match LlrpSim::start(args.listen.as_str(), scenario).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("tagtally: cannot listen on {}: {error}", args.listen);
            return exit::code(exit::IO_ERR);
        }
    };
    println!("LISTENING {}", sim.addr());
    let _ = std::io::stdout().flush();
    eprintln!("tagtally: emulated llrp reader with {tags} tags; stop with ctrl-c");
    wait_for_stop_signal().await;
    let stats = sim.stats();
    eprintln!(
        "tagtally: emulator stopped: {} connections ({} refused), {} reads in {} reports",
        stats.connections_accepted, stats.connections_refused, stats.reads_sent, stats.reports_sent
    );
    exit::code(exit::OK)
}

/// SIGINT (ctrl-c) or SIGTERM (systemd, `kill`).
async fn wait_for_stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let terminated = async {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminated => {}
    }
}
