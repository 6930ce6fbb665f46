//! Fuzzes the R2000 streaming deframer: arbitrary bytes in arbitrary chunks, every frame decoded
//! as a command and as a reply, the buffer bound checked, and every decoded message re-encoded
//! and re-decoded to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtally_protocol::r2000::{Command, Deframer, Frame, Reply};

/// The first byte picks the deframer capacity, the next 8 the chunk sizes (0 = "line idle");
/// the rest is the stream.
fn split(data: &[u8]) -> (usize, [u8; 8], &[u8]) {
    let capacity = usize::from(data.first().copied().unwrap_or(0)) * 4;
    let mut sizes = [1u8; 8];
    for (size, byte) in sizes.iter_mut().zip(data.iter().skip(1)) {
        *size = *byte;
    }
    (capacity, sizes, data.get(9..).unwrap_or(&[]))
}

fn check(frame: Frame<'_>) {
    let address = frame.address();
    if let Ok(reply) = Reply::decode(frame) {
        let mut bytes = Vec::new();
        reply
            .encode(address, &mut bytes)
            .expect("a decoded reply re-encodes");
        let again = Frame::new_checked(&bytes).expect("re-encoded frame is well formed");
        assert_eq!(Reply::decode(again), Ok(reply));
    }
    let command = Command::decode(frame);
    let mut bytes = Vec::new();
    command
        .encode(address, &mut bytes)
        .expect("a decoded command re-encodes");
    let again = Frame::new_checked(&bytes).expect("re-encoded frame is well formed");
    assert_eq!(Command::decode(again), command);
}

fuzz_target!(|data: &[u8]| {
    let (capacity, sizes, stream) = split(data);
    let mut deframer = Deframer::new(capacity);
    let mut rest = stream;
    let mut size = sizes.iter().cycle();
    while !rest.is_empty() {
        let chunk = usize::from(*size.next().unwrap_or(&1));
        if chunk == 0 {
            deframer.on_idle();
        }
        // A 0 marks an idle line, and still moves on by one byte: all-zero sizes must not stall.
        let (now, later) = rest.split_at(chunk.max(1).min(rest.len()));
        rest = later;
        deframer.feed(now, check);
        assert!(deframer.buffered() <= deframer.capacity());
    }
    deframer.on_idle();
    while let Some(frame) = deframer.next_frame() {
        check(frame);
    }
    assert!(deframer.stats().bytes_discarded <= stream.len() as u64);
});
