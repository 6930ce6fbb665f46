//! Inputs the fuzzers found, kept as tests so the behaviour they pinned down stays.

use tagtally_protocol::llrp::{next_frame, EncodeError, FrameLimits, Framed, Message};

/// `llrp_stream` crash-3faff934: a capabilities response claiming 65 279 antennas decodes, but
/// cannot be re-encoded — one mandatory PerAntennaAirProtocol per antenna overflows the
/// GeneralDeviceCapabilities TLV's 16-bit length. That must be an `Err`, never a panic or a
/// truncated parameter.
#[test]
fn capabilities_with_absurd_antenna_count_refuses_to_encode() {
    // The fuzz input as found: one chunk-size byte, then the LLRP stream.
    let input = include_bytes!("fuzz_regressions/llrp_stream-3faff934.bin");
    let frame = &input[1..];
    let limits = FrameLimits::default();
    let view = match next_frame(frame, &limits) {
        Ok(Framed::Complete { message, .. }) => message,
        other => panic!("expected a whole frame, got {other:?}"),
    };
    let message = Message::decode(&view).expect("the frame the fuzzer found decodes");
    assert!(matches!(message, Message::GetReaderCapabilitiesResponse(_)));
    let mut out = Vec::new();
    let result = message.encode(view.header().version, view.header().id, &mut out);
    assert!(
        matches!(result, Err(EncodeError::TooLong { .. })),
        "expected TooLong, got {result:?}"
    );
    assert!(out.is_empty(), "out is left unchanged on error");
}
