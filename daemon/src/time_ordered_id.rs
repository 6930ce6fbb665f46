//! Time-ordered unique ids (UUIDv7, RFC 9562): new epochs and snapshot ids that sort by creation time as plain strings.

use std::time::{SystemTime, UNIX_EPOCH};

use tagtally_protocol::hex::Hex;

/// A UUIDv7 in its lower-case hyphenated form: 48 bits of Unix milliseconds, then 74 random bits.
/// Ids made in a later millisecond sort after earlier ones as strings.
pub fn time_ordered_id(now: SystemTime) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    let millis = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6] = 0x70 | (bytes[6] & 0x0f);
    bytes[8] = 0x80 | (bytes[8] & 0x3f);
    let hex = format!("{:x}", Hex(&bytes));
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ids_are_uuid_v7_and_sort_by_time() {
        let t = UNIX_EPOCH + Duration::from_millis(0x0190_a0b0_c0d0);
        let id = time_ordered_id(t).unwrap();
        assert_eq!(id.len(), 36);
        assert!(id.starts_with("0190a0b0-c0d0-7"), "{id}");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        let later = time_ordered_id(t + Duration::from_millis(1)).unwrap();
        assert!(later > id);
        assert_ne!(time_ordered_id(t).unwrap(), id);
    }
}
