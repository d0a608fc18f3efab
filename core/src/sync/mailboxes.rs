//! The relay mailboxes this device keeps per record, at rest: the secret of each key epoch
//! it has held, so key messages can still be left where members on an earlier key read
//! (docs/adr/0008-relay.md). Kept before any key change, by whichever path makes it.

use super::relay_protocol::Mailbox;
use crate::crypto::SecretKey;
use crate::model::RecordId;
use crate::store::Store;
use crate::Error;
use serde::{Deserialize, Serialize};

const RELAY_MAILBOXES: &str = "relay_mailboxes";
/// Mailboxes of earlier key epochs kept, to leave key messages for members still there.
const KEPT_MAILBOXES: usize = 8;

/// A mailbox secret of one epoch, sealed at rest with the rest of the meta values.
#[derive(Serialize, Deserialize)]
struct KeptMailbox {
    epoch: u32,
    secret: Vec<u8>,
}

/// The record's mailbox at the key this device holds now, remembered for later epochs'
/// key messages.
pub fn current_mailbox(store: &mut Store, id: &RecordId) -> Result<Mailbox, Error> {
    let epoch = store.record_epoch(id)?;
    let mailbox = Mailbox::derive(&store.record_key(id)?, epoch);
    keep_mailbox(store, id, mailbox.secret(), epoch)?;
    Ok(mailbox)
}

/// The mailboxes of earlier epochs this device kept, newest first.
pub fn earlier_mailboxes(store: &mut Store, id: &RecordId) -> Result<Vec<Mailbox>, Error> {
    let epoch = store.record_epoch(id)?;
    let name = store.record_meta_name(RELAY_MAILBOXES, id);
    Ok(kept_mailboxes(store.sealed_meta(&name)?)
        .into_iter()
        .filter(|k| k.epoch < epoch)
        .filter_map(|k| {
            let secret = SecretKey::from_slice(&k.secret).ok()?;
            Some(Mailbox::from_secret(secret, k.epoch))
        })
        .collect())
}

/// Remembers the mailbox of `epoch` (its secret, sealed at rest), so key messages can
/// still be left there for members that have not moved on. Called before any key change
/// too: a device that never exchanged at an epoch must still reach the members there.
pub fn keep_mailbox(
    store: &mut Store,
    id: &RecordId,
    secret: &SecretKey,
    epoch: u32,
) -> Result<(), Error> {
    let name = store.record_meta_name(RELAY_MAILBOXES, id);
    let mut kept = kept_mailboxes(store.sealed_meta(&name)?);
    if kept.iter().any(|k| k.epoch == epoch) {
        return Ok(());
    }
    kept.push(KeptMailbox {
        epoch,
        secret: secret.as_bytes().to_vec(),
    });
    kept.sort_by_key(|k| std::cmp::Reverse(k.epoch));
    kept.truncate(KEPT_MAILBOXES);
    store.put_sealed_meta(&name, &serde_json::to_vec(&kept).expect("serialisable"))
}

/// Keeps the mailbox of the key `store` holds for `id` now, before it is replaced.
pub fn keep_current_mailbox(store: &mut Store, id: &RecordId) -> Result<(), Error> {
    let epoch = store.record_epoch(id)?;
    let secret = Mailbox::secret_for(&store.record_key(id)?, epoch);
    keep_mailbox(store, id, &secret, epoch)
}

fn kept_mailboxes(bytes: Option<Vec<u8>>) -> Vec<KeptMailbox> {
    bytes
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}
