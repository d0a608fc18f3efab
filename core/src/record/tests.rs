use super::*;
use crate::model::{
    Access, Action, DetailField, EntryBody, EntryStatus, Statement, StatementId, Verification,
};

use test_support::{profile, Device};

/// A record created by `creator`, with `others` granted `access`.
fn record_by(creator: &Device, others: &[(&Device, Access)]) -> Record {
    let nonce = [9u8; 16];
    let id = RecordId::for_creator(&creator.keys.public().signing_key, &nonce);
    let mut record = Record::genesis(&id).unwrap();
    let create = Statement {
        id: StatementId::generate().unwrap(),
        issuer: creator.keys.public(),
        issued_at: chrono::Utc::now(),
        after: vec![],
        action: Action::Create {
            nonce: nonce.to_vec(),
            profile: profile(),
        },
    };
    record.put_statement(&create, &creator.keys).unwrap();
    for (device, access) in others {
        let grant = Statement {
            id: StatementId::generate().unwrap(),
            issuer: creator.keys.public(),
            issued_at: chrono::Utc::now(),
            after: record.membership().heads.clone(),
            action: Action::Grant {
                subject: device.keys.public(),
                access: *access,
                profile: profile(),
                stands_in_for: None,
            },
        };
        record.put_statement(&grant, &creator.keys).unwrap();
    }
    record
}

fn fork(record: &Record) -> Record {
    Record::load(&record.save()).unwrap()
}

/// What another device receives: the changes `from` has that `to` lacks.
fn send(from: &Record, to: &mut Record) -> Result<(), RecordError> {
    to.receive_changes(&from.save_after(&to.heads()))
}

#[test]
fn genesis_is_identical_on_every_device_and_the_format_is_checked() {
    let id = RecordId::generate().unwrap();
    let (a, b) = (Record::genesis(&id).unwrap(), Record::genesis(&id).unwrap());
    assert_eq!(a.heads(), b.heads());
    assert_eq!(a.record_id(), &id);
    let mut old = Automerge::new();
    let mut tx = old.transaction();
    tx.put(ROOT, "format", 1).unwrap();
    tx.commit();
    assert!(matches!(
        Record::load(&old.save()),
        Err(RecordError::UnsupportedFormat(1))
    ));
}

#[test]
fn both_devices_entries_survive_and_copies_converge_whatever_the_order() {
    let (mum, dad) = (Device::new(), Device::new());
    let base = record_by(&mum, &[(&dad, Access::Admin)]);
    let (mut a, mut b, mut c) = (fork(&base), fork(&base), fork(&base));
    a.put_entry(&mut mum.note("a"), &mum.keys).unwrap();
    b.put_entry(&mut dad.note("b"), &dad.keys).unwrap();
    c.set_details(&[(DetailField::Address, Some("1 Road".into()))], &mum.keys)
        .unwrap();
    let (mut ab, mut ba) = (fork(&a), fork(&b));
    send(&b, &mut ab).unwrap();
    send(&c, &mut ab).unwrap();
    send(&c, &mut ba).unwrap();
    send(&a, &mut ba).unwrap();
    let sorted_heads = |r: &Record| {
        let mut h = r.heads();
        h.sort();
        h
    };
    assert_eq!(sorted_heads(&ab), sorted_heads(&ba));
    assert_eq!(
        ab.entry_views(&Default::default()),
        ba.entry_views(&Default::default())
    );
    assert_eq!(ab.details(), ba.details());
    assert_eq!(ab.entry_count(), 2);
    assert!(ab
        .entry_views(&Default::default())
        .0
        .iter()
        .all(|v| v.verification == Verification::Verified));
}

#[test]
fn concurrent_detail_edits_keep_both_values_until_resolved() {
    let (mum, dad) = (Device::new(), Device::new());
    let base = record_by(&mum, &[(&dad, Access::Admin)]);
    let (mut a, mut b) = (fork(&base), fork(&base));
    a.set_details(&[(DetailField::Name, Some("Amara".into()))], &mum.keys)
        .unwrap();
    b.set_details(&[(DetailField::Name, Some("Amarah".into()))], &dad.keys)
        .unwrap();
    send(&b, &mut a).unwrap();
    let conflicts = a.conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, DetailField::Name);
    let mut values = conflicts[0].values.clone();
    values.sort();
    assert_eq!(values, ["Amara", "Amarah"]);
    a.set_details(&[(DetailField::Name, Some("Amarah".into()))], &mum.keys)
        .unwrap();
    assert!(a.conflicts().is_empty());
    assert_eq!(a.details().name, "Amarah");
}

#[test]
fn a_reader_or_a_stranger_cannot_change_the_details() {
    let (mum, gran, stranger) = (Device::new(), Device::new(), Device::new());
    let mut record = record_by(&mum, &[(&gran, Access::Reader)]);
    record
        .set_details(&[(DetailField::Address, Some("1 Road".into()))], &mum.keys)
        .unwrap();
    record
        .set_details(&[(DetailField::Address, Some("2 Lane".into()))], &gran.keys)
        .unwrap();
    record
        .set_details(
            &[(DetailField::Address, Some("3 Way".into()))],
            &stranger.keys,
        )
        .unwrap();
    assert_eq!(record.details().address.as_deref(), Some("1 Road"));
    assert!(record.conflicts().is_empty());
}

#[test]
fn amendments_and_error_marks_count_only_from_the_entrys_own_author() {
    let (hv, mum) = (Device::new(), Device::new());
    let mut record = record_by(&mum, &[(&hv, Access::Writer)]);
    let mut original = hv.note("first");
    record.put_entry(&mut original, &hv.keys).unwrap();
    let mut correction = hv.note("corrected");
    correction.amends = Some(original.id.clone());
    record.put_entry(&mut correction, &hv.keys).unwrap();
    // Mum, an admin, tries to hide the health visitor's correction: it stays current.
    let mut mark = mum.note("");
    mark.body = EntryBody::EnteredInError {
        target: correction.id.clone(),
        reason: "wrong child".into(),
    };
    record.put_entry(&mut mark, &mum.keys).unwrap();
    let (views, _) = record.entry_views(&Default::default());
    assert_eq!(views.len(), 3);
    assert_eq!(
        views[0].status,
        EntryStatus::Amended {
            by: correction.id.clone()
        }
    );
    assert_eq!(views[1].status, EntryStatus::Current);
    // The health visitor marks it herself: it is hidden, never deleted.
    let mut own_mark = hv.note("");
    own_mark.body = EntryBody::EnteredInError {
        target: correction.id.clone(),
        reason: "wrong child".into(),
    };
    record.put_entry(&mut own_mark, &hv.keys).unwrap();
    assert!(matches!(
        record.entry_views(&Default::default()).0[1].status,
        EntryStatus::EnteredInError { .. }
    ));
}

#[test]
fn entries_are_verified_unverified_invalid_or_not_permitted() {
    let (mum, gran, stranger) = (Device::new(), Device::new(), Device::new());
    let mut record = record_by(&mum, &[(&gran, Access::Reader)]);
    let by = |device: &Device, text: &str| device.note(text);
    record
        .put_entry(&mut by(&mum, "signed by mum"), &mum.keys)
        .unwrap();
    // Claims to be mum, signed by someone else: shown, flagged, never trusted.
    record
        .put_entry(&mut by(&mum, "forged"), &stranger.keys)
        .unwrap();
    // A device that is not a member.
    record
        .put_entry(&mut by(&stranger, "unknown device"), &stranger.keys)
        .unwrap();
    // Unsigned, naming a member.
    record
        .put_unsigned_entry(&mut by(&mum, "unsigned"))
        .unwrap();
    // A reader's own entry.
    record
        .put_entry(&mut by(&gran, "gran"), &gran.keys)
        .unwrap();
    let verdict = |text: &str| {
        let (views, _) = record.entry_views(&Default::default());
        views
            .into_iter()
            .find(|v| matches!(&v.entry.body, EntryBody::Note(n) if n.text == text))
            .unwrap()
            .verification
    };
    assert_eq!(verdict("signed by mum"), Verification::Verified);
    assert_eq!(verdict("forged"), Verification::Invalid);
    assert_eq!(verdict("unknown device"), Verification::Unverified);
    assert_eq!(verdict("unsigned"), Verification::Invalid);
    assert_eq!(verdict("gran"), Verification::NotPermitted);
}

#[test]
fn an_entry_copied_into_another_childs_record_does_not_verify() {
    let mum = Device::new();
    let mut first = record_by(&mum, &[]);
    let mut entry = mum.note("weight 5.2 kg");
    first.put_entry(&mut entry, &mum.keys).unwrap();
    let value = first.values(&first.entries).remove(0).bytes;
    let mut second = record_by(&Device::new(), &[]);
    // The same signed bytes, put into another record by a member of both.
    second
        .put_value(Kind::Entry, entry.id.as_str(), value)
        .unwrap();
    assert_eq!(
        second.entry_views(&Default::default()).0[0].verification,
        Verification::Invalid
    );
}

#[test]
fn a_whole_document_is_refused_exactly_when_its_changes_would_be() {
    let (mum, dad) = (Device::new(), Device::new());
    let base = record_by(&mum, &[(&dad, Access::Admin)]);
    let mut entry = mum.note("kept");
    let mut honest = fork(&base);
    honest.put_entry(&mut entry, &mum.keys).unwrap();
    // Each hostile history, as a whole document and as changes.
    type Attack<'a> = Box<dyn Fn(&mut Record) + 'a>;
    let hostile: Vec<Attack> = vec![
        Box::new(|r| {
            let map = r.entries.clone();
            let mut tx = r.automerge_mut().transaction();
            tx.delete(&map, entry.id.as_str()).unwrap();
            tx.commit();
        }),
        Box::new(|r| {
            let map = r.entries.clone();
            let mut tx = r.automerge_mut().transaction();
            tx.put(&map, entry.id.as_str(), ScalarValue::Bytes(vec![1]))
                .unwrap();
            tx.commit();
        }),
        Box::new(|r| {
            let map = r.details.clone();
            let mut tx = r.automerge_mut().transaction();
            tx.put_object(&map, "x", ObjType::Map).unwrap();
            tx.commit();
        }),
        Box::new(|r| {
            let mut tx = r.automerge_mut().transaction();
            tx.put(ROOT, "extra", 1).unwrap();
            tx.commit();
        }),
    ];
    for (n, attack) in hostile.iter().enumerate() {
        let mut sender = fork(&honest);
        attack(&mut sender);
        let document = sender.save();
        let mut as_changes = Record::genesis(base.record_id()).unwrap();
        assert!(
            as_changes.receive_changes(&document).is_err(),
            "attack {n} as changes"
        );
        let loaded = Automerge::load(&document).unwrap();
        assert!(
            honest.check_document(&loaded).is_err(),
            "attack {n} as a document"
        );
    }
    let loaded = Automerge::load(&honest.save()).unwrap();
    assert!(fork(&base).check_document(&loaded).is_ok());
}

mod convergence {
    use super::*;
    use proptest::prelude::*;

    /// One step of a random history: which device does what.
    #[derive(Debug, Clone)]
    enum Step {
        Entry(usize),
        Detail(usize, u8),
        /// `from` sends everything it has to `to`.
        Sync(usize, usize),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0..3usize).prop_map(Step::Entry),
            (0..3usize, 0..4u8).prop_map(|(d, v)| Step::Detail(d, v)),
            (0..3usize, 0..3usize).prop_map(|(a, b)| Step::Sync(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Honest devices writing apart and syncing in any order: no honest change is
        /// ever refused, and once everyone has everything, every copy shows the same
        /// entries, details, conflicts and members.
        #[test]
        fn random_honest_histories_are_never_refused_and_converge(
            steps in proptest::collection::vec(step(), 1..40)
        ) {
            let devices = [Device::new(), Device::new(), Device::new()];
            let base = record_by(&devices[0], &[(&devices[1], Access::Admin), (&devices[2], Access::Writer)]);
            let mut copies: Vec<Record> = (0..3).map(|_| fork(&base)).collect();
            for step in steps {
                match step {
                    Step::Entry(d) => copies[d].put_entry(&mut devices[d].note("a note"), &devices[d].keys).unwrap(),
                    Step::Detail(d, v) => copies[d]
                        .set_details(&[(DetailField::Address, Some(format!("{v} Road")))], &devices[d].keys)
                        .unwrap(),
                    Step::Sync(a, b) if a != b => {
                        let bytes = copies[a].save_after(&copies[b].heads());
                        let (to, from) = (b, a);
                        prop_assert!(copies[to].receive_changes(&bytes).is_ok(), "{} -> {}", from, to);
                    }
                    Step::Sync(..) => {}
                }
            }
            for a in 0..3 {
                for b in 0..3 {
                    if a != b {
                        let bytes = copies[a].save_after(&copies[b].heads());
                        prop_assert!(copies[b].receive_changes(&bytes).is_ok());
                    }
                }
            }
            let views: Vec<_> = copies.iter().map(|c| c.entry_views(&Default::default())).collect();
            prop_assert!(views.iter().all(|v| *v == views[0]));
            prop_assert!(views[0].0.iter().all(|v| v.verification == Verification::Verified));
            prop_assert!(copies.iter().all(|c| c.details() == copies[0].details()));
            prop_assert!(copies.iter().all(|c| c.conflicts() == copies[0].conflicts()));
            prop_assert!(copies.iter().all(|c| c.members() == copies[0].members()));
        }
    }
}

#[test]
fn a_change_reusing_its_authors_history_is_refused_and_the_record_still_loads() {
    let (mum, dad) = (Device::new(), Device::new());
    let base = record_by(&mum, &[(&dad, Access::Admin)]);
    let mut honest = fork(&base);
    honest.put_entry(&mut mum.note("given"), &mum.keys).unwrap();
    // A hostile member copies the honest session's actor id from the record and writes
    // a different change in its place: same actor, same sequence, same op counters.
    let mut hostile = fork(&base);
    let actor = honest.automerge().get_actor().clone();
    hostile.automerge_mut().set_actor(actor);
    hostile
        .put_entry(&mut dad.note("forged"), &dad.keys)
        .unwrap();
    assert!(matches!(
        send(&hostile, &mut honest),
        Err(RecordError::Refused(RefusedChange::ReusedHistory))
    ));
    let reloaded = Record::load(&honest.save()).expect("the record still loads");
    let views = reloaded.entry_views(&Default::default()).0;
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].verification, Verification::Verified);
    // The same forgery inside a whole document is refused the same way.
    let hostile_doc = hostile.automerge().clone();
    assert_eq!(
        honest.check_document(&hostile_doc),
        Err(RefusedChange::ReusedHistory)
    );
}

#[test]
fn a_closure_counts_only_while_its_authors_role_is_confirmed_for_when_it_was_written() {
    use crate::model::{
        ClosureReason, ConfirmedRoles, Profile, RecordClosure, Role, RoleConfirmation,
    };
    let (mum, gp) = (Device::new(), Device::new());
    let mut record = record_by(&mum, &[]);
    let grant = Statement {
        id: StatementId::generate().unwrap(),
        issuer: mum.keys.public(),
        issued_at: chrono::Utc::now(),
        after: record.membership().heads.clone(),
        action: Action::Grant {
            subject: gp.keys.public(),
            access: Access::Writer,
            profile: Profile {
                role: Role::Gp,
                organisation: Some("X99TEST".into()),
                ..profile()
            },
            stands_in_for: None,
        },
    };
    record.put_statement(&grant, &mum.keys).unwrap();
    let mut closure = gp.note("");
    closure.body = EntryBody::RecordClosed(RecordClosure {
        date: "2026-01-02".parse().unwrap(),
        reason: ClosureReason::Died,
    });
    record.put_entry(&mut closure, &gp.keys).unwrap();
    record.put_entry(&mut mum.note("after"), &mum.keys).unwrap();
    let confirmed_until = |minutes: i64| {
        ConfirmedRoles::from([(
            gp.id(),
            RoleConfirmation {
                organisation: "X99TEST".into(),
                valid_until: closure.recorded_at + chrono::Duration::minutes(minutes),
            },
        )])
    };
    let mums_note = |confirmed: &ConfirmedRoles| record.entry_views(confirmed).0[1].verification;
    // Unconfirmed: open, and Mum's note is hers.
    assert_eq!(record.closed_at(&ConfirmedRoles::new()), None);
    assert_eq!(mums_note(&ConfirmedRoles::new()), Verification::Verified);
    // Confirmed until after it was written (even if that day has passed since): closed.
    assert!(record.closed_at(&confirmed_until(1)).is_some());
    assert_eq!(mums_note(&confirmed_until(1)), Verification::NotPermitted);
    // Expired before it was written: open again (the cached answer follows the roles).
    assert_eq!(record.closed_at(&confirmed_until(-1)), None);
    assert_eq!(mums_note(&confirmed_until(-1)), Verification::Verified);
}
