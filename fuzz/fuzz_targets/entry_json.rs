//! An entry's JSON, as another device signs it, is read by `StoredEntry::from_json` (which
//! reads the tagged body from borrowed text, and hands what it does not read to serde's
//! derived reader) exactly as the derived reader reads it: the same entry, or refused by
//! both. `corpus/entry_json` holds one entry of every kind to start from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redbook_core::model::StoredEntry;

fuzz_target!(|data: &[u8]| {
    let derived = serde_json::from_slice::<StoredEntry>(data).ok();
    assert_eq!(StoredEntry::from_json(data), derived);
});
