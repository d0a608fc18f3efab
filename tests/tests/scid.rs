//! A suspected SCID across a family's and a clinic's devices: results written apart and
//! synced, what ends a suspicion and who may end it (docs/clinical-safety/hazard-log.md,
//! H17, H41; `schedule::scid_screen`).

use redbook_core::model::*;
use redbook_core::schedule::{DueItem, DueStatus};
use redbook_core::Error;
use redbook_tests::{
    child, confirmed_device, device, invite, settle, trust_test_organisation, Device,
};
use tempfile::TempDir;

fn scid(sample: &str, outcome: BloodSpotOutcome) -> EntryBody {
    EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
        sample_date: sample.parse().unwrap(),
        results: vec![BloodSpotResult {
            condition: BloodSpotCondition::Scid,
            outcome,
        }],
    })
}

fn ruled_out(date: &str) -> EntryBody {
    EntryBody::RiskFactor(RiskFactor {
        date: date.parse().unwrap(),
        factor: RiskFactorKind::Scid,
        present: false,
    })
}

/// Rotavirus dose 1 for a baby born 1 January 2026, on its due day.
fn rotavirus(device: &Device, id: &RecordId) -> DueItem {
    let report = device.book.due(id, "2026-02-26".parse().unwrap()).unwrap();
    report
        .immunisations
        .into_iter()
        .find(|i| i.vaccine == "Rotavirus" && i.dose == 1)
        .unwrap()
}

#[test]
fn results_written_apart_read_the_same_everywhere_and_only_a_confirmed_professional_ends_a_suspicion(
) {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let midwife = confirmed_device(&dir, "midwife", 2, Role::Midwife);
    let hv = confirmed_device(&dir, "hv", 3, Role::HealthVisitor);
    // A GP whose role no organisation confirms.
    let gp = device(&dir, "gp", 4, Role::Gp, Some("RQX"));
    let all = [&mum, &midwife, &hv, &gp];
    for d in all {
        trust_test_organisation(d);
    }
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    for other in [&midwife, &hv, &gp] {
        invite(&mum, other, &id, Access::Writer);
    }
    settle(&all, &id);

    // Two devices, apart, give one sample date different SCID results: suspected wins.
    midwife
        .book
        .add_entry(&id, scid("2026-01-06", BloodSpotOutcome::Suspected))
        .unwrap();
    hv.book
        .add_entry(&id, scid("2026-01-06", BloodSpotOutcome::NotSuspected))
        .unwrap();
    settle(&all, &id);
    for d in all {
        assert_eq!(rotavirus(d, &id).status, DueStatus::NotApplicable);
    }

    // A parent cannot record the specialist team's word; an unconfirmed GP's, or a
    // parent's repeat result, does not end the suspicion (and says why).
    assert!(matches!(
        mum.book.add_entry(&id, ruled_out("2026-01-20")),
        Err(Error::InvalidInput(_))
    ));
    gp.book.add_entry(&id, ruled_out("2026-01-20")).unwrap();
    mum.book
        .add_entry(&id, scid("2026-01-21", BloodSpotOutcome::NotSuspected))
        .unwrap();
    settle(&all, &id);
    let report = mum.book.due(&id, "2026-02-26".parse().unwrap()).unwrap();
    let gps = report
        .risk_factors
        .iter()
        .find(|r| r.factor == RiskFactorKind::Scid)
        .unwrap();
    assert!(!gps.used);
    for d in all {
        assert_eq!(rotavirus(d, &id).status, DueStatus::NotApplicable);
    }

    // The health visitor records the repeat sample's result: offered again everywhere,
    // saying why.
    hv.book
        .add_entry(&id, scid("2026-01-22", BloodSpotOutcome::NotSuspected))
        .unwrap();
    settle(&all, &id);
    for d in all {
        let offered = rotavirus(d, &id);
        assert_eq!(offered.status, DueStatus::Due);
        assert_eq!(
            offered.note.as_deref(),
            Some("can be given: SCID was suspected on 2026-01-06, then not suspected on the blood spot sample of 2026-01-22")
        );
    }

    // A later sample suspected again stops it again.
    midwife
        .book
        .add_entry(&id, scid("2026-02-01", BloodSpotOutcome::Suspected))
        .unwrap();
    settle(&all, &id);
    for d in all {
        assert_eq!(rotavirus(d, &id).status, DueStatus::NotApplicable);
    }
}
