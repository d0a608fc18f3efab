//! An entry's clinical resources, one function per red book section: Observations,
//! Immunization, Encounter, Condition, MedicationStatement, AllergyIntolerance, CareTeam.

use super::codes::{
    code_system, entry_id_system, extension_url, loinc_display, observation_kind, uk_core,
    ObservationKind, ACT_CODE, ALLERGY_CLINICAL, ALLERGY_VERIFICATION, CONDITION_VERIFICATION,
    DATA_ABSENT_REASON, LOINC, OBSERVATION_CATEGORY, PERFORMER_FUNCTION, SNOMED,
};
use super::{
    code_of, coding, declare_profile, local_concept, quantity, reference, text, vaccines, words,
};
use crate::model::{
    Allergy, BirthDetails, ChildDetails, Contact, EntryBody, EntryStatus, EntryView, HealthEvent,
    Immunisation, Measurement, Medicine, NewbornScreening, Note, ParentalHeights, RecordClosure,
    Review, RiskFactor, StoredEntry,
};
use chrono::NaiveDate;
use serde_json::{json, Value};

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
pub(super) fn entry_resources(
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
