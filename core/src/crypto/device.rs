//! A device's identity: an Ed25519 key that signs its entries and sync messages (ring),
//! and an X25519 key other devices seal record keys to (x25519-dalek: ring's X25519 keys
//! are ephemeral only, and an invitation is accepted long after the QR code is shown).

use super::{random_bytes, CryptoError, SecretKey};
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use ring::{digest, hkdf};
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};

const SEALED_TO_DEVICE_INFO: &[u8] = b"redbook/sealed-to-device/v1";
/// Bytes of a value sealed to a device: ephemeral public key, then the AEAD value.
pub const SEALED_TO_DEVICE_OVERHEAD: usize = 32 + super::SEAL_OVERHEAD;
/// Bytes of a record key sealed to a device.
pub const SEALED_KEY_LEN: usize = super::KEY_LEN + SEALED_TO_DEVICE_OVERHEAD;

/// The private half, kept sealed in the database's meta table. The PKCS#8 bytes and the
/// X25519 secret are wiped when dropped; ring's key pair offers no wiping (noted in
/// docs/threat-model.md).
pub struct DeviceKeys {
    signing_pkcs8: zeroize::Zeroizing<Vec<u8>>,
    signing: Ed25519KeyPair,
    agreement: StaticSecret,
    /// Derived once: the X25519 public key costs a scalar multiplication, and every
    /// write asks for it.
    public: DevicePublic,
}

/// The public half another device needs: to check signatures and to seal keys to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DevicePublic {
    #[serde(with = "hex_32")]
    pub signing_key: [u8; 32],
    #[serde(with = "hex_32")]
    pub agreement_key: [u8; 32],
}

impl DeviceKeys {
    pub fn generate() -> Result<Self, CryptoError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::Random)?;
        Self::from_parts(pkcs8.as_ref(), random_bytes::<32>()?)
    }

    /// Keys derived from two secrets rather than drawn at random: a recovery kit's identity,
    /// the same on every phone its words are typed into (docs/adr/0009-recovery.md).
    pub fn from_seeds(
        signing_seed: &SecretKey,
        agreement: &SecretKey,
    ) -> Result<Self, CryptoError> {
        // RFC 8410's PKCS#8 v1 wrapping of an Ed25519 seed: this fixed prefix, then the seed.
        const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        let mut pkcs8 = zeroize::Zeroizing::new(ED25519_PKCS8_V1_PREFIX.to_vec());
        pkcs8.extend_from_slice(signing_seed.as_bytes());
        Self::from_parts(&pkcs8, *agreement.as_bytes())
    }

    fn from_parts(pkcs8: &[u8], agreement: [u8; 32]) -> Result<Self, CryptoError> {
        let signing = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|_| CryptoError::BadKeyLength)?;
        let agreement = StaticSecret::from(agreement);
        let public = DevicePublic {
            signing_key: signing
                .public_key()
                .as_ref()
                .try_into()
                .map_err(|_| CryptoError::BadKeyLength)?,
            agreement_key: PublicKey::from(&agreement).to_bytes(),
        };
        Ok(Self {
            signing_pkcs8: zeroize::Zeroizing::new(pkcs8.to_vec()),
            signing,
            agreement,
            public,
        })
    }

    /// For storage (sealed): the 32-byte agreement secret, then the PKCS#8 signing key.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let mut out = zeroize::Zeroizing::new(self.agreement.to_bytes().to_vec());
        out.extend_from_slice(&self.signing_pkcs8);
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() <= 32 {
            return Err(CryptoError::BadKeyLength);
        }
        let agreement =
            zeroize::Zeroizing::new(<[u8; 32]>::try_from(&bytes[..32]).expect("checked length"));
        Self::from_parts(&bytes[32..], *agreement)
    }

    pub fn public(&self) -> DevicePublic {
        self.public
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing
            .sign(message)
            .as_ref()
            .try_into()
            .expect("Ed25519 signatures are 64 bytes")
    }

    /// Opens a value another device sealed to this one with `DevicePublic::seal_to`.
    pub fn open_sealed(
        &self,
        associated_data: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if sealed.len() < SEALED_TO_DEVICE_OVERHEAD {
            return Err(CryptoError::Unauthentic);
        }
        let ephemeral: [u8; 32] = sealed[..32].try_into().expect("checked length");
        let shared = self.agreement.diffie_hellman(&PublicKey::from(ephemeral));
        let key = sealing_key(shared.as_bytes(), &ephemeral, &self.public().agreement_key)?;
        key.open(associated_data, &sealed[32..])
    }
}

impl DevicePublic {
    /// The device's id: the first 16 bytes of SHA-256 of its signing key, as hex.
    pub fn device_id(&self) -> String {
        Self::device_id_of(&self.signing_key)
    }

    /// The id of the device whose Ed25519 key this is.
    pub fn device_id_of(signing_key: &[u8; 32]) -> String {
        hex::encode(&digest::digest(&digest::SHA256, signing_key).as_ref()[..16])
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        Self::verify_with(&self.signing_key, message, signature)
    }

    pub fn verify_with(signing_key: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, signing_key)
            .verify(message, signature)
            .is_ok()
    }

    /// Seals a value (a record key) so only this device can open it: X25519 with an
    /// ephemeral key, HKDF-SHA256, then AES-256-GCM.
    pub fn seal_to(
        &self,
        associated_data: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let ephemeral = StaticSecret::from(random_bytes::<32>()?);
        let ephemeral_public = PublicKey::from(&ephemeral).to_bytes();
        let shared = ephemeral.diffie_hellman(&PublicKey::from(self.agreement_key));
        if !shared.was_contributory() {
            return Err(CryptoError::Unauthentic);
        }
        let key = sealing_key(shared.as_bytes(), &ephemeral_public, &self.agreement_key)?;
        let mut out = ephemeral_public.to_vec();
        out.extend(key.seal(associated_data, plaintext)?);
        Ok(out)
    }
}

fn sealing_key(
    shared: &[u8; 32],
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
) -> Result<SecretKey, CryptoError> {
    let mut salt = ephemeral.to_vec();
    salt.extend_from_slice(recipient);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(shared);
    let okm = prk
        .expand(&[SEALED_TO_DEVICE_INFO], hkdf::HKDF_SHA256)
        .map_err(|_| CryptoError::Unauthentic)?;
    let mut key = [0u8; 32];
    okm.fill(&mut key).map_err(|_| CryptoError::Unauthentic)?;
    SecretKey::from_slice(&key)
}

mod hex_32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_the_signed_bytes_and_key() {
        let (a, b) = (
            DeviceKeys::generate().unwrap(),
            DeviceKeys::generate().unwrap(),
        );
        let sig = a.sign(b"entry bytes");
        assert!(a.public().verify(b"entry bytes", &sig));
        assert!(!a.public().verify(b"entry bytez", &sig));
        assert!(!b.public().verify(b"entry bytes", &sig));
        assert!(!a.public().verify(b"entry bytes", &sig[..63]));
    }

    #[test]
    fn a_value_sealed_to_a_device_opens_only_there_and_survives_storage() {
        let keys = DeviceKeys::generate().unwrap();
        let restored = DeviceKeys::from_bytes(&keys.to_bytes()).unwrap();
        assert_eq!(restored.public(), keys.public());
        let sealed = keys
            .public()
            .seal_to(b"record-1", b"the record key")
            .unwrap();
        assert_eq!(sealed.len(), 14 + SEALED_TO_DEVICE_OVERHEAD);
        assert_eq!(
            restored.open_sealed(b"record-1", &sealed).unwrap(),
            b"the record key"
        );
        assert!(restored.open_sealed(b"record-2", &sealed).is_err());
        assert!(DeviceKeys::generate()
            .unwrap()
            .open_sealed(b"record-1", &sealed)
            .is_err());
        assert_eq!(keys.public().device_id().len(), 32);
    }
}
