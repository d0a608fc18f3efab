//! A restored phone's introduction, kept until it has done its work: the record as
//! restored (with the kit's grant of this phone), sealed under the key the other members
//! hold, signed by the kit, posted with each key message until every member holds the key
//! in force (docs/adr/0009-recovery.md).

use crate::model::RecordId;
use crate::store::Store;
use crate::Error;
use serde::{Deserialize, Serialize};

/// Per restored record: the introduction still to post to the other members.
const INTRODUCTION: &str = "relay_introduction";

/// An introduction waiting to be posted.
#[derive(Serialize, Deserialize)]
pub struct Introduction {
    pub epoch: u32,
    pub mailbox_secret: Vec<u8>,
    pub envelope: Vec<u8>,
    /// For the phone this one replaced (which still reads that mailbox and knows the kit,
    /// not this phone): the record's statements, signed by the kit, so its relay sync
    /// learns it was removed and stops.
    #[serde(default)]
    pub notice: Option<(String, Vec<u8>)>,
}

/// Keeps `introduction` to post at the next exchanges.
pub fn keep(store: &Store, id: &RecordId, introduction: &Introduction) -> Result<(), Error> {
    let name = store.record_meta_name(INTRODUCTION, id);
    store.put_sealed_meta(
        &name,
        &serde_json::to_vec(introduction).expect("serialisable"),
    )
}

/// The introduction still to post for a restored record, if any.
pub fn pending(store: &Store, id: &RecordId) -> Result<Option<Introduction>, Error> {
    let name = store.record_meta_name(INTRODUCTION, id);
    Ok(store
        .sealed_meta(&name)?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// The kit's notice to the replaced phone was posted: not again.
pub fn notice_sent(store: &Store, id: &RecordId) -> Result<(), Error> {
    let Some(mut introduction) = pending(store, id)? else {
        return Ok(());
    };
    introduction.notice = None;
    keep(store, id, &introduction)
}

/// Every member holds the key in force: the introduction has done its work.
pub fn done(store: &Store, id: &RecordId) -> Result<(), Error> {
    let name = store.record_meta_name(INTRODUCTION, id);
    store.delete_meta(&name)
}
