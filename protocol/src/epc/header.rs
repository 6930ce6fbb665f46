//! The EPC header byte → TDS scheme table (protocols.md §3.1, TDT 2.2 `prefixMatch`).

use std::fmt;

/// A GS1 TDS scheme, identified by its 8-bit EPC header. Only headers of the table exist as values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scheme(u8);

impl Scheme {
    /// SGTIN-96 (header 0x30), the scheme of almost every retail item tag.
    pub const SGTIN_96: Scheme = Scheme(0x30);
    /// SSCC-96 (0x31).
    pub const SSCC_96: Scheme = Scheme(0x31);
    /// SGLN-96 (0x32).
    pub const SGLN_96: Scheme = Scheme(0x32);
    /// GRAI-96 (0x33).
    pub const GRAI_96: Scheme = Scheme(0x33);
    /// GIAI-96 (0x34).
    pub const GIAI_96: Scheme = Scheme(0x34);
    /// GID-96 (0x35).
    pub const GID_96: Scheme = Scheme(0x35);
    /// SGLN-195 (0x39), an SGLN with a text extension.
    pub const SGLN_195: Scheme = Scheme(0x39);
    /// SGTIN-198 (0x36).
    pub const SGTIN_198: Scheme = Scheme(0x36);
    /// GDTI-96 (0x2C).
    pub const GDTI_96: Scheme = Scheme(0x2C);
    /// GSRN-96 (0x2D).
    pub const GSRN_96: Scheme = Scheme(0x2D);

    /// The scheme a header byte announces, or `None` for a header of no TDS scheme.
    pub fn from_header(header: u8) -> Option<Scheme> {
        name_of(header).map(|_| Scheme(header))
    }

    /// The header byte.
    pub fn header(self) -> u8 {
        self.0
    }

    /// The TDS scheme name in lower case (`sgtin-96`, `grai-170`, `sgtin+`, ...).
    pub fn name(self) -> &'static str {
        // Values are only built from headers of the table, so the fallback is never taken.
        name_of(self.0).unwrap_or("unknown")
    }

    /// The identity type of the pure-identity URI (`sgtin` for `sgtin-96` and `sgtin-198`).
    pub fn identity_type(self) -> &'static str {
        let name = self.name();
        name.split(['-', '+']).next().unwrap_or(name)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn name_of(header: u8) -> Option<&'static str> {
    Some(match header {
        0x2C => "gdti-96",
        0x2D => "gsrn-96",
        0x2E => "gsrnp-96",
        0x2F => "usdod-96",
        0x30 => "sgtin-96",
        0x31 => "sscc-96",
        0x32 => "sgln-96",
        0x33 => "grai-96",
        0x34 => "giai-96",
        0x35 => "gid-96",
        0x36 => "sgtin-198",
        0x37 => "grai-170",
        0x38 => "giai-202",
        0x39 => "sgln-195",
        0x3A => "gdti-113",
        0x3B => "adi-var",
        0x3C => "cpi-96",
        0x3D => "cpi-var",
        0x3E => "gdti-174",
        0x3F => "sgcn-96",
        0x40 => "itip-110",
        0x41 => "itip-212",
        0xE6 => "cpi++",
        0xE7 => "gsrn++",
        0xE8 => "gsrnp++",
        0xE9 => "sgln++",
        0xEA => "gdti++",
        0xEB => "grai++",
        0xEC => "sgcn++",
        0xED => "itip++",
        0xEE => "giai++",
        0xEF => "sscc++",
        0xF0 => "cpi+",
        0xF1 => "grai+",
        0xF2 => "sgln+",
        0xF3 => "itip+",
        0xF4 => "gsrn+",
        0xF5 => "gsrnp+",
        0xF6 => "gdti+",
        0xF7 => "sgtin+",
        0xF8 => "sgcn+",
        0xF9 => "sscc+",
        0xFA => "giai+",
        0xFB => "dsgtin+",
        0xFC => "dsgtin++",
        0xFD => "sgtin++",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::Scheme;

    #[test]
    fn names_and_identity_types() {
        assert_eq!(Scheme::SGTIN_198.name(), "sgtin-198");
        assert_eq!(Scheme::SGTIN_198.identity_type(), "sgtin");
        assert_eq!(Scheme::from_header(0xFB).map(Scheme::name), Some("dsgtin+"));
        assert_eq!(
            Scheme::from_header(0x37).map(Scheme::name),
            Some("grai-170")
        );
        assert_eq!(Scheme::from_header(0xE2), None);
        assert_eq!(Scheme::from_header(0x00), None);
    }
}
