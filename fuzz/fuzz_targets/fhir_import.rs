//! A FHIR Bundle from a file: refused with the element named, or read; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = redbook_core::export::fhir::from_bundle(data);
});
