//! Handing the record to a professional: FHIR R4 (UK Core) out and back in without loss,
//! refused when the file is bad. Every export here is also kept for the HL7 FHIR validator
//! (`export_fhir_kept`), which scripts/test.sh runs against UK Core.

use redbook_core::export::fhir;
use redbook_core::model::*;
use redbook_core::{DeviceProfile, Error, RedBook};
use redbook_tests::{child, every_kind_of_entry, export_fhir_kept, keep_for_validator, raw_key};
use serde_json::Value;
use tempfile::TempDir;

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

fn open(dir: &TempDir, name: &str, key: u8) -> RedBook {
    RedBook::open(&dir.path().join(name), raw_key(key)).unwrap()
}

/// A year of a family's record on Mum's phone (`book`): a health visitor's entries,
/// written on her own tablet, and Mum's; every kind, an amendment and an entry marked in
/// error.
fn family_record(dir: &TempDir, book: &RedBook) -> RecordId {
    book.set_device_profile(DeviceProfile {
        role: Role::Parent,
        display_name: "Mum".into(),
        organisation: None,
    })
    .unwrap();
    let mut details = child("Amara Okafor", "2026-01-01");
    details.nhs_number = Some("943 476 5919".into());
    details.address = Some("1 Mare Street, London E8".into());
    details.gp_practice = Some("Lower Clapton Group Practice".into());
    let id = book.add_child(details).unwrap();
    let hv = open(dir, "hv-tablet.redbook", 99);
    hv.set_device_profile(DeviceProfile {
        role: Role::HealthVisitor,
        display_name: "Sam Patel".into(),
        organisation: Some("RQX".into()),
    })
    .unwrap();
    hv.accept(
        &book
            .share(&id, &hv.device_card().unwrap(), Access::Writer)
            .unwrap(),
    )
    .unwrap();
    hv.receive(&book.export_bundle(&id, None).unwrap()).unwrap();
    for body in every_kind_of_entry() {
        hv.add_entry(&id, body).unwrap();
    }
    let wrong = hv
        .add_entry(
            &id,
            EntryBody::Measurement(Measurement {
                date: day("2026-05-02"),
                weight_kg: Some(7.9),
                length_cm: None,
                height_cm: Some(68.0),
                head_circumference_cm: None,
                measured_by: MeasuredBy::Professional,
            }),
        )
        .unwrap();
    hv.amend_entry(
        &id,
        &wrong.entry.id,
        EntryBody::Measurement(Measurement {
            date: day("2026-05-02"),
            weight_kg: Some(6.9),
            length_cm: Some(64.0),
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Professional,
        }),
    )
    .unwrap();
    book.receive(&hv.export_bundle(&id, None).unwrap()).unwrap();
    let extra = vec![
        EntryBody::Measurement(Measurement {
            date: day("2026-06-10"),
            weight_kg: Some(7.25),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Parent,
        }),
        EntryBody::HealthEvent(HealthEvent {
            date: day("2026-07-01"),
            kind: HealthEventKind::HospitalVisit,
            description: "Fell off the sofa".into(),
            place: Some("Homerton A&E".into()),
            outcome: Some("Sent home, no injury".into()),
        }),
        EntryBody::HealthEvent(HealthEvent {
            date: day("2026-07-01"),
            kind: HealthEventKind::Accident,
            description: "Bumped head".into(),
            place: None,
            outcome: None,
        }),
        EntryBody::Allergy(Allergy {
            substance: "Egg".into(),
            reaction: None,
            severity: AllergySeverity::Mild,
            noted_on: None,
        }),
        EntryBody::Allergy(Allergy {
            substance: "Penicillin".into(),
            reaction: None,
            severity: AllergySeverity::Unknown,
            noted_on: Some(day("2026-08-01")),
        }),
        EntryBody::Medicine(Medicine {
            name: "Vitamin D drops".into(),
            dose: None,
            started: day("2026-01-20"),
            stopped: None,
            reason: None,
        }),
        EntryBody::Contact(Contact {
            role: ContactRole::Gp,
            name: "Dr Adeyemi".into(),
            phone: None,
        }),
        EntryBody::BirthDetails(BirthDetails::default()),
        EntryBody::Note(Note {
            date: day("2026-08-20"),
            kind: NoteKind::QuestionForNextVisit,
            text: "Is she sleeping enough?".into(),
        }),
    ];
    let mut last = None;
    for body in extra {
        last = Some(book.add_entry(&id, body).unwrap());
    }
    book.mark_entered_in_error(&id, &last.unwrap().entry.id, "wrong child")
        .unwrap();
    id
}

/// The record's entries and their statuses, in place order (`placed`).
fn entries(book: &RedBook, id: &RecordId) -> Vec<(StoredEntry, EntryStatus)> {
    placed(
        book.child(id)
            .unwrap()
            .entries
            .into_iter()
            .map(|v| (v.entry, v.status))
            .collect(),
    )
}

/// Entries with each id (an entry's, and those that point at one) replaced by the
/// entry's place in the list: ids commit to their record, so an import gives every entry
/// a new one.
fn placed(entries: Vec<(StoredEntry, EntryStatus)>) -> Vec<(StoredEntry, EntryStatus)> {
    let place: std::collections::HashMap<EntryId, EntryId> = entries
        .iter()
        .enumerate()
        .map(|(i, (e, _))| (e.id.clone(), format!("{i:032x}").parse().unwrap()))
        .collect();
    let at = |id: &mut EntryId| {
        if let Some(placed) = place.get(id) {
            *id = placed.clone();
        }
    };
    entries
        .into_iter()
        .map(|(mut entry, mut status)| {
            at(&mut entry.id);
            if let Some(target) = entry.amends.as_mut() {
                at(target);
            }
            if let EntryBody::EnteredInError { target, .. } = &mut entry.body {
                at(target);
            }
            match &mut status {
                EntryStatus::Amended { by } => at(by),
                EntryStatus::EnteredInError { marked_by, .. } => at(marked_by),
                EntryStatus::Current => {}
            }
            (entry, status)
        })
        .collect()
}

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

#[test]
fn a_bundle_read_into_another_phone_loses_nothing() {
    let dir = TempDir::new().unwrap();
    let mum = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &mum);
    let json = export_fhir_kept(&mum, &id, "family-record");

    let gp = open(&dir, "gp.redbook", 2);
    let imported = gp.import_fhir(json.as_bytes()).unwrap().record;
    assert_ne!(imported, id, "an import is a new record");
    let original = mum.child(&id).unwrap();
    let copy = gp.child(&imported).unwrap();
    assert_eq!(copy.details, original.details);
    assert_eq!(entries(&gp, &imported), entries(&mum, &id));
    // Signatures came across, but a file cannot make the GP's phone trust Mum's.
    assert!(copy
        .entries
        .iter()
        .all(|v| v.verification == Verification::Unverified));

    // Exported again, the Bundle says the same, but for the signatures: the entries
    // came in unsigned (a file cannot vouch for Mum's phone), and go out so.
    let again =
        fhir::from_bundle(export_fhir_kept(&gp, &imported, "family-record-imported").as_bytes())
            .unwrap();
    let first = fhir::from_bundle(json.as_bytes()).unwrap();
    assert_eq!(again.details, first.details);
    let entries_of = |r: &fhir::ImportedRecord| {
        placed(
            r.entries
                .iter()
                .map(|(e, _)| (e.clone(), EntryStatus::Current))
                .collect(),
        )
    };
    assert_eq!(entries_of(&again), entries_of(&first));
    assert!(again
        .entries
        .iter()
        .all(|(_, signature)| signature.is_none()));
    assert_eq!(again.origin.as_ref(), Some(&imported));
}

#[test]
fn a_record_with_no_entries_yet_comes_back_with_every_detail() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let mut details = child("Ada Lovelace", "2026-03-01");
    details.gestation = Some(Gestation::new(36, 2));
    details.nhs_number = Some("943 476 5919".into());
    let id = book.add_child(details).unwrap();
    let json = export_fhir_kept(&book, &id, "empty-record");
    let report = book.import_fhir(json.as_bytes()).unwrap();
    assert!(report.not_imported.is_empty(), "{:?}", report.not_imported);
    assert_eq!(
        book.child(&report.record).unwrap().details,
        book.child(&id).unwrap().details
    );
}

#[test]
fn read_back_on_the_phone_that_wrote_it_every_signature_still_checks() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let json = book.export_fhir(&id).unwrap();
    let copy = book.import_fhir(json.as_bytes()).unwrap().record;
    let views = book.child(&copy).unwrap().entries;
    assert_eq!(views.len(), book.child(&id).unwrap().entries.len());
    // Each signature is over the entry's stored bytes and the record it was written in,
    // rebuilt exactly from the FHIR: Mum's phone vouches again for what it wrote; the
    // health visitor's entries come in unverified (her tablet is no member here).
    let me = book.device_id();
    for view in &views {
        let expected = if view.entry.author.device_id == me {
            Verification::Verified
        } else {
            Verification::Unverified
        };
        assert_eq!(
            view.verification,
            expected,
            "{}",
            view.entry.body.kind_name()
        );
    }
}

#[test]
fn a_value_changed_in_the_file_is_shown_as_invalid_never_trusted() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let mut bundle: Value = serde_json::from_str(&book.export_fhir(&id).unwrap()).unwrap();
    let mut changed_entry = None;
    for item in bundle["entry"].as_array_mut().unwrap() {
        let resource = &mut item["resource"];
        // One of Mum's own entries, changed in the file.
        if resource["resourceType"] == "AllergyIntolerance"
            && resource["code"]["text"] == "Penicillin"
        {
            resource["code"]["text"] = "Peanuts".into();
            changed_entry = Some(
                resource["identifier"][0]["value"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    assert!(changed_entry.is_some());
    let copy = book
        .import_fhir(serde_json::to_vec(&bundle).unwrap().as_slice())
        .unwrap()
        .record;
    let me = book.device_id();
    for view in book.child(&copy).unwrap().entries {
        let changed = matches!(&view.entry.body, EntryBody::Allergy(a) if a.substance == "Peanuts");
        let expected = if changed {
            // Named as Mum's own, and no longer signed: never trusted.
            Verification::Invalid
        } else if view.entry.author.device_id == me {
            Verification::Verified
        } else {
            Verification::Unverified
        };
        assert_eq!(
            view.verification,
            expected,
            "{}",
            view.entry.body.kind_name()
        );
    }
}

#[test]
fn the_bundle_speaks_fhir_a_clinical_system_understands() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let bundle: Value = serde_json::from_str(&book.export_fhir(&id).unwrap()).unwrap();
    assert_eq!(bundle["type"], "collection");
    let patient = resources(&bundle, "Patient")[0];
    assert_eq!(patient["identifier"][0]["system"], fhir::NHS_NUMBER_SYSTEM);
    assert_eq!(patient["identifier"][0]["value"], "9434765919");
    assert_eq!(patient["birthDate"], "2026-01-01");

    let observations = resources(&bundle, "Observation");
    let weight = observations
        .iter()
        .find(|o| o["code"]["coding"][0]["code"] == "29463-7" && o["valueQuantity"]["value"] == 5.2)
        .expect("a body weight coded in LOINC");
    assert_eq!(weight["code"]["coding"][1]["system"], fhir::SNOMED);
    assert_eq!(weight["valueQuantity"]["system"], fhir::UCUM);
    assert_eq!(weight["valueQuantity"]["code"], "kg");
    assert_eq!(weight["effectiveDateTime"], "2026-03-01");
    // The health visitor who weighed: her SDS job role and ODS organisation (CH018).
    let role_ref = weight["performer"][0]["reference"].as_str().unwrap();
    let role = resources(&bundle, "PractitionerRole")
        .into_iter()
        .find(|r| format!("PractitionerRole/{}", r["id"].as_str().unwrap()) == role_ref)
        .expect("the performer's PractitionerRole");
    assert_eq!(role["code"][0]["coding"][0]["code"], "R0690");
    let organisation = resources(&bundle, "Organization")
        .into_iter()
        .find(|o| {
            format!("Organization/{}", o["id"].as_str().unwrap())
                == role["organization"]["reference"]
        })
        .expect("her organisation");
    assert_eq!(organisation["identifier"][0]["value"], "RQX");
    assert_eq!(
        weight["meta"]["profile"][0],
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Observation-VitalSigns-BodyWeight"
    );
    // Its centile and SDS, coded as RCPCH lists them, derived from it.
    let weight_ref = format!("Observation/{}", weight["id"].as_str().unwrap());
    let centile = observations
        .iter()
        .find(|o| {
            o["code"]["coding"][0]["code"] == "1153592008"
                && o["derivedFrom"][0]["reference"] == weight_ref.as_str()
        })
        .expect("a weight centile");
    let value = centile["valueQuantity"]["value"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&value));
    assert!(observations
        .iter()
        .any(|o| o["code"]["coding"][0]["code"] == "1153593003"
            && o["derivedFrom"][0]["reference"] == weight_ref.as_str()));

    // The amended weight is superseded; its correction says it is an amendment.
    assert!(
        observations
            .iter()
            .any(|o| o["valueQuantity"]["value"] == 7.9
                && o["meta"]["tag"][0]["code"] == "superseded")
    );
    assert!(observations
        .iter()
        .any(|o| o["valueQuantity"]["value"] == 6.9 && o["status"] == "amended"));
    // The entry marked in error carries FHIR's status for it.
    assert!(observations.iter().any(
        |o| o["valueString"] == "Is she sleeping enough?" && o["status"] == "entered-in-error"
    ));

    let immunisation = resources(&bundle, "Immunization")[0];
    assert_eq!(immunisation["lotNumber"], "A21CB123");
    assert_eq!(
        immunisation["protocolApplied"][0]["doseNumberPositiveInt"],
        1
    );
    assert_eq!(immunisation["occurrenceDateTime"], "2026-02-26");
    assert_eq!(immunisation["status"], "completed");
    for kind in [
        "Encounter",
        "Condition",
        "AllergyIntolerance",
        "MedicationStatement",
        "CareTeam",
    ] {
        assert!(!resources(&bundle, kind).is_empty(), "{kind}");
    }
    let provenances = resources(&bundle, "Provenance");
    assert_eq!(provenances.len(), book.child(&id).unwrap().entries.len());
    assert!(provenances
        .iter()
        .all(|p| p["signature"][0]["data"].is_string()));
    assert!(provenances
        .iter()
        .any(|p| p["activity"]["coding"][0]["code"] == "NULLIFY"
            && p["reason"][0]["text"] == "wrong child"));
    let device = resources(&bundle, "Device")[0];
    assert!(
        device["extension"][0]["valueBase64Binary"].is_string(),
        "the signing key travels"
    );
}

fn refused(book: &RedBook, bytes: &[u8]) -> String {
    let before = book.children().unwrap().children.len();
    let err = book.import_fhir(bytes).unwrap_err();
    assert_eq!(
        book.children().unwrap().children.len(),
        before,
        "nothing added"
    );
    match err {
        Error::InvalidInput(e) => e.field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn a_bad_file_is_refused_whole_and_names_what_is_wrong() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let json = book.export_fhir(&id).unwrap();
    let bundle: Value = serde_json::from_str(&json).unwrap();
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut b = bundle.clone();
        edit(&mut b);
        serde_json::to_vec(&b).unwrap()
    };
    let each_resource = |b: &mut Value, kind: &str, edit: &dyn Fn(&mut Value)| {
        for item in b["entry"].as_array_mut().unwrap() {
            if item["resource"]["resourceType"] == kind {
                edit(&mut item["resource"]);
            }
        }
    };

    assert_eq!(refused(&book, b"not json at all"), "fhir");
    assert_eq!(refused(&book, &json.as_bytes()[..json.len() / 2]), "fhir");
    // Read as another system's Patient, which must at least have a name.
    assert_eq!(
        refused(&book, br#"{"resourceType":"Patient"}"#),
        "fhir Patient.name"
    );
    assert_eq!(refused(&book, br#"{"no":"resourceType"}"#), "fhir");
    let no_patient = edited(&|b| {
        b["entry"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["resource"]["resourceType"] != "Patient")
    });
    assert_eq!(refused(&book, &no_patient), "fhir Patient");

    // Impossible and future values are refused as they are at the app's door.
    let heavy = edited(&|b| {
        each_resource(b, "Observation", &|o| {
            if o["code"]["coding"][2]["code"] == "weight" {
                o["valueQuantity"]["value"] = 900.0.into();
            }
        })
    });
    assert_eq!(refused(&book, &heavy), "weight_kg");
    let future = edited(&|b| {
        each_resource(b, "Immunization", &|i| {
            i["occurrenceDateTime"] = "2999-01-01".into()
        })
    });
    assert_eq!(refused(&book, &future), "date");
    let wrong_unit = edited(&|b| {
        each_resource(b, "Observation", &|o| {
            if o["code"]["coding"][0]["code"] == "29463-7" {
                o["valueQuantity"]["code"] = "[lb_av]".into();
            }
        })
    });
    assert!(refused(&book, &wrong_unit).starts_with("fhir Observation"));
    let unsigned_author = edited(&|b| {
        each_resource(b, "Provenance", &|p| {
            p["agent"].as_array_mut().unwrap().remove(0);
        })
    });
    assert!(refused(&book, &unsigned_author).starts_with("fhir Provenance.agent"));
    let dangling = edited(&|b| {
        each_resource(b, "Provenance", &|p| {
            p["target"][0]["reference"] = "Observation/nowhere".into()
        })
    });
    assert_eq!(refused(&book, &dangling), "fhir Provenance.target");
    let unknown_kind = edited(&|b| {
        each_resource(b, "Provenance", &|p| {
            p["meta"]["tag"][0]["code"] = "telepathy".into()
        })
    });
    assert!(refused(&book, &unknown_kind).starts_with("fhir Provenance.meta"));
}

/// A Bundle whose Immunization has no vaccineCode and whose NHS number is under the old
/// NHS Connecting for Health system: refused here, and kept for the HL7 validator, which
/// must report both (scripts/test.sh; the `.expect` file beside it says what it must say).
#[test]
fn a_broken_immunization_is_refused_here_and_reported_by_the_validator() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let mut bundle: Value = serde_json::from_str(&book.export_fhir(&id).unwrap()).unwrap();
    let mut broken_one = false;
    for item in bundle["entry"].as_array_mut().unwrap() {
        let resource = &mut item["resource"];
        match resource["resourceType"].as_str() {
            Some("Immunization") if !broken_one => {
                resource.as_object_mut().unwrap().remove("vaccineCode");
                broken_one = true;
            }
            Some("Patient") => {
                resource["identifier"][0]["system"] = "http://fhir.nhs.net/Id/nhs-number".into()
            }
            _ => {}
        }
    }
    let json = serde_json::to_string_pretty(&bundle).unwrap();
    assert_eq!(
        refused(&book, json.as_bytes()),
        "fhir Immunization.vaccineCode"
    );
    keep_for_validator("broken-immunization", &json);
    if let Some(dir) = std::env::var_os("REDBOOK_FHIR_EXPORTS") {
        std::fs::write(
            std::path::Path::new(&dir).join("broken-immunization.json.expect"),
            "Immunization.vaccineCode: minimum required = 1\nredbook-nhs-number-system\n",
        )
        .unwrap();
    }
}

#[test]
fn the_printable_summary_shows_what_a_clinician_needs_and_nothing_hidden() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = family_record(&dir, &book);
    let refs = redbook_core::growth::GrowthReferences::embedded();
    let html = book
        .summary_html(&id, refs, Default::default(), day("2026-11-23"), false)
        .unwrap();
    for shown in [
        "Amara Okafor",
        "943 476 5919",
        "10 months",
        "Lower Clapton Group Practice",
        "Peanut",
        "Paracetamol",
        "centile",
        "data:image/svg+xml;base64,",
        "A21CB123",
        "Due and next",
        "Six to eight weeks",
        "Bronchiolitis",
        "Jo Bloggs",
        "Sam Patel (health visitor) <span class=\"verified\">",
    ] {
        assert!(html.contains(shown), "{shown}");
    }
    // The corrected weight is shown, not the slip; the entry in error is left out.
    assert!(!html.contains("7.90 kg"));
    assert!(!html.contains("Is she sleeping enough?"));
    // Self-contained: nothing fetched when printed or opened offline.
    assert!(!html.contains("src=\"http"));
    assert!(!html.contains("<link"));
    // The address only when a parent asks for it (safeguarding, NHSX PCHR 2.1.1).
    assert!(!html.contains("Mare Street"));
    assert!(html.contains("not printed unless a parent asks"));
    let asked = book
        .summary_html(&id, refs, Default::default(), day("2026-11-23"), true)
        .unwrap();
    assert!(asked.contains("1 Mare Street, London E8"));
}

#[test]
fn text_in_the_record_cannot_inject_markup_into_the_summary() {
    let dir = TempDir::new().unwrap();
    let book = open(&dir, "mum.redbook", 1);
    let id = book
        .add_child(child("<script>alert(1)</script> & Co", "2026-01-01"))
        .unwrap();
    let refs = redbook_core::growth::GrowthReferences::embedded();
    let html = book
        .summary_html(&id, refs, Default::default(), day("2026-11-23"), false)
        .unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
}
