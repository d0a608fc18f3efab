//! The demo's hostile device: it reaches past the API into its own database (its keys,
//! the record key, the raw document), which no app can, to show what a member's stolen
//! phone could send and that the others refuse it.

use super::{DEMO_PASSPHRASE, DEVICES};
use crate::{CliError, CliResult};
use redbook_core::model::*;
use redbook_core::ChildRecord;
use redbook_ffi::RedBook;
use std::path::Path;

/// Dad's phone turned hostile (a stolen phone, an estranged parent): with its real keys
/// and the record key it crafts a change deleting the clinic's first 6-in-1, seals and
/// signs it as a real bundle, and sends it to Mum's phone, which refuses it whole.
pub(super) fn hostile(dir: &Path, mum: &RedBook, id: &RecordId, record: &ChildRecord) -> CliResult {
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    use redbook_core::crypto::device::DeviceKeys;
    use redbook_core::record::Record;
    use redbook_core::sync::{seal_envelope, Header, Kind};
    let fail = |what: &str| CliError(format!("the hostile device could not {what}"));
    let core = |e: redbook_core::Error| CliError::from(redbook_ffi::RedbookError::from(e));
    let jab = record
        .timeline()
        .into_iter()
        .find(|v| matches!(&v.entry.body, EntryBody::Immunisation(i) if i.vaccine == "6-in-1"))
        .ok_or_else(|| fail("find the 6-in-1"))?
        .entry
        .id
        .clone();
    let mut store = redbook_core::store::Store::open(
        &dir.join(format!("{}.redbook", DEVICES[1])),
        &redbook_core::Unlock::Passphrase(DEMO_PASSPHRASE.into()),
        redbook_core::OpenOptions::default(),
    )
    .map_err(core)?;
    let keys = store
        .sealed_meta("device_keys")
        .map_err(core)?
        .and_then(|bytes| DeviceKeys::from_bytes(&bytes).ok())
        .ok_or_else(|| fail("read its keys"))?;
    let mut copy = Record::load(&store.record(id).map_err(core)?.save())
        .map_err(|_| fail("copy the record"))?;
    let heads = copy.heads();
    let entries = match copy.automerge().get(automerge::ROOT, "entries") {
        Ok(Some((_, map))) => map,
        _ => return Err(fail("find the entries")),
    };
    let mut tx = copy.automerge_mut().transaction();
    tx.delete(&entries, jab.as_str())
        .map_err(|_| fail("delete"))?;
    tx.commit();
    let header = Header {
        kind: Kind::Bundle,
        record_id: id.clone(),
        epoch: store.record_epoch(id).map_err(core)?,
        from: keys.public().device_id(),
        to: mum.device_id(),
    };
    let bundle = seal_envelope(
        &header,
        &store.record_key(id).map_err(core)?,
        &copy.save_after(&heads),
        &keys,
    )
    .map_err(|_| fail("seal"))?;
    let before = mum.child(id.clone())?.timeline().len();
    println!("7. Dad's phone, turned hostile, sends Mum's phone a correctly sealed and signed change deleting the clinic's 6-in-1:");
    match mum.receive(bundle) {
        // The error's own words already say it was refused ("sync refused: ...").
        Err(e) => println!("   Mum's phone: {e}"),
        Ok(_) => return Err(CliError("the hostile change was accepted".into())),
    }
    let after = mum.child(id.clone())?;
    let kept = after
        .entries
        .iter()
        .find(|v| v.entry.id == jab)
        .is_some_and(|v| v.verification == Verification::Verified);
    println!(
        "   Mum's record unchanged: {} entries before, {} after; the 6-in-1 still there and verified: {}",
        before,
        after.timeline().len(),
        if kept { "yes" } else { "NO" }
    );
    Ok(())
}
