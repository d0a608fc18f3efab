//! The encrypted SQLite store: many children's records in one file.
//!
//! Key hierarchy (docs/architecture.md, "Keys"): a random database key, wrapped by a passphrase-derived key
//! or by the platform keystore; each record has its own random key sealed under the
//! database key; each record's automerge chunks are sealed with the record key, with the
//! row's identity (record, sequence, kind) as associated data so rows cannot be swapped.

use crate::crypto::{
    random_bytes, CryptoError, KeyProvider, KeyProviderError, SecretKey, MIN_PASSPHRASE_ROUNDS,
};
use crate::model::RecordId;
use crate::record::{Record, RecordError};
use crate::Error;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub mod schema;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const DB_KEY_AAD: &[u8] = b"redbook/db-key/v1";
const CANARY_AAD: &[u8] = b"redbook/canary/v1";
const CANARY_PLAINTEXT: &[u8] = b"redbook canary: the database key is right";
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Measured at 5,000 entries: compacting at 1x cost 47 us per write, amortised.
const COMPACT_LOOSE_TO_SNAPSHOT: usize = 2;
/// After loose chunks of more bytes than this, the next write compacts (`update_record`).
const LARGE_WRITE_BYTES: usize = 256 * 1024;

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
    fn check_new(&self) -> Result<(), Error> {
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

    fn method(&self) -> &'static [u8] {
        match self {
            Unlock::Passphrase(_) => b"passphrase",
            Unlock::KeyProvider(_) => b"key_provider",
        }
    }
}

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

/// A record as this handle holds it in memory, with where it is in the chunk log.
struct OpenRecord {
    record: Record,
    key: SecretKey,
    /// The record key's epoch (0 until a member is removed).
    epoch: u32,
    record_ref: [u8; 32],
    last_seq: i64,
    /// `PRAGMA data_version` when this copy was last known to match the file: while it
    /// is unchanged no other connection has committed, so the catch-up query is skipped.
    seen_version: Option<i64>,
    loose_changes: usize,
    loose_bytes: usize,
    snapshot_bytes: usize,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    sealing_key: SecretKey,
    lookup_key: SecretKey,
    options: OpenOptions,
    open_records: HashMap<RecordId, OpenRecord>,
}

/// What one record's row says; a damaged row still names its place.
pub struct RecordListing {
    pub id: Option<RecordId>,
}

enum FileState {
    Empty,
    Foreign,
    Redbook { version: u32 },
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
        let db_key = match state {
            FileState::Foreign => return Err(Error::NotARedbookDatabase),
            FileState::Redbook { version } if version > schema::CURRENT_VERSION => {
                return Err(Error::NewerVersion { found: version })
            }
            FileState::Empty => create(&mut conn, unlock, &options)?,
            FileState::Redbook { version } => {
                let db_key = database_key(&conn, unlock)?;
                configure(&conn)?;
                if version < schema::CURRENT_VERSION {
                    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                    schema::migrate(&tx, version, schema::CURRENT_VERSION)?;
                    tx.commit()?;
                }
                db_key
            }
        };
        let (sealing_key, lookup_key) = derive_keys(&db_key);
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            sealing_key,
            lookup_key,
            options,
            open_records: HashMap::new(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-wraps the database key under a new passphrase or keystore key. The data is
    /// not touched: only the wrapped key and its parameters change, in one transaction.
    pub fn change_unlock(&mut self, current: &Unlock, new: &Unlock) -> Result<(), Error> {
        new.check_new()?;
        // The caller must know the current key, not merely hold an open handle.
        let db_key = database_key(&self.conn, current)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_wrapped_key(&tx, &db_key, new, self.options.passphrase_rounds)?;
        tx.commit()?;
        Ok(())
    }

    /// A value sealed under the database key and stored in the meta table.
    pub fn put_sealed_meta(&self, name: &str, value: &[u8]) -> Result<(), Error> {
        let sealed = self.sealing_key.seal(meta_aad(name).as_bytes(), value)?;
        put_meta(&self.conn, name, &sealed)?;
        Ok(())
    }

    pub fn sealed_meta(&self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        match get_meta(&self.conn, name)? {
            None => Ok(None),
            Some(sealed) => Ok(Some(
                self.sealing_key
                    .open(meta_aad(name).as_bytes(), &sealed)
                    .map_err(|_| Error::corrupt(None))?,
            )),
        }
    }

    fn record_ref(&self, id: &RecordId) -> [u8; 32] {
        self.lookup_key.keyed_hash(id.as_str().as_bytes())
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
            let id = self
                .sealing_key
                .open(&row_aad("records/id", &record_ref), &sealed_id)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|s| s.parse::<RecordId>().ok())
                .filter(|id| self.record_ref(id).as_slice() == record_ref.as_slice());
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
        let sealed_id = self
            .sealing_key
            .seal(&row_aad("records/id", &record_ref), id.as_str().as_bytes())?;
        let sealed_key = self.seal_record_key(&record_ref, &key, epoch)?;
        let sealed_meta = meta
            .iter()
            .map(|(name, value)| {
                Ok((
                    name,
                    self.sealing_key.seal(meta_aad(name).as_bytes(), value)?,
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO records (record_ref, sealed_id, sealed_key) VALUES (?1, ?2, ?3)",
            params![record_ref.as_slice(), sealed_id, sealed_key],
        )?;
        insert_chunk(&tx, &key, &record_ref, 1, true, &snapshot)?;
        put_head(&tx, &self.sealing_key, &record_ref, 1)?;
        for (name, sealed) in &sealed_meta {
            put_meta(&tx, name, sealed)?;
        }
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
        if !self.open_records.contains_key(id) {
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
            return Ok(());
        }
        let open = self.open_records.get_mut(id).expect("checked above");
        if catch_up(&self.conn, open, id).is_err() {
            // Another handle may have re-sealed the record under a new key: load afresh
            // once; damage still shows as CorruptData from the load.
            self.open_records.remove(id);
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
        }
        Ok(())
    }

    fn load_record(&self, id: &RecordId) -> Result<OpenRecord, Error> {
        load_record(&self.conn, &self.sealing_key, self.record_ref(id), id)
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
    /// sealed key is replaced and saved sync states (sealed under the old key) dropped.
    pub fn update_record_and_key<T>(
        &mut self,
        id: &RecordId,
        change: impl FnOnce(&mut Record) -> Result<(T, Option<(SecretKey, u32)>), Error>,
    ) -> Result<T, Error> {
        if !self.open_records.contains_key(id) {
            let open = self.load_record(id)?;
            self.open_records.insert(id.clone(), open);
        }
        let min_changes = self.options.compact_min_changes;
        let open = self.open_records.get_mut(id).expect("loaded above");
        // The heads as committed, once caught up; None until then.
        let mut committed: Option<Vec<automerge::ChangeHash>> = None;
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            if catch_up(&tx, open, id).is_err() {
                // Another handle compacted since: load afresh under the write lock.
                *open = load_record(&tx, &self.sealing_key, open.record_ref, id)?;
            }
            let heads = open.record.heads();
            committed = Some(heads.clone());
            let (value, new_key) = change(&mut open.record)?;
            let seq = open.last_seq + 1;
            if let Some((key, epoch)) = new_key {
                let snapshot = open.record.save();
                let sealed_key = seal_record_key(&self.sealing_key, &open.record_ref, &key, epoch)?;
                tx.execute(
                    "DELETE FROM chunks WHERE record_ref = ?1",
                    [open.record_ref.as_slice()],
                )?;
                tx.execute(
                    "UPDATE records SET sealed_key = ?2 WHERE record_ref = ?1",
                    params![open.record_ref.as_slice(), sealed_key],
                )?;
                tx.execute(
                    "DELETE FROM sync_states WHERE record_ref = ?1",
                    [open.record_ref.as_slice()],
                )?;
                open.record.take_received_document();
                let old = (std::mem::replace(&mut open.key, key), open.epoch);
                open.epoch = epoch;
                let written = write_snapshot(&tx, open, seq, &snapshot, &[])
                    .and_then(|()| {
                        put_head(&tx, &self.sealing_key, &open.record_ref, open.last_seq)
                    })
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
                let local = open.record.save_after(&document_heads);
                write_snapshot(&tx, open, seq, &document, &local)?;
                put_head(&tx, &self.sealing_key, &open.record_ref, open.last_seq)?;
                tx.commit()?;
                return Ok(value);
            }
            let bytes = open.record.save_after(&heads);
            if bytes.is_empty() {
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
                write_snapshot(&tx, open, seq, &snapshot, &[])?;
                put_head(&tx, &self.sealing_key, &open.record_ref, seq)?;
                tx.commit()?;
            } else {
                insert_chunk(&tx, &open.key, &open.record_ref, seq, false, &bytes)?;
                put_head(&tx, &self.sealing_key, &open.record_ref, seq)?;
                tx.commit()?;
                open.loose_changes += 1;
                open.loose_bytes += bytes.len();
            }
            open.last_seq = seq;
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

    fn seal_record_key(
        &self,
        record_ref: &[u8; 32],
        key: &SecretKey,
        epoch: u32,
    ) -> Result<Vec<u8>, Error> {
        seal_record_key(&self.sealing_key, record_ref, key, epoch)
    }

    /// A name for a per-record meta value that does not reveal the record id.
    pub fn record_meta_name(&self, prefix: &str, id: &RecordId) -> String {
        format!("{prefix}/{}", hex::encode(self.record_ref(id)))
    }

    fn peer_ref(&self, id: &RecordId, peer: &str) -> [u8; 32] {
        self.lookup_key
            .keyed_hash(format!("{id}/{peer}").as_bytes())
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
                key.open(&sync_state_aad(&record_ref, &peer_ref), &sealed)
                    .map_err(|_| Error::corrupt(Some(id)))?,
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
        let sealed = key.seal(&sync_state_aad(&record_ref, &peer_ref), state)?;
        self.conn.execute(
            "INSERT INTO sync_states (record_ref, peer_ref, sealed_state) VALUES (?1, ?2, ?3)
             ON CONFLICT(record_ref, peer_ref) DO UPDATE SET sealed_state = excluded.sealed_state",
            params![record_ref.as_slice(), peer_ref.as_slice(), sealed],
        )?;
        Ok(())
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

/// Loads a record whole: its key, every chunk (checked to form one unbroken chain), one
/// automerge load.
fn load_record(
    conn: &Connection,
    sealing_key: &SecretKey,
    record_ref: [u8; 32],
    id: &RecordId,
) -> Result<OpenRecord, Error> {
    let sealed_key: Vec<u8> = conn
        .query_row(
            "SELECT sealed_key FROM records WHERE record_ref = ?1",
            [record_ref.as_slice()],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(Error::NotFound {
            what: "child record",
        })?;
    let corrupt = || Error::corrupt(Some(id));
    let (key, epoch) = sealing_key
        .open(&row_aad("records/key", &record_ref), &sealed_key)
        .ok()
        .and_then(|bytes| {
            let (key, epoch) = bytes.split_at_checked(crate::crypto::KEY_LEN)?;
            Some((
                SecretKey::from_slice(key).ok()?,
                u32::from_be_bytes(epoch.try_into().ok()?),
            ))
        })
        .ok_or_else(corrupt)?;
    // Decrypt every chunk and load once: applying them one at a time is quadratic.
    let chunks = read_chunks(conn, &key, &record_ref, 0).map_err(|e| e.for_record(id))?;
    // A chunk deleted from the middle or the end would drop entries silently: the
    // chain starts with a snapshot, has no gap, and ends at the sealed head.
    let head = read_head(conn, sealing_key, &record_ref)?;
    if !chain_is_whole(&chunks, head) {
        return Err(corrupt());
    }
    let all: Vec<u8> = chunks
        .iter()
        .flat_map(|c| c.bytes.iter().copied())
        .collect();
    let record = match Record::load(&all) {
        Ok(record) => record,
        Err(RecordError::UnsupportedFormat(found)) => {
            return Err(Error::UnsupportedRecordFormat { found })
        }
        Err(_) => return Err(corrupt()),
    };
    if record.record_id() != id {
        return Err(corrupt());
    }
    let mut open = OpenRecord {
        record,
        key,
        epoch,
        record_ref,
        last_seq: 0,
        seen_version: None,
        loose_changes: 0,
        loose_bytes: 0,
        snapshot_bytes: 0,
    };
    chunks.iter().for_each(|chunk| open.note_chunk(chunk));
    Ok(open)
}

impl OpenRecord {
    fn note_chunk(&mut self, chunk: &Chunk) {
        self.last_seq = chunk.seq;
        if chunk.is_snapshot {
            self.snapshot_bytes = chunk.bytes.len();
            self.loose_changes = 0;
            self.loose_bytes = 0;
        } else {
            self.loose_changes += 1;
            self.loose_bytes += chunk.bytes.len();
        }
    }
}

/// Replaces a record's chunks with `snapshot` at `seq`, followed by `local` changes
/// when there are any, within the caller's transaction; the counters follow (if the commit
/// fails, the caller drops the in-memory copy).
fn write_snapshot(
    tx: &Connection,
    open: &mut OpenRecord,
    seq: i64,
    snapshot: &[u8],
    local: &[u8],
) -> Result<(), Error> {
    insert_chunk(tx, &open.key, &open.record_ref, seq, true, snapshot)?;
    open.last_seq = seq;
    if !local.is_empty() {
        open.last_seq = seq + 1;
        insert_chunk(tx, &open.key, &open.record_ref, seq + 1, false, local)?;
    }
    tx.execute(
        "DELETE FROM chunks WHERE record_ref = ?1 AND seq < ?2",
        params![open.record_ref.as_slice(), seq],
    )?;
    open.snapshot_bytes = snapshot.len();
    open.loose_changes = usize::from(!local.is_empty());
    open.loose_bytes = local.len();
    Ok(())
}

/// Applies chunks other connections wrote since this copy was read. The version is read
/// first, so a commit landing during the read is caught the next time.
fn catch_up(conn: &Connection, open: &mut OpenRecord, id: &RecordId) -> Result<(), Error> {
    let version: i64 = conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))?;
    if open.seen_version == Some(version) {
        return Ok(());
    }
    let chunks = read_chunks(conn, &open.key, &open.record_ref, open.last_seq)
        .map_err(|e| e.for_record(id))?;
    // Another handle's writes follow on without a gap (a compaction by it, or damage,
    // sends the caller back to a full load, which checks the whole chain).
    let follows_on = chunks
        .iter()
        .zip(open.last_seq + 1..)
        .all(|(chunk, seq)| chunk.seq == seq && !chunk.is_snapshot);
    if !follows_on {
        return Err(Error::corrupt(Some(id)));
    }
    for chunk in chunks {
        open.record
            .load_incremental(&chunk.bytes)
            .map_err(|_| Error::corrupt(Some(id)))?;
        open.note_chunk(&chunk);
    }
    open.seen_version = Some(version);
    Ok(())
}

struct Chunk {
    seq: i64,
    is_snapshot: bool,
    bytes: Vec<u8>,
}

enum ChunkError {
    Unauthentic,
    Sql(rusqlite::Error),
}

impl ChunkError {
    fn for_record(self, id: &RecordId) -> Error {
        match self {
            ChunkError::Unauthentic => Error::corrupt(Some(id)),
            ChunkError::Sql(e) => e.into(),
        }
    }
}

fn read_chunks(
    conn: &Connection,
    key: &SecretKey,
    record_ref: &[u8; 32],
    after_seq: i64,
) -> Result<Vec<Chunk>, ChunkError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seq, is_snapshot, sealed FROM chunks WHERE record_ref = ?1 AND seq > ?2 ORDER BY seq",
        )
        .map_err(ChunkError::Sql)?;
    let rows = stmt
        .query_map(params![record_ref.as_slice(), after_seq], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, bool>(1)?,
                row.get::<_, Vec<u8>>(2)?,
            ))
        })
        .map_err(ChunkError::Sql)?;
    let mut chunks = Vec::new();
    for row in rows {
        let (seq, is_snapshot, sealed) = row.map_err(ChunkError::Sql)?;
        let bytes = key
            .open(&chunk_aad(record_ref, seq, is_snapshot), &sealed)
            .map_err(|_| ChunkError::Unauthentic)?;
        chunks.push(Chunk {
            seq,
            is_snapshot,
            bytes,
        });
    }
    Ok(chunks)
}

fn insert_chunk(
    conn: &Connection,
    key: &SecretKey,
    record_ref: &[u8; 32],
    seq: i64,
    is_snapshot: bool,
    bytes: &[u8],
) -> Result<(), Error> {
    let sealed = key.seal(&chunk_aad(record_ref, seq, is_snapshot), bytes)?;
    conn.prepare_cached(
        "INSERT INTO chunks (record_ref, seq, is_snapshot, sealed) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![record_ref.as_slice(), seq, is_snapshot, sealed])?;
    Ok(())
}

/// Where a record's chain of chunks ends, sealed in the meta table under a name that
/// does not reveal the record.
fn head_name(record_ref: &[u8; 32]) -> String {
    format!("head/{}", hex::encode(record_ref))
}

fn put_head(
    conn: &Connection,
    sealing_key: &SecretKey,
    record_ref: &[u8; 32],
    seq: i64,
) -> Result<(), Error> {
    let name = head_name(record_ref);
    let sealed = sealing_key.seal(meta_aad(&name).as_bytes(), &seq.to_be_bytes())?;
    put_meta(conn, &name, &sealed)?;
    Ok(())
}

fn read_head(
    conn: &Connection,
    sealing_key: &SecretKey,
    record_ref: &[u8; 32],
) -> Result<Option<i64>, Error> {
    let name = head_name(record_ref);
    Ok(get_meta(conn, &name)?.and_then(|sealed| {
        let bytes = sealing_key.open(meta_aad(&name).as_bytes(), &sealed).ok()?;
        Some(i64::from_be_bytes(bytes.try_into().ok()?))
    }))
}

/// A snapshot, then each chunk one on from the last, ending at the head.
fn chain_is_whole(chunks: &[Chunk], head: Option<i64>) -> bool {
    chunks.first().is_some_and(|first| first.is_snapshot)
        && chunks.windows(2).all(|w| w[1].seq == w[0].seq + 1)
        && chunks.last().map(|c| c.seq) == head
}

/// A record's key as its row holds it: the key, then its epoch, sealed.
fn seal_record_key(
    sealing_key: &SecretKey,
    record_ref: &[u8; 32],
    key: &SecretKey,
    epoch: u32,
) -> Result<Vec<u8>, Error> {
    let mut plain = key.as_bytes().to_vec();
    plain.extend_from_slice(&epoch.to_be_bytes());
    Ok(sealing_key.seal(&row_aad("records/key", record_ref), &plain)?)
}

fn chunk_aad(record_ref: &[u8; 32], seq: i64, is_snapshot: bool) -> Vec<u8> {
    let mut aad = b"redbook/chunk/v1".to_vec();
    aad.extend_from_slice(record_ref);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.push(u8::from(is_snapshot));
    aad
}

fn sync_state_aad(record_ref: &[u8; 32], peer_ref: &[u8; 32]) -> Vec<u8> {
    let mut aad = b"redbook/sync-state/v1".to_vec();
    aad.extend_from_slice(record_ref);
    aad.extend_from_slice(peer_ref);
    aad
}

fn row_aad(what: &str, record_ref: &[u8]) -> Vec<u8> {
    let mut aad = format!("redbook/{what}/v1").into_bytes();
    aad.extend_from_slice(record_ref);
    aad
}

fn meta_aad(name: &str) -> String {
    format!("redbook/meta/{name}/v1")
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Clinical data: every commit is on disk before the write returns.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Makes an empty file a redbook database; returns its new database key.
fn create(
    conn: &mut Connection,
    unlock: &Unlock,
    options: &OpenOptions,
) -> Result<SecretKey, Error> {
    configure(conn)?;
    let db_key = SecretKey::generate()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another handle may have created it since we looked.
    if matches!(inspect(&tx)?, FileState::Redbook { .. }) {
        drop(tx);
        return database_key(conn, unlock);
    }
    schema::migrate(&tx, 0, options.create_at_version)?;
    tx.execute(
        "INSERT INTO redbook_meta (name, value) VALUES ('format', ?1)",
        params![b"redbook".as_slice()],
    )?;
    let canary = derive_keys(&db_key).0.seal(CANARY_AAD, CANARY_PLAINTEXT)?;
    put_meta(&tx, "canary", &canary)?;
    write_wrapped_key(&tx, &db_key, unlock, options.passphrase_rounds)?;
    tx.commit()?;
    Ok(db_key)
}

/// Unwraps the database key and checks it against the canary. Reads only: a wrong key
/// leaves the file as it was.
fn database_key(conn: &Connection, unlock: &Unlock) -> Result<SecretKey, Error> {
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

fn derive_keys(db_key: &SecretKey) -> (SecretKey, SecretKey) {
    (
        db_key.derive("redbook/seal/v1"),
        db_key.derive("redbook/lookup/v1"),
    )
}

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

fn put_meta(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO redbook_meta (name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

fn get_meta(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT value FROM redbook_meta WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()
}

/// Looks without writing: is this an empty file, ours, or someone else's?
fn inspect(conn: &Connection) -> rusqlite::Result<FileState> {
    let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some("quick_check failed".into()),
        ));
    }
    let tables: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |row| row.get(0))?;
    let ours: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [schema::META_TABLE],
        |row| row.get(0),
    )?;
    let version = schema::user_version(conn)?;
    Ok(match (tables, ours) {
        (0, _) if version == 0 => FileState::Empty,
        (_, 1) => FileState::Redbook { version },
        _ => FileState::Foreign,
    })
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// Creates the database file readable by this user only (its WAL and shared-memory files
/// take the same mode from SQLite).
fn create_private_file(path: &Path) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    Ok(())
}

/// Renames a damaged file (and its WAL) aside; never deletes it (application-services
/// ADR 0002).
fn move_aside(path: &Path) -> Result<PathBuf, Error> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut target = path.as_os_str().to_owned();
    target.push(format!(".corrupt-{stamp}"));
    let target = PathBuf::from(target);
    std::fs::rename(path, &target)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let mut side_target = target.as_os_str().to_owned();
        side_target.push(suffix);
        if Path::new(&side).exists() {
            std::fs::rename(&side, &side_target)?;
        }
    }
    Ok(target)
}

impl From<CryptoError> for Error {
    fn from(e: CryptoError) -> Self {
        Error::Crypto(e)
    }
}
