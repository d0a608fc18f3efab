//! Sharing a record and syncing it: the façade locks, loads, asks `record::membership`
//! and `sync::session` what the rules say, and persists. Messages from devices that are
//! not members, under another record key, or addressed elsewhere are refused before
//! anything is changed; changes that break the record's shape are refused whole
//! (docs/threat-model.md).

use super::{Inner, RedBook};
use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::SecretKey;
use crate::model::{
    Access, Action, Member, Profile, RecordId, RoleConfirmation, Statement, StatementId,
    ValidationError,
};
use crate::record::{membership, Membership, Record};
use crate::store::Store;
use crate::sync::attestation::{self, TrustedOrganisation};
use crate::sync::session::{self, EpochCheck, Next, Session};
use crate::sync::{self, DeviceCard, Header, Kind, SyncError};
use crate::Error;
use automerge::sync::{Message, SyncDoc};
use chrono::Utc;
use std::collections::HashMap;

/// Per record: the device that invited this one, trusted to sync until the record's own
/// statements arrive.
const INVITER: &str = "inviter";
/// Per record: the devices this one removed and has told so (through the relay).
const REMOVAL_NOTIFIED: &str = "removal_notified";
/// Per record: set when a member's key message showed this device was removed.
const REMOVED_HERE: &str = "removed_here";

pub(super) type Sessions = HashMap<(RecordId, String), Session>;

/// What receiving a message did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Received {
    pub record_id: RecordId,
    pub from_device: String,
    /// Whether the record changed (new entries, details, members or a new key).
    pub changed: bool,
}

/// A new statement by this device, after everything it has seen of the membership.
pub(super) fn statement(
    keys: &DeviceKeys,
    membership: &Membership,
    action: Action,
) -> Result<Statement, Error> {
    Ok(Statement {
        id: StatementId::generate()?,
        issuer: keys.public(),
        issued_at: Utc::now(),
        after: membership.heads.clone(),
        action,
    })
}

/// Whether `candidate` would count, resolved with everything the record holds: the
/// façade issues only statements the rules accept (a forger's are refused by the same
/// rules on every device).
pub(super) fn would_count(record: &Record, candidate: &mut Statement) -> bool {
    // Resolved under the id it will be written with (ties between statements go by id).
    if record.commit_statement(candidate).is_err() {
        return false;
    }
    let mut statements = record.statements();
    statements.push(candidate.clone());
    let after = membership::resolve(record.record_id(), statements);
    match &candidate.action {
        Action::Grant {
            subject, access, ..
        } => after
            .active(&subject.device_id())
            .is_some_and(|m| m.access == *access && m.added_by == candidate.issuer_id()),
        Action::Revoke { subject, rotation } => {
            after.member(subject).is_some_and(|m| !m.is_active())
                && after.rotation.as_ref().map(|r| &r.id) == Some(&candidate.id)
                && after.epoch == rotation.epoch
        }
        Action::Rotate { rotation } => {
            after.rotation.as_ref().map(|r| &r.id) == Some(&candidate.id)
                && after.epoch == rotation.epoch
        }
        Action::Create { .. } => after.creator == Some(candidate.issuer_id()),
        Action::Rename { name } => after
            .active(&candidate.issuer_id())
            .is_some_and(|m| m.display_name == *name),
    }
}

impl RedBook {
    /// This device's id, as other devices address it.
    pub fn device_id(&self) -> String {
        self.lock().author.device_id.clone()
    }

    /// What this device shows (as a QR code or text) to be invited to a record: signed by
    /// it, with its organisation's attestation when it holds one.
    pub fn device_card(&self) -> Result<DeviceCard, Error> {
        let inner = self.lock();
        let attestation = inner.store.sealed_meta(super::DEVICE_ATTESTATION)?;
        Ok(DeviceCard::new(
            &inner.keys,
            inner.author.role,
            &inner.author.display_name,
            inner.author.organisation.as_deref(),
            attestation,
        )?)
    }

    /// Grants the device on `invitee` `access` to the record (only an admin can) and
    /// returns the invitation (the record key sealed to it) for the app to carry over.
    /// The role and name shown for it are the card's, as this admin confirms them.
    pub fn share(
        &self,
        id: &RecordId,
        invitee: &DeviceCard,
        access: Access,
    ) -> Result<Vec<u8>, Error> {
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
        let profile = Profile {
            role: invitee.role,
            display_name: invitee.display_name.clone(),
            organisation: invitee.organisation.clone(),
            // Passed on as the card carried it (the card is signed by the device);
            // whether it confirms anything is decided against each reader's trust list.
            attestation: invitee.attestation.clone(),
        };
        profile.check()?;
        let record = store.record(id)?;
        let membership = record.membership();
        if !membership.is_admin(&author.device_id) {
            return Err(SyncError::NotAnAdmin.into());
        }
        let mut grant = statement(
            keys,
            &membership,
            Action::Grant {
                subject: invitee.keys,
                access,
                profile,
                stands_in_for: None,
            },
        )?;
        if !would_count(record, &mut grant) {
            return Err(SyncError::NotPermitted.into());
        }
        store.update_record(id, |record| Ok(record.put_statement(&grant, keys)?))?;
        let details = store.record(id)?.details();
        let hint = sync::RecordHint {
            name: details.name,
            birth_date: details.birth_date,
        };
        let key = store.record_key(id)?;
        let epoch = store.record_epoch(id)?;
        Ok(sync::make_invitation(
            id,
            epoch,
            &key,
            keys,
            &invitee.keys,
            Some(&hint),
        )?)
    }

    /// Accepts an invitation: the record appears here, listed under the child's name and
    /// date of birth the invitation carried, empty until the first sync with the inviter
    /// brings its contents. One transaction; accepting twice changes nothing.
    pub fn accept(&self, invitation: &[u8]) -> Result<RecordId, Error> {
        let mut inner = self.lock();
        let Inner { store, keys, .. } = &mut *inner;
        let invitation = sync::read_invitation(invitation, keys)?;
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
                store.record_meta_name(crate::store::DISPLAY_HINT, &id),
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

    /// The record's members, each with the organisation that confirms its role, if one
    /// on this device's trust list does.
    pub fn members(&self, id: &RecordId) -> Result<Vec<Member>, Error> {
        let mut inner = self.lock();
        let trusted = inner.trusted.clone();
        let mut members = inner.store.record(id)?.members();
        // Confirmed now: an expired attestation confirms nothing from its expiry on.
        let now = chrono::Utc::now();
        for member in &mut members {
            member.confirmed_by = confirmation(member, &trusted)
                .filter(|c| c.holds_at(now))
                .map(|c| c.organisation);
        }
        Ok(members)
    }

    /// Removes a member device (only a more senior admin can): the removal and a new
    /// record key, sealed to each member that keeps access and never to the removed one,
    /// are one signed statement, written and re-sealed at rest in one transaction.
    pub fn remove_member(&self, id: &RecordId, device_id: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            keys,
            sessions,
            ..
        } = &mut *inner;
        if device_id == author.device_id {
            return Err(
                ValidationError::new("device", "is this device; another admin removes it").into(),
            );
        }
        let record = store.record(id)?;
        let membership = record.membership();
        if !membership.is_admin(&author.device_id) {
            return Err(SyncError::NotAnAdmin.into());
        }
        match membership.member(device_id) {
            None => return Err(Error::NotFound { what: "member" }),
            Some(member) if !member.is_active() => return Ok(()),
            Some(_) => {}
        }
        let (mut revoke, new_key) = rotation_statement(record, &membership, keys, Some(device_id))?;
        if !would_count(record, &mut revoke) {
            return Err(SyncError::NotPermitted.into());
        }
        let epoch = revoke.rotation().map_or(0, |r| r.epoch);
        super::relaying::keep_current_mailbox(store, id)?;
        store.update_record_and_key(id, |record| {
            record.put_statement(&revoke, keys)?;
            Ok(((), Some((new_key, epoch))))
        })?;
        sessions.retain(|(record, _), _| record != id);
        Ok(())
    }

    /// The next sync message for `peer`, or None when there is nothing to send now.
    pub fn sync_message(&self, id: &RecordId, peer: &str) -> Result<Option<Vec<u8>>, Error> {
        self.next_message(id, peer, false)
    }

    /// The next message for `peer`, to be posted through a relay (`via_relay`) or handed
    /// over directly: only a relay exchange trusts what a saved session says was sent
    /// (`Session::resume`).
    pub(super) fn next_message(
        &self,
        id: &RecordId,
        peer: &str,
        via_relay: bool,
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            sessions,
            ..
        } = &mut *inner;
        let peer_keys = known_device(store, id, peer)?;
        repair_key(store, keys, id)?;
        let epoch = store.record_epoch(id)?;
        let header = |kind| Header {
            kind,
            record_id: id.clone(),
            epoch,
            from: author.device_id.clone(),
            to: peer.to_string(),
        };
        let session = session(sessions, store, id, peer)?;
        session.resume(via_relay);
        match session.next(epoch) {
            Next::Keys => {
                store.save_sync_state(id, peer, &session.encode())?;
                let statements = store.record(id)?.statement_values();
                Ok(Some(sync::seal_keys(
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
                store.save_sync_state(id, peer, &session.encode())?;
                let Some(message) = message else {
                    return Ok(None);
                };
                Ok(Some(sync::seal_envelope(
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
    pub fn receive(&self, bytes: &[u8]) -> Result<Received, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            sessions,
            keys,
            ..
        } = &mut *inner;
        let envelope = sync::parse_envelope(bytes)?;
        let header = envelope.header.clone();
        let addressed_here = header.to == author.device_id
            || (header.kind == Kind::Bundle && header.to == sync::ANYONE);
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
            let removed_name = store.record_meta_name(REMOVED_HERE, &id);
            if adopted {
                // Granted again since: this device is a member once more.
                store.delete_meta(&removed_name)?;
            } else if let Some(removed) = removed_in(store, &id, &values, &author.device_id)? {
                let bytes = serde_json::to_vec(&removed).unwrap_or_default();
                store.put_sealed_meta(&removed_name, &bytes)?;
            }
            let held = store.record_epoch(&id)?;
            let session = session(sessions, store, &id, &header.from)?;
            session.peer_holds(header.epoch);
            if header.epoch == held {
                session.answer();
            }
            let saved = session.encode();
            store.save_sync_state(&id, &header.from, &saved)?;
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
                let saved = session.encode();
                store.save_sync_state(&id, &header.from, &saved)?;
                return Err(SyncError::OldKey.into());
            }
        }
        let body = envelope.open(&sender, &store.record_key(&id)?)?;
        let before = store.record(&id)?.heads();
        // The mailbox of the key held now, kept below if what arrives replaces the key.
        let mailbox_before = crate::sync::relay::Mailbox::secret_for(&store.record_key(&id)?, held);
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
                let state = &mut session.state;
                let result = store.update_record_and_key(&id, |record| {
                    record.receive_sync_message(state, message)?;
                    Ok(((), key_to_adopt(record, keys, held)))
                });
                if result.is_ok() {
                    // Both hold the same, but the sender does not know it (what reached
                    // this device came another way, or its answer was lost): say so, or
                    // it sends again, and asks again, for ever.
                    let ours = sorted(store.record(&id)?.heads());
                    if sender_heads == ours && sender_knows.is_some_and(|known| known != ours) {
                        session.answer();
                    }
                    // The peer acknowledging what it was sent is progress too: a device
                    // that only writes (its peer only reads) must not be reset as stalled.
                    if session.state.their_heads != their_heads {
                        session.progressed();
                    }
                    store.save_sync_state(&id, &header.from, &session.encode())?;
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
            super::relaying::keep_mailbox(store, &id, &mailbox_before, held)?;
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

    /// Whether a member's key message showed this device was removed from the record (and
    /// none has given it a key since).
    pub fn removed_from(&self, id: &RecordId) -> Result<bool, Error> {
        let inner = self.lock();
        let name = inner.store.record_meta_name(REMOVED_HERE, id);
        Ok(inner.store.sealed_meta(&name)?.is_some())
    }

    /// What to tell the person holding this device once it was removed from the record
    /// (`view::removed_from_record`); `None` while it is a member.
    pub fn removal_notice(&self, id: &RecordId) -> Result<Option<String>, Error> {
        let mut inner = self.lock();
        let name = inner.store.record_meta_name(REMOVED_HERE, id);
        let Some(kept) = inner.store.sealed_meta(&name)? else {
            return Ok(None);
        };
        let removed: Option<RemovedHere> = serde_json::from_slice(&kept).ok();
        let mut child = inner.store.record(id)?.details().name;
        // Removed before its first sync: named as its invitation named the child.
        if child.is_empty() {
            if let Some(hint) = inner.store.display_hint(id)? {
                child = hint.name;
            }
        }
        Ok(Some(crate::view::removed_from_record(
            &child,
            removed.as_ref().map(|r| crate::view::Removal {
                by: r
                    .by
                    .as_deref()
                    .unwrap_or("Someone who looks after the record"),
                on: r.on,
                replaced: r.replaced,
            }),
        )))
    }

    /// A key message for each device this one removed and has not told yet: the record's
    /// statements (who the members are, which it held already, and its removal), sealed to
    /// that device, so its relay sync learns it was removed and stops. No key for it is in
    /// them.
    pub(super) fn removal_notices(&self, id: &RecordId) -> Result<Vec<(String, Vec<u8>)>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
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
            .filter(|m| m.removed.as_ref().is_some_and(|r| r.by == author.device_id))
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
                    from: author.device_id.clone(),
                    to: member.device_id.clone(),
                };
                let notice = sync::seal_keys(&header, &statements, &member.keys, keys)?;
                Ok((member.device_id, notice))
            })
            .collect()
    }

    /// The removed devices named have been told.
    pub(super) fn removal_notified(&self, id: &RecordId, devices: &[String]) -> Result<(), Error> {
        if devices.is_empty() {
            return Ok(());
        }
        let inner = self.lock();
        let name = inner.store.record_meta_name(REMOVAL_NOTIFIED, id);
        let mut notified: Vec<String> = inner
            .store
            .sealed_meta(&name)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        notified.extend(devices.iter().cloned());
        inner
            .store
            .put_sealed_meta(&name, &serde_json::to_vec(&notified).expect("serialisable"))
    }

    /// Forgets what this device believes `peer` has; the next exchange starts afresh.
    pub fn reset_sync(&self, id: &RecordId, peer: &str) -> Result<(), Error> {
        let mut inner = self.lock();
        let Inner {
            store, sessions, ..
        } = &mut *inner;
        sessions.remove(&(id.clone(), peer.to_string()));
        store.save_sync_state(id, peer, &automerge::sync::State::new().encode())
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
            ..
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
            epoch: store.record_epoch(id)?,
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

/// What a trusted attestation confirms of a member's role: by which organisation, until
/// when.
pub(super) fn confirmation(
    member: &Member,
    trusted: &[TrustedOrganisation],
) -> Option<RoleConfirmation> {
    attestation::confirmation(
        member.attestation.as_deref()?,
        &member.keys.signing_key,
        member.role,
        member.organisation.as_deref(),
        trusted,
    )
}

/// A new key statement by this device: a removal of `removed` or a plain rotation,
/// sealed to every other active member.
fn rotation_statement(
    record: &Record,
    membership: &Membership,
    keys: &DeviceKeys,
    removed: Option<&str>,
) -> Result<(Statement, SecretKey), Error> {
    let epoch = membership
        .epoch
        .checked_add(1)
        .ok_or(SyncError::NotPermitted)?;
    let recipients: Vec<DevicePublic> = membership
        .active_members()
        .filter(|m| Some(m.device_id.as_str()) != removed)
        .map(|m| m.keys)
        .collect();
    let new_key = SecretKey::generate()?;
    let rotation = membership::seal_rotation(
        record.record_id(),
        &keys.public(),
        epoch,
        &new_key,
        &recipients,
    )?;
    let action = match removed {
        Some(subject) => Action::Revoke {
            subject: subject.to_string(),
            rotation,
        },
        None => Action::Rotate { rotation },
    };
    Ok((statement(keys, membership, action)?, new_key))
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
    super::relaying::keep_current_mailbox(store, id)?;
    store.update_record_and_key(id, |_| Ok(((), Some(key))))?;
    Ok(true)
}

/// Whether the statements a key message carries, with the record's own, show `me` removed.
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
struct RemovedHere {
    by: Option<String>,
    on: chrono::NaiveDate,
    /// When the removal was signed (absent from what was kept before it was saved).
    #[serde(default)]
    at: Option<chrono::DateTime<Utc>>,
    /// Removed by a phone restored in this one's place (absent from what was kept
    /// before it was saved).
    #[serde(default)]
    replaced: bool,
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
pub(super) fn mark_written_after_removal(
    store: &mut Store,
    id: &RecordId,
    me: &str,
    entries: &mut [crate::model::EntryView],
) -> Result<(), Error> {
    let after = written_here_after_removal(store, id, me, entries)?;
    for view in entries.iter_mut().filter(|v| after.contains(&v.entry.id)) {
        view.verification = crate::model::Verification::NotPermitted;
    }
    Ok(())
}

/// This device's own entries among `entries` written at or after its removal, that
/// would otherwise count (`mark_written_after_removal` marks them).
pub(super) fn written_here_after_removal(
    store: &mut Store,
    id: &RecordId,
    me: &str,
    entries: &[crate::model::EntryView],
) -> Result<std::collections::HashSet<crate::model::EntryId>, Error> {
    use crate::model::Verification::{NotPermitted, Verified};
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

/// An admin that finds a member without the key in force (granted while another admin
/// replaced the key) replaces it again, sealed to everyone that keeps access.
fn repair_key(store: &mut Store, keys: &DeviceKeys, id: &RecordId) -> Result<(), Error> {
    let held = store.record_epoch(id)?;
    let record = store.record(id)?;
    let membership = record.membership();
    let me = keys.public().device_id();
    if membership.missing_key.is_empty() || !membership.is_admin(&me) || held != membership.epoch {
        return Ok(());
    }
    let (mut rotate, new_key) = rotation_statement(record, &membership, keys, None)?;
    if !would_count(record, &mut rotate) {
        return Ok(());
    }
    let epoch = membership.epoch + 1;
    super::relaying::keep_current_mailbox(store, id)?;
    store.update_record_and_key(id, |record| {
        record.put_statement(&rotate, keys)?;
        Ok(((), Some((new_key, epoch))))
    })
}

/// The session for (record, peer), restored from its saved state on first use.
pub(super) fn session<'a>(
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

/// The devices this one syncs a record with: its other active members, or, until the
/// record's statements arrive, the device that invited this one.
pub(super) fn sync_peers(store: &mut Store, id: &RecordId, me: &str) -> Result<Vec<String>, Error> {
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
pub(super) fn known_device(
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
fn recovery_kits(record: &Record) -> std::collections::HashSet<String> {
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
