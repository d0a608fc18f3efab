//! The document's values as stored: each put once under the key that commits to it
//! (`CommittedId`), and read back one per key, a replay folded into the original.

use super::signed::{self, Kind};
use super::{now_millis, Record, RecordError};
use crate::crypto::device::DeviceKeys;
use crate::model::{DetailEdit, RecordId, Statement, StoredEntry};
use automerge::{
    transaction::{CommitOptions, Transactable},
    ObjId, ReadDoc, ScalarValue, ScalarValueRef, Value, ValueRef,
};
use serde::Serialize;

/// One value of a map, as read: its key, the op that put it, and its bytes.
pub(super) struct Stored {
    pub(super) key: String,
    pub(super) op: ObjId,
    pub(super) bytes: Vec<u8>,
    /// The ops that put identical copies of it under the same key (a replay), if any.
    pub(super) copies: Vec<ObjId>,
}

impl Stored {
    /// Every op that put this value.
    pub(super) fn ops(&self) -> Vec<&ObjId> {
        std::iter::once(&self.op).chain(&self.copies).collect()
    }
}

impl Record {
    pub(super) fn put_value(
        &mut self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
    ) -> Result<(), RecordError> {
        let map = match kind {
            Kind::Entry => self.entries.clone(),
            Kind::DetailEdit => self.details.clone(),
            Kind::Statement => self.membership.clone(),
        };
        // The key commits to the value: a value already under it is this one (the same
        // import read twice), and putting it again would overwrite it.
        if self.doc.get(&map, key)?.is_some() {
            return Ok(());
        }
        let before = self.doc.get_heads();
        let mut tx = self.doc.transaction();
        let mentions_withdrawal =
            kind == Kind::Entry && super::closure::mentions_withdrawal(&value);
        tx.put(&map, key, ScalarValue::Bytes(value))?;
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        if kind == Kind::Entry {
            let after = self.doc.get_heads();
            if let Some((heads, mentions)) = self.mentions_withdrawal.borrow_mut().as_mut() {
                if *heads == before {
                    *heads = after.clone();
                    *mentions |= mentions_withdrawal;
                }
            }
            let mut counted = self.entry_count.borrow_mut();
            if let Some((heads, count)) = counted.as_mut().filter(|(h, _)| *h == before) {
                // Entry ids are fresh (time and 80 random bits): a new key each time.
                *heads = after.clone();
                *count += 1;
            }
            // An entry changes neither the members nor the details.
            if let Some((heads, _)) = self.resolved.borrow_mut().as_mut() {
                if *heads == before {
                    *heads = after.clone();
                }
            }
            if let Some((heads, _)) = self.current.borrow_mut().as_mut() {
                if *heads == before {
                    *heads = after;
                }
            }
        }
        Ok(())
    }

    /// Every value of a map, one per key. A key commits to its value, so the change check
    /// lets a second value in beside one only if its bytes are the same (a replay); a key
    /// found holding two different values is damage, and neither is read: a reader never
    /// picks a winner (docs/adr/0012-keys-commit-to-values.md).
    pub(super) fn values(&self, map: &ObjId) -> Vec<Stored> {
        let mut out = Vec::new();
        for item in self.doc.map_range(map, ..) {
            if item.conflict {
                out.extend(one_value(self.values_at(map, item.key.as_ref())));
            } else if let ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) = &item.value {
                out.push(Stored {
                    key: item.key.to_string(),
                    op: item.id(),
                    bytes: bytes.to_vec(),
                    copies: Vec::new(),
                });
            }
        }
        out
    }

    /// Every value under one key of a map, as automerge holds them (more than one only
    /// if a replay or a forger put them; `one_value` reads them).
    pub(super) fn values_at(&self, map: &ObjId, key: &str) -> Vec<Stored> {
        self.doc
            .get_all(map, key)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(value, op)| match value {
                Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Bytes(bytes) => Some(Stored {
                        key: key.to_string(),
                        op,
                        bytes: bytes.clone(),
                        copies: Vec::new(),
                    }),
                    _ => None,
                },
                _ => None,
            })
            .collect()
    }
}

/// The one value a key holds: identical copies (a replay put beside the original) are
/// one value; two different values under one key are damage, and none is read.
pub(super) fn one_value(mut values: Vec<Stored>) -> Option<Stored> {
    let mut first = values.pop()?;
    if !values.iter().all(|other| other.bytes == first.bytes) {
        return None;
    }
    first.copies = values.into_iter().map(|other| other.op).collect();
    Some(first)
}

/// A value whose id commits to it (`signed::commit_id`).
pub trait CommittedId: Serialize {
    fn set_committed_id(&mut self, id: &str) -> Option<()>;
}

impl CommittedId for StoredEntry {
    fn set_committed_id(&mut self, id: &str) -> Option<()> {
        self.id = id.parse().ok()?;
        Some(())
    }
}

impl CommittedId for DetailEdit {
    fn set_committed_id(&mut self, id: &str) -> Option<()> {
        self.id = id.parse().ok()?;
        Some(())
    }
}

impl CommittedId for Statement {
    fn set_committed_id(&mut self, id: &str) -> Option<()> {
        self.id = id.parse().ok()?;
        Some(())
    }
}

/// The value's canonical JSON, its id rewritten to commit to it (and set on `value`).
pub(super) fn commit<T: CommittedId>(
    kind: Kind,
    record_id: &RecordId,
    value: &mut T,
    signer: Option<&DeviceKeys>,
) -> Result<Vec<u8>, RecordError> {
    let key = signer.map(|s| s.public().signing_key);
    commit_with_key(kind, record_id, value, key.as_ref())
}

pub(super) fn commit_with_key<T: CommittedId>(
    kind: Kind,
    record_id: &RecordId,
    value: &mut T,
    signer: Option<&[u8; 32]>,
) -> Result<Vec<u8>, RecordError> {
    let mut json = serde_json::to_vec(value).map_err(|_| RecordError::Malformed("value"))?;
    let id = signed::commit_id(kind, record_id, signer, &mut json)
        .ok_or(RecordError::Malformed("value id"))?;
    value
        .set_committed_id(&id)
        .ok_or(RecordError::Malformed("value id"))?;
    Ok(json)
}
