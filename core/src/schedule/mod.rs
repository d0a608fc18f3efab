//! What is due, overdue and done: immunisations, health visiting reviews and newborn
//! screening, for a child born on a given date, as of a given date. Pure functions over
//! the dated data in `data`; of ours, depends only on the model (`input` reads the
//! record's entries).

use crate::model::RiskFactorKind;
use chrono::{Duration, Months, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

pub mod data;
mod doses;
mod input;
mod scid;
use data::{
    DoseRule, CHECKS, FLU, FLU_SEASONS, MMRV_CATCH_UP, VACCINE_ALIASES, VARICELLA_CONTAINING,
};
pub use doses::{course_doses, dose_questions, known_vaccines, DoseQuestion};
pub use input::{risk_factor_uses, schedule_input};
pub use scid::{scid_screen, ScidFinding};

/// An age as the schedule states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Age {
    Days(u32),
    Weeks(u32),
    /// Calendar months: "1 year" is the first birthday itself.
    Months(u32),
}

impl Age {
    pub fn date_from(self, birth: NaiveDate) -> NaiveDate {
        match self {
            Age::Days(d) => birth + Duration::days(d.into()),
            Age::Weeks(w) => birth + Duration::weeks(w.into()),
            // Born 29 Feb or 31 Jan: chrono clamps to the month's last day.
            Age::Months(m) => birth
                .checked_add_months(Months::new(m))
                .unwrap_or(NaiveDate::MAX),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Programme {
    Routine,
    HepBAtRisk,
    Bcg,
    MmrvCatchUp,
    Flu,
}

/// A review or screening test with an age window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    NipeNewborn,
    BloodSpot,
    Hearing,
    NewBabyReview,
    NipeSixToEightWeeks,
    SixToEightWeekReview,
    NineToTwelveMonthReview,
    TwoYearReview,
}

impl Check {
    pub fn title(self) -> &'static str {
        match self {
            Check::NipeNewborn => "Newborn physical examination (NIPE)",
            Check::BloodSpot => "Newborn blood spot test",
            Check::Hearing => "Newborn hearing test",
            Check::NewBabyReview => "New baby review",
            Check::NipeSixToEightWeeks => "6-8 week physical examination (NIPE)",
            Check::SixToEightWeekReview => "6-8 week review",
            Check::NineToTwelveMonthReview => "9-12 month review",
            Check::TwoYearReview => "2-2.5 year review",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    /// Given (a vaccine) or done (a check).
    Given,
    Due,
    Overdue,
    Upcoming,
    /// Too late to give (rotavirus, or a later dose of a course that can no longer be
    /// started), not needed, or a campaign that has ended.
    NotApplicable,
    /// A review or screening test whose window has passed with nothing recorded: missed,
    /// or done and not written here. Not reminded: it can no longer be done as scheduled.
    NotRecorded,
}

/// Selective programmes the child is in; the clinic or parent says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Eligibility {
    /// Mother has hepatitis B: monovalent doses from birth.
    pub hep_b_at_risk: bool,
    /// Eligible for BCG (tuberculosis risk).
    pub bcg: bool,
    /// In a clinical risk group for flu, from 6 months.
    pub flu_clinical_risk: bool,
    /// Has had chickenpox: no MMRV catch-up needed.
    pub had_chickenpox: bool,
}

/// A dose recorded in the child's record, as the clinic named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GivenDose {
    pub vaccine: String,
    pub dose: u8,
    pub date: NaiveDate,
    /// Who reported it when no professional recorded it (a parent's "Mum"): it counts as
    /// given, since the record holds nothing better, but is worded apart: the Green Book
    /// counts documented doses, so a professional should check it (`view`).
    pub reported_by: Option<String>,
}

/// The SCID result of the newborn blood spot, as far as the record says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScidScreen {
    /// Not screened, not yet back, or not recorded here.
    #[default]
    Unknown,
    NotSuspected,
    /// Live vaccines are not given until the specialist team says (`data::LIVE_VACCINES`).
    Suspected,
    /// No SCID finding, and the parents declined SCID screening: no result will come.
    Declined,
    /// Suspected, then ended by a later sample or the specialist team (`scid::scid_screen`,
    /// `data::SCID_RULED_OUT_SOURCE`): live vaccines are offered again, saying why.
    RuledOut {
        suspected_on: NaiveDate,
        ruled_out_on: NaiveDate,
        /// The specialist team ruled it out, rather than a repeat sample.
        by_specialist: bool,
    },
}

#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub birth_date: NaiveDate,
    pub given: Vec<GivenDose>,
    pub checks_done: Vec<(Check, NaiveDate)>,
    pub eligibility: Eligibility,
    pub scid: ScidScreen,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueItem {
    pub programme: Programme,
    pub vaccine: String,
    pub dose: u8,
    pub visit: String,
    pub due_date: NaiveDate,
    /// From this date a dose not given is overdue.
    pub overdue_from: NaiveDate,
    pub status: DueStatus,
    pub given_on: Option<NaiveDate>,
    /// Set when the dose counted as given was reported by a family member, not recorded
    /// by a professional (`GivenDose::reported_by`).
    pub reported_by: Option<String>,
    pub note: Option<String>,
    pub source: String,
    /// When the rule that schedules this dose came into force.
    pub rule_in_force_from: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckItem {
    pub check: Check,
    pub title: String,
    pub window_from: NaiveDate,
    pub window_until: NaiveDate,
    pub status: DueStatus,
    pub done_on: Option<NaiveDate>,
    pub source: String,
}

/// A notification for the app to schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reminder {
    pub remind_on: NaiveDate,
    pub due_date: NaiveDate,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DueReport {
    pub on: NaiveDate,
    pub birth_date: NaiveDate,
    pub immunisations: Vec<DueItem>,
    pub checks: Vec<CheckItem>,
    /// Vaccines the schedule does not know (travel, private): kept and shown.
    pub other_vaccines: Vec<GivenDose>,
    pub reminders: Vec<Reminder>,
    /// The record's risk factor entries, and whether this report relies on each (filled
    /// by `RedBook::due`; empty for a date of birth alone).
    pub risk_factors: Vec<RiskFactorUse>,
    /// A record closure by a professional whose role no organisation on this device's
    /// trust list confirms: what it would change, and that it waits (filled by
    /// `RedBook::due`; `view::closure_waiting` words it).
    pub closure_waiting: Option<String>,
}

/// A risk factor entry as the due list weighed it, shown beside the list so that a
/// parent or clinician sees what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RiskFactorUse {
    pub entry_id: String,
    pub factor: RiskFactorKind,
    pub present: bool,
    pub date: NaiveDate,
    /// "Sam Patel (midwife)".
    pub recorded_by: String,
    pub used: bool,
    pub why_not_used: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the schedule covers children born from {earliest}")]
    BornBeforeCoveredCohorts { earliest: NaiveDate },
    #[error("the date asked about is before the date of birth")]
    BeforeBirth,
}

/// Days before a visit that its reminder fires.
const REMIND_DAYS_BEFORE: i64 = 7;

/// The schedule's name for a vaccine as a clinic wrote it, if the schedule knows it.
pub fn canonical_vaccine(name: &str) -> Option<&'static str> {
    let key = match_key(name);
    VACCINE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == key)
        .map(|(_, canonical)| *canonical)
}

/// A vaccine or brand name as matched: letters and digits only, lower case.
pub fn match_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

pub fn due(input: &ScheduleInput, on: NaiveDate) -> Result<DueReport, ScheduleError> {
    let birth = input.birth_date;
    if birth < data::EARLIEST_COHORT {
        return Err(ScheduleError::BornBeforeCoveredCohorts {
            earliest: data::EARLIEST_COHORT,
        });
    }
    if on < birth {
        return Err(ScheduleError::BeforeBirth);
    }
    // First date each (vaccine, dose) was given; unknown names kept aside.
    let mut given: BTreeMap<(&'static str, u8), NaiveDate> = BTreeMap::new();
    let mut other_vaccines = Vec::new();
    for dose in &input.given {
        match canonical_vaccine(&dose.vaccine) {
            Some(v) => {
                let slot = given.entry((v, dose.dose)).or_insert(dose.date);
                *slot = (*slot).min(dose.date);
            }
            None => other_vaccines.push(dose.clone()),
        }
    }

    let e = input.eligibility;
    let mut rules: Vec<&DoseRule> = data::ROUTINE.iter().collect();
    if e.hep_b_at_risk {
        rules.extend(data::HEP_B_AT_RISK);
    }
    if e.bcg {
        rules.extend(data::BCG_ELIGIBLE);
    }
    let mut immunisations: Vec<DueItem> = rules
        .into_iter()
        .filter(|r| birth >= r.born_from && r.born_until.is_none_or(|until| birth <= until))
        .map(|rule| dose_item(rule, birth, &given, on))
        .collect();
    close_courses(&mut immunisations);
    apply_scid(&mut immunisations, input.scid);
    immunisations.extend(catch_up_item(birth, &input.given, e, on));
    immunisations.extend(flu_items(birth, &input.given, e, on));
    mark_reported(&mut immunisations, &input.given);
    immunisations.sort_by(|a, b| {
        a.due_date
            .cmp(&b.due_date)
            .then(a.vaccine.cmp(&b.vaccine))
            .then(a.dose.cmp(&b.dose))
    });

    let checks: Vec<CheckItem> = CHECKS
        .iter()
        .map(|rule| {
            let window_from = rule.from.date_from(birth);
            let window_until = rule.until.date_from(birth);
            let done_on = input
                .checks_done
                .iter()
                .filter(|(c, _)| *c == rule.check)
                .map(|(_, d)| *d)
                .min();
            // A window closes: after it, a check not recorded is "not recorded", never
            // overdue (each window with its source in `data::CHECKS`).
            let status = match done_on {
                Some(_) => DueStatus::Given,
                None if on > window_until => DueStatus::NotRecorded,
                None => timing(on, window_from, window_until + Duration::days(1)),
            };
            CheckItem {
                check: rule.check,
                title: rule.check.title().to_string(),
                window_from,
                window_until,
                status,
                done_on,
                source: rule.source.to_string(),
            }
        })
        .collect();

    let reminders = reminders(&immunisations, &checks, on);
    Ok(DueReport {
        on,
        birth_date: birth,
        immunisations,
        checks,
        other_vaccines,
        reminders,
        risk_factors: Vec::new(),
        closure_waiting: None,
    })
}

/// A dose counted as given that only a family member reported (no professional recorded
/// that vaccine and dose on that day) says who reported it.
fn mark_reported(items: &mut [DueItem], given: &[GivenDose]) {
    for item in items.iter_mut() {
        let Some(on) = item.given_on else { continue };
        let same = |g: &&GivenDose| {
            g.dose == item.dose
                && g.date == on
                && canonical_vaccine(&g.vaccine).unwrap_or(g.vaccine.as_str()) == item.vaccine
        };
        let matching: Vec<&GivenDose> = given.iter().filter(same).collect();
        if !matching.is_empty() && matching.iter().all(|g| g.reported_by.is_some()) {
            item.reported_by = matching[0].reported_by.clone();
        }
    }
}

/// A dose that can no longer be given closes the rest of its course: rotavirus dose 2 is
/// not due when dose 1 was never given and can no longer be (Green Book ch. 27b: the
/// course is not started after 15 weeks 0 days).
fn close_courses(items: &mut [DueItem]) {
    let closed: Vec<(String, u8)> = items
        .iter()
        .filter(|i| i.status == DueStatus::NotApplicable && i.given_on.is_none())
        .map(|i| (i.vaccine.clone(), i.dose))
        .collect();
    for item in items.iter_mut() {
        let earlier_closed = closed
            .iter()
            .any(|(vaccine, dose)| *vaccine == item.vaccine && *dose < item.dose);
        if earlier_closed && item.given_on.is_none() {
            item.status = DueStatus::NotApplicable;
            item.note =
                Some("not due: an earlier dose of this course can no longer be given".into());
        }
    }
}

/// A suspected SCID stops live vaccines not yet given; BCG waits for the result
/// (`data::LIVE_VACCINES`, `data::BCG_ELIGIBLE`); a suspicion ruled out offers them again
/// (`data::SCID_RULED_OUT_SOURCE`).
fn apply_scid(items: &mut [DueItem], scid: ScidScreen) {
    for item in items.iter_mut().filter(|i| i.given_on.is_none()) {
        let live = data::LIVE_VACCINES.contains(&item.vaccine.as_str());
        match scid {
            ScidScreen::Suspected if live => {
                item.status = DueStatus::NotApplicable;
                item.note = Some(
                    "not given: SCID suspected on newborn screening; live vaccines wait for the specialist team's advice"
                        .into(),
                );
                item.source = data::LIVE_VACCINE_SOURCE.into();
            }
            ScidScreen::Unknown if item.vaccine == data::BCG => {
                item.note = Some(
                    "given once the SCID newborn screening result is known (not recorded here yet)"
                        .into(),
                );
            }
            // UNVERIFIED: what the programme advises for BCG then is not in the sources
            // read (`data::SCID_RULED_OUT_SOURCE`); say only that no result will come.
            ScidScreen::Declined if item.vaccine == data::BCG => {
                item.note = Some(
                    "SCID screening was declined, so no SCID result will come: the clinic decides"
                        .into(),
                );
            }
            ScidScreen::NotSuspected if item.vaccine == data::BCG => {
                item.note = Some("SCID not suspected on newborn screening: can be given".into());
            }
            // Offered again on its own timing; one past its age limit stays not applicable.
            ScidScreen::RuledOut {
                suspected_on,
                ruled_out_on,
                by_specialist,
            } if live && item.status != DueStatus::NotApplicable => {
                let then = if by_specialist {
                    format!("ruled out by the specialist team on {ruled_out_on}")
                } else {
                    format!("not suspected on the blood spot sample of {ruled_out_on}")
                };
                item.note = Some(format!(
                    "can be given: SCID was suspected on {suspected_on}, then {then}"
                ));
                item.source = format!("{}; {}", item.source, data::SCID_RULED_OUT_SOURCE);
            }
            _ => {}
        }
    }
}

/// Upcoming before `due`, due until `overdue_from`, overdue after.
fn timing(on: NaiveDate, due: NaiveDate, overdue_from: NaiveDate) -> DueStatus {
    if on < due {
        DueStatus::Upcoming
    } else if on < overdue_from {
        DueStatus::Due
    } else {
        DueStatus::Overdue
    }
}

fn dose_item(
    rule: &DoseRule,
    birth: NaiveDate,
    given: &BTreeMap<(&'static str, u8), NaiveDate>,
    on: NaiveDate,
) -> DueItem {
    let scheduled = rule.age.date_from(birth);
    // A previous dose given late moves this one: at least the minimum interval after it.
    let after_previous = (rule.dose > 1)
        .then(|| given.get(&(rule.vaccine, rule.dose - 1)))
        .flatten()
        .map(|prev| *prev + Duration::days(rule.min_days_after_previous.into()));
    let due_date = after_previous.map_or(scheduled, |d| d.max(scheduled));
    // A window with a calendar end (BCG by 28 days, the HBsAg test by 18 months) is
    // overdue the day after it; otherwise after the grace days.
    let overdue_from = match rule.due_until {
        Some(until) => until.date_from(birth).max(due_date) + Duration::days(1),
        None => due_date + Duration::days(rule.grace_days.into()),
    };
    let given_on = given.get(&(rule.vaccine, rule.dose)).copied();
    let too_late = rule.not_from_age.map(|age| age.date_from(birth));
    let status = match (given_on, too_late) {
        (Some(_), _) => DueStatus::Given,
        (None, Some(limit)) if on >= limit || due_date >= limit => DueStatus::NotApplicable,
        (None, _) => timing(on, due_date, overdue_from),
    };
    DueItem {
        programme: rule.programme,
        vaccine: rule.vaccine.to_string(),
        dose: rule.dose,
        visit: rule.visit.to_string(),
        due_date,
        overdue_from: too_late.map_or(overdue_from, |limit| overdue_from.min(limit)),
        status,
        given_on,
        reported_by: None,
        note: rule.note.map(str::to_string),
        source: rule.source.to_string(),
        rule_in_force_from: rule.in_force_from,
    }
}

fn catch_up_item(
    birth: NaiveDate,
    doses: &[GivenDose],
    e: Eligibility,
    on: NaiveDate,
) -> Option<DueItem> {
    let c = &MMRV_CATCH_UP;
    if birth < c.born_from || birth > c.born_until {
        return None;
    }
    let varicella = doses.iter().filter(|d| {
        let name = canonical_vaccine(&d.vaccine).unwrap_or(d.vaccine.as_str());
        VARICELLA_CONTAINING
            .iter()
            .any(|v| v.eq_ignore_ascii_case(name))
    });
    let given_on = varicella.map(|d| d.date).min();
    let status = match given_on {
        Some(_) => DueStatus::Given,
        None if e.had_chickenpox || on > c.offered_until => DueStatus::NotApplicable,
        None => timing(on, c.offered_from, c.offered_until + Duration::days(1)),
    };
    Some(DueItem {
        programme: Programme::MmrvCatchUp,
        vaccine: c.vaccine.to_string(),
        dose: 1,
        visit: "catch-up".into(),
        due_date: c.offered_from,
        overdue_from: c.offered_until + Duration::days(1),
        status,
        given_on,
        reported_by: None,
        note: Some("one dose, offered to children who have had neither chickenpox nor a chickenpox vaccine".into()),
        source: c.source.to_string(),
        rule_in_force_from: c.offered_from,
    })
}

/// Days between a first and second flu dose (Green Book ch. 19: at least four weeks).
const FLU_SECOND_DOSE_AFTER_DAYS: i64 = 28;

fn flu_items(birth: NaiveDate, doses: &[GivenDose], e: Eligibility, on: NaiveDate) -> Vec<DueItem> {
    let mut items = Vec::new();
    for season in FLU_SEASONS {
        let in_range = |(from, until): (NaiveDate, NaiveDate)| birth >= from && birth <= until;
        let risk_from = season.clinical_risk_from.date_from(birth);
        let by_age = in_range(season.preschool_born) || in_range(season.school_born);
        let eligible = by_age || (e.flu_clinical_risk && risk_from <= season.ends);
        if !eligible {
            continue;
        }
        let due_date = if by_age {
            season.starts
        } else {
            season.starts.max(risk_from)
        };
        let flu_dates: Vec<NaiveDate> = {
            let mut dates: Vec<NaiveDate> = doses
                .iter()
                .filter(|d| canonical_vaccine(&d.vaccine) == Some(FLU))
                .map(|d| d.date)
                .collect();
            dates.sort();
            dates
        };
        let in_season: Vec<NaiveDate> = flu_dates
            .iter()
            .copied()
            .filter(|d| *d >= season.starts && *d <= season.ends)
            .collect();
        let overdue_from = season.overdue_from.max(due_date);
        let status_of =
            |given_on: Option<NaiveDate>, due: NaiveDate, overdue: NaiveDate| match given_on {
                Some(_) => DueStatus::Given,
                None if on > season.ends => DueStatus::NotApplicable,
                None => timing(on, due, overdue),
            };
        let first = in_season.first().copied();
        items.push(DueItem {
            programme: Programme::Flu,
            vaccine: FLU.to_string(),
            dose: 1,
            visit: format!("flu season {}", season.label),
            due_date,
            overdue_from,
            status: status_of(first, due_date, overdue_from),
            given_on: first,
            reported_by: None,
            note: None,
            source: season.source.to_string(),
            rule_in_force_from: season.starts,
        });
        // Green Book ch. 19: a child from 6 months to under 9 years in a clinical risk
        // group who has never had flu vaccine is given two doses, four weeks apart.
        let under_nine = season.starts < Age::Months(9 * 12).date_from(birth);
        let never_before = flu_dates.iter().all(|d| *d >= season.starts);
        if e.flu_clinical_risk && under_nine && never_before {
            let second_due = first.unwrap_or(due_date) + Duration::days(FLU_SECOND_DOSE_AFTER_DAYS);
            let second = first.and_then(|f| {
                in_season
                    .iter()
                    .copied()
                    .find(|d| *d >= f + Duration::days(FLU_SECOND_DOSE_AFTER_DAYS))
            });
            let second_overdue = overdue_from.max(second_due);
            items.push(DueItem {
                programme: Programme::Flu,
                vaccine: FLU.to_string(),
                dose: 2,
                visit: format!("flu season {}", season.label),
                due_date: second_due,
                overdue_from: second_overdue,
                // Not before the first: upcoming until the first is given.
                status: match (first, status_of(second, second_due, second_overdue)) {
                    (None, DueStatus::Due | DueStatus::Overdue) => DueStatus::Upcoming,
                    (_, status) => status,
                },
                given_on: second,
                reported_by: None,
                note: Some(
                    "a second dose at least four weeks after the first: a child under 9 in a clinical risk group who has never had flu vaccine"
                        .into(),
                ),
                source: "GREEN-BOOK ch. 19".to_string(),
                rule_in_force_from: season.starts,
            });
        }
    }
    items
}

/// One reminder per visit date, a week ahead; what is already due is reminded today.
fn reminders(immunisations: &[DueItem], checks: &[CheckItem], on: NaiveDate) -> Vec<Reminder> {
    let mut visits: BTreeMap<(NaiveDate, String), Vec<String>> = BTreeMap::new();
    for item in immunisations.iter().filter(|i| {
        matches!(
            i.status,
            DueStatus::Upcoming | DueStatus::Due | DueStatus::Overdue
        )
    }) {
        visits
            .entry((item.due_date, format!("{} vaccines", item.visit)))
            .or_default()
            .push(item.vaccine.clone());
    }
    let mut reminders: Vec<Reminder> = visits
        .into_iter()
        .map(|((due_date, visit), vaccines)| Reminder {
            remind_on: (due_date - Duration::days(REMIND_DAYS_BEFORE)).max(on),
            due_date,
            title: format!("{visit}: {}", vaccines.join(", ")),
        })
        .collect();
    reminders.extend(
        checks
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    DueStatus::Upcoming | DueStatus::Due | DueStatus::Overdue
                )
            })
            .map(|c| Reminder {
                remind_on: (c.window_from - Duration::days(REMIND_DAYS_BEFORE)).max(on),
                due_date: c.window_from,
                title: c.title.clone(),
            }),
    );
    reminders.sort_by(|a, b| {
        a.remind_on
            .cmp(&b.remind_on)
            .then(a.due_date.cmp(&b.due_date))
    });
    reminders
}

#[cfg(test)]
mod tests;
