//! What a phone keeps of its recovery kit: only the kit's `BackupKeys` (the backup slot
//! and the identity's public keys), sealed in the meta table, and the kit's grant on each
//! record the phone administers (docs/adr/0009-recovery.md).

use super::{BackupKeys, RecoveryKit};
use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::model::{Access, Action, Author, Profile, ValidationError};
use crate::store::Store;
use crate::sync::members::{statement, would_count};
use crate::Error;

/// What this device keeps of its kit (`BackupKeys`), sealed in the meta table.
const BACKUP_KEYS: &str = "recovery_backup_keys";
/// Where databases kept the kit's own 16 bytes before: erased on open (`drop_kit_secret`).
pub(crate) const KIT_SECRET: &str = "recovery_kit";

/// A database made before phones kept only their kit's `BackupKeys` holds the kit's own
/// 16 bytes, from which anyone with the file and its passphrase gets back the words and
/// the kit's identity. Keeps what backups need and erases the rest; run on every open.
pub fn drop_kit_secret(store: &Store) -> Result<(), Error> {
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

/// This device's kit, as far as it keeps it.
pub fn backup_keys(store: &Store) -> Result<Option<BackupKeys>, Error> {
    Ok(store
        .sealed_meta(BACKUP_KEYS)?
        .and_then(|bytes| BackupKeys::from_bytes(&zeroize::Zeroizing::new(bytes))))
}

/// This device's own kit identity, which never syncs: not a peer.
pub fn own_kit_id(store: &Store) -> Result<Option<String>, Error> {
    Ok(backup_keys(store)?.map(|kit| kit.identity().device_id()))
}

/// Makes this device's recovery kit and returns its 12 words, to be shown once and
/// written into the paper book. The kit's identity is granted (as an admin standing in
/// for this device) on every record this device administers; later records get it at
/// the next backup.
pub fn create_kit(store: &mut Store, keys: &DeviceKeys, author: &Author) -> Result<String, Error> {
    if backup_keys(store)?.is_some() {
        return Err(ValidationError::new(
            "recovery kit",
            "this device already has one; the words written down restore it",
        )
        .into());
    }
    let (words, kept) = {
        let kit = RecoveryKit::generate()?;
        (kit.words(), kit.backup_keys())
    };
    // The kit itself is dropped (and wiped) here: the phone keeps only what backups need.
    store.put_sealed_meta(BACKUP_KEYS, &kept.to_bytes())?;
    grant_kit(store, keys, author, &kept.identity())?;
    Ok(words)
}

/// Grants the kit's identity, standing in for this device, on each record this device
/// administers where it is not a member yet.
pub fn grant_kit(
    store: &mut Store,
    keys: &DeviceKeys,
    author: &Author,
    identity: &DevicePublic,
) -> Result<(), Error> {
    let identity = *identity;
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
