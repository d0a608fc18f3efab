//! The printable summary: one self-contained HTML page (styles inline, charts as
//! embedded SVG images) a parent can print or show at a clinic. Shows current entries
//! only (corrections applied, entries in error left out) and says who wrote each.

use crate::child::ChildRecord;
use crate::export::fhir::{code_of, words};
use crate::growth::GrowthSeries;
use crate::growth::Measure;
use crate::model::{EntryBody, EntryView, HealthEventKind, NewbornScreening, Verification};
use crate::schedule::{DueReport, DueStatus};
use base64::Engine;
use chrono::NaiveDate;
use html_escape::encode_text as esc;
use std::fmt::Write;

/// One measure's growth: its points with centiles, and its chart.
pub struct GrowthSection {
    pub series: GrowthSeries,
    pub chart_svg: Option<String>,
}

pub struct SummaryInput<'a> {
    pub record: &'a ChildRecord,
    pub growth: Vec<GrowthSection>,
    /// Why there is no growth section (no sex or date of birth on record).
    pub growth_unavailable: Option<String>,
    pub due: Option<DueReport>,
    pub on: NaiveDate,
    /// The child's address is printed only when a parent asks (NHSX PCHR 2.1.1,
    /// safeguarding; hazard log H20).
    pub show_address: bool,
    /// Entries this device wrote after it was removed from the record: printed apart,
    /// said to be unshared, left out of every other section.
    pub not_shared: std::collections::HashSet<crate::model::EntryId>,
}

const STYLE: &str = r#"
body { font-family: "Helvetica Neue", Arial, sans-serif; color: #1d1d1b; margin: 2em auto; max-width: 46em; line-height: 1.4; }
header { border-bottom: 4px solid #b5121b; margin-bottom: 1em; }
h1 { color: #b5121b; margin: 0 0 .1em; font-size: 1.9em; }
h2 { color: #b5121b; border-bottom: 1px solid #ccc; padding-bottom: .15em; margin-top: 1.4em; font-size: 1.25em; }
.sub { color: #555; margin: 0 0 .8em; }
dl.details { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .2em 1em; margin: 0 0 1em; }
dt { font-weight: bold; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { text-align: left; padding: .25em .4em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { background: #f6eded; }
td:first-child { white-space: nowrap; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: .6em; }
.charts figure { margin: 0; } .charts img { width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .85em; color: #555; }
.overdue { color: #b5121b; font-weight: bold; } .due { font-weight: bold; }
.concern { background: #fff4d6; border-left: 4px solid #e0a100; padding: .3em .6em; }
.verified { color: #1a7f37; } .invalid { color: #b5121b; font-weight: bold; }
.none { color: #777; font-style: italic; }
footer { margin-top: 2em; font-size: .8em; color: #555; border-top: 1px solid #ccc; padding-top: .5em; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
"#;

pub fn render(input: &SummaryInput) -> String {
    let record = input.record;
    let d = &record.details;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Red book summary: {}</title><style>{STYLE}</style></head><body>\n",
        esc(&d.name)
    );
    let _ = write!(
        html,
        "<header><h1>{}</h1><p class=\"sub\">Personal child health record (red book): summary on {}</p>\n<dl class=\"details\">",
        esc(&d.name),
        long_date(input.on)
    );
    let mut detail = |label: &str, value: Option<String>| {
        let value = value.unwrap_or_else(|| "not recorded".into());
        let _ = write!(html, "<dt>{label}</dt><dd>{}</dd>", esc(&value));
    };
    detail("Date of birth", d.birth_date.map(long_date));
    detail("Age", d.birth_date.map(|b| age_words(b, input.on)));
    detail("Sex", d.sex.map(|s| s.to_string()));
    detail(
        "Gestation at birth",
        d.gestation.map(|g| format!("{g} weeks")),
    );
    detail("NHS number", d.nhs_number.as_deref().map(spaced_nhs_number));
    detail("GP practice", d.gp_practice.clone());
    detail(
        "Address",
        match (&d.address, input.show_address) {
            (Some(address), true) => Some(address.clone()),
            (Some(_), false) => Some("not printed unless a parent asks".into()),
            (None, _) => None,
        },
    );
    html.push_str("</dl></header>\n");
    if !record.conflicts.is_empty() {
        html.push_str("<p class=\"concern\">Some details were changed on two devices and have not been settled yet; the app shows both.</p>\n");
    }

    let timeline: Vec<&EntryView> = record
        .timeline()
        .into_iter()
        .filter(|v| !input.not_shared.contains(&v.entry.id))
        .collect();
    let of_kind = |pred: &dyn Fn(&EntryBody) -> bool| -> Vec<&EntryView> {
        timeline
            .iter()
            .copied()
            .filter(|v| pred(&v.entry.body))
            .collect()
    };
    // What a clinician must see first.
    section(
        &mut html,
        "Allergies",
        &of_kind(&|b| matches!(b, EntryBody::Allergy(_))),
        &["Substance", "Reaction", "Severity", "Noted", "By"],
        |b| match b {
            EntryBody::Allergy(a) => vec![
                a.substance.clone(),
                a.reaction.clone().unwrap_or_default(),
                words(&code_of(a.severity)),
                a.noted_on.map(short_date).unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    section(
        &mut html,
        "Medicines",
        &of_kind(&|b| matches!(b, EntryBody::Medicine(_))),
        &["Medicine", "Dose", "From", "Until", "Reason", "By"],
        |b| match b {
            EntryBody::Medicine(m) => vec![
                m.name.clone(),
                m.dose.clone().unwrap_or_default(),
                short_date(m.started),
                m.stopped
                    .map(short_date)
                    .unwrap_or_else(|| "still taking".into()),
                m.reason.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    growth(&mut html, input);
    immunisations(&mut html, &timeline, input.due.as_ref());

    section(
        &mut html,
        "Health and development reviews",
        &of_kind(&|b| matches!(b, EntryBody::Review(_))),
        &["Date", "Review", "Outcome", "Advice", "By"],
        |b| match b {
            EntryBody::Review(r) => vec![
                short_date(r.date),
                words(&code_of(r.kind)),
                r.outcome.clone() + &asq(r),
                r.advice.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    section(
        &mut html,
        "Newborn screening",
        &of_kind(&|b| matches!(b, EntryBody::NewbornScreening(_))),
        &["Date", "Result", "By"],
        |b| match b {
            EntryBody::NewbornScreening(s) => {
                vec![short_date(NewbornScreening::date(s)), b.summary()]
            }
            // `section` passes bodies; a withheld result has none to show (see
            // `EntryBody::summary`).
            _ => vec![],
        },
    );
    section(
        &mut html,
        "Illnesses, accidents and hospital visits",
        &of_kind(&|b| matches!(b, EntryBody::HealthEvent(_))),
        &["Date", "What", "Where", "Outcome", "By"],
        |b| match b {
            EntryBody::HealthEvent(h) => vec![
                short_date(h.date),
                format!(
                    "{}: {}",
                    match h.kind {
                        HealthEventKind::Illness => "Illness",
                        HealthEventKind::Accident => "Accident",
                        HealthEventKind::HospitalVisit => "Hospital visit",
                    },
                    h.description
                ),
                h.place.clone().unwrap_or_default(),
                h.outcome.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    section(
        &mut html,
        "Contacts",
        &of_kind(&|b| matches!(b, EntryBody::Contact(_))),
        &["Role", "Name", "Phone", "By"],
        |b| match b {
            EntryBody::Contact(c) => vec![
                words(&code_of(c.role)),
                c.name.clone(),
                c.phone.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    not_shared(&mut html, record, &input.not_shared);

    let _ = write!(
        html,
        "<footer>From the child's digital red book. \"By\" names who wrote each entry; \
         <span class=\"verified\">&#10003; verified</span> means a device that is a member of this record signed it; \
         an entry whose signature does not match is marked <span class=\"invalid\">signature invalid</span>. \
         Corrected entries show their latest version; entries marked as entered in error are left out. \
         Centiles: UK-WHO charts{}.</footer>\n</body></html>\n",
        input
            .growth
            .first()
            .map(|g| match g.series.correction {
                crate::growth::Correction::RcpchDigital => ", age corrected for gestation as the RCPCH digital charts do",
                crate::growth::Correction::PaperChart => ", age corrected for gestation as the paper charts do",
            })
            .unwrap_or("")
    );
    html
}

/// What this device wrote after its removal, every kind of entry, in the order written.
fn not_shared(
    html: &mut String,
    record: &ChildRecord,
    not_shared: &std::collections::HashSet<crate::model::EntryId>,
) {
    let mut views: Vec<&EntryView> = record
        .entries
        .iter()
        .filter(|v| not_shared.contains(&v.entry.id))
        .collect();
    if views.is_empty() {
        return;
    }
    views.sort_by_key(|v| v.entry.recorded_at);
    let _ = writeln!(
        html,
        "<h2>{}</h2>\n<table><tr><th>Written</th><th>Entry</th></tr>",
        esc(crate::view::WRITTEN_AFTER_REMOVAL)
    );
    for view in views {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td></tr>",
            short_date(view.entry.recorded_at.date_naive()),
            esc(&view.entry.body.summary())
        );
    }
    html.push_str("</table>\n");
}

fn growth(html: &mut String, input: &SummaryInput) {
    html.push_str("<h2>Growth</h2>\n");
    if let Some(reason) = &input.growth_unavailable {
        let _ = writeln!(html, "<p class=\"none\">{}</p>", esc(reason));
        return;
    }
    let charted: Vec<&GrowthSection> = input
        .growth
        .iter()
        .filter(|g| !g.series.points.is_empty())
        .collect();
    if charted.is_empty() {
        html.push_str("<p class=\"none\">No measurements recorded yet.</p>\n");
        return;
    }
    html.push_str("<table><tr><th>Measure</th><th>Latest</th><th>Date</th><th>Centile</th></tr>\n");
    for section in &charted {
        let Some(latest) = section.series.points.last() else {
            continue;
        };
        let centile = match (&latest.assessment, &latest.problem) {
            (Some(a), _) => format!("{} (centile {:.0})", a.description, a.centile),
            (None, Some(problem)) => problem.clone(),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(section.series.measure.label()),
            esc(&value_with_unit(section.series.measure, latest.value)),
            short_date(latest.date),
            esc(&centile)
        );
    }
    html.push_str("</table>\n");
    let mut said = std::collections::BTreeSet::new();
    for section in &charted {
        for note in crate::view::growth_notes(&section.series) {
            // "No gestation on record" is the same for every measure: said once.
            if said.insert(note.clone()) {
                let _ = writeln!(html, "<p class=\"concern\">{}.</p>", esc(&note));
            }
        }
    }
    html.push_str("<div class=\"charts\">\n");
    for section in &charted {
        if let Some(svg) = &section.chart_svg {
            let _ = writeln!(
                html,
                "<figure><img alt=\"{} chart\" src=\"data:image/svg+xml;base64,{}\"><figcaption>{}</figcaption></figure>",
                esc(section.series.measure.label()),
                base64::engine::general_purpose::STANDARD.encode(svg),
                esc(section.series.measure.label())
            );
        }
    }
    html.push_str("</div>\n");
}

fn immunisations(html: &mut String, timeline: &[&EntryView], due: Option<&DueReport>) {
    html.push_str("<h2>Immunisations</h2>\n");
    let given: Vec<&EntryView> = timeline
        .iter()
        .copied()
        .filter(|v| matches!(v.entry.body, EntryBody::Immunisation(_)))
        .collect();
    if given.is_empty() {
        html.push_str("<p class=\"none\">None recorded yet.</p>\n");
    } else {
        html.push_str("<table><tr><th>Date</th><th>Vaccine</th><th>Dose</th><th>Batch</th><th>Given by</th><th>By</th></tr>\n");
        for view in given {
            if let EntryBody::Immunisation(i) = &view.entry.body {
                let _ = writeln!(
                    html,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    short_date(i.date),
                    esc(&match &i.product {
                        Some(product) => format!("{} ({product})", i.vaccine),
                        None => i.vaccine.clone(),
                    }),
                    i.dose,
                    esc(i.batch.as_deref().unwrap_or("")),
                    esc(i.given_by.as_deref().unwrap_or("")),
                    by(view)
                );
            }
        }
        html.push_str("</table>\n");
    }
    let Some(due) = due else { return };
    let waiting = crate::view::screens::due_and_next(due);
    if waiting.is_empty() {
        return;
    }
    let _ = writeln!(html, "<h3>Due and next (on {})</h3><table><tr><th>Vaccine</th><th>Dose</th><th>Visit</th><th>Due from</th><th>Status</th></tr>", short_date(due.on));
    for item in waiting {
        let (class, status) = match item.status {
            DueStatus::Overdue => ("overdue", "Overdue"),
            DueStatus::Due => ("due", "Due now"),
            _ => ("", "Next"),
        };
        let _ = writeln!(
            html,
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td></tr>",
            esc(&item.vaccine),
            item.dose,
            esc(&item.visit),
            short_date(item.due_date)
        );
    }
    html.push_str("</table>\n");
}

fn section(
    html: &mut String,
    title: &str,
    views: &[&EntryView],
    headings: &[&str],
    cells: impl Fn(&EntryBody) -> Vec<String>,
) {
    let _ = writeln!(html, "<h2>{title}</h2>");
    if views.is_empty() {
        html.push_str("<p class=\"none\">None recorded.</p>\n");
        return;
    }
    html.push_str("<table><tr>");
    for heading in headings {
        let _ = write!(html, "<th>{heading}</th>");
    }
    html.push_str("</tr>\n");
    for view in views {
        html.push_str("<tr>");
        for cell in cells(&view.entry.body) {
            let _ = write!(html, "<td>{}</td>", esc(&cell));
        }
        let _ = writeln!(html, "<td>{}</td></tr>", by(view));
    }
    html.push_str("</table>\n");
}

/// Who wrote an entry, and whether a member device's signature vouches for it (HTML).
fn by(view: &EntryView) -> String {
    let author = &view.entry.author;
    let mut text = esc(&author.display_name).to_string();
    let role = words(&code_of(author.role)).to_lowercase();
    let _ = write!(text, " ({})", esc(&role));
    match view.verification {
        Verification::Verified => {
            text.push_str(" <span class=\"verified\">&#10003;&nbsp;verified</span>")
        }
        Verification::Invalid => text.push_str(" <span class=\"invalid\">signature invalid</span>"),
        Verification::NotPermitted => {
            text.push_str(" <span class=\"invalid\">written without the right to write</span>")
        }
        // Signed by no member: shown, never counted as given or done (hazard log H18).
        Verification::Unverified => {
            text.push_str(" <span class=\"invalid\">not verified: not counted</span>")
        }
    }
    text
}

fn asq(review: &crate::model::Review) -> String {
    if review.asq3_scores.is_empty() {
        return String::new();
    }
    let scores: Vec<String> = review
        .asq3_scores
        .iter()
        .map(|s| format!("{} {}", s.domain, s.score))
        .collect();
    format!(" (ASQ-3: {})", scores.join(", "))
}

fn value_with_unit(measure: Measure, value: f64) -> String {
    match measure {
        Measure::WeightKg => format!("{value:.2} kg"),
        Measure::HeightCm | Measure::HeadCircumferenceCm => format!("{value:.1} cm"),
        Measure::Bmi => format!("{value:.1} kg/m²"),
    }
}

fn long_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

fn short_date(date: NaiveDate) -> String {
    date.format("%-d %b %Y").to_string()
}

/// "3 years 4 months", "7 months", "10 days": as a health visitor says it.
fn age_words(birth: NaiveDate, on: NaiveDate) -> String {
    if on < birth {
        return "not born yet".into();
    }
    let days = (on - birth).num_days();
    let mut months = 0u32;
    while birth
        .checked_add_months(chrono::Months::new(months + 1))
        .is_some_and(|d| d <= on)
    {
        months += 1;
    }
    let plural = |n: u32, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match months {
        0 if days < 14 => plural(days as u32, "day"),
        0 => plural((days / 7) as u32, "week"),
        1..=23 => plural(months, "month"),
        _ if months.is_multiple_of(12) => plural(months / 12, "year"),
        _ => format!(
            "{} {}",
            plural(months / 12, "year"),
            plural(months % 12, "month")
        ),
    }
}

/// NHS numbers are read in groups of 3, 3 and 4.
fn spaced_nhs_number(number: &str) -> String {
    if number.len() == 10 && number.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {}", &number[..3], &number[3..6], &number[6..])
    } else {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn ages_read_as_a_health_visitor_says_them() {
        assert_eq!(age_words(d("2026-01-01"), d("2026-01-05")), "4 days");
        assert_eq!(age_words(d("2026-01-01"), d("2026-01-22")), "3 weeks");
        assert_eq!(age_words(d("2026-01-01"), d("2026-02-01")), "1 month");
        assert_eq!(age_words(d("2024-01-31"), d("2024-02-29")), "1 month");
        assert_eq!(age_words(d("2024-01-01"), d("2026-01-01")), "2 years");
        assert_eq!(
            age_words(d("2022-07-15"), d("2025-11-20")),
            "3 years 4 months"
        );
    }

    #[test]
    fn nhs_numbers_are_grouped_three_three_four() {
        assert_eq!(spaced_nhs_number("9434765919"), "943 476 5919");
    }
}
