//! Where this device's inbox was read up to, per record, relay and mailbox, sealed at rest.

use crate::model::RecordId;
use crate::store::Store;
use crate::sync::relay_protocol::Mailbox;
use crate::Error;
use serde::{Deserialize, Serialize};

const RELAY_CURSOR: &str = "relay_cursor";
/// Cursors kept per record (relays and mailboxes a device moved between).
const KEPT_CURSORS: usize = 16;

/// Where this device's inbox was read up to, on which relay and in which mailbox. Kept per
/// relay: sequence numbers are one relay's own, and a cursor taken to another relay (or a
/// move back) would acknowledge, and so delete, messages nobody read there.
#[derive(Serialize, Deserialize)]
struct Cursor {
    relay: String,
    address: String,
    after: u64,
}

/// The cursors kept for a record; one saved in an older form (a single mailbox, no
/// relay) is dropped: reading an inbox from the start again is safe, acknowledging
/// on the wrong relay is not.
fn cursors(store: &Store, id: &RecordId) -> Result<Vec<Cursor>, Error> {
    let name = store.record_meta_name(RELAY_CURSOR, id);
    Ok(store
        .sealed_meta(&name)?
        .and_then(|bytes| serde_json::from_slice::<Vec<Cursor>>(&bytes).ok())
        .unwrap_or_default())
}

/// Where the inbox in `mailbox` on the relay at `base` was read up to (0: from the start).
pub(super) fn cursor(
    store: &Store,
    id: &RecordId,
    base: &str,
    mailbox: &Mailbox,
) -> Result<u64, Error> {
    let address = mailbox.address();
    Ok(cursors(store, id)?
        .iter()
        .find(|c| c.relay == base && c.address == address)
        .map_or(0, |c| c.after))
}

pub(super) fn save_cursor(
    store: &Store,
    id: &RecordId,
    base: &str,
    mailbox: &Mailbox,
    after: u64,
) -> Result<(), Error> {
    let address = mailbox.address();
    let mut kept = cursors(store, id)?;
    kept.retain(|c| !(c.relay == base && c.address == address));
    kept.insert(
        0,
        Cursor {
            relay: base.to_string(),
            address,
            after,
        },
    );
    kept.truncate(KEPT_CURSORS);
    let name = store.record_meta_name(RELAY_CURSOR, id);
    store.put_sealed_meta(&name, &serde_json::to_vec(&kept).expect("serialisable"))
}
