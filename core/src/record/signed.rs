//! The signed values a record document holds: entries, detail edits and membership
//! statements. Each is one automerge value:
//!
//! `version 2 | kind | signer's Ed25519 key [32] | signature [64] | canonical JSON`
//!
//! The signature covers a domain tag, the kind, the record id and the JSON, so a value
//! copied into another child's record, or read as another kind, no longer verifies
//! (docs/threat-model.md, "Entries"). An entry imported from a file whose signature cannot
//! be checked here is stored unsigned: key and signature all zeros.
//!
//! A value's key commits to it (docs/adr/0012-keys-commit-to-values.md): the JSON starts
//! with `{"id":"` and the id, whose last 80 bits are a digest of the kind, the record, the
//! signer's key and every JSON byte after the id. Two different values can then never
//! share a key (but for another signature by the same signer over the same JSON), so no
//! member can put a value beside another author's and have readers pick between them.

use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::model::RecordId;

const VERSION: u8 = 2;
pub const HEADER_LEN: usize = 2 + 32 + 64;
const UNSIGNED: [u8; 32] = [0; 32];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Entry = 1,
    DetailEdit = 2,
    Statement = 3,
}

/// A value's parts; nothing is checked but its framing.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    pub kind: Kind,
    /// `None` for an unsigned (imported) entry.
    pub signer: Option<&'a [u8; 32]>,
    pub signature: &'a [u8; 64],
    pub json: &'a [u8],
}

fn signing_input(kind: Kind, record_id: &RecordId, json: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(24 + json.len());
    input.extend_from_slice(b"redbook/v2/");
    input.push(kind as u8);
    input.extend_from_slice(&record_id.to_bytes());
    input.extend_from_slice(json);
    input
}

/// Signs `json` as a value of `kind` in `record_id`.
pub fn sign(kind: Kind, record_id: &RecordId, json: &[u8], signer: &DeviceKeys) -> Vec<u8> {
    let signature = signer.sign(&signing_input(kind, record_id, json));
    frame(kind, &signer.public().signing_key, &signature, json)
}

/// A value carrying a signature made elsewhere (an import), or none.
pub fn with_signature(kind: Kind, json: &[u8], signed: Option<(&[u8; 32], &[u8; 64])>) -> Vec<u8> {
    match signed {
        Some((key, signature)) => frame(kind, key, signature, json),
        None => frame(kind, &UNSIGNED, &[0; 64], json),
    }
}

fn frame(kind: Kind, key: &[u8; 32], signature: &[u8; 64], json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + json.len());
    out.push(VERSION);
    out.push(kind as u8);
    out.extend_from_slice(key);
    out.extend_from_slice(signature);
    out.extend_from_slice(json);
    out
}

/// `{"id":"`: every value's JSON starts with it, then its 32-digit id.
const ID_PREFIX: &[u8] = b"{\"id\":\"";
const ID_END: usize = ID_PREFIX.len() + 32;
/// The id's first 12 digits are its time (docs/adr/0005); the rest is the commitment.
const TIME_DIGITS: usize = 12;

/// The commitment part of a value's id: 80 bits of SHA-256 over a domain tag, the kind,
/// the record id, the signer's key and the JSON after the id.
fn commitment(kind: Kind, record_id: &RecordId, signer: &[u8; 32], after_id: &[u8]) -> [u8; 20] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"redbook/value-id/v3");
    context.update(&[kind as u8]);
    context.update(&record_id.to_bytes());
    context.update(signer);
    context.update(after_id);
    let mut digits = [0u8; 20];
    hex::encode_to_slice(&context.finish().as_ref()[..10], &mut digits)
        .expect("20 digits for 10 bytes");
    digits
}

/// Rewrites the id at the start of `json` (a value's canonical JSON, id first) so that it
/// commits to the value; returns the id. `None` if the JSON does not start with an id.
/// Idempotent: the commitment does not read the id.
pub fn commit_id(
    kind: Kind,
    record_id: &RecordId,
    signer: Option<&[u8; 32]>,
    json: &mut [u8],
) -> Option<String> {
    if !json.starts_with(ID_PREFIX) || json.get(ID_END) != Some(&b'"') {
        return None;
    }
    let digits = commitment(
        kind,
        record_id,
        signer.unwrap_or(&UNSIGNED),
        &json[ID_END..],
    );
    json[ID_PREFIX.len() + TIME_DIGITS..ID_END].copy_from_slice(&digits);
    String::from_utf8(json[ID_PREFIX.len()..ID_END].to_vec()).ok()
}

/// Whether `key` is the id this value's JSON starts with and that id commits to the value.
pub fn commits(value: &Signed<'_>, record_id: &RecordId, key: &str) -> bool {
    let json = value.json;
    json.starts_with(ID_PREFIX)
        && json.get(ID_END) == Some(&b'"')
        && key.as_bytes() == &json[ID_PREFIX.len()..ID_END]
        && json[ID_PREFIX.len() + TIME_DIGITS..ID_END]
            == commitment(
                value.kind,
                record_id,
                value.signer.unwrap_or(&UNSIGNED),
                &json[ID_END..],
            )
}

pub fn parse(bytes: &[u8]) -> Option<Signed<'_>> {
    if bytes.len() < HEADER_LEN || bytes[0] != VERSION {
        return None;
    }
    let kind = match bytes[1] {
        1 => Kind::Entry,
        2 => Kind::DetailEdit,
        3 => Kind::Statement,
        _ => return None,
    };
    let signer: &[u8; 32] = bytes[2..34].try_into().ok()?;
    Some(Signed {
        kind,
        signer: (signer != &UNSIGNED).then_some(signer),
        signature: bytes[34..98].try_into().ok()?,
        json: &bytes[HEADER_LEN..],
    })
}

impl Signed<'_> {
    /// Whether the signature is the signer's, over this value in this record.
    pub fn verifies(&self, record_id: &RecordId) -> bool {
        self.signer.is_some_and(|key| {
            DevicePublic::verify_with(
                key,
                &signing_input(self.kind, record_id, self.json),
                self.signature,
            )
        })
    }

    /// The signing device's id, when signed.
    pub fn signer_id(&self) -> Option<String> {
        self.signer.map(DevicePublic::device_id_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_verifies_only_in_its_record_and_as_its_kind() {
        let keys = DeviceKeys::generate().unwrap();
        let (a, b) = (RecordId::generate().unwrap(), RecordId::generate().unwrap());
        let value = sign(Kind::Entry, &a, b"{\"x\":1}", &keys);
        let parsed = parse(&value).unwrap();
        assert!(parsed.verifies(&a));
        assert!(!parsed.verifies(&b), "moved to another child's record");
        let mut as_statement = value.clone();
        as_statement[1] = Kind::Statement as u8;
        assert!(!parse(&as_statement).unwrap().verifies(&a));
        let mut changed = value.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert!(!parse(&changed).unwrap().verifies(&a));
        let unsigned = with_signature(Kind::Entry, b"{}", None);
        assert!(parse(&unsigned).unwrap().signer.is_none());
        assert!(!parse(&unsigned).unwrap().verifies(&a));
        assert!(parse(&value[..HEADER_LEN - 1]).is_none());
        assert_eq!(parsed.signer_id(), Some(keys.public().device_id()));
    }

    #[test]
    fn a_key_commits_to_its_value_its_signer_and_its_record() {
        let keys = DeviceKeys::generate().unwrap();
        let other = DeviceKeys::generate().unwrap();
        let record = RecordId::generate().unwrap();
        let id = "0190aaaaaaaa00000000000000000000";
        let mut json = format!("{{\"id\":\"{id}\",\"x\":1}}").into_bytes();
        let signer = keys.public().signing_key;
        let committed = commit_id(Kind::Entry, &record, Some(&signer), &mut json).unwrap();
        assert_eq!(&committed[..12], &id[..12], "the time stays");
        assert_eq!(
            commit_id(Kind::Entry, &record, Some(&signer), &mut json.clone()).unwrap(),
            committed,
            "idempotent"
        );
        let value = sign(Kind::Entry, &record, &json, &keys);
        assert!(commits(&parse(&value).unwrap(), &record, &committed));
        assert!(
            !commits(&parse(&value).unwrap(), &record, id),
            "another key"
        );
        let by_other = sign(Kind::Entry, &record, &json, &other);
        assert!(
            !commits(&parse(&by_other).unwrap(), &record, &committed),
            "another signer"
        );
        let unsigned = with_signature(Kind::Entry, &json, None);
        assert!(!commits(&parse(&unsigned).unwrap(), &record, &committed));
        let mut changed = json.clone();
        *changed.iter_mut().rev().nth(1).unwrap() = b'2';
        let changed = sign(Kind::Entry, &record, &changed, &keys);
        assert!(
            !commits(&parse(&changed).unwrap(), &record, &committed),
            "another content"
        );
        let elsewhere = RecordId::generate().unwrap();
        assert!(!commits(&parse(&value).unwrap(), &elsewhere, &committed));
        assert!(commit_id(Kind::Entry, &record, None, &mut b"{\"x\":1}".to_vec()).is_none());
    }
}
