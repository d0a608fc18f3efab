//! Store benchmarks, each against the plain baseline it must stay close to:
//! - `add_entry`: a durable add to a 5,000-entry record vs the floor its two engines set
//!   (`engines_floor`: automerge's put and commit of the same signed value on the same
//!   document, the incremental change saved and inserted by rusqlite in one
//!   `synchronous=FULL` WAL transaction) and vs a bare rusqlite insert of the entry's JSON.
//! - `open_record`: opening the store with a raw key, loading a 5,000-entry record and
//!   decoding every entry, cold, vs bare `Automerge::load` of the same document's saved
//!   bytes (within 2x, with the signature verdicts saved beside the chunks);
//!   and the same record once a member was removed, when every read also works out what
//!   each change had seen (`record::causal`).

#[path = "support/engines_floor.rs"]
mod engines_floor;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use engines_floor::EnginesFloor;
use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::{RedBook, Unlock};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const ENTRIES: usize = 5_000;

fn raw_key() -> Unlock {
    Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[42; 32]).unwrap()))
}

fn measurement(i: usize) -> EntryBody {
    EntryBody::Measurement(Measurement {
        date: "2026-02-01".parse().unwrap(),
        weight_kg: Some(4.0 + (i % 100) as f64 / 100.0),
        length_cm: Some(55.0),
        height_cm: None,
        head_circumference_cm: Some(38.0),
        measured_by: MeasuredBy::Professional,
    })
}

/// A database holding one child with `ENTRIES` measurements.
fn populated(path: &Path) -> (RedBook, RecordId) {
    let book = RedBook::open(path, raw_key()).unwrap();
    let id = book
        .add_child(ChildDetails {
            name: "Bench Child".into(),
            birth_date: Some("2026-01-01".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    for i in 0..ENTRIES {
        book.add_entry(&id, measurement(i)).unwrap();
    }
    (book, id)
}

/// Lets the disk settle: checkpoint the WAL and flush the kernel's dirty pages, so the
/// function measured next does not pay for the writes made before it.
fn settle(database: &Path) {
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    std::process::Command::new("sync").status().unwrap();
    std::thread::sleep(Duration::from_millis(500));
}

fn add_entry(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("bench.redbook");
    let (book, id) = populated(&path);

    let plain = rusqlite::Connection::open(dir.path().join("plain.sqlite")).unwrap();
    plain.pragma_update(None, "journal_mode", "WAL").unwrap();
    plain.pragma_update(None, "synchronous", "FULL").unwrap();
    plain
        .execute_batch("CREATE TABLE entries (id INTEGER PRIMARY KEY, json BLOB NOT NULL)")
        .unwrap();
    let json = serde_json::to_vec(&book.child(&id).unwrap().entries[0].entry).unwrap();

    let mut group = c.benchmark_group("add_entry");
    group.measurement_time(Duration::from_secs(8));
    let mut i = 0;
    settle(&path);
    group.bench_function("redbook", |b| {
        b.iter(|| {
            i += 1;
            book.add_entry(&id, measurement(i)).unwrap()
        })
    });
    // The engines alone: the same document, the same signed value under a fresh key,
    // the change's bytes as one row. Everything redbook adds is above this.
    let mut floor = EnginesFloor::new(
        &book.record_bytes(&id).unwrap(),
        &dir.path().join("floor.sqlite"),
    );
    settle(&dir.path().join("floor.sqlite"));
    group.bench_function("engines_floor", |b| {
        b.iter(|| {
            i += 1;
            floor.write(&format!("floor-{i}"));
        })
    });
    settle(&dir.path().join("plain.sqlite"));
    group.bench_function("plain_rusqlite", |b| {
        b.iter(|| {
            let tx = plain.unchecked_transaction().unwrap();
            tx.execute("INSERT INTO entries (json) VALUES (?1)", [&json])
                .unwrap();
            tx.commit().unwrap();
        })
    });
    group.finish();
}

fn open_record(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("bench.redbook");
    let (book, id) = populated(&path);
    let saved = book.record_bytes(&id).unwrap();
    let (chunks, bytes) = book.storage_stats(&id).unwrap();
    eprintln!("open_record: {ENTRIES} entries stored as {chunks} chunks, {bytes} bytes; saved document {} bytes", saved.len());
    drop(book);

    // Read once, so its signature verdicts are saved beside the chunks.
    RedBook::open(&path, raw_key()).unwrap().child(&id).unwrap();

    let mut group = c.benchmark_group("open_record");
    group.sample_size(20);
    group.bench_function("automerge_load", |b| {
        b.iter_batched(
            || saved.clone(),
            |bytes| automerge::Automerge::load(&bytes).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // Cold: a new handle opens the file (raw key), decrypts every chunk, loads the
    // document once, takes the saved verdicts and decodes every entry with its author.
    group.bench_function("redbook_and_decode_every_entry", |b| {
        b.iter(|| RedBook::open(&path, raw_key()).unwrap().child(&id).unwrap())
    });
    // Cold with no saved verdicts, every signature checked again.
    let copy = dir.path().join("no-verdicts.redbook");
    group.bench_function(
        "redbook_and_decode_every_entry_checking_every_signature",
        |b| {
            b.iter_batched(
                || {
                    std::fs::copy(&path, &copy).unwrap();
                    let conn = rusqlite::Connection::open(&copy).unwrap();
                    conn.execute("DELETE FROM verdicts", []).unwrap();
                },
                |()| RedBook::open(&copy, raw_key()).unwrap().child(&id).unwrap(),
                BatchSize::PerIteration,
            )
        },
    );
    // The same record once a member was added and removed: reading it also walks the
    // change graph (docs/threat-model.md, "Times").
    let removed = dir.path().join("removed.redbook");
    std::fs::copy(&path, &removed).unwrap();
    {
        let book = RedBook::open(&removed, raw_key()).unwrap();
        let other = RedBook::open(&dir.path().join("other.redbook"), raw_key()).unwrap();
        let card = other.device_card().unwrap();
        book.share(&id, &card, Access::Writer).unwrap();
        book.remove_member(&id, &card.device_id()).unwrap();
        book.child(&id).unwrap();
    }
    group.bench_function("redbook_and_decode_every_entry_after_a_removal", |b| {
        b.iter(|| {
            RedBook::open(&removed, raw_key())
                .unwrap()
                .child(&id)
                .unwrap()
        })
    });
    // The app showing the record again on an open handle: signatures already checked.
    let open = RedBook::open(&path, raw_key()).unwrap();
    open.child(&id).unwrap();
    group.bench_function("decode_every_entry_again", |b| {
        b.iter(|| open.child(&id).unwrap())
    });
    group.finish();
}

criterion_group!(benches, add_entry, open_record);
criterion_main!(benches);
