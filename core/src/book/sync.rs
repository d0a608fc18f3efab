//! The façade over `sync`: sharing a record, its members, and messages between devices.
//! Each method locks, hands the store and this device's keys to the sync engine or the
//! membership rules, and returns; nothing here decides.

use super::{Inner, RedBook};
use crate::model::{Access, Member, RecordId};
use crate::sync::engine::{Received, SyncEngine};
use crate::sync::{members, removal, DeviceCard};
use crate::Error;

impl Inner {
    /// The sync engine over this handle's store, keys and sessions, for one step.
    pub(super) fn engine(&mut self) -> SyncEngine<'_> {
        SyncEngine {
            store: &mut self.store,
            keys: &self.keys,
            device_id: &self.author.device_id,
            sessions: &mut self.sessions,
        }
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
        let Inner { store, keys, .. } = &mut *inner;
        members::share(store, keys, id, invitee, access)
    }

    /// Accepts an invitation: the record appears here, listed under the child's name and
    /// date of birth the invitation carried, empty until the first sync with the inviter
    /// brings its contents. One transaction; accepting twice changes nothing.
    pub fn accept(&self, invitation: &[u8]) -> Result<RecordId, Error> {
        self.lock().engine().accept(invitation)
    }

    /// The record's members, each with the organisation that confirms its role, if one
    /// on this device's trust list does.
    pub fn members(&self, id: &RecordId) -> Result<Vec<Member>, Error> {
        let mut inner = self.lock();
        let trusted = inner.trusted.clone();
        let members = inner.store.record(id)?.members();
        Ok(members::confirmed_now(members, &trusted))
    }

    /// Removes a member device (only a more senior admin can): the removal and a new
    /// record key, sealed to each member that keeps access and never to the removed one,
    /// are one signed statement, written and re-sealed at rest in one transaction.
    pub fn remove_member(&self, id: &RecordId, device_id: &str) -> Result<(), Error> {
        self.lock().engine().remove_member(id, device_id)
    }

    /// The next sync message for `peer`, or None when there is nothing to send now.
    pub fn sync_message(&self, id: &RecordId, peer: &str) -> Result<Option<Vec<u8>>, Error> {
        self.lock().engine().next_message(id, peer, false)
    }

    /// Takes a sync message, key message or bundle from another device. Lost, repeated
    /// and reordered messages are safe: automerge applies each change once. A message
    /// whose changes break the record's shape is refused whole and changes nothing.
    pub fn receive(&self, bytes: &[u8]) -> Result<Received, Error> {
        self.lock().engine().receive(bytes)
    }

    /// Whether a member's key message showed this device was removed from the record (and
    /// none has given it a key since).
    pub fn removed_from(&self, id: &RecordId) -> Result<bool, Error> {
        removal::removed_from(&self.lock().store, id)
    }

    /// What to tell the person holding this device once it was removed from the record
    /// (`view::removed_from_record`); `None` while it is a member.
    pub fn removal_notice(&self, id: &RecordId) -> Result<Option<String>, Error> {
        let mut inner = self.lock();
        let Some(removed) = removal::removed_here(&inner.store, id)? else {
            return Ok(None);
        };
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

    /// Forgets what this device believes `peer` has; the next exchange starts afresh.
    pub fn reset_sync(&self, id: &RecordId, peer: &str) -> Result<(), Error> {
        self.lock().engine().reset(id, peer)
    }

    /// Everything `peer` is known to lack (or the whole record, for `None`) in one
    /// sealed, signed blob for store-and-forward. Importing it twice changes nothing.
    pub fn export_bundle(&self, id: &RecordId, peer: Option<&str>) -> Result<Vec<u8>, Error> {
        self.lock().engine().export_bundle(id, peer)
    }
}
