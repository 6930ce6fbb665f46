//! The bit layout of every TDS scheme this crate decodes: one table that the decoder, the encoder and
//! the URIs all read (TDS §14.5, TDT 2.x scheme artefacts).

use super::chars::CharSet;
use super::header::Scheme;
use super::partition::{Table, CPI_96, CPI_VAR, GIAI, GIAI_202, GRAI, SGLN_GDTI, SGTIN, SSCC_GSRN};

/// How the field after a partitioned company prefix is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    /// Exactly the row's digit count, leading zeros kept (item reference, serial reference, ...).
    Digits,
    /// A number without leading zeros of at most the row's digit count (GIAI-96, CPI-96).
    Integer,
    /// 7-bit characters of set 82 in the row's bits, at most the row's digit count of them (GIAI-202).
    String7,
    /// 6-bit CPI characters ending with a zero character, at most the row's digit count (CPI-var).
    String6,
}

/// One segment of a scheme after its header and filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Partition (3 bits), company prefix and the field after it: two text fields.
    Partitioned {
        /// The scheme's partition table.
        table: &'static Table,
        /// The name of the field after the company prefix.
        name: &'static str,
        /// How that field is encoded.
        reference: Reference,
    },
    /// A number written without leading zeros; `max_digits` 0 means any value the bits hold.
    Integer {
        name: &'static str,
        bits: u32,
        max_digits: u8,
    },
    /// A number written with exactly `digits` digits (ITIP piece and total).
    FixedDigits {
        name: &'static str,
        bits: u32,
        digits: u8,
    },
    /// Up to `max_digits` digits, leading zeros kept, stored as the integer of `1` followed by them.
    NumericString {
        name: &'static str,
        bits: u32,
        max_digits: u8,
    },
    /// 7-bit characters of set 82, zero-padded to `bits`; between `min_chars` and `bits / 7`.
    String7 {
        name: &'static str,
        bits: u32,
        min_chars: u8,
    },
    /// 6-bit characters ending with a zero character (variable length).
    String6 {
        name: &'static str,
        set: CharSet,
        min_chars: u8,
        max_chars: u8,
    },
    /// A CAGE code (5 characters, written after a space) or DoDAAC (6) in `bits_per_char`-bit characters.
    Cage {
        name: &'static str,
        bits_per_char: u32,
    },
    /// Bits that must be zero.
    Reserved { bits: u32 },
}

impl Segment {
    /// How many text fields the segment yields.
    pub(crate) fn field_count(&self) -> usize {
        match self {
            Segment::Partitioned { .. } => 2,
            Segment::Reserved { .. } => 0,
            _ => 1,
        }
    }
}

/// A scheme's layout after its 8-bit header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Bits of the filter value; 0 for GID-96, which has none.
    pub(crate) filter_bits: u32,
    /// The segments, in bit order (also the order of the URI's fields).
    pub(crate) segments: &'static [Segment],
    /// How many leading fields name the class (the SKU pattern, SPEC §3); the rest is the instance.
    pub(crate) class_fields: usize,
}

impl Layout {
    /// Total bits (header included) of a fixed-length scheme; `None` for CPI-var and ADI-var.
    pub(crate) fn fixed_bits(&self) -> Option<usize> {
        let mut bits = 8 + self.filter_bits;
        for segment in self.segments {
            bits += match *segment {
                Segment::Partitioned {
                    table, reference, ..
                } => {
                    if reference == Reference::String6 {
                        return None;
                    }
                    // Every row of a table has the same total.
                    let row = table[0];
                    3 + row.cp_bits + row.ref_bits
                }
                Segment::Integer { bits, .. }
                | Segment::FixedDigits { bits, .. }
                | Segment::NumericString { bits, .. }
                | Segment::String7 { bits, .. }
                | Segment::Reserved { bits } => bits,
                Segment::Cage { bits_per_char, .. } => 6 * bits_per_char,
                Segment::String6 { .. } => return None,
            };
        }
        Some(bits as usize)
    }
}

const fn partitioned(table: &'static Table, name: &'static str, reference: Reference) -> Segment {
    Segment::Partitioned {
        table,
        name,
        reference,
    }
}

const fn integer(name: &'static str, bits: u32) -> Segment {
    Segment::Integer {
        name,
        bits,
        max_digits: 0,
    }
}

const fn string7(name: &'static str, bits: u32) -> Segment {
    Segment::String7 {
        name,
        bits,
        min_chars: 1,
    }
}

const fn layout(filter_bits: u32, segments: &'static [Segment], class_fields: usize) -> Layout {
    Layout {
        filter_bits,
        segments,
        class_fields,
    }
}

const SGTIN_HEAD: Segment = partitioned(&SGTIN, "item_ref", Reference::Digits);
const SSCC_HEAD: Segment = partitioned(&SSCC_GSRN, "serial_ref", Reference::Digits);
const GSRN_HEAD: Segment = partitioned(&SSCC_GSRN, "service_ref", Reference::Digits);
const SGLN_HEAD: Segment = partitioned(&SGLN_GDTI, "location_ref", Reference::Digits);
const GRAI_HEAD: Segment = partitioned(&GRAI, "asset_type", Reference::Digits);
const GDTI_HEAD: Segment = partitioned(&SGLN_GDTI, "document_type", Reference::Digits);
const ITIP_PIECES: [Segment; 2] = [
    Segment::FixedDigits {
        name: "piece",
        bits: 7,
        digits: 2,
    },
    Segment::FixedDigits {
        name: "total",
        bits: 7,
        digits: 2,
    },
];
const RESERVED_24: Segment = Segment::Reserved { bits: 24 };

const LAYOUT_SGTIN_96: Layout = layout(3, &[SGTIN_HEAD, integer("serial", 38)], 2);
const LAYOUT_SGTIN_198: Layout = layout(3, &[SGTIN_HEAD, string7("serial", 140)], 2);
const LAYOUT_SSCC_96: Layout = layout(3, &[SSCC_HEAD, RESERVED_24], 1);
const LAYOUT_SGLN_96: Layout = layout(3, &[SGLN_HEAD, integer("extension", 41)], 2);
const LAYOUT_SGLN_195: Layout = layout(3, &[SGLN_HEAD, string7("extension", 140)], 2);
const LAYOUT_GRAI_96: Layout = layout(3, &[GRAI_HEAD, integer("serial", 38)], 2);
const LAYOUT_GRAI_170: Layout = layout(3, &[GRAI_HEAD, string7("serial", 112)], 2);
const LAYOUT_GIAI_96: Layout = layout(3, &[partitioned(&GIAI, "asset_ref", Reference::Integer)], 1);
const LAYOUT_GIAI_202: Layout = layout(
    3,
    &[partitioned(&GIAI_202, "asset_ref", Reference::String7)],
    1,
);
const LAYOUT_GSRN_96: Layout = layout(3, &[GSRN_HEAD, RESERVED_24], 1);
const LAYOUT_GSRNP_96: Layout = layout(3, &[GSRN_HEAD, RESERVED_24], 1);
const LAYOUT_GDTI_96: Layout = layout(3, &[GDTI_HEAD, integer("serial", 41)], 2);
const LAYOUT_GDTI_174: Layout = layout(3, &[GDTI_HEAD, string7("serial", 119)], 2);
const LAYOUT_CPI_96: Layout = layout(
    3,
    &[
        partitioned(&CPI_96, "part_ref", Reference::Integer),
        integer("serial", 31),
    ],
    2,
);
const LAYOUT_CPI_VAR: Layout = layout(
    3,
    &[
        partitioned(&CPI_VAR, "part_ref", Reference::String6),
        Segment::Integer {
            name: "serial",
            bits: 40,
            max_digits: 12,
        },
    ],
    2,
);
const LAYOUT_SGCN_96: Layout = layout(
    3,
    &[
        partitioned(&SGLN_GDTI, "coupon_ref", Reference::Digits),
        Segment::NumericString {
            name: "serial",
            bits: 41,
            max_digits: 12,
        },
    ],
    2,
);
const LAYOUT_ITIP_110: Layout = layout(
    3,
    &[
        SGTIN_HEAD,
        ITIP_PIECES[0],
        ITIP_PIECES[1],
        integer("serial", 38),
    ],
    4,
);
const LAYOUT_ITIP_212: Layout = layout(
    3,
    &[
        SGTIN_HEAD,
        ITIP_PIECES[0],
        ITIP_PIECES[1],
        string7("serial", 140),
    ],
    4,
);
const LAYOUT_GID_96: Layout = layout(
    0,
    &[
        integer("manager", 28),
        integer("object_class", 24),
        integer("serial", 36),
    ],
    2,
);
const LAYOUT_USDOD_96: Layout = layout(
    4,
    &[
        Segment::Cage {
            name: "cage_dodaac",
            bits_per_char: 8,
        },
        integer("serial", 36),
    ],
    1,
);
const LAYOUT_ADI_VAR: Layout = layout(
    6,
    &[
        Segment::Cage {
            name: "cage_dodaac",
            bits_per_char: 6,
        },
        Segment::String6 {
            name: "part_number",
            set: CharSet::Adi,
            min_chars: 0,
            max_chars: 32,
        },
        Segment::String6 {
            name: "serial",
            set: CharSet::AdiSerial,
            min_chars: 1,
            max_chars: 30,
        },
    ],
    2,
);

/// The layout of `scheme`, or `None` for the '+' schemes (laid out in `plus_layout.rs`) and the
/// headers this crate only names (the '++' schemes and the withdrawn GDTI-113).
pub(crate) fn layout_of(scheme: Scheme) -> Option<Layout> {
    Some(match scheme.header() {
        0x30 => LAYOUT_SGTIN_96,
        0x36 => LAYOUT_SGTIN_198,
        0x31 => LAYOUT_SSCC_96,
        0x32 => LAYOUT_SGLN_96,
        0x39 => LAYOUT_SGLN_195,
        0x33 => LAYOUT_GRAI_96,
        0x37 => LAYOUT_GRAI_170,
        0x34 => LAYOUT_GIAI_96,
        0x38 => LAYOUT_GIAI_202,
        0x2D => LAYOUT_GSRN_96,
        0x2E => LAYOUT_GSRNP_96,
        0x2C => LAYOUT_GDTI_96,
        0x3E => LAYOUT_GDTI_174,
        0x3C => LAYOUT_CPI_96,
        0x3D => LAYOUT_CPI_VAR,
        0x3F => LAYOUT_SGCN_96,
        0x40 => LAYOUT_ITIP_110,
        0x41 => LAYOUT_ITIP_212,
        0x35 => LAYOUT_GID_96,
        0x2F => LAYOUT_USDOD_96,
        0x3B => LAYOUT_ADI_VAR,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_length_scheme_adds_up_to_its_name() {
        let mut decoded = 0;
        for header in 0..=255u8 {
            let Some(scheme) = Scheme::from_header(header) else {
                continue;
            };
            let Some(layout) = layout_of(scheme) else {
                continue;
            };
            decoded += 1;
            let name = scheme.name();
            let length = name.rsplit('-').next().unwrap_or_default();
            match layout.fixed_bits() {
                Some(bits) => assert_eq!(length, bits.to_string(), "{name}"),
                None => assert_eq!(length, "var", "{name}"),
            }
        }
        assert_eq!(decoded, 21);
    }
}
