//! Any set of membership statements resolves without a panic, and the same way whatever
//! order they come in. The record id is the one the input's first `Create` binds, so the
//! fuzzer can build histories that resolve to members (grants, stand-ins, removals, keys);
//! `corpus/membership/stand-in-seed` is one (a recovery kit replacing a lost creator).
#![no_main]

use libfuzzer_sys::fuzz_target;
use redbook_core::model::{Action, RecordId, Statement};
use redbook_core::record::membership::resolve;
use redbook_fuzz_support::family;

fuzz_target!(|data: &[u8]| {
    let Ok(statements) = serde_json::from_slice::<Vec<Statement>>(data) else {
        return;
    };
    let record_id = statements
        .iter()
        .find_map(|s| match &s.action {
            Action::Create { nonce, .. } => <[u8; 16]>::try_from(nonce.as_slice())
                .ok()
                .map(|nonce| RecordId::for_creator(&s.issuer.signing_key, &nonce)),
            _ => None,
        })
        .unwrap_or_else(|| family().record_id.clone());
    let forward = resolve(&record_id, statements.clone());
    let mut reversed = statements;
    reversed.reverse();
    assert_eq!(forward, resolve(&record_id, reversed));
});
