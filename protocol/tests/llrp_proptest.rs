//! Property tests of the LLRP layer: encode→decode identity for every message type, no panic and
//! bounded frames on arbitrary bytes, and identical framing whatever the TCP chunking.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use tagtally_protocol::llrp::*;

fn text() -> impl Strategy<Value = String> {
    "[ -~]{0,24}"
}

fn status_code() -> impl Strategy<Value = StatusCode> {
    any::<u16>().prop_map(StatusCode::from)
}

fn field_error() -> impl Strategy<Value = FieldError> {
    (any::<u16>(), status_code()).prop_map(|(field_num, code)| FieldError { field_num, code })
}

fn parameter_error() -> impl Strategy<Value = ParameterError> {
    let leaf = (any::<u16>(), status_code(), option::of(field_error())).prop_map(
        |(parameter_type, code, field_error)| ParameterError {
            parameter_type,
            code,
            field_error,
            parameter_error: None,
        },
    );
    leaf.prop_recursive(3, 4, 1, |inner| {
        (
            any::<u16>(),
            status_code(),
            option::of(field_error()),
            inner,
        )
            .prop_map(
                |(parameter_type, code, field_error, nested)| ParameterError {
                    parameter_type,
                    code,
                    field_error,
                    parameter_error: Some(Box::new(nested)),
                },
            )
    })
}

fn status() -> impl Strategy<Value = LlrpStatus> {
    (
        status_code(),
        text(),
        option::of(field_error()),
        option::of(parameter_error()),
    )
        .prop_map(
            |(code, description, field_error, parameter_error)| LlrpStatus {
                code,
                description,
                field_error,
                parameter_error,
            },
        )
}

prop_compose! {
    fn tag_report()(
        epc96 in any::<bool>(),
        bits in 0u16..=496,
        seed in vec(any::<u8>(), 62),
        antenna_id in option::of(any::<u16>()),
        peak_rssi_dbm in option::of(any::<i8>()),
        impinj in option::of(any::<i16>()),
        channel_index in option::of(any::<u16>()),
        times in (option::of(any::<u64>()), option::of(any::<u64>()), option::of(any::<u64>()), option::of(any::<u64>())),
        tag_seen_count in option::of(any::<u16>()),
        rospec_id in option::of(any::<u32>()),
        spec_index in option::of(any::<u16>()),
        inventory_parameter_spec_id in option::of(any::<u16>()),
        c1g2 in (option::of(any::<u16>()), option::of(any::<u16>())),
        access_spec_id in option::of(any::<u32>()),
    ) -> TagReportData {
        let (epc, epc_bits, epc_form) = if epc96 {
            (seed[..12].to_vec(), 96, EpcForm::Epc96)
        } else {
            (seed[..usize::from(bits).div_ceil(8)].to_vec(), bits, EpcForm::EpcData)
        };
        TagReportData {
            epc, epc_bits, epc_form, antenna_id, peak_rssi_dbm,
            impinj_peak_rssi_centi_dbm: impinj, channel_index,
            first_seen_utc_us: times.0, first_seen_uptime_us: times.1,
            last_seen_utc_us: times.2, last_seen_uptime_us: times.3,
            tag_seen_count, rospec_id, spec_index, inventory_parameter_spec_id,
            c1g2_pc: c1g2.0, c1g2_crc: c1g2.1, access_spec_id,
        }
    }
}

fn reader_event() -> impl Strategy<Value = ReaderEvent> {
    prop_oneof![
        (any::<u16>(), any::<u16>()).prop_map(|(hop_table_id, next_channel_index)| {
            ReaderEvent::Hopping {
                hop_table_id,
                next_channel_index,
            }
        }),
        (any::<u16>(), any::<bool>()).prop_map(|(port, event)| ReaderEvent::Gpi { port, event }),
        (any::<u8>(), any::<u32>(), any::<u32>()).prop_map(|(t, rospec_id, preempting)| {
            ReaderEvent::RoSpec {
                event_type: t.into(),
                rospec_id,
                preempting_rospec_id: preempting,
            }
        }),
        any::<u8>().prop_map(|percent_full| ReaderEvent::ReportBufferLevelWarning { percent_full }),
        Just(ReaderEvent::ReportBufferOverflowError),
        text().prop_map(|message| ReaderEvent::ReaderException { message }),
        (any::<u8>(), any::<u32>(), any::<u16>()).prop_map(
            |(event_type, rospec_id, spec_index)| {
                ReaderEvent::AiSpec {
                    event_type,
                    rospec_id,
                    spec_index,
                }
            }
        ),
        (any::<u8>(), any::<u16>()).prop_map(|(t, antenna_id)| ReaderEvent::Antenna {
            event_type: t.into(),
            antenna_id,
        }),
        any::<u16>().prop_map(|s| ReaderEvent::ConnectionAttempt(s.into())),
        Just(ReaderEvent::ConnectionClose),
        // RFSurveyEvent (253) and Customs are not decoded: kept raw.
        (
            prop_oneof![Just(253u16), Just(1023u16)],
            vec(any::<u8>(), 0..12)
        )
            .prop_map(|(param_type, body)| ReaderEvent::Unknown { param_type, body }),
    ]
}

fn event_data() -> impl Strategy<Value = ReaderEventNotificationData> {
    (
        option::of(prop_oneof![
            any::<u64>().prop_map(Timestamp::Utc),
            any::<u64>().prop_map(Timestamp::Uptime)
        ]),
        vec(reader_event(), 0..4),
    )
        .prop_map(|(timestamp, events)| ReaderEventNotificationData { timestamp, events })
}

fn gpi() -> impl Strategy<Value = GpiTriggerValue> {
    (any::<u16>(), any::<bool>(), any::<u32>()).prop_map(|(port, event, timeout_ms)| {
        GpiTriggerValue {
            port,
            event,
            timeout_ms,
        }
    })
}

fn antenna_configuration() -> impl Strategy<Value = AntennaConfiguration> {
    let command = (
        any::<bool>(),
        option::of((any::<u16>(), any::<u16>())),
        option::of((0u8..4, any::<u16>(), any::<u32>())),
    )
        .prop_map(|(aware, rf, singulation)| C1G2InventoryCommand {
            tag_inventory_state_aware: aware,
            rf_control: rf.map(|(mode_index, tari_ns)| C1G2RfControl {
                mode_index,
                tari_ns,
            }),
            singulation_control: singulation.map(|(session, tag_population, transit)| {
                C1G2SingulationControl {
                    session,
                    tag_population,
                    tag_transit_time_ms: transit,
                }
            }),
        });
    (
        any::<u16>(),
        option::of(any::<u16>()),
        option::of((any::<u16>(), any::<u16>(), any::<u16>())),
        vec(command, 0..3),
    )
        .prop_map(
            |(antenna_id, rx, tx, inventory_commands)| AntennaConfiguration {
                antenna_id,
                receiver_sensitivity_index: rx,
                transmitter: tx.map(|(hop_table_id, channel_index, transmit_power_index)| {
                    RfTransmitter {
                        hop_table_id,
                        channel_index,
                        transmit_power_index,
                    }
                }),
                inventory_commands,
            },
        )
}

fn content_selector() -> impl Strategy<Value = TagReportContentSelector> {
    (
        any::<[bool; 10]>(),
        option::of((any::<bool>(), any::<bool>())),
    )
        .prop_map(|(f, memory)| TagReportContentSelector {
            enable_rospec_id: f[0],
            enable_spec_index: f[1],
            enable_inventory_parameter_spec_id: f[2],
            enable_antenna_id: f[3],
            enable_channel_index: f[4],
            enable_peak_rssi: f[5],
            enable_first_seen_timestamp: f[6],
            enable_last_seen_timestamp: f[7],
            enable_tag_seen_count: f[8],
            enable_access_spec_id: f[9],
            c1g2_epc_memory: memory.map(|(enable_crc, enable_pc_bits)| C1G2EpcMemorySelector {
                enable_crc,
                enable_pc_bits,
            }),
        })
}

fn report_spec() -> impl Strategy<Value = RoReportSpec> {
    (
        any::<u8>(),
        any::<u16>(),
        content_selector(),
        option::of(any::<[bool; 3]>()),
    )
        .prop_map(|(trigger, n, content, impinj)| RoReportSpec {
            trigger: trigger.into(),
            n,
            content,
            impinj_content: impinj.map(|b| ImpinjTagReportContentSelector {
                enable_peak_rssi: b[0],
                enable_rf_phase_angle: b[1],
                enable_rf_doppler_frequency: b[2],
            }),
        })
}

fn rospec() -> impl Strategy<Value = RoSpec> {
    let start = (
        any::<u8>(),
        option::of((any::<u32>(), any::<u32>(), option::of(any::<u64>()))),
        option::of(gpi()),
    )
        .prop_map(|(t, periodic, gpi)| RoSpecStartTrigger {
            trigger_type: t.into(),
            periodic: periodic.map(|(offset_ms, period_ms, utc_us)| PeriodicTriggerValue {
                offset_ms,
                period_ms,
                utc_us,
            }),
            gpi,
        });
    let stop = (any::<u8>(), any::<u32>(), option::of(gpi())).prop_map(|(t, duration_ms, gpi)| {
        RoSpecStopTrigger {
            trigger_type: t.into(),
            duration_ms,
            gpi,
        }
    });
    let observation = (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
    )
        .prop_map(
            |(trigger_type, tags, attempts, t_ms, timeout_ms)| TagObservationTrigger {
                trigger_type,
                number_of_tags: tags,
                number_of_attempts: attempts,
                t_ms,
                timeout_ms,
            },
        );
    let ai_stop = (
        any::<u8>(),
        any::<u32>(),
        option::of(gpi()),
        option::of(observation),
    )
        .prop_map(|(t, duration_ms, gpi, tag_observation)| AiSpecStopTrigger {
            trigger_type: t.into(),
            duration_ms,
            gpi,
            tag_observation,
        });
    let inventory = (
        any::<u16>(),
        any::<u8>(),
        vec(antenna_configuration(), 0..2),
    )
        .prop_map(
            |(id, protocol_id, antenna_configurations)| InventoryParameterSpec {
                id,
                protocol_id,
                antenna_configurations,
            },
        );
    let ai_spec = (vec(any::<u16>(), 0..5), ai_stop, vec(inventory, 0..3)).prop_map(
        |(antenna_ids, stop_trigger, inventory_parameter_specs)| AiSpec {
            antenna_ids,
            stop_trigger,
            inventory_parameter_specs,
        },
    );
    (
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
        start,
        stop,
        vec(ai_spec, 0..3),
        option::of(report_spec()),
    )
        .prop_map(
            |(id, priority, state, start_trigger, stop_trigger, ai_specs, report)| RoSpec {
                id,
                priority,
                current_state: state.into(),
                boundary: RoBoundarySpec {
                    start_trigger,
                    stop_trigger,
                },
                ai_specs,
                report,
            },
        )
}

fn reader_config() -> impl Strategy<Value = ReaderConfig> {
    (
        option::of(vec(
            (any::<u16>(), any::<bool>()).prop_map(|(t, enabled)| EventNotificationState {
                event_type: t.into(),
                enabled,
            }),
            0..9,
        )),
        vec(antenna_configuration(), 0..4),
        option::of(report_spec()),
        option::of(
            (any::<u8>(), any::<u32>()).prop_map(|(t, period_ms)| KeepaliveSpec {
                trigger: t.into(),
                period_ms,
            }),
        ),
        option::of(any::<bool>()),
    )
        .prop_map(
            |(states, antennas, ro_report, keepalive, hold)| ReaderConfig {
                event_notification_states: states,
                antenna_configurations: antennas,
                ro_report,
                keepalive,
                hold_events_and_reports_upon_reconnect: hold,
            },
        )
}

fn capabilities() -> impl Strategy<Value = ReaderCapabilities> {
    let general = (
        0u16..64,
        any::<bool>(),
        any::<bool>(),
        any::<u32>(),
        any::<u32>(),
        text(),
    )
        .prop_map(
            |(max_antennas, props, utc, manufacturer, model, firmware_version)| {
                GeneralDeviceCapabilities {
                    max_antennas,
                    can_set_antenna_properties: props,
                    has_utc_clock: utc,
                    manufacturer,
                    model,
                    firmware_version,
                }
            },
        );
    let regulatory = (
        any::<u16>(),
        any::<u16>(),
        vec(
            (any::<u16>(), any::<i16>())
                .prop_map(|(index, centi_dbm)| TransmitPowerLevel { index, centi_dbm }),
            0..90,
        ),
    )
        .prop_map(
            |(country_code, communications_standard, table)| RegulatoryCapabilities {
                country_code,
                communications_standard,
                transmit_power_table: table,
            },
        );
    (status(), option::of(general), option::of(regulatory)).prop_map(
        |(status, general, regulatory)| ReaderCapabilities {
            status,
            general,
            regulatory,
        },
    )
}

fn version() -> impl Strategy<Value = ProtocolVersion> {
    any::<u8>().prop_map(ProtocolVersion::from)
}

fn unknown_message_type() -> impl Strategy<Value = u16> {
    (0u16..1023).prop_filter("not a known message type", |t| {
        matches!(MessageType::from(*t), MessageType::Unknown(_))
    })
}

fn message() -> impl Strategy<Value = Message> {
    let client = prop_oneof![
        any::<u8>().prop_map(|r| Message::GetReaderCapabilities(r.into())),
        (any::<u16>(), any::<u8>(), any::<u16>(), any::<u16>()).prop_map(|(a, r, gpi, gpo)| {
            Message::GetReaderConfig(GetReaderConfig {
                antenna_id: a,
                requested: r.into(),
                gpi_port: gpi,
                gpo_port: gpo,
            })
        }),
        (any::<bool>(), reader_config()).prop_map(|(reset, config)| Message::SetReaderConfig {
            reset_to_factory_default: reset,
            config
        }),
        rospec().prop_map(Message::AddRoSpec),
        any::<u32>().prop_map(|rospec_id| Message::DeleteRoSpec { rospec_id }),
        any::<u32>().prop_map(|rospec_id| Message::StartRoSpec { rospec_id }),
        any::<u32>().prop_map(|rospec_id| Message::StopRoSpec { rospec_id }),
        any::<u32>().prop_map(|rospec_id| Message::EnableRoSpec { rospec_id }),
        any::<u32>().prop_map(|rospec_id| Message::DisableRoSpec { rospec_id }),
        Just(Message::GetRoSpecs),
        any::<u32>().prop_map(|access_spec_id| Message::DeleteAccessSpec { access_spec_id }),
        Just(Message::GetReport),
        Just(Message::KeepaliveAck),
        Just(Message::EnableEventsAndReports),
        Just(Message::CloseConnection),
        Just(Message::GetSupportedVersion),
        version().prop_map(|version| Message::SetProtocolVersion { version }),
        Just(Message::ImpinjEnableExtensions),
    ];
    let reader = prop_oneof![
        capabilities().prop_map(Message::GetReaderCapabilitiesResponse),
        (status(), reader_config())
            .prop_map(|(status, config)| Message::GetReaderConfigResponse { status, config }),
        status().prop_map(Message::SetReaderConfigResponse),
        status().prop_map(Message::CloseConnectionResponse),
        status().prop_map(Message::AddRoSpecResponse),
        status().prop_map(Message::DeleteRoSpecResponse),
        status().prop_map(Message::StartRoSpecResponse),
        status().prop_map(Message::StopRoSpecResponse),
        status().prop_map(Message::EnableRoSpecResponse),
        status().prop_map(Message::DisableRoSpecResponse),
        (status(), vec(rospec(), 0..3))
            .prop_map(|(status, rospecs)| Message::GetRoSpecsResponse { status, rospecs }),
        status().prop_map(Message::AddAccessSpecResponse),
        status().prop_map(Message::DeleteAccessSpecResponse),
        status().prop_map(Message::EnableAccessSpecResponse),
        status().prop_map(Message::DisableAccessSpecResponse),
        status().prop_map(Message::GetAccessSpecsResponse),
        (version(), version(), status()).prop_map(|(current, supported, status)| {
            Message::GetSupportedVersionResponse {
                current,
                supported,
                status,
            }
        }),
        status().prop_map(Message::SetProtocolVersionResponse),
        vec(tag_report(), 0..20).prop_map(Message::RoAccessReport),
        Just(Message::Keepalive),
        event_data().prop_map(Message::ReaderEventNotification),
        status().prop_map(Message::ErrorMessage),
        status().prop_map(Message::ImpinjEnableExtensionsResponse),
    ];
    let raw = prop_oneof![
        (any::<u32>(), any::<u8>(), vec(any::<u8>(), 0..32))
            .prop_filter("not an impinj message this crate decodes", |(v, s, _)| {
                !(*v == IMPINJ_VENDOR_ID && (*s == 21 || *s == 22))
            })
            .prop_map(|(vendor, subtype, data)| Message::Custom {
                vendor,
                subtype,
                data
            }),
        (unknown_message_type(), vec(any::<u8>(), 0..32))
            .prop_map(|(msg_type, body)| Message::Unknown { msg_type, body }),
    ];
    prop_oneof![4 => client, 4 => reader, 1 => raw]
}

fn header_version() -> impl Strategy<Value = ProtocolVersion> {
    prop_oneof![Just(ProtocolVersion::V1_0_1), Just(ProtocolVersion::V1_1)]
}

/// Cuts `stream` into frames the way a socket driver does: bytes arrive in `chunks`, are appended
/// to a buffer, and whole messages are taken off its front.
fn frame_chunked(chunks: &[&[u8]], limits: &FrameLimits) -> Result<Vec<Vec<u8>>, FrameError> {
    let mut buffer: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buffer.extend_from_slice(chunk);
        while let Framed::Complete { message, consumed } = next_frame(&buffer, limits)? {
            frames.push(message.as_bytes().to_vec());
            buffer.drain(..consumed);
        }
    }
    Ok(frames)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_decode_is_identity(msg in message(), version in header_version(), id in any::<u32>()) {
        let mut bytes = Vec::new();
        msg.encode(version, id, &mut bytes).unwrap();
        let view = MessageView::new_checked(&bytes).unwrap();
        prop_assert_eq!(view.header(), Header { version, msg_type: msg.msg_type(), id });
        prop_assert_eq!(Message::decode(&view).unwrap(), msg);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_frames_respect_the_limit(
        bytes in vec(any::<u8>(), 0..600),
        max in 10u32..300,
    ) {
        let limits = FrameLimits { max_message_len: max };
        let mut rest: &[u8] = &bytes;
        loop {
            match next_frame(rest, &limits) {
                Ok(Framed::Complete { message, consumed }) => {
                    prop_assert!(consumed as u32 <= max);
                    prop_assert_eq!(message.as_bytes().len(), consumed);
                    let _ = Message::decode(&message);
                    if let Some(reports) = TagReports::from_message(&message) {
                        for report in reports { let _ = report; }
                    }
                    rest = &rest[consumed..];
                }
                Ok(Framed::Incomplete { frame_len }) => {
                    if let Some(len) = frame_len { prop_assert!(len as u32 <= max); }
                    break;
                }
                Err(_) => break,
            }
        }
    }

    /// Arbitrary bodies under valid headers of every message type reach the body decoders.
    #[test]
    fn arbitrary_bodies_never_panic(
        msg_type in prop_oneof![0u16..=100, Just(1023u16)],
        body in vec(any::<u8>(), 0..400),
    ) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(0x0400 | msg_type).to_be_bytes());
        bytes.extend_from_slice(&(10 + body.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&7u32.to_be_bytes());
        bytes.extend_from_slice(&body);
        let view = MessageView::new_checked(&bytes).unwrap();
        let decoded = Message::decode(&view);
        for report in TagReports::new(view.body()) { let _ = report; }
        for param in Params::new(view.body()) { let _ = param; }
        // Whatever decodes re-encodes and decodes to the same value.
        if let Ok(decoded) = decoded {
            let mut again = Vec::new();
            decoded.encode(ProtocolVersion::V1_0_1, 7, &mut again).unwrap();
            let view = MessageView::new_checked(&again).unwrap();
            prop_assert_eq!(Message::decode(&view).unwrap(), decoded);
        }
    }

    #[test]
    fn every_split_point_yields_the_same_frames(
        msgs in vec((message(), header_version(), any::<u32>()), 1..5),
    ) {
        let mut stream = Vec::new();
        for (msg, version, id) in &msgs {
            msg.encode(*version, *id, &mut stream).unwrap();
        }
        let limits = FrameLimits::default();
        let whole = frame_chunked(&[&stream], &limits).unwrap();
        prop_assert_eq!(whole.len(), msgs.len());
        for split in 0..=stream.len() {
            let (a, b) = stream.split_at(split);
            prop_assert_eq!(&frame_chunked(&[a, b], &limits).unwrap(), &whole);
        }
        let bytewise: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(&frame_chunked(&bytewise, &limits).unwrap(), &whole);
    }
}
