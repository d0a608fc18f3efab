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

use super::REDBOOK_FHIR_BASE;
use crate::model::{
    Author, ChildDetails, EntryBody, EntryId, EntryStatus, EntryView, Member, NewbornScreening,
    Role, Sex,
};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

mod import;
#[cfg(test)]
mod tests;
pub use import::{from_bundle, ImportedRecord};

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// NHS England's identifier systems (fhir.nhs.uk, UK Core).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
const PARTICIPATION_TYPE: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const PROVENANCE_AGENT_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
const PERFORMER_FUNCTION: &str = "http://terminology.hl7.org/CodeSystem/v2-0443";
const DATA_ABSENT_REASON: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const CONDITION_VERIFICATION: &str = "http://terminology.hl7.org/CodeSystem/condition-ver-status";
const ALLERGY_CLINICAL: &str = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
const ALLERGY_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
/// ASTM E1762-95 signature types, the system FHIR R4's Signature.type binds to.
const SIGNATURE_TYPE: &str = "urn:iso-astm:E1762-95:2013";

/// This project's code system for one concept, e.g. `code_system("delivery-mode")`.
pub fn code_system(concept: &str) -> String {
    format!("{REDBOOK_FHIR_BASE}/CodeSystem/{concept}")
}

pub fn extension_url(name: &str) -> String {
    format!("{REDBOOK_FHIR_BASE}/StructureDefinition/{name}")
}

fn entry_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/entry")
}
fn record_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/record")
}
fn device_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/device")
}

/// One kind of Observation this export writes: its part name (this project's code), and
/// the standard codes. Sources: LOINC (loinc.org) and SNOMED CT UK edition; codes
/// docs/domain.md lists come from NHS Digital Child Health (STU3) events CH005/CH018.
pub struct ObservationKind {
    pub part: &'static str,
    pub display: &'static str,
    pub loinc: Option<&'static str>,
    pub snomed: Option<&'static str>,
    pub category: &'static str,
    /// UCUM unit of the value, for quantities.
    pub unit: Option<&'static str>,
}

pub const OBSERVATION_KINDS: &[ObservationKind] = &[
    // LOINC 29463-7 "Body weight"; SNOMED 27113001 (docs/domain.md, CH018).
    obs(
        "weight",
        "Body weight",
        Some("29463-7"),
        Some("27113001"),
        "vital-signs",
        Some("kg"),
    ),
    // LOINC 8306-3 "Body height --lying"; SNOMED 248334005 "Length of body".
    obs(
        "length",
        "Body length (lying)",
        Some("8306-3"),
        Some("248334005"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8302-2 "Body height"; SNOMED 50373000 "Body height measure".
    obs(
        "height",
        "Body height",
        Some("8302-2"),
        Some("50373000"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 9843-4 "Head Occipital-frontal circumference" (FHIR vital signs profile);
    // SNOMED 363812007 (docs/domain.md, CH018).
    obs(
        "head",
        "Head circumference",
        Some("9843-4"),
        Some("363812007"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8339-4 "Birth weight Measured"; SNOMED 364589006 (docs/domain.md, CH005).
    obs(
        "birth-weight",
        "Birth weight",
        Some("8339-4"),
        Some("364589006"),
        "vital-signs",
        Some("kg"),
    ),
    // LOINC 89269-5 "Body height Measured --at birth"; SNOMED 169886007 "Birth length".
    obs(
        "birth-length",
        "Birth length",
        Some("89269-5"),
        Some("169886007"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8290-9 "Head Occipital-frontal circumference --at birth by Tape measure";
    // SNOMED 169876006 (docs/domain.md, CH005).
    obs(
        "birth-head",
        "Head circumference at birth",
        Some("8290-9"),
        Some("169876006"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 76516-4 "Gestational age--at birth"; SNOMED 412726003 "Length of gestation
    // at birth". In days, so 39+4 stays exact.
    obs(
        "gestation",
        "Gestation at birth",
        Some("76516-4"),
        Some("412726003"),
        "exam",
        Some("d"),
    ),
    // LOINC 9272-6 "1 minute Apgar Score", 9274-2 "5 minute Apgar Score".
    obs(
        "apgar-1",
        "Apgar score at 1 minute",
        Some("9272-6"),
        None,
        "exam",
        None,
    ),
    obs(
        "apgar-5",
        "Apgar score at 5 minutes",
        Some("9274-2"),
        None,
        "exam",
        None,
    ),
    obs("delivery", "Delivery", None, None, "exam", None),
    obs(
        "nipe",
        "Newborn and infant physical examination (NIPE)",
        None,
        None,
        "exam",
        None,
    ),
    obs(
        "newborn-hearing",
        "Newborn hearing screening",
        None,
        None,
        "exam",
        None,
    ),
    obs(
        "blood-spot",
        "Newborn blood spot screening",
        None,
        None,
        "laboratory",
        None,
    ),
    obs(
        "review-outcome",
        "Health and development review outcome",
        None,
        None,
        "survey",
        None,
    ),
    obs("note", "Note", None, None, "social-history", None),
    obs(
        "risk-factor",
        "Risk factor",
        None,
        None,
        "social-history",
        None,
    ),
    // Family history of height: each parent's, for the mid-parental height.
    obs(
        "mother-height",
        "Mother's height",
        None,
        None,
        "social-history",
        Some("cm"),
    ),
    obs(
        "father-height",
        "Father's height",
        None,
        None,
        "social-history",
        Some("cm"),
    ),
    obs(
        "record-closed",
        "Record closed",
        None,
        None,
        "social-history",
        None,
    ),
];

const fn obs(
    part: &'static str,
    display: &'static str,
    loinc: Option<&'static str>,
    snomed: Option<&'static str>,
    category: &'static str,
    unit: Option<&'static str>,
) -> ObservationKind {
    ObservationKind {
        part,
        display,
        loinc,
        snomed,
        category,
        unit,
    }
}

pub fn observation_kind(part: &str) -> &'static ObservationKind {
    OBSERVATION_KINDS
        .iter()
        .find(|k| k.part == part)
        .expect("every part the export writes is listed")
}

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
    pub exported_at: DateTime<Utc>,
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
    json!({ "value": value, "unit": unit, "system": UCUM, "code": unit })
}

fn reference(resource_type: &str, id: &str) -> Value {
    json!({ "reference": format!("{resource_type}/{id}") })
}

/// FHIR strings may not be empty: an empty optional text is left out.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|t| !t.is_empty())
}

/// Persons, devices and organisations the Provenances name, one resource each.
#[derive(Default)]
struct Agents {
    authors: Vec<Author>,
    devices: Vec<String>,
    organisations: Vec<String>,
}

impl Agents {
    fn author_ref(&mut self, author: &Author) -> Value {
        let index = match self.authors.iter().position(|a| a == author) {
            Some(i) => i,
            None => {
                self.authors.push(author.clone());
                self.authors.len() - 1
            }
        };
        if !self.devices.contains(&author.device_id) {
            self.devices.push(author.device_id.clone());
        }
        if let Some(org) = &author.organisation {
            if !self.organisations.contains(org) {
                self.organisations.push(org.clone());
            }
        }
        reference(person_type(author.role), &format!("author-{index}"))
    }

    fn organisation_ref(&self, ods: &str) -> Value {
        let index = self
            .organisations
            .iter()
            .position(|o| o == ods)
            .unwrap_or(0);
        reference("Organization", &format!("organisation-{index}"))
    }
}

fn person_type(role: Role) -> &'static str {
    if role.is_professional() {
        "Practitioner"
    } else {
        "RelatedPerson"
    }
}

/// Builds the Bundle. Entries this version cannot read are not in `entries` and so are
/// not exported; nothing else is left out.
pub fn to_bundle(source: &ExportSource) -> Value {
    let patient_id = source.record_id;
    let mut out = BundleBuilder::default();
    out.push("Patient", patient_id, patient(source.details, patient_id));

    let mut agents = Agents::default();
    // Resources each entry became, for Provenance targets and revision links.
    let mut resources_of: HashMap<&EntryId, Vec<Value>> = HashMap::new();
    for view in source.entries {
        if matches!(view.entry.body, EntryBody::EnteredInError { .. }) {
            continue;
        }
        let performer = agents.author_ref(&view.entry.author);
        let resources = entry_resources(view, patient_id, &performer);
        let refs = resources
            .iter()
            .map(|(kind, id, _)| reference(kind, id))
            .collect();
        resources_of.insert(&view.entry.id, refs);
        for (kind, id, resource) in resources {
            out.push(kind, &id, resource);
        }
    }
    for view in source.entries {
        let entry = &view.entry;
        let (activity, target, reason) = match &entry.body {
            EntryBody::EnteredInError { target, reason } => {
                ("NULLIFY", resources_of.get(target).cloned(), Some(reason))
            }
            _ if entry.amends.is_some() => ("UPDATE", resources_of.get(&entry.id).cloned(), None),
            _ => ("CREATE", resources_of.get(&entry.id).cloned(), None),
        };
        // A mark on an entry this version could not read has nothing to point at.
        let Some(target) = target.filter(|t| !t.is_empty()) else {
            continue;
        };
        let who = agents.author_ref(&entry.author);
        let device = reference("Device", &format!("device-{}", entry.author.device_id));
        let mut author_agent = json!({
            "type": { "coding": [coding(PROVENANCE_AGENT_TYPE, "author", "Author")] },
            "role": [local_concept("role", entry.author.role)],
            "who": who,
        });
        if let Some(org) = &entry.author.organisation {
            author_agent["onBehalfOf"] = agents.organisation_ref(org);
        }
        let device_agent = json!({
            "type": { "coding": [coding(PARTICIPATION_TYPE, "DEV", "device")] },
            "who": device,
        });
        let mut provenance = json!({
            "resourceType": "Provenance",
            "id": entry.id.as_str(),
            "meta": { "tag": [coding(&code_system("entry-kind"), entry.body.kind_name(), &words(entry.body.kind_name()))] },
            "target": target,
            "recorded": entry.recorded_at,
            "activity": { "coding": [coding(DATA_OPERATION, activity, &words(&activity.to_lowercase()))] },
            "agent": [author_agent, device_agent],
        });
        if let Some(reason) = reason.filter(|r| !r.is_empty()) {
            provenance["reason"] = json!([{ "text": reason }]);
        }
        if let Some(amended) = entry.amends.as_ref().and_then(|a| resources_of.get(a)) {
            if let Some(first) = amended.first() {
                provenance["entity"] = json!([{ "role": "revision", "what": first }]);
            }
        }
        if let Some(signature) = source.signatures.get(&entry.id) {
            provenance["signature"] = json!([{
                "type": [coding(SIGNATURE_TYPE, "1.2.840.10065.1.12.1.1", "Author's Signature")],
                "when": entry.recorded_at,
                "who": device,
                // Ed25519 over the entry's canonical JSON as redbook stores it.
                "sigFormat": "application/octet-stream",
                "targetFormat": "application/json",
                "data": base64::engine::general_purpose::STANDARD.encode(signature),
            }]);
        }
        out.push("Provenance", entry.id.as_str(), provenance);
    }

    for (index, author) in agents.authors.iter().enumerate() {
        let id = format!("author-{index}");
        let mut person = json!({
            "resourceType": person_type(author.role),
            "id": id,
            "name": [{ "text": author.display_name }],
        });
        if !author.role.is_professional() {
            person["patient"] = reference("Patient", patient_id);
            person["relationship"] = json!([match author.role {
                Role::Parent =>
                    json!({ "coding": [coding(ROLE_CODE, "PRN", "parent")], "text": "Parent" }),
                _ => json!({ "text": "Carer" }),
            }]);
        }
        out.push(person_type(author.role), &id, person);
    }
    for device_id in &agents.devices {
        let id = format!("device-{device_id}");
        let mut device = json!({
            "resourceType": "Device",
            "id": id,
            "identifier": [{ "system": device_id_system(), "value": device_id }],
        });
        if let Some(member) = source.members.iter().find(|m| &m.device_id == device_id) {
            device["extension"] = json!([{
                "url": extension_url("ed25519-public-key"),
                "valueBase64Binary": base64::engine::general_purpose::STANDARD.encode(member.keys.signing_key),
            }]);
        }
        out.push("Device", &id, device);
    }
    for (index, ods) in agents.organisations.iter().enumerate() {
        let id = format!("organisation-{index}");
        out.push(
            "Organization",
            &id,
            json!({
                "resourceType": "Organization",
                "id": id,
                "identifier": [{ "system": ODS_SYSTEM, "value": ods }],
            }),
        );
    }

    json!({
        "resourceType": "Bundle",
        "identifier": { "system": record_id_system(), "value": source.record_id },
        "type": "collection",
        "timestamp": source.exported_at,
        "entry": out.entries,
    })
}

#[derive(Default)]
struct BundleBuilder {
    entries: Vec<Value>,
}

impl BundleBuilder {
    fn push(&mut self, resource_type: &str, id: &str, resource: Value) {
        self.entries.push(json!({
            "fullUrl": format!("{REDBOOK_FHIR_BASE}/{resource_type}/{id}"),
            "resource": resource,
        }));
    }
}

fn patient(details: &ChildDetails, id: &str) -> Value {
    let mut patient = json!({
        "resourceType": "Patient",
        "id": id,
        "name": [{ "text": details.name }],
    });
    if let Some(nhs) = &details.nhs_number {
        patient["identifier"] = json!([{ "system": NHS_NUMBER_SYSTEM, "value": nhs }]);
    }
    if let Some(sex) = details.sex {
        patient["gender"] = json!(match sex {
            Sex::Female => "female",
            Sex::Male => "male",
        });
    }
    if let Some(birth) = details.birth_date {
        patient["birthDate"] = json!(birth);
    }
    if let Some(address) = text(&details.address) {
        patient["address"] = json!([{ "text": address }]);
    }
    if let Some(gp) = text(&details.gp_practice) {
        patient["generalPractitioner"] = json!([{ "display": gp }]);
    }
    if let Some(gestation) = details.gestation {
        patient["extension"] = json!([{
            "url": extension_url("gestation-at-birth"),
            "valueQuantity": quantity(f64::from(gestation.total_days), "d"),
        }]);
    }
    patient
}

/// An entry's clinical resources: (resource type, id, resource).
fn entry_resources(
    view: &EntryView,
    patient_id: &str,
    author: &Value,
) -> Vec<(&'static str, String, Value)> {
    let entry = &view.entry;
    let in_error = matches!(view.status, EntryStatus::EnteredInError { .. });
    let superseded = matches!(view.status, EntryStatus::Amended { .. });
    let subject = reference("Patient", patient_id);
    let identifier = json!([{ "system": entry_id_system(), "value": entry.id.as_str() }]);
    let id = |part: &str| format!("{}-{part}", entry.id.as_str());
    let observation_status = if in_error {
        "entered-in-error"
    } else if entry.amends.is_some() {
        "amended"
    } else {
        "final"
    };
    let observation = |part: &str| -> (String, Value) {
        let kind = observation_kind(part);
        let mut codings = Vec::new();
        if let Some(code) = kind.loinc {
            codings.push(coding(LOINC, code, kind.display));
        }
        if let Some(code) = kind.snomed {
            codings.push(coding(SNOMED, code, kind.display));
        }
        codings.push(coding(&code_system("observation"), kind.part, kind.display));
        let resource = json!({
            "resourceType": "Observation",
            "id": id(part),
            "identifier": identifier,
            "status": observation_status,
            "category": [{ "coding": [coding(OBSERVATION_CATEGORY, kind.category, &words(kind.category))] }],
            "code": { "coding": codings, "text": kind.display },
            "subject": subject,
            "performer": [author],
        });
        (id(part), resource)
    };
    let mut out: Vec<(&'static str, String, Value)> = Vec::new();
    let mut observations = Vec::new();
    let mut push_observation = |part: &str, fill: &dyn Fn(&mut Value)| {
        let (rid, mut resource) = observation(part);
        fill(&mut resource);
        observations.push(("Observation", rid, resource));
    };
    match &entry.body {
        EntryBody::Measurement(m) => {
            let date = json!(m.date);
            let measured_by = json!([{ "url": extension_url("measured-by"), "valueCode": code_of(m.measured_by) }]);
            for (part, value) in [
                ("weight", m.weight_kg),
                ("length", m.length_cm),
                ("height", m.height_cm),
                ("head", m.head_circumference_cm),
            ] {
                if let Some(value) = value {
                    let unit = observation_kind(part).unit.unwrap_or_default();
                    push_observation(part, &|r| {
                        r["effectiveDateTime"] = date.clone();
                        r["valueQuantity"] = quantity(value, unit);
                        r["extension"] = measured_by.clone();
                    });
                }
            }
        }
        EntryBody::BirthDetails(b) => {
            for (part, value) in [
                ("birth-weight", b.birth_weight_kg),
                ("birth-length", b.length_cm),
                ("birth-head", b.head_circumference_cm),
                ("gestation", b.gestation.map(|g| f64::from(g.total_days))),
            ] {
                if let Some(value) = value {
                    let unit = observation_kind(part).unit.unwrap_or_default();
                    push_observation(part, &|r| r["valueQuantity"] = quantity(value, unit));
                }
            }
            for (part, score) in [("apgar-1", b.apgar_1_min), ("apgar-5", b.apgar_5_min)] {
                if let Some(score) = score {
                    push_observation(part, &|r| r["valueInteger"] = json!(score));
                }
            }
            let place = text(&b.place_of_birth);
            let nothing_else = b.birth_weight_kg.is_none()
                && b.length_cm.is_none()
                && b.head_circumference_cm.is_none()
                && b.gestation.is_none()
                && b.apgar_1_min.is_none()
                && b.apgar_5_min.is_none();
            if place.is_some() || b.delivery_mode.is_some() || nothing_else {
                push_observation("delivery", &|r| {
                    let mut components = Vec::new();
                    if let Some(place) = place {
                        components.push(json!({
                            "code": local_concept("delivery", "place_of_birth"),
                            "valueString": place,
                        }));
                    }
                    if let Some(mode) = b.delivery_mode {
                        components.push(json!({
                            "code": local_concept("delivery", "delivery_mode"),
                            "valueCodeableConcept": local_concept("delivery-mode", mode),
                        }));
                    }
                    if components.is_empty() {
                        r["dataAbsentReason"] =
                            json!({ "coding": [coding(DATA_ABSENT_REASON, "unknown", "Unknown")] });
                    } else {
                        r["component"] = json!(components);
                    }
                });
            }
        }
        EntryBody::Immunisation(i) => {
            let mut vaccine_codings = vec![coding(
                &code_system("vaccine"),
                crate::schedule::canonical_vaccine(&i.vaccine).unwrap_or(&i.vaccine),
                &i.vaccine,
            )];
            if let Some(product) = text(&i.product) {
                vaccine_codings
                    .push(json!({ "system": code_system("vaccine-product"), "display": product }));
            }
            let mut resource = json!({
                "resourceType": "Immunization",
                "id": id("immunization"),
                "identifier": identifier,
                "status": if in_error { "entered-in-error" } else { "completed" },
                "vaccineCode": { "coding": vaccine_codings, "text": i.vaccine },
                "patient": subject,
                "occurrenceDateTime": i.date,
                "recorded": entry.recorded_at,
                "primarySource": entry.author.role.is_professional(),
                "protocolApplied": [{ "doseNumberPositiveInt": i.dose }],
            });
            if let Some(batch) = text(&i.batch) {
                resource["lotNumber"] = json!(batch);
            }
            if let Some(site) = text(&i.site) {
                resource["site"] = json!({ "text": site });
            }
            if let Some(route) = text(&i.route) {
                resource["route"] = json!({ "text": route });
            }
            if let Some(given_by) = text(&i.given_by) {
                resource["performer"] = json!([{
                    "function": { "coding": [coding(PERFORMER_FUNCTION, "AP", "Administering Provider")] },
                    "actor": { "display": given_by },
                }]);
            }
            out.push(("Immunization", id("immunization"), resource));
        }
        EntryBody::NewbornScreening(screening) => {
            let component = |concept: &str, name: &str, value: Value| json!({ "code": local_concept(concept, name), "valueCodeableConcept": value });
            let (part, date, components) = match screening {
                NewbornScreening::Nipe {
                    date,
                    stage,
                    hips,
                    eyes,
                    heart,
                    testes,
                } => {
                    let mut components = vec![
                        component("nipe", "stage", local_concept("nipe-stage", stage)),
                        component("nipe", "hips", local_concept("screening-result", hips)),
                        component("nipe", "eyes", local_concept("screening-result", eyes)),
                        component("nipe", "heart", local_concept("screening-result", heart)),
                    ];
                    if let Some(testes) = testes {
                        components.push(component(
                            "nipe",
                            "testes",
                            local_concept("screening-result", testes),
                        ));
                    }
                    ("nipe", date, components)
                }
                NewbornScreening::Hearing {
                    date,
                    left,
                    right,
                    outcome,
                } => (
                    "newborn-hearing",
                    date,
                    vec![
                        component(
                            "newborn-hearing",
                            "left",
                            local_concept("hearing-ear-result", left),
                        ),
                        component(
                            "newborn-hearing",
                            "right",
                            local_concept("hearing-ear-result", right),
                        ),
                        component(
                            "newborn-hearing",
                            "outcome",
                            local_concept("hearing-outcome", outcome),
                        ),
                    ],
                ),
                NewbornScreening::BloodSpot {
                    sample_date,
                    results,
                } => (
                    "blood-spot",
                    sample_date,
                    results
                        .iter()
                        .map(|r| {
                            component(
                                "blood-spot-condition",
                                &code_of(r.condition),
                                local_concept("blood-spot-outcome", r.outcome),
                            )
                        })
                        .collect(),
                ),
            };
            push_observation(part, &|r| {
                r["effectiveDateTime"] = json!(date);
                r["component"] = json!(components);
            });
        }
        EntryBody::Review(review) => {
            let encounter_id = id("encounter");
            out.push((
                "Encounter",
                encounter_id.clone(),
                json!({
                    "resourceType": "Encounter",
                    "id": encounter_id,
                    "identifier": identifier,
                    "status": if in_error { "entered-in-error" } else { "finished" },
                    "class": coding(ACT_CODE, "AMB", "ambulatory"),
                    "type": [local_concept("review-kind", review.kind)],
                    "subject": subject,
                    "participant": [{ "individual": author }],
                    "period": { "start": review.date, "end": review.date },
                }),
            ));
            let mut components: Vec<Value> = review
                .asq3_scores
                .iter()
                .map(|s| {
                    json!({
                        "code": { "coding": [{ "system": code_system("asq3-domain"), "display": s.domain }], "text": s.domain },
                        "valueInteger": s.score,
                    })
                })
                .collect();
            if let Some(advice) = text(&review.advice) {
                components.push(
                    json!({ "code": local_concept("review", "advice"), "valueString": advice }),
                );
            }
            let encounter = reference("Encounter", &encounter_id);
            push_observation("review-outcome", &|r| {
                r["effectiveDateTime"] = json!(review.date);
                r["encounter"] = encounter.clone();
                if !review.outcome.is_empty() {
                    r["valueString"] = json!(review.outcome);
                }
                if !components.is_empty() {
                    r["component"] = json!(components);
                }
            });
        }
        EntryBody::HealthEvent(event) => {
            let kind = local_concept("health-event-kind", event.kind);
            if event.kind == crate::model::HealthEventKind::HospitalVisit {
                let mut resource = json!({
                    "resourceType": "Encounter",
                    "id": id("encounter"),
                    "identifier": identifier,
                    "status": if in_error { "entered-in-error" } else { "finished" },
                    // The parent may not know whether the child was admitted.
                    "class": coding(ACT_CODE, "AMB", "ambulatory"),
                    "type": [kind],
                    "subject": subject,
                    "period": { "start": event.date },
                    "reasonCode": [{ "text": event.description }],
                });
                if let Some(place) = text(&event.place) {
                    resource["location"] = json!([{ "location": { "display": place } }]);
                }
                if let Some(outcome) = text(&event.outcome) {
                    resource["hospitalization"] =
                        json!({ "dischargeDisposition": { "text": outcome } });
                }
                out.push(("Encounter", id("encounter"), resource));
            } else {
                let mut resource = json!({
                    "resourceType": "Condition",
                    "id": id("condition"),
                    "identifier": identifier,
                    "category": [kind],
                    "code": { "text": event.description },
                    "subject": subject,
                    "onsetDateTime": event.date,
                    "recordedDate": entry.recorded_at,
                    "recorder": author,
                });
                if in_error {
                    resource["verificationStatus"] = json!({ "coding": [coding(CONDITION_VERIFICATION, "entered-in-error", "Entered in Error")] });
                }
                if let Some(place) = text(&event.place) {
                    resource["extension"] =
                        json!([{ "url": extension_url("place"), "valueString": place }]);
                }
                if let Some(outcome) = text(&event.outcome) {
                    resource["note"] = json!([{ "text": outcome }]);
                }
                out.push(("Condition", id("condition"), resource));
            }
        }
        EntryBody::Medicine(m) => {
            let status = if in_error {
                "entered-in-error"
            } else if m.stopped.is_some() {
                "completed"
            } else {
                "active"
            };
            let mut period = json!({ "start": m.started });
            if let Some(stopped) = m.stopped {
                period["end"] = json!(stopped);
            }
            let mut resource = json!({
                "resourceType": "MedicationStatement",
                "id": id("medication"),
                "identifier": identifier,
                "status": status,
                "medicationCodeableConcept": { "text": m.name },
                "subject": subject,
                "effectivePeriod": period,
                "dateAsserted": entry.recorded_at,
                "informationSource": author,
            });
            if let Some(reason) = text(&m.reason) {
                resource["reasonCode"] = json!([{ "text": reason }]);
            }
            if let Some(dose) = text(&m.dose) {
                resource["dosage"] = json!([{ "text": dose }]);
            }
            out.push(("MedicationStatement", id("medication"), resource));
        }
        EntryBody::Allergy(a) => {
            let mut resource = json!({
                "resourceType": "AllergyIntolerance",
                "id": id("allergy"),
                "identifier": identifier,
                "code": { "text": a.substance },
                "patient": subject,
                "recorder": author,
            });
            if in_error {
                // FHIR ait-2: no clinical status on an entry in error.
                resource["verificationStatus"] = json!({ "coding": [coding(ALLERGY_VERIFICATION, "entered-in-error", "Entered in Error")] });
            } else {
                let (code, display) = if entry.author.role.is_professional() {
                    ("confirmed", "Confirmed")
                } else {
                    ("unconfirmed", "Unconfirmed")
                };
                resource["clinicalStatus"] =
                    json!({ "coding": [coding(ALLERGY_CLINICAL, "active", "Active")] });
                resource["verificationStatus"] =
                    json!({ "coding": [coding(ALLERGY_VERIFICATION, code, display)] });
            }
            if let Some(noted) = a.noted_on {
                resource["recordedDate"] = json!(noted);
            }
            let severity = match a.severity {
                crate::model::AllergySeverity::Unknown => None,
                known => Some(code_of(known)),
            };
            let manifestation = match text(&a.reaction) {
                Some(reaction) => Some(json!({ "text": reaction })),
                // A severity with no reaction written: FHIR needs a manifestation.
                None if severity.is_some() => Some(
                    json!({ "coding": [coding(DATA_ABSENT_REASON, "unknown", "Unknown")], "text": "Not recorded" }),
                ),
                None => None,
            };
            if let Some(manifestation) = manifestation {
                let mut reaction = json!({ "manifestation": [manifestation] });
                if let Some(severity) = severity {
                    reaction["severity"] = json!(severity);
                }
                resource["reaction"] = json!([reaction]);
            }
            out.push(("AllergyIntolerance", id("allergy"), resource));
        }
        EntryBody::Contact(c) => {
            let status = if in_error {
                "entered-in-error"
            } else if superseded {
                "inactive"
            } else {
                "active"
            };
            let mut resource = json!({
                "resourceType": "CareTeam",
                "id": id("contact"),
                "identifier": identifier,
                "status": status,
                "subject": subject,
                "participant": [{
                    "role": [local_concept("contact-role", c.role)],
                    "member": { "display": c.name },
                }],
            });
            if let Some(phone) = text(&c.phone) {
                resource["telecom"] = json!([{ "system": "phone", "value": phone }]);
            }
            out.push(("CareTeam", id("contact"), resource));
        }
        EntryBody::Note(n) => {
            push_observation("note", &|r| {
                r["effectiveDateTime"] = json!(n.date);
                r["code"]["coding"]
                    .as_array_mut()
                    .expect("built above")
                    .push(local_concept("note-kind", n.kind)["coding"][0].clone());
                r["valueString"] = json!(n.text);
            });
        }
        EntryBody::RiskFactor(f) => {
            push_observation("risk-factor", &|r| {
                r["effectiveDateTime"] = json!(f.date);
                r["code"]["coding"]
                    .as_array_mut()
                    .expect("built above")
                    .push(local_concept("risk-factor", f.factor)["coding"][0].clone());
                r["valueBoolean"] = json!(f.present);
            });
        }
        EntryBody::ParentalHeights(h) => {
            let date = json!(h.date);
            let measured_by = json!([{ "url": extension_url("measured-by"), "valueCode": code_of(h.measured_by) }]);
            for (part, value) in [
                ("mother-height", h.mother_cm),
                ("father-height", h.father_cm),
            ] {
                if let Some(value) = value {
                    push_observation(part, &|r| {
                        r["effectiveDateTime"] = date.clone();
                        r["valueQuantity"] = quantity(value, "cm");
                        r["extension"] = measured_by.clone();
                    });
                }
            }
        }
        EntryBody::RecordClosed(c) => {
            push_observation("record-closed", &|r| {
                r["effectiveDateTime"] = json!(c.date);
                r["valueCodeableConcept"] = local_concept("closure-reason", c.reason);
            });
        }
        EntryBody::EnteredInError { .. } => {}
    }
    out.extend(observations);
    if superseded {
        for (_, _, resource) in &mut out {
            resource["meta"] = json!({ "tag": [coding(&code_system("entry-state"), "superseded", "Corrected by a later entry")] });
        }
    }
    out
}

/// Object keys in a stable order make the file diffable; serde_json's map is sorted.
pub fn to_json_string(bundle: &Value) -> String {
    serde_json::to_string_pretty(bundle).expect("a JSON value always serialises")
}
