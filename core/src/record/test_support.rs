//! What the record's unit tests share: a device with its keys.

use crate::crypto::device::DeviceKeys;
use crate::model::{Author, EntryBody, EntryId, Note, NoteKind, Profile, Role, StoredEntry};

/// A parent's profile as an admin grants it.
pub fn profile() -> Profile {
    Profile {
        role: Role::Parent,
        display_name: "Member".into(),
        organisation: None,
        attestation: None,
    }
}

pub struct Device {
    pub keys: DeviceKeys,
}

impl Device {
    pub fn new() -> Self {
        Self {
            keys: DeviceKeys::generate().unwrap(),
        }
    }

    pub fn id(&self) -> String {
        self.keys.public().device_id()
    }

    /// A note this device wrote just now.
    pub fn note(&self, text: &str) -> StoredEntry {
        StoredEntry {
            id: EntryId::generate().unwrap(),
            author: Author {
                device_id: self.id(),
                role: Role::Parent,
                display_name: "Mum".into(),
                organisation: None,
            },
            recorded_at: chrono::Utc::now(),
            amends: None,
            body: EntryBody::Note(Note {
                date: "2026-01-02".parse().unwrap(),
                kind: NoteKind::Observation,
                text: text.into(),
            }),
            source: None,
            confirmed: false,
        }
    }
}
