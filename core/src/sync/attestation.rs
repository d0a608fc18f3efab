//! Organisation attestations: what makes a professional role "confirmed"
//! (docs/threat-model.md, "Roles"). An organisation (an NHS trust, a GP practice) signs,
//! with a key on a trust list the deployer configures, that one device's Ed25519 key
//! belongs to someone in a role there, until a date. An admin adding a professional
//! confirms the role it gives; the attestation confirms it independently of the admin.
//!
//! `magic "RBA2" | ODS code length u8 | ODS code | role u8 | device key [32] |
//! issued at (Unix seconds) i64 | valid until (Unix seconds) i64 | organisation key [32] |
//! Ed25519 signature [64] over everything before it`. RBA1 (no expiry) is not read: it
//! would vouch for ever.

use super::SyncError;
use crate::crypto::device::DevicePublic;
use crate::model::{Role, RoleConfirmation};
use chrono::{DateTime, Utc};
use ring::signature::{Ed25519KeyPair, KeyPair};

const MAGIC: &[u8; 4] = b"RBA2";
const MAX_ODS_LEN: usize = 16;
/// The longest an attestation may vouch for, from its issue: an organisation re-attests
/// its staff's devices at least this often (an NHS smartcard certificate lasts two
/// years), so one that claims more is not read.
const MAX_VALIDITY_SECONDS: i64 = 3 * 366 * 86_400;

/// An organisation whose attestations this deployment trusts, less the devices it no
/// longer vouches for (a lost tablet, someone who left): an attestation of a revoked
/// device confirms nothing, whatever its expiry. Revoking the organisation's key is
/// taking it off the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedOrganisation {
    pub ods_code: String,
    pub public_key: [u8; 32],
    /// Ed25519 keys of devices whose attestations by this organisation count no more.
    pub revoked_devices: Vec<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub organisation: String,
    pub role: Role,
    pub device_key: [u8; 32],
    pub issued_at: i64,
    /// After this (Unix seconds) it confirms nothing the device writes.
    pub valid_until: i64,
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
            revoked_devices: Vec::new(),
        }
    }

    fn public_key(&self) -> [u8; 32] {
        self.pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("Ed25519 public keys are 32 bytes")
    }

    /// Attests that `device` is used by someone in `role` at this organisation, from now
    /// until `valid_until`.
    pub fn attest(
        &self,
        device: &DevicePublic,
        role: Role,
        valid_until: DateTime<Utc>,
    ) -> Result<Vec<u8>, SyncError> {
        let mut out = unsigned_part(
            &self.ods_code,
            role,
            &device.signing_key,
            Utc::now().timestamp(),
            valid_until.timestamp(),
            &self.public_key(),
        )?;
        let signature = self.pair.sign(&out);
        out.extend_from_slice(signature.as_ref());
        Ok(out)
    }
}

/// The organisation shipped for tests and the demo (ODS code `X99TEST`, a fixed seed).
/// Never on a deployment's trust list, and built only into tests and the demo.
#[cfg(any(test, feature = "test-organisation"))]
pub fn test_organisation() -> OrganisationKey {
    OrganisationKey::from_seed("X99TEST", b"redbook test organisation seed!!")
        .expect("a fixed 32-byte seed")
}

fn unsigned_part(
    ods: &str,
    role: Role,
    device_key: &[u8; 32],
    issued_at: i64,
    valid_until: i64,
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
    out.extend_from_slice(&valid_until.to_be_bytes());
    out.extend_from_slice(organisation_key);
    Ok(out)
}

impl Attestation {
    /// Reads an attestation; every length checked. The signature is checked by
    /// `confirmation`, against the trust list.
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        let malformed = || SyncError::Malformed("attestation");
        if bytes.get(..4) != Some(MAGIC.as_slice()) {
            return Err(malformed());
        }
        let ods_len = *bytes.get(4).ok_or_else(malformed)? as usize;
        if ods_len == 0 || ods_len > MAX_ODS_LEN {
            return Err(malformed());
        }
        let expected = 5 + ods_len + 1 + 32 + 8 + 8 + 32 + 64;
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
        let time = |at: usize| i64::from_be_bytes(take(at, 8).try_into().expect("8 bytes"));
        let (issued_at, valid_until) = (time(at + 32), time(at + 40));
        if valid_until.saturating_sub(issued_at) > MAX_VALIDITY_SECONDS {
            return Err(malformed());
        }
        Ok(Self {
            organisation,
            role,
            device_key: take(at, 32).try_into().expect("32 bytes"),
            issued_at,
            valid_until,
            organisation_key: take(at + 48, 32).try_into().expect("32 bytes"),
            signature: take(at + 80, 64).try_into().expect("64 bytes"),
        })
    }

    /// The last moment it confirms anything (a time beyond chrono's range: the furthest
    /// it can say).
    pub fn valid_until(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.valid_until, 0).unwrap_or(if self.valid_until < 0 {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
    }

    fn signature_checks(&self) -> bool {
        unsigned_part(
            &self.organisation,
            self.role,
            &self.device_key,
            self.issued_at,
            self.valid_until,
            &self.organisation_key,
        )
        .is_ok_and(|signed| {
            DevicePublic::verify_with(&self.organisation_key, &signed, &self.signature)
        })
    }
}

/// What an attestation confirms of a member's role: signed by a trusted organisation's
/// key, for this device's key (not revoked), the role and the organisation the admin
/// gave; until its expiry (`RoleConfirmation::holds_at`). Anything else confirms nothing.
pub fn confirmation(
    attestation: &[u8],
    device_key: &[u8; 32],
    role: Role,
    organisation: Option<&str>,
    trusted: &[TrustedOrganisation],
) -> Option<RoleConfirmation> {
    let a = Attestation::decode(attestation).ok()?;
    let trusted_key = trusted.iter().any(|t| {
        t.ods_code == a.organisation
            && t.public_key == a.organisation_key
            && !t.revoked_devices.contains(&a.device_key)
    });
    let fits = &a.device_key == device_key
        && a.role == role
        && organisation == Some(a.organisation.as_str());
    (trusted_key && fits && a.signature_checks()).then(|| RoleConfirmation {
        valid_until: a.valid_until(),
        organisation: a.organisation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::device::DeviceKeys;
    use chrono::Duration;

    /// The organisation that confirms a member's role at `at` (`confirmation`, unexpired).
    fn confirmed_by(
        attestation: &[u8],
        device_key: &[u8; 32],
        role: Role,
        organisation: Option<&str>,
        trusted: &[TrustedOrganisation],
        at: DateTime<Utc>,
    ) -> Option<String> {
        confirmation(attestation, device_key, role, organisation, trusted)
            .filter(|c| c.holds_at(at))
            .map(|c| c.organisation)
    }

    fn in_a_year() -> DateTime<Utc> {
        Utc::now() + Duration::days(365)
    }

    #[test]
    fn only_a_trusted_organisations_attestation_for_this_device_and_role_confirms() {
        let org = test_organisation();
        let trusted = [org.trusted()];
        let device = DeviceKeys::generate().unwrap().public();
        let a = org
            .attest(&device, Role::HealthVisitor, in_a_year())
            .unwrap();
        let key = &device.signing_key;
        let now = Utc::now();
        let confirms = |a: &[u8], key, role, org, trusted: &[TrustedOrganisation]| {
            confirmed_by(a, key, role, org, trusted, now)
        };
        assert_eq!(
            confirms(&a, key, Role::HealthVisitor, Some("X99TEST"), &trusted).as_deref(),
            Some("X99TEST")
        );
        // Not on the trust list; another role; another device; another organisation.
        assert_eq!(
            confirms(&a, key, Role::HealthVisitor, Some("X99TEST"), &[]),
            None
        );
        assert_eq!(confirms(&a, key, Role::Gp, Some("X99TEST"), &trusted), None);
        assert_eq!(
            confirms(&a, &[1; 32], Role::HealthVisitor, Some("X99TEST"), &trusted),
            None
        );
        assert_eq!(
            confirms(&a, key, Role::HealthVisitor, Some("RQX"), &trusted),
            None
        );
        // An organisation that signs its own claim with a key nobody trusts.
        let rogue = OrganisationKey::from_seed("X99TEST", &[7; 32]).unwrap();
        let forged = rogue
            .attest(&device, Role::HealthVisitor, in_a_year())
            .unwrap();
        assert_eq!(
            confirms(&forged, key, Role::HealthVisitor, Some("X99TEST"), &trusted),
            None
        );
        // Any changed byte, any truncation.
        for i in 0..a.len() {
            let mut changed = a.clone();
            changed[i] ^= 1;
            assert_eq!(
                confirms(
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

    #[test]
    fn an_attestation_confirms_until_its_expiry_and_never_for_a_revoked_device() {
        let org = test_organisation();
        let device = DeviceKeys::generate().unwrap().public();
        // Whole seconds, as the attestation carries it.
        let until = DateTime::from_timestamp(Utc::now().timestamp() + 30 * 86_400, 0).unwrap();
        let a = org.attest(&device, Role::Gp, until).unwrap();
        let key = &device.signing_key;
        let mut trusted = vec![org.trusted()];
        let at = |when, trusted: &[TrustedOrganisation]| {
            confirmed_by(&a, key, Role::Gp, Some("X99TEST"), trusted, when)
        };
        assert!(at(until, &trusted).is_some());
        assert!(at(until - Duration::days(29), &trusted).is_some());
        assert_eq!(at(until + Duration::seconds(1), &trusted), None);
        let confirmation = confirmation(&a, key, Role::Gp, Some("X99TEST"), &trusted).unwrap();
        assert_eq!(confirmation.valid_until.timestamp(), until.timestamp());
        // Another device revoked: still confirmed; this one revoked: not, at any time.
        trusted[0].revoked_devices.push([3; 32]);
        assert!(at(until, &trusted).is_some());
        trusted[0].revoked_devices.push(*key);
        assert_eq!(at(until - Duration::days(29), &trusted), None);
    }

    #[test]
    fn an_attestation_vouching_for_more_than_three_years_is_not_read() {
        let org = test_organisation();
        let device = DeviceKeys::generate().unwrap().public();
        let read = |until| {
            let a = org.attest(&device, Role::Gp, until).unwrap();
            confirmation(
                &a,
                &device.signing_key,
                Role::Gp,
                Some("X99TEST"),
                &[org.trusted()],
            )
        };
        assert!(read(Utc::now() + Duration::days(2 * 365)).is_some());
        assert!(read(Utc::now() + Duration::days(4 * 365)).is_none());
        assert!(read(DateTime::<Utc>::MAX_UTC).is_none());
    }

    #[test]
    fn an_attestation_in_the_first_format_without_an_expiry_is_not_read() {
        let org = test_organisation();
        let device = DeviceKeys::generate().unwrap().public();
        let mut a = org.attest(&device, Role::Gp, in_a_year()).unwrap();
        a[..4].copy_from_slice(b"RBA1");
        assert!(Attestation::decode(&a).is_err());
        // An RBA1 attestation's own length (no expiry field) is refused too.
        let mut first = a[..a.len() - 64 - 32 - 8].to_vec();
        first.extend_from_slice(&a[a.len() - 64 - 32..]);
        assert!(Attestation::decode(&first).is_err());
    }
}
