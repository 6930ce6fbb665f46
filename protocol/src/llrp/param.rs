//! Walking the TLV/TV parameters of a message or parameter body, and the generic Custom parameter.
//!
//! A TLV (`[rsvd:6][type:10] len:u16 body`) can always be skipped by its length. A TV
//! (`1|type:7 value`) has no length: only a known type can be stepped over, so an unknown TV ends
//! the walk, which the enclosing TLV's length then turns into a clean skip.

use super::cursor::{put_tlv, put_u32, Reader};
use super::error::{DecodeError, EncodeError};
use super::types::{tlv, tv_value_len};

/// One parameter found by [`Params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Param<'a> {
    /// A TLV parameter: its type and the bytes after its 4-byte header.
    Tlv { param_type: u16, body: &'a [u8] },
    /// A TV parameter of a known type: its type and fixed-size value.
    Tv { tv_type: u8, value: &'a [u8] },
    /// A TV parameter of an unknown type; nothing after it can be read. Always the last item.
    UnknownTv { tv_type: u8 },
}

/// Iterator over the parameters of a body. Yields `Err` once on a bad length or a truncated TV,
/// then ends.
#[derive(Debug, Clone)]
pub struct Params<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Params<'a> {
    #[inline]
    pub fn new(body: &'a [u8]) -> Self {
        Params {
            rest: body,
            done: false,
        }
    }

    #[inline]
    fn fail(&mut self, e: DecodeError) -> Option<Result<Param<'a>, DecodeError>> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = Result<Param<'a>, DecodeError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let &first = self.rest.first()?;
        if first & 0x80 != 0 {
            let tv_type = first & 0x7F;
            let Some(len) = tv_value_len(tv_type) else {
                self.done = true;
                return Some(Ok(Param::UnknownTv { tv_type }));
            };
            let Some(value) = self.rest.get(1..1 + len) else {
                let available = self.rest.len() - 1;
                return self.fail(DecodeError::Truncated {
                    what: "tv parameter",
                    needed: len,
                    available,
                });
            };
            self.rest = self.rest.get(1 + len..).unwrap_or(&[]);
            return Some(Ok(Param::Tv { tv_type, value }));
        }
        let Some(header) = self.rest.get(..4) else {
            let available = self.rest.len();
            return self.fail(DecodeError::Truncated {
                what: "tlv parameter header",
                needed: 4,
                available,
            });
        };
        let param_type = u16::from_be_bytes([header[0], header[1]]) & 0x03FF;
        let length = u16::from_be_bytes([header[2], header[3]]);
        let len = usize::from(length);
        if len < 4 || len > self.rest.len() {
            let available = self.rest.len();
            return self.fail(DecodeError::BadParameterLength {
                param_type,
                length,
                available,
            });
        }
        let body = self.rest.get(4..len).unwrap_or(&[]);
        self.rest = self.rest.get(len..).unwrap_or(&[]);
        Some(Ok(Param::Tlv { param_type, body }))
    }
}

/// A vendor extension (TLV 1023): vendor id, subtype and raw data, kept so nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomParameter {
    pub vendor: u32,
    pub subtype: u32,
    pub data: Vec<u8>,
}

/// A borrowed Custom parameter body split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomView<'a> {
    pub vendor: u32,
    pub subtype: u32,
    pub data: &'a [u8],
}

impl<'a> CustomView<'a> {
    /// Splits the body of a Custom TLV.
    #[inline]
    pub fn parse(body: &'a [u8]) -> Result<CustomView<'a>, DecodeError> {
        let mut r = Reader::new(body, "custom parameter");
        let vendor = r.u32()?;
        let subtype = r.u32()?;
        Ok(CustomView {
            vendor,
            subtype,
            data: r.rest(),
        })
    }
}

impl CustomParameter {
    pub fn parse(body: &[u8]) -> Result<CustomParameter, DecodeError> {
        let view = CustomView::parse(body)?;
        Ok(CustomParameter {
            vendor: view.vendor,
            subtype: view.subtype,
            data: view.data.to_vec(),
        })
    }

    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        emit_custom(out, self.vendor, self.subtype, |out| {
            out.extend_from_slice(&self.data);
            Ok(())
        })
    }
}

/// Writes a Custom TLV around `data`.
pub(crate) fn emit_custom(
    out: &mut Vec<u8>,
    vendor: u32,
    subtype: u32,
    data: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    put_tlv(out, tlv::CUSTOM, |out| {
        put_u32(out, vendor);
        put_u32(out, subtype);
        data(out)
    })
}

/// Walks `body` and hands every TLV to `on_tlv`, ignoring TVs (none are expected where this is
/// used) and stopping cleanly at an unknown TV.
pub(crate) fn for_each_tlv<'a>(
    body: &'a [u8],
    mut on_tlv: impl FnMut(u16, &'a [u8]) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    for param in Params::new(body) {
        match param? {
            Param::Tlv { param_type, body } => on_tlv(param_type, body)?,
            Param::Tv { .. } => {}
            Param::UnknownTv { .. } => break,
        }
    }
    Ok(())
}
