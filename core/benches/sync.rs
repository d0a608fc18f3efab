//! Group `sync`: `full_5000` syncs a 5,000-entry record to a new member through
//! sealed, signed envelopes and two encrypted stores; `one_entry` syncs one new entry
//! between two devices already in sync; `bare_automerge` does the full sync with bare
//! automerge documents in memory, the baseline, and `one_entry_bare_automerge` the
//! one-entry step with them (one entry value put, committed and synced). Rounds and
//! bytes are printed once.
//!
//! Group `receive`: what checking another device's changes costs. `checked_5000` takes
//! the 5,000 entries' changes into a fresh copy of the record through
//! `Record::receive_changes` (every operation checked, then applied); `unchecked_5000`
//! applies the same bytes with automerge's `load_incremental`, the baseline. The
//! difference divided by 5,000 is the cost of checking one received entry.

use automerge::sync::{State, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ScalarValue};
// Only its entry lookup: the floor itself is `store`'s and `budgets`' baseline.
#[allow(dead_code)]
#[path = "support/engines_floor.rs"]
mod engines_floor;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use engines_floor::an_entry_value;
use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::record::Record;
use redbook_core::{RedBook, Unlock};
use std::sync::Arc;
use tempfile::TempDir;

const ENTRIES: usize = 5_000;

fn open(dir: &TempDir, name: &str) -> RedBook {
    let key = Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[9; 32]).unwrap()));
    RedBook::open(&dir.path().join(name), key).unwrap()
}

fn note(i: usize) -> EntryBody {
    EntryBody::Note(Note {
        date: "2026-02-01".parse().unwrap(),
        kind: NoteKind::Observation,
        text: format!("note {i} about the day"),
    })
}

/// (round trips, messages, bytes) to bring `a` and `b` into sync.
fn sync(a: &RedBook, b: &RedBook, id: &RecordId) -> (usize, usize, usize) {
    let (a_id, b_id) = (a.device_id(), b.device_id());
    let (mut rounds, mut messages, mut bytes) = (0, 0, 0);
    loop {
        let mut sent = false;
        for (from, to, to_id) in [(a, b, &b_id), (b, a, &a_id)] {
            if let Some(message) = from.sync_message(id, to_id).unwrap() {
                messages += 1;
                bytes += message.len();
                to.receive(&message).unwrap();
                sent = true;
            }
        }
        if !sent {
            return (rounds, messages, bytes);
        }
        rounds += 1;
    }
}

fn bare_sync(a: &mut Automerge, b: &mut Automerge) -> (usize, usize) {
    bare_sync_with(a, &mut State::new(), b, &mut State::new())
}

/// Syncs `a` (whose state for `b` is `sa`) and `b` (`sb` for `a`) until neither sends.
fn bare_sync_with(
    a: &mut Automerge,
    sa: &mut State,
    b: &mut Automerge,
    sb: &mut State,
) -> (usize, usize) {
    let (mut messages, mut bytes) = (0, 0);
    loop {
        let mut sent = false;
        if let Some(m) = a.generate_sync_message(sa) {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len();
            b.receive_sync_message(sb, automerge::sync::Message::decode(&encoded).unwrap())
                .unwrap();
            sent = true;
        }
        if let Some(m) = b.generate_sync_message(sb) {
            let encoded = m.encode();
            messages += 1;
            bytes += encoded.len();
            a.receive_sync_message(sa, automerge::sync::Message::decode(&encoded).unwrap())
                .unwrap();
            sent = true;
        }
        if !sent {
            return (messages, bytes);
        }
    }
}

fn sync_benches(c: &mut Criterion) {
    let dir = TempDir::new().unwrap();
    let mum = open(&dir, "mum.redbook");
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
    let saved = mum.record_bytes(&id).unwrap();

    // Figures printed once, outside the timing.
    let first = TempDir::new().unwrap();
    let member = open(&first, "new.redbook");
    member
        .accept(
            &mum.share(&id, &member.device_card().unwrap(), Access::Writer)
                .unwrap(),
        )
        .unwrap();
    let (rounds, messages, bytes) = sync(&mum, &member, &id);
    eprintln!("sync/full_5000: {rounds} round trips, {messages} messages, {bytes} bytes");
    mum.add_entry(&id, note(ENTRIES)).unwrap();
    let (rounds, messages, bytes) = sync(&mum, &member, &id);
    eprintln!("sync/one_entry: {rounds} round trips, {messages} messages, {bytes} bytes");
    let (messages, bytes) = bare_sync(&mut Automerge::load(&saved).unwrap(), &mut Automerge::new());
    eprintln!("sync/bare_automerge: {messages} messages, {bytes} bytes");

    let mut group = c.benchmark_group("sync");
    group.sample_size(10);
    // Each iteration invites one new member into a copy of Mum's database as it stands
    // here, so the record carries the two or three membership statements a family's
    // does, not one more per iteration.
    drop(mum);
    let settled = TempDir::new().unwrap();
    let base = settled.path().join("mum.redbook");
    {
        let conn = rusqlite::Connection::open(dir.path().join("mum.redbook")).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
    }
    std::fs::copy(dir.path().join("mum.redbook"), &base).unwrap();
    group.bench_function("full_5000", |b| {
        b.iter_batched(
            || {
                let dir = TempDir::new().unwrap();
                std::fs::copy(&base, dir.path().join("mum.redbook")).unwrap();
                let mum = open(&dir, "mum.redbook");
                let member = open(&dir, "new.redbook");
                member
                    .accept(
                        &mum.share(&id, &member.device_card().unwrap(), Access::Writer)
                            .unwrap(),
                    )
                    .unwrap();
                (dir, mum, member)
            },
            |(dir, mum, member)| {
                sync(&mum, &member, &id);
                (dir, mum, member)
            },
            BatchSize::PerIteration,
        )
    });
    let mum = open(&dir, "mum.redbook");
    group.bench_function("bare_automerge", |b| {
        b.iter_batched(
            || (Automerge::load(&saved).unwrap(), Automerge::new()),
            |(mut a, mut empty)| bare_sync(&mut a, &mut empty),
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
            |()| sync(&mum, &member, &id),
            BatchSize::PerIteration,
        )
    });
    // The same step with bare automerge: two documents of the record already in sync,
    // one entry value put and committed on one, then synced with the states kept.
    let mut sender = Automerge::load(&saved).unwrap();
    let mut receiver = sender.clone();
    let (entries, value) = an_entry_value(&sender);
    let (mut to_receiver, mut to_sender) = (State::new(), State::new());
    bare_sync_with(&mut sender, &mut to_receiver, &mut receiver, &mut to_sender);
    let mut n = 0;
    group.bench_function("one_entry_bare_automerge", |b| {
        b.iter_custom(|iterations| {
            let mut spent = std::time::Duration::ZERO;
            for _ in 0..iterations {
                n += 1;
                let mut tx = sender.transaction();
                tx.put(
                    &entries,
                    format!("bare-{n}"),
                    ScalarValue::Bytes(value.clone()),
                )
                .unwrap();
                tx.commit();
                let started = std::time::Instant::now();
                bare_sync_with(&mut sender, &mut to_receiver, &mut receiver, &mut to_sender);
                spent += started.elapsed();
            }
            spent
        })
    });
    group.finish();

    let whole = Record::load(&saved).unwrap();
    let genesis = Record::genesis(&id).unwrap().heads();
    let changes = whole.save_after(&genesis);
    let mut group = c.benchmark_group("receive");
    group.sample_size(10);
    group.bench_function("checked_5000", |b| {
        b.iter_batched(
            || Record::genesis(&id).unwrap(),
            |mut record| {
                record.receive_changes(&changes).unwrap();
                record
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("unchecked_5000", |b| {
        b.iter_batched(
            || Record::genesis(&id).unwrap(),
            |mut record| {
                record.automerge_mut().load_incremental(&changes).unwrap();
                record
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, sync_benches);
criterion_main!(benches);
