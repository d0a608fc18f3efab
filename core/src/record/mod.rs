//! One child's record as an automerge document.
//!
//! Shape: `{ format, record_id, details: { field: text }, entries: { entry id: bytes } }`.
//! Details are single-valued and merged field by field; entries are immutable, each
//! stored as one value (its canonical JSON), because one put costs a twelfth of writing
//! the same entry field by field (DESIGN.md measurements).

use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::model::{
    validate, ChildDetails, DetailField, EntryBody, EntryId, EntryStatus, EntryView, Member,
    RecordId, StoredEntry, Verification,
};
use automerge::{
    transaction::{CommitOptions, Transactable},
    ActorId, Automerge, AutomergeError, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue,
    ScalarValueRef, Value, ValueRef, ROOT,
};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;

const FORMAT_VERSION: i64 = 1;
const DETAILS: &str = "details";
const ENTRIES: &str = "entries";
const MEMBERS: &str = "members";
/// Entry id -> the author device's Ed25519 signature over the entry's stored bytes.
const SIGNATURES: &str = "signatures";
/// Every device builds the same first change from the record id alone, so devices that
/// create the skeleton apart never make concurrent `put_object`s on one key (TOOLCHAIN.md,
/// "CRDT trap").
const GENESIS_ACTOR: &[u8; 16] = b"redbook-genesis!";
/// automerge's chunk type byte (after 4 magic and 4 checksum bytes) for a whole document.
const DOCUMENT_CHUNK: u8 = 0;
/// Below this many entries a copy is cheap to merge onto a whole document received.
const FEW_ENTRIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record document is malformed: {0}")]
    Malformed(&'static str),
    #[error("automerge: {0}")]
    Automerge(#[from] AutomergeError),
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
    details: ObjId,
    entries: ObjId,
    members: ObjId,
    signatures: ObjId,
    /// Signature verdicts, kept while the members' keys stay the same: entries are
    /// immutable, and checking 5,000 Ed25519 signatures costs ~300 ms a read.
    verdicts: RefCell<Verdicts>,
    /// Set by `receive_sync_message` when it loaded a whole document; see
    /// `take_received_document`.
    received_document: Option<(Vec<u8>, Vec<ChangeHash>)>,
}

#[derive(Default)]
struct Verdicts {
    members: Vec<(String, [u8; 32])>,
    by_entry: HashMap<EntryId, (Verification, Fingerprint)>,
}

/// The automerge ops that put an entry's value and its signature: a verdict holds only
/// while both are the ones it was made on (a member device could overwrite either).
type Fingerprint = (ObjId, Option<ObjId>);

impl Record {
    /// The deterministic first change of a record, then a fresh actor for this session.
    pub fn genesis(record_id: &RecordId) -> Result<Self, RecordError> {
        let mut doc = Automerge::new().with_actor(ActorId::from(&GENESIS_ACTOR[..]));
        let mut tx = doc.transaction();
        tx.put(ROOT, "format", FORMAT_VERSION)?;
        tx.put(ROOT, "record_id", record_id.as_str())?;
        tx.put_object(ROOT, DETAILS, ObjType::Map)?;
        tx.put_object(ROOT, ENTRIES, ObjType::Map)?;
        tx.put_object(ROOT, MEMBERS, ObjType::Map)?;
        tx.put_object(ROOT, SIGNATURES, ObjType::Map)?;
        tx.commit_with(CommitOptions::default().with_time(0));
        Self::from_doc(doc.with_actor(ActorId::random()))
    }

    /// Loads saved bytes: a snapshot followed by any number of change chunks.
    pub fn load(bytes: &[u8]) -> Result<Self, RecordError> {
        Self::from_doc(Automerge::load(bytes)?.with_actor(ActorId::random()))
    }

    fn from_doc(doc: Automerge) -> Result<Self, RecordError> {
        let object = |key| match doc.get(ROOT, key)? {
            Some((Value::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(RecordError::Malformed("missing top-level map")),
        };
        let details = object(DETAILS)?;
        let entries = object(ENTRIES)?;
        let members = object(MEMBERS)?;
        let signatures = object(SIGNATURES)?;
        Ok(Self {
            doc,
            details,
            entries,
            members,
            signatures,
            verdicts: RefCell::default(),
            received_document: None,
        })
    }

    pub fn record_id(&self) -> Option<RecordId> {
        match self.doc.get(ROOT, "record_id").ok()?? {
            (Value::Scalar(s), _) => s.as_str()?.parse().ok(),
            _ => None,
        }
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

    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        self.doc.load_incremental(bytes)?;
        Ok(())
    }

    /// Takes an automerge sync message. When the sender sends its whole document (it
    /// does when this device lacks most of the record, as after accepting an invitation)
    /// and this copy holds little, the document is loaded into an empty one, which
    /// automerge does directly instead of replaying every change (5,000 entries: ~29 ms
    /// instead of ~60 ms), and this copy's own changes are merged onto it. Anything that
    /// goes wrong on that path falls back to the ordinary one, from the state as it was.
    pub fn receive_sync_message(
        &mut self,
        state: &mut automerge::sync::State,
        message: automerge::sync::Message,
    ) -> Result<(), RecordError> {
        use automerge::sync::SyncDoc;
        let carries_document = message.changes.len() == 1
            && message
                .changes
                .iter()
                .all(|chunk| chunk.get(8) == Some(&DOCUMENT_CHUNK));
        if carries_document && self.entry_count() < FEW_ENTRIES {
            let document = message.changes.iter().next().map(<[u8]>::to_vec);
            let mut fresh = Automerge::new().with_actor(self.doc.get_actor().clone());
            let mut trial = state.clone();
            let loaded = fresh
                .receive_sync_message(&mut trial, message.clone())
                .is_ok();
            let document_heads = fresh.get_heads();
            if let (true, Some(document)) = (loaded && fresh.merge(&mut self.doc).is_ok(), document)
            {
                // The same genesis, so the same top-level maps: nothing forked.
                let same_genesis = |r: &Record| {
                    (&r.details, &r.entries, &r.members, &r.signatures)
                        == (
                            &self.details,
                            &self.entries,
                            &self.members,
                            &self.signatures,
                        )
                };
                if let Some(record) = Self::from_doc(fresh).ok().filter(same_genesis) {
                    *self = record;
                    self.received_document = Some((document, document_heads));
                    *state = trial;
                    return Ok(());
                }
            }
        }
        self.doc.receive_sync_message(state, message)?;
        Ok(())
    }

    /// The whole document a first sync brought, already compressed by its sender, and
    /// its heads: the store keeps it as the snapshot, with this copy's own changes after
    /// it, instead of saving every change one by one. Reading clears it.
    pub fn take_received_document(&mut self) -> Option<(Vec<u8>, Vec<ChangeHash>)> {
        self.received_document.take()
    }

    /// Merges another copy of the record; the result is the same whatever the order.
    pub fn merge(&mut self, other: &mut Record) -> Result<(), RecordError> {
        self.doc.merge(&mut other.doc)?;
        Ok(())
    }

    pub fn automerge(&self) -> &Automerge {
        &self.doc
    }

    pub fn automerge_mut(&mut self) -> &mut Automerge {
        &mut self.doc
    }

    /// Sets detail fields in one change. `None` clears a field.
    pub fn set_details(
        &mut self,
        fields: &[(DetailField, Option<String>)],
    ) -> Result<(), RecordError> {
        let details = self.details.clone();
        let mut tx = self.doc.transaction();
        for (field, value) in fields {
            match value {
                Some(text) => tx.put(&details, field.key(), text.as_str())?,
                None => tx.delete(&details, field.key())?,
            }
        }
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        Ok(())
    }

    /// The details as automerge resolves them (a deterministic winner per field).
    pub fn details(&self) -> ChildDetails {
        let mut details = ChildDetails::default();
        for field in DetailField::ALL {
            let text = match self.doc.get(&self.details, field.key()) {
                Ok(Some((Value::Scalar(s), _))) => s.as_str().map(str::to_string),
                _ => None,
            };
            details.set_field_text(field, text.as_deref());
        }
        details
    }

    /// The date of birth alone: every entry's dates are checked against it.
    pub fn birth_date(&self) -> Option<chrono::NaiveDate> {
        match self.doc.get(&self.details, DetailField::BirthDate.key()) {
            Ok(Some((Value::Scalar(s), _))) => s.as_str()?.parse().ok(),
            _ => None,
        }
    }

    pub fn conflicts(&self) -> Vec<DetailConflict> {
        DetailField::ALL
            .into_iter()
            .filter_map(|field| {
                let values: Vec<String> = self
                    .doc
                    .get_all(&self.details, field.key())
                    .ok()?
                    .into_iter()
                    .filter_map(|(v, _)| match v {
                        Value::Scalar(s) => s.as_str().map(str::to_string),
                        _ => None,
                    })
                    .collect();
                (values.len() > 1).then_some(DetailConflict { field, values })
            })
            .collect()
    }

    /// Writes an entry and its author device's signature over the stored bytes, in one
    /// change.
    pub fn put_entry(
        &mut self,
        entry: &StoredEntry,
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let bytes = serde_json::to_vec(entry).map_err(|_| RecordError::Malformed("entry"))?;
        let signature = signer.sign(&bytes);
        let (entries, signatures) = (self.entries.clone(), self.signatures.clone());
        let mut tx = self.doc.transaction();
        tx.put(&entries, entry.id.as_str(), ScalarValue::Bytes(bytes))?;
        tx.put(
            &signatures,
            entry.id.as_str(),
            ScalarValue::Bytes(signature.to_vec()),
        )?;
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        Ok(())
    }

    /// Writes an entry as another record held it (an import): its stored bytes rebuilt
    /// from the entry, and its author's signature as it came, checked when read.
    pub fn put_imported_entry(
        &mut self,
        entry: &StoredEntry,
        signature: Option<&[u8]>,
    ) -> Result<(), RecordError> {
        let bytes = serde_json::to_vec(entry).map_err(|_| RecordError::Malformed("entry"))?;
        let (entries, signatures) = (self.entries.clone(), self.signatures.clone());
        let mut tx = self.doc.transaction();
        tx.put(&entries, entry.id.as_str(), ScalarValue::Bytes(bytes))?;
        if let Some(signature) = signature {
            tx.put(
                &signatures,
                entry.id.as_str(),
                ScalarValue::Bytes(signature.to_vec()),
            )?;
        }
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        Ok(())
    }

    /// Each entry's stored bytes (the bytes its signature covers), by entry id.
    fn stored_bytes(&self) -> HashMap<EntryId, Vec<u8>> {
        self.doc
            .map_range(&self.entries, ..)
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) => {
                    Some((item.key.parse().ok()?, bytes.to_vec()))
                }
                _ => None,
            })
            .collect()
    }

    /// Each entry's author signature, by entry id.
    pub fn signatures(&self) -> HashMap<EntryId, Vec<u8>> {
        self.doc
            .map_range(&self.signatures, ..)
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) => {
                    Some((item.key.parse().ok()?, bytes.to_vec()))
                }
                _ => None,
            })
            .collect()
    }

    /// Adds (or updates) a member device.
    pub fn put_member(&mut self, member: &Member) -> Result<(), RecordError> {
        let bytes = serde_json::to_vec(member).map_err(|_| RecordError::Malformed("member"))?;
        let members = self.members.clone();
        let mut tx = self.doc.transaction();
        tx.put(
            &members,
            member.device_id.as_str(),
            ScalarValue::Bytes(bytes),
        )?;
        tx.commit_with(CommitOptions::default().with_time(now_millis()));
        Ok(())
    }

    /// Member devices whose records read back intact (the key is the device id the
    /// member's own keys give).
    pub fn members(&self) -> Vec<Member> {
        self.doc
            .map_range(&self.members, ..)
            .filter_map(|item| match &item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) => {
                    serde_json::from_slice::<Member>(bytes).ok()
                }
                _ => None,
            })
            .filter(|m| m.keys.device_id() == m.device_id)
            .collect()
    }

    /// One member by device id: reads only that member's value (every write asks).
    pub fn member(&self, device_id: &str) -> Option<Member> {
        let bytes = self.bytes_in(&self.members, device_id)?;
        serde_json::from_slice::<Member>(&bytes)
            .ok()
            .filter(|m| m.device_id == device_id && m.keys.device_id() == m.device_id)
    }

    fn bytes_in(&self, map: &ObjId, key: &str) -> Option<Vec<u8>> {
        match self.doc.get(map, key).ok()?? {
            (Value::Scalar(scalar), _) => match scalar.as_ref() {
                ScalarValue::Bytes(bytes) => Some(bytes.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    /// One entry by id, if it is there and readable.
    pub fn entry(&self, id: &EntryId) -> Option<StoredEntry> {
        serde_json::from_slice(&self.bytes_in(&self.entries, id.as_str())?).ok()
    }

    pub fn entry_count(&self) -> usize {
        self.doc.length(&self.entries)
    }

    /// Every entry, in the order written; entries this version cannot read (written by a
    /// newer app) are returned by id, never dropped.
    pub fn entries(&self) -> (Vec<StoredEntry>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_ops();
        (entries.into_iter().map(|(e, _)| e).collect(), unreadable)
    }

    /// `entries`, each with the op that put its value.
    fn entries_with_ops(&self) -> (Vec<(StoredEntry, ObjId)>, Vec<EntryId>) {
        let mut readable = Vec::new();
        let mut unreadable = Vec::new();
        for item in self.doc.map_range(&self.entries, ..) {
            let parsed = match &item.value {
                ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) => {
                    serde_json::from_slice::<StoredEntry>(bytes).ok()
                }
                _ => None,
            }
            .filter(|entry| entry.id.as_str() == item.key);
            match parsed {
                Some(entry) => readable.push((entry, item.id())),
                None => unreadable.extend(item.key.parse().ok()),
            }
        }
        readable.sort_by(|(a, _), (b, _)| a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id)));
        (readable, unreadable)
    }

    /// Every readable entry with what later entries say about it and whether its
    /// author's signature checks out; and the ids of entries this version cannot read.
    pub fn entry_views(&self) -> (Vec<EntryView>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_ops();
        let members = self.members();
        let keys: Vec<(String, [u8; 32])> = members
            .iter()
            .map(|m| (m.device_id.clone(), m.keys.signing_key))
            .collect();
        let mut verdicts = self.verdicts.borrow_mut();
        if verdicts.members != keys {
            *verdicts = Verdicts {
                members: keys,
                by_entry: HashMap::new(),
            };
        }
        let signature_ops: HashMap<String, ObjId> = self
            .doc
            .map_range(&self.signatures, ..)
            .map(|item| (item.key.to_string(), item.id()))
            .collect();
        let fingerprints: Vec<Fingerprint> = entries
            .iter()
            .map(|(e, op)| (op.clone(), signature_ops.get(e.id.as_str()).cloned()))
            .collect();
        let unchecked: Vec<(&StoredEntry, &Fingerprint)> = entries
            .iter()
            .zip(&fingerprints)
            .filter(|((e, _), fingerprint)| {
                verdicts.by_entry.get(&e.id).map(|(_, f)| f) != Some(*fingerprint)
            })
            .map(|((e, _), fingerprint)| (e, fingerprint))
            .collect();
        // What each check needs, read in one pass over each map (a lookup per entry
        // costs more than the check): the stored bytes, the signature, the author's key.
        let mut checks: Vec<Option<SignatureCheck>> = Vec::new();
        if !unchecked.is_empty() {
            let mut signatures = self.signatures();
            let mut stored = self.stored_bytes();
            checks = unchecked
                .iter()
                .map(|(e, _)| {
                    let member = members.iter().find(|m| m.device_id == e.author.device_id)?;
                    Some((
                        &member.keys,
                        stored.remove(&e.id)?,
                        signatures.remove(&e.id)?,
                    ))
                })
                .collect();
        }
        let outcomes = verify_all(checks.iter().flatten().collect());
        let mut outcomes = outcomes.into_iter();
        for ((entry, fingerprint), check) in unchecked.into_iter().zip(&checks) {
            let verdict = match (check, check.as_ref().and_then(|_| outcomes.next())) {
                (Some(_), Some(true)) => Verification::Verified,
                (Some(_), _) => Verification::Invalid,
                (None, _) => Verification::Unverified,
            };
            verdicts
                .by_entry
                .insert(entry.id.clone(), (verdict, fingerprint.clone()));
        }
        let verified: Vec<Verification> = entries
            .iter()
            .map(|(e, _)| verdicts.by_entry[&e.id].0)
            .collect();
        let mut views = entry_views(entries.into_iter().map(|(e, _)| e).collect());
        for (view, verification) in views.iter_mut().zip(verified) {
            view.verification = verification;
        }
        (views, unreadable)
    }
}

/// The author's key, the entry's stored bytes, and the signature over them.
type SignatureCheck<'a> = (&'a DevicePublic, Vec<u8>, Vec<u8>);

/// Checks signatures on every core: each Ed25519 check is pure and costs ~60 us, so a
/// long record read cold (thousands of entries) is what makes the first read slow.
fn verify_all(checks: Vec<&(&DevicePublic, Vec<u8>, Vec<u8>)>) -> Vec<bool> {
    let check =
        |(key, bytes, signature): &&(&DevicePublic, Vec<u8>, Vec<u8>)| key.verify(bytes, signature);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || checks.len() < 64 {
        return checks.iter().map(check).collect();
    }
    let per_thread = checks.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = checks
            .chunks(per_thread)
            .map(|part| {
                (
                    part,
                    scope.spawn(move || part.iter().map(check).collect::<Vec<_>>()),
                )
            })
            .collect();
        parts
            .into_iter()
            // A check cannot panic; if a thread failed anyway, check its part here.
            .flat_map(|(part, handle)| {
                handle
                    .join()
                    .unwrap_or_else(|_| part.iter().map(check).collect())
            })
            .collect()
    })
}

/// Works out each entry's status from the amendments and error marks that point at it
/// (verification is left `Unverified`: `Record::entry_views` fills it in).
fn entry_views(entries: Vec<StoredEntry>) -> Vec<EntryView> {
    let mut status: HashMap<EntryId, EntryStatus> = HashMap::new();
    // Entries come sorted by time written, so the latest amendment wins; an error mark
    // outranks an amendment whatever the order.
    for entry in &entries {
        if let Some(target) = &entry.amends {
            if !matches!(status.get(target), Some(EntryStatus::EnteredInError { .. })) {
                status.insert(
                    target.clone(),
                    EntryStatus::Amended {
                        by: entry.id.clone(),
                    },
                );
            }
        }
        if let EntryBody::EnteredInError { target, reason } = &entry.body {
            status.insert(
                target.clone(),
                EntryStatus::EnteredInError {
                    marked_by: entry.id.clone(),
                    reason: reason.clone(),
                },
            );
        }
    }
    entries
        .into_iter()
        .map(|entry| EntryView {
            status: status.remove(&entry.id).unwrap_or(EntryStatus::Current),
            flags: validate::flags_of(&entry.body),
            verification: Verification::Unverified,
            entry,
        })
        .collect()
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Author, Note, NoteKind, Role};

    fn signer() -> &'static DeviceKeys {
        static KEYS: std::sync::OnceLock<DeviceKeys> = std::sync::OnceLock::new();
        KEYS.get_or_init(|| DeviceKeys::generate().unwrap())
    }

    fn note(text: &str) -> StoredEntry {
        StoredEntry {
            id: EntryId::generate().unwrap(),
            author: Author {
                device_id: "d".into(),
                role: Role::Parent,
                display_name: "Mum".into(),
                organisation: None,
            },
            recorded_at: chrono::Utc::now(),
            amends: None,
            body: EntryBody::Note(Note {
                date: "2026-01-02".parse().unwrap(),
                kind: NoteKind::Observation,
                text: text.into(),
            }),
        }
    }

    /// The record's creator: a member that added itself.
    fn member_for(keys: &DeviceKeys, role: Role) -> Member {
        Member {
            device_id: keys.public().device_id(),
            keys: keys.public(),
            role,
            display_name: "Member".into(),
            organisation: None,
            added_by: keys.public().device_id(),
            added_at: chrono::Utc::now(),
            removed: None,
        }
    }

    fn fork(record: &Record) -> Record {
        Record::load(&record.save()).unwrap()
    }

    #[test]
    fn a_verdict_does_not_outlive_the_value_it_was_made_on() {
        let keys = signer();
        let member = member_for(keys, Role::HealthVisitor);
        let mut record = Record::genesis(&RecordId::generate().unwrap()).unwrap();
        record.put_member(&member).unwrap();
        let mut entry = note("weight 5.2 kg");
        entry.author.device_id = member.device_id.clone();
        record.put_entry(&entry, keys).unwrap();
        let verdict = |r: &Record| r.entry_views().0[0].verification;
        assert_eq!(verdict(&record), Verification::Verified);
        // Another device overwrites the value under the same id, keeping the author and
        // the old signature: the cached verdict must not vouch for the new text.
        let mut forged = entry.clone();
        forged.body = EntryBody::Note(Note {
            date: "2026-01-02".parse().unwrap(),
            kind: NoteKind::Observation,
            text: "weight 9.9 kg".into(),
        });
        let entries = record.entries.clone();
        let mut tx = record.automerge_mut().transaction();
        tx.put(
            &entries,
            entry.id.as_str(),
            ScalarValue::Bytes(serde_json::to_vec(&forged).unwrap()),
        )
        .unwrap();
        tx.commit();
        assert_eq!(verdict(&record), Verification::Invalid);
    }

    #[test]
    fn genesis_is_identical_on_every_device() {
        let id = RecordId::generate().unwrap();
        let mut a = Record::genesis(&id).unwrap();
        let mut b = Record::genesis(&id).unwrap();
        assert_eq!(a.heads(), b.heads());
        a.put_entry(&note("from a"), signer()).unwrap();
        b.put_entry(&note("from b"), signer()).unwrap();
        a.merge(&mut b).unwrap();
        assert_eq!(
            a.entry_count(),
            2,
            "both devices' entries survive the merge"
        );
        assert_eq!(a.record_id(), Some(id));
    }

    #[test]
    fn merge_converges_whatever_the_order() {
        let id = RecordId::generate().unwrap();
        let base = Record::genesis(&id).unwrap();
        let (mut a, mut b, mut c) = (fork(&base), fork(&base), fork(&base));
        a.put_entry(&note("a"), signer()).unwrap();
        b.put_entry(&note("b"), signer()).unwrap();
        c.set_details(&[(DetailField::Address, Some("1 Road".into()))])
            .unwrap();
        let (mut ab, mut ba) = (fork(&a), fork(&b));
        ab.merge(&mut fork(&b)).unwrap();
        ab.merge(&mut fork(&c)).unwrap();
        ba.merge(&mut fork(&c)).unwrap();
        ba.merge(&mut fork(&a)).unwrap();
        let sorted_heads = |r: &Record| {
            let mut h = r.heads();
            h.sort();
            h
        };
        assert_eq!(sorted_heads(&ab), sorted_heads(&ba));
        assert_eq!(ab.entry_views(), ba.entry_views());
        assert_eq!(ab.details(), ba.details());
        assert_eq!(ab.entry_count(), 2);
    }

    #[test]
    fn concurrent_detail_edits_keep_both_values_until_resolved() {
        let base = Record::genesis(&RecordId::generate().unwrap()).unwrap();
        let (mut a, mut b) = (fork(&base), fork(&base));
        a.set_details(&[(DetailField::Name, Some("Amara".into()))])
            .unwrap();
        b.set_details(&[(DetailField::Name, Some("Amarah".into()))])
            .unwrap();
        a.merge(&mut b).unwrap();
        let conflicts = a.conflicts();
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].field, DetailField::Name);
        let mut values = conflicts[0].values.clone();
        values.sort();
        assert_eq!(values, ["Amara", "Amarah"]);
        a.set_details(&[(DetailField::Name, Some("Amarah".into()))])
            .unwrap();
        assert!(a.conflicts().is_empty());
        assert_eq!(a.details().name, "Amarah");
    }

    #[test]
    fn amendments_and_error_marks_set_status_without_deleting() {
        let mut record = Record::genesis(&RecordId::generate().unwrap()).unwrap();
        let original = note("first");
        record.put_entry(&original, signer()).unwrap();
        let mut correction = note("corrected");
        correction.amends = Some(original.id.clone());
        record.put_entry(&correction, signer()).unwrap();
        let mut mark = note("");
        mark.body = EntryBody::EnteredInError {
            target: correction.id.clone(),
            reason: "wrong child".into(),
        };
        record.put_entry(&mark, signer()).unwrap();
        let (views, _) = record.entry_views();
        assert_eq!(views.len(), 3);
        assert_eq!(
            views[0].status,
            EntryStatus::Amended {
                by: correction.id.clone()
            }
        );
        assert!(matches!(
            views[1].status,
            EntryStatus::EnteredInError { .. }
        ));
        assert_eq!(views[2].status, EntryStatus::Current);
    }

    #[test]
    fn entries_are_verified_unverified_or_invalid_by_their_signature() {
        let (mum, stranger) = (
            DeviceKeys::generate().unwrap(),
            DeviceKeys::generate().unwrap(),
        );
        let member = member_for(&mum, Role::Parent);
        let mut record = Record::genesis(&RecordId::generate().unwrap()).unwrap();
        record.put_member(&member).unwrap();
        let by = |device: &DeviceKeys, text: &str| {
            let mut entry = note(text);
            entry.author.device_id = device.public().device_id();
            entry
        };
        record.put_entry(&by(&mum, "signed by mum"), &mum).unwrap();
        // Claims to be mum, signed by someone else: shown, flagged, never trusted.
        record.put_entry(&by(&mum, "forged"), &stranger).unwrap();
        // A device that is not a member.
        record
            .put_entry(&by(&stranger, "unknown device"), &stranger)
            .unwrap();
        let verdict = |text: &str| {
            let (views, _) = record.entry_views();
            views
                .into_iter()
                .find(|v| matches!(&v.entry.body, EntryBody::Note(n) if n.text == text))
                .unwrap()
                .verification
        };
        assert_eq!(verdict("signed by mum"), Verification::Verified);
        assert_eq!(verdict("forged"), Verification::Invalid);
        assert_eq!(verdict("unknown device"), Verification::Unverified);
    }
}
