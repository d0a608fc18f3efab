//! Screen models: what each screen of the apps shows, worded, from the record's data.
//! The apps map these to widgets and nothing else (docs/architecture.md,
//! "The apps draw; the core decides"); the CLI and the printout read the same words. Pure functions.

use super::{conflict_text, entry_text, growth_notes, risk_factor_line};
use crate::child::{ChildList, ChildRecord};
use crate::growth::GrowthSeries;
pub use crate::model::child_age_text;
use crate::model::count;
use crate::model::DetailField;
use crate::model::{Author, EntryBody, EntryStatus, EntryView, Verification};
use crate::record::DetailConflict;
use crate::schedule::{DueItem, DueReport, DueStatus};
use chrono::NaiveDate;
use serde::Serialize;

/// "14 Dec 2025".
pub fn date_text(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// NHS numbers are read in groups of 3, 3 and 4: "943 476 5919".
pub fn nhs_number_text(number: &str) -> String {
    if number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &number[..3], &number[3..6], &number[6..])
    } else {
        number.to_string()
    }
}

/// "Jo Bloggs (health visitor, RQX)": the role the record's admin granted.
pub fn author_name(author: &Author) -> String {
    match &author.organisation {
        Some(org) => format!("{} ({}, {org})", author.display_name, author.role.label()),
        None => format!("{} ({})", author.display_name, author.role.label()),
    }
}

/// What the app shows beside an entry's author; an invalid one is shown, never hidden.
pub fn verification_text(verification: Verification) -> &'static str {
    match verification {
        Verification::Verified => "verified",
        Verification::Unverified => "not verified",
        Verification::Invalid => "signature does not match",
        Verification::NotPermitted => "written without the right to write",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildRowView {
    pub id: String,
    pub name: String,
    pub age: String,
    /// "NHS 943 476 5919", or empty.
    pub nhs_number: String,
    /// "1 entry", "12 entries".
    pub entries: String,
    /// Two devices changed a detail apart: the app asks which to keep.
    pub needs_attention: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChildrenView {
    pub children: Vec<ChildRowView>,
    /// A damaged record is counted, never hidden; the others stay readable.
    pub damaged_records: u32,
    /// "1 record withdrawn as created in error is kept out of this list": empty when none.
    pub withdrawn: String,
}

/// The children in the file, youngest last (by date of birth, then name).
pub fn children(list: &ChildList, on: NaiveDate) -> ChildrenView {
    let mut rows: Vec<_> = list.children.iter().collect();
    rows.sort_by(|a, b| a.birth_date.cmp(&b.birth_date).then(a.name.cmp(&b.name)));
    ChildrenView {
        children: rows
            .into_iter()
            .map(|c| ChildRowView {
                id: c.id.to_string(),
                name: c.name.clone(),
                age: c
                    .birth_date
                    .map(|b| child_age_text(b, on))
                    .unwrap_or_default(),
                nhs_number: c
                    .nhs_number
                    .as_deref()
                    .map(|n| format!("NHS {}", nhs_number_text(n)))
                    .unwrap_or_default(),
                entries: super::count(c.entry_count as i64, "entry", "entries"),
                needs_attention: c.has_conflicts,
            })
            .collect(),
        damaged_records: list.damaged.len() as u32,
        withdrawn: match list.withdrawn.len() {
            0 => String::new(),
            1 => "1 record withdrawn as created in error is kept out of this list".into(),
            n => format!("{n} records withdrawn as created in error are kept out of this list"),
        },
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRowView {
    pub entry_id: String,
    /// The date the entry is about ("14 Dec 2025"); empty for undated entries.
    pub date: String,
    pub text: String,
    pub author: String,
    pub verification: Verification,
    pub verification_text: String,
    /// Unusual but possible values the app asks to check.
    pub checks: Vec<String>,
    /// A correction of an earlier entry.
    pub corrected: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineView {
    pub title: String,
    /// "born 19 Oct 2025 · 13 months · NHS 943 476 5919"; no address (safeguarding).
    pub subtitle: String,
    pub rows: Vec<TimelineRowView>,
    /// Details two devices set apart, each with the choices that settle it.
    pub conflicts: Vec<ConflictView>,
    /// Set when a professional closed the record: why, when, by whom.
    pub closed: Option<String>,
}

/// Current entries, newest first by the date each is about (undated ones last; ties by
/// when they were written); corrected and in-error entries are left out.
pub fn timeline(record: &ChildRecord, on: NaiveDate) -> TimelineView {
    let mut current: Vec<&EntryView> = record
        .entries
        .iter()
        .filter(|v| v.status == EntryStatus::Current)
        .filter(|v| !matches!(v.entry.body, EntryBody::EnteredInError { .. }))
        .collect();
    current.sort_by(|a, b| {
        (b.entry.body.date(), &b.entry.id).cmp(&(a.entry.body.date(), &a.entry.id))
    });
    let d = &record.details;
    let subtitle: Vec<String> = [
        d.birth_date.map(|b| format!("born {}", date_text(b))),
        d.birth_date.map(|b| child_age_text(b, on)),
        d.nhs_number
            .as_deref()
            .map(|n| format!("NHS {}", nhs_number_text(n))),
    ]
    .into_iter()
    .flatten()
    .collect();
    TimelineView {
        title: d.name.clone(),
        subtitle: subtitle.join(" · "),
        rows: current.into_iter().map(timeline_row).collect(),
        conflicts: record.conflicts.iter().map(conflict).collect(),
        closed: record.closed.as_ref().map(|v| {
            format!(
                "{} on {}, by {}: read-only on parents' and carers' devices",
                v.entry.body.summary(),
                v.entry.body.date().map(date_text).unwrap_or_default(),
                author_name(&v.entry.author)
            )
        }),
    }
}

/// A detail two devices set apart: in words, and the values a parent picks one of to
/// settle it. An address's values are never listed on a screen (hazard log H20): it is
/// settled by typing it again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictView {
    pub text: String,
    pub field: DetailField,
    /// Each value as the update that keeps it would write it; empty for an address.
    pub choices: Vec<String>,
}

pub fn conflict(conflict: &DetailConflict) -> ConflictView {
    ConflictView {
        text: conflict_text(conflict),
        field: conflict.field,
        choices: match conflict.field {
            DetailField::Address => Vec::new(),
            _ => conflict.values.clone(),
        },
    }
}

pub fn timeline_row(view: &EntryView) -> TimelineRowView {
    // Another system's entry is signed by the member who brought it in, which vouches only
    // for the bringing: who wrote it there cannot be checked here, so it reads as not verified.
    let (verification, verification_text) = match (&view.entry.source, view.verification) {
        (Some(source), Verification::Verified) => (
            Verification::Unverified,
            format!("not verified: imported from {source}"),
        ),
        (_, verification) => (verification, self::verification_text(verification).into()),
    };
    TimelineRowView {
        entry_id: view.entry.id.to_string(),
        date: view.entry.body.date().map(date_text).unwrap_or_default(),
        text: entry_text(view),
        author: match &view.author_name_then {
            Some(then) => format!("{} (was: {then})", author_name(&view.entry.author)),
            None => author_name(&view.entry.author),
        },
        verification,
        verification_text,
        checks: view.flags.iter().map(|f| f.note.clone()).collect(),
        corrected: view.entry.amends.is_some(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrowthRowView {
    pub date: String,
    /// "6.10 kg", "96.1 cm".
    pub value: String,
    /// "between the 50th and 75th centile", or why it cannot be charted.
    pub centile: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthView {
    /// Newest first.
    pub rows: Vec<GrowthRowView>,
    /// `growth_notes`: faltering, thrive line, weighing too often, velocity, gestation.
    pub notes: Vec<String>,
    /// "UK-WHO", "Down syndrome (UK 2002)".
    pub chart_name: String,
}

pub fn growth(series: &GrowthSeries) -> GrowthView {
    use crate::growth::Measure;
    let value = |v: f64| match series.measure {
        Measure::WeightKg => format!("{v:.2} kg"),
        Measure::Bmi => format!("{v:.1} kg/m²"),
        _ => format!("{v:.1} cm"),
    };
    GrowthView {
        rows: series
            .points
            .iter()
            .rev()
            .map(|p| GrowthRowView {
                date: date_text(p.date),
                value: value(p.value),
                centile: match (&p.assessment, &p.problem) {
                    (Some(a), _) => a.description.clone(),
                    (None, problem) => problem.clone().unwrap_or_default(),
                },
            })
            .collect(),
        notes: growth_notes(series),
        chart_name: series.chart.name().into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaccineRowView {
    /// "6-in-1 dose 2", "MenB dose 1 (8 weeks)".
    pub vaccine: String,
    pub date: String,
    /// "given", "overdue since 26 Mar 2026", "due now", "from 23 Apr 2026".
    pub status: String,
    /// Due or overdue: shown so.
    pub urgent: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImmunisationsView {
    pub given: Vec<VaccineRowView>,
    /// What is due or overdue now, and the next visit's vaccines.
    pub due: Vec<VaccineRowView>,
    /// "12 weeks on 26 Mar 2026".
    pub next_visit: Option<String>,
    /// The record's risk factors beside the list, and whether each is used.
    pub risk_factors: Vec<String>,
}

/// What a parent acts on: every dose due or overdue, and the next visit's doses, by date
/// (the screen and the printout show the same).
pub fn due_and_next(report: &DueReport) -> Vec<&DueItem> {
    let mut waiting: Vec<&DueItem> = report
        .immunisations
        .iter()
        .filter(|i| {
            matches!(
                i.status,
                DueStatus::Due | DueStatus::Overdue | DueStatus::Upcoming
            )
        })
        .collect();
    waiting.sort_by_key(|i| i.due_date);
    let next_visit = waiting
        .iter()
        .find(|i| i.status == DueStatus::Upcoming)
        .map(|i| i.due_date);
    waiting.retain(|i| i.status != DueStatus::Upcoming || Some(i.due_date) == next_visit);
    waiting
}

pub fn immunisations(report: &DueReport) -> ImmunisationsView {
    let mut given: Vec<_> = report
        .immunisations
        .iter()
        .filter(|i| i.status == DueStatus::Given)
        .collect();
    given.sort_by_key(|i| i.given_on.unwrap_or(i.due_date));
    let mut given: Vec<VaccineRowView> = given
        .into_iter()
        .map(|i| VaccineRowView {
            vaccine: format!("{} dose {}", i.vaccine, i.dose),
            date: date_text(i.given_on.unwrap_or(i.due_date)),
            status: super::given_status(i.reported_by.as_deref()),
            urgent: false,
        })
        .collect();
    given.extend(report.other_vaccines.iter().map(|g| VaccineRowView {
        vaccine: format!("{} dose {}", g.vaccine, g.dose),
        date: date_text(g.date),
        status: "given (not in the routine schedule)".into(),
        urgent: false,
    }));
    let waiting = due_and_next(report);
    let next = waiting.iter().find(|i| i.status == DueStatus::Upcoming);
    let due = waiting
        .iter()
        .map(|i| VaccineRowView {
            vaccine: format!("{} dose {} ({})", i.vaccine, i.dose, i.visit),
            date: date_text(i.due_date),
            status: match i.status {
                DueStatus::Overdue => format!("overdue since {}", date_text(i.overdue_from)),
                DueStatus::Due => "due now".into(),
                _ => format!("from {}", date_text(i.due_date)),
            },
            urgent: i.status != DueStatus::Upcoming,
        })
        .collect();
    ImmunisationsView {
        given,
        due,
        next_visit: next.map(|i| format!("{} on {}", i.visit, date_text(i.due_date))),
        risk_factors: report.risk_factors.iter().map(risk_factor_line).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_notification_plan_has_stable_ids_and_a_name_only_when_chosen() {
        use crate::schedule::{due, ScheduleInput};
        let report = due(
            &ScheduleInput {
                birth_date: d("2026-01-01"),
                ..Default::default()
            },
            d("2026-02-10"),
        )
        .unwrap();
        let plan = notification_plan("ab12", &report, None);
        let first = plan.iter().find(|n| n.title.contains("vaccines")).unwrap();
        assert_eq!(first.on, d("2026-02-19"), "a week before the 8-week visit");
        assert!(
            first.title.starts_with("8 weeks vaccines: "),
            "{}",
            first.title
        );
        assert_eq!(
            first.body,
            "due 26 Feb 2026: open the red book to see what is due"
        );
        assert_eq!(first.id.len(), 24);
        // The same reminder keeps its id; another record's does not share it.
        let ids = |record: &str| -> Vec<String> {
            notification_plan(record, &report, None)
                .into_iter()
                .map(|n| n.id)
                .collect()
        };
        assert_eq!(
            ids("ab12"),
            plan.iter().map(|n| n.id.clone()).collect::<Vec<_>>()
        );
        assert!(!ids("cd34").contains(&first.id));
        let named = notification_plan("ab12", &report, Some("Amara"));
        let named_first = named.iter().find(|n| n.id == first.id).unwrap();
        assert!(named_first.title.starts_with("Amara: 8 weeks vaccines"));
        assert!(plan.iter().all(|n| !n.title.contains("Amara")));
    }

    #[test]
    fn ages_dates_and_numbers_read_as_a_health_visitor_says_them() {
        let today = d("2026-11-23");
        assert_eq!(child_age_text(d("2026-11-19"), today), "4 days");
        assert_eq!(child_age_text(d("2026-11-02"), today), "3 weeks");
        assert_eq!(child_age_text(d("2025-10-19"), today), "13 months");
        assert_eq!(child_age_text(d("2024-11-23"), today), "2 years");
        assert_eq!(child_age_text(d("2023-10-19"), today), "3 years 1 month");
        assert_eq!(child_age_text(d("2026-12-01"), today), "not born yet");
        assert_eq!(date_text(d("2025-12-14")), "14 Dec 2025");
        assert_eq!(nhs_number_text("9434765919"), "943 476 5919");
        assert_eq!(nhs_number_text("12"), "12");
    }
}

/// One local notification for the app to schedule from the due list's reminders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedNotification {
    /// Stable while the reminder is the same: the app replaces or cancels by it. A
    /// digest, so it carries nothing about the child.
    pub id: String,
    /// The day to show it, at `hour` (local time).
    pub on: NaiveDate,
    pub hour: u8,
    pub title: String,
    pub body: String,
}

/// The hour of the day a reminder shows: in the morning, when a parent can ring the
/// surgery that day, and late enough to wake nobody.
pub const NOTIFICATION_HOUR: u8 = 9;

/// The notifications for a child's reminders (`schedule::Reminder`), none for a closed
/// record (the report then has none). The lock screen shows them, so the child's name is
/// in them only when the parent chose so (`name`).
pub fn notification_plan(
    record_id: &str,
    report: &DueReport,
    name: Option<&str>,
) -> Vec<PlannedNotification> {
    report
        .reminders
        .iter()
        .map(|r| {
            let digest = ring::digest::digest(
                &ring::digest::SHA256,
                format!(
                    "redbook/notification\0{record_id}\0{}\0{}",
                    r.due_date, r.title
                )
                .as_bytes(),
            );
            let id = digest.as_ref()[..12]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let when = if r.due_date <= r.remind_on {
                "due now".to_string()
            } else {
                format!("due {}", date_text(r.due_date))
            };
            PlannedNotification {
                id,
                on: r.remind_on,
                hour: NOTIFICATION_HOUR,
                title: match name {
                    Some(name) => format!("{name}: {}", r.title),
                    None => r.title.clone(),
                },
                body: format!("{when}: open the red book to see what is due"),
            }
        })
        .collect()
}

/// How the family's sync with its relay stands, for the sync screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncStatus {
    /// No sync has run on this phone since it opened.
    NotYet,
    Running,
    /// The run ended well; `records_changed` children's records took in something new.
    UpToDate {
        records_changed: u32,
    },
    /// The relay could not be reached or was busy: the job tries again later.
    WillRetry,
    /// The relay refused for good: retrying would not help.
    Failed,
    /// Cancelled part-way (the person left, the system stopped the work).
    Stopped,
}

pub fn sync_status_text(status: SyncStatus) -> String {
    match status {
        SyncStatus::NotYet => "Not synced yet since the app opened".into(),
        SyncStatus::Running => "Syncing with the family's other devices...".into(),
        SyncStatus::UpToDate { records_changed: 0 } => {
            "Up to date: nothing new from the family's other devices".into()
        }
        SyncStatus::UpToDate { records_changed } => format!(
            "Up to date: news arrived for {}",
            count(records_changed, "child's record", "children's records")
        ),
        SyncStatus::WillRetry => {
            "The family's relay could not be reached: this phone tries again later and nothing is lost".into()
        }
        SyncStatus::Failed => {
            "The family's relay refused this phone: ask whoever set up the relay".into()
        }
        SyncStatus::Stopped => {
            "Sync stopped before it finished: what arrived is kept, the rest comes at the next sync".into()
        }
    }
}

/// What a restore from the recovery kit did, a sentence a line, from its counts (the
/// records restored, the lost phones removed, the records the kit no longer opens) and
/// whether this phone has new words to write down.
pub fn restore_lines(
    restored: usize,
    removed: usize,
    skipped: usize,
    new_words: bool,
) -> Vec<String> {
    let mut lines = vec![match restored {
        0 => "Nothing was restored: the backup holds no record this kit still opens".to_string(),
        n => format!(
            "Restored {} on this phone",
            count(n as i64, "child's record", "children's records")
        ),
    }];
    if removed > 0 {
        lines.push("The lost phone was removed from them: it gets no more updates".into());
    }
    if skipped > 0 {
        lines.push(format!(
            "{} not restored: the kit was removed from them after the backup",
            count(skipped as i64, "record", "records")
        ));
    }
    if new_words {
        lines.push(
            "Write this phone's new recovery words in the red book now: the words you typed no longer restore anything"
                .into(),
        );
    }
    lines
}
