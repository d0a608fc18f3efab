//! The files the instruction budgets read (`benches/budgets.rs`), written once through the
//! real API and kept under target/bench-fixtures. `examples/budget_fixtures.rs` writes
//! them natively first (under valgrind it takes a minute and more); the bench writes any
//! that are missing itself.

use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::{RedBook, Unlock};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::TempDir;

/// Entries in the benched record: a busy child's first years, several times over.
pub const ENTRIES: usize = 1_000;
/// Children in the benched caseload.
pub const CHILDREN: usize = 500;

pub fn raw_key() -> Unlock {
    Unlock::KeyProvider(Arc::new(RawKeyProvider::new(&[42; 32]).unwrap()))
}

pub fn measurement(i: usize) -> EntryBody {
    EntryBody::Measurement(Measurement {
        date: "2026-02-01".parse().unwrap(),
        weight_kg: Some(4.0 + (i % 100) as f64 / 100.0),
        length_cm: Some(55.0),
        height_cm: None,
        head_circumference_cm: Some(38.0),
        measured_by: MeasuredBy::Professional,
    })
}

/// The folder, named by the store's schema: a new schema writes new files.
pub fn fixtures() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../target/bench-fixtures/budgets-v{}",
        redbook_core::store::schema::CURRENT_VERSION
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn checkpoint(path: &Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

pub fn sync(a: &RedBook, b: &RedBook, id: &RecordId) {
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

/// Two devices' files holding the same `ENTRIES`-entry record, in sync, and its id:
/// "mum.redbook" (its creator) and "dad.redbook" (a writer).
pub fn family() -> (PathBuf, RecordId) {
    let dir = fixtures();
    let id_file = dir.join("family.id");
    if let Ok(id) = std::fs::read_to_string(&id_file) {
        return (dir, id.parse().unwrap());
    }
    let building = TempDir::new().unwrap();
    let mum = RedBook::open(&building.path().join("mum.redbook"), raw_key()).unwrap();
    let dad = RedBook::open(&building.path().join("dad.redbook"), raw_key()).unwrap();
    let id = mum
        .add_child(ChildDetails {
            name: "Bench Child".into(),
            birth_date: Some("2026-01-01".parse().unwrap()),
            ..Default::default()
        })
        .unwrap();
    for i in 0..ENTRIES {
        mum.add_entry(&id, measurement(i)).unwrap();
    }
    dad.accept(
        &mum.share(&id, &dad.device_card().unwrap(), Access::Writer)
            .unwrap(),
    )
    .unwrap();
    sync(&mum, &dad, &id);
    // Read once each, as the apps would have: the signature verdicts are kept.
    mum.child(&id).unwrap();
    dad.child(&id).unwrap();
    drop((mum, dad));
    for name in ["mum.redbook", "dad.redbook"] {
        checkpoint(&building.path().join(name));
        std::fs::copy(building.path().join(name), dir.join(name)).unwrap();
    }
    std::fs::write(&id_file, id.as_str()).unwrap();
    (dir, id)
}

/// A health visitor's file: `CHILDREN` children with a measurement each.
pub fn caseload() -> PathBuf {
    let dir = fixtures();
    let kept = dir.join("caseload.redbook");
    if kept.exists() {
        return kept;
    }
    let building = TempDir::new().unwrap();
    let path = building.path().join("caseload.redbook");
    let book = RedBook::open(&path, raw_key()).unwrap();
    for child in 0..CHILDREN {
        let id = book
            .add_child(ChildDetails {
                name: format!("Child{child:03} Surname{}", child % 37),
                birth_date: Some("2026-01-01".parse().unwrap()),
                ..Default::default()
            })
            .unwrap();
        book.add_entry(&id, measurement(child)).unwrap();
    }
    drop(book);
    checkpoint(&path);
    std::fs::copy(&path, &kept).unwrap();
    kept
}
