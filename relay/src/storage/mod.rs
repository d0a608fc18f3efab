//! Where the relay keeps messages: one trait, SQLite for a pilot or one clinic (one file,
//! nothing to set up), PostgreSQL for a deployment (the relay tier keeps no state, so it
//! scales out in front of a managed or replicated server). Both hold the same table:
//! opaque mailbox addresses and inbox tags, sealed bodies, sizes and times, and a keyed
//! hash of the network source that stored each (for per-source quotas), nothing else.

use redbook_core::sync::relay_protocol::{Delivered, Tag};

mod postgres;
mod sqlite;

pub use self::postgres::PostgresStorage;
pub use self::sqlite::SqliteStorage;

pub type Address = [u8; 32];

/// A network source (an IPv4 address or an IPv6 /64) as the relay keeps it: a keyed hash,
/// so the database holds no address in the clear.
pub type Source = [u8; 16];

/// One message to store, with its content address.
pub struct NewMessage {
    pub recipient: Tag,
    pub digest: [u8; 32],
    pub body: Vec<u8>,
}

/// One post, as a batch of posts carries it (what `Storage::post` takes).
pub struct PostRequest {
    pub mailbox: Address,
    pub sender: Tag,
    pub messages: Vec<NewMessage>,
    pub source: Source,
}

impl PostRequest {
    /// The bytes its messages carry.
    pub fn bytes(&self) -> usize {
        self.messages.iter().map(|m| m.body.len()).sum()
    }
}

/// One fetch, as a batch of fetches carries it (what `Storage::fetch` takes, and a bound
/// on the answer's bytes).
#[derive(Clone, Copy)]
pub struct FetchRequest {
    pub mailbox: Address,
    pub recipient: Tag,
    pub after: u64,
    pub limit: usize,
    /// The answer stops at the first message that starts past this many bytes (so it
    /// always holds one, however large) and says more wait.
    pub max_bytes: usize,
}

/// Messages fetched, oldest first, and whether more wait.
pub type Fetched = (Vec<Delivered>, bool);

/// How much may be held at once: by one mailbox, one device within it, one network source
/// (messages and backups together, however many mailboxes or slots it makes), and the
/// whole relay; and how many backup slots one source may keep.
#[derive(Debug, Clone, Copy)]
pub struct Quota {
    pub mailbox_bytes: u64,
    pub sender_bytes: u64,
    pub source_bytes: u64,
    pub budget_bytes: u64,
    pub backup_slots: u64,
}

impl Default for Quota {
    fn default() -> Self {
        Self {
            mailbox_bytes: 64 << 20,
            sender_bytes: 32 << 20,
            source_bytes: 64 << 20,
            budget_bytes: 8 << 30,
            backup_slots: 16,
        }
    }
}

/// Which limit a write would pass; nothing of it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The relay's whole storage budget.
    Budget,
    Mailbox,
    Sender,
    Source,
    /// The backup slots one source may keep.
    Slots,
}

impl Full {
    /// The reason given to the device (no identifiers in it).
    pub fn reason(self) -> &'static str {
        match self {
            Full::Budget => "the relay is full; try again later",
            Full::Mailbox => "the mailbox is full: its devices must fetch what waits first",
            Full::Sender => "this device has too much waiting in the mailbox",
            Full::Source => "this network address has too much stored on the relay",
            Full::Slots => "this network address keeps too many backups on the relay",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    Stored {
        stored: u32,
        duplicates: u32,
    },
    /// Nothing was stored: a limit would be passed.
    OverQuota(Full),
}

/// What a backup write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupPut {
    Stored,
    /// Nothing was stored: the slot holds this version, not older than the one offered
    /// (a replayed earlier upload must not roll the backup back).
    Stale {
        version: i64,
    },
    OverQuota(Full),
}

#[derive(Debug, Clone, thiserror::Error)]
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
        source: &Source,
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
    ) -> Result<Fetched, StorageError>;

    /// Each post as `post` stores or refuses it, in order. A backend may store them in one
    /// transaction, but one post's refusal or failure is never another's.
    fn post_batch(
        &self,
        posts: &[PostRequest],
        now: i64,
        quota: Quota,
    ) -> Vec<Result<Posted, StorageError>> {
        posts
            .iter()
            .map(|p| self.post(&p.mailbox, &p.sender, &p.messages, now, &p.source, quota))
            .collect()
    }

    /// Each fetch as `fetch` answers it, in order; one fetch's failure is never another's.
    fn fetch_batch(&self, fetches: &[FetchRequest]) -> Vec<Result<Fetched, StorageError>> {
        fetches
            .iter()
            .map(|f| {
                let (mut messages, mut more) =
                    self.fetch(&f.mailbox, &f.recipient, f.after, f.limit)?;
                let mut bytes = 0;
                if let Some(over) = messages.iter().position(|m| {
                    let starts_past = bytes >= f.max_bytes;
                    bytes += m.body.len();
                    starts_past
                }) {
                    messages.truncate(over);
                    more = true;
                }
                Ok((messages, more))
            })
            .collect()
    }

    /// Counts one request against each of `scopes` (a mailbox address or a source; one
    /// entry per request, repeats allowed) in the minute `minute`, and returns each
    /// entry's count including the requests before it, as every relay over this storage
    /// counts them. `None`: this storage serves one relay only, whose own counts suffice.
    fn count_requests(
        &self,
        scopes: &[&[u8]],
        minute: i64,
    ) -> Result<Option<Vec<u64>>, StorageError> {
        let _ = (scopes, minute);
        Ok(None)
    }

    /// Deletes every message stored before `before` (Unix seconds); returns how many.
    fn expire(&self, before: i64) -> Result<u64, StorageError>;

    /// Keeps `body` as the backup in slot `address`, replacing what was there, if
    /// `version` is greater than the version kept and no limit is passed.
    fn put_backup(
        &self,
        address: &Address,
        body: &[u8],
        version: i64,
        now: i64,
        source: &Source,
        quota: Quota,
    ) -> Result<BackupPut, StorageError>;

    /// The backup in slot `address`, if there is one.
    fn get_backup(&self, address: &Address) -> Result<Option<Vec<u8>>, StorageError>;

    /// Deletes every backup last written before `before`; returns how many.
    fn expire_backups(&self, before: i64) -> Result<u64, StorageError>;

    /// Bytes held (messages and backups): by the whole relay, and by `source`.
    fn usage(&self, source: &Source) -> Result<(u64, u64), StorageError>;

    /// The key sources are hashed with: made once per database, so every relay in front
    /// of it counts a source alike.
    fn source_key(&self) -> [u8; 32];

    /// Whether the storage answers (for `/health`).
    fn check(&self) -> Result<(), StorageError>;
}

/// The migrations, in order, as (version, SQL) for each backend; each runs once, in a
/// transaction, recorded in `relay_migrations`. Public for the tests that upgrade a
/// database made by an earlier relay.
#[doc(hidden)]
pub const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
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
    // Who stored what (a keyed hash of the network source), backup versions, and running
    // totals kept by triggers, so a quota check reads two rows instead of summing tables.
    // Rows from before have no source: they count towards the relay's total only.
    (
        3,
        "ALTER TABLE messages ADD COLUMN source BLOB;
        ALTER TABLE backups ADD COLUMN source BLOB;
        ALTER TABLE backups ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE backups ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        UPDATE backups SET size = length(body);
        CREATE INDEX backups_source ON backups (source);
        CREATE TABLE usage (scope BLOB PRIMARY KEY, bytes INTEGER NOT NULL);
        INSERT INTO usage (scope, bytes) VALUES (x'',
            (SELECT COALESCE(SUM(size), 0) FROM messages)
            + (SELECT COALESCE(SUM(size), 0) FROM backups));
        CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
        CREATE TRIGGER messages_added AFTER INSERT ON messages BEGIN
            UPDATE usage SET bytes = bytes + NEW.size WHERE scope = x'';
            INSERT INTO usage (scope, bytes) SELECT NEW.source, NEW.size
                WHERE NEW.source IS NOT NULL
                ON CONFLICT (scope) DO UPDATE SET bytes = bytes + excluded.bytes;
        END;
        CREATE TRIGGER messages_removed AFTER DELETE ON messages BEGIN
            UPDATE usage SET bytes = bytes - OLD.size WHERE scope IN (x'', OLD.source);
            DELETE FROM usage WHERE scope = OLD.source AND bytes <= 0;
        END;
        CREATE TRIGGER backups_added AFTER INSERT ON backups BEGIN
            UPDATE usage SET bytes = bytes + NEW.size WHERE scope = x'';
            INSERT INTO usage (scope, bytes) SELECT NEW.source, NEW.size
                WHERE NEW.source IS NOT NULL
                ON CONFLICT (scope) DO UPDATE SET bytes = bytes + excluded.bytes;
        END;
        CREATE TRIGGER backups_replaced AFTER UPDATE ON backups BEGIN
            UPDATE usage SET bytes = bytes - OLD.size WHERE scope IN (x'', OLD.source);
            DELETE FROM usage WHERE scope = OLD.source AND bytes <= 0;
            UPDATE usage SET bytes = bytes + NEW.size WHERE scope = x'';
            INSERT INTO usage (scope, bytes) SELECT NEW.source, NEW.size
                WHERE NEW.source IS NOT NULL
                ON CONFLICT (scope) DO UPDATE SET bytes = bytes + excluded.bytes;
        END;
        CREATE TRIGGER backups_removed AFTER DELETE ON backups BEGIN
            UPDATE usage SET bytes = bytes - OLD.size WHERE scope IN (x'', OLD.source);
            DELETE FROM usage WHERE scope = OLD.source AND bytes <= 0;
        END;",
    ),
];

#[doc(hidden)]
pub const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
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
    // As SQLite's migration 3. Every write updates the total's row, so writes take turns
    // on it for the rest of their transaction: the budget check is exact.
    (
        3,
        "ALTER TABLE messages ADD COLUMN source BYTEA;
        ALTER TABLE backups ADD COLUMN source BYTEA,
            ADD COLUMN size BIGINT NOT NULL DEFAULT 0,
            ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
        UPDATE backups SET size = octet_length(body);
        CREATE INDEX backups_source ON backups (source);
        CREATE TABLE usage (scope BYTEA PRIMARY KEY, bytes BIGINT NOT NULL);
        INSERT INTO usage (scope, bytes) VALUES (''::bytea,
            (SELECT COALESCE(SUM(size), 0) FROM messages)
            + (SELECT COALESCE(SUM(size), 0) FROM backups));
        CREATE TABLE settings (name TEXT PRIMARY KEY, value BYTEA NOT NULL);
        CREATE FUNCTION relay_count_usage() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE usage SET bytes = bytes - OLD.size WHERE scope = ''::bytea;
                IF OLD.source IS NOT NULL THEN
                    UPDATE usage SET bytes = bytes - OLD.size WHERE scope = OLD.source;
                    DELETE FROM usage WHERE scope = OLD.source AND bytes <= 0;
                END IF;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE usage SET bytes = bytes + NEW.size WHERE scope = ''::bytea;
                IF NEW.source IS NOT NULL THEN
                    INSERT INTO usage (scope, bytes) VALUES (NEW.source, NEW.size)
                    ON CONFLICT (scope) DO UPDATE SET bytes = usage.bytes + excluded.bytes;
                END IF;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER messages_usage AFTER INSERT OR DELETE ON messages
            FOR EACH ROW EXECUTE FUNCTION relay_count_usage();
        CREATE TRIGGER backups_usage AFTER INSERT OR UPDATE OR DELETE ON backups
            FOR EACH ROW EXECUTE FUNCTION relay_count_usage();",
    ),
    // Batches: many posts or fetches in one call and one transaction, so a busy relay
    // pays one round trip and one commit for many requests. A post's quota is checked
    // before it inserts anything (the totals it would leave, as migration 3's check after
    // inserting), so a refused post leaves nothing and the rest of its batch goes on.
    // Lock order, for every writer: mailboxes' advisory locks in ascending order, then the
    // relay's total, then rows; so batches from several relays never wait in a circle.
    // Request counts per minute are shared by every relay over this database.
    (
        4,
        "CREATE TABLE request_counts (
            scope BYTEA NOT NULL,
            minute BIGINT NOT NULL,
            requests BIGINT NOT NULL,
            PRIMARY KEY (scope, minute)
        );
        CREATE FUNCTION relay_post_batch(
            locks BIGINT[], mailboxes BYTEA[], senders BYTEA[], sources BYTEA[],
            counts INT[], recipients BYTEA[], digests BYTEA[], bodies BYTEA[],
            posted_at BIGINT, mailbox_quota BIGINT, sender_quota BIGINT,
            source_quota BIGINT, budget BIGINT)
        RETURNS TABLE (stored_count INT, duplicate_count INT, refusal TEXT)
        LANGUAGE plpgsql AS $$
        DECLARE
            lock_key BIGINT;
            post INT;
            first INT := 1;
            last INT;
            added BIGINT;
            inserted INT;
            mailbox_total BIGINT;
            sender_total BIGINT;
            source_total BIGINT;
            relay_total BIGINT;
            refused TEXT;
        BEGIN
            FOREACH lock_key IN ARRAY locks LOOP
                PERFORM pg_advisory_xact_lock(lock_key);
            END LOOP;
            SELECT u.bytes INTO relay_total FROM usage u WHERE u.scope = ''::bytea FOR UPDATE;
            FOR post IN 1 .. coalesce(array_length(mailboxes, 1), 0) LOOP
                last := first + counts[post] - 1;
                refused := NULL;
                SELECT coalesce(sum(octet_length(n.b)), 0) INTO added FROM (
                    SELECT DISTINCT ON (m.r, m.d) m.b
                    FROM unnest(recipients[first:last], digests[first:last], bodies[first:last])
                        AS m(r, d, b)
                    WHERE NOT EXISTS (SELECT 1 FROM messages x
                        WHERE x.mailbox = mailboxes[post] AND x.recipient = m.r
                            AND x.digest = m.d)
                ) n;
                IF added > 0 THEN
                    SELECT u.bytes INTO relay_total FROM usage u WHERE u.scope = ''::bytea;
                    SELECT coalesce((SELECT u.bytes FROM usage u
                        WHERE u.scope = sources[post]), 0) INTO source_total;
                    SELECT coalesce(sum(x.size), 0),
                           coalesce(sum(x.size) FILTER (WHERE x.sender = senders[post]), 0)
                        INTO mailbox_total, sender_total
                        FROM messages x WHERE x.mailbox = mailboxes[post];
                    refused := CASE
                        WHEN greatest(relay_total, 0) + added > budget THEN 'budget'
                        WHEN greatest(source_total, 0) + added > source_quota THEN 'source'
                        WHEN mailbox_total + added > mailbox_quota THEN 'mailbox'
                        WHEN sender_total + added > sender_quota THEN 'sender'
                    END;
                END IF;
                IF refused IS NULL THEN
                    INSERT INTO messages
                        (mailbox, recipient, sender, digest, body, size, stored_at, source)
                    SELECT mailboxes[post], m.r, senders[post], m.d, m.b, octet_length(m.b),
                        posted_at, sources[post]
                    FROM unnest(recipients[first:last], digests[first:last], bodies[first:last])
                        WITH ORDINALITY AS m(r, d, b, i)
                    ORDER BY m.i
                    ON CONFLICT (mailbox, recipient, digest) DO NOTHING;
                    GET DIAGNOSTICS inserted = ROW_COUNT;
                    stored_count := inserted;
                    duplicate_count := counts[post] - inserted;
                    refusal := NULL;
                ELSE
                    stored_count := 0;
                    duplicate_count := 0;
                    refusal := refused;
                END IF;
                RETURN NEXT;
                first := last + 1;
            END LOOP;
        END $$;
        CREATE FUNCTION relay_fetch_batch(
            mailboxes BYTEA[], recipients BYTEA[], afters BIGINT[], limits INT[],
            max_bytes BIGINT)
        RETURNS TABLE (request INT, message_seq BIGINT, message_body BYTEA)
        LANGUAGE plpgsql AS $$
        DECLARE
            issued BIGINT;
            i INT;
        BEGIN
            -- The serial's sequence holds the highest number ever issued (committed or not).
            SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO issued
                FROM messages_seq_seq s;
            -- Acknowledged messages are deleted, which updates the relay's total: take it
            -- first, as posts do.
            IF EXISTS (SELECT 1 FROM unnest(afters) a WHERE a > 0 AND a <= issued) THEN
                PERFORM 1 FROM usage u WHERE u.scope = ''::bytea FOR UPDATE;
            END IF;
            FOR i IN 1 .. coalesce(array_length(mailboxes, 1), 0) LOOP
                IF afters[i] > issued THEN
                    -- A cursor this database never issued: nothing deleted, no rows.
                    request := i;
                    message_seq := NULL;
                    message_body := NULL;
                    RETURN NEXT;
                ELSE
                    IF afters[i] > 0 THEN
                        DELETE FROM messages x WHERE x.mailbox = mailboxes[i]
                            AND x.recipient = recipients[i] AND x.seq <= afters[i];
                    END IF;
                    -- Past max_bytes a message comes without its body: more wait.
                    RETURN QUERY SELECT i, y.seq,
                            CASE WHEN y.running - y.size < max_bytes THEN y.body END
                        FROM (SELECT x.seq, x.body, x.size,
                                sum(x.size) OVER (ORDER BY x.seq) AS running
                            FROM messages x
                            WHERE x.mailbox = mailboxes[i] AND x.recipient = recipients[i]
                                AND x.seq > afters[i]
                            ORDER BY x.seq LIMIT limits[i] + 1) y
                        ORDER BY y.seq;
                END IF;
            END LOOP;
        END $$;",
    ),
];

/// Totals after a write, read in its transaction.
pub(crate) struct Totals {
    pub budget: u64,
    pub source: u64,
    pub mailbox: u64,
    pub sender: u64,
}

/// Which limit a write that added `added` bytes, leaving these totals, passes, if any.
/// A write that adds nothing (only repeats, or a smaller backup) is never refused.
fn over_quota(totals: &Totals, added: i64, quota: Quota) -> Option<Full> {
    if added <= 0 {
        None
    } else if totals.budget > quota.budget_bytes {
        Some(Full::Budget)
    } else if totals.source > quota.source_bytes {
        Some(Full::Source)
    } else if totals.mailbox > quota.mailbox_bytes {
        Some(Full::Mailbox)
    } else if totals.sender > quota.sender_bytes {
        Some(Full::Sender)
    } else {
        None
    }
}

/// The scope of the relay-wide total in the `usage` table (sources are 16 bytes).
const TOTAL: &[u8] = &[];
