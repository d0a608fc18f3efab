//! PostgreSQL: a pool of connections to a managed or replicated server. A connection lost
//! (the server restarted) is replaced on the next checkout; meanwhile requests answer 503.

use super::{
    over_quota, Address, BackupPut, Full, NewMessage, Posted, Quota, Source, Storage, StorageError,
    Totals, POSTGRES_MIGRATIONS, TOTAL,
};
use r2d2_postgres::postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use redbook_core::sync::relay_protocol::{Delivered, Tag};
use std::time::Duration;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

pub struct PostgresStorage {
    /// Always `Some` until dropped.
    pool: Option<Pool>,
    source_key: [u8; 32],
}

impl Drop for PostgresStorage {
    /// The blocking client closes its connections on a runtime of its own, which may not
    /// start on the relay's async threads, where the last reference may go: close them on
    /// a thread of their own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::spawn(move || drop(pool)).join();
        }
    }
}

fn failed(e: r2d2_postgres::postgres::Error) -> StorageError {
    // A closed connection or an unreachable server is worth retrying; the rest is not.
    if e.is_closed() || e.as_db_error().is_none() {
        StorageError::Unavailable(e.to_string())
    } else {
        StorageError::Failed(e.to_string())
    }
}

impl PostgresStorage {
    /// Connects to `url` (`postgresql://user@host:port/db`; TLS is the deployment's
    /// proxy's or the server's own) and migrates the database.
    pub fn connect(url: &str) -> Result<Self, StorageError> {
        let config = url
            .parse()
            .map_err(|e: r2d2_postgres::postgres::Error| StorageError::Failed(e.to_string()))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(5))
            .build(manager)
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let mut storage = Self {
            pool: Some(pool),
            source_key: [0; 32],
        };
        storage.migrate()?;
        storage.source_key = storage.load_source_key()?;
        Ok(storage)
    }

    fn client(
        &self,
    ) -> Result<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>, StorageError> {
        self.pool
            .as_ref()
            .expect("taken only when dropped")
            .get()
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    fn migrate(&self) -> Result<(), StorageError> {
        let mut client = self.client()?;
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS relay_migrations (version BIGINT PRIMARY KEY)",
            )
            .map_err(failed)?;
        for (version, sql) in POSTGRES_MIGRATIONS {
            let mut tx = client.transaction().map_err(failed)?;
            // One relay at a time migrates; the others wait here, then find it done.
            tx.batch_execute("LOCK TABLE relay_migrations IN EXCLUSIVE MODE")
                .map_err(failed)?;
            let done = tx
                .query_opt(
                    "SELECT version FROM relay_migrations WHERE version = $1",
                    &[version],
                )
                .map_err(failed)?;
            if done.is_none() {
                tx.batch_execute(sql).map_err(failed)?;
                tx.execute(
                    "INSERT INTO relay_migrations (version) VALUES ($1)",
                    &[version],
                )
                .map_err(failed)?;
            }
            tx.commit().map_err(failed)?;
        }
        Ok(())
    }
}

impl PostgresStorage {
    /// The database's source key, made by the first relay to connect.
    fn load_source_key(&self) -> Result<[u8; 32], StorageError> {
        let fresh = redbook_core::crypto::random_bytes::<32>()
            .map_err(|e| StorageError::Failed(e.to_string()))?;
        let mut client = self.client()?;
        client
            .execute(
                "INSERT INTO settings (name, value) VALUES ('source_key', $1)
                 ON CONFLICT (name) DO NOTHING",
                &[&fresh.as_slice()],
            )
            .map_err(failed)?;
        let key: Vec<u8> = client
            .query_one("SELECT value FROM settings WHERE name = 'source_key'", &[])
            .map_err(failed)?
            .get(0);
        key.try_into()
            .map_err(|_| StorageError::Failed("the source key is damaged".into()))
    }
}

/// The relay's total and `source`'s, as the `usage` trigger keeps them.
fn usage(
    client: &mut impl r2d2_postgres::postgres::GenericClient,
    source: &Source,
) -> Result<(u64, u64), StorageError> {
    let mut bytes = |scope: &[u8]| -> Result<u64, StorageError> {
        let row = client
            .query_opt("SELECT bytes FROM usage WHERE scope = $1", &[&scope])
            .map_err(failed)?;
        Ok(row.map_or(0, |row| row.get::<_, i64>(0)).max(0) as u64)
    };
    Ok((bytes(TOTAL)?, bytes(source)?))
}

fn post(
    client: &mut Client,
    mailbox: &Address,
    sender: &Tag,
    messages: &[NewMessage],
    now: i64,
    source: &Source,
    quota: Quota,
) -> Result<Posted, StorageError> {
    let mut tx = client.transaction().map_err(failed)?;
    // Posts to one mailbox take turns, so its messages commit in the order of their
    // sequence numbers: a reader never passes a number that commits later (it would never
    // be delivered), and the quota check sees every earlier post.
    let lock = i64::from_be_bytes(mailbox[..8].try_into().expect("8 bytes"));
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .map_err(failed)?;
    let insert = tx
        .prepare(
            "INSERT INTO messages
                (mailbox, recipient, sender, digest, body, size, stored_at, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (mailbox, recipient, digest) DO NOTHING",
        )
        .map_err(failed)?;
    let (mut stored, mut added) = (0u32, 0u64);
    for message in messages {
        let size = message.body.len() as i64;
        let inserted = tx
            .execute(
                &insert,
                &[
                    &mailbox.as_slice(),
                    &message.recipient.as_slice(),
                    &sender.as_slice(),
                    &message.digest.as_slice(),
                    &message.body,
                    &size,
                    &now,
                    &source.as_slice(),
                ],
            )
            .map_err(failed)?;
        stored += inserted as u32;
        added += if inserted > 0 { size as u64 } else { 0 };
    }
    let row = tx
        .query_one(
            "SELECT COALESCE(SUM(size), 0)::BIGINT,
                    COALESCE(SUM(CASE WHEN sender = $2 THEN size END), 0)::BIGINT
             FROM messages WHERE mailbox = $1",
            &[&mailbox.as_slice(), &sender.as_slice()],
        )
        .map_err(failed)?;
    let (mailbox_total, sender_total): (i64, i64) = (row.get(0), row.get(1));
    let (budget, source_total) = usage(&mut tx, source)?;
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

fn put_backup(
    client: &mut Client,
    address: &Address,
    body: &[u8],
    version: i64,
    now: i64,
    source: &Source,
    quota: Quota,
) -> Result<BackupPut, StorageError> {
    let mut tx = client.transaction().map_err(failed)?;
    // Writes to one slot take turns, so two uploads cannot both pass the version check.
    let lock = i64::from_be_bytes(address[..8].try_into().expect("8 bytes"));
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
        .map_err(failed)?;
    let kept = tx
        .query_opt(
            "SELECT version, size FROM backups WHERE address = $1",
            &[&address.as_slice()],
        )
        .map_err(failed)?
        .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)));
    match kept {
        Some((kept, _)) if version <= kept => return Ok(BackupPut::Stale { version: kept }),
        None => {
            // A source's new slots take turns, so two at once cannot both pass the count.
            let lock = i64::from_be_bytes(source[..8].try_into().expect("8 bytes"));
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
                .map_err(failed)?;
            let slots: i64 = tx
                .query_one(
                    "SELECT COUNT(*) FROM backups WHERE source = $1",
                    &[&source.as_slice()],
                )
                .map_err(failed)?
                .get(0);
            if slots as u64 >= quota.backup_slots {
                return Ok(BackupPut::OverQuota(Full::Slots));
            }
        }
        Some(_) => {}
    }
    let size = body.len() as i64;
    tx.execute(
        "INSERT INTO backups (address, body, stored_at, source, size, version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (address) DO UPDATE SET body = excluded.body,
            stored_at = excluded.stored_at, source = excluded.source,
            size = excluded.size, version = excluded.version",
        &[
            &address.as_slice(),
            &body,
            &now,
            &source.as_slice(),
            &size,
            &version,
        ],
    )
    .map_err(failed)?;
    let (budget, source_total) = usage(&mut tx, source)?;
    let totals = Totals {
        budget,
        source: source_total,
        mailbox: 0,
        sender: 0,
    };
    if let Some(full) = over_quota(&totals, size - kept.map_or(0, |(_, size)| size), quota) {
        return Ok(BackupPut::OverQuota(full));
    }
    tx.commit().map_err(failed)?;
    Ok(BackupPut::Stored)
}

impl Storage for PostgresStorage {
    fn post(
        &self,
        mailbox: &Address,
        sender: &Tag,
        messages: &[NewMessage],
        now: i64,
        source: &Source,
        quota: Quota,
    ) -> Result<Posted, StorageError> {
        post(
            &mut *self.client()?,
            mailbox,
            sender,
            messages,
            now,
            source,
            quota,
        )
    }

    fn fetch(
        &self,
        mailbox: &Address,
        recipient: &Tag,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Delivered>, bool), StorageError> {
        let mut client = self.client()?;
        let mut tx = client.transaction().map_err(failed)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // The serial's sequence holds the highest number ever issued (committed or not).
        let issued: i64 = tx
            .query_one(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM messages_seq_seq",
                &[],
            )
            .map_err(failed)?
            .get(0);
        if after > issued {
            return Err(StorageError::UnknownCursor);
        }
        tx.execute(
            "DELETE FROM messages WHERE mailbox = $1 AND recipient = $2 AND seq <= $3",
            &[&mailbox.as_slice(), &recipient.as_slice(), &after],
        )
        .map_err(failed)?;
        let rows = tx
            .query(
                "SELECT seq, body FROM messages WHERE mailbox = $1 AND recipient = $2 AND seq > $3
                 ORDER BY seq LIMIT $4",
                &[
                    &mailbox.as_slice(),
                    &recipient.as_slice(),
                    &after,
                    &(limit as i64 + 1),
                ],
            )
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        let more = rows.len() > limit;
        let messages = rows
            .into_iter()
            .take(limit)
            .map(|row| Delivered {
                seq: row.get::<_, i64>(0) as u64,
                body: row.get(1),
            })
            .collect();
        Ok((messages, more))
    }

    fn expire(&self, before: i64) -> Result<u64, StorageError> {
        self.client()?
            .execute("DELETE FROM messages WHERE stored_at < $1", &[&before])
            .map_err(failed)
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
        put_backup(
            &mut *self.client()?,
            address,
            body,
            version,
            now,
            source,
            quota,
        )
    }

    fn get_backup(&self, address: &Address) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .client()?
            .query_opt(
                "SELECT body FROM backups WHERE address = $1",
                &[&address.as_slice()],
            )
            .map_err(failed)?
            .map(|row| row.get(0)))
    }

    fn expire_backups(&self, before: i64) -> Result<u64, StorageError> {
        self.client()?
            .execute("DELETE FROM backups WHERE stored_at < $1", &[&before])
            .map_err(failed)
    }

    fn usage(&self, source: &Source) -> Result<(u64, u64), StorageError> {
        usage(&mut *self.client()?, source)
    }

    fn source_key(&self) -> [u8; 32] {
        self.source_key
    }

    fn check(&self) -> Result<(), StorageError> {
        self.client()?
            .simple_query("SELECT 1")
            .map(|_| ())
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }
}
