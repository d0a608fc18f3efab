//! Helpers shared by the cross-crate tests and the crash-test writer process.

use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::{ChildDetails, EntryBody, Gestation, Note, NoteKind, Sex};
use redbook_core::Unlock;
use std::sync::Arc;

/// A raw key for tests: opening with it skips the 600,000-round passphrase stretch.
pub fn raw_key(byte: u8) -> Unlock {
    Unlock::KeyProvider(Arc::new(
        RawKeyProvider::new(&[byte; 32]).expect("32 bytes"),
    ))
}

pub fn child(name: &str, birth_date: &str) -> ChildDetails {
    ChildDetails {
        name: name.to_string(),
        birth_date: Some(birth_date.parse().expect("test date")),
        sex: Some(Sex::Female),
        gestation: Some(Gestation::new(39, 4)),
        ..Default::default()
    }
}

pub fn note(date: &str, text: &str) -> EntryBody {
    EntryBody::Note(Note {
        date: date.parse().expect("test date"),
        kind: NoteKind::Observation,
        text: text.to_string(),
    })
}
