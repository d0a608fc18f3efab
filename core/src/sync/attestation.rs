//! Organisation attestations: what makes a professional role "confirmed"
//! (docs/threat-model.md, "Roles"). An organisation (an NHS trust, a GP practice) signs,
//! with a key on a trust list the deployer configures, that one device's Ed25519 key
//! belongs to someone in a role there. An admin adding a professional confirms the role
//! it gives; the attestation confirms it independently of the admin.
//!
//! `magic "RBA1" | ODS code length u8 | ODS code | role u8 | device key [32] |
//! issued at (Unix seconds) i64 | organisation key [32] | Ed25519 signature [64] over
//! everything before it`.

use super::SyncError;
use crate::crypto::device::DevicePublic;
use crate::model::Role;
use ring::signature::{Ed25519KeyPair, KeyPair};

const MAGIC: &[u8; 4] = b"RBA1";
const MAX_ODS_LEN: usize = 16;

/// An organisation whose attestations this deployment trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrganisation {
    pub ods_code: String,
    pub public_key: [u8; 32],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub organisation: String,
    pub role: Role,
    pub device_key: [u8; 32],
    pub issued_at: i64,
    pub organisation_key: [u8; 32],
    pub signature: [u8; 64],
}

/// An organisation's signing key (held by the organisation, never by a family's phone).
pub struct OrganisationKey {
    ods_code: String,
    pair: Ed25519KeyPair,
}

impl OrganisationKey {
    pub fn from_seed(ods_code: &str, seed: &[u8; 32]) -> Result<Self, SyncError> {
        Ok(Self {
            ods_code: ods_code.to_string(),
            pair: Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| SyncError::Malformed("organisation key"))?,
        })
    }

    pub fn trusted(&self) -> TrustedOrganisation {
        TrustedOrganisation {
            ods_code: self.ods_code.clone(),
            public_key: self.public_key(),
        }
    }

    fn public_key(&self) -> [u8; 32] {
        self.pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("Ed25519 public keys are 32 bytes")
    }

    /// Attests that `device` is used by someone in `role` at this organisation.
    pub fn attest(&self, device: &DevicePublic, role: Role) -> Result<Vec<u8>, SyncError> {
        let mut out = unsigned_part(
            &self.ods_code,
            role,
            &device.signing_key,
            chrono::Utc::now().timestamp(),
            &self.public_key(),
        )?;
        let signature = self.pair.sign(&out);
        out.extend_from_slice(signature.as_ref());
        Ok(out)
    }
}

/// The organisation shipped for tests and the demo (ODS code `X99TEST`, a fixed seed).
/// Never on a deployment's trust list.
pub fn test_organisation() -> OrganisationKey {
    OrganisationKey::from_seed("X99TEST", b"redbook test organisation seed!!")
        .expect("a fixed 32-byte seed")
}

fn unsigned_part(
    ods: &str,
    role: Role,
    device_key: &[u8; 32],
    issued_at: i64,
    organisation_key: &[u8; 32],
) -> Result<Vec<u8>, SyncError> {
    if ods.is_empty() || ods.len() > MAX_ODS_LEN || !ods.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(SyncError::Malformed("organisation code"));
    }
    let mut out = MAGIC.to_vec();
    out.push(ods.len() as u8);
    out.extend_from_slice(ods.as_bytes());
    out.push(role.code());
    out.extend_from_slice(device_key);
    out.extend_from_slice(&issued_at.to_be_bytes());
    out.extend_from_slice(organisation_key);
    Ok(out)
}

impl Attestation {
    /// Reads an attestation; every length checked. The signature is checked by
    /// `confirmed_by`, against the trust list.
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        let malformed = || SyncError::Malformed("attestation");
        if bytes.get(..4) != Some(MAGIC.as_slice()) {
            return Err(malformed());
        }
        let ods_len = *bytes.get(4).ok_or_else(malformed)? as usize;
        if ods_len == 0 || ods_len > MAX_ODS_LEN {
            return Err(malformed());
        }
        let expected = 5 + ods_len + 1 + 32 + 8 + 32 + 64;
        if bytes.len() != expected {
            return Err(malformed());
        }
        let organisation = std::str::from_utf8(&bytes[5..5 + ods_len])
            .map_err(|_| malformed())?
            .to_string();
        let mut at = 5 + ods_len;
        let role = Role::from_code(bytes[at]).ok_or_else(malformed)?;
        at += 1;
        let take = |at: usize, len: usize| &bytes[at..at + len];
        Ok(Self {
            organisation,
            role,
            device_key: take(at, 32).try_into().expect("32 bytes"),
            issued_at: i64::from_be_bytes(take(at + 32, 8).try_into().expect("8 bytes")),
            organisation_key: take(at + 40, 32).try_into().expect("32 bytes"),
            signature: take(at + 72, 64).try_into().expect("64 bytes"),
        })
    }

    fn signature_checks(&self) -> bool {
        unsigned_part(
            &self.organisation,
            self.role,
            &self.device_key,
            self.issued_at,
            &self.organisation_key,
        )
        .is_ok_and(|signed| {
            DevicePublic::verify_with(&self.organisation_key, &signed, &self.signature)
        })
    }
}

/// The organisation that confirms a member's role: an attestation signed by a trusted
/// organisation's key, for this device's key, the role and the organisation the admin
/// gave. Anything else confirms nothing.
pub fn confirmed_by(
    attestation: &[u8],
    device_key: &[u8; 32],
    role: Role,
    organisation: Option<&str>,
    trusted: &[TrustedOrganisation],
) -> Option<String> {
    let a = Attestation::decode(attestation).ok()?;
    let trusted_key = trusted
        .iter()
        .any(|t| t.ods_code == a.organisation && t.public_key == a.organisation_key);
    let fits = &a.device_key == device_key
        && a.role == role
        && organisation == Some(a.organisation.as_str());
    (trusted_key && fits && a.signature_checks()).then_some(a.organisation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::device::DeviceKeys;

    #[test]
    fn only_a_trusted_organisations_attestation_for_this_device_and_role_confirms() {
        let org = test_organisation();
        let trusted = [org.trusted()];
        let device = DeviceKeys::generate().unwrap().public();
        let a = org.attest(&device, Role::HealthVisitor).unwrap();
        let key = &device.signing_key;
        assert_eq!(
            confirmed_by(&a, key, Role::HealthVisitor, Some("X99TEST"), &trusted).as_deref(),
            Some("X99TEST")
        );
        // Not on the trust list; another role; another device; another organisation.
        assert_eq!(
            confirmed_by(&a, key, Role::HealthVisitor, Some("X99TEST"), &[]),
            None
        );
        assert_eq!(
            confirmed_by(&a, key, Role::Gp, Some("X99TEST"), &trusted),
            None
        );
        assert_eq!(
            confirmed_by(&a, &[1; 32], Role::HealthVisitor, Some("X99TEST"), &trusted),
            None
        );
        assert_eq!(
            confirmed_by(&a, key, Role::HealthVisitor, Some("RQX"), &trusted),
            None
        );
        // An organisation that signs its own claim with a key nobody trusts.
        let rogue = OrganisationKey::from_seed("X99TEST", &[7; 32]).unwrap();
        let forged = rogue.attest(&device, Role::HealthVisitor).unwrap();
        assert_eq!(
            confirmed_by(&forged, key, Role::HealthVisitor, Some("X99TEST"), &trusted),
            None
        );
        // Any changed byte, any truncation.
        for i in 0..a.len() {
            let mut changed = a.clone();
            changed[i] ^= 1;
            assert_eq!(
                confirmed_by(
                    &changed,
                    key,
                    Role::HealthVisitor,
                    Some("X99TEST"),
                    &trusted
                ),
                None
            );
            assert!(Attestation::decode(&a[..i]).is_err());
        }
    }
}
