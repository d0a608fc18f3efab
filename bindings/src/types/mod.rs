//! The core's model types, exposed to Kotlin and Swift as they are. Each definition here
//! mirrors the core's (UniFFI "remote" types): the compiler checks that they match, and
//! there is no copy to convert.

//! By area: the child's record here, then `care` (schedule, growth), `sync` (exchanges,
//! members) and `screens` (the screen models).

use crate::RedbookError;
use chrono::{DateTime, NaiveDate, Utc};
use redbook_core::export::fhir::NotImported;
use redbook_core::model::*;
use redbook_core::record::DetailConflict;
use redbook_core::view::forms;
use redbook_core::{
    ChildList, ChildRecord, ChildSummary, DeviceProfile, HistoryAction, HistoryEvent,
};
use redbook_core::{ImportReport, PrintoutCheck};
use std::time::SystemTime;

mod care;
mod screens;
mod sync;
pub use care::CentileQuery;
pub use sync::MemberInfo;

fn invalid(field: &str, reason: &str) -> anyhow_error::Error {
    RedbookError::InvalidInput {
        field: field.into(),
        reason: reason.into(),
    }
    .into()
}

// UniFFI reports a custom type that fails to lift as the function's own error when the
// error converts back (see uniffi_core's `handle_failed_lift`).
mod anyhow_error {
    pub type Error = uniffi::deps::anyhow::Error;
}

// Dates cross as ISO 8601 strings ("2026-01-31"); instants as platform timestamps
// (java.time.Instant, Foundation.Date).
uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |date| date.to_string(),
    try_lift: |text| text.parse().map_err(|_| invalid("date", forms::EXPECTED_DATE)),
});

type Instant = DateTime<Utc>;
uniffi::custom_type!(Instant, SystemTime, {
    remote,
    lower: |instant| instant.into(),
    try_lift: |time| Ok(time.into()),
});

uniffi::custom_type!(RecordId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| text.parse().map_err(|_| invalid("record_id", forms::EXPECTED_ID)),
});

uniffi::custom_type!(EntryId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| text.parse().map_err(|_| invalid("entry_id", forms::EXPECTED_ID)),
});

#[uniffi::remote(Record)]
pub struct ImportReport {
    pub record: RecordId,
    pub entries_added: u32,
    pub not_imported: Vec<NotImported>,
}

#[uniffi::remote(Record)]
pub struct PrintoutCheck {
    pub record: RecordId,
    pub signer_device: String,
    pub signer_name: String,
    pub signer_role: Role,
    pub signer_organisation: Option<String>,
    pub signer_confirmed_by: Option<String>,
    pub printed_at: Instant,
    pub entries_then: u32,
    pub entries_now: u32,
    pub unchanged: bool,
    pub written_since: Vec<String>,
}

#[uniffi::remote(Record)]
pub struct NotImported {
    pub what: String,
    pub why: String,
}

#[uniffi::remote(Record)]
pub struct Gestation {
    pub total_days: u16,
}

#[uniffi::remote(Enum)]
pub enum Sex {
    Female,
    Male,
}

#[uniffi::remote(Record)]
pub struct ChildDetails {
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub gestation: Option<Gestation>,
    pub nhs_number: Option<String>,
    pub address: Option<String>,
    pub gp_practice: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum DetailField {
    Name,
    BirthDate,
    Sex,
    Gestation,
    NhsNumber,
    Address,
    GpPractice,
}

#[uniffi::remote(Enum)]
pub enum Role {
    Parent,
    Carer,
    Midwife,
    HealthVisitor,
    Gp,
    Nurse,
}

#[uniffi::remote(Record)]
pub struct Author {
    pub device_id: String,
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
}

#[uniffi::remote(Record)]
pub struct DeviceProfile {
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
}

#[uniffi::remote(Enum)]
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
    RiskFactor(RiskFactor),
    ParentalHeights(ParentalHeights),
    RecordClosed(RecordClosure),
    EnteredInError { target: EntryId, reason: String },
}

#[uniffi::remote(Record)]
pub struct ParentalHeights {
    pub date: NaiveDate,
    pub mother_cm: Option<f64>,
    pub father_cm: Option<f64>,
    pub measured_by: MeasuredBy,
}

#[uniffi::remote(Enum)]
pub enum ClosureReason {
    Died,
    ParentalResponsibilityChanged,
    CreatedInError,
}

#[uniffi::remote(Record)]
pub struct RecordClosure {
    pub date: NaiveDate,
    pub reason: ClosureReason,
}

#[uniffi::remote(Enum)]
pub enum RiskFactorKind {
    MaternalHepatitisB,
    TuberculosisRisk,
    ChronicRespiratoryDisease,
    ChronicHeartDisease,
    ChronicKidneyDisease,
    ChronicLiverDisease,
    ChronicNeurologicalDisease,
    LearningDisability,
    Diabetes,
    AspleniaOrSplenicDysfunction,
    Immunosuppression,
    Chickenpox,
    DownSyndrome,
    TurnerSyndrome,
    Scid,
}

#[uniffi::remote(Record)]
pub struct RiskFactor {
    pub date: NaiveDate,
    pub factor: RiskFactorKind,
    pub present: bool,
}

#[uniffi::remote(Enum)]
pub enum DeliveryMode {
    SpontaneousVaginal,
    AssistedVaginal,
    ElectiveCaesarean,
    EmergencyCaesarean,
    Other,
}

#[uniffi::remote(Record)]
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

#[uniffi::remote(Enum)]
pub enum MeasuredBy {
    Professional,
    Parent,
}

#[uniffi::remote(Record)]
pub struct Measurement {
    pub date: NaiveDate,
    pub weight_kg: Option<f64>,
    pub length_cm: Option<f64>,
    pub height_cm: Option<f64>,
    pub head_circumference_cm: Option<f64>,
    pub measured_by: MeasuredBy,
}

#[uniffi::remote(Record)]
pub struct Immunisation {
    pub date: NaiveDate,
    pub vaccine: String,
    pub dose: u8,
    pub product: Option<String>,
    pub batch: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub given_by: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum ScreeningResult {
    Normal,
    Abnormal,
    Referred,
    NotDone,
}

#[uniffi::remote(Enum)]
pub enum NipeStage {
    Newborn,
    SixToEightWeeks,
}

#[uniffi::remote(Enum)]
pub enum HearingEarResult {
    ClearResponse,
    NoClearResponse,
    NotTested,
}

#[uniffi::remote(Enum)]
pub enum HearingOutcome {
    Discharged,
    TargetedFollowUp,
    ReferredToAudiology,
}

#[uniffi::remote(Enum)]
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
    Scid,
}

#[uniffi::remote(Enum)]
pub enum BloodSpotOutcome {
    NotSuspected,
    Suspected,
    CarrierDetected,
    RepeatRequired,
    NotScreened,
    Declined,
}

#[uniffi::remote(Record)]
pub struct BloodSpotResult {
    pub condition: BloodSpotCondition,
    pub outcome: BloodSpotOutcome,
}

#[uniffi::remote(Enum)]
pub enum NewbornScreening {
    Nipe {
        date: NaiveDate,
        stage: NipeStage,
        hips: ScreeningResult,
        eyes: ScreeningResult,
        heart: ScreeningResult,
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

#[uniffi::remote(Enum)]
pub enum ReviewKind {
    Antenatal,
    NewBaby,
    SixToEightWeeks,
    NineToTwelveMonths,
    TwoToTwoAndAHalfYears,
    Other,
}

#[uniffi::remote(Record)]
pub struct AsqScore {
    pub domain: String,
    pub score: u16,
}

#[uniffi::remote(Record)]
pub struct Review {
    pub date: NaiveDate,
    pub kind: ReviewKind,
    pub outcome: String,
    pub asq3_scores: Vec<AsqScore>,
    pub advice: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum HealthEventKind {
    Illness,
    Accident,
    HospitalVisit,
}

#[uniffi::remote(Record)]
pub struct HealthEvent {
    pub date: NaiveDate,
    pub kind: HealthEventKind,
    pub description: String,
    pub place: Option<String>,
    pub outcome: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Medicine {
    pub name: String,
    pub dose: Option<String>,
    pub started: NaiveDate,
    pub stopped: Option<NaiveDate>,
    pub reason: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum AllergySeverity {
    Mild,
    Moderate,
    Severe,
    Unknown,
}

#[uniffi::remote(Record)]
pub struct Allergy {
    pub substance: String,
    pub reaction: Option<String>,
    pub severity: AllergySeverity,
    pub noted_on: Option<NaiveDate>,
}

#[uniffi::remote(Enum)]
pub enum ContactRole {
    HealthVisitor,
    Gp,
    Clinic,
    Other,
}

#[uniffi::remote(Record)]
pub struct Contact {
    pub role: ContactRole,
    pub name: String,
    pub phone: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum NoteKind {
    Observation,
    DevelopmentalFirst,
    QuestionForNextVisit,
    FamilyHistory,
    ImportantHealthProblem,
    ProfessionalComment,
}

#[uniffi::remote(Record)]
pub struct Note {
    pub date: NaiveDate,
    pub kind: NoteKind,
    pub text: String,
}

#[uniffi::remote(Record)]
pub struct StoredEntry {
    pub id: EntryId,
    pub author: Author,
    pub recorded_at: Instant,
    pub amends: Option<EntryId>,
    pub body: EntryBody,
    pub source: Option<String>,
    pub confirmed: bool,
}

#[uniffi::remote(Record)]
pub struct Flag {
    pub field: String,
    pub note: String,
    pub for_review: bool,
}

#[uniffi::remote(Enum)]
pub enum EntryStatus {
    Current,
    Amended { by: EntryId },
    EnteredInError { marked_by: EntryId, reason: String },
}

#[uniffi::remote(Enum)]
pub enum Verification {
    Verified,
    Unverified,
    Invalid,
    NotPermitted,
}

#[uniffi::remote(Enum)]
pub enum Access {
    Admin,
    Writer,
    Reader,
}

#[uniffi::remote(Record)]
pub struct EntryView {
    pub entry: StoredEntry,
    pub status: EntryStatus,
    pub flags: Vec<Flag>,
    pub verification: Verification,
    pub author_confirmed_by: Option<String>,
    pub author_name_then: Option<String>,
    pub withheld_until: Option<NaiveDate>,
}

#[uniffi::remote(Record)]
pub struct DetailConflict {
    pub field: DetailField,
    pub values: Vec<String>,
}

#[uniffi::remote(Record)]
pub struct ChildRecord {
    pub id: RecordId,
    pub details: ChildDetails,
    pub conflicts: Vec<DetailConflict>,
    pub entries: Vec<EntryView>,
    pub unreadable_entries: Vec<EntryId>,
    pub closed: Option<EntryView>,
}

#[uniffi::remote(Record)]
pub struct ChildSummary {
    pub id: RecordId,
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub nhs_number: Option<String>,
    pub entry_count: u64,
    pub has_conflicts: bool,
    pub last_change: Option<Instant>,
    pub withdrawn: bool,
}

#[uniffi::remote(Record)]
pub struct ChildList {
    pub children: Vec<ChildSummary>,
    pub damaged: Vec<Option<RecordId>>,
    pub withdrawn: Vec<ChildSummary>,
}

#[uniffi::remote(Enum)]
pub enum HistoryAction {
    Added,
    Amended { target: EntryId },
    MarkedEnteredInError { target: EntryId, reason: String },
}

#[uniffi::remote(Record)]
pub struct HistoryEvent {
    pub entry_id: EntryId,
    pub recorded_at: Instant,
    pub author: Author,
    pub action: HistoryAction,
    pub kind: String,
}

/// One detail to set; `value: None` clears it. Writing a field resolves its conflict.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DetailUpdate {
    pub field: DetailField,
    pub value: Option<String>,
}
