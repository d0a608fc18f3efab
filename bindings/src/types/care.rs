//! The schedule and the growth charts.

use chrono::NaiveDate;
use redbook_core::growth::{
    Assessment, ChartSet, Correction, FalteringConcern, GrowthFlag, Lms, Measure,
    MidParentalHeight, Reference, Velocity, WeighedOften, WeightGain,
};
use redbook_core::model::*;
use redbook_core::schedule::{
    Check, CheckItem, DueItem, DueReport, DueStatus, Eligibility, GivenDose, Programme, Reminder,
    RiskFactorUse,
};
use redbook_core::{GrowthPoint, GrowthSeries};

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
