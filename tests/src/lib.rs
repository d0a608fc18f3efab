//! Helpers shared by the cross-crate tests and the crash-test writer process.

use redbook_core::crypto::RawKeyProvider;
use redbook_core::model::*;
use redbook_core::sync::SyncError;
use redbook_core::{DeviceProfile, Error, RedBook, Unlock};
use std::collections::BTreeMap;
use std::sync::Arc;
use tempfile::TempDir;

/// A raw key for tests: opening with it skips the 600,000-round passphrase stretch.
pub fn raw_key(byte: u8) -> Unlock {
    Unlock::KeyProvider(Arc::new(
        RawKeyProvider::new(&[byte; 32]).expect("32 bytes"),
    ))
}

pub fn child(name: &str, birth_date: &str) -> ChildDetails {
    ChildDetails {
        name: name.to_string(),
        birth_date: Some(birth_date.parse().expect("test date")),
        sex: Some(Sex::Female),
        gestation: Some(Gestation::new(39, 4)),
        ..Default::default()
    }
}

pub fn note(date: &str, text: &str) -> EntryBody {
    EntryBody::Note(Note {
        date: date.parse().expect("test date"),
        kind: NoteKind::Observation,
        text: text.to_string(),
    })
}

fn day(s: &str) -> chrono::NaiveDate {
    s.parse().expect("test date")
}

/// One entry of every section of the red book.
pub fn every_kind_of_entry() -> Vec<EntryBody> {
    vec![
        EntryBody::BirthDetails(BirthDetails {
            gestation: Some(Gestation::new(39, 4)),
            birth_weight_kg: Some(3.41),
            head_circumference_cm: Some(34.5),
            length_cm: Some(50.0),
            place_of_birth: Some("Homerton Hospital".into()),
            delivery_mode: Some(DeliveryMode::SpontaneousVaginal),
            apgar_1_min: Some(9),
            apgar_5_min: Some(10),
        }),
        EntryBody::Measurement(Measurement {
            date: day("2026-03-01"),
            weight_kg: Some(5.2),
            length_cm: Some(58.4),
            height_cm: None,
            head_circumference_cm: Some(39.1),
            measured_by: MeasuredBy::Professional,
        }),
        EntryBody::Immunisation(Immunisation {
            date: day("2026-02-26"),
            vaccine: "6-in-1".into(),
            dose: 1,
            product: Some("Infanrix hexa".into()),
            batch: Some("A21CB123".into()),
            site: Some("left thigh".into()),
            route: Some("intramuscular".into()),
            given_by: Some("Nurse Okafor".into()),
        }),
        EntryBody::NewbornScreening(NewbornScreening::Nipe {
            date: day("2026-01-02"),
            stage: NipeStage::Newborn,
            hips: ScreeningResult::Normal,
            eyes: ScreeningResult::Normal,
            heart: ScreeningResult::Normal,
            testes: None,
        }),
        EntryBody::NewbornScreening(NewbornScreening::Hearing {
            date: day("2026-01-03"),
            left: HearingEarResult::ClearResponse,
            right: HearingEarResult::ClearResponse,
            outcome: HearingOutcome::Discharged,
        }),
        EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
            sample_date: day("2026-01-06"),
            results: vec![
                BloodSpotResult {
                    condition: BloodSpotCondition::Pku,
                    outcome: BloodSpotOutcome::NotSuspected,
                },
                BloodSpotResult {
                    condition: BloodSpotCondition::Ht1,
                    outcome: BloodSpotOutcome::NotSuspected,
                },
                BloodSpotResult {
                    condition: BloodSpotCondition::Scid,
                    outcome: BloodSpotOutcome::NotSuspected,
                },
                // The parents chose not to have it screened: through the store, sync
                // and FHIR like any outcome.
                BloodSpotResult {
                    condition: BloodSpotCondition::Cf,
                    outcome: BloodSpotOutcome::Declined,
                },
            ],
        }),
        EntryBody::Review(Review {
            date: day("2026-02-12"),
            kind: ReviewKind::SixToEightWeeks,
            outcome: "Thriving".into(),
            asq3_scores: vec![AsqScore {
                domain: "communication".into(),
                score: 50,
            }],
            advice: Some("Tummy time".into()),
        }),
        EntryBody::HealthEvent(HealthEvent {
            date: day("2026-04-10"),
            kind: HealthEventKind::Illness,
            description: "Bronchiolitis".into(),
            place: Some("GP surgery".into()),
            outcome: Some("Recovered".into()),
        }),
        EntryBody::Medicine(Medicine {
            name: "Paracetamol".into(),
            dose: Some("2.5 ml".into()),
            started: day("2026-04-10"),
            stopped: Some(day("2026-04-12")),
            reason: Some("Fever".into()),
        }),
        EntryBody::Allergy(Allergy {
            substance: "Peanut".into(),
            reaction: Some("Hives".into()),
            severity: AllergySeverity::Moderate,
            noted_on: Some(day("2026-06-01")),
        }),
        EntryBody::Contact(Contact {
            role: ContactRole::HealthVisitor,
            name: "Jo Bloggs".into(),
            phone: Some("020 7946 0000".into()),
        }),
        note("2026-05-01", "First smile"),
        EntryBody::ParentalHeights(ParentalHeights {
            date: day("2026-01-20"),
            mother_cm: Some(165.5),
            father_cm: None,
            measured_by: MeasuredBy::Parent,
        }),
        // The one risk factor a parent records (the others are a professional's).
        EntryBody::RiskFactor(RiskFactor {
            date: day("2026-07-01"),
            factor: RiskFactorKind::Chickenpox,
            present: true,
        }),
    ]
}

/// One device: its database, and its id as others address it.
pub struct Device {
    pub book: RedBook,
    pub id: String,
}

pub fn device(dir: &TempDir, name: &str, key: u8, role: Role, org: Option<&str>) -> Device {
    let book = RedBook::open(&dir.path().join(format!("{name}.redbook")), raw_key(key)).unwrap();
    book.set_device_profile(DeviceProfile {
        role,
        display_name: name.into(),
        organisation: org.map(str::to_string),
    })
    .unwrap();
    let id = book.device_id();
    Device { book, id }
}

/// A professional's device whose role the test organisation (X99TEST) attests for a year,
/// as a clinic's device is set up; devices that should confirm it call
/// `trust_test_organisation`.
pub fn confirmed_device(dir: &TempDir, name: &str, key: u8, role: Role) -> Device {
    let device = device(dir, name, key, role, Some("X99TEST"));
    let card = device.book.device_card().unwrap();
    let attestation = redbook_core::sync::attestation::test_organisation()
        .attest(&card.keys, role, a_year_from_now())
        .unwrap();
    device.book.set_attestation(&attestation).unwrap();
    device
}

/// How long the tests' attestations hold.
pub fn a_year_from_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(365)
}

/// This device's deployer trusts the test organisation's attestations.
pub fn trust_test_organisation(device: &Device) {
    device.book.set_trusted_organisations(vec![
        redbook_core::sync::attestation::test_organisation().trusted(),
    ]);
}

/// `admin` invites `other` to the record with `access`; both then sync until settled.
pub fn invite(admin: &Device, other: &Device, id: &RecordId, access: Access) {
    let invitation = admin
        .book
        .share(id, &other.book.device_card().unwrap(), access)
        .unwrap();
    other.book.accept(&invitation).unwrap();
    settle(&[admin, other], id);
}

/// Exchanges over a reliable channel until nobody has anything to send; returns rounds.
/// If 30 rounds do not settle it, every pair's sync state is reset, as an app must do
/// (automerge #1284), and it must settle within 30 more.
pub fn settle(devices: &[&Device], id: &RecordId) -> usize {
    for attempt in 0..2 {
        for round in 1..=30 {
            if !exchange_reliably(devices, id) {
                return round + 30 * attempt;
            }
        }
        eprintln!("sync did not settle in 30 rounds: resetting every pair's sync state");
        for a in devices {
            for b in devices {
                if a.id != b.id {
                    a.book.reset_sync(id, &b.id).unwrap();
                }
            }
        }
    }
    panic!("sync did not settle even after resetting the sync states");
}

/// One reliable round; whether anything was sent.
fn exchange_reliably(devices: &[&Device], id: &RecordId) -> bool {
    let mut queue = Vec::new();
    for (i, from) in devices.iter().enumerate() {
        for (j, to) in devices.iter().enumerate() {
            if i != j {
                if let Ok(Some(bytes)) = from.book.sync_message(id, &to.id) {
                    queue.push((j, bytes));
                }
            }
        }
    }
    let sent = !queue.is_empty();
    for (to, bytes) in queue {
        match devices[to].book.receive(&bytes) {
            // From a member this device has not heard of yet, or under a key one of the
            // two does not hold yet (the key message goes first): refused, i.e. lost.
            Ok(_)
            | Err(Error::Sync(SyncError::NotAMember | SyncError::OldKey | SyncError::NewerKey)) => {
            }
            Err(e) => panic!("receive: {e}"),
        }
    }
    sent
}

pub fn contents(book: &RedBook, id: &RecordId) -> (ChildDetails, BTreeMap<EntryId, StoredEntry>) {
    let record = book.child(id).unwrap();
    (
        record.details,
        record
            .entries
            .into_iter()
            .map(|v| (v.entry.id.clone(), v.entry))
            .collect(),
    )
}

/// The record as FHIR, as `RedBook::export_fhir` gives it, also written to the directory
/// `REDBOOK_FHIR_EXPORTS` names when it is set: scripts/test.sh then has every export the
/// tests make checked against UK Core by the HL7 FHIR validator (scripts/ukcore-validate.sh).
pub fn export_fhir_kept(book: &RedBook, id: &RecordId, name: &str) -> String {
    let json = book.export_fhir(id).unwrap();
    keep_for_validator(name, &json);
    json
}

/// Writes `json` as `NAME.json` under `REDBOOK_FHIR_EXPORTS`, when it is set.
pub fn keep_for_validator(name: &str, json: &str) {
    if let Some(dir) = std::env::var_os("REDBOOK_FHIR_EXPORTS") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), json).unwrap();
    }
}
