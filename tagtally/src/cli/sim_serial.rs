//! `tagtally sim thingmagic|r2000`: a serial reader emulator on a pseudo-terminal or a TCP port,
//! driven by a scenario file, until interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use tagtally::exit;
use tagtally_sim::r2000::R2000Module;
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{
    EmulatedModule, Scenario, SerialListen, SerialSim, SerialSimOptions, SimEndpoint,
};

use super::SimSerialArgs;

/// Which module to emulate.
#[derive(Debug, Clone, Copy)]
pub enum Family {
    ThingMagic,
    R2000,
}

/// Runs the emulator; returns only on a start-up failure or after Ctrl-C / SIGTERM.
pub fn run(family: Family, args: &SimSerialArgs) -> ExitCode {
    let scenario = match &args.scenario {
        Some(path) => match Scenario::load(path) {
            Ok(scenario) => scenario,
            Err(error) => {
                eprintln!("tagtally sim: {error}");
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
            eprintln!("tagtally sim: cannot start the async runtime: {error}");
            return exit::code(exit::IO_ERR);
        }
    };
    runtime.block_on(async {
        match family {
            Family::ThingMagic => serve(ThingMagicModule::new(&scenario), &scenario, args).await,
            Family::R2000 => serve(R2000Module::new(&scenario), &scenario, args).await,
        }
    })
}

async fn serve<M: EmulatedModule + 'static>(
    module: M,
    scenario: &Scenario,
    args: &SimSerialArgs,
) -> ExitCode {
    let listen = match &args.listen {
        Some(address) => match resolve(address).await {
            Ok(address) => SerialListen::Tcp(address),
            Err(message) => {
                eprintln!("tagtally sim: {message}");
                return exit::code(exit::USAGE);
            }
        },
        None => SerialListen::Pty {
            link: args.link.clone(),
        },
    };
    let sim = match SerialSim::start(module, scenario, listen, SerialSimOptions::default()).await {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("tagtally sim: cannot open the emulated port: {error}");
            return exit::code(exit::IO_ERR);
        }
    };
    let mut endpoint = sim.watch_endpoint();
    announce(&endpoint.borrow_and_update().clone(), None);
    let mut last = endpoint.borrow().clone();
    loop {
        tokio::select! {
            () = interrupted() => break,
            changed = endpoint.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = endpoint.borrow_and_update().clone();
                announce(&now, Some(&last));
                last = now;
            }
        }
    }
    sim.shutdown().await;
    exit::code(exit::OK)
}

/// Prints where the emulator is, once at start and again when an unplug fault re-plugs it.
fn announce(now: &SimEndpoint, before: Option<&SimEndpoint>) {
    let mut out = std::io::stdout().lock();
    if let Some(address) = now.tcp.filter(|_| before.is_none()) {
        let _ = writeln!(out, "LISTENING {address}");
    }
    if let Some(pty) = &now.pty {
        if before.and_then(|b| b.pty.as_ref()) != Some(pty)
            || before.map(|b| b.plug_count) != Some(now.plug_count)
        {
            let _ = writeln!(out, "PTY {}", pty.display());
            if let (Some(link), None) = (&now.link, before) {
                let _ = writeln!(out, "LINK {}", link.display());
            }
        }
    }
    // Scripts wait for these lines: they must not sit in a buffer.
    let _ = out.flush();
}

async fn resolve(address: &str) -> Result<SocketAddr, String> {
    tokio::net::lookup_host(address)
        .await
        .map_err(|error| format!("cannot resolve --listen {address}: {error}"))?
        .next()
        .ok_or_else(|| format!("--listen {address} resolves to no address"))
}

/// Ctrl-C or SIGTERM.
async fn interrupted() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
