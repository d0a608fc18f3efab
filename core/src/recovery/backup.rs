//! Backing up to the kit: every record the kit stands in on, sealed with the kit's words,
//! for a file the parent keeps anywhere or the kit's slot on a relay, and reading it back
//! from there (docs/adr/0009-recovery.md).

use super::kept::{backup_keys, grant_kit};
use super::{seal_backup, BackedUpRecord, Backup};
use crate::crypto::device::DeviceKeys;
use crate::model::Author;
use crate::store::Store;
use crate::sync::relay_client::{refused, Relay};
use crate::sync::relay_protocol::{backup_path, Mailbox, RelayTransport};
use crate::Error;
use serde::Deserialize;

/// A backup of every record the kit stands in on (granting the kit first where this
/// device administers a record it is not on yet), sealed for the kit's slot.
pub fn make_backup(
    store: &mut Store,
    keys: &DeviceKeys,
    author: &Author,
) -> Result<(Mailbox, Vec<u8>), Error> {
    let kit = backup_keys(store)?.ok_or(Error::NotFound {
        what: "recovery kit",
    })?;
    grant_kit(store, keys, author, &kit.identity())?;
    let kit_id = kit.identity().device_id();
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
    let slot = kit.slot();
    let sealed = seal_backup(
        &slot,
        &Backup {
            made_at: chrono::Utc::now(),
            records,
        },
    )?;
    Ok((slot, sealed))
}

/// The backup kept in the kit's slot on the relay at `base_url`.
pub fn fetch_backup(
    transport: &dyn RelayTransport,
    base_url: &str,
    slot: &Mailbox,
) -> Result<Vec<u8>, Error> {
    let path = backup_path(&slot.address());
    Relay::new(transport, base_url)?.call(slot, "GET", &path, Vec::new(), &mut Default::default())
}

/// Writes `backup` into the kit's slot. Each write carries a version, inside the signed
/// request, that the relay must not have seen yet, so a captured earlier upload replayed
/// later cannot roll the backup back: milliseconds since the epoch, or, when the relay
/// keeps a later one (another phone on the kit, or this phone's clock set back), one more
/// than the version it names.
pub fn put_backup(
    transport: &dyn RelayTransport,
    base_url: &str,
    slot: &Mailbox,
    backup: Vec<u8>,
) -> Result<(), Error> {
    let relay = Relay::new(transport, base_url)?;
    let mut version = chrono::Utc::now().timestamp_millis().max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let path = format!("{}?version={version}", backup_path(&slot.address()));
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
