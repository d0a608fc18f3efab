//! Instruction budgets: the CPU work of the common paths counted by valgrind's callgrind
//! (gungraun), deterministic where criterion's times are not, so CI fails when a change
//! makes one of them more than 10% dearer than its committed budget.
//!
//! A budget changes only in a commit that says why (a measured gain, or a cost a feature
//! must pay). `bash scripts/budgets.sh` runs these; the README's performance section lists
//! the budgets beside criterion's times.
//!
//! Each case's setup (copying a fixture file, opening it) runs under valgrind too but is
//! not counted; the fixture files are written once through the real API
//! (`support/budget_fixtures.rs`). Callgrind counts the calling thread only: the cases
//! are ones that run on it (a cold open with its verdicts saved, one received change).

#[path = "support/budget_fixtures.rs"]
mod budget_fixtures;
#[path = "support/engines_floor.rs"]
mod engines_floor;
use budget_fixtures::{caseload, family, measurement, raw_key, sync};
use engines_floor::EnginesFloor;
use gungraun::prelude::*;
use gungraun::{Callgrind, EventKind};
use redbook_core::growth::{assess, Correction, GrowthReferences, Measure, Observation, Sex};
use redbook_core::model::*;
use redbook_core::{ChildList, ChildRecord, RedBook};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Instructions (callgrind's `Ir`) each case may take; CI fails above 110% of these.
mod budget {
    // A clean clone's fixture measured 739,552 (this machine's 683,929; the fixtures are
    // written at build time and their documents differ a little: the floor moved by 5.5%).
    pub const ADD_ENTRY: u64 = 740_000;
    pub const RECEIVE_ONE_ENTRY: u64 = 5_100_000;
    pub const LIST_500_CHILDREN: u64 = 3_000_000;
    pub const COLD_OPEN: u64 = 108_000_000;
    pub const GROWTH_ASSESS_1000: u64 = 1_900_000;
}

fn within_budget(budget: u64) -> LibraryBenchmarkConfig {
    let mut config = LibraryBenchmarkConfig::default();
    config.tool(Callgrind::default().hard_limits([(EventKind::Ir, budget + budget / 10)]));
    config
}

/// A copy of a fixture file in a fresh folder, so every run starts from the same bytes.
fn copy_of(dir: &Path, name: &str) -> (TempDir, PathBuf) {
    let work = TempDir::new().unwrap();
    let path = work.path().join(name);
    std::fs::copy(dir.join(name), &path).unwrap();
    (work, path)
}

/// Mum's device with the record read (its document open and checked).
fn mum_reading() -> (TempDir, RedBook, RecordId) {
    let (dir, id) = family();
    let (work, path) = copy_of(&dir, "mum.redbook");
    let book = RedBook::open(&path, raw_key()).unwrap();
    book.child(&id).unwrap();
    // The app's second write onwards: statements prepared, trust list read.
    book.add_entry(&id, measurement(6)).unwrap();
    (work, book, id)
}

// One measurement written durably and signed into a record the app has open.
#[library_benchmark(config = within_budget(budget::ADD_ENTRY))]
#[bench::measurement(setup = mum_reading)]
fn add_entry(fixture: (TempDir, RedBook, RecordId)) -> (TempDir, RedBook, EntryView) {
    let (work, book, id) = fixture;
    let view = book.add_entry(&id, black_box(measurement(7))).unwrap();
    (work, book, view)
}

/// The floor `add_entry` is compared with (not a budget of ours): what its two engines do
/// for the same write on the same record, warmed as `add_entry` is by one write first.
fn engines_ready() -> (TempDir, EnginesFloor) {
    let (work, book, id) = mum_reading();
    let mut floor = EnginesFloor::new(
        &book.record_bytes(&id).unwrap(),
        &work.path().join("floor.sqlite"),
    );
    floor.write("warm");
    (work, floor)
}

#[library_benchmark]
#[bench::same_value_same_document(setup = engines_ready)]
fn add_entry_engines_floor(mut ready: (TempDir, EnginesFloor)) -> (TempDir, EnginesFloor) {
    ready.1.write(black_box("floor"));
    ready
}

/// Dad's device with the record read, and the message Mum's sends after one new entry.
fn dad_with_one_new_entry() -> (TempDir, RedBook, Vec<u8>) {
    let (dir, id) = family();
    let (work, mum_path) = copy_of(&dir, "mum.redbook");
    let dad_path = work.path().join("dad.redbook");
    std::fs::copy(dir.join("dad.redbook"), &dad_path).unwrap();
    let mum = RedBook::open(&mum_path, raw_key()).unwrap();
    let dad = RedBook::open(&dad_path, raw_key()).unwrap();
    dad.child(&id).unwrap();
    // Dad's device has received a message before: statements prepared, state read.
    mum.add_entry(&id, measurement(6)).unwrap();
    sync(&mum, &dad, &id);
    mum.add_entry(&id, measurement(7)).unwrap();
    let message = mum.sync_message(&id, &dad.device_id()).unwrap().unwrap();
    (work, dad, message)
}

// A member's one new entry received: envelope opened, change checked, applied, stored.
#[library_benchmark(config = within_budget(budget::RECEIVE_ONE_ENTRY))]
#[bench::from_a_member(setup = dad_with_one_new_entry)]
fn receive_one_entry(fixture: (TempDir, RedBook, Vec<u8>)) -> (TempDir, RedBook) {
    let (work, book, message) = fixture;
    black_box(book.receive(black_box(&message)).unwrap());
    (work, book)
}

fn caseload_open() -> (TempDir, RedBook) {
    let path = caseload();
    let (work, path) = copy_of(path.parent().unwrap(), "caseload.redbook");
    let book = RedBook::open(&path, raw_key()).unwrap();
    (work, book)
}

// A health visitor's list of 500 children, from the sealed summaries, sorted.
#[library_benchmark(config = within_budget(budget::LIST_500_CHILDREN))]
#[bench::from_summaries(setup = caseload_open)]
fn list_500_children(fixture: (TempDir, RedBook)) -> (TempDir, RedBook, ChildList) {
    let (work, book) = fixture;
    let list = book.children().unwrap();
    (work, book, list)
}

fn mum_closed() -> (TempDir, PathBuf, RecordId) {
    let (dir, id) = family();
    let (work, path) = copy_of(&dir, "mum.redbook");
    (work, path, id)
}

// The app started: the file opened with its key, the record loaded, every entry decoded.
#[library_benchmark(config = within_budget(budget::COLD_OPEN))]
#[bench::every_entry_decoded(setup = mum_closed)]
fn cold_open(fixture: (TempDir, PathBuf, RecordId)) -> (TempDir, RedBook, ChildRecord) {
    let (work, path, id) = fixture;
    let book = RedBook::open(&path, raw_key()).unwrap();
    let child = book.child(&id).unwrap();
    (work, book, child)
}

/// The same record's document as automerge saves it whole (compacted), unsealed.
fn mum_saved_document() -> Vec<u8> {
    let (_work, book, id) = mum_reading();
    book.record_bytes(&id).unwrap()
}

// The baseline `cold_open` is compared with (not a budget of ours): automerge alone
// loading the same record, compacted, from memory.
#[library_benchmark]
#[bench::same_record_compacted(setup = mum_saved_document)]
fn automerge_load(saved: Vec<u8>) -> automerge::Automerge {
    automerge::Automerge::load(black_box(&saved)).unwrap()
}

fn observations() -> Vec<Observation> {
    // The tables are parsed once per process, before the first point: not counted.
    GrowthReferences::embedded();
    let birth = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    (0..1_000)
        .map(|i| Observation {
            sex: if i % 2 == 0 { Sex::Male } else { Sex::Female },
            birth_date: birth,
            gestation_days: 280,
            date: birth + chrono::Duration::days(21 + i * 1_430 / 1_000),
            measure: [
                Measure::WeightKg,
                Measure::HeightCm,
                Measure::HeadCircumferenceCm,
            ][i as usize % 3],
            value: [9.0, 80.0, 46.0][i as usize % 3],
        })
        .collect()
}

// 1,000 chart points: reference chosen by age, interpolated, z, centile, words.
#[library_benchmark(config = within_budget(budget::GROWTH_ASSESS_1000))]
#[bench::ages_to_4_years(setup = observations)]
fn growth_assess_1000(observations: Vec<Observation>) {
    let refs = GrowthReferences::embedded();
    for observation in &observations {
        black_box(assess(refs, black_box(observation), Correction::RcpchDigital).ok());
    }
}

library_benchmark_group!(
    name = budgets,
    benchmarks = [
        add_entry,
        add_entry_engines_floor,
        receive_one_entry,
        list_500_children,
        cold_open,
        automerge_load,
        growth_assess_1000
    ]
);

main!(library_benchmark_groups = budgets);
