use super::*;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn report(born: &str, on: &str) -> DueReport {
    due(
        &ScheduleInput {
            birth_date: d(born),
            ..Default::default()
        },
        d(on),
    )
    .unwrap()
}

fn with_doses(born: &str, on: &str, doses: &[(&str, u8, &str)]) -> DueReport {
    let given = doses
        .iter()
        .map(|(v, n, date)| GivenDose {
            vaccine: v.to_string(),
            dose: *n,
            date: d(date),
            reported_by: None,
        })
        .collect();
    due(
        &ScheduleInput {
            birth_date: d(born),
            given,
            ..Default::default()
        },
        d(on),
    )
    .unwrap()
}

/// (vaccine, dose) offered at a visit, sorted.
fn at_visit(r: &DueReport, visit: &str) -> Vec<(String, u8)> {
    let mut items: Vec<_> = r
        .immunisations
        .iter()
        .filter(|i| i.visit == visit && i.programme == Programme::Routine)
        .map(|i| (i.vaccine.clone(), i.dose))
        .collect();
    items.sort();
    items
}

fn item<'a>(r: &'a DueReport, vaccine: &str, dose: u8) -> &'a DueItem {
    r.immunisations
        .iter()
        .find(|i| i.vaccine == vaccine && i.dose == dose)
        .unwrap_or_else(|| panic!("no {vaccine} #{dose}"))
}

fn v(items: &[(&str, u8)]) -> Vec<(String, u8)> {
    let mut v: Vec<_> = items.iter().map(|(n, d)| (n.to_string(), *d)).collect();
    v.sort();
    v
}

#[test]
fn hib_menc_and_the_18_month_visit_turn_on_1_july_2024() {
    let before = report("2024-06-30", "2026-11-23");
    let after = report("2024-07-01", "2026-11-23");
    assert_eq!(
        at_visit(&before, "1 year"),
        v(&[("Hib/MenC", 1), ("MMR", 1), ("MenB", 3), ("PCV", 2)])
    );
    assert_eq!(
        at_visit(&after, "1 year"),
        v(&[("MMR", 1), ("MenB", 3), ("PCV", 2)])
    );
    assert!(at_visit(&before, "18 months").is_empty());
    assert_eq!(
        at_visit(&after, "18 months"),
        v(&[("6-in-1", 4), ("MMRV", 1)])
    );
    assert_eq!(
        at_visit(&before, "3 years 4 months"),
        v(&[("MMRV", 1), ("dTaP/IPV", 1)])
    );
    assert_eq!(
        at_visit(&after, "3 years 4 months"),
        v(&[("MMRV", 2), ("dTaP/IPV", 1)])
    );
}

#[test]
fn mmrv_replaces_mmr_at_one_year_from_1_january_2025() {
    let before = report("2024-12-31", "2026-11-23");
    let after = report("2025-01-01", "2026-11-23");
    assert_eq!(
        at_visit(&before, "1 year"),
        v(&[("MMR", 1), ("MenB", 3), ("PCV", 2)])
    );
    assert_eq!(
        at_visit(&after, "1 year"),
        v(&[("MMRV", 1), ("MenB", 3), ("PCV", 2)])
    );
    assert_eq!(
        at_visit(&before, "18 months"),
        v(&[("6-in-1", 4), ("MMRV", 1)])
    );
    assert_eq!(
        at_visit(&after, "18 months"),
        v(&[("6-in-1", 4), ("MMRV", 2)])
    );
    assert_eq!(at_visit(&after, "3 years 4 months"), v(&[("dTaP/IPV", 1)]));
}

#[test]
fn pre_school_mmr_becomes_mmrv_from_1_september_2022_and_older_children_get_the_catch_up() {
    let before = report("2022-08-31", "2026-11-23");
    let after = report("2022-09-01", "2026-11-23");
    assert_eq!(
        at_visit(&before, "3 years 4 months"),
        v(&[("MMR", 2), ("dTaP/IPV", 1)])
    );
    assert_eq!(
        at_visit(&after, "3 years 4 months"),
        v(&[("MMRV", 1), ("dTaP/IPV", 1)])
    );
    let catch_up = |r: &DueReport| {
        r.immunisations
            .iter()
            .find(|i| i.programme == Programme::MmrvCatchUp)
            .cloned()
    };
    let offered = catch_up(&before).expect("born 31 Aug 2022 is in the catch-up");
    assert_eq!(
        (offered.status, offered.due_date),
        (DueStatus::Due, d("2026-11-01"))
    );
    assert!(catch_up(&after).is_none());
    // Not before the campaign opens, not after it closes, not after chickenpox.
    assert_eq!(
        catch_up(&report("2021-03-01", "2026-10-01"))
            .unwrap()
            .status,
        DueStatus::Upcoming
    );
    assert_eq!(
        catch_up(&report("2021-03-01", "2028-04-01"))
            .unwrap()
            .status,
        DueStatus::NotApplicable
    );
    let had_it = ScheduleInput {
        birth_date: d("2021-03-01"),
        eligibility: Eligibility {
            had_chickenpox: true,
            ..Default::default()
        },
        ..Default::default()
    };
    assert_eq!(
        catch_up(&due(&had_it, d("2026-11-23")).unwrap())
            .unwrap()
            .status,
        DueStatus::NotApplicable
    );
}

#[test]
fn the_july_2025_infant_change_swaps_menb_and_pcv_between_12_and_16_weeks() {
    let old = report("2025-04-07", "2026-11-23");
    let new = report("2025-04-08", "2026-11-23");
    assert_eq!(
        at_visit(&old, "12 weeks"),
        v(&[("6-in-1", 2), ("PCV", 1), ("Rotavirus", 2)])
    );
    assert_eq!(at_visit(&old, "16 weeks"), v(&[("6-in-1", 3), ("MenB", 2)]));
    assert_eq!(
        at_visit(&new, "12 weeks"),
        v(&[("6-in-1", 2), ("MenB", 2), ("Rotavirus", 2)])
    );
    assert_eq!(at_visit(&new, "16 weeks"), v(&[("6-in-1", 3), ("PCV", 1)]));
    assert_eq!(
        at_visit(&new, "8 weeks"),
        v(&[("6-in-1", 1), ("MenB", 1), ("Rotavirus", 1)])
    );
}

#[test]
fn statuses_move_from_upcoming_to_due_to_overdue_and_given() {
    let born = "2026-09-01"; // 8 weeks: 27 Oct 2026
    assert_eq!(
        item(&report(born, "2026-10-20"), "6-in-1", 1).status,
        DueStatus::Upcoming
    );
    assert_eq!(
        item(&report(born, "2026-10-27"), "6-in-1", 1).status,
        DueStatus::Due
    );
    assert_eq!(
        item(&report(born, "2026-11-23"), "6-in-1", 1).status,
        DueStatus::Due
    );
    assert_eq!(
        item(&report(born, "2026-11-24"), "6-in-1", 1).status,
        DueStatus::Overdue
    );
    let given = with_doses(born, "2026-11-24", &[("Infanrix hexa", 1, "2026-10-28")]);
    let first = item(&given, "6-in-1", 1);
    assert_eq!(
        (first.status, first.given_on),
        (DueStatus::Given, Some(d("2026-10-28")))
    );
}

#[test]
fn a_late_dose_moves_the_next_one_by_the_minimum_interval() {
    // 6-in-1 #1 given at 11 weeks: #2 cannot be before 4 weeks later, not at 12 weeks.
    let r = with_doses("2026-01-01", "2026-03-20", &[("6-in-1", 1, "2026-03-19")]);
    assert_eq!(item(&r, "6-in-1", 2).due_date, d("2026-04-16"));
    assert_eq!(item(&r, "6-in-1", 2).status, DueStatus::Upcoming);
    // On time, the next dose stays at its scheduled age.
    let r = with_doses("2026-01-01", "2026-03-20", &[("6-in-1", 1, "2026-02-26")]);
    assert_eq!(item(&r, "6-in-1", 2).due_date, d("2026-03-26"));
}

#[test]
fn missed_rotavirus_becomes_not_applicable_once_too_old() {
    let born = "2026-01-01";
    assert_eq!(
        item(&report(born, "2026-04-08"), "Rotavirus", 1).status,
        DueStatus::Overdue
    );
    // 15 weeks: 16 April 2026.
    assert_eq!(
        item(&report(born, "2026-04-16"), "Rotavirus", 1).status,
        DueStatus::NotApplicable
    );
    // First dose at 14 weeks: the second is due 4 weeks later, still before 24 weeks.
    let r = with_doses(born, "2026-04-10", &[("Rotarix", 1, "2026-04-09")]);
    assert_eq!(item(&r, "Rotavirus", 2).due_date, d("2026-05-07"));
    assert_eq!(item(&r, "Rotavirus", 2).status, DueStatus::Upcoming);
}

#[test]
fn unknown_vaccines_are_kept_and_aliases_are_recognised() {
    let r = with_doses(
        "2026-01-01",
        "2026-06-01",
        &[
            ("Bexsero", 1, "2026-02-26"),
            ("Yellow fever", 1, "2026-05-01"),
            ("ROTA", 1, "2026-02-26"),
        ],
    );
    assert_eq!(item(&r, "MenB", 1).status, DueStatus::Given);
    assert_eq!(item(&r, "Rotavirus", 1).status, DueStatus::Given);
    assert_eq!(r.other_vaccines.len(), 1);
    assert_eq!(r.other_vaccines[0].vaccine, "Yellow fever");
}

#[test]
fn reviews_and_screening_are_done_or_due_in_their_windows() {
    let input = ScheduleInput {
        birth_date: d("2026-11-01"),
        checks_done: vec![
            (Check::NipeNewborn, d("2026-11-02")),
            (Check::Hearing, d("2026-11-03")),
        ],
        ..Default::default()
    };
    let r = due(&input, d("2026-11-12")).unwrap();
    let status = |c: Check| r.checks.iter().find(|i| i.check == c).unwrap().status;
    assert_eq!(status(Check::NipeNewborn), DueStatus::Given);
    assert_eq!(status(Check::Hearing), DueStatus::Given);
    assert_eq!(
        status(Check::BloodSpot),
        DueStatus::NotRecorded,
        "day 5 to day 8: closed by day 11, never overdue"
    );
    assert_eq!(
        status(Check::NewBabyReview),
        DueStatus::Due,
        "10 to 14 days"
    );
    assert_eq!(status(Check::SixToEightWeekReview), DueStatus::Upcoming);
}

#[test]
fn reminders_group_each_visit_a_week_ahead() {
    let r = report("2026-11-01", "2026-11-02");
    let eight_weeks = r
        .reminders
        .iter()
        .find(|m| m.due_date == d("2026-12-27"))
        .unwrap();
    assert_eq!(eight_weeks.remind_on, d("2026-12-20"));
    assert_eq!(
        eight_weeks.title,
        "8 weeks vaccines: 6-in-1, MenB, Rotavirus"
    );
    assert!(r
        .reminders
        .windows(2)
        .all(|w| w[0].remind_on <= w[1].remind_on));
    assert!(r.reminders.iter().all(|m| m.remind_on >= r.on));
}

#[test]
fn flu_2026_27_by_age_on_31_august_and_for_clinical_risk() {
    let flu = |r: &DueReport| {
        r.immunisations
            .iter()
            .find(|i| i.programme == Programme::Flu)
            .map(|i| i.status)
    };
    assert_eq!(
        flu(&report("2023-05-01", "2026-11-23")),
        Some(DueStatus::Due),
        "aged 3 on 31 Aug 2026"
    );
    assert_eq!(
        flu(&report("2020-05-01", "2026-11-23")),
        Some(DueStatus::Due),
        "school year"
    );
    assert_eq!(
        flu(&report("2025-01-01", "2026-11-23")),
        None,
        "too young, no risk"
    );
    let at_risk = ScheduleInput {
        birth_date: d("2026-01-01"),
        eligibility: Eligibility {
            flu_clinical_risk: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let r = due(&at_risk, d("2026-11-23")).unwrap();
    assert_eq!(flu(&r), Some(DueStatus::Due));
    let given = with_doses("2023-05-01", "2026-11-23", &[("Fluenz", 1, "2026-10-10")]);
    assert_eq!(flu(&given), Some(DueStatus::Given));
}

#[test]
fn selective_hepatitis_b_and_bcg() {
    let input = ScheduleInput {
        birth_date: d("2026-11-01"),
        eligibility: Eligibility {
            hep_b_at_risk: true,
            bcg: true,
            ..Default::default()
        },
        given: vec![GivenDose {
            vaccine: "Engerix B".into(),
            dose: 1,
            date: d("2026-11-01"),
            reported_by: None,
        }],
        ..Default::default()
    };
    let r = due(&input, d("2026-11-23")).unwrap();
    assert_eq!(item(&r, "HepB", 1).status, DueStatus::Given);
    assert_eq!(item(&r, "HepB", 2).due_date, d("2026-11-29"));
    // BCG: by 28 days of age (Green Book ch. 32): due from birth, overdue from day 29.
    assert_eq!(item(&r, "BCG", 1).due_date, d("2026-11-01"));
    assert_eq!(item(&r, "BCG", 1).overdue_from, d("2026-11-30"));
    let bcg_on = |on: &str| item(&due(&input, d(on)).unwrap(), "BCG", 1).status;
    assert_eq!(bcg_on("2026-11-29"), DueStatus::Due, "day 28");
    assert_eq!(bcg_on("2026-11-30"), DueStatus::Overdue, "day 29");
    // The HBsAg test: between 12 and 18 months, calendar months (Green Book ch. 18).
    assert!(item(&r, "HBsAg test", 1).due_date == d("2027-11-01"));
    let test_on = |on: &str| item(&due(&input, d(on)).unwrap(), "HBsAg test", 1).status;
    assert_eq!(test_on("2027-10-31"), DueStatus::Upcoming);
    assert_eq!(
        test_on("2028-05-01"),
        DueStatus::Due,
        "18 months to the day"
    );
    assert_eq!(test_on("2028-05-02"), DueStatus::Overdue);
    assert!(
        r.immunisations
            .iter()
            .all(|i| !(i.vaccine == "HepB" && i.dose == 3)),
        "no 1-year dose after July 2024"
    );
}

#[test]
fn impossible_requests_are_errors() {
    let err = due(
        &ScheduleInput {
            birth_date: d("2019-12-31"),
            ..Default::default()
        },
        d("2026-01-01"),
    );
    assert!(matches!(
        err,
        Err(ScheduleError::BornBeforeCoveredCohorts { .. })
    ));
    let err = due(
        &ScheduleInput {
            birth_date: d("2026-01-01"),
            ..Default::default()
        },
        d("2025-12-31"),
    );
    assert_eq!(err, Err(ScheduleError::BeforeBirth));
}

#[test]
fn a_course_that_can_no_longer_be_started_is_not_due_nor_reminded() {
    // Born 1 Jul 2026, nothing given, seen at 17 weeks: rotavirus dose 1 can no longer be
    // given (15 weeks 0 days, Green Book ch. 27b), so dose 2 is not due either.
    let r = report("2026-07-01", "2026-10-29");
    assert_eq!(item(&r, "Rotavirus", 1).status, DueStatus::NotApplicable);
    assert_eq!(item(&r, "Rotavirus", 2).status, DueStatus::NotApplicable);
    assert!(r
        .reminders
        .iter()
        .all(|reminder| !reminder.title.contains("Rotavirus")));
    // At 14 weeks both are still to come.
    let r = report("2026-07-01", "2026-10-07");
    assert_eq!(item(&r, "Rotavirus", 1).status, DueStatus::Overdue);
    assert_ne!(item(&r, "Rotavirus", 2).status, DueStatus::NotApplicable);
}

#[test]
fn a_five_year_olds_newborn_checks_are_not_recorded_not_overdue() {
    let r = report("2021-11-01", "2026-11-30");
    for check in [
        Check::NipeNewborn,
        Check::BloodSpot,
        Check::Hearing,
        Check::NewBabyReview,
        Check::NipeSixToEightWeeks,
        Check::SixToEightWeekReview,
        Check::NineToTwelveMonthReview,
        Check::TwoYearReview,
    ] {
        let item = r.checks.iter().find(|c| c.check == check).unwrap();
        assert_eq!(item.status, DueStatus::NotRecorded, "{check:?}");
    }
    assert!(r
        .reminders
        .iter()
        .all(|reminder| !r.checks.iter().any(|c| c.title == reminder.title)));
}

#[test]
fn an_unvaccinated_five_year_old_is_not_told_pcv_and_menb_are_overdue() {
    // [UKHSA-INCOMPLETE]: MenB and PCV are not offered from the second birthday.
    let r = report("2021-11-01", "2026-11-30");
    for (vaccine, dose) in [
        ("MenB", 1),
        ("MenB", 2),
        ("MenB", 3),
        ("PCV", 1),
        ("PCV", 2),
    ] {
        assert_eq!(
            item(&r, vaccine, dose).status,
            DueStatus::NotApplicable,
            "{vaccine} #{dose}"
        );
    }
    // The 6-in-1 is still caught up.
    assert_eq!(item(&r, "6-in-1", 1).status, DueStatus::Overdue);
    // The day before the second birthday MenB is still overdue; on it, no longer offered.
    let born = "2024-11-01";
    assert_eq!(
        item(&report(born, "2026-10-31"), "MenB", 1).status,
        DueStatus::Overdue
    );
    assert_eq!(
        item(&report(born, "2026-11-01"), "MenB", 1).status,
        DueStatus::NotApplicable
    );
}

#[test]
fn an_at_risk_child_under_nine_never_vaccinated_gets_two_flu_doses_four_weeks_apart() {
    // Green Book ch. 19.
    let at_risk = |born: &str, doses: &[(&str, u8, &str)]| ScheduleInput {
        birth_date: d(born),
        eligibility: Eligibility {
            flu_clinical_risk: true,
            ..Default::default()
        },
        given: doses
            .iter()
            .map(|(v, n, on)| GivenDose {
                vaccine: v.to_string(),
                dose: *n,
                date: d(on),
                reported_by: None,
            })
            .collect(),
        ..Default::default()
    };
    let flu = |r: &DueReport, dose: u8| {
        r.immunisations
            .iter()
            .find(|i| i.programme == Programme::Flu && i.dose == dose)
            .cloned()
    };
    // Born Jan 2026, first dose 1 Oct 2026: the second is due 29 Oct.
    let r = due(
        &at_risk("2026-01-01", &[("Flu", 1, "2026-10-01")]),
        d("2026-10-20"),
    )
    .unwrap();
    assert_eq!(flu(&r, 1).unwrap().status, DueStatus::Given);
    let second = flu(&r, 2).unwrap();
    assert_eq!(second.due_date, d("2026-10-29"));
    assert_eq!(second.status, DueStatus::Upcoming);
    let r = due(
        &at_risk(
            "2026-01-01",
            &[("Flu", 1, "2026-10-01"), ("Flu", 2, "2026-10-29")],
        ),
        d("2026-11-20"),
    )
    .unwrap();
    assert_eq!(flu(&r, 2).unwrap().status, DueStatus::Given);
    // Had flu vaccine in an earlier season: one dose.
    let r = due(
        &at_risk("2020-01-01", &[("Flu", 1, "2025-10-01")]),
        d("2026-11-20"),
    )
    .unwrap();
    assert!(flu(&r, 2).is_none());
    // Aged 6, never vaccinated: two doses. (Every cohort the schedule covers, born from
    // 2020, is under 9 until September 2029: the upper age is in the rule, not testable yet.)
    let r = due(&at_risk("2020-01-01", &[]), d("2026-11-20")).unwrap();
    assert_eq!(flu(&r, 2).unwrap().due_date, d("2026-09-29"));
    // Not in a risk group: one dose.
    let r = report("2023-05-01", "2026-11-23");
    assert!(flu(&r, 2).is_none());
}

/// What a case's child has on record beyond doses.
#[derive(Clone, Copy)]
enum Risk {
    HepB,
    Bcg,
    Flu,
    Chickenpox,
    ScidSuspected,
}

enum Expect {
    /// vaccine, dose, status on the day, due date.
    Dose(&'static str, u8, DueStatus, &'static str),
    /// Not offered to this child at all.
    NoDose(&'static str, u8),
    /// check, status on the day, window's first day.
    Check(Check, DueStatus, &'static str),
}

struct Case {
    what: &'static str,
    born: &'static str,
    on: &'static str,
    risks: &'static [Risk],
    given: &'static [(&'static str, u8, &'static str)],
    expect: Expect,
}

use DueStatus::{Due, Given, NotApplicable, NotRecorded, Overdue, Upcoming};
use Expect::{Check as C, Dose, NoDose};

const fn case(what: &'static str, born: &'static str, on: &'static str, expect: Expect) -> Case {
    Case {
        what,
        born,
        on,
        risks: &[],
        given: &[],
        expect,
    }
}

/// Each case worked out by hand from the source its rule names in `data.rs` (GOVUK-2026,
/// UKHSA-2025-04, UKHSA-MMRV, UKHSA-INCOMPLETE, Green Book chapters), not from the code.
/// Grace before "overdue" is local policy: 28 days for infant doses, 90 for later ones.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // Born 1 Jan 2026: the new infant course, MMRV at 1 year, the 18-month visit.
    case("6-in-1 at 8 weeks, the week before", "2026-01-01", "2026-02-20", Dose("6-in-1", 1, Upcoming, "2026-02-26")),
    case("6-in-1 at 8 weeks, on the day", "2026-01-01", "2026-02-26", Dose("6-in-1", 1, Due, "2026-02-26")),
    case("6-in-1, 27 days late", "2026-01-01", "2026-03-25", Dose("6-in-1", 1, Due, "2026-02-26")),
    case("6-in-1, 28 days late", "2026-01-01", "2026-03-26", Dose("6-in-1", 1, Overdue, "2026-02-26")),
    case("rotavirus 1 at 14 weeks 6 days", "2026-01-01", "2026-04-15", Dose("Rotavirus", 1, Overdue, "2026-02-26")),
    case("rotavirus 1 from 15 weeks 0 days", "2026-01-01", "2026-04-16", Dose("Rotavirus", 1, NotApplicable, "2026-02-26")),
    case("rotavirus 2 when the course cannot start", "2026-01-01", "2026-04-16", Dose("Rotavirus", 2, NotApplicable, "2026-03-26")),
    Case { given: &[("Rotarix", 1, "2026-04-10")], ..case("rotavirus 2 four weeks after a late first", "2026-01-01", "2026-05-08", Dose("Rotavirus", 2, Due, "2026-05-08")) },
    Case { given: &[("Rotarix", 1, "2026-04-10")], ..case("rotavirus 2 from 24 weeks", "2026-01-01", "2026-06-18", Dose("Rotavirus", 2, NotApplicable, "2026-05-08")) },
    case("MenB 2 at 12 weeks (from July 2025)", "2026-01-01", "2026-03-26", Dose("MenB", 2, Due, "2026-03-26")),
    case("PCV 1 at 16 weeks (from July 2025)", "2026-01-01", "2026-04-01", Dose("PCV", 1, Upcoming, "2026-04-23")),
    case("PCV 2 on the first birthday", "2026-01-01", "2027-01-01", Dose("PCV", 2, Due, "2027-01-01")),
    case("MMRV 1 at one year", "2026-01-01", "2027-01-01", Dose("MMRV", 1, Due, "2027-01-01")),
    case("MMRV 1, 90 days after one year", "2026-01-01", "2027-04-01", Dose("MMRV", 1, Overdue, "2027-01-01")),
    case("6-in-1 4 at 18 months", "2026-01-01", "2027-06-30", Dose("6-in-1", 4, Upcoming, "2027-07-01")),
    Case { given: &[("MMRV", 1, "2027-06-20")], ..case("MMRV 2 four weeks after a late first", "2026-01-01", "2027-07-10", Dose("MMRV", 2, Upcoming, "2027-07-18")) },
    case("MenB 3 the day before the second birthday", "2026-01-01", "2027-12-31", Dose("MenB", 3, Overdue, "2027-01-01")),
    case("MenB 3 from the second birthday", "2026-01-01", "2028-01-01", Dose("MenB", 3, NotApplicable, "2027-01-01")),
    case("pre-school booster at 3 years 4 months", "2026-01-01", "2029-05-01", Dose("dTaP/IPV", 1, Due, "2029-05-01")),
    case("no Hib/MenC after June 2024 births", "2026-01-01", "2027-01-01", NoDose("Hib/MenC", 1)),
    case("newborn examination on day 3", "2026-01-01", "2026-01-04", C(Check::NipeNewborn, Due, "2026-01-01")),
    case("newborn examination on day 4", "2026-01-01", "2026-01-05", C(Check::NipeNewborn, NotRecorded, "2026-01-01")),
    case("blood spot before day 5", "2026-01-01", "2026-01-05", C(Check::BloodSpot, Upcoming, "2026-01-06")),
    case("new baby review on day 14", "2026-01-01", "2026-01-15", C(Check::NewBabyReview, Due, "2026-01-11")),
    case("new baby review on day 15", "2026-01-01", "2026-01-16", C(Check::NewBabyReview, NotRecorded, "2026-01-11")),
    case("hearing screen after 4 weeks", "2026-01-01", "2026-01-30", C(Check::Hearing, NotRecorded, "2026-01-01")),
    case("9-12 month review at 11 months", "2026-01-01", "2026-12-01", C(Check::NineToTwelveMonthReview, Due, "2026-10-01")),
    // Born 1 Mar 2025: the old infant course (PCV at 12, MenB at 16 weeks).
    case("PCV 1 at 12 weeks (before July 2025)", "2025-03-01", "2025-05-24", Dose("PCV", 1, Due, "2025-05-24")),
    case("MenB 2 at 16 weeks (before July 2025)", "2025-03-01", "2025-06-21", Dose("MenB", 2, Due, "2025-06-21")),
    case("18-month 6-in-1, 90 days late", "2025-03-01", "2026-11-30", Dose("6-in-1", 4, Overdue, "2026-09-01")),
    // Born 1 Mar 2024: Hib/MenC and MMR at one year; MMRV at 3 years 4 months.
    Case { given: &[("Menitorix", 1, "2025-03-10")], ..case("Hib/MenC given", "2024-03-01", "2025-04-01", Dose("Hib/MenC", 1, Given, "2025-03-01")) },
    case("MMRV as the pre-school dose", "2024-03-01", "2026-11-30", Dose("MMRV", 1, Upcoming, "2027-07-01")),
    case("no 18-month visit before July 2024 births", "2024-03-01", "2026-11-30", NoDose("6-in-1", 4)),
    // Born 1 Aug 2024: MMR at one, MMRV at 18 months and 3 years 4 months.
    case("MMR at one year", "2024-08-01", "2025-08-01", Dose("MMR", 1, Due, "2025-08-01")),
    case("MMRV 1 at 18 months", "2024-08-01", "2026-02-01", Dose("MMRV", 1, Due, "2026-02-01")),
    case("MMRV 2 at 3 years 4 months", "2024-08-01", "2026-11-30", Dose("MMRV", 2, Upcoming, "2027-12-01")),
    // Born 1 May 2021: MMR pre-school dose; the MMRV catch-up; catch-up limits.
    case("MMR 2 at 3 years 4 months", "2021-05-01", "2024-09-01", Dose("MMR", 2, Due, "2024-09-01")),
    case("MMRV catch-up offered", "2021-05-01", "2026-11-20", Dose("MMRV", 1, Due, "2026-11-01")),
    Case { risks: &[Risk::Chickenpox], ..case("MMRV catch-up after chickenpox", "2021-05-01", "2026-11-20", Dose("MMRV", 1, NotApplicable, "2026-11-01")) },
    Case { given: &[("Varicella", 1, "2023-01-01")], ..case("MMRV catch-up after a varicella vaccine", "2021-05-01", "2026-11-20", Dose("MMRV", 1, Given, "2026-11-01")) },
    case("PCV missed, now five", "2021-05-01", "2026-11-30", Dose("PCV", 2, NotApplicable, "2022-05-01")),
    case("6-in-1 missed, now five: still caught up", "2021-05-01", "2026-11-30", Dose("6-in-1", 1, Overdue, "2021-06-26")),
    case("newborn review at five", "2021-05-01", "2026-11-30", C(Check::NewBabyReview, NotRecorded, "2021-05-11")),
    case("flu by school year", "2021-05-01", "2026-11-30", Dose("Flu", 1, Due, "2026-09-01")),
    case("one flu dose when not at risk", "2021-05-01", "2026-11-30", NoDose("Flu", 2)),
    // Selective programmes.
    Case { risks: &[Risk::HepB], ..case("hepatitis B birth dose missed: still given", "2026-11-01", "2026-11-02", Dose("HepB", 1, Overdue, "2026-11-01")) },
    Case { risks: &[Risk::HepB], ..case("hepatitis B at 4 weeks", "2026-11-01", "2026-11-29", Dose("HepB", 2, Due, "2026-11-29")) },
    Case { risks: &[Risk::HepB], ..case("hepatitis B at one year before July 2024 births", "2024-03-01", "2025-03-01", Dose("HepB", 3, Due, "2025-03-01")) },
    Case { risks: &[Risk::HepB], ..case("HBsAg test the day after 18 months", "2026-11-01", "2028-05-02", Dose("HBsAg test", 1, Overdue, "2027-11-01")) },
    Case { risks: &[Risk::Bcg], ..case("BCG on day 28", "2026-11-01", "2026-11-29", Dose("BCG", 1, Due, "2026-11-01")) },
    Case { risks: &[Risk::Bcg], ..case("BCG on day 29", "2026-11-01", "2026-11-30", Dose("BCG", 1, Overdue, "2026-11-01")) },
    case("no BCG without the risk", "2026-11-01", "2026-11-30", NoDose("BCG", 1)),
    Case { risks: &[Risk::Bcg, Risk::ScidSuspected], ..case("no BCG with SCID suspected", "2026-11-01", "2026-11-20", Dose("BCG", 1, NotApplicable, "2026-11-01")) },
    Case { risks: &[Risk::ScidSuspected], ..case("no rotavirus with SCID suspected", "2026-01-01", "2026-02-26", Dose("Rotavirus", 1, NotApplicable, "2026-02-26")) },
    Case { risks: &[Risk::ScidSuspected], ..case("no MMRV with SCID suspected", "2026-01-01", "2027-01-01", Dose("MMRV", 1, NotApplicable, "2027-01-01")) },
    // Flu for clinical risk groups (Green Book ch. 19).
    Case { risks: &[Risk::Flu], ..case("flu at risk, 20 months", "2025-01-15", "2026-10-01", Dose("Flu", 1, Due, "2026-09-01")) },
    Case { risks: &[Risk::Flu], ..case("second flu dose waits for the first", "2025-01-15", "2026-10-01", Dose("Flu", 2, Upcoming, "2026-09-29")) },
    Case { risks: &[Risk::Flu], given: &[("Flu", 1, "2026-09-10")], ..case("second flu dose four weeks on", "2025-01-15", "2026-10-08", Dose("Flu", 2, Due, "2026-10-08")) },
    Case { risks: &[Risk::Flu], given: &[("Fluenz", 1, "2025-10-01")], ..case("one flu dose after an earlier season's", "2024-01-01", "2026-10-08", NoDose("Flu", 2)) },
    Case { risks: &[Risk::Flu], ..case("flu at risk from 6 months", "2026-06-01", "2026-11-30", Dose("Flu", 1, Upcoming, "2026-12-01")) },
    case("no flu at 6 months without risk", "2026-06-01", "2026-12-01", NoDose("Flu", 1)),
    Case { risks: &[Risk::Flu], ..case("no flu for a baby 6 months after the season", "2026-11-01", "2026-11-30", NoDose("Flu", 1)) },
];

#[test]
fn the_schedule_case_table() {
    assert!(CASES.len() >= 40);
    let mut failures = Vec::new();
    for c in CASES {
        let mut input = ScheduleInput {
            birth_date: d(c.born),
            given: c
                .given
                .iter()
                .map(|(vaccine, dose, date)| GivenDose {
                    vaccine: vaccine.to_string(),
                    dose: *dose,
                    date: d(date),
                    reported_by: None,
                })
                .collect(),
            ..Default::default()
        };
        for risk in c.risks {
            match risk {
                Risk::HepB => input.eligibility.hep_b_at_risk = true,
                Risk::Bcg => input.eligibility.bcg = true,
                Risk::Flu => input.eligibility.flu_clinical_risk = true,
                Risk::Chickenpox => input.eligibility.had_chickenpox = true,
                Risk::ScidSuspected => input.scid = ScidScreen::Suspected,
            }
        }
        let r = due(&input, d(c.on)).unwrap();
        let found = match c.expect {
            Dose(vaccine, dose, status, due_date) => {
                let got = r
                    .immunisations
                    .iter()
                    .find(|i| i.vaccine == vaccine && i.dose == dose)
                    .map(|i| (i.status, i.due_date.to_string()));
                (got != Some((status, due_date.to_string())))
                    .then(|| format!("expected {status:?} due {due_date}, got {got:?}"))
            }
            NoDose(vaccine, dose) => r
                .immunisations
                .iter()
                .find(|i| i.vaccine == vaccine && i.dose == dose)
                .map(|i| format!("expected no {vaccine} #{dose}, got {:?}", i.status)),
            C(check, status, from) => {
                let got = r
                    .checks
                    .iter()
                    .find(|i| i.check == check)
                    .map(|i| (i.status, i.window_from.to_string()));
                (got != Some((status, from.to_string())))
                    .then(|| format!("expected {status:?} from {from}, got {got:?}"))
            }
        };
        if let Some(why) = found {
            failures.push(format!("{}: {why}", c.what));
        }
        // Nothing that can no longer be given is reminded.
        for item in &r.immunisations {
            if item.status == NotApplicable {
                let visit = format!("{} vaccines", item.visit);
                let reminded = r.reminders.iter().any(|rem| {
                    rem.title.starts_with(&visit)
                        && rem.due_date == item.due_date
                        && rem.title.contains(&item.vaccine)
                });
                assert!(!reminded, "{}: {} reminded", c.what, item.vaccine);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
