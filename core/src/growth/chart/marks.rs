//! What a chart draws beside its lines: whose chart it is, the marks and the legend
//! that names them, and the words for reference changes and missing references.

use super::super::{
    Measure, Reference, UK90_CHILD_FROM_YEARS, WHO_CHILD_FROM_YEARS, WHO_INFANT_FROM_YEARS,
};
use chrono::NaiveDate;
use std::fmt::Write;

/// Whose chart it is, as the heading says it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartIdentity {
    pub name: String,
    pub birth_date: NaiveDate,
    pub nhs_number: Option<String>,
}

impl ChartIdentity {
    /// "Amara Okafor · born 3 Mar 2026 · NHS number 943 476 5919".
    pub fn heading(&self) -> String {
        let mut text = format!(
            "{} \u{b7} born {}",
            self.name,
            self.birth_date.format("%-d %b %Y")
        );
        match &self.nhs_number {
            Some(n) => {
                let _ = write!(text, " \u{b7} NHS number {}", spaced_nhs_number(n));
            }
            None => text.push_str(" \u{b7} no NHS number on record"),
        }
        text
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

/// What a chart may draw; the legend lists those it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Symbol {
    Centiles,
    Point,
    Flagged,
    Chronological,
    NoCentile,
    Thrive,
    MidParental,
    Switch,
}

/// Where the reference charts change, in plain words.
pub(super) fn switch_words(age: f64, measure: Measure) -> &'static str {
    if age == WHO_INFANT_FROM_YEARS {
        "2 weeks after due date: WHO charts begin"
    } else if age == WHO_CHILD_FROM_YEARS && measure == Measure::HeightCm {
        "2 years: measured standing, WHO 2 to 4 years"
    } else if age == WHO_CHILD_FROM_YEARS {
        "2 years: WHO charts for 2 to 4 years"
    } else if age == UK90_CHILD_FROM_YEARS {
        "4 years: UK90 charts begin"
    } else {
        "1 year: Turner syndrome chart begins"
    }
}

/// The ages a missing reference leaves without centiles, as the chart's note says them.
pub(super) fn missing_words(reference: Reference) -> &'static str {
    match reference {
        Reference::Uk90Preterm => {
            "No centiles before 2 weeks after the due date: the UK90 data pack is not installed"
        }
        Reference::Uk90Child => "No centiles from 4 years: the UK90 data pack is not installed",
        _ => "No centiles on this chart: its data (in the UK90 data pack) is not installed",
    }
}

/// Each at most 44 characters: two to a legend row.
pub(super) fn legend_words(symbol: Symbol) -> &'static str {
    match symbol {
        Symbol::Centiles => "Centile lines 0.4th to 99.6th (50th bold)",
        Symbol::Point => "A measurement",
        Symbol::Flagged => "Far from the usual range: check it",
        Symbol::Chronological => "Age from birth, not corrected",
        Symbol::NoCentile => "Measured; no centile (chart not installed)",
        Symbol::Thrive => "Thrive line: slowest 5% of weight gain",
        Symbol::MidParental => "Mid-parental height and target range",
        Symbol::Switch => "Where the reference charts change",
    }
}

/// The symbol as drawn on the chart, centred at (x, y), for the legend.
pub(super) fn legend_symbol(symbol: Symbol, x: f64, y: f64) -> String {
    match symbol {
        Symbol::Centiles => format!(
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#b3261e" stroke-width="2"/>"##,
            x - 12.0,
            x + 12.0
        ),
        Symbol::Point => point_marker(x, y, "#1d4f91"),
        Symbol::Flagged => point_marker(x, y, "#e8a200"),
        Symbol::Chronological => format!(
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="#fffdf8" stroke="#1d4f91" stroke-width="1.2"/>"##
        ),
        Symbol::NoCentile => no_centile_marker(x, y),
        Symbol::Thrive => format!(
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#2e7d32" stroke-width="1.5" stroke-dasharray="6 3"/>"##,
            x - 12.0,
            x + 12.0
        ),
        Symbol::MidParental => format!(
            r##"<g stroke="#2e7d32" stroke-width="2"><line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}"/></g><circle cx="{x:.1}" cy="{y:.1}" r="3" fill="#2e7d32"/>"##,
            y - 8.0,
            y + 8.0
        ),
        Symbol::Switch => format!(
            r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#7a6f9b" stroke-dasharray="5 4" stroke-width="1.2"/>"##,
            y - 9.0,
            y + 9.0
        ),
    }
}

pub(super) fn point_marker(x: f64, y: f64, fill: &str) -> String {
    format!(r##"<circle cx="{x:.1}" cy="{y:.1}" r="4.5" fill="{fill}"/>"##)
}

/// A hollow diamond: measured, but no centile to read.
pub(super) fn no_centile_marker(x: f64, y: f64) -> String {
    format!(
        r##"<path d="M{x:.1} {:.1} L{:.1} {y:.1} L{x:.1} {:.1} L{:.1} {y:.1} Z" fill="#fffdf8" stroke="#1d4f91" stroke-width="1.8"/>"##,
        y - 6.0,
        x + 6.0,
        y + 6.0,
        x - 6.0
    )
}

pub(super) fn value_text(measure: Measure, value: f64) -> String {
    match measure {
        Measure::WeightKg => format!("{value:.3} kg"),
        Measure::Bmi => format!("{value:.1} kg/m\u{b2}"),
        _ => format!("{value:.1} cm"),
    }
}
