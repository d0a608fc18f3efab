//! PostgreSQL: a pool of connections to a managed or replicated server. A connection lost
//! (the server restarted) is replaced on the next checkout; meanwhile requests answer 503.

use super::{
    over_quota, Address, NewMessage, Posted, Quota, Storage, StorageError, POSTGRES_MIGRATIONS,
};
use r2d2_postgres::postgres::{Client, NoTls};
use r2d2_postgres::PostgresConnectionManager;
use redbook_core::sync::relay::{Delivered, Tag};
use std::time::Duration;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

pub struct PostgresStorage {
    /// Always `Some` until dropped.
    pool: Option<Pool>,
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
        let storage = Self { pool: Some(pool) };
        storage.migrate()?;
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

fn post(
    client: &mut Client,
    mailbox: &Address,
    sender: &Tag,
    messages: &[NewMessage],
    now: i64,
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
            "INSERT INTO messages (mailbox, recipient, sender, digest, body, size, stored_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
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
    if let Some(why) = over_quota(mailbox_total as u64, sender_total as u64, added, quota) {
        return Ok(Posted::OverQuota(why)); // dropping the transaction rolls it back
    }
    tx.commit().map_err(failed)?;
    Ok(Posted::Stored {
        stored,
        duplicates: messages.len() as u32 - stored,
    })
}

impl Storage for PostgresStorage {
    fn post(
        &self,
        mailbox: &Address,
        sender: &Tag,
        messages: &[NewMessage],
        now: i64,
        quota: Quota,
    ) -> Result<Posted, StorageError> {
        post(&mut *self.client()?, mailbox, sender, messages, now, quota)
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

    fn put_backup(&self, address: &Address, body: &[u8], now: i64) -> Result<(), StorageError> {
        self.client()?
            .execute(
                "INSERT INTO backups (address, body, stored_at) VALUES ($1, $2, $3)
                 ON CONFLICT (address) DO UPDATE SET body = excluded.body, stored_at = excluded.stored_at",
                &[&address.as_slice(), &body, &now],
            )
            .map_err(failed)?;
        Ok(())
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

    fn check(&self) -> Result<(), StorageError> {
        self.client()?
            .simple_query("SELECT 1")
            .map(|_| ())
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }
}
