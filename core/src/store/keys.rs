//! The store's keys: how the database key is unlocked (passphrase or platform keystore)
//! and wrapped, the keys derived from it, record keys sealed under it, and the associated
//! data that binds each sealed row to its place (docs/architecture.md, "Keys").

use super::file::{get_meta, put_meta};
use crate::crypto::{
    random_bytes, KeyProvider, KeyProviderError, SecretKey, MIN_PASSPHRASE_ROUNDS,
};
use crate::Error;
use rusqlite::Connection;
use std::sync::Arc;

pub(super) const DB_KEY_AAD: &[u8] = b"redbook/db-key/v1";

pub(super) const CANARY_AAD: &[u8] = b"redbook/canary/v1";

pub(super) const CANARY_PLAINTEXT: &[u8] = b"redbook canary: the database key is right";

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

    pub(super) fn method(&self) -> &'static [u8] {
        match self {
            Unlock::Passphrase(_) => b"passphrase",
            Unlock::KeyProvider(_) => b"key_provider",
        }
    }
}

/// A record's key as its row holds it: the key, then its epoch, sealed.
pub(super) fn seal_record_key(
    sealing_key: &SecretKey,
    record_ref: &[u8; 32],
    key: &SecretKey,
    epoch: u32,
) -> Result<Vec<u8>, Error> {
    let mut plain = key.as_bytes().to_vec();
    plain.extend_from_slice(&epoch.to_be_bytes());
    Ok(sealing_key.seal(&row_aad("records/key", record_ref), &plain)?)
}

pub(super) fn chunk_aad(record_ref: &[u8; 32], seq: i64, is_snapshot: bool) -> Vec<u8> {
    let mut aad = b"redbook/chunk/v1".to_vec();
    aad.extend_from_slice(record_ref);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.push(u8::from(is_snapshot));
    aad
}

pub(super) fn sync_state_aad(record_ref: &[u8; 32], peer_ref: &[u8; 32]) -> Vec<u8> {
    let mut aad = b"redbook/sync-state/v1".to_vec();
    aad.extend_from_slice(record_ref);
    aad.extend_from_slice(peer_ref);
    aad
}

pub(super) fn row_aad(what: &str, record_ref: &[u8]) -> Vec<u8> {
    let mut aad = format!("redbook/{what}/v1").into_bytes();
    aad.extend_from_slice(record_ref);
    aad
}

pub(super) fn meta_aad(name: &str) -> String {
    format!("redbook/meta/{name}/v1")
}

/// Unwraps the database key and checks it against the canary. Reads only: a wrong key
/// leaves the file as it was.
pub(super) fn database_key(conn: &Connection, unlock: &Unlock) -> Result<SecretKey, Error> {
    let meta = |name| get_meta(conn, name)?.ok_or(Error::NotARedbookDatabase);
    if meta("unlock_method")? != unlock.method() {
        return Err(Error::WrongKey);
    }
    let wrapped = meta("wrapped_db_key")?;
    let bytes = match unlock {
        Unlock::Passphrase(passphrase) => {
            let salt = meta("kdf_salt")?;
            let rounds = <[u8; 4]>::try_from(meta("kdf_rounds")?.as_slice())
                .map(u32::from_be_bytes)
                .ok()
                .filter(|r| {
                    (MIN_PASSPHRASE_ROUNDS..=crate::crypto::MAX_PASSPHRASE_ROUNDS).contains(r)
                })
                .ok_or(Error::NotARedbookDatabase)?;
            SecretKey::from_passphrase(passphrase, &salt, rounds)
                .open(DB_KEY_AAD, &wrapped)
                .map_err(|_| Error::WrongKey)?
        }
        Unlock::KeyProvider(provider) => provider.unwrap_key(&wrapped).map_err(|e| match e {
            KeyProviderError::WrongKey => Error::WrongKey,
            other => Error::KeyProvider(other),
        })?,
    };
    let db_key = SecretKey::from_slice(&bytes).map_err(|_| Error::WrongKey)?;
    let canary = meta("canary")?;
    if derive_keys(&db_key).0.open(CANARY_AAD, &canary).as_deref() != Ok(CANARY_PLAINTEXT) {
        return Err(Error::WrongKey);
    }
    Ok(db_key)
}

pub(super) fn derive_keys(db_key: &SecretKey) -> (SecretKey, SecretKey) {
    (
        db_key.derive("redbook/seal/v1"),
        db_key.derive("redbook/lookup/v1"),
    )
}

pub(super) fn write_wrapped_key(
    conn: &Connection,
    db_key: &SecretKey,
    unlock: &Unlock,
    rounds: u32,
) -> Result<(), Error> {
    let wrapped = match unlock {
        Unlock::Passphrase(passphrase) => {
            let rounds = rounds.max(MIN_PASSPHRASE_ROUNDS);
            let salt = random_bytes::<16>()?;
            put_meta(conn, "kdf_salt", &salt)?;
            put_meta(conn, "kdf_rounds", &rounds.to_be_bytes())?;
            SecretKey::from_passphrase(passphrase, &salt, rounds)
                .seal(DB_KEY_AAD, db_key.as_bytes())?
        }
        Unlock::KeyProvider(provider) => {
            conn.execute(
                "DELETE FROM redbook_meta WHERE name IN ('kdf_salt', 'kdf_rounds')",
                [],
            )?;
            provider.wrap_key(db_key.as_bytes())?
        }
    };
    put_meta(conn, "wrapped_db_key", &wrapped)?;
    put_meta(conn, "unlock_method", unlock.method())?;
    Ok(())
}
