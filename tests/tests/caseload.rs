//! A caseload: the list of children comes from sealed summaries written with every change
//! (docs/adr/0010-caseload.md). They never disagree with the records: through amendments,
//! sync, key rotation and migration; a missing, stale, swapped or tampered summary is
//! detected and rebuilt from the document, never shown.

use redbook_core::model::*;
use redbook_core::store::Store;
use redbook_core::{ChildSummary, Error, OpenOptions, RedBook};
use redbook_tests::{child, device, invite, note, raw_key, settle};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn db(dir: &TempDir) -> PathBuf {
    dir.path().join("caseload.redbook")
}

fn with_nhs(name: &str, born: &str, nhs: &str) -> ChildDetails {
    ChildDetails {
        nhs_number: Some(nhs.into()),
        ..child(name, born)
    }
}

/// What the record itself says, as the list should show it.
fn from_document(book: &RedBook, summary: &ChildSummary) -> (String, Option<String>, u64, bool) {
    let record = book.child(&summary.id).unwrap();
    (
        record.details.name,
        record.details.nhs_number,
        (record.entries.len() + record.unreadable_entries.len()) as u64,
        !record.conflicts.is_empty(),
    )
}

fn listed(summary: &ChildSummary) -> (String, Option<String>, u64, bool) {
    (
        summary.name.clone(),
        summary.nhs_number.clone(),
        summary.entry_count,
        summary.has_conflicts,
    )
}

/// Every summary in the list agrees with its record.
fn assert_list_agrees(book: &RedBook) {
    let list = book.children().unwrap();
    assert!(list.damaged.is_empty());
    for summary in &list.children {
        assert_eq!(listed(summary), from_document(book, summary));
    }
}

/// How many summaries a fresh handle finds it must rebuild (0: every change wrote its own).
fn rebuilt_on_open(path: &Path, key: u8) -> usize {
    let mut store = Store::open(path, &raw_key(key), OpenOptions::default()).unwrap();
    store.summaries().unwrap().rebuilt
}

/// record_ref, nhs_ref, sealed summary.
type Row = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

fn summary_rows(path: &Path) -> Vec<Row> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT record_ref, nhs_ref, sealed FROM summaries ORDER BY record_ref")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn set_summary(path: &Path, record_ref: &[u8], nhs_ref: Option<&[u8]>, sealed: &[u8]) {
    rusqlite::Connection::open(path)
        .unwrap()
        .execute(
            "UPDATE summaries SET nhs_ref = ?2, sealed = ?3 WHERE record_ref = ?1",
            rusqlite::params![record_ref, nhs_ref, sealed],
        )
        .unwrap();
}

#[test]
fn the_list_follows_every_change_and_needs_no_rebuild() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    let amara = book
        .add_child(with_nhs("Amara Smith", "2026-01-01", "943 476 5919"))
        .unwrap();
    let ben = book.add_child(child("Ben Okafor", "2025-06-01")).unwrap();
    let first = book
        .add_entry(&amara, note("2026-02-01", "feeding well"))
        .unwrap();
    book.amend_entry(
        &amara,
        &first.entry.id,
        note("2026-02-01", "feeding very well"),
    )
    .unwrap();
    book.add_entry(&ben, note("2025-07-01", "first visit"))
        .unwrap();
    book.mark_entered_in_error(
        &ben,
        &book.child(&ben).unwrap().entries[0].entry.id,
        "wrong child",
    )
    .unwrap();
    book.update_details(
        &amara,
        &[(DetailField::Name, Some("Amara Smith-Jones".into()))],
    )
    .unwrap();

    let list = book.children().unwrap();
    let names: Vec<_> = list.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Ben Okafor", "Amara Smith-Jones"], "oldest first");
    assert_eq!(list.children[1].nhs_number.as_deref(), Some("9434765919"));
    assert!(list.children[1].last_change.is_some());
    assert_list_agrees(&book);
    drop(book);
    assert_eq!(rebuilt_on_open(&path, 1), 0);
}

#[test]
fn children_are_found_by_nhs_number_and_by_the_start_of_a_name() {
    let dir = TempDir::new().unwrap();
    let book = RedBook::open(&db(&dir), raw_key(1)).unwrap();
    let amara = book
        .add_child(with_nhs("Amara Smith-Jones", "2026-01-01", "9434765919"))
        .unwrap();
    book.add_child(with_nhs("Ben Okafor", "2025-06-01", "4010232137"))
        .unwrap();
    book.add_child(child("Amelia Brown", "2025-09-01")).unwrap();

    let found = book.find_by_nhs_number("943 476 5919").unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, amara);
    assert!(book.find_by_nhs_number("9434765919").unwrap()[0].id == amara);
    // A valid number nobody here has: nothing, not an error.
    assert!(book.find_by_nhs_number("4505577104").unwrap().is_empty());
    // A mistyped number is refused by its check digit, naming the field only.
    match book.find_by_nhs_number("9434765918") {
        Err(Error::InvalidInput(e)) => assert_eq!(e.field, "nhs_number"),
        other => panic!("expected a validation error, got {other:?}"),
    }

    let names = |prefix: &str| -> Vec<String> {
        book.find_by_name(prefix)
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect()
    };
    assert_eq!(names("am"), ["Amelia Brown", "Amara Smith-Jones"]);
    assert_eq!(names("AMA"), ["Amara Smith-Jones"]);
    assert_eq!(names("smi"), ["Amara Smith-Jones"]);
    assert_eq!(names("jones"), ["Amara Smith-Jones"]);
    assert_eq!(names("oka"), ["Ben Okafor"]);
    assert!(names("zed").is_empty());
    assert!(matches!(
        book.find_by_name("  "),
        Err(Error::InvalidInput(_))
    ));

    // A new number is found at once, the old one no longer.
    book.update_details(
        &amara,
        &[(DetailField::NhsNumber, Some("4505577104".into()))],
    )
    .unwrap();
    assert!(book.find_by_nhs_number("9434765919").unwrap().is_empty());
    assert_eq!(book.find_by_nhs_number("4505577104").unwrap()[0].id, amara);
}

#[test]
fn a_tampered_stale_or_swapped_summary_is_rebuilt_never_shown() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let (amara, ben) = {
        let book = RedBook::open(&path, raw_key(1)).unwrap();
        let amara = book
            .add_child(with_nhs("Amara", "2026-01-01", "9434765919"))
            .unwrap();
        let ben = book.add_child(child("Ben", "2025-06-01")).unwrap();
        (amara, ben)
    };
    let before = summary_rows(&path);

    // Stale: an older, authentic summary put back after the record changed.
    RedBook::open(&path, raw_key(1))
        .unwrap()
        .add_entry(&amara, note("2026-02-01", "weighed"))
        .unwrap();
    let amara_row = summary_rows(&path)
        .into_iter()
        .find(|(_, nhs, _)| nhs.is_some())
        .unwrap();
    let old = before.iter().find(|(r, _, _)| *r == amara_row.0).unwrap();
    set_summary(&path, &old.0, old.1.as_deref(), &old.2);
    assert_eq!(rebuilt_on_open(&path, 1), 1);
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    let shown = book.children().unwrap();
    assert_eq!(
        shown
            .children
            .iter()
            .find(|c| c.id == amara)
            .unwrap()
            .entry_count,
        1
    );
    drop(book);
    assert_eq!(
        rebuilt_on_open(&path, 1),
        0,
        "the rebuilt summary was written back"
    );

    // Tampered: a flipped byte in the sealed summary.
    let rows = summary_rows(&path);
    let mut flipped = rows[0].2.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 1;
    set_summary(&path, &rows[0].0, rows[0].1.as_deref(), &flipped);
    // Swapped: each record's summary put under the other record.
    let rows_after_flip = summary_rows(&path);
    assert_eq!(rebuilt_on_open(&path, 1), 1);
    let rows = summary_rows(&path);
    set_summary(&path, &rows[0].0, rows[1].1.as_deref(), &rows[1].2);
    set_summary(&path, &rows[1].0, rows[0].1.as_deref(), &rows[0].2);
    assert_ne!(rows_after_flip, rows);
    assert_eq!(rebuilt_on_open(&path, 1), 2);

    // Missing: emptied summaries come back at the next list (the heads beside them stay).
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE summaries SET sealed = x'', nhs_ref = NULL", [])
        .unwrap();
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    assert_list_agrees(&book);
    let ids: Vec<_> = book
        .children()
        .unwrap()
        .children
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, [ben, amara.clone()]);
    drop(book);
    assert_eq!(summary_rows(&path).len(), 2);

    // A lookup column moved to hide a child from its NHS number: found all the same.
    let rows = summary_rows(&path);
    let amara_row = rows.iter().find(|(_, nhs, _)| nhs.is_some()).unwrap();
    set_summary(&path, &amara_row.0, None, &amara_row.2);
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    assert_eq!(book.find_by_nhs_number("9434765919").unwrap()[0].id, amara);
    assert_list_agrees(&book);
}

#[test]
fn summaries_follow_sync_and_key_rotation_on_every_device() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let dad = device(&dir, "dad", 2, Role::Parent, None);
    let nurse = device(&dir, "nurse", 3, Role::HealthVisitor, Some("RX1"));
    let id = mum
        .book
        .add_child(with_nhs("Amara", "2026-01-01", "9434765919"))
        .unwrap();
    invite(&mum, &dad, &id, Access::Admin);
    invite(&mum, &nurse, &id, Access::Writer);
    nurse
        .book
        .add_entry(&id, note("2026-02-01", "home visit"))
        .unwrap();
    dad.book
        .update_details(&id, &[(DetailField::Name, Some("Amara Grace".into()))])
        .unwrap();
    mum.book
        .update_details(&id, &[(DetailField::Name, Some("Amara G.".into()))])
        .unwrap();
    settle(&[&mum, &dad, &nurse], &id);
    for device in [&mum, &dad, &nurse] {
        assert_list_agrees(&device.book);
        let listed = &device.book.children().unwrap().children[0];
        assert!(listed.has_conflicts, "two names set apart: a conflict");
        assert_eq!(listed.entry_count, 1);
        assert_eq!(
            device.book.find_by_nhs_number("9434765919").unwrap()[0].id,
            id
        );
    }
    // Removing the nurse re-seals the record under a new key on each parent's device.
    mum.book.remove_member(&id, &nurse.id).unwrap();
    settle(&[&mum, &dad], &id);
    mum.book
        .add_entry(&id, note("2026-03-01", "after the move"))
        .unwrap();
    settle(&[&mum, &dad], &id);
    for (device, key) in [(&mum, 1), (&dad, 2)] {
        assert_list_agrees(&device.book);
        assert_eq!(device.book.children().unwrap().children[0].entry_count, 2);
        let path = dir
            .path()
            .join(format!("{}.redbook", if key == 1 { "mum" } else { "dad" }));
        assert_eq!(rebuilt_on_open(&path, key), 0);
    }
}

#[test]
fn a_version_2_file_gets_its_summaries_at_the_first_list() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let v2 = OpenOptions {
        create_at_version: 2,
        ..Default::default()
    };
    {
        let book = RedBook::open_with(&path, raw_key(1), v2).unwrap();
        let id = book
            .add_child(with_nhs("Amara", "2026-01-01", "9434765919"))
            .unwrap();
        book.add_entry(&id, note("2026-02-01", "weighed")).unwrap();
        book.add_child(child("Ben", "2025-06-01")).unwrap();
    }
    // Opening migrates to v3; the summaries are built from the documents once.
    assert_eq!(rebuilt_on_open(&path, 1), 2);
    assert_eq!(rebuilt_on_open(&path, 1), 0);
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    assert_list_agrees(&book);
    assert_eq!(book.find_by_nhs_number("9434765919").unwrap().len(), 1);
}

fn cold_signature_checks(path: &Path, id: &RecordId) -> usize {
    let mut store = Store::open(path, &raw_key(1), OpenOptions::default()).unwrap();
    let (views, _) = store.record(id).unwrap().entry_views(&Default::default());
    assert!(views
        .iter()
        .all(|v| v.verification == Verification::Verified));
    store.signature_checks(id).unwrap()
}

#[test]
fn a_cold_open_takes_saved_verdicts_and_a_changed_chunk_loses_its_own() {
    let dir = TempDir::new().unwrap();
    let path_a = dir.path().join("a.redbook");
    let path_b = dir.path().join("b.redbook");
    let id = {
        let book = RedBook::open(&path_a, raw_key(1)).unwrap();
        let id = book.add_child(child("Amara", "2026-01-01")).unwrap();
        for day in 1..=10 {
            book.add_entry(&id, note(&format!("2026-02-{day:02}"), "visit"))
                .unwrap();
        }
        id
    };
    // Two copies of one file from here (a restored backup, say).
    std::fs::copy(&path_a, &path_b).unwrap();
    let book_a = RedBook::open(&path_a, raw_key(1)).unwrap();
    book_a
        .add_entry(&id, note("2026-02-11", "in copy A"))
        .unwrap();
    assert_eq!(book_a.child(&id).unwrap().entries.len(), 11);
    drop(book_a);
    // Read once, the verdicts are kept: a cold open checks no signature again.
    assert_eq!(cold_signature_checks(&path_a, &id), 0);

    let book_b = RedBook::open(&path_b, raw_key(1)).unwrap();
    book_b
        .add_entry(&id, note("2026-02-11", "in copy B"))
        .unwrap();
    drop(book_b);
    // Copy A's verdicts at its last chunk moved beside copy B's chunk of the same number:
    // a different chunk, so they do not open, and B checks its entries itself.
    let conn_a = rusqlite::Connection::open(&path_a).unwrap();
    let (seq, sealed): (i64, Vec<u8>) = conn_a
        .query_row(
            "SELECT seq, sealed FROM verdicts ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let conn_b = rusqlite::Connection::open(&path_b).unwrap();
    let last_b: i64 = conn_b
        .query_row("SELECT MAX(seq) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(seq, last_b, "the same chunk number in both copies");
    conn_b
        .execute(
            "INSERT OR REPLACE INTO verdicts (record_ref, seq, sealed)
             SELECT record_ref, ?1, ?2 FROM records",
            rusqlite::params![seq, sealed],
        )
        .unwrap();
    drop(conn_b);
    assert_eq!(cold_signature_checks(&path_b, &id), 11);
    // Checked once, kept: the next cold open of B checks nothing either.
    let book_b = RedBook::open(&path_b, raw_key(1)).unwrap();
    book_b.child(&id).unwrap();
    drop(book_b);
    assert_eq!(cold_signature_checks(&path_b, &id), 0);
}

#[test]
fn a_caseload_opened_one_after_another_stays_within_the_cache_limits() {
    let dir = TempDir::new().unwrap();
    let path = db(&dir);
    let ids: Vec<RecordId> = {
        let book = RedBook::open(&path, raw_key(1)).unwrap();
        (0..40)
            .map(|i| {
                let id = book
                    .add_child(child(&format!("Child {i:02}"), "2026-01-01"))
                    .unwrap();
                for day in 1..=5 {
                    book.add_entry(&id, note(&format!("2026-02-{day:02}"), "visit"))
                        .unwrap();
                }
                id
            })
            .collect()
    };
    let mut store = Store::open(&path, &raw_key(1), OpenOptions::default()).unwrap();
    store.record(&ids[0]).unwrap();
    let (_, one) = store.cache_usage();
    // By count: never more than 5 open.
    store.set_cache_limits(5, usize::MAX);
    for id in &ids {
        assert_eq!(store.record(id).unwrap().entries().0.len(), 5);
        assert!(store.cache_usage().0 <= 5);
    }
    // By memory: a budget of three records' worth holds three at most, whatever the count.
    store.set_cache_limits(100, 3 * one + one / 2);
    for id in ids.iter().rev() {
        store.record(id).unwrap();
        let (open, bytes) = store.cache_usage();
        assert!(
            open <= 3 && bytes <= 3 * one + one / 2,
            "{open} open, {bytes} bytes"
        );
    }
    // Evicted records come back whole, and writes to them land once.
    drop(store);
    let book = RedBook::open(&path, raw_key(1)).unwrap();
    book.set_cache_limits(2, 64 << 20);
    for id in &ids {
        book.add_entry(id, note("2026-03-01", "after eviction"))
            .unwrap();
    }
    for id in &ids {
        assert_eq!(book.child(id).unwrap().entries.len(), 6);
    }
    assert!(book
        .children()
        .unwrap()
        .children
        .iter()
        .all(|c| c.entry_count == 6));
}
