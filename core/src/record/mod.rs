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

use crate::crypto::device::DeviceKeys;
use crate::model::{
    validate, ChildDetails, ConfirmedRoles, DetailEdit, DetailField, EntryBody, EntryId,
    EntryStatus, EntryView, Member, RecordId, Statement, StatementId, StoredEntry, Verification,
};
use automerge::{
    transaction::{CommitOptions, Transactable},
    ActorId, Automerge, AutomergeError, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue,
    ScalarValueRef, Value, ValueRef, ROOT,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

mod causal;
pub mod membership;
pub mod signed;
mod validate_change;

pub use membership::Membership;
pub use validate_change::{
    RefusedChange, MAX_INFLATED_BYTES, MAX_MESSAGE_BYTES, MAX_STATEMENTS_PER_MESSAGE,
    MAX_VALUES_PER_MESSAGE,
};

use causal::Writers;
use signed::Kind;

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

/// Two or more devices set one detail apart; every value is kept until the app writes
/// the field again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailConflict {
    pub field: DetailField,
    pub values: Vec<String>,
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
    /// Who could write in which change, at these heads (`causal`).
    writers: RefCell<Option<(Vec<ChangeHash>, Arc<Writers>)>>,
    /// Set by `receive_sync_message` when it loaded a whole document; see
    /// `take_received_document`.
    received_document: Option<(Vec<u8>, Vec<ChangeHash>)>,
}

/// Per field, the detail edits that count (several: a conflict).
type CurrentEdits = HashMap<DetailField, Vec<DetailEdit>>;
/// When a professional closed the record, if one did.
type ClosedAt = Option<DateTime<Utc>>;

/// Digests of values whose signatures verified, and those the store has not saved yet.
#[derive(Default)]
struct VerdictSet {
    digests: HashSet<VerdictDigest>,
    unsaved: Vec<VerdictDigest>,
    /// Ed25519 checks this copy has made (what persisted verdicts save; benches and tests).
    checks: usize,
}

/// SHA-256 of the record id and a signed value's bytes: the value's signature verdict is
/// a pure function of the two, so it holds wherever and whenever the value is read.
pub type VerdictDigest = [u8; 32];

fn verdict_digest(record_id: &RecordId, bytes: &[u8]) -> VerdictDigest {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"redbook/verdict/v3");
    context.update(record_id.as_str().as_bytes());
    context.update(bytes);
    context
        .finish()
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

#[derive(Default)]
struct Verdicts {
    members: Vec<(String, [u8; 32])>,
    by_op: HashMap<ObjId, bool>,
}

/// One value of a map, as read: its key, the op that put it, and its bytes.
struct Stored {
    key: String,
    op: ObjId,
    bytes: Vec<u8>,
    /// The ops that put identical copies of it under the same key (a replay), if any.
    copies: Vec<ObjId>,
}

impl Stored {
    /// Every op that put this value.
    fn ops(&self) -> Vec<&ObjId> {
        std::iter::once(&self.op).chain(&self.copies).collect()
    }
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

    // ---- writing ------------------------------------------------------------------

    fn put_value(&mut self, kind: Kind, key: &str, value: Vec<u8>) -> Result<(), RecordError> {
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
        tx.put(&map, key, ScalarValue::Bytes(value))?;
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        if kind == Kind::Entry {
            let after = self.doc.get_heads();
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

    /// Writes an entry with its author device's signature inside the value: one put.
    /// Sets the entry's id to the one that commits to it (`signed::commit_id`).
    pub fn put_entry(
        &mut self,
        entry: &mut StoredEntry,
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let json = commit(Kind::Entry, &self.record_id, entry, Some(signer))?;
        let value = signed::sign(Kind::Entry, &self.record_id, &json, signer);
        let before = self.doc.get_heads();
        self.put_value(Kind::Entry, entry.id.as_str(), value)?;
        // Any entry but a closure leaves the record as open or closed as it was.
        if !matches!(entry.body, EntryBody::RecordClosed(_)) {
            let mut closure = self.closure.borrow_mut();
            if let Some((seen, _, _)) = closure.as_mut().filter(|(seen, _, _)| *seen == before) {
                *seen = self.doc.get_heads();
            }
        }
        Ok(())
    }

    /// When a professional whose role `confirmed` holds closed the record (the earliest
    /// closure that counts), after which parents' and carers' devices may not write
    /// (hazard log H21).
    pub fn closed_at(&self, confirmed: &ConfirmedRoles) -> Option<DateTime<Utc>> {
        let heads = self.doc.get_heads();
        if let Some((seen, roles, at)) = self.closure.borrow().as_ref() {
            if *seen == heads && roles == confirmed {
                return *at;
            }
        }
        // Most records were never closed: a look at the bytes, without parsing or
        // checking a signature, says so; only a record with a closure entry in it is read
        // whole (a parent's first write after opening would otherwise wait on that).
        let tag = br#""type":"record_closed""#;
        let mentions_closure = self
            .values(&self.entries)
            .iter()
            .any(|v| v.bytes.windows(tag.len()).any(|w| w == tag));
        if !mentions_closure {
            *self.closure.borrow_mut() = Some((heads, confirmed.clone(), None));
            return None;
        }
        self.entry_views(confirmed);
        self.closure.borrow().as_ref().and_then(|(_, _, at)| *at)
    }

    /// Writes an entry another record held (an import), unsigned: its signature there
    /// cannot vouch for it here. Sets its id to the one that commits to it.
    pub fn put_unsigned_entry(&mut self, entry: &mut StoredEntry) -> Result<(), RecordError> {
        let json = commit(Kind::Entry, &self.record_id, entry, None)?;
        self.put_value(
            Kind::Entry,
            entry.id.as_str(),
            signed::with_signature(Kind::Entry, &json, None),
        )
    }

    /// Gives a statement the id that commits to it, as `put_statement` will (so a
    /// candidate can be resolved with the others before it is written).
    pub fn commit_statement(&self, statement: &mut Statement) -> Result<(), RecordError> {
        let issuer = statement.issuer.signing_key;
        commit_with_key(Kind::Statement, &self.record_id, statement, Some(&issuer)).map(|_| ())
    }

    /// Adds a membership statement, signed by its issuer, under the id that commits to it
    /// (`commit_statement` gives the caller that id beforehand).
    pub fn put_statement(
        &mut self,
        statement: &Statement,
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let mut statement = statement.clone();
        let json = commit(
            Kind::Statement,
            &self.record_id,
            &mut statement,
            Some(signer),
        )?;
        let value = signed::sign(Kind::Statement, &self.record_id, &json, signer);
        self.put_value(Kind::Statement, statement.id.as_str(), value)
    }

    // ---- reading ------------------------------------------------------------------

    /// Every value of a map, one per key. A key commits to its value, so the change check
    /// lets a second value in beside one only if its bytes are the same (a replay); a key
    /// found holding two different values is damage, and neither is read: a reader never
    /// picks a winner (docs/adr/0012-keys-commit-to-values.md).
    fn values(&self, map: &ObjId) -> Vec<Stored> {
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
    fn values_at(&self, map: &ObjId, key: &str) -> Vec<Stored> {
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

    /// A statement value's parts, if it is framed as a statement and signed by the issuer
    /// it names (the signature itself is checked by the caller).
    fn read_statement(bytes: &[u8]) -> Option<(signed::Signed<'_>, Statement)> {
        let value = signed::parse(bytes)?;
        let statement: Statement = serde_json::from_slice(value.json).ok()?;
        (value.kind == Kind::Statement && value.signer == Some(&statement.issuer.signing_key))
            .then_some((value, statement))
    }

    /// The membership statements whose signatures verify, as their issuers wrote them.
    pub fn statements(&self) -> Vec<Statement> {
        let mut checked = self.statement_verdicts.borrow_mut();
        self.values(&self.membership)
            .into_iter()
            .filter_map(|stored| {
                let (value, statement) = Self::read_statement(&stored.bytes)?;
                // A value is never overwritten, so its op's verdict stands.
                let signed = *checked
                    .entry(stored.op.clone())
                    .or_insert_with(|| value.verifies(&self.record_id));
                let counts = signed
                    && statement.id.as_str() == stored.key
                    && signed::commits(&value, &self.record_id, &stored.key);
                counts.then_some(statement)
            })
            .collect()
    }

    /// The signed statement values as stored, for a device that needs the membership
    /// before it can read the record (`sync`'s key messages).
    pub fn statement_values(&self) -> Vec<Vec<u8>> {
        self.values(&self.membership)
            .into_iter()
            .map(|s| s.bytes)
            .collect()
    }

    /// Reads statements carried outside the document (a key message): only those signed
    /// for this record by their issuer, under the id that commits to them (so no second
    /// statement can arrive under a known id this way either, ADR 0012).
    pub fn statements_from_values(&self, values: &[Vec<u8>]) -> Vec<Statement> {
        values
            .iter()
            .filter_map(|bytes| {
                let (value, statement) = Self::read_statement(bytes)?;
                (statement.check().is_ok()
                    && signed::commits(&value, &self.record_id, statement.id.as_str())
                    && value.verifies(&self.record_id))
                .then_some(statement)
            })
            .collect()
    }

    /// Who the record's members are, resolved from its statements (cached by the
    /// document's heads).
    pub fn membership(&self) -> Arc<Membership> {
        let heads = self.doc.get_heads();
        if let Some((seen, membership)) = self.resolved.borrow().as_ref() {
            if *seen == heads {
                return membership.clone();
            }
        }
        let membership = Arc::new(membership::resolve(&self.record_id, self.statements()));
        *self.resolved.borrow_mut() = Some((heads, membership.clone()));
        membership
    }

    /// Who could write in which change (docs/threat-model.md, "Times").
    fn writers(&self, membership: &Membership) -> Arc<Writers> {
        let heads = self.doc.get_heads();
        if let Some((seen, writers)) = self.writers.borrow().as_ref() {
            if *seen == heads {
                return writers.clone();
            }
        }
        // Only the statements that ended someone's access are looked up, one key each.
        let ops_of = |id: &StatementId| -> Vec<ObjId> {
            one_value(self.values_at(&self.membership, id.as_str()))
                .map(|stored| stored.ops().into_iter().cloned().collect())
                .unwrap_or_default()
        };
        let writers = Arc::new(Writers::new(&self.doc, &membership.members, ops_of));
        *self.writers.borrow_mut() = Some((heads, writers.clone()));
        writers
    }

    pub fn members(&self) -> Vec<Member> {
        self.membership().members.clone()
    }

    pub fn member(&self, device_id: &str) -> Option<Member> {
        self.membership().member(device_id).cloned()
    }

    /// Verdicts are kept while the members' keys are the same.
    fn verdicts_for(&self, members: &[Member]) -> std::cell::RefMut<'_, Verdicts> {
        let keys: Vec<(String, [u8; 32])> = members
            .iter()
            .map(|m| (m.device_id.clone(), m.keys.signing_key))
            .collect();
        let mut verdicts = self.verdicts.borrow_mut();
        if verdicts.members != keys {
            *verdicts = Verdicts {
                members: keys,
                by_op: HashMap::new(),
            };
        }
        verdicts
    }

    /// Each value's signature verdict, checked once per op, on every core; a value among
    /// the known good (saved by the store) is not checked again.
    fn signatures_verify(&self, values: &[&Stored], members: &[Member]) -> Vec<bool> {
        let mut verdicts = self.verdicts_for(members);
        let mut known = self.known_good.borrow_mut();
        let mut unchecked = Vec::new();
        for stored in values.iter().copied() {
            if verdicts.by_op.contains_key(&stored.op) {
                continue;
            }
            let digest = verdict_digest(&self.record_id, &stored.bytes);
            if known.digests.contains(&digest) {
                verdicts.by_op.insert(stored.op.clone(), true);
            } else {
                unchecked.push((stored, digest));
            }
        }
        let to_check: Vec<&Stored> = unchecked.iter().map(|(stored, _)| *stored).collect();
        let outcomes = verify_all(&self.record_id, &to_check);
        known.checks += to_check.len();
        for ((stored, digest), ok) in unchecked.into_iter().zip(outcomes) {
            verdicts.by_op.insert(stored.op.clone(), ok);
            if ok && known.digests.insert(digest) {
                known.unsaved.push(digest);
            }
        }
        values.iter().map(|v| verdicts.by_op[&v.op]).collect()
    }

    /// Verdicts the store kept for this record (values whose signatures verified).
    pub fn add_known_good(&self, digests: impl IntoIterator<Item = VerdictDigest>) {
        self.known_good.borrow_mut().digests.extend(digests);
    }

    /// The verdicts reached since the store last saved them, leaving none unsaved.
    pub fn take_unsaved_verdicts(&self) -> Vec<VerdictDigest> {
        std::mem::take(&mut self.known_good.borrow_mut().unsaved)
    }

    /// Every verdict this copy knows (for the store to save whole under a new snapshot).
    pub fn known_good(&self) -> Vec<VerdictDigest> {
        let mut known = self.known_good.borrow_mut();
        known.unsaved.clear();
        known.digests.iter().copied().collect()
    }

    /// How many verdicts this copy holds (for the store's memory estimate).
    pub fn known_good_count(&self) -> usize {
        self.known_good.borrow().digests.len()
    }

    /// How many signatures this copy has checked itself (not taken from saved verdicts).
    pub fn signature_checks(&self) -> usize {
        self.known_good.borrow().checks
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

    /// One entry by id, if it is there and readable.
    pub fn entry(&self, id: &EntryId) -> Option<StoredEntry> {
        // Reads only this key: a correction looks up the one entry it corrects.
        one_value(self.values_at(&self.entries, id.as_str()))
            .and_then(|stored| Self::read_entry(&stored))
    }

    /// An entry value, if it is framed as an entry of a kind this version reads, under
    /// the key it names. Whether the key commits to it is part of its signature's
    /// verdict (`verify_all`): one that does not is shown as invalid, never hidden.
    fn read_entry(stored: &Stored) -> Option<StoredEntry> {
        signed::parse(&stored.bytes)
            .filter(|v| v.kind == Kind::Entry)
            .and_then(|v| serde_json::from_slice::<StoredEntry>(v.json).ok())
            .filter(|entry| entry.id.as_str() == stored.key)
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

    pub fn entry_count(&self) -> usize {
        let heads = self.doc.get_heads();
        if let Some((seen, count)) = self.entry_count.borrow().as_ref() {
            if *seen == heads {
                return *count;
            }
        }
        let count = self.doc.length(&self.entries);
        *self.entry_count.borrow_mut() = Some((heads, count));
        count
    }

    /// Every readable entry, oldest written first; entries this version cannot read (a
    /// newer app's kind) are returned by id, never dropped.
    pub fn entries(&self) -> (Vec<StoredEntry>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_values();
        (entries.into_iter().map(|(e, _)| e).collect(), unreadable)
    }

    fn entries_with_values(&self) -> (Vec<(StoredEntry, Stored)>, Vec<EntryId>) {
        let mut readable = Vec::new();
        let mut unreadable = Vec::new();
        for stored in self.values(&self.entries) {
            match Self::read_entry(&stored) {
                Some(entry) => readable.push((entry, stored)),
                None => unreadable.extend(stored.key.parse().ok()),
            }
        }
        readable.sort_by(|(a, _), (b, _)| a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id)));
        (readable, unreadable)
    }

    /// The signed entry values as stored, by entry id (for an export that carries the
    /// signatures).
    pub fn entry_signatures(&self) -> HashMap<EntryId, ([u8; 32], [u8; 64])> {
        self.values(&self.entries)
            .into_iter()
            .filter_map(|stored| {
                let value = signed::parse(&stored.bytes)?;
                Some((stored.key.parse().ok()?, (*value.signer?, *value.signature)))
            })
            .collect()
    }

    /// Every readable entry with what later entries say about it, whether its author's
    /// signature checks out and whether `confirmed` confirms its author's role when it
    /// wrote it; and the ids of entries this version cannot read. A function of the
    /// document and `confirmed` alone.
    pub fn entry_views(&self, confirmed: &ConfirmedRoles) -> (Vec<EntryView>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_values();
        let membership = self.membership();
        let writers = self.writers(&membership);
        let stored: Vec<&Stored> = entries.iter().map(|(_, s)| s).collect();
        let verified = self.signatures_verify(&stored, &membership.members);
        let mut verifications: Vec<Verification> = entries
            .iter()
            .zip(verified)
            .map(|((entry, stored), signature_ok)| {
                let signer = signed::parse(&stored.bytes).and_then(|v| v.signer.copied());
                let could_write = |member: &Member| {
                    writers.could_write(&self.doc, member, entry.recorded_at, &stored.ops())
                };
                verification(entry, signer, signature_ok, &membership, could_write)
            })
            .collect();
        let entries: Vec<StoredEntry> = entries.into_iter().map(|(e, _)| e).collect();
        let finish = |entries: Vec<StoredEntry>, verifications: &[Verification]| {
            let mut views = entry_views(entries, verifications);
            for (view, verification) in views.iter_mut().zip(verifications) {
                view.verification = *verification;
                // Shown with the role the granting admin gave: a device's own profile
                // never raises it (docs/threat-model.md, "Roles").
                if *verification != Verification::Invalid {
                    if let Some(member) = membership.member(&view.entry.author.device_id) {
                        view.entry.author.role = member.role;
                        // Its name now (the member's own latest rename), with the one
                        // it wrote under when that differs.
                        if view.entry.author.display_name != member.display_name {
                            view.author_name_then = Some(std::mem::replace(
                                &mut view.entry.author.display_name,
                                member.display_name.clone(),
                            ));
                        }
                        view.entry.author.organisation = member.organisation.clone();
                    }
                }
                // Judged at the time it says it was written: a closure does not lapse
                // when the attestation later expires (docs/threat-model.md, "Roles").
                if *verification == Verification::Verified {
                    view.author_confirmed_by = confirmed
                        .get(&view.entry.author.device_id)
                        .filter(|c| c.holds_at(view.entry.recorded_at))
                        .map(|c| c.organisation.clone());
                }
            }
            views
        };
        let mut views = finish(entries, &verifications);
        // A closed record is read-only to parents' and carers' devices: what they sign
        // after the closure was written is not permitted (hazard log H21). Views are
        // worked out again so that such an amendment or mark does not count either.
        let closed = closing_entry(&views).map(|v| v.entry.recorded_at);
        if let Some(closed_at) = closed {
            // The first pass already shows each author by its name now.
            let thens: Vec<Option<String>> =
                views.iter().map(|v| v.author_name_then.clone()).collect();
            let entries: Vec<StoredEntry> = views.into_iter().map(|v| v.entry).collect();
            for (entry, v) in entries.iter().zip(verifications.iter_mut()) {
                let by_family = !entry.author.role.is_professional();
                if *v == Verification::Verified && by_family && entry.recorded_at > closed_at {
                    *v = Verification::NotPermitted;
                }
            }
            views = finish(entries, &verifications);
            for (view, then) in views.iter_mut().zip(thens) {
                view.author_name_then = view.author_name_then.take().or(then);
            }
        }
        *self.closure.borrow_mut() = Some((self.doc.get_heads(), confirmed.clone(), closed));
        (views, unreadable)
    }
}

/// The entry by which a professional closed the record, if one did: the earliest
/// closure, signed by a member whose granted role is a professional's and confirmed by an
/// organisation on this device's trust list, not marked in error (hazard log H21).
pub fn closing_entry(views: &[EntryView]) -> Option<&EntryView> {
    closures(views)
        .filter(|view| view.author_confirmed_by.is_some())
        .min_by_key(|view| view.entry.recorded_at)
}

/// The earliest closure by a member granted a professional's role that no organisation on
/// this device's trust list confirms: shown, worded as waiting, and closing nothing until
/// the role is confirmed (docs/threat-model.md, "Roles").
pub fn waiting_closure(views: &[EntryView]) -> Option<&EntryView> {
    closures(views)
        .filter(|view| view.author_confirmed_by.is_none())
        .min_by_key(|view| view.entry.recorded_at)
}

fn closures(views: &[EntryView]) -> impl Iterator<Item = &EntryView> {
    views.iter().filter(|view| {
        matches!(view.entry.body, EntryBody::RecordClosed(_))
            && view.verification == Verification::Verified
            && view.status == EntryStatus::Current
            && view.entry.author.role.is_professional()
    })
}

/// What an entry's signature and its author's membership say (docs/threat-model.md,
/// "Entries").
fn verification(
    entry: &StoredEntry,
    signer: Option<[u8; 32]>,
    signature_ok: bool,
    membership: &Membership,
    could_write: impl Fn(&Member) -> bool,
) -> Verification {
    let author = membership.member(&entry.author.device_id);
    match (signer, author) {
        // Unsigned: an import. Naming a member is a claim nobody vouched for.
        (None, Some(_)) => Verification::Invalid,
        (None, None) => Verification::Unverified,
        (Some(_), _) if !signature_ok => Verification::Invalid,
        (Some(key), Some(member)) => {
            if key != member.keys.signing_key {
                Verification::Invalid
            } else if could_write(member) {
                Verification::Verified
            } else {
                Verification::NotPermitted
            }
        }
        // A device that is not a member: its own entry is unverified; one naming
        // another device is a forgery.
        (Some(key), None) => {
            if crate::crypto::device::DevicePublic::device_id_of(&key) == entry.author.device_id {
                Verification::Unverified
            } else {
                Verification::Invalid
            }
        }
    }
}

/// The one value a key holds: identical copies (a replay put beside the original) are
/// one value; two different values under one key are damage, and none is read.
fn one_value(mut values: Vec<Stored>) -> Option<Stored> {
    let mut first = values.pop()?;
    if !values.iter().all(|other| other.bytes == first.bytes) {
        return None;
    }
    first.copies = values.into_iter().map(|other| other.op).collect();
    Some(first)
}

/// Checks signatures on every core: each Ed25519 check is pure and costs ~60 us, so a
/// long record read cold (thousands of entries) is what makes the first read slow.
fn verify_all(record_id: &RecordId, values: &[&Stored]) -> Vec<bool> {
    let check = |stored: &&Stored| {
        signed::parse(&stored.bytes).is_some_and(|value| {
            signed::commits(&value, record_id, &stored.key) && value.verifies(record_id)
        })
    };
    on_every_core(values, 64, |part| {
        part.iter().map(check).collect::<Vec<_>>()
    })
    .into_iter()
    // A check cannot panic; if a thread failed anyway, check its part here.
    .flat_map(|(part, verdicts)| verdicts.unwrap_or_else(|| part.iter().map(check).collect()))
    .collect()
}

/// Runs `work` over `items` split across the cores (at most 8) when there are at least
/// `min` of them, else on this thread. Each part with its result, in order; `None` where
/// the part's thread panicked.
pub(crate) fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<(&[T], Option<R>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || items.len() < min {
        return vec![(items, Some(work(items)))];
    }
    let per_thread = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(per_thread)
            .map(|part| (part, scope.spawn(move || work(part))))
            .collect();
        parts
            .into_iter()
            .map(|(part, handle)| (part, handle.join().ok()))
            .collect()
    })
}

/// Works out each entry's status from the amendments and error marks that point at it
/// (verification is left `Unverified`: `Record::entry_views` fills it in). Nobody hides or
/// replaces what another member wrote (docs/threat-model.md, "Entries"): a correction or
/// an error mark of a verified entry counts only if it is verified and by the same
/// device; of an unverified one (an import), if it is verified or by the same device.
/// Marks that are invalid or written without the right to write never count.
fn entry_views(entries: Vec<StoredEntry>, verifications: &[Verification]) -> Vec<EntryView> {
    let by_id: HashMap<&EntryId, (&StoredEntry, Verification)> = entries
        .iter()
        .zip(verifications)
        .map(|(e, v)| (&e.id, (e, *v)))
        .collect();
    let counts = |marker: &StoredEntry, verification: Verification, target: &EntryId| {
        let Some((original, original_verification)) = by_id.get(target) else {
            return false;
        };
        let same_device = original.author.device_id == marker.author.device_id;
        match (verification, original_verification) {
            (Verification::Invalid | Verification::NotPermitted, _) => false,
            (_, Verification::Verified) => verification == Verification::Verified && same_device,
            _ => verification == Verification::Verified || same_device,
        }
    };
    let mut status: HashMap<EntryId, EntryStatus> = HashMap::new();
    // Entries come sorted by time written, so the latest amendment wins; an error mark
    // outranks an amendment whatever the order.
    for (entry, verification) in entries.iter().zip(verifications) {
        if let Some(target) = &entry.amends {
            if counts(entry, *verification, target)
                && !matches!(status.get(target), Some(EntryStatus::EnteredInError { .. }))
            {
                status.insert(
                    target.clone(),
                    EntryStatus::Amended {
                        by: entry.id.clone(),
                    },
                );
            }
        }
        if let EntryBody::EnteredInError { target, reason } = &entry.body {
            if counts(entry, *verification, target) {
                status.insert(
                    target.clone(),
                    EntryStatus::EnteredInError {
                        marked_by: entry.id.clone(),
                        reason: reason.clone(),
                    },
                );
            }
        }
    }
    entries
        .into_iter()
        .map(|entry| EntryView {
            status: status.remove(&entry.id).unwrap_or(EntryStatus::Current),
            flags: validate::flags_of(&entry.body),
            verification: Verification::Unverified,
            author_confirmed_by: None,
            author_name_then: None,
            withheld_until: None,
            entry,
        })
        .collect()
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
fn commit<T: CommittedId>(
    kind: Kind,
    record_id: &RecordId,
    value: &mut T,
    signer: Option<&DeviceKeys>,
) -> Result<Vec<u8>, RecordError> {
    let key = signer.map(|s| s.public().signing_key);
    commit_with_key(kind, record_id, value, key.as_ref())
}

fn commit_with_key<T: CommittedId>(
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
