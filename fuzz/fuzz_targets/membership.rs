//! Any set of membership statements resolves without a panic, and the same way whatever
//! order they come in.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redbook_core::model::Statement;
use redbook_core::record::membership::resolve;
use redbook_fuzz_support::family;

fuzz_target!(|data: &[u8]| {
    let Ok(statements) = serde_json::from_slice::<Vec<Statement>>(data) else {
        return;
    };
    let f = family();
    let forward = resolve(&f.record_id, statements.clone());
    let mut reversed = statements;
    reversed.reverse();
    assert_eq!(forward, resolve(&f.record_id, reversed));
});
