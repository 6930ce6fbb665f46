//! Fuzzes the ThingMagic streaming deframers (both directions): arbitrary bytes in arbitrary
//! chunks, every frame decoded, the buffer bound checked, and every decoded message re-encoded
//! and re-decoded to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtally_protocol::thingmagic::{
    Command, CommandDeframer, CommandFrame, Response, ResponseDeframer, ResponseFrame,
};

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

fn check_response(frame: ResponseFrame<'_>) {
    if let Ok(response) = Response::decode(frame) {
        let mut bytes = Vec::new();
        response
            .encode(&mut bytes)
            .expect("a decoded response re-encodes");
        let again = ResponseFrame::new_checked(&bytes).expect("re-encoded frame is well formed");
        assert_eq!(Response::decode(again), Ok(response));
    }
}

fn check_command(frame: CommandFrame<'_>) {
    let command = Command::decode(frame);
    let mut bytes = Vec::new();
    command
        .encode(&mut bytes)
        .expect("a decoded command re-encodes");
    let again = CommandFrame::new_checked(&bytes).expect("re-encoded frame is well formed");
    assert_eq!(Command::decode(again), command);
}

fuzz_target!(|data: &[u8]| {
    let (capacity, sizes, stream) = split(data);
    let mut responses = ResponseDeframer::new(capacity);
    let mut commands = CommandDeframer::new(capacity);
    let mut rest = stream;
    let mut size = sizes.iter().cycle();
    while !rest.is_empty() {
        let chunk = usize::from(*size.next().unwrap_or(&1));
        if chunk == 0 {
            responses.on_idle();
            commands.on_idle();
        }
        // A 0 marks an idle line, and still moves on by one byte: all-zero sizes must not stall.
        let (now, later) = rest.split_at(chunk.max(1).min(rest.len()));
        rest = later;
        responses.feed(now, check_response);
        commands.feed(now, check_command);
        assert!(responses.buffered() <= responses.capacity());
        assert!(commands.buffered() <= commands.capacity());
    }
    responses.on_idle();
    commands.on_idle();
    while let Some(frame) = responses.next_frame() {
        check_response(frame);
    }
    while let Some(frame) = commands.next_frame() {
        check_command(frame);
    }
    let stats = responses.stats();
    assert!(stats.bytes_discarded <= stream.len() as u64);
});
