//! A health visitor's caseload (docs/adr/0010-caseload.md): 500 children of 200
//! entries each in one file.
//! - `caseload/list_500` (the children list from sealed summaries) against
//!   `caseload/plain_sqlite_select_500` (selecting 500 rows of the same size from a plain
//!   table): within 3x.
//! - `caseload/find_by_nhs_number` and `caseload/find_by_name_prefix`.
//! - Peak heap while opening all 500 in turn, with the default cache limits and with none,
//!   by a counting allocator (printed; criterion measures time only).
//!
//! The 100,000 entries are written once through the real API (in /dev/shm when there is
//! one) and the file kept under target/bench-fixtures for the next run.

use criterion::{criterion_group, criterion_main, Criterion};
use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::store::{DEFAULT_MAX_OPEN_BYTES, DEFAULT_MAX_OPEN_RECORDS};
use redbook_core::{RedBook, Unlock};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

const CHILDREN: usize = 500;
const ENTRIES_EACH: usize = 200;

#[path = "support/counting.rs"]
mod counting;
use counting::{Counting, LIVE, PEAK};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn raw_key() -> Unlock {
    Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[42; 32]).unwrap()))
}

/// An NHS number with a valid check digit for each child (9 digits, then mod 11).
fn nhs_number(i: usize) -> String {
    (0..)
        .map(|k| format!("{:09}", 400_000_000 + i * 97 + k))
        .find_map(|nine| {
            let sum: u32 = nine
                .bytes()
                .zip((2..=10).rev())
                .map(|(d, w)| u32::from(d - b'0') * w)
                .sum();
            match 11 - sum % 11 {
                11 => Some(format!("{nine}0")),
                10 => None,
                check => Some(format!("{nine}{check}")),
            }
        })
        .unwrap()
}

fn entry(i: usize) -> EntryBody {
    if i.is_multiple_of(4) {
        EntryBody::Note(Note {
            date: "2026-02-01".parse().unwrap(),
            kind: NoteKind::Observation,
            text: "Feeding well, settled between feeds; parents have no concerns today.".into(),
        })
    } else {
        EntryBody::Measurement(Measurement {
            date: "2026-02-01".parse().unwrap(),
            weight_kg: Some(4.0 + (i % 100) as f64 / 100.0),
            length_cm: Some(55.0),
            height_cm: None,
            head_circumference_cm: Some(38.0),
            measured_by: MeasuredBy::Professional,
        })
    }
}

/// The caseload file, written once.
fn caseload() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    let kept = dir.join(format!(
        "caseload-v{}-{CHILDREN}x{ENTRIES_EACH}.redbook",
        redbook_core::store::schema::CURRENT_VERSION
    ));
    if kept.exists() {
        return kept;
    }
    // Built where fsync is free, then moved: the bench reads it, it is not about writing.
    let shm = Path::new("/dev/shm");
    let build_dir = tempfile::TempDir::new_in(if shm.is_dir() { shm } else { &dir }).unwrap();
    let building = build_dir.path().join("caseload.redbook");
    let started = Instant::now();
    {
        let book = RedBook::open(&building, raw_key()).unwrap();
        for child in 0..CHILDREN {
            let id = book
                .add_child(ChildDetails {
                    name: format!("Child{child:03} Surname{}", child % 37),
                    birth_date: Some("2026-01-01".parse().unwrap()),
                    nhs_number: Some(nhs_number(child)),
                    ..Default::default()
                })
                .unwrap();
            for i in 0..ENTRIES_EACH {
                book.add_entry(&id, entry(i)).unwrap();
            }
            // Read once, as a clinic would have: the signature verdicts are kept.
            book.child(&id).unwrap();
        }
    }
    let conn = rusqlite::Connection::open(&building).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    std::fs::copy(&building, &kept).unwrap();
    eprintln!(
        "caseload: wrote {CHILDREN} children x {ENTRIES_EACH} entries in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    kept
}

fn caseload_benches(c: &mut Criterion) {
    let path = caseload();
    let book = RedBook::open(&path, raw_key()).unwrap();
    let list = book.children().unwrap();
    assert_eq!(list.children.len(), CHILDREN);

    // The baseline: 500 rows the size of a summary row, from a plain table.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (row_bytes, key_bytes): (i64, i64) = conn
        .query_row(
            "SELECT AVG(LENGTH(sealed_head) + COALESCE(LENGTH(nhs_ref), 0) + LENGTH(sealed)),
                    AVG(LENGTH(record_ref))
             FROM summaries",
            [],
            |r| Ok((r.get::<_, f64>(0)? as i64, r.get::<_, f64>(1)? as i64)),
        )
        .unwrap();
    drop(conn);
    let plain_dir = tempfile::TempDir::new().unwrap();
    let plain = rusqlite::Connection::open(plain_dir.path().join("plain.sqlite")).unwrap();
    plain
        .execute_batch(
            "CREATE TABLE rows (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
        )
        .unwrap();
    for i in 0..CHILDREN {
        let mut key = vec![0u8; key_bytes as usize];
        key[..8].copy_from_slice(&(i as u64).to_be_bytes());
        plain
            .execute(
                "INSERT INTO rows (key, value) VALUES (?1, ?2)",
                rusqlite::params![key, vec![7u8; row_bytes as usize]],
            )
            .unwrap();
    }
    eprintln!("caseload: summary rows of {row_bytes} bytes (head, NHS lookup, sealed summary), keys of {key_bytes}");

    let mut group = c.benchmark_group("caseload");
    group.bench_function("list_500", |b| b.iter(|| book.children().unwrap()));
    // Where list_500's time goes: the store's part alone (no sorting, no lock).
    let mut store =
        redbook_core::store::Store::open(&path, &raw_key(), Default::default()).unwrap();
    group.bench_function("store_summaries_500", |b| {
        b.iter(|| store.summaries().unwrap())
    });
    group.bench_function("plain_sqlite_select_500", |b| {
        b.iter(|| {
            let mut stmt = plain.prepare_cached("SELECT key, value FROM rows").unwrap();
            stmt.query_map([], |r| {
                Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
        })
    });
    let wanted = nhs_number(CHILDREN / 2);
    assert_eq!(book.find_by_nhs_number(&wanted).unwrap().len(), 1);
    group.bench_function("find_by_nhs_number", |b| {
        b.iter(|| book.find_by_nhs_number(&wanted).unwrap())
    });
    group.bench_function("find_by_name_prefix", |b| {
        b.iter(|| book.find_by_name("child25").unwrap())
    });
    group.finish();
    drop(book);

    // Memory: every child opened in turn (the record read whole, as its timeline is).
    let ids: Vec<RecordId> = list.children.iter().map(|c| c.id.clone()).collect();
    let peak_opening_all = |limits: Option<(u32, u64)>| {
        let book = RedBook::open(&path, raw_key()).unwrap();
        if let Some((records, bytes)) = limits {
            book.set_cache_limits(records, bytes);
        }
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        for id in &ids {
            book.child(id).unwrap();
        }
        let took = started.elapsed();
        let peak = PEAK.load(Ordering::Relaxed) - before;
        let held = LIVE.load(Ordering::Relaxed) - before;
        (peak, held, took)
    };
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    for (what, limits) in [
        (
            "default limits (32 records, 64 MiB)",
            Some((
                DEFAULT_MAX_OPEN_RECORDS as u32,
                DEFAULT_MAX_OPEN_BYTES as u64,
            )),
        ),
        (
            "a phone's tighter limits (8 records, 16 MiB)",
            Some((8, 16 << 20)),
        ),
        ("no limit", Some((u32::MAX, u64::MAX))),
    ] {
        let (peak, held, took) = peak_opening_all(limits);
        eprintln!(
            "caseload: opening all {CHILDREN} in turn, {what}: peak heap {:.1} MiB, held after {:.1} MiB, {:.2} s",
            mib(peak),
            mib(held),
            took.as_secs_f64()
        );
    }
    // What one open record takes, against what the estimate in store/cache.rs assumes.
    let book = RedBook::open(&path, raw_key()).unwrap();
    book.set_cache_limits(u32::MAX, u64::MAX);
    let before = LIVE.load(Ordering::Relaxed);
    for id in &ids[..50] {
        book.child(id).unwrap();
    }
    let per_record = (LIVE.load(Ordering::Relaxed) - before) / 50;
    let (_, stored) = book.storage_stats(&ids[0]).unwrap();
    eprintln!(
        "caseload: one open record holds {:.0} KiB of heap; its chunks are {:.0} KiB sealed ({:.1}x)",
        per_record as f64 / 1024.0,
        stored as f64 / 1024.0,
        per_record as f64 / stored as f64
    );
}

criterion_group!(benches, caseload_benches);
criterion_main!(benches);
