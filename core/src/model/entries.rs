//! One type per red book section (docs/domain.md, "What the record holds").

use super::{EntryId, Gestation};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What an entry says. Adding a variant is a compatible change: an older app that meets
/// an unknown kind keeps it and shows it as such (see `record`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryBody {
    BirthDetails(BirthDetails),
    Measurement(Measurement),
    Immunisation(Immunisation),
    NewbornScreening(NewbornScreening),
    Review(Review),
    HealthEvent(HealthEvent),
    Medicine(Medicine),
    Allergy(Allergy),
    Contact(Contact),
    Note(Note),
    /// A fact that changes what the schedule offers (mother's hepatitis B status, BCG
    /// eligibility, a clinical risk group for flu, chickenpox had): recorded, not a
    /// command-line flag, so that every device works out the same due list.
    RiskFactor(RiskFactor),
    /// The child's biological parents' heights, for the mid-parental height on the
    /// height chart (`growth::mid_parental_height`). Either may be given alone.
    ParentalHeights(ParentalHeights),
    /// A professional closes the record (the child died, or parental responsibility
    /// changed): from then on it is read-only on parents' and carers' devices.
    RecordClosed(RecordClosure),
    /// Marks another entry "entered in error": it is hidden, never deleted.
    EnteredInError {
        target: EntryId,
        reason: String,
    },
}

impl EntryBody {
    pub fn kind_name(&self) -> &'static str {
        match self {
            EntryBody::BirthDetails(_) => "birth_details",
            EntryBody::Measurement(_) => "measurement",
            EntryBody::Immunisation(_) => "immunisation",
            EntryBody::NewbornScreening(_) => "newborn_screening",
            EntryBody::Review(_) => "review",
            EntryBody::HealthEvent(_) => "health_event",
            EntryBody::Medicine(_) => "medicine",
            EntryBody::Allergy(_) => "allergy",
            EntryBody::Contact(_) => "contact",
            EntryBody::Note(_) => "note",
            EntryBody::RiskFactor(_) => "risk_factor",
            EntryBody::RecordClosed(_) => "record_closed",
            EntryBody::ParentalHeights(_) => "parental_heights",
            EntryBody::EnteredInError { .. } => "entered_in_error",
        }
    }

    /// What the entry is, in plain words ("a vaccination"); the newborn screening tests
    /// apart, since a correction is of the same test (`record::write_rules`).
    pub fn kind_words(&self) -> &'static str {
        match self {
            EntryBody::BirthDetails(_) => "birth details",
            EntryBody::Measurement(_) => "a measurement",
            EntryBody::Immunisation(_) => "a vaccination",
            EntryBody::NewbornScreening(NewbornScreening::BloodSpot { .. }) => {
                "a blood spot result"
            }
            EntryBody::NewbornScreening(NewbornScreening::Hearing { .. }) => "a hearing screen",
            EntryBody::NewbornScreening(NewbornScreening::Nipe { .. }) => {
                "a physical examination (NIPE)"
            }
            EntryBody::Review(_) => "a review",
            EntryBody::HealthEvent(_) => "an illness, accident or hospital visit",
            EntryBody::Medicine(_) => "a medicine",
            EntryBody::Allergy(_) => "an allergy",
            EntryBody::Contact(_) => "a contact",
            EntryBody::Note(_) => "a note",
            EntryBody::RiskFactor(_) => "a risk factor",
            EntryBody::ParentalHeights(_) => "the parents' heights",
            EntryBody::RecordClosed(_) => "a closure of the record",
            EntryBody::EnteredInError { .. } => "an entered-in-error mark",
        }
    }

    /// The clinical date the entry is about, for the timeline.
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            EntryBody::BirthDetails(_) | EntryBody::Contact(_) => None,
            EntryBody::EnteredInError { .. } => None,
            EntryBody::Measurement(m) => Some(m.date),
            EntryBody::Immunisation(i) => Some(i.date),
            EntryBody::NewbornScreening(s) => Some(s.date()),
            EntryBody::Review(r) => Some(r.date),
            EntryBody::HealthEvent(h) => Some(h.date),
            EntryBody::Medicine(m) => Some(m.started),
            EntryBody::Allergy(a) => a.noted_on,
            EntryBody::Note(n) => Some(n.date),
            EntryBody::RiskFactor(r) => Some(r.date),
            EntryBody::RecordClosed(c) => Some(c.date),
            EntryBody::ParentalHeights(h) => Some(h.date),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMode {
    SpontaneousVaginal,
    AssistedVaginal,
    ElectiveCaesarean,
    EmergencyCaesarean,
    Other,
}

/// Written by the midwife at birth.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BirthDetails {
    pub gestation: Option<Gestation>,
    pub birth_weight_kg: Option<f64>,
    pub head_circumference_cm: Option<f64>,
    pub length_cm: Option<f64>,
    pub place_of_birth: Option<String>,
    pub delivery_mode: Option<DeliveryMode>,
    pub apgar_1_min: Option<u8>,
    pub apgar_5_min: Option<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasuredBy {
    Professional,
    /// Parents' home measurements are kept but marked as such.
    Parent,
}

/// Growth: at least one of the measures is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    pub date: NaiveDate,
    pub weight_kg: Option<f64>,
    /// Lying length, under 2 years.
    pub length_cm: Option<f64>,
    /// Standing height, from 2 years.
    pub height_cm: Option<f64>,
    pub head_circumference_cm: Option<f64>,
    pub measured_by: MeasuredBy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Immunisation {
    pub date: NaiveDate,
    /// Vaccine as the schedule names it (e.g. "6-in-1", "MenB"); unknown ones are kept.
    pub vaccine: String,
    /// Dose number in the course, from 1.
    pub dose: u8,
    pub product: Option<String>,
    pub batch: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub given_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningResult {
    Normal,
    Abnormal,
    Referred,
    NotDone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NipeStage {
    /// Within 72 hours of birth.
    Newborn,
    SixToEightWeeks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HearingEarResult {
    ClearResponse,
    NoClearResponse,
    NotTested,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HearingOutcome {
    Discharged,
    TargetedFollowUp,
    ReferredToAudiology,
}

/// Conditions the blood spot test screens for (HT1 from October 2025).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BloodSpotCondition {
    Pku,
    Scd,
    Cf,
    Cht,
    Mcadd,
    Hcu,
    Msud,
    Ga1,
    Iva,
    Ht1,
    /// Severe combined immunodeficiency: screened on the blood spot in England's
    /// evaluation areas; live vaccines (BCG, rotavirus) wait for the result.
    Scid,
}

impl BloodSpotCondition {
    /// Every condition, in the order the blood spot card lists them.
    pub const ALL: [BloodSpotCondition; 11] = [
        BloodSpotCondition::Pku,
        BloodSpotCondition::Scd,
        BloodSpotCondition::Cf,
        BloodSpotCondition::Cht,
        BloodSpotCondition::Mcadd,
        BloodSpotCondition::Hcu,
        BloodSpotCondition::Msud,
        BloodSpotCondition::Ga1,
        BloodSpotCondition::Iva,
        BloodSpotCondition::Ht1,
        BloodSpotCondition::Scid,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BloodSpotOutcome {
    NotSuspected,
    Suspected,
    CarrierDetected,
    RepeatRequired,
    NotScreened,
    /// The parents chose not to have the baby screened for this condition (for SCID the
    /// evaluation asks them: UKHSA-SCID-CRIB in `schedule::data`). An app older than this
    /// variant cannot read the entry and keeps it unread, by id.
    Declined,
}

impl BloodSpotOutcome {
    pub const ALL: [BloodSpotOutcome; 6] = [
        BloodSpotOutcome::NotSuspected,
        BloodSpotOutcome::Suspected,
        BloodSpotOutcome::CarrierDetected,
        BloodSpotOutcome::RepeatRequired,
        BloodSpotOutcome::NotScreened,
        BloodSpotOutcome::Declined,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BloodSpotResult {
    pub condition: BloodSpotCondition,
    pub outcome: BloodSpotOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum NewbornScreening {
    /// Newborn and infant physical examination.
    Nipe {
        date: NaiveDate,
        stage: NipeStage,
        hips: ScreeningResult,
        eyes: ScreeningResult,
        heart: ScreeningResult,
        /// Boys only.
        testes: Option<ScreeningResult>,
    },
    Hearing {
        date: NaiveDate,
        left: HearingEarResult,
        right: HearingEarResult,
        outcome: HearingOutcome,
    },
    BloodSpot {
        sample_date: NaiveDate,
        results: Vec<BloodSpotResult>,
    },
}

impl NewbornScreening {
    pub fn date(&self) -> NaiveDate {
        match self {
            NewbornScreening::Nipe { date, .. } | NewbornScreening::Hearing { date, .. } => *date,
            NewbornScreening::BloodSpot { sample_date, .. } => *sample_date,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    Antenatal,
    NewBaby,
    SixToEightWeeks,
    NineToTwelveMonths,
    TwoToTwoAndAHalfYears,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub date: NaiveDate,
    pub kind: ReviewKind,
    pub outcome: String,
    /// ASQ-3 domain scores as written on the form.
    pub asq3_scores: Vec<AsqScore>,
    pub advice: Option<String>,
}

/// One ASQ-3 domain (communication, gross motor, fine motor, problem solving,
/// personal-social), scored 0-60.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsqScore {
    pub domain: String,
    pub score: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthEventKind {
    Illness,
    Accident,
    HospitalVisit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthEvent {
    pub date: NaiveDate,
    pub kind: HealthEventKind,
    pub description: String,
    pub place: Option<String>,
    pub outcome: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Medicine {
    pub name: String,
    pub dose: Option<String>,
    pub started: NaiveDate,
    pub stopped: Option<NaiveDate>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AllergySeverity {
    Mild,
    Moderate,
    Severe,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allergy {
    pub substance: String,
    pub reaction: Option<String>,
    pub severity: AllergySeverity,
    pub noted_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    HealthVisitor,
    Gp,
    Clinic,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub role: ContactRole,
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The parent's own pages.
    Observation,
    DevelopmentalFirst,
    QuestionForNextVisit,
    FamilyHistory,
    ImportantHealthProblem,
    /// A professional's comment (Child Health Digital Event CH026).
    ProfessionalComment,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub date: NaiveDate,
    pub kind: NoteKind,
    pub text: String,
}

/// What a risk factor entry is about. Each changes what the record works out: the
/// schedule (`schedule::Eligibility`, its source with the rule in `schedule::data`) or
/// the growth charts (`growth::ChartSet`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFactorKind {
    /// The mother screened hepatitis B positive in pregnancy (Green Book ch. 18).
    MaternalHepatitisB,
    /// Eligible for BCG by the criteria of Green Book ch. 32 (tuberculosis risk).
    TuberculosisRisk,
    // Clinical risk groups for flu, from 6 months (Green Book ch. 19, table 19.4).
    ChronicRespiratoryDisease,
    ChronicHeartDisease,
    ChronicKidneyDisease,
    ChronicLiverDisease,
    ChronicNeurologicalDisease,
    LearningDisability,
    Diabetes,
    AspleniaOrSplenicDysfunction,
    Immunosuppression,
    /// The child has had chickenpox: the MMRV catch-up is not needed.
    Chickenpox,
    // Conditions with their own growth charts (`growth::ChartSet`).
    DownSyndrome,
    TurnerSyndrome,
    /// Severe combined immunodeficiency, found or ruled out by the specialist immunology
    /// team after a "SCID suspected" newborn screening result (`schedule::scid`).
    Scid,
}

impl RiskFactorKind {
    pub const ALL: [RiskFactorKind; 15] = [
        RiskFactorKind::MaternalHepatitisB,
        RiskFactorKind::TuberculosisRisk,
        RiskFactorKind::ChronicRespiratoryDisease,
        RiskFactorKind::ChronicHeartDisease,
        RiskFactorKind::ChronicKidneyDisease,
        RiskFactorKind::ChronicLiverDisease,
        RiskFactorKind::ChronicNeurologicalDisease,
        RiskFactorKind::LearningDisability,
        RiskFactorKind::Diabetes,
        RiskFactorKind::AspleniaOrSplenicDysfunction,
        RiskFactorKind::Immunosuppression,
        RiskFactorKind::Chickenpox,
        RiskFactorKind::DownSyndrome,
        RiskFactorKind::TurnerSyndrome,
        RiskFactorKind::Scid,
    ];

    /// A clinical risk group for flu (Green Book ch. 19, table 19.4).
    pub fn is_flu_risk_group(self) -> bool {
        !matches!(
            self,
            RiskFactorKind::MaternalHepatitisB
                | RiskFactorKind::TuberculosisRisk
                | RiskFactorKind::Chickenpox
                | RiskFactorKind::DownSyndrome
                | RiskFactorKind::TurnerSyndrome
                // A diagnosis the specialist team acts on; a flu risk group is recorded
                // as its own entry (immunosuppression), never inferred here.
                | RiskFactorKind::Scid
        )
    }

    /// Whether only a professional's entry changes the schedule. A parent knows their
    /// child had chickenpox; a diagnosis, a screening result or a TB risk assessment is a
    /// professional's to record (docs/clinical-safety/hazard-log.md, H16).
    pub fn professional_only(self) -> bool {
        self != RiskFactorKind::Chickenpox
    }

    /// In words, as a parent reads it.
    pub fn label(self) -> &'static str {
        match self {
            RiskFactorKind::MaternalHepatitisB => "mother has hepatitis B",
            RiskFactorKind::TuberculosisRisk => "eligible for BCG (tuberculosis risk)",
            RiskFactorKind::ChronicRespiratoryDisease => "chronic respiratory disease",
            RiskFactorKind::ChronicHeartDisease => "chronic heart disease",
            RiskFactorKind::ChronicKidneyDisease => "chronic kidney disease",
            RiskFactorKind::ChronicLiverDisease => "chronic liver disease",
            RiskFactorKind::ChronicNeurologicalDisease => "chronic neurological disease",
            RiskFactorKind::LearningDisability => "learning disability",
            RiskFactorKind::Diabetes => "diabetes",
            RiskFactorKind::AspleniaOrSplenicDysfunction => "asplenia or splenic dysfunction",
            RiskFactorKind::Immunosuppression => "immunosuppression",
            RiskFactorKind::Chickenpox => "has had chickenpox",
            RiskFactorKind::DownSyndrome => "Down syndrome (its own growth charts)",
            RiskFactorKind::TurnerSyndrome => "Turner syndrome (its own height chart)",
            RiskFactorKind::Scid => {
                "severe combined immunodeficiency (SCID), by the specialist team"
            }
        }
    }
}

impl std::str::FromStr for RiskFactorKind {
    type Err = super::ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        RiskFactorKind::ALL
            .into_iter()
            .find(|k| {
                serde_json::to_value(k)
                    .ok()
                    .is_some_and(|v| v.as_str() == Some(wanted.as_str()))
            })
            .ok_or_else(|| {
                super::ValidationError::new(
                    "factor",
                    "one of maternal-hepatitis-b, tuberculosis-risk, a flu risk group (e.g. chronic-heart-disease), chickenpox, down-syndrome, turner-syndrome, scid",
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentalHeights {
    pub date: NaiveDate,
    pub mother_cm: Option<f64>,
    pub father_cm: Option<f64>,
    /// Measured by a professional, or as the parents said.
    pub measured_by: MeasuredBy,
}

/// Why a professional closed a record (NHSX PCHR MVP 2.1.3, 6.1.8), or why its creator
/// withdrew it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    Died,
    ParentalResponsibilityChanged,
    /// Added by mistake (a duplicate, the wrong child): withdrawn by the device that
    /// created it while nobody else has written to it; it leaves the list of children,
    /// nothing is deleted (`record::Record::withdrawn`).
    CreatedInError,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordClosure {
    pub date: NaiveDate,
    pub reason: ClosureReason,
}

/// A risk factor found (`present`) or ruled out (not present) on a date. The latest
/// counted entry for a kind decides (`book::schedule_input`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskFactor {
    pub date: NaiveDate,
    pub factor: RiskFactorKind,
    pub present: bool,
}

impl EntryBody {
    /// One line a parent understands, the same in the CLI and both apps.
    pub fn summary(&self) -> String {
        fn join(parts: Vec<String>) -> String {
            parts.join(", ")
        }
        fn snake(value: impl Serialize) -> String {
            serde_json::to_value(value)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
                .unwrap_or_default()
        }
        match self {
            EntryBody::BirthDetails(b) => {
                let mut parts = vec!["Birth".to_string()];
                parts.extend(b.gestation.map(|g| format!("{g} weeks")));
                parts.extend(b.birth_weight_kg.map(|w| format!("weight {w:.3} kg")));
                parts.extend(b.length_cm.map(|l| format!("length {l:.1} cm")));
                parts.extend(b.head_circumference_cm.map(|h| format!("head {h:.1} cm")));
                parts.extend(b.delivery_mode.map(snake));
                join(parts)
            }
            EntryBody::Measurement(m) => {
                let mut parts = Vec::new();
                parts.extend(m.weight_kg.map(|w| format!("weight {w:.2} kg")));
                parts.extend(m.length_cm.map(|l| format!("length {l:.1} cm")));
                parts.extend(m.height_cm.map(|h| format!("height {h:.1} cm")));
                parts.extend(m.head_circumference_cm.map(|h| format!("head {h:.1} cm")));
                if m.measured_by == MeasuredBy::Parent {
                    parts.push("measured at home".into());
                }
                join(parts)
            }
            EntryBody::Immunisation(i) => {
                let mut text = format!("{} dose {}", i.vaccine, i.dose);
                if let Some(batch) = &i.batch {
                    text.push_str(&format!(" (batch {batch})"));
                }
                text
            }
            EntryBody::NewbornScreening(NewbornScreening::Nipe {
                stage,
                hips,
                eyes,
                heart,
                testes,
                ..
            }) => {
                let mut parts = vec![
                    format!("NIPE {}", snake(stage)),
                    format!("hips {}", snake(hips)),
                    format!("eyes {}", snake(eyes)),
                    format!("heart {}", snake(heart)),
                ];
                parts.extend(testes.map(|t| format!("testes {}", snake(t))));
                join(parts)
            }
            EntryBody::NewbornScreening(NewbornScreening::Hearing {
                left,
                right,
                outcome,
                ..
            }) => {
                format!(
                    "Hearing: left {}, right {}; {}",
                    snake(left),
                    snake(right),
                    snake(outcome)
                )
            }
            // Only a withheld view has no results (the door needs one): say so, never
            // "none suspected" (`book::withhold_new_blood_spot`).
            EntryBody::NewbornScreening(NewbornScreening::BloodSpot { results, .. })
                if results.is_empty() =>
            {
                "Blood spot sample taken: results not shown here yet".to_string()
            }
            EntryBody::NewbornScreening(NewbornScreening::BloodSpot { results, .. }) => {
                let flagged: Vec<String> = results
                    .iter()
                    .filter(|r| r.outcome != BloodSpotOutcome::NotSuspected)
                    .map(|r| format!("{:?} {}", r.condition, snake(r.outcome)).to_uppercase())
                    .collect();
                if flagged.is_empty() {
                    format!(
                        "Blood spot: {} conditions screened, none suspected",
                        results.len()
                    )
                } else {
                    format!("Blood spot: {}", flagged.join(", "))
                }
            }
            EntryBody::Review(r) => format!("{} review: {}", snake(r.kind), r.outcome),
            EntryBody::HealthEvent(h) => format!("{}: {}", snake(h.kind), h.description),
            EntryBody::Medicine(m) => match &m.dose {
                Some(dose) => format!("{} {}", m.name, dose),
                None => m.name.clone(),
            },
            EntryBody::Allergy(a) => format!("Allergy: {} ({})", a.substance, snake(a.severity)),
            EntryBody::Contact(c) => match &c.phone {
                Some(phone) => format!("{}: {} {}", snake(c.role), c.name, phone),
                None => format!("{}: {}", snake(c.role), c.name),
            },
            EntryBody::Note(n) => format!("{}: {}", snake(n.kind), n.text),
            EntryBody::ParentalHeights(h) => {
                let mut parts = vec!["Parents' heights".to_string()];
                parts.extend(h.mother_cm.map(|m| format!("mother {m:.1} cm")));
                parts.extend(h.father_cm.map(|f| format!("father {f:.1} cm")));
                if h.measured_by == MeasuredBy::Parent {
                    parts.push("as the parents said".into());
                }
                join(parts)
            }
            EntryBody::RecordClosed(c) => match c.reason {
                ClosureReason::Died => "Record closed: the child died".to_string(),
                ClosureReason::ParentalResponsibilityChanged => {
                    "Record closed: parental responsibility changed".to_string()
                }
                ClosureReason::CreatedInError => {
                    "Record withdrawn: it was created in error".to_string()
                }
            },
            EntryBody::RiskFactor(r) if r.present => format!("Risk factor: {}", r.factor.label()),
            EntryBody::RiskFactor(r) => format!("Risk factor ruled out: {}", r.factor.label()),
            EntryBody::EnteredInError { reason, .. } => {
                format!("marked an entry entered in error: {reason}")
            }
        }
    }
}
