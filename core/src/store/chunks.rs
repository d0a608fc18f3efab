//! Each record's sealed chunk log: loading it whole, catching up with other connections,
//! appending, the sealed head that shows nothing was cut, and compaction (docs/adr/0006).

use super::cipher::StoreCipher;
use super::file::get_meta;
use crate::crypto::SecretKey;
use crate::model::RecordId;
use crate::record::VerdictDigest;
use crate::record::{Record, RecordError};
use crate::Error;
use rusqlite::{params, Connection, OptionalExtension};

/// Measured at 5,000 entries: compacting at 1x cost 47 us per write, amortised.
pub(super) const COMPACT_LOOSE_TO_SNAPSHOT: usize = 2;

/// After loose chunks of more bytes than this, the next write compacts (`update_record`).
pub(super) const LARGE_WRITE_BYTES: usize = 256 * 1024;

/// A record as this handle holds it in memory, with where it is in the chunk log.
pub(super) struct OpenRecord {
    pub(super) record: Record,
    pub(super) key: SecretKey,
    /// The record key's epoch (0 until a member is removed).
    pub(super) epoch: u32,
    pub(super) record_ref: [u8; 32],
    pub(super) last_seq: i64,
    /// `PRAGMA data_version` when this copy was last known to match the file: while it
    /// is unchanged no other connection has committed, so the catch-up query is skipped.
    pub(super) seen_version: Option<i64>,
    pub(super) loose_changes: usize,
    pub(super) loose_bytes: usize,
    pub(super) snapshot_bytes: usize,
    /// SHA-256 of the sealed chunk at `last_seq`: verdicts saved at that chunk are bound
    /// to it (`put_verdicts`).
    pub(super) last_chunk_digest: [u8; 32],
    /// The file has the verdicts table (v3; only a test of migrations makes older files).
    pub(super) v3: bool,
}

/// Loads a record whole: its key, every chunk (checked to form one unbroken chain), one
/// automerge load.
pub(super) fn load_record(
    conn: &Connection,
    cipher: &StoreCipher,
    record_ref: [u8; 32],
    id: &RecordId,
    v3: bool,
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
    let (key, epoch) = cipher
        .open_record_key(&record_ref, &sealed_key)
        .ok_or_else(corrupt)?;
    // Decrypt every chunk and load once: applying them one at a time is quadratic.
    let chunks = read_chunks(conn, cipher, &key, &record_ref, 0).map_err(|e| e.for_record(id))?;
    // A chunk deleted from the middle or the end would drop entries silently: the
    // chain starts with a snapshot, has no gap, and ends at the sealed head.
    let head = read_head(conn, cipher, &record_ref, v3)?;
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
    if v3 {
        read_verdicts(conn, cipher, &key, &record_ref, &chunks, &record)?;
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
        last_chunk_digest: [0; 32],
        v3,
    };
    chunks.iter().for_each(|chunk| open.note_chunk(chunk));
    Ok(open)
}

/// Hands the record the verdicts saved beside its chunks. A row whose chunk has changed
/// or gone does not open (its chunk's digest is in its associated data) and is skipped.
fn read_verdicts(
    conn: &Connection,
    cipher: &StoreCipher,
    key: &SecretKey,
    record_ref: &[u8; 32],
    chunks: &[Chunk],
    record: &Record,
) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached("SELECT seq, sealed FROM verdicts WHERE record_ref = ?1")?;
    let rows = stmt.query_map([record_ref.as_slice()], |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    for row in rows {
        let (seq, sealed) = row?;
        let Some(chunk) = chunks.iter().find(|c| c.seq == seq) else {
            continue;
        };
        let at = (seq, &chunk.sealed_digest);
        if let Some(plain) = cipher.open_verdicts(key, record_ref, at, &sealed) {
            record.add_known_good(digests_in(&plain));
        }
    }
    Ok(())
}

/// A verdict row's plaintext: 32-byte digests end to end.
fn digests_in(plain: &[u8]) -> impl Iterator<Item = VerdictDigest> + '_ {
    plain
        .chunks_exact(32)
        .map(|d| VerdictDigest::try_from(d).expect("chunks of 32"))
}

/// Saves verdicts beside the record's last chunk (merged with any already there), within
/// the caller's transaction. `replace` drops every other row first (a new snapshot).
pub(super) fn put_verdicts(
    conn: &Connection,
    cipher: &StoreCipher,
    open: &OpenRecord,
    mut digests: Vec<VerdictDigest>,
    replace: bool,
) -> Result<(), Error> {
    if !open.v3 {
        return Ok(());
    }
    let record_ref = open.record_ref.as_slice();
    if replace {
        conn.prepare_cached("DELETE FROM verdicts WHERE record_ref = ?1")?
            .execute([record_ref])?;
    }
    if digests.is_empty() {
        return Ok(());
    }
    let at = (open.last_seq, &open.last_chunk_digest);
    let existing: Option<Vec<u8>> = conn
        .prepare_cached("SELECT sealed FROM verdicts WHERE record_ref = ?1 AND seq = ?2")?
        .query_row(params![record_ref, open.last_seq], |row| row.get(0))
        .optional()?;
    if let Some(plain) =
        existing.and_then(|sealed| cipher.open_verdicts(&open.key, &open.record_ref, at, &sealed))
    {
        digests.extend(digests_in(&plain));
    }
    let sealed = cipher.seal_verdicts(&open.key, &open.record_ref, at, digests.as_flattened())?;
    conn.prepare_cached(
        "INSERT INTO verdicts (record_ref, seq, sealed) VALUES (?1, ?2, ?3)
         ON CONFLICT(record_ref, seq) DO UPDATE SET sealed = excluded.sealed",
    )?
    .execute(params![record_ref, open.last_seq, sealed])?;
    Ok(())
}

impl OpenRecord {
    fn note_chunk(&mut self, chunk: &Chunk) {
        self.last_seq = chunk.seq;
        self.last_chunk_digest = chunk.sealed_digest;
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
pub(super) fn write_snapshot(
    tx: &Connection,
    cipher: &StoreCipher,
    open: &mut OpenRecord,
    seq: i64,
    snapshot: &[u8],
    local: &[u8],
) -> Result<(), Error> {
    open.last_chunk_digest =
        insert_chunk(tx, cipher, &open.key, &open.record_ref, seq, true, snapshot)?;
    open.last_seq = seq;
    if !local.is_empty() {
        open.last_seq = seq + 1;
        open.last_chunk_digest = insert_chunk(
            tx,
            cipher,
            &open.key,
            &open.record_ref,
            seq + 1,
            false,
            local,
        )?;
    }
    tx.execute(
        "DELETE FROM chunks WHERE record_ref = ?1 AND seq < ?2",
        params![open.record_ref.as_slice(), seq],
    )?;
    open.snapshot_bytes = snapshot.len();
    open.loose_changes = usize::from(!local.is_empty());
    open.loose_bytes = local.len();
    // The old rows were bound to chunks just deleted (or sealed under a key just
    // replaced): every verdict this copy knows moves to the new last chunk.
    put_verdicts(tx, cipher, open, open.record.known_good(), true)
}

/// Applies chunks other connections wrote since this copy was read. The version is read
/// first, so a commit landing during the read is caught the next time.
pub(super) fn catch_up(
    conn: &Connection,
    cipher: &StoreCipher,
    open: &mut OpenRecord,
    id: &RecordId,
) -> Result<(), Error> {
    let version: i64 = conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |row| row.get(0))?;
    if open.seen_version == Some(version) {
        return Ok(());
    }
    let chunks = read_chunks(conn, cipher, &open.key, &open.record_ref, open.last_seq)
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

pub(super) struct Chunk {
    pub(super) seq: i64,
    pub(super) is_snapshot: bool,
    pub(super) bytes: Vec<u8>,
    /// SHA-256 of the chunk as sealed (the verdicts saved at it name it).
    pub(super) sealed_digest: [u8; 32],
}

fn sealed_digest(sealed: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, sealed)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

pub(super) enum ChunkError {
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

pub(super) fn read_chunks(
    conn: &Connection,
    cipher: &StoreCipher,
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
        let bytes = cipher
            .open_chunk(key, record_ref, seq, is_snapshot, &sealed)
            .ok_or(ChunkError::Unauthentic)?;
        chunks.push(Chunk {
            seq,
            is_snapshot,
            bytes,
            sealed_digest: sealed_digest(&sealed),
        });
    }
    Ok(chunks)
}

pub(super) fn insert_chunk(
    conn: &Connection,
    cipher: &StoreCipher,
    key: &SecretKey,
    record_ref: &[u8; 32],
    seq: i64,
    is_snapshot: bool,
    bytes: &[u8],
) -> Result<[u8; 32], Error> {
    let sealed = cipher.seal_chunk(key, record_ref, seq, is_snapshot, bytes)?;
    conn.prepare_cached(
        "INSERT INTO chunks (record_ref, seq, is_snapshot, sealed) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![record_ref.as_slice(), seq, is_snapshot, sealed])?;
    Ok(sealed_digest(&sealed))
}

/// Where a record's chain of chunks ends, sealed under a name that does not reveal the
/// record: in its summaries row (v3), or the meta table in older files.
pub(super) fn head_name(record_ref: &[u8; 32]) -> String {
    format!("head/{}", hex::encode(record_ref))
}

/// The sealed head for `seq`: the caller writes it (`HeadWriter`).
pub(super) fn seal_head(
    cipher: &StoreCipher,
    record_ref: &[u8; 32],
    seq: i64,
) -> Result<Vec<u8>, Error> {
    cipher.seal_meta(&head_name(record_ref), &seq.to_be_bytes())
}

pub(super) fn read_head(
    conn: &Connection,
    cipher: &StoreCipher,
    record_ref: &[u8; 32],
    in_summaries: bool,
) -> Result<Option<i64>, Error> {
    let sealed = if in_summaries {
        conn.prepare_cached("SELECT sealed_head FROM summaries WHERE record_ref = ?1")?
            .query_row([record_ref.as_slice()], |row| row.get::<_, Vec<u8>>(0))
            .optional()?
    } else {
        get_meta(conn, &head_name(record_ref))?
    };
    Ok(sealed.and_then(|sealed| open_head(cipher, record_ref, &sealed)))
}

/// The sequence number a sealed head names, if it opens as this record's.
pub(super) fn open_head(cipher: &StoreCipher, record_ref: &[u8; 32], sealed: &[u8]) -> Option<i64> {
    let bytes = cipher.open_meta(&head_name(record_ref), sealed)?;
    Some(i64::from_be_bytes(bytes.try_into().ok()?))
}

/// A snapshot, then each chunk one on from the last, ending at the head.
pub(super) fn chain_is_whole(chunks: &[Chunk], head: Option<i64>) -> bool {
    chunks.first().is_some_and(|first| first.is_snapshot)
        && chunks.windows(2).all(|w| w[1].seq == w[0].seq + 1)
        && chunks.last().map(|c| c.seq) == head
}
