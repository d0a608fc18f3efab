//! The importer reads files from other systems: whatever the bytes, it answers with an
//! error or a record, never a panic.

use super::*;
use crate::model::*;
use proptest::prelude::*;

/// A small Bundle of every resource shape the export writes.
fn sample_bundle() -> Value {
    let author = Author {
        device_id: "00112233445566778899aabbccddeeff".into(),
        role: Role::HealthVisitor,
        display_name: "Jo".into(),
        organisation: Some("RQX".into()),
    };
    let date: chrono::NaiveDate = "2026-02-01".parse().unwrap();
    let bodies = vec![
        EntryBody::Measurement(Measurement {
            date,
            weight_kg: Some(5.2),
            length_cm: Some(58.0),
            height_cm: None,
            head_circumference_cm: Some(39.0),
            measured_by: MeasuredBy::Professional,
        }),
        EntryBody::Immunisation(Immunisation {
            date,
            vaccine: "MenB".into(),
            dose: 1,
            product: Some("Bexsero".into()),
            batch: Some("B1".into()),
            site: None,
            route: None,
            given_by: Some("Nurse".into()),
        }),
        EntryBody::Review(Review {
            date,
            kind: ReviewKind::SixToEightWeeks,
            outcome: "well".into(),
            asq3_scores: vec![AsqScore {
                domain: "communication".into(),
                score: 40,
            }],
            advice: Some("sleep".into()),
        }),
        EntryBody::Allergy(Allergy {
            substance: "egg".into(),
            reaction: None,
            severity: AllergySeverity::Mild,
            noted_on: None,
        }),
        EntryBody::NewbornScreening(NewbornScreening::Hearing {
            date,
            left: HearingEarResult::ClearResponse,
            right: HearingEarResult::NotTested,
            outcome: HearingOutcome::TargetedFollowUp,
        }),
    ];
    let entries: Vec<EntryView> = bodies
        .into_iter()
        .map(|body| EntryView {
            entry: StoredEntry {
                id: EntryId::generate().unwrap(),
                author: author.clone(),
                recorded_at: chrono::Utc::now(),
                amends: None,
                body,
                source: None,
                confirmed: false,
            },
            status: EntryStatus::Current,
            flags: vec![],
            author_confirmed_by: None,
            author_name_then: None,
            withheld_until: None,
            verification: Verification::Verified,
        })
        .collect();
    let signatures = entries
        .iter()
        .map(|v| (v.entry.id.clone(), vec![7u8; 64]))
        .collect();
    to_bundle(&ExportSource {
        record_id: "0123456789abcdef0123456789abcdef",
        details: &ChildDetails {
            name: "Ada".into(),
            birth_date: Some("2026-01-01".parse().unwrap()),
            sex: Some(Sex::Female),
            gestation: Some(Gestation::new(39, 4)),
            nhs_number: Some("9434765919".into()),
            ..Default::default()
        },
        entries: &entries,
        signatures: &signatures,
        members: &[],
        centiles: &[],
        exported_at: chrono::Utc::now(),
    })
}

/// Every (path to a value) in a JSON tree, for mutating one.
fn paths(value: &Value, here: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(here.clone());
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            let mut next = here.clone();
            next.push(k.clone());
            paths(v, next, out);
        }),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| {
            let mut next = here.clone();
            next.push(i.to_string());
            paths(v, next, out);
        }),
        _ => {}
    }
}

fn at_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(map) => map.get_mut(key),
        Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?),
        _ => None,
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
    ]
}

#[test]
fn the_sample_reads_back() {
    let bytes = serde_json::to_vec(&sample_bundle()).unwrap();
    let record = from_bundle(&bytes).unwrap();
    assert_eq!(record.entries.len(), 5);
    assert_eq!(record.details.name, "Ada");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = from_bundle(&bytes);
    }

    #[test]
    fn any_one_element_replaced_never_panics(pick in any::<prop::sample::Index>(), replacement in any_json()) {
        let mut bundle = sample_bundle();
        let mut all = Vec::new();
        paths(&bundle, Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        if let Some(slot) = at_mut(&mut bundle, &path) {
            *slot = replacement;
        }
        let _ = from_bundle(&serde_json::to_vec(&bundle).unwrap());
    }

    #[test]
    fn truncated_bundles_never_panic(cut in any::<prop::sample::Index>()) {
        let bytes = serde_json::to_vec(&sample_bundle()).unwrap();
        let _ = from_bundle(&bytes[..cut.index(bytes.len())]);
    }
}
