//! The database file itself: what is in it (ours, empty, foreign), its configuration,
//! creating it private to its user, the meta table, and moving a damaged file aside.

use super::cipher::StoreCipher;
use super::unlock::Unlock;
use super::{schema, OpenOptions};
use crate::Error;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) enum FileState {
    Empty,
    Foreign,
    Redbook { version: u32 },
}

pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Clinical data: every commit is on disk before the write returns.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Makes an empty file a redbook database under a new database key; its cipher.
pub(super) fn create(
    conn: &mut Connection,
    unlock: &Unlock,
    options: &OpenOptions,
) -> Result<StoreCipher, Error> {
    configure(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another handle may have created it since we looked.
    if matches!(inspect(&tx)?, FileState::Redbook { .. }) {
        drop(tx);
        return StoreCipher::unlock(conn, unlock);
    }
    schema::migrate(&tx, 0, options.create_at_version)?;
    tx.execute(
        "INSERT INTO redbook_meta (name, value) VALUES ('format', ?1)",
        params![b"redbook".as_slice()],
    )?;
    let cipher = StoreCipher::create(&tx, unlock, options.passphrase_rounds)?;
    tx.commit()?;
    Ok(cipher)
}

pub(super) fn put_meta(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO redbook_meta (name, value) VALUES (?1, ?2)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

pub(super) fn get_meta(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT value FROM redbook_meta WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()
}

/// Looks without writing: is this an empty file, ours, or someone else's?
pub(super) fn inspect(conn: &Connection) -> rusqlite::Result<FileState> {
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

pub(super) fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase)
    )
}

/// Creates the database file readable by this user only (its WAL and shared-memory files
/// take the same mode from SQLite).
pub(super) fn create_private_file(path: &Path) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    Ok(())
}

/// Renames a damaged file (and its WAL) aside; never deletes it (application-services
/// ADR 0002).
pub(super) fn move_aside(path: &Path) -> Result<PathBuf, Error> {
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
