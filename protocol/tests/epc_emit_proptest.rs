//! Property tests of the encoder of every scheme: valid field values → `emit` → `decode` gives the same
//! identity and URIs; breaking one bit-level rule of a valid encoding makes it `invalid`.

use proptest::prelude::*;
use tagtally_protocol::epc::{self, Gs1Epc, Kind, Scheme};

const SET_82: &[u8] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const CPI: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ#-/";
const ADI: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-/";

/// A seeded xorshift: field values from one `u64` the proptest shrinks.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    fn int_below(&mut self, n: u64) -> String {
        self.below(n).to_string()
    }
    fn text(&mut self, set: &[u8], min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| char::from(set[self.below(set.len() as u64) as usize]))
            .collect()
    }
}

/// (company prefix bits, reference bits) per company prefix length 12..=6.
fn bits_for(cp_len: usize, table: [u32; 7]) -> u32 {
    table[12 - cp_len]
}

/// Random valid fields of `header` with a `cp_len`-digit company prefix, and a filter.
fn fields(header: u8, cp_len: usize, g: &mut Gen) -> (Option<u8>, Vec<String>) {
    let cp = g.digits(cp_len);
    let filter = Some(g.below(8) as u8);
    let f = match header {
        0x30 => vec![cp, g.digits(13 - cp_len), g.int_below(1 << 38)],
        0x36 => vec![cp, g.digits(13 - cp_len), g.text(SET_82, 1, 20)],
        0x31 | 0x2D | 0x2E => vec![cp, g.digits(17 - cp_len)],
        0x32 => vec![cp, g.digits(12 - cp_len), g.int_below(1 << 41)],
        0x39 => vec![cp, g.digits(12 - cp_len), g.text(SET_82, 1, 20)],
        0x33 => vec![cp, g.digits(12 - cp_len), g.int_below(1 << 38)],
        0x37 => vec![cp, g.digits(12 - cp_len), g.text(SET_82, 1, 16)],
        0x34 => {
            let bits = bits_for(cp_len, [42, 45, 48, 52, 55, 58, 62]);
            vec![cp, g.int_below(1 << bits)]
        }
        0x38 => vec![cp, g.text(SET_82, 1, 30 - cp_len)],
        0x2C => vec![cp, g.digits(12 - cp_len), g.int_below(1 << 41)],
        0x3E => vec![cp, g.digits(12 - cp_len), g.text(SET_82, 1, 17)],
        0x3C => {
            let bits = bits_for(cp_len, [11, 14, 17, 21, 24, 27, 31]);
            let max = (1u64 << bits).min(10u64.pow(15 - cp_len as u32));
            vec![cp, g.int_below(max), g.int_below(1 << 31)]
        }
        0x3D => vec![
            cp,
            g.text(CPI, 1, 30 - cp_len),
            g.int_below(1_000_000_000_000),
        ],
        0x3F => {
            let n = g.below(13) as usize;
            vec![cp, g.digits(12 - cp_len), g.digits(n)]
        }
        0x40 => vec![
            cp,
            g.digits(13 - cp_len),
            g.digits(2),
            g.digits(2),
            g.int_below(1 << 38),
        ],
        0x41 => vec![
            cp,
            g.digits(13 - cp_len),
            g.digits(2),
            g.digits(2),
            g.text(SET_82, 1, 20),
        ],
        0x35 => {
            return (
                None,
                vec![
                    g.int_below(1 << 28),
                    g.int_below(1 << 24),
                    g.int_below(1 << 36),
                ],
            )
        }
        0x2F => {
            return (
                Some(g.below(16) as u8),
                vec![g.text(ALNUM, 5, 6), g.int_below(1 << 36)],
            )
        }
        0x3B => {
            let mut serial = g.text(ADI, 1, 30);
            if g.below(3) == 0 {
                serial.replace_range(..1, "#");
            }
            return (
                Some(g.below(64) as u8),
                vec![g.text(ALNUM, 5, 6), g.text(ADI, 0, 32), serial],
            );
        }
        other => panic!("no generator for {other:#x}"),
    };
    (filter, f)
}

/// Every header with a layout.
const HEADERS: [u8; 21] = [
    0x30, 0x36, 0x31, 0x32, 0x39, 0x33, 0x37, 0x34, 0x38, 0x2D, 0x2E, 0x2C, 0x3E, 0x3C, 0x3D, 0x3F,
    0x40, 0x41, 0x35, 0x2F, 0x3B,
];

fn valid() -> impl Strategy<Value = Gs1Epc> {
    valid_of(HEADERS.to_vec())
}

fn valid_of(headers: Vec<u8>) -> impl Strategy<Value = Gs1Epc> {
    (prop::sample::select(headers), 6usize..=12, any::<u64>()).prop_map(|(header, cp_len, seed)| {
        let mut g = Gen(seed | 1);
        let (filter, values) = fields(header, cp_len, &mut g);
        let scheme = Scheme::from_header(header).expect("header");
        Gs1Epc::new(scheme, filter, values.clone())
            .unwrap_or_else(|e| panic!("{scheme} {filter:?} {values:?}: {e}"))
    })
}

fn is_partitioned(scheme: Scheme) -> bool {
    !matches!(scheme.header(), 0x35 | 0x2F | 0x3B)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn every_scheme_round_trips(id in valid()) {
        let bytes = id.to_bytes();
        prop_assert_eq!(bytes.len(), id.buffer_len());
        prop_assert_eq!(bytes.len() % 2, 0);
        let decoded = epc::decode(&bytes);
        let Kind::Gs1(back) = &decoded.kind else {
            return Err(TestCaseError::fail(format!("{bytes:02X?}: {:?}", decoded.kind)));
        };
        prop_assert_eq!(back, &id);
        prop_assert_eq!(back.tag_uri(), id.tag_uri());
        prop_assert_eq!(epc::sku(&bytes), id.sku());
        // Bits after the scheme's end (a longer EPC bank) do not change the identity.
        let mut longer = bytes.clone();
        longer.extend([0xA5, 0x5A]);
        let Kind::Gs1(padded) = epc::decode(&longer).kind else {
            return Err(TestCaseError::fail("longer bank"));
        };
        prop_assert_eq!(padded, id);
    }

    #[test]
    fn emit_refuses_a_short_buffer_and_never_panics(id in valid(), short in 0usize..64) {
        let mut buf = vec![0u8; short];
        let result = id.emit(&mut buf);
        prop_assert_eq!(result.is_ok(), short >= id.buffer_len());
    }

    #[test]
    fn partition_seven_is_invalid(id in valid()) {
        prop_assume!(is_partitioned(id.scheme()));
        let mut bytes = id.to_bytes();
        // Partition: the 3 bits after header (8) and filter (3), bits 11..14.
        bytes[1] |= 0b0001_1100;
        let decoded = epc::decode(&bytes);
        prop_assert!(matches!(decoded.kind, Kind::Invalid { .. }), "{:?}", decoded.kind);
    }

    #[test]
    fn truncation_is_invalid(id in valid(), cut in 1usize..8) {
        let bytes = id.to_bytes();
        let keep = id.bit_len().div_ceil(8).saturating_sub(cut);
        let decoded = epc::decode(&bytes[..keep]);
        prop_assert!(matches!(decoded.kind, Kind::Invalid { .. }), "{:?}", decoded.kind);
    }

    #[test]
    fn reserved_bits_must_be_zero(id in valid_of(vec![0x31, 0x2D, 0x2E]), bit in 0usize..24) {
        let mut bytes = id.to_bytes();
        let pos = 72 + bit;
        bytes[pos / 8] |= 0x80 >> (pos % 8);
        let decoded = epc::decode(&bytes);
        prop_assert!(matches!(decoded.kind, Kind::Invalid { .. }), "{:?}", decoded.kind);
    }

    #[test]
    fn bad_field_values_are_refused(id in valid(), which in any::<prop::sample::Index>(), junk in prop::sample::select(vec![" ", "\u{e9}", "@", "~", ".", "00000000000000000000000"])) {
        let mut values: Vec<String> = id.fields().into_iter().map(|(_, v)| v.to_owned()).collect();
        let i = which.index(values.len());
        values[i].push_str(junk);
        let result = Gs1Epc::new(id.scheme(), id.filter(), values);
        // Any value that still passes must still round-trip (e.g. "00..." appended to a text field).
        if let Ok(other) = result {
            let Kind::Gs1(back) = epc::decode(&other.to_bytes()).kind else {
                return Err(TestCaseError::fail("accepted value does not decode"));
            };
            prop_assert_eq!(back, other);
        }
    }
}
