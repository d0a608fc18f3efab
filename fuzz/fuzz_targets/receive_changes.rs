//! Another device's changes (a bundle's body, or a sync message) into a record that
//! holds entries, details and members: never a panic, and whatever is accepted leaves
//! every value the record held in place.
//!
//! The first byte picks what the rest is: raw bytes; edits to a valid change; edits to a
//! valid whole document (checksums recomputed, as a malicious device would); a sync
//! message; a first-sync message carrying an edited whole document (the path that
//! checks a document without rebuilding its changes); a value put on a fork from the
//! genesis under a key the record already holds (the held value, edited, or any bytes);
//! or a compressed change chunk whose deflate stream is the input (bombs included).
#![no_main]

use automerge::sync::{Message, State};
use libfuzzer_sys::fuzz_target;
use redbook_core::record::Record;
use redbook_fuzz_support::{family, mutated};

fuzz_target!(
    // automerge panics on some crafted changes; the core catches those panics and refuses
    // the message (that is what is under test), so libfuzzer-sys's abort-on-any-panic hook
    // is replaced by a silent one. A panic that escapes the core still aborts at the
    // fuzzer's boundary and is reported.
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = family();
    let mut record = Record::load(&f.saved).expect("the base record loads");
    let accepted = match mode % 7 {
        5 => match beside_a_held_value(&record, rest) {
            Some(change) => record.receive_changes(&change).is_ok(),
            None => false,
        },
        6 => record.receive_changes(&compressed_chunk(rest)).is_ok(),
        0 => record.receive_changes(rest).is_ok(),
        1 => record.receive_changes(&mutated(&f.change, rest)).is_ok(),
        2 => record.receive_changes(&mutated(&f.document, rest)).is_ok(),
        4 => {
            let message = Message {
                heads: Vec::new(),
                need: Vec::new(),
                have: Vec::new(),
                changes: vec![mutated(&f.document, rest)].into(),
                flags: None,
                version: automerge::sync::MessageVersion::V2,
            };
            record.receive_sync_message(&mut State::new(), message).is_ok()
        }
        _ => {
            let message = std::panic::catch_unwind(|| Message::decode(rest))
                .ok()
                .and_then(Result::ok);
            match message {
                Some(message) => record.receive_sync_message(&mut State::new(), message).is_ok(),
                None => false,
            }
        }
    };
    if accepted {
        let after = record.entry_views(&Default::default()).0;
        for view in &f.views {
            assert!(
                after.iter().any(|a| a.entry == view.entry && a.verification == view.verification),
                "an accepted change removed or changed an entry"
            );
        }
        let _ = record.details();
        let _ = record.membership();
    }
});

/// A change made on a fork from the genesis that puts a value under a key the record
/// already holds: `input[0]` picks the map, `input[1]` the key; the value is the held one
/// with the rest as edits, or (`input[2]` odd) the rest itself.
fn beside_a_held_value(record: &Record, input: &[u8]) -> Option<Vec<u8>> {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ScalarValue, ROOT};
    let (&which, input) = input.split_first()?;
    let (&pick, input) = input.split_first()?;
    let (&how, rest) = input.split_first()?;
    let doc = record.automerge();
    let map_name = ["details", "entries", "membership"][which as usize % 3];
    let (_, map) = doc.get(ROOT, map_name).ok()??;
    let keys: Vec<String> = doc.keys(&map).collect();
    let key = keys.get(pick as usize % keys.len().max(1))?.clone();
    let held = match doc.get(&map, key.as_str()).ok()?? {
        (automerge::Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Bytes(b) => b.clone(),
            _ => return None,
        },
        _ => return None,
    };
    let value = if how % 2 == 1 {
        rest.to_vec()
    } else {
        let mut edited = held;
        for pair in rest.chunks_exact(3) {
            let at = u16::from_be_bytes([pair[0], pair[1]]) as usize % edited.len().max(1);
            if let Some(byte) = edited.get_mut(at) {
                *byte = pair[2];
            }
        }
        edited
    };
    let genesis = doc.get_changes(&[]).first()?.hash();
    let mut fork = doc.fork_at(&[genesis]).ok()?;
    fork.set_actor(automerge::ActorId::from(&[0xfe; 16][..]));
    let mut tx = fork.transaction();
    tx.put(&map, key.as_str(), ScalarValue::Bytes(value)).ok()?;
    tx.commit();
    Some(fork.save_after(&[genesis]))
}

/// A compressed change chunk (type 2) whose data is `deflated`: magic, a checksum, the
/// type, the length and the bytes, as automerge reads one.
fn compressed_chunk(deflated: &[u8]) -> Vec<u8> {
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut length = deflated.len() as u64;
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            chunk.push(byte);
            break;
        }
        chunk.push(byte | 0x80);
    }
    chunk.extend_from_slice(deflated);
    chunk
}
