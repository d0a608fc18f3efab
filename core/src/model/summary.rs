//! What a list of children shows of each record. The store keeps one sealed beside each
//! record (docs/adr/0010-caseload.md); the book lists and finds children by them.

use super::RecordId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildSummary {
    pub id: RecordId,
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    /// Ten digits, as validated.
    pub nhs_number: Option<String>,
    pub entry_count: u64,
    pub has_conflicts: bool,
    /// When this device last stored a change to the record (its own or one received);
    /// for a summary rebuilt from the document, the latest change's own time (never
    /// later than now).
    pub last_change: Option<DateTime<Utc>>,
}
