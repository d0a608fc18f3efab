//! The signed values a record document holds: entries, detail edits and membership
//! statements. Each is one automerge value:
//!
//! `version 2 | kind | signer's Ed25519 key [32] | signature [64] | canonical JSON`
//!
//! The signature covers a domain tag, the kind, the record id and the JSON, so a value
//! copied into another child's record, or read as another kind, no longer verifies
//! (docs/threat-model.md, "Entries"). An entry imported from a file whose signature cannot
//! be checked here is stored unsigned: key and signature all zeros.

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
}
