//! The growth engine against an independent oracle: z-scores computed by the RCPCH's
//! `rcpchgrowth` package over every reference (UK90 preterm, WHO 2006 infant and child,
//! UK90 child), both sexes and all four measures. Agreement within 1e-4 in z.
//!
//! Needs files scripts/test.sh generates (rcpchgrowth from PyPI, and the UK90 pack it
//! builds, which may not be committed), so it is run by scripts/test.sh:
//! `REDBOOK_GROWTH_ORACLE=... REDBOOK_UK90_PACK=... cargo test --test growth_oracle -- --ignored`

use redbook_core::growth::{
    assess, mid_parental_height, Correction, GrowthReferences, Measure, Observation, Sex,
};

fn env_file(name: &str) -> String {
    let path =
        std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/test.sh"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}={path}: {e}"))
}

fn pack() -> GrowthReferences {
    GrowthReferences::with_uk90_pack(&env_file("REDBOOK_UK90_PACK")).expect("pack loads")
}

fn oracle() -> serde_json::Value {
    serde_json::from_str(&env_file("REDBOOK_GROWTH_ORACLE")).unwrap()
}

/// A professional's weighing, written into the record.
fn weigh(book: &redbook_core::RedBook, id: &redbook_core::model::RecordId, date: &str, kg: f64) {
    use redbook_core::model::{EntryBody, MeasuredBy, Measurement};
    book.add_entry(
        id,
        EntryBody::Measurement(Measurement {
            date: date.parse().unwrap(),
            weight_kg: Some(kg),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Professional,
        }),
    )
    .unwrap();
}

#[test]
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn z_scores_agree_with_rcpchgrowth_to_1e_4() {
    let refs = pack();
    let oracle: serde_json::Value = oracle();
    let cases = oracle["z_scores"].as_array().unwrap();
    assert!(cases.len() > 1000, "too few oracle cases: {}", cases.len());
    let mut worst = 0.0f64;
    let mut by_reference = std::collections::BTreeMap::new();
    for case in cases {
        let text = |k: &str| case[k].as_str().unwrap().to_string();
        let obs = Observation {
            sex: if case["sex"] == "male" {
                Sex::Male
            } else {
                Sex::Female
            },
            birth_date: text("birth_date").parse().unwrap(),
            gestation_days: case["gestation_days"].as_u64().unwrap() as u16,
            date: text("date").parse().unwrap(),
            measure: match case["measure"].as_str().unwrap() {
                "weight" => Measure::WeightKg,
                "height" => Measure::HeightCm,
                "head" => Measure::HeadCircumferenceCm,
                _ => Measure::Bmi,
            },
            value: case["value"].as_f64().unwrap(),
        };
        let ours =
            assess(&refs, &obs, Correction::RcpchDigital).unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected_age = case["corrected_decimal_age"].as_f64().unwrap();
        assert!(
            (ours.corrected_age_days as f64 / 365.25 - expected_age).abs() < 1e-9,
            "{case}: corrected age"
        );
        let diff = (ours.z - case["z"].as_f64().unwrap()).abs();
        assert!(
            diff < 1e-4,
            "{case}: ours {} ({:?})",
            ours.z,
            ours.reference
        );
        worst = worst.max(diff);
        *by_reference
            .entry(format!("{:?}", ours.reference))
            .or_insert(0) += 1;
    }
    for reference in ["Uk90Preterm", "Who2006Infant", "Who2006Child", "Uk90Child"] {
        assert!(
            by_reference.get(reference).copied().unwrap_or(0) >= 50,
            "too few {reference} cases: {by_reference:?}"
        );
    }
    println!(
        "{} cases agree with rcpchgrowth; largest |dz| {worst:.2e}; {by_reference:?}",
        cases.len()
    );
}

#[test]
#[ignore = "needs the rcpchgrowth oracle that scripts/test.sh generates"]
fn the_doors_limits_for_the_childs_age_are_rcpchgrowths() {
    use redbook_core::model::{EntryBody, Gestation, MeasuredBy, Measurement, Sex as ChildSex};
    use redbook_core::Error;
    let oracle = oracle();
    let cases = oracle["limits"].as_array().unwrap();
    assert!(cases.len() > 200, "too few oracle cases: {}", cases.len());
    let dir = tempfile::TempDir::new().unwrap();
    let book =
        redbook_core::RedBook::open(&dir.path().join("a.redbook"), redbook_tests::raw_key(1))
            .unwrap();
    let mut children = std::collections::HashMap::new();
    let mut verdicts = std::collections::BTreeMap::new();
    for case in cases {
        let text = |k: &str| case[k].as_str().unwrap().to_string();
        let gestation = case["gestation_days"].as_u64().unwrap() as u16;
        let id = children
            .entry((text("sex"), gestation))
            .or_insert_with(|| {
                let mut details = redbook_tests::child("Limit", &text("birth_date"));
                details.sex = Some(if case["sex"] == "male" {
                    ChildSex::Male
                } else {
                    ChildSex::Female
                });
                details.gestation = Some(Gestation {
                    total_days: gestation,
                });
                book.add_child(details).unwrap()
            })
            .clone();
        let date: chrono::NaiveDate = text("date").parse().unwrap();
        let value = Some(case["value"].as_f64().unwrap());
        let standing = redbook_core::view::forms::measured_standing(
            Some(text("birth_date").parse().unwrap()),
            date,
        );
        let measure = case["measure"].as_str().unwrap();
        let body = EntryBody::Measurement(Measurement {
            date,
            weight_kg: value.filter(|_| measure == "weight"),
            length_cm: value.filter(|_| measure == "height" && !standing),
            height_cm: value.filter(|_| measure == "height" && standing),
            head_circumference_cm: value.filter(|_| measure == "head"),
            measured_by: MeasuredBy::Professional,
        });
        let ours = match book.add_entry(&id, body) {
            Ok(_) => "usual",
            Err(Error::NeedsConfirmation { reason, .. })
                if reason.starts_with("is very unusual") =>
            {
                "unusual"
            }
            Err(Error::NeedsConfirmation { reason, .. })
                if reason.starts_with("is not possible") =>
            {
                "impossible"
            }
            Err(e) => panic!("{case}: {e}"),
        };
        assert_eq!(ours, case["verdict"].as_str().unwrap(), "{case}");
        *verdicts.entry(ours).or_insert(0) += 1;
    }
    assert_eq!(verdicts.len(), 3, "each verdict is tried: {verdicts:?}");
    println!(
        "{} values judged as rcpchgrowth judges them: {verdicts:?}",
        cases.len()
    );
}

#[test]
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn mid_parental_heights_agree_with_rcpchgrowth() {
    let refs = pack();
    let oracle: serde_json::Value = oracle();
    let cases = oracle["mid_parental"].as_array().unwrap();
    assert!(cases.len() >= 50, "too few mid-parental cases");
    let number = |case: &serde_json::Value, k: &str| case[k].as_f64().unwrap();
    for case in cases {
        let sex = if case["sex"] == "male" {
            Sex::Male
        } else {
            Sex::Female
        };
        let ours = mid_parental_height(
            &refs,
            sex,
            number(case, "mother_cm"),
            number(case, "father_cm"),
        )
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(
            (ours.height_cm - number(case, "height_cm")).abs() < 1e-9,
            "{case}"
        );
        assert!(
            (ours.sds - number(case, "sds")).abs() < 1e-4,
            "{case}: sds {}",
            ours.sds
        );
        assert!(
            (ours.lower_cm - number(case, "lower_cm")).abs() < 1e-3,
            "{case}: lower"
        );
        assert!(
            (ours.upper_cm - number(case, "upper_cm")).abs() < 1e-3,
            "{case}: upper"
        );
    }
    let refused = oracle["refused_parents"].as_array().unwrap();
    assert_eq!(refused.len(), 2);
    for case in refused {
        assert!(mid_parental_height(
            &refs,
            Sex::Male,
            number(case, "mother_cm"),
            number(case, "father_cm")
        )
        .is_err());
    }
}

#[test]
#[ignore = "needs the UK90 pack that scripts/test.sh generates"]
fn the_height_chart_shows_the_mid_parental_height_from_the_record() {
    use redbook_core::model::{EntryBody, MeasuredBy, Measurement, ParentalHeights};
    let refs = pack();
    let dir = tempfile::TempDir::new().unwrap();
    let mum = redbook_tests::device(&dir, "mum", 1, redbook_core::model::Role::Parent, None);
    let id = mum
        .book
        .add_child(redbook_tests::child("Amara", "2020-03-01"))
        .unwrap();
    let heights = |mother, father| {
        EntryBody::ParentalHeights(ParentalHeights {
            date: "2026-03-01".parse().unwrap(),
            mother_cm: mother,
            father_cm: father,
            measured_by: MeasuredBy::Parent,
        })
    };
    // One parent's height alone: nothing to work out yet.
    mum.book.add_entry(&id, heights(Some(163.0), None)).unwrap();
    assert_eq!(mum.book.mid_parental_height(&id, &refs).unwrap(), None);
    mum.book.add_entry(&id, heights(None, Some(177.0))).unwrap();
    let m = mum.book.mid_parental_height(&id, &refs).unwrap().unwrap();
    let direct = mid_parental_height(&refs, Sex::Female, 163.0, 177.0).unwrap();
    assert_eq!(m, direct);
    assert_eq!(m.height_cm, (163.0 + 177.0 - 13.0) / 2.0);
    assert!(m.lower_cm < m.height_cm && m.height_cm < m.upper_cm);
    for (date, cm) in [("2024-03-01", 101.0), ("2026-03-01", 116.5)] {
        mum.book
            .add_entry(
                &id,
                EntryBody::Measurement(Measurement {
                    date: date.parse().unwrap(),
                    weight_kg: None,
                    length_cm: None,
                    height_cm: Some(cm),
                    head_circumference_cm: None,
                    measured_by: MeasuredBy::Professional,
                }),
            )
            .unwrap();
    }
    let svg = mum
        .book
        .growth_chart(&id, Measure::HeightCm, &refs, Correction::RcpchDigital)
        .unwrap();
    assert!(svg.contains("mid-parental height and target range"));
    assert!(svg.contains(&format!("Mid-parental height {:.1} cm", m.height_cm)));
    if let Ok(out) = std::env::var("REDBOOK_CHART_OUT") {
        std::fs::write(out, &svg).unwrap();
    }
}

#[test]
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn conditional_weight_gain_agrees_with_rcpchgrowth() {
    use redbook_core::growth::{conditional_gain_sds, thrive_line};
    let refs = pack();
    let correlations = refs.weight_correlations().expect("the pack has the table");
    let oracle: serde_json::Value = oracle();
    let cases = oracle["weight_gain"].as_array().unwrap();
    assert!(cases.len() >= 25);
    let number = |case: &serde_json::Value, k: &str| case[k].as_f64().unwrap();
    let mut steps = 0;
    for case in cases {
        let (t1, t2) = (number(case, "t1_weeks"), number(case, "t2_weeks"));
        let r = correlations.between(t1, t2).unwrap();
        assert!((r - number(case, "r")).abs() < 1e-12, "{case}: r {r}");
        let sds = conditional_gain_sds(r, number(case, "z1"), number(case, "z2")).unwrap();
        assert!(
            (sds - number(case, "sds")).abs() < 1e-9,
            "{case}: sds {sds}"
        );
        // One step of a thrive line from z1 to t2 lands where rcpchgrowth's does.
        let line = thrive_line(correlations, number(case, "z1"), t1, t2);
        if t2 - t1 <= 1.0 {
            let (_, z2) = line[line.len() - 1];
            assert!((z2 - number(case, "thrive_z2")).abs() < 1e-9, "{case}");
            steps += 1;
        }
    }
    assert!(steps >= 8, "one-week thrive steps checked: {steps}");
    // The table ends before 53 weeks, as rcpchgrowth's does.
    assert_eq!(correlations.between(10.0, 53.0), None);
}

#[test]
#[ignore = "needs the UK90 pack that scripts/test.sh generates"]
fn a_slow_weight_gain_is_below_the_thrive_line_on_the_chart_and_in_words() {
    let refs = pack();
    let dir = tempfile::TempDir::new().unwrap();
    let hv = redbook_tests::device(
        &dir,
        "hv",
        1,
        redbook_core::model::Role::HealthVisitor,
        Some("RQX"),
    );
    let id = hv
        .book
        .add_child(redbook_tests::child("Amara", "2026-01-01"))
        .unwrap();
    // Born 39+4; on the 50th centile at 8 weeks, then barely gaining for six weeks.
    for (date, kg) in [("2026-02-26", 5.1), ("2026-04-09", 5.3)] {
        weigh(&hv.book, &id, date, kg);
    }
    let series = hv
        .book
        .growth(&id, Measure::WeightKg, &refs, Correction::RcpchDigital)
        .unwrap();
    let gain = series
        .weight_gain
        .clone()
        .expect("under a year, with the pack");
    assert!(gain.below_thrive_line, "{gain:?}");
    let notes = redbook_core::view::growth_notes(&series);
    assert!(
        notes.iter().any(|n| n.contains("below a thrive line")),
        "{notes:?}"
    );
    let svg = hv
        .book
        .growth_chart(&id, Measure::WeightKg, &refs, Correction::RcpchDigital)
        .unwrap();
    assert!(svg.contains("thrive line"));
    if let Ok(out) = std::env::var("REDBOOK_THRIVE_CHART_OUT") {
        std::fs::write(out, &svg).unwrap();
    }
    // Without the pack there is no thrive line, and nothing is claimed.
    let plain = hv
        .book
        .growth(
            &id,
            Measure::WeightKg,
            GrowthReferences::embedded(),
            Correction::RcpchDigital,
        )
        .unwrap();
    assert_eq!(plain.weight_gain, None);
}

#[test]
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn down_and_turner_syndrome_charts_agree_with_rcpchgrowth() {
    use redbook_core::growth::{lms_in, ChartSet, Reference};
    let refs = pack();
    let oracle: serde_json::Value = oracle();
    let cases = oracle["specialist"].as_array().unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for case in cases {
        let set = match case["reference"].as_str().unwrap() {
            "trisomy-21" => ChartSet::DownSyndrome,
            _ => ChartSet::TurnerSyndrome,
        };
        let sex = if case["sex"] == "male" {
            Sex::Male
        } else {
            Sex::Female
        };
        let measure = match case["measure"].as_str().unwrap() {
            "weight" => Measure::WeightKg,
            "height" => Measure::HeightCm,
            "head" => Measure::HeadCircumferenceCm,
            _ => Measure::Bmi,
        };
        let (reference, lms) = lms_in(&refs, set, sex, measure, case["age"].as_f64().unwrap())
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(matches!(
            reference,
            Reference::Trisomy21 | Reference::Turner
        ));
        let z = lms.z(case["value"].as_f64().unwrap());
        assert!(
            (z - case["z"].as_f64().unwrap()).abs() < 1e-4,
            "{case}: ours {z}"
        );
        *counts.entry(format!("{reference:?}")).or_insert(0) += 1;
    }
    assert!(
        counts.get("Trisomy21").copied().unwrap_or(0) >= 200,
        "{counts:?}"
    );
    assert!(
        counts.get("Turner").copied().unwrap_or(0) >= 20,
        "{counts:?}"
    );
    // Turner's chart is girls' height from 1 year; anything else stays on UK-WHO.
    let (under_one, _) = lms_in(
        &refs,
        ChartSet::TurnerSyndrome,
        Sex::Female,
        Measure::HeightCm,
        0.5,
    )
    .unwrap();
    assert_eq!(under_one, Reference::Who2006Infant);
    let (weight, _) = lms_in(
        &refs,
        ChartSet::TurnerSyndrome,
        Sex::Female,
        Measure::WeightKg,
        5.0,
    )
    .unwrap();
    assert_eq!(weight, Reference::Uk90Child);
}

#[test]
#[ignore = "needs the UK90 pack that scripts/test.sh generates"]
fn a_child_with_down_syndrome_is_charted_on_the_down_syndrome_charts() {
    use redbook_core::growth::ChartSet;
    use redbook_core::model::{EntryBody, RiskFactor, RiskFactorKind};
    let refs = pack();
    let dir = tempfile::TempDir::new().unwrap();
    // A professional's risk factor counts only from a role an organisation confirms.
    let gp = redbook_tests::confirmed_device(&dir, "gp", 1, redbook_core::model::Role::Gp);
    redbook_tests::trust_test_organisation(&gp);
    let id = gp
        .book
        .add_child(redbook_tests::child("Amara", "2024-06-01"))
        .unwrap();
    for (date, kg) in [("2025-06-01", 7.9), ("2026-06-01", 10.2)] {
        weigh(&gp.book, &id, date, kg);
    }
    let on_uk_who = gp
        .book
        .growth(&id, Measure::WeightKg, &refs, Correction::RcpchDigital)
        .unwrap();
    assert_eq!(on_uk_who.chart, ChartSet::UkWho);
    gp.book
        .add_entry(
            &id,
            EntryBody::RiskFactor(RiskFactor {
                date: "2024-06-02".parse().unwrap(),
                factor: RiskFactorKind::DownSyndrome,
                present: true,
            }),
        )
        .unwrap();
    let series = gp
        .book
        .growth(&id, Measure::WeightKg, &refs, Correction::RcpchDigital)
        .unwrap();
    assert_eq!(series.chart, ChartSet::DownSyndrome);
    let a = series.points[1].assessment.as_ref().unwrap();
    assert_eq!(a.reference, redbook_core::growth::Reference::Trisomy21);
    // The same weight sits higher on the Down syndrome chart than on UK-WHO.
    assert!(a.z > on_uk_who.points[1].assessment.as_ref().unwrap().z);
    let svg = gp
        .book
        .growth_chart(&id, Measure::WeightKg, &refs, Correction::RcpchDigital)
        .unwrap();
    assert!(svg.contains("Down syndrome (UK 2002) growth chart"));
    if let Ok(out) = std::env::var("REDBOOK_DOWN_CHART_OUT") {
        std::fs::write(out, &svg).unwrap();
    }
    // Without the pack: a clear answer, not a UK-WHO centile.
    let plain = gp
        .book
        .growth(
            &id,
            Measure::WeightKg,
            GrowthReferences::embedded(),
            Correction::RcpchDigital,
        )
        .unwrap();
    assert!(plain.points[1]
        .problem
        .as_deref()
        .unwrap()
        .contains("not installed"));
}
