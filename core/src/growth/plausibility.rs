//! Whether a measurement is possible for the child it is written for: its z-score for the
//! child's age, sex and gestation against the RCPCH digital growth charts' limits
//! (docs/domain.md, "Growth": |z| above 4 is implausible, above 8 an error; rcpchgrowth's
//! `MAXIMUM_HEIGHT_WEIGHT_OFC_ADVISORY_SDS` and `..._ERROR_SDS`). The door asks the writer
//! to confirm such a value; the record's views mark it for a professional to review
//! (docs/adr/0014-values-checked-against-the-child.md).
//!
//! Every device judges with the same tables, the embedded WHO 2006 ones, so that a value
//! is marked alike everywhere whether or not a device has the UK90 pack: the checks cover
//! a child from term (40 weeks corrected) to 4 years. Before term and from 4 years only the
//! door's broad ranges apply (`model::validate`).

use super::{ages, lms_at, Correction, GrowthError, Measure, Reference, Sex, DAYS_PER_YEAR};
use super::{GrowthReferences, Lms};
use crate::model::{self, child_age_text, ChildDetails, EntryBody};
use chrono::NaiveDate;
use serde::Serialize;

/// |z| beyond which a value is implausible (rcpchgrowth's advisory limit).
pub const UNUSUAL_BEYOND: f64 = 4.0;
/// |z| beyond which a value is an error (rcpchgrowth's error limit; BMI is not written).
pub const IMPOSSIBLE_BEYOND: f64 = 8.0;

/// A value beyond the charts' limits for the child on the day it was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnusualValue {
    /// The entry's field ("weight_kg", "birth_weight_kg", "length_cm", ...).
    pub field: &'static str,
    pub measure: Measure,
    pub value: f64,
    pub z: f64,
    /// Beyond the error limit: not possible, a slip of the pen.
    pub impossible: bool,
    /// The same figure read another way that is usual for the age: a slipped decimal
    /// point, pounds for kilograms, inches for centimetres.
    pub suggestion: Option<Suggestion>,
    /// The child's age then: "9 weeks", "3 weeks (corrected: 1 week)".
    pub age: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub value: f64,
    /// The unit the figure may have been written in, when not the field's own ("lb").
    pub typed_as: Option<&'static str>,
}

/// The values of `body` (a measurement or the birth details) beyond the charts' limits
/// for the child `details` describes; empty when the child's sex or date of birth is not
/// known, or the age is one the embedded tables do not cover.
pub fn unusual_values(details: &ChildDetails, body: &EntryBody) -> Vec<UnusualValue> {
    let (Some(birth_date), Some(sex)) = (details.birth_date, details.sex) else {
        return Vec::new();
    };
    let sex = match sex {
        model::Sex::Female => Sex::Female,
        model::Sex::Male => Sex::Male,
    };
    let gestation_days = details.gestation.map_or(280, |g| g.total_days);
    let (date, values) = match body {
        EntryBody::Measurement(m) => (
            m.date,
            vec![
                ("weight_kg", Measure::WeightKg, m.weight_kg),
                ("length_cm", Measure::HeightCm, m.length_cm),
                ("height_cm", Measure::HeightCm, m.height_cm),
                (
                    "head_circumference_cm",
                    Measure::HeadCircumferenceCm,
                    m.head_circumference_cm,
                ),
            ],
        ),
        EntryBody::BirthDetails(b) => (
            birth_date,
            vec![
                ("birth_weight_kg", Measure::WeightKg, b.birth_weight_kg),
                ("length_cm", Measure::HeightCm, b.length_cm),
                (
                    "head_circumference_cm",
                    Measure::HeadCircumferenceCm,
                    b.head_circumference_cm,
                ),
            ],
        ),
        _ => return Vec::new(),
    };
    if date < birth_date {
        return Vec::new();
    }
    let (chronological, corrected, _) =
        ages(birth_date, gestation_days, date, Correction::RcpchDigital);
    let Some(age) = age_words(birth_date, date, chronological, corrected) else {
        return Vec::new();
    };
    values
        .into_iter()
        .filter_map(|(field, measure, value)| {
            let value = value.filter(|v| v.is_finite() && *v > 0.0)?;
            let lms = lms_for_plausibility(sex, measure, corrected as f64 / DAYS_PER_YEAR)?;
            let z = lms.z(value);
            (z.abs() > UNUSUAL_BEYOND).then(|| UnusualValue {
                field,
                measure,
                value,
                z,
                impossible: !z.is_finite() || z.abs() > IMPOSSIBLE_BEYOND,
                suggestion: suggestion(&lms, measure, value),
                age: age.clone(),
            })
        })
        .collect()
}

/// The LMS the door judges by: UK-WHO's reference for the corrected age where it is
/// embedded; between term and 2 weeks (UK90's, in the pack), WHO's from birth, close
/// enough there for a limit of 4 SD. None before term and from 4 years.
fn lms_for_plausibility(sex: Sex, measure: Measure, age_years: f64) -> Option<Lms> {
    let refs = GrowthReferences::embedded();
    match lms_at(refs, sex, measure, age_years) {
        Ok((_, lms)) => Some(lms),
        Err(GrowthError::ReferenceNotAvailable {
            reference: Reference::Uk90Preterm,
        }) if age_years >= 0.0 => refs
            .table(Reference::Who2006Infant, measure, sex)?
            .at(age_years),
        Err(_) => None,
    }
}

/// "9 weeks", or "3 weeks (1 week corrected)" for a baby born early enough that the
/// corrected age reads differently; None before term.
fn age_words(
    birth_date: NaiveDate,
    date: NaiveDate,
    chronological: i64,
    corrected: i64,
) -> Option<String> {
    if corrected < 0 {
        return None;
    }
    let actual = child_age_text(birth_date, date);
    let corrected_text = child_age_text(birth_date, birth_date + chrono::Duration::days(corrected));
    Some(if corrected == chronological || corrected_text == actual {
        actual
    } else {
        format!("{actual} ({corrected_text} corrected)")
    })
}

/// The reading of the figure nearest the average among those a slip explains, if one
/// the door would take without asking.
fn suggestion(lms: &Lms, measure: Measure, value: f64) -> Option<Suggestion> {
    let other_unit = match measure {
        Measure::WeightKg => ("lb", 0.453_592_37),
        _ => ("in", 2.54),
    };
    [
        (value / 10.0, None),
        (value * 10.0, None),
        (value / 100.0, None),
        (value * other_unit.1, Some(other_unit.0)),
    ]
    .into_iter()
    .map(|(v, typed_as)| (round_for(measure, v), typed_as))
    .map(|(v, typed_as)| (lms.z(v).abs(), Suggestion { value: v, typed_as }))
    .filter(|(z, _)| *z <= UNUSUAL_BEYOND)
    .min_by(|a, b| a.0.total_cmp(&b.0))
    .map(|(_, s)| s)
}

/// Weights to 10 g, lengths to a millimetre: as the figure would be written.
fn round_for(measure: Measure, v: f64) -> f64 {
    let places = if measure == Measure::WeightKg {
        100.0
    } else {
        10.0
    };
    (v * places).round() / places
}

impl UnusualValue {
    /// What the value is, as the entry names it ("weight", "birth weight").
    pub fn label(&self) -> String {
        model::validate::field_label(self.field).into_owned()
    }

    fn unit(&self) -> &'static str {
        if self.measure == Measure::WeightKg {
            "kg"
        } else {
            "cm"
        }
    }

    /// Without the value (errors and logs never carry it): "is not possible at 2 months
    /// (3 weeks corrected): more than 8 SD above the average for the age".
    pub fn reason(&self) -> String {
        let (judged, limit) = if self.impossible {
            ("is not possible", IMPOSSIBLE_BEYOND)
        } else {
            ("is very unusual", UNUSUAL_BEYOND)
        };
        let side = if self.z > 0.0 { "above" } else { "below" };
        format!(
            "{judged} at {}: more than {limit} SD {side} the average for the age",
            self.age
        )
    }

    /// For the writer who typed it, with the value and what was perhaps meant: "A
    /// weight of 35 kg is not possible at 2 months ...; did you mean 3.5 kg?"
    pub fn advice(&self) -> String {
        let mut text = format!(
            "A {} of {} {} {}",
            self.label(),
            self.value,
            self.unit(),
            self.reason()
        );
        match &self.suggestion {
            Some(s) => {
                text.push_str(&format!("; did you mean {} {}", s.value, self.unit()));
                if let Some(typed_as) = s.typed_as {
                    text.push_str(&format!(" ({} {typed_as})", self.value));
                }
                text.push('?');
            }
            None => text.push('.'),
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Gestation, MeasuredBy, Measurement};

    fn child(sex: model::Sex, birth: &str, gestation: Option<Gestation>) -> ChildDetails {
        ChildDetails {
            name: "Test".into(),
            birth_date: Some(birth.parse().unwrap()),
            sex: Some(sex),
            gestation,
            ..ChildDetails::default()
        }
    }

    fn weighed(on: &str, kg: f64) -> EntryBody {
        EntryBody::Measurement(Measurement {
            date: on.parse().unwrap(),
            weight_kg: Some(kg),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Parent,
        })
    }

    #[test]
    fn a_slipped_decimal_point_is_not_possible_and_the_figure_meant_is_offered() {
        // Nine weeks old, born at 34+2: about 3 weeks after her due date.
        let girl = child(
            model::Sex::Female,
            "2026-10-01",
            Some(Gestation::new(34, 2)),
        );
        let found = unusual_values(&girl, &weighed("2026-12-03", 35.0));
        assert_eq!(found.len(), 1);
        let v = &found[0];
        assert!(v.impossible);
        assert_eq!(v.age, "2 months (3 weeks corrected)");
        assert_eq!(
            v.suggestion,
            Some(Suggestion {
                value: 3.5,
                typed_as: None
            })
        );
        assert!(v
            .advice()
            .starts_with("A weight of 35 kg is not possible at 2 months (3 weeks corrected):"));
        assert!(v.advice().ends_with("did you mean 3.5 kg?"));
        assert!(
            !v.reason().contains("35"),
            "the reason never echoes the value"
        );
        // A usual weight for her age passes.
        assert!(unusual_values(&girl, &weighed("2026-12-03", 5.0)).is_empty());
    }

    #[test]
    fn pounds_typed_for_kilograms_are_recognised() {
        let boy = child(model::Sex::Male, "2026-06-01", None);
        // 6 months: about 7.9 kg; 17.5 "kg" is 7.94 kg written in pounds.
        let found = unusual_values(&boy, &weighed("2026-12-01", 17.5));
        assert_eq!(found.len(), 1);
        assert!(!found[0].impossible, "beyond 4 SD, within 8");
        assert_eq!(found[0].suggestion.as_ref().unwrap().typed_as, Some("lb"));
    }

    #[test]
    fn the_limits_are_rcpchgrowths_four_and_eight_sd() {
        // Boundaries from the LMS itself: just inside 4 SD passes; just beyond is
        // unusual; just beyond 8 SD is not possible.
        let girl = child(model::Sex::Female, "2026-01-01", None);
        let on = "2026-07-01";
        let age = 181.0 / DAYS_PER_YEAR;
        let lms = lms_for_plausibility(Sex::Female, Measure::WeightKg, age).unwrap();
        let at = |z: f64| unusual_values(&girl, &weighed(on, lms.value_at(z)));
        assert!(at(3.99).is_empty());
        assert!(at(-3.99).is_empty());
        assert!(!at(4.01)[0].impossible);
        assert!(!at(-4.01)[0].impossible);
        assert!(!at(7.99)[0].impossible);
        assert!(at(8.01)[0].impossible);
    }

    #[test]
    fn a_preterm_baby_is_judged_at_the_corrected_age_and_not_before_term() {
        // Born at 30+0: at 6 weeks old she is 4 weeks before term; nothing is judged.
        let early = child(
            model::Sex::Female,
            "2026-10-01",
            Some(Gestation::new(30, 0)),
        );
        assert!(unusual_values(&early, &weighed("2026-11-12", 1.6)).is_empty());
        // At 14 weeks old (4 weeks corrected) 3.9 kg is usual; at her chronological age
        // it would be below -2 SD but never beyond 4.
        assert!(unusual_values(&early, &weighed("2027-01-07", 3.9)).is_empty());
        let found = unusual_values(&early, &weighed("2027-01-07", 39.0));
        assert_eq!(found[0].age, "3 months (4 weeks corrected)");
    }

    #[test]
    fn nothing_is_judged_without_sex_or_date_of_birth() {
        let mut unknown = child(model::Sex::Female, "2026-10-01", None);
        unknown.sex = None;
        assert!(unusual_values(&unknown, &weighed("2026-12-03", 35.0)).is_empty());
    }
}
