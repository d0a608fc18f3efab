//! How the database key is unlocked: a passphrase, or the platform keystore
//! (docs/architecture.md, "Keys"). The cipher (`cipher.rs`) does the unwrapping.

use crate::crypto::KeyProvider;
use crate::Error;
use std::sync::Arc;

/// How the database key is unlocked.
#[derive(Clone)]
pub enum Unlock {
    /// Stretched once per open with PBKDF2-HMAC-SHA256.
    Passphrase(String),
    /// The platform keystore wraps and unwraps the database key.
    KeyProvider(Arc<dyn KeyProvider>),
}

/// A passphrase held for an open is wiped when the `Unlock` is dropped.
impl Drop for Unlock {
    fn drop(&mut self) {
        if let Unlock::Passphrase(passphrase) = self {
            zeroize::Zeroize::zeroize(passphrase);
        }
    }
}

impl Unlock {
    /// A new or changed passphrase must be long enough; a keystore key always is.
    pub(super) fn check_new(&self) -> Result<(), Error> {
        match self {
            Unlock::Passphrase(p) if p.chars().count() < crate::crypto::MIN_PASSPHRASE_CHARS => {
                Err(crate::model::ValidationError::new(
                    "passphrase",
                    "must be at least 8 characters",
                )
                .into())
            }
            _ => Ok(()),
        }
    }

    /// What the file records, so a key of the other kind is refused before it is tried.
    pub(super) fn method(&self) -> &'static [u8] {
        match self {
            Unlock::Passphrase(_) => b"passphrase",
            Unlock::KeyProvider(_) => b"key_provider",
        }
    }
}
