//! The GS1 Digital Link URI of an EPC (`https://id.gs1.org/01/<GTIN>/21/<serial>`, ...): the form
//! EPCIS 2.0 event hashes (CBV 2.0 §8.9) compare identifiers in, for every scheme that has a GS1 key.

use super::chars::escape;
use super::gs1_epc::Gs1Epc;

/// The host of canonical GS1 Digital Link URIs.
const GS1_RESOLVER: &str = "https://id.gs1.org";

/// The GS1 mod-10 check digit of a digit string of any length: weights 3, 1, 3, ... from the right.
pub(crate) fn mod10_check_digit(digits: &str) -> char {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d.wrapping_sub(b'0')) * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// `digits` followed by their check digit.
fn with_check(digits: &str) -> String {
    let mut key = digits.to_owned();
    key.push(mod10_check_digit(digits));
    key
}

/// A text field as a Digital Link path segment: the EPC URI escapes, then the characters GS1 Digital
/// Link also reserves (`! ( ) * + , :`, Digital Link Table 7-1).
pub(crate) fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in escape(text).chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            other => out.push(other),
        }
    }
    out
}

impl Gs1Epc {
    /// The canonical GS1 Digital Link URI of the identity, or `None` for the schemes without a GS1
    /// key (GID, USDOD, ADI).
    pub fn digital_link(&self) -> Option<String> {
        let f = self.values();
        let field = |i: usize| f.get(i).map(String::as_str).unwrap_or_default();
        let (cp, reference) = (field(0), field(1));
        let path = match self.scheme().identity_type() {
            "sgtin" => format!("01/{}/21/{}", self.gtin()?, segment(field(2))),
            "itip" => {
                let gtin = body_with_indicator(cp, reference);
                format!(
                    "8006/{}{}{}/21/{}",
                    with_check(&gtin),
                    field(2),
                    field(3),
                    segment(field(4))
                )
            }
            "sscc" => format!("00/{}", with_check(&body_with_indicator(cp, reference))),
            "sgln" => {
                let gln = with_check(&format!("{cp}{reference}"));
                match field(2) {
                    "0" => format!("414/{gln}"),
                    extension => format!("414/{gln}/254/{}", segment(extension)),
                }
            }
            "grai" => format!(
                "8003/{}{}",
                with_check(&format!("0{cp}{reference}")),
                segment(field(2))
            ),
            "giai" => format!("8004/{cp}{}", segment(reference)),
            "gsrn" => format!("8018/{}", with_check(&format!("{cp}{reference}"))),
            "gsrnp" => format!("8017/{}", with_check(&format!("{cp}{reference}"))),
            "gdti" => format!(
                "253/{}{}",
                with_check(&format!("{cp}{reference}")),
                segment(field(2))
            ),
            "sgcn" => format!(
                "255/{}{}",
                with_check(&format!("{cp}{reference}")),
                field(2)
            ),
            "cpi" => format!(
                "8010/{}/8011/{}",
                segment(&format!("{cp}{reference}")),
                field(2)
            ),
            _ => return None,
        };
        Some(format!("{GS1_RESOLVER}/{path}"))
    }
}

/// Indicator (or extension) digit, company prefix, rest of the reference: a GTIN or SSCC body.
fn body_with_indicator(cp: &str, reference: &str) -> String {
    let (indicator, rest) = reference.split_at(reference.len().min(1));
    format!("{indicator}{cp}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digits_of_every_key_length() {
        assert_eq!(mod10_check_digit("8061414112345"), '8');
        // Values from the reference normaliser's check_digit (epcis-event-hash-generator).
        assert_eq!(mod10_check_digit("0614141000001"), '4');
        assert_eq!(mod10_check_digit("061414100001"), '2');
        assert_eq!(mod10_check_digit("00614141123456789"), '0');
        assert_eq!(mod10_check_digit(""), '0');
    }

    #[test]
    fn segments_escape_uri_and_digital_link_characters() {
        assert_eq!(segment("a/b!(x):,"), "a%2Fb%21%28x%29%3A%2C");
    }
}
