use super::chart::{render, ChartRequest};
use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn who() -> &'static GrowthReferences {
    GrowthReferences::embedded()
}

fn weigh(sex: Sex, born: &str, gestation_days: u16, on: &str, kg: f64) -> Observation {
    Observation {
        sex,
        birth_date: d(born),
        gestation_days,
        date: d(on),
        measure: Measure::WeightKg,
        value: kg,
    }
}

#[test]
fn the_worked_example_in_domain_md() {
    // Boy, 40+0, born 2026-01-01, weighed 7.2 kg on 2026-05-01.
    let a = assess(
        who(),
        &weigh(Sex::Male, "2026-01-01", 280, "2026-05-01", 7.2),
        Correction::default(),
    )
    .unwrap();
    assert_eq!(a.reference, Reference::Who2006Infant);
    assert_eq!((a.chronological_age_days, a.corrected_age_days), (120, 120));
    assert!((a.lms.l - 0.1563).abs() < 1e-4, "L {}", a.lms.l);
    assert!((a.lms.m - 6.9699).abs() < 1e-4, "M {}", a.lms.m);
    assert!((a.lms.s - 0.11334).abs() < 1e-5, "S {}", a.lms.s);
    assert!((a.z - 0.2873).abs() < 1e-4, "z {}", a.z);
    assert!((a.centile - 61.31).abs() < 0.01, "centile {}", a.centile);
    assert_eq!(a.description, "between the 50th and 75th centile");
    assert!(a.flags.is_empty());
}

#[test]
fn lms_round_trips_a_value_through_its_z() {
    for lms in [
        Lms {
            l: 0.1563,
            m: 6.9699,
            s: 0.11334,
        },
        Lms {
            l: 0.0,
            m: 50.0,
            s: 0.04,
        },
        Lms {
            l: -1.3,
            m: 16.0,
            s: 0.08,
        },
    ] {
        for z in [-3.0, -0.5, 0.0, 1.2, 2.667] {
            assert!((lms.z(lms.value_at(z)) - z).abs() < 1e-9);
        }
    }
}

#[test]
fn the_older_reference_applies_at_exactly_42_weeks_2_and_4_years() {
    let near = |a: f64| a + 1e-9;
    assert_eq!(
        reference_for(WHO_INFANT_FROM_YEARS - 0.001, Measure::WeightKg).unwrap(),
        Reference::Uk90Preterm
    );
    assert_eq!(
        reference_for(WHO_INFANT_FROM_YEARS, Measure::WeightKg).unwrap(),
        Reference::Who2006Infant
    );
    assert_eq!(
        reference_for(1.999, Measure::HeightCm).unwrap(),
        Reference::Who2006Infant
    );
    assert_eq!(
        reference_for(2.0, Measure::HeightCm).unwrap(),
        Reference::Who2006Child
    );
    assert_eq!(
        reference_for(near(3.999), Measure::WeightKg).unwrap(),
        Reference::Who2006Child
    );
    assert_eq!(
        reference_for(4.0, Measure::WeightKg).unwrap(),
        Reference::Uk90Child
    );
    assert!(matches!(
        reference_for(UK90_FROM_YEARS - 0.01, Measure::WeightKg),
        Err(GrowthError::OutsideReferenceAges { .. })
    ));
    assert!(matches!(
        reference_for(20.01, Measure::WeightKg),
        Err(GrowthError::OutsideReferenceAges { .. })
    ));
    assert!(matches!(
        reference_for(0.0, Measure::Bmi),
        Err(GrowthError::OutsideReferenceAges { .. })
    ));
}

#[test]
fn uk90_ages_without_the_pack_say_so_and_never_guess() {
    // Born at 30 weeks, weighed at 4 weeks: 34 weeks corrected, UK90 preterm.
    let preterm = weigh(Sex::Female, "2026-01-01", 210, "2026-01-29", 1.6);
    assert_eq!(
        assess(who(), &preterm, Correction::default()),
        Err(GrowthError::ReferenceNotAvailable {
            reference: Reference::Uk90Preterm
        })
    );
    let five_years = weigh(Sex::Female, "2020-01-01", 280, "2025-02-01", 18.0);
    assert_eq!(
        assess(who(), &five_years, Correction::default()),
        Err(GrowthError::ReferenceNotAvailable {
            reference: Reference::Uk90Child
        })
    );
}

#[test]
fn corrected_age_follows_the_chosen_convention() {
    // Born at 34+0, 6 weeks early; weighed at 20 weeks.
    let obs = weigh(Sex::Female, "2026-01-01", 238, "2026-05-21", 5.5);
    let digital = assess(who(), &obs, Correction::RcpchDigital).unwrap();
    assert_eq!(
        (digital.chronological_age_days, digital.corrected_age_days),
        (140, 98)
    );
    assert!(digital.used_corrected_age);
    let paper = assess(who(), &obs, Correction::PaperChart).unwrap();
    assert!(
        paper.used_corrected_age,
        "32-36 weeks: corrected until 1 year"
    );
    assert_eq!(paper.z, digital.z);
    // Paper charts stop correcting a 34-weeker at 1 year; the digital ones never stop.
    let later = weigh(Sex::Female, "2026-01-01", 238, "2027-03-01", 9.0);
    let (paper, digital) = (
        assess(who(), &later, Correction::PaperChart).unwrap(),
        assess(who(), &later, Correction::RcpchDigital).unwrap(),
    );
    assert!(!paper.used_corrected_age && digital.used_corrected_age);
    assert!(
        paper.z < digital.z,
        "the same weight sits lower at the older, uncorrected age"
    );
    // A 38-weeker is corrected only by the digital convention.
    let term = weigh(Sex::Male, "2026-01-01", 266, "2026-03-01", 5.0);
    assert!(
        !assess(who(), &term, Correction::PaperChart)
            .unwrap()
            .used_corrected_age
    );
}

#[test]
fn words_a_parent_understands() {
    assert_eq!(describe(0.05), "on the 50th centile");
    assert_eq!(describe(0.3), "between the 50th and 75th centile");
    assert_eq!(describe(-1.9), "on the 2nd centile");
    assert_eq!(describe(-1.6), "between the 2nd and 9th centile");
    assert_eq!(describe(-3.2), "below the 0.4th centile");
    assert_eq!(describe(2.9), "above the 99.6th centile");
}

#[test]
fn implausible_values_are_flagged_and_impossible_ones_refused() {
    let at = |kg: f64| {
        assess(
            who(),
            &weigh(Sex::Male, "2026-01-01", 280, "2026-05-01", kg),
            Correction::default(),
        )
    };
    assert_eq!(at(12.5).unwrap().flags, vec![GrowthFlag::Implausible]);
    assert_eq!(at(72.0), Err(GrowthError::Impossible { limit: 8.0 }));
    assert!(matches!(
        at(0.0),
        Err(GrowthError::InvalidInput { field: "value", .. })
    ));
    assert!(matches!(
        at(f64::NAN),
        Err(GrowthError::InvalidInput { .. })
    ));
    let before_birth = weigh(Sex::Male, "2026-01-01", 280, "2025-12-01", 3.0);
    assert!(matches!(
        assess(who(), &before_birth, Correction::default()),
        Err(GrowthError::InvalidInput { field: "date", .. })
    ));
    let bad_gestation = weigh(Sex::Male, "2026-01-01", 100, "2026-02-01", 3.0);
    assert!(matches!(
        assess(who(), &bad_gestation, Correction::default()),
        Err(GrowthError::InvalidInput {
            field: "gestation",
            ..
        })
    ));
}

#[test]
fn faltering_growth_per_nice_ng75() {
    let born = "2026-01-01";
    // On the 50th centile at 2 weeks, then drifting down two centile spaces.
    let m = |age_days: i64, z: f64| {
        let date = d(born) + chrono::Duration::days(age_days);
        let (_, lms) = lms_at(
            who(),
            Sex::Female,
            Measure::WeightKg,
            age_days as f64 / 365.25,
        )
        .unwrap();
        (date, lms.value_at(z))
    };
    let steady = [m(14, 0.0), m(60, -0.2), m(120, -0.3)];
    assert!(faltering(
        who(),
        ChartSet::UkWho,
        Sex::Female,
        d(born),
        280,
        &steady,
        Correction::default()
    )
    .is_empty());
    let falling = [m(14, 0.0), m(60, -0.7), m(120, -1.4)];
    let concerns = faltering(
        who(),
        ChartSet::UkWho,
        Sex::Female,
        d(born),
        280,
        &falling,
        Correction::default(),
    );
    assert!(
        matches!(concerns.as_slice(), [FalteringConcern::CentileFall { threshold, .. }] if *threshold == 2.0)
    );
    // Starting below the 9th centile, one space is enough.
    let small = [m(14, -1.6), m(120, -2.3)];
    assert!(!faltering(
        who(),
        ChartSet::UkWho,
        Sex::Female,
        d(born),
        280,
        &small,
        Correction::default()
    )
    .is_empty());
    // 10% early weight loss.
    let early = [(d(born), 3.5), (d("2026-01-04"), 3.1)];
    assert!(matches!(
        faltering(
            who(),
            ChartSet::UkWho,
            Sex::Female,
            d(born),
            280,
            &early,
            Correction::default()
        )
        .as_slice(),
        [FalteringConcern::EarlyWeightLoss { .. }]
    ));
}

#[test]
fn a_malformed_pack_is_refused_clearly() {
    for (pack, expected) in [
        ("uk90_child,weight,male,4.0,1,16.5", "expected 7 fields"),
        (
            "who_2006_infant,weight,male,0.0,1,3.3,0.1\nwho_2006_infant,weight,male,0.1,1,3.9,0.1",
            "unexpected reference",
        ),
        ("uk90_child,weight,male,4.0,1,x,0.1", "not a number"),
        (
            "uk90_child,weight,male,4.0,1,-2,0.1",
            "M and S must be positive",
        ),
        ("# empty", "no uk90_preterm tables"),
    ] {
        match GrowthReferences::with_uk90_pack(pack) {
            Err(GrowthError::BadPack { reason }) => assert!(reason.contains(expected), "{reason}"),
            other => panic!("expected a bad pack, got {other:?}"),
        }
    }
}

#[test]
fn a_chart_has_nine_lines_the_points_and_an_accessible_description() {
    let request = ChartRequest {
        sex: Sex::Female,
        measure: Measure::WeightKg,
        birth_date: d("2026-01-01"),
        gestation_days: 238,
        correction: Correction::default(),
        // Born 6 weeks early: the first point is 3 days past term, a UK90 age.
        points: vec![
            (d("2026-02-15"), 2.6),
            (d("2026-03-01"), 3.1),
            (d("2026-04-01"), 4.1),
            (d("2026-07-01"), 6.0),
        ],
        mid_parental: None,
        set: ChartSet::UkWho,
        identity: None,
    };
    let svg = render(who(), &request).unwrap();
    assert!(svg.starts_with("<svg"));
    assert!(svg.contains(
        r#"<title id="chart-title">Weight (kg) for a girl: UK-WHO growth chart</title>"#
    ));
    assert!(svg.contains("linked to its chronological age"));
    for name in [
        "0.4th", "2nd", "9th", "25th", "50th", "75th", "91st", "98th", "99.6th",
    ] {
        assert!(
            svg.contains(&format!(">{name}</text>")),
            "{name} line label"
        );
    }
    assert_eq!(svg.matches("chronological age</title>").count(), 3);
    // The first weight needs UK90, not installed: still plotted, with no centile.
    assert!(svg.contains("1 measured with no centile"));
    assert_eq!(
        svg.matches(r#"class="point no-centile" data-date="2026-02-15""#)
            .count(),
        1
    );
    assert!(svg.contains(
        "No centiles before 2 weeks after the due date: the UK90 data pack is not installed"
    ));
    assert!(!svg.contains("42 weeks: UK90 preterm to WHO"));
    assert!(svg.contains("2 weeks after due date: WHO charts begin"));
    assert!(svg.contains("Age (months, corrected for gestation)"));
}

#[test]
fn weighing_more_often_than_the_charts_advise_is_pointed_out_by_age() {
    let born = d("2026-01-01");
    let weighed = |dates: &[&str]| {
        let dates: Vec<NaiveDate> = dates.iter().map(|s| d(s)).collect();
        weighed_more_often_than_advised(born, &dates)
    };
    // The first two weeks: weigh as often as the midwife needs.
    assert_eq!(weighed(&["2026-01-03", "2026-01-06"]), None);
    // The 8 and 12 week vaccination visits, four weeks apart: not too often.
    assert_eq!(weighed(&["2026-02-26", "2026-03-26"]), None);
    let often = weighed(&["2026-02-26", "2026-03-10"]).unwrap();
    assert_eq!(
        (often.days_since_previous, often.advised.as_str()),
        (12, "once a month")
    );
    // 6-12 months: every two months; after a year, every three.
    assert_eq!(
        weighed(&["2026-08-01", "2026-09-01"]).unwrap().advised,
        "once every two months"
    );
    assert_eq!(weighed(&["2026-08-01", "2026-09-26"]), None);
    assert_eq!(
        weighed(&["2027-02-01", "2027-04-01"]).unwrap().advised,
        "once every three months"
    );
    // Two entries on one day (a correction) are one weighing.
    assert_eq!(weighed(&["2026-03-26", "2026-03-26"]), None);
}

#[test]
fn velocity_is_over_the_last_three_months_or_more() {
    let points = [
        (d("2026-01-01"), 50.0),
        (d("2026-04-01"), 60.0),
        (d("2026-05-01"), 62.0),
    ];
    let v = velocity(&points).unwrap();
    assert_eq!((v.from, v.on), (d("2026-01-01"), d("2026-05-01")));
    assert!((v.change - 12.0).abs() < 1e-9);
    assert!((v.per_year - 12.0 / (120.0 / 365.25)).abs() < 1e-9);
    assert_eq!(velocity(&points[1..]), None, "a month apart: no velocity");
}

#[test]
fn conditional_gain_needs_a_correlation_below_one() {
    assert_eq!(conditional_gain_sds(1.0, 0.5, 0.5), None);
    let sds = conditional_gain_sds(0.8, 1.0, 0.0).unwrap();
    assert!((sds - (0.0 - 0.8) / 0.6).abs() < 1e-12);
}
