//! The core's model types, exposed to Kotlin and Swift as they are. Each definition here
//! mirrors the core's (UniFFI "remote" types): the compiler checks that they match, and
//! there is no copy to convert.

use crate::RedbookError;
use chrono::{DateTime, NaiveDate, Utc};
use redbook_core::export::fhir::NotImported;
use redbook_core::growth::{
    Assessment, ChartSet, Correction, FalteringConcern, GrowthFlag, Lms, Measure,
    MidParentalHeight, Reference, Velocity, WeighedOften, WeightGain,
};
use redbook_core::model::*;
use redbook_core::record::DetailConflict;
use redbook_core::schedule::{
    Check, CheckItem, DueItem, DueReport, DueStatus, Eligibility, GivenDose, Programme, Reminder,
    RiskFactorUse,
};
use redbook_core::view::screens::{
    ChildRowView, ChildrenView, GrowthRowView, GrowthView, ImmunisationsView, PlannedNotification,
    TimelineRowView, TimelineView, VaccineRowView,
};
use redbook_core::{
    ChildList, ChildRecord, ChildSummary, DeviceProfile, HistoryAction, HistoryEvent,
};
use redbook_core::{GrowthPoint, GrowthSeries, ImportReport, Received, RelayReport, Restored};
use std::time::SystemTime;

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
    try_lift: |text| text.parse().map_err(|_| invalid("date", "expected YYYY-MM-DD")),
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
    try_lift: |text| text.parse().map_err(|_| invalid("record_id", "expected 32 hex digits")),
});

uniffi::custom_type!(EntryId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| text.parse().map_err(|_| invalid("entry_id", "expected 32 hex digits")),
});

#[uniffi::remote(Record)]
pub struct ImportReport {
    pub record: RecordId,
    pub entries_added: u32,
    pub not_imported: Vec<NotImported>,
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
}

#[uniffi::remote(Record)]
pub struct Flag {
    pub field: String,
    pub note: String,
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
}

#[uniffi::remote(Record)]
pub struct ChildList {
    pub children: Vec<ChildSummary>,
    pub damaged: Vec<Option<RecordId>>,
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

#[uniffi::remote(Enum)]
pub enum Programme {
    Routine,
    HepBAtRisk,
    Bcg,
    MmrvCatchUp,
    Flu,
}

#[uniffi::remote(Enum)]
pub enum Check {
    NipeNewborn,
    BloodSpot,
    Hearing,
    NewBabyReview,
    NipeSixToEightWeeks,
    SixToEightWeekReview,
    NineToTwelveMonthReview,
    TwoYearReview,
}

#[uniffi::remote(Enum)]
pub enum DueStatus {
    Given,
    Due,
    Overdue,
    Upcoming,
    NotApplicable,
    NotRecorded,
}

#[uniffi::remote(Record)]
pub struct Eligibility {
    pub hep_b_at_risk: bool,
    pub bcg: bool,
    pub flu_clinical_risk: bool,
    pub had_chickenpox: bool,
}

#[uniffi::remote(Record)]
pub struct GivenDose {
    pub vaccine: String,
    pub dose: u8,
    pub date: NaiveDate,
    pub reported_by: Option<String>,
}

#[uniffi::remote(Record)]
pub struct DueItem {
    pub programme: Programme,
    pub vaccine: String,
    pub dose: u8,
    pub visit: String,
    pub due_date: NaiveDate,
    pub overdue_from: NaiveDate,
    pub status: DueStatus,
    pub given_on: Option<NaiveDate>,
    pub reported_by: Option<String>,
    pub note: Option<String>,
    pub source: String,
    pub rule_in_force_from: NaiveDate,
}

#[uniffi::remote(Record)]
pub struct CheckItem {
    pub check: Check,
    pub title: String,
    pub window_from: NaiveDate,
    pub window_until: NaiveDate,
    pub status: DueStatus,
    pub done_on: Option<NaiveDate>,
    pub source: String,
}

#[uniffi::remote(Record)]
pub struct Reminder {
    pub remind_on: NaiveDate,
    pub due_date: NaiveDate,
    pub title: String,
}

#[uniffi::remote(Record)]
pub struct DueReport {
    pub on: NaiveDate,
    pub birth_date: NaiveDate,
    pub immunisations: Vec<DueItem>,
    pub checks: Vec<CheckItem>,
    pub other_vaccines: Vec<GivenDose>,
    pub reminders: Vec<Reminder>,
    pub risk_factors: Vec<RiskFactorUse>,
    pub closure_waiting: Option<String>,
}

#[uniffi::remote(Record)]
pub struct RiskFactorUse {
    pub entry_id: String,
    pub factor: RiskFactorKind,
    pub present: bool,
    pub date: NaiveDate,
    pub recorded_by: String,
    pub used: bool,
    pub why_not_used: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum Measure {
    WeightKg,
    HeightCm,
    HeadCircumferenceCm,
    Bmi,
}

#[uniffi::remote(Enum)]
pub enum Reference {
    Uk90Preterm,
    Who2006Infant,
    Who2006Child,
    Uk90Child,
    Trisomy21,
    Turner,
}

#[uniffi::remote(Enum)]
pub enum ChartSet {
    UkWho,
    DownSyndrome,
    TurnerSyndrome,
}

#[uniffi::remote(Enum)]
pub enum Correction {
    RcpchDigital,
    PaperChart,
}

#[uniffi::remote(Enum)]
pub enum GrowthFlag {
    Implausible,
}

#[uniffi::remote(Record)]
pub struct Lms {
    pub l: f64,
    pub m: f64,
    pub s: f64,
}

#[uniffi::remote(Record)]
pub struct MidParentalHeight {
    pub height_cm: f64,
    pub sds: f64,
    pub centile: f64,
    pub description: String,
    pub lower_cm: f64,
    pub upper_cm: f64,
}

#[uniffi::remote(Record)]
pub struct Assessment {
    pub measure: Measure,
    pub value: f64,
    pub reference: Reference,
    pub correction: Correction,
    pub chronological_age_days: i64,
    pub corrected_age_days: i64,
    pub used_corrected_age: bool,
    pub z: f64,
    pub centile: f64,
    pub description: String,
    pub flags: Vec<GrowthFlag>,
    pub lms: Lms,
}

#[uniffi::remote(Enum)]
pub enum FalteringConcern {
    EarlyWeightLoss {
        percent: f64,
        on: NaiveDate,
    },
    CentileFall {
        spaces: f64,
        threshold: f64,
        on: NaiveDate,
    },
}

#[uniffi::remote(Record)]
pub struct GrowthPoint {
    pub entry_id: EntryId,
    pub date: NaiveDate,
    pub value: f64,
    pub assessment: Option<Assessment>,
    pub problem: Option<String>,
}

#[uniffi::remote(Record)]
pub struct GrowthSeries {
    pub measure: Measure,
    pub correction: Correction,
    pub chart: ChartSet,
    pub gestation_assumed: bool,
    pub points: Vec<GrowthPoint>,
    pub faltering: Vec<FalteringConcern>,
    pub velocity: Option<Velocity>,
    pub weight_gain: Option<WeightGain>,
    pub weighed_often: Option<WeighedOften>,
}

#[uniffi::remote(Record)]
pub struct Velocity {
    pub from: NaiveDate,
    pub on: NaiveDate,
    pub change: f64,
    pub per_year: f64,
}

#[uniffi::remote(Record)]
pub struct WeightGain {
    pub from: NaiveDate,
    pub on: NaiveDate,
    pub sds: f64,
    pub centile: f64,
    pub below_thrive_line: bool,
}

#[uniffi::remote(Record)]
pub struct WeighedOften {
    pub on: NaiveDate,
    pub days_since_previous: i64,
    pub advised: String,
}

/// One measurement to put on the chart, for a child who need not be in a record.
#[derive(Debug, Clone, uniffi::Record)]
pub struct CentileQuery {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub gestation: Gestation,
    pub date: NaiveDate,
    pub measure: Measure,
    pub value: f64,
}

#[uniffi::remote(Record)]
pub struct Received {
    pub record_id: RecordId,
    pub from_device: String,
    pub changed: bool,
}

#[uniffi::remote(Record)]
pub struct RelayReport {
    pub received: u32,
    pub refused: u32,
    pub posted: u32,
    pub changed: bool,
    pub more_waiting: bool,
    pub removed: bool,
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

#[uniffi::remote(Record)]
pub struct Restored {
    pub records: Vec<RecordId>,
    pub removed: Vec<String>,
    pub skipped: Vec<RecordId>,
    pub words: Option<String>,
}

/// A device that may read and write a child's record.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MemberInfo {
    pub device_id: String,
    /// What it may do: admin (invites and removes), writer, reader.
    pub access: Access,
    /// The role the granting admin gave it.
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
    pub added_by: String,
    pub added_at: Instant,
    /// The member that removed it, if it was removed.
    pub removed_by: Option<String>,
    /// The organisation that confirms its role, if one on the trust list does.
    pub confirmed_by: Option<String>,
    /// Who it is, in words a parent reads: role as granted, by whom, whether confirmed.
    pub standing: String,
}

impl MemberInfo {
    pub fn from_members(members: Vec<Member>) -> Vec<Self> {
        members
            .iter()
            .map(|m| MemberInfo {
                standing: redbook_core::view::member_standing(m, &members),
                ..MemberInfo::from(m.clone())
            })
            .collect()
    }
}

impl From<Member> for MemberInfo {
    fn from(m: Member) -> Self {
        MemberInfo {
            standing: String::new(),
            confirmed_by: m.confirmed_by,
            device_id: m.device_id,
            access: m.access,
            role: m.role,
            display_name: m.display_name,
            organisation: m.organisation,
            added_by: m.added_by,
            added_at: m.added_at,
            removed_by: m.removed.map(|r| r.by),
        }
    }
}

// Screen models (`redbook_core::view::screens`): what each screen shows, worded.

#[uniffi::remote(Record)]
pub struct ChildRowView {
    pub id: String,
    pub name: String,
    pub age: String,
    pub nhs_number: String,
    pub entries: String,
    pub needs_attention: bool,
}

#[uniffi::remote(Record)]
pub struct ChildrenView {
    pub children: Vec<ChildRowView>,
    pub damaged_records: u32,
}

#[uniffi::remote(Record)]
pub struct TimelineRowView {
    pub entry_id: String,
    pub date: String,
    pub text: String,
    pub author: String,
    pub verification: Verification,
    pub verification_text: String,
    pub checks: Vec<String>,
    pub corrected: bool,
}

#[uniffi::remote(Record)]
pub struct TimelineView {
    pub title: String,
    pub subtitle: String,
    pub rows: Vec<TimelineRowView>,
    pub conflicts: Vec<String>,
    pub closed: Option<String>,
}

#[uniffi::remote(Record)]
pub struct GrowthRowView {
    pub date: String,
    pub value: String,
    pub centile: String,
}

#[uniffi::remote(Record)]
pub struct GrowthView {
    pub rows: Vec<GrowthRowView>,
    pub notes: Vec<String>,
    pub chart_name: String,
}

#[uniffi::remote(Record)]
pub struct VaccineRowView {
    pub vaccine: String,
    pub date: String,
    pub status: String,
    pub urgent: bool,
}

#[uniffi::remote(Record)]
pub struct ImmunisationsView {
    pub given: Vec<VaccineRowView>,
    pub due: Vec<VaccineRowView>,
    pub next_visit: Option<String>,
    pub risk_factors: Vec<String>,
}

#[uniffi::remote(Record)]
pub struct PlannedNotification {
    pub id: String,
    pub on: NaiveDate,
    pub title: String,
    pub body: String,
}
