//! Values checked against the child at the door (docs/adr/0014): a measurement beyond the
//! growth charts' limits for the child's age, and an immunisation the schedule does not
//! expect, are refused until their writer confirms them; kept, they are marked for a
//! professional to review on every device. Real files, real keys, real sync.

use redbook_core::model::*;
use redbook_core::{Error, RedBook};
use redbook_tests::{
    child, confirmed_device, device, invite, raw_key, settle, trust_test_organisation,
};
use tempfile::TempDir;

fn weighed(on: &str, kg: f64) -> EntryBody {
    EntryBody::Measurement(Measurement {
        date: on.parse().unwrap(),
        weight_kg: Some(kg),
        length_cm: None,
        height_cm: None,
        head_circumference_cm: None,
        measured_by: MeasuredBy::Parent,
    })
}

fn dose(vaccine: &str, dose: u8, on: &str) -> EntryBody {
    EntryBody::Immunisation(Immunisation {
        date: on.parse().unwrap(),
        vaccine: vaccine.into(),
        dose,
        product: None,
        batch: None,
        site: None,
        route: None,
        given_by: None,
    })
}

/// A girl born at 34+2 on 1 October 2026: nine weeks old on 3 December.
fn preterm_girl(book: &RedBook) -> RecordId {
    let mut details = child("Ada", "2026-10-01");
    details.gestation = Some(Gestation::new(34, 2));
    book.add_child(details).unwrap()
}

fn asked(result: Result<EntryView, Error>) -> (String, String, String) {
    match result {
        Err(Error::NeedsConfirmation {
            field,
            reason,
            advice,
        }) => (field, reason, advice),
        other => panic!("expected a question, got {other:?}"),
    }
}

#[test]
fn a_weight_impossible_for_the_age_is_asked_about_and_kept_for_review_once_confirmed() {
    let dir = TempDir::new().unwrap();
    let book = RedBook::open(&dir.path().join("a.redbook"), raw_key(1)).unwrap();
    let id = preterm_girl(&book);
    let err = book
        .add_entry(&id, weighed("2026-12-03", 35.0))
        .unwrap_err();
    let message = err.to_string();
    assert!(
        !message.contains("35"),
        "the message never names the value: {message}"
    );
    assert!(
        message.starts_with("check the weight: it is not possible at 2 months (3 weeks corrected)"),
        "{message}"
    );
    let (field, _, advice) = asked(Err(err));
    assert_eq!(field, "weight_kg");
    assert_eq!(
        advice,
        "A weight of 35 kg is not possible at 2 months (3 weeks corrected): more than 8 SD above the average for the age; did you mean 3.5 kg?"
    );
    assert!(
        book.child(&id).unwrap().entries.is_empty(),
        "nothing written"
    );
    // What was meant goes in without a question.
    let meant = book.add_entry(&id, weighed("2026-12-03", 3.5)).unwrap();
    assert!(meant.flags.iter().all(|f| !f.for_review));
    // Confirmed, the value is kept as typed and marked for review, on the entry written
    // and on every read.
    let kept = book
        .write_confirmed(&id, None, weighed("2026-12-03", 35.0))
        .unwrap();
    assert!(kept.entry.confirmed);
    assert!(kept.flags.iter().any(|f| f.for_review), "{:?}", kept.flags);
    let read = book.child(&id).unwrap();
    let view = read
        .entries
        .iter()
        .find(|v| v.entry.id == kept.entry.id)
        .unwrap();
    assert_eq!(view.flags, kept.flags);
    assert_eq!(
        view.flags.iter().find(|f| f.for_review).unwrap().note,
        "The weight is not possible at 2 months (3 weeks corrected): more than 8 SD above the average for the age. For a professional to review."
    );
    // A correction is asked about like a new entry.
    let (field, ..) = asked(book.amend_entry(&id, &kept.entry.id, weighed("2026-12-03", 0.35)));
    assert_eq!(field, "weight_kg");
    book.amend_entry(&id, &kept.entry.id, weighed("2026-12-03", 3.6))
        .unwrap();
}

#[test]
fn a_professionals_confirmation_vouches_for_the_value_and_a_parents_does_not() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let nurse = confirmed_device(&dir, "nurse", 2, Role::Nurse);
    for device in [&mum, &nurse] {
        trust_test_organisation(device);
    }
    let id = preterm_girl(&mum.book);
    invite(&mum, &nurse, &id, Access::Writer);
    // Very unusual (beyond 4 SD, within 8): a real child may be this small.
    let small = 1.9;
    let (_, reason, _) = asked(nurse.book.add_entry(&id, weighed("2026-12-03", small)));
    assert!(
        reason.starts_with("is very unusual at 2 months"),
        "{reason}"
    );
    let by_nurse = nurse
        .book
        .write_confirmed(&id, None, weighed("2026-12-03", small))
        .unwrap();
    let by_mum = mum
        .book
        .write_confirmed(&id, None, weighed("2026-12-03", small))
        .unwrap();
    settle(&[&mum, &nurse], &id);
    for book in [&mum.book, &nurse.book] {
        let entries = book.child(&id).unwrap().entries;
        let flag = |entry: &EntryView| {
            entries
                .iter()
                .find(|v| v.entry.id == entry.entry.id)
                .unwrap()
                .flags
                .iter()
                .find(|f| f.field == "weight_kg")
                .cloned()
                .unwrap()
        };
        assert!(!flag(&by_nurse).for_review);
        assert!(flag(&by_nurse)
            .note
            .ends_with("Confirmed by the nurse who wrote it."));
        assert!(flag(&by_mum).for_review);
    }
}

#[test]
fn immunisations_the_schedule_does_not_expect_are_asked_about() {
    let dir = TempDir::new().unwrap();
    let book = RedBook::open(&dir.path().join("a.redbook"), raw_key(1)).unwrap();
    let id = book.add_child(child("Kofi", "2026-06-01")).unwrap();
    let (field, reason, _) = asked(book.add_entry(&id, dose("banana", 1, "2026-08-01")));
    assert_eq!(field, "vaccine");
    assert!(reason.contains("6-in-1, MenB, Rotavirus, PCV"), "{reason}");
    let (field, reason, advice) = asked(book.add_entry(&id, dose("MenB", 7, "2026-08-01")));
    assert_eq!(
        (field.as_str(), reason.as_str()),
        ("dose", "is beyond the course: MenB has 3 doses")
    );
    assert_eq!(advice, "The dose is beyond the course: MenB has 3 doses.");
    let first = book
        .add_entry(&id, dose("6-in-1", 1, "2026-08-01"))
        .unwrap();
    let (field, ..) = asked(book.add_entry(&id, dose("Infanrix hexa", 1, "2026-08-01")));
    assert_eq!(field, "vaccine", "the same vaccine twice on one day");
    let (field, ..) = asked(book.add_entry(&id, dose("6-in-1", 1, "2026-09-01")));
    assert_eq!(field, "dose", "dose 1 again on another day");
    // Correcting dose 1 (its batch) is not a second dose 1.
    let mut corrected = dose("6-in-1", 1, "2026-08-01");
    if let EntryBody::Immunisation(i) = &mut corrected {
        i.batch = Some("AB12".into());
    }
    book.amend_entry(&id, &first.entry.id, corrected).unwrap();
    // Dose 2 when the schedule expects it; a travel vaccine once confirmed.
    book.add_entry(&id, dose("6-in-1", 2, "2026-09-01"))
        .unwrap();
    let travel = book
        .write_confirmed(&id, None, dose("Yellow fever", 1, "2026-09-10"))
        .unwrap();
    assert!(travel.flags.iter().any(|f| f.for_review));
    // A dose marked entered in error no longer counts as recorded.
    let two = book.child(&id).unwrap().entries;
    let second = two
        .iter()
        .find(|v| matches!(&v.entry.body, EntryBody::Immunisation(i) if i.dose == 2))
        .unwrap();
    book.mark_entered_in_error(&id, &second.entry.id, "wrong child")
        .unwrap();
    book.add_entry(&id, dose("6-in-1", 2, "2026-09-02"))
        .unwrap();
}

#[test]
fn without_sex_or_date_of_birth_only_the_broad_ranges_apply() {
    let dir = TempDir::new().unwrap();
    let book = RedBook::open(&dir.path().join("a.redbook"), raw_key(1)).unwrap();
    let mut details = child("Unknown", "2026-10-01");
    details.sex = None;
    let id = book.add_child(details).unwrap();
    let view = book.add_entry(&id, weighed("2026-12-03", 35.0)).unwrap();
    assert!(view.flags.iter().all(|f| !f.for_review));
}
