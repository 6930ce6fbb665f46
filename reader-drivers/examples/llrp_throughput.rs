//! Measures how many reads per second one LLRP session sustains: the emulator and the driver together over loopback TCP.
//!
//! `cargo run --release -p tagtally-reader-drivers --example llrp_throughput -- [SECONDS] [TAGS] [ROUNDS_PER_S] [THREADS]`
//! (defaults 5, 2000, 1000, 1). With one thread the emulator, the driver and the consumer share one
//! core, which is the honest figure for a gateway that is busy with other work too.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use tagtally_reader_drivers::connect::TcpConnector;
use tagtally_reader_drivers::driver::{self, ReaderDriver};
use tagtally_reader_drivers::llrp::{LlrpSession, LlrpSettings};
use tagtally_reader_drivers::{DriverEvent, DriverOutput, ReaderId};
use tagtally_sim::{LlrpSim, Scenario};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> std::io::Result<()> {
    let seconds = arg(1, 5);
    let tags = arg(2, 2000);
    let rate = arg(3, 1000);
    let threads = arg(4, 1).max(1) as usize;
    let runtime = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(measure(seconds, tags, rate, threads))
}

async fn measure(seconds: u64, tags: u64, rate: u64, threads: usize) -> std::io::Result<()> {
    let text = format!(
        "[inventory]\nread-rate = {rate}.0\n[[population]]\ncount = {tags}\nepc-prefix = \"30395DFA80\"\nantennas = [1]\n"
    );
    let scenario = Scenario::parse(&text).map_err(std::io::Error::other)?;
    let sim = LlrpSim::start("127.0.0.1:0", scenario).await?;
    let mut settings = LlrpSettings::new(ReaderId(0), sim.addr().to_string());
    settings.report_every_tags = 1000;
    let (tx, mut rx) = mpsc::channel(1024);
    let connector = TcpConnector {
        address: settings.address.clone(),
    };
    let session = LlrpSession::new(settings, 1, driver::now().instant);
    let driver = ReaderDriver::spawn(session, connector, tx);
    // Wait for the link, then count for the measuring window.
    loop {
        match rx.recv().await {
            Some(DriverOutput::Event(DriverEvent::LinkUp { .. })) => break,
            Some(_) => {}
            None => return Err(std::io::Error::other("driver ended before link up")),
        }
    }
    let start = Instant::now();
    let window = Duration::from_secs(seconds);
    let mut reads = 0u64;
    let mut batches = 0u64;
    while let Ok(Some(output)) =
        tokio::time::timeout(window.saturating_sub(start.elapsed()), rx.recv()).await
    {
        if let DriverOutput::Reads(batch) = output {
            reads += batch.len() as u64;
            batches += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let offered = tags * rate;
    let stats = sim.stats();
    println!(
        "{threads} runtime thread(s), {tags} tags x {rate} rounds/s offered {offered} reads/s: \
         received {reads} reads in {batches} reports over {elapsed:.2} s = {:.0} reads/s \
         (emulator skipped {} rounds, dropped {} reads)",
        reads as f64 / elapsed,
        stats.rounds_skipped,
        stats.reads_overflowed
    );
    driver.abort();
    Ok(())
}
