//! A child's measurements read from the record's current entries and assessed on the
//! charts the record calls for: the growth series, the chart and the mid-parental height
//! the façade hands the apps. The same counted risk factors decide the chart set as
//! decide the schedule (`schedule::risk_factor_uses`).

use super::chart::{self, ChartRequest};
use super::{
    assess_in, faltering, latest_weight_gain, mid_parental_height, velocity,
    weighed_more_often_than_advised, Assessment, ChartSet, Correction, FalteringConcern,
    GrowthError, GrowthReferences, Measure, MidParentalHeight, Observation, Sex, Velocity,
    WeighedOften, WeightGain,
};
use crate::model::{self, ChildDetails, EntryBody, EntryId, EntryView, RiskFactorKind};
use crate::schedule::risk_factor_uses;
use chrono::NaiveDate;
use serde::Serialize;

/// One measurement on a child's chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthPoint {
    /// The entry it comes from (birth details or a measurement).
    pub entry_id: EntryId,
    pub date: NaiveDate,
    pub value: f64,
    pub assessment: Option<Assessment>,
    /// Why it could not be charted (e.g. the UK90 pack is not installed).
    pub problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthSeries {
    pub measure: Measure,
    pub correction: Correction,
    /// UK-WHO, or the Down or Turner syndrome charts a professional's entry calls for.
    pub chart: ChartSet,
    /// No gestation on record: charted as born at 40+0 weeks.
    pub gestation_assumed: bool,
    pub points: Vec<GrowthPoint>,
    pub faltering: Vec<FalteringConcern>,
    /// Growth per year between the last two measurements three months or more apart.
    pub velocity: Option<Velocity>,
    /// Weight only, under a year: the latest gain against the thrive line (needs the
    /// UK90 pack's correlations).
    pub weight_gain: Option<WeightGain>,
    /// Weight only: weighed sooner than the charts advise for the age.
    pub weighed_often: Option<WeighedOften>,
}

/// A child's measurements of one kind (from `timeline`, the record's current entries by
/// date) on the charts: each point's centile or why it cannot be charted, and NICE NG75
/// faltering-growth signals for weight.
pub fn series(
    details: &ChildDetails,
    timeline: &[&EntryView],
    measure: Measure,
    refs: &GrowthReferences,
    correction: Correction,
) -> Result<GrowthSeries, GrowthError> {
    let child = growth_child(details)?;
    let set = chart_set(timeline);
    let points: Vec<GrowthPoint> = growth_points(details, timeline, measure)
        .into_iter()
        .map(|(entry_id, date, value)| {
            let obs = Observation {
                sex: child.sex,
                birth_date: child.birth_date,
                gestation_days: child.gestation_days,
                date,
                measure,
                value,
            };
            let (assessment, problem) = match assess_in(refs, set, &obs, correction) {
                Ok(assessment) => (Some(assessment), None),
                Err(e) => (None, Some(e.to_string())),
            };
            GrowthPoint {
                entry_id,
                date,
                value,
                assessment,
                problem,
            }
        })
        .collect();
    let is_weight = measure == Measure::WeightKg;
    let faltering = if is_weight {
        let weights: Vec<_> = points.iter().map(|p| (p.date, p.value)).collect();
        faltering(
            refs,
            set,
            child.sex,
            child.birth_date,
            child.gestation_days,
            &weights,
            correction,
        )
    } else {
        Vec::new()
    };
    let charted: Vec<(NaiveDate, i64, f64)> = points
        .iter()
        .filter_map(|p| {
            let a = p.assessment.as_ref()?;
            let age = if a.used_corrected_age {
                a.corrected_age_days
            } else {
                a.chronological_age_days
            };
            Some((p.date, age, a.z))
        })
        .collect();
    let dates: Vec<NaiveDate> = points.iter().map(|p| p.date).collect();
    let values: Vec<(NaiveDate, f64)> = points.iter().map(|p| (p.date, p.value)).collect();
    Ok(GrowthSeries {
        measure,
        correction,
        chart: set,
        gestation_assumed: child.gestation_assumed,
        velocity: velocity(&values),
        // The weight correlations are UK-WHO's.
        weight_gain: (is_weight && set != ChartSet::DownSyndrome)
            .then(|| latest_weight_gain(refs, &charted))
            .flatten(),
        weighed_often: is_weight
            .then(|| weighed_more_often_than_advised(child.birth_date, &dates))
            .flatten(),
        points,
        faltering,
    })
}

/// The child's chart for one measure, as SVG, headed with the child's name, date of birth
/// and NHS number.
pub fn chart_svg(
    details: &ChildDetails,
    timeline: &[&EntryView],
    measure: Measure,
    refs: &GrowthReferences,
    correction: Correction,
) -> Result<String, GrowthError> {
    let child = growth_child(details)?;
    let request = ChartRequest {
        sex: child.sex,
        measure,
        birth_date: child.birth_date,
        gestation_days: child.gestation_days,
        correction,
        points: growth_points(details, timeline, measure)
            .into_iter()
            .map(|(_, date, value)| (date, value))
            .collect(),
        // Drawn only where it can be worked out (both heights, the UK90 pack).
        set: chart_set(timeline),
        mid_parental: (measure == Measure::HeightCm)
            .then(|| mid_parental(timeline, child.sex, refs).ok().flatten())
            .flatten(),
        identity: Some(chart::ChartIdentity {
            name: details.name.clone(),
            birth_date: child.birth_date,
            nhs_number: details.nhs_number.clone(),
        }),
    };
    chart::render(refs, &request)
}

/// The mid-parental height and target range from the latest parents' heights on record;
/// None until both are recorded. Needs the UK90 pack (parents' heights are read on UK90
/// at 20 years).
pub fn record_mid_parental_height(
    details: &ChildDetails,
    timeline: &[&EntryView],
    refs: &GrowthReferences,
) -> Result<Option<MidParentalHeight>, GrowthError> {
    let child = growth_child(details)?;
    mid_parental(timeline, child.sex, refs)
}

struct GrowthChild {
    sex: Sex,
    birth_date: NaiveDate,
    gestation_days: u16,
    gestation_assumed: bool,
}

fn growth_child(details: &ChildDetails) -> Result<GrowthChild, GrowthError> {
    let needed = |field| GrowthError::InvalidInput {
        field,
        reason: "is needed to chart growth".into(),
    };
    let birth_date = details.birth_date.ok_or_else(|| needed("birth_date"))?;
    let sex = match details.sex.ok_or_else(|| needed("sex"))? {
        model::Sex::Female => Sex::Female,
        model::Sex::Male => Sex::Male,
    };
    Ok(GrowthChild {
        sex,
        birth_date,
        gestation_days: details.gestation.map_or(280, |g| g.total_days),
        gestation_assumed: details.gestation.is_none(),
    })
}

/// The charts a child is measured on: Down or Turner syndrome when a professional's
/// risk factor entry says so and is used (the latest counted one decides, as for the
/// schedule); UK-WHO otherwise.
fn chart_set(timeline: &[&EntryView]) -> ChartSet {
    let views: Vec<&EntryView> = timeline
        .iter()
        .copied()
        .filter(|v| matches!(v.entry.body, EntryBody::RiskFactor(_)))
        .collect();
    let uses = risk_factor_uses(&views);
    let present = |kind| uses.iter().any(|u| u.used && u.present && u.factor == kind);
    if present(RiskFactorKind::DownSyndrome) {
        ChartSet::DownSyndrome
    } else if present(RiskFactorKind::TurnerSyndrome) {
        ChartSet::TurnerSyndrome
    } else {
        ChartSet::UkWho
    }
}

/// The latest mother's and father's heights among current entries that are not forged,
/// each on its own (one entry may give only one), and the mid-parental height from them.
fn mid_parental(
    timeline: &[&EntryView],
    sex: Sex,
    refs: &GrowthReferences,
) -> Result<Option<MidParentalHeight>, GrowthError> {
    let (mut mother, mut father) = (None, None);
    for view in timeline {
        if let (EntryBody::ParentalHeights(h), false) =
            (&view.entry.body, view.verification.is_forged())
        {
            mother = h.mother_cm.or(mother);
            father = h.father_cm.or(father);
        }
    }
    match (mother, father) {
        (Some(mother), Some(father)) => mid_parental_height(refs, sex, mother, father).map(Some),
        _ => Ok(None),
    }
}

/// (entry, date, value) of one measure from current entries, birth details first.
fn growth_points(
    details: &ChildDetails,
    timeline: &[&EntryView],
    measure: Measure,
) -> Vec<(EntryId, NaiveDate, f64)> {
    let mut points = Vec::new();
    for view in timeline {
        let id = view.entry.id.clone();
        match &view.entry.body {
            EntryBody::BirthDetails(b) => {
                let value = match measure {
                    Measure::WeightKg => b.birth_weight_kg,
                    Measure::HeightCm => b.length_cm,
                    Measure::HeadCircumferenceCm => b.head_circumference_cm,
                    Measure::Bmi => None,
                };
                points.extend(value.zip(details.birth_date).map(|(v, born)| (id, born, v)));
            }
            EntryBody::Measurement(m) => {
                let length = m.length_cm.or(m.height_cm);
                let value = match measure {
                    Measure::WeightKg => m.weight_kg,
                    Measure::HeightCm => length,
                    Measure::HeadCircumferenceCm => m.head_circumference_cm,
                    Measure::Bmi => m
                        .weight_kg
                        .zip(length)
                        .map(|(kg, cm)| kg / (cm / 100.0).powi(2)),
                };
                points.extend(value.map(|v| (id, m.date, v)));
            }
            _ => {}
        }
    }
    points.sort_by_key(|p| p.1);
    points
}
