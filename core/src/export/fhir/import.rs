//! Reads a Bundle `to_bundle` wrote back into a record's details and entries: each
//! Provenance is one entry (its id, author, time, what it corrects, signature) and its
//! targets hold the entry's content. Bad input is refused with the FHIR element named,
//! never its value.
//!
//! Each entry's body is read from its resources in `bodies`.

use super::bodies::body_of;
use super::codes::{
    code_system, device_id_system, entry_id_system, record_id_system, NHS_NUMBER_SYSTEM, ODS_SYSTEM,
};
use super::elements::{
    array, bad, days, extension_value, get, human_name, identifier_value, local_enum,
    optional_date, optional_text, str_at,
};
use crate::model::{
    Author, ChildDetails, EntryBody, EntryId, Gestation, RecordId, Sex, StoredEntry,
    ValidationError,
};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::HashMap;

/// A record read from a Bundle, not yet validated against dates or stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRecord {
    /// The record the Bundle was exported from (`Bundle.identifier`), when it says.
    pub origin: Option<RecordId>,
    pub details: ChildDetails,
    /// Oldest written first, with the author device's signature where there was one.
    pub entries: Vec<(StoredEntry, Option<Vec<u8>>)>,
}

struct Resources<'a> {
    by_reference: HashMap<String, &'a Value>,
}

impl<'a> Resources<'a> {
    fn resolve(&self, reference: &Value, element: &str) -> Result<&'a Value, ValidationError> {
        str_at(reference, &["reference"])
            .and_then(|r| self.by_reference.get(r).copied())
            .ok_or_else(|| bad(element))
    }
}

pub fn from_bundle(json: &[u8]) -> Result<ImportedRecord, ValidationError> {
    let bundle: Value =
        serde_json::from_slice(json).map_err(|_| ValidationError::new("fhir", "is not JSON"))?;
    read_bundle(&bundle)
}

/// `from_bundle` on JSON already parsed.
pub fn read_bundle(bundle: &Value) -> Result<ImportedRecord, ValidationError> {
    if str_at(bundle, &["resourceType"]) != Some("Bundle") {
        return Err(ValidationError::new("fhir", "is not a FHIR Bundle"));
    }
    let mut by_reference = HashMap::new();
    let mut patients = Vec::new();
    let mut provenances = Vec::new();
    for item in array(bundle, "entry") {
        let resource = item
            .get("resource")
            .ok_or_else(|| bad("Bundle.entry.resource"))?;
        let kind = str_at(resource, &["resourceType"]).ok_or_else(|| bad("resourceType"))?;
        if let Some(id) = str_at(resource, &["id"]) {
            by_reference.insert(format!("{kind}/{id}"), resource);
        }
        match kind {
            "Patient" => patients.push(resource),
            "Provenance" => provenances.push(resource),
            _ => {}
        }
    }
    let [patient] = patients.as_slice() else {
        return Err(ValidationError::new(
            "fhir Patient",
            "the Bundle must hold exactly one",
        ));
    };
    let resources = Resources { by_reference };
    let details = details_of(patient)?;
    let mut entries = provenances
        .into_iter()
        .map(|p| entry_of(p, &resources))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort_by(|(a, _), (b, _)| a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id)));
    let origin = (str_at(bundle, &["identifier", "system"]) == Some(record_id_system().as_str()))
        .then(|| str_at(bundle, &["identifier", "value"])?.parse().ok())
        .flatten();
    Ok(ImportedRecord {
        origin,
        details,
        entries,
    })
}

fn details_of(patient: &Value) -> Result<ChildDetails, ValidationError> {
    let name = get(patient, &["name", "0"])
        .and_then(human_name)
        .ok_or_else(|| bad("Patient.name"))?;
    let sex = match str_at(patient, &["gender"]) {
        None => None,
        Some("female") => Some(Sex::Female),
        Some("male") => Some(Sex::Male),
        // "other" and "unknown" have no growth chart: left unset for the app to ask.
        Some(_) => None,
    };
    let gestation = match extension_value(patient, "gestation-at-birth") {
        None => None,
        Some(ext) => Some(Gestation {
            total_days: days(
                get(ext, &["valueQuantity"]),
                "Patient.extension(gestation-at-birth)",
            )?,
        }),
    };
    Ok(ChildDetails {
        name,
        birth_date: optional_date(patient, &["birthDate"], "Patient.birthDate")?,
        sex,
        gestation,
        nhs_number: identifier_value(patient, NHS_NUMBER_SYSTEM).map(str::to_string),
        address: optional_text(patient, &["address", "0", "text"]),
        gp_practice: optional_text(patient, &["generalPractitioner", "0", "display"]),
    })
}

fn entry_of(
    provenance: &Value,
    resources: &Resources,
) -> Result<(StoredEntry, Option<Vec<u8>>), ValidationError> {
    let id: EntryId = str_at(provenance, &["id"])
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| bad("Provenance.id"))?;
    let kind = array(get(provenance, &["meta"]).unwrap_or(&Value::Null), "tag")
        .iter()
        .find(|t| str_at(t, &["system"]) == Some(code_system("entry-kind").as_str()))
        .and_then(|t| str_at(t, &["code"]))
        .ok_or_else(|| bad("Provenance.meta.tag(entry-kind)"))?;
    let recorded_at: DateTime<Utc> = str_at(provenance, &["recorded"])
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| bad("Provenance.recorded"))?;
    let author = author_of(provenance, resources)?;
    let targets = array(provenance, "target")
        .iter()
        .map(|t| resources.resolve(t, "Provenance.target"))
        .collect::<Result<Vec<_>, _>>()?;
    if targets.is_empty() {
        return Err(bad("Provenance.target"));
    }
    let entry_id_of = |resource: &Value| -> Result<EntryId, ValidationError> {
        identifier_value(resource, &entry_id_system())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("identifier(entry)"))
    };
    let activity = array(
        get(provenance, &["activity"]).unwrap_or(&Value::Null),
        "coding",
    )
    .iter()
    .find_map(|c| str_at(c, &["code"]))
    .unwrap_or("CREATE");
    let (body, amends) = if activity == "NULLIFY" {
        let body = EntryBody::EnteredInError {
            target: entry_id_of(targets[0])?,
            reason: optional_text(provenance, &["reason", "0", "text"]).unwrap_or_default(),
        };
        (body, None)
    } else {
        let amends = array(provenance, "entity")
            .iter()
            .find(|e| str_at(e, &["role"]) == Some("revision"))
            .map(|e| {
                resources.resolve(
                    get(e, &["what"]).unwrap_or(&Value::Null),
                    "Provenance.entity.what",
                )
            })
            .transpose()?
            .map(entry_id_of)
            .transpose()?;
        (body_of(kind, &targets, author.role)?, amends)
    };
    let signature = match str_at(provenance, &["signature", "0", "data"]) {
        None => None,
        Some(data) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|_| bad("Provenance.signature.data"))?,
        ),
    };
    Ok((
        StoredEntry {
            id,
            author,
            recorded_at,
            amends,
            body,
            source: None,
            confirmed: false,
        },
        signature,
    ))
}

fn author_of(provenance: &Value, resources: &Resources) -> Result<Author, ValidationError> {
    let agents = array(provenance, "agent");
    let agent_of_type = |code: &str| {
        agents.iter().find(|a| {
            array(get(a, &["type"]).unwrap_or(&Value::Null), "coding")
                .iter()
                .any(|c| str_at(c, &["code"]) == Some(code))
        })
    };
    let person_agent = agent_of_type("author").ok_or_else(|| bad("Provenance.agent(author)"))?;
    let person = resources.resolve(
        get(person_agent, &["who"]).unwrap_or(&Value::Null),
        "Provenance.agent.who",
    )?;
    let role = local_enum(
        get(person_agent, &["role", "0"]).unwrap_or(&Value::Null),
        "role",
        "Provenance.agent.role",
    )?;
    let organisation = match get(person_agent, &["onBehalfOf"]) {
        None => None,
        Some(reference) => {
            let org = resources.resolve(reference, "Provenance.agent.onBehalfOf")?;
            Some(
                identifier_value(org, ODS_SYSTEM)
                    .ok_or_else(|| bad("Organization.identifier"))?
                    .to_string(),
            )
        }
    };
    let device_agent = agent_of_type("DEV").ok_or_else(|| bad("Provenance.agent(device)"))?;
    let device = resources.resolve(
        get(device_agent, &["who"]).unwrap_or(&Value::Null),
        "Provenance.agent.who",
    )?;
    Ok(Author {
        device_id: identifier_value(device, &device_id_system())
            .ok_or_else(|| bad("Device.identifier"))?
            .to_string(),
        role,
        display_name: optional_text(person, &["name", "0", "text"]).ok_or_else(|| bad("name"))?,
        organisation,
    })
}
