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
/// Values one message may add: a first sync of a 5,000-entry record is one message, so
/// twice that; 30,000 notes in one message made the record take seconds to read.
pub const MAX_VALUES_PER_MESSAGE: usize = 10_000;
/// Membership statements one message may add (a family and its clinics issue tens).
pub const MAX_STATEMENTS_PER_MESSAGE: usize = 256;
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

/// The highest sequence number and op counter each actor used.
pub(super) type Places = std::collections::HashMap<automerge::ActorId, (u64, u64)>;

/// Every new change must come after everything its actor already wrote here: a greater
/// sequence number and op counters above the actor's highest, taken in sequence order
/// (an honest actor's changes form one chain, so this refuses nothing honest).
fn check_places(mut latest: Places, mut new: Vec<Place>) -> Result<(), RefusedChange> {
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

/// What the deflated parts of one message may inflate to, in all: automerge inflates a
/// compressed change or column whole before anything else is read, so a 1 MB chunk could
/// otherwise become a gigabyte in a phone's memory (docs/threat-model.md, "Bounded
/// work"). Twice the message limit: an honest document compresses its columns about 3:1,
/// and the largest honest message is far below the limit.
pub const MAX_INFLATED_BYTES: u64 = 2 * MAX_MESSAGE_BYTES as u64;

/// Refuses a message whose deflated parts would inflate past `MAX_INFLATED_BYTES`,
/// inflating into a counter (never into memory) before automerge sees any of it.
pub(super) fn check_inflated_size(bytes: &[u8]) -> Result<(), RefusedChange> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(RefusedChange::TooLarge);
    }
    let mut budget = MAX_INFLATED_BYTES;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (chunk, after) = split_chunk(rest).ok_or(RefusedChange::Unreadable)?;
        let data = chunk_data(chunk).ok_or(RefusedChange::Unreadable)?;
        match chunk[8] {
            // A document: actors, heads, then two column sets.
            0 => {
                let mut at = Reader { bytes: data, at: 0 };
                at.skip_actors()?;
                let heads = at.uleb()?;
                at.skip(heads.checked_mul(32).ok_or(RefusedChange::Unreadable)?)?;
                // Both sets' metadata first, then both sets' data.
                let changes = at.column_metadata()?;
                let ops = at.column_metadata()?;
                at.inflate_data(&changes, &mut budget)?;
                at.inflate_data(&ops, &mut budget)?;
            }
            // A compressed change: all of it deflated.
            2 => inflate_within(data, &mut budget)?,
            // A bundle: dependencies, actors, then two column sets.
            3 => {
                let mut at = Reader { bytes: data, at: 0 };
                let deps = at.uleb()?;
                at.skip(deps.checked_mul(32).ok_or(RefusedChange::Unreadable)?)?;
                at.skip_actors()?;
                // Each set's metadata, then its data.
                for _ in 0..2 {
                    let columns = at.column_metadata()?;
                    at.inflate_data(&columns, &mut budget)?;
                }
            }
            _ => {}
        }
        rest = after;
    }
    Ok(())
}

/// A chunk's data: after its magic, checksum, type and length.
fn chunk_data(chunk: &[u8]) -> Option<&[u8]> {
    let mut at = 9;
    while *chunk.get(at)? & 0x80 != 0 {
        at += 1;
    }
    chunk.get(at + 1..)
}

/// Inflates `deflated` into a counter, taking what it inflates to from `budget`.
fn inflate_within(deflated: &[u8], budget: &mut u64) -> Result<(), RefusedChange> {
    use std::io::Read;
    let mut inflater = flate2::bufread::DeflateDecoder::new(deflated).take(*budget + 1);
    let inflated = std::io::copy(&mut inflater, &mut std::io::sink())
        .map_err(|_| RefusedChange::Unreadable)?;
    *budget = budget
        .checked_sub(inflated)
        .ok_or(RefusedChange::TooLarge)?;
    Ok(())
}

/// Reads automerge's storage format far enough to find its deflated columns.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn uleb(&mut self) -> Result<u64, RefusedChange> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or(RefusedChange::Unreadable)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f)
                .checked_shl(shift)
                .ok_or(RefusedChange::Unreadable)?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(RefusedChange::Unreadable)
    }

    fn skip(&mut self, n: u64) -> Result<(), RefusedChange> {
        let n = usize::try_from(n).map_err(|_| RefusedChange::Unreadable)?;
        let end = self.at.checked_add(n).ok_or(RefusedChange::Unreadable)?;
        if end > self.bytes.len() {
            return Err(RefusedChange::Unreadable);
        }
        self.at = end;
        Ok(())
    }

    fn skip_actors(&mut self) -> Result<(), RefusedChange> {
        for _ in 0..self.uleb()? {
            let length = self.uleb()?;
            self.skip(length)?;
        }
        Ok(())
    }

    /// One column set's metadata: a count of (spec, length) pairs; whether each column
    /// is deflated (bit 3 of its spec) and its length.
    fn column_metadata(&mut self) -> Result<Vec<(bool, u64)>, RefusedChange> {
        let count = self.uleb()?;
        let mut columns = Vec::new();
        for _ in 0..count {
            let spec = self.uleb()?;
            let length = self.uleb()?;
            columns.push((spec & 0b1000 != 0, length));
        }
        Ok(columns)
    }

    /// The columns' data, in order, inflating the deflated ones into the budget.
    fn inflate_data(
        &mut self,
        columns: &[(bool, u64)],
        budget: &mut u64,
    ) -> Result<(), RefusedChange> {
        for &(deflated, length) in columns {
            let start = self.at;
            self.skip(length)?;
            if deflated {
                inflate_within(&self.bytes[start..self.at], budget)?;
            }
        }
        Ok(())
    }
}

/// The automerge changes in `bytes` (documents, changes, compressed changes, bundles),
/// without applying any. The caller has checked what they inflate to
/// (`check_inflated_size`).
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
        if new.is_empty() {
            return Ok(());
        }
        check_places(
            self.latest_places(),
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
        let mut puts = Vec::new();
        for (_, checked) in on_every_core(&new, 256, |part| checker.check(part)) {
            puts.extend(checked.unwrap_or(Err(RefusedChange::Unreadable))?);
        }
        self.check_bounds(&puts)?;
        self.check_one_value_per_key(puts)
    }

    /// Each actor's highest sequence number and op counter in this copy, from the
    /// changes since the heads last asked about (all of them the first time).
    fn latest_places(&self) -> Places {
        let heads = self.doc.get_heads();
        let mut cached = self.history.borrow_mut();
        let (seen, latest) = cached.get_or_insert_with(Default::default);
        if *seen != heads {
            // A document only grows: what was here at `seen` still is, and the changes
            // not among its ancestors are the rest.
            for meta in self.doc.get_changes_meta(seen) {
                let slot = latest.entry(meta.actor.into_owned()).or_insert((0, 0));
                *slot = (slot.0.max(meta.seq), slot.1.max(meta.max_op));
            }
            *seen = heads;
        }
        latest.clone()
    }

    /// Bounded work per message: at most `MAX_VALUES_PER_MESSAGE` values and
    /// `MAX_STATEMENTS_PER_MESSAGE` statements, and every statement issued by a device
    /// that is a member once this copy's statements and the message's are resolved
    /// together (an honest statement's issuer was granted before it issued it, so its
    /// grant is here or in the same message; statements from throwaway keys are refused,
    /// never kept to be resolved at every read).
    fn check_bounds(&self, puts: &[Put]) -> Result<(), RefusedChange> {
        if puts.len() > MAX_VALUES_PER_MESSAGE {
            return Err(RefusedChange::TooLarge);
        }
        let membership_map = self.maps().iter().position(|(_, k)| *k == Kind::Statement);
        let statements: Vec<Statement> = puts
            .iter()
            .filter(|p| Some(p.map) == membership_map)
            .filter_map(|p| {
                let value = signed::parse(&p.bytes)?;
                serde_json::from_slice(value.json).ok()
            })
            .collect();
        if statements.len() > MAX_STATEMENTS_PER_MESSAGE {
            return Err(RefusedChange::TooLarge);
        }
        if statements.is_empty() {
            return Ok(());
        }
        let mut all = self.statements();
        all.extend(statements.iter().cloned());
        let resolved = super::membership::resolve(&self.record_id, all);
        if statements
            .iter()
            .any(|s| resolved.member(&s.issuer_id()).is_none())
        {
            return Err(RefusedChange::InvalidValue(
                "statement issuer (not a member)".into(),
            ));
        }
        Ok(())
    }

    /// A key holds one value: a put beside a different value (already here, or in the
    /// same message) is refused. Keys commit to values, so only the key's own signer can
    /// make such a value (another signature over the same content); an identical copy is
    /// let in, since refusing a replay would refuse the original on a device that saw
    /// the replay first (docs/adr/0012-keys-commit-to-values.md).
    fn check_one_value_per_key(&self, puts: Vec<Put>) -> Result<(), RefusedChange> {
        let mut seen: std::collections::HashMap<(usize, &str), &[u8]> =
            std::collections::HashMap::new();
        for put in &puts {
            if let Some(earlier) = seen.insert((put.map, put.key.as_str()), &put.bytes) {
                if earlier != put.bytes.as_slice() {
                    return Err(RefusedChange::Overwrite);
                }
            }
        }
        let maps = self.maps();
        for put in &puts {
            let held = guarded(|| self.doc.get_all(maps[put.map].0, put.key.as_str()))
                .ok_or(RefusedChange::Unreadable)?
                .unwrap_or_default();
            let differs = held.iter().any(|(value, _)| match value {
                automerge::Value::Scalar(s) => match s.as_ref() {
                    ScalarValue::Bytes(bytes) => bytes != &put.bytes,
                    _ => true,
                },
                _ => true,
            });
            if differs {
                return Err(RefusedChange::Overwrite);
            }
        }
        Ok(())
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
            self.latest_places(),
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
        first_refusal(on_every_core(&values, 256, check))?;
        let maps = self.maps();
        let puts: Vec<Put> = values
            .into_iter()
            .map(|(kind, key, bytes)| Put {
                map: maps.iter().position(|(_, k)| *k == kind).unwrap_or(0),
                key,
                bytes,
            })
            .collect();
        self.check_bounds(&puts)?;
        self.check_one_value_per_key(puts)
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

/// One value a change puts: its map (index into `Record::maps`), key and bytes.
struct Put {
    map: usize,
    key: String,
    bytes: Vec<u8>,
}

/// The change check, apart from the record (so it can run on several threads).
struct Checker<'a> {
    maps: Vec<(ObjId, Kind)>,
    record_id: &'a crate::model::RecordId,
}

impl Checker<'_> {
    /// Checks each change's operations; the values they put.
    fn check(&self, changes: &[&Change]) -> Result<Vec<Put>, RefusedChange> {
        let maps = &self.maps;
        let mut puts = Vec::new();
        for change in changes {
            let expanded = guarded(|| change.decode()).ok_or(RefusedChange::Unreadable)?;
            for op in &expanded.operations {
                let (map, kind) = match &op.obj {
                    ObjectId::Root => return Err(RefusedChange::OutsideShape("the root")),
                    ObjectId::Id(id) => maps
                        .iter()
                        .position(|(map, _)| {
                            matches!(map, ObjId::Id(counter, actor, _)
                                if *counter == id.counter() && actor == id.actor())
                        })
                        .map(|at| (at, maps[at].1))
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
                puts.push(Put {
                    map,
                    key: key.to_string(),
                    bytes: bytes.clone(),
                });
            }
        }
        Ok(puts)
    }

    /// A value as the door would have written it: framed and signed as its map's kind,
    /// under the key it names, its content valid.
    fn check_value(&self, kind: Kind, key: &str, bytes: &[u8]) -> Result<(), RefusedChange> {
        let invalid = |what: &str| RefusedChange::InvalidValue(what.to_string());
        let value = signed::parse(bytes).ok_or_else(|| invalid("value framing"))?;
        if value.kind != kind {
            return Err(invalid("value kind"));
        }
        if !signed::commits(&value, self.record_id, key) {
            return Err(invalid("value key (it does not commit to the value)"));
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
