//! Group `growth`: z-scores per second (target: over 1 million a second).
//! `assess` does the whole job a chart point needs (reference choice by corrected age,
//! cubic interpolation of the daily WHO table, z, centile, words); `lms_formula` is the
//! bare z formula on fixed L, M, S, the floor it cannot beat.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redbook_core::growth::{assess, Correction, GrowthReferences, Lms, Measure, Observation, Sex};
use std::hint::black_box;

const BATCH: u64 = 1_000;

fn growth(c: &mut Criterion) {
    let refs = GrowthReferences::embedded();
    let birth = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    // Ages from 3 weeks to nearly 4 years, both sexes, all four measures.
    let observations: Vec<Observation> = (0..BATCH)
        .map(|i| {
            let measure = [
                Measure::WeightKg,
                Measure::HeightCm,
                Measure::HeadCircumferenceCm,
                Measure::Bmi,
            ][(i % 4) as usize];
            let value = match measure {
                Measure::WeightKg => 9.0,
                Measure::HeightCm => 80.0,
                Measure::HeadCircumferenceCm => 46.0,
                Measure::Bmi => 16.5,
            };
            Observation {
                sex: if i % 2 == 0 { Sex::Male } else { Sex::Female },
                birth_date: birth,
                gestation_days: 280,
                date: birth + chrono::Duration::days(21 + (i as i64 * 1_430 / BATCH as i64)),
                measure,
                value,
            }
        })
        .collect();
    let mut group = c.benchmark_group("growth");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("assess", |b| {
        b.iter(|| {
            for obs in &observations {
                black_box(assess(refs, black_box(obs), Correction::RcpchDigital).ok());
            }
        })
    });
    let lms = Lms {
        l: 0.1563,
        m: 6.9699,
        s: 0.11334,
    };
    group.bench_function("lms_formula", |b| {
        b.iter(|| {
            for i in 0..BATCH {
                black_box(lms.z(black_box(7.0 + i as f64 * 1e-4)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, growth);
criterion_main!(benches);
