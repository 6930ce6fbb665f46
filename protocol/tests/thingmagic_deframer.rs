//! ThingMagic streaming deframer: partial input, junk, corruption and false headers.

mod common;

use tagtally_protocol::thingmagic::{
    CommandDeframer, DeframerStats, Response, ResponseDeframer, StatusWord,
};

fn tag_frame() -> Vec<u8> {
    common::load_frame("thingmagic", "rsp_tag_read_built")
}

fn keep_alive() -> Vec<u8> {
    let mut out = Vec::new();
    Response::StreamStatus(StatusWord::NoTagsFound)
        .encode(&mut out)
        .unwrap();
    out
}

/// Feeds `bytes` and returns every delivered frame's bytes.
fn frames_of(deframer: &mut ResponseDeframer, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    deframer.feed(bytes, |frame| frames.push(frame.as_bytes().to_vec()));
    frames
}

#[test]
fn empty_buffer_yields_nothing() {
    let mut deframer = ResponseDeframer::new(1024);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.stats(), DeframerStats::default());
}

#[test]
fn one_header_byte_waits() {
    let mut deframer = ResponseDeframer::new(1024);
    assert_eq!(deframer.push(&[0xFF]), 1);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.buffered(), 1);
    assert_eq!(deframer.stats().bytes_discarded, 0);
}

#[test]
fn partial_frame_is_left_untouched_until_complete() {
    let frame = tag_frame();
    let mut deframer = ResponseDeframer::new(1024);
    assert_eq!(deframer.push(&frame[..20]), 20);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.buffered(), 20);
    assert_eq!(deframer.stats(), DeframerStats::default());
    assert_eq!(deframer.push(&frame[20..]), frame.len() - 20);
    assert_eq!(deframer.next_frame().unwrap().as_bytes(), &frame[..]);
    assert_eq!(deframer.buffered(), 0);
}

#[test]
fn byte_at_a_time_is_the_same_as_all_at_once() {
    let stream = [tag_frame(), keep_alive(), tag_frame()].concat();
    let mut deframer = ResponseDeframer::new(0);
    let mut frames = Vec::new();
    for byte in &stream {
        frames.extend(frames_of(&mut deframer, std::slice::from_ref(byte)));
    }
    assert_eq!(frames, vec![tag_frame(), keep_alive(), tag_frame()]);
    assert_eq!(deframer.stats().frames, 3);
}

#[test]
fn leading_garbage_is_dropped_and_counted() {
    let mut deframer = ResponseDeframer::new(1024);
    let stream = [&[0x00, 0x12, 0x34][..], &tag_frame()].concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![tag_frame()]);
    let stats = deframer.stats();
    assert_eq!(stats.bytes_discarded, 3);
    assert_eq!(stats.resyncs, 1);
    assert_eq!(stats.frames, 1);
}

#[test]
fn garbage_between_frames_is_dropped() {
    let mut deframer = ResponseDeframer::new(1024);
    let stream = [tag_frame(), vec![0xAA; 9], keep_alive()].concat();
    assert_eq!(
        frames_of(&mut deframer, &stream),
        vec![tag_frame(), keep_alive()]
    );
    assert_eq!(deframer.stats().bytes_discarded, 9);
    assert_eq!(deframer.stats().resyncs, 1);
}

#[test]
fn a_corrupted_frame_is_dropped_and_the_next_delivered() {
    let mut corrupted = tag_frame();
    corrupted[30] ^= 0x01;
    let mut deframer = ResponseDeframer::new(1024);
    let stream = [corrupted.clone(), keep_alive()].concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![keep_alive()]);
    let stats = deframer.stats();
    assert!(stats.bad_checksum >= 1);
    assert_eq!(stats.bytes_discarded, corrupted.len() as u64);
    assert_eq!(stats.frames, 1);
}

#[test]
fn a_false_header_whose_length_reaches_past_the_junk_is_given_up_once_the_line_is_idle() {
    // Junk "FF 30" claims a 55-byte frame; the real keep-alive (7 bytes) is complete behind it.
    let mut deframer = ResponseDeframer::new(1024);
    let stream = [&[0xFF, 0x30][..], &keep_alive()].concat();
    assert!(
        frames_of(&mut deframer, &stream).is_empty(),
        "more bytes may still complete it"
    );
    assert_eq!(deframer.buffered(), stream.len());
    deframer.on_idle();
    assert_eq!(frames_of(&mut deframer, &[]), vec![keep_alive()]);
    let stats = deframer.stats();
    assert_eq!(stats.abandoned_partial_frames, 1);
    assert_eq!(stats.bytes_discarded, 2);
}

#[test]
fn a_false_header_inside_a_stream_costs_only_the_junk() {
    let mut deframer = ResponseDeframer::new(1024);
    let stream = [
        tag_frame(),
        vec![0xFF, 0xC8, 0x01],
        tag_frame(),
        keep_alive(),
    ]
    .concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![tag_frame()]);
    // The stream goes on: the false 207-byte frame completes, fails its CRC, and only the junk
    // is lost.
    let more: Vec<u8> = std::iter::repeat_n(keep_alive(), 30).flatten().collect();
    let frames = frames_of(&mut deframer, &more);
    assert_eq!(frames[0], tag_frame());
    assert_eq!(frames.len(), 1 + 1 + 30);
    assert_eq!(deframer.stats().bytes_discarded, 3);
    assert_eq!(deframer.stats().bad_checksum, 1);
}

#[test]
fn the_buffer_never_exceeds_capacity() {
    let mut deframer = ResponseDeframer::new(300);
    let junk = vec![0xFF; 10_000];
    let mut rest = &junk[..];
    while !rest.is_empty() {
        let taken = deframer.push(rest);
        assert!(deframer.buffered() <= 300);
        rest = &rest[taken..];
        while deframer.next_frame().is_some() {}
    }
    assert!(
        deframer.buffered() < 262,
        "an all-0xFF stream only ever waits on one candidate"
    );
}

#[test]
fn the_emulator_side_deframes_commands() {
    let start = common::load_frame("thingmagic", "cmd_start_continuous_read");
    let stop = common::load_frame("thingmagic", "cmd_stop_continuous_read");
    let mut deframer = CommandDeframer::new(512);
    let mut seen = Vec::new();
    deframer.feed(&[&start[..], &[0x00], &stop].concat(), |frame| {
        seen.push(frame.as_bytes().to_vec())
    });
    assert_eq!(seen, vec![start, stop]);
    assert_eq!(deframer.stats().bytes_discarded, 1);
}
