//! Who may do what to a record, as data: signed statements chained back to the record's
//! creator (docs/adr/0002-membership-as-signed-statements.md). `sync::membership` resolves
//! a set of them into members, roles and the key epoch; this module only says what a
//! statement is and what a well-formed one looks like.

use super::{Role, StatementId, ValidationError};
use crate::crypto::device::DevicePublic;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a member may do. Admins hold parental responsibility: they invite and remove.
/// Writers (another carer, a professional) add entries and edit details. Readers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Admin,
    Writer,
    Reader,
}

impl Access {
    pub fn can_write(self) -> bool {
        matches!(self, Access::Admin | Access::Writer)
    }
}

impl std::str::FromStr for Access {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Access::Admin),
            "writer" => Ok(Access::Writer),
            "reader" => Ok(Access::Reader),
            _ => Err(ValidationError::new(
                "access",
                "one of admin, writer, reader",
            )),
        }
    }
}

/// How a member is shown: the role and name the granting admin gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub role: Role,
    pub display_name: String,
    /// ODS code, for professionals.
    pub organisation: Option<String>,
    /// An organisation's attestation of the role (`sync::attestation`), as the device's
    /// card carried it; it confirms the role only if the organisation is trusted here.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "optional_hex"
    )]
    pub attestation: Option<Vec<u8>>,
}

mod optional_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => s.serialize_str(&hex::encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| hex::decode(text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// A new record key, sealed to each member that keeps access (never to a removed one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// One more than the epoch the issuer held (checked when resolved).
    pub epoch: u32,
    pub keys: Vec<SealedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    pub device_id: String,
    /// The record key sealed to the device's X25519 key; the associated data binds the
    /// record, the epoch, the statement and the device (`sync::membership::key_aad`).
    #[serde(with = "hex::serde")]
    pub sealed: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// The record's first statement: its creator, who becomes its first admin. Valid only
    /// when the record id is `RecordId::for_creator(issuer, nonce)`.
    Create {
        #[serde(with = "hex::serde")]
        nonce: Vec<u8>,
        profile: Profile,
    },
    /// Makes a device a member (or changes a member's access or role).
    Grant {
        subject: DevicePublic,
        access: Access,
        profile: Profile,
        /// The member this device stands in for: a recovery kit's identity stands in for
        /// the device that made it, and a phone restored from the kit for the same one
        /// (docs/adr/0009-recovery.md). It takes that member's seniority and may remove it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stands_in_for: Option<String>,
    },
    /// Removes a member and replaces the record key in the same statement.
    Revoke { subject: String, rotation: Rotation },
    /// Replaces the record key without removing anyone (repairs a key two admins
    /// issued at once to different members).
    Rotate { rotation: Rotation },
    /// The issuing member's new name, shown for it everywhere from now on. Always about
    /// the issuer itself: no member names another (docs/threat-model.md, "Names").
    Rename { name: String },
}

/// One signed statement. Stored in the record's `membership` map under its id, signed by
/// the issuer over the record id and these bytes (`record::signed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub id: StatementId,
    pub issuer: DevicePublic,
    pub issued_at: DateTime<Utc>,
    /// The statements the issuer had seen (the membership's heads): what "concurrent"
    /// means when two statements disagree.
    pub after: Vec<StatementId>,
    #[serde(flatten)]
    pub action: Action,
}

/// Limits on one statement: what a well-formed one cannot exceed.
const MAX_AFTER: usize = 256;
const MAX_SEALED_KEYS: usize = 256;
const MAX_NAME_CHARS: usize = 100;
const MAX_ORGANISATION_CHARS: usize = 16;
const MAX_ATTESTATION_BYTES: usize = 512;

fn check_device_id(id: &str) -> Result<(), ValidationError> {
    if id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(ValidationError::new(
            "device_id",
            "expected 32 lowercase hex digits",
        ))
    }
}

/// A device's name, as a grant or a rename carries it: one line of 1 to 100 characters.
pub fn check_device_name(name: &str) -> Result<(), ValidationError> {
    if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            "display_name",
            "must be 1 to 100 characters",
        ));
    }
    super::validate::check_line("display_name", name)
}

impl Profile {
    pub fn check(&self) -> Result<(), ValidationError> {
        check_device_name(&self.display_name)?;
        if self
            .attestation
            .as_ref()
            .is_some_and(|a| a.len() > MAX_ATTESTATION_BYTES)
        {
            return Err(ValidationError::new("attestation", "is too long"));
        }
        if let Some(org) = &self.organisation {
            if org.is_empty()
                || org.chars().count() > MAX_ORGANISATION_CHARS
                || !org.chars().all(|c| c.is_ascii_alphanumeric())
            {
                return Err(ValidationError::new(
                    "organisation",
                    "an ODS code is 1 to 16 letters and digits",
                ));
            }
        }
        Ok(())
    }
}

impl Rotation {
    fn check(&self) -> Result<(), ValidationError> {
        if self.epoch == 0 {
            return Err(ValidationError::new(
                "epoch",
                "a new key's epoch is at least 1",
            ));
        }
        if self.keys.len() > MAX_SEALED_KEYS {
            return Err(ValidationError::new("keys", "too many"));
        }
        for key in &self.keys {
            check_device_id(&key.device_id)?;
            if key.sealed.len() != crate::crypto::device::SEALED_KEY_LEN {
                return Err(ValidationError::new(
                    "keys",
                    "a sealed key has the wrong length",
                ));
            }
        }
        let mut devices: Vec<&str> = self.keys.iter().map(|k| k.device_id.as_str()).collect();
        devices.sort_unstable();
        devices.dedup();
        if devices.len() != self.keys.len() {
            return Err(ValidationError::new("keys", "one device twice"));
        }
        Ok(())
    }
}

impl Statement {
    /// The schema: what any well-formed statement satisfies, whoever issued it. Whether
    /// the issuer was allowed to issue it is decided when the membership is resolved.
    pub fn check(&self) -> Result<(), ValidationError> {
        if self.after.len() > MAX_AFTER {
            return Err(ValidationError::new("after", "too many"));
        }
        match &self.action {
            Action::Create { nonce, profile } => {
                if nonce.len() != 16 {
                    return Err(ValidationError::new("nonce", "must be 16 bytes"));
                }
                if !self.after.is_empty() {
                    return Err(ValidationError::new(
                        "after",
                        "a record's creation comes first",
                    ));
                }
                profile.check()
            }
            Action::Grant {
                profile,
                stands_in_for,
                ..
            } => {
                if let Some(device) = stands_in_for {
                    check_device_id(device)?;
                }
                profile.check()
            }
            Action::Revoke { subject, rotation } => {
                check_device_id(subject)?;
                rotation.check()
            }
            Action::Rotate { rotation } => rotation.check(),
            Action::Rename { name } => check_device_name(name),
        }
    }

    /// The issuing device's id.
    pub fn issuer_id(&self) -> String {
        self.issuer.device_id()
    }

    pub fn rotation(&self) -> Option<&Rotation> {
        match &self.action {
            Action::Revoke { rotation, .. } | Action::Rotate { rotation } => Some(rotation),
            _ => None,
        }
    }
}
