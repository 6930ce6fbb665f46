//! The TDS 2.0 '+' schemes this crate decodes: per header, the primary GS1 AI and the value that
//! follows it (TDT 2.2 `encodedAI`, TDS Table F).

use super::header::Scheme;

/// How the value after the primary key is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// None: the key is the whole identity (SSCC+, GSRN+, GSRNP+).
    None,
    /// Variable-length alphanumeric (TDS §14.5.6) of up to `max_chars`; written as AI `ai` in a
    /// Digital Link, or appended to the key when `ai` is `None` (GRAI, GDTI serial components).
    Alphanumeric {
        name: &'static str,
        ai: Option<&'static str>,
        max_chars: u8,
        required: bool,
    },
    /// Variable-length numeric without encoding indicator (TDS §14.5.13): written as AI `ai`
    /// (CPI serial 8011) or appended to the key when `ai` is `None` (the SGCN serial component).
    Numeric {
        name: &'static str,
        ai: Option<&'static str>,
        length_bits: u32,
        max_digits: u8,
        required: bool,
    },
}

/// How the primary key is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyEncoding {
    /// Fixed-length numeric (TDS §14.5.4): `digits` digits; the GS1 check digit follows the first
    /// `check_over`; `leading_zero` when the first digit must be 0 (AI 8003 carries a GRAI behind a 0).
    Fixed {
        digits: u8,
        check_over: usize,
        leading_zero: bool,
    },
    /// Delimited/terminated numeric (TDS §14.5.5): digits of 4 bits, then `1111` to end or `1110`
    /// and a variable-length alphanumeric remainder; at most `max_chars` in all (GIAI, CPI).
    Delimited { max_chars: u8 },
}

/// One '+' scheme's AI layout after header, +AIDC toggle (1 bit) and filter (3 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlusLayout {
    /// The primary AI (`01`, `00`, `414`, ...).
    pub(crate) key_ai: &'static str,
    /// The field name of its value.
    pub(crate) key_name: &'static str,
    /// How its value is encoded.
    pub(crate) key: KeyEncoding,
    /// The value after the key.
    pub(crate) qualifier: Qualifier,
    /// Whether a 4-bit date type and a 16-bit date come before the key (DSGTIN+).
    pub(crate) dated: bool,
}

const fn key(ai: &'static str, name: &'static str, digits: u8, qualifier: Qualifier) -> PlusLayout {
    PlusLayout {
        key_ai: ai,
        key_name: name,
        key: KeyEncoding::Fixed {
            digits,
            check_over: digits as usize - 1,
            leading_zero: false,
        },
        qualifier,
        dated: false,
    }
}

const SERIAL_21: Qualifier = Qualifier::Alphanumeric {
    name: "serial",
    ai: Some("21"),
    max_chars: 20,
    required: true,
};

const SGTIN_PLUS: PlusLayout = key("01", "gtin", 14, SERIAL_21);

/// The layout of a '+' scheme, or `None` for every other header.
pub(crate) fn plus_layout_of(scheme: Scheme) -> Option<PlusLayout> {
    Some(match scheme.header() {
        0xF7 => SGTIN_PLUS,
        0xFB => PlusLayout {
            dated: true,
            ..SGTIN_PLUS
        },
        0xF9 => key("00", "sscc", 18, Qualifier::None),
        0xF2 => key(
            "414",
            "gln",
            13,
            Qualifier::Alphanumeric {
                name: "extension",
                ai: Some("254"),
                max_chars: 20,
                required: false,
            },
        ),
        0xF1 => PlusLayout {
            key: KeyEncoding::Fixed {
                digits: 14,
                check_over: 13,
                leading_zero: true,
            },
            ..key(
                "8003",
                "grai",
                14,
                Qualifier::Alphanumeric {
                    name: "serial",
                    ai: None,
                    max_chars: 16,
                    required: false,
                },
            )
        },
        0xF6 => key(
            "253",
            "gdti",
            13,
            Qualifier::Alphanumeric {
                name: "serial",
                ai: None,
                max_chars: 17,
                required: false,
            },
        ),
        0xF8 => key(
            "255",
            "gcn",
            13,
            Qualifier::Numeric {
                name: "serial",
                ai: None,
                length_bits: 4,
                max_digits: 12,
                required: false,
            },
        ),
        0xF4 => key("8018", "gsrn", 18, Qualifier::None),
        0xF5 => key("8017", "gsrnp", 18, Qualifier::None),
        0xF3 => PlusLayout {
            key: KeyEncoding::Fixed {
                digits: 18,
                check_over: 13,
                leading_zero: false,
            },
            ..key("8006", "itip", 18, SERIAL_21)
        },
        0xFA => PlusLayout {
            key: KeyEncoding::Delimited { max_chars: 30 },
            ..key("8004", "giai", 1, Qualifier::None)
        },
        0xF0 => PlusLayout {
            key: KeyEncoding::Delimited { max_chars: 30 },
            ..key(
                "8010",
                "cpi",
                1,
                Qualifier::Numeric {
                    name: "serial",
                    ai: Some("8011"),
                    length_bits: 4,
                    max_digits: 12,
                    required: true,
                },
            )
        },
        _ => return None,
    })
}

/// DSGTIN+ date types (TDS 2.0 Table 14-4) and the AI each stands for; 7-15 are reserved.
pub(crate) const DATE_TYPES: [(&str, &str); 7] = [
    ("production", "11"),
    ("packaging", "13"),
    ("best_before", "15"),
    ("sell_by", "16"),
    ("expiration", "17"),
    ("first_freeze", "7006"),
    ("harvest", "7007"),
];

/// A layout no scheme has, for the never-taken fallback of a validated value.
pub(crate) const FALLBACK: PlusLayout = key("00", "key", 1, Qualifier::None);
