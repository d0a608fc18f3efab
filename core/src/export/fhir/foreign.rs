//! Reads FHIR R4 that another system wrote (UK Core: a GP system's immunisations, a
//! clinic's measurements): a Bundle of any type, or one resource. Patient becomes the
//! child's details; Immunization and the vital-signs Observations (weight, length or
//! height, head circumference) become entries. Whatever is not read is reported, one line
//! per resource or element, naming the element and never its value; nothing is dropped
//! silently. docs/adr/0011-uk-core.md.

use super::elements::{
    array, bad, date_at, get, human_name, identifier_value, optional_text, str_at,
};
use super::vaccines::{self, DMD_SYSTEM};
use super::{LOINC, NHS_NUMBER_SYSTEM, SNOMED};
use crate::child::NotImported;
use crate::model::{
    ChildDetails, EntryBody, Immunisation, MeasuredBy, Measurement, Sex, ValidationError,
};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

/// What another system's FHIR holds that redbook can keep.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForeignRecord {
    /// The one Patient, when the input holds one, and its name in reports (`Patient/id`).
    pub details: Option<ChildDetails>,
    pub patient: Option<String>,
    /// Entries to add, each with the resource it came from (`Immunization/abc`) and who
    /// performed it there, where the resource says.
    pub entries: Vec<ForeignEntry>,
    pub not_imported: Vec<NotImported>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForeignEntry {
    pub source: String,
    pub body: EntryBody,
    /// The performer's name and organisation (ODS code) as the other system gave them.
    pub performer: Option<String>,
    pub organisation: Option<String>,
}

impl NotImported {
    fn new(what: impl Into<String>, why: &str) -> Self {
        NotImported {
            what: what.into(),
            why: why.to_string(),
        }
    }
}

/// Whether a Bundle is this project's own export (it names the record it came from, or
/// its entries carry Provenances with our entry-kind tags), which `from_bundle` reads
/// losslessly.
pub fn is_own_export(bundle: &Value) -> bool {
    let kind_system = super::code_system("entry-kind");
    str_at(bundle, &["identifier", "system"]) == Some(super::record_id_system().as_str())
        || array(bundle, "entry").iter().any(|item| {
            str_at(item, &["resource", "resourceType"]) == Some("Provenance")
                && array(
                    get(item, &["resource", "meta"]).unwrap_or(&Value::Null),
                    "tag",
                )
                .iter()
                .any(|t| str_at(t, &["system"]) == Some(kind_system.as_str()))
        })
}

/// Reads another system's resources, for a child whose NHS number is `child_nhs` when the
/// record holds one. Refused whole only when the input is not FHIR or its Patient cannot be
/// read; a resource that cannot be read, or is about someone else, is reported, left out.
pub fn read_foreign(
    input: &Value,
    child_nhs: Option<&str>,
) -> Result<ForeignRecord, ValidationError> {
    // Each resource with the URL its Bundle entry gives it, which references may use.
    let items: Vec<(Option<&str>, &Value)> = match str_at(input, &["resourceType"]) {
        Some("Bundle") => array(input, "entry")
            .iter()
            .filter_map(|e| Some((str_at(e, &["fullUrl"]), e.get("resource")?)))
            .collect(),
        Some(_) => vec![(None, input)],
        None => return Err(ValidationError::new("fhir", "is not a FHIR resource")),
    };
    let mut by_reference: HashMap<String, &Value> = HashMap::new();
    for (url, resource) in &items {
        if let (Some(kind), Some(id)) = (
            str_at(resource, &["resourceType"]),
            str_at(resource, &["id"]),
        ) {
            by_reference.insert(format!("{kind}/{id}"), resource);
        }
        if let Some(url) = url {
            by_reference.insert(url.to_string(), resource);
        }
    }
    let resources: Vec<&Value> = items.iter().map(|(_, r)| *r).collect();
    let patients: Vec<&Value> = resources
        .iter()
        .copied()
        .filter(|r| str_at(r, &["resourceType"]) == Some("Patient"))
        .collect();
    if patients.len() > 1 {
        return Err(ValidationError::new(
            "fhir Patient",
            "the input holds more than one: a record is one child's",
        ));
    }
    let mut out = ForeignRecord::default();
    let patient = patients.first().copied();
    if let Some(patient) = patient {
        out.details = Some(details_of(patient, &mut out.not_imported)?);
        out.patient = Some(format!(
            "Patient/{}",
            str_at(patient, &["id"]).unwrap_or("(no id)")
        ));
    }
    let cx = Context {
        by_reference,
        patient,
        child_nhs: patient
            .and_then(|p| identifier_value(p, NHS_NUMBER_SYSTEM))
            .or(child_nhs)
            .map(digits),
    };
    let mut used: BTreeSet<String> = BTreeSet::new();
    for resource in &resources {
        let kind = str_at(resource, &["resourceType"]).unwrap_or("resource");
        let name = format!("{kind}/{}", str_at(resource, &["id"]).unwrap_or("(no id)"));
        let read = match kind {
            "Patient" => continue,
            "Immunization" => cx.immunisation(resource, &name, &mut out.not_imported),
            "Observation" => cx.measurement(resource, &name, &mut out.not_imported),
            _ => Err("redbook keeps immunisations and measurements from other systems, not this kind of resource"),
        };
        match read {
            Ok(entry) => {
                used.extend(references_in(resource));
                out.entries.push(entry);
            }
            Err(why) => out.not_imported.push(NotImported::new(name, why)),
        }
    }
    // A Practitioner or Organization an entry named was read with it, not dropped.
    out.not_imported.retain(|n| !used.contains(&n.what));
    out.not_imported.sort();
    Ok(out)
}

/// Top-level elements every resource may carry that say nothing clinical.
const BOOKKEEPING: &[&str] = &["resourceType", "id", "meta", "text", "identifier"];

/// Reports the top-level elements of `resource` not in `read`.
fn report_unread(resource: &Value, name: &str, read: &[&str], out: &mut Vec<NotImported>) {
    let Some(object) = resource.as_object() else {
        return;
    };
    for key in object.keys() {
        let element = key.trim_start_matches('_');
        if !BOOKKEEPING.contains(&element) && !read.contains(&element) {
            out.push(NotImported::new(
                format!("{name} {element}"),
                "redbook has no place for this element",
            ));
        }
    }
}

fn details_of(
    patient: &Value,
    out: &mut Vec<NotImported>,
) -> Result<ChildDetails, ValidationError> {
    let name = get(patient, &["name", "0"])
        .and_then(human_name)
        .ok_or_else(|| bad("Patient.name"))?;
    let sex = match str_at(patient, &["gender"]) {
        Some("female") => Some(Sex::Female),
        Some("male") => Some(Sex::Male),
        // "other" and "unknown" have no growth chart: left unset for the app to ask.
        _ => None,
    };
    let address = get(patient, &["address", "0"]).and_then(|a| {
        optional_text(a, &["text"]).or_else(|| {
            let parts: Vec<&str> = array(a, "line")
                .iter()
                .filter_map(Value::as_str)
                .chain(
                    ["city", "postalCode"]
                        .iter()
                        .filter_map(|k| str_at(a, &[k])),
                )
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        })
    });
    let birth_date = match get(patient, &["birthDate"]) {
        None => None,
        Some(_) => Some(date_at(patient, &["birthDate"], "Patient.birthDate")?),
    };
    let patient_name = format!("Patient/{}", str_at(patient, &["id"]).unwrap_or("(no id)"));
    if array(patient, "identifier")
        .iter()
        .any(|i| str_at(i, &["system"]) != Some(NHS_NUMBER_SYSTEM))
    {
        out.push(NotImported::new(
            format!("{patient_name} identifier"),
            "only the NHS number (https://fhir.nhs.uk/Id/nhs-number) is kept",
        ));
    }
    report_unread(
        patient,
        &patient_name,
        &[
            "name",
            "gender",
            "birthDate",
            "address",
            "generalPractitioner",
        ],
        out,
    );
    Ok(ChildDetails {
        name,
        birth_date,
        sex,
        gestation: None,
        nhs_number: identifier_value(patient, NHS_NUMBER_SYSTEM).map(str::to_string),
        address,
        gp_practice: optional_text(patient, &["generalPractitioner", "0", "display"]),
    })
}

/// Every relative reference in a resource, e.g. `Practitioner/abc`.
fn references_in(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("reference", Value::String(r)) => found.push(r.clone()),
                    _ => found.extend(references_in(v)),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| found.extend(references_in(v))),
        _ => {}
    }
    found
}

struct Context<'a> {
    by_reference: HashMap<String, &'a Value>,
    patient: Option<&'a Value>,
    /// The child's NHS number (digits): the file's Patient's, else the record's.
    child_nhs: Option<String>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

type Read = Result<ForeignEntry, &'static str>;

impl Context<'_> {
    /// Refuses a resource about someone else: an NHS number on its subject reference must
    /// be the child's, and with a Patient in the file the reference must name it; with no
    /// Patient in the file, the one importing vouches for who a bare reference means.
    fn about_this_child(&self, subject: Option<&Value>) -> Result<(), &'static str> {
        const ANOTHER: &str = "it is about another patient than this child";
        let Some(subject) = subject else {
            return Err("it does not say which patient it is about");
        };
        let nhs = str_at(subject, &["identifier", "value"])
            .filter(|_| str_at(subject, &["identifier", "system"]) == Some(NHS_NUMBER_SYSTEM))
            .map(digits);
        if let Some(nhs) = &nhs {
            if self.child_nhs.as_ref() != Some(nhs) {
                return Err(ANOTHER);
            }
        }
        let Some(patient) = self.patient else {
            return Ok(());
        };
        let names_patient = str_at(subject, &["reference"]).is_some_and(|r| {
            self.by_reference
                .get(r)
                .is_some_and(|p| std::ptr::eq(*p, patient))
        });
        if names_patient || nhs.is_some() {
            Ok(())
        } else {
            Err(ANOTHER)
        }
    }

    /// The performer's name and ODS organisation, from the first performer or recorder.
    fn performer(&self, actors: &[&Value]) -> (Option<String>, Option<String>) {
        for actor in actors {
            let display = optional_text(actor, &["display"]);
            let resolved = str_at(actor, &["reference"]).and_then(|r| self.by_reference.get(r));
            let (mut name, mut organisation) = (display, None);
            if let Some(resource) = resolved {
                let person = match str_at(resource, &["resourceType"]) {
                    Some("PractitionerRole") => {
                        organisation = str_at(resource, &["organization", "reference"])
                            .and_then(|r| self.by_reference.get(r))
                            .and_then(|o| identifier_value(o, super::ODS_SYSTEM))
                            .or_else(|| str_at(resource, &["organization", "identifier", "value"]))
                            .map(str::to_string);
                        str_at(resource, &["practitioner", "reference"])
                            .and_then(|r| self.by_reference.get(r))
                            .copied()
                    }
                    Some("Organization") => {
                        organisation =
                            identifier_value(resource, super::ODS_SYSTEM).map(str::to_string);
                        name = name.or_else(|| optional_text(resource, &["name"]));
                        None
                    }
                    _ => Some(*resource),
                };
                if let Some(person) = person {
                    name = name.or_else(|| person_name(person));
                }
            }
            if name.is_some() || organisation.is_some() {
                return (name, organisation);
            }
        }
        (None, None)
    }

    fn immunisation(&self, i: &Value, name: &str, out: &mut Vec<NotImported>) -> Read {
        match str_at(i, &["status"]) {
            Some("completed") => {}
            Some("not-done") => return Err("it records a vaccine not given"),
            _ => return Err("its status is not completed"),
        }
        self.about_this_child(get(i, &["patient"]))?;
        let date = date_at(
            i,
            &["occurrenceDateTime"],
            "Immunization.occurrenceDateTime",
        )
        .map_err(|_| "it has no date of vaccination")?;
        let codings = array(get(i, &["vaccineCode"]).unwrap_or(&Value::Null), "coding");
        let procedure = array(i, "extension")
            .iter()
            .filter(|e| {
                str_at(e, &["url"])
                    == Some(
                        super::uk_core("StructureDefinition/Extension-UKCore-VaccinationProcedure")
                            .as_str(),
                    )
            })
            .flat_map(|e| {
                array(
                    get(e, &["valueCodeableConcept"]).unwrap_or(&Value::Null),
                    "coding",
                )
            })
            .find_map(|c| str_at(c, &["code"]).filter(|_| str_at(c, &["system"]) == Some(SNOMED)));
        // The product: a dm+d (or SNOMED CT, which holds dm+d's ids) code the table knows.
        let product = codings.iter().find_map(|c| {
            let system = str_at(c, &["system"])?;
            (system == DMD_SYSTEM || system == SNOMED)
                .then(|| str_at(c, &["code"]))
                .flatten()
                .and_then(|code| {
                    let codes = vaccines::vaccine_by_code(code)?;
                    let brand = codes.products.iter().find(|(_, amp)| amp.0 == code)?.0;
                    Some((codes.vaccine, brand))
                })
        });
        let known = product.map(|(vaccine, _)| vaccine).or_else(|| {
            procedure
                .and_then(vaccines::vaccine_by_code)
                .map(|v| v.vaccine)
        });
        let text = optional_text(i, &["vaccineCode", "text"])
            .or_else(|| codings.iter().find_map(|c| optional_text(c, &["display"])));
        let vaccine = match (known, text) {
            (Some(vaccine), _) => vaccine.to_string(),
            // Not in the table: the words the other system used, kept as they are.
            (None, Some(text)) => text,
            (None, None) => {
                return Err("its vaccine is neither coded as one redbook knows nor named")
            }
        };
        let dose = match get(i, &["protocolApplied", "0"]) {
            None => 1,
            Some(p) => p
                .get("doseNumberPositiveInt")
                .and_then(Value::as_u64)
                .or_else(|| str_at(p, &["doseNumberString"]).and_then(|s| s.trim().parse().ok()))
                .and_then(|d| u8::try_from(d).ok())
                .filter(|d| *d > 0)
                .unwrap_or(1),
        };
        let concept_text = |key: &str| {
            optional_text(i, &[key, "text"])
                .or_else(|| optional_text(i, &[key, "coding", "0", "display"]))
        };
        let performers: Vec<&Value> = array(i, "performer")
            .iter()
            .filter_map(|p| p.get("actor"))
            .collect();
        let (performer, organisation) = self.performer(&performers);
        report_unread(
            i,
            name,
            &[
                "status",
                "patient",
                "occurrenceDateTime",
                "vaccineCode",
                "extension",
                "protocolApplied",
                "lotNumber",
                "site",
                "route",
                "performer",
                "recorded",
                "primarySource",
            ],
            out,
        );
        Ok(ForeignEntry {
            source: name.to_string(),
            body: EntryBody::Immunisation(Immunisation {
                date,
                vaccine,
                dose,
                product: product.map(|(_, brand)| brand.to_string()),
                batch: optional_text(i, &["lotNumber"]),
                site: concept_text("site"),
                route: concept_text("route"),
                given_by: performer.clone(),
            }),
            performer,
            organisation,
        })
    }

    fn measurement(&self, o: &Value, name: &str, out: &mut Vec<NotImported>) -> Read {
        match str_at(o, &["status"]) {
            Some("final" | "amended" | "corrected") => {}
            _ => return Err("its status is not final"),
        }
        let codes: Vec<(&str, &str)> = array(get(o, &["code"]).unwrap_or(&Value::Null), "coding")
            .iter()
            .filter_map(|c| Some((str_at(c, &["system"])?, str_at(c, &["code"])?)))
            .collect();
        let has = |system: &str, code: &str| codes.iter().any(|(s, c)| *s == system && *c == code);
        // LOINC as UK Core's vital-signs profiles fix it; SNOMED CT as UK Core's value
        // sets hold it; a self-reported measure was a parent's.
        let part = if has(LOINC, "29463-7") || has(SNOMED, "27113001") || has(SNOMED, "784399000") {
            "weight"
        } else if has(LOINC, "8306-3") || has(SNOMED, "1149101003") {
            "length"
        } else if has(LOINC, "8302-2") || has(SNOMED, "50373000") || has(SNOMED, "1162419008") {
            "height"
        } else if has(LOINC, "9843-4") || has(SNOMED, "363812007") {
            "head"
        } else if has(LOINC, "39156-5") {
            return Err(
                "a body mass index is computed by redbook from weight and height, not kept",
            );
        } else {
            return Err("redbook keeps weight, length or height and head circumference, not this observation");
        };
        self.about_this_child(get(o, &["subject"]))?;
        let date = date_at(o, &["effectiveDateTime"], "Observation.effectiveDateTime")
            .or_else(|_| {
                date_at(
                    o,
                    &["effectivePeriod", "start"],
                    "Observation.effectivePeriod",
                )
            })
            .map_err(|_| "it has no date")?;
        let quantity = get(o, &["valueQuantity"]).ok_or("it has no measured value")?;
        let value = get(quantity, &["value"])
            .and_then(Value::as_f64)
            .ok_or("it has no measured value")?;
        let unit = str_at(quantity, &["code"]).or_else(|| str_at(quantity, &["unit"]));
        let value = match (part, unit) {
            ("weight", Some("kg")) => value,
            ("weight", Some("g")) => value / 1000.0,
            (_, Some("cm")) if part != "weight" => value,
            (_, Some("m")) if part != "weight" => value * 100.0,
            (_, Some("mm")) if part != "weight" => value / 10.0,
            _ => return Err("its unit is not one redbook converts (kg, g, cm, m, mm)"),
        };
        let performers: Vec<&Value> = array(o, "performer").iter().collect();
        let (performer, organisation) = self.performer(&performers);
        let by_parent = has(SNOMED, "784399000")
            || has(SNOMED, "1162419008")
            || performers.iter().any(|p| {
                matches!(
                    str_at(p, &["reference"]).and_then(|r| r.split('/').next()),
                    Some("Patient" | "RelatedPerson")
                )
            });
        report_unread(
            o,
            name,
            &[
                "status",
                "category",
                "code",
                "subject",
                "effectiveDateTime",
                "effectivePeriod",
                "valueQuantity",
                "performer",
            ],
            out,
        );
        let mut m = Measurement {
            date,
            weight_kg: None,
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: if by_parent {
                MeasuredBy::Parent
            } else {
                MeasuredBy::Professional
            },
        };
        match part {
            "weight" => m.weight_kg = Some(value),
            "length" => m.length_cm = Some(value),
            "height" => m.height_cm = Some(value),
            _ => m.head_circumference_cm = Some(value),
        }
        Ok(ForeignEntry {
            source: name.to_string(),
            body: EntryBody::Measurement(m),
            performer,
            organisation,
        })
    }
}

fn person_name(person: &Value) -> Option<String> {
    get(person, &["name", "0"]).and_then(human_name)
}
