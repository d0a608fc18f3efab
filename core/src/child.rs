//! What reading a child's record gives: the record as the app shows it, the list of
//! children, the history. The book produces these; `view` and `export`
//! read them, and so depend on this module rather than on the book.

pub use crate::model::ChildSummary;
use crate::model::{Author, ChildDetails, EntryBody, EntryId, EntryStatus, EntryView, RecordId};
use crate::record::DetailConflict;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One child's whole record as the app shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildRecord {
    pub id: RecordId,
    pub details: ChildDetails,
    /// Details two devices set apart; resolved by writing the field again.
    pub conflicts: Vec<DetailConflict>,
    /// Every entry, oldest written first, with its status; none is ever removed.
    pub entries: Vec<EntryView>,
    /// Entries a newer version of the app wrote that this one cannot read: kept.
    pub unreadable_entries: Vec<EntryId>,
    /// The entry by which a professional closed the record, if one did: from then on it
    /// is read-only on parents' and carers' devices, and nothing is reminded.
    pub closed: Option<EntryView>,
}

impl ChildRecord {
    /// What the timeline shows: current entries (not amended, not in error), by date.
    pub fn timeline(&self) -> Vec<&EntryView> {
        let mut current: Vec<&EntryView> = self
            .entries
            .iter()
            .filter(|v| v.status == EntryStatus::Current)
            .filter(|v| !matches!(v.entry.body, EntryBody::EnteredInError { .. }))
            .collect();
        current.sort_by_key(|v| (v.entry.body.date(), v.entry.recorded_at));
        current
    }
}

/// What a FHIR import added, and what it did not keep.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    /// The record read into (a new one, for `import_fhir`).
    pub record: RecordId,
    pub entries_added: u32,
    /// Each resource or element left out, with why; never a value from the file.
    pub not_imported: Vec<NotImported>,
}

/// One resource, or one element of a resource read, that redbook did not keep, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotImported {
    /// e.g. `Immunization/UKCore-Immunization-InfluenzaVaccine-Example`, or with an element
    /// `Patient/abc telecom`.
    pub what: String,
    pub why: String,
}

/// The children in a file. A damaged record is listed here, never hidden, and never
/// stops the others being read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChildList {
    pub children: Vec<ChildSummary>,
    /// Records that could not be read; `None` where even the record's id is damaged.
    pub damaged: Vec<Option<RecordId>>,
    /// Records their creator withdrew as created in error: kept, out of `children`.
    pub withdrawn: Vec<ChildSummary>,
}

impl ChildList {
    /// The list as the apps show it: oldest child first, damaged records after, never
    /// hidden; withdrawn records apart.
    pub fn sorted(children: Vec<ChildSummary>, damaged: Vec<Option<RecordId>>) -> Self {
        let (mut withdrawn, mut children): (Vec<_>, Vec<_>) =
            children.into_iter().partition(|c| c.withdrawn);
        crate::model::summary::sort_children(&mut children);
        crate::model::summary::sort_children(&mut withdrawn);
        ChildList {
            children,
            damaged,
            withdrawn,
        }
    }
}

/// One line of a record's history: who did what to which entry, when, on which device.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEvent {
    pub entry_id: EntryId,
    pub recorded_at: DateTime<Utc>,
    pub author: Author,
    pub action: HistoryAction,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum HistoryAction {
    Added,
    Amended { target: EntryId },
    MarkedEnteredInError { target: EntryId, reason: String },
}

/// What checking a printout's verification code found (`export::printout`): which member
/// device signed it, when, and whether the record still shows what was printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrintoutCheck {
    pub record: RecordId,
    pub signer_device: String,
    /// As the record's member list names it.
    pub signer_name: String,
    pub signer_role: crate::model::Role,
    pub signer_organisation: Option<String>,
    /// The organisation on this device's trust list that confirms the signer's role.
    pub signer_confirmed_by: Option<String>,
    pub printed_at: DateTime<Utc>,
    /// Entries the printout showed, and the record shows now.
    pub entries_then: u32,
    pub entries_now: u32,
    /// The record shows the same details and entries as the printout did.
    pub unchanged: bool,
    /// Entries written since it was printed (new ones, corrections, entries marked in
    /// error), oldest first, in the timeline's words.
    pub written_since: Vec<String>,
}
