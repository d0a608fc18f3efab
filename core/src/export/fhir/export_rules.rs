//! What of a record goes out in an export: never an entry whose signature is invalid or
//! whose author could not write then (never exported as that author's), nor what points
//! at one (docs/threat-model.md); and the growth engine's centiles for the measures that
//! do go out.

use super::ExportedCentile;
use crate::growth::{ChartSet, GrowthPoint, Measure};
use crate::model::{EntryBody, EntryId, EntryView};
use std::collections::{HashMap, HashSet};

/// Drops from `entries` every untrusted entry and, repeatedly, whatever amends or marks
/// one that was dropped.
pub fn leave_out_untrusted(entries: &mut Vec<EntryView>) {
    let mut left_out: HashSet<EntryId> = HashSet::new();
    loop {
        let before = left_out.len();
        for view in entries.iter() {
            let target = match &view.entry.body {
                EntryBody::EnteredInError { target, .. } => Some(target),
                _ => view.entry.amends.as_ref(),
            };
            if view.verification.is_forged() || target.is_some_and(|t| left_out.contains(t)) {
                left_out.insert(view.entry.id.clone());
            }
        }
        if left_out.len() == before {
            break;
        }
    }
    entries.retain(|v| !left_out.contains(&v.entry.id));
}

/// The centiles of the growth points whose entries go out, each with the Observation
/// part it measured and how it was read.
pub fn exported_centiles(
    growth: Vec<(Measure, ChartSet, GrowthPoint)>,
    entries: &[EntryView],
) -> Vec<ExportedCentile> {
    let bodies: HashMap<&EntryId, &EntryBody> = entries
        .iter()
        .map(|v| (&v.entry.id, &v.entry.body))
        .collect();
    growth
        .into_iter()
        .filter_map(|(measure, chart, point)| {
            let body = *bodies.get(&point.entry_id)?;
            let a = point.assessment?;
            Some(ExportedCentile {
                part: centile_part(body, measure)?,
                entry_id: point.entry_id,
                date: point.date,
                value: point.value,
                centile: a.centile,
                sds: a.z,
                method: format!(
                    "{} chart, reference {}, read at {} age",
                    chart.name(),
                    a.reference.name(),
                    if a.used_corrected_age {
                        "corrected"
                    } else {
                        "chronological"
                    }
                ),
            })
        })
        .collect()
}

/// Which exported Observation part a growth point measured.
fn centile_part(body: &EntryBody, measure: Measure) -> Option<&'static str> {
    Some(match (body, measure) {
        (EntryBody::BirthDetails(_), Measure::WeightKg) => "birth-weight",
        (EntryBody::BirthDetails(_), Measure::HeightCm) => "birth-length",
        (EntryBody::BirthDetails(_), Measure::HeadCircumferenceCm) => "birth-head",
        (EntryBody::Measurement(_), Measure::WeightKg) => "weight",
        (EntryBody::Measurement(m), Measure::HeightCm) if m.length_cm.is_some() => "length",
        (EntryBody::Measurement(_), Measure::HeightCm) => "height",
        (EntryBody::Measurement(_), Measure::HeadCircumferenceCm) => "head",
        (EntryBody::Measurement(_), Measure::Bmi) => "bmi",
        _ => return None,
    })
}
