//! A removal as the removed device learns it and as its remover tells it: what a member's
//! key message showed this device (kept to tell its user), the notices a remover leaves
//! for devices it removed, and what this device wrote after its removal, which no other
//! device counts (docs/threat-model.md, "Removal").

use super::{seal_keys, Header, Kind};
use crate::crypto::device::DeviceKeys;
use crate::model::{EntryId, EntryView, Member, RecordId, Verification};
use crate::record::membership;
use crate::store::Store;
use crate::Error;
use chrono::Utc;
use std::collections::HashSet;

/// Per record: the devices this one removed and has told so (through the relay).
const REMOVAL_NOTIFIED: &str = "removal_notified";
/// Per record: set when a member's key message showed this device was removed.
const REMOVED_HERE: &str = "removed_here";

/// After a key message from a member: a key adopted means this device is a member once
/// more; otherwise, if the statements it carries show this device removed, who removed it
/// and when is kept, to tell its user.
pub fn note_key_message(
    store: &mut Store,
    id: &RecordId,
    values: &[Vec<u8>],
    me: &str,
    adopted: bool,
) -> Result<(), Error> {
    let removed_name = store.record_meta_name(REMOVED_HERE, id);
    if adopted {
        store.delete_meta(&removed_name)?;
    } else if let Some(removed) = removed_in(store, id, values, me)? {
        let bytes = serde_json::to_vec(&removed).unwrap_or_default();
        store.put_sealed_meta(&removed_name, &bytes)?;
    }
    Ok(())
}

/// Whether a member's key message showed this device was removed from the record (and
/// none has given it a key since).
pub fn removed_from(store: &Store, id: &RecordId) -> Result<bool, Error> {
    Ok(removed_here(store, id)?.is_some())
}

/// What this device was told of its removal: None while it is a member; `Some(None)` when
/// it was removed but what it kept cannot be read.
pub fn removed_here(store: &Store, id: &RecordId) -> Result<Option<Option<RemovedHere>>, Error> {
    let name = store.record_meta_name(REMOVED_HERE, id);
    Ok(store
        .sealed_meta(&name)?
        .map(|kept| serde_json::from_slice(&kept).ok()))
}

/// A key message for each device this one removed and has not told yet: the record's
/// statements (who the members are, which it held already, and its removal), sealed to
/// that device, so its relay sync learns it was removed and stops. No key for it is in
/// them.
pub fn removal_notices(
    store: &mut Store,
    keys: &DeviceKeys,
    id: &RecordId,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let me = keys.public().device_id();
    let name = store.record_meta_name(REMOVAL_NOTIFIED, id);
    let notified: Vec<String> = store
        .sealed_meta(&name)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let epoch = store.record_epoch(id)?;
    let record = store.record(id)?;
    let removed: Vec<Member> = record
        .members()
        .into_iter()
        .filter(|m| m.removed.as_ref().is_some_and(|r| r.by == me))
        .filter(|m| !notified.contains(&m.device_id))
        .collect();
    if removed.is_empty() {
        return Ok(Vec::new());
    }
    let statements = record.statement_values();
    removed
        .into_iter()
        .map(|member| {
            let header = Header {
                kind: Kind::Keys,
                record_id: id.clone(),
                epoch,
                from: me.clone(),
                to: member.device_id.clone(),
            };
            let notice = seal_keys(&header, &statements, &member.keys, keys)?;
            Ok((member.device_id, notice))
        })
        .collect()
}

/// The removed devices named have been told.
pub fn removal_notified(store: &Store, id: &RecordId, devices: &[String]) -> Result<(), Error> {
    if devices.is_empty() {
        return Ok(());
    }
    let name = store.record_meta_name(REMOVAL_NOTIFIED, id);
    let mut notified: Vec<String> = store
        .sealed_meta(&name)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    notified.extend(devices.iter().cloned());
    store.put_sealed_meta(&name, &serde_json::to_vec(&notified).expect("serialisable"))
}

/// Who removed this device and on what day, if these statements with the record's own
/// say it was removed.
fn removed_in(
    store: &mut Store,
    id: &RecordId,
    values: &[Vec<u8>],
    me: &str,
) -> Result<Option<RemovedHere>, Error> {
    let record = store.record(id)?;
    let mut statements = record.statements();
    statements.extend(record.statements_from_values(values));
    let membership = membership::resolve(id, statements);
    Ok(membership
        .member(me)
        .and_then(|m| m.removed.clone())
        .map(|removal| {
            let by = membership.member(&removal.by);
            RemovedHere {
                by: by.map(|m| m.display_name.clone()),
                on: removal.at.date_naive(),
                at: Some(removal.at),
                replaced: by.is_some_and(|m| m.stands_in_for.as_deref() == Some(me)),
            }
        }))
}

/// What this device learned of its removal, kept (sealed) to tell its user.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct RemovedHere {
    pub by: Option<String>,
    pub on: chrono::NaiveDate,
    /// When the removal was signed (absent from what was kept before it was saved).
    #[serde(default)]
    pub at: Option<chrono::DateTime<Utc>>,
    /// Removed by a phone restored in this one's place (absent from what was kept
    /// before it was saved).
    #[serde(default)]
    pub replaced: bool,
}

/// When this device was removed from the record: as a member's key message told it
/// (the record here may not hold that statement), or as the record's members say while
/// it is not a member again.
fn removed_here_at(
    store: &mut Store,
    id: &RecordId,
    me: &str,
) -> Result<Option<chrono::DateTime<Utc>>, Error> {
    let name = store.record_meta_name(REMOVED_HERE, id);
    let told = store
        .sealed_meta(&name)?
        .and_then(|kept| serde_json::from_slice::<RemovedHere>(&kept).ok())
        .and_then(|removed| removed.at);
    Ok(told.or_else(|| {
        store
            .record(id)
            .ok()
            .and_then(|record| record.membership().member(me).cloned())
            .filter(|member| !member.is_active())
            .and_then(|member| member.removed)
            .map(|removal| removal.at)
    }))
}

/// What this device wrote after its removal (before it knew) is written without the
/// right to write, as every other member's device shows it: kept here, never counted,
/// never exported as the record's (docs/threat-model.md, "Removal").
pub fn mark_written_after_removal(
    store: &mut Store,
    id: &RecordId,
    me: &str,
    entries: &mut [EntryView],
) -> Result<(), Error> {
    let after = written_here_after_removal(store, id, me, entries)?;
    for view in entries.iter_mut().filter(|v| after.contains(&v.entry.id)) {
        view.verification = Verification::NotPermitted;
    }
    Ok(())
}

/// This device's own entries among `entries` written at or after its removal, that
/// would otherwise count (`mark_written_after_removal` marks them).
pub fn written_here_after_removal(
    store: &mut Store,
    id: &RecordId,
    me: &str,
    entries: &[EntryView],
) -> Result<HashSet<EntryId>, Error> {
    use Verification::{NotPermitted, Verified};
    let Some(removed_at) = removed_here_at(store, id, me)? else {
        return Ok(Default::default());
    };
    Ok(entries
        .iter()
        .filter(|v| {
            v.entry.author.device_id == me
                && v.entry.recorded_at >= removed_at
                && matches!(v.verification, Verified | NotPermitted)
        })
        .map(|v| v.entry.id.clone())
        .collect())
}
