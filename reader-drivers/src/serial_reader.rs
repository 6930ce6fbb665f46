//! One configured serial reader, ready to run: picks the family's session from the config and
//! runs it on the configured device or TCP bridge.

use std::future::Future;

use tagtally_config::{Reader, SerialLink, SerialModule};
use tokio::sync::mpsc;

use crate::driver::{run_session, DriverExit};
use crate::r2000::{R2000Session, R2000Settings};
use crate::serial_port::SerialConnector;
use crate::thingmagic::{ThingMagicSession, ThingMagicSettings};
use crate::{DriverOutput, ReaderId};

/// A serial reader's session and where it is connected.
#[derive(Debug)]
pub enum SerialReader {
    ThingMagic(ThingMagicSession, SerialConnector),
    R2000(R2000Session, SerialConnector),
}

impl SerialReader {
    /// Builds the reader `id` from its `[[reader]]` table and serial `link`, which the config
    /// has checked against what the module's protocol can express; `seed` feeds the reconnect backoff's jitter.
    pub fn from_config(id: ReaderId, config: &Reader, link: &SerialLink, seed: u64) -> Self {
        let connector = SerialConnector::new(link.port.clone(), link.baud);
        match link.module {
            SerialModule::ThingMagic { region } => Self::ThingMagic(
                ThingMagicSession::new(
                    ThingMagicSettings::from_config(id, config, link, region),
                    seed,
                ),
                connector,
            ),
            SerialModule::R2000 { region } => Self::R2000(
                R2000Session::new(R2000Settings::from_config(id, config, link, region), seed),
                connector,
            ),
        }
    }

    /// Runs until `shutdown` completes (then stops the reader gracefully) or `outputs` closes;
    /// `observe` sees every output first (see [`run_session`]).
    pub async fn run<F>(
        self,
        outputs: mpsc::Sender<DriverOutput>,
        shutdown: F,
        observe: impl FnMut(&DriverOutput) + Send,
    ) -> DriverExit
    where
        F: Future<Output = ()> + Send,
    {
        match self {
            Self::ThingMagic(session, connector) => {
                run_session(session, connector, outputs, shutdown, observe).await
            }
            Self::R2000(session, connector) => {
                run_session(session, connector, outputs, shutdown, observe).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tagtally_config::{R2000Region, Region, SerialPort};

    use super::*;

    fn reader(module: SerialModule, antennas: &[u8]) -> (Reader, SerialLink) {
        let link = SerialLink {
            module,
            port: SerialPort::Device("/dev/ttyUSB0".into()),
            baud: 115_200,
            antenna_ports: antennas.to_vec(),
        };
        let reader = Reader {
            name: "till".into(),
            antennas: antennas
                .iter()
                .map(|&a| (u16::from(a), "floor".to_owned()))
                .collect::<BTreeMap<_, _>>(),
            tx_power_dbm: Some(27.5),
            session: Some(1),
            role: tagtally_config::ReaderRole::Fixed,
            link: tagtally_config::ReaderLink::Serial(link.clone()),
            sentinels: BTreeMap::new(),
        };
        (reader, link)
    }

    #[test]
    fn each_family_gets_its_session_with_its_settings() {
        let (config, link) = reader(
            SerialModule::ThingMagic {
                region: Some(Region::Eu),
            },
            &[1, 2],
        );
        let SerialReader::ThingMagic(..) =
            SerialReader::from_config(ReaderId(0), &config, &link, 0)
        else {
            panic!("thingmagic")
        };
        let settings =
            ThingMagicSettings::from_config(ReaderId(0), &config, &link, Some(Region::Eu));
        assert_eq!(settings.antennas, [1, 2]);
        assert_eq!(settings.read_power_cdbm, Some(2750));
        let (config, link) = reader(
            SerialModule::R2000 {
                region: Some(R2000Region::Na),
            },
            &[1],
        );
        let SerialReader::R2000(..) = SerialReader::from_config(ReaderId(0), &config, &link, 0)
        else {
            panic!("r2000")
        };
        let settings =
            R2000Settings::from_config(ReaderId(0), &config, &link, Some(R2000Region::Na));
        assert_eq!(settings.band.map(|band| band.region), Some(0x01));
        assert_eq!(settings.output_power_dbm, Some(28));
    }
}
