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
    Allergy, Author, BirthDetails, ChildDetails, Contact, EntryBody, EntryId, EntryStatus,
    EntryView, HealthEvent, Immunisation, Measurement, Medicine, Member, NewbornScreening, Note,
    ParentalHeights, RecordClosure, Review, RiskFactor, Role, Sex, StoredEntry,
};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;

mod codes;
mod foreign;
mod import;
pub mod vaccines;
pub use codes::*;
#[cfg(test)]
mod tests;
pub use foreign::{is_own_export, read_foreign, ForeignEntry, ForeignRecord, NotImported};
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

/// Persons, devices and organisations the Provenances name, one resource each.
#[derive(Default)]
struct Agents {
    authors: Vec<Author>,
    devices: Vec<String>,
    organisations: Vec<String>,
}

impl Agents {
    /// The author's index (their resources are `author-{index}`), noting their device and
    /// organisation for the resources written after the entries.
    fn author_index(&mut self, author: &Author) -> usize {
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
        index
    }

    fn author_ref(&mut self, author: &Author) -> Value {
        let index = self.author_index(author);
        reference(person_type(author.role), &format!("author-{index}"))
    }

    /// Who did it, as a clinical resource names them: a professional's PractitionerRole
    /// (their SDS job role and ODS organisation, which NHS child health events require),
    /// a parent's or carer's RelatedPerson.
    fn performer_ref(&mut self, author: &Author) -> Value {
        if author.role.is_professional() {
            let index = self.author_index(author);
            reference("PractitionerRole", &format!("author-{index}-role"))
        } else {
            self.author_ref(author)
        }
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
        let performer = agents.performer_ref(&view.entry.author);
        let resources = entry_resources(view, source.details, patient_id, &performer);
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
        declare_profile(&mut provenance, "Provenance");
        out.push("Provenance", entry.id.as_str(), provenance);
    }
    centile_observations(source, &mut out);

    for (index, author) in agents.authors.iter().enumerate() {
        let id = format!("author-{index}");
        let mut person = json!({
            "resourceType": person_type(author.role),
            "id": id,
            "name": [{ "text": author.display_name }],
        });
        declare_profile(&mut person, person_type(author.role));
        if let Some((code, display)) = sds_job_role(author.role) {
            let role_id = format!("{id}-role");
            let mut role = json!({
                "resourceType": "PractitionerRole",
                "id": role_id,
                "practitioner": reference("Practitioner", &id),
                "code": [{
                    "coding": [coding(&uk_core("CodeSystem/UKCore-SDSJobRoleName"), code, display)],
                    "text": words(&code_of(author.role)),
                }],
            });
            if let Some(org) = &author.organisation {
                role["organization"] = agents.organisation_ref(org);
            }
            declare_profile(&mut role, "PractitionerRole");
            out.push("PractitionerRole", &role_id, role);
        }
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
        declare_profile(&mut device, "Device");
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
        let mut organisation = json!({
            "resourceType": "Organization",
            "id": id,
            "identifier": [{ "system": ODS_SYSTEM, "value": ods }],
        });
        declare_profile(&mut organisation, "Organization");
        out.push("Organization", &id, organisation);
    }

    json!({
        "resourceType": "Bundle",
        "meta": { "profile": [uk_core_profile("Bundle")] },
        "identifier": { "system": record_id_system(), "value": source.record_id },
        "type": "collection",
        "timestamp": source.exported_at,
        "entry": out.entries,
    })
}

/// Each centile and SDS score as a UKCore-Observation coded as RCPCH lists them, derived
/// from the measure's own Observation; a computed BMI as UKCore-Observation-VitalSigns-BMI.
/// Not Provenance targets: the exporting device computed them, nobody wrote them, and an
/// import leaves them out.
fn centile_observations(source: &ExportSource, out: &mut BundleBuilder) {
    let exported: std::collections::HashSet<&str> = out
        .entries
        .iter()
        .filter_map(|e| e["resource"]["id"].as_str())
        .collect();
    let mut resources = Vec::new();
    for c in source.centiles {
        let measured = format!("{}-{}", c.entry_id.as_str(), c.part);
        let mut derived_from = vec![];
        if c.part == "bmi" {
            for part in ["weight", "length", "height"] {
                let id = format!("{}-{part}", c.entry_id.as_str());
                if exported.contains(id.as_str()) {
                    derived_from.push(reference("Observation", &id));
                }
            }
            if derived_from.len() < 2 {
                continue;
            }
            let kind = observation_kind("bmi");
            let mut bmi = json!({
                "resourceType": "Observation",
                "id": measured,
                "status": "final",
                "category": [{ "coding": [coding(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")] }],
                "code": { "coding": [
                    coding(LOINC, kind.loinc.unwrap_or_default(), kind.loinc.and_then(loinc_display).unwrap_or(kind.display)),
                    coding(SNOMED, kind.snomed.unwrap_or_default(), kind.display),
                ], "text": kind.display },
                "subject": reference("Patient", source.record_id),
                "effectiveDateTime": c.date,
                "valueQuantity": quantity((c.value * 10.0).round() / 10.0, "kg/m2"),
                "derivedFrom": derived_from.clone(),
            });
            declare_profile(&mut bmi, kind.vital_signs.unwrap_or("Observation"));
            resources.push((measured.clone(), bmi));
        } else if exported.contains(measured.as_str()) {
            derived_from.push(reference("Observation", &measured));
        } else {
            continue;
        }
        let base = c.part.trim_start_matches("birth-");
        let Some((_, centile, sds)) = CENTILE_CODES.iter().find(|(p, ..)| *p == base) else {
            continue;
        };
        for (suffix, (code, display), value) in [
            (
                "centile",
                centile,
                quantity((c.centile * 10.0).round() / 10.0, "%"),
            ),
            (
                "sds",
                sds,
                json!({ "value": (c.sds * 100.0).round() / 100.0, "unit": "SDS", "system": UCUM, "code": "1" }),
            ),
        ] {
            let id = format!("{measured}-{suffix}");
            let mut observation = json!({
                "resourceType": "Observation",
                "id": id,
                "status": "final",
                "category": [{ "coding": [coding(OBSERVATION_CATEGORY, "exam", "Exam")] }],
                "code": { "coding": [coding(SNOMED, code, display)], "text": display },
                "subject": reference("Patient", source.record_id),
                "effectiveDateTime": c.date,
                "valueQuantity": value,
                "method": { "text": c.method },
                "derivedFrom": derived_from,
            });
            declare_profile(&mut observation, "Observation");
            resources.push((id, observation));
        }
    }
    for (id, resource) in resources {
        out.push("Observation", &id, resource);
    }
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
    // UK Core's, and this project's (scripts/ukcore-validator/profiles/RedBook-Patient.json:
    // the NHS number is the only identifier, under NHS England's system).
    patient["meta"]["profile"] = json!([
        uk_core_profile("Patient"),
        format!("{REDBOOK_FHIR_BASE}/StructureDefinition/RedBook-Patient"),
    ]);
    if let Some(nhs) = &details.nhs_number {
        // Stored in normal form, ten digits, as the Spine holds it (validate::validate_details).
        let (code, display) = NHS_NUMBER_NOT_TRACED;
        patient["identifier"] = json!([{
            "extension": [{
                "url": uk_core("StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"),
                "valueCodeableConcept": { "coding": [coding(
                    &uk_core("CodeSystem/UKCore-NHSNumberVerificationStatusEngland"), code, display)] },
            }],
            "system": NHS_NUMBER_SYSTEM,
            "value": nhs,
        }]);
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

/// What every resource of one entry shares: who it is about, its identifier, its author,
/// and whether it was corrected or marked in error.
struct EntryContext<'a> {
    entry: &'a StoredEntry,
    /// The child's date of birth: when the birth measures were taken.
    birth_date: Option<NaiveDate>,
    in_error: bool,
    superseded: bool,
    subject: Value,
    identifier: Value,
    author: &'a Value,
    observation_status: &'static str,
}

impl EntryContext<'_> {
    fn id(&self, part: &str) -> String {
        format!("{}-{part}", self.entry.id.as_str())
    }

    /// An Observation of one part of the entry, coded from `OBSERVATION_KINDS`.
    fn observation(&self, part: &str) -> Value {
        let kind = observation_kind(part);
        let mut codings = Vec::new();
        if let Some(code) = kind.loinc {
            codings.push(coding(
                LOINC,
                code,
                loinc_display(code).unwrap_or(kind.display),
            ));
        }
        if let Some(code) = kind.snomed {
            codings.push(coding(SNOMED, code, kind.display));
        }
        codings.push(coding(&code_system("observation"), kind.part, kind.display));
        json!({
            "resourceType": "Observation",
            "id": self.id(part),
            "identifier": self.identifier,
            "status": self.observation_status,
            "category": [{ "coding": [coding(OBSERVATION_CATEGORY, kind.category, &words(kind.category))] }],
            "code": { "coding": codings, "text": kind.display },
            "subject": self.subject,
            "performer": [self.author],
        })
    }
}

/// One entry's resources: its own (Immunization, Encounter, ...) then its Observations.
#[derive(Default)]
struct Resources {
    main: Vec<(&'static str, String, Value)>,
    observations: Vec<(&'static str, String, Value)>,
}

impl Resources {
    fn observation(&mut self, cx: &EntryContext, part: &str, fill: &dyn Fn(&mut Value)) {
        let mut resource = cx.observation(part);
        fill(&mut resource);
        // What was measured at birth was measured on the day of birth.
        if let (EntryBody::BirthDetails(_), Some(born)) = (&cx.entry.body, cx.birth_date) {
            resource["effectiveDateTime"] = json!(born);
        }
        declare_observation_profile(&mut resource, observation_kind(part));
        self.observations
            .push(("Observation", cx.id(part), resource));
    }
}

/// UK Core's vital-signs profiles fix the status to `final` and need a time: a corrected
/// or withdrawn measure, or one with no date, is declared a plain UKCore-Observation.
fn declare_observation_profile(resource: &mut Value, kind: &ObservationKind) {
    let vital = kind
        .vital_signs
        .filter(|_| resource["status"] == "final" && resource.get("effectiveDateTime").is_some());
    declare_profile(resource, vital.unwrap_or("Observation"));
}

/// An entry's clinical resources: (resource type, id, resource), one function per red
/// book section below.
fn entry_resources(
    view: &EntryView,
    details: &ChildDetails,
    patient_id: &str,
    author: &Value,
) -> Vec<(&'static str, String, Value)> {
    let entry = &view.entry;
    let in_error = matches!(view.status, EntryStatus::EnteredInError { .. });
    let cx = EntryContext {
        entry,
        birth_date: details.birth_date,
        in_error,
        superseded: matches!(view.status, EntryStatus::Amended { .. }),
        subject: reference("Patient", patient_id),
        identifier: json!([{ "system": entry_id_system(), "value": entry.id.as_str() }]),
        author,
        observation_status: if in_error {
            "entered-in-error"
        } else if entry.amends.is_some() {
            "amended"
        } else {
            "final"
        },
    };
    let mut out = Resources::default();
    match &entry.body {
        EntryBody::Measurement(m) => measurement(&cx, m, &mut out),
        EntryBody::BirthDetails(b) => birth_details(&cx, b, &mut out),
        EntryBody::Immunisation(i) => immunisation(&cx, i, &mut out),
        EntryBody::NewbornScreening(screening) => newborn_screening(&cx, screening, &mut out),
        EntryBody::Review(r) => review(&cx, r, &mut out),
        EntryBody::HealthEvent(event) => health_event(&cx, event, &mut out),
        EntryBody::Medicine(m) => medicine(&cx, m, &mut out),
        EntryBody::Allergy(a) => allergy(&cx, a, &mut out),
        EntryBody::Contact(c) => contact(&cx, c, &mut out),
        EntryBody::Note(n) => note(&cx, n, &mut out),
        EntryBody::RiskFactor(f) => risk_factor(&cx, f, &mut out),
        EntryBody::ParentalHeights(h) => parental_heights(&cx, h, &mut out),
        EntryBody::RecordClosed(c) => record_closed(&cx, c, &mut out),
        EntryBody::EnteredInError { .. } => {}
    }
    let mut all = out.main;
    all.extend(out.observations);
    for (kind, _, resource) in &mut all {
        if resource["meta"]["profile"].is_null() {
            declare_profile(resource, kind);
        }
        if cx.superseded {
            resource["meta"]["tag"] = json!([coding(
                &code_system("entry-state"),
                "superseded",
                "Corrected by a later entry"
            )]);
        }
    }
    all
}

fn measurement(cx: &EntryContext, m: &Measurement, out: &mut Resources) {
    let date = json!(m.date);
    let measured_by =
        json!([{ "url": extension_url("measured-by"), "valueCode": code_of(m.measured_by) }]);
    for (part, value) in [
        ("weight", m.weight_kg),
        ("length", m.length_cm),
        ("height", m.height_cm),
        ("head", m.head_circumference_cm),
    ] {
        if let Some(value) = value {
            let unit = observation_kind(part).unit.unwrap_or_default();
            out.observation(cx, part, &|r| {
                r["effectiveDateTime"] = date.clone();
                r["valueQuantity"] = quantity(value, unit);
                r["extension"] = measured_by.clone();
                if m.measured_by == crate::model::MeasuredBy::Parent {
                    self_reported(r, part);
                }
            });
        }
    }
}

/// A parent's measure at home: SNOMED CT's self-reported concepts, which
/// UKCore-BodyWeightMeasurements and -BodyHeightMeasurements hold (784399000 "Self reported
/// body weight", 1162419008 "Self reported body height").
fn self_reported(observation: &mut Value, part: &str) {
    let concept = match part {
        "weight" => ("784399000", "Self reported body weight"),
        "length" | "height" => ("1162419008", "Self reported body height"),
        _ => return,
    };
    if let Some(codings) = observation["code"]["coding"].as_array_mut() {
        for c in codings.iter_mut().filter(|c| c["system"] == SNOMED) {
            *c = coding(SNOMED, concept.0, concept.1);
        }
    }
}

fn birth_details(cx: &EntryContext, b: &BirthDetails, out: &mut Resources) {
    for (part, value) in [
        ("birth-weight", b.birth_weight_kg),
        ("birth-length", b.length_cm),
        ("birth-head", b.head_circumference_cm),
        ("gestation", b.gestation.map(|g| f64::from(g.total_days))),
    ] {
        if let Some(value) = value {
            let unit = observation_kind(part).unit.unwrap_or_default();
            out.observation(cx, part, &|r| r["valueQuantity"] = quantity(value, unit));
        }
    }
    for (part, score) in [("apgar-1", b.apgar_1_min), ("apgar-5", b.apgar_5_min)] {
        if let Some(score) = score {
            out.observation(cx, part, &|r| r["valueInteger"] = json!(score));
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
        out.observation(cx, "delivery", &|r| {
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

fn immunisation(cx: &EntryContext, i: &Immunisation, out: &mut Resources) {
    let canonical = crate::schedule::canonical_vaccine(&i.vaccine).unwrap_or(&i.vaccine);
    let codes = vaccines::vaccine_codes(canonical);
    let mut vaccine_codings = Vec::new();
    // The dm+d product, only where the brand written is one the table knows (UK Core's
    // VaccineCode binding); the vaccine name itself may be the brand ("Bexsero").
    let amp = codes.and_then(|c| {
        text(&i.product)
            .and_then(|p| c.product(p))
            .or_else(|| c.product(&i.vaccine))
    });
    if let Some((code, display)) = amp {
        vaccine_codings.push(coding(vaccines::DMD_SYSTEM, code, display));
    }
    vaccine_codings.push(coding(&code_system("vaccine"), canonical, &i.vaccine));
    if let Some(product) = text(&i.product) {
        vaccine_codings
            .push(json!({ "system": code_system("vaccine-product"), "display": product }));
    }
    let mut resource = json!({
        "resourceType": "Immunization",
        "id": cx.id("immunization"),
        "identifier": cx.identifier,
        "status": if cx.in_error { "entered-in-error" } else { "completed" },
        "vaccineCode": { "coding": vaccine_codings, "text": i.vaccine },
        "patient": cx.subject,
        "occurrenceDateTime": i.date,
        "recorded": cx.entry.recorded_at,
        "primarySource": cx.entry.author.role.is_professional(),
        "protocolApplied": [{ "doseNumberPositiveInt": i.dose }],
    });
    if let Some(codes) = codes {
        let (code, display) = codes.procedure_for(i.dose);
        resource["extension"] = json!([{
            "url": uk_core("StructureDefinition/Extension-UKCore-VaccinationProcedure"),
            "valueCodeableConcept": { "coding": [coding(SNOMED, code, display)] },
        }]);
    }
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
    } else if cx.entry.author.role.is_professional() {
        // Recorded by a professional and no one else named: they gave it (CH015 wants
        // their name, SDS role and organisation: their PractitionerRole holds them).
        resource["performer"] = json!([{ "actor": cx.author }]);
    }
    out.main
        .push(("Immunization", cx.id("immunization"), resource));
}

fn newborn_screening(cx: &EntryContext, screening: &NewbornScreening, out: &mut Resources) {
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
    out.observation(cx, part, &|r| {
        r["effectiveDateTime"] = json!(date);
        r["component"] = json!(components);
    });
}

fn review(cx: &EntryContext, review: &Review, out: &mut Resources) {
    let encounter_id = cx.id("encounter");
    out.main.push((
        "Encounter",
        encounter_id.clone(),
        json!({
            "resourceType": "Encounter",
            "id": encounter_id,
            "identifier": cx.identifier,
            "status": if cx.in_error { "entered-in-error" } else { "finished" },
            "class": coding(ACT_CODE, "AMB", "ambulatory"),
            "type": [local_concept("review-kind", review.kind)],
            "subject": cx.subject,
            "participant": [{ "individual": cx.author }],
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
        components
            .push(json!({ "code": local_concept("review", "advice"), "valueString": advice }));
    }
    let encounter = reference("Encounter", &encounter_id);
    out.observation(cx, "review-outcome", &|r| {
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

fn health_event(cx: &EntryContext, event: &HealthEvent, out: &mut Resources) {
    let kind = local_concept("health-event-kind", event.kind);
    if event.kind == crate::model::HealthEventKind::HospitalVisit {
        let mut resource = json!({
            "resourceType": "Encounter",
            "id": cx.id("encounter"),
            "identifier": cx.identifier,
            "status": if cx.in_error { "entered-in-error" } else { "finished" },
            // The parent may not know whether the child was admitted.
            "class": coding(ACT_CODE, "AMB", "ambulatory"),
            "type": [kind],
            "subject": cx.subject,
            "period": { "start": event.date },
            "reasonCode": [{ "text": event.description }],
        });
        if let Some(place) = text(&event.place) {
            resource["location"] = json!([{ "location": { "display": place } }]);
        }
        if let Some(outcome) = text(&event.outcome) {
            resource["hospitalization"] = json!({ "dischargeDisposition": { "text": outcome } });
        }
        out.main.push(("Encounter", cx.id("encounter"), resource));
    } else {
        let mut resource = json!({
            "resourceType": "Condition",
            "id": cx.id("condition"),
            "identifier": cx.identifier,
            "category": [kind],
            "code": { "text": event.description },
            "subject": cx.subject,
            "onsetDateTime": event.date,
            "recordedDate": cx.entry.recorded_at,
            "recorder": cx.author,
        });
        if cx.in_error {
            resource["verificationStatus"] = json!({ "coding": [coding(CONDITION_VERIFICATION, "entered-in-error", "Entered in Error")] });
        }
        if let Some(place) = text(&event.place) {
            resource["extension"] =
                json!([{ "url": extension_url("place"), "valueString": place }]);
        }
        if let Some(outcome) = text(&event.outcome) {
            resource["note"] = json!([{ "text": outcome }]);
        }
        out.main.push(("Condition", cx.id("condition"), resource));
    }
}

fn medicine(cx: &EntryContext, m: &Medicine, out: &mut Resources) {
    let status = if cx.in_error {
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
        "id": cx.id("medication"),
        "identifier": cx.identifier,
        "status": status,
        "medicationCodeableConcept": { "text": m.name },
        "subject": cx.subject,
        "effectivePeriod": period,
        "dateAsserted": cx.entry.recorded_at,
        "informationSource": cx.author,
    });
    if let Some(reason) = text(&m.reason) {
        resource["reasonCode"] = json!([{ "text": reason }]);
    }
    if let Some(dose) = text(&m.dose) {
        resource["dosage"] = json!([{ "text": dose }]);
    }
    out.main
        .push(("MedicationStatement", cx.id("medication"), resource));
}

fn allergy(cx: &EntryContext, a: &Allergy, out: &mut Resources) {
    let mut resource = json!({
        "resourceType": "AllergyIntolerance",
        "id": cx.id("allergy"),
        "identifier": cx.identifier,
        "code": { "text": a.substance },
        "patient": cx.subject,
        "recorder": cx.author,
    });
    if cx.in_error {
        // FHIR ait-2: no clinical status on an entry in error.
        resource["verificationStatus"] = json!({ "coding": [coding(ALLERGY_VERIFICATION, "entered-in-error", "Entered in Error")] });
    } else {
        let (code, display) = if cx.entry.author.role.is_professional() {
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
    out.main
        .push(("AllergyIntolerance", cx.id("allergy"), resource));
}

fn contact(cx: &EntryContext, c: &Contact, out: &mut Resources) {
    let status = if cx.in_error {
        "entered-in-error"
    } else if cx.superseded {
        "inactive"
    } else {
        "active"
    };
    let mut resource = json!({
        "resourceType": "CareTeam",
        "id": cx.id("contact"),
        "identifier": cx.identifier,
        "status": status,
        "subject": cx.subject,
        "participant": [{
            "role": [local_concept("contact-role", c.role)],
            "member": { "display": c.name },
        }],
    });
    if let Some(phone) = text(&c.phone) {
        resource["telecom"] = json!([{ "system": "phone", "value": phone }]);
    }
    out.main.push(("CareTeam", cx.id("contact"), resource));
}

fn note(cx: &EntryContext, n: &Note, out: &mut Resources) {
    out.observation(cx, "note", &|r| {
        r["effectiveDateTime"] = json!(n.date);
        r["code"]["coding"]
            .as_array_mut()
            .expect("built above")
            .push(local_concept("note-kind", n.kind)["coding"][0].clone());
        r["valueString"] = json!(n.text);
    });
}

fn risk_factor(cx: &EntryContext, f: &RiskFactor, out: &mut Resources) {
    out.observation(cx, "risk-factor", &|r| {
        r["effectiveDateTime"] = json!(f.date);
        r["code"]["coding"]
            .as_array_mut()
            .expect("built above")
            .push(local_concept("risk-factor", f.factor)["coding"][0].clone());
        r["valueBoolean"] = json!(f.present);
    });
}

fn parental_heights(cx: &EntryContext, h: &ParentalHeights, out: &mut Resources) {
    let date = json!(h.date);
    let measured_by =
        json!([{ "url": extension_url("measured-by"), "valueCode": code_of(h.measured_by) }]);
    for (part, value) in [
        ("mother-height", h.mother_cm),
        ("father-height", h.father_cm),
    ] {
        if let Some(value) = value {
            out.observation(cx, part, &|r| {
                r["effectiveDateTime"] = date.clone();
                r["valueQuantity"] = quantity(value, "cm");
                r["extension"] = measured_by.clone();
            });
        }
    }
}

fn record_closed(cx: &EntryContext, c: &RecordClosure, out: &mut Resources) {
    out.observation(cx, "record-closed", &|r| {
        r["effectiveDateTime"] = json!(c.date);
        r["valueCodeableConcept"] = local_concept("closure-reason", c.reason);
    });
}

/// Object keys in a stable order make the file diffable; serde_json's map is sorted.
pub fn to_json_string(bundle: &Value) -> String {
    serde_json::to_string_pretty(bundle).expect("a JSON value always serialises")
}
