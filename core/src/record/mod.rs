//! One child's record as an automerge document (format 2, docs/adr/0001-record-format-v2.md).
//!
//! Shape: `{ format: 2, record_id, details: { edit id: signed edit },
//! entries: { entry id: signed entry }, membership: { statement id: signed statement } }`.
//!
//! Everything below the root is a grow-only set of signed values: a value is never
//! overwritten or deleted, so what one device wrote cannot be undone by another. Details
//! (name, address, ...) are edits that name the edits they replace, so edits made apart
//! stay side by side as a conflict. Changes from other devices are checked against this
//! shape before they are applied (`validate_change`); what the values mean (who is a
//! member, which entries are verified) is worked out when they are read.
//!
//! This file holds the document itself: creating, loading, saving and receiving it. Its
//! parts: `values` (one signed value per key), `entries`, `details`, `statements`,
//! `verdicts` (signature checks and the ones kept), `views` (what each entry counts as),
//! `closure`.

use crate::model::{ConfirmedRoles, RecordId};
use automerge::{
    transaction::{CommitOptions, Transactable},
    ActorId, Automerge, AutomergeError, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value,
    ROOT,
};
use chrono::{DateTime, Utc};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

mod causal;
mod closure;
mod details;
mod entries;
pub mod membership;
pub mod signed;
mod statements;
mod validate_change;
mod values;
mod verdicts;
mod views;
pub mod write_rules;

pub use closure::{closing_entry, others_wrote, waiting_closure, withdrawal};
pub use details::DetailConflict;
pub use membership::Membership;
pub use validate_change::{
    RefusedChange, MAX_INFLATED_BYTES, MAX_MESSAGE_BYTES, MAX_STATEMENTS_PER_MESSAGE,
    MAX_VALUES_PER_MESSAGE,
};
pub use values::CommittedId;
pub(crate) use verdicts::on_every_core;
pub use verdicts::VerdictDigest;
pub use views::review_flags;

use causal::Writers;
use closure::ClosedAt;
use details::CurrentEdits;
use signed::Kind;
use verdicts::{VerdictSet, Verdicts};

pub const FORMAT_VERSION: i64 = 2;
const DETAILS: &str = "details";
const ENTRIES: &str = "entries";
const MEMBERSHIP: &str = "membership";
/// Every device builds the same first change from the record id alone, so devices that
/// create the skeleton apart never make concurrent `put_object`s on one key (docs/adr/0007).
const GENESIS_ACTOR: &[u8; 16] = b"redbook-genesis!";
/// automerge's chunk type byte (after 4 magic and 4 checksum bytes) for a whole document.
const DOCUMENT_CHUNK: u8 = 0;
/// Below this many entries a copy is cheap to merge onto a whole document received.
const FEW_ENTRIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record document is malformed: {0}")]
    Malformed(&'static str),
    #[error("the record was written in format {0}, which this version does not read")]
    UnsupportedFormat(i64),
    #[error("automerge: {0}")]
    Automerge(#[from] AutomergeError),
    /// Another device's change was refused; nothing of it was applied.
    #[error(transparent)]
    Refused(#[from] RefusedChange),
}

pub struct Record {
    doc: Automerge,
    record_id: RecordId,
    details: ObjId,
    entries: ObjId,
    membership: ObjId,
    /// Signature verdicts by the op that put the value (values are never overwritten, so
    /// an op's verdict holds while the members' keys stay the same): checking 5,000
    /// Ed25519 signatures costs ~300 ms a read.
    verdicts: RefCell<Verdicts>,
    /// Values whose signatures verified, by digest (`verdict_digest`), as the store keeps
    /// them sealed beside the chunks: a cold open checks only what is not among them
    /// (docs/adr/0010-caseload.md).
    known_good: RefCell<VerdictSet>,
    /// Statement signature verdicts by the op that put the value.
    statement_verdicts: RefCell<HashMap<ObjId, bool>>,
    /// The membership resolved from the statements, at these heads (a count of keys
    /// would miss a value put beside another under one key).
    resolved: RefCell<Option<(Vec<ChangeHash>, Arc<Membership>)>>,
    /// The detail edits that count, at these heads (every write reads the date of birth
    /// to check the entry's dates).
    current: RefCell<Option<(Vec<ChangeHash>, Arc<CurrentEdits>)>>,
    /// When a professional closed the record, if one did, while the numbers of entries
    /// and statements are unchanged: a parent's every write asks (`closed_at`).
    /// Keyed by the document's heads (counting a map's keys walks the whole map, which a
    /// parent's every write would pay for) and the roles confirmed when it was worked out.
    closure: RefCell<Option<(Vec<ChangeHash>, ConfirmedRoles, ClosedAt)>>,
    /// How many entry values the document holds, at these heads: counting a map's keys
    /// walks the whole map, and every write's summary asks (docs/adr/0010-caseload.md).
    entry_count: RefCell<Option<(Vec<ChangeHash>, usize)>>,
    /// Whether any entry value mentions a withdrawal, at these heads: every write's
    /// summary asks whether the record is withdrawn, and the answer is nearly always no
    /// without reading an entry (`withdrawn`).
    mentions_withdrawal: RefCell<Option<(Vec<ChangeHash>, bool)>>,
    /// The highest sequence number and op counter each actor used here, at these heads:
    /// every received change is checked against them (`validate_change`), and reading
    /// every change's metadata again costs more than the rest of a small message.
    history: RefCell<Option<(Vec<ChangeHash>, validate_change::Places)>>,
    /// Who could write in which change, at these heads (`causal`).
    writers: RefCell<Option<(Vec<ChangeHash>, Arc<Writers>)>>,
    /// Set by `receive_sync_message` when it loaded a whole document; see
    /// `take_received_document`.
    received_document: Option<(Vec<u8>, Vec<ChangeHash>)>,
}

impl Record {
    /// The deterministic first change of a record, then a fresh actor for this session.
    pub fn genesis(record_id: &RecordId) -> Result<Self, RecordError> {
        let mut doc = Automerge::new().with_actor(ActorId::from(&GENESIS_ACTOR[..]));
        let mut tx = doc.transaction();
        tx.put(ROOT, "format", FORMAT_VERSION)?;
        tx.put(ROOT, "record_id", record_id.as_str())?;
        tx.put_object(ROOT, DETAILS, ObjType::Map)?;
        tx.put_object(ROOT, ENTRIES, ObjType::Map)?;
        tx.put_object(ROOT, MEMBERSHIP, ObjType::Map)?;
        tx.commit_with(CommitOptions::default().with_time(0));
        Self::from_doc(doc.with_actor(ActorId::random()))
    }

    /// Loads saved bytes: a snapshot followed by any number of change chunks. Only for
    /// this device's own stored bytes; another device's arrive through
    /// `receive_sync_message` or `receive_changes`, which check them first.
    pub fn load(bytes: &[u8]) -> Result<Self, RecordError> {
        let doc = guarded(|| Automerge::load(bytes))
            .ok_or(RecordError::Malformed("automerge panicked"))??;
        Self::from_doc(doc.with_actor(ActorId::random()))
    }

    fn from_doc(doc: Automerge) -> Result<Self, RecordError> {
        match doc.get(ROOT, "format")? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Int(FORMAT_VERSION) => {}
                ScalarValue::Int(other) => return Err(RecordError::UnsupportedFormat(*other)),
                _ => return Err(RecordError::Malformed("format")),
            },
            _ => return Err(RecordError::Malformed("format")),
        }
        let object = |key| match doc.get(ROOT, key)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(RecordError::Malformed("missing top-level map")),
        };
        let details = object(DETAILS)?;
        let entries = object(ENTRIES)?;
        let membership = object(MEMBERSHIP)?;
        let record_id = match doc.get(ROOT, "record_id")? {
            Some((Value::Scalar(s), _)) => s.as_str().and_then(|s| s.parse().ok()),
            _ => None,
        }
        .ok_or(RecordError::Malformed("record id"))?;
        Ok(Self {
            doc,
            record_id,
            details,
            entries,
            membership,
            verdicts: RefCell::default(),
            known_good: RefCell::default(),
            resolved: RefCell::default(),
            statement_verdicts: RefCell::default(),
            current: RefCell::default(),
            closure: RefCell::default(),
            entry_count: RefCell::default(),
            mentions_withdrawal: RefCell::default(),
            history: RefCell::default(),
            writers: RefCell::default(),
            received_document: None,
        })
    }

    pub fn record_id(&self) -> &RecordId {
        &self.record_id
    }

    pub fn heads(&self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    pub fn save(&self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes made since `heads`, as bytes `load_incremental` takes.
    pub fn save_after(&self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// `save_after` for what the store writes: some crafted changes that automerge
    /// applies make it panic when it encodes them (found by mutating valid bundles), so
    /// the panic becomes an error; the store then drops this copy and the file holds what
    /// it held.
    pub fn try_save_after(&self, heads: &[ChangeHash]) -> Result<Vec<u8>, RecordError> {
        guarded(|| self.doc.save_after(heads)).ok_or(RecordError::Malformed("automerge panicked"))
    }

    /// Applies this device's own stored chunks (written by another handle on the file).
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        guarded(|| self.doc.load_incremental(bytes))
            .ok_or(RecordError::Malformed("automerge panicked"))??;
        Ok(())
    }

    /// Takes changes another device sent as automerge bytes (a bundle): checked whole
    /// before any is applied.
    pub fn receive_changes(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        validate_change::check_inflated_size(bytes)?;
        let changes = validate_change::changes_in(bytes)?;
        self.check_changes(&changes)?;
        guarded(|| self.doc.apply_changes(changes))
            .ok_or(RecordError::Malformed("automerge panicked"))??;
        Ok(())
    }

    /// Takes an automerge sync message after checking every change it carries. When the
    /// sender sends its whole document (it does when this device lacks most of the
    /// record, as after accepting an invitation) and this copy holds little, the document
    /// is loaded into an empty one, which automerge does directly instead of replaying
    /// every change (5,000 entries: ~29 ms instead of ~60 ms), and this copy's own changes
    /// are merged onto it.
    pub fn receive_sync_message(
        &mut self,
        state: &mut automerge::sync::State,
        message: automerge::sync::Message,
    ) -> Result<(), RecordError> {
        use automerge::sync::SyncDoc;
        let total: usize = message.changes.iter().map(<[u8]>::len).sum();
        if total > MAX_MESSAGE_BYTES {
            return Err(RefusedChange::TooLarge.into());
        }
        let carries_document = message.changes.len() == 1
            && message
                .changes
                .iter()
                .all(|chunk| chunk.get(8) == Some(&DOCUMENT_CHUNK));
        for chunk in message.changes.iter() {
            validate_change::check_inflated_size(chunk)?;
        }
        if carries_document && self.entry_count() < FEW_ENTRIES {
            let document = message.changes.iter().next().map(<[u8]>::to_vec);
            let mut fresh = Automerge::new().with_actor(self.doc.get_actor().clone());
            let mut trial = state.clone();
            let loaded = guarded(|| fresh.receive_sync_message(&mut trial, message.clone()))
                .is_some_and(|r| r.is_ok());
            if loaded {
                // The whole document is checked as its changes would be.
                guarded(|| self.check_document(&fresh))
                    .unwrap_or(Err(RefusedChange::Unreadable))?;
                let document_heads = fresh.get_heads();
                let merged = guarded(|| fresh.merge(&mut self.doc)).is_some_and(|r| r.is_ok());
                if let (true, Some(document)) = (merged, document) {
                    // The same genesis, so the same top-level maps: nothing forked.
                    let same_genesis = |r: &Record| {
                        (&r.details, &r.entries, &r.membership)
                            == (&self.details, &self.entries, &self.membership)
                            && r.record_id == self.record_id
                    };
                    if let Some(record) = Self::from_doc(fresh).ok().filter(same_genesis) {
                        *self = record;
                        self.received_document = Some((document, document_heads));
                        *state = trial;
                        return Ok(());
                    }
                }
            }
        }
        let mut changes = Vec::new();
        for chunk in message.changes.iter() {
            changes.extend(validate_change::changes_in(chunk)?);
        }
        self.check_changes(&changes)?;
        guarded(|| self.doc.receive_sync_message(state, message))
            .ok_or(RecordError::Malformed("automerge panicked"))??;
        Ok(())
    }

    /// The whole document a first sync brought, already compressed by its sender, and
    /// its heads: the store keeps it as the snapshot, with this copy's own changes after
    /// it, instead of saving every change one by one. Reading clears it.
    pub fn take_received_document(&mut self) -> Option<(Vec<u8>, Vec<ChangeHash>)> {
        self.received_document.take()
    }

    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    /// For tests that play a malicious device: raw access to the document.
    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    /// The ids of the maps below the root, for the change checks.
    fn maps(&self) -> [(&ObjId, Kind); 3] {
        [
            (&self.details, Kind::DetailEdit),
            (&self.entries, Kind::Entry),
            (&self.membership, Kind::Statement),
        ]
    }

    /// The latest time among the changes at the document's heads, as their writers'
    /// clocks said (the genesis change has none); a time after `now` shows as `now`.
    pub fn last_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.doc
            .get_heads()
            .iter()
            .filter_map(|hash| self.doc.get_change_meta_by_hash(hash))
            .map(|change| change.timestamp)
            .filter(|&millis| millis > 0)
            .max()
            .and_then(DateTime::from_timestamp_millis)
            .map(|time| time.min(now))
    }
}

/// Runs automerge on another device's bytes: automerge 0.12 panics on some crafted but
/// well-framed changes (docs/threat-model.md), and a panic must refuse the message, not crash.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
