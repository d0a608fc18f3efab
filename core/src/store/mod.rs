//! The encrypted SQLite store: many children's records in one file.
//!
//! Key hierarchy (docs/architecture.md, "Keys"): a random database key, wrapped by a
//! passphrase-derived key or by the platform keystore; each record has its own random key
//! sealed under the database key; each record's automerge chunks are sealed with the
//! record key. Every seal, open and keyed hash goes through the store's cipher
//! (`cipher.rs`), which binds each row's place (table, record, sequence, kind) as its
//! associated data so rows cannot be swapped.

use crate::crypto::{CryptoError, SecretKey, MIN_PASSPHRASE_ROUNDS};
use crate::model::RecordId;
use crate::record::Record;
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};

mod cache;
mod chunks;
mod cipher;
mod file;
pub mod schema;
mod summaries;
mod unlock;

use cache::OpenRecords;
pub use cache::{DEFAULT_MAX_OPEN_BYTES, DEFAULT_MAX_OPEN_RECORDS};
use chunks::{
    catch_up, head_name, insert_chunk, load_record, put_verdicts, seal_head, write_snapshot,
    OpenRecord, COMPACT_LOOSE_TO_SNAPSHOT, LARGE_WRITE_BYTES,
};
use cipher::StoreCipher;
use file::{
    configure, create, create_private_file, get_meta, inspect, is_corruption, move_aside, put_meta,
    FileState, BUSY_TIMEOUT, SQLITE_MAGIC,
};
use summaries::{put_head_and_summary, summarise};
pub use summaries::{Summaries, DISPLAY_HINT};
pub use unlock::Unlock;

#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// PBKDF2 rounds for a new passphrase; never fewer than 600,000.
    pub passphrase_rounds: u32,
    /// Compact a record once it has at least this many loose change chunks and they
    /// hold `COMPACT_LOOSE_TO_SNAPSHOT` times its snapshot's bytes. Saving costs time in
    /// proportion to the document, so tying the trigger to its size keeps the cost per
    /// write constant; loading loose changes is cheap (time-ordered entry ids), so
    /// opening stays close to a bare load.
    pub compact_min_changes: usize,
    /// Schema version a new file is created at; only tests of migrations lower it.
    pub create_at_version: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            passphrase_rounds: MIN_PASSPHRASE_ROUNDS,
            compact_min_changes: 64,
            create_at_version: schema::CURRENT_VERSION,
        }
    }
}

/// What a change made with its sync state returns: its value, a new record key and epoch
/// if it brought one, and the sync state to save if it changed.
pub type RecordAndSyncState<T> = (T, Option<(SecretKey, u32)>, Option<Vec<u8>>);

pub struct Store {
    conn: Connection,
    path: PathBuf,
    cipher: StoreCipher,
    options: OpenOptions,
    open_records: OpenRecords,
    /// The file has the summaries and verdicts tables (v3; only a test of migrations
    /// creates an older file with this code).
    v3: bool,
    /// `PRAGMA data_version` when every summary was last opened or rebuilt: until another
    /// connection commits, this handle's own writes keep them right.
    summaries_checked: Option<i64>,
    /// How many children the last list had (the next one's capacity).
    listed_last_time: usize,
}

/// What one record's row says; a damaged row still names its place.
pub struct RecordListing {
    pub id: Option<RecordId>,
}

impl Store {
    /// Opens or creates the database. A wrong key is refused before anything is written.
    pub fn open(path: &Path, unlock: &Unlock, options: OpenOptions) -> Result<Self, Error> {
        let creating = !path.exists() || std::fs::metadata(path)?.len() == 0;
        if creating {
            unlock.check_new()?;
            create_private_file(path)?;
        }
        if path.exists() {
            let mut header = [0u8; 16];
            let len = std::fs::metadata(path)?.len();
            if len > 0 {
                use std::io::Read;
                let read = std::fs::File::open(path)?.read(&mut header)?;
                if read < 16 || &header != SQLITE_MAGIC {
                    return Err(Error::NotARedbookDatabase);
                }
            }
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let state = match inspect(&conn) {
            Ok(state) => state,
            Err(e) if is_corruption(&e) => {
                drop(conn);
                return Err(Error::CorruptDatabase {
                    moved_to: move_aside(path)?,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let mut version_now = schema::CURRENT_VERSION;
        let cipher = match state {
            FileState::Foreign => return Err(Error::NotARedbookDatabase),
            FileState::Redbook { version } if version > schema::CURRENT_VERSION => {
                return Err(Error::NewerVersion { found: version })
            }
            FileState::Empty => {
                version_now = options.create_at_version;
                create(&mut conn, unlock, &options)?
            }
            FileState::Redbook { version } => {
                let cipher = StoreCipher::unlock(&conn, unlock)?;
                configure(&conn)?;
                if version < schema::CURRENT_VERSION {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    schema::migrate(&tx, version, schema::CURRENT_VERSION)?;
                    tx.commit()?;
                }
                cipher
            }
        };
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            cipher,
            options,
            open_records: OpenRecords::new(),
            v3: version_now >= 3,
            summaries_checked: None,
            listed_last_time: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-wraps the database key under a new passphrase or keystore key. The data is
    /// not touched: only the wrapped key and its parameters change, in one transaction.
    pub fn change_unlock(&mut self, current: &Unlock, new: &Unlock) -> Result<(), Error> {
        new.check_new()?;
        let rounds = self.options.passphrase_rounds;
        StoreCipher::rewrap(&mut self.conn, current, new, rounds)
    }

    /// A value sealed under the database key and stored in the meta table.
    pub fn put_sealed_meta(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        let sealed = self.cipher.seal_meta(name, value)?;
        put_meta(&self.conn, name, &sealed)?;
        Ok(())
    }

    /// Removes a meta value (nothing happens if there is none).
    pub fn delete_meta(&self, name: &str) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM redbook_meta WHERE name = ?1", [name])?;
        Ok(())
    }

    /// Removes a meta value that must not outlive its removal (a secret): SQLite's
    /// `secure_delete` overwrites the bytes it held, and a checkpoint moves the WAL's
    /// copies into the file and empties it (best effort: a reader may hold them a while).
    pub fn erase_meta(&self, name: &str) -> Result<(), Error> {
        self.conn
            .query_row("PRAGMA secure_delete = 1", [], |_| Ok(()))?;
        let deleted = self
            .conn
            .execute("DELETE FROM redbook_meta WHERE name = ?1", [name]);
        self.conn
            .query_row("PRAGMA secure_delete = 0", [], |_| Ok(()))?;
        deleted?;
        let _ = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        Ok(())
    }

    /// The name of every meta value (sealed or not).
    pub fn meta_names(&self) -> Result<Vec<String>, Error> {
        let mut stmt = self.conn.prepare("SELECT name FROM redbook_meta")?;
        let names = stmt
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(names)
    }

    pub fn sealed_meta(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        match get_meta(&self.conn, name)? {
            None => Ok(None),
            Some(sealed) => Ok(Some(
                self.cipher
                    .open_meta(name, &sealed)
                    .ok_or_else(|| Error::corrupt(None))?,
            )),
        }
    }

    fn record_ref(&self, id: &RecordId) -> [u8; 32] {
        self.cipher.record_ref(id)
    }

    /// Every record in the file; a row whose sealed id does not open is listed by `None`.
    pub fn list_records(&self) -> Result<Vec<RecordListing>, Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT record_ref, sealed_id FROM records")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, Vec<u8>>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut listings = Vec::new();
        for row in rows {
            let (record_ref, sealed_id) = row?;
            let id = self.cipher.open_record_id(&record_ref, &sealed_id);
            listings.push(RecordListing { id });
        }
        Ok(listings)
    }

    /// Creates a record whose first chunk is `record`'s saved state, in one transaction.
    pub fn create_record(&mut self, id: &RecordId, record: Record) -> Result<(), Error> {
        self.create_record_with_key(id, record, SecretKey::generate()?, 0, &[])
    }

    /// As `create_record`, with a record key shared by another device (an invitation)
    /// and sealed meta values written in the same transaction.
    pub fn create_record_with_key(
        &mut self,
        id: &RecordId,
        record: Record,
        key: SecretKey,
        epoch: u32,
        meta: &[(String, Vec<u8>)],
    ) -> Result<(), Error> {
        let record_ref = self.record_ref(id);
        let snapshot = record.save();
        let sealed_id = self.cipher.seal_record_id(&record_ref, id)?;
        let sealed_key = self.cipher.seal_record_key(&record_ref, &key, epoch)?;
        let sealed_meta = meta
            .iter()
            .map(|(name, value)| Ok((name, self.cipher.seal_meta(name, value)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO records (record_ref, sealed_id, sealed_key) VALUES (?1, ?2, ?3)",
            params![record_ref.as_slice(), sealed_id, sealed_key],
        )?;
        let last_chunk_digest =
            insert_chunk(&tx, &self.cipher, &key, &record_ref, 1, true, &snapshot)?;
        // Before the summary, which may read them (an invitation's display hint).
        for (name, sealed) in &sealed_meta {
            put_meta(&tx, name, sealed)?;
        }
        HeadWriter {
            cipher: &self.cipher,
            v3: self.v3,
        }
        .put(&tx, id, &record, &record_ref, 1)?;
        tx.commit()?;
        self.open_records.insert(
            id.clone(),
            OpenRecord {
                record,
                key,
                epoch,
                record_ref,
                last_seq: 1,
                seen_version: None,
                loose_changes: 0,
                loose_bytes: 0,
                snapshot_bytes: snapshot.len(),
                last_chunk_digest,
                v3: self.v3,
            },
        );
        Ok(())
    }

    /// The record as it is on disk now, including what other handles wrote.
    pub fn record(&mut self, id: &RecordId) -> Result<&Record, Error> {
        self.refresh(id)?;
        Ok(&self.open_records[id].record)
    }

    /// Loads the record if it is not open, else applies the chunks written since.
    fn refresh(&mut self, id: &RecordId) -> Result<(), Error> {
        if !self.open_records.contains(id) {
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
            return Ok(());
        }
        let open = self.open_records.get_mut(id).expect("checked above");
        if catch_up(&self.conn, &self.cipher, open, id).is_err() {
            // Another handle may have re-sealed the record under a new key: load afresh
            // once; damage still shows as CorruptData from the load.
            self.open_records.remove(id);
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
        }
        Ok(())
    }

    fn load_record(&self, id: &RecordId) -> Result<OpenRecord, Error> {
        let record_ref = self.record_ref(id);
        // One read transaction: chunks, head and verdicts from one snapshot of the file
        // (read one statement at a time, another handle's commit in between made a
        // whole chain look cut). Only read, so dropping it rolls nothing back.
        let snapshot = self.conn.unchecked_transaction()?;
        let loaded = load_record(&snapshot, &self.cipher, record_ref, id, self.v3);
        drop(snapshot);
        if let (Err(Error::CorruptData { .. }), true) = (&loaded, self.v3) {
            // The summary still describes the record as it was; from now on the list
            // shows it damaged, as opening it does (the head beside it stays: it is what
            // the damage is judged against). Best effort: the damage is the error.
            self.conn
                .execute(
                    "UPDATE summaries SET sealed = x'', nhs_ref = NULL WHERE record_ref = ?1",
                    [record_ref.as_slice()],
                )
                .ok();
        }
        loaded
    }

    /// Applies `change` to the record and appends what it changed as one encrypted chunk,
    /// compacting in the same transaction when due. Returns once the commit is durable.
    pub fn update_record<T>(
        &mut self,
        id: &RecordId,
        change: impl FnOnce(&mut Record) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.update_record_and_key(id, |record| Ok((change(record)?, None)))
    }

    /// As `update_record`; when `change` also returns a new record key and its epoch
    /// (a removal, or a key another device's statement gave this one), the record is
    /// re-sealed under it in the same transaction: one snapshot replaces every chunk, the
    /// sealed key is replaced and saved sync states are sealed again under the new key
    /// (what each peer holds, and which key it has shown it holds, outlive the key: sync
    /// after a removal carries on from there instead of starting over).
    pub fn update_record_and_key<T>(
        &mut self,
        id: &RecordId,
        change: impl FnOnce(&mut Record) -> Result<(T, Option<(SecretKey, u32)>), Error>,
    ) -> Result<T, Error> {
        self.update_record_key_and_sync_state(id, None, |record| {
            change(record).map(|(value, key)| (value, key, None))
        })
    }

    /// As `update_record_and_key`; `change` also returns the sync state with `peer` to
    /// save, if it changed, and it is written in the same transaction: a received message
    /// costs one durable commit, not two (on a phone each is a flash write of milliseconds).
    pub fn update_record_and_sync_state<T>(
        &mut self,
        id: &RecordId,
        peer: &str,
        change: impl FnOnce(&mut Record) -> Result<RecordAndSyncState<T>, Error>,
    ) -> Result<T, Error> {
        let peer_ref = self.peer_ref(id, peer);
        self.update_record_key_and_sync_state(id, Some(peer_ref), change)
    }

    fn update_record_key_and_sync_state<T>(
        &mut self,
        id: &RecordId,
        peer_ref: Option<[u8; 32]>,
        change: impl FnOnce(&mut Record) -> Result<RecordAndSyncState<T>, Error>,
    ) -> Result<T, Error> {
        if !self.open_records.contains(id) {
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
        }
        let min_changes = self.options.compact_min_changes;
        let cipher = &self.cipher;
        let heads_out = HeadWriter {
            cipher,
            v3: self.v3,
        };
        let open = self.open_records.get_mut(id).expect("loaded above");
        // The heads as committed, once caught up; None until then.
        let mut committed: Option<Vec<automerge::ChangeHash>> = None;
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            if catch_up(&tx, cipher, open, id).is_err() {
                // Another handle compacted since: load afresh under the write lock.
                *open = load_record(&tx, cipher, open.record_ref, id, heads_out.v3)?;
            }
            let heads = open.record.heads();
            committed = Some(heads.clone());
            let (value, new_key, sync_state) = change(&mut open.record)?;
            // Sealed under the key held now; a new key below re-seals it with the others.
            let state_written = match (sync_state, peer_ref) {
                (Some(state), Some(peer_ref)) => {
                    put_sync_state(&tx, cipher, &open.key, &open.record_ref, &peer_ref, &state)?;
                    true
                }
                _ => false,
            };
            let seq = open.last_seq + 1;
            if let Some((key, epoch)) = new_key {
                let snapshot = open.record.save();
                let sealed_key = cipher.seal_record_key(&open.record_ref, &key, epoch)?;
                tx.execute(
                    "DELETE FROM chunks WHERE record_ref = ?1",
                    [open.record_ref.as_slice()],
                )?;
                tx.execute(
                    "UPDATE records SET sealed_key = ?2 WHERE record_ref = ?1",
                    params![open.record_ref.as_slice(), sealed_key],
                )?;
                reseal_sync_states(&tx, cipher, &open.record_ref, &open.key, &key)?;
                open.record.take_received_document();
                let old = (std::mem::replace(&mut open.key, key), open.epoch);
                open.epoch = epoch;
                let written = write_snapshot(&tx, cipher, open, seq, &snapshot, &[])
                    .and_then(|()| heads_out.put_open(&tx, id, open))
                    .and_then(|()| Ok(tx.commit()?));
                if let Err(e) = written {
                    (open.key, open.epoch) = old;
                    return Err(e);
                }
                return Ok(value);
            }
            if let Some((document, document_heads)) = open.record.take_received_document() {
                // A first sync brought the whole record, compressed by its sender: that
                // is the snapshot, and this copy's own changes follow it.
                let local = open.record.try_save_after(&document_heads)?;
                write_snapshot(&tx, cipher, open, seq, &document, &local)?;
                heads_out.put_open(&tx, id, open)?;
                tx.commit()?;
                return Ok(value);
            }
            let bytes = open.record.try_save_after(&heads)?;
            if bytes.is_empty() {
                if state_written {
                    tx.commit()?;
                }
                return Ok(value);
            }
            // After a large write (a first sync brings thousands of changes as several
            // times the bytes of a snapshot) the next write compacts, so the sync itself
            // does not also pay for a whole save.
            let compact = (open.loose_changes + 1 >= min_changes
                || open.loose_bytes >= LARGE_WRITE_BYTES)
                && open.loose_bytes + bytes.len()
                    >= COMPACT_LOOSE_TO_SNAPSHOT * open.snapshot_bytes;
            if compact {
                let snapshot = open.record.save();
                write_snapshot(&tx, cipher, open, seq, &snapshot, &[])?;
                heads_out.put_open(&tx, id, open)?;
                tx.commit()?;
            } else {
                open.last_chunk_digest =
                    insert_chunk(&tx, cipher, &open.key, &open.record_ref, seq, false, &bytes)?;
                open.last_seq = seq;
                heads_out.put_open(&tx, id, open)?;
                put_verdicts(
                    &tx,
                    cipher,
                    open,
                    open.record.take_unsaved_verdicts(),
                    false,
                )?;
                tx.commit()?;
                open.loose_changes += 1;
                open.loose_bytes += bytes.len();
            }
            Ok(value)
        })();
        let in_step = |open: &OpenRecord| committed.as_ref() == Some(&open.record.heads());
        if result.is_err() && !in_step(&self.open_records[id]) {
            // The in-memory document holds a change that never reached the disk (a refused
            // input leaves it untouched and keeps it cached).
            self.open_records.remove(id);
        }
        result
    }

    /// At most `max_records` documents stay open, within `max_bytes` by their estimated
    /// size; the least recently used is let go first and read again when next wanted.
    pub fn set_cache_limits(&mut self, max_records: usize, max_bytes: usize) {
        self.open_records.set_limits(max_records, max_bytes);
    }

    /// (documents open, their estimated heap bytes): for benches and tests.
    pub fn cache_usage(&self) -> (usize, usize) {
        (self.open_records.len(), self.open_records.estimated_bytes())
    }

    /// Saves the signature verdicts reached since the record was read or last saved,
    /// beside its last chunk, so the next cold open does not check them again.
    pub fn save_verdicts(&mut self, id: &RecordId) -> Result<(), Error> {
        let Some(open) = self.open_records.peek(id) else {
            return Ok(());
        };
        let digests = open.record.take_unsaved_verdicts();
        if digests.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_verdicts(&tx, &self.cipher, open, digests, false)?;
        tx.commit()?;
        Ok(())
    }

    /// How many signatures the open copy of a record has checked itself (benches, tests).
    pub fn signature_checks(&mut self, id: &RecordId) -> Result<usize, Error> {
        self.refresh(id)?;
        Ok(self.open_records[id].record.signature_checks())
    }

    /// The record's key: it seals the record's chunks at rest and, shared with its
    /// members, its sync messages.
    pub fn record_key(&mut self, id: &RecordId) -> Result<SecretKey, Error> {
        self.refresh(id)?;
        Ok(self.open_records[id].key.clone())
    }

    /// The epoch of the record key this device holds.
    pub fn record_epoch(&mut self, id: &RecordId) -> Result<u32, Error> {
        self.refresh(id)?;
        Ok(self.open_records[id].epoch)
    }

    /// Drops this handle's copy of a record (after a refused message: automerge may
    /// have panicked half way); the next read loads it from the file.
    pub fn forget(&mut self, id: &RecordId) {
        self.open_records.remove(id);
    }

    /// A name for a per-record meta value that does not reveal the record id.
    pub fn record_meta_name(&self, prefix: &str, id: &RecordId) -> String {
        format!("{prefix}/{}", hex::encode(self.record_ref(id)))
    }

    fn peer_ref(&self, id: &RecordId, peer: &str) -> [u8; 32] {
        self.cipher.peer_ref(id, peer)
    }

    /// The saved automerge sync state for (record, peer), if any.
    pub fn sync_state(&mut self, id: &RecordId, peer: &str) -> Result<Option<Vec<u8>>, Error> {
        let key = self.record_key(id)?;
        let (record_ref, peer_ref) = (self.record_ref(id), self.peer_ref(id, peer));
        let sealed: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed_state FROM sync_states WHERE record_ref = ?1 AND peer_ref = ?2",
                params![record_ref.as_slice(), peer_ref.as_slice()],
                |row| row.get(0),
            )
            .optional()?;
        match sealed {
            None => Ok(None),
            Some(sealed) => Ok(Some(
                self.cipher
                    .open_sync_state(&key, &record_ref, &peer_ref, &sealed)
                    .ok_or_else(|| Error::corrupt(Some(id)))?,
            )),
        }
    }

    pub fn save_sync_state(
        &mut self,
        id: &RecordId,
        peer: &str,
        state: &[u8],
    ) -> Result<(), Error> {
        let key = self.record_key(id)?;
        let (record_ref, peer_ref) = (self.record_ref(id), self.peer_ref(id, peer));
        put_sync_state(
            &self.conn,
            &self.cipher,
            &key,
            &record_ref,
            &peer_ref,
            state,
        )
    }

    /// How a record is stored now: (chunks, bytes), for compaction tests and the CLI.
    pub fn chunk_stats(&self, id: &RecordId) -> Result<(usize, usize), Error> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(sealed)), 0) FROM chunks WHERE record_ref = ?1",
            [self.record_ref(id).as_slice()],
            |row| {
                Ok((
                    row.get::<_, i64>(0)? as usize,
                    row.get::<_, i64>(1)? as usize,
                ))
            },
        )?)
    }
}

/// Seals each saved sync state of a record again under its new key; one that does not
/// open under the old key is dropped (only an optimisation lost).
/// Seals and writes the sync state of (record, peer), replacing the one saved before.
fn put_sync_state(
    conn: &Connection,
    cipher: &StoreCipher,
    key: &SecretKey,
    record_ref: &[u8; 32],
    peer_ref: &[u8; 32],
    state: &[u8],
) -> Result<(), Error> {
    let sealed = cipher.seal_sync_state(key, record_ref, peer_ref, state)?;
    conn.execute(
        "INSERT INTO sync_states (record_ref, peer_ref, sealed_state) VALUES (?1, ?2, ?3)
         ON CONFLICT(record_ref, peer_ref) DO UPDATE SET sealed_state = excluded.sealed_state",
        params![record_ref.as_slice(), peer_ref.as_slice(), sealed],
    )?;
    Ok(())
}

fn reseal_sync_states(
    tx: &Connection,
    cipher: &StoreCipher,
    record_ref: &[u8; 32],
    old: &SecretKey,
    new: &SecretKey,
) -> Result<(), Error> {
    let rows: Vec<(Vec<u8>, Vec<u8>)> = {
        let mut statement =
            tx.prepare("SELECT peer_ref, sealed_state FROM sync_states WHERE record_ref = ?1")?;
        let rows = statement.query_map([record_ref.as_slice()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (peer_ref, sealed) in rows {
        let Ok(peer) = <[u8; 32]>::try_from(peer_ref.as_slice()) else {
            continue;
        };
        match cipher.open_sync_state(old, record_ref, &peer, &sealed) {
            Some(state) => {
                let resealed = cipher.seal_sync_state(new, record_ref, &peer, &state)?;
                tx.execute(
                    "UPDATE sync_states SET sealed_state = ?3 WHERE record_ref = ?1 AND peer_ref = ?2",
                    params![record_ref.as_slice(), peer_ref, resealed],
                )?;
            }
            None => {
                tx.execute(
                    "DELETE FROM sync_states WHERE record_ref = ?1 AND peer_ref = ?2",
                    params![record_ref.as_slice(), peer_ref],
                )?;
            }
        }
    }
    Ok(())
}

/// Writes where a record's chunk log ends and, for that same chunk, its summary: every
/// change to a record goes through here, in the change's transaction.
struct HeadWriter<'a> {
    cipher: &'a StoreCipher,
    v3: bool,
}

impl HeadWriter<'_> {
    fn put(
        &self,
        tx: &Connection,
        id: &RecordId,
        record: &Record,
        record_ref: &[u8; 32],
        seq: i64,
    ) -> Result<(), Error> {
        let sealed_head = seal_head(self.cipher, record_ref, seq)?;
        if self.v3 {
            let summary = summarise(id, record, Some(chrono::Utc::now()), || {
                summaries::display_hint(tx, self.cipher, record_ref)
            });
            put_head_and_summary(tx, self.cipher, record_ref, &sealed_head, &summary)
        } else {
            Ok(put_meta(tx, &head_name(record_ref), &sealed_head)?)
        }
    }

    fn put_open(&self, tx: &Connection, id: &RecordId, open: &OpenRecord) -> Result<(), Error> {
        self.put(tx, id, &open.record, &open.record_ref, open.last_seq)
    }
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Error::Crypto(e)
    }
}
