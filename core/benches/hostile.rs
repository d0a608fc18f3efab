//! Group `hostile`: receiving the worst messages the limits allow (docs/threat-model.md,
//! "Bounded work"), time and peak heap, each beside its baseline in the same run.
//!
//! - `max_values_checked`: one message adding `MAX_VALUES_PER_MESSAGE` signed notes,
//!   checked and applied by `Record::receive_changes`; `max_values_bare` applies the same
//!   bytes with automerge's `load_incremental` (the baseline).
//! - `values_over_the_limit`: one value more, refused.
//! - `bomb_refused`: a document under 1 MB whose deflated column inflates to 64 MiB,
//!   refused before automerge inflates it; `bomb_bare` is automerge loading it (the
//!   baseline: what a device paid before the limit).
//!
//! Peak heap is measured once per case with a counting allocator and printed with the
//! message's size, so the multiple of its size a message may cost is on record.

use automerge::transaction::Transactable;
use automerge::{ReadDoc, ScalarValue, ROOT};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use redbook_core::crypto::device::DeviceKeys;
use redbook_core::model::*;
use redbook_core::record::{Record, MAX_VALUES_PER_MESSAGE};
use std::sync::atomic::Ordering;

#[path = "support/counting.rs"]
mod counting;
use counting::{Counting, LIVE, PEAK};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes `work` needed above what was live when it started.
fn peak_of<T>(work: impl FnOnce() -> T) -> usize {
    let start = LIVE.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let kept = work();
    let peak = PEAK.load(Ordering::Relaxed) - start;
    drop(kept);
    peak
}

fn note(keys: &DeviceKeys, i: usize) -> StoredEntry {
    StoredEntry {
        id: EntryId::generate().unwrap(),
        author: Author {
            device_id: keys.public().device_id(),
            role: Role::Parent,
            display_name: "Mum".into(),
            organisation: None,
        },
        recorded_at: chrono::Utc::now(),
        amends: None,
        body: EntryBody::Note(Note {
            date: "2026-02-01".parse().unwrap(),
            kind: NoteKind::Observation,
            text: format!("note {i} about the day"),
        }),
        source: None,
        confirmed: false,
    }
}

/// `count` signed notes as changes after the genesis.
fn notes(id: &RecordId, keys: &DeviceKeys, count: usize) -> Vec<u8> {
    let mut record = Record::genesis(id).unwrap();
    let genesis = record.heads();
    for i in 0..count {
        record.put_entry(&mut note(keys, i), keys).unwrap();
    }
    record.save_after(&genesis)
}

fn hostile_benches(c: &mut Criterion) {
    let keys = DeviceKeys::generate().unwrap();
    let id = RecordId::generate().unwrap();
    let most = notes(&id, &keys, MAX_VALUES_PER_MESSAGE);
    let too_many = notes(&id, &keys, MAX_VALUES_PER_MESSAGE + 1);
    let bomb = {
        let mut doc = Record::genesis(&id).unwrap().automerge().fork();
        let entries = match doc.get(ROOT, "entries").unwrap() {
            Some((_, map)) => map,
            None => unreachable!("the genesis makes the entries map"),
        };
        let mut tx = doc.transaction();
        tx.put(
            &entries,
            "ffffffffffffffffffffffffffffffff",
            ScalarValue::Bytes(vec![0; 64 << 20]),
        )
        .unwrap();
        tx.commit();
        doc.save()
    };

    let report = |case: &str, message: &[u8], peak: usize| {
        eprintln!(
            "hostile/{case}: message {} bytes, peak heap {} bytes ({:.1}x the message)",
            message.len(),
            peak,
            peak as f64 / message.len() as f64
        );
    };
    report(
        "max_values_checked",
        &most,
        peak_of(|| {
            let mut record = Record::genesis(&id).unwrap();
            record.receive_changes(&most).unwrap();
            record
        }),
    );
    report(
        "max_values_bare",
        &most,
        peak_of(|| {
            let mut record = Record::genesis(&id).unwrap();
            record.automerge_mut().load_incremental(&most).unwrap();
            record
        }),
    );
    report(
        "values_over_the_limit",
        &too_many,
        peak_of(|| {
            let mut record = Record::genesis(&id).unwrap();
            assert!(record.receive_changes(&too_many).is_err());
            record
        }),
    );
    report(
        "bomb_refused",
        &bomb,
        peak_of(|| {
            let mut record = Record::genesis(&id).unwrap();
            assert!(record.receive_changes(&bomb).is_err());
            record
        }),
    );
    report(
        "bomb_bare",
        &bomb,
        peak_of(|| automerge::Automerge::load(&bomb).unwrap()),
    );

    let mut group = c.benchmark_group("hostile");
    group.sample_size(10);
    for (name, bytes, bare) in [
        ("max_values_checked", &most, false),
        ("max_values_bare", &most, true),
        ("values_over_the_limit", &too_many, false),
        ("bomb_refused", &bomb, false),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || Record::genesis(&id).unwrap(),
                |mut record| {
                    if bare {
                        record.automerge_mut().load_incremental(bytes).unwrap();
                    } else {
                        let _ = record.receive_changes(bytes);
                    }
                    record
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.bench_function("bomb_bare", |b| {
        b.iter(|| automerge::Automerge::load(&bomb).unwrap())
    });
    group.finish();
}

criterion_group!(benches, hostile_benches);
criterion_main!(benches);
