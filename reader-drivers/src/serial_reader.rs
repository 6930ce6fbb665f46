//! One configured serial reader, ready to run: picks the family's session from the config and
//! runs it on the configured device or TCP bridge.

use std::future::Future;

use tagtally_config::{Reader, ReaderLink, SerialFamily};
use tokio::sync::mpsc;

use crate::r2000::{R2000Session, R2000Settings};
use crate::serial_driver::{run_serial_driver, DriverExit, DriverTiming};
use crate::serial_port::SerialConnector;
use crate::thingmagic::{ThingMagicSession, ThingMagicSettings};
use crate::{DriverOutput, ReaderId, SettingsError};

/// A serial reader's session, checked against its protocol, and where it is connected.
#[derive(Debug)]
pub enum SerialReader {
    ThingMagic(ThingMagicSession, SerialConnector),
    R2000(R2000Session, SerialConnector),
}

impl SerialReader {
    /// Builds the reader `id` from its `[[reader]]` table; refuses settings the module's
    /// protocol cannot express (before anything is opened).
    pub fn from_config(id: ReaderId, config: &Reader) -> Result<Self, SettingsError> {
        let ReaderLink::Serial(link) = &config.link else {
            return Err(SettingsError::WrongFamily {
                reader: config.name.clone(),
                family: "serial",
            });
        };
        let connector = SerialConnector::new(link.port.clone(), link.baud);
        Ok(match link.family {
            SerialFamily::ThingMagic => Self::ThingMagic(
                ThingMagicSession::new(ThingMagicSettings::from_config(id, config)?),
                connector,
            ),
            SerialFamily::R2000 => Self::R2000(
                R2000Session::new(R2000Settings::from_config(id, config)?),
                connector,
            ),
        })
    }

    /// Runs until `shutdown` completes (then stops the reader gracefully) or `outputs` closes.
    pub async fn run<F>(self, outputs: mpsc::Sender<DriverOutput>, shutdown: F) -> DriverExit
    where
        F: Future<Output = ()> + Send,
    {
        let timing = DriverTiming::default();
        match self {
            Self::ThingMagic(session, connector) => {
                run_serial_driver(session, connector, outputs, timing, shutdown).await
            }
            Self::R2000(session, connector) => {
                run_serial_driver(session, connector, outputs, timing, shutdown).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tagtally_config::{HostPort, LlrpLink, Region, SerialLink, SerialPort};

    use super::*;

    fn reader(family: SerialFamily, antennas: &[u16], region: Option<Region>) -> Reader {
        Reader {
            name: "till".into(),
            antennas: antennas
                .iter()
                .map(|&a| (a, "floor".to_owned()))
                .collect::<BTreeMap<_, _>>(),
            tx_power_dbm: Some(27.5),
            session: Some(1),
            link: ReaderLink::Serial(SerialLink {
                family,
                port: SerialPort::Device("/dev/ttyUSB0".into()),
                baud: 115_200,
                region,
            }),
        }
    }

    #[test]
    fn each_family_gets_its_session() {
        let tm = SerialReader::from_config(
            ReaderId(0),
            &reader(SerialFamily::ThingMagic, &[1, 2], Some(Region::Eu)),
        );
        assert!(matches!(tm, Ok(SerialReader::ThingMagic(..))));
        let r2k = SerialReader::from_config(
            ReaderId(0),
            &reader(SerialFamily::R2000, &[1], Some(Region::Na)),
        );
        assert!(matches!(r2k, Ok(SerialReader::R2000(..))));
    }

    #[test]
    fn what_the_protocol_cannot_say_is_refused_with_the_values() {
        let error =
            SerialReader::from_config(ReaderId(0), &reader(SerialFamily::R2000, &[1, 5], None))
                .expect_err("fast switch has four slots");
        assert_eq!(
            error.to_string(),
            "reader till: antenna 5 does not exist on R2000 modules (ports 1 to 4)"
        );
        let error = SerialReader::from_config(
            ReaderId(0),
            &reader(SerialFamily::R2000, &[1], Some(Region::Jp)),
        )
        .expect_err("no preset band");
        assert_eq!(
            error.to_string(),
            "reader till: region jp has no preset band on R2000 modules"
        );
        let error =
            SerialReader::from_config(ReaderId(0), &reader(SerialFamily::ThingMagic, &[16], None))
                .expect_err("nibble ports");
        assert_eq!(
            error.to_string(),
            "reader till: antenna 16 does not exist on ThingMagic modules (ports 1 to 15)"
        );
        let llrp = Reader {
            link: ReaderLink::Llrp(LlrpLink {
                address: HostPort {
                    host: "10.0.0.1".into(),
                    port: 5084,
                },
                keepalive: std::time::Duration::from_secs(10),
            }),
            ..reader(SerialFamily::R2000, &[1], None)
        };
        assert!(SerialReader::from_config(ReaderId(0), &llrp).is_err());
    }
}
