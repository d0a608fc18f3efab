//! A child's record as a FHIR R4 (4.0.1) Bundle of type `collection`, and back.
//!
//! Each entry becomes one or more clinical resources (Observation, Immunization,
//! Encounter, Condition, MedicationStatement, AllergyIntolerance, CareTeam), every one
//! carrying the entry's id as an identifier, plus one Provenance naming the author, the
//! device, the time written, what it corrects and, where the entry was signed, the
//! signature. The Provenance's signature is Ed25519 over the entry as redbook stores it
//! (its canonical JSON); the importer rebuilds those exact bytes from the FHIR, so a
//! signature still checks after a round trip only if nothing was lost.
//!
//! Standard codes are used where one exists (LOINC, SNOMED CT, UCUM, HL7 code systems,
//! NHS identifier systems); the rest use this project's code systems under
//! `REDBOOK_FHIR_BASE`, named per concept, whose codes are the model's own names.

//!
//! Here: what the export takes (`ExportSource`) and the small JSON builders its parts
//! share. Writing: `bundle` (the whole), `resources` (per section), `centiles`, `agents`.
//! Reading back: `import` (the whole), `bodies` (per section), `elements` (paths into
//! FHIR JSON, shared with `foreign`, other systems' UK Core).

use super::REDBOOK_FHIR_BASE;
use crate::model::{ChildDetails, EntryId, EntryView, Member};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

mod agents;
mod bodies;
mod bundle;
mod centiles;
mod codes;
mod elements;
pub mod export_rules;
mod foreign;
mod import;
pub mod import_rules;
mod resources;
pub mod vaccines;
pub use codes::*;
#[cfg(test)]
mod tests;
pub use bundle::to_bundle;
// Defined beside the `ImportReport` that holds it, so `child` needs nothing of `export`.
pub use crate::child::NotImported;
pub use foreign::{is_own_export, read_foreign, ForeignEntry, ForeignRecord};
pub use import::{from_bundle, read_bundle, ImportedRecord};

/// What the export needs of a record.
pub struct ExportSource<'a> {
    pub record_id: &'a str,
    pub details: &'a ChildDetails,
    /// Every entry with its status, as `Record::entry_views` gives them.
    pub entries: &'a [EntryView],
    /// The author device's signature per entry, where the record holds one.
    pub signatures: &'a HashMap<EntryId, Vec<u8>>,
    /// The record's member devices: their public keys let a receiver check signatures.
    pub members: &'a [Member],
    /// Centiles and SDS scores the growth engine gave the record's current measurements,
    /// exported as Observations derived from them.
    pub centiles: &'a [ExportedCentile],
    pub exported_at: DateTime<Utc>,
}

/// One measure of one entry as the growth engine assessed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedCentile {
    pub entry_id: EntryId,
    /// The Observation part measured (`weight`, `length`, `height`, `head`, the birth
    /// parts), or `bmi` for a body mass index computed from the entry's weight and length.
    pub part: &'static str,
    pub date: NaiveDate,
    /// The measured value (for `bmi`, the index computed).
    pub value: f64,
    pub centile: f64,
    pub sds: f64,
    /// The reference and the age it was read at, in words (e.g. "UK-WHO, corrected age").
    pub method: String,
}

/// The model's own name for an enum value (its serde name), used as a code.
pub(crate) fn code_of(value: impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A code as words: `six_to_eight_weeks` -> "Six to eight weeks".
pub(crate) fn words(code: &str) -> String {
    let text = code.replace(['_', '-'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

/// A concept from this project's code system for `concept`, coded by the model's name.
fn local_concept(concept: &str, value: impl Serialize) -> Value {
    let code = code_of(value);
    json!({ "coding": [coding(&code_system(concept), &code, &words(&code))], "text": words(&code) })
}

fn quantity(value: f64, unit: &str) -> Value {
    json!({ "value": value, "unit": unit_name(unit), "system": UCUM, "code": unit })
}

/// Declares the UK Core profile a resource meets (`meta.profile`), keeping its tags.
fn declare_profile(resource: &mut Value, profile: &str) {
    resource["meta"]["profile"] = json!([uk_core_profile(profile)]);
}

fn reference(resource_type: &str, id: &str) -> Value {
    json!({ "reference": format!("{resource_type}/{id}") })
}

/// FHIR strings may not be empty: an empty optional text is left out.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|t| !t.is_empty())
}

/// Object keys in a stable order make the file diffable; serde_json's map is sorted.
pub fn to_json_string(bundle: &Value) -> String {
    serde_json::to_string_pretty(bundle).expect("a JSON value always serialises")
}
