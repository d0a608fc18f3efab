//! Schema and migrations over `PRAGMA user_version` (after application-services'
//! `open_database.rs`). Each migration is a step from the version before it; a file
//! newer than this code is refused rather than guessed at.

use rusqlite::{Connection, Transaction};

pub const CURRENT_VERSION: u32 = 3;
/// The table whose presence says "this is a redbook database".
pub const META_TABLE: &str = "redbook_meta";

/// Only opaque ids, salts, sealed bytes and keyed hashes live in these tables.
const V1: &str = "
CREATE TABLE redbook_meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
-- record_ref: keyed hash of the record id; the id and the record key are sealed.
CREATE TABLE records (
    record_ref BLOB PRIMARY KEY,
    sealed_id  BLOB NOT NULL,
    sealed_key BLOB NOT NULL
) WITHOUT ROWID;
-- One row per encrypted automerge chunk: a snapshot or one change, in write order.
CREATE TABLE chunks (
    record_ref  BLOB NOT NULL REFERENCES records(record_ref),
    seq         INTEGER NOT NULL,
    is_snapshot INTEGER NOT NULL,
    sealed      BLOB NOT NULL,
    PRIMARY KEY (record_ref, seq)
) WITHOUT ROWID;
";

/// v2: per-(record, peer) automerge sync state, sealed with the record key.
const V1_TO_V2: &str = "
CREATE TABLE sync_states (
    record_ref   BLOB NOT NULL REFERENCES records(record_ref),
    peer_ref     BLOB NOT NULL,
    sealed_state BLOB NOT NULL,
    PRIMARY KEY (record_ref, peer_ref)
) WITHOUT ROWID;
";

/// v3 (docs/adr/0010-caseload.md): per record its sealed head (moved here from the meta
/// table) and a sealed summary bound to it, so a caseload lists and finds children with
/// one query and one decryption each; and signature verdicts sealed beside the chunk they
/// were reached at, so a cold open does not check every signature again.
const V2_TO_V3: &str = "
-- sealed_head: where the record's chunk chain ends (sealed seq). sealed: the summary,
-- with sealed_head in its associated data; empty until first written.
-- nhs_ref: keyed hash of the child's NHS number (an exact lookup), or NULL.
CREATE TABLE summaries (
    record_ref  BLOB PRIMARY KEY REFERENCES records(record_ref),
    sealed_head BLOB NOT NULL,
    nhs_ref     BLOB,
    sealed      BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX summaries_by_nhs_ref ON summaries(nhs_ref);
INSERT INTO summaries (record_ref, sealed_head, nhs_ref, sealed)
    SELECT r.record_ref, m.value, NULL, x''
    FROM records r JOIN redbook_meta m ON m.name = 'head/' || lower(hex(r.record_ref));
DELETE FROM redbook_meta WHERE name LIKE 'head/%';
CREATE TABLE verdicts (
    record_ref BLOB NOT NULL REFERENCES records(record_ref),
    seq        INTEGER NOT NULL,
    sealed     BLOB NOT NULL,
    PRIMARY KEY (record_ref, seq)
) WITHOUT ROWID;
";

const STEPS: [&str; CURRENT_VERSION as usize] = [V1, V1_TO_V2, V2_TO_V3];

pub fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings a file from `from` up to `to` inside the caller's transaction.
pub fn migrate(tx: &Transaction<'_>, from: u32, to: u32) -> rusqlite::Result<()> {
    for step in from..to {
        tx.execute_batch(STEPS[step as usize])?;
    }
    tx.pragma_update(None, "user_version", to)?;
    Ok(())
}
