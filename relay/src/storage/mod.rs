//! Where the relay keeps messages: one trait, SQLite for a pilot or one clinic (one file,
//! nothing to set up), PostgreSQL for a deployment (the relay tier keeps no state, so it
//! scales out in front of a managed or replicated server). Both hold the same table:
//! opaque mailbox addresses and inbox tags, sealed bodies, sizes and times, nothing else.

use redbook_core::sync::relay::{Delivered, Tag};

mod postgres;
mod sqlite;

pub use self::postgres::PostgresStorage;
pub use self::sqlite::SqliteStorage;

pub type Address = [u8; 32];

/// One message to store, with its content address.
pub struct NewMessage {
    pub recipient: Tag,
    pub digest: [u8; 32],
    pub body: Vec<u8>,
}

/// How much one mailbox, and one device within it, may hold at once.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub mailbox_bytes: u64,
    pub sender_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Stored {
        stored: u32,
        duplicates: u32,
    },
    /// Nothing was stored: the mailbox (or this sender's share of it) would be over quota.
    OverQuota(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot be reached (restarting, network): the request may be retried.
    #[error("storage unavailable")]
    Unavailable(String),
    #[error("storage error")]
    Failed(String),
    /// A fetch's cursor is beyond any sequence number this storage has issued: it was
    /// taken on another relay, or before this one's database was rebuilt. Nothing is
    /// deleted; the device reads the inbox from the start.
    #[error("unknown cursor")]
    UnknownCursor,
}

/// The relay's storage. Calls block; the server runs them off its async threads.
pub trait Storage: Send + Sync + 'static {
    /// Stores each message not already in its inbox (same content address), all or none.
    fn post(
        &self,
        mailbox: &Address,
        sender: &Tag,
        messages: &[NewMessage],
        now: i64,
        quota: Quota,
    ) -> Result<Posted, StorageError>;

    /// Deletes what the inbox acknowledged (every message up to `after`), then returns up to
    /// `limit` messages after it, oldest first, and whether more wait. A cursor beyond any
    /// sequence number issued here is `UnknownCursor`, and deletes nothing.
    fn fetch(
        &self,
        mailbox: &Address,
        recipient: &Tag,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<Delivered>, bool), StorageError>;

    /// Deletes every message stored before `before` (Unix seconds); returns how many.
    fn expire(&self, before: i64) -> Result<u64, StorageError>;

    /// Keeps `body` as the backup in slot `address`, replacing what was there.
    fn put_backup(&self, address: &Address, body: &[u8], now: i64) -> Result<(), StorageError>;

    /// The backup in slot `address`, if there is one.
    fn get_backup(&self, address: &Address) -> Result<Option<Vec<u8>>, StorageError>;

    /// Deletes every backup last written before `before`; returns how many.
    fn expire_backups(&self, before: i64) -> Result<u64, StorageError>;

    /// Whether the storage answers (for `/health`).
    fn check(&self) -> Result<(), StorageError>;
}

/// The migrations, in order, as (version, SQL) for each backend; each runs once, in a
/// transaction, recorded in `relay_migrations`.
pub(crate) const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        mailbox BLOB NOT NULL,
        recipient BLOB NOT NULL,
        sender BLOB NOT NULL,
        digest BLOB NOT NULL,
        body BLOB NOT NULL,
        size INTEGER NOT NULL,
        stored_at INTEGER NOT NULL,
        UNIQUE (mailbox, recipient, digest)
    );
    CREATE INDEX messages_inbox ON messages (mailbox, recipient, seq);
    CREATE INDEX messages_sender ON messages (mailbox, sender);
    CREATE INDEX messages_age ON messages (stored_at);",
    ),
    (
        2,
        "CREATE TABLE backups (
            address BLOB PRIMARY KEY,
            body BLOB NOT NULL,
            stored_at INTEGER NOT NULL
        );",
    ),
];

pub(crate) const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE messages (
        seq BIGSERIAL PRIMARY KEY,
        mailbox BYTEA NOT NULL,
        recipient BYTEA NOT NULL,
        sender BYTEA NOT NULL,
        digest BYTEA NOT NULL,
        body BYTEA NOT NULL,
        size BIGINT NOT NULL,
        stored_at BIGINT NOT NULL,
        UNIQUE (mailbox, recipient, digest)
    );
    CREATE INDEX messages_inbox ON messages (mailbox, recipient, seq);
    CREATE INDEX messages_sender ON messages (mailbox, sender);
    CREATE INDEX messages_age ON messages (stored_at);",
    ),
    (
        2,
        "CREATE TABLE backups (
            address BYTEA PRIMARY KEY,
            body BYTEA NOT NULL,
            stored_at BIGINT NOT NULL
        );",
    ),
];

/// Why a post that added `added` bytes, leaving these totals, must be undone, if it must.
/// A post of nothing new (only repeats) is never refused.
fn over_quota(
    mailbox_total: u64,
    sender_total: u64,
    added: u64,
    quota: Quota,
) -> Option<&'static str> {
    if added == 0 {
        None
    } else if mailbox_total > quota.mailbox_bytes {
        Some("the mailbox is full: its devices must fetch what waits first")
    } else if sender_total > quota.sender_bytes {
        Some("this device has too much waiting in the mailbox")
    } else {
        None
    }
}
