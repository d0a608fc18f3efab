//! This device's side of the sync protocol over its store: the next message for a peer,
//! receiving a message, key or bundle, and the key adoption a key message brings. The
//! wire (`sync`'s envelopes) and each peer's state (`session`) know nothing of storage;
//! the engine joins them to the store. Messages from devices that are not members, under
//! another record key, or addressed elsewhere are refused before anything is changed;
//! changes that break the record's shape are refused whole (docs/threat-model.md).

use super::mailboxes::{keep_current_mailbox, keep_mailbox};
use super::members::{self, repair_key};
use super::relay_protocol::Mailbox;
use super::removal;
use super::session::{self, EpochCheck, Next, Session};
use super::{Header, Kind, SyncError, ANYONE};
use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::SecretKey;
use crate::model::{Action, RecordId, ValidationError};
use crate::record::{membership, Membership, Record};
use crate::store::{Store, DISPLAY_HINT};
use crate::Error;
use automerge::sync::{Message, SyncDoc};
use std::collections::{HashMap, HashSet};

/// Per record: the device that invited this one, trusted to sync until the record's own
/// statements arrive.
const INVITER: &str = "inviter";

/// Automerge sync state per (record, peer) for this session; saved after each step.
pub type Sessions = HashMap<(RecordId, String), Session>;

/// What receiving a message did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Received {
    pub record_id: RecordId,
    pub from_device: String,
    /// Whether the record changed (new entries, details, members or a new key).
    pub changed: bool,
}

/// The store, this device's keys and its sync sessions, borrowed for one step under the
/// façade's lock.
pub struct SyncEngine<'a> {
    pub store: &'a mut Store,
    pub keys: &'a DeviceKeys,
    pub device_id: &'a str,
    pub sessions: &'a mut Sessions,
}

impl SyncEngine<'_> {
    /// Accepts an invitation: the record appears here, listed under the child's name and
    /// date of birth the invitation carried, empty until the first sync with the inviter
    /// brings its contents. One transaction; accepting twice changes nothing.
    pub fn accept(&mut self, invitation: &[u8]) -> Result<RecordId, Error> {
        let SyncEngine { store, keys, .. } = self;
        let invitation = super::read_invitation(invitation, keys).map_err(invitation_problem)?;
        let id = invitation.record_id.clone();
        match store.record(&id) {
            Ok(_) => return Ok(id),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        // The same genesis every device builds, so the inviter's history joins onto it.
        let record = Record::genesis(&id)?;
        let inviter = serde_json::to_vec(&invitation.inviter).expect("serialisable");
        let mut meta = vec![(store.record_meta_name(INVITER, &id), inviter)];
        // Shown in the list of children until the first sync brings the details.
        if let Some(hint) = &invitation.hint {
            meta.push((
                store.record_meta_name(DISPLAY_HINT, &id),
                serde_json::to_vec(hint).expect("serialisable"),
            ));
        }
        store.create_record_with_key(
            &id,
            record,
            invitation.record_key,
            invitation.epoch,
            &meta,
        )?;
        Ok(id)
    }

    /// The next message for `peer`, to be posted through a relay (`via_relay`) or handed
    /// over directly: only a relay exchange trusts what a saved session says was sent
    /// (`Session::resume`).
    pub fn next_message(
        &mut self,
        id: &RecordId,
        peer: &str,
        via_relay: bool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let SyncEngine {
            store,
            keys,
            device_id: me,
            sessions,
        } = self;
        let peer_keys = known_device(store, id, peer)?;
        repair_key(store, keys, id)?;
        let epoch = store.record_epoch(id)?;
        let header = |kind| Header {
            kind,
            record_id: id.clone(),
            epoch,
            from: me.to_string(),
            to: peer.to_string(),
        };
        let session = session(sessions, store, id, peer)?;
        session.resume(via_relay);
        match session.next(epoch) {
            Next::Keys => {
                save_session(store, id, peer, session)?;
                let statements = store.record(id)?.statement_values();
                Ok(Some(super::seal_keys(
                    &header(Kind::Keys),
                    &statements,
                    &peer_keys,
                    keys,
                )?))
            }
            Next::Sync => {
                let message = store
                    .record(id)?
                    .automerge()
                    .generate_sync_message(&mut session.state);
                session.sent(message.is_some());
                save_session(store, id, peer, session)?;
                let Some(message) = message else {
                    return Ok(None);
                };
                Ok(Some(super::seal_envelope(
                    &header(Kind::Sync),
                    &store.record_key(id)?,
                    &message.encode(),
                    keys,
                )?))
            }
        }
    }

    /// Takes a sync message, key message or bundle from another device. Lost, repeated
    /// and reordered messages are safe: automerge applies each change once. A message
    /// whose changes break the record's shape is refused whole and changes nothing.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Received, Error> {
        let SyncEngine {
            store,
            keys,
            device_id: me,
            sessions,
        } = self;
        let envelope = super::parse_envelope(bytes)?;
        let header = envelope.header.clone();
        let addressed_here =
            header.to == *me || (header.kind == Kind::Bundle && header.to == ANYONE);
        if !addressed_here {
            return Err(SyncError::NotForThisDevice.into());
        }
        let id = header.record_id.clone();
        let sender = known_device(store, &id, &header.from)?;
        envelope.check_signature(&sender)?;
        let received = |changed| Received {
            record_id: id.clone(),
            from_device: header.from.clone(),
            changed,
        };
        if header.kind == Kind::Keys {
            let values = envelope.open_keys(&sender, keys)?;
            let adopted = adopt_key(store, keys, &id, &values)?;
            removal::note_key_message(store, &id, &values, me, adopted)?;
            let held = store.record_epoch(&id)?;
            let session = session(sessions, store, &id, &header.from)?;
            session.peer_holds(header.epoch);
            if header.epoch == held {
                session.answer();
            }
            save_session(store, &id, &header.from, session)?;
            if adopted {
                sessions.retain(|(record, peer), _| record != &id || peer == &header.from);
            }
            return Ok(received(adopted));
        }
        let held = store.record_epoch(&id)?;
        match session::compare_epoch(header.epoch, held) {
            EpochCheck::Current => {}
            EpochCheck::Newer => return Err(SyncError::NewerKey.into()),
            EpochCheck::Older => {
                let session = session(sessions, store, &id, &header.from)?;
                session.peer_holds(header.epoch);
                session.behind();
                save_session(store, &id, &header.from, session)?;
                return Err(SyncError::OldKey.into());
            }
        }
        let body = envelope.open(&sender, &store.record_key(&id)?)?;
        let before = store.record(&id)?.heads();
        // The mailbox of the key held now, kept below if what arrives replaces the key.
        let mailbox_before = Mailbox::secret_for(&store.record_key(&id)?, held);
        let session = session(sessions, store, &id, &header.from)?;
        // It sent under the current key, so it holds it.
        session.peer_holds(held);
        let result = match header.kind {
            Kind::Keys => unreachable!("handled above"),
            Kind::Sync => {
                let message = crate::record::guarded(|| Message::decode(&body))
                    .and_then(Result::ok)
                    .ok_or(SyncError::Malformed("sync message"))?;
                let their_heads = session.state.their_heads.clone();
                let sorted = |mut heads: Vec<automerge::ChangeHash>| {
                    heads.sort();
                    heads
                };
                let sender_heads = sorted(message.heads.clone());
                let sender_knows = message
                    .have
                    .first()
                    .map(|have| sorted(have.last_sync.clone()));
                // The session's new state is saved in the record's own transaction.
                let mut saving = None;
                let result = store.update_record_and_sync_state(&id, &header.from, |record| {
                    record.receive_sync_message(&mut session.state, message)?;
                    // Both hold the same, but the sender does not know it (what reached
                    // this device came another way, or its answer was lost): say so, or
                    // it sends again, and asks again, for ever.
                    let ours = sorted(record.heads());
                    if sender_heads == ours && sender_knows.is_some_and(|known| known != ours) {
                        session.answer();
                    }
                    // The peer acknowledging what it was sent is progress too: a device
                    // that only writes (its peer only reads) must not be reset as stalled.
                    if session.state.their_heads != their_heads {
                        session.progressed();
                    }
                    saving = session.unsaved();
                    Ok(((), key_to_adopt(record, keys, held), saving.clone()))
                });
                if let (Ok(()), Some(encoded)) = (&result, saving) {
                    session.saved(encoded);
                }
                result
            }
            Kind::Bundle => store.update_record_and_key(&id, |record| {
                record.receive_changes(&body)?;
                Ok(((), key_to_adopt(record, keys, held)))
            }),
        };
        if let Err(e) = result {
            // Whatever automerge did half way is dropped; the file holds what it held.
            store.forget(&id);
            return Err(e);
        }
        let rekeyed = store.record_epoch(&id)? != held;
        if rekeyed {
            keep_mailbox(store, &id, &mailbox_before, held)?;
        }
        let changed = rekeyed || store.record(&id)?.heads() != before;
        if changed {
            if let Some(session) = sessions.get_mut(&(id.clone(), header.from.clone())) {
                session.progressed();
            }
        }
        if rekeyed {
            sessions.retain(|(record, peer), _| record != &id || peer == &header.from);
        }
        Ok(received(changed))
    }

    /// Forgets what this device believes `peer` has; the next exchange starts afresh.
    pub fn reset(&mut self, id: &RecordId, peer: &str) -> Result<(), Error> {
        let SyncEngine {
            store, sessions, ..
        } = self;
        sessions.remove(&(id.clone(), peer.to_string()));
        store.save_sync_state(id, peer, &automerge::sync::State::new().encode())
    }

    /// Everything `peer` is known to lack (or the whole record, for `None`) in one
    /// sealed, signed blob for store-and-forward. Importing it twice changes nothing.
    pub fn export_bundle(&mut self, id: &RecordId, peer: Option<&str>) -> Result<Vec<u8>, Error> {
        let SyncEngine {
            store,
            keys,
            device_id: me,
            sessions,
        } = self;
        let shared_heads = match peer {
            Some(peer) => {
                known_device(store, id, peer)?;
                session(sessions, store, id, peer)?
                    .state
                    .shared_heads
                    .clone()
            }
            None => Vec::new(),
        };
        let record = store.record(id)?;
        let body = if shared_heads.is_empty() {
            record.save()
        } else {
            record.save_after(&shared_heads)
        };
        let header = Header {
            kind: Kind::Bundle,
            record_id: id.clone(),
            epoch: store.record_epoch(id)?,
            from: me.to_string(),
            to: peer.unwrap_or(ANYONE).to_string(),
        };
        Ok(super::seal_envelope(
            &header,
            &store.record_key(id)?,
            &body,
            keys,
        )?)
    }

    /// Removes a member (`members::remove`): a new key for the rest, and every session of
    /// the record started afresh.
    pub fn remove_member(&mut self, id: &RecordId, device_id: &str) -> Result<(), Error> {
        members::remove(self.store, self.keys, id, device_id)?;
        self.forget_sessions(id, None);
        Ok(())
    }

    /// Forgets every peer's session of a record but `kept`'s: after a key change each
    /// starts from what is saved.
    pub fn forget_sessions(&mut self, id: &RecordId, kept: Option<&str>) {
        self.sessions
            .retain(|(record, peer), _| record != id || Some(peer.as_str()) == kept);
    }

    /// The session with `peer`, restored from its saved state on first use.
    pub fn session(&mut self, id: &RecordId, peer: &str) -> Result<&mut Session, Error> {
        session(self.sessions, self.store, id, peer)
    }

    /// Saves the session with `peer` (`save_session`).
    pub fn save_session(&mut self, id: &RecordId, peer: &str) -> Result<(), Error> {
        let session = session(self.sessions, self.store, id, peer)?;
        save_session(self.store, id, peer, session)
    }

    /// The devices this one syncs the record with.
    pub fn peers(&mut self, id: &RecordId) -> Result<Vec<String>, Error> {
        sync_peers(self.store, id, self.device_id)
    }
}

/// The key a newer statement in the record sealed to this device, if there is one.
fn key_to_adopt(record: &Record, keys: &DeviceKeys, held: u32) -> Option<(SecretKey, u32)> {
    newer_key(&record.membership(), record.record_id(), keys, held)
}

/// The key in force, with its epoch, if it is newer than `held` and sealed to this device.
fn newer_key(
    membership: &Membership,
    id: &RecordId,
    keys: &DeviceKeys,
    held: u32,
) -> Option<(SecretKey, u32)> {
    (membership.epoch > held)
        .then(|| membership.key_for(id, keys))
        .flatten()
        .map(|key| (key, membership.epoch))
}

/// Adopts the key a key message's statements carry for this device (one transaction).
fn adopt_key(
    store: &mut Store,
    keys: &DeviceKeys,
    id: &RecordId,
    values: &[Vec<u8>],
) -> Result<bool, Error> {
    let held = store.record_epoch(id)?;
    let record = store.record(id)?;
    let mut statements = record.statements();
    statements.extend(record.statements_from_values(values));
    let Some(key) = newer_key(&membership::resolve(id, statements), id, keys, held) else {
        return Ok(false);
    };
    keep_current_mailbox(store, id)?;
    store.update_record_and_key(id, |_| Ok(((), Some(key))))?;
    Ok(true)
}

/// The session for (record, peer), restored from its saved state on first use.
pub fn session<'a>(
    sessions: &'a mut Sessions,
    store: &mut Store,
    id: &RecordId,
    peer: &str,
) -> Result<&'a mut Session, Error> {
    let key = (id.clone(), peer.to_string());
    if !sessions.contains_key(&key) {
        let saved = store.sync_state(id, peer)?;
        sessions.insert(key.clone(), Session::restored(saved.as_deref()));
    }
    Ok(sessions.get_mut(&key).expect("inserted above"))
}

/// Writes a session's state unless the store already holds the same bytes.
pub fn save_session(
    store: &mut Store,
    id: &RecordId,
    peer: &str,
    session: &mut Session,
) -> Result<(), Error> {
    if let Some(encoded) = session.unsaved() {
        store.save_sync_state(id, peer, &encoded)?;
        session.saved(encoded);
    }
    Ok(())
}

/// The devices this one syncs a record with: its other active members, or, until the
/// record's statements arrive, the device that invited this one.
pub fn sync_peers(store: &mut Store, id: &RecordId, me: &str) -> Result<Vec<String>, Error> {
    let record = store.record(id)?;
    let membership = record.membership();
    if membership.creator.is_some() {
        let kits = recovery_kits(record);
        return Ok(membership
            .active_members()
            .map(|m| m.device_id.clone())
            .filter(|device| device != me && !kits.contains(device))
            .collect());
    }
    Ok(store
        .sealed_meta(&store.record_meta_name(INVITER, id))?
        .and_then(|bytes| serde_json::from_slice::<DevicePublic>(&bytes).ok())
        .map(|keys| keys.device_id())
        .into_iter()
        .collect())
}

/// A device this record trusts to sync: an active member, or, until the record's
/// statements name any member, the device that invited us to it.
pub fn known_device(
    store: &mut Store,
    id: &RecordId,
    device_id: &str,
) -> Result<DevicePublic, Error> {
    let membership = store.record(id)?.membership();
    if let Some(member) = membership.member(device_id) {
        return if member.is_active() {
            Ok(member.keys)
        } else {
            Err(SyncError::NotAMember.into())
        };
    }
    let inviter = store
        .sealed_meta(&store.record_meta_name(INVITER, id))?
        .and_then(|bytes| serde_json::from_slice::<DevicePublic>(&bytes).ok())
        .filter(|keys| keys.device_id() == device_id && membership.creator.is_none());
    inviter.ok_or_else(|| SyncError::NotAMember.into())
}

/// The recovery kits among a record's members: a device granted as standing in for the
/// device that granted it (ADR 0009). A kit is words on paper: it never syncs, so nothing
/// is posted for it.
fn recovery_kits(record: &Record) -> HashSet<String> {
    let membership = record.membership();
    record
        .statements()
        .into_iter()
        .filter_map(|statement| match &statement.action {
            Action::Grant {
                subject,
                stands_in_for: Some(lost),
                ..
            } if *lost == statement.issuer_id() => {
                let kit = subject.device_id();
                // Only as the membership resolved it: the grant in force is this one.
                membership
                    .active(&kit)
                    .is_some_and(|m| m.added_by == *lost && m.keys == *subject)
                    .then_some(kit)
            }
            _ => None,
        })
        .collect()
}

/// An invitation this device cannot take, worded for the person holding it: what to do
/// next rather than how the bytes failed.
fn invitation_problem(e: SyncError) -> Error {
    let reason = match e {
        SyncError::Malformed(_) => {
            "it is incomplete or damaged: scan it again, or ask for a new one"
        }
        SyncError::BadSignature => "it was changed after it was made: ask for a new one",
        SyncError::NotForThisDevice => {
            "it was made for another device: show the inviter this device's card"
        }
        SyncError::Unreadable => "it cannot be opened on this device: ask for a new one",
        other => return Error::Sync(other),
    };
    ValidationError::new("invitation", reason).into()
}
