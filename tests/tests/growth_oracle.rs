//! The growth engine against an independent oracle: z-scores computed by the RCPCH's
//! `rcpchgrowth` package over every reference (UK90 preterm, WHO 2006 infant and child,
//! UK90 child), both sexes and all four measures. Agreement within 1e-4 in z.
//!
//! Needs files scripts/test.sh generates (rcpchgrowth from PyPI, and the UK90 pack it
//! builds, which may not be committed), so it is run by scripts/test.sh:
//! `REDBOOK_GROWTH_ORACLE=... REDBOOK_UK90_PACK=... cargo test --test growth_oracle -- --ignored`

use redbook_core::growth::{assess, Correction, GrowthReferences, Measure, Observation, Sex};

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
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&env_file("REDBOOK_GROWTH_ORACLE")).unwrap();
    assert!(cases.len() > 1000, "too few oracle cases: {}", cases.len());
    let mut worst = 0.0f64;
    let mut by_reference = std::collections::BTreeMap::new();
    for case in &cases {
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
