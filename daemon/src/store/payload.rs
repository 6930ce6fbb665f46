//! The delta messages the store commits (SPEC §6.1), through the contract crate: serialised once at commit, split over consecutive seqs when one flush would not fit the size bound, and re-sent byte-identical.

use std::borrow::Cow;

use tagtally_contract::time::rfc3339_from_micros;
use tagtally_contract::{encode_delta_split, DeltaChange};
use tagtally_reader_drivers::Micros;

use crate::engine::CountChange;

/// The delta payloads of one flush, for seqs `first_seq`, `first_seq + 1`, ...: one unless the
/// changes do not fit `max_payload` bytes together.
pub fn delta_payloads(
    store: &str,
    epoch: &str,
    first_seq: u64,
    time: Micros,
    changes: &[CountChange],
    max_payload: usize,
) -> Vec<Vec<u8>> {
    let changes: Vec<DeltaChange<'_>> = changes
        .iter()
        .map(|c| DeltaChange {
            zone: Cow::Borrowed(&c.zone),
            sku: Cow::Borrowed(&c.sku),
            delta: c.delta,
            count: c.count,
        })
        .collect();
    let time = rfc3339_from_micros(time.0);
    encode_delta_split(store, epoch, first_seq, &time, &changes, max_payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn delta_message_has_the_spec_shape() {
        let changes = [CountChange {
            zone: Arc::from("floor"),
            sku: Arc::from("80614141123458"),
            delta: -1,
            count: 4,
        }];
        let json = delta_payloads("paris-01", "e1", 7, Micros(0), &changes, 1 << 20);
        assert_eq!(
            String::from_utf8(json[0].clone()).unwrap(),
            r#"{"schema":"tagtally.delta/1","store":"paris-01","epoch":"e1","seq":7,"time":"1970-01-01T00:00:00.000Z","changes":[{"zone":"floor","sku":"80614141123458","delta":-1,"count":4}]}"#
        );
        assert_eq!(json.len(), 1);
    }
}
