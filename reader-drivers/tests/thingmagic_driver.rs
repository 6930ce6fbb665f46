//! The ThingMagic driver against the ThingMagic emulator, over a real pseudo-terminal (and a
//! TCP bridge): reads, junk and corruption, silence, unplugging, module errors.

// Each test file uses a different part of the shared helpers.
#[allow(dead_code)]
#[path = "support/serial_driver.rs"]
mod support;

use std::time::Duration;

use support::{bounded, has_epc, quick_timing, Bench, DriverUnderTest};
use tagtally_config::{HostPort, SerialPort};
use tagtally_reader_drivers::driver::DriverExit;
use tagtally_reader_drivers::serial_port::SerialConnector;
use tagtally_reader_drivers::thingmagic::{ThingMagicSession, ThingMagicSettings};
use tagtally_reader_drivers::{DriverEvent, ReaderId};
use tagtally_sim::thingmagic::ThingMagicModule;
use tagtally_sim::{Fault, Scenario, SerialListen, SerialSim, SerialSimOptions};

const SHELF_EPC: &str = "3074257BF7194E4000001A85";
const DOOR_EPC: &str = "E2801160600002084F6B3F63";

fn scenario() -> Scenario {
    Scenario::parse(&format!(
        r#"
[reader]
antennas = 2
model = "M6e"
firmware = "1.9.2.0"
[inventory]
read-rate = 25.0
[[tag]]
epc = "{SHELF_EPC}"
antennas = [1]
rssi = -58.0
[[tag]]
epc = "{DOOR_EPC}"
antennas = [2]
rssi = -65.0
"#
    ))
    .expect("test scenario is valid")
}

fn settings() -> ThingMagicSettings {
    // A 200 ms search cycle: keep-alives every 200 ms, silence declared after 1.6 s.
    let mut settings = ThingMagicSettings::new(ReaderId(1), vec![1, 2]).with_cycle(200);
    settings.link = quick_timing();
    settings
}

async fn on_pty(settings: ThingMagicSettings) -> Bench {
    let scenario = scenario();
    Bench::on_pty(
        ThingMagicModule::new(&scenario),
        &scenario,
        "ttyTM0",
        ThingMagicSession::new(settings, 1),
    )
    .await
}

#[tokio::test]
async fn reads_arrive_with_epc_antenna_and_rssi_then_stop_is_graceful() {
    bounded(async {
        let mut bench = on_pty(settings()).await;
        let driver = &mut bench.driver;
        driver
            .until("reads of both tags", |d| {
                has_epc(d, SHELF_EPC) && has_epc(d, DOOR_EPC)
            })
            .await;
        let Some(DriverEvent::LinkUp { reader, info }) = driver.events.first() else {
            panic!("link up first: {:?}", driver.events);
        };
        assert_eq!(*reader, ReaderId(1));
        assert_eq!(info.model, "ThingMagic M6e");
        assert!(
            info.firmware.starts_with("01.09.02.00"),
            "{}",
            info.firmware
        );
        for read in &driver.reads {
            let (antenna, rssi) = if read.epc.to_string() == SHELF_EPC {
                (1, -5800)
            } else {
                (2, -6500)
            };
            assert_eq!(read.antenna, antenna);
            assert_eq!(read.rssi_cdbm, Some(rssi));
            assert_eq!(read.reader, ReaderId(1));
        }
        assert_eq!(driver.stop().await, DriverExit::Stopped);
        assert_eq!(
            driver.link_downs().last().map(String::as_str),
            Some("driver stopped")
        );
    })
    .await;
}

#[tokio::test]
async fn junk_and_corrupt_frames_lose_only_the_damaged_reads_and_are_counted() {
    bounded(async {
        let mut bench = on_pty(settings()).await;
        bench
            .driver
            .until("first reads", |d| d.reads.len() >= 5)
            .await;
        for round in 1..=5 {
            bench.sim.inject(Fault::JunkBytes { bytes: 40 });
            bench.sim.inject(Fault::CorruptFrame { count: 2 });
            bench
                .driver
                .until("reads after the damage", |d| {
                    d.reads.len() >= 5 + round * 10
                })
                .await;
        }
        assert_eq!(bench.driver.stop().await, DriverExit::Stopped);
        let line = bench.sim.stats();
        assert_eq!(line.reads_corrupted, 10, "{line:?}");
        assert_eq!(
            bench.driver.reads.len() as u64,
            line.reads_intact,
            "every intact read is delivered, nothing invented: {line:?}"
        );
        let counters = bench.driver.counters().expect("counters reported");
        // Junk that starts like a frame fails its CRC too and counts as a dropped frame.
        assert!(
            counters.frames_dropped >= line.frames_corrupted,
            "{counters:?}"
        );
        assert_eq!(
            counters.bytes_discarded,
            line.junk_bytes + line.bytes_corrupted,
            "exactly the junk and the damaged frames are discarded: {counters:?} {line:?}"
        );
        assert_eq!(counters.reads, line.reads_intact);
    })
    .await;
}

#[tokio::test]
async fn a_silent_module_gets_its_session_restarted() {
    bounded(async {
        let mut bench = on_pty(settings()).await;
        bench
            .driver
            .until("first reads", |d| !d.reads.is_empty())
            .await;
        bench.sim.inject(Fault::GoSilent {
            duration: Duration::from_secs(2),
        });
        bench
            .driver
            .until("silence detected", |d| {
                d.link_downs()
                    .iter()
                    .any(|r| r.starts_with("no frame from the module for 1600ms"))
            })
            .await;
        bench
            .driver
            .until("the session back with reads", |d| {
                d.link_ups() >= 2 && d.reads_after_link_up(2) > 0
            })
            .await;
    })
    .await;
}

#[tokio::test]
async fn an_unplugged_module_goes_down_and_comes_back_at_the_same_path() {
    bounded(async {
        let mut bench = on_pty(settings()).await;
        bench
            .driver
            .until("first reads", |d| !d.reads.is_empty())
            .await;
        bench.sim.inject(Fault::DropConnection);
        bench
            .driver
            .until("link down", |d| !d.link_downs().is_empty())
            .await;
        bench
            .driver
            .until("link up again with reads", |d| {
                d.link_ups() >= 2 && d.reads_after_link_up(2) > 0
            })
            .await;
        // The kernel may hand out the same /dev/pts number again or another one; the link hides it.
        assert_eq!(bench.sim.endpoint().plug_count, 2);
        bench
            .driver
            .until("counters of the reconnect", |d| {
                d.counters()
                    .is_some_and(|c| c.connects == 2 && c.disconnects == 1)
            })
            .await;
    })
    .await;
}

#[tokio::test]
async fn module_trouble_becomes_reader_errors_with_text() {
    bounded(async {
        let mut bench = on_pty(settings()).await;
        bench
            .driver
            .until("first reads", |d| !d.reads.is_empty())
            .await;
        bench.sim.inject(Fault::ReaderException {
            message: "too hot".into(),
        });
        bench
            .driver
            .until("temperature error", |d| {
                d.reader_errors().iter().any(|m| {
                    m == "module status while reading: temperature exceeds limits (0x0504)"
                })
            })
            .await;
        bench.sim.inject(Fault::AntennaEvent {
            antenna: 2,
            connected: false,
        });
        bench
            .driver
            .until("antenna error", |d| {
                d.reader_errors()
                    .iter()
                    .any(|m| m.contains("high return loss (check the antenna) (0x0505)"))
            })
            .await;
        assert_eq!(bench.driver.link_ups(), 1, "trouble is not a link loss");
    })
    .await;
}

#[tokio::test]
async fn a_refused_setting_is_reported_with_the_module_status() {
    bounded(async {
        let mut settings = settings();
        settings.read_power_cdbm = Some(4000);
        let mut bench = on_pty(settings).await;
        bench
            .driver
            .until("the refusal", |d| {
                d.reader_errors()
                    .iter()
                    .any(|m| m == "SET_READ_TX_POWER rejected: power too high (0x0103)")
            })
            .await;
        bench
            .driver
            .until("link down with the same reason", |d| {
                d.link_downs()
                    .iter()
                    .any(|r| r == "SET_READ_TX_POWER rejected: power too high (0x0103)")
            })
            .await;
        assert_eq!(bench.driver.link_ups(), 0);
    })
    .await;
}

#[tokio::test]
async fn a_tcp_serial_bridge_works_and_reconnects() {
    bounded(async {
        let scenario = scenario();
        let sim = SerialSim::start(
            ThingMagicModule::new(&scenario),
            &scenario,
            SerialListen::Tcp("127.0.0.1:0".parse().expect("address")),
            SerialSimOptions::default(),
        )
        .await
        .expect("emulator starts");
        let address = sim.endpoint().tcp.expect("listening");
        let connector = SerialConnector::new(
            SerialPort::Tcp(HostPort {
                host: "127.0.0.1".into(),
                port: address.port(),
            }),
            115_200,
        );
        let mut driver = DriverUnderTest::start(ThingMagicSession::new(settings(), 1), connector);
        driver
            .until("reads over tcp", |d| has_epc(d, SHELF_EPC))
            .await;
        sim.inject(Fault::DropConnection);
        driver
            .until("down and up again with reads", |d| {
                !d.link_downs().is_empty() && d.link_ups() >= 2 && d.reads_after_link_up(2) > 0
            })
            .await;
    })
    .await;
}
