//! Group `relay`, over real HTTP on loopback to an in-process relay on SQLite:
//! `one_entry` carries one new entry between two devices already in sync (the writer's
//! exchange, then the reader's); `full_5000` brings a new member a 5,000-entry record
//! through the relay; `direct_full_5000` is the same join with the messages handed over
//! in memory (`sync/full_5000`'s way), the baseline. Requests and bytes printed once.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::{RedBook, RelayReport, Unlock};
use redbook_relay::{Config, HttpTransport, RunningRelay, SqliteStorage};
use std::path::Path;
use std::sync::Arc;
use tempfile::TempDir;

const ENTRIES: usize = 5_000;

fn open(path: &Path) -> RedBook {
    let key = Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[9; 32]).unwrap()));
    RedBook::open(path, key).unwrap()
}

fn note(i: usize) -> EntryBody {
    EntryBody::Note(Note {
        date: "2026-02-01".parse().unwrap(),
        kind: NoteKind::Observation,
        text: format!("note {i} about the day"),
    })
}

fn invite(mum: &RedBook, member: &RedBook, id: &RecordId) {
    let invitation = mum
        .share(id, &member.device_card().unwrap(), Access::Writer)
        .unwrap();
    member.accept(&invitation).unwrap();
}

/// Exchanges in turn until a turn in which neither device has anything to fetch or post
/// (as `direct` stops at a round with nothing to send); what crossed, and turns taken.
fn through_relay(
    a: &RedBook,
    b: &RedBook,
    id: &RecordId,
    http: &HttpTransport,
    url: &str,
) -> (RelayReport, usize) {
    let mut total = RelayReport::default();
    for turn in 1..=20 {
        let (first, second) = (
            a.relay_exchange(id, http, url).unwrap(),
            b.relay_exchange(id, http, url).unwrap(),
        );
        let quiet = first.posted + first.received + second.posted + second.received == 0;
        total.add(&first);
        total.add(&second);
        if quiet {
            return (total, turn);
        }
    }
    panic!("did not settle through the relay");
}

fn direct(a: &RedBook, b: &RedBook, id: &RecordId) {
    let (a_id, b_id) = (a.device_id(), b.device_id());
    loop {
        let mut sent = false;
        for (from, to, to_id) in [(a, b, &b_id), (b, a, &a_id)] {
            if let Some(message) = from.sync_message(id, to_id).unwrap() {
                to.receive(&message).unwrap();
                sent = true;
            }
        }
        if !sent {
            return;
        }
    }
}

fn relay_benches(c: &mut Criterion) {
    let dir = TempDir::new().unwrap();
    let relay_dir = TempDir::new().unwrap();
    let relay = RunningRelay::start(
        Arc::new(SqliteStorage::open(&relay_dir.path().join("relay.sqlite")).unwrap()),
        // Criterion runs hundreds of exchanges a minute on one mailbox, from one address.
        Config {
            requests_per_minute: 1_000_000,
            source_requests_per_minute: 1_000_000,
            ..Config::default()
        },
        "127.0.0.1:0".parse().unwrap(),
    )
    .unwrap();
    let (http, url) = (HttpTransport::default(), relay.url());
    let mum_path = dir.path().join("mum.redbook");
    let mum = open(&mum_path);
    let id = mum
        .add_child(ChildDetails {
            name: "Bench".into(),
            birth_date: Some("2026-01-01".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    for i in 0..ENTRIES {
        mum.add_entry(&id, note(i)).unwrap();
    }
    drop(mum);
    {
        let conn = rusqlite::Connection::open(&mum_path).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }

    // Figures printed once, outside the timing.
    let first = TempDir::new().unwrap();
    std::fs::copy(&mum_path, first.path().join("mum.redbook")).unwrap();
    let mum = open(&first.path().join("mum.redbook"));
    let member = open(&first.path().join("member.redbook"));
    invite(&mum, &member, &id);
    let (report, turns) = through_relay(&mum, &member, &id, &http, &url);
    eprintln!(
        "relay/full_5000: {turns} turns, {} requests, {} messages, {} bytes up, {} bytes down",
        report.round_trips, report.posted, report.bytes_sent, report.bytes_received
    );
    mum.add_entry(&id, note(ENTRIES)).unwrap();
    let writer = mum.relay_exchange(&id, &http, &url).unwrap();
    let reader = member.relay_exchange(&id, &http, &url).unwrap();
    assert!(reader.changed);
    eprintln!(
        "relay/one_entry: writer {} requests ({} bytes up), reader {} requests ({} bytes down, {} up); on the entry's path: the writer's post and the reader's fetch",
        writer.round_trips, writer.bytes_sent, reader.round_trips, reader.bytes_received, reader.bytes_sent
    );

    let mut group = c.benchmark_group("relay");
    group.sample_size(10);
    let fresh = || {
        let dir = TempDir::new().unwrap();
        std::fs::copy(&mum_path, dir.path().join("mum.redbook")).unwrap();
        let mum = open(&dir.path().join("mum.redbook"));
        let member = open(&dir.path().join("member.redbook"));
        invite(&mum, &member, &id);
        (dir, mum, member)
    };
    group.bench_function("full_5000", |b| {
        b.iter_batched(
            fresh,
            |(dir, mum, member)| {
                through_relay(&mum, &member, &id, &http, &url);
                (dir, mum, member)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("direct_full_5000", |b| {
        b.iter_batched(
            fresh,
            |(dir, mum, member)| {
                direct(&mum, &member, &id);
                (dir, mum, member)
            },
            BatchSize::PerIteration,
        )
    });
    group.sample_size(30);
    let mut i = ENTRIES + 1;
    group.bench_function("one_entry", |b| {
        b.iter_batched(
            || {
                i += 1;
                mum.add_entry(&id, note(i)).unwrap();
            },
            |()| {
                mum.relay_exchange(&id, &http, &url).unwrap();
                let reader = member.relay_exchange(&id, &http, &url).unwrap();
                assert!(reader.changed);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, relay_benches);
criterion_main!(benches);
