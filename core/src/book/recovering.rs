//! The recovery kit on a device (docs/adr/0009-recovery.md): making it (its identity
//! granted on every record this device administers, standing in for this device),
//! backing up to a file or the relay, and restoring on a new phone: the kit's identity
//! grants the new phone, which may then remove the lost one, and an introduction signed
//! by the kit tells the other members about it through the relay.

use super::RedBook;
use crate::crypto::device::DevicePublic;
use crate::model::{Access, Action, Profile, RecordId, ValidationError};
use crate::record::Record;
use crate::recovery::{self, BackedUpRecord, Backup, BackupKeys, RecoveryKit};
use crate::store::Store;
use crate::sync::members::{statement, would_count};
use crate::sync::relay::{self, Mailbox, RelayTransport};
use crate::sync::relay_client::introduction::{self, Introduction};
use crate::sync::relay_client::{refused, Relay};
use crate::sync::{self, Header, Kind};
use crate::Error;
use serde::{Deserialize, Serialize};

/// What this device keeps of its kit (`recovery::BackupKeys`), sealed in the meta table.
const BACKUP_KEYS: &str = "recovery_backup_keys";
/// Where databases kept the kit's own 16 bytes before: erased on open (`drop_kit_secret`).
const KIT_SECRET: &str = "recovery_kit";

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

/// A database made before phones kept only their kit's `BackupKeys` holds the kit's own
/// 16 bytes, from which anyone with the file and its passphrase gets back the words and
/// the kit's identity. Keeps what backups need and erases the rest; run on every open.
pub(super) fn drop_kit_secret(store: &Store) -> Result<(), Error> {
    let Some(bytes) = store.sealed_meta(KIT_SECRET)? else {
        return Ok(());
    };
    let bytes = zeroize::Zeroizing::new(bytes);
    if store.sealed_meta(BACKUP_KEYS)?.is_none() {
        if let Some(kit) = RecoveryKit::from_stored_entropy(&bytes) {
            store.put_sealed_meta(BACKUP_KEYS, &kit.backup_keys().to_bytes())?;
        }
    }
    store.erase_meta(KIT_SECRET)
}

impl RedBook {
    /// Makes this device's recovery kit and returns its 12 words, to be shown once and
    /// written into the paper book. The kit's identity is granted (as an admin standing in
    /// for this device) on every record this device administers; later records get it at
    /// the next backup.
    pub fn create_recovery_kit(&self) -> Result<String, Error> {
        if self.backup_keys()?.is_some() {
            return Err(ValidationError::new(
                "recovery kit",
                "this device already has one; the words written down restore it",
            )
            .into());
        }
        let (words, keys) = {
            let kit = RecoveryKit::generate()?;
            (kit.words(), kit.backup_keys())
        };
        // The kit itself is dropped (and wiped) here: the phone keeps only what backups need.
        self.lock()
            .store
            .put_sealed_meta(BACKUP_KEYS, &keys.to_bytes())?;
        self.grant_kit(&keys.identity())?;
        Ok(words)
    }

    fn backup_keys(&self) -> Result<Option<BackupKeys>, Error> {
        let inner = self.lock();
        Ok(inner
            .store
            .sealed_meta(BACKUP_KEYS)?
            .and_then(|bytes| BackupKeys::from_bytes(&zeroize::Zeroizing::new(bytes))))
    }

    /// Grants the kit's identity, standing in for this device, on each record this device
    /// administers where it is not a member yet.
    fn grant_kit(&self, identity: &DevicePublic) -> Result<(), Error> {
        let identity = *identity;
        let mut inner = self.lock();
        let super::Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        for listing in store.list_records()? {
            let Some(id) = listing.id else { continue };
            let record = store.record(&id)?;
            let membership = record.membership();
            if !membership.is_admin(&author.device_id)
                || membership.active(&identity.device_id()).is_some()
            {
                continue;
            }
            let mut grant = statement(
                keys,
                &membership,
                Action::Grant {
                    subject: identity,
                    access: Access::Admin,
                    profile: Profile {
                        role: author.role,
                        display_name: crate::view::RECOVERY_KIT_NAME.into(),
                        organisation: author.organisation.clone(),
                        attestation: None,
                    },
                    stands_in_for: Some(author.device_id.clone()),
                },
            )?;
            if would_count(record, &mut grant) {
                store.update_record(&id, |record| Ok(record.put_statement(&grant, keys)?))?;
            }
        }
        Ok(())
    }

    /// A backup of every record the kit stands in on, sealed with the kit's words: for a
    /// file the parent keeps anywhere, or the relay (`backup_to_relay`).
    pub fn recovery_backup(&self) -> Result<Vec<u8>, Error> {
        let kit = self.backup_keys()?.ok_or(Error::NotFound {
            what: "recovery kit",
        })?;
        self.grant_kit(&kit.identity())?;
        let kit_id = kit.identity().device_id();
        let mut inner = self.lock();
        let store = &mut inner.store;
        let mut records = Vec::new();
        for listing in store.list_records()? {
            let Some(id) = listing.id else { continue };
            if store.record(&id)?.membership().active(&kit_id).is_none() {
                continue;
            }
            records.push(BackedUpRecord {
                epoch: store.record_epoch(&id)?,
                key: store.record_key(&id)?,
                document: store.record(&id)?.save(),
                id,
            });
        }
        recovery::seal_backup(
            &kit.slot(),
            &Backup {
                made_at: chrono::Utc::now(),
                records,
            },
        )
    }

    /// Writes the backup into the kit's slot on the relay (replacing the last one); returns
    /// its size. An app runs it after its sync job.
    pub fn backup_to_relay(
        &self,
        transport: &dyn RelayTransport,
        base_url: &str,
    ) -> Result<u64, Error> {
        let backup = self.recovery_backup()?;
        let kit = self.backup_keys()?.ok_or(Error::NotFound {
            what: "recovery kit",
        })?;
        let size = backup.len() as u64;
        put_backup(transport, base_url, &kit.slot(), backup)?;
        Ok(size)
    }

    /// Restores every record of the kit's backup on the relay onto this device.
    pub fn restore_from_relay(
        &self,
        words: &str,
        transport: &dyn RelayTransport,
        base_url: &str,
        remove_lost: bool,
    ) -> Result<Restored, Error> {
        let kit = RecoveryKit::from_words(words).map_err(recovery_error)?;
        let backup = backup_request(transport, base_url, &kit.backup_slot(), "GET", Vec::new())?;
        self.restore(words, &backup, remove_lost)
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
        &self,
        words: &str,
        backup: &[u8],
        remove_lost: bool,
    ) -> Result<Restored, Error> {
        let kit = RecoveryKit::from_words(words).map_err(recovery_error)?;
        let backup = recovery::open_backup(&kit, backup).map_err(recovery_error)?;
        let kit_keys = kit.identity();
        let kit_id = kit_keys.public().device_id();
        let mut restored = Restored {
            records: Vec::new(),
            removed: Vec::new(),
            skipped: Vec::new(),
            words: None,
        };
        let me = self.device_id();
        for saved in backup.records {
            let id = saved.id.clone();
            let lost = {
                let mut inner = self.lock();
                let super::Inner {
                    store,
                    author,
                    keys,
                    ..
                } = &mut *inner;
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
                        return Err(sync::SyncError::NotPermitted.into());
                    }
                    store.update_record(&id, |record| {
                        Ok(record.put_statement(&grant, &kit_keys)?)
                    })?;
                }
                lost
            };
            // A kit of this phone's own (its words typed in here) stays: this phone keeps
            // backing up to it.
            if lost != me {
                // The kit first, so no key from here on is sealed to it.
                self.remove_member(&id, &kit_id)?;
            }
            let lost_is_active = {
                let mut inner = self.lock();
                inner
                    .store
                    .record(&id)?
                    .membership()
                    .active(&lost)
                    .is_some()
            };
            let mut notice = None;
            if remove_lost && lost != me && lost_is_active {
                self.remove_member(&id, &lost)?;
                let mut inner = self.lock();
                let store = &mut inner.store;
                let record = store.record(&id)?;
                if let Some(member) = record.membership().member(&lost) {
                    let header = Header {
                        kind: Kind::Keys,
                        record_id: id.clone(),
                        epoch: saved.epoch,
                        from: kit_id.clone(),
                        to: lost.clone(),
                    };
                    let statements = record.statement_values();
                    let sealed = sync::seal_keys(&header, &statements, &member.keys, &kit_keys)?;
                    notice = Some((lost.clone(), sealed));
                }
                drop(inner);
                // Told by the kit's notice, not by this phone (which it does not know).
                crate::sync::removal::removal_notified(
                    &self.lock().store,
                    &id,
                    std::slice::from_ref(&lost),
                )?;
                restored.removed.push(lost);
            }
            // The introduction: the record as it is now, under the key the others hold.
            let mut inner = self.lock();
            let document = inner.store.record(&id)?.save();
            let header = Header {
                kind: Kind::Bundle,
                record_id: id.clone(),
                epoch: saved.epoch,
                from: kit_id.clone(),
                to: sync::ANYONE.to_string(),
            };
            let introduction = Introduction {
                epoch: saved.epoch,
                mailbox_secret: Mailbox::secret_for(&saved.key, saved.epoch)
                    .as_bytes()
                    .to_vec(),
                envelope: sync::seal_envelope(&header, &saved.key, &document, &kit_keys)?,
                notice,
            };
            introduction::keep(&inner.store, &id, &introduction)?;
            restored.records.push(id);
        }
        // The family is never without a kit: this phone's own covers what it restored, or
        // it makes one now.
        if !restored.records.is_empty() {
            match self.backup_keys()? {
                Some(own) => self.grant_kit(&own.identity())?,
                None => restored.words = Some(self.create_recovery_kit()?),
            }
        }
        Ok(restored)
    }

    /// This device's own kit identity, which never syncs: not a peer.
    pub(super) fn own_kit_id(&self) -> Result<Option<String>, Error> {
        Ok(self.backup_keys()?.map(|kit| kit.identity().device_id()))
    }
}

fn recovery_error(e: recovery::RecoveryError) -> Error {
    match e {
        recovery::RecoveryError::BadWords => {
            ValidationError::new("recovery words", &e.to_string()).into()
        }
        recovery::RecoveryError::Unreadable => Error::BackupUnreadable,
    }
}

/// One signed request to the kit's backup slot.
fn backup_request(
    transport: &dyn RelayTransport,
    base_url: &str,
    slot: &Mailbox,
    method: &str,
    body: Vec<u8>,
) -> Result<Vec<u8>, Error> {
    let path = relay::backup_path(&slot.address());
    Relay::new(transport, base_url).call(slot, method, &path, body, &mut Default::default())
}

/// Writes `backup` into the kit's slot. Each write carries a version, inside the signed
/// request, that the relay must not have seen yet, so a captured earlier upload replayed
/// later cannot roll the backup back: milliseconds since the epoch, or, when the relay
/// keeps a later one (another phone on the kit, or this phone's clock set back), one more
/// than the version it names.
fn put_backup(
    transport: &dyn RelayTransport,
    base_url: &str,
    slot: &Mailbox,
    backup: Vec<u8>,
) -> Result<(), Error> {
    let relay = Relay::new(transport, base_url);
    let mut version = chrono::Utc::now().timestamp_millis().max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let path = format!("{}?version={version}", relay::backup_path(&slot.address()));
        let response = relay.send(
            slot,
            "PUT",
            &path,
            backup.clone(),
            None,
            &mut Default::default(),
        )?;
        if (200..300).contains(&response.status) {
            return Ok(());
        }
        match kept_version(&response.body) {
            Some(kept) if response.status == 409 && attempt < 3 && kept < i64::MAX => {
                version = version.max(kept + 1);
            }
            _ => return Err(refused(&response)),
        }
    }
}

/// The version a relay says it keeps, from its 409 answer.
fn kept_version(body: &[u8]) -> Option<i64> {
    #[derive(Deserialize)]
    struct Kept {
        version: i64,
    }
    serde_json::from_slice::<Kept>(body).ok().map(|k| k.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RawKeyProvider;
    use crate::model::ChildDetails;
    use crate::recovery::open_backup;
    use crate::{OpenOptions, Unlock};
    use std::path::Path;
    use std::sync::Arc;

    fn unlock() -> Unlock {
        Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[7; 32]).unwrap()))
    }

    /// Whether any meta value in the file, opened, holds anything that gives back the
    /// kit's words or signs as its identity (raw, or as hex).
    fn holds_kit_secret(path: &Path, kit: &RecoveryKit) -> bool {
        let words = kit.words();
        let mnemonic = bip39::Mnemonic::parse(&words).unwrap();
        let identity = kit.identity().to_bytes();
        let mut secrets: Vec<Vec<u8>> = vec![
            mnemonic.to_entropy(),
            words.as_bytes().to_vec(),
            identity[..32].to_vec(),   // the X25519 secret
            identity[48..80].to_vec(), // the Ed25519 seed, after the PKCS#8 prefix
        ];
        secrets.extend(secrets.clone().iter().map(|s| hex::encode(s).into_bytes()));
        let store = Store::open(path, &unlock(), OpenOptions::default()).unwrap();
        store.meta_names().unwrap().into_iter().any(|name| {
            let value = store.sealed_meta(&name).ok().flatten().unwrap_or_default();
            secrets
                .iter()
                .any(|s| value.windows(s.len()).any(|w| w == s.as_slice()))
        })
    }

    #[test]
    fn a_database_that_kept_its_kits_secret_drops_it_on_open_and_keeps_backing_up() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("old.redbook");
        let kit = RecoveryKit::generate().unwrap();
        let id = {
            let book = RedBook::open(&path, unlock()).unwrap();
            let id = book
                .add_child(ChildDetails {
                    name: "Ada Lovelace".into(),
                    birth_date: Some("2026-01-10".parse().unwrap()),
                    ..Default::default()
                })
                .unwrap();
            // As databases made before kept their kit: its own 16 bytes, its identity
            // granted.
            let entropy = bip39::Mnemonic::parse(kit.words()).unwrap().to_entropy();
            book.lock()
                .store
                .put_sealed_meta(KIT_SECRET, &entropy)
                .unwrap();
            book.grant_kit(&kit.identity().public()).unwrap();
            id
        };
        assert!(holds_kit_secret(&path, &kit), "the test's premise");
        let sealed: Vec<u8> = rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT value FROM redbook_meta WHERE name = ?1",
                [KIT_SECRET],
                |row| row.get(0),
            )
            .unwrap();

        let book = RedBook::open(&path, unlock()).unwrap();
        let backup = book.recovery_backup().unwrap();
        let opened = open_backup(&kit, &backup).unwrap();
        assert_eq!(opened.records.len(), 1);
        assert_eq!(opened.records[0].id, id);
        assert_eq!(
            book.own_kit_id().unwrap(),
            Some(kit.identity().public().device_id())
        );
        assert!(
            book.create_recovery_kit().is_err(),
            "the words are not shown again"
        );
        drop(book);
        assert!(!holds_kit_secret(&path, &kit));
        // Nor is the sealed value left in the file's free space or its WAL.
        let mut file = std::fs::read(&path).unwrap();
        file.extend(std::fs::read(dir.path().join("old.redbook-wal")).unwrap_or_default());
        assert!(!file.windows(sealed.len()).any(|w| w == sealed.as_slice()));
    }

    #[test]
    fn a_phone_that_shows_its_words_keeps_nothing_that_gives_them_back() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("phone.redbook");
        let book = RedBook::open(&path, unlock()).unwrap();
        book.add_child(ChildDetails {
            name: "Ada Lovelace".into(),
            birth_date: Some("2026-01-10".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
        let words = book.create_recovery_kit().unwrap();
        let backup = book.recovery_backup().unwrap();
        drop(book);
        let kit = RecoveryKit::from_words(&words).unwrap();
        assert_eq!(open_backup(&kit, &backup).unwrap().records.len(), 1);
        assert!(!holds_kit_secret(&path, &kit));
    }
}
