//! The printable summary as a clinician reads it, parsed as a browser parses it: the
//! birth, notes and firsts, every measurement on the charts, each chart's heading and
//! legend, the UK90 note only where a measurement needs the pack; and its verification
//! code, checked and tampered with.

use base64::Engine;
use chrono::NaiveDate;
use redbook_core::crypto::device::DeviceKeys;
use redbook_core::export::printout;
use redbook_core::growth::{Correction, GrowthReferences};
use redbook_core::model::*;
use redbook_core::{Error, RedBook};
use redbook_tests::{child, device, every_kind_of_entry, invite, settle, Device};
use scraper::{Html, Selector};
use tempfile::TempDir;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn weighed(date: &str, kg: f64, cm: Option<f64>) -> EntryBody {
    EntryBody::Measurement(Measurement {
        date: day(date),
        weight_kg: Some(kg),
        length_cm: cm,
        height_cm: None,
        head_circumference_cm: None,
        measured_by: MeasuredBy::Professional,
    })
}

fn first(date: &str, text: &str) -> EntryBody {
    EntryBody::Note(Note {
        date: day(date),
        kind: NoteKind::DevelopmentalFirst,
        text: text.into(),
    })
}

struct Family {
    _dir: TempDir,
    mum: Device,
    hv: Device,
    id: RecordId,
}

/// Mum's record of a term baby (39+4) with a health visitor's year of entries: birth
/// details (a UK90 age), screening, weights at WHO ages, a developmental first.
fn family() -> Family {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "Mum", 1, Role::Parent, None);
    let hv = device(&dir, "Sam Patel", 2, Role::HealthVisitor, Some("RQX"));
    let mut details = child("Amara Okafor", "2026-01-01");
    details.nhs_number = Some("9434765919".into());
    let id = mum.book.add_child(details).unwrap();
    invite(&mum, &hv, &id, Access::Writer);
    for body in every_kind_of_entry() {
        hv.book.add_entry(&id, body).unwrap();
    }
    for (date, kg, cm) in [
        ("2026-02-26", 4.9, Some(56.0)),
        ("2026-05-01", 6.6, Some(63.0)),
        ("2026-09-01", 8.3, Some(70.5)),
    ] {
        hv.book.add_entry(&id, weighed(date, kg, cm)).unwrap();
    }
    mum.book
        .add_entry(&id, first("2026-09-20", "First steps"))
        .unwrap();
    settle(&[&mum, &hv], &id);
    Family {
        _dir: dir,
        mum,
        hv,
        id,
    }
}

fn summary(book: &RedBook, id: &RecordId) -> String {
    book.summary_html(
        id,
        GrowthReferences::embedded(),
        Correction::default(),
        day("2026-12-01"),
        false,
    )
    .unwrap()
}

fn select<'a>(html: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    html.select(&Selector::parse(css).unwrap()).collect()
}

fn text(element: &scraper::ElementRef) -> String {
    element.text().collect::<Vec<_>>().join(" ")
}

/// Each chart's SVG, from the page's embedded images.
fn charts(html: &Html) -> Vec<String> {
    select(html, "figure.chart img")
        .iter()
        .map(|img| {
            let src = img.value().attr("src").unwrap();
            let data = src.strip_prefix("data:image/svg+xml;base64,").unwrap();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap(),
            )
            .unwrap()
        })
        .collect()
}

fn code_on(html: &Html) -> String {
    select(html, "aside.verify")[0]
        .value()
        .attr("data-code")
        .unwrap()
        .to_string()
}

#[test]
fn the_printout_has_the_birth_notes_firsts_and_every_measurement_on_a_headed_chart() {
    let f = family();
    let page = summary(&f.mum.book, &f.id);
    let html = Html::parse_document(&page);
    assert!(html.errors.is_empty(), "{:?}", html.errors);

    let headings: Vec<String> = select(&html, "h2").iter().map(text).collect();
    for wanted in [
        "Birth and newborn screening",
        "Growth",
        "Immunisations",
        "Notes and developmental firsts",
    ] {
        assert!(
            headings.iter().any(|h| h == wanted),
            "{wanted}: {headings:?}"
        );
    }
    let birth = text(&select(&html, "dl.birth")[0]);
    for wanted in ["3.410 kg", "39+4 weeks", "9 at 1 minute, 10 at 5 minutes"] {
        assert!(birth.contains(wanted), "{wanted}: {birth}");
    }
    let body = text(&select(&html, "body")[0]);
    for wanted in ["Hearing", "Blood spot", "First steps", "First smile"] {
        assert!(body.contains(wanted), "{wanted}");
    }

    // Every weight, length and head circumference of the record is a point on a chart,
    // by its date and value; each chart is headed with who it is for.
    let record = f.mum.book.child(&f.id).unwrap();
    let mut expected: Vec<(NaiveDate, f64)> = Vec::new();
    for view in record.timeline() {
        match &view.entry.body {
            EntryBody::BirthDetails(b) => expected.extend(
                [b.birth_weight_kg, b.length_cm, b.head_circumference_cm]
                    .into_iter()
                    .flatten()
                    .map(|v| (day("2026-01-01"), v)),
            ),
            EntryBody::Measurement(m) => expected.extend(
                [m.weight_kg, m.length_cm, m.head_circumference_cm]
                    .into_iter()
                    .flatten()
                    .map(|v| (m.date, v)),
            ),
            _ => {}
        }
    }
    let svgs = charts(&html);
    assert_eq!(svgs.len(), 3, "weight, length and head");
    for (date, value) in &expected {
        let point = format!(r#"data-date="{date}" data-value="{value}""#);
        assert!(
            svgs.iter().any(|svg| svg.contains(&point)),
            "{date} {value} is plotted"
        );
    }
    for svg in &svgs {
        let svg_doc = Html::parse_fragment(svg);
        let heading = text(&select(&svg_doc, "text.identity")[0]);
        assert_eq!(
            heading,
            "Amara Okafor \u{b7} born 1 Jan 2026 \u{b7} NHS number 943 476 5919"
        );
        assert_legend_names_every_symbol(svg);
    }
    // The birth weight needs UK90, not installed here: plotted with its own marker, and
    // the note says why it has no centile.
    assert!(
        svgs[0].contains(r#"class="point no-centile" data-date="2026-01-01" data-value="3.41""#)
    );
    assert!(svgs[0].contains("class=\"pack-note\""));
    assert!(!svgs.iter().any(|svg| svg.contains("42 weeks")));
    assert!(svgs[0].contains("2 weeks after due date: WHO charts begin"));
}

/// Each mark drawn on the plot has its line in the legend.
fn assert_legend_names_every_symbol(svg: &str) {
    let (plot, legend) = svg.split_at(svg.find(r#"<g class="legend""#).unwrap());
    for (mark, words) in [
        ("<polyline", "Centile lines 0.4th to 99.6th"),
        (r##"fill="#1d4f91"/></g>"##, "A measurement"),
        (r##"fill="#e8a200"/></g>"##, "Far from the usual range"),
        ("<title>chronological age</title>", "Age from birth"),
        ("no-centile", "Measured; no centile"),
        ("thrive line", "Thrive line"),
        (
            "mid-parental height and target range",
            "Mid-parental height",
        ),
        (
            r#"stroke-dasharray="5 4""#,
            "Where the reference charts change",
        ),
    ] {
        if plot.contains(mark) {
            assert!(legend.contains(words), "{words} is in the legend");
        } else {
            assert!(!legend.contains(words), "{words} is not drawn");
        }
    }
}

#[test]
fn a_term_babys_chart_at_who_ages_only_has_no_uk90_note() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "Mum", 1, Role::Parent, None);
    let mut details = child("Ada Term", "2026-01-01");
    details.gestation = Some(Gestation::new(40, 0));
    let id = mum.book.add_child(details).unwrap();
    // The last two two weeks apart, at six months: sooner than the charts advise.
    for (date, kg) in [
        ("2026-02-01", 4.4),
        ("2026-04-01", 6.0),
        ("2026-07-01", 7.4),
        ("2026-07-15", 7.5),
    ] {
        let mut body = weighed(date, kg, None);
        if let EntryBody::Measurement(m) = &mut body {
            m.measured_by = MeasuredBy::Parent;
        }
        mum.book.add_entry(&id, body).unwrap();
    }
    let html = Html::parse_document(&summary(&mum.book, &id));
    let svgs = charts(&html);
    assert_eq!(svgs.len(), 1);
    assert!(!svgs[0].contains("pack-note"));
    assert!(!svgs[0].contains("UK90 data pack"));
    assert!(!svgs[0].contains("no-centile"));
    assert!(svgs[0].contains("no NHS number on record"));
    assert_legend_names_every_symbol(&svgs[0]);

    // How often to weigh is advice, set apart from concerns, and worded calmly.
    let advice: Vec<String> = select(&html, "p.advice").iter().map(text).collect();
    assert_eq!(advice.len(), 1, "{advice:?}");
    assert!(
        advice[0].starts_with("Weighing advice: at this age the growth charts advise weighing no more than once every two months"),
        "{}",
        advice[0]
    );
    assert!(advice[0].contains("(the last two were 14 days apart)"));
    assert!(select(&html, "p.concern").is_empty());
}

#[test]
fn charts_print_one_to_an_a4_page() {
    let f = family();
    let html = Html::parse_document(&summary(&f.mum.book, &f.id));
    let style = text(&select(&html, "style")[0]);
    assert!(style.contains("@page { size: A4;"));
    let print = &style[style.find("@media print").unwrap()..];
    assert!(
        print.contains("figure.chart { break-before: page;"),
        "{print}"
    );
    // Each chart spans the page's width, with its measurements listed under it.
    for figure in select(&html, "figure.chart") {
        let inner = Html::parse_fragment(&figure.html());
        assert_eq!(select(&inner, "img").len(), 1);
        assert!(!select(&inner, "table.points tr").is_empty());
    }
    assert!(style.contains("figure.chart img { width: 100%;"));
}

#[test]
fn the_printouts_code_is_the_one_its_qr_code_carries_and_it_verifies_on_every_member() {
    let f = family();
    let html = Html::parse_document(&summary(&f.mum.book, &f.id));
    let code = code_on(&html);
    assert!(code.starts_with(printout::PREFIX));
    // The QR drawn on the page is the code's own.
    let qr = printout::qr_svg(&code).unwrap();
    let drawn = select(&html, "aside.verify svg")[0].html();
    assert_eq!(
        normalise_svg(&drawn),
        normalise_svg(&qr[qr.find("<svg").unwrap()..])
    );

    for checker in [&f.mum, &f.hv] {
        let check = checker.book.verify_printout(&f.id, &code).unwrap();
        assert!(check.unchanged);
        assert_eq!(check.signer_name, "Mum");
        assert_eq!(check.signer_role, Role::Parent);
        assert_eq!(check.signer_device, f.mum.id);
        assert_eq!(check.entries_then, check.entries_now);
        let lines = redbook_core::view::printout::printout_check_lines(&check);
        assert!(
            lines[0].starts_with("Genuine: printed by Mum (parent)"),
            "{lines:?}"
        );
        assert_eq!(lines[1], "The record still shows what this printout shows.");
    }

    // A weight written since: the record no longer shows what was printed, and says what.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    f.hv.book
        .add_entry(&f.id, weighed("2026-11-30", 9.1, None))
        .unwrap();
    settle(&[&f.mum, &f.hv], &f.id);
    let check = f.mum.book.verify_printout(&f.id, &code).unwrap();
    assert!(!check.unchanged);
    assert_eq!(check.entries_now, check.entries_then + 1);
    assert_eq!(check.written_since.len(), 1);
    assert!(
        check.written_since[0].contains("weight 9.10 kg"),
        "{:?}",
        check.written_since
    );
}

/// The SVG as text with the serialiser's differences (quotes, self-closing) ironed out.
fn normalise_svg(svg: &str) -> String {
    let parsed = Html::parse_fragment(svg);
    select(&parsed, "rect, path")
        .iter()
        .map(|e| format!("{:?}", e.value().attrs().collect::<Vec<_>>()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn refusal(result: Result<redbook_core::PrintoutCheck, Error>) -> String {
    match result {
        Err(Error::InvalidInput(e)) => {
            assert_eq!(e.field, "printout code");
            e.reason
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn bytes_of(code: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(code.strip_prefix(printout::PREFIX).unwrap())
        .unwrap()
}

fn code_of(bytes: &[u8]) -> String {
    format!(
        "{}{}",
        printout::PREFIX,
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[test]
fn a_tampered_foreign_or_garbled_code_is_refused_in_words_that_say_why() {
    let f = family();
    let code = code_on(&Html::parse_document(&summary(&f.mum.book, &f.id)));
    let check = |text: &str| refusal(f.mum.book.verify_printout(&f.id, text));

    // Its digest altered (as if printed from other content): the signature no longer fits.
    let mut bytes = bytes_of(&code);
    bytes[50] ^= 1;
    assert!(check(&code_of(&bytes)).contains("does not match its signature"));
    // Its time, its count, its signature altered: the same.
    for at in [36, 42, 100] {
        let mut bytes = bytes_of(&code);
        bytes[at] ^= 0x10;
        assert!(check(&code_of(&bytes)).contains("does not match its signature"));
    }

    // Another child's printout.
    let other = f
        .mum
        .book
        .add_child(child("Kofi Okafor", "2023-10-08"))
        .unwrap();
    let other_code = code_on(&Html::parse_document(&summary(&f.mum.book, &other)));
    assert_eq!(check(&other_code), "is for another child's record");
    // Its record id swapped for this one: the signature gives it away.
    let mut swapped = bytes_of(&other_code);
    swapped[1..17].copy_from_slice(&f.id.to_bytes());
    assert!(check(&code_of(&swapped)).contains("does not match its signature"));

    // Signed by a device that is not a member, over this record's true content.
    let stranger = DeviceKeys::generate().unwrap();
    let record = f.mum.book.child(&f.id).unwrap();
    let shown = printout::shown(&record, &Default::default());
    let forged = printout::code(&record, &shown, &stranger, chrono::Utc::now());
    assert!(check(&forged).contains("was not signed by a member of this record"));

    // Truncated, padded, garbage, empty, another kind of QR text, a newer version.
    for text in [
        &code[..code.len() - 1],
        &code[..60],
        &format!("{code}AAAA"),
        "RBP1:",
        "",
        "hello",
        "RBP1:!!!!",
        "RBP1:\u{1F600}\u{1F600}",
        "https://example.org/",
    ] {
        let reason = check(text);
        assert!(
            reason.contains("is not a red book printout code")
                || reason.contains("incomplete or damaged"),
            "{text:?}: {reason}"
        );
    }
    let mut newer = bytes_of(&code);
    newer[0] = 2;
    assert!(check(&code_of(&newer)).contains("newer version"));
    // Spaces and line breaks a scanner or a person adds are not a change.
    let spaced = format!("{}\n {}", &code[..40], &code[40..]);
    assert!(f.mum.book.verify_printout(&f.id, &spaced).is_ok());
    // Refusals never echo the code or the child's details.
    for text in [&code_of(&bytes), &other_code, &forged] {
        let reason = check(text);
        assert!(!reason.contains("Amara") && !reason.contains(&code[5..20]));
    }
}

#[test]
fn a_removed_members_printout_is_refused() {
    let f = family();
    let hv_code = code_on(&Html::parse_document(&summary(&f.hv.book, &f.id)));
    let check = f.mum.book.verify_printout(&f.id, &hv_code).unwrap();
    assert_eq!(check.signer_name, "Sam Patel");
    assert_eq!(check.signer_role, Role::HealthVisitor);
    f.mum.book.remove_member(&f.id, &f.hv.id).unwrap();
    let reason = refusal(f.mum.book.verify_printout(&f.id, &hv_code));
    assert!(
        reason.contains("since removed from this record"),
        "{reason}"
    );
}
