//! The entries added by `screening`, `birth`, `parents` and `close`, and what `amend`
//! takes: each kind as its add command takes it, so a correction is typed the same way.

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use redbook_core::model::*;
use serde::Serialize;

use super::{
    parse_closure_reason, ImmunisationArgs, MeasurementArgs, NoteEntryArgs, RiskEntryArgs,
};
use crate::{CliError, CliResult};

#[derive(Subcommand)]
pub enum ScreeningCommand {
    /// Record a newborn blood spot result: the sample's date and each condition's outcome
    BloodSpot(BloodSpotArgs),
    /// Record a newborn hearing screen: each ear and the outcome
    Hearing(HearingArgs),
    /// Record a newborn or 6-8 week physical examination (NIPE)
    Nipe(NipeArgs),
}

#[derive(Args)]
pub struct BloodSpotArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: BloodSpotEntryArgs,
}

/// A blood spot result as typed (`screening blood-spot`, `amend ... blood-spot`).
#[derive(Args)]
pub struct BloodSpotEntryArgs {
    /// When the sample was taken (a repeat sample is a new entry with its own date)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub sample_date: NaiveDate,
    /// One condition's outcome, repeated for each condition screened, e.g. --result
    /// scid=not-suspected. Conditions: pku, scd, cf, cht, mcadd, hcu, msud, ga1, iva, ht1,
    /// scid. Outcomes: not-suspected, suspected, carrier-detected, repeat-required,
    /// not-screened, declined (the parents chose not to have it screened)
    #[arg(long = "result", value_name = "CONDITION=OUTCOME", required = true, value_parser = parse_blood_spot_result)]
    pub results: Vec<BloodSpotResult>,
}

impl BloodSpotEntryArgs {
    pub fn body(self) -> CliResult<EntryBody> {
        for (i, r) in self.results.iter().enumerate() {
            if self.results[..i].iter().any(|e| e.condition == r.condition) {
                return Err(CliError(format!(
                    "--result gives {} twice: give each condition once",
                    choice_name(r.condition)
                )));
            }
        }
        Ok(EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
            sample_date: self.sample_date,
            results: self.results,
        }))
    }
}

#[derive(Args)]
pub struct HearingArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: HearingEntryArgs,
}

#[derive(Args)]
pub struct HearingEntryArgs {
    /// When the screen was done
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: NaiveDate,
    /// The left ear: clear-response, no-clear-response or not-tested
    #[arg(long, value_parser = |s: &str| choice(s, &EAR_RESULTS))]
    pub left: HearingEarResult,
    /// The right ear: clear-response, no-clear-response or not-tested
    #[arg(long, value_parser = |s: &str| choice(s, &EAR_RESULTS))]
    pub right: HearingEarResult,
    /// discharged, targeted-follow-up or referred-to-audiology
    #[arg(long, value_parser = |s: &str| choice(s, &HEARING_OUTCOMES))]
    pub outcome: HearingOutcome,
}

impl HearingEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::NewbornScreening(NewbornScreening::Hearing {
            date: self.date,
            left: self.left,
            right: self.right,
            outcome: self.outcome,
        })
    }
}

#[derive(Args)]
pub struct NipeArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: NipeEntryArgs,
}

#[derive(Args)]
pub struct NipeEntryArgs {
    /// When the examination was done
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: NaiveDate,
    /// newborn (within 72 hours) or six-to-eight-weeks
    #[arg(long, value_parser = |s: &str| choice(s, &NIPE_STAGES))]
    pub stage: NipeStage,
    /// Hips: normal, abnormal, referred or not-done
    #[arg(long, value_parser = |s: &str| choice(s, &SCREENING_RESULTS))]
    pub hips: ScreeningResult,
    /// Eyes: normal, abnormal, referred or not-done
    #[arg(long, value_parser = |s: &str| choice(s, &SCREENING_RESULTS))]
    pub eyes: ScreeningResult,
    /// Heart: normal, abnormal, referred or not-done
    #[arg(long, value_parser = |s: &str| choice(s, &SCREENING_RESULTS))]
    pub heart: ScreeningResult,
    /// Testes (boys): normal, abnormal, referred or not-done
    #[arg(long, value_parser = |s: &str| choice(s, &SCREENING_RESULTS))]
    pub testes: Option<ScreeningResult>,
}

impl NipeEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::NewbornScreening(NewbornScreening::Nipe {
            date: self.date,
            stage: self.stage,
            hips: self.hips,
            eyes: self.eyes,
            heart: self.heart,
            testes: self.testes,
        })
    }
}

#[derive(Args)]
pub struct BirthArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: BirthEntryArgs,
    /// Keep a value the check finds unexpected for the child (a birth weight, length or
    /// head circumference beyond the growth charts' limits for the gestation): it is
    /// marked for a professional to review
    #[arg(long)]
    pub confirm: bool,
}

/// The midwife's birth details; each is optional, give at least one.
#[derive(Args)]
pub struct BirthEntryArgs {
    /// Gestation at birth, weeks+days: 39+4 (term is 37+0 to 41+6)
    #[arg(long, value_name = "WW+D")]
    pub gestation: Option<String>,
    /// Birth weight in kg
    #[arg(long, allow_negative_numbers = true)]
    pub weight_kg: Option<f64>,
    /// Head circumference at birth in cm
    #[arg(long, allow_negative_numbers = true)]
    pub head_cm: Option<f64>,
    /// Length at birth in cm
    #[arg(long, allow_negative_numbers = true)]
    pub length_cm: Option<f64>,
    /// Where the baby was born
    #[arg(long)]
    pub place: Option<String>,
    /// spontaneous-vaginal, assisted-vaginal, elective-caesarean, emergency-caesarean or
    /// other
    #[arg(long, value_parser = |s: &str| choice(s, &DELIVERY_MODES))]
    pub delivery: Option<DeliveryMode>,
    /// Apgar score at 1 minute (0-10)
    #[arg(long)]
    pub apgar_1_min: Option<u8>,
    /// Apgar score at 5 minutes (0-10)
    #[arg(long)]
    pub apgar_5_min: Option<u8>,
}

impl BirthEntryArgs {
    pub fn body(self) -> CliResult<EntryBody> {
        let details = BirthDetails {
            gestation: self.gestation.map(|g| g.parse()).transpose()?,
            birth_weight_kg: self.weight_kg,
            head_circumference_cm: self.head_cm,
            length_cm: self.length_cm,
            place_of_birth: self.place,
            delivery_mode: self.delivery,
            apgar_1_min: self.apgar_1_min,
            apgar_5_min: self.apgar_5_min,
        };
        if details == BirthDetails::default() {
            return Err(CliError(
                "give at least one of --gestation, --weight-kg, --head-cm, --length-cm, --place, --delivery, --apgar-1-min, --apgar-5-min".into(),
            ));
        }
        Ok(EntryBody::BirthDetails(details))
    }
}

#[derive(Args)]
pub struct ParentsArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: ParentsEntryArgs,
}

#[derive(Args)]
pub struct ParentsEntryArgs {
    /// The biological mother's height in cm
    #[arg(long, value_name = "CM")]
    pub mother_cm: Option<f64>,
    /// The biological father's height in cm
    #[arg(long, value_name = "CM")]
    pub father_cm: Option<f64>,
    /// As the parents said, not measured by a professional
    #[arg(long)]
    pub said: bool,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

impl ParentsEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::ParentalHeights(ParentalHeights {
            date: self.date.unwrap_or_else(today),
            mother_cm: self.mother_cm,
            father_cm: self.father_cm,
            measured_by: if self.said {
                MeasuredBy::Parent
            } else {
                MeasuredBy::Professional
            },
        })
    }
}

#[derive(Args)]
pub struct CloseArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub entry: ClosureEntryArgs,
}

#[derive(Args)]
pub struct ClosureEntryArgs {
    /// died or parental-responsibility-changed
    #[arg(long, value_parser = parse_closure_reason)]
    pub reason: ClosureReason,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

impl ClosureEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::RecordClosed(RecordClosure {
            date: self.date.unwrap_or_else(today),
            reason: self.reason,
        })
    }
}

/// The corrected entry, by kind, as the command that adds that kind takes it.
#[derive(Subcommand)]
pub enum AmendedEntry {
    /// A measurement, as `redbook measure` takes it
    Measure(MeasurementArgs),
    /// A vaccination, as `redbook immunise` takes it
    Immunise(ImmunisationArgs),
    /// A note, as `redbook note` takes it
    Note(NoteEntryArgs),
    /// A risk factor, as `redbook risk` takes it
    Risk(RiskEntryArgs),
    /// The parents' heights, as `redbook parents` takes them
    Parents(ParentsEntryArgs),
    /// A closure of the record, as `redbook close` takes it
    Close(ClosureEntryArgs),
    /// Birth details, as `redbook birth` takes them
    Birth(BirthEntryArgs),
    /// A blood spot result, as `redbook screening blood-spot` takes it
    BloodSpot(BloodSpotEntryArgs),
    /// A hearing screen, as `redbook screening hearing` takes it
    Hearing(HearingEntryArgs),
    /// A physical examination, as `redbook screening nipe` takes it
    Nipe(NipeEntryArgs),
}

impl AmendedEntry {
    pub fn body(self) -> CliResult<EntryBody> {
        Ok(match self {
            AmendedEntry::Measure(m) => m.body(),
            AmendedEntry::Immunise(i) => i.body(),
            AmendedEntry::Note(n) => n.body(),
            AmendedEntry::Risk(r) => r.body(),
            AmendedEntry::Parents(p) => p.body(),
            AmendedEntry::Close(c) => c.body(),
            AmendedEntry::Birth(b) => b.body()?,
            AmendedEntry::BloodSpot(b) => b.body()?,
            AmendedEntry::Hearing(h) => h.body(),
            AmendedEntry::Nipe(n) => n.body(),
        })
    }
}

pub(super) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

const EAR_RESULTS: [HearingEarResult; 3] = [
    HearingEarResult::ClearResponse,
    HearingEarResult::NoClearResponse,
    HearingEarResult::NotTested,
];
const HEARING_OUTCOMES: [HearingOutcome; 3] = [
    HearingOutcome::Discharged,
    HearingOutcome::TargetedFollowUp,
    HearingOutcome::ReferredToAudiology,
];
const NIPE_STAGES: [NipeStage; 2] = [NipeStage::Newborn, NipeStage::SixToEightWeeks];
const SCREENING_RESULTS: [ScreeningResult; 4] = [
    ScreeningResult::Normal,
    ScreeningResult::Abnormal,
    ScreeningResult::Referred,
    ScreeningResult::NotDone,
];
const DELIVERY_MODES: [DeliveryMode; 5] = [
    DeliveryMode::SpontaneousVaginal,
    DeliveryMode::AssistedVaginal,
    DeliveryMode::ElectiveCaesarean,
    DeliveryMode::EmergencyCaesarean,
    DeliveryMode::Other,
];

/// A model value's name on the command line: its stored name, lower case, with hyphens.
pub fn choice_name(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.to_ascii_lowercase().replace('_', "-")))
        .unwrap_or_default()
}

/// One of `all` by its name; the error lists every name (never the value typed).
pub fn choice<T: Serialize + Copy>(s: &str, all: &[T]) -> Result<T, String> {
    let wanted = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    all.iter()
        .copied()
        .find(|v| choice_name(v) == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(choice_name).collect();
            format!("one of {}", names.join(", "))
        })
}

fn parse_blood_spot_result(s: &str) -> Result<BloodSpotResult, String> {
    let (condition, outcome) = s
        .split_once('=')
        .ok_or_else(|| "CONDITION=OUTCOME, e.g. scid=not-suspected".to_string())?;
    Ok(BloodSpotResult {
        condition: choice(condition, &BloodSpotCondition::ALL)
            .map_err(|e| format!("the condition is {e}"))?,
        outcome: choice(outcome, &BloodSpotOutcome::ALL)
            .map_err(|e| format!("the outcome is {e}"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_blood_spot_choice_is_read_and_named_in_help() {
        use clap::CommandFactory;
        let mut cli = super::super::Cli::command();
        let help = cli
            .find_subcommand_mut("screening")
            .and_then(|s| s.find_subcommand_mut("blood-spot"))
            .expect("screening blood-spot")
            .render_long_help()
            .to_string()
            .replace('\n', " ");
        let help: String = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for condition in BloodSpotCondition::ALL {
            let name = choice_name(condition);
            assert_eq!(choice(&name, &BloodSpotCondition::ALL), Ok(condition));
            assert!(
                help.contains(&format!(" {name},")) || help.contains(&format!(" {name}.")),
                "{name} in help"
            );
        }
        for outcome in BloodSpotOutcome::ALL {
            let name = choice_name(outcome);
            assert_eq!(choice(&name, &BloodSpotOutcome::ALL), Ok(outcome));
            assert!(help.contains(&name), "{name} in help");
        }
        let err = parse_blood_spot_result("scid=maybe").unwrap_err();
        assert!(
            err.contains("not-suspected") && err.contains("declined"),
            "{err}"
        );
        assert!(!err.contains("maybe"));
    }
}
