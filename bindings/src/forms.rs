//! Forms as typed, read by the core (`redbook_core::view::forms`).

use crate::RedbookError;
use chrono::NaiveDate;
use redbook_core::growth::Measure;
use redbook_core::model::{ChildDetails, EntryBody, NoteKind, Sex};
use redbook_core::view::forms::{self, FieldProblem};
use std::fmt;

/// A form field to fix. `problem` is what to show beside it (never echoing the value);
/// not called `message`: Kotlin exceptions have one.
#[derive(Debug, uniffi::Error)]
pub enum FormError {
    Invalid { field: String, problem: String },
}

impl std::error::Error for FormError {}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let FormError::Invalid { problem, .. } = self;
        f.write_str(problem)
    }
}

impl From<FieldProblem> for FormError {
    fn from(p: FieldProblem) -> Self {
        FormError::Invalid {
            field: p.field,
            problem: p.problem,
        }
    }
}

/// A measurement form as typed ("5,2" or "5.2"; blank for not measured), read into an
/// entry: length or height from the child's age on `date`.
#[uniffi::export]
pub fn read_measurement_form(
    birth_date: Option<NaiveDate>,
    date: String,
    weight_kg: String,
    length_or_height_cm: String,
    head_circumference_cm: String,
    at_home: bool,
) -> Result<EntryBody, FormError> {
    Ok(forms::measurement(
        birth_date,
        &date,
        &weight_kg,
        &length_or_height_cm,
        &head_circumference_cm,
        at_home,
    )?)
}

/// A note form, read into an entry; a blank note is refused.
#[uniffi::export]
pub fn read_note_form(
    date: NaiveDate,
    kind: NoteKind,
    text: String,
) -> Result<EntryBody, FormError> {
    Ok(forms::note(date, kind, &text)?)
}

/// A new child's form as typed: blanks for a gestation or an NHS number not known; the
/// values are checked when the child is added (`RedBook::add_child`).
#[uniffi::export]
pub fn read_child_form(
    name: String,
    birth_date: String,
    sex: Option<Sex>,
    gestation: String,
    nhs_number: String,
) -> Result<ChildDetails, FormError> {
    Ok(forms::child(
        &name,
        &birth_date,
        sex,
        &gestation,
        &nhs_number,
    )?)
}

/// A vaccination's form as typed (the dose as a number, a blank batch when not known);
/// whether the schedule expects it is asked when it is added (`NeedsConfirmation`).
#[uniffi::export]
pub fn read_immunisation_form(
    date: String,
    vaccine: String,
    dose: String,
    batch: String,
) -> Result<EntryBody, FormError> {
    Ok(forms::immunisation(&date, &vaccine, &dose, &batch)?)
}

/// Whether a measurement on `on` is a standing height (from the second birthday) rather
/// than a lying length: which word the form's field shows.
#[uniffi::export]
pub fn measured_standing(birth_date: Option<NaiveDate>, on: NaiveDate) -> bool {
    forms::measured_standing(birth_date, on)
}

/// The words on the measurement form's length field: a lying length before the second
/// birthday, a standing height from it.
#[uniffi::export]
pub fn length_field_label(birth_date: Option<NaiveDate>, on: NaiveDate) -> String {
    forms::length_field_label(birth_date, on).to_string()
}

/// A measure the growth screen offers, with its word ("Length" or "Height" by age).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MeasureChoice {
    pub measure: Measure,
    pub label: String,
}

/// The growth screen's measures for a child on a day, in order, with their words.
#[uniffi::export]
pub fn growth_measure_choices(birth_date: Option<NaiveDate>, on: NaiveDate) -> Vec<MeasureChoice> {
    forms::growth_measures(birth_date, on)
        .into_iter()
        .map(|(measure, label)| MeasureChoice {
            measure,
            label: label.to_string(),
        })
        .collect()
}

/// An `InvalidInput` error's field and reason as a form shows them.
#[uniffi::export]
pub fn input_problem(field: String, reason: String) -> String {
    forms::input_problem(&field, &reason)
}

/// An invitation as the text of its QR code.
#[uniffi::export]
pub fn invitation_qr(invitation: Vec<u8>) -> String {
    forms::invitation_qr(&invitation)
}

/// The invitation a scanned QR code carries; any other code is invalid input.
#[uniffi::export]
pub fn invitation_from_qr(scanned: String) -> Result<Vec<u8>, RedbookError> {
    forms::invitation_from_qr(&scanned).map_err(|p| RedbookError::InvalidInput {
        field: p.field,
        reason: p.problem,
    })
}
