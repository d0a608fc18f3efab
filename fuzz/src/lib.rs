//! What the fuzz targets share: a small record, built once, as another device would hold
//! it (a creator, a writer, entries, details), and the devices' keys.

use redbook_core::crypto::device::DeviceKeys;
use redbook_core::model::*;
use redbook_core::record::Record;
use std::sync::OnceLock;

pub struct Family {
    pub mum: DeviceKeys,
    pub clinic: DeviceKeys,
    pub record_id: RecordId,
    pub saved: Vec<u8>,
    pub entries: usize,
    /// The base record's entries as it shows them.
    pub views: Vec<EntryView>,
    /// A valid change another member would send: the clinic's new entry.
    pub change: Vec<u8>,
    /// The whole document with that change, as a first sync sends it.
    pub document: Vec<u8>,
}

fn profile(role: Role, name: &str) -> Profile {
    Profile {
        role,
        display_name: name.into(),
        organisation: None,
        attestation: None,
    }
}

pub fn family() -> &'static Family {
    static FAMILY: OnceLock<Family> = OnceLock::new();
    FAMILY.get_or_init(|| {
        let mum = DeviceKeys::generate().unwrap();
        let clinic = DeviceKeys::generate().unwrap();
        let nonce = [3u8; 16];
        let record_id = RecordId::for_creator(&mum.public().signing_key, &nonce);
        let mut record = Record::genesis(&record_id).unwrap();
        let mut create = Statement {
            id: StatementId::generate().unwrap(),
            issuer: mum.public(),
            issued_at: chrono::Utc::now(),
            after: vec![],
            action: Action::Create {
                nonce: nonce.to_vec(),
                profile: profile(Role::Parent, "Mum"),
            },
        };
        // Its id commits to it: the grant names the id it is written under.
        record.commit_statement(&mut create).unwrap();
        record.put_statement(&create, &mum).unwrap();
        let grant = Statement {
            id: StatementId::generate().unwrap(),
            issuer: mum.public(),
            issued_at: chrono::Utc::now(),
            after: vec![create.id.clone()],
            action: Action::Grant {
                subject: clinic.public(),
                access: Access::Writer,
                profile: profile(Role::HealthVisitor, "Sam"),
                stands_in_for: None,
            },
        };
        record.put_statement(&grant, &mum).unwrap();
        record
            .set_details(
                &[
                    (DetailField::Name, Some("Amara".into())),
                    (DetailField::BirthDate, Some("2026-01-01".into())),
                ],
                &mum,
            )
            .unwrap();
        for (keys, text) in [(&mum, "first smile"), (&clinic, "weighed")] {
            let mut entry = StoredEntry {
                id: EntryId::generate().unwrap(),
                author: Author {
                    device_id: keys.public().device_id(),
                    role: Role::Parent,
                    display_name: "Someone".into(),
                    organisation: None,
                },
                recorded_at: chrono::Utc::now(),
                amends: None,
                body: EntryBody::Note(Note {
                    date: "2026-02-01".parse().unwrap(),
                    kind: NoteKind::Observation,
                    text: text.into(),
                }),
                source: None,
                confirmed: false,
            };
            record.put_entry(&mut entry, keys).unwrap();
        }
        let entries = record.entry_count();
        let views = record.entry_views(&Default::default()).0;
        let saved = record.save();
        let heads = record.heads();
        let mut entry = StoredEntry {
            id: EntryId::generate().unwrap(),
            author: Author {
                device_id: clinic.public().device_id(),
                role: Role::HealthVisitor,
                display_name: "Sam".into(),
                organisation: None,
            },
            recorded_at: chrono::Utc::now(),
            amends: None,
            body: EntryBody::Measurement(Measurement {
                date: "2026-02-01".parse().unwrap(),
                weight_kg: Some(4.2),
                length_cm: None,
                height_cm: None,
                head_circumference_cm: None,
                measured_by: MeasuredBy::Professional,
            }),
            source: None,
            confirmed: false,
        };
        record.put_entry(&mut entry, &clinic).unwrap();
        Family {
            entries,
            views,
            saved,
            change: record.save_after(&heads),
            document: record.save(),
            mum,
            clinic,
            record_id,
        }
    })
}

/// `valid` with bytes overwritten where `edits` say (pairs of a position and a value),
/// then its chunk checksum recomputed, as a malicious device that computes checksums
/// would send it: the mutation reaches automerge's column decoding, not just its
/// checksum check.
pub fn mutated(valid: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    let header = chunk_header_len(&bytes);
    let body_len = bytes.len() - header;
    if body_len == 0 {
        return bytes;
    }
    for pair in edits.chunks_exact(3) {
        let at = header + (u16::from_be_bytes([pair[0], pair[1]]) as usize) % body_len;
        bytes[at] = pair[2];
    }
    let mut hashed = vec![bytes[8]];
    hashed.extend_from_slice(&bytes[9..header]);
    hashed.extend_from_slice(&bytes[header..]);
    let digest = ring::digest::digest(&ring::digest::SHA256, &hashed);
    bytes[4..8].copy_from_slice(&digest.as_ref()[..4]);
    bytes
}

/// magic [4] | checksum [4] | type | length (LEB128).
fn chunk_header_len(bytes: &[u8]) -> usize {
    let mut at = 9;
    while at < bytes.len() && bytes[at] & 0x80 != 0 {
        at += 1;
    }
    (at + 1).min(bytes.len())
}
