//! Impinj R2000 "0xA0" serial protocol: frames, checksum, inventory commands, tag records and round summaries.
