//! R2000 streaming deframer: partial input, junk, corruption, bad lengths and false headers.

mod common;

use tagtally_protocol::r2000::{Deframer, DeframerStats};

fn tag_frame() -> Vec<u8> {
    common::load_frame("r2000", "rsp_tag_record")
}

fn summary_frame() -> Vec<u8> {
    common::load_frame("r2000", "rsp_round_end_summary")
}

fn frames_of(deframer: &mut Deframer, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    deframer.feed(bytes, |frame| frames.push(frame.as_bytes().to_vec()));
    frames
}

#[test]
fn empty_buffer_yields_nothing() {
    let mut deframer = Deframer::new(1024);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.stats(), DeframerStats::default());
}

#[test]
fn one_header_byte_waits() {
    let mut deframer = Deframer::new(1024);
    assert_eq!(deframer.push(&[0xA0]), 1);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.buffered(), 1);
}

#[test]
fn partial_frame_is_left_untouched_until_complete() {
    let frame = tag_frame();
    let mut deframer = Deframer::new(1024);
    assert_eq!(deframer.push(&frame[..10]), 10);
    assert!(deframer.next_frame().is_none());
    assert_eq!(deframer.buffered(), 10);
    assert_eq!(deframer.stats(), DeframerStats::default());
    assert_eq!(frames_of(&mut deframer, &frame[10..]), vec![frame]);
}

#[test]
fn leading_garbage_is_dropped_and_counted() {
    let mut deframer = Deframer::new(1024);
    let stream = [&[0x01, 0x02, 0x03, 0x04][..], &tag_frame()].concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![tag_frame()]);
    assert_eq!(deframer.stats().bytes_discarded, 4);
    assert_eq!(deframer.stats().resyncs, 1);
}

#[test]
fn garbage_between_frames_is_dropped() {
    let mut deframer = Deframer::new(1024);
    let stream = [tag_frame(), vec![0x55; 6], summary_frame()].concat();
    assert_eq!(
        frames_of(&mut deframer, &stream),
        vec![tag_frame(), summary_frame()]
    );
    assert_eq!(deframer.stats().bytes_discarded, 6);
}

#[test]
fn a_corrupted_frame_is_dropped_and_the_next_delivered() {
    let mut corrupted = tag_frame();
    corrupted[8] ^= 0x40;
    let mut deframer = Deframer::new(1024);
    let stream = [corrupted.clone(), summary_frame()].concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![summary_frame()]);
    assert!(deframer.stats().bad_checksum >= 1);
    assert_eq!(deframer.stats().bytes_discarded, corrupted.len() as u64);
}

#[test]
fn a_length_below_three_is_a_bad_length() {
    let mut deframer = Deframer::new(1024);
    let stream = [&[0xA0, 0x02][..], &summary_frame()].concat();
    assert_eq!(frames_of(&mut deframer, &stream), vec![summary_frame()]);
    assert_eq!(deframer.stats().bad_length, 1);
    assert_eq!(deframer.stats().bytes_discarded, 2);
}

#[test]
fn a_false_header_whose_length_reaches_past_the_junk_is_given_up_once_the_line_is_idle() {
    // "A0 F0" claims a 242-byte frame; the two real frames behind it are complete.
    let mut deframer = Deframer::new(1024);
    let stream = [&[0xA0, 0xF0][..], &tag_frame(), &summary_frame()].concat();
    assert!(
        frames_of(&mut deframer, &stream).is_empty(),
        "more bytes may still complete it"
    );
    deframer.on_idle();
    assert_eq!(
        frames_of(&mut deframer, &[]),
        vec![tag_frame(), summary_frame()]
    );
    assert_eq!(deframer.stats().abandoned_partial_frames, 1);
    assert_eq!(deframer.stats().bytes_discarded, 2);
}

#[test]
fn the_buffer_never_exceeds_capacity() {
    let mut deframer = Deframer::new(0);
    assert_eq!(deframer.capacity(), 257);
    let junk: Vec<u8> = [0xA0, 0xFF].repeat(5_000);
    let mut rest = &junk[..];
    while !rest.is_empty() {
        let taken = deframer.push(rest);
        assert!(deframer.buffered() <= deframer.capacity());
        rest = &rest[taken..];
        while deframer.next_frame().is_some() {}
    }
}

#[test]
fn a_real_frame_still_arriving_is_never_given_up_for_a_look_alike_inside_it() {
    // A tag record whose EPC contains a complete, valid version reply (A0 03 01 72 EA).
    let mut frame = vec![0xA0, 0x13, 0x01, 0x89, 0x8C, 0x30, 0x00];
    frame.extend_from_slice(&[0xA0, 0x03, 0x01, 0x72, 0xEA, 0, 0, 0, 0, 0, 0, 0]);
    frame.push(0x37);
    let check = tagtally_protocol::r2000::checksum(&frame);
    frame.push(check);
    let mut deframer = Deframer::new(1024);
    assert!(frames_of(&mut deframer, &frame[..14]).is_empty());
    assert_eq!(frames_of(&mut deframer, &frame[14..]), vec![frame]);
    assert_eq!(deframer.stats().bytes_discarded, 0);
}
