//! ThingMagic (Mercury) serial protocol: frames, CRC, commands, streamed tag reads and status frames.
//!
//! Layers, bottom up: [`thingmagic_crc`]; [`CommandFrame`]/[`ResponseFrame`] checked views and
//! their encoders; the streaming [`Deframer`] (resynchronising, bounded, counting drops); typed
//! [`Command`]s (host→module) and [`Response`]s (module→host), both directions encodable and
//! decodable so the driver and the emulator share one definition. Facts and sources:
//! `shared/reference/protocols.md` §2.1–2.4.

mod command;
mod crc;
mod cursor;
mod deframer;
mod error;
mod frame;
mod metadata_flags;
mod opcode;
mod region;
mod response;
mod status;
mod tag_protocol;
mod tag_read;
mod version;

pub use command::{AntennaSelection, Command, ContinuousReadPlan};
pub use crc::thingmagic_crc;
pub use deframer::{
    CommandDeframer, Deframer, DeframerStats, Direction, HostToModule, ModuleToHost,
    ResponseDeframer,
};
pub use error::{DecodeError, EncodeError, FrameError};
pub use frame::{
    encode_command, encode_response, CommandFrame, ResponseFrame, COMMAND_OVERHEAD, HEADER,
    MAX_COMMAND_FRAME_LEN, MAX_DATA_LEN, MAX_RESPONSE_FRAME_LEN, RESPONSE_OVERHEAD,
};
pub use metadata_flags::MetadataFlags;
pub use opcode::Opcode;
pub use region::Region;
pub use response::Response;
pub use status::StatusWord;
pub use tag_protocol::TagProtocol;
pub use tag_read::{
    gen2_tag_crc, AntennaPorts, EmbeddedData, Gen2Tag, TagMetadata, TagReadRecord, Xpc,
    OPTION_METADATA, PC_XI, XPC_W1_XEB,
};
pub use version::{Model, VersionInfo};
