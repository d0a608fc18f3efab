//! Growth charts as SVG, drawn by the core so both apps and the printout show the same
//! thing: the nine centile lines, every measurement (at corrected age, linked to the
//! chronological point for preterm babies; one no installed reference covers still
//! plotted, with its own marker), the reference changes in plain words, axis labels in
//! units, a legend of every symbol drawn, the child's name, date of birth and NHS
//! number when given (a printed chart must not be mistaken for another child's), and a
//! title and description for screen readers.

use super::*;
pub use marks::ChartIdentity;
use marks::{
    legend_symbol, legend_words, missing_words, no_centile_marker, point_marker, switch_words,
    value_text, Symbol,
};
use std::fmt::Write;

mod marks;

const WIDTH: f64 = 820.0;
/// The plot's height; the legend's rows are added below it.
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 84.0;
const BOTTOM: f64 = 60.0;
const LEGEND_ROW: f64 = 22.0;
const LEGEND_LEFT: f64 = 30.0;
/// Corrected and chronological ages closer than this are drawn as one point.
const SAME_POINT_DAYS: i64 = 7;

/// A chart request: one measure, one child's points.
#[derive(Debug, Clone)]
pub struct ChartRequest {
    pub sex: Sex,
    pub measure: Measure,
    pub birth_date: NaiveDate,
    pub gestation_days: u16,
    pub correction: Correction,
    pub points: Vec<(NaiveDate, f64)>,
    /// On a height chart: the mid-parental height and its target range, drawn at 20
    /// years when the chart reaches it, and stated in the description always.
    pub mid_parental: Option<MidParentalHeight>,
    /// UK-WHO, or the Down or Turner syndrome charts.
    pub set: ChartSet,
    /// Drawn in the heading: whose chart this is.
    pub identity: Option<ChartIdentity>,
}

struct AgeRange {
    from: f64,
    to: f64,
    /// Tick step and label unit.
    tick: f64,
    months: bool,
}

fn age_range(max_age: f64, min_age: f64) -> AgeRange {
    // Start at birth (term); reach back into the preterm weeks only for points there.
    let from = if min_age < 0.0 {
        UK90_FROM_YEARS.max(min_age - 2.0 / 52.0)
    } else {
        0.0
    };
    match max_age {
        // Each range ends a little past the latest point, so it never sits on the edge
        // among the centile labels.
        a if a < 0.95 => AgeRange {
            from,
            to: 1.0,
            tick: 1.0 / 12.0,
            months: true,
        },
        a if a < 1.9 => AgeRange {
            from,
            to: 2.0,
            tick: 2.0 / 12.0,
            months: true,
        },
        a if a < 3.8 => AgeRange {
            from,
            to: 4.0,
            tick: 0.5,
            months: false,
        },
        _ => AgeRange {
            from,
            to: UK90_CHILD_UNTIL_YEARS,
            tick: 2.0,
            months: false,
        },
    }
}

fn pronoun(sex: Sex) -> &'static str {
    match sex {
        Sex::Male => "boy",
        Sex::Female => "girl",
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A measurement no installed reference covers: plotted, with no centile.
struct Uncharted {
    age: f64,
    date: NaiveDate,
    value: f64,
    /// The reference it needs, when that is what is missing.
    needs: Option<Reference>,
}

/// Renders the chart. Points no installed reference covers are plotted with their own
/// marker and said so; a note names the missing reference only when a point needs it.
pub fn render(refs: &GrowthReferences, request: &ChartRequest) -> Result<String, GrowthError> {
    let years = |days: i64| days as f64 / DAYS_PER_YEAR;
    // (plotted age, chronological age if drawn apart, value, assessment, date)
    let mut plotted = Vec::new();
    let mut uncharted: Vec<Uncharted> = Vec::new();
    let mut left_out = 0;
    for &(date, value) in &request.points {
        let obs = Observation {
            sex: request.sex,
            birth_date: request.birth_date,
            gestation_days: request.gestation_days,
            date,
            measure: request.measure,
            value,
        };
        match assess_in(refs, request.set, &obs, request.correction) {
            Ok(a) => {
                let age = if a.used_corrected_age {
                    a.corrected_age_days
                } else {
                    a.chronological_age_days
                };
                let apart = a.used_corrected_age
                    && (a.chronological_age_days - a.corrected_age_days).abs() >= SAME_POINT_DAYS;
                plotted.push((
                    years(age),
                    apart.then(|| years(a.chronological_age_days)),
                    value,
                    a,
                    date,
                ));
            }
            Err(GrowthError::InvalidInput { field, reason }) => {
                return Err(GrowthError::InvalidInput { field, reason })
            }
            Err(
                e @ (GrowthError::ReferenceNotAvailable { .. }
                | GrowthError::OutsideReferenceAges { .. }),
            ) => {
                let (chronological, corrected, use_corrected) = ages(
                    request.birth_date,
                    request.gestation_days,
                    date,
                    request.correction,
                );
                let age = years(if use_corrected {
                    corrected
                } else {
                    chronological
                });
                if (UK90_FROM_YEARS..=UK90_CHILD_UNTIL_YEARS).contains(&age) {
                    uncharted.push(Uncharted {
                        age,
                        date,
                        value,
                        needs: match e {
                            GrowthError::ReferenceNotAvailable { reference } => Some(reference),
                            _ => None,
                        },
                    });
                } else {
                    left_out += 1;
                }
            }
            Err(_) => left_out += 1,
        }
    }
    let ages_drawn = plotted
        .iter()
        .map(|p| p.0)
        .chain(uncharted.iter().map(|u| u.age));
    let max_age = ages_drawn.clone().fold(0.0, f64::max);
    let min_age = ages_drawn.fold(f64::MAX, f64::min);
    let range = age_range(max_age, min_age);
    let mid_parental = request
        .mid_parental
        .as_ref()
        .filter(|_| request.measure == Measure::HeightCm);
    let draw_mid_parental = mid_parental.filter(|_| range.to >= UK90_CHILD_UNTIL_YEARS);
    // The references a measurement of this child needs and this device lacks.
    let mut missing: Vec<Reference> = Vec::new();
    for reference in uncharted.iter().filter_map(|u| u.needs) {
        if !missing.contains(&reference) {
            missing.push(reference);
        }
    }

    // Centile curves, one polyline per reference segment so a switch shows as a step.
    let uk_who = [
        UK90_FROM_YEARS,
        WHO_INFANT_FROM_YEARS,
        WHO_CHILD_FROM_YEARS,
        UK90_CHILD_FROM_YEARS,
        UK90_CHILD_UNTIL_YEARS,
    ];
    let turner_height = request.set == ChartSet::TurnerSyndrome
        && request.sex == Sex::Female
        && request.measure == Measure::HeightCm;
    let boundaries: Vec<f64> = match request.set {
        ChartSet::DownSyndrome => vec![0.0, UK90_CHILD_UNTIL_YEARS],
        _ if turner_height => vec![
            UK90_FROM_YEARS,
            WHO_INFANT_FROM_YEARS,
            1.0,
            UK90_CHILD_UNTIL_YEARS,
        ],
        _ => uk_who.to_vec(),
    };
    let segments: Vec<(f64, f64)> = boundaries
        .windows(2)
        .map(|w| (w[0].max(range.from), w[1].min(range.to)))
        .filter(|(a, b)| b > a)
        .collect();
    let mut curves: Vec<Vec<Vec<(f64, f64)>>> = vec![Vec::new(); CENTILE_LINES.len()];
    let mut uncovered = Vec::new();
    for (seg_from, seg_to) in &segments {
        let steps = 120;
        let mut lines: Vec<Vec<(f64, f64)>> = vec![Vec::new(); CENTILE_LINES.len()];
        for i in 0..=steps {
            // Nudge off the segment's end: the boundary itself belongs to the next table.
            let age = seg_from + (seg_to - seg_from - 1e-6) * i as f64 / steps as f64;
            match lms_in(refs, request.set, request.sex, request.measure, age) {
                Ok((_, lms)) => {
                    for (line, (z, _)) in lines.iter_mut().zip(CENTILE_LINES) {
                        line.push((age, lms.value_at(z)));
                    }
                }
                Err(GrowthError::ReferenceNotAvailable { reference }) => {
                    if !uncovered.contains(&reference) {
                        uncovered.push(reference);
                    }
                    break;
                }
                Err(_) => {}
            }
        }
        for (curve, line) in curves.iter_mut().zip(lines) {
            if line.len() > 1 {
                curve.push(line);
            }
        }
    }
    if curves.iter().all(|c| c.is_empty()) {
        return Err(match uncovered.first() {
            Some(reference) => GrowthError::ReferenceNotAvailable {
                reference: *reference,
            },
            None => GrowthError::OutsideReferenceAges {
                reason: "nothing to chart for this measure",
            },
        });
    }

    let values = curves
        .iter()
        .flatten()
        .flatten()
        .map(|p| p.1)
        .chain(plotted.iter().map(|p| p.2))
        .chain(uncharted.iter().map(|u| u.value))
        .chain(
            draw_mid_parental
                .iter()
                .flat_map(|m| [m.lower_cm, m.upper_cm]),
        );
    let (mut y_min, mut y_max) =
        values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = (y_max - y_min) * 0.04;
    y_min = (y_min - pad).max(0.0);
    y_max += pad;
    let y_step = nice_step((y_max - y_min) / 10.0);
    y_min = (y_min / y_step).floor() * y_step;
    y_max = (y_max / y_step).ceil() * y_step;
    let x = |age: f64| LEFT + (age - range.from) / (range.to - range.from) * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| HEIGHT - BOTTOM - (v - y_min) / (y_max - y_min) * (HEIGHT - TOP - BOTTOM);

    let title = format!(
        "{} for a {}: {} growth chart",
        request.measure.label(),
        pronoun(request.sex),
        request.set.name()
    );
    let mut desc = format!(
        "Centile lines 0.4th to 99.6th. {} measurement{} plotted{}.",
        plotted.len(),
        if plotted.len() == 1 { "" } else { "s" },
        if plotted.iter().any(|p| p.1.is_some()) {
            " at corrected age, each linked to its chronological age"
        } else {
            ""
        }
    );
    if let Some(last) = plotted.iter().max_by(|a, b| a.0.total_cmp(&b.0)) {
        let _ = write!(desc, " Latest: {:.2}, {}.", last.2, last.3.description);
    }
    if left_out > 0 {
        let _ = write!(desc, " {left_out} measurement(s) could not be charted.");
    }
    if let Some(m) = mid_parental {
        let _ = write!(
            desc,
            " Mid-parental height {:.1} cm ({}); target range {:.1} to {:.1} cm at 20 years.",
            m.height_cm, m.description, m.lower_cm, m.upper_cm
        );
    }
    if !uncharted.is_empty() {
        let _ = write!(
            desc,
            " {} measured with no centile (no reference installed for that age).",
            uncharted.len()
        );
    }
    for reference in &missing {
        let _ = write!(desc, " {}.", missing_words(*reference));
    }
    let mut used = std::collections::BTreeSet::from([Symbol::Centiles]);

    let mut svg = String::new();
    if let Some(identity) = &request.identity {
        let _ = writeln!(
            svg,
            r##"<text x="{LEFT}" y="28" font-size="18" font-weight="bold" fill="#222" class="identity">{}</text>"##,
            escape(&identity.heading())
        );
    }
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="{}" font-size="16" fill="#222">{}</text>"##,
        if request.identity.is_some() { 52 } else { 30 },
        escape(&title)
    );
    // Only where a measurement of this child needs what is missing (calm: the point is
    // still plotted, and the legend says what its marker means).
    for (i, reference) in missing.iter().enumerate() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#5a3e00" text-anchor="end" class="pack-note">{}</text>"##,
            WIDTH - RIGHT,
            TOP - 10.0 - 14.0 * (missing.len() - 1 - i) as f64,
            missing_words(*reference)
        );
    }

    // Grid and axes.
    let mut v = y_min;
    while v <= y_max + 1e-9 {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#e6e0d6" stroke-width="1"/>"##,
            y(v),
            WIDTH - RIGHT
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end" fill="#444">{}</text>"##,
            LEFT - 6.0,
            y(v) + 4.0,
            trim_number(v)
        );
        v += y_step;
    }
    let mut tick = (range.from / range.tick).ceil() * range.tick;
    while tick <= range.to + 1e-9 {
        let label = if range.months {
            // `+ 0.0` turns the -0 a tick just before birth rounds to into 0.
            format!("{}", (tick * 12.0).round() + 0.0)
        } else {
            trim_number(tick)
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1:.1}" stroke="#e6e0d6" stroke-width="1"/>"##,
            x(tick),
            HEIGHT - BOTTOM
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle" fill="#444">{label}</text>"##,
            x(tick),
            HEIGHT - BOTTOM + 16.0
        );
        tick += range.tick;
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#888"/>"##,
        WIDTH - LEFT - RIGHT,
        HEIGHT - TOP - BOTTOM
    );
    let x_label = if range.months {
        "Age (months, corrected for gestation)"
    } else {
        "Age (years, corrected for gestation)"
    };
    let _ = writeln!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" font-size="13" text-anchor="middle" fill="#222">{x_label}</text>"##,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 18.0
    );
    let _ = writeln!(
        svg,
        r##"<text transform="translate(20 {:.1}) rotate(-90)" font-size="13" text-anchor="middle" fill="#222">{}</text>"##,
        (TOP + HEIGHT - BOTTOM) / 2.0,
        escape(request.measure.label())
    );

    // Reference switches.
    let uk_who_switches = [
        WHO_INFANT_FROM_YEARS,
        WHO_CHILD_FROM_YEARS,
        UK90_CHILD_FROM_YEARS,
    ];
    let switches: Vec<f64> = match request.set {
        ChartSet::DownSyndrome => Vec::new(),
        _ if turner_height => vec![WHO_INFANT_FROM_YEARS, 1.0],
        _ => uk_who_switches.to_vec(),
    };
    // Labels one under another: on the 0-20 year chart the switches are close together.
    let mut drawn = 0.0;
    for age in switches {
        let label = switch_words(age, request.measure);
        // A change within a few pixels of the axis (2 weeks on a 20-year chart) is not drawn.
        if x(age) > LEFT + 8.0 && age < range.to - 1e-6 && segments.iter().any(|(a, _)| *a < age) {
            let _ = writeln!(
                svg,
                r##"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{1:.1}" stroke="#7a6f9b" stroke-dasharray="5 4" stroke-width="1.2"/>"##,
                x(age),
                HEIGHT - BOTTOM
            );
            // Right of the line, or left of it where the words would run past the plot
            // into the centile labels (about 6.5 px a character at 12 px).
            let width = 6.5 * label.len() as f64;
            let (label_x, anchor) = if x(age) + 4.0 + width <= WIDTH - RIGHT {
                (x(age) + 4.0, "start")
            } else {
                ((x(age) - 4.0).max(LEFT + 4.0 + width), "end")
            };
            let _ = writeln!(
                svg,
                r##"<text x="{label_x:.1}" y="{:.1}" font-size="12" fill="#5b4f80" stroke="#fffdf8" stroke-width="3" paint-order="stroke" text-anchor="{anchor}">{label}</text>"##,
                TOP + 16.0 + 15.0 * drawn
            );
            drawn += 1.0;
            used.insert(Symbol::Switch);
        }
    }

    // Centile lines, labelled at the right.
    let mut labels: Vec<(f64, f64, &str)> = Vec::new();
    for (curve, (z, name)) in curves.iter().zip(CENTILE_LINES) {
        let (width, colour) = if z == 0.0 {
            (2.0, "#b3261e")
        } else {
            (1.2, "#d9736b")
        };
        for line in curve {
            let points: Vec<String> = line
                .iter()
                .map(|(a, v)| format!("{:.1},{:.1}", x(*a), y(*v)))
                .collect();
            let _ = writeln!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{width}"/>"#,
                points.join(" ")
            );
        }
        if let Some(&(a, v)) = curve.last().and_then(|l| l.last()) {
            labels.push((x(a) + 5.0, y(v) + 4.0, name));
        }
    }
    // Where the lines run close (the adult heights), labels are spread to stay readable.
    labels.sort_by(|a, b| a.1.total_cmp(&b.1));
    for i in 1..labels.len() {
        labels[i].1 = labels[i].1.max(labels[i - 1].1 + 12.0);
    }
    for (lx, ly, name) in labels {
        let _ = writeln!(
            svg,
            r##"<text x="{lx:.1}" y="{ly:.1}" font-size="12" fill="#8c1d18">{name}</text>"##
        );
    }

    // The mid-parental height: a bracket at 20 years over the target range.
    if let Some(m) = draw_mid_parental {
        let at = x(UK90_CHILD_UNTIL_YEARS) - 18.0;
        let _ = writeln!(
            svg,
            r##"<g stroke="#2e7d32" stroke-width="2"><line x1="{at:.1}" y1="{0:.1}" x2="{at:.1}" y2="{1:.1}"/><line x1="{2:.1}" y1="{0:.1}" x2="{3:.1}" y2="{0:.1}"/><line x1="{2:.1}" y1="{1:.1}" x2="{3:.1}" y2="{1:.1}"/></g>"##,
            y(m.lower_cm),
            y(m.upper_cm),
            at - 6.0,
            at + 6.0
        );
        let _ = writeln!(
            svg,
            r##"<circle cx="{at:.1}" cy="{:.1}" r="4" fill="#2e7d32"><title>mid-parental height {:.1} cm</title></circle>"##,
            y(m.height_cm),
            m.height_cm
        );
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#2e7d32" text-anchor="end">mid-parental height and target range</text>"##,
            at - 10.0,
            y(m.upper_cm) - 6.0
        );
        used.insert(Symbol::MidParental);
    }

    // The child's points.
    let mut ordered: Vec<_> = plotted.iter().collect();
    ordered.sort_by(|a, b| a.0.total_cmp(&b.0));

    // A thrive line from the weight before the latest, under a year: a later weight
    // below it gained more slowly than 95 in 100 babies (`dynamic`, Cole 1995).
    let weeks_per_year = DAYS_PER_YEAR / 7.0;
    // The correlations are UK-WHO's: no thrive line on the Down syndrome chart.
    let thrive_start = ordered
        .iter()
        .rev()
        .nth(1)
        .filter(|_| request.measure == Measure::WeightKg && request.set != ChartSet::DownSyndrome)
        .filter(|p| p.0 >= 0.0 && p.0 * weeks_per_year < 52.0);
    if let (Some(start), Some(correlations)) = (thrive_start, refs.weight_correlations()) {
        let from = start.0 * weeks_per_year;
        let to = (from + 12.0).min(52.9).min(range.to * weeks_per_year);
        // Drawn from two weeks on: gains over shorter spans are not judged (`dynamic`).
        let points: Vec<String> = thrive_line(correlations, start.3.z, from, to)
            .into_iter()
            .filter(|(weeks, _)| *weeks >= from + 2.0)
            .filter_map(|(weeks, z)| {
                let age = weeks / weeks_per_year;
                let (_, lms) = lms_in(refs, request.set, request.sex, request.measure, age).ok()?;
                Some(format!("{:.1},{:.1}", x(age), y(lms.value_at(z))))
            })
            .collect();
        if points.len() > 1 {
            let _ = writeln!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="#2e7d32" stroke-width="1.5" stroke-dasharray="6 3"><title>thrive line: the slowest 5% of weight gain from this weight</title></polyline>"##,
                points.join(" ")
            );
            used.insert(Symbol::Thrive);
        }
    }
    let mut joined: Vec<(f64, f64)> = ordered
        .iter()
        .map(|p| (p.0, p.2))
        .chain(uncharted.iter().map(|u| (u.age, u.value)))
        .collect();
    joined.sort_by(|a, b| a.0.total_cmp(&b.0));
    if joined.len() > 1 {
        let path: Vec<String> = joined
            .iter()
            .map(|(age, value)| format!("{:.1},{:.1}", x(*age), y(*value)))
            .collect();
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#1d4f91" stroke-width="1.5"/>"##,
            path.join(" ")
        );
    }
    for (age, chronological, value, assessment, date) in &ordered {
        if let Some(chrono) = chronological.filter(|c| *c >= range.from && *c <= range.to) {
            let _ = writeln!(
                svg,
                r##"<line x1="{:.1}" y1="{2:.1}" x2="{:.1}" y2="{2:.1}" stroke="#1d4f91" stroke-width="1" stroke-dasharray="2 2"/>"##,
                x(*age),
                x(chrono),
                y(*value)
            );
            let _ = writeln!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="#fffdf8" stroke="#1d4f91" stroke-width="1.2"><title>chronological age</title></circle>"##,
                x(chrono),
                y(*value)
            );
            used.insert(Symbol::Chronological);
        }
        let flagged = !assessment.flags.is_empty();
        let fill = if flagged { "#e8a200" } else { "#1d4f91" };
        used.insert(if flagged {
            Symbol::Flagged
        } else {
            Symbol::Point
        });
        let _ = writeln!(
            svg,
            r##"<g class="point" data-date="{date}" data-value="{value}"><title>{}: {}, {}</title>{}</g>"##,
            date.format("%-d %b %Y"),
            value_text(request.measure, *value),
            escape(&assessment.description),
            point_marker(x(*age), y(*value), fill)
        );
    }
    for point in &uncharted {
        used.insert(Symbol::NoCentile);
        let _ = writeln!(
            svg,
            r##"<g class="point no-centile" data-date="{}" data-value="{}"><title>{}: {}, no centile (no reference installed for this age)</title>{}</g>"##,
            point.date,
            point.value,
            point.date.format("%-d %b %Y"),
            value_text(request.measure, point.value),
            no_centile_marker(x(point.age), y(point.value))
        );
    }

    // The legend: every symbol drawn, two to a row under the axis title.
    let used: Vec<Symbol> = used.into_iter().collect();
    let rows = used.len().div_ceil(2);
    let legend_top = HEIGHT + 4.0;
    let total_height = legend_top + rows as f64 * LEGEND_ROW + 10.0;
    let _ = writeln!(svg, r##"<g class="legend" font-size="12" fill="#222">"##);
    for (i, symbol) in used.iter().enumerate() {
        let column_x = LEGEND_LEFT
            + if i % 2 == 0 {
                0.0
            } else {
                (WIDTH - 2.0 * LEGEND_LEFT) / 2.0
            };
        let row_y = legend_top + (i / 2) as f64 * LEGEND_ROW + LEGEND_ROW / 2.0;
        let _ = writeln!(
            svg,
            r#"<g class="legend-item">{}<text x="{:.1}" y="{:.1}">{}</text></g>"#,
            legend_symbol(*symbol, column_x + 12.0, row_y),
            column_x + 30.0,
            row_y + 4.0,
            legend_words(*symbol)
        );
    }
    svg.push_str("</g>\n</svg>\n");

    let mut head = String::new();
    let _ = writeln!(
        head,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total_height}" viewBox="0 0 {WIDTH} {total_height}" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif">"##
    );
    let _ = writeln!(
        head,
        r#"<title id="chart-title">{}</title>"#,
        escape(&title)
    );
    let _ = writeln!(head, r#"<desc id="chart-desc">{}</desc>"#, escape(&desc));
    let _ = writeln!(
        head,
        r##"<rect width="{WIDTH}" height="{total_height}" fill="#fffdf8"/>"##
    );
    Ok(head + &svg)
}

/// 1, 2 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

fn trim_number(v: f64) -> String {
    let v = if v.abs() < 1e-9 { 0.0 } else { v };
    let text = format!("{v:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
