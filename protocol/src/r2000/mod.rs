//! Impinj R2000 "0xA0" serial protocol: frames, checksum, inventory commands, tag records and round summaries.
//!
//! Layers, bottom up: [`checksum`]; the checked [`Frame`] view and [`encode_frame`]; the
//! streaming [`Deframer`] (resynchronising, bounded, counting drops); typed [`Command`]s
//! (host→reader) and [`Reply`]s (reader→host), both directions encodable and decodable so the
//! driver and the emulator share one definition. Facts and sources: `shared/reference/protocols.md`
//! §2.5 and the vendor SDK's Java port in xinxinyun/wms (`CMD`, `ERROR`, `ReaderBase`,
//! `ReaderHelper`).

mod checksum;
mod command;
mod command_code;
mod deframer;
mod error;
mod error_code;
mod frame;
mod reply;
mod round_summary;
mod tag_record;

pub use checksum::checksum;
pub use command::{AntennaStay, Command, FastSwitchPlan};
pub use command_code::CommandCode;
pub use deframer::{Deframer, DeframerStats, R2000Format};
pub use error::{DecodeError, EncodeError, FrameError};
pub use error_code::ErrorCode;
pub use frame::{
    encode_frame, Frame, BROADCAST_ADDRESS, HEADER, MAX_DATA_LEN, MAX_FRAME_LEN, MIN_LEN, OVERHEAD,
};
pub use reply::Reply;
pub use round_summary::{FastSwitchSummary, InventoryRoundSummary};
pub use tag_record::TagRecord;
