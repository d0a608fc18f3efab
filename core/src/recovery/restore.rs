//! Restoring a backup onto a new phone (docs/adr/0009-recovery.md): the records with
//! their keys, the phone granted by the kit as standing in for the device that made the
//! backup, the kit retired, the lost phone removed if asked, and the introduction the
//! next relay exchange posts to the other members.

use super::kept::{backup_keys, create_kit, grant_kit};
use super::{open_backup, RecoveryKit};
use crate::model::{Access, Action, Author, Profile, RecordId};
use crate::record::Record;
use crate::sync::engine::SyncEngine;
use crate::sync::members::{statement, would_count};
use crate::sync::relay_client::introduction::{self, Introduction};
use crate::sync::relay_protocol::Mailbox;
use crate::sync::removal::removal_notified;
use crate::sync::{seal_envelope, seal_keys, Header, Kind, SyncError, ANYONE};
use crate::Error;
use serde::Serialize;

/// What restoring did.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// The records restored (or already here), this phone now a member of each.
    pub records: Vec<RecordId>,
    /// The devices removed as lost.
    pub removed: Vec<String>,
    /// Records in the backup the kit no longer stands in on (removed since): not restored.
    pub skipped: Vec<RecordId>,
    /// The words of this phone's new kit, to show once and write down: the kit typed in
    /// is retired by the restore. None when this phone already had a kit (it now covers
    /// the restored records too) or nothing was restored.
    pub words: Option<String>,
}

impl std::fmt::Debug for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The words are a credential: never in a log line.
        f.debug_struct("Restored")
            .field("records", &self.records)
            .field("removed", &self.removed)
            .field("skipped", &self.skipped)
            .field("words", &self.words.as_ref().map(|_| "(not shown)"))
            .finish()
    }
}

/// Restores every record of a backup onto this device (a new phone): the records
/// with their keys, this device granted by the kit as standing in for the device that
/// made it, the kit retired (removed by this device, so whoever else holds its words,
/// the lost phone among them, receives no later key) and (with `remove_lost`) that
/// device removed, each removal replacing the key. The other members learn of it at
/// their next relay exchange (an introduction signed by the kit). A phone without a
/// kit of its own makes one: its words are returned, to show once. Restoring twice
/// changes nothing more.
pub fn restore(
    engine: &mut SyncEngine<'_>,
    author: &Author,
    words: &str,
    backup: &[u8],
    remove_lost: bool,
) -> Result<Restored, Error> {
    let kit = RecoveryKit::from_words(words)?;
    let backup = open_backup(&kit, backup)?;
    let kit_keys = kit.identity();
    let kit_id = kit_keys.public().device_id();
    let mut restored = Restored {
        records: Vec::new(),
        removed: Vec::new(),
        skipped: Vec::new(),
        words: None,
    };
    let me = engine.device_id.to_string();
    for saved in backup.records {
        let id = saved.id.clone();
        let lost = {
            let SyncEngine { store, keys, .. } = &mut *engine;
            match store.record(&id) {
                Ok(_) => {}
                Err(Error::NotFound { .. }) => {
                    store.create_record_with_key(
                        &id,
                        Record::genesis(&id)?,
                        saved.key.clone(),
                        saved.epoch,
                        &[],
                    )?;
                    store.update_record(&id, |record| {
                        Ok(record.receive_changes(&saved.document)?)
                    })?;
                }
                Err(e) => return Err(e),
            }
            let record = store.record(&id)?;
            let membership = record.membership();
            let kit_member = match membership.member(&kit_id) {
                Some(member) if member.is_active() => member,
                // Retired by this phone when it was restored from it before.
                Some(member)
                    if member.removed.as_ref().is_some_and(|r| r.by == me)
                        && membership.active(&me).is_some() =>
                {
                    restored.records.push(id);
                    continue;
                }
                _ => {
                    restored.skipped.push(id);
                    continue;
                }
            };
            let lost = kit_member.added_by.clone();
            if membership.active(&author.device_id).is_none() {
                let mut grant = statement(
                    &kit_keys,
                    &membership,
                    Action::Grant {
                        subject: keys.public(),
                        access: Access::Admin,
                        profile: Profile {
                            role: author.role,
                            display_name: author.display_name.clone(),
                            organisation: author.organisation.clone(),
                            attestation: None,
                        },
                        stands_in_for: Some(lost.clone()),
                    },
                )?;
                if !would_count(store.record(&id)?, &mut grant) {
                    return Err(SyncError::NotPermitted.into());
                }
                store.update_record(&id, |record| Ok(record.put_statement(&grant, &kit_keys)?))?;
            }
            lost
        };
        // A kit of this phone's own (its words typed in here) stays: this phone keeps
        // backing up to it.
        if lost != me {
            // The kit first, so no key from here on is sealed to it.
            engine.remove_member(&id, &kit_id)?;
        }
        let lost_is_active = engine
            .store
            .record(&id)?
            .membership()
            .active(&lost)
            .is_some();
        let mut notice = None;
        if remove_lost && lost != me && lost_is_active {
            engine.remove_member(&id, &lost)?;
            let record = engine.store.record(&id)?;
            if let Some(member) = record.membership().member(&lost) {
                let header = Header {
                    kind: Kind::Keys,
                    record_id: id.clone(),
                    epoch: saved.epoch,
                    from: kit_id.clone(),
                    to: lost.clone(),
                };
                let statements = record.statement_values();
                let sealed = seal_keys(&header, &statements, &member.keys, &kit_keys)?;
                notice = Some((lost.clone(), sealed));
            }
            // Told by the kit's notice, not by this phone (which it does not know).
            removal_notified(engine.store, &id, std::slice::from_ref(&lost))?;
            restored.removed.push(lost);
        }
        // The introduction: the record as it is now, under the key the others hold.
        let document = engine.store.record(&id)?.save();
        let header = Header {
            kind: Kind::Bundle,
            record_id: id.clone(),
            epoch: saved.epoch,
            from: kit_id.clone(),
            to: ANYONE.to_string(),
        };
        let introduction = Introduction {
            epoch: saved.epoch,
            mailbox_secret: Mailbox::secret_for(&saved.key, saved.epoch)
                .as_bytes()
                .to_vec(),
            envelope: seal_envelope(&header, &saved.key, &document, &kit_keys)?,
            notice,
        };
        introduction::keep(engine.store, &id, &introduction)?;
        restored.records.push(id);
    }
    // The family is never without a kit: this phone's own covers what it restored, or
    // it makes one now.
    if !restored.records.is_empty() {
        let SyncEngine { store, keys, .. } = engine;
        match backup_keys(store)? {
            Some(own) => grant_kit(store, keys, author, &own.identity())?,
            None => restored.words = Some(create_kit(store, keys, author)?),
        }
    }
    Ok(restored)
}
