//! The command sequence that takes a ThingMagic module from "just opened" to "reading
//! continuously", and how each step recognises its reply.

use std::time::Duration;

use tagtally_config::Region as ConfigRegion;
use tagtally_protocol::thingmagic::{
    AntennaSelection, Command, Model, Opcode, Region, Response, StatusWord, TagProtocol,
};

use super::settings::ThingMagicSettings;

/// 0x9A key of the module's duplicate-read filter; off, so every read of a tag is reported
/// (presence needs repeated reads, the engine deduplicates).
const READ_FILTER_KEY: u8 = 0x0C;
/// 0x9B key of the Gen2 session (MercuryAPI `TMR_SR_GEN2_CONFIGURATION_SESSION`).
const GEN2_SESSION_KEY: u8 = 0x00;

/// One step of the setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupStep {
    /// A module left reading by a previous run answers nothing but 0x2F, so stop it first;
    /// whatever it says (or its silence) is fine.
    StopLeftoverSearch,
    Version,
    Region(ConfigRegion),
    TagProtocol,
    Antennas,
    ReadPower(i16),
    Gen2Session(u8),
    ReadFilterOff,
    StartReading,
}

/// How a reply relates to the step waiting for it.
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Done,
    Rejected(StatusWord),
    /// Not this step's reply (stale stream frames, late replies): ignore it.
    NotMine,
}

/// The steps for `settings`, in order.
pub fn setup_steps(settings: &ThingMagicSettings) -> Vec<SetupStep> {
    let mut steps = vec![SetupStep::StopLeftoverSearch, SetupStep::Version];
    steps.extend(settings.region.map(SetupStep::Region));
    steps.push(SetupStep::TagProtocol);
    steps.push(SetupStep::Antennas);
    steps.extend(settings.read_power_cdbm.map(SetupStep::ReadPower));
    steps.extend(settings.gen2_session.map(SetupStep::Gen2Session));
    steps.push(SetupStep::ReadFilterOff);
    steps.push(SetupStep::StartReading);
    steps
}

/// The module's region code for a configured region. The Nano's North American code is NA2
/// (SparkFun does the same); EU3 is the current ETSI 4-channel plan, KR2 the current Korean one.
pub fn module_region(region: ConfigRegion, model: Option<Model>) -> Region {
    match region {
        ConfigRegion::Na if model == Some(Model::M6eNano) => Region::NorthAmerica2,
        ConfigRegion::Na => Region::NorthAmerica,
        ConfigRegion::Eu => Region::Europe3,
        ConfigRegion::In => Region::India,
        ConfigRegion::Jp => Region::Japan,
        ConfigRegion::Kr => Region::Korea2,
        ConfigRegion::Cn => Region::China,
        ConfigRegion::Au => Region::Australia,
        ConfigRegion::Nz => Region::NewZealand,
    }
}

impl SetupStep {
    /// The command to send; the region code depends on the model learned from VERSION.
    pub fn command(self, settings: &ThingMagicSettings, model: Option<Model>) -> Command {
        match self {
            Self::StopLeftoverSearch => Command::StopContinuousRead,
            Self::Version => Command::Version,
            Self::Region(region) => Command::SetRegion(module_region(region, model)),
            Self::TagProtocol => Command::SetTagProtocol(TagProtocol::Gen2),
            Self::Antennas => Command::SetAntennaPort(match settings.antennas.as_slice() {
                [only] => AntennaSelection::Single {
                    tx: *only,
                    rx: *only,
                },
                ports => AntennaSelection::SearchList(ports.iter().map(|&p| (p, p)).collect()),
            }),
            Self::ReadPower(centi_dbm) => Command::SetReadTxPower { centi_dbm },
            Self::Gen2Session(session) => Command::Other {
                opcode: Opcode::SetProtocolParam,
                data: vec![
                    TagProtocol::Gen2.as_u8().unwrap_or(0x05),
                    GEN2_SESSION_KEY,
                    session,
                ],
            },
            Self::ReadFilterOff => Command::SetReaderConfiguration {
                key: READ_FILTER_KEY,
                value: 0,
            },
            Self::StartReading => Command::StartContinuousRead(settings.plan),
        }
    }

    /// The command's name in messages, as the vendor documentation spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::StopLeftoverSearch => "stop of a leftover search",
            Self::Version => "VERSION",
            Self::Region(_) => "SET_REGION",
            Self::TagProtocol => "SET_TAG_PROTOCOL (gen2)",
            Self::Antennas => "SET_ANTENNA_PORT",
            Self::ReadPower(_) => "SET_READ_TX_POWER",
            Self::Gen2Session(_) => "SET_PROTOCOL_PARAM (gen2 session)",
            Self::ReadFilterOff => "SET_READER_OPTIONAL_PARAMS (read filter off)",
            Self::StartReading => "MULTI_PROTOCOL_TAG_OP (start continuous reading)",
        }
    }

    /// Whether a refusal or no answer still lets the setup go on.
    pub fn optional(self) -> bool {
        self == Self::StopLeftoverSearch
    }

    pub fn timeout(self, settings: &ThingMagicSettings) -> Duration {
        match self {
            Self::StopLeftoverSearch => settings.stop_timeout,
            _ => settings.response_timeout,
        }
    }

    /// Whether `response` answers this step.
    pub fn outcome(self, response: &Response) -> StepOutcome {
        let expected = match self {
            Self::StopLeftoverSearch | Self::StartReading => Opcode::MultiProtocolTagOp,
            Self::Version => Opcode::Version,
            Self::Region(_) => Opcode::SetRegion,
            Self::TagProtocol => Opcode::SetTagProtocol,
            Self::Antennas => Opcode::SetAntennaPort,
            Self::ReadPower(_) => Opcode::SetReadTxPower,
            Self::Gen2Session(_) => Opcode::SetProtocolParam,
            Self::ReadFilterOff => Opcode::SetReaderOptionalParams,
        };
        match response {
            Response::Rejected { opcode, status } if *opcode == expected => {
                StepOutcome::Rejected(*status)
            }
            // A late stop confirmation must not pass for the start acknowledgement.
            Response::ContinuousReadStopped if self == Self::StartReading => StepOutcome::NotMine,
            Response::ContinuousReadStarted if self == Self::StopLeftoverSearch => {
                StepOutcome::NotMine
            }
            Response::Version(_)
            | Response::ContinuousReadStarted
            | Response::ContinuousReadStopped
            | Response::Ack { .. }
            | Response::Other { .. }
                if response_opcode(response) == Some(expected) =>
            {
                StepOutcome::Done
            }
            _ => StepOutcome::NotMine,
        }
    }
}

/// The opcode a non-streaming reply echoes.
fn response_opcode(response: &Response) -> Option<Opcode> {
    match response {
        Response::Version(_) => Some(Opcode::Version),
        Response::ContinuousReadStarted | Response::ContinuousReadStopped => {
            Some(Opcode::MultiProtocolTagOp)
        }
        Response::AntennaPort { .. } => Some(Opcode::GetAntennaPort),
        Response::ReadTxPower { .. } => Some(Opcode::GetReadTxPower),
        Response::TagProtocol(_) => Some(Opcode::GetTagProtocol),
        Response::Region(_) => Some(Opcode::GetRegion),
        Response::Ack { opcode }
        | Response::Rejected { opcode, .. }
        | Response::Other { opcode, .. } => Some(*opcode),
        Response::TagRead(_) | Response::StreamStatus(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReaderId;

    #[test]
    fn steps_follow_the_settings() {
        let mut settings = ThingMagicSettings::new(ReaderId(0), vec![1, 2]);
        assert_eq!(
            setup_steps(&settings),
            [
                SetupStep::StopLeftoverSearch,
                SetupStep::Version,
                SetupStep::TagProtocol,
                SetupStep::Antennas,
                SetupStep::ReadFilterOff,
                SetupStep::StartReading
            ]
        );
        settings.region = Some(ConfigRegion::Eu);
        settings.read_power_cdbm = Some(2500);
        settings.gen2_session = Some(1);
        assert_eq!(setup_steps(&settings).len(), 9);
        assert_eq!(
            SetupStep::Antennas.command(&settings, None),
            Command::SetAntennaPort(AntennaSelection::SearchList(vec![(1, 1), (2, 2)]))
        );
    }

    #[test]
    fn the_nano_gets_na2() {
        assert_eq!(
            module_region(ConfigRegion::Na, Some(Model::M6eNano)),
            Region::NorthAmerica2
        );
        assert_eq!(
            module_region(ConfigRegion::Na, Some(Model::M6e)),
            Region::NorthAmerica
        );
    }

    #[test]
    fn replies_are_matched_by_opcode_and_meaning() {
        let ack = |opcode| Response::Ack { opcode };
        assert_eq!(
            SetupStep::TagProtocol.outcome(&ack(Opcode::SetTagProtocol)),
            StepOutcome::Done
        );
        assert_eq!(
            SetupStep::TagProtocol.outcome(&ack(Opcode::SetRegion)),
            StepOutcome::NotMine
        );
        assert_eq!(
            SetupStep::StartReading.outcome(&Response::ContinuousReadStopped),
            StepOutcome::NotMine
        );
        assert_eq!(
            SetupStep::Region(ConfigRegion::Eu).outcome(&Response::Rejected {
                opcode: Opcode::SetRegion,
                status: StatusWord::InvalidRegion
            }),
            StepOutcome::Rejected(StatusWord::InvalidRegion)
        );
    }
}
