//! Property tests of the '+' scheme encoder: valid values of every '+' scheme → `emit` → `decode`
//! gives the same identity; a wrong check digit, a cut, a set padding bit make it `invalid`; with
//! the +AIDC toggle set, the data after the identity is kept and re-encoded bit for bit.

use proptest::prelude::*;
use tagtally_protocol::epc::{self, Kind, PlusEpc, PlusFields, PlusText, Scheme, Sku};

const SET_82: &[u8] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/// The alphabets of the encoding indicators (integer, upper hex, lower hex, base 64, 7-bit).
const ALPHABETS: [&[u8]; 5] = [
    b"0123456789",
    b"0123456789ABCDEF",
    b"0123456789abcdef",
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    SET_82,
];
/// Every '+' header this crate decodes.
const PLUS: [u8; 12] = [
    0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB,
];

/// A seeded xorshift: values from one `u64` the proptest shrinks.
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
    fn digits_between(&mut self, min: usize, max: usize) -> String {
        let n = min + self.below((max - min + 1) as u64) as usize;
        self.digits(n)
    }
    fn text(&mut self, set: &[u8], min: usize, max: usize) -> String {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| char::from(set[self.below(set.len() as u64) as usize]))
            .collect()
    }
    /// Text of a random indicator's alphabet.
    fn alnum(&mut self, min: usize, max: usize) -> PlusText {
        let set = ALPHABETS[self.below(5) as usize];
        PlusText::new(&self.text(set, min, max))
    }
}

/// GS1 mod-10 check digit, written apart from the crate's.
fn check_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn with_check(body: String) -> String {
    let c = check_digit(&body);
    body + &c.to_string()
}

/// Random valid values of '+' scheme `header`.
fn values(header: u8, g: &mut Gen) -> PlusFields {
    let filter = g.below(8) as u8;
    let optional = |g: &mut Gen, max: usize| (g.below(2) == 1).then(|| g.alnum(1, max));
    let (mut date, mut key_rest, qualifier) = (None, None, None);
    let (key, qualifier) = match header {
        0xF7 => (with_check(g.digits(13)), Some(g.alnum(1, 20))),
        0xFB => {
            let d = format!(
                "{:02}{:02}{:02}",
                g.below(100),
                1 + g.below(12),
                g.below(29)
            );
            date = Some((g.below(7) as u8, d));
            (with_check(g.digits(13)), Some(g.alnum(1, 20)))
        }
        0xF9 | 0xF4 | 0xF5 => (with_check(g.digits(17)), qualifier),
        0xF2 => (with_check(g.digits(12)), optional(g, 20)),
        0xF1 => (with_check(format!("0{}", g.digits(12))), optional(g, 16)),
        0xF6 => (with_check(g.digits(12)), optional(g, 17)),
        0xF8 => {
            let serial = (g.below(2) == 1).then(|| PlusText {
                value: g.digits_between(1, 12),
                indicator: 0,
            });
            (with_check(g.digits(12)), serial)
        }
        0xF3 => (
            with_check(g.digits(13)) + &g.digits(4),
            Some(g.alnum(1, 20)),
        ),
        0xFA | 0xF0 => {
            let digits = g.digits_between(0, 30);
            if digits.is_empty() || (digits.len() < 30 && g.below(2) == 1) {
                key_rest = Some(g.alnum(1, 30 - digits.len()));
            }
            let serial = (header == 0xF0).then(|| PlusText {
                value: g.digits_between(1, 12),
                indicator: 0,
            });
            (digits, serial)
        }
        other => panic!("not a '+' header: {other:x}"),
    };
    PlusFields {
        filter,
        date,
        key,
        key_rest,
        qualifier,
    }
}

fn valid() -> impl Strategy<Value = PlusEpc> {
    (prop::sample::select(PLUS.to_vec()), any::<u64>()).prop_map(|(header, seed)| {
        let mut g = Gen(seed | 1);
        let scheme = Scheme::from_header(header).expect("a TDS header");
        let v = values(header, &mut g);
        PlusEpc::new(scheme, v.clone()).unwrap_or_else(|e| panic!("{v:?}: {e}"))
    })
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8] ^= 0x80 >> (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_plus_scheme_round_trips(id in valid()) {
        let bytes = id.to_bytes();
        prop_assert_eq!(bytes.len() % 2, 0);
        let decoded = epc::decode(&bytes);
        prop_assert_eq!(decoded.scheme_name(), id.scheme().name());
        prop_assert_eq!(&decoded.kind, &Kind::Plus(id.clone()));
        prop_assert_eq!(epc::sku(&bytes), decoded.sku());
        match (id.gtin(), decoded.sku()) {
            (Some(gtin), Sku::Gtin(sku)) => prop_assert_eq!(gtin, sku),
            (None, Sku::Class(class)) => prop_assert!(id.digital_link().starts_with(&class)),
            (gtin, sku) => prop_assert!(false, "gtin {:?} with sku {:?}", gtin, sku),
        }
        prop_assert!(id.digital_link().starts_with("https://id.gs1.org/"));
    }

    #[test]
    fn a_wrong_check_digit_is_invalid(id in valid(), delta in 1u8..10) {
        let mut v = id.values().clone();
        prop_assume!(!matches!(id.scheme().header(), 0xFA | 0xF0));
        let at = match id.scheme().header() { 0xF3 => 13, _ => v.key.len() - 1 };
        let mut key = v.key.into_bytes();
        key[at] = b'0' + (key[at] - b'0' + delta) % 10;
        v.key = String::from_utf8(key).expect("digits");
        prop_assert!(PlusEpc::new(id.scheme(), v.clone()).is_err());
        // The same values written as bits (the key's nibbles patched) decode as invalid.
        let mut bytes = id.to_bytes();
        let nibble = 12 + if id.scheme().header() == 0xFB { 20 } else { 0 } + 4 * at;
        for b in 0..4 {
            let want = (v.key.as_bytes()[at] - b'0') >> (3 - b) & 1;
            let bit = nibble + b;
            if (bytes[bit / 8] >> (7 - bit % 8)) & 1 != want {
                flip(&mut bytes, bit);
            }
        }
        let is_invalid = matches!(epc::decode(&bytes).kind, Kind::Invalid { .. });
        prop_assert!(is_invalid);
    }

    #[test]
    fn a_cut_identity_is_invalid(id in valid(), cut in 1usize..8) {
        let bytes = id.to_bytes();
        let keep = (id.bit_len() / 8).saturating_sub(cut);
        // Without its header byte an EPC is `unknown`, not a cut '+' EPC.
        prop_assume!(keep >= 1);
        match epc::decode(&bytes[..keep]).kind {
            Kind::Invalid { .. } => {}
            // A cut right after the key of a scheme whose value after it is optional leaves
            // a valid identity without that value; anything else is a failure.
            Kind::Plus(short) => {
                prop_assert!(matches!(id.scheme().header(), 0xF1 | 0xF2 | 0xF6 | 0xF8));
                prop_assert_eq!(short.key(), id.key());
                prop_assert!(short.values().qualifier.is_none());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn a_set_padding_bit_is_invalid(id in valid(), pick in any::<prop::sample::Index>()) {
        // Behind an absent optional value, set padding bits can spell a present one.
        prop_assume!(id.values().qualifier.is_some() || matches!(id.scheme().header(), 0xF9 | 0xF4 | 0xF5 | 0xFA));
        let mut bytes = id.to_bytes();
        let (from, to) = (id.bit_len(), bytes.len() * 8);
        prop_assume!(from < to);
        flip(&mut bytes, from + pick.index(to - from));
        let is_invalid = matches!(epc::decode(&bytes).kind, Kind::Invalid { .. });
        prop_assert!(is_invalid, "{:?}", epc::decode(&bytes).kind);
    }

    #[test]
    fn aidc_data_after_a_set_toggle_is_kept_bit_for_bit(id in valid(), tail in prop::collection::vec(any::<u8>(), 0..8)) {
        // An absent optional value would need its empty header before the data; keep to identities
        // whose bits end with a value (or have none to leave out).
        prop_assume!(id.values().qualifier.is_some() || matches!(id.scheme().header(), 0xF9 | 0xF4 | 0xF5 | 0xFA));
        let mut bytes = id.to_bytes();
        flip(&mut bytes, 8);
        bytes.extend_from_slice(&tail);
        let decoded = epc::decode(&bytes);
        let Kind::Plus(back) = &decoded.kind else {
            return Err(TestCaseError::fail(format!("{:?}", decoded.kind)));
        };
        prop_assert!(back.has_aidc_data());
        prop_assert_eq!(back.key(), id.key());
        // Re-encoded: the same bits, then zero padding (trailing zeros of the data are padding).
        let again = back.to_bytes();
        let byte = |b: &[u8], i: usize| b.get(i).copied().unwrap_or(0);
        for i in 0..again.len().max(bytes.len()) {
            prop_assert_eq!(byte(&again, i), byte(&bytes, i), "byte {}", i);
        }
    }
}
