//! Screen models (`redbook_core::view::screens`): what each screen shows, worded.

use chrono::NaiveDate;
use redbook_core::model::{DetailField, Verification};
use redbook_core::view::screens::{
    ChildRowView, ChildrenView, ConflictView, GrowthRowView, GrowthView, ImmunisationsView,
    PlannedNotification, SyncStatus, TimelineRowView, TimelineView, VaccineRowView,
};

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
    pub withdrawn: String,
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
    pub conflicts: Vec<ConflictView>,
    pub closed: Option<String>,
}

#[uniffi::remote(Record)]
pub struct ConflictView {
    pub text: String,
    pub field: DetailField,
    pub choices: Vec<String>,
}

#[uniffi::remote(Enum)]
pub enum SyncStatus {
    NotYet,
    Running,
    UpToDate { records_changed: u32 },
    WillRetry,
    Failed,
    Stopped,
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
    pub hour: u8,
    pub title: String,
    pub body: String,
}
