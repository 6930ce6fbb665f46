//! Golden LLRP frames (tests/golden/llrp/*.frame): decoded field by field and re-encoded byte-exact.

mod common;

use tagtally_protocol::llrp::*;

fn frame(name: &str) -> Vec<u8> {
    common::load_frame("llrp", name)
}

/// Frames the bytes as one whole message and decodes it.
fn decode(bytes: &[u8]) -> (Header, Message) {
    let view = match next_frame(bytes, &FrameLimits::default()) {
        Ok(Framed::Complete { message, consumed }) => {
            assert_eq!(consumed, bytes.len(), "frame is exactly one message");
            message
        }
        other => panic!("not one whole message: {other:?}"),
    };
    let message = Message::decode(&view).expect("decodes");
    (view.header(), message)
}

/// Decodes, re-encodes with the same version and id, and expects the very same bytes.
fn check_roundtrip(name: &str) -> (Header, Message) {
    let bytes = frame(name);
    let (header, message) = decode(&bytes);
    let mut out = Vec::new();
    message
        .encode(header.version, header.id, &mut out)
        .expect("encodes");
    assert_eq!(hex(&out), hex(&bytes), "{name}: re-encoding differs");
    (header, message)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X} ")).collect()
}

fn epc(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_golden_frame_frames_and_decodes() {
    let frames = common::all_frames("llrp");
    assert!(frames.len() >= 20, "golden frames missing");
    for (name, bytes) in frames {
        let view = MessageView::new_checked(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        Message::decode(&view)
            .map(|_| ())
            .or_else(|e| {
                // The one frame with a malformed TagReportData is strict in the owned decoder.
                if name == "ro_access_report_vendor_tlv_unknown_tv" {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn ro_access_report_epc96_fast_path() {
    let bytes = frame("ro_access_report_epc96");
    let Ok(Framed::Complete { message, .. }) = next_frame(&bytes, &FrameLimits::default()) else {
        panic!("frame");
    };
    assert_eq!(
        message.header(),
        Header {
            version: ProtocolVersion::V1_0_1,
            msg_type: MessageType::RoAccessReport,
            id: 42
        }
    );
    let reports: Vec<_> = TagReports::from_message(&message).unwrap().collect();
    assert_eq!(reports.len(), 1);
    let r = reports[0].as_ref().unwrap();
    assert_eq!(r.epc, epc("3074257BF7194E4000001A85").as_slice());
    assert_eq!(r.epc_bits, 96);
    assert_eq!(r.epc_form, EpcForm::Epc96);
    assert_eq!(r.antenna_id, Some(1));
    assert_eq!(r.peak_rssi_dbm, Some(-58));
    assert_eq!(r.first_seen_utc_us, Some(1_700_000_000_123_456));
    assert_eq!(r.first_seen_us(), Some((1_700_000_000_123_456, true)));
    assert_eq!(r.best_rssi_centi_dbm(), Some(-5800));
    assert_eq!(r.impinj_peak_rssi_centi_dbm, None);
    assert_eq!(r.last_seen_utc_us, None);
    assert_eq!(r.stopped_at_unknown_tv, None);
}

#[test]
fn ro_access_report_epc96_roundtrip() {
    let (_, message) = check_roundtrip("ro_access_report_epc96");
    let Message::RoAccessReport(reports) = message else {
        panic!("{message:?}")
    };
    let mut expected = TagReportData::new(&epc("3074257BF7194E4000001A85"));
    expected.antenna_id = Some(1);
    expected.peak_rssi_dbm = Some(-58);
    expected.first_seen_utc_us = Some(1_700_000_000_123_456);
    assert_eq!(reports, vec![expected]);
}

#[test]
fn llrp_1_1_header() {
    let (header, message) = check_roundtrip("ro_access_report_epc96_v1_1");
    assert_eq!(header.version, ProtocolVersion::V1_1);
    assert!(matches!(message, Message::RoAccessReport(ref r) if r.len() == 1));
    let (header, message) = check_roundtrip("get_supported_version_v1_1");
    assert_eq!(header.version, ProtocolVersion::V1_1);
    assert_eq!(message, Message::GetSupportedVersion);
    let (_, message) = check_roundtrip("get_supported_version_response");
    assert_eq!(
        message,
        Message::GetSupportedVersionResponse {
            current: ProtocolVersion::V1_1,
            supported: ProtocolVersion::V1_1,
            status: LlrpStatus::success(),
        }
    );
}

#[test]
fn impinj_peak_rssi_is_preferred() {
    let (_, message) = check_roundtrip("ro_access_report_impinj_peak_rssi");
    let bytes = frame("ro_access_report_impinj_peak_rssi");
    let view = MessageView::new_checked(&bytes).unwrap();
    let r = TagReports::from_message(&view)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(r.peak_rssi_dbm, Some(-58));
    assert_eq!(r.impinj_peak_rssi_centi_dbm, Some(-5825));
    assert_eq!(r.best_rssi_centi_dbm(), Some(-5825));
    let Message::RoAccessReport(reports) = message else {
        panic!()
    };
    assert_eq!(reports[0].impinj_peak_rssi_centi_dbm, Some(-5825));
}

#[test]
fn epc_data_128_bits() {
    let (_, message) = check_roundtrip("ro_access_report_epcdata_128");
    let Message::RoAccessReport(reports) = message else {
        panic!()
    };
    let r = &reports[0];
    assert_eq!(r.epc, epc("3014257BF7194E4000001A8500112233"));
    assert_eq!(r.epc_bits, 128);
    assert_eq!(r.epc_form, EpcForm::EpcData);
    assert_eq!(r.antenna_id, Some(2));
    assert_eq!(r.peak_rssi_dbm, Some(-61));
    assert_eq!(r.last_seen_uptime_us, Some(1_000_000));
    assert_eq!(r.first_seen_utc_us, None);
}

#[test]
fn vendor_tlv_skipped_unknown_tv_ends_report_malformed_report_is_one_error() {
    let bytes = frame("ro_access_report_vendor_tlv_unknown_tv");
    let view = MessageView::new_checked(&bytes).unwrap();
    let items: Vec<_> = TagReports::from_message(&view).unwrap().collect();
    assert_eq!(items.len(), 3);
    let first = items[0].as_ref().unwrap();
    assert_eq!(first.epc, epc("E28011606000020500000001").as_slice());
    assert_eq!(
        first.antenna_id,
        Some(4),
        "vendor TLV before it was skipped"
    );
    assert_eq!(first.stopped_at_unknown_tv, Some(127));
    assert_eq!(
        items[1],
        Err(DecodeError::MissingParameter {
            parent: "tag report data",
            missing: "epc"
        })
    );
    let third = items[2].as_ref().unwrap();
    assert_eq!(third.epc, epc("3074257BF7194E4000001A86").as_slice());
    assert_eq!(third.antenna_id, Some(3));
    // The owned decoder is strict: the malformed report fails the message.
    assert!(Message::decode(&view).is_err());
}

#[test]
fn reader_event_connection_success() {
    let (_, message) = check_roundtrip("reader_event_connection_success");
    assert_eq!(
        message,
        Message::ReaderEventNotification(ReaderEventNotificationData {
            timestamp: Some(Timestamp::Utc(1_700_000_000_123_456)),
            events: vec![ReaderEvent::ConnectionAttempt(
                ConnectionAttemptStatus::Success
            )],
        })
    );
}

#[test]
fn reader_event_connection_refused_on_uptime_clock() {
    let (_, message) = check_roundtrip("reader_event_connection_refused");
    assert_eq!(
        message,
        Message::ReaderEventNotification(ReaderEventNotificationData {
            timestamp: Some(Timestamp::Uptime(1_000_000_000)),
            events: vec![ReaderEvent::ConnectionAttempt(
                ConnectionAttemptStatus::FailedClientInitiatedConnectionExists
            )],
        })
    );
}

#[test]
fn reader_event_connection_close_and_exception() {
    let (_, message) = check_roundtrip("reader_event_connection_close");
    let Message::ReaderEventNotification(data) = message else {
        panic!()
    };
    assert_eq!(data.events, vec![ReaderEvent::ConnectionClose]);
    let (_, message) = check_roundtrip("reader_event_exception");
    let Message::ReaderEventNotification(data) = message else {
        panic!()
    };
    assert_eq!(
        data.events,
        vec![ReaderEvent::ReaderException {
            message: "antenna 3 fail".into()
        }]
    );
}

#[test]
fn keepalive_and_ack_echo_the_id() {
    let (header, message) = check_roundtrip("keepalive");
    assert_eq!(message, Message::Keepalive);
    assert_eq!(header.id, 0x1234);
    let mut ack = Vec::new();
    Message::KeepaliveAck
        .encode(header.version, header.id, &mut ack)
        .unwrap();
    assert_eq!(ack, frame("keepalive_ack"));
}

#[test]
fn set_reader_config_keepalive() {
    let (header, message) = check_roundtrip("set_reader_config_keepalive");
    assert_eq!(header.id, 101);
    assert_eq!(
        message,
        Message::SetReaderConfig {
            reset_to_factory_default: false,
            config: ReaderConfig {
                keepalive: Some(KeepaliveSpec {
                    trigger: KeepaliveTrigger::Periodic,
                    period_ms: 10_000
                }),
                ..ReaderConfig::default()
            },
        }
    );
}

fn minimal_rospec(state: RoSpecState) -> RoSpec {
    RoSpec {
        id: 1,
        priority: 0,
        current_state: state,
        boundary: RoBoundarySpec {
            start_trigger: RoSpecStartTrigger::immediate(),
            stop_trigger: RoSpecStopTrigger::null(),
        },
        ai_specs: vec![AiSpec {
            antenna_ids: vec![0],
            stop_trigger: AiSpecStopTrigger::null(),
            inventory_parameter_specs: vec![InventoryParameterSpec::gen2(1)],
        }],
        report: Some(RoReportSpec {
            trigger: RoReportTrigger::UponNTagsOrEndOfRoSpec,
            n: 1,
            content: TagReportContentSelector {
                enable_antenna_id: true,
                enable_peak_rssi: true,
                enable_first_seen_timestamp: true,
                enable_last_seen_timestamp: true,
                enable_tag_seen_count: true,
                ..TagReportContentSelector::default()
            },
            impinj_content: None,
        }),
    }
}

#[test]
fn add_rospec_minimal() {
    let (_, message) = check_roundtrip("add_rospec_minimal");
    assert_eq!(
        message,
        Message::AddRoSpec(minimal_rospec(RoSpecState::Disabled))
    );
}

#[test]
fn get_rospecs_response() {
    let (_, message) = check_roundtrip("get_rospecs_response");
    assert_eq!(
        message,
        Message::GetRoSpecsResponse {
            status: LlrpStatus::success(),
            rospecs: vec![minimal_rospec(RoSpecState::Active)],
        }
    );
}

#[test]
fn enable_and_delete_rospec() {
    let (_, message) = check_roundtrip("enable_rospec");
    assert_eq!(message, Message::EnableRoSpec { rospec_id: 1 });
    let (_, message) = check_roundtrip("delete_rospec_all");
    assert_eq!(message, Message::DeleteRoSpec { rospec_id: 0 });
}

#[test]
fn add_rospec_response_success() {
    let (header, message) = check_roundtrip("add_rospec_response_success");
    assert_eq!(header.id, 102);
    assert_eq!(message, Message::AddRoSpecResponse(LlrpStatus::success()));
    assert!(message.status().unwrap().is_success());
}

#[test]
fn status_with_nested_parameter_error_and_field_error() {
    let (_, message) = check_roundtrip("add_rospec_response_parameter_error");
    let status = message.status().unwrap().clone();
    assert_eq!(
        status,
        LlrpStatus {
            code: StatusCode::MParameterError,
            description: "bad antenna".into(),
            field_error: None,
            parameter_error: Some(ParameterError {
                parameter_type: 177,
                code: StatusCode::PParameterError,
                field_error: None,
                parameter_error: Some(Box::new(ParameterError {
                    parameter_type: 183,
                    code: StatusCode::PFieldError,
                    field_error: Some(FieldError {
                        field_num: 0,
                        code: StatusCode::AOutOfRange
                    }),
                    parameter_error: None,
                })),
            }),
        }
    );
    assert_eq!(
        status.to_string(),
        "M_ParameterError: bad antenna (parameter 177 parameter 183 field 0)"
    );
}

#[test]
fn impinj_enable_extensions_and_response() {
    let (header, message) = check_roundtrip("impinj_enable_extensions");
    assert_eq!(header.id, 7);
    assert_eq!(message, Message::ImpinjEnableExtensions);
    let (_, message) = check_roundtrip("impinj_enable_extensions_response");
    assert_eq!(
        message,
        Message::ImpinjEnableExtensionsResponse(LlrpStatus::success())
    );
}

#[test]
fn capabilities_with_power_table() {
    let (_, message) = check_roundtrip("get_reader_capabilities_response");
    let Message::GetReaderCapabilitiesResponse(caps) = message else {
        panic!()
    };
    assert!(caps.status.is_success());
    assert_eq!(
        caps.general,
        Some(GeneralDeviceCapabilities {
            max_antennas: 4,
            can_set_antenna_properties: false,
            has_utc_clock: true,
            manufacturer: IMPINJ_VENDOR_ID,
            model: 2_001_052,
            firmware_version: "7.5.0".into(),
        })
    );
    let regulatory = caps.regulatory.as_ref().unwrap();
    assert_eq!(regulatory.country_code, 840);
    assert_eq!(regulatory.communications_standard, 1);
    assert_eq!(
        regulatory.transmit_power_table,
        vec![
            TransmitPowerLevel {
                index: 1,
                centi_dbm: 2600
            },
            TransmitPowerLevel {
                index: 2,
                centi_dbm: 2700
            },
            TransmitPowerLevel {
                index: 3,
                centi_dbm: 3000
            },
        ]
    );
    assert_eq!(caps.power_index_at_most(2900), Some(2));
    assert_eq!(caps.power_index_at_most(3000), Some(3));
    assert_eq!(
        caps.power_index_at_most(1000),
        Some(1),
        "weakest when all too strong"
    );
}
