//! Each configured reader as its driver will run it: LLRP settings, or the serial module's
//! table and link (a serial session is consumed by its run, so it is built anew at each start).

use tagtally_config::{Config, Reader, ReaderLink, SerialLink};
use tagtally_reader_drivers::llrp::LlrpSettings;
use tagtally_reader_drivers::ReaderId;

/// One reader, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedReader {
    /// Its number: its index in the config.
    pub id: ReaderId,
    /// Its name.
    pub name: String,
    /// Its kind as written in the config.
    pub kind: &'static str,
    /// How its driver runs.
    pub driver: DriverSettings,
}

/// What a reader's driver is started with.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverSettings {
    /// An LLRP reader.
    Llrp(LlrpSettings),
    /// A serial module: its table and its link (`SerialReader::from_config` builds a fresh
    /// session from them at each start).
    Serial(Box<(Reader, SerialLink)>),
}

/// Every configured reader, numbered by its index (the config bounds how many there are).
pub fn planned_readers(config: &Config) -> Vec<PlannedReader> {
    (0..=u16::MAX)
        .map(ReaderId)
        .zip(&config.readers)
        .map(|(id, reader)| PlannedReader {
            id,
            name: reader.name.clone(),
            kind: reader.kind().as_str(),
            driver: match &reader.link {
                ReaderLink::Llrp(link) => {
                    DriverSettings::Llrp(LlrpSettings::from_config(id, reader, link))
                }
                ReaderLink::Serial(link) => {
                    DriverSettings::Serial(Box::new((reader.clone(), link.clone())))
                }
            },
        })
        .collect()
}
