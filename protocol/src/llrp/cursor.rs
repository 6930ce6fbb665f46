//! Bounds-checked big-endian reading and writing: every wire access in the LLRP module goes through here.

use super::error::{DecodeError, EncodeError};

/// A read position over a byte slice; every read is checked and fails with `Truncated`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// What is being read, for the error message.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, pos: 0, what }
    }

    fn truncated(&self, needed: usize) -> DecodeError {
        DecodeError::Truncated {
            what: self.what,
            needed,
            available: self.remaining_len(),
        }
    }

    #[inline]
    pub(crate) fn remaining_len(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The unread rest, without consuming it.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    #[inline]
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated(n))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.truncated(n))?;
        self.pos = end;
        Ok(out)
    }

    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    #[inline]
    pub(crate) fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    #[inline]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    #[inline]
    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// An LLRP `utf8v` field: u16 byte count then that many bytes. Invalid UTF-8 is replaced,
    /// not fatal: a reader's garbled error text must not hide the status code next to it.
    pub(crate) fn utf8v(&mut self) -> Result<String, DecodeError> {
        let len = self.u16()?;
        let bytes = self.bytes(usize::from(len))?;
        Ok(String::from_utf8_lossy(bytes).into_owned())
    }

    /// An LLRP `u16v` field: u16 count then that many u16 values.
    pub(crate) fn u16v(&mut self) -> Result<Vec<u16>, DecodeError> {
        let count = usize::from(self.u16()?);
        let bytes = self.bytes(count.saturating_mul(2))?;
        Ok(bytes
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect())
    }
}

#[inline]
pub(crate) fn put_u8(out: &mut Vec<u8>, value: u8) {
    out.push(value);
}

#[inline]
pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn put_i16(out: &mut Vec<u8>, value: i16) {
    out.extend_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

#[inline]
pub(crate) fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// A count or byte length that must fit the u16 the wire gives it.
pub(crate) fn u16_len(len: usize, what: &'static str) -> Result<u16, EncodeError> {
    u16::try_from(len).map_err(|_| EncodeError::TooLong {
        what,
        len,
        max: usize::from(u16::MAX),
    })
}

/// Writes an LLRP `utf8v` field.
pub(crate) fn put_utf8v(
    out: &mut Vec<u8>,
    text: &str,
    what: &'static str,
) -> Result<(), EncodeError> {
    put_u16(out, u16_len(text.len(), what)?);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Writes an LLRP `u16v` field.
pub(crate) fn put_u16v(
    out: &mut Vec<u8>,
    values: &[u16],
    what: &'static str,
) -> Result<(), EncodeError> {
    put_u16(out, u16_len(values.len(), what)?);
    for value in values {
        put_u16(out, *value);
    }
    Ok(())
}

/// Writes a TLV parameter: header with a placeholder length, the body from `body`, then the real
/// length patched in. Fails, leaving `out` as it was, when the parameter outgrows its u16 length.
pub(crate) fn put_tlv(
    out: &mut Vec<u8>,
    param_type: u16,
    body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let start = out.len();
    put_u16(out, param_type & 0x03FF);
    put_u16(out, 0);
    if let Err(e) = body(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start;
    let Ok(len16) = u16::try_from(len) else {
        out.truncate(start);
        return Err(EncodeError::TooLong {
            what: "tlv parameter",
            len,
            max: usize::from(u16::MAX),
        });
    };
    if let Some(slot) = out.get_mut(start + 2..start + 4) {
        slot.copy_from_slice(&len16.to_be_bytes());
    }
    Ok(())
}

/// Writes a TV parameter: the type with its high bit set, then the fixed-size value.
#[inline]
pub(crate) fn put_tv(out: &mut Vec<u8>, tv_type: u8, value: &[u8]) {
    out.push(0x80 | tv_type);
    out.extend_from_slice(value);
}
