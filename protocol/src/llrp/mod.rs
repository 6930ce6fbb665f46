//! LLRP 1.0.1 and 1.1: incremental framing, message and parameter decoding and encoding, both client and reader side.
