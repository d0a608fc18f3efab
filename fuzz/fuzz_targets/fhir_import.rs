//! FHIR from a file, ours or another system's (UK Core): refused with the element named,
//! or read, with what was not kept reported; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = redbook_core::export::fhir::from_bundle(data);
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = redbook_core::export::fhir::read_foreign(&value, Some("9434765919"));
        let _ = redbook_core::export::fhir::read_foreign(&value, None);
    }
});
