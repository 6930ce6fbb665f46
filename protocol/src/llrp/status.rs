//! LLRPStatus [287] with FieldError [288] and nested ParameterError [289]: how a reader says no.
//!
//! Layouts verified against the LTK `llrp-1x0-def.xml` (LLRP 1.0.1 §16.2.8.1); status code 112
//! M_UnexpectedMessage is LLRP 1.1 §14.

use core::fmt;

use super::cursor::{put_tlv, put_u16, put_utf8v, Reader};
use super::error::{DecodeError, EncodeError};
use super::param::for_each_tlv;
use super::types::tlv;

wire_enum! {
    /// LLRP status codes (LLRP 1.0.1 §14.2.1). The prefix says where the error is: M_ message,
    /// P_ parameter, A_ field value, R_ reader device.
    pub enum StatusCode(u16) {
        MSuccess = 0,
        MParameterError = 100,
        MFieldError = 101,
        MUnexpectedParameter = 102,
        MMissingParameter = 103,
        MDuplicateParameter = 104,
        MOverflowParameter = 105,
        MOverflowField = 106,
        MUnknownParameter = 107,
        MUnknownField = 108,
        MUnsupportedMessage = 109,
        MUnsupportedVersion = 110,
        MUnsupportedParameter = 111,
        MUnexpectedMessage = 112,
        PParameterError = 200,
        PFieldError = 201,
        PUnexpectedParameter = 202,
        PMissingParameter = 203,
        PDuplicateParameter = 204,
        POverflowParameter = 205,
        POverflowField = 206,
        PUnknownParameter = 207,
        PUnknownField = 208,
        PUnsupportedParameter = 209,
        AInvalid = 300,
        AOutOfRange = 301,
        RDeviceError = 401,
    }
}

impl StatusCode {
    /// The name the LLRP standard gives the code.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            StatusCode::MSuccess => "M_Success",
            StatusCode::MParameterError => "M_ParameterError",
            StatusCode::MFieldError => "M_FieldError",
            StatusCode::MUnexpectedParameter => "M_UnexpectedParameter",
            StatusCode::MMissingParameter => "M_MissingParameter",
            StatusCode::MDuplicateParameter => "M_DuplicateParameter",
            StatusCode::MOverflowParameter => "M_OverflowParameter",
            StatusCode::MOverflowField => "M_OverflowField",
            StatusCode::MUnknownParameter => "M_UnknownParameter",
            StatusCode::MUnknownField => "M_UnknownField",
            StatusCode::MUnsupportedMessage => "M_UnsupportedMessage",
            StatusCode::MUnsupportedVersion => "M_UnsupportedVersion",
            StatusCode::MUnsupportedParameter => "M_UnsupportedParameter",
            StatusCode::MUnexpectedMessage => "M_UnexpectedMessage",
            StatusCode::PParameterError => "P_ParameterError",
            StatusCode::PFieldError => "P_FieldError",
            StatusCode::PUnexpectedParameter => "P_UnexpectedParameter",
            StatusCode::PMissingParameter => "P_MissingParameter",
            StatusCode::PDuplicateParameter => "P_DuplicateParameter",
            StatusCode::POverflowParameter => "P_OverflowParameter",
            StatusCode::POverflowField => "P_OverflowField",
            StatusCode::PUnknownParameter => "P_UnknownParameter",
            StatusCode::PUnknownField => "P_UnknownField",
            StatusCode::PUnsupportedParameter => "P_UnsupportedParameter",
            StatusCode::AInvalid => "A_Invalid",
            StatusCode::AOutOfRange => "A_OutOfRange",
            StatusCode::RDeviceError => "R_DeviceError",
            StatusCode::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "status {}", u16::from(*self)),
        }
    }
}

/// Deepest ParameterError chain accepted. Real readers nest two or three levels (ROSpec → AISpec
/// → field); the bound keeps a hostile frame from recursing the stack away.
pub const MAX_ERROR_NESTING: usize = 16;

/// Which field of a message or parameter was wrong (fields numbered from 0 in wire order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldError {
    pub field_num: u16,
    pub code: StatusCode,
}

/// Which parameter was wrong, optionally narrowed down to a field or a nested parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParameterError {
    pub parameter_type: u16,
    pub code: StatusCode,
    pub field_error: Option<FieldError>,
    pub parameter_error: Option<Box<ParameterError>>,
}

/// The status every response carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LlrpStatus {
    pub code: StatusCode,
    pub description: String,
    pub field_error: Option<FieldError>,
    pub parameter_error: Option<ParameterError>,
}

impl LlrpStatus {
    /// A bare success status.
    pub fn success() -> Self {
        LlrpStatus::new(StatusCode::MSuccess, "")
    }

    pub fn new(code: StatusCode, description: &str) -> Self {
        LlrpStatus {
            code,
            description: description.to_owned(),
            field_error: None,
            parameter_error: None,
        }
    }

    #[inline]
    pub fn is_success(&self) -> bool {
        self.code == StatusCode::MSuccess
    }

    /// Parses the body of an LLRPStatus TLV.
    pub fn parse(body: &[u8]) -> Result<LlrpStatus, DecodeError> {
        let mut r = Reader::new(body, "llrp status");
        let code = StatusCode::from(r.u16()?);
        let description = r.utf8v()?;
        let (field_error, parameter_error) = parse_error_details(r.rest(), 0)?;
        Ok(LlrpStatus {
            code,
            description,
            field_error,
            parameter_error: parameter_error.map(|boxed| *boxed),
        })
    }

    /// Writes the whole LLRPStatus TLV.
    pub fn emit(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_tlv(out, tlv::LLRP_STATUS, |out| {
            put_u16(out, self.code.into());
            put_utf8v(out, &self.description, "status description")?;
            emit_error_details(
                out,
                self.field_error.as_ref(),
                self.parameter_error.as_ref(),
            )
        })
    }
}

type ErrorDetails = (Option<FieldError>, Option<Box<ParameterError>>);

/// The optional FieldError and ParameterError sub-parameters shared by LLRPStatus and
/// ParameterError. The last of each wins; anything else is skipped.
fn parse_error_details(body: &[u8], depth: usize) -> Result<ErrorDetails, DecodeError> {
    let mut field_error = None;
    let mut parameter_error = None;
    for_each_tlv(body, |param_type, body| {
        match param_type {
            tlv::FIELD_ERROR => {
                let mut r = Reader::new(body, "field error");
                field_error = Some(FieldError {
                    field_num: r.u16()?,
                    code: StatusCode::from(r.u16()?),
                });
            }
            tlv::PARAMETER_ERROR => {
                if depth >= MAX_ERROR_NESTING {
                    return Err(DecodeError::NestingTooDeep {
                        max: MAX_ERROR_NESTING,
                    });
                }
                let mut r = Reader::new(body, "parameter error");
                let parameter_type = r.u16()?;
                let code = StatusCode::from(r.u16()?);
                let (inner_field, inner_param) = parse_error_details(r.rest(), depth + 1)?;
                parameter_error = Some(Box::new(ParameterError {
                    parameter_type,
                    code,
                    field_error: inner_field,
                    parameter_error: inner_param,
                }));
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok((field_error, parameter_error))
}

fn emit_error_details(
    out: &mut Vec<u8>,
    field_error: Option<&FieldError>,
    parameter_error: Option<&ParameterError>,
) -> Result<(), EncodeError> {
    if let Some(fe) = field_error {
        put_tlv(out, tlv::FIELD_ERROR, |out| {
            put_u16(out, fe.field_num);
            put_u16(out, fe.code.into());
            Ok(())
        })?;
    }
    if let Some(pe) = parameter_error {
        put_tlv(out, tlv::PARAMETER_ERROR, |out| {
            put_u16(out, pe.parameter_type);
            put_u16(out, pe.code.into());
            emit_error_details(out, pe.field_error.as_ref(), pe.parameter_error.as_deref())
        })?;
    }
    Ok(())
}

/// `M_ParameterError: bad antenna (parameter 177 parameter 183 field 3)`: the code, the reader's
/// text, then the path to the culprit, outermost first.
impl fmt::Display for LlrpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.description.is_empty() {
            write!(f, ": {}", crate::text::Escaped(&self.description))?;
        }
        let mut path = Vec::new();
        let mut innermost_field = self.field_error;
        let mut next = self.parameter_error.as_ref();
        while let Some(pe) = next {
            path.push(format!("parameter {}", pe.parameter_type));
            innermost_field = pe.field_error;
            next = pe.parameter_error.as_deref();
        }
        if let Some(fe) = innermost_field {
            path.push(format!("field {}", fe.field_num));
        }
        if !path.is_empty() {
            write!(f, " ({})", path.join(" "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_path_to_the_culprit() {
        let status = LlrpStatus {
            code: StatusCode::MParameterError,
            description: "invalid antenna".into(),
            field_error: None,
            parameter_error: Some(ParameterError {
                parameter_type: 177,
                code: StatusCode::PFieldError,
                field_error: Some(FieldError {
                    field_num: 3,
                    code: StatusCode::AOutOfRange,
                }),
                parameter_error: None,
            }),
        };
        assert_eq!(
            status.to_string(),
            "M_ParameterError: invalid antenna (parameter 177 field 3)"
        );
        let field_only = LlrpStatus {
            field_error: Some(FieldError {
                field_num: 1,
                code: StatusCode::AInvalid,
            }),
            ..LlrpStatus::new(StatusCode::MFieldError, "")
        };
        assert_eq!(field_only.to_string(), "M_FieldError (field 1)");
        assert_eq!(
            LlrpStatus::new(StatusCode::Unknown(999), "odd").to_string(),
            "status 999: odd"
        );
    }

    #[test]
    fn nesting_is_bounded() {
        // ParameterError chains 100 deep: refused, no stack exhaustion.
        let mut inner: Vec<u8> = Vec::new();
        for _ in 0..100 {
            let mut outer = Vec::new();
            outer.extend_from_slice(&tlv::PARAMETER_ERROR.to_be_bytes());
            outer.extend_from_slice(&((8 + inner.len()) as u16).to_be_bytes());
            outer.extend_from_slice(&[0, 177, 0, 200]);
            outer.extend_from_slice(&inner);
            inner = outer;
        }
        let mut body = vec![0, 100, 0, 0];
        body.extend_from_slice(&inner);
        assert_eq!(
            LlrpStatus::parse(&body),
            Err(DecodeError::NestingTooDeep {
                max: MAX_ERROR_NESTING
            })
        );
    }
}
