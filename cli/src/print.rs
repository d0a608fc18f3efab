//! How results are printed: text for a person, or JSON with --json.

use redbook_core::growth::{Assessment, GrowthFlag};
use redbook_core::model::*;
use redbook_core::schedule::{DueReport, DueStatus};
use redbook_core::ChildRecord;
use serde::Serialize;

pub(crate) struct Output {
    pub(crate) json: bool,
}

impl Output {
    pub(crate) fn print<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("serialisable")
            );
        } else {
            human();
        }
    }
}

pub(crate) fn print_added(out: &Output, view: &EntryView) {
    out.print(view, || {
        println!("{}", view.entry.id);
        for flag in &view.flags {
            eprintln!("note: {}", flag.note);
        }
    });
}

/// The random tail of an id: entry ids start with a timestamp, so their heads repeat.
pub(crate) fn short(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

pub(crate) fn print_assessment(a: &Assessment) {
    use redbook_core::view;
    let centile = view::centile_text(a);
    let centile = if a.description == centile {
        String::new()
    } else {
        format!("{centile}, ")
    };
    println!(
        "{} {}: {} ({centile}SDS {:+.2})",
        a.measure.label(),
        a.value,
        a.description,
        a.z
    );
    println!(
        "{}; {}; chart {}",
        view::age_text(a),
        view::correction_text(a.correction),
        a.reference.title()
    );
    if a.flags.contains(&GrowthFlag::Implausible) {
        println!("This is far from the usual range for the age: please check the measurement.");
    }
}

pub(crate) fn status_word(status: DueStatus) -> &'static str {
    match status {
        DueStatus::Given => "given",
        DueStatus::Due => "DUE",
        DueStatus::Overdue => "OVERDUE",
        DueStatus::Upcoming => "upcoming",
        DueStatus::NotApplicable => "not applicable",
        DueStatus::NotRecorded => "not recorded (window passed)",
    }
}

pub(crate) fn print_due(report: &DueReport) {
    println!("For a child born {}, on {}:", report.birth_date, report.on);
    println!("\nImmunisations");
    for item in &report.immunisations {
        let when = match item.given_on {
            Some(given) => format!("given {given}"),
            None => format!("due {}", item.due_date),
        };
        let note = item
            .note
            .as_deref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        println!(
            "  {:<15} {:<18} {:<10} #{}  {when}{note}",
            status_word(item.status),
            item.visit,
            item.vaccine,
            item.dose
        );
    }
    println!("\nReviews and newborn screening");
    for check in &report.checks {
        let when = match check.done_on {
            Some(done) => format!("done {done}"),
            None => format!("{} to {}", check.window_from, check.window_until),
        };
        let status = if check.status == DueStatus::Given {
            "done"
        } else {
            status_word(check.status)
        };
        println!("  {status:<15} {:<38} {when}", check.title);
    }
    if !report.other_vaccines.is_empty() {
        println!("\nOther vaccines recorded (not in the routine schedule)");
        for dose in &report.other_vaccines {
            println!("  {} dose {} on {}", dose.vaccine, dose.dose, dose.date);
        }
    }
    if !report.risk_factors.is_empty() {
        println!("\nRisk factors on record");
        for risk in &report.risk_factors {
            println!("  {}", redbook_core::view::risk_factor_line(risk));
        }
    }
    if let Some(waiting) = &report.closure_waiting {
        println!("\nWAITING: {waiting}");
    }
    let next: Vec<_> = report.reminders.iter().take(5).collect();
    if !next.is_empty() {
        println!("\nNext reminders");
        for r in next {
            println!("  {}  {} (due {})", r.remind_on, r.title, r.due_date);
        }
    }
}

/// One timeline line: date, entry, author and whether its signature checks out.
pub(crate) fn timeline_line(view: &EntryView, summary_width: usize) -> String {
    let date = view
        .entry
        .body
        .date()
        .map(|d| d.to_string())
        .unwrap_or_else(|| " ".repeat(10));
    let mut summary = redbook_core::view::entry_text(view);
    if summary.chars().count() > summary_width {
        summary = format!(
            "{}...",
            summary.chars().take(summary_width - 3).collect::<String>()
        );
    }
    format!(
        "{date}  {}  {summary:<summary_width$}  {}",
        short(view.entry.id.as_str()),
        redbook_core::view::author_line(view)
    )
}

pub(crate) fn print_record(record: &ChildRecord, show_address: bool) {
    let d = &record.details;
    let mut facts = Vec::new();
    facts.extend(d.sex.map(|s| s.to_string()));
    facts.extend(d.birth_date.map(|b| format!("born {b}")));
    facts.extend(d.gestation.map(|g| format!("{g} weeks")));
    println!("{}  ({})", d.name, facts.join(", "));
    if let Some(nhs) = &d.nhs_number {
        // Grouped 3-3-4 as printed on NHS letters; any stored text prints, never panics.
        let digits: Vec<char> = nhs.chars().collect();
        let group = |range: std::ops::Range<usize>| -> String {
            digits
                .get(range.start.min(digits.len())..range.end.min(digits.len()))
                .map(|c| c.iter().collect())
                .unwrap_or_default()
        };
        println!(
            "NHS number {} {} {}",
            group(0..3),
            group(3..6),
            group(6..digits.len())
        );
    }
    for conflict in &record.conflicts {
        println!("CONFLICT: {}", redbook_core::view::conflict_text(conflict));
        if conflict.field == DetailField::Address {
            if show_address {
                println!(
                    "          the two addresses: {}",
                    redbook_core::view::conflict_values(conflict)
                );
            } else {
                println!("          `redbook show CHILD --address` shows both addresses");
            }
        }
    }
    println!("id {}", record.id);
    if let Some(closure) = &record.closed {
        println!(
            "CLOSED: {}; read-only on parents' and carers' devices",
            timeline_line(closure, 60).trim()
        );
    }
    println!();
    let timeline = record.timeline();
    for view in &timeline {
        println!("{}", timeline_line(view, 60));
        for flag in &view.flags {
            println!("            note: {}", flag.note);
        }
    }
    let hidden = record.entries.len() - timeline.len();
    if hidden > 0 {
        println!(
            "\n{} kept out of this list (corrected, or marked entered in error, and the marks themselves); `redbook history CHILD` shows them.",
            count(hidden as i64, "entry", "entries")
        );
    }
    if !record.unreadable_entries.is_empty() {
        println!(
            "{} written by a newer version of redbook {} kept unread.",
            count(record.unreadable_entries.len() as i64, "entry", "entries"),
            if record.unreadable_entries.len() == 1 {
                "is"
            } else {
                "are"
            }
        );
    }
}
