//! Keys, AEAD sealing and keyed hashes (ring). Depends on nothing else of ours.
//!
//! Every sealed value is `version (1) || nonce (12) || ciphertext || tag (16)` under
//! AES-256-GCM; the caller's associated data binds the value to the row it lives in, so
//! a sealed value copied into another row or record fails to open.

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use ring::{hmac, pbkdf2};
use std::num::NonZeroU32;

pub mod device;
mod key_provider;
pub use key_provider::{KeyProvider, KeyProviderError, RawKeyProvider};

/// Length of every symmetric key we hold.
pub const KEY_LEN: usize = 32;
/// OWASP's 2023 floor for PBKDF2-HMAC-SHA256 (docs/architecture.md, "Keys").
pub const MIN_PASSPHRASE_ROUNDS: u32 = 600_000;
/// A round count read from a file above this is refused: a tampered file must not make
/// opening take hours (or, below the floor, make a passphrase cheap to guess).
pub const MAX_PASSPHRASE_ROUNDS: u32 = 20_000_000;
/// The shortest passphrase a new or changed database takes.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

const SEALED_FORMAT_V1: u8 = 1;
/// Bytes a sealed value adds to its plaintext.
pub const SEAL_OVERHEAD: usize = 1 + NONCE_LEN + 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// Wrong key, or the sealed bytes were changed, truncated or moved to another row.
    #[error("sealed data failed authentication")]
    Unauthentic,
    #[error("the system random number generator failed")]
    Random,
    #[error("a key must be {KEY_LEN} bytes")]
    BadKeyLength,
}

/// A 32-byte symmetric key. Not `Debug`, so it cannot reach a log line by accident;
/// wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(random_bytes::<KEY_LEN>()?))
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array: [u8; KEY_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKeyLength)?;
        Ok(Self(array))
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Stretches a passphrase once per open (PBKDF2-HMAC-SHA256).
    pub fn from_passphrase(passphrase: &str, salt: &[u8], rounds: u32) -> Self {
        let rounds = NonZeroU32::new(rounds.max(1)).expect("max(1) is non-zero");
        let mut out = zeroize::Zeroizing::new([0u8; KEY_LEN]);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            rounds,
            salt,
            passphrase.as_bytes(),
            &mut *out,
        );
        Self(*out)
    }

    /// A sub-key for one purpose, so one key never serves two algorithms.
    pub fn derive(&self, purpose: &str) -> Self {
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &self.0),
            purpose.as_bytes(),
        );
        Self::from_slice(tag.as_ref()).expect("HMAC-SHA256 output is 32 bytes")
    }

    pub fn seal(&self, associated_data: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(plaintext.len() + SEAL_OVERHEAD);
        out.push(SEALED_FORMAT_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(plaintext);
        let tag = self
            .aead_key()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(associated_data),
                &mut out[1 + NONCE_LEN..],
            )
            .map_err(|_| CryptoError::Unauthentic)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    pub fn open(&self, associated_data: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.aead_key(), associated_data, sealed)
    }

    /// Opens many values under this key without setting the key up again for each (a
    /// caseload list opens one summary per child).
    pub fn opener(&self) -> Opener {
        Opener(self.aead_key())
    }

    /// A keyed hash for lookups: the table holds this, never the identifier itself.
    pub fn keyed_hash(&self, data: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &self.0), data);
        tag.as_ref()
            .try_into()
            .expect("HMAC-SHA256 output is 32 bytes")
    }

    fn aead_key(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("AES-256 key is 32 bytes"))
    }
}

/// A key set up once for opening many values (`SecretKey::opener`).
pub struct Opener(LessSafeKey);

impl Opener {
    /// Opens `sealed` into `buffer` (reused from one value to the next); the plaintext.
    pub fn open_into<'b>(
        &self,
        associated_data: &[u8],
        sealed: &[u8],
        buffer: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], CryptoError> {
        open_into(&self.0, associated_data, sealed, buffer)
    }
}

fn open_with(
    key: &LessSafeKey,
    associated_data: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut buffer = Vec::new();
    let plain_len = open_into(key, associated_data, sealed, &mut buffer)?.len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

fn open_into<'b>(
    key: &LessSafeKey,
    associated_data: &[u8],
    sealed: &[u8],
    buffer: &'b mut Vec<u8>,
) -> Result<&'b [u8], CryptoError> {
    if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEALED_FORMAT_V1 {
        return Err(CryptoError::Unauthentic);
    }
    let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
        .map_err(|_| CryptoError::Unauthentic)?;
    buffer.clear();
    buffer.extend_from_slice(&sealed[1 + NONCE_LEN..]);
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data), buffer)
        .map_err(|_| CryptoError::Unauthentic)?;
    Ok(plain)
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CryptoError::Random)?;
    Ok(out)
}

// Checks that ring's AES-GCM is what we named: a sealed value is 29 bytes longer.
const _: () = assert!(aead::MAX_TAG_LEN == 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_same_key_and_associated_data() {
        let key = SecretKey::generate().unwrap();
        let sealed = key.seal(b"row-1", b"Ada Lovelace").unwrap();
        assert_eq!(sealed.len(), 12 + SEAL_OVERHEAD);
        assert_eq!(key.open(b"row-1", &sealed).unwrap(), b"Ada Lovelace");
        assert_eq!(key.open(b"row-2", &sealed), Err(CryptoError::Unauthentic));
        let other = SecretKey::generate().unwrap();
        assert_eq!(other.open(b"row-1", &sealed), Err(CryptoError::Unauthentic));
    }

    #[test]
    fn tampered_or_truncated_values_are_refused() {
        let key = SecretKey::generate().unwrap();
        let sealed = key.seal(b"", b"value").unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert!(key.open(b"", &tampered).is_err(), "byte {i}");
        }
        for len in 0..sealed.len() {
            assert!(key.open(b"", &sealed[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn passphrase_stretching_is_deterministic_per_salt() {
        let a = SecretKey::from_passphrase("correct horse", b"salt-1", 1000);
        let b = SecretKey::from_passphrase("correct horse", b"salt-1", 1000);
        let c = SecretKey::from_passphrase("correct horse", b"salt-2", 1000);
        assert!(a == b);
        assert!(a != c);
    }
}
