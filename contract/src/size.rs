//! How big an MQTT PUBLISH gets, and the greedy packing that keeps every message within a bound.
//!
//! A bound is on the whole PUBLISH packet (fixed header, topic, packet id, MQTT 5 properties and
//! payload): that is what a broker's `max_packet_size` and MQTT 5's Maximum Packet Size limit, and
//! it is also safe for brokers that limit only the payload (AWS IoT's 128 KB).

use std::ops::Range;

/// Smallest packet bound the contract works with: one (zone, SKU) pair with the longest names the
/// config allows, its envelope and topic always fit.
pub const MIN_PACKET_BYTES: usize = 2048;

/// Bytes of a QoS 1 PUBLISH packet with this topic and payload length (no MQTT 5 properties
/// beyond their empty length byte).
pub fn publish_packet_len(topic_len: usize, payload_len: usize, v5: bool) -> usize {
    let remaining = 2 + topic_len + 2 + usize::from(v5) + payload_len;
    1 + varint_len(remaining) + remaining
}

/// The largest payload whose QoS 1 PUBLISH on a topic of `topic_len` bytes fits `packet_limit`
/// (0 when not even an empty one does).
pub fn max_payload(packet_limit: usize, topic_len: usize, v5: bool) -> usize {
    let fixed = 2 + topic_len + 2 + usize::from(v5);
    // The remaining-length field is at most 4 bytes; try the shorter encodings first.
    (1..=4)
        .filter_map(|varint| {
            let payload = packet_limit.checked_sub(1 + varint + fixed)?;
            (varint_len(fixed + payload) <= varint).then_some(payload)
        })
        .max()
        .unwrap_or(0)
}

fn varint_len(n: usize) -> usize {
    match n {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Splits items of the given encoded sizes into consecutive runs, each run's `overhead` plus its
/// items plus one separator between items at most `budget`. An item too large to fit even alone
/// gets a run of its own (the caller decides what an oversize message means). Never returns an
/// empty run; no items give no runs.
pub fn pack(item_sizes: &[usize], overhead: usize, budget: usize) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut used = overhead;
    for (i, &size) in item_sizes.iter().enumerate() {
        let extra = if i == start { size } else { size + 1 };
        if i > start && used + extra > budget {
            runs.push(start..i);
            start = i;
            used = overhead + size;
        } else {
            used += extra;
        }
    }
    if start < item_sizes.len() {
        runs.push(start..item_sizes.len());
    }
    runs
}

/// Encodes `items` as one message, or, when that is over `max_payload` bytes, as parts of at most
/// `max_payload` each (part 1 first); `encode(part, parts, items)` makes one message. Always at
/// least one part; an item too large to fit even alone goes in a part of its own.
pub fn encode_in_parts<T: serde::Serialize>(
    items: &[T],
    max_payload: usize,
    encode: impl Fn(u32, u32, &[T]) -> Vec<u8>,
) -> Vec<Vec<u8>> {
    let whole = encode(1, 1, items);
    if whole.len() <= max_payload || items.len() <= 1 {
        return vec![whole];
    }
    let overhead = encode(u32::MAX, u32::MAX, &[]).len();
    let sizes: Vec<usize> = items
        .iter()
        .map(|item| serde_json::to_vec(item).map_or(0, |b| b.len()))
        .collect();
    let runs = pack(&sizes, overhead, max_payload);
    let parts = u32::try_from(runs.len()).unwrap_or(u32::MAX);
    runs.into_iter()
        .zip(1..)
        .map(|(run, k)| encode(k, parts, &items[run]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_lengths() {
        // 1 fixed + 1 varint + 2 topic len + 5 topic + 2 pkid + 10 payload.
        assert_eq!(publish_packet_len(5, 10, false), 21);
        assert_eq!(publish_packet_len(5, 10, true), 22);
        // 127 remaining bytes fit one varint byte, 128 need two.
        assert_eq!(publish_packet_len(0, 123, false), 1 + 1 + 127);
        assert_eq!(publish_packet_len(0, 124, false), 1 + 2 + 128);
    }

    #[test]
    fn max_payload_is_exact() {
        for limit in [128, 129, 130, 131, 4096, 16_386, 131_072, 2_097_160] {
            for v5 in [false, true] {
                let p = max_payload(limit, 25, v5);
                assert!(publish_packet_len(25, p, v5) <= limit, "{limit} {v5}");
                assert!(publish_packet_len(25, p + 1, v5) > limit, "{limit} {v5}");
            }
        }
        assert_eq!(max_payload(10, 25, false), 0);
    }

    #[test]
    fn packing() {
        assert!(pack(&[], 10, 100).is_empty());
        // 10 + 30 + 31 + 31 = 102 > 100: the third item starts a new run.
        assert_eq!(pack(&[30, 30, 30], 10, 100), [0..2, 2..3]);
        assert_eq!(pack(&[30, 30, 30], 10, 102), vec![(0..3)]);
        // An oversize item stands alone.
        assert_eq!(pack(&[5, 500, 5], 10, 100), [0..1, 1..2, 2..3]);
    }
}
