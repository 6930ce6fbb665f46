//! GS1 EPC Tag Data Standard 2.x: every binary scheme's fields, tag URI, pure-identity URI, the SKU
//! rule, strict validity, and the matching encoder.
//!
//! Entry points:
//!
//! * [`sku`] — what a tag counts as (SPEC §3). On the first-sighting path: for SGTIN-96 it reads
//!   one 96-bit word, checks the partition and digit counts and computes the GTIN-14 without touching
//!   the heap ([`Sgtin96`]).
//! * [`decode`] — everything about an EPC for people and tools (`tagtally epc decode`): scheme,
//!   fields, GTIN, tag URI, pure-identity URI, raw URI, and a reason when it is invalid.
//! * [`Gs1Epc::new`] and [`Gs1Epc::emit`] — the encoder of every decoded scheme; [`Sgtin96::to_bytes`]
//!   the allocation-free one for SGTIN-96 that the demo, emulators and benches build tags with.
//!
//! `sku(epc) == decode(epc).sku()` for every input, and a decoded identity re-encodes to exactly the
//! bits it was decoded from; the fuzz target checks both.
//!
//! ```
//! use tagtally_protocol::epc::{self, Sku};
//!
//! let bytes = [0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85];
//! let Sku::Gtin(gtin) = epc::sku(&bytes) else { unreachable!() };
//! assert_eq!(gtin.to_string(), "80614141123458");
//! let decoded = epc::decode(&bytes);
//! assert_eq!(decoded.scheme_name(), "sgtin-96");
//! ```
//!
//! # What decodes to what
//!
//! | header | result |
//! |---|---|
//! | SGTIN-96/198, SSCC-96, SGLN-96/195, GRAI-96/170, GIAI-96/202, GSRN-96, GSRNP-96, GDTI-96/174, CPI-96, CPI-var, SGCN-96, ITIP-110/212, GID-96, USDOD-96, ADI-var | [`Kind::Gs1`]: fields and URIs, or [`Kind::Invalid`] |
//! | the TDS 2.0 '+' schemes: SGTIN+, DSGTIN+, SSCC+, SGLN+, GRAI+, GIAI+, GSRN+, GSRNP+, GDTI+, SGCN+, ITIP+, CPI+ | [`Kind::Plus`]: AI values and the GS1 Digital Link URI, or [`Kind::Invalid`] |
//! | GDTI-113 (withdrawn from the TDS) and the TDS 2.3 '++' schemes (`sgtin++`, `dsgtin++`, ...) | [`Kind::Recognised`]: the scheme name and the raw URI |
//! | anything else (`E280…` factory defaults, proprietary EPCs, empty input) | [`Kind::Unknown`]: the raw URI |
//!
//! The '+' schemes carry GS1 Application Identifier values in the encodings of TDS §14.5
//! (`plus_layout.rs`, `aidc_value.rs`, `plus.rs`: [`PlusEpc`]). They have no company-prefix length,
//! so no tag or pure-identity URI: their canonical form is the GS1 Digital Link URI. Invalid: a key
//! digit nibble above 9, a wrong check digit (GTIN, SSCC, GLN, GRAI, GDTI, GCN, GSRN, ITIP), a GRAI
//! key not starting with 0, a reserved encoding indicator (6, 7) or one whose characters do not
//! fit, a length above the AI's maximum, a required serial that is empty, an empty value whose
//! header is not all zero, a DSGTIN+ date type above 6 or a date that does not exist, and (without the
//! +AIDC toggle) padding bits that are not zero. With the toggle set, the bits after the identity
//! are kept as `aidc_data` and not decoded. Values in URN Code 40 (indicator 5) are refused as not
//! decoded. The '++' schemes (a hostname after the '+' identity) are named only.
//!
//! One table (`layout.rs`) describes every scheme's bits; the decoder (`parse.rs`), the value
//! rules (`validate.rs`), the encoder (`emit.rs`) and the URIs all read it.
//!
//! `invalid` means the header names a decoded scheme but the bits are not a valid encoding of it:
//! fewer bits than the scheme needs, partition 7, a company prefix or reference with more digits
//! than its partition allows, reserved bits (SSCC-96, GSRN-96, GSRNP-96) or text padding that are not
//! zero, a text character outside its set (GS1 set 82 for 7-bit fields, the CPI and ADI sets for
//! 6-bit ones), a character after a string's terminating zero, a 6-bit string without terminator, an
//! empty serial, an SGCN serial without its leading 1, an ITIP piece or total above 99. An invalid
//! EPC never yields a GTIN or fields.
//!
//! Tolerated, not invalid: bits after a scheme's last bit (a 96-bit scheme in a longer EPC bank,
//! word padding of SGTIN-198 to 208 bits or of the variable-length schemes).
//!
//! # The SKU rule ([`Sku`])
//!
//! * SGTIN-96 and SGTIN-198: [`Sku::Gtin`], the GTIN-14 (indicator digit + company prefix + item
//!   reference + check digit). Serial and filter do not matter.
//! * Every other decoded scheme: [`Sku::Class`], the EPC pure-identity pattern URI that keeps the
//!   fields naming a *kind* of thing and wildcards the instance:
//!
//!   | scheme | class pattern | why |
//!   |---|---|---|
//!   | SSCC | `urn:epc:idpat:sscc:<CP>.*` | each SSCC is one logistic unit; the owner is the only class |
//!   | SGLN | `urn:epc:idpat:sgln:<CP>.<LocRef>.*` | one location; extensions are sub-locations |
//!   | GRAI | `urn:epc:idpat:grai:<CP>.<AssetType>.*` | asset type, as in SPEC §3's example |
//!   | GIAI | `urn:epc:idpat:giai:<CP>.*` | individual assets have no type field |
//!   | GSRN, GSRNP | `urn:epc:idpat:gsrn:<CP>.*`, `urn:epc:idpat:gsrnp:<CP>.*` | each is one service relation |
//!   | GDTI | `urn:epc:idpat:gdti:<CP>.<DocType>.*` | document type |
//!   | CPI | `urn:epc:idpat:cpi:<CP>.<PartRef>.*` | the component/part |
//!   | SGCN | `urn:epc:idpat:sgcn:<CP>.<CouponRef>.*` | the coupon |
//!   | ITIP | `urn:epc:idpat:itip:<CP>.<ItemRef>.<Piece>.<Total>.*` | one piece of a trade item |
//!   | GID | `urn:epc:idpat:gid:<Manager>.<Class>.*` | the object class is GID's class |
//!   | USDOD | `urn:epc:idpat:usdod:<CAGE>.*` | the managing entity only |
//!   | ADI | `urn:epc:idpat:adi:<CAGE>.<PartNo>.*` | the part number |
//!
//! * '+' schemes: [`Sku::Gtin`] for SGTIN+ and DSGTIN+; otherwise [`Sku::Class`], the Digital
//!   Link URI of the primary key without the value after it (`https://id.gs1.org/8003/<GRAI>`,
//!   `https://id.gs1.org/414/<GLN>`, ...): a '+' EPC does not say where its company prefix ends, so
//!   SSCC+, GSRN+, GSRNP+ and GIAI+ count each key as its own class.
//! * Everything else — `unknown`, `invalid`, and the recognised-by-name-only schemes:
//!   [`Sku::Unresolved`]. The daemon then applies its `[[sku-map]]` EPC-prefix map, else counts the
//!   tag as `unknown`.
//!
//! # URIs
//!
//! Tag URI `urn:epc:tag:<scheme>:<filter>.<fields>`, pure identity `urn:epc:id:<type>:<fields>`;
//! fixed-width fields keep their leading zeros, integers are written without them, text fields are
//! percent-escaped (`" # % & / < > ?`, TDS Table A-1). EPCs without a decoded identity have only the
//! raw URI `urn:epc:raw:<bits>.x<HEX>`.

mod aidc_value;
mod bits;
mod chars;
mod decoded;
mod digital_link;
mod digits;
mod emit;
mod error;
mod gs1_epc;
mod gtin;
mod header;
mod layout;
mod parse;
mod partition;
mod plus;
mod plus_layout;
mod read_length;
mod sgtin;
mod sku;
mod uri;
mod validate;

pub use chars::{escape, is_gs1_char};
pub use decoded::{decode, Decoded, Kind, ReportValue};
pub use digits::Digits;
pub use error::{DecodeError, FieldError};
pub use gs1_epc::Gs1Epc;
pub use gtin::{Gtin14, GtinParseError};
pub use header::Scheme;
pub use plus::{PlusEpc, PlusFields, PlusText};
pub use read_length::{check_read_length, pc_epc_bits, IncompleteEpc};
pub use sgtin::{Sgtin96, SGTIN_96_BITS, SGTIN_96_MAX_SERIAL};
pub use sku::{sku, Sku};
pub use uri::raw_uri;
