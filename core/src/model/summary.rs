//! What a list of children shows of each record. The store keeps one sealed beside each
//! record (docs/adr/0010-caseload.md); the book lists and finds children by them.

use super::{RecordId, ValidationError};
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
    /// Its creator withdrew it as created in error (`record::withdrawal`): kept, listed
    /// apart.
    pub withdrawn: bool,
}

/// Whether a search box's query is an NHS number: digits, spaces and dashes only.
pub fn is_nhs_number_query(query: &str) -> bool {
    query.chars().any(|c| c.is_ascii_digit())
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || c == '-')
}

/// The children whose name, or a word of it, begins with `prefix`, ignoring case, in the
/// list's order.
pub fn named(
    children: Vec<ChildSummary>,
    prefix: &str,
) -> Result<Vec<ChildSummary>, ValidationError> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.is_empty() {
        return Err(ValidationError::new("name", "type the start of a name"));
    }
    let mut found: Vec<ChildSummary> = children
        .into_iter()
        .filter(|child| name_starts_with(&child.name, &prefix))
        .collect();
    sort_children(&mut found);
    Ok(found)
}

/// The list's order: oldest child first, then by name, then by id.
pub fn sort_children(children: &mut [ChildSummary]) {
    // Unstable is enough (ids are unique, so the order is total) and quicker.
    children.sort_unstable_by(|a, b| {
        a.birth_date
            .cmp(&b.birth_date)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// `prefix` is lower case: the whole name or any word of it starts with it ("smi" finds
/// "Amara Smith-Jones", and so does "jon").
fn name_starts_with(name: &str, prefix: &str) -> bool {
    let name = name.to_lowercase();
    name.starts_with(prefix)
        || name
            .split(|c: char| c.is_whitespace() || c == '-' || c == '\'')
            .any(|word| word.starts_with(prefix))
}
