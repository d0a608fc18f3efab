//! The child's details: edits that name the edits they replace, the ones that count, and
//! the conflicts left when devices edited a field apart.

use super::signed::{self, Kind};
use super::values::commit;
use super::{now_millis, Record, RecordError};
use crate::crypto::device::DeviceKeys;
use crate::model::{ChildDetails, DetailEdit, DetailField, EntryId};
use automerge::{
    transaction::{CommitOptions, Transactable},
    ScalarValue,
};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Two or more devices set one detail apart; every value is kept until the app writes
/// the field again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailConflict {
    pub field: DetailField,
    pub values: Vec<String>,
}

/// Per field, the detail edits that count (several: a conflict).
pub(super) type CurrentEdits = HashMap<DetailField, Vec<DetailEdit>>;

impl Record {
    /// Edits detail fields in one change, each edit replacing the field's current ones.
    /// `None` clears a field.
    pub fn set_details(
        &mut self,
        fields: &[(DetailField, Option<String>)],
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let current = self.current_edits();
        let author = signer.public().device_id();
        let details = self.details.clone();
        let mut tx = self.doc.transaction();
        for (field, value) in fields {
            let mut edit = DetailEdit {
                id: EntryId::generate().map_err(|_| RecordError::Malformed("random"))?,
                field: *field,
                value: value.clone(),
                replaces: current
                    .get(field)
                    .map(|edits| edits.iter().map(|e| e.id.clone()).collect())
                    .unwrap_or_default(),
                author: author.clone(),
                at: chrono::Utc::now(),
            };
            let json = commit(Kind::DetailEdit, &self.record_id, &mut edit, Some(signer))?;
            let value = signed::sign(Kind::DetailEdit, &self.record_id, &json, signer);
            tx.put(&details, edit.id.as_str(), ScalarValue::Bytes(value))?;
        }
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        Ok(())
    }

    /// The detail edits that count: signed by a member that could write when it made
    /// them, and not replaced by another such edit. Several per field: a conflict.
    fn current_edits(&self) -> Arc<CurrentEdits> {
        let heads = self.doc.get_heads();
        if let Some((seen, current)) = self.current.borrow().as_ref() {
            if *seen == heads {
                return current.clone();
            }
        }
        let current = Arc::new(self.resolve_edits());
        *self.current.borrow_mut() = Some((heads, current.clone()));
        current
    }

    fn resolve_edits(&self) -> CurrentEdits {
        let membership = self.membership();
        let writers = self.writers(&membership);
        let values = self.values(&self.details);
        let verified =
            self.signatures_verify(&values.iter().collect::<Vec<_>>(), &membership.members);
        let mut edits: Vec<DetailEdit> = values
            .iter()
            .zip(verified)
            .filter_map(|(stored, verified)| {
                let value = signed::parse(&stored.bytes)?;
                let edit: DetailEdit = serde_json::from_slice(value.json).ok()?;
                let member = membership.member(&edit.author)?;
                let counts = verified
                    && value.kind == Kind::DetailEdit
                    && edit.id.as_str() == stored.key
                    && value.signer == Some(&member.keys.signing_key)
                    && writers.could_write(&self.doc, member, edit.at, &stored.ops());
                counts.then_some(edit)
            })
            .collect();
        let replaced: std::collections::HashSet<EntryId> = edits
            .iter()
            .flat_map(|e| e.replaces.iter().cloned())
            .collect();
        edits.retain(|e| !replaced.contains(&e.id));
        // The latest edit first: automerge's own winner is an op id, which a forger
        // chooses; time and id are in the signed value.
        edits.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        let mut by_field: HashMap<DetailField, Vec<DetailEdit>> = HashMap::new();
        for edit in edits {
            by_field.entry(edit.field).or_default().push(edit);
        }
        by_field
    }

    /// The details: per field the latest edit that counts.
    pub fn details(&self) -> ChildDetails {
        let mut details = ChildDetails::default();
        for (field, edits) in self.current_edits().iter() {
            details.set_field_text(*field, edits[0].value.as_deref());
        }
        details
    }

    /// The date of birth alone: every entry's dates are checked against it.
    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        self.details().birth_date
    }

    pub fn conflicts(&self) -> Vec<DetailConflict> {
        let mut conflicts: Vec<DetailConflict> = self
            .current_edits()
            .iter()
            .filter(|(_, edits)| edits.len() > 1)
            .map(|(field, edits)| DetailConflict {
                field: *field,
                values: edits
                    .iter()
                    .map(|e| e.value.clone().unwrap_or_default())
                    .collect(),
            })
            .collect();
        conflicts.sort_by_key(|c| c.field);
        conflicts
    }
}
