//! Why a reader's configuration cannot drive its serial module (caught before any byte is sent).

use thiserror::Error;

/// A configured value the module's protocol cannot express.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error(
        "reader {reader}: antenna {antenna} does not exist on {family} modules (ports 1 to {max})"
    )]
    AntennaOutOfRange {
        reader: String,
        family: &'static str,
        antenna: u16,
        max: u16,
    },
    #[error("reader {reader}: {family} modules take 1 to {max} antennas, {count} are configured")]
    TooManyAntennas {
        reader: String,
        family: &'static str,
        count: usize,
        max: usize,
    },
    #[error("reader {reader}: region {region} has no preset band on {family} modules")]
    RegionUnsupported {
        reader: String,
        family: &'static str,
        region: String,
    },
    #[error("reader {reader} is not a {family} reader")]
    WrongFamily {
        reader: String,
        family: &'static str,
    },
}
