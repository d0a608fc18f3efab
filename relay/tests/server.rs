//! The relay's HTTP rules, over real HTTP on loopback, on SQLite and on a private
//! PostgreSQL server: who may post and fetch, what is refused and how, idempotent posts,
//! cursors and acknowledgement, expiry, health and metrics; what one network source and
//! the whole relay may hold; backup versions and retention; upgrading an earlier database.

use redbook_core::crypto::SecretKey;
use redbook_core::sync::relay_protocol::{
    self, HttpRequest, Mailbox, Outgoing, RelayTransport, Tag,
};
use redbook_relay::postgres_server::PrivateServer;
use redbook_relay::storage::{BackupPut, Quota, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use redbook_relay::{Config, HttpTransport, PostgresStorage, RunningRelay, SqliteStorage, Storage};
use std::sync::Arc;
use std::time::Duration;

struct Client {
    http: HttpTransport,
    url: String,
}

impl Client {
    fn request(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        time: i64,
        from: Option<&Tag>,
    ) -> (u16, Vec<u8>) {
        self.request_as(mailbox, method, path, body, time, from, None)
    }

    /// A request, with `X-Forwarded-For` set to `forwarded` if given.
    #[allow(clippy::too_many_arguments)]
    fn request_as(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        time: i64,
        from: Option<&Tag>,
        forwarded: Option<&str>,
    ) -> (u16, Vec<u8>) {
        let mut headers = mailbox.sign_request(method, path, time, &body);
        if let Some(from) = from {
            headers.push((relay_protocol::FROM_HEADER.into(), hex::encode(from)));
        }
        if let Some(forwarded) = forwarded {
            headers.push(("x-forwarded-for".into(), forwarded.into()));
        }
        let response = self
            .http
            .send(HttpRequest {
                method: method.into(),
                url: format!("{}{path}", self.url),
                headers,
                body,
            })
            .unwrap();
        (response.status, response.body)
    }

    fn post(&self, mailbox: &Mailbox, from: &Tag, messages: &[Outgoing]) -> (u16, String) {
        self.post_as(mailbox, from, messages, None)
    }

    fn post_as(
        &self,
        mailbox: &Mailbox,
        from: &Tag,
        messages: &[Outgoing],
        forwarded: Option<&str>,
    ) -> (u16, String) {
        let (status, body) = self.request_as(
            mailbox,
            "POST",
            &relay_protocol::post_path(&mailbox.address()),
            relay_protocol::encode_post(messages),
            now(),
            Some(from),
            forwarded,
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Writes a backup of `version` into `slot`.
    fn put_backup(
        &self,
        slot: &Mailbox,
        version: i64,
        body: &[u8],
        forwarded: Option<&str>,
    ) -> (u16, String) {
        let path = format!(
            "{}?version={version}",
            relay_protocol::backup_path(&slot.address())
        );
        let (status, body) =
            self.request_as(slot, "PUT", &path, body.to_vec(), now(), None, forwarded);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn get_backup(&self, slot: &Mailbox) -> (u16, Vec<u8>) {
        let path = relay_protocol::backup_path(&slot.address());
        self.request(slot, "GET", &path, Vec::new(), now(), None)
    }

    fn fetch(
        &self,
        mailbox: &Mailbox,
        inbox: &Tag,
        after: u64,
        limit: usize,
    ) -> (Vec<relay_protocol::Delivered>, bool) {
        let (status, body) = self.request(
            mailbox,
            "GET",
            &relay_protocol::fetch_path(&mailbox.address(), inbox, after, limit),
            Vec::new(),
            now(),
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        relay_protocol::decode_fetched(&body).unwrap()
    }

    fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .send(HttpRequest {
                method: "GET".into(),
                url: format!("{}{path}", self.url),
                headers: Vec::new(),
                body: Vec::new(),
            })
            .unwrap();
        (
            response.status,
            String::from_utf8_lossy(&response.body).into_owned(),
        )
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn mailbox() -> Mailbox {
    Mailbox::derive(&SecretKey::generate().unwrap(), 0)
}

fn message(mailbox: &Mailbox, to: &str, text: &str) -> Outgoing {
    let recipient = mailbox.recipient_tag(to);
    Outgoing {
        recipient,
        body: mailbox.seal(&recipient, text.as_bytes()).unwrap(),
    }
}

fn start(storage: Arc<dyn Storage>, config: Config) -> (RunningRelay, Client) {
    let relay = RunningRelay::start(storage, config, "127.0.0.1:0".parse().unwrap()).unwrap();
    let client = Client {
        http: HttpTransport::default(),
        url: relay.url(),
    };
    (relay, client)
}

/// Every rule, against one backend.
fn the_rules_hold(storage: impl Fn() -> Arc<dyn Storage>) {
    let config = Config {
        quota: Quota {
            mailbox_bytes: 4_000,
            sender_bytes: 3_000,
            ..Quota::default()
        },
        max_message_bytes: 1_000,
        requests_per_minute: 40,
        ..Config::default()
    };
    let (_relay, client) = start(storage(), config);
    let (status, body) = client.get("/health");
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));

    // Posting is idempotent; fetching is by cursor; a fetch after a cursor acknowledges.
    let mb = mailbox();
    let (mum, dad) = (mb.recipient_tag("mum"), mb.recipient_tag("dad"));
    let first = message(&mb, "dad", "one");
    let (status, body) = client.post(&mb, &mum, &[first.clone(), message(&mb, "dad", "two")]);
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"duplicates":0,"stored":2}"#)
    );
    let (status, body) = client.post(&mb, &mum, std::slice::from_ref(&first));
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"duplicates":1,"stored":0}"#)
    );
    let (messages, more) = client.fetch(&mb, &dad, 0, 1);
    assert!(more);
    assert_eq!(mb.open(&dad, &messages[0].body).unwrap(), b"one");
    let (rest, more) = client.fetch(&mb, &dad, messages[0].seq, 10);
    assert!(!more);
    assert_eq!(mb.open(&dad, &rest[0].body).unwrap(), b"two");
    let (again, _) = client.fetch(&mb, &dad, 0, 10);
    assert_eq!(again.len(), 1, "the first was acknowledged and deleted");
    assert!(
        client.fetch(&mb, &mum, 0, 10).0.is_empty(),
        "each inbox holds its own"
    );
    assert!(
        client.fetch(&mailbox(), &dad, 0, 10).0.is_empty(),
        "each mailbox its own"
    );

    // Who may ask: only a holder of the mailbox key, now.
    let path = relay_protocol::fetch_path(&mb.address(), &dad, 0, 10);
    let other = mailbox();
    let refused = |status: u16, body: Vec<u8>, expected: u16, words: &str| {
        let body = String::from_utf8(body).unwrap();
        assert_eq!(status, expected, "{body}");
        assert!(body.contains(words), "{body}");
    };
    let (status, body) = client.request(&other, "GET", &path, Vec::new(), now(), None);
    refused(status, body, 401, "not signed by this mailbox's key");
    let (status, body) = client.request(&mb, "GET", &path, Vec::new(), now() - 3600, None);
    refused(status, body, 401, "check the device's clock");
    let (status, body) = client.get(&path);
    assert_eq!(status, 401, "{body}");
    let forged_path = relay_protocol::fetch_path(&mb.address(), &mum, 0, 10);
    let mut headers = mb.sign_request("GET", &path, now(), b"");
    headers.push(("x-ignored".into(), "1".into()));
    let response = client
        .http
        .send(HttpRequest {
            method: "GET".into(),
            url: format!("{}{forged_path}", client.url),
            headers,
            body: Vec::new(),
        })
        .unwrap();
    assert_eq!(response.status, 401, "a signature covers its own path only");
    let (status, _) = client.get("/v1/mailboxes/not-hex/inbox/00?after=0");
    assert_eq!(status, 404);

    // What is refused: malformed, too large, over quota; nothing of a refused post is kept.
    let post_path = relay_protocol::post_path(&mb.address());
    let (status, body) = client.request(
        &mb,
        "POST",
        &post_path,
        b"RBP1junk".to_vec(),
        now(),
        Some(&mum),
    );
    refused(status, body, 400, "malformed");
    let (status, body) = client.request(
        &mb,
        "POST",
        &post_path,
        relay_protocol::encode_post(&[]),
        now(),
        None,
    );
    refused(status, body, 400, "tag is missing");
    let big = Outgoing {
        recipient: dad,
        body: vec![1; 1_001],
    };
    let (status, body) = client.post(&mb, &mum, &[big]);
    assert_eq!(status, 413, "{body}");
    let chunk = |n: u8| Outgoing {
        recipient: dad,
        body: vec![n; 900],
    };
    let (status, _) = client.post(&mb, &mum, &[chunk(1), chunk(2), chunk(3)]);
    assert_eq!(status, 200);
    let (status, body) = client.post(&mb, &mum, &[chunk(4)]);
    assert_eq!(status, 413, "this device's share is full: {body}");
    assert!(body.contains("this device has too much waiting"), "{body}");
    let (status, _) = client.post(&mb, &dad, &[chunk(5)]);
    assert_eq!(status, 200, "another device may still post");
    let (status, body) = client.post(&mb, &dad, &[chunk(6)]);
    assert!(body.contains("the mailbox is full"), "{status} {body}");
    let (status, _) = client.post(&mb, &mum, &[chunk(1)]);
    assert_eq!(
        status, 200,
        "a repeat adds nothing, so it is never over quota"
    );
    let (waiting, _) = client.fetch(&mb, &dad, 0, 100);
    assert_eq!(waiting.len(), 5, "the refused posts left nothing behind");
    client.fetch(&mb, &dad, waiting.last().unwrap().seq, 100);
    let (status, _) = client.post(&mb, &mum, &[chunk(4)]);
    assert_eq!(status, 200, "fetching made room");

    // Rate: one mailbox's requests per minute; other mailboxes are not held up.
    let busy = mailbox();
    let inbox = busy.recipient_tag("x");
    let statuses: Vec<u16> = (0..45)
        .map(|_| {
            let path = relay_protocol::fetch_path(&busy.address(), &inbox, 0, 1);
            client
                .request(&busy, "GET", &path, Vec::new(), now(), None)
                .0
        })
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 40);
    assert!(client.fetch(&mailbox(), &inbox, 0, 1).0.is_empty());

    // Metrics count by route and status, and name no mailbox.
    let (status, metrics) = client.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(r#"relay_requests_total{route="post",status="200"}"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"relay_requests_total{route="fetch",status="429"}"#));
    assert!(metrics.contains("relay_messages_duplicate_total"));
    assert!(!metrics.contains(&mb.address()));
}

#[test]
fn the_relays_rules_hold_on_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("relay.sqlite");
    the_rules_hold(|| Arc::new(SqliteStorage::open(&file).unwrap()));
}

#[test]
fn the_relays_rules_hold_on_postgres() {
    let server = PrivateServer::start().unwrap();
    the_rules_hold(|| Arc::new(PostgresStorage::connect(&server.url()).unwrap()));
}

/// Expiry and migrations, straight on the storage of each backend.
fn messages_expire_and_migrations_run_once(open: impl Fn() -> Arc<dyn Storage>) {
    let storage = open();
    let again = open(); // a second relay on the same database finds it migrated
    let (mailbox, sender, recipient) = ([1; 32], [2; 16], [3; 16]);
    let new = |text: &str| redbook_relay::storage::NewMessage {
        recipient,
        digest: relay_protocol::digest_of(text.as_bytes()),
        body: text.as_bytes().to_vec(),
    };
    let quota = Config::default().quota;
    let source = [9; 16];
    storage
        .post(&mailbox, &sender, &[new("old")], 1_000, &source, quota)
        .unwrap();
    again
        .post(&mailbox, &sender, &[new("new!")], 2_000, &source, quota)
        .unwrap();
    assert_eq!(storage.usage(&source).unwrap(), (7, 7));
    assert_eq!(storage.expire(1_500).unwrap(), 1);
    assert_eq!(
        again.usage(&source).unwrap(),
        (4, 4),
        "the triggers count deletions"
    );
    let (left, _) = again.fetch(&mailbox, &recipient, 0, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, b"new!");
    // A cursor beyond any sequence number issued here (another relay's, or from before
    // the database was rebuilt) acknowledges nothing: refused, the message still there.
    assert!(matches!(
        storage.fetch(&mailbox, &recipient, left[0].seq + 1_000, 10),
        Err(redbook_relay::StorageError::UnknownCursor)
    ));
    assert_eq!(again.fetch(&mailbox, &recipient, 0, 10).unwrap().0, left);
    again.fetch(&mailbox, &recipient, left[0].seq, 10).unwrap();
    assert_eq!(storage.usage(&source).unwrap(), (0, 0));
    assert_eq!(
        storage.source_key(),
        again.source_key(),
        "one key per database"
    );
    storage.check().unwrap();
}

#[test]
fn messages_expire_and_migrations_run_once_on_both_backends() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("relay.sqlite");
    messages_expire_and_migrations_run_once(|| Arc::new(SqliteStorage::open(&file).unwrap()));
    let server = PrivateServer::start().unwrap();
    messages_expire_and_migrations_run_once(|| {
        Arc::new(PostgresStorage::connect(&server.url()).unwrap())
    });
}

#[test]
fn the_relay_reports_its_storage_down_and_recovers_when_it_returns() {
    let server = PrivateServer::start().unwrap();
    let (_relay, client) = start(
        Arc::new(PostgresStorage::connect(&server.url()).unwrap()),
        Config {
            sweep_every: Duration::from_millis(50),
            ..Config::default()
        },
    );
    assert_eq!(client.get("/health").0, 200);
    server.pause().unwrap();
    let (status, body) = client.get("/health");
    assert_eq!(
        (status, body.as_str()),
        (503, r#"{"status":"storage unavailable"}"#)
    );
    let mb = mailbox();
    let from = mb.recipient_tag("a");
    let (status, body) = client.post(&mb, &from, &[message(&mb, "b", "x")]);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("try again later"));
    server.resume().unwrap();
    assert_eq!(client.get("/health").0, 200);
    assert_eq!(client.post(&mb, &from, &[message(&mb, "b", "x")]).0, 200);
}

/// What one network source, and the relay as a whole, may take; backup versions and
/// retention; against one backend.
fn the_limits_hold(storage: impl Fn() -> Arc<dyn Storage>) {
    let chunk = |mb: &Mailbox, n: u8| Outgoing {
        recipient: mb.recipient_tag("x"),
        body: vec![n; 900],
    };

    // Fresh mailboxes from one source share its quota; so do fresh backup slots.
    let (relay, client) = start(
        storage(),
        Config {
            quota: Quota {
                source_bytes: 5_000,
                backup_slots: 2,
                ..Quota::default()
            },
            ..Config::default()
        },
    );
    let mut kept = Vec::new();
    for n in 0..5 {
        let mb = mailbox();
        let (status, body) = client.post(&mb, &mb.recipient_tag("a"), &[chunk(&mb, n)]);
        assert_eq!(status, 200, "{body}");
        kept.push(mb);
    }
    let fresh = mailbox();
    let (status, body) = client.post(&fresh, &fresh.recipient_tag("a"), &[chunk(&fresh, 9)]);
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("this network address has too much stored"),
        "{body}"
    );
    assert!(client
        .fetch(&fresh, &fresh.recipient_tag("x"), 0, 10)
        .0
        .is_empty());
    let (status, _) = client.post_as(
        &fresh,
        &fresh.recipient_tag("a"),
        &[chunk(&fresh, 9)],
        Some("203.0.113.9"),
    );
    assert_eq!(
        status, 413,
        "a forwarded-for from an untrusted peer is ignored"
    );
    let (status, body) = client.put_backup(&mailbox(), 1, &[1; 600], None);
    assert_eq!(
        status, 413,
        "backups count towards the source's quota: {body}"
    );
    // Fetching frees the source's room.
    let first = &kept[0];
    let (waiting, _) = client.fetch(first, &first.recipient_tag("x"), 0, 10);
    client.fetch(first, &first.recipient_tag("x"), waiting[0].seq, 10);
    let (slot_a, slot_b) = (mailbox(), mailbox());
    assert_eq!(client.put_backup(&slot_a, 1, &[1; 100], None).0, 200);
    assert_eq!(client.put_backup(&slot_b, 1, &[1; 100], None).0, 200);
    let (status, body) = client.put_backup(&mailbox(), 1, &[1; 100], None);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("keeps too many backups"), "{body}");
    assert_eq!(
        client.put_backup(&slot_a, 2, &[2; 100], None).0,
        200,
        "a slot it keeps may still be written"
    );
    drop(relay);

    // Behind a trusted proxy, each forwarded address is a source of its own; only the
    // proxy's own entry is believed, and an IPv6 /64 is one source.
    let (relay, client) = start(
        storage(),
        Config {
            quota: Quota {
                source_bytes: 1_000,
                ..Quota::default()
            },
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Config::default()
        },
    );
    let post_from = |forwarded: &str| {
        let mb = mailbox();
        client
            .post_as(
                &mb,
                &mb.recipient_tag("a"),
                &[chunk(&mb, 1)],
                Some(forwarded),
            )
            .0
    };
    assert_eq!(post_from("198.51.100.1"), 200);
    assert_eq!(post_from("198.51.100.1"), 413);
    assert_eq!(post_from("198.51.100.2"), 200);
    assert_eq!(
        post_from("192.0.2.50, 198.51.100.2"),
        413,
        "the client wrote the left one"
    );
    assert_eq!(post_from("2001:db8:1:2::1"), 200);
    assert_eq!(post_from("2001:db8:1:2::beef"), 413, "the same /64");
    assert_eq!(post_from("2001:db8:1:3::1"), 200);
    drop(relay);

    // Requests per source: fresh mailboxes do not reset the count. (A source of its own:
    // on PostgreSQL the minute's counts outlive a relay, as they must for its peers.)
    let (relay, client) = start(
        storage(),
        Config {
            source_requests_per_minute: 20,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Config::default()
        },
    );
    let statuses: Vec<(u16, String)> = (0..25)
        .map(|_| {
            let mb = mailbox();
            let path = relay_protocol::fetch_path(&mb.address(), &mb.recipient_tag("x"), 0, 1);
            let forwarded = Some("198.51.100.77");
            let (status, body) =
                client.request_as(&mb, "GET", &path, Vec::new(), now(), None, forwarded);
            (status, String::from_utf8_lossy(&body).into_owned())
        })
        .collect();
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 200).count(), 20);
    let (status, body) = statuses.last().unwrap();
    assert_eq!(*status, 429, "{body}");
    assert!(
        body.contains("too many requests from this network address"),
        "{body}"
    );
    drop(relay);

    // The relay's budget: past it nothing is kept, and what was kept is still there.
    let store = storage();
    let (held, _) = store.usage(&[0; 16]).unwrap();
    let (_relay, client) = start(
        store.clone(),
        Config {
            quota: Quota {
                budget_bytes: held + 3_000,
                ..Quota::default()
            },
            ..Config::default()
        },
    );
    let (early, late) = (mailbox(), mailbox());
    let inbox = early.recipient_tag("x");
    let from = early.recipient_tag("a");
    assert_eq!(
        client
            .post(&early, &from, &[chunk(&early, 1), chunk(&early, 2)])
            .0,
        200
    );
    let slot = mailbox();
    assert_eq!(client.put_backup(&slot, 1, &[1; 900], None).0, 200);
    let (status, body) = client.post(&late, &late.recipient_tag("a"), &[chunk(&late, 3)]);
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("the relay is full"), "{body}");
    assert!(client
        .fetch(&late, &late.recipient_tag("x"), 0, 10)
        .0
        .is_empty());
    let (status, body) = client.put_backup(&mailbox(), 1, &[1; 900], None);
    assert_eq!(status, 507, "{body}");
    assert_eq!(
        client.put_backup(&slot, 2, &[2; 900], None).0,
        200,
        "a backup no larger than the last is never refused"
    );
    assert_eq!(
        store.usage(&[0; 16]).unwrap().0,
        held + 2_700,
        "nothing refused was kept"
    );
    let (waiting, _) = client.fetch(&early, &inbox, 0, 10);
    assert_eq!(waiting.len(), 2, "what was kept is still fetched");
    assert_eq!(client.get_backup(&slot), (200, vec![2; 900]));
    client.fetch(&early, &inbox, waiting[1].seq, 10);
    assert_eq!(
        client
            .post(&late, &late.recipient_tag("a"), &[chunk(&late, 3)])
            .0,
        200,
        "fetching made room"
    );
}

#[test]
fn the_relays_limits_hold_on_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("relay.sqlite");
    the_limits_hold(|| Arc::new(SqliteStorage::open(&file).unwrap()));
}

#[test]
fn the_relays_limits_hold_on_postgres() {
    let server = PrivateServer::start().unwrap();
    the_limits_hold(|| Arc::new(PostgresStorage::connect(&server.url()).unwrap()));
}

/// A replayed earlier backup upload cannot roll the slot back; backups expire after the
/// deployer's retention.
fn backups_keep_their_version_and_expire(storage: impl Fn() -> Arc<dyn Storage>) {
    let (_relay, client) = start(
        storage(),
        Config {
            backup_retention: Duration::from_secs(1),
            sweep_every: Duration::from_millis(100),
            ..Config::default()
        },
    );
    let slot = mailbox();
    let path = format!("{}?version=1", relay_protocol::backup_path(&slot.address()));
    let captured = slot.sign_request("PUT", &path, now(), b"older");
    let replay = || {
        client
            .http
            .send(HttpRequest {
                method: "PUT".into(),
                url: format!("{}{path}", client.url),
                headers: captured.clone(),
                body: b"older".to_vec(),
            })
            .unwrap()
    };
    assert_eq!(replay().status, 200);
    assert_eq!(client.put_backup(&slot, 2, b"newer", None).0, 200);
    let response = replay();
    let body = String::from_utf8_lossy(&response.body).into_owned();
    assert_eq!(response.status, 409, "{body}");
    assert!(body.contains(r#""version":2"#), "{body}");
    assert_eq!(client.put_backup(&slot, 2, b"same", None).0, 409);
    assert_eq!(client.get_backup(&slot), (200, b"newer".to_vec()));
    let (status, body) = client.request(
        &slot,
        "PUT",
        &relay_protocol::backup_path(&slot.address()),
        b"unversioned".to_vec(),
        now(),
        None,
    );
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    assert_eq!(client.get_backup(&slot), (200, b"newer".to_vec()));

    // Not written again within the retention: deleted.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while client.get_backup(&slot).0 == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the backup was never expired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(client.get_backup(&slot).0, 404);
}

#[test]
fn backups_keep_their_version_and_expire_on_both_backends() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("relay.sqlite");
    backups_keep_their_version_and_expire(|| Arc::new(SqliteStorage::open(&file).unwrap()));
    let server = PrivateServer::start().unwrap();
    backups_keep_their_version_and_expire(|| {
        Arc::new(PostgresStorage::connect(&server.url()).unwrap())
    });
}

/// A database an earlier relay made (migrations 1 and 2, with a message and a backup in
/// it) is upgraded once: what it held is kept and counted, and its backup can be written.
fn an_earlier_database_is_upgraded(open: impl Fn() -> Arc<dyn Storage>) {
    let storage = open();
    let source = [4; 16];
    assert_eq!(storage.usage(&source).unwrap(), (5 + 7, 0));
    let (old, _) = storage.fetch(&[1; 32], &[3; 16], 0, 10).unwrap();
    assert_eq!(old[0].body, b"hello");
    assert_eq!(storage.get_backup(&[5; 32]).unwrap().unwrap(), b"backup!");
    let quota = Quota::default();
    assert_eq!(
        storage
            .put_backup(&[5; 32], b"next", 1, 3_000, &source, quota)
            .unwrap(),
        BackupPut::Stored
    );
    assert_eq!(storage.usage(&source).unwrap(), (5 + 4, 4));
    let again = open();
    assert_eq!(
        again.usage(&source).unwrap(),
        (5 + 4, 4),
        "migrations ran once"
    );
    assert_eq!(again.source_key(), storage.source_key());
    storage.fetch(&[1; 32], &[3; 16], old[0].seq, 10).unwrap();
    assert_eq!(again.usage(&source).unwrap(), (4, 4));
    assert_eq!(again.expire_backups(5_000).unwrap(), 1);
    assert_eq!(again.usage(&source).unwrap(), (0, 0));
}

#[test]
fn an_earlier_sqlite_database_is_upgraded() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("relay.sqlite");
    {
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch("CREATE TABLE relay_migrations (version INTEGER PRIMARY KEY)")
            .unwrap();
        for (version, sql) in &SQLITE_MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
            conn.execute(
                "INSERT INTO relay_migrations (version) VALUES (?1)",
                [version],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO messages (mailbox, recipient, sender, digest, body, size, stored_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 5, 1000)",
            rusqlite::params![
                &[1u8; 32][..],
                &[3u8; 16][..],
                &[2u8; 16][..],
                &[6u8; 32][..],
                &b"hello"[..]
            ],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO backups (address, body, stored_at) VALUES (?1, ?2, 1000)",
            rusqlite::params![&[5u8; 32][..], &b"backup!"[..]],
        )
        .unwrap();
    }
    an_earlier_database_is_upgraded(|| Arc::new(SqliteStorage::open(&file).unwrap()));
}

#[test]
fn an_earlier_postgres_database_is_upgraded() {
    let server = PrivateServer::start().unwrap();
    let url = server.url();
    {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .batch_execute("CREATE TABLE relay_migrations (version BIGINT PRIMARY KEY)")
            .unwrap();
        for (version, sql) in &POSTGRES_MIGRATIONS[..2] {
            client.batch_execute(sql).unwrap();
            client
                .execute(
                    "INSERT INTO relay_migrations (version) VALUES ($1)",
                    &[version],
                )
                .unwrap();
        }
        client
            .execute(
                "INSERT INTO messages (mailbox, recipient, sender, digest, body, size, stored_at)
                 VALUES ($1, $2, $3, $4, $5, 5, 1000)",
                &[
                    &[1u8; 32].as_slice(),
                    &[3u8; 16].as_slice(),
                    &[2u8; 16].as_slice(),
                    &[6u8; 32].as_slice(),
                    &b"hello".as_slice(),
                ],
            )
            .unwrap();
        client
            .execute(
                "INSERT INTO backups (address, body, stored_at) VALUES ($1, $2, 1000)",
                &[&[5u8; 32].as_slice(), &b"backup!".as_slice()],
            )
            .unwrap();
    }
    an_earlier_database_is_upgraded(|| Arc::new(PostgresStorage::connect(&url).unwrap()));
}

/// Two relays over one PostgreSQL server, as a deployment runs them behind a load
/// balancer: devices on either relay, and requests of one device landing on both.
#[test]
fn two_relays_over_one_postgres_deliver_every_message_once_in_order_and_share_rates() {
    let server = PrivateServer::start().unwrap();
    let config = Config {
        requests_per_minute: 1_000,
        ..Config::default()
    };
    let relays: Vec<(RunningRelay, Client)> = (0..2)
        .map(|_| {
            start(
                Arc::new(PostgresStorage::connect(&server.url()).unwrap()),
                config.clone(),
            )
        })
        .collect();
    let clients: Vec<&Client> = relays.iter().map(|(_, client)| client).collect();

    // Eight mailboxes of two devices; each device posts through one relay (its own, or
    // the other on odd turns) while every other posts at the same time.
    let mailboxes: Vec<Mailbox> = (0..8).map(|_| mailbox()).collect();
    let turns = 30;
    std::thread::scope(|scope| {
        for (m, mb) in mailboxes.iter().enumerate() {
            for (d, (me, peer)) in [("a", "b"), ("b", "a")].into_iter().enumerate() {
                let clients = &clients;
                scope.spawn(move || {
                    let from = mb.recipient_tag(me);
                    for turn in 0..turns {
                        let client = clients[(m + d + turn) % 2];
                        let text = format!("{me} {turn}");
                        let (status, body) = client.post(mb, &from, &[message(mb, peer, &text)]);
                        assert_eq!(status, 200, "{body}");
                    }
                });
            }
        }
    });
    // Each inbox is read a few messages at a time, alternately through each relay, each
    // fetch acknowledging the one before: every message arrives once, in the order sent.
    for mb in &mailboxes {
        for (me, peer) in [("a", "b"), ("b", "a")] {
            let inbox = mb.recipient_tag(me);
            let (mut after, mut texts, mut round) = (0, Vec::new(), 0);
            loop {
                let (messages, more) = clients[round % 2].fetch(mb, &inbox, after, 7);
                round += 1;
                for delivered in &messages {
                    assert!(delivered.seq > after);
                    after = delivered.seq;
                    let text = mb.open(&inbox, &delivered.body).unwrap();
                    texts.push(String::from_utf8(text).unwrap());
                }
                if !more {
                    break;
                }
            }
            let sent: Vec<String> = (0..turns).map(|turn| format!("{peer} {turn}")).collect();
            assert_eq!(texts, sent);
            // Acknowledged through one relay, gone through the other.
            let (left, _) = clients[round % 2].fetch(mb, &inbox, after, 7);
            assert!(left.is_empty());
        }
    }

    // One mailbox's rate and one source's hold across both relays together, in the
    // minute's counts they share (started early enough in a minute to finish in it).
    let (_quiet_relays, quiet) = {
        let config = Config {
            requests_per_minute: 10,
            source_requests_per_minute: 30,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..Config::default()
        };
        let pair: Vec<(RunningRelay, Client)> = (0..2)
            .map(|_| {
                start(
                    Arc::new(PostgresStorage::connect(&server.url()).unwrap()),
                    config.clone(),
                )
            })
            .collect();
        let (relays, clients): (Vec<RunningRelay>, Vec<Client>) = pair.into_iter().unzip();
        (relays, clients)
    };
    while now().rem_euclid(60) > 40 {
        std::thread::sleep(Duration::from_millis(500));
    }
    let busy = mailbox();
    let inbox = busy.recipient_tag("x");
    let path = relay_protocol::fetch_path(&busy.address(), &inbox, 0, 1);
    let statuses: Vec<u16> = (0..14)
        .map(|i| {
            let forwarded = Some("198.51.100.20");
            quiet[i % 2]
                .request_as(&busy, "GET", &path, Vec::new(), now(), None, forwarded)
                .0
        })
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert!(statuses[10..].iter().all(|&s| s == 429), "{statuses:?}");
    let statuses: Vec<(u16, String)> = (0..24)
        .map(|i| {
            let mb = mailbox();
            let path = relay_protocol::fetch_path(&mb.address(), &mb.recipient_tag("x"), 0, 1);
            let (status, body) = quiet[i % 2].request_as(
                &mb,
                "GET",
                &path,
                Vec::new(),
                now(),
                None,
                Some("198.51.100.21"),
            );
            (status, String::from_utf8_lossy(&body).into_owned())
        })
        .collect();
    // Each relay alone would take 30 from the source; together they take 30.
    let taken = statuses.iter().filter(|(s, _)| *s == 200).count();
    assert!(taken <= 30, "{statuses:?}");
    let statuses: Vec<u16> = (0..24)
        .map(|i| {
            let mb = mailbox();
            let path = relay_protocol::fetch_path(&mb.address(), &mb.recipient_tag("x"), 0, 1);
            quiet[i % 2]
                .request_as(
                    &mb,
                    "GET",
                    &path,
                    Vec::new(),
                    now(),
                    None,
                    Some("198.51.100.21"),
                )
                .0
        })
        .collect();
    assert_eq!(
        taken + statuses.iter().filter(|&&s| s == 200).count(),
        30,
        "{statuses:?}"
    );
}

/// A fetch's answer stops once it holds `max_fetch_bytes` (but always holds one message,
/// however large) and says more wait; the next fetch brings the rest, in order.
fn a_fetch_is_bounded_in_bytes(storage: Arc<dyn Storage>) {
    let (_relay, client) = start(
        storage,
        Config {
            max_fetch_bytes: 1_500,
            ..Config::default()
        },
    );
    let mb = mailbox();
    let (from, inbox) = (mb.recipient_tag("a"), mb.recipient_tag("b"));
    let texts: Vec<String> = (0..5).map(|n| format!("{n}{}", "x".repeat(999))).collect();
    let large = "y".repeat(4_000);
    let mut sent: Vec<Outgoing> = texts.iter().map(|t| message(&mb, "b", t)).collect();
    sent.insert(2, message(&mb, "b", &large));
    assert_eq!(client.post(&mb, &from, &sent).0, 200);
    let mut answers = Vec::new();
    let mut after = 0;
    loop {
        let (messages, more) = client.fetch(&mb, &inbox, after, 100);
        assert!(!messages.is_empty());
        after = messages.last().unwrap().seq;
        answers.push(
            messages
                .iter()
                .map(|m| String::from_utf8(mb.open(&inbox, &m.body).unwrap()).unwrap())
                .collect::<Vec<_>>(),
        );
        if !more {
            break;
        }
    }
    let sizes: Vec<usize> = answers.iter().map(Vec::len).collect();
    // Two of about 1 KB (the second starts at 1 KB, within the bound), then the large one
    // alone after them, then the rest two at a time.
    assert_eq!(sizes, [2, 1, 2, 1], "{answers:?}");
    let all: Vec<String> = answers.concat();
    let mut expected = texts.clone();
    expected.insert(2, large);
    assert_eq!(all, expected);
}

#[test]
fn a_fetch_is_bounded_in_bytes_on_both_backends() {
    let dir = tempfile::TempDir::new().unwrap();
    a_fetch_is_bounded_in_bytes(Arc::new(
        SqliteStorage::open(&dir.path().join("relay.sqlite")).unwrap(),
    ));
    let server = PrivateServer::start().unwrap();
    a_fetch_is_bounded_in_bytes(Arc::new(PostgresStorage::connect(&server.url()).unwrap()));
}

/// In one batch, a post over its quota keeps nothing and the posts around it are stored;
/// a fetch with a cursor never issued fails alone, and the fetches around it are answered.
fn one_request_in_a_batch_fails_alone(storage: Arc<dyn Storage>) {
    use redbook_relay::storage::{FetchRequest, NewMessage, PostRequest, Posted};
    let quota = Quota {
        mailbox_bytes: 1_000,
        ..Quota::default()
    };
    let post = |mailbox: u8, bytes: usize| PostRequest {
        mailbox: [mailbox; 32],
        sender: [1; 16],
        messages: vec![NewMessage {
            recipient: [2; 16],
            digest: relay_protocol::digest_of(&vec![mailbox; bytes]),
            body: vec![mailbox; bytes],
        }],
        source: [3; 16],
    };
    let posted = storage.post_batch(
        &[post(10, 500), post(11, 5_000), post(12, 500)],
        now(),
        quota,
    );
    let posted: Vec<Posted> = posted.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        posted,
        [
            Posted::Stored {
                stored: 1,
                duplicates: 0
            },
            Posted::OverQuota(redbook_relay::storage::Full::Mailbox),
            Posted::Stored {
                stored: 1,
                duplicates: 0
            },
        ]
    );
    let fetch = |mailbox: u8, after: u64| FetchRequest {
        mailbox: [mailbox; 32],
        recipient: [2; 16],
        after,
        limit: 10,
        max_bytes: usize::MAX,
    };
    let answers = storage.fetch_batch(&[fetch(10, 0), fetch(11, u64::MAX / 2), fetch(12, 0)]);
    let [first, unknown, last] = <[_; 3]>::try_from(answers).ok().unwrap();
    assert_eq!(first.unwrap().0.len(), 1);
    assert!(matches!(
        unknown,
        Err(redbook_relay::StorageError::UnknownCursor)
    ));
    assert_eq!(last.unwrap().0[0].body, vec![12; 500]);
    assert!(storage
        .fetch(&[11; 32], &[2; 16], 0, 10)
        .unwrap()
        .0
        .is_empty());
}

#[test]
fn one_request_in_a_batch_fails_alone_on_both_backends() {
    let dir = tempfile::TempDir::new().unwrap();
    one_request_in_a_batch_fails_alone(Arc::new(
        SqliteStorage::open(&dir.path().join("relay.sqlite")).unwrap(),
    ));
    let server = PrivateServer::start().unwrap();
    one_request_in_a_batch_fails_alone(Arc::new(PostgresStorage::connect(&server.url()).unwrap()));
}
