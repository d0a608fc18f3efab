//! Another device's changes (a bundle's body, or a sync message) into a record that
//! holds entries, details and members: never a panic, and whatever is accepted leaves
//! every value the record held in place.
//!
//! The first byte picks what the rest is: raw bytes; edits to a valid change; edits to a
//! valid whole document (checksums recomputed, as a malicious device would); a sync
//! message; or a first-sync message carrying an edited whole document (the path that
//! checks a document without rebuilding its changes).
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
    let accepted = match mode % 5 {
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
        let after = record.entry_views().0;
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
