//! Fuzz target: arbitrary bytes into a streaming `LlrpSession` (the reader driver's state
//! machine, not just the framer), once whole and once cut where the input says; both must end
//! alike: the same reads, the same messages sent back, the same drops, the same link fate.

#![no_main]

use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use tagtally_core::TagRead;
use tagtally_core::{DriverEvent, DriverOutput, Micros, Now, ReaderId, Session, SessionAction};
use tagtally_reader_drivers::llrp::{LlrpSession, LlrpSettings};
use tagtally_tooling::bench::handshake::bring_up;

/// What one feeding of the stream produced.
#[derive(Debug, PartialEq)]
struct Outcome {
    reads: Vec<TagRead>,
    sent: Vec<Vec<u8>>,
    frames_dropped: u64,
    link_down: Option<String>,
}

fn take(stream: &[u8], cuts: &[usize]) -> Outcome {
    let now = Now {
        instant: Instant::now(),
        utc: Micros(1_700_000_000_000_000),
    };
    let mut session = LlrpSession::new(LlrpSettings::new(ReaderId(0), "fuzz:5084"), 1, now.instant);
    bring_up(&mut session, now).expect("the session streams");
    let dropped_before = session.counters().frames_dropped;
    let mut outcome = Outcome {
        reads: Vec::new(),
        sent: Vec::new(),
        frames_dropped: 0,
        link_down: None,
    };
    let mut from = 0;
    for &cut in cuts.iter().chain([&stream.len()]) {
        session.on_bytes(now, &stream[from..cut]);
        from = cut;
        while let Some(action) = session.poll_action() {
            match action {
                SessionAction::Output(DriverOutput::Reads(batch)) => outcome.reads.extend(batch),
                SessionAction::Output(DriverOutput::Event(DriverEvent::LinkDown {
                    reason,
                    ..
                })) => {
                    assert!(outcome.link_down.is_none(), "the link went down twice");
                    outcome.link_down = Some(reason);
                }
                SessionAction::Send(bytes) => outcome.sent.push(bytes),
                _ => {}
            }
        }
    }
    outcome.frames_dropped = session.counters().frames_dropped - dropped_before;
    outcome
}

fuzz_target!(|data: &[u8]| {
    // The first byte: how many cut positions follow (two bytes each, taken modulo the stream's
    // length); the rest is the stream.
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 16);
    let Some((plan, stream)) = rest.split_at_checked(2 * count) else {
        return;
    };
    if stream.is_empty() {
        return;
    }
    let mut cuts: Vec<usize> = plan
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])) % stream.len())
        .filter(|&cut| cut > 0)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let whole = take(stream, &[]);
    for read in &whole.reads {
        assert!(
            !read.epc.as_bytes().is_empty(),
            "a read without an EPC was delivered"
        );
    }
    assert_eq!(take(stream, &cuts), whole, "cuts {cuts:?}");
});
