//! Recovery of a lost phone (docs/adr/0009-recovery.md): the parent's kit (12 words),
//! backups to the relay and to a file, and a new phone restored from them that replaces the
//! lost one, over real HTTP to a relay on SQLite.

use redbook_core::model::{Access, Action, EntryBody, RecordId, Role};
use redbook_core::recovery::RecoveryKit;
use redbook_core::store::Store;
use redbook_core::{DeviceProfile, Error, OpenOptions, RedBook};
use redbook_relay::{Config, HttpTransport, RunningRelay, SqliteStorage};
use redbook_tests::{child, contents, device, note, raw_key};
use std::path::Path;
use std::sync::Arc;
use tempfile::TempDir;

fn relay(dir: &Path) -> RunningRelay {
    let storage = SqliteStorage::open(&dir.join("relay.sqlite")).unwrap();
    RunningRelay::start(
        Arc::new(storage),
        Config::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap()
}

fn notes(book: &RedBook, id: &RecordId) -> Vec<String> {
    let mut out: Vec<String> = contents(book, id)
        .1
        .values()
        .filter_map(|entry| match &entry.body {
            EntryBody::Note(note) => Some(note.text.clone()),
            _ => None,
        })
        .collect();
    out.sort();
    out
}

/// Whether any meta value in the file, opened with its key, holds anything that gives
/// back the kit's words or signs as its identity (raw, or as hex).
fn holds_kit_secret(path: &Path, key: u8, words: &str) -> bool {
    let kit = RecoveryKit::from_words(words).unwrap();
    let identity = kit.identity().to_bytes();
    let mut secrets: Vec<Vec<u8>> = vec![
        bip39::Mnemonic::parse(words).unwrap().to_entropy(),
        words.as_bytes().to_vec(),
        identity[..32].to_vec(),   // the X25519 secret
        identity[48..80].to_vec(), // the Ed25519 seed, after the PKCS#8 prefix
    ];
    secrets.extend(secrets.clone().iter().map(|s| hex::encode(s).into_bytes()));
    let store = Store::open(path, &raw_key(key), OpenOptions::default()).unwrap();
    store.meta_names().unwrap().into_iter().any(|name| {
        let value = store.sealed_meta(&name).ok().flatten().unwrap_or_default();
        secrets
            .iter()
            .any(|s| value.windows(s.len()).any(|w| w == s.as_slice()))
    })
}

/// A kit's device id, from its words.
fn kit_id(words: &str) -> String {
    RecoveryKit::from_words(words)
        .unwrap()
        .identity()
        .public()
        .device_id()
}

/// Whether the kit of `words` was removed from the record (as the file at `path` holds
/// it) and yet a key statement from its removal on seals a key to it.
fn kit_had_a_key_after_retiring(path: &Path, key: u8, id: &RecordId, words: &str) -> bool {
    let kit = kit_id(words);
    let mut store = Store::open(path, &raw_key(key), OpenOptions::default()).unwrap();
    let statements = store.record(id).unwrap().statements();
    let retired_at = statements
        .iter()
        .find_map(|s| match &s.action {
            Action::Revoke { subject, rotation } if *subject == kit => Some(rotation.epoch),
            _ => None,
        })
        .expect("the kit was removed");
    statements.iter().any(|s| {
        s.rotation()
            .is_some_and(|r| r.epoch >= retired_at && r.keys.iter().any(|k| k.device_id == kit))
    })
}

/// Every book exchanges in turn until a turn in which none fetches anything.
fn settle(books: &[&RedBook], id: &RecordId, http: &HttpTransport, url: &str) {
    for _ in 0..12 {
        let mut quiet = true;
        for book in books {
            quiet &= book.relay_exchange(id, http, url).unwrap().received == 0;
        }
        if quiet {
            return;
        }
    }
    panic!("did not settle through the relay");
}

#[test]
fn a_lost_phone_is_replaced_from_its_recovery_kit_with_nothing_lost() {
    let dir = TempDir::new().unwrap();
    let relay = relay(dir.path());
    let (http, url) = (HttpTransport::default(), relay.url());
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let dad = device(&dir, "dad", 2, Role::Parent, None);
    let clinic = device(&dir, "clinic", 3, Role::HealthVisitor, Some("RQX"));
    let id = mum
        .book
        .add_child(child("Ada Lovelace", "2026-01-10"))
        .unwrap();
    mum.book
        .add_entry(&id, note("2026-01-12", "mum: feeding well"))
        .unwrap();
    for (other, access) in [(&dad, Access::Admin), (&clinic, Access::Writer)] {
        let card = other.book.device_card().unwrap();
        other
            .book
            .accept(&mum.book.share(&id, &card, access).unwrap())
            .unwrap();
    }
    settle(&[&mum.book, &dad.book, &clinic.book], &id, &http, &url);

    // Mum makes her kit (12 words for the paper book) and her app backs up after syncing.
    let words = mum.book.create_recovery_kit().unwrap();
    assert_eq!(words.split(' ').count(), 12);
    assert!(
        mum.book.create_recovery_kit().is_err(),
        "one kit per device"
    );
    mum.book
        .add_entry(&id, note("2026-02-01", "mum: first smile"))
        .unwrap();
    clinic
        .book
        .add_entry(&id, note("2026-02-02", "clinic: weighed"))
        .unwrap();
    settle(&[&mum.book, &dad.book, &clinic.book], &id, &http, &url);
    let backup_size = mum.book.backup_to_relay(&http, &url).unwrap();
    assert!(backup_size > 0);
    let file_backup = mum.book.recovery_backup().unwrap();
    let mum_id = mum.id.clone();

    // The phone is lost (a thief keeps its database); Dad writes meanwhile.
    let thief_copy = dir.path().join("thief.redbook");
    drop(mum);
    std::fs::copy(dir.path().join("mum.redbook"), &thief_copy).unwrap();
    std::fs::remove_file(dir.path().join("mum.redbook")).unwrap();
    dad.book
        .add_entry(&id, note("2026-03-01", "dad: crawling"))
        .unwrap();
    settle(&[&dad.book, &clinic.book], &id, &http, &url);

    // A new phone: a fresh database, Mum's words typed in, the lost phone removed.
    let new_phone = RedBook::open(&dir.path().join("new.redbook"), raw_key(9)).unwrap();
    new_phone
        .set_device_profile(DeviceProfile {
            role: Role::Parent,
            display_name: "Mum (new phone)".into(),
            organisation: None,
        })
        .unwrap();
    let wrong = redbook_core::recovery::RecoveryKit::generate()
        .unwrap()
        .words();
    assert!(matches!(
        new_phone.restore_from_relay(&wrong, &http, &url, true),
        Err(Error::RelayRefused { status: 404, .. })
    ));
    assert!(matches!(
        new_phone.restore(&wrong, &file_backup, true),
        Err(Error::BackupUnreadable)
    ));
    assert!(matches!(
        new_phone.restore("not my words at all", &file_backup, true),
        Err(Error::InvalidInput(_))
    ));
    assert!(
        new_phone.children().unwrap().children.is_empty(),
        "nothing half-restored"
    );
    let restored = new_phone
        .restore_from_relay(&words, &http, &url, true)
        .unwrap();
    assert_eq!(restored.records, std::slice::from_ref(&id));
    assert_eq!(restored.removed, std::slice::from_ref(&mum_id));
    // The kit typed in is retired; the new phone made its own, shown once.
    let new_words = restored.words.clone().expect("a new kit's words");
    assert_eq!(new_words.split(' ').count(), 12);
    assert_ne!(new_words, words);
    assert!(
        !format!("{restored:?}").contains(&new_words),
        "never in a log line"
    );
    assert!(new_phone.create_recovery_kit().is_err(), "shown once");
    assert_eq!(
        notes(&new_phone, &id),
        ["clinic: weighed", "mum: feeding well", "mum: first smile"],
        "everything up to the backup, straight away"
    );

    // Through the relay the others learn of the new phone; it gets what came after.
    settle(&[&new_phone, &dad.book, &clinic.book], &id, &http, &url);
    let all = [
        "clinic: weighed",
        "dad: crawling",
        "mum: feeding well",
        "mum: first smile",
    ];
    for book in [&new_phone, &dad.book, &clinic.book] {
        assert_eq!(notes(book, &id), all);
        let members = book.members(&id).unwrap();
        let lost = members.iter().find(|m| m.device_id == mum_id).unwrap();
        assert!(!lost.is_active(), "the lost phone is removed everywhere");
        let new = members
            .iter()
            .find(|m| m.device_id == new_phone.device_id())
            .unwrap();
        assert_eq!(new.access, Access::Admin);
        let old_kit = members
            .iter()
            .find(|m| m.device_id == kit_id(&words))
            .unwrap();
        assert_eq!(
            old_kit.removed.as_ref().map(|r| &r.by),
            Some(&new_phone.device_id()),
            "the restore retired the kit it used"
        );
        let new_kit = members.iter().find(|m| m.device_id == kit_id(&new_words));
        assert!(new_kit.is_some_and(|m| m.is_active() && m.access == Access::Admin));
    }
    // No key from the kit's removal on is sealed to it.
    for (name, key) in [("new", 9), ("dad", 2)] {
        let path = dir.path().join(format!("{name}.redbook"));
        assert!(!kit_had_a_key_after_retiring(&path, key, &id, &words));
    }
    // The member list reads as what happened: Mum's phone made the kit, the kit added
    // the new phone in its place, and the new phone removed the lost one.
    let members = dad.book.members(&id).unwrap();
    let story: Vec<String> = members
        .iter()
        .map(|m| redbook_core::view::member_standing(m, &members))
        .collect();
    let says = |what: &str| assert!(story.iter().any(|line| line.contains(what)), "{story:#?}");
    says("mum, parent, created this record on");
    says("; removed by Mum (new phone) on");
    says("The recovery kit, added by mum on");
    says(", to restore mum if it is lost; can invite and remove");
    says("Mum (new phone), added by the recovery kit as parent on");
    says(", in place of mum; can invite and remove");
    new_phone
        .add_entry(&id, note("2026-04-01", "mum: walking"))
        .unwrap();
    settle(&[&new_phone, &dad.book, &clinic.book], &id, &http, &url);
    assert!(notes(&clinic.book, &id).contains(&"mum: walking".to_string()));

    // The thief's copy of the lost phone reads nothing new and reaches nobody; it holds
    // nothing that gives back the words or signs as the kit.
    assert!(!holds_kit_secret(&thief_copy, 1, &words));
    let thief = RedBook::open(&thief_copy, raw_key(1)).unwrap();
    assert!(
        thief.create_recovery_kit().is_err(),
        "the words are not shown again"
    );
    thief
        .add_entry(&id, note("2026-04-02", "thief: forged"))
        .unwrap();
    for _ in 0..3 {
        thief.relay_exchange(&id, &http, &url).unwrap();
        settle(&[&new_phone, &dad.book, &clinic.book], &id, &http, &url);
    }
    assert!(!notes(&thief, &id).contains(&"mum: walking".to_string()));
    assert!(!notes(&dad.book, &id).contains(&"thief: forged".to_string()));

    // Restoring again changes nothing more.
    let again = new_phone
        .restore_from_relay(&words, &http, &url, true)
        .unwrap();
    assert_eq!(again.records, std::slice::from_ref(&id));
    assert!(again.removed.is_empty());
    assert!(again.words.is_none());

    // The new kit works as the first did: the new phone backs up, is lost in its turn,
    // and a third phone restored from the new words replaces it and retires that kit.
    new_phone.backup_to_relay(&http, &url).unwrap();
    let new_phone_id = new_phone.device_id();
    drop(new_phone);
    let third = device(&dir, "third", 5, Role::Parent, None);
    let restored = third
        .book
        .restore_from_relay(&new_words, &http, &url, true)
        .unwrap();
    assert_eq!(restored.removed, std::slice::from_ref(&new_phone_id));
    assert!(restored.words.is_some());
    settle(&[&third.book, &dad.book, &clinic.book], &id, &http, &url);
    for book in [&third.book, &dad.book, &clinic.book] {
        assert!(notes(book, &id).contains(&"mum: walking".to_string()));
        let members = book.members(&id).unwrap();
        for gone in [&new_phone_id, &kit_id(&new_words)] {
            assert!(!members
                .iter()
                .any(|m| &m.device_id == gone && m.is_active()));
        }
    }
    assert!(!kit_had_a_key_after_retiring(
        &dir.path().join("dad.redbook"),
        2,
        &id,
        &new_words
    ));
}

#[test]
fn nothing_the_backup_store_holds_is_readable_without_the_words() {
    let dir = TempDir::new().unwrap();
    let relay = relay(dir.path());
    let (http, url) = (HttpTransport::default(), relay.url());
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let id = mum
        .book
        .add_child(child("Ada Lovelace", "2026-01-10"))
        .unwrap();
    mum.book
        .add_entry(&id, note("2026-01-12", "a private note"))
        .unwrap();
    mum.book.create_recovery_kit().unwrap();
    mum.book.backup_to_relay(&http, &url).unwrap();
    let file = mum.book.recovery_backup().unwrap();
    drop(relay);
    let mut stored = file.clone();
    for name in ["relay.sqlite", "relay.sqlite-wal"] {
        stored.extend(std::fs::read(dir.path().join(name)).unwrap_or_default());
    }
    for secret in [
        "Ada Lovelace".as_bytes(),
        b"a private note",
        id.as_str().as_bytes(),
        &hex::decode(id.as_str()).unwrap(),
        &hex::decode(&mum.id).unwrap(),
    ] {
        assert!(!stored.windows(secret.len()).any(|w| w == secret));
    }
}

/// Each upload names a version above the one the relay keeps, so a replayed earlier upload
/// cannot roll the backup back; a phone whose clock runs behind the version kept (another
/// phone on the kit wrote with its clock ahead) still writes above it.
#[test]
fn backups_replace_each_other_in_order_even_when_a_clock_runs_behind() {
    let dir = TempDir::new().unwrap();
    let relay = relay(dir.path());
    let (http, url) = (HttpTransport::default(), relay.url());
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let id = mum
        .book
        .add_child(child("Ada Lovelace", "2026-01-10"))
        .unwrap();
    let words = mum.book.create_recovery_kit().unwrap();
    mum.book.backup_to_relay(&http, &url).unwrap();
    mum.book.backup_to_relay(&http, &url).unwrap();

    let slot = redbook_core::recovery::RecoveryKit::from_words(&words)
        .unwrap()
        .backup_slot();
    let ahead = chrono::Utc::now().timestamp_millis() + 24 * 3600 * 1000;
    let path = format!(
        "{}?version={ahead}",
        redbook_core::sync::relay_protocol::backup_path(&slot.address())
    );
    let body = mum.book.recovery_backup().unwrap();
    let headers = slot.sign_request("PUT", &path, chrono::Utc::now().timestamp(), &body);
    let response = redbook_core::sync::relay_protocol::RelayTransport::send(
        &http,
        redbook_core::sync::relay_protocol::HttpRequest {
            method: "PUT".into(),
            url: format!("{url}{path}"),
            headers,
            body,
        },
    )
    .unwrap();
    assert_eq!(response.status, 200);

    mum.book
        .add_entry(&id, note("2026-02-01", "written after"))
        .unwrap();
    mum.book.backup_to_relay(&http, &url).unwrap();
    let new_phone = device(&dir, "new", 4, Role::Parent, None);
    new_phone
        .book
        .restore_from_relay(&words, &http, &url, false)
        .unwrap();
    assert_eq!(notes(&new_phone.book, &id), ["written after"]);
}
