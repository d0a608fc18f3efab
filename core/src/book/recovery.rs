//! The façade over `recovery`: the phone's recovery kit, its backups and a restore.
//! Each method locks, hands the store and this device's keys over, and returns; the
//! relay's requests run without the lock.

use super::{Inner, RedBook};
use crate::recovery::backup::{fetch_backup, make_backup, put_backup};
use crate::recovery::kept::{create_kit, own_kit_id};
use crate::recovery::{restore, RecoveryKit, Restored};
use crate::sync::relay_protocol::RelayTransport;
use crate::Error;

impl RedBook {
    /// Makes this device's recovery kit and returns its 12 words, to be shown once and
    /// written into the paper book. The kit's identity is granted (as an admin standing in
    /// for this device) on every record this device administers; later records get it at
    /// the next backup.
    pub fn create_recovery_kit(&self) -> Result<String, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        create_kit(store, keys, author)
    }

    /// A backup of every record the kit stands in on, sealed with the kit's words: for a
    /// file the parent keeps anywhere, or the relay (`backup_to_relay`).
    pub fn recovery_backup(&self) -> Result<Vec<u8>, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        Ok(make_backup(store, keys, author)?.1)
    }

    /// Writes the backup into the kit's slot on the relay (replacing the last one); returns
    /// its size. An app runs it after its sync job.
    pub fn backup_to_relay(
        &self,
        transport: &dyn RelayTransport,
        base_url: &str,
    ) -> Result<u64, Error> {
        let (slot, backup) = {
            let mut inner = self.lock();
            let Inner {
                store,
                keys,
                author,
                ..
            } = &mut *inner;
            make_backup(store, keys, author)?
        };
        let size = backup.len() as u64;
        put_backup(transport, base_url, &slot, backup)?;
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
        let kit = RecoveryKit::from_words(words)?;
        let backup = fetch_backup(transport, base_url, &kit.backup_slot())?;
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
        let mut inner = self.lock();
        let author = inner.author.clone();
        restore::restore(&mut inner.engine(), &author, words, backup, remove_lost)
    }

    /// This device's own kit identity, which never syncs: not a peer.
    pub(super) fn own_kit_id(&self) -> Result<Option<String>, Error> {
        own_kit_id(&self.lock().store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RawKeyProvider;
    use crate::model::ChildDetails;
    use crate::recovery::kept::{grant_kit, KIT_SECRET};
    use crate::recovery::open_backup;
    use crate::store::Store;
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
            let mut inner = book.lock();
            let Inner {
                store,
                keys,
                author,
                ..
            } = &mut *inner;
            store.put_sealed_meta(KIT_SECRET, &entropy).unwrap();
            grant_kit(store, keys, author, &kit.identity().public()).unwrap();
            drop(inner);
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
