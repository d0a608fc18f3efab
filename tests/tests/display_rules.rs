//! What a parent's screen and printout may show, from the NHSX digital PCHR requirements:
//! a new blood spot result waits so a professional can tell the family first (6.1.7); the
//! child's address is not displayed unless a parent asks (2.1.1). Hazard log H19, H20.

use redbook_core::model::*;
use redbook_core::record::DetailConflict;
use redbook_core::view;
use redbook_tests::{child, device, invite, settle};
use tempfile::TempDir;

fn scid_suspected() -> EntryBody {
    EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
        sample_date: "2026-11-25".parse().unwrap(),
        results: vec![
            BloodSpotResult {
                condition: BloodSpotCondition::Pku,
                outcome: BloodSpotOutcome::NotSuspected,
            },
            BloodSpotResult {
                condition: BloodSpotCondition::Scid,
                outcome: BloodSpotOutcome::Suspected,
            },
        ],
    })
}

#[test]
fn a_new_blood_spot_result_waits_on_a_parents_device_and_nowhere_leaks() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let midwife = device(&dir, "midwife", 2, Role::Midwife, Some("RQX"));
    // A baby five days old; the result recorded today (the door checks dates against today).
    let born = (chrono::Local::now().date_naive() - chrono::Duration::days(5)).to_string();
    let id = mum.book.add_child(child("Amara", &born)).unwrap();
    invite(&mum, &midwife, &id, Access::Writer);
    let mut result = scid_suspected();
    if let EntryBody::NewbornScreening(NewbornScreening::BloodSpot { sample_date, .. }) =
        &mut result
    {
        *sample_date = chrono::Local::now().date_naive();
    }
    let written = midwife.book.add_entry(&id, result).unwrap();
    settle(&[&mum, &midwife], &id);

    // The midwife's device shows the results.
    let at_clinic = midwife.book.child(&id).unwrap();
    let hers = at_clinic
        .entries
        .iter()
        .find(|v| v.entry.id == written.entry.id)
        .unwrap();
    assert_eq!(hers.withheld_until, None);
    assert!(view::entry_text(hers).contains("SCID SUSPECTED"));

    // Mum's device: a sample was taken, results from 14 days after the sample.
    let at_home = mum.book.child(&id).unwrap();
    let mums = at_home
        .entries
        .iter()
        .find(|v| v.entry.id == written.entry.id)
        .unwrap();
    let until = mums.withheld_until.expect("withheld");
    assert_eq!(
        until,
        chrono::Local::now().date_naive() + chrono::Duration::days(14)
    );
    let text = view::entry_text(mums);
    assert!(
        text.starts_with("Blood spot sample taken: results show here from"),
        "{text}"
    );
    assert!(!text.contains("SCID"));
    assert!(matches!(
        &mums.entry.body,
        EntryBody::NewbornScreening(NewbornScreening::BloodSpot { results, .. }) if results.is_empty()
    ));
    // Nor does the body's own summary, the printout or the due list give it away.
    assert!(!mums.entry.body.summary().contains("none suspected"));
    let refs = redbook_core::growth::GrowthReferences::embedded();
    let today = chrono::Local::now().date_naive();
    let html = mum
        .book
        .summary_html(&id, refs, Default::default(), today, false)
        .unwrap();
    assert!(!html.to_uppercase().contains("SCID"), "the printout");
    let due = serde_json::to_string(&mum.book.due(&id, today).unwrap()).unwrap();
    assert!(!due.contains("SCID suspected"), "the due list");
    let clinic_due = serde_json::to_string(&midwife.book.due(&id, today).unwrap()).unwrap();
    assert!(clinic_due.contains("SCID suspected"));

    // The deployer's delay: none, and it shows.
    mum.book.set_blood_spot_delay_days(0);
    let now_shown = mum.book.child(&id).unwrap();
    let shown = now_shown
        .entries
        .iter()
        .find(|v| v.entry.id == written.entry.id)
        .unwrap();
    assert_eq!(shown.withheld_until, None);
    assert!(view::entry_text(shown).contains("SCID SUSPECTED"));
}

#[test]
fn a_result_typed_in_long_after_its_sample_is_not_withheld() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let hv = device(&dir, "hv", 2, Role::HealthVisitor, Some("RQX"));
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    invite(&mum, &hv, &id, Access::Writer);
    let mut old = scid_suspected();
    if let EntryBody::NewbornScreening(NewbornScreening::BloodSpot { sample_date, .. }) = &mut old {
        *sample_date = "2026-01-06".parse().unwrap();
    }
    hv.book.add_entry(&id, old).unwrap();
    settle(&[&mum, &hv], &id);
    let record = mum.book.child(&id).unwrap();
    assert!(record.entries.iter().all(|v| v.withheld_until.is_none()));
}

#[test]
fn a_result_a_parent_wrote_is_not_withheld_from_them() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let id = mum.book.add_child(child("Amara", "2026-11-20")).unwrap();
    let mut result = scid_suspected();
    if let EntryBody::NewbornScreening(NewbornScreening::BloodSpot { sample_date, .. }) =
        &mut result
    {
        *sample_date = "2026-11-25".parse().unwrap();
    }
    mum.book.add_entry(&id, result).unwrap();
    let record = mum.book.child(&id).unwrap();
    assert!(record.entries.iter().all(|v| v.withheld_until.is_none()));
}

#[test]
fn an_address_conflict_is_shown_without_the_addresses() {
    let conflict = DetailConflict {
        field: DetailField::Address,
        values: vec!["1 Mare Street".into(), "9 Hidden Road".into()],
    };
    let text = view::conflict_text(&conflict);
    assert_eq!(
        text,
        "Address was changed on two devices: set it again to settle it"
    );
    let name = DetailConflict {
        field: DetailField::Name,
        values: vec!["Amara".into(), "Amarah".into()],
    };
    assert_eq!(
        view::conflict_text(&name),
        "Name was set to different values on two devices: \"Amara\" or \"Amarah\"; set it again to settle it"
    );
}

fn closure(reason: ClosureReason) -> EntryBody {
    EntryBody::RecordClosed(RecordClosure {
        date: "2026-11-20".parse().unwrap(),
        reason,
    })
}

#[test]
fn a_record_a_professional_closed_is_read_only_to_the_family_and_reminds_nobody() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    // A closure counts only from a role an organisation confirms.
    let hv = redbook_tests::confirmed_device(&dir, "hv", 2, Role::HealthVisitor);
    for device in [&mum, &hv] {
        redbook_tests::trust_test_organisation(device);
    }
    let id = mum.book.add_child(child("Amara", "2026-06-01")).unwrap();
    invite(&mum, &hv, &id, Access::Writer);
    let on = "2026-11-25".parse().unwrap();
    assert!(!mum.book.due(&id, on).unwrap().reminders.is_empty());

    // A parent cannot close it.
    assert!(mum
        .book
        .add_entry(&id, closure(ClosureReason::Died))
        .is_err());
    let closing = hv
        .book
        .add_entry(&id, closure(ClosureReason::Died))
        .unwrap();
    settle(&[&mum, &hv], &id);

    let record = mum.book.child(&id).unwrap();
    assert_eq!(
        record.closed.as_ref().map(|v| &v.entry.id),
        Some(&closing.entry.id)
    );
    assert_eq!(
        record.closed.as_ref().unwrap().entry.body.summary(),
        "Record closed: the child died"
    );
    // Read-only on mum's device: entries and details are refused, with the reason.
    assert!(matches!(
        mum.book
            .add_entry(&id, redbook_tests::note("2026-11-26", "after")),
        Err(redbook_core::Error::RecordClosed)
    ));
    assert!(matches!(
        mum.book
            .update_details(&id, &[(DetailField::Name, Some("Amarah".into()))]),
        Err(redbook_core::Error::RecordClosed)
    ));
    // No reminder, on any device.
    assert!(mum.book.due(&id, on).unwrap().reminders.is_empty());
    assert!(hv.book.due(&id, on).unwrap().reminders.is_empty());
    // The professional's device still writes (a correction, a last note).
    hv.book
        .add_entry(&id, redbook_tests::note("2026-11-26", "family informed"))
        .unwrap();

    // Marking the closure entered in error (the health visitor's own entry) reopens it.
    hv.book
        .mark_entered_in_error(&id, &closing.entry.id, "wrong child")
        .unwrap();
    settle(&[&mum, &hv], &id);
    assert!(mum.book.child(&id).unwrap().closed.is_none());
    mum.book
        .add_entry(&id, redbook_tests::note("2026-11-27", "open again"))
        .unwrap();
}
