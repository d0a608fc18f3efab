//! The store's cipher: the one place that holds key bytes and builds associated data
//! (learned from matrix-sdk-store-encryption's `StoreCipher`; docs/architecture.md,
//! "Keys"). It unwraps the database key (passphrase or platform keystore), keeps only
//! the two keys derived from it (sealing, lookup), seals and opens every row (under the
//! database key, or under a record's key the caller holds), and makes the keyed hashes
//! rows are filed under. Every row binds its place as associated data (`Row`), so a row
//! moved to another place, record or sequence does not open.

use super::file::{get_meta, put_meta};
use super::unlock::Unlock;
use crate::crypto::{
    random_bytes, KeyProviderError, Opener, SecretKey, KEY_LEN, MAX_PASSPHRASE_ROUNDS,
    MIN_PASSPHRASE_ROUNDS,
};
use crate::model::RecordId;
use crate::Error;
use rusqlite::{Connection, TransactionBehavior};

const CANARY_PLAINTEXT: &[u8] = b"redbook canary: the database key is right";

/// The keys derived from the database key: one seals, one hashes, so one key never
/// serves two algorithms.
pub(super) struct StoreCipher {
    sealing_key: SecretKey,
    lookup_key: SecretKey,
}

/// Where a sealed value lives; its associated data.
enum Row<'a> {
    /// The database key, wrapped by a passphrase (a keystore wraps it its own way).
    DatabaseKey,
    Canary,
    Meta(&'a str),
    RecordId(&'a [u8]),
    RecordKey(&'a [u8]),
    Chunk {
        record_ref: &'a [u8],
        seq: i64,
        is_snapshot: bool,
    },
    /// Bound to the chunk they were saved beside, by its sealed bytes' digest.
    Verdicts {
        record_ref: &'a [u8],
        seq: i64,
        chunk_digest: &'a [u8; 32],
    },
    SyncState {
        record_ref: &'a [u8],
        peer_ref: &'a [u8],
    },
    /// Bound to the sealed head beside it (sealed afresh at every change) and to its
    /// NHS number's lookup.
    Summary {
        record_ref: &'a [u8],
        sealed_head: &'a [u8],
        nhs_ref: Option<&'a [u8]>,
    },
}

impl Row<'_> {
    fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::new();
        self.write_aad(&mut aad);
        aad
    }

    /// The associated data, into `aad` (cleared first; reused by a caseload's list).
    fn write_aad(&self, aad: &mut Vec<u8>) {
        aad.clear();
        match *self {
            Row::DatabaseKey => aad.extend_from_slice(b"redbook/db-key/v1"),
            Row::Canary => aad.extend_from_slice(b"redbook/canary/v1"),
            Row::Meta(name) => aad.extend_from_slice(format!("redbook/meta/{name}/v1").as_bytes()),
            Row::RecordId(record_ref) => {
                aad.extend_from_slice(b"redbook/records/id/v1");
                aad.extend_from_slice(record_ref);
            }
            Row::RecordKey(record_ref) => {
                aad.extend_from_slice(b"redbook/records/key/v1");
                aad.extend_from_slice(record_ref);
            }
            Row::Chunk {
                record_ref,
                seq,
                is_snapshot,
            } => {
                aad.extend_from_slice(b"redbook/chunk/v1");
                aad.extend_from_slice(record_ref);
                aad.extend_from_slice(&seq.to_be_bytes());
                aad.push(u8::from(is_snapshot));
            }
            Row::Verdicts {
                record_ref,
                seq,
                chunk_digest,
            } => {
                aad.extend_from_slice(b"redbook/verdicts/v1");
                aad.extend_from_slice(record_ref);
                aad.extend_from_slice(&seq.to_be_bytes());
                aad.extend_from_slice(chunk_digest);
            }
            Row::SyncState {
                record_ref,
                peer_ref,
            } => {
                aad.extend_from_slice(b"redbook/sync-state/v1");
                aad.extend_from_slice(record_ref);
                aad.extend_from_slice(peer_ref);
            }
            Row::Summary {
                record_ref,
                sealed_head,
                nhs_ref,
            } => {
                aad.extend_from_slice(b"redbook/summaries/v1");
                aad.extend_from_slice(record_ref);
                aad.extend_from_slice(sealed_head);
                aad.extend_from_slice(nhs_ref.unwrap_or_default());
            }
        }
    }
}

impl StoreCipher {
    /// A new database key for a new file: its canary and its wrapping are written within
    /// the caller's transaction.
    pub(super) fn create(conn: &Connection, unlock: &Unlock, rounds: u32) -> Result<Self, Error> {
        let db_key = SecretKey::generate()?;
        let cipher = Self::derived_from(&db_key);
        let canary = cipher
            .sealing_key
            .seal(&Row::Canary.aad(), CANARY_PLAINTEXT)?;
        put_meta(conn, "canary", &canary)?;
        write_wrapped_key(conn, &db_key, unlock, rounds)?;
        Ok(cipher)
    }

    /// Unwraps the database key and checks it against the canary. Reads only: a wrong key
    /// leaves the file as it was.
    pub(super) fn unlock(conn: &Connection, unlock: &Unlock) -> Result<Self, Error> {
        Ok(Self::checked_database_key(conn, unlock)?.1)
    }

    /// Wraps the database key again under `new`, in one transaction; the data is not
    /// touched. `current` must unwrap it: holding an open handle is not enough.
    pub(super) fn rewrap(
        conn: &mut Connection,
        current: &Unlock,
        new: &Unlock,
        rounds: u32,
    ) -> Result<(), Error> {
        let (db_key, _) = Self::checked_database_key(conn, current)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_wrapped_key(&tx, &db_key, new, rounds)?;
        tx.commit()?;
        Ok(())
    }

    /// The database key, once the canary shows it is right, and the cipher it gives.
    fn checked_database_key(
        conn: &Connection,
        unlock: &Unlock,
    ) -> Result<(SecretKey, Self), Error> {
        let db_key = unwrap_database_key(conn, unlock)?;
        let cipher = Self::derived_from(&db_key);
        let canary = get_meta(conn, "canary")?.ok_or(Error::NotARedbookDatabase)?;
        match cipher.sealing_key.open(&Row::Canary.aad(), &canary) {
            Ok(plain) if plain == CANARY_PLAINTEXT => Ok((db_key, cipher)),
            _ => Err(Error::WrongKey),
        }
    }

    fn derived_from(db_key: &SecretKey) -> Self {
        Self {
            sealing_key: db_key.derive("redbook/seal/v1"),
            lookup_key: db_key.derive("redbook/lookup/v1"),
        }
    }

    /// The row key a record is filed under: a keyed hash, so the file never names it.
    pub(super) fn record_ref(&self, id: &RecordId) -> [u8; 32] {
        self.lookup_key.keyed_hash(id.as_str().as_bytes())
    }

    /// The row key of a record's sync state with one peer.
    pub(super) fn peer_ref(&self, id: &RecordId, peer: &str) -> [u8; 32] {
        self.lookup_key
            .keyed_hash(format!("{id}/{peer}").as_bytes())
    }

    /// The lookup for an NHS number (normalised: ten digits), so the file never holds the
    /// number in the clear.
    pub(super) fn nhs_ref(&self, nhs_number: &str) -> [u8; 32] {
        self.lookup_key
            .keyed_hash(format!("nhs_number/{nhs_number}").as_bytes())
    }

    pub(super) fn seal_meta(&self, name: &str, value: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.sealing_key.seal(&Row::Meta(name).aad(), value)?)
    }

    pub(super) fn open_meta(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        self.sealing_key.open(&Row::Meta(name).aad(), sealed).ok()
    }

    pub(super) fn seal_record_id(
        &self,
        record_ref: &[u8; 32],
        id: &RecordId,
    ) -> Result<Vec<u8>, Error> {
        let aad = Row::RecordId(record_ref).aad();
        Ok(self.sealing_key.seal(&aad, id.as_str().as_bytes())?)
    }

    /// A records row's sealed id, if it opens and is the id the row is filed under.
    pub(super) fn open_record_id(&self, record_ref: &[u8], sealed: &[u8]) -> Option<RecordId> {
        self.sealing_key
            .open(&Row::RecordId(record_ref).aad(), sealed)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|s| s.parse::<RecordId>().ok())
            .filter(|id| self.record_ref(id).as_slice() == record_ref)
    }

    /// A record's key as its row holds it: the key, then its epoch, sealed.
    pub(super) fn seal_record_key(
        &self,
        record_ref: &[u8; 32],
        key: &SecretKey,
        epoch: u32,
    ) -> Result<Vec<u8>, Error> {
        let mut plain = zeroize::Zeroizing::new(key.as_bytes().to_vec());
        plain.extend_from_slice(&epoch.to_be_bytes());
        let aad = Row::RecordKey(record_ref).aad();
        Ok(self.sealing_key.seal(&aad, &plain)?)
    }

    /// A record's key and its epoch, if its sealed row opens.
    pub(super) fn open_record_key(
        &self,
        record_ref: &[u8; 32],
        sealed: &[u8],
    ) -> Option<(SecretKey, u32)> {
        let plain = self
            .sealing_key
            .open(&Row::RecordKey(record_ref).aad(), sealed)
            .ok()
            .map(zeroize::Zeroizing::new)?;
        let (key, epoch) = plain.split_at_checked(KEY_LEN)?;
        Some((
            SecretKey::from_slice(key).ok()?,
            u32::from_be_bytes(epoch.try_into().ok()?),
        ))
    }

    /// A record's summary, bound to the sealed head written beside it and to the NHS
    /// number's lookup in its row.
    pub(super) fn seal_summary(
        &self,
        record_ref: &[u8; 32],
        sealed_head: &[u8],
        nhs_ref: Option<&[u8; 32]>,
        plain: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let aad = Row::Summary {
            record_ref,
            sealed_head,
            nhs_ref: nhs_ref.map(|r| r.as_slice()),
        }
        .aad();
        Ok(self.sealing_key.seal(&aad, plain)?)
    }

    /// Opens summaries one after another without setting the key up again for each.
    pub(super) fn summary_opener(&self) -> SummaryOpener {
        SummaryOpener {
            opener: self.sealing_key.opener(),
            aad: Vec::with_capacity(160),
            plain: Vec::with_capacity(256),
        }
    }

    /// A chunk of a record's automerge log, under the record's key.
    pub(super) fn seal_chunk(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        seq: i64,
        is_snapshot: bool,
        bytes: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let aad = Row::Chunk {
            record_ref,
            seq,
            is_snapshot,
        }
        .aad();
        Ok(key.seal(&aad, bytes)?)
    }

    pub(super) fn open_chunk(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        seq: i64,
        is_snapshot: bool,
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let aad = Row::Chunk {
            record_ref,
            seq,
            is_snapshot,
        }
        .aad();
        key.open(&aad, sealed).ok()
    }

    /// Signature verdicts, under the record's key, bound to the chunk at `seq` by the
    /// digest of its sealed bytes.
    pub(super) fn seal_verdicts(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        (seq, chunk_digest): (i64, &[u8; 32]),
        plain: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let aad = Row::Verdicts {
            record_ref,
            seq,
            chunk_digest,
        }
        .aad();
        Ok(key.seal(&aad, plain)?)
    }

    pub(super) fn open_verdicts(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        (seq, chunk_digest): (i64, &[u8; 32]),
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let aad = Row::Verdicts {
            record_ref,
            seq,
            chunk_digest,
        }
        .aad();
        key.open(&aad, sealed).ok()
    }

    /// An automerge sync state with one peer, under the record's key.
    pub(super) fn seal_sync_state(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        peer_ref: &[u8; 32],
        state: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let aad = Row::SyncState {
            record_ref,
            peer_ref,
        }
        .aad();
        Ok(key.seal(&aad, state)?)
    }

    pub(super) fn open_sync_state(
        &self,
        key: &SecretKey,
        record_ref: &[u8; 32],
        peer_ref: &[u8; 32],
        sealed: &[u8],
    ) -> Option<Vec<u8>> {
        let aad = Row::SyncState {
            record_ref,
            peer_ref,
        }
        .aad();
        key.open(&aad, sealed).ok()
    }
}

/// Opens summaries one after another, reusing its buffers (a caseload's list opens one
/// per child).
pub(super) struct SummaryOpener {
    opener: Opener,
    aad: Vec<u8>,
    plain: Vec<u8>,
}

impl SummaryOpener {
    /// The summary's plaintext, if it opens beside this head and lookup.
    pub(super) fn open(
        &mut self,
        record_ref: &[u8],
        sealed_head: &[u8],
        nhs_ref: Option<&[u8]>,
        sealed: &[u8],
    ) -> Option<&[u8]> {
        Row::Summary {
            record_ref,
            sealed_head,
            nhs_ref,
        }
        .write_aad(&mut self.aad);
        self.opener
            .open_into(&self.aad, sealed, &mut self.plain)
            .ok()
    }
}

/// Unwraps the database key; the canary is the caller's to check.
fn unwrap_database_key(conn: &Connection, unlock: &Unlock) -> Result<SecretKey, Error> {
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
                .filter(|r| (MIN_PASSPHRASE_ROUNDS..=MAX_PASSPHRASE_ROUNDS).contains(r))
                .ok_or(Error::NotARedbookDatabase)?;
            SecretKey::from_passphrase(passphrase, &salt, rounds)
                .open(&Row::DatabaseKey.aad(), &wrapped)
                .map_err(|_| Error::WrongKey)?
        }
        Unlock::KeyProvider(provider) => provider.unwrap_key(&wrapped).map_err(|e| match e {
            KeyProviderError::WrongKey => Error::WrongKey,
            other => Error::KeyProvider(other),
        })?,
    };
    SecretKey::from_slice(&bytes).map_err(|_| Error::WrongKey)
}

/// Writes the database key wrapped for `unlock`, with what unwrapping it needs.
fn write_wrapped_key(
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
                .seal(&Row::DatabaseKey.aad(), db_key.as_bytes())?
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

#[cfg(test)]
mod tests {
    use super::Row;

    /// What existing files were written with: these bytes must never change.
    #[test]
    fn associated_data_is_as_written_before() {
        let r = [0xAA; 2];
        let p = [0xBB; 2];
        let d = [0xCC; 32];
        let cases: Vec<(Row, Vec<u8>)> = vec![
            (Row::DatabaseKey, b"redbook/db-key/v1".to_vec()),
            (Row::Canary, b"redbook/canary/v1".to_vec()),
            (Row::Meta("head/ab"), b"redbook/meta/head/ab/v1".to_vec()),
            (
                Row::RecordId(&r),
                [&b"redbook/records/id/v1"[..], &r].concat(),
            ),
            (
                Row::RecordKey(&r),
                [&b"redbook/records/key/v1"[..], &r].concat(),
            ),
            (
                Row::Chunk {
                    record_ref: &r,
                    seq: 258,
                    is_snapshot: true,
                },
                [
                    &b"redbook/chunk/v1"[..],
                    &r,
                    &[0, 0, 0, 0, 0, 0, 1, 2],
                    &[1],
                ]
                .concat(),
            ),
            (
                Row::Verdicts {
                    record_ref: &r,
                    seq: 3,
                    chunk_digest: &d,
                },
                [
                    &b"redbook/verdicts/v1"[..],
                    &r,
                    &[0, 0, 0, 0, 0, 0, 0, 3],
                    &d,
                ]
                .concat(),
            ),
            (
                Row::SyncState {
                    record_ref: &r,
                    peer_ref: &p,
                },
                [&b"redbook/sync-state/v1"[..], &r, &p].concat(),
            ),
            (
                Row::Summary {
                    record_ref: &r,
                    sealed_head: &p,
                    nhs_ref: Some(&d),
                },
                [&b"redbook/summaries/v1"[..], &r, &p, &d].concat(),
            ),
            (
                Row::Summary {
                    record_ref: &r,
                    sealed_head: &p,
                    nhs_ref: None,
                },
                [&b"redbook/summaries/v1"[..], &r, &p].concat(),
            ),
        ];
        for (row, expected) in cases {
            assert_eq!(row.aad(), expected);
        }
    }
}
