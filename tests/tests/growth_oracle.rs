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

#[test]
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn z_scores_agree_with_rcpchgrowth_to_1e_4() {
    let refs =
        GrowthReferences::with_uk90_pack(&env_file("REDBOOK_UK90_PACK")).expect("pack loads");
    let oracle: serde_json::Value =
        serde_json::from_str(&env_file("REDBOOK_GROWTH_ORACLE")).unwrap();
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
#[ignore = "needs the rcpchgrowth oracle and UK90 pack that scripts/test.sh generates"]
fn mid_parental_heights_agree_with_rcpchgrowth() {
    let refs =
        GrowthReferences::with_uk90_pack(&env_file("REDBOOK_UK90_PACK")).expect("pack loads");
    let oracle: serde_json::Value =
        serde_json::from_str(&env_file("REDBOOK_GROWTH_ORACLE")).unwrap();
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
    let refs =
        GrowthReferences::with_uk90_pack(&env_file("REDBOOK_UK90_PACK")).expect("pack loads");
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
