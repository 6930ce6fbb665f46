//! What both serial families check the same way in a `[[reader]]` table: that it is theirs, and
//! that every configured antenna is a port the module has.

use tagtally_config::{Reader, ReaderLink, SerialFamily, SerialLink};

use crate::SettingsError;

/// The reader's serial link, if it is a `family` reader (`name` is the family in messages).
pub(crate) fn serial_link<'a>(
    config: &'a Reader,
    family: SerialFamily,
    name: &'static str,
) -> Result<&'a SerialLink, SettingsError> {
    match &config.link {
        ReaderLink::Serial(link) if link.family == family => Ok(link),
        _ => Err(SettingsError::WrongFamily {
            reader: config.name.clone(),
            family: name,
        }),
    }
}

/// The configured antennas as module ports, ascending; each must lie in `1..=max`.
pub(crate) fn antenna_ports(
    config: &Reader,
    family: &'static str,
    max: u16,
) -> Result<Vec<u8>, SettingsError> {
    config
        .antennas
        .keys()
        .map(|&antenna| {
            u8::try_from(antenna)
                .ok()
                .filter(|&port| (1..=max).contains(&u16::from(port)))
                .ok_or_else(|| SettingsError::AntennaOutOfRange {
                    reader: config.name.clone(),
                    family,
                    antenna,
                    max,
                })
        })
        .collect()
}
