//! `role` of a `[[reader]]`: a fixed reader whose reads make stock, or a handheld used only in count sessions (SPEC §10).

use serde::Deserialize;

/// What a reader's reads mean for the stock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReaderRole {
    /// A fixed reader (ceiling, shelf, gate): its reads arrive, move and keep tags by the
    /// presence rules. The default.
    #[default]
    Fixed,
    /// A handheld (a serial module in a sled, an LLRP reader on a cart): its reads never move
    /// stock by themselves; they only count inside a count session that names the reader
    /// (`tagtally count start --zone Z --reader R`). Its antennas' zones are not used.
    Handheld,
}

impl ReaderRole {
    /// The role as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            ReaderRole::Fixed => "fixed",
            ReaderRole::Handheld => "handheld",
        }
    }
}
