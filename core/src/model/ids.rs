//! Opaque random identifiers. They carry nothing about a person, so they may appear in
//! errors and logs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! hex_id {
    ($name:ident, $what:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = super::ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                let canonical = |s: &str| {
                    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                };
                // As stored (every id read from a record): kept without a copy.
                if canonical(&s) {
                    return Ok(Self(s));
                }
                let s = s.trim().to_ascii_lowercase();
                if canonical(&s) {
                    Ok(Self(s))
                } else {
                    Err(super::ValidationError::new($what, "expected 32 hex digits"))
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = super::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::try_from(s.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex_id!(
    RecordId,
    "record_id",
    "A child's record: 128 random bits, as 32 hex digits."
);
hex_id!(
    EntryId,
    "entry_id",
    "An entry: a 48-bit millisecond timestamp, then 80 random bits, as 32 hex digits."
);

hex_id!(
    StatementId,
    "statement_id",
    "A membership statement: time-ordered like an entry id, as 32 hex digits."
);

impl RecordId {
    /// A random id, for tests of parts that do not care who created the record.
    pub fn generate() -> Result<Self, crate::crypto::CryptoError> {
        Ok(Self(hex::encode(crate::crypto::random_bytes::<16>()?)))
    }

    /// A record's id binds its creator: the first 16 bytes of SHA-256 over a domain tag,
    /// the creator device's Ed25519 key and a random nonce. Only that key can sign the
    /// record's `Create` statement (docs/threat-model.md, "Who created the record").
    pub fn for_creator(signing_key: &[u8; 32], nonce: &[u8; 16]) -> Self {
        let mut input = b"redbook/record-id/v2".to_vec();
        input.extend_from_slice(signing_key);
        input.extend_from_slice(nonce);
        let digest = ring::digest::digest(&ring::digest::SHA256, &input);
        Self(hex::encode(&digest.as_ref()[..16]))
    }

    /// The id from its 16 bytes (`to_bytes`).
    pub fn from_bytes(bytes: &[u8; 16]) -> Self {
        // encode_to_slice: a caseload list makes hundreds (hex::encode goes by char).
        let mut digits = [0u8; 32];
        hex::encode_to_slice(bytes, &mut digits).expect("32 digits for 16 bytes");
        Self(String::from_utf8(digits.to_vec()).expect("hex digits are ASCII"))
    }

    /// The id as the 16 bytes signatures bind.
    pub fn to_bytes(&self) -> [u8; 16] {
        let mut out = [0u8; 16];
        hex::decode_to_slice(&self.0, &mut out).expect("32 hex digits by construction");
        out
    }
}

fn time_ordered_id() -> Result<String, crate::crypto::CryptoError> {
    let millis = chrono::Utc::now().timestamp_millis().max(0) as u64;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&crate::crypto::random_bytes::<10>()?);
    Ok(hex::encode(bytes))
}

impl StatementId {
    pub fn generate() -> Result<Self, crate::crypto::CryptoError> {
        Ok(Self(time_ordered_id()?))
    }
}

impl EntryId {
    /// Time-ordered (like UUIDv7), so a new entry's key sorts after the others in the
    /// record's entries map. automerge stores a map's ops sorted by key: a random key
    /// lands mid-document and applying it costs time in proportion to the document
    /// (measured at 5,000 entries: loading 230 loose changes took 98 ms with random
    /// keys, 2.4 ms with ascending ones).
    pub fn generate() -> Result<Self, crate::crypto::CryptoError> {
        Ok(Self(time_ordered_id()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids_sort_in_the_order_they_were_made() {
        let first = EntryId::generate().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = EntryId::generate().unwrap();
        assert!(first < second);
        let key = [7u8; 32];
        assert_ne!(
            RecordId::for_creator(&key, &[1; 16]),
            RecordId::for_creator(&key, &[2; 16])
        );
        assert!("not-hex".parse::<EntryId>().is_err());
    }
}
