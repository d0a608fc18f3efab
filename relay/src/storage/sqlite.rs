//! SQLite: one file, one connection (WAL), for a pilot or one clinic.

use super::{
    over_quota, Address, BackupPut, Full, NewMessage, Posted, Quota, Source, Storage, StorageError,
    Totals, SQLITE_MIGRATIONS, TOTAL,
};
use redbook_core::sync::relay_protocol::{Delivered, Tag};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;
use std::sync::Mutex;

pub struct SqliteStorage {
    conn: Mutex<Connection>,
    source_key: [u8; 32],
}

fn failed(e: rusqlite::Error) -> StorageError {
    StorageError::Failed(e.to_string())
}

impl SqliteStorage {
    /// Opens (creating if needed) the relay's database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Self, StorageError> {
        let mut conn = Connection::open(path).map_err(failed)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(failed)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed)?;
        migrate(&mut conn).map_err(failed)?;
        let source_key = source_key(&conn)?;
        Ok(Self {
            conn: Mutex::new(conn),
            source_key,
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS relay_migrations (version INTEGER PRIMARY KEY)",
    )?;
    for (version, sql) in SQLITE_MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT version FROM relay_migrations WHERE version = ?1",
                [version],
                |row| row.get(0),
            )
            .optional()?;
        if done.is_none() {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO relay_migrations (version) VALUES (?1)",
                [version],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// The database's source key, made on first open.
fn source_key(conn: &Connection) -> Result<[u8; 32], StorageError> {
    let fresh = redbook_core::crypto::random_bytes::<32>()
        .map_err(|e| StorageError::Failed(e.to_string()))?;
    conn.execute(
        "INSERT INTO settings (name, value) VALUES ('source_key', ?1) ON CONFLICT (name) DO NOTHING",
        [fresh.as_slice()],
    )
    .map_err(failed)?;
    let key: Vec<u8> = conn
        .query_row(
            "SELECT value FROM settings WHERE name = 'source_key'",
            [],
            |row| row.get(0),
        )
        .map_err(failed)?;
    key.try_into()
        .map_err(|_| StorageError::Failed("the source key is damaged".into()))
}

/// The relay's total and `source`'s, as the `usage` triggers keep them.
fn usage(conn: &Connection, source: &Source) -> rusqlite::Result<(u64, u64)> {
    let bytes = |scope: &[u8]| -> rusqlite::Result<u64> {
        let bytes: Option<i64> = conn
            .query_row("SELECT bytes FROM usage WHERE scope = ?1", [scope], |row| {
                row.get(0)
            })
            .optional()?;
        Ok(bytes.unwrap_or(0).max(0) as u64)
    };
    Ok((bytes(TOTAL)?, bytes(source)?))
}

impl Storage for SqliteStorage {
    fn post(
        &self,
        mailbox: &Address,
        sender: &Tag,
        messages: &[NewMessage],
        now: i64,
        source: &Source,
        quota: Quota,
    ) -> Result<Posted, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let (mut stored, mut added) = (0u32, 0u64);
        for message in messages {
            let inserted = tx
                .execute(
                    "INSERT INTO messages
                        (mailbox, recipient, sender, digest, body, size, stored_at, source)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (mailbox, recipient, digest) DO NOTHING",
                    params![
                        mailbox.as_slice(),
                        message.recipient.as_slice(),
                        sender.as_slice(),
                        message.digest.as_slice(),
                        message.body,
                        message.body.len() as i64,
                        now,
                        source.as_slice()
                    ],
                )
                .map_err(failed)?;
            stored += inserted as u32;
            added += if inserted > 0 {
                message.body.len() as u64
            } else {
                0
            };
        }
        let (mailbox_total, sender_total): (i64, i64) = tx
            .query_row(
                "SELECT COALESCE(SUM(size), 0), COALESCE(SUM(CASE WHEN sender = ?2 THEN size END), 0)
                 FROM messages WHERE mailbox = ?1",
                params![mailbox.as_slice(), sender.as_slice()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(failed)?;
        let (budget, source_total) = usage(&tx, source).map_err(failed)?;
        let totals = Totals {
            budget,
            source: source_total,
            mailbox: mailbox_total as u64,
            sender: sender_total as u64,
        };
        if let Some(full) = over_quota(&totals, added as i64, quota) {
            return Ok(Posted::OverQuota(full)); // dropping the transaction rolls it back
        }
        tx.commit().map_err(failed)?;
        Ok(Posted::Stored {
            stored,
            duplicates: messages.len() as u32 - stored,
        })
    }

    fn fetch(
        &self,
        mailbox: &Address,
        recipient: &Tag,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Delivered>, bool), StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // AUTOINCREMENT keeps the highest sequence number ever issued here.
        let issued: i64 = tx
            .query_row(
                "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)",
                [],
                |row| row.get(0),
            )
            .map_err(failed)?;
        if after > issued {
            return Err(StorageError::UnknownCursor);
        }
        tx.execute(
            "DELETE FROM messages WHERE mailbox = ?1 AND recipient = ?2 AND seq <= ?3",
            params![mailbox.as_slice(), recipient.as_slice(), after],
        )
        .map_err(failed)?;
        let mut messages = {
            let mut statement = tx
                .prepare_cached(
                    "SELECT seq, body FROM messages WHERE mailbox = ?1 AND recipient = ?2 AND seq > ?3
                     ORDER BY seq LIMIT ?4",
                )
                .map_err(failed)?;
            let rows = statement
                .query_map(
                    params![
                        mailbox.as_slice(),
                        recipient.as_slice(),
                        after,
                        limit as i64 + 1
                    ],
                    |row| {
                        Ok(Delivered {
                            seq: row.get::<_, i64>(0)? as u64,
                            body: row.get(1)?,
                        })
                    },
                )
                .map_err(failed)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(failed)?
        };
        tx.commit().map_err(failed)?;
        let more = messages.len() > limit;
        messages.truncate(limit);
        Ok((messages, more))
    }

    fn expire(&self, before: i64) -> Result<u64, StorageError> {
        let conn = self.conn();
        let deleted = conn
            .execute("DELETE FROM messages WHERE stored_at < ?1", [before])
            .map_err(failed)?;
        Ok(deleted as u64)
    }

    fn put_backup(
        &self,
        address: &Address,
        body: &[u8],
        version: i64,
        now: i64,
        source: &Source,
        quota: Quota,
    ) -> Result<BackupPut, StorageError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        let kept: Option<(i64, i64)> = tx
            .query_row(
                "SELECT version, size FROM backups WHERE address = ?1",
                [address.as_slice()],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(failed)?;
        match kept {
            Some((kept, _)) if version <= kept => return Ok(BackupPut::Stale { version: kept }),
            None => {
                let slots: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM backups WHERE source = ?1",
                        [source.as_slice()],
                        |row| row.get(0),
                    )
                    .map_err(failed)?;
                if slots as u64 >= quota.backup_slots {
                    return Ok(BackupPut::OverQuota(Full::Slots));
                }
            }
            Some(_) => {}
        }
        tx.execute(
            "INSERT INTO backups (address, body, stored_at, source, size, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (address) DO UPDATE SET body = excluded.body,
                stored_at = excluded.stored_at, source = excluded.source,
                size = excluded.size, version = excluded.version",
            params![
                address.as_slice(),
                body,
                now,
                source.as_slice(),
                body.len() as i64,
                version
            ],
        )
        .map_err(failed)?;
        let (budget, source_total) = usage(&tx, source).map_err(failed)?;
        let totals = Totals {
            budget,
            source: source_total,
            mailbox: 0,
            sender: 0,
        };
        let added = body.len() as i64 - kept.map_or(0, |(_, size)| size);
        if let Some(full) = over_quota(&totals, added, quota) {
            return Ok(BackupPut::OverQuota(full));
        }
        tx.commit().map_err(failed)?;
        Ok(BackupPut::Stored)
    }

    fn get_backup(&self, address: &Address) -> Result<Option<Vec<u8>>, StorageError> {
        self.conn()
            .query_row(
                "SELECT body FROM backups WHERE address = ?1",
                [address.as_slice()],
                |row| row.get(0),
            )
            .optional()
            .map_err(failed)
    }

    fn expire_backups(&self, before: i64) -> Result<u64, StorageError> {
        let deleted = self
            .conn()
            .execute("DELETE FROM backups WHERE stored_at < ?1", [before])
            .map_err(failed)?;
        Ok(deleted as u64)
    }

    fn usage(&self, source: &Source) -> Result<(u64, u64), StorageError> {
        usage(&self.conn(), source).map_err(failed)
    }

    fn source_key(&self) -> [u8; 32] {
        self.source_key
    }

    fn check(&self) -> Result<(), StorageError> {
        self.conn()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }
}
