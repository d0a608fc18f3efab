//! Elements of FHIR JSON, read by path: texts, dates, codes in this project's code
//! systems, identifiers, extensions. A missing or malformed one is refused naming the
//! element, never its value. Shared by the import of redbook's own Bundles and of other
//! systems' UK Core.

use super::codes::{code_system, extension_url};
use crate::model::ValidationError;
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(super) fn bad(element: &str) -> ValidationError {
    ValidationError::new(&format!("fhir {element}"), "is missing or malformed")
}

pub(super) fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| match key.parse::<usize>() {
            Ok(index) => v.get(index),
            Err(_) => v.get(key),
        })
}

pub(super) fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(value, path)?.as_str()
}

pub(super) fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A FHIR date or dateTime as the calendar date it names.
pub(super) fn date_at(
    value: &Value,
    path: &[&str],
    element: &str,
) -> Result<NaiveDate, ValidationError> {
    str_at(value, path)
        .and_then(|s| s.get(..10))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(element))
}

pub(super) fn optional_date(
    value: &Value,
    path: &[&str],
    element: &str,
) -> Result<Option<NaiveDate>, ValidationError> {
    match get(value, path) {
        None => Ok(None),
        Some(_) => date_at(value, path, element).map(Some),
    }
}

pub(super) fn optional_text(value: &Value, path: &[&str]) -> Option<String> {
    str_at(value, path).map(str::to_string)
}

/// The code of a concept's coding in this project's code system for `concept`.
pub(super) fn local_code<'a>(concept_value: &'a Value, concept: &str) -> Option<&'a str> {
    let system = code_system(concept);
    array(concept_value, "coding")
        .iter()
        .find(|c| str_at(c, &["system"]) == Some(system.as_str()))
        .and_then(|c| str_at(c, &["code"]))
}

/// A model enum from its code in this project's code system.
pub(super) fn local_enum<T: DeserializeOwned>(
    concept_value: &Value,
    concept: &str,
    element: &str,
) -> Result<T, ValidationError> {
    local_code(concept_value, concept)
        .and_then(|code| serde_json::from_value(Value::String(code.to_string())).ok())
        .ok_or_else(|| bad(element))
}

pub(super) fn has_local_code(concept_value: &Value, concept: &str, code: &str) -> bool {
    local_code(concept_value, concept) == Some(code)
}

pub(super) fn identifier_value<'a>(resource: &'a Value, system: &str) -> Option<&'a str> {
    array(resource, "identifier")
        .iter()
        .find(|i| str_at(i, &["system"]) == Some(system))
        .and_then(|i| str_at(i, &["value"]))
}

pub(super) fn extension_value<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    let url = extension_url(name);
    array(resource, "extension")
        .iter()
        .find(|e| str_at(e, &["url"]) == Some(url.as_str()))
}

/// A HumanName as one line: its text, else its parts (another system may give only
/// those), else None.
pub(super) fn human_name(name: &Value) -> Option<String> {
    optional_text(name, &["text"]).or_else(|| {
        let parts: Vec<&str> = array(name, "prefix")
            .iter()
            .chain(array(name, "given"))
            .chain(name.get("family"))
            .filter_map(Value::as_str)
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    })
}

/// A FHIR Quantity of days or weeks, in whole days.
pub(super) fn days(quantity: Option<&Value>, element: &str) -> Result<u16, ValidationError> {
    let quantity = quantity.ok_or_else(|| bad(element))?;
    let value = get(quantity, &["value"])
        .and_then(Value::as_f64)
        .ok_or_else(|| bad(element))?;
    let days = match str_at(quantity, &["code"]) {
        Some("d") => value,
        Some("wk") => value * 7.0,
        _ => return Err(bad(element)),
    };
    if !(0.0..=u16::MAX as f64).contains(&days) {
        return Err(bad(element));
    }
    Ok(days.round() as u16)
}
