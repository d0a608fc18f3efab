//! The platform keystore, seen from the core. Android Keystore and iOS Keychain keys never
//! leave the secure hardware, so the app is asked to wrap and unwrap the database key,
//! not to hand over a key.

use super::{CryptoError, SecretKey};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum KeyProviderError {
    /// The keystore's key does not open this wrapped key; the store reports `WrongKey`.
    #[error("the keystore key does not match")]
    WrongKey,
    /// Anything else (a locked keystore, a cancelled biometric prompt). `reason` is set by
    /// the app and must carry no personal data.
    #[error("the key provider failed: {reason}")]
    Failed { reason: String },
}

pub trait KeyProvider: Send + Sync {
    /// Encrypts the database key with a key the platform keystore holds.
    fn wrap_key(&self, database_key: &[u8]) -> Result<Vec<u8>, KeyProviderError>;
    /// Reverses `wrap_key`. A wrong keystore key may fail or return wrong bytes; the
    /// store's canary tells which.
    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProviderError>;
}

/// A provider over a 32-byte key the caller holds: for tests, benchmarks, the CLI's
/// `--raw-key`, and apps that keep a key in their own secure storage.
pub struct RawKeyProvider {
    key: SecretKey,
}

const RAW_WRAP_AAD: &[u8] = b"redbook/raw-key-provider/v1";

impl RawKeyProvider {
    pub fn new(key_bytes: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            key: SecretKey::from_slice(key_bytes)?,
        })
    }
}

impl KeyProvider for RawKeyProvider {
    fn wrap_key(&self, database_key: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        self.key
            .seal(RAW_WRAP_AAD, database_key)
            .map_err(|e| KeyProviderError::Failed {
                reason: e.to_string(),
            })
    }

    fn unwrap_key(&self, wrapped: &[u8]) -> Result<Vec<u8>, KeyProviderError> {
        self.key
            .open(RAW_WRAP_AAD, wrapped)
            .map_err(|_| KeyProviderError::WrongKey)
    }
}
