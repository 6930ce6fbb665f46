//! LLRP numbers: protocol versions, message types, TLV and TV parameter types and TV value sizes.
//!
//! Sources: the LTK definition `llrp-1x0-def.xml` (opencps/llrp-toolkit) for LLRP 1.0.1, LLRP 1.1
//! §17.1 for the 1.1-only messages and TVs (as tabulated in sllurp's `TVE_PARAM_FORMATS`).

wire_enum! {
    /// The 3-bit version field of the message header.
    pub enum ProtocolVersion(u8) {
        /// LLRP 1.0.1.
        V1_0_1 = 1,
        /// LLRP 1.1.
        V1_1 = 2,
    }
}

wire_enum! {
    /// The 10-bit message type of the header.
    pub enum MessageType(u16) {
        GetReaderCapabilities = 1,
        GetReaderConfig = 2,
        SetReaderConfig = 3,
        CloseConnectionResponse = 4,
        GetReaderCapabilitiesResponse = 11,
        GetReaderConfigResponse = 12,
        SetReaderConfigResponse = 13,
        CloseConnection = 14,
        AddRoSpec = 20,
        DeleteRoSpec = 21,
        StartRoSpec = 22,
        StopRoSpec = 23,
        EnableRoSpec = 24,
        DisableRoSpec = 25,
        GetRoSpecs = 26,
        AddRoSpecResponse = 30,
        DeleteRoSpecResponse = 31,
        StartRoSpecResponse = 32,
        StopRoSpecResponse = 33,
        EnableRoSpecResponse = 34,
        DisableRoSpecResponse = 35,
        GetRoSpecsResponse = 36,
        AddAccessSpec = 40,
        DeleteAccessSpec = 41,
        EnableAccessSpec = 42,
        DisableAccessSpec = 43,
        GetAccessSpecs = 44,
        ClientRequestOp = 45,
        GetSupportedVersion = 46,
        SetProtocolVersion = 47,
        AddAccessSpecResponse = 50,
        DeleteAccessSpecResponse = 51,
        EnableAccessSpecResponse = 52,
        DisableAccessSpecResponse = 53,
        GetAccessSpecsResponse = 54,
        ClientRequestOpResponse = 55,
        GetSupportedVersionResponse = 56,
        SetProtocolVersionResponse = 57,
        GetReport = 60,
        RoAccessReport = 61,
        Keepalive = 62,
        ReaderEventNotification = 63,
        EnableEventsAndReports = 64,
        KeepaliveAck = 72,
        ErrorMessage = 100,
        CustomMessage = 1023,
    }
}

/// TLV parameter type numbers (10 bits, 128..=2047 on the wire; LLRP uses up to 1023).
pub mod tlv {
    pub const UTC_TIMESTAMP: u16 = 128;
    pub const UPTIME: u16 = 129;
    pub const GENERAL_DEVICE_CAPABILITIES: u16 = 137;
    pub const RECEIVE_SENSITIVITY_TABLE_ENTRY: u16 = 139;
    pub const PER_ANTENNA_AIR_PROTOCOL: u16 = 140;
    pub const GPIO_CAPABILITIES: u16 = 141;
    pub const LLRP_CAPABILITIES: u16 = 142;
    pub const REGULATORY_CAPABILITIES: u16 = 143;
    pub const UHF_BAND_CAPABILITIES: u16 = 144;
    pub const TRANSMIT_POWER_LEVEL_TABLE_ENTRY: u16 = 145;
    pub const FREQUENCY_INFORMATION: u16 = 146;
    pub const FREQUENCY_HOP_TABLE: u16 = 147;
    pub const FIXED_FREQUENCY_TABLE: u16 = 148;
    pub const RO_SPEC: u16 = 177;
    pub const RO_BOUNDARY_SPEC: u16 = 178;
    pub const RO_SPEC_START_TRIGGER: u16 = 179;
    pub const PERIODIC_TRIGGER_VALUE: u16 = 180;
    pub const GPI_TRIGGER_VALUE: u16 = 181;
    pub const RO_SPEC_STOP_TRIGGER: u16 = 182;
    pub const AI_SPEC: u16 = 183;
    pub const AI_SPEC_STOP_TRIGGER: u16 = 184;
    pub const TAG_OBSERVATION_TRIGGER: u16 = 185;
    pub const INVENTORY_PARAMETER_SPEC: u16 = 186;
    pub const KEEPALIVE_SPEC: u16 = 220;
    pub const ANTENNA_CONFIGURATION: u16 = 222;
    pub const RF_RECEIVER: u16 = 223;
    pub const RF_TRANSMITTER: u16 = 224;
    pub const EVENTS_AND_REPORTS: u16 = 226;
    pub const RO_REPORT_SPEC: u16 = 237;
    pub const TAG_REPORT_CONTENT_SELECTOR: u16 = 238;
    pub const TAG_REPORT_DATA: u16 = 240;
    pub const EPC_DATA: u16 = 241;
    pub const READER_EVENT_NOTIFICATION_SPEC: u16 = 244;
    pub const EVENT_NOTIFICATION_STATE: u16 = 245;
    pub const READER_EVENT_NOTIFICATION_DATA: u16 = 246;
    pub const HOPPING_EVENT: u16 = 247;
    pub const GPI_EVENT: u16 = 248;
    pub const RO_SPEC_EVENT: u16 = 249;
    pub const REPORT_BUFFER_LEVEL_WARNING_EVENT: u16 = 250;
    pub const REPORT_BUFFER_OVERFLOW_ERROR_EVENT: u16 = 251;
    pub const READER_EXCEPTION_EVENT: u16 = 252;
    pub const AI_SPEC_EVENT: u16 = 254;
    pub const ANTENNA_EVENT: u16 = 255;
    pub const CONNECTION_ATTEMPT_EVENT: u16 = 256;
    pub const CONNECTION_CLOSE_EVENT: u16 = 257;
    pub const LLRP_STATUS: u16 = 287;
    pub const FIELD_ERROR: u16 = 288;
    pub const PARAMETER_ERROR: u16 = 289;
    pub const C1G2_UHF_RF_MODE_TABLE: u16 = 328;
    pub const C1G2_UHF_RF_MODE_TABLE_ENTRY: u16 = 329;
    pub const C1G2_INVENTORY_COMMAND: u16 = 330;
    pub const C1G2_RF_CONTROL: u16 = 335;
    pub const C1G2_SINGULATION_CONTROL: u16 = 336;
    pub const C1G2_EPC_MEMORY_SELECTOR: u16 = 348;
    pub const CUSTOM: u16 = 1023;
}

/// TV parameter type numbers (7 bits, after the high marker bit).
pub mod tv {
    pub const ANTENNA_ID: u8 = 1;
    pub const FIRST_SEEN_UTC: u8 = 2;
    pub const FIRST_SEEN_UPTIME: u8 = 3;
    pub const LAST_SEEN_UTC: u8 = 4;
    pub const LAST_SEEN_UPTIME: u8 = 5;
    pub const PEAK_RSSI: u8 = 6;
    pub const CHANNEL_INDEX: u8 = 7;
    pub const TAG_SEEN_COUNT: u8 = 8;
    pub const RO_SPEC_ID: u8 = 9;
    pub const INVENTORY_PARAMETER_SPEC_ID: u8 = 10;
    pub const C1G2_CRC: u8 = 11;
    pub const C1G2_PC: u8 = 12;
    pub const EPC_96: u8 = 13;
    pub const SPEC_INDEX: u8 = 14;
    pub const CLIENT_REQUEST_OP_SPEC_RESULT: u8 = 15;
    pub const ACCESS_SPEC_ID: u8 = 16;
    pub const OP_SPEC_ID: u8 = 17;
    pub const C1G2_SINGULATION_DETAILS: u8 = 18;
    pub const C1G2_XPC_W1: u8 = 19;
    pub const C1G2_XPC_W2: u8 = 20;
}

/// The value size of a TV parameter, or `None` for a type this crate does not know (which then
/// cannot be skipped: TVs carry no length).
#[inline]
pub const fn tv_value_len(tv_type: u8) -> Option<usize> {
    match tv_type {
        tv::ANTENNA_ID => Some(2),
        tv::FIRST_SEEN_UTC | tv::FIRST_SEEN_UPTIME | tv::LAST_SEEN_UTC | tv::LAST_SEEN_UPTIME => {
            Some(8)
        }
        tv::PEAK_RSSI => Some(1),
        tv::CHANNEL_INDEX | tv::TAG_SEEN_COUNT => Some(2),
        tv::RO_SPEC_ID => Some(4),
        tv::INVENTORY_PARAMETER_SPEC_ID | tv::C1G2_CRC | tv::C1G2_PC => Some(2),
        tv::EPC_96 => Some(12),
        tv::SPEC_INDEX | tv::CLIENT_REQUEST_OP_SPEC_RESULT => Some(2),
        tv::ACCESS_SPEC_ID => Some(4),
        tv::OP_SPEC_ID => Some(2),
        tv::C1G2_SINGULATION_DETAILS => Some(4),
        tv::C1G2_XPC_W1 | tv::C1G2_XPC_W2 => Some(2),
        _ => None,
    }
}

/// Air protocol identifier of EPCglobal Class 1 Gen 2 (LTK enumeration `AirProtocols`).
pub const PROTOCOL_EPC_C1G2: u8 = 1;
