//! Another device's changes are checked before any of them is applied
//! (docs/threat-model.md, "Changes from a member"). The check looks at each change's
//! operations alone, so it is deterministic: every honest device refuses the same
//! changes, whatever order they arrive in, and none ever builds on one.
//!
//! A change may only add values under new keys to the three maps below the root, with
//! no predecessor (nothing overwritten, nothing deleted, no objects made), each value a
//! well-formed signed value of that map's kind that passes the checks made at the door.
//! Who may write what is decided when the record is read (`membership`, `verification`).

use super::signed::{self, Kind};
use super::{guarded, on_every_core, Record};
use crate::model::{validate, DetailEdit, Statement, StoredEntry};
use automerge::legacy::{Key, ObjectId, OpType};
use automerge::{Change, ObjId, ReadDoc, ScalarValue};

/// A sync message or bundle larger than this is refused before it is read.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// One value: larger than anything the door accepts (texts of up to 20,000 characters).
const MAX_VALUE_BYTES: usize = 1024 * 1024;
const MAX_DETAIL_REPLACES: usize = 64;
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefusedChange {
    #[error("the changes are not well-formed")]
    Unreadable,
    #[error("the changes are larger than a device accepts")]
    TooLarge,
    #[error("a change writes outside the record's shape ({0})")]
    OutsideShape(&'static str),
    #[error("a change overwrites or deletes a value; the record only grows")]
    Overwrite,
    /// Names the field and the reason, never the value.
    #[error("a change carries an invalid {0}")]
    InvalidValue(String),
    /// A change reuses a place in its author session's history (a sequence number or op
    /// counters it already used): two values would share one op id, and automerge could
    /// not load the saved record again (found by fuzzing).
    #[error("a change reuses its author's sequence or operation numbers")]
    ReusedHistory,
}

/// One change's place in its actor's history.
struct Place<'a> {
    actor: &'a automerge::ActorId,
    seq: u64,
    start_op: u64,
    max_op: u64,
}

/// Every new change must come after everything its actor already wrote here: a greater
/// sequence number and op counters above the actor's highest, taken in sequence order
/// (an honest actor's changes form one chain, so this refuses nothing honest).
fn check_places(doc: &automerge::Automerge, mut new: Vec<Place>) -> Result<(), RefusedChange> {
    if new.is_empty() {
        return Ok(());
    }
    let mut latest: std::collections::HashMap<automerge::ActorId, (u64, u64)> =
        std::collections::HashMap::new();
    for meta in doc.get_changes_meta(&[]) {
        let slot = latest.entry(meta.actor.into_owned()).or_insert((0, 0));
        *slot = (slot.0.max(meta.seq), slot.1.max(meta.max_op));
    }
    new.sort_by(|a, b| (a.actor, a.seq).cmp(&(b.actor, b.seq)));
    for place in new {
        let slot = latest.entry(place.actor.clone()).or_insert((0, 0));
        if place.seq <= slot.0 || place.start_op <= slot.1 {
            return Err(RefusedChange::ReusedHistory);
        }
        *slot = (place.seq, slot.1.max(place.max_op));
    }
    Ok(())
}

/// The automerge changes in `bytes` (documents, changes, compressed changes, bundles),
/// without applying any.
pub(super) fn changes_in(bytes: &[u8]) -> Result<Vec<Change>, RefusedChange> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(RefusedChange::TooLarge);
    }
    let mut changes = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk, after) = split_chunk(rest).ok_or(RefusedChange::Unreadable)?;
        let parsed = guarded(|| -> Result<Vec<Change>, ()> {
            match chunk[8] {
                0 => Ok(automerge::Automerge::load(chunk)
                    .map_err(|_| ())?
                    .get_changes(&[])),
                1 | 2 => Ok(vec![Change::from_bytes(chunk.to_vec()).map_err(|_| ())?]),
                3 => automerge::Bundle::try_from(chunk)
                    .map_err(|_| ())?
                    .to_changes()
                    .map_err(|_| ()),
                _ => Err(()),
            }
        });
        changes.extend(
            parsed
                .ok_or(RefusedChange::Unreadable)?
                .map_err(|_| RefusedChange::Unreadable)?,
        );
        rest = after;
    }
    Ok(changes)
}

/// One chunk (`magic | checksum [4] | type | length uleb128 | data`) and what follows.
fn split_chunk(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    if bytes.len() < 10 || bytes[..4] != CHUNK_MAGIC {
        return None;
    }
    let mut length: u64 = 0;
    let mut at = 9;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(at)?;
        at += 1;
        length |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            let end = at.checked_add(usize::try_from(length).ok()?)?;
            return (end <= bytes.len()).then(|| bytes.split_at(end));
        }
    }
    None
}

impl Record {
    /// Checks every change this copy does not hold yet; refuses all if one is bad. A
    /// long run of changes (a first sync brings thousands) is checked on every core.
    pub(super) fn check_changes(&self, changes: &[Change]) -> Result<(), RefusedChange> {
        let new: Vec<&Change> = changes
            .iter()
            .filter(|c| self.doc.get_change_by_hash(&c.hash()).is_none())
            .collect();
        check_places(
            &self.doc,
            new.iter()
                .map(|c| Place {
                    actor: c.actor_id(),
                    seq: c.seq(),
                    start_op: c.start_op().get(),
                    max_op: c.max_op(),
                })
                .collect(),
        )?;
        let checker = Checker {
            maps: self
                .maps()
                .into_iter()
                .map(|(id, kind)| (id.clone(), kind))
                .collect(),
            record_id: &self.record_id,
        };
        // The first refusal in change order, so every device names the same one.
        first_refusal(on_every_core(&new, 256, |part| checker.check(part)))
    }
}

impl Record {
    /// Checks a whole document another device sent (a first sync) without rebuilding its
    /// changes: every operation it holds must be visible in its final state (so nothing
    /// was ever overwritten or deleted, and no object was made), the root must be the
    /// genesis, and every value must pass the same check as a change's. This accepts
    /// exactly the documents whose changes `check_changes` accepts, at a third of the cost
    /// (no change reconstruction or decoding).
    pub(super) fn check_document(&self, doc: &automerge::Automerge) -> Result<(), RefusedChange> {
        use automerge::{ScalarValueRef, Value, ValueRef, ROOT};
        let genesis_keys = ["details", "entries", "format", "membership", "record_id"];
        let root: Vec<String> = doc.keys(ROOT).collect();
        if root != genesis_keys
            || genesis_keys
                .iter()
                .any(|k| doc.get_all(ROOT, *k).map_or(true, |all| all.len() != 1))
        {
            return Err(RefusedChange::OutsideShape("the root"));
        }
        // Its changes that this copy lacks must each come after their actor's history
        // here, as a change's must (`check_places`).
        let metas = guarded(|| doc.get_changes_meta(&[])).ok_or(RefusedChange::Unreadable)?;
        let new_metas: Vec<_> = metas
            .iter()
            .filter(|m| self.doc.get_change_by_hash(&m.hash).is_none())
            .collect();
        check_places(
            &self.doc,
            new_metas
                .iter()
                .map(|m| Place {
                    actor: m.actor.as_ref(),
                    seq: m.seq,
                    start_op: m.start_op,
                    max_op: m.max_op,
                })
                .collect(),
        )?;
        let mut values: Vec<(Kind, String, Vec<u8>)> = Vec::new();
        for (map, kind) in self.maps() {
            for item in doc.map_range(map, ..) {
                if item.conflict {
                    for (value, _) in doc.get_all(map, item.key.as_ref()).unwrap_or_default() {
                        match value {
                            Value::Scalar(s) => match s.as_ref() {
                                ScalarValue::Bytes(b) => {
                                    values.push((kind, item.key.to_string(), b.clone()))
                                }
                                _ => {
                                    return Err(RefusedChange::OutsideShape(
                                        "only signed values are added",
                                    ))
                                }
                            },
                            _ => {
                                return Err(RefusedChange::OutsideShape(
                                    "only signed values are added",
                                ))
                            }
                        }
                    }
                } else if let ValueRef::Scalar(ScalarValueRef::Bytes(b)) = &item.value {
                    values.push((kind, item.key.to_string(), b.to_vec()));
                } else {
                    return Err(RefusedChange::OutsideShape("only signed values are added"));
                }
            }
        }
        // The genesis's five operations and one per value: any more were overwritten,
        // deleted, or live in objects the record does not have.
        if doc.stats().num_ops != 5 + values.len() as u64 {
            return Err(RefusedChange::Overwrite);
        }
        let checker = Checker {
            maps: Vec::new(),
            record_id: &self.record_id,
        };
        let check = |part: &[(Kind, String, Vec<u8>)]| -> Result<(), RefusedChange> {
            part.iter().try_for_each(|(kind, key, bytes)| {
                if bytes.len() > MAX_VALUE_BYTES {
                    return Err(RefusedChange::TooLarge);
                }
                checker.check_value(*kind, key, bytes)
            })
        };
        first_refusal(on_every_core(&values, 256, check))
    }
}

type Checked = Result<(), RefusedChange>;

/// The first refusal among parts checked in order (a part whose thread failed counts
/// as unreadable).
fn first_refusal<T>(parts: Vec<(&[T], Option<Checked>)>) -> Result<(), RefusedChange> {
    parts
        .into_iter()
        .try_for_each(|(_, result)| result.unwrap_or(Err(RefusedChange::Unreadable)))
}

/// The change check, apart from the record (so it can run on several threads).
struct Checker<'a> {
    maps: Vec<(ObjId, Kind)>,
    record_id: &'a crate::model::RecordId,
}

impl Checker<'_> {
    fn check(&self, changes: &[&Change]) -> Result<(), RefusedChange> {
        let maps = &self.maps;
        for change in changes {
            let expanded = guarded(|| change.decode()).ok_or(RefusedChange::Unreadable)?;
            for op in &expanded.operations {
                let kind = match &op.obj {
                    ObjectId::Root => return Err(RefusedChange::OutsideShape("the root")),
                    ObjectId::Id(id) => maps
                        .iter()
                        .find(|(map, _)| {
                            matches!(map, ObjId::Id(counter, actor, _)
                                if *counter == id.counter() && actor == id.actor())
                        })
                        .map(|(_, kind)| *kind)
                        .ok_or(RefusedChange::OutsideShape(
                            "an object the record does not have",
                        ))?,
                };
                let Key::Map(key) = &op.key else {
                    return Err(RefusedChange::OutsideShape("a list position"));
                };
                if op.insert {
                    return Err(RefusedChange::OutsideShape("a list insertion"));
                }
                let bytes = match &op.action {
                    OpType::Put(ScalarValue::Bytes(bytes)) => bytes,
                    OpType::Delete => return Err(RefusedChange::Overwrite),
                    _ => return Err(RefusedChange::OutsideShape("only signed values are added")),
                };
                if !op.pred.is_empty() {
                    return Err(RefusedChange::Overwrite);
                }
                if bytes.len() > MAX_VALUE_BYTES {
                    return Err(RefusedChange::TooLarge);
                }
                self.check_value(kind, key, bytes)?;
            }
        }
        Ok(())
    }

    /// A value as the door would have written it: framed and signed as its map's kind,
    /// under the key it names, its content valid.
    fn check_value(&self, kind: Kind, key: &str, bytes: &[u8]) -> Result<(), RefusedChange> {
        let invalid = |what: &str| RefusedChange::InvalidValue(what.to_string());
        let value = signed::parse(bytes).ok_or_else(|| invalid("value framing"))?;
        if value.kind != kind {
            return Err(invalid("value kind"));
        }
        match kind {
            Kind::Entry => check_entry(key, value.json),
            Kind::DetailEdit => {
                let edit: DetailEdit =
                    serde_json::from_slice(value.json).map_err(|_| invalid("detail edit"))?;
                if edit.id.as_str() != key || edit.replaces.len() > MAX_DETAIL_REPLACES {
                    return Err(invalid("detail edit"));
                }
                // Edits are few: their signatures are checked here, so a forged edit never
                // enters the record.
                if value.signer_id().as_deref() != Some(edit.author.as_str())
                    || !value.verifies(self.record_id)
                {
                    return Err(invalid("detail edit signature"));
                }
                let today = (edit.at + chrono::Duration::days(1)).date_naive();
                validate::validate_detail_text(edit.field, edit.value.as_deref(), today)
                    .map_err(|e| RefusedChange::InvalidValue(e.to_string()))
            }
            Kind::Statement => {
                let statement: Statement =
                    serde_json::from_slice(value.json).map_err(|_| invalid("statement"))?;
                if statement.id.as_str() != key {
                    return Err(invalid("statement id"));
                }
                statement
                    .check()
                    .map_err(|e| RefusedChange::InvalidValue(e.to_string()))?;
                if value.signer != Some(&statement.issuer.signing_key)
                    || !value.verifies(self.record_id)
                {
                    return Err(invalid("statement signature"));
                }
                Ok(())
            }
        }
    }
}

/// An entry of a kind this version knows must pass the door's checks (dates against
/// the time it says it was written, allowing for time zones); one of a newer kind must
/// at least say who wrote it and when, and is kept unread.
fn check_entry(key: &str, json: &[u8]) -> Result<(), RefusedChange> {
    let invalid = |what: &str| RefusedChange::InvalidValue(what.to_string());
    // Most entries are of a kind this version knows: parse once.
    if let Ok(entry) = serde_json::from_slice::<StoredEntry>(json) {
        if entry.id.as_str() != key {
            return Err(invalid("entry id"));
        }
        check_author(&entry.author)?;
        let today = (entry.recorded_at + chrono::Duration::days(1)).date_naive();
        validate::validate_entry(&entry.body, None, today)
            .map_err(|e| RefusedChange::InvalidValue(e.to_string()))?;
        let body = entry.body;
        return if validate::normalise_entry(body.clone()) == body {
            Ok(())
        } else {
            Err(invalid("entry content (not in normal form)"))
        };
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        id: crate::model::EntryId,
        author: crate::model::Author,
        /// Required (an entry says when it was written), not otherwise read.
        #[allow(dead_code)]
        recorded_at: chrono::DateTime<chrono::Utc>,
        body: serde_json::Value,
    }
    let envelope: Envelope = serde_json::from_slice(json).map_err(|_| invalid("entry"))?;
    if envelope.id.as_str() != key {
        return Err(invalid("entry id"));
    }
    check_author(&envelope.author)?;
    // It did not parse as an entry this version reads: kept unread if its kind is a
    // newer one; a known kind that does not parse is malformed.
    let known = envelope
        .body
        .get("type")
        .and_then(|t| t.as_str())
        .is_some_and(|t| KNOWN_KINDS.contains(&t));
    if known {
        return Err(invalid("entry content"));
    }
    Ok(())
}

fn check_author(author: &crate::model::Author) -> Result<(), RefusedChange> {
    crate::model::Profile {
        role: author.role,
        display_name: author.display_name.clone(),
        organisation: author.organisation.clone(),
        attestation: None,
    }
    .check()
    .map_err(|e| RefusedChange::InvalidValue(format!("entry author: {e}")))
}

/// The entry kinds this version reads (`EntryBody::kind_name`; a test keeps them equal).
pub(super) const KNOWN_KINDS: [&str; 11] = [
    "birth_details",
    "measurement",
    "immunisation",
    "newborn_screening",
    "review",
    "health_event",
    "medicine",
    "allergy",
    "contact",
    "note",
    "entered_in_error",
];
