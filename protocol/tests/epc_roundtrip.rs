//! Property tests: an encoder written here from the TDS layouts (fields → bits) round-trips through `epc::decode`
//! for random valid fields of every decoded scheme, URIs and GTINs agree, and no byte string makes it panic.

use proptest::prelude::*;
use tagtally_protocol::epc::{self, Kind, Sku};

/// (company prefix bits, company prefix digits, reference bits, reference digits) per partition 0..=6.
type Table = [(u32, u32, u32, u32); 7];
const SGTIN: Table = [
    (40, 12, 4, 1),
    (37, 11, 7, 2),
    (34, 10, 10, 3),
    (30, 9, 14, 4),
    (27, 8, 17, 5),
    (24, 7, 20, 6),
    (20, 6, 24, 7),
];
const SSCC_GSRN: Table = [
    (40, 12, 18, 5),
    (37, 11, 21, 6),
    (34, 10, 24, 7),
    (30, 9, 28, 8),
    (27, 8, 31, 9),
    (24, 7, 34, 10),
    (20, 6, 38, 11),
];
const SGLN_GDTI: Table = [
    (40, 12, 1, 0),
    (37, 11, 4, 1),
    (34, 10, 7, 2),
    (30, 9, 11, 3),
    (27, 8, 14, 4),
    (24, 7, 17, 5),
    (20, 6, 21, 6),
];
const GRAI: Table = [
    (40, 12, 4, 0),
    (37, 11, 7, 1),
    (34, 10, 10, 2),
    (30, 9, 14, 3),
    (27, 8, 17, 4),
    (24, 7, 20, 5),
    (20, 6, 24, 6),
];
const GIAI: Table = [
    (40, 12, 42, 13),
    (37, 11, 45, 14),
    (34, 10, 48, 15),
    (30, 9, 52, 16),
    (27, 8, 55, 17),
    (24, 7, 58, 18),
    (20, 6, 62, 19),
];

/// GS1 AI encodable character set 82.
const SET_82: &[u8] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

#[derive(Default)]
struct Bits(Vec<bool>);

impl Bits {
    fn push(&mut self, value: u64, n: u32) -> &mut Self {
        assert!(n == 64 || value < 1 << n, "{value} does not fit {n} bits");
        for i in (0..n).rev() {
            self.0.push(value >> i & 1 == 1);
        }
        self
    }
    fn bytes(&self, total_bits: usize) -> Vec<u8> {
        let mut bits = self.0.clone();
        bits.resize(total_bits, false);
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |b, &bit| b << 1 | u8::from(bit)))
            .collect()
    }
}

/// Fields of a partitioned scheme: filter, partition, company prefix, the field after it.
#[derive(Debug, Clone)]
struct Partitioned {
    filter: u8,
    partition: usize,
    cp: u64,
    reference: u64,
}

fn partitioned(table: Table) -> impl Strategy<Value = Partitioned> {
    (0u8..8, 0usize..7).prop_flat_map(move |(filter, partition)| {
        let (_, cpd, rb, rd) = table[partition];
        let ref_max = 10u64.pow(rd).min(1 << rb);
        (0..10u64.pow(cpd), 0..ref_max).prop_map(move |(cp, reference)| Partitioned {
            filter,
            partition,
            cp,
            reference,
        })
    })
}

fn head(header: u64, table: Table, p: &Partitioned) -> Bits {
    let (cpb, _, rb, _) = table[p.partition];
    let mut bits = Bits::default();
    bits.push(header, 8)
        .push(u64::from(p.filter), 3)
        .push(p.partition as u64, 3)
        .push(p.cp, cpb)
        .push(p.reference, rb);
    bits
}

fn padded(value: u64, width: u32) -> String {
    if width == 0 {
        String::new()
    } else {
        format!("{value:0w$}", w = width as usize)
    }
}

/// GTIN-14 from the TDS rule, computed on the digit string.
fn gtin_text(table: Table, p: &Partitioned) -> String {
    let (_, cpd, _, rd) = table[p.partition];
    let item = padded(p.reference, rd);
    let body = format!("{}{}{}", &item[..1], padded(p.cp, cpd), &item[1..]);
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn uri_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '%' | '&' | '/' | '<' | '>' | '?' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

/// Decodes, checks that `sku()` agrees and that the encoder writes the same bits back (up to the
/// word padding), and returns the identity's URIs.
fn roundtrip(bytes: &[u8]) -> (String, String, Sku) {
    let decoded = epc::decode(bytes);
    assert_eq!(decoded.bits, bytes.len() * 8);
    let Kind::Gs1(id) = &decoded.kind else {
        panic!("{bytes:02X?} decoded as {:?}", decoded.kind);
    };
    let sku = epc::sku(bytes);
    assert_eq!(sku, decoded.sku());
    let again = id.to_bytes();
    let n = again.len().min(bytes.len());
    assert_eq!(again[..n], bytes[..n], "re-encoding differs");
    (id.tag_uri(), id.pure_identity(), sku)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn sgtin96(p in partitioned(SGTIN), serial in 0u64..1 << 38) {
        let mut bits = head(0x30, SGTIN, &p);
        bits.push(serial, 38);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, ir) = (padded(p.cp, SGTIN[p.partition].1), padded(p.reference, SGTIN[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:sgtin-96:{}.{cp}.{ir}.{serial}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:sgtin:{cp}.{ir}.{serial}"));
        let Sku::Gtin(gtin) = sku else { panic!("{sku:?}") };
        prop_assert!(gtin.check_digit_valid());
        prop_assert_eq!(gtin.to_string(), gtin_text(SGTIN, &p));
    }

    #[test]
    fn sgtin198(p in partitioned(SGTIN), chars in proptest::collection::vec(0..SET_82.len(), 1..=20), total in 198usize..=208) {
        let serial: String = chars.iter().map(|&i| char::from(SET_82[i])).collect();
        let mut bits = head(0x36, SGTIN, &p);
        for b in serial.bytes() {
            bits.push(u64::from(b), 7);
        }
        let bytes = bits.bytes(total.div_ceil(8) * 8);
        let (tag, pure, sku) = roundtrip(&bytes);
        let (cp, ir) = (padded(p.cp, SGTIN[p.partition].1), padded(p.reference, SGTIN[p.partition].3));
        let escaped = uri_escape(&serial);
        prop_assert_eq!(tag, format!("urn:epc:tag:sgtin-198:{}.{cp}.{ir}.{escaped}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:sgtin:{cp}.{ir}.{escaped}"));
        prop_assert_eq!(sku.to_string(), gtin_text(SGTIN, &p));
    }

    #[test]
    fn sscc96(p in partitioned(SSCC_GSRN)) {
        let mut bits = head(0x31, SSCC_GSRN, &p);
        bits.push(0, 24);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, sr) = (padded(p.cp, SSCC_GSRN[p.partition].1), padded(p.reference, SSCC_GSRN[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:sscc-96:{}.{cp}.{sr}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:sscc:{cp}.{sr}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:sscc:{cp}.*")));
    }

    #[test]
    fn gsrn96(p in partitioned(SSCC_GSRN)) {
        let mut bits = head(0x2D, SSCC_GSRN, &p);
        bits.push(0, 24);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, sr) = (padded(p.cp, SSCC_GSRN[p.partition].1), padded(p.reference, SSCC_GSRN[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:gsrn-96:{}.{cp}.{sr}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:gsrn:{cp}.{sr}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:gsrn:{cp}.*")));
    }

    #[test]
    fn sgln96(p in partitioned(SGLN_GDTI), extension in 0u64..1 << 41) {
        let mut bits = head(0x32, SGLN_GDTI, &p);
        bits.push(extension, 41);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, lr) = (padded(p.cp, SGLN_GDTI[p.partition].1), padded(p.reference, SGLN_GDTI[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:sgln-96:{}.{cp}.{lr}.{extension}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:sgln:{cp}.{lr}.{extension}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:sgln:{cp}.{lr}.*")));
    }

    #[test]
    fn gdti96(p in partitioned(SGLN_GDTI), serial in 0u64..1 << 41) {
        let mut bits = head(0x2C, SGLN_GDTI, &p);
        bits.push(serial, 41);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, dt) = (padded(p.cp, SGLN_GDTI[p.partition].1), padded(p.reference, SGLN_GDTI[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:gdti-96:{}.{cp}.{dt}.{serial}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:gdti:{cp}.{dt}.{serial}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:gdti:{cp}.{dt}.*")));
    }

    #[test]
    fn grai96(p in partitioned(GRAI), serial in 0u64..1 << 38) {
        let mut bits = head(0x33, GRAI, &p);
        bits.push(serial, 38);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let (cp, at) = (padded(p.cp, GRAI[p.partition].1), padded(p.reference, GRAI[p.partition].3));
        prop_assert_eq!(tag, format!("urn:epc:tag:grai-96:{}.{cp}.{at}.{serial}", p.filter));
        prop_assert_eq!(pure, format!("urn:epc:id:grai:{cp}.{at}.{serial}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:grai:{cp}.{at}.*")));
    }

    #[test]
    fn giai96(p in partitioned(GIAI)) {
        let bits = head(0x34, GIAI, &p);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        let cp = padded(p.cp, GIAI[p.partition].1);
        prop_assert_eq!(tag, format!("urn:epc:tag:giai-96:{}.{cp}.{}", p.filter, p.reference));
        prop_assert_eq!(pure, format!("urn:epc:id:giai:{cp}.{}", p.reference));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:giai:{cp}.*")));
    }

    #[test]
    fn gid96(manager in 0u32..1 << 28, object_class in 0u32..1 << 24, serial in 0u64..1 << 36) {
        let mut bits = Bits::default();
        bits.push(0x35, 8).push(u64::from(manager), 28).push(u64::from(object_class), 24).push(serial, 36);
        let (tag, pure, sku) = roundtrip(&bits.bytes(96));
        prop_assert_eq!(tag, format!("urn:epc:tag:gid-96:{manager}.{object_class}.{serial}"));
        prop_assert_eq!(pure, format!("urn:epc:id:gid:{manager}.{object_class}.{serial}"));
        prop_assert_eq!(sku, Sku::Class(format!("urn:epc:idpat:gid:{manager}.{object_class}.*")));
    }

    /// Any bytes: no panic, `sku()` equals `decode().sku()`, GTINs carry valid check digits, and a
    /// partition-7 or too-short SGTIN never yields a GTIN.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        check_invariants(&bytes);
    }

    /// The same with a GS1 header in front, so the field checks see mostly invalid encodings.
    #[test]
    fn arbitrary_bodies_behind_gs1_headers(
        header in prop::sample::select((0x2Cu8..=0x41).chain([0xF7, 0xFB]).collect::<Vec<_>>()),
        body in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![header];
        bytes.extend(body);
        check_invariants(&bytes);
    }
}

fn check_invariants(bytes: &[u8]) {
    let decoded = epc::decode(bytes);
    let sku = epc::sku(bytes);
    assert_eq!(sku, decoded.sku());
    assert_eq!(decoded.bits, bytes.len() * 8);
    let report = decoded.report();
    assert!(report.iter().any(|(k, _)| *k == "scheme"));
    match (&decoded.kind, &sku) {
        (Kind::Gs1(e), Sku::Gtin(gtin)) => {
            assert!(gtin.check_digit_valid());
            assert_eq!(e.gtin(), Some(*gtin));
            assert_canonical(bytes, e);
        }
        (Kind::Gs1(e), Sku::Class(class)) => {
            assert!(class.starts_with("urn:epc:idpat:") && class.ends_with(".*"));
            assert_eq!(e.gtin(), None);
            assert_canonical(bytes, e);
        }
        // The TDS 2.0 '+' schemes (random bytes decode as one now and then): a GTIN when the
        // identity has one, else the Digital Link of its primary key, which its own Digital Link
        // extends. Their canonical encoding is checked by `epc_plus_proptest.rs`.
        (Kind::Plus(id), Sku::Gtin(gtin)) => {
            assert!(gtin.check_digit_valid());
            assert_eq!(id.gtin(), Some(*gtin));
        }
        (Kind::Plus(id), Sku::Class(class)) => {
            assert_eq!(id.gtin(), None);
            assert!(
                class.starts_with("https://id.gs1.org/")
                    && id.digital_link().starts_with(class.as_str()),
                "{class} for {}",
                id.digital_link()
            );
        }
        (Kind::Gs1(_) | Kind::Plus(_), Sku::Unresolved) => {
            panic!("decoded GS1 identity without a SKU")
        }
        (_, Sku::Unresolved) => {}
        (kind, sku) => panic!("{kind:?} has SKU {sku:?}"),
    }
    if bytes.first() == Some(&0x30) && (bytes.len() < 12 || bytes[1] & 0b11100 == 0b11100) {
        assert!(matches!(decoded.kind, Kind::Invalid { .. }), "{bytes:02X?}");
    }
}

/// A decoded identity re-encodes to exactly the bits it was decoded from (strict decoding: no two
/// bit strings decode to the same identity, apart from bits after the scheme's end).
fn assert_canonical(bytes: &[u8], id: &epc::Gs1Epc) {
    let again = id.to_bytes();
    let bits = id.bit_len();
    let full = bits / 8;
    assert_eq!(again[..full], bytes[..full], "{bytes:02X?}");
    if !bits.is_multiple_of(8) {
        let mask = 0xFFu8 << (8 - bits % 8);
        assert_eq!(again[full] & mask, bytes[full] & mask, "{bytes:02X?}");
    }
}

/// Found by `arbitrary_bytes_never_panic` on 2026-12-04 (its shrunk input): random bytes that
/// decode as a CPI+ EPC (header 0xF0) have a Digital Link class as their SKU, which the
/// invariants did not know.
#[test]
fn random_bytes_decoding_as_a_plus_epc_keep_the_invariants() {
    let bytes = [0xF0, 0x00, 0x6F, 0x80, 0x00, 0x00, 0x24];
    assert!(matches!(epc::decode(&bytes).kind, Kind::Plus(_)));
    check_invariants(&bytes);
}
