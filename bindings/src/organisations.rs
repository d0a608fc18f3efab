//! Who vouches for a professional's role: the deployer's trust list, device cards, and
//! the test organisation (tests and the demo only).

use crate::{RedbookError, Result};

/// Another device's card, as text a QR code carried; a bad one is invalid input.
pub(crate) fn decode_card(text: &str) -> Result<redbook_core::sync::DeviceCard> {
    redbook_core::sync::DeviceCard::decode(text).map_err(|e| RedbookError::InvalidInput {
        field: "device_card".into(),
        reason: e.to_string(),
    })
}

/// An organisation whose attestations confirm a professional's role, less the devices
/// whose attestations by it the deployer has revoked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TrustedOrganisation {
    pub ods_code: String,
    /// Its Ed25519 public key, 32 bytes.
    pub public_key: Vec<u8>,
    /// Ed25519 keys (32 bytes each) of devices it no longer vouches for: their
    /// attestations by it confirm nothing.
    pub revoked_devices: Vec<Vec<u8>>,
}

/// The organisation shipped for tests and demos (`X99TEST`); never on a real trust list.
/// With its signing below, only in a library built with the `test-organisation` feature
/// (the CLI's demo and the binding tests): an app's library is built without it, so it
/// cannot attest anything (docs/threat-model.md, "Roles").
#[cfg(feature = "test-organisation")]
#[uniffi::export]
pub fn test_organisation() -> TrustedOrganisation {
    let trusted = redbook_core::sync::attestation::test_organisation().trusted();
    TrustedOrganisation {
        ods_code: trusted.ods_code,
        public_key: trusted.public_key.to_vec(),
        revoked_devices: Vec::new(),
    }
}

/// The test organisation's attestation of the device whose card this is, in the role the
/// card asks for, valid for a year: what a trust's provisioning would hand a
/// professional's device.
#[cfg(feature = "test-organisation")]
#[uniffi::export]
pub fn test_organisation_attest(device_card: String) -> Result<Vec<u8>> {
    let card = decode_card(&device_card)?;
    Ok(redbook_core::sync::attestation::test_organisation()
        .attest(
            &card.keys,
            card.role,
            chrono::Utc::now() + chrono::Duration::days(365),
        )
        .map_err(redbook_core::Error::from)?)
}

impl TrustedOrganisation {
    /// The core's form; a key of the wrong length is invalid input.
    pub(crate) fn into_core(self) -> Result<redbook_core::sync::attestation::TrustedOrganisation> {
        let key = |bytes: &[u8], field: &str| {
            <[u8; 32]>::try_from(bytes).map_err(|_| RedbookError::InvalidInput {
                field: field.into(),
                reason: redbook_core::view::forms::EXPECTED_PUBLIC_KEY.into(),
            })
        };
        Ok(redbook_core::sync::attestation::TrustedOrganisation {
            public_key: key(&self.public_key, "public_key")?,
            revoked_devices: self
                .revoked_devices
                .iter()
                .map(|d| key(d, "revoked_devices"))
                .collect::<Result<_>>()?,
            ods_code: self.ods_code,
        })
    }
}
