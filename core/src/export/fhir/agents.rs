//! The people, devices and organisations an export names: one resource each, referred
//! to by index from the clinical resources and the Provenances.

use super::bundle::BundleBuilder;
use super::codes::{device_id_system, extension_url, sds_job_role, uk_core, ODS_SYSTEM, ROLE_CODE};
use super::{code_of, coding, declare_profile, reference, words, ExportSource};
use crate::model::{Author, Role};
use base64::Engine;
use serde_json::{json, Value};

/// Persons, devices and organisations the Provenances name, one resource each.
#[derive(Default)]
pub(super) struct Agents {
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

    pub(super) fn author_ref(&mut self, author: &Author) -> Value {
        let index = self.author_index(author);
        reference(person_type(author.role), &format!("author-{index}"))
    }

    /// Who did it, as a clinical resource names them: a professional's PractitionerRole
    /// (their SDS job role and ODS organisation, which NHS child health events require),
    /// a parent's or carer's RelatedPerson.
    pub(super) fn performer_ref(&mut self, author: &Author) -> Value {
        if author.role.is_professional() {
            let index = self.author_index(author);
            reference("PractitionerRole", &format!("author-{index}-role"))
        } else {
            self.author_ref(author)
        }
    }

    pub(super) fn organisation_ref(&self, ods: &str) -> Value {
        let index = self
            .organisations
            .iter()
            .position(|o| o == ods)
            .unwrap_or(0);
        reference("Organization", &format!("organisation-{index}"))
    }

    /// The resources the Provenances point at: each author's Practitioner (with their
    /// PractitionerRole) or RelatedPerson, each Device with its public key where the
    /// device is a member, each Organization.
    pub(super) fn push_resources(&self, source: &ExportSource, out: &mut BundleBuilder) {
        for (index, author) in self.authors.iter().enumerate() {
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
                    role["organization"] = self.organisation_ref(org);
                }
                declare_profile(&mut role, "PractitionerRole");
                out.push("PractitionerRole", &role_id, role);
            }
            if !author.role.is_professional() {
                person["patient"] = reference("Patient", source.record_id);
                person["relationship"] = json!([match author.role {
                    Role::Parent =>
                        json!({ "coding": [coding(ROLE_CODE, "PRN", "parent")], "text": "Parent" }),
                    _ => json!({ "text": "Carer" }),
                }]);
            }
            out.push(person_type(author.role), &id, person);
        }
        for device_id in &self.devices {
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
        for (index, ods) in self.organisations.iter().enumerate() {
            let id = format!("organisation-{index}");
            let mut organisation = json!({
                "resourceType": "Organization",
                "id": id,
                "identifier": [{ "system": ODS_SYSTEM, "value": ods }],
            });
            declare_profile(&mut organisation, "Organization");
            out.push("Organization", &id, organisation);
        }
    }
}

fn person_type(role: Role) -> &'static str {
    if role.is_professional() {
        "Practitioner"
    } else {
        "RelatedPerson"
    }
}
