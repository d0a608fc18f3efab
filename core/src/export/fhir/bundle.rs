//! The Bundle as a whole: the Patient, each entry's resources and its Provenance, the
//! centiles, then the people, devices and organisations the Provenances name.

use super::agents::Agents;
use super::centiles::centile_observations;
use super::codes::{
    code_system, extension_url, record_id_system, uk_core, uk_core_profile, DATA_OPERATION,
    NHS_NUMBER_NOT_TRACED, NHS_NUMBER_SYSTEM, PARTICIPATION_TYPE, PROVENANCE_AGENT_TYPE,
    SIGNATURE_TYPE,
};
use super::resources::entry_resources;
use super::{
    coding, declare_profile, local_concept, quantity, reference, text, words, ExportSource,
    REDBOOK_FHIR_BASE,
};
use crate::model::{ChildDetails, EntryBody, EntryId, Sex, StoredEntry};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;

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
        if let Some(provenance) =
            provenance(&view.entry, &resources_of, source.signatures, &mut agents)
        {
            out.push("Provenance", view.entry.id.as_str(), provenance);
        }
    }
    centile_observations(source, &mut out);
    agents.push_resources(source, &mut out);

    json!({
        "resourceType": "Bundle",
        "meta": { "profile": [uk_core_profile("Bundle")] },
        "identifier": { "system": record_id_system(), "value": source.record_id },
        "type": "collection",
        "timestamp": source.exported_at,
        "entry": out.entries,
    })
}

/// The Provenance of one entry: who wrote it on which device, when, what it did to which
/// resources (created, corrected, marked in error) and, where it was signed, the
/// signature.
fn provenance(
    entry: &StoredEntry,
    resources_of: &HashMap<&EntryId, Vec<Value>>,
    signatures: &HashMap<EntryId, Vec<u8>>,
    agents: &mut Agents,
) -> Option<Value> {
    let (activity, target, reason) = match &entry.body {
        EntryBody::EnteredInError { target, reason } => {
            ("NULLIFY", resources_of.get(target).cloned(), Some(reason))
        }
        _ if entry.amends.is_some() => ("UPDATE", resources_of.get(&entry.id).cloned(), None),
        _ => ("CREATE", resources_of.get(&entry.id).cloned(), None),
    };
    // A mark on an entry this version could not read has nothing to point at.
    let target = target.filter(|t| !t.is_empty())?;
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
    if let Some(signature) = signatures.get(&entry.id) {
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
    Some(provenance)
}

/// The Bundle's entries, each resource under its full URL.
#[derive(Default)]
pub(super) struct BundleBuilder {
    pub(super) entries: Vec<Value>,
}

impl BundleBuilder {
    pub(super) fn push(&mut self, resource_type: &str, id: &str, resource: Value) {
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
