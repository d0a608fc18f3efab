//! Reads a Bundle `to_bundle` wrote back into a record's details and entries: each
//! Provenance is one entry (its id, author, time, what it corrects, signature) and its
//! targets hold the entry's content. Bad input is refused with the FHIR element named,
//! never its value.

use super::{code_system, device_id_system, entry_id_system, extension_url, ODS_SYSTEM};
use super::{DATA_ABSENT_REASON, NHS_NUMBER_SYSTEM};
use crate::model::*;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
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

fn optional_date(
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
fn local_code<'a>(concept_value: &'a Value, concept: &str) -> Option<&'a str> {
    let system = code_system(concept);
    array(concept_value, "coding")
        .iter()
        .find(|c| str_at(c, &["system"]) == Some(system.as_str()))
        .and_then(|c| str_at(c, &["code"]))
}

/// A model enum from its code in this project's code system.
fn local_enum<T: DeserializeOwned>(
    concept_value: &Value,
    concept: &str,
    element: &str,
) -> Result<T, ValidationError> {
    local_code(concept_value, concept)
        .and_then(|code| serde_json::from_value(Value::String(code.to_string())).ok())
        .ok_or_else(|| bad(element))
}

fn has_local_code(concept_value: &Value, concept: &str, code: &str) -> bool {
    local_code(concept_value, concept) == Some(code)
}

pub(super) fn identifier_value<'a>(resource: &'a Value, system: &str) -> Option<&'a str> {
    array(resource, "identifier")
        .iter()
        .find(|i| str_at(i, &["system"]) == Some(system))
        .and_then(|i| str_at(i, &["value"]))
}

fn extension_value<'a>(resource: &'a Value, name: &str) -> Option<&'a Value> {
    let url = extension_url(name);
    array(resource, "extension")
        .iter()
        .find(|e| str_at(e, &["url"]) == Some(url.as_str()))
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
    let origin = (str_at(bundle, &["identifier", "system"])
        == Some(super::record_id_system().as_str()))
    .then(|| str_at(bundle, &["identifier", "value"])?.parse().ok())
    .flatten();
    Ok(ImportedRecord {
        origin,
        details,
        entries,
    })
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

fn days(quantity: Option<&Value>, element: &str) -> Result<u16, ValidationError> {
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

/// Which of this project's observation parts an Observation is.
fn part_of(observation: &Value) -> Option<&str> {
    local_code(get(observation, &["code"])?, "observation")
}

fn quantity_value(observation: &Value, unit: &str, element: &str) -> Result<f64, ValidationError> {
    let q = get(observation, &["valueQuantity"]).ok_or_else(|| bad(element))?;
    if str_at(q, &["code"]) != Some(unit) {
        return Err(ValidationError::new(
            &format!("fhir {element}"),
            "has an unexpected unit",
        ));
    }
    get(q, &["value"])
        .and_then(Value::as_f64)
        .ok_or_else(|| bad(element))
}

/// The component whose code is `name` in this project's code system for `concept`.
fn component<'a>(observation: &'a Value, concept: &str, name: &str) -> Option<&'a Value> {
    array(observation, "component")
        .iter()
        .find(|c| get(c, &["code"]).is_some_and(|code| has_local_code(code, concept, name)))
}

fn component_enum<T: DeserializeOwned>(
    observation: &Value,
    concept: &str,
    name: &str,
    values: &str,
) -> Result<T, ValidationError> {
    let element = format!("Observation.component({name})");
    let value = component(observation, concept, name)
        .and_then(|c| get(c, &["valueCodeableConcept"]))
        .ok_or_else(|| bad(&element))?;
    local_enum(value, values, &element)
}

fn one_of<'a>(targets: &[&'a Value], resource_type: &str) -> Result<&'a Value, ValidationError> {
    targets
        .iter()
        .copied()
        .find(|r| str_at(r, &["resourceType"]) == Some(resource_type))
        .ok_or_else(|| bad(resource_type))
}

/// An entry's resources as the export wrote them: its Observations by part, the rest.
struct Parts<'a> {
    targets: &'a [&'a Value],
    observations: Vec<(&'a str, &'a Value)>,
    author_role: Role,
}

impl<'a> Parts<'a> {
    fn observation(&self, part: &str) -> Option<&'a Value> {
        self.observations
            .iter()
            .find(|(p, _)| *p == part)
            .map(|(_, r)| *r)
    }

    fn integer(&self, part: &str) -> Result<Option<u8>, ValidationError> {
        self.observation(part)
            .map(|o| {
                get(o, &["valueInteger"])
                    .and_then(Value::as_u64)
                    .and_then(|v| u8::try_from(v).ok())
                    .ok_or_else(|| bad("Observation.valueInteger"))
            })
            .transpose()
    }
}

/// An entry's body from its resources, one function per red book section below (the
/// export's, mirrored).
fn body_of(
    kind: &str,
    targets: &[&Value],
    author_role: Role,
) -> Result<EntryBody, ValidationError> {
    let cx = Parts {
        targets,
        observations: targets
            .iter()
            .filter(|r| str_at(r, &["resourceType"]) == Some("Observation"))
            .filter_map(|r| Some((part_of(r)?, *r)))
            .collect(),
        author_role,
    };
    Ok(match kind {
        "measurement" => measurement(&cx)?,
        "birth_details" => birth_details(&cx)?,
        "immunisation" => immunisation(&cx)?,
        "newborn_screening" => newborn_screening(&cx)?,
        "review" => review(&cx)?,
        "health_event" => health_event(&cx)?,
        "medicine" => medicine(&cx)?,
        "allergy" => allergy(&cx)?,
        "contact" => contact(&cx)?,
        "note" => note(&cx)?,
        "parental_heights" => parental_heights(&cx)?,
        "record_closed" => record_closed(&cx)?,
        "risk_factor" => risk_factor(&cx)?,
        _ => {
            return Err(ValidationError::new(
                "fhir Provenance.meta.tag(entry-kind)",
                "names a kind this version does not know",
            ))
        }
    })
}

fn measurement(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let first = cx
            .observations
            .first()
            .map(|(_, r)| *r)
            .ok_or_else(|| bad("Observation"))?;
        let measure = |part: &str, unit: &str| {
            cx.observation(part)
                .map(|o| quantity_value(o, unit, "Observation.valueQuantity"))
                .transpose()
        };
        let measured_by =
            match extension_value(first, "measured-by").and_then(|e| str_at(e, &["valueCode"])) {
                Some(code) => serde_json::from_value(Value::String(code.to_string()))
                    .map_err(|_| bad("Observation.extension(measured-by)"))?,
                None if cx.author_role.is_professional() => MeasuredBy::Professional,
                None => MeasuredBy::Parent,
            };
        EntryBody::Measurement(Measurement {
            date: date_at(
                first,
                &["effectiveDateTime"],
                "Observation.effectiveDateTime",
            )?,
            weight_kg: measure("weight", "kg")?,
            length_cm: measure("length", "cm")?,
            height_cm: measure("height", "cm")?,
            head_circumference_cm: measure("head", "cm")?,
            measured_by,
        })
    })
}

fn birth_details(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let measure = |part: &str, unit: &str| {
            cx.observation(part)
                .map(|o| quantity_value(o, unit, "Observation.valueQuantity"))
                .transpose()
        };
        let delivery = cx.observation("delivery");
        let place = delivery
            .and_then(|d| component(d, "delivery", "place_of_birth"))
            .and_then(|c| optional_text(c, &["valueString"]));
        let delivery_mode = delivery
            .and_then(|d| component(d, "delivery", "delivery_mode"))
            .map(|c| {
                local_enum(
                    get(c, &["valueCodeableConcept"]).unwrap_or(&Value::Null),
                    "delivery-mode",
                    "Observation.component(delivery_mode)",
                )
            })
            .transpose()?;
        EntryBody::BirthDetails(BirthDetails {
            gestation: cx
                .observation("gestation")
                .map(|o| days(get(o, &["valueQuantity"]), "Observation.valueQuantity"))
                .transpose()?
                .map(|total_days| Gestation { total_days }),
            birth_weight_kg: measure("birth-weight", "kg")?,
            head_circumference_cm: measure("birth-head", "cm")?,
            length_cm: measure("birth-length", "cm")?,
            place_of_birth: place,
            delivery_mode,
            apgar_1_min: cx.integer("apgar-1")?,
            apgar_5_min: cx.integer("apgar-5")?,
        })
    })
}

fn immunisation(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let i = one_of(cx.targets, "Immunization")?;
        let codings = array(get(i, &["vaccineCode"]).unwrap_or(&Value::Null), "coding");
        let product = codings
            .iter()
            .find(|c| str_at(c, &["system"]) == Some(code_system("vaccine-product").as_str()))
            .and_then(|c| optional_text(c, &["display"]));
        let vaccine = optional_text(i, &["vaccineCode", "text"])
            .or_else(|| codings.iter().find_map(|c| optional_text(c, &["display"])))
            .ok_or_else(|| bad("Immunization.vaccineCode"))?;
        let dose = match get(i, &["protocolApplied", "0", "doseNumberPositiveInt"]) {
            None => 1,
            Some(v) => v
                .as_u64()
                .and_then(|d| u8::try_from(d).ok())
                .ok_or_else(|| bad("Immunization.protocolApplied.doseNumber"))?,
        };
        let given_by = array(i, "performer")
            .iter()
            .find(|p| {
                array(get(p, &["function"]).unwrap_or(&Value::Null), "coding")
                    .iter()
                    .any(|c| str_at(c, &["code"]) == Some("AP"))
            })
            .and_then(|p| optional_text(p, &["actor", "display"]));
        EntryBody::Immunisation(Immunisation {
            date: date_at(
                i,
                &["occurrenceDateTime"],
                "Immunization.occurrenceDateTime",
            )?,
            vaccine,
            dose,
            product,
            batch: optional_text(i, &["lotNumber"]),
            site: optional_text(i, &["site", "text"]),
            route: optional_text(i, &["route", "text"]),
            given_by,
        })
    })
}

fn newborn_screening(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let (part, o) = cx
            .observations
            .first()
            .copied()
            .ok_or_else(|| bad("Observation"))?;
        let date = date_at(o, &["effectiveDateTime"], "Observation.effectiveDateTime")?;
        let screening = match part {
            "nipe" => NewbornScreening::Nipe {
                date,
                stage: component_enum(o, "nipe", "stage", "nipe-stage")?,
                hips: component_enum(o, "nipe", "hips", "screening-result")?,
                eyes: component_enum(o, "nipe", "eyes", "screening-result")?,
                heart: component_enum(o, "nipe", "heart", "screening-result")?,
                testes: component(o, "nipe", "testes")
                    .map(|_| component_enum(o, "nipe", "testes", "screening-result"))
                    .transpose()?,
            },
            "newborn-hearing" => NewbornScreening::Hearing {
                date,
                left: component_enum(o, "newborn-hearing", "left", "hearing-ear-result")?,
                right: component_enum(o, "newborn-hearing", "right", "hearing-ear-result")?,
                outcome: component_enum(o, "newborn-hearing", "outcome", "hearing-outcome")?,
            },
            "blood-spot" => NewbornScreening::BloodSpot {
                sample_date: date,
                results: array(o, "component")
                    .iter()
                    .map(|c| {
                        Ok(BloodSpotResult {
                            condition: local_enum(
                                get(c, &["code"]).unwrap_or(&Value::Null),
                                "blood-spot-condition",
                                "Observation.component.code",
                            )?,
                            outcome: local_enum(
                                get(c, &["valueCodeableConcept"]).unwrap_or(&Value::Null),
                                "blood-spot-outcome",
                                "Observation.component.value",
                            )?,
                        })
                    })
                    .collect::<Result<_, ValidationError>>()?,
            },
            _ => return Err(bad("Observation.code")),
        };
        EntryBody::NewbornScreening(screening)
    })
}

fn review(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let encounter = one_of(cx.targets, "Encounter")?;
        let o = cx
            .observation("review-outcome")
            .ok_or_else(|| bad("Observation(review-outcome)"))?;
        let asq_system = code_system("asq3-domain");
        let asq3_scores = array(o, "component")
            .iter()
            .filter(|c| {
                array(get(c, &["code"]).unwrap_or(&Value::Null), "coding")
                    .iter()
                    .any(|k| str_at(k, &["system"]) == Some(asq_system.as_str()))
            })
            .map(|c| {
                Ok(AsqScore {
                    domain: optional_text(c, &["code", "text"])
                        .ok_or_else(|| bad("Observation.component.code"))?,
                    score: get(c, &["valueInteger"])
                        .and_then(Value::as_u64)
                        .and_then(|s| u16::try_from(s).ok())
                        .ok_or_else(|| bad("Observation.component.valueInteger"))?,
                })
            })
            .collect::<Result<_, ValidationError>>()?;
        EntryBody::Review(Review {
            date: date_at(encounter, &["period", "start"], "Encounter.period.start")?,
            kind: local_enum(
                get(encounter, &["type", "0"]).unwrap_or(&Value::Null),
                "review-kind",
                "Encounter.type",
            )?,
            outcome: optional_text(o, &["valueString"]).unwrap_or_default(),
            asq3_scores,
            advice: component(o, "review", "advice")
                .and_then(|c| optional_text(c, &["valueString"])),
        })
    })
}

fn health_event(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        if let Ok(condition) = one_of(cx.targets, "Condition") {
            EntryBody::HealthEvent(HealthEvent {
                date: date_at(condition, &["onsetDateTime"], "Condition.onsetDateTime")?,
                kind: local_enum(
                    get(condition, &["category", "0"]).unwrap_or(&Value::Null),
                    "health-event-kind",
                    "Condition.category",
                )?,
                description: optional_text(condition, &["code", "text"])
                    .ok_or_else(|| bad("Condition.code"))?,
                place: extension_value(condition, "place")
                    .and_then(|e| optional_text(e, &["valueString"])),
                outcome: optional_text(condition, &["note", "0", "text"]),
            })
        } else {
            let encounter = one_of(cx.targets, "Encounter")?;
            EntryBody::HealthEvent(HealthEvent {
                date: date_at(encounter, &["period", "start"], "Encounter.period.start")?,
                kind: local_enum(
                    get(encounter, &["type", "0"]).unwrap_or(&Value::Null),
                    "health-event-kind",
                    "Encounter.type",
                )?,
                description: optional_text(encounter, &["reasonCode", "0", "text"])
                    .ok_or_else(|| bad("Encounter.reasonCode"))?,
                place: optional_text(encounter, &["location", "0", "location", "display"]),
                outcome: optional_text(
                    encounter,
                    &["hospitalization", "dischargeDisposition", "text"],
                ),
            })
        }
    })
}

fn medicine(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let m = one_of(cx.targets, "MedicationStatement")?;
        EntryBody::Medicine(Medicine {
            name: optional_text(m, &["medicationCodeableConcept", "text"])
                .ok_or_else(|| bad("MedicationStatement.medication"))?,
            dose: optional_text(m, &["dosage", "0", "text"]),
            started: date_at(
                m,
                &["effectivePeriod", "start"],
                "MedicationStatement.effectivePeriod.start",
            )?,
            stopped: optional_date(
                m,
                &["effectivePeriod", "end"],
                "MedicationStatement.effectivePeriod.end",
            )?,
            reason: optional_text(m, &["reasonCode", "0", "text"]),
        })
    })
}

fn allergy(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let a = one_of(cx.targets, "AllergyIntolerance")?;
        let manifestation = get(a, &["reaction", "0", "manifestation", "0"]);
        let not_recorded = manifestation.is_some_and(|m| {
            array(m, "coding")
                .iter()
                .any(|c| str_at(c, &["system"]) == Some(DATA_ABSENT_REASON))
        });
        let severity = match str_at(a, &["reaction", "0", "severity"]) {
            None => AllergySeverity::Unknown,
            Some(code) => serde_json::from_value(Value::String(code.to_string()))
                .map_err(|_| bad("AllergyIntolerance.reaction.severity"))?,
        };
        EntryBody::Allergy(Allergy {
            substance: optional_text(a, &["code", "text"])
                .ok_or_else(|| bad("AllergyIntolerance.code"))?,
            reaction: manifestation
                .filter(|_| !not_recorded)
                .and_then(|m| optional_text(m, &["text"])),
            severity,
            noted_on: optional_date(a, &["recordedDate"], "AllergyIntolerance.recordedDate")?,
        })
    })
}

fn contact(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let c = one_of(cx.targets, "CareTeam")?;
        EntryBody::Contact(Contact {
            role: local_enum(
                get(c, &["participant", "0", "role", "0"]).unwrap_or(&Value::Null),
                "contact-role",
                "CareTeam.participant.role",
            )?,
            name: optional_text(c, &["participant", "0", "member", "display"])
                .ok_or_else(|| bad("CareTeam.participant.member"))?,
            phone: optional_text(c, &["telecom", "0", "value"]),
        })
    })
}

fn note(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let o = cx
            .observation("note")
            .ok_or_else(|| bad("Observation(note)"))?;
        EntryBody::Note(Note {
            date: date_at(o, &["effectiveDateTime"], "Observation.effectiveDateTime")?,
            kind: local_enum(
                get(o, &["code"]).unwrap_or(&Value::Null),
                "note-kind",
                "Observation.code",
            )?,
            text: optional_text(o, &["valueString"])
                .ok_or_else(|| bad("Observation.valueString"))?,
        })
    })
}

fn parental_heights(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let first = cx
            .observations
            .first()
            .map(|(_, r)| *r)
            .ok_or_else(|| bad("Observation"))?;
        let height = |part: &str| {
            cx.observation(part)
                .map(|o| quantity_value(o, "cm", "Observation.valueQuantity"))
                .transpose()
        };
        EntryBody::ParentalHeights(ParentalHeights {
            date: date_at(
                first,
                &["effectiveDateTime"],
                "Observation.effectiveDateTime",
            )?,
            mother_cm: height("mother-height")?,
            father_cm: height("father-height")?,
            measured_by: extension_value(first, "measured-by")
                .and_then(|e| str_at(e, &["valueCode"]))
                .and_then(|code| serde_json::from_value(Value::String(code.into())).ok())
                .ok_or_else(|| bad("Observation.extension(measured-by)"))?,
        })
    })
}

fn record_closed(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let o = cx
            .observation("record-closed")
            .ok_or_else(|| bad("Observation(record-closed)"))?;
        EntryBody::RecordClosed(RecordClosure {
            date: date_at(o, &["effectiveDateTime"], "Observation.effectiveDateTime")?,
            reason: local_enum(
                get(o, &["valueCodeableConcept"]).unwrap_or(&Value::Null),
                "closure-reason",
                "Observation.valueCodeableConcept",
            )?,
        })
    })
}

fn risk_factor(cx: &Parts) -> Result<EntryBody, ValidationError> {
    Ok({
        let o = cx
            .observation("risk-factor")
            .ok_or_else(|| bad("Observation(risk-factor)"))?;
        EntryBody::RiskFactor(RiskFactor {
            date: date_at(o, &["effectiveDateTime"], "Observation.effectiveDateTime")?,
            factor: local_enum(
                get(o, &["code"]).unwrap_or(&Value::Null),
                "risk-factor",
                "Observation.code",
            )?,
            present: get(o, &["valueBoolean"])
                .and_then(Value::as_bool)
                .ok_or_else(|| bad("Observation.valueBoolean"))?,
        })
    })
}
