//! An entry's body from the resources its Provenance points at, one function per red
//! book section (the export's `resources`, mirrored).

use super::codes::{code_system, DATA_ABSENT_REASON};
use super::elements::{
    array, bad, date_at, days, extension_value, get, has_local_code, local_code, local_enum,
    optional_date, optional_text, str_at,
};
use crate::model::{
    Allergy, AllergySeverity, AsqScore, BirthDetails, BloodSpotResult, Contact, EntryBody,
    Gestation, HealthEvent, Immunisation, MeasuredBy, Measurement, Medicine, NewbornScreening,
    Note, ParentalHeights, RecordClosure, Review, RiskFactor, Role, ValidationError,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

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
pub(super) fn body_of(
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
