//! Forms as people type them, read into entries: numbers with either decimal mark, blanks
//! for what was not measured, each problem tied to its field and worded for the form. The
//! apps pass the text through and show the answer, so both say the same thing.

use crate::growth::Measure;
use crate::model::{
    ChildDetails, EntryBody, Gestation, Immunisation, MeasuredBy, Measurement, Note, NoteKind, Sex,
};
use base64::Engine;
use chrono::{Months, NaiveDate};

/// Which field of a form to fix, and what to tell the person (never echoing the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl FieldProblem {
    fn new(field: &str, problem: &str) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

// What the FFI says when a value does not even convert (a date, an id, a key's bytes, a
// file), so those refusals read like the core's own.

/// A date that is not ISO 8601 ("2026-01-31").
pub const EXPECTED_DATE: &str = "expected YYYY-MM-DD";
/// A record or entry id that is not one.
pub const EXPECTED_ID: &str = "expected 32 hex digits";
/// A raw database key of the wrong length.
pub const EXPECTED_KEY: &str = "must be 32 bytes";
/// An organisation's or a device's public key of the wrong length.
pub const EXPECTED_PUBLIC_KEY: &str = "an Ed25519 public key is 32 bytes";
/// A file named by the app that cannot be read.
pub const UNREADABLE_FILE: &str = "cannot be read";

/// A field's name as a form shows it ("weight_kg" → "Weight"): the model's words,
/// capitalised.
pub fn field_label(field: &str) -> String {
    let label = crate::model::validate::field_label(field);
    let mut chars = label.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The core's refusal of a value (`Error::InvalidInput`) as a form shows it beside the
/// field: "Weight must be between 0.2 and 250 kg".
pub fn input_problem(field: &str, reason: &str) -> String {
    format!("{} {reason}", field_label(field))
}

/// Lying length under 2 years, standing height from the second birthday (the UK-WHO
/// charts' rule): whether a measurement on `on` is a height. Without a date of birth it
/// is taken as a length, as for a baby.
pub fn measured_standing(birth_date: Option<NaiveDate>, on: NaiveDate) -> bool {
    birth_date
        .and_then(|birth| birth.checked_add_months(Months::new(24)))
        .is_some_and(|second_birthday| on >= second_birthday)
}

/// The measurement form's length field as the child is measured on `on`: lying down
/// before the second birthday, standing from it (`measured_standing`).
pub fn length_field_label(birth_date: Option<NaiveDate>, on: NaiveDate) -> &'static str {
    if measured_standing(birth_date, on) {
        "height cm (standing)"
    } else {
        "length cm (lying down)"
    }
}

/// The growth screen's measures for a child on `on`, in the order it offers them, each
/// with its word: "Length" before the second birthday, "Height" from it
/// (`measured_standing`), as the chart names the measure.
pub fn growth_measures(
    birth_date: Option<NaiveDate>,
    on: NaiveDate,
) -> Vec<(Measure, &'static str)> {
    let length = if measured_standing(birth_date, on) {
        "Height"
    } else {
        "Length"
    };
    vec![
        (Measure::WeightKg, "Weight"),
        (Measure::HeightCm, length),
        (Measure::HeadCircumferenceCm, "Head"),
    ]
}

/// Blank is "not measured"; otherwise a number with . or , as the decimal mark.
fn number(text: &str) -> Result<Option<f64>, ()> {
    let trimmed = text.trim().replace(',', ".");
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed.parse::<f64>().map(Some).map_err(|_| ())
}

fn date(text: &str) -> Result<NaiveDate, FieldProblem> {
    text.trim()
        .parse()
        .map_err(|_| FieldProblem::new("date", &input_problem("date", EXPECTED_DATE)))
}

/// A measurement form: weight, length or height (which one from the child's age on the
/// day), head circumference, each as typed; `at_home` when a parent measured. The
/// numbers' ranges are the core's to check when the entry is added.
pub fn measurement(
    birth_date: Option<NaiveDate>,
    on: &str,
    weight_kg: &str,
    length_or_height_cm: &str,
    head_cm: &str,
    at_home: bool,
) -> Result<EntryBody, FieldProblem> {
    let weight = number(weight_kg)
        .map_err(|_| FieldProblem::new("weight_kg", "Enter the weight in kilograms, like 5.2"))?;
    let length = number(length_or_height_cm).map_err(|_| {
        FieldProblem::new("length_cm", "Enter the length in centimetres, like 58.5")
    })?;
    let head = number(head_cm).map_err(|_| {
        FieldProblem::new(
            "head_circumference_cm",
            "Enter the head circumference in centimetres",
        )
    })?;
    if weight.is_none() && length.is_none() && head.is_none() {
        return Err(FieldProblem::new(
            "measurement",
            "Enter at least one measurement",
        ));
    }
    let on = date(on)?;
    let standing = measured_standing(birth_date, on);
    Ok(EntryBody::Measurement(Measurement {
        date: on,
        weight_kg: weight,
        length_cm: if standing { None } else { length },
        height_cm: if standing { length } else { None },
        head_circumference_cm: head,
        measured_by: if at_home {
            MeasuredBy::Parent
        } else {
            MeasuredBy::Professional
        },
    }))
}

/// A note written on `on`: refused when blank, kept without the spaces around it.
pub fn note(on: NaiveDate, kind: NoteKind, text: &str) -> Result<EntryBody, FieldProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldProblem::new("text", "Write something first"));
    }
    Ok(EntryBody::Note(Note {
        date: on,
        kind,
        text: text.into(),
    }))
}

/// Blank is "not given"; otherwise the text without the spaces around it.
fn optional(text: &str) -> Option<String> {
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// A new child's form: name, date of birth, sex, gestation at birth (weeks+days, blank
/// when not known) and NHS number (blank when not known yet). The core checks the values
/// (a date of birth in the future, an NHS number's check digit) when the child is added.
pub fn child(
    name: &str,
    birth_date: &str,
    sex: Option<Sex>,
    gestation: &str,
    nhs_number: &str,
) -> Result<ChildDetails, FieldProblem> {
    let name = optional(name).ok_or_else(|| FieldProblem::new("name", "Enter the child's name"))?;
    let birth_date: NaiveDate = birth_date.trim().parse().map_err(|_| {
        FieldProblem::new("birth_date", &input_problem("birth_date", EXPECTED_DATE))
    })?;
    let sex = sex.ok_or_else(|| FieldProblem::new("sex", "Choose female or male"))?;
    let gestation = optional(gestation)
        .map(|g| g.parse::<Gestation>())
        .transpose()
        .map_err(|_| {
            FieldProblem::new("gestation", "Enter the gestation as weeks+days, like 39+4")
        })?;
    Ok(ChildDetails {
        name,
        birth_date: Some(birth_date),
        sex: Some(sex),
        gestation,
        nhs_number: optional(nhs_number),
        ..Default::default()
    })
}

/// A vaccination as a parent copies it from the clinic's card or a nurse types it: the
/// day, the vaccine as the schedule names it, the dose number, the batch (blank when not
/// known). Whether the schedule expects it is the core's to check when it is added.
pub fn immunisation(
    on: &str,
    vaccine: &str,
    dose: &str,
    batch: &str,
) -> Result<EntryBody, FieldProblem> {
    let vaccine = optional(vaccine)
        .ok_or_else(|| FieldProblem::new("vaccine", "Enter the vaccine, like 6-in-1"))?;
    let dose = dose
        .trim()
        .parse::<u8>()
        .ok()
        .filter(|d| *d >= 1)
        .ok_or_else(|| FieldProblem::new("dose", "Enter the dose number, like 1"))?;
    Ok(EntryBody::Immunisation(Immunisation {
        date: date(on)?,
        vaccine,
        dose,
        product: None,
        batch: optional(batch),
        site: None,
        route: None,
        given_by: None,
    }))
}

/// What an invitation's QR code says, so a scanner can tell it from any other code.
const INVITATION_PREFIX: &str = "rbinv1:";

/// An invitation (`RedBook::share`'s bytes) as the text of a QR code.
pub fn invitation_qr(invitation: &[u8]) -> String {
    format!(
        "{INVITATION_PREFIX}{}",
        base64::engine::general_purpose::STANDARD.encode(invitation)
    )
}

/// The invitation a scanned QR code carries, or what to tell the person scanning.
pub fn invitation_from_qr(scanned: &str) -> Result<Vec<u8>, FieldProblem> {
    let encoded = scanned
        .trim()
        .strip_prefix(INVITATION_PREFIX)
        .ok_or_else(|| {
            FieldProblem::new("invitation", "this QR code is not a red book invitation")
        })?;
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| {
            FieldProblem::new(
                "invitation",
                "the QR code was not read whole; scan it again",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn length_until_the_second_birthday_then_height() {
        let birth = Some(day("2024-02-29"));
        assert!(!measured_standing(birth, day("2026-02-27")));
        assert!(measured_standing(birth, day("2026-02-28")));
        assert!(!measured_standing(None, day("2030-01-01")));
        let Ok(EntryBody::Measurement(m)) = measurement(birth, "2026-03-01", "", "86,5", "", true)
        else {
            panic!("a height was refused");
        };
        assert_eq!((m.length_cm, m.height_cm), (None, Some(86.5)));
        assert_eq!(m.measured_by, MeasuredBy::Parent);
        let Ok(EntryBody::Measurement(m)) =
            measurement(birth, "2025-03-01", "9.1", "74", " ", false)
        else {
            panic!("a length was refused");
        };
        assert_eq!(
            (m.weight_kg, m.length_cm, m.height_cm),
            (Some(9.1), Some(74.0), None)
        );
        assert_eq!(m.head_circumference_cm, None);
    }

    #[test]
    fn each_problem_names_its_field() {
        let birth = Some(day("2026-01-10"));
        let field = |r: Result<EntryBody, FieldProblem>| r.unwrap_err().field;
        assert_eq!(
            field(measurement(birth, "2026-02-19", "five", "", "", false)),
            "weight_kg"
        );
        assert_eq!(
            field(measurement(birth, "2026-02-19", "", "5l", "", false)),
            "length_cm"
        );
        assert_eq!(
            field(measurement(birth, "2026-02-19", "", "", "x", false)),
            "head_circumference_cm"
        );
        assert_eq!(
            measurement(birth, "2026-02-19", " ", "", "", false),
            Err(FieldProblem::new(
                "measurement",
                "Enter at least one measurement"
            ))
        );
        assert_eq!(
            measurement(birth, "19/02/2026", "5.2", "", "", false),
            Err(FieldProblem::new("date", "Date expected YYYY-MM-DD"))
        );
        assert_eq!(
            note(day("2026-02-19"), NoteKind::Observation, "   "),
            Err(FieldProblem::new("text", "Write something first"))
        );
    }

    #[test]
    fn the_length_field_is_a_height_from_the_second_birthday() {
        let born = "2024-06-01".parse().ok();
        let on = |d: &str| d.parse().unwrap();
        assert_eq!(
            length_field_label(born, on("2026-05-31")),
            "length cm (lying down)"
        );
        assert_eq!(
            length_field_label(born, on("2026-06-01")),
            "height cm (standing)"
        );
        assert_eq!(
            length_field_label(None, on("2026-06-01")),
            "length cm (lying down)"
        );
    }

    #[test]
    fn the_growth_screen_offers_length_until_the_second_birthday_then_height() {
        let born = "2024-06-01".parse().ok();
        let words = |on: &str| -> Vec<&str> {
            growth_measures(born, on.parse().unwrap())
                .into_iter()
                .map(|(_, word)| word)
                .collect()
        };
        assert_eq!(words("2026-05-31"), ["Weight", "Length", "Head"]);
        assert_eq!(words("2026-06-01"), ["Weight", "Height", "Head"]);
        let measures: Vec<Measure> = growth_measures(None, "2026-06-01".parse().unwrap())
            .into_iter()
            .map(|(measure, _)| measure)
            .collect();
        assert_eq!(
            measures,
            [
                Measure::WeightKg,
                Measure::HeightCm,
                Measure::HeadCircumferenceCm
            ]
        );
    }

    #[test]
    fn fields_are_worded_for_the_form() {
        assert_eq!(
            input_problem("weight_kg", "must be between 0.2 and 250 kg"),
            "Weight must be between 0.2 and 250 kg"
        );
        assert_eq!(field_label("nhs_number"), "NHS number");
        assert_eq!(field_label("gp_practice"), "GP practice");
        assert_eq!(field_label("head_circumference_cm"), "Head circumference");
    }

    #[test]
    fn a_child_form_is_read_with_blanks_for_what_is_not_known() {
        let details = child(" Amara ", "2026-09-14", Some(Sex::Female), " ", "").unwrap();
        assert_eq!(details.name, "Amara");
        assert_eq!(details.birth_date, Some(day("2026-09-14")));
        assert_eq!((details.gestation, details.nhs_number), (None, None));
        let early = child(
            "Kofi",
            "2026-09-14",
            Some(Sex::Male),
            "34+2",
            "943 476 5919",
        )
        .unwrap();
        assert_eq!(early.gestation, Some(Gestation::new(34, 2)));
        assert_eq!(early.nhs_number.as_deref(), Some("943 476 5919"));
        let field = |r: Result<ChildDetails, FieldProblem>| r.unwrap_err().field;
        assert_eq!(
            field(child(" ", "2026-09-14", Some(Sex::Male), "", "")),
            "name"
        );
        assert_eq!(
            field(child("Kofi", "14/09/2026", Some(Sex::Male), "", "")),
            "birth_date"
        );
        assert_eq!(field(child("Kofi", "2026-09-14", None, "", "")), "sex");
        assert_eq!(
            child("Kofi", "2026-09-14", Some(Sex::Male), "34 weeks", ""),
            Err(FieldProblem::new(
                "gestation",
                "Enter the gestation as weeks+days, like 39+4"
            ))
        );
    }

    #[test]
    fn an_immunisation_form_needs_a_vaccine_and_a_dose() {
        let Ok(EntryBody::Immunisation(given)) = immunisation("2026-11-16", " 6-in-1 ", "1", "")
        else {
            panic!("refused");
        };
        assert_eq!(
            (given.vaccine.as_str(), given.dose, given.batch),
            ("6-in-1", 1, None)
        );
        let field = |r: Result<EntryBody, FieldProblem>| r.unwrap_err().field;
        assert_eq!(field(immunisation("2026-11-16", "", "1", "")), "vaccine");
        assert_eq!(
            field(immunisation("2026-11-16", "MenB", "first", "")),
            "dose"
        );
        assert_eq!(field(immunisation("2026-11-16", "MenB", "0", "")), "dose");
        assert_eq!(field(immunisation("16 Nov", "MenB", "1", "")), "date");
    }

    #[test]
    fn an_invitation_crosses_as_a_qr_code() {
        let bytes = vec![0, 1, 2, 250, 251];
        assert_eq!(
            invitation_from_qr(&format!(" {}\n", invitation_qr(&bytes))),
            Ok(bytes)
        );
        assert_eq!(
            invitation_from_qr("https://example.com").unwrap_err().field,
            "invitation"
        );
        assert_eq!(
            invitation_from_qr("rbinv1:%%").unwrap_err().problem,
            "the QR code was not read whole; scan it again"
        );
    }
}
