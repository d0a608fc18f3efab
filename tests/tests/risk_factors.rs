//! Risk factors live in the record as signed entries, so every device works out the same
//! due list for a child; only a professional's entry changes the schedule where the fact
//! is a professional's to record (docs/clinical-safety/hazard-log.md, H16-H18).

use redbook_core::model::*;
use redbook_core::schedule::{DueReport, DueStatus};
use redbook_core::{Error, RedBook};
use redbook_tests::{
    child, confirmed_device, device, invite, settle, trust_test_organisation, Device,
};
use tempfile::TempDir;

struct Clinic {
    _dir: TempDir,
    mum: Device,
    midwife: Device,
    id: RecordId,
}

/// Mum created the record of a baby born 1 January 2026; the midwife writes.
fn clinic(born: &str) -> Clinic {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    // A professional's fact counts only from a role an organisation confirms.
    let midwife = confirmed_device(&dir, "midwife", 2, Role::Midwife);
    for device in [&mum, &midwife] {
        trust_test_organisation(device);
    }
    let id = mum.book.add_child(child("Amara", born)).unwrap();
    invite(&mum, &midwife, &id, Access::Writer);
    Clinic {
        _dir: dir,
        mum,
        midwife,
        id,
    }
}

fn risk(date: &str, factor: RiskFactorKind, present: bool) -> EntryBody {
    EntryBody::RiskFactor(RiskFactor {
        date: date.parse().unwrap(),
        factor,
        present,
    })
}

fn due(book: &RedBook, id: &RecordId, on: &str) -> DueReport {
    book.due(id, on.parse().unwrap()).unwrap()
}

fn status(report: &DueReport, vaccine: &str, dose: u8) -> Option<DueStatus> {
    report
        .immunisations
        .iter()
        .find(|i| i.vaccine == vaccine && i.dose == dose)
        .map(|i| i.status)
}

#[test]
fn a_midwifes_hepatitis_b_entry_gives_every_device_the_same_due_list() {
    let c = clinic("2026-01-01");
    let before = due(&c.mum.book, &c.id, "2026-01-10");
    assert_eq!(status(&before, "HepB", 1), None);
    // Antenatal screening, before the birth: the door takes a date in pregnancy.
    c.midwife
        .book
        .add_entry(
            &c.id,
            risk("2025-09-15", RiskFactorKind::MaternalHepatitisB, true),
        )
        .unwrap();
    settle(&[&c.mum, &c.midwife], &c.id);
    let on_mums_phone = due(&c.mum.book, &c.id, "2026-01-10");
    let on_the_clinic_tablet = due(&c.midwife.book, &c.id, "2026-01-10");
    assert_eq!(on_mums_phone, on_the_clinic_tablet);
    assert_eq!(status(&on_mums_phone, "HepB", 1), Some(DueStatus::Overdue));
    assert_eq!(status(&on_mums_phone, "HepB", 2), Some(DueStatus::Upcoming));
    let used = &on_mums_phone.risk_factors[0];
    assert!(used.used && used.present);
    assert_eq!(used.recorded_by, "midwife (midwife)");
    assert!(redbook_core::view::risk_factor_line(used).ends_with("used for this list"));
}

#[test]
fn a_parent_cannot_record_a_professionals_risk_factor_but_records_chickenpox() {
    let c = clinic("2021-05-01");
    for factor in [
        RiskFactorKind::MaternalHepatitisB,
        RiskFactorKind::TuberculosisRisk,
        RiskFactorKind::ChronicHeartDisease,
    ] {
        match c
            .mum
            .book
            .add_entry(&c.id, risk("2026-11-01", factor, true))
        {
            Err(Error::InvalidInput(e)) => assert_eq!(e.field, "factor"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // Born 2021: the MMRV catch-up from November 2026, unless she has had chickenpox.
    let before = due(&c.mum.book, &c.id, "2026-11-20");
    assert_eq!(status(&before, "MMRV", 1), Some(DueStatus::Due));
    c.mum
        .book
        .add_entry(&c.id, risk("2024-02-10", RiskFactorKind::Chickenpox, true))
        .unwrap();
    settle(&[&c.mum, &c.midwife], &c.id);
    for book in [&c.mum.book, &c.midwife.book] {
        let after = due(book, &c.id, "2026-11-20");
        assert_eq!(status(&after, "MMRV", 1), Some(DueStatus::NotApplicable));
        assert!(!after.reminders.iter().any(|r| r.title.contains("MMRV")));
    }
}

#[test]
fn the_latest_professional_entry_decides_and_each_is_listed() {
    let c = clinic("2025-01-15");
    // Flu 2026/27: a 20-month-old is not in the age cohorts, only in a risk group.
    let plain = due(&c.mum.book, &c.id, "2026-10-01");
    assert_eq!(status(&plain, "Flu", 1), None);
    c.midwife
        .book
        .add_entry(
            &c.id,
            risk(
                "2026-03-01",
                RiskFactorKind::ChronicRespiratoryDisease,
                true,
            ),
        )
        .unwrap();
    let at_risk = due(&c.midwife.book, &c.id, "2026-10-01");
    assert_eq!(status(&at_risk, "Flu", 1), Some(DueStatus::Due));
    // Never had flu vaccine, under 9: a second dose four weeks after the first.
    assert_eq!(status(&at_risk, "Flu", 2), Some(DueStatus::Upcoming));
    c.midwife
        .book
        .add_entry(
            &c.id,
            risk(
                "2026-09-20",
                RiskFactorKind::ChronicRespiratoryDisease,
                false,
            ),
        )
        .unwrap();
    let ruled_out = due(&c.midwife.book, &c.id, "2026-10-01");
    assert_eq!(status(&ruled_out, "Flu", 1), None);
    let lines: Vec<String> = ruled_out
        .risk_factors
        .iter()
        .map(redbook_core::view::risk_factor_line)
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("replaces it"), "{lines:?}");
    assert!(lines[1].starts_with("ruled out: chronic respiratory disease, 20 Sep 2026"));
}

#[test]
fn suspected_scid_stops_live_vaccines_and_bcg_waits_for_the_result() {
    let c = clinic("2026-01-01");
    c.midwife
        .book
        .add_entry(
            &c.id,
            risk("2026-01-01", RiskFactorKind::TuberculosisRisk, true),
        )
        .unwrap();
    let waiting = due(&c.midwife.book, &c.id, "2026-01-10");
    let bcg = waiting
        .immunisations
        .iter()
        .find(|i| i.vaccine == "BCG")
        .unwrap();
    assert_eq!(bcg.status, DueStatus::Due);
    assert!(bcg
        .note
        .as_deref()
        .unwrap()
        .contains("not recorded here yet"));
    c.midwife
        .book
        .add_entry(
            &c.id,
            EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
                sample_date: "2026-01-06".parse().unwrap(),
                results: vec![BloodSpotResult {
                    condition: BloodSpotCondition::Scid,
                    outcome: BloodSpotOutcome::Suspected,
                }],
            }),
        )
        .unwrap();
    let suspected = due(&c.midwife.book, &c.id, "2026-01-20");
    for vaccine in ["BCG", "Rotavirus"] {
        let item = suspected
            .immunisations
            .iter()
            .find(|i| i.vaccine == vaccine && i.dose == 1)
            .unwrap();
        assert_eq!(item.status, DueStatus::NotApplicable, "{vaccine}");
        assert!(item.note.as_deref().unwrap().contains("SCID suspected"));
        assert!(item.source.contains("GREEN-BOOK"));
    }
    // The 6-in-1 is not live: still due as usual.
    assert_eq!(status(&suspected, "6-in-1", 1), Some(DueStatus::Upcoming));
}
