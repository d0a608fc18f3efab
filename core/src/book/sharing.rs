//! Sharing a record with other devices and syncing it: invitations, members, sync
//! messages and bundles. Messages from devices that are not members, under another
//! record key, or addressed elsewhere are refused before anything is changed.

use super::{member_from, Inner, RedBook};
use crate::crypto::device::DevicePublic;
use crate::crypto::SecretKey;
use crate::model::{Member, RecordId, Removal, ValidationError};
use crate::record::Record;
use crate::store::Store;
use crate::sync::{self, DeviceCard, Header, Kind, SyncError};
use crate::Error;
use automerge::sync::{Message, State, SyncDoc};
use chrono::Utc;

/// A peer that keeps asking without progress is reset rather than looped with
/// (automerge issue #1284: a lost message can stall or loop the protocol).
const MAX_ROUNDS_WITHOUT_PROGRESS: u32 = 16;
const INVITER: &str = "inviter";
/// Per record: which record key is current (epoch 0 until a member is removed).
const EPOCH: &str = "epoch";

pub(super) struct Session {
    state: State,
    rounds_without_progress: u32,
    /// The newest key epoch this peer has shown it holds (by sending under it).
    peer_epoch: u32,
}

/// The record key in force: its epoch and the device that issued it. Two members
/// removing someone at once issue two keys for one epoch; the lower device id wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct KeyEpoch {
    epoch: u32,
    issuer: String,
}

fn key_epoch(store: &Store, id: &RecordId) -> Result<KeyEpoch, Error> {
    Ok(store
        .sealed_meta(&store.record_meta_name(EPOCH, id))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

fn set_key_epoch(store: &Store, id: &RecordId, epoch: &KeyEpoch) -> Result<(), Error> {
    store.put_sealed_meta(
        &store.record_meta_name(EPOCH, id),
        &serde_json::to_vec(epoch).expect("serialisable"),
    )
}

/// What receiving a message did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Received {
    pub record_id: RecordId,
    pub from_device: String,
    /// Whether the record changed (new entries or details arrived).
    pub changed: bool,
}

impl RedBook {
    /// What this device shows (as a QR code or text) to be invited to a record.
    pub fn device_card(&self) -> DeviceCard {
        let inner = self.lock();
        DeviceCard {
            keys: inner.keys.public(),
            role: inner.author.role,
            display_name: inner.author.display_name.clone(),
            organisation: inner.author.organisation.clone(),
        }
    }

    /// Adds the device on `invitee` as a member of the record and returns the invitation
    /// (the record key sealed to it) for the app to carry over (QR code, file).
    pub fn share(&self, id: &RecordId, invitee: &DeviceCard) -> Result<Vec<u8>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        if invitee.device_id() == author.device_id {
            return Err(ValidationError::new("invitee", "is this device").into());
        }
        if store.record(id)?.member(&author.device_id).is_none() {
            return Err(SyncError::NotAMember.into());
        }
        let member = Member {
            device_id: invitee.device_id(),
            keys: invitee.keys,
            role: invitee.role,
            display_name: invitee.display_name.clone(),
            organisation: invitee.organisation.clone(),
            added_by: author.device_id.clone(),
            added_at: Utc::now(),
            removed: None,
        };
        store.update_record(id, |record| Ok(record.put_member(&member)?))?;
        let key = store.record_key(id)?;
        let epoch = key_epoch(store, id)?.epoch;
        Ok(sync::make_invitation(id, epoch, &key, keys, &invitee.keys)?)
    }

    /// Accepts an invitation: the record appears here, empty until the first sync with
    /// the inviter brings its contents. Accepting twice changes nothing.
    pub fn accept(&self, invitation: &[u8]) -> Result<RecordId, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        let invitation = sync::read_invitation(invitation, keys)?;
        let id = invitation.record_id.clone();
        match store.record(&id) {
            Ok(_) => return Ok(id),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
        // The same genesis every device builds, so the inviter's history joins onto it.
        let mut record = Record::genesis(&id)?;
        record.put_member(&member_from(author, keys, &invitation.inviter.device_id()))?;
        store.create_record_with_key(&id, record, invitation.record_key)?;
        let inviter = serde_json::to_vec(&invitation.inviter).expect("serialisable");
        store.put_sealed_meta(&store.record_meta_name(INVITER, &id), &inviter)?;
        set_key_epoch(
            store,
            &id,
            &KeyEpoch {
                epoch: invitation.epoch,
                issuer: invitation.inviter.device_id(),
            },
        )?;
        Ok(id)
    }

    pub fn members(&self, id: &RecordId) -> Result<Vec<Member>, Error> {
        Ok(self.lock().store.record(id)?.members())
    }

    /// Removes a member device: it is marked removed in the record, and the record key
    /// is replaced, so it can neither read what is written from now on nor sync. The
    /// other members receive the new key, sealed to each of them, at their next sync.
    pub fn remove_member(&self, id: &RecordId, device_id: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            sessions,
            ..
        } = &mut *inner;
        if device_id == author.device_id {
            return Err(ValidationError::new(
                "device",
                "is this device; another member removes it",
            )
            .into());
        }
        let record = store.record(id)?;
        if !is_active(record.member(&author.device_id).as_ref()) {
            return Err(SyncError::NotAMember.into());
        }
        let mut member = record
            .member(device_id)
            .ok_or(Error::NotFound { what: "member" })?;
        if member.removed.is_some() {
            return Ok(());
        }
        member.removed = Some(Removal {
            by: author.device_id.clone(),
            at: Utc::now(),
        });
        store.update_record(id, |record| Ok(record.put_member(&member)?))?;
        let epoch = KeyEpoch {
            epoch: key_epoch(store, id)?.epoch + 1,
            issuer: author.device_id.clone(),
        };
        store.rekey_record(id, SecretKey::generate()?)?;
        set_key_epoch(store, id, &epoch)?;
        sessions.retain(|(record, _), _| record != id);
        Ok(())
    }

    /// The next sync message for `peer`, or None when there is nothing to send now.
    pub fn sync_message(&self, id: &RecordId, peer: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            sessions,
        } = &mut *inner;
        let peer_keys = known_device(store, id, peer)?;
        let epoch = key_epoch(store, id)?.epoch;
        let session = session(sessions, store, id, peer)?;
        if session.peer_epoch < epoch {
            // The peer may not hold the current key yet: give it that first.
            let header = Header {
                kind: Kind::Rekey,
                record_id: id.clone(),
                epoch,
                from: author.device_id.clone(),
                to: peer.to_string(),
            };
            return Ok(Some(sync::seal_rekey(
                &header,
                &store.record_key(id)?,
                &peer_keys,
                keys,
            )?));
        }
        if session.rounds_without_progress >= MAX_ROUNDS_WITHOUT_PROGRESS {
            session.state = State::new();
            session.rounds_without_progress = 0;
        }
        let message = store
            .record(id)?
            .automerge()
            .generate_sync_message(&mut session.state);
        store.save_sync_state(id, peer, &session.state.encode())?;
        let Some(message) = message else {
            session.rounds_without_progress = 0;
            return Ok(None);
        };
        session.rounds_without_progress += 1;
        let header = Header {
            kind: Kind::Sync,
            record_id: id.clone(),
            epoch,
            from: author.device_id.clone(),
            to: peer.to_string(),
        };
        Ok(Some(sync::seal_envelope(
            &header,
            &store.record_key(id)?,
            &message.encode(),
            keys,
        )?))
    }

    /// Takes a sync message or bundle from another device. Lost, repeated and reordered
    /// messages are safe: automerge applies each change once.
    pub fn receive(&self, bytes: &[u8]) -> Result<Received, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            sessions,
            keys,
        } = &mut *inner;
        let envelope = sync::parse_envelope(bytes)?;
        let header = envelope.header.clone();
        let addressed_here = header.to == author.device_id
            || (header.kind == Kind::Bundle && header.to == sync::ANYONE);
        if !addressed_here {
            return Err(SyncError::NotForThisDevice.into());
        }
        let id = header.record_id.clone();
        let key = store.record_key(&id)?;
        let sender = known_device(store, &id, &header.from)?;
        let current = key_epoch(store, &id)?;
        if header.kind == Kind::Rekey {
            let new_key = envelope.open_rekey(&sender, keys)?;
            let newer = header.epoch > current.epoch;
            let same_epoch_wins =
                header.epoch == current.epoch && header.from < current.issuer && new_key != key;
            let adopt = newer || same_epoch_wins;
            if adopt {
                store.rekey_record(&id, new_key.clone())?;
                let epoch = KeyEpoch {
                    epoch: header.epoch,
                    issuer: header.from.clone(),
                };
                set_key_epoch(store, &id, &epoch)?;
                sessions.retain(|(record, _), _| record != &id);
            }
            // A sender that gave us the key we now hold holds it too: no rekey back.
            if adopt || (header.epoch == current.epoch && new_key == key) {
                session(sessions, store, &id, &header.from)?.peer_epoch = header.epoch;
            }
            return Ok(Received {
                record_id: id,
                from_device: header.from,
                changed: adopt,
            });
        }
        if header.epoch > current.epoch {
            return Err(SyncError::NewerKey.into());
        }
        if header.epoch < current.epoch {
            return Err(SyncError::OldKey.into());
        }
        let body = envelope.open(&sender, &key)?;
        let before = store.record(&id)?.heads();
        match header.kind {
            Kind::Rekey => unreachable!("handled above"),
            Kind::Sync => {
                let message =
                    Message::decode(&body).map_err(|_| SyncError::Malformed("sync message"))?;
                let session = session(sessions, store, &id, &header.from)?;
                // It sent under the current key, so it holds it.
                session.peer_epoch = session.peer_epoch.max(current.epoch);
                let state = &mut session.state;
                store.update_record(&id, |record| {
                    record
                        .receive_sync_message(state, message)
                        .map_err(|_| Error::from(SyncError::Malformed("sync message content")))
                })?;
                store.save_sync_state(&id, &header.from, &session.state.encode())?;
            }
            Kind::Bundle => {
                store.update_record(&id, |record| {
                    record
                        .load_incremental(&body)
                        .map_err(|_| Error::from(SyncError::Malformed("bundle content")))
                })?;
            }
        }
        let changed = store.record(&id)?.heads() != before;
        if changed {
            if let Some(session) = sessions.get_mut(&(id.clone(), header.from.clone())) {
                session.rounds_without_progress = 0;
            }
        }
        Ok(Received {
            record_id: id,
            from_device: header.from,
            changed,
        })
    }

    /// Forgets what this device believes `peer` has; the next exchange starts afresh.
    pub fn reset_sync(&self, id: &RecordId, peer: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let Inner {
            store, sessions, ..
        } = &mut *inner;
        sessions.remove(&(id.clone(), peer.to_string()));
        store.save_sync_state(id, peer, &State::new().encode())
    }

    /// Everything `peer` is known to lack (or the whole record, for `None`) in one
    /// sealed, signed blob for store-and-forward. Importing it twice changes nothing.
    pub fn export_bundle(&self, id: &RecordId, peer: Option<&str>) -> Result<Vec<u8>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            sessions,
        } = &mut *inner;
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
            epoch: key_epoch(store, id)?.epoch,
            from: author.device_id.clone(),
            to: peer.unwrap_or(sync::ANYONE).to_string(),
        };
        Ok(sync::seal_envelope(
            &header,
            &store.record_key(id)?,
            &body,
            keys,
        )?)
    }
}

/// The session for (record, peer), restored from its saved state on first use.
fn session<'a>(
    sessions: &'a mut std::collections::HashMap<(RecordId, String), Session>,
    store: &mut Store,
    id: &RecordId,
    peer: &str,
) -> Result<&'a mut Session, Error> {
    let key = (id.clone(), peer.to_string());
    if !sessions.contains_key(&key) {
        let state = match store.sync_state(id, peer)? {
            // A saved state that does not decode is only an optimisation lost.
            Some(bytes) => State::decode(&bytes).unwrap_or_default(),
            None => State::new(),
        };
        sessions.insert(
            key.clone(),
            Session {
                state,
                rounds_without_progress: 0,
                peer_epoch: 0,
            },
        );
    }
    Ok(sessions.get_mut(&key).expect("inserted above"))
}

/// A device this record trusts: a member, or the device that invited us to it.
fn known_device(store: &mut Store, id: &RecordId, device_id: &str) -> Result<DevicePublic, Error> {
    if let Some(member) = store.record(id)?.member(device_id) {
        return if is_active(Some(&member)) {
            Ok(member.keys)
        } else {
            Err(SyncError::NotAMember.into())
        };
    }
    let inviter = store
        .sealed_meta(&store.record_meta_name(INVITER, id))?
        .and_then(|bytes| serde_json::from_slice::<DevicePublic>(&bytes).ok())
        .filter(|keys| keys.device_id() == device_id);
    inviter.ok_or_else(|| SyncError::NotAMember.into())
}

fn is_active(member: Option<&Member>) -> bool {
    member.is_some_and(|m| m.removed.is_none())
}
