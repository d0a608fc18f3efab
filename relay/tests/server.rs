//! The relay's HTTP rules, over real HTTP on loopback, on SQLite and on a private
//! PostgreSQL server: who may post and fetch, what is refused and how, idempotent posts,
//! cursors and acknowledgement, expiry, health and metrics.

use redbook_core::crypto::SecretKey;
use redbook_core::sync::relay::{self, HttpRequest, Mailbox, Outgoing, RelayTransport, Tag};
use redbook_relay::postgres_server::PrivateServer;
use redbook_relay::storage::Quota;
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
        let mut headers = mailbox.sign_request(method, path, time, &body);
        if let Some(from) = from {
            headers.push((relay::FROM_HEADER.into(), hex::encode(from)));
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
        let (status, body) = self.request(
            mailbox,
            "POST",
            &relay::post_path(&mailbox.address()),
            relay::encode_post(messages),
            now(),
            Some(from),
        );
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn fetch(
        &self,
        mailbox: &Mailbox,
        inbox: &Tag,
        after: u64,
        limit: usize,
    ) -> (Vec<relay::Delivered>, bool) {
        let (status, body) = self.request(
            mailbox,
            "GET",
            &relay::fetch_path(&mailbox.address(), inbox, after, limit),
            Vec::new(),
            now(),
            None,
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        relay::decode_fetched(&body).unwrap()
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
    let path = relay::fetch_path(&mb.address(), &dad, 0, 10);
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
    let forged_path = relay::fetch_path(&mb.address(), &mum, 0, 10);
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
    let post_path = relay::post_path(&mb.address());
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
        relay::encode_post(&[]),
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
            let path = relay::fetch_path(&busy.address(), &inbox, 0, 1);
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
        digest: relay::digest_of(text.as_bytes()),
        body: text.as_bytes().to_vec(),
    };
    let quota = Config::default().quota;
    storage
        .post(&mailbox, &sender, &[new("old")], 1_000, quota)
        .unwrap();
    again
        .post(&mailbox, &sender, &[new("new")], 2_000, quota)
        .unwrap();
    assert_eq!(storage.expire(1_500).unwrap(), 1);
    let (left, _) = again.fetch(&mailbox, &recipient, 0, 10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].body, b"new");
    // A cursor beyond any sequence number issued here (another relay's, or from before
    // the database was rebuilt) acknowledges nothing: refused, the message still there.
    assert!(matches!(
        storage.fetch(&mailbox, &recipient, left[0].seq + 1_000, 10),
        Err(redbook_relay::StorageError::UnknownCursor)
    ));
    assert_eq!(again.fetch(&mailbox, &recipient, 0, 10).unwrap().0, left);
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
