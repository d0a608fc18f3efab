//! The platform keystore the database key is wrapped with, and the raw key for tests and
//! the CLI.

use crate::{KeyProviderError, RedbookError};
use redbook_core::Unlock;
use std::sync::Arc;

/// The platform keystore (Android Keystore, iOS Keychain): it wraps and unwraps the
/// database key with a key that never leaves secure hardware.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    fn wrap_key(&self, database_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError>;
    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError>;
}

/// A key provider over a 32-byte key the app holds itself (tests, the CLI's raw key).
#[derive(uniffi::Object)]
pub struct RawKeyProvider {
    inner: redbook_core::crypto::RawKeyProvider,
}

#[uniffi::export]
impl RawKeyProvider {
    #[uniffi::constructor]
    pub fn new(key: Vec<u8>) -> Result<Arc<Self>, RedbookError> {
        let inner = redbook_core::crypto::RawKeyProvider::new(&key).map_err(|_| {
            RedbookError::InvalidInput {
                field: "key".into(),
                reason: redbook_core::view::forms::EXPECTED_KEY.into(),
            }
        })?;
        Ok(Arc::new(Self { inner }))
    }
}

#[uniffi::export]
impl KeyProvider for RawKeyProvider {
    fn wrap_key(&self, database_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError> {
        use redbook_core::crypto::KeyProvider as _;
        Ok(self.inner.wrap_key(&database_key)?)
    }
    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError> {
        use redbook_core::crypto::KeyProvider as _;
        Ok(self.inner.unwrap_key(&wrapped_key)?)
    }
}

/// Lets the core call a keystore implemented in Kotlin or Swift.
struct ForeignKeyProvider(Arc<dyn KeyProvider>);

impl redbook_core::crypto::KeyProvider for ForeignKeyProvider {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, redbook_core::crypto::KeyProviderError> {
        Ok(self.0.wrap_key(key.to_vec())?)
    }
    fn unwrap_key(
        &self,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, redbook_core::crypto::KeyProviderError> {
        Ok(self.0.unwrap_key(wrapped.to_vec())?)
    }
}

pub(crate) fn unlock_with(provider: Arc<dyn KeyProvider>) -> Unlock {
    Unlock::KeyProvider(Arc::new(ForeignKeyProvider(provider)))
}
