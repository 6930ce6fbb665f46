//! GS1 EPC Tag Data Standard decoding: headers, SGTIN/SSCC/SGLN/GRAI/GIAI/GID/GDTI/GSRN, URIs and the SKU rule.
//!
//! Two entry points:
//!
//! * [`sku`] — what a tag counts as (SPEC §3). On the first-sighting path: for SGTIN-96 it reads
//!   one 96-bit word, checks the partition and digit counts and computes the GTIN-14 without touching
//!   the heap.
//! * [`decode`] — everything about an EPC for people and tools (`tagtally epc decode`): scheme,
//!   fields, GTIN, tag URI, pure-identity URI, raw URI, and a reason when it is invalid.
//!
//! `sku(epc) == decode(epc).sku()` for every input; the fuzz target checks it.
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
//! | SGTIN-96, SGTIN-198, SSCC-96, SGLN-96, GRAI-96, GIAI-96, GID-96, GDTI-96, GSRN-96 | [`Kind::Gs1`]: fields and URIs, or [`Kind::Invalid`] |
//! | every other header of TDS 2.3 (`sgtin+`, `dsgtin+`, `grai-170`, `usdod-96`, ...) | [`Kind::Recognised`]: the scheme name and the raw URI |
//! | anything else (`E280…` factory defaults, proprietary EPCs, empty input) | [`Kind::Unknown`]: the raw URI |
//!
//! `invalid` means the header names a decoded scheme but the bits are not a valid encoding of it:
//! partition 7, a company prefix or reference with more digits than its partition allows, fewer bits
//! than the scheme needs, or an SGTIN-198 serial that is empty, holds a character outside GS1 set 82,
//! or has characters after its terminating zero. An invalid SGTIN never yields a GTIN.
//!
//! Tolerated, not invalid: bits beyond a scheme's length (96-bit schemes in a longer EPC bank,
//! SGTIN-198's padding to 208 bits) and the 24 reserved bits of SSCC-96 and GSRN-96.
//!
//! # The SKU rule ([`Sku`])
//!
//! * SGTIN-96 and SGTIN-198: [`Sku::Gtin`], the GTIN-14 (indicator digit + company prefix + item
//!   reference + check digit). Serial and filter do not matter.
//! * Other decoded GS1 schemes: [`Sku::Class`], the EPC pure-identity pattern URI that keeps the
//!   fields naming a *kind* of thing and wildcards the instance:
//!
//!   | scheme | class pattern | why |
//!   |---|---|---|
//!   | SSCC-96 | `urn:epc:idpat:sscc:<CP>.*` | each SSCC is one logistic unit; the owner is the only class |
//!   | SGLN-96 | `urn:epc:idpat:sgln:<CP>.<LocRef>.*` | one location; extensions are sub-locations |
//!   | GRAI-96 | `urn:epc:idpat:grai:<CP>.<AssetType>.*` | asset type, as in SPEC §3's example |
//!   | GIAI-96 | `urn:epc:idpat:giai:<CP>.*` | individual assets have no type field |
//!   | GID-96 | `urn:epc:idpat:gid:<Manager>.<Class>.*` | the object class is GID's class |
//!   | GDTI-96 | `urn:epc:idpat:gdti:<CP>.<DocType>.*` | document type |
//!   | GSRN-96 | `urn:epc:idpat:gsrn:<CP>.*` | each GSRN is one service relation |
//!
//! * Everything else — `unknown`, `invalid`, and the recognised-by-name-only schemes (SGTIN+,
//!   DSGTIN+, SGTIN++, GRAI-170, GIAI-202, SGLN-195, GDTI-113/174, SGCN-96, CPI, ITIP, GSRNP,
//!   USDOD, ADI and every '+'/'++' form): [`Sku::Unresolved`]. The daemon then applies its
//!   `[[sku-map]]` EPC-prefix map, else counts the tag as `unknown`. Guessing a class for a scheme
//!   whose fields we do not decode would merge different items into one SKU; an operator who uses,
//!   say, SGTIN+ tags can map their prefixes explicitly.
//!
//! # URIs
//!
//! Tag URI `urn:epc:tag:<scheme>:<filter>.<fields>`, pure identity `urn:epc:id:<type>:<fields>`;
//! fixed-width fields keep their leading zeros, serials and other integers are written without them,
//! SGTIN-198 serials are percent-escaped (`" % & / < > ?`, TDS Table A-1). EPCs without a decoded
//! identity have only the raw URI `urn:epc:raw:<bits>.x<HEX>`.

mod bits;
mod decoded;
mod digits;
mod error;
mod gtin;
mod header;
mod identity;
mod partition;
mod read_length;
mod schemes;
mod sgtin;
mod sku;
mod uri;

pub use decoded::{decode, Decoded, Epc, Kind, ReportValue};
pub use digits::Digits;
pub use error::DecodeError;
pub use gtin::{Gtin14, GtinParseError};
pub use header::Scheme;
pub use identity::Gs1Identity;
pub use read_length::{check_read_length, pc_epc_bits, IncompleteEpc};
pub use schemes::{Gdti96, Giai96, Gid96, Grai96, Gsrn96, Sgln96, Sscc96};
pub use sgtin::{Sgtin198, Sgtin96, SGTIN_198_BITS, SGTIN_96_BITS};
pub use sku::{sku, Sku};
pub use uri::{escape, is_gs1_char, raw_uri};
