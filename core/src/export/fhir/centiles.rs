//! The growth engine's centiles and SDS scores, and a computed BMI, as Observations
//! derived from the measures' own.

use super::bundle::BundleBuilder;
use super::codes::{
    loinc_display, observation_kind, CENTILE_CODES, LOINC, OBSERVATION_CATEGORY, SNOMED, UCUM,
};
use super::{coding, declare_profile, quantity, reference, ExportSource};
use serde_json::json;

/// Each centile and SDS score as a UKCore-Observation coded as RCPCH lists them, derived
/// from the measure's own Observation; a computed BMI as UKCore-Observation-VitalSigns-BMI.
/// Not Provenance targets: the exporting device computed them, nobody wrote them, and an
/// import leaves them out.
pub(super) fn centile_observations(source: &ExportSource, out: &mut BundleBuilder) {
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
