//! Reading what another NHS system wrote: UK Core 2.0.0's own example instances
//! (third_party/uk-core/examples, converted from XML to JSON by the HL7 validator into
//! tests/fixtures/uk-core; scripts/test.sh checks the conversion is current). Each Patient
//! example makes a record or is refused for a reason; each Immunization and vital-signs
//! example becomes an entry signed by the device that imported it, saying where it came
//! from, or is reported with why, never dropped.

use redbook_core::export::fhir::NotImported;
use redbook_core::model::*;
use redbook_core::{DeviceProfile, Error, ImportReport, RedBook};
use redbook_tests::{export_fhir_kept, raw_key};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/uk-core")
}

fn example(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap()
}

fn examples(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    assert!(
        !names.is_empty(),
        "{prefix} examples are in tests/fixtures/uk-core"
    );
    names
}

/// A health visitor's tablet.
fn tablet(dir: &TempDir) -> RedBook {
    let book = RedBook::open(&dir.path().join("hv.redbook"), raw_key(7)).unwrap();
    book.set_device_profile(DeviceProfile {
        role: Role::HealthVisitor,
        display_name: "Sam Patel".into(),
        organisation: Some("RQX".into()),
    })
    .unwrap();
    book
}

/// A Bundle of the named examples, as a system would send them together.
fn bundle_of(names: &[&str]) -> String {
    let entry: Vec<Value> = names
        .iter()
        .map(|n| serde_json::json!({ "resource": serde_json::from_str::<Value>(&example(n)).unwrap() }))
        .collect();
    serde_json::json!({ "resourceType": "Bundle", "type": "collection", "entry": entry })
        .to_string()
}

fn reasons(report: &ImportReport) -> Vec<String> {
    report
        .not_imported
        .iter()
        .map(|NotImported { what, why }| format!("{what}: {why}"))
        .collect()
}

/// Melanie Jones, UK Core's baby, as a record on the tablet.
fn melanie(book: &RedBook) -> RecordId {
    let report = book
        .import_fhir(example("UKCore-Patient-BabyPatient-Example").as_bytes())
        .unwrap();
    assert_eq!(report.entries_added, 0);
    report.record
}

#[test]
fn uk_cores_baby_becomes_a_record_and_what_it_does_not_keep_is_listed() {
    let dir = TempDir::new().unwrap();
    let book = tablet(&dir);
    let report = book
        .import_fhir(example("UKCore-Patient-BabyPatient-Example").as_bytes())
        .unwrap();
    let details = book.child(&report.record).unwrap().details;
    assert_eq!(details.name, "Melanie JONES");
    assert_eq!(details.birth_date, Some("2021-02-11".parse().unwrap()));
    assert_eq!(details.sex, Some(Sex::Female));
    // UK Core's example NHS number fails the modulus 11 check: left out and said, the
    // child still comes in.
    assert_eq!(details.nhs_number, None);
    assert!(reasons(&report)
        .iter()
        .any(|l| l.contains("identifier") && l.contains("check digit")));
    assert_eq!(
        details.address.as_deref(),
        Some("10 Fearnville Grove, LEEDS, LS8 3DR")
    );
    // Her phone number and ethnic category have no place in a red book: said, not lost
    // silently. No value from the file is in the report.
    let lines = reasons(&report);
    assert!(lines.iter().any(|l| l.contains("telecom")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("extension")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("01131231266")));
}

#[test]
fn every_uk_core_patient_example_makes_a_record_or_is_refused_with_a_reason() {
    let dir = TempDir::new().unwrap();
    let book = tablet(&dir);
    for name in examples("UKCore-Patient-") {
        let before = book.children().unwrap().children.len();
        match book.import_fhir(example(&name).as_bytes()) {
            Ok(report) => {
                let child = book.child(&report.record).unwrap();
                assert!(!child.details.name.is_empty(), "{name}");
            }
            Err(Error::InvalidInput(e)) => {
                assert_eq!(book.children().unwrap().children.len(), before, "{name}");
                // Richard Smith was born in 1970: not a child's red book. The photo
                // snippet has no name.
                let expected = match name.as_str() {
                    "UKCore-Patient-RichardSmith-Example" => "birth_date",
                    "UKCore-Patient-Sn-Photo-Example" => "fhir Patient.name",
                    other => panic!("{other} refused: {e}"),
                };
                assert_eq!(e.field, expected, "{name}");
            }
            Err(other) => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn each_immunization_and_vital_sign_example_is_added_unverified_or_reported() {
    let dir = TempDir::new().unwrap();
    let book = tablet(&dir);
    let id = melanie(&book);
    let mut added = 0;
    for name in examples("UKCore-Immunization-")
        .into_iter()
        .chain(examples("UKCore-Observation-VitalSigns-"))
    {
        let before = book.child(&id).unwrap().entries.len();
        let report = book.import_foreign(&id, example(&name).as_bytes()).unwrap();
        let after = book.child(&id).unwrap().entries.len();
        assert_eq!(after - before, report.entries_added as usize, "{name}");
        let lines = reasons(&report);
        if report.entries_added == 0 {
            // Never silent: the resource itself is reported, with why.
            assert!(lines.iter().any(|l| l.contains(&name)), "{name}: {lines:?}");
        }
        match name.as_str() {
            // Given before Melanie was born (these examples are Richard Smith's).
            "UKCore-Immunization-InfluenzaVaccine-Example" => {
                assert_eq!(report.entries_added, 0, "{lines:?}")
            }
            // Its reference carries Richard Smith's NHS number, not Melanie's.
            "UKCore-Immunization-Sn-PatientConformVaccination-Example" => {
                assert!(
                    lines.iter().any(|l| l.contains("another patient")),
                    "{lines:?}"
                )
            }
            // A body mass index is computed here, never taken as given.
            "UKCore-Observation-VitalSigns-BMI-Example" => {
                assert!(lines.iter().any(|l| l.contains("computed")), "{lines:?}")
            }
            _ => {}
        }
        added += report.entries_added;
    }
    assert!(added >= 8, "most examples became entries: {added}");

    let record = book.child(&id).unwrap();
    for view in &record.entries {
        // This device vouches for having brought it in, and says where from.
        assert_eq!(view.verification, Verification::Verified);
        assert_eq!(view.entry.author.device_id, book.device_id());
        assert!(view.entry.source.is_some());
        // Shown as not verified: who wrote it in the other system cannot be checked here.
        let line = redbook_core::view::author_line(view);
        assert!(line.contains("not verified; imported from"), "{line}");
    }
    let covid = record
        .entries
        .iter()
        .find_map(|v| match &v.entry.body {
            EntryBody::Immunisation(i) if i.vaccine.contains("Vaxzevria") => Some(i.clone()),
            _ => None,
        })
        .expect("a vaccine the table does not know keeps its words");
    assert_eq!(covid.date, "2021-07-20".parse().unwrap());
    let height = record
        .entries
        .iter()
        .find_map(|v| match &v.entry.body {
            EntryBody::Measurement(m) if m.height_cm.is_some() => m.height_cm,
            _ => None,
        })
        .expect("the height in metres, kept in centimetres");
    assert!((height - 164.0).abs() < 1e-9);

    // What came in goes out again as UK Core (the validator checks it: scripts/test.sh).
    let bundle: Value =
        serde_json::from_str(&export_fhir_kept(&book, &id, "uk-core-examples-imported")).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
}

#[test]
fn a_file_about_another_child_adds_nothing_to_this_record() {
    let dir = TempDir::new().unwrap();
    let book = tablet(&dir);
    let id = melanie(&book);
    // Richard Smith's Patient with his immunisation: the file is someone else's.
    let bundle = bundle_of(&[
        "UKCore-Patient-RichardSmith-Example",
        "UKCore-Immunization-Sn-LotNumber-Example",
    ]);
    let err = book.import_foreign(&id, bundle.as_bytes()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidInput(ref e) if e.field == "fhir Patient"),
        "{err:?}"
    );
    assert!(book.child(&id).unwrap().entries.is_empty());

    // Melanie's own Patient with an immunisation that names Richard: reported, not added.
    let bundle = bundle_of(&[
        "UKCore-Patient-BabyPatient-Example",
        "UKCore-Immunization-Sn-LotNumber-Example",
    ]);
    let report = book.import_foreign(&id, bundle.as_bytes()).unwrap();
    assert_eq!(report.entries_added, 0);
    assert!(reasons(&report)
        .iter()
        .any(|l| l.contains("another patient")));
}

#[test]
fn hostile_and_odd_files_get_a_clear_answer_and_change_nothing() {
    let dir = TempDir::new().unwrap();
    let book = tablet(&dir);
    let id = melanie(&book);
    let weight: Value =
        serde_json::from_str(&example("UKCore-Observation-VitalSigns-BodyWeight-Example")).unwrap();
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut w = weight.clone();
        edit(&mut w);
        w.to_string()
    };
    let cases: Vec<(String, &str)> = vec![
        (
            with(&|w| w["valueQuantity"]["code"] = "[lb_av]".into()),
            "unit",
        ),
        (
            with(&|w| w["valueQuantity"]["value"] = 9000.into()),
            "weight_kg",
        ),
        (
            with(&|w| w["effectiveDateTime"] = "2999-01-01".into()),
            "date",
        ),
        (with(&|w| w["status"] = "preliminary".into()), "status"),
        (
            with(&|w| {
                w.as_object_mut()
                    .unwrap()
                    .remove("subject")
                    .map(drop)
                    .unwrap_or(())
            }),
            "which patient",
        ),
        (
            with(&|w| w["valueQuantity"] = "heavy".into()),
            "measured value",
        ),
    ];
    for (json, why) in cases {
        let report = book.import_foreign(&id, json.as_bytes()).unwrap();
        assert_eq!(report.entries_added, 0, "{why}");
        assert!(
            reasons(&report).iter().any(|l| l.contains(why)),
            "{why}: {:?}",
            reasons(&report)
        );
    }
    for junk in [&b"not json"[..], b"[]", b"{}", b"{\"resourceType\": 7}"] {
        assert!(matches!(
            book.import_foreign(&id, junk),
            Err(Error::InvalidInput(_))
        ));
    }
    let two_patients = bundle_of(&[
        "UKCore-Patient-BabyPatient-Example",
        "UKCore-Patient-BabyPatient-Example",
    ]);
    assert!(matches!(
        book.import_foreign(&id, two_patients.as_bytes()),
        Err(Error::InvalidInput(ref e)) if e.field == "fhir Patient"
    ));
    assert!(book.child(&id).unwrap().entries.is_empty());
}
