//! LLRP 1.0.1 and 1.1: incremental framing, message and parameter decoding and encoding, both client and reader side.
//!
//! Two layers, after smoltcp's wire modules:
//! * zero-copy, checked views: [`next_frame`] / [`Frames`] cut a byte stream into [`MessageView`]s,
//!   [`Params`] walks TLV/TV parameters, and [`TagReports`] iterates the TagReportData of an
//!   RO_ACCESS_REPORT without allocating (the ingest hot path);
//! * owned values ([`Message`] and the parameter structs) with `parse`/`emit`, for everything
//!   else a client or our reader emulator sends or receives.
//!
//! Nothing here reads a clock or does I/O; no input makes any function panic.

#[macro_use]
mod macros;

pub mod capabilities;
mod cursor;
pub mod error;
pub mod event;
pub mod framing;
pub mod header;
pub mod impinj;
pub mod message;
pub mod param;
pub mod reader_config;
pub mod rospec;
pub mod status;
pub mod tag_report;
pub mod types;

pub use capabilities::{
    GeneralDeviceCapabilities, ReaderCapabilities, RegulatoryCapabilities, TransmitPowerLevel,
};
pub use event::{
    AntennaEventType, ConnectionAttemptStatus, ReaderEvent, ReaderEventNotificationData,
    RoSpecEventType, Timestamp,
};
pub use message::{CapabilitiesRequest, ConfigRequest, GetReaderConfig, Message};
pub use reader_config::{
    AntennaConfiguration, C1G2InventoryCommand, C1G2RfControl, C1G2SingulationControl,
    EventNotificationState, KeepaliveSpec, KeepaliveTrigger, NotificationEventType, ReaderConfig,
    RfTransmitter,
};
pub use rospec::{
    AiSpec, AiSpecStopTrigger, AiSpecStopTriggerType, C1G2EpcMemorySelector, GpiTriggerValue,
    InventoryParameterSpec, PeriodicTriggerValue, RoBoundarySpec, RoReportSpec, RoReportTrigger,
    RoSpec, RoSpecStartTrigger, RoSpecState, RoSpecStopTrigger, StartTriggerType, StopTriggerType,
    TagObservationTrigger, TagReportContentSelector,
};

pub use error::{DecodeError, EncodeError, FrameError};
pub use framing::{next_frame, FrameLimits, Framed, Frames, MessageView};
pub use header::{Header, HEADER_LEN};
pub use impinj::{ImpinjTagReportContentSelector, IMPINJ_VENDOR_ID};
pub use param::{CustomParameter, CustomView, Param, Params};
pub use status::{FieldError, LlrpStatus, ParameterError, StatusCode};
pub use tag_report::{EpcForm, TagReport, TagReportData, TagReports};
pub use types::{MessageType, ProtocolVersion};
