//! ThingMagic (Mercury) serial protocol: frames, CRC, commands, streamed tag reads and status frames.
