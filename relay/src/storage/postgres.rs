//! PostgreSQL: a pool of connections to a managed or replicated server. A connection lost
//! (the server restarted) is replaced on the next checkout; meanwhile requests answer 503.
//! Posts and fetches go in batches, each one call of a function the migrations make, on
//! statements each connection prepares once.

use super::{
    over_quota, Address, BackupPut, FetchRequest, Fetched, Full, NewMessage, PostRequest, Posted,
    Quota, Source, Storage, StorageError, Totals, POSTGRES_MIGRATIONS, TOTAL,
};
use postgres::{Client, NoTls, Statement};
use redbook_core::sync::relay_protocol::{Delivered, Tag};
use std::collections::HashMap;
use std::time::Duration;

/// Connections in each relay's pool, all opened at start: one for each kind of batch
/// (posts, fetches) and the rest for backups, health checks and expiry. The server must
/// allow this many for each relay (README, "Several relays").
pub const POOL_SIZE: u32 = 8;

/// A connection and the statements it has prepared, so a statement is parsed and planned
/// once per connection instead of once per call (a round trip each time).
pub struct Connection {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

impl Connection {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StorageError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).map_err(failed)?;
        self.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

struct Manager {
    config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.config.connect(NoTls)?,
            prepared: HashMap::new(),
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), postgres::Error> {
        connection.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.client.is_closed()
    }
}

type Pool = r2d2::Pool<Manager>;

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

fn failed(e: postgres::Error) -> StorageError {
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
            .map_err(|e: postgres::Error| StorageError::Failed(e.to_string()))?;
        let manager = Manager { config };
        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
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

    fn client(&self) -> Result<r2d2::PooledConnection<Manager>, StorageError> {
        self.pool
            .as_ref()
            .expect("taken only when dropped")
            .get()
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    fn migrate(&self) -> Result<(), StorageError> {
        let mut connection = self.client()?;
        let client = &mut connection.client;
        // Relays started together take turns: two creating the table at once would clash.
        client
            .batch_execute(
                "SELECT pg_advisory_lock(7304065); \
                 CREATE TABLE IF NOT EXISTS relay_migrations (version BIGINT PRIMARY KEY); \
                 SELECT pg_advisory_unlock(7304065);",
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
        let mut connection = self.client()?;
        let client = &mut connection.client;
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
    client: &mut impl postgres::GenericClient,
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

const POST_BATCH: &str = "SELECT stored_count, duplicate_count, refusal FROM relay_post_batch(
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

const FETCH_BATCH: &str =
    "SELECT request, message_seq, message_body FROM relay_fetch_batch($1, $2, $3, $4, $5)";

const COUNT_REQUESTS: &str = "INSERT INTO request_counts (scope, minute, requests)
    SELECT k.scope, $2, count(*) FROM unnest($1::bytea[]) AS k(scope)
    GROUP BY k.scope ORDER BY k.scope
    ON CONFLICT (scope, minute) DO UPDATE SET requests = request_counts.requests + excluded.requests
    RETURNING scope, requests";

/// The advisory lock a mailbox's posts take turns on (the same key since the first
/// relay, so relays of different versions over one database still take turns).
fn mailbox_lock(mailbox: &Address) -> i64 {
    i64::from_be_bytes(mailbox[..8].try_into().expect("8 bytes"))
}

/// A quota as PostgreSQL's BIGINT holds it (a deployment may set "no limit": u64::MAX).
fn bigint(limit: u64) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Stores a batch of posts in one call and one transaction (`relay_post_batch`).
fn post_batch(
    connection: &mut Connection,
    posts: &[PostRequest],
    now: i64,
    quota: Quota,
) -> Result<Vec<Posted>, StorageError> {
    let mut locks: Vec<i64> = posts.iter().map(|p| mailbox_lock(&p.mailbox)).collect();
    locks.sort_unstable();
    locks.dedup();
    let mailboxes: Vec<&[u8]> = posts.iter().map(|p| p.mailbox.as_slice()).collect();
    let senders: Vec<&[u8]> = posts.iter().map(|p| p.sender.as_slice()).collect();
    let sources: Vec<&[u8]> = posts.iter().map(|p| p.source.as_slice()).collect();
    let counts: Vec<i32> = posts
        .iter()
        .map(|p| i32::try_from(p.messages.len()).unwrap_or(i32::MAX))
        .collect();
    let messages = || posts.iter().flat_map(|p| p.messages.iter());
    let recipients: Vec<&[u8]> = messages().map(|m| m.recipient.as_slice()).collect();
    let digests: Vec<&[u8]> = messages().map(|m| m.digest.as_slice()).collect();
    let bodies: Vec<&[u8]> = messages().map(|m| m.body.as_slice()).collect();
    let statement = connection.statement(POST_BATCH)?;
    let rows = connection
        .client
        .query(
            &statement,
            &[
                &locks,
                &mailboxes,
                &senders,
                &sources,
                &counts,
                &recipients,
                &digests,
                &bodies,
                &now,
                &bigint(quota.mailbox_bytes),
                &bigint(quota.sender_bytes),
                &bigint(quota.source_bytes),
                &bigint(quota.budget_bytes),
            ],
        )
        .map_err(failed)?;
    if rows.len() != posts.len() {
        return Err(StorageError::Failed("a batch answered short".into()));
    }
    rows.iter()
        .map(|row| {
            let refusal: Option<&str> = row.get(2);
            Ok(match refusal {
                None => Posted::Stored {
                    stored: row.get::<_, i32>(0) as u32,
                    duplicates: row.get::<_, i32>(1) as u32,
                },
                Some("budget") => Posted::OverQuota(Full::Budget),
                Some("source") => Posted::OverQuota(Full::Source),
                Some("mailbox") => Posted::OverQuota(Full::Mailbox),
                Some("sender") => Posted::OverQuota(Full::Sender),
                Some(_) => return Err(StorageError::Failed("an unknown refusal".into())),
            })
        })
        .collect()
}

/// Answers a batch of fetches in one call and one transaction (`relay_fetch_batch`).
fn fetch_batch(
    connection: &mut Connection,
    fetches: &[FetchRequest],
) -> Result<Vec<Result<Fetched, StorageError>>, StorageError> {
    let mailboxes: Vec<&[u8]> = fetches.iter().map(|f| f.mailbox.as_slice()).collect();
    let recipients: Vec<&[u8]> = fetches.iter().map(|f| f.recipient.as_slice()).collect();
    let afters: Vec<i64> = fetches
        .iter()
        .map(|f| i64::try_from(f.after).unwrap_or(i64::MAX))
        .collect();
    let limits: Vec<i32> = fetches
        .iter()
        .map(|f| i32::try_from(f.limit).unwrap_or(i32::MAX - 1))
        .collect();
    // One bound for the batch (every fetch of a relay has the same).
    let max_bytes = fetches.iter().map(|f| f.max_bytes).min().unwrap_or(0);
    let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
    let statement = connection.statement(FETCH_BATCH)?;
    let rows = connection
        .client
        .query(
            &statement,
            &[&mailboxes, &recipients, &afters, &limits, &max_bytes],
        )
        .map_err(failed)?;
    let mut answers: Vec<Result<Fetched, StorageError>> =
        fetches.iter().map(|_| Ok((Vec::new(), false))).collect();
    for row in rows {
        let request = usize::try_from(row.get::<_, i32>(0) - 1)
            .ok()
            .filter(|&i| i < fetches.len())
            .ok_or_else(|| StorageError::Failed("a batch answered out of range".into()))?;
        let seq: Option<i64> = row.get(1);
        let body: Option<Vec<u8>> = row.get(2);
        match (seq, &mut answers[request]) {
            (None, answer) => *answer = Err(StorageError::UnknownCursor),
            (Some(seq), Ok((messages, more))) => match body {
                Some(body) if !*more && messages.len() < fetches[request].limit => {
                    messages.push(Delivered {
                        seq: seq as u64,
                        body,
                    })
                }
                // Past the limit, or past the bytes: it waits for the next fetch.
                _ => *more = true,
            },
            (Some(_), Err(_)) => {}
        }
    }
    Ok(answers)
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
        let post = PostRequest {
            mailbox: *mailbox,
            sender: *sender,
            messages: messages
                .iter()
                .map(|m| NewMessage {
                    recipient: m.recipient,
                    digest: m.digest,
                    body: m.body.clone(),
                })
                .collect(),
            source: *source,
        };
        let mut posted = post_batch(&mut *self.client()?, &[post], now, quota)?;
        Ok(posted.remove(0))
    }

    fn post_batch(
        &self,
        posts: &[PostRequest],
        now: i64,
        quota: Quota,
    ) -> Vec<Result<Posted, StorageError>> {
        match self
            .client()
            .and_then(|mut connection| post_batch(&mut connection, posts, now, quota))
        {
            Ok(posted) => posted.into_iter().map(Ok).collect(),
            // A batch that failed for a reason of its own (not the server gone) is tried
            // post by post, so what failed it fails only its own post.
            Err(StorageError::Failed(_)) if posts.len() > 1 => posts
                .iter()
                .map(|p| {
                    self.post_batch(std::slice::from_ref(p), now, quota)
                        .remove(0)
                })
                .collect(),
            Err(e) => posts.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn fetch(
        &self,
        mailbox: &Address,
        recipient: &Tag,
        after: u64,
        limit: usize,
    ) -> Result<Fetched, StorageError> {
        let fetch = FetchRequest {
            mailbox: *mailbox,
            recipient: *recipient,
            after,
            limit,
            max_bytes: usize::MAX,
        };
        fetch_batch(&mut *self.client()?, &[fetch])?.remove(0)
    }

    fn fetch_batch(&self, fetches: &[FetchRequest]) -> Vec<Result<Fetched, StorageError>> {
        match self
            .client()
            .and_then(|mut connection| fetch_batch(&mut connection, fetches))
        {
            Ok(answers) => answers,
            Err(StorageError::Failed(_)) if fetches.len() > 1 => fetches
                .iter()
                .map(|f| self.fetch_batch(std::slice::from_ref(f)).remove(0))
                .collect(),
            Err(e) => fetches.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    fn count_requests(
        &self,
        scopes: &[&[u8]],
        minute: i64,
    ) -> Result<Option<Vec<u64>>, StorageError> {
        if scopes.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut connection = self.client()?;
        let statement = connection.statement(COUNT_REQUESTS)?;
        let rows = connection
            .client
            .query(&statement, &[&scopes, &minute])
            .map_err(failed)?;
        let totals: HashMap<Vec<u8>, i64> = rows
            .iter()
            .map(|row| (row.get::<_, Vec<u8>>(0), row.get::<_, i64>(1)))
            .collect();
        // The batch's own requests are the last ones counted: number them in order.
        let mut in_batch: HashMap<&[u8], i64> = HashMap::new();
        for scope in scopes {
            *in_batch.entry(scope).or_default() += 1;
        }
        let mut seen: HashMap<&[u8], i64> = HashMap::new();
        Ok(Some(
            scopes
                .iter()
                .map(|scope| {
                    let before = totals.get(*scope).copied().unwrap_or(0) - in_batch[scope];
                    let position = seen.entry(scope).or_default();
                    *position += 1;
                    (before + *position).max(0) as u64
                })
                .collect(),
        ))
    }

    fn expire(&self, before: i64) -> Result<u64, StorageError> {
        let mut connection = self.client()?;
        let mut tx = connection.client.transaction().map_err(failed)?;
        // The relay's total first, as every writer takes it (storage/mod.rs, migration 4).
        tx.execute("SELECT 1 FROM usage WHERE scope = $1 FOR UPDATE", &[&TOTAL])
            .map_err(failed)?;
        let expired = tx
            .execute("DELETE FROM messages WHERE stored_at < $1", &[&before])
            .map_err(failed)?;
        // Request counts are needed for the minute in progress only.
        let minute = chrono::Utc::now().timestamp().div_euclid(60);
        tx.execute(
            "DELETE FROM request_counts WHERE minute < $1",
            &[&(minute - 1)],
        )
        .map_err(failed)?;
        tx.commit().map_err(failed)?;
        Ok(expired)
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
            &mut self.client()?.client,
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
            .client
            .query_opt(
                "SELECT body FROM backups WHERE address = $1",
                &[&address.as_slice()],
            )
            .map_err(failed)?
            .map(|row| row.get(0)))
    }

    fn expire_backups(&self, before: i64) -> Result<u64, StorageError> {
        self.client()?
            .client
            .execute("DELETE FROM backups WHERE stored_at < $1", &[&before])
            .map_err(failed)
    }

    fn usage(&self, source: &Source) -> Result<(u64, u64), StorageError> {
        usage(&mut self.client()?.client, source)
    }

    fn source_key(&self) -> [u8; 32] {
        self.source_key
    }

    fn check(&self) -> Result<(), StorageError> {
        self.client()?
            .client
            .simple_query("SELECT 1")
            .map(|_| ())
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }
}
