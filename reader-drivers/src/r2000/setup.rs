//! The command sequence that prepares an R2000 module for inventory, and the inventory command
//! each round sends.

use tagtally_protocol::r2000::{
    AntennaStay, Command, CommandCode, ErrorCode, FastSwitchPlan, Reply,
};

use super::settings::{Band, R2000Settings};

/// A fast-switch slot number meaning "skip this slot".
const SKIP_SLOT: u8 = 0xFF;

/// One step of the setup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupStep {
    FirmwareVersion,
    FrequencyRegion(Band),
    OutputPower(u8),
    /// Only with one antenna: 0x89 reads on the work antenna.
    WorkAntenna(u8),
}

/// How a reply relates to the step waiting for it.
#[derive(Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Done,
    Rejected(ErrorCode),
    /// Not this step's reply (tags of a round left running by a previous connection): ignore.
    NotMine,
}

/// The steps for `settings`, in order.
pub fn setup_steps(settings: &R2000Settings) -> Vec<SetupStep> {
    let mut steps = vec![SetupStep::FirmwareVersion];
    steps.extend(settings.band.map(SetupStep::FrequencyRegion));
    steps.extend(settings.output_power_dbm.map(SetupStep::OutputPower));
    if let [only] = settings.antennas.as_slice() {
        steps.push(SetupStep::WorkAntenna(*only));
    }
    steps
}

/// The command that runs one inventory round: real-time (0x89) on the work antenna, or
/// fast-switch (0x8A) over up to four antennas, one round each.
pub fn round_command(settings: &R2000Settings) -> Command {
    if settings.antennas.len() <= 1 {
        return Command::RealTimeInventory { repeat: 1 };
    }
    let mut slots = [AntennaStay {
        antenna: SKIP_SLOT,
        stay: 0,
    }; 4];
    for (slot, &antenna) in slots.iter_mut().zip(&settings.antennas) {
        *slot = AntennaStay {
            antenna: antenna.saturating_sub(1),
            stay: 1,
        };
    }
    Command::FastSwitchInventory(FastSwitchPlan {
        slots,
        interval: 0,
        repeat: 1,
    })
}

impl SetupStep {
    pub fn command(self) -> Command {
        match self {
            Self::FirmwareVersion => Command::GetFirmwareVersion,
            Self::FrequencyRegion(band) => Command::SetFrequencyRegion {
                region: band.region,
                start: band.start,
                end: band.end,
            },
            Self::OutputPower(dbm) => Command::SetOutputPower { dbm: vec![dbm] },
            Self::WorkAntenna(antenna) => Command::SetWorkAntenna {
                antenna: antenna.saturating_sub(1),
            },
        }
    }

    /// The command's name in messages, as the vendor guide spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::FirmwareVersion => "get_firmware_version",
            Self::FrequencyRegion(_) => "set_frequency_region",
            Self::OutputPower(_) => "set_output_power",
            Self::WorkAntenna(_) => "set_work_antenna",
        }
    }

    fn code(self) -> CommandCode {
        match self {
            Self::FirmwareVersion => CommandCode::GetFirmwareVersion,
            Self::FrequencyRegion(_) => CommandCode::SetFrequencyRegion,
            Self::OutputPower(_) => CommandCode::SetOutputPower,
            Self::WorkAntenna(_) => CommandCode::SetWorkAntenna,
        }
    }

    /// Whether `reply` answers this step.
    pub fn outcome(self, reply: &Reply) -> StepOutcome {
        match reply {
            Reply::FirmwareVersion { .. } if self == Self::FirmwareVersion => StepOutcome::Done,
            Reply::Status { command, code } if *command == self.code() => {
                if code.is_success() {
                    StepOutcome::Done
                } else {
                    StepOutcome::Rejected(*code)
                }
            }
            _ => StepOutcome::NotMine,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReaderId;

    #[test]
    fn one_antenna_uses_the_work_antenna_and_real_time_inventory() {
        let settings = R2000Settings::new(ReaderId(0), vec![3]);
        assert_eq!(
            setup_steps(&settings),
            [SetupStep::FirmwareVersion, SetupStep::WorkAntenna(3)]
        );
        assert_eq!(
            SetupStep::WorkAntenna(3).command(),
            Command::SetWorkAntenna { antenna: 2 }
        );
        assert_eq!(
            round_command(&settings),
            Command::RealTimeInventory { repeat: 1 }
        );
    }

    #[test]
    fn several_antennas_use_fast_switch_with_unused_slots_skipped() {
        let settings = R2000Settings::new(ReaderId(0), vec![1, 4]);
        let Command::FastSwitchInventory(plan) = round_command(&settings) else {
            panic!("fast switch expected");
        };
        assert_eq!(
            plan.slots[0],
            AntennaStay {
                antenna: 0,
                stay: 1
            }
        );
        assert_eq!(
            plan.slots[1],
            AntennaStay {
                antenna: 3,
                stay: 1
            }
        );
        assert_eq!(plan.slots[2].antenna, SKIP_SLOT);
        assert_eq!(plan.repeat, 1);
    }

    #[test]
    fn replies_are_matched_by_command_and_code() {
        let status = |command, code| Reply::Status { command, code };
        let step = SetupStep::OutputPower(30);
        assert_eq!(
            step.outcome(&status(CommandCode::SetOutputPower, ErrorCode::Success)),
            StepOutcome::Done
        );
        assert_eq!(
            step.outcome(&status(
                CommandCode::SetOutputPower,
                ErrorCode::OutputPowerOutOfRange
            )),
            StepOutcome::Rejected(ErrorCode::OutputPowerOutOfRange)
        );
        assert_eq!(
            step.outcome(&status(CommandCode::SetWorkAntenna, ErrorCode::Success)),
            StepOutcome::NotMine
        );
    }
}
