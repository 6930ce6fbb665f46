//! Fuzz target: arbitrary bytes through the incremental LLRP framer in arbitrary chunks; every
//! frame is decoded, and what decodes is re-encoded and re-decoded to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tagtally_protocol::llrp::{
    next_frame, EncodeError, FrameLimits, Framed, Message, MessageView, Params, TagReports,
};

/// Small enough that the fuzzer reaches the limit check often.
const LIMITS: FrameLimits = FrameLimits {
    max_message_len: 4096,
};

fn check_frame(message: &MessageView<'_>) {
    let body = message.body();
    for report in TagReports::new(body) {
        let _ = report;
    }
    for param in Params::new(body) {
        let _ = param;
    }
    let Ok(decoded) = Message::decode(message) else {
        return;
    };
    let header = message.header();
    let mut again = Vec::new();
    match decoded.encode(header.version, header.id, &mut again) {
        Ok(()) => {}
        // The one encoder that writes more than it decoded: a capabilities response gets one
        // mandatory PerAntennaAirProtocol per antenna, so a (decodable) claim of tens of thousands
        // of antennas cannot fit a TLV. Refusing to encode that is the correct answer.
        Err(EncodeError::TooLong { .. })
            if matches!(decoded, Message::GetReaderCapabilitiesResponse(_)) =>
        {
            return
        }
        Err(e) => panic!("a decoded message re-encodes: {e}"),
    }
    let view = MessageView::new_checked(&again).expect("re-encoded message frames");
    assert_eq!(view.header(), header, "header changed on re-encoding");
    let redecoded = Message::decode(&view).expect("re-encoded message decodes");
    assert_eq!(redecoded, decoded, "decode(encode(m)) != m");
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks a chunk size so that the same stream is framed across many splits.
    let Some((&chunk_seed, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk_seed % 64) + 1;
    let mut buffer: Vec<u8> = Vec::new();
    for piece in stream.chunks(chunk) {
        buffer.extend_from_slice(piece);
        loop {
            match next_frame(&buffer, &LIMITS) {
                Ok(Framed::Complete { message, consumed }) => {
                    assert!(consumed <= LIMITS.max_message_len as usize);
                    assert_eq!(message.as_bytes().len(), consumed);
                    check_frame(&message);
                    buffer.drain(..consumed);
                }
                Ok(Framed::Incomplete { frame_len }) => {
                    if let Some(len) = frame_len {
                        assert!(len <= LIMITS.max_message_len as usize);
                    }
                    break;
                }
                // The driver drops the link here; so does the fuzz run.
                Err(_) => return,
            }
        }
        // Never more than one partial message (bounded by the limit) plus one chunk.
        assert!(buffer.len() < LIMITS.max_message_len as usize + chunk);
    }
});
