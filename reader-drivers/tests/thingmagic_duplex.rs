//! The serial driver task is transport-generic: the ThingMagic session over an in-memory
//! `tokio::io::duplex`, with the sans-IO module emulator on the other end, and a transport that
//! fails to open before it works.

// Each test file uses a different part of the shared helpers.
#[allow(dead_code)]
#[path = "support/serial_driver.rs"]
mod support;

use std::io;
use std::time::Duration;

use support::{bounded, quick_timing, DriverUnderTest};
use tagtally_reader_drivers::connect::Connect;
use tagtally_reader_drivers::driver::DriverExit;
use tagtally_reader_drivers::thingmagic::{ThingMagicSession, ThingMagicSettings};
use tagtally_reader_drivers::ReaderId;
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{EmulatedModule, Scenario};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

/// Hands out one end of a fresh duplex per connect, after `failures` refused attempts, and runs
/// the module on the other end.
struct DuplexConnector {
    failures: u32,
    scenario: Scenario,
}

impl Connect for DuplexConnector {
    type Io = DuplexStream;

    async fn connect(&mut self) -> io::Result<DuplexStream> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such device"));
        }
        let (driver_end, module_end) = tokio::io::duplex(4096);
        tokio::spawn(serve(ThingMagicModule::new(&self.scenario), module_end));
        Ok(driver_end)
    }

    fn target(&self) -> String {
        "duplex".into()
    }
}

/// A minimal module host: bytes in, ticks on the module's own schedule, frames out.
async fn serve(mut module: ThingMagicModule, mut io: DuplexStream) {
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    let mut frames = Vec::new();
    loop {
        let wake = module.next_tick().map_or_else(
            || Instant::now() + Duration::from_secs(3600),
            |d| started + d,
        );
        tokio::select! {
            read = io.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => module.on_bytes(&buffer[..n], started.elapsed(), &mut frames),
            },
            () = tokio::time::sleep_until(wake) => {}
        }
        module.on_tick(started.elapsed(), &mut frames);
        for frame in frames.drain(..) {
            if io.write_all(&frame.bytes).await.is_err() {
                return;
            }
        }
    }
}

#[tokio::test]
async fn an_open_failure_is_reported_then_the_driver_reads_over_a_duplex() {
    bounded(async {
        let scenario = Scenario::parse(
            "[inventory]\nread-rate = 20.0\n[[tag]]\nepc = \"3074257BF7194E4000001A85\"\nrssi = -58.0",
        )
        .expect("valid scenario");
        let connector = DuplexConnector {
            failures: 2,
            scenario,
        };
        let mut settings = ThingMagicSettings::new(ReaderId(9), vec![1]);
        settings.link = quick_timing();
        let session = ThingMagicSession::new(settings, 1);
        let mut driver = DriverUnderTest::start(session, connector);
        driver.until("reads", |d| d.reads.len() >= 3).await;
        assert_eq!(
            driver.link_downs(),
            ["cannot open duplex: no such device"],
            "said once, not per attempt"
        );
        assert_eq!(driver.link_ups(), 1);
        assert!(driver.reads.iter().all(|r| r.rssi_cdbm == Some(-5800)));
        assert_eq!(driver.stop().await, DriverExit::Stopped);
        let counters = driver.counters().expect("final counters");
        assert_eq!(counters.reads, driver.reads.len() as u64);
        assert_eq!((counters.connects, counters.disconnects), (1, 1));
    })
    .await;
}
