//! Opaque random identifiers. They carry nothing about a person, so they may appear in
//! errors and logs.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! random_id {
    ($name:ident, $what:literal) => {
        #[doc = concat!("Random 128-bit id of ", $what, ", written as 32 hex digits.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Result<Self, crate::crypto::CryptoError> {
                Ok(Self(hex::encode(crate::crypto::random_bytes::<16>()?)))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = super::ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                let s = s.trim().to_ascii_lowercase();
                if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
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

random_id!(RecordId, "record_id");
random_id!(EntryId, "entry_id");
