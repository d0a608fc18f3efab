//! The printable summary: one self-contained HTML page (styles inline, charts as
//! embedded SVG images) a parent can print or show at a clinic. Shows current entries
//! only (corrections applied, entries in error left out) and says who wrote each.

use crate::child::ChildRecord;
use crate::export::fhir::{code_of, words};
use crate::growth::GrowthSeries;
use crate::growth::Measure;
use crate::model::{
    EntryBody, EntryView, HealthEventKind, MeasuredBy, NewbornScreening, NoteKind, Verification,
};
use crate::schedule::{DueReport, DueStatus};
use crate::view::screens::nhs_number_text;
use crate::view::GrowthNoteKind;
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
    /// The printout's signed verification code (`export::printout`), drawn as a QR code.
    pub verification_code: Option<String>,
}

const STYLE: &str = r#"
body { font-family: "Helvetica Neue", Arial, sans-serif; color: #1d1d1b; margin: 2em auto; max-width: 50em; line-height: 1.4; }
header { border-bottom: 4px solid #b5121b; margin-bottom: 1em; display: flex; gap: 1.5em; align-items: flex-start; }
header .who { flex: 1; }
h1 { color: #b5121b; margin: 0 0 .1em; font-size: 1.9em; }
h2 { color: #b5121b; border-bottom: 1px solid #ccc; padding-bottom: .15em; margin-top: 1.4em; font-size: 1.25em; }
h3 { font-size: 1.05em; margin: 1em 0 .3em; }
.sub { color: #555; margin: 0 0 .8em; }
dl.details { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: .2em 1em; margin: 0 0 1em; }
dt { font-weight: bold; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: .92em; }
th, td { text-align: left; padding: .25em .4em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { background: #f6eded; }
td:first-child { white-space: nowrap; }
.verify { width: 12em; font-size: .75em; color: #333; text-align: center; }
.verify svg { width: 10em; height: 10em; }
.verify p { margin: .2em 0; }
.verify .code { font-family: monospace; font-size: .8em; word-break: break-all; color: #555; }
figure.chart { margin: 1em 0; }
figure.chart img { width: 100%; height: auto; border: 1px solid #ddd; }
table.points { font-size: .85em; margin-top: .5em; }
figcaption { font-size: .9em; color: #555; }
.overdue { color: #b5121b; font-weight: bold; } .due { font-weight: bold; }
.concern { background: #fff4d6; border-left: 4px solid #e0a100; padding: .3em .6em; }
.advice { background: #eef3f8; border-left: 4px solid #6d8fb3; padding: .3em .6em; }
.information { padding: .1em .6em; color: #333; }
.verified { color: #1a7f37; } .invalid { color: #b5121b; font-weight: bold; }
.none { color: #777; font-style: italic; }
footer { margin-top: 2em; font-size: .8em; color: #555; border-top: 1px solid #ccc; padding-top: .5em; }
@page { size: A4; margin: 14mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2, h3 { break-after: avoid; } tr, figure, dl, .verify { break-inside: avoid; }
  /* One chart a page, as wide as the page: axes and centile labels read as on paper. */
  figure.chart { break-before: page; margin: 0; }
  figure.chart img { border: none; }
}
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
        "<header><div class=\"who\"><h1>{}</h1><p class=\"sub\">Personal child health record (red book): summary on {}</p>\n<dl class=\"details\">",
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
    detail("NHS number", d.nhs_number.as_deref().map(nhs_number_text));
    detail("GP practice", d.gp_practice.clone());
    detail(
        "Address",
        match (&d.address, input.show_address) {
            (Some(address), true) => Some(address.clone()),
            (Some(_), false) => Some("not printed unless a parent asks".into()),
            (None, _) => None,
        },
    );
    html.push_str("</dl></div>\n");
    if let Some(code) = &input.verification_code {
        verification(&mut html, code);
    }
    html.push_str("</header>\n");
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
        |v| match &v.entry.body {
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
        |v| match &v.entry.body {
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
    birth(&mut html, &timeline);
    growth(&mut html, input);
    immunisations(&mut html, &timeline, input.due.as_ref());

    section(
        &mut html,
        "Health and development reviews",
        &of_kind(&|b| matches!(b, EntryBody::Review(_))),
        &["Date", "Review", "Outcome", "Advice", "By"],
        |v| match &v.entry.body {
            EntryBody::Review(r) => vec![
                short_date(r.date),
                words(&code_of(r.kind)),
                r.outcome.clone() + &asq(r),
                r.advice.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    notes(&mut html, &timeline);
    section(
        &mut html,
        "Illnesses, accidents and hospital visits",
        &of_kind(&|b| matches!(b, EntryBody::HealthEvent(_))),
        &["Date", "What", "Where", "Outcome", "By"],
        |v| match &v.entry.body {
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
        |v| match &v.entry.body {
            EntryBody::Contact(c) => vec![
                words(&code_of(c.role)),
                c.name.clone(),
                c.phone.clone().unwrap_or_default(),
            ],
            _ => vec![],
        },
    );
    not_shared(&mut html, record, &input.not_shared);

    let _ = writeln!(
        html,
        "<footer>From the child's digital red book. \"By\" names who wrote each entry; \
         <span class=\"verified\">&#10003; verified</span> means a device that is a member of this record signed it; \
         an entry whose signature does not match is marked <span class=\"invalid\">signature invalid</span>. \
         Corrected entries show their latest version; entries marked as entered in error are left out. \
         Centiles: UK-WHO charts{}.</footer>",
        input
            .growth
            .first()
            .map(|g| match g.series.correction {
                crate::growth::Correction::RcpchDigital => ", age corrected for gestation as the RCPCH digital charts do",
                crate::growth::Correction::PaperChart => ", age corrected for gestation as the paper charts do",
            })
            .unwrap_or("")
    );
    charts(&mut html, input);
    html.push_str("</body></html>\n");
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
        for (kind, note) in crate::view::growth_note_items(&section.series) {
            // "No gestation on record" is the same for every measure: said once.
            if said.insert(note.clone()) {
                let class = match kind {
                    GrowthNoteKind::Concern => "concern",
                    GrowthNoteKind::Advice => "advice",
                    GrowthNoteKind::Information => "information",
                };
                let _ = writeln!(html, "<p class=\"{class}\">{}.</p>", esc(&note));
            }
        }
    }
    if charted.iter().any(|g| g.chart_svg.is_some()) {
        html.push_str("<p>The growth charts follow, one to a page.</p>\n");
    }
}

/// Each chart on a page of its own, as wide as the page, with every measurement it
/// plots listed under it (date, value, centile or why none, who measured).
fn charts(html: &mut String, input: &SummaryInput) {
    for section in input.growth.iter().filter(|g| !g.series.points.is_empty()) {
        let Some(svg) = &section.chart_svg else {
            continue;
        };
        let measure = section.series.measure;
        let label = measure.label();
        let _ = writeln!(
            html,
            "<figure class=\"chart\"><img alt=\"{} chart for {}\" src=\"data:image/svg+xml;base64,{}\"><figcaption>{}: every measurement on the chart; every symbol is named under it.</figcaption>",
            esc(label),
            esc(&input.record.details.name),
            base64::engine::general_purpose::STANDARD.encode(svg),
            esc(label),
        );
        html.push_str("<table class=\"points\"><tr><th>Date</th><th>Age</th><th>Measured</th><th>Centile</th><th>By</th></tr>\n");
        for point in &section.series.points {
            let centile = match (&point.assessment, &point.problem) {
                (Some(a), _) => format!("{} (centile {:.0})", a.description, a.centile),
                // The preterm and school-age charts come in the UK90 pack, which a
                // deployer installs: said plainly, not as the engine's error.
                (None, Some(problem)) if problem.contains("not installed") => {
                    "no centile: the UK90 charts for this age are not installed".into()
                }
                (None, Some(problem)) => format!("no centile: {problem}"),
                (None, None) => String::new(),
            };
            let age = input
                .record
                .details
                .birth_date
                .map(|b| age_words(b, point.date))
                .unwrap_or_default();
            let entry = input
                .record
                .entries
                .iter()
                .find(|v| v.entry.id == point.entry_id);
            let who = entry.map(by).unwrap_or_default();
            let at_home = entry.is_some_and(|v| {
                matches!(&v.entry.body, EntryBody::Measurement(m) if m.measured_by == MeasuredBy::Parent)
            });
            let measured =
                value_with_unit(measure, point.value) + if at_home { " (at home)" } else { "" };
            let _ = writeln!(
                html,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{who}</td></tr>",
                short_date(point.date),
                esc(&age),
                esc(&measured),
                esc(&centile)
            );
        }
        html.push_str("</table></figure>\n");
    }
}

/// The QR code a member's device can check the printout by (`export::printout`).
fn verification(html: &mut String, code: &str) {
    let Some(svg) = crate::export::printout::qr_svg(code) else {
        return;
    };
    // The SVG goes inline: an XML declaration has no place inside HTML.
    let svg = match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => &svg,
    };
    let [title, how, stamp] = crate::view::printout::PRINTOUT_CODE_CAPTION;
    let _ = writeln!(
        html,
        "<aside class=\"verify\" data-code=\"{}\">{svg}<p><strong>{}</strong></p><p>{}</p><p>{}</p><p class=\"code\">{}</p></aside>",
        html_escape::encode_double_quoted_attribute(code),
        esc(title),
        esc(how),
        esc(stamp),
        esc(code)
    );
}

/// The birth as the midwife wrote it, and the newborn screening results.
fn birth(html: &mut String, timeline: &[&EntryView]) {
    html.push_str("<h2>Birth and newborn screening</h2>\n");
    let birth = timeline
        .iter()
        .rev()
        .find(|v| matches!(v.entry.body, EntryBody::BirthDetails(_)));
    match birth.map(|v| (v, &v.entry.body)) {
        Some((view, EntryBody::BirthDetails(b))) => {
            html.push_str("<dl class=\"details birth\">");
            let mut detail = |label: &str, value: Option<String>| {
                let value = value.unwrap_or_else(|| "not recorded".into());
                let _ = write!(html, "<dt>{label}</dt><dd>{}</dd>", esc(&value));
            };
            detail("Gestation", b.gestation.map(|g| format!("{g} weeks")));
            detail(
                "Birth weight",
                b.birth_weight_kg.map(|w| format!("{w:.3} kg")),
            );
            detail("Length", b.length_cm.map(|l| format!("{l:.1} cm")));
            detail(
                "Head circumference",
                b.head_circumference_cm.map(|h| format!("{h:.1} cm")),
            );
            detail("Apgar score", apgar(b.apgar_1_min, b.apgar_5_min));
            detail("Delivery", b.delivery_mode.map(|m| words(&code_of(m))));
            detail("Place of birth", b.place_of_birth.clone());
            let _ = write!(html, "<dt>Recorded by</dt><dd>{}</dd>", by(view));
            html.push_str("</dl>\n");
        }
        _ => html.push_str("<p class=\"none\">No birth details recorded.</p>\n"),
    }
    html.push_str("<h3>Newborn screening (hearing, blood spot, physical examination)</h3>\n");
    let screening: Vec<&EntryView> = timeline
        .iter()
        .copied()
        .filter(|v| matches!(v.entry.body, EntryBody::NewbornScreening(_)))
        .collect();
    table_of(
        html,
        &screening,
        &["Date", "Screening", "Result", "By"],
        |v| {
            match &v.entry.body {
                // A withheld blood spot result says when it will show, not what it is.
                EntryBody::NewbornScreening(s) => vec![
                    short_date(NewbornScreening::date(s)),
                    match s {
                        NewbornScreening::Nipe { .. } => "Physical examination (NIPE)",
                        NewbornScreening::Hearing { .. } => "Hearing",
                        NewbornScreening::BloodSpot { .. } => "Blood spot",
                    }
                    .into(),
                    crate::view::entry_text(v),
                ],
                _ => vec![],
            }
        },
    );
}

fn apgar(one: Option<u8>, five: Option<u8>) -> Option<String> {
    match (one, five) {
        (Some(a), Some(b)) => Some(format!("{a} at 1 minute, {b} at 5 minutes")),
        (Some(a), None) => Some(format!("{a} at 1 minute")),
        (None, Some(b)) => Some(format!("{b} at 5 minutes")),
        (None, None) => None,
    }
}

/// The parents' and professionals' notes, developmental firsts apart.
fn notes(html: &mut String, timeline: &[&EntryView]) {
    html.push_str("<h2>Notes and developmental firsts</h2>\n");
    let of = |firsts: bool| -> Vec<&EntryView> {
        timeline
            .iter()
            .copied()
            .filter(|v| match &v.entry.body {
                EntryBody::Note(n) => (n.kind == NoteKind::DevelopmentalFirst) == firsts,
                _ => false,
            })
            .collect()
    };
    html.push_str("<h3>Developmental firsts</h3>\n");
    table_of(html, &of(true), &["Date", "First", "By"], |v| {
        match &v.entry.body {
            EntryBody::Note(n) => vec![short_date(n.date), n.text.clone()],
            _ => vec![],
        }
    });
    html.push_str("<h3>Notes</h3>\n");
    table_of(
        html,
        &of(false),
        &["Date", "Kind", "Note", "By"],
        |v| match &v.entry.body {
            EntryBody::Note(n) => vec![short_date(n.date), words(&code_of(n.kind)), n.text.clone()],
            _ => vec![],
        },
    );
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
    cells: impl Fn(&EntryView) -> Vec<String>,
) {
    let _ = writeln!(html, "<h2>{title}</h2>");
    table_of(html, views, headings, cells);
}

/// Entries as a table's rows, each with who wrote it; "None recorded." for none.
fn table_of(
    html: &mut String,
    views: &[&EntryView],
    headings: &[&str],
    cells: impl Fn(&EntryView) -> Vec<String>,
) {
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
        for cell in cells(view) {
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
    match (view.verification, &view.entry.source) {
        // The importer's signature vouches only for bringing it in (hazard log H44).
        (Verification::Verified, Some(source)) => {
            let _ = write!(text, " not verified: imported from {}", esc(source));
        }
        (Verification::Verified, None) => {
            text.push_str(" <span class=\"verified\">&#10003;&nbsp;verified</span>")
        }
        (Verification::Invalid, _) => {
            text.push_str(" <span class=\"invalid\">signature invalid</span>")
        }
        (Verification::NotPermitted, _) => {
            text.push_str(" <span class=\"invalid\">written without the right to write</span>")
        }
        // Signed by no member: shown, never counted as given or done (hazard log H18).
        (Verification::Unverified, _) => {
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
        0 if days == 0 => "at birth".into(),
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
}
