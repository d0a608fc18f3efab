//! Devices that meet rarely: two parents' phones and a clinic tablet, each with its own
//! encrypted database, syncing through a channel that loses, repeats and reorders.

use redbook_core::model::*;
use redbook_core::sync::SyncError;
use redbook_core::{Error, RedBook};
use redbook_tests::{child, contents, device, invite, note, raw_key, settle, Device};
use tempfile::TempDir;

/// Mum's record shared with Dad and the clinic.
fn family(dir: &TempDir) -> (Vec<Device>, RecordId) {
    let mum = device(dir, "mum", 1, Role::Parent, None);
    let dad = device(dir, "dad", 2, Role::Parent, None);
    let clinic = device(dir, "clinic", 3, Role::HealthVisitor, Some("RQX"));
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    for other in [&dad, &clinic] {
        let invitation = mum
            .book
            .share(&id, &other.book.device_card().unwrap(), Access::Admin)
            .unwrap();
        assert!(
            invitation.len() < 1024,
            "invitation of {} bytes does not fit a QR code",
            invitation.len()
        );
        assert_eq!(other.book.accept(&invitation).unwrap(), id);
        assert_eq!(
            other.book.accept(&invitation).unwrap(),
            id,
            "accepting twice is harmless"
        );
    }
    (vec![mum, dad, clinic], id)
}

/// A deterministic, unreliable channel.
struct Channel {
    rng: u64,
    queue: Vec<(usize, Vec<u8>)>,
}

impl Channel {
    fn next(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Drops one in five, repeats one in five.
    fn send(&mut self, to: usize, bytes: Vec<u8>) {
        match self.next() % 5 {
            0 => {}
            1 => {
                self.queue.push((to, bytes.clone()));
                self.queue.push((to, bytes));
            }
            _ => self.queue.push((to, bytes)),
        }
    }

    /// Everything queued, in a shuffled order.
    fn drain(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut out = std::mem::take(&mut self.queue);
        for i in (1..out.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            out.swap(i, j);
        }
        out
    }
}

/// One exchange: every device offers every other one its next message.
fn exchange(devices: &[Device], id: &RecordId, channel: &mut Channel) {
    for (i, from) in devices.iter().enumerate() {
        for (j, to) in devices.iter().enumerate() {
            if i == j {
                continue;
            }
            match from.book.sync_message(id, &to.id) {
                Ok(Some(bytes)) => channel.send(j, bytes),
                Ok(None) => {}
                // Not yet told about that device (it learns of members by syncing).
                Err(Error::Sync(SyncError::NotAMember)) => {}
                Err(e) => panic!("sync_message: {e}"),
            }
        }
    }
    for (to, bytes) in channel.drain() {
        match devices[to].book.receive(&bytes) {
            Ok(_) | Err(Error::Sync(SyncError::NotAMember)) => {}
            Err(e) => panic!("receive: {e}"),
        }
    }
}

fn run_schedule(seed: u64, rounds: usize) {
    let dir = TempDir::new().unwrap();
    let (devices, id) = family(&dir);
    let mut channel = Channel {
        rng: seed | 1,
        queue: Vec::new(),
    };
    let mut written = 0;
    for round in 0..rounds {
        for (n, device) in devices.iter().enumerate() {
            if !channel.next().is_multiple_of(3) {
                device
                    .book
                    .add_entry(
                        &id,
                        note("2026-02-01", &format!("round {round} from device {n}")),
                    )
                    .unwrap();
                written += 1;
            }
        }
        exchange(&devices, &id, &mut channel);
    }
    settle(&devices.iter().collect::<Vec<_>>(), &id);
    let first = contents(&devices[0].book, &id);
    assert_eq!(first.1.len(), written, "seed {seed}: entries lost");
    for device in &devices[1..] {
        assert_eq!(
            contents(&device.book, &id),
            first,
            "seed {seed}: devices differ"
        );
    }
    // Every entry is verified on every device: each author is a member.
    for device in &devices {
        let record = device.book.child(&id).unwrap();
        assert!(
            record
                .entries
                .iter()
                .all(|v| v.verification == Verification::Verified),
            "seed {seed}"
        );
        assert_eq!(device.book.members(&id).unwrap().len(), 3);
    }
}

#[test]
fn three_devices_writing_apart_over_a_lossy_channel_end_identical() {
    run_schedule(0x5eed_1234, 8);
}

#[test]
fn random_schedules_all_converge() {
    for seed in 1..=6u64 {
        run_schedule(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 5);
    }
}

#[test]
fn refused_messages_change_nothing() {
    let dir = TempDir::new().unwrap();
    let (devices, id) = family(&dir);
    let (mum, dad, clinic) = (&devices[0], &devices[1], &devices[2]);
    mum.book
        .add_entry(&id, note("2026-02-01", "from mum"))
        .unwrap();
    let message = mum.book.sync_message(&id, &dad.id).unwrap().unwrap();
    let before = contents(&dad.book, &id);

    // Addressed to Dad: the clinic refuses it.
    assert!(matches!(
        clinic.book.receive(&message),
        Err(Error::Sync(SyncError::NotForThisDevice))
    ));
    // Tampered anywhere, or truncated.
    for i in [0, 5, 30, 70, message.len() / 2, message.len() - 1] {
        let mut tampered = message.clone();
        tampered[i] ^= 0x01;
        assert!(dad.book.receive(&tampered).is_err(), "byte {i}");
    }
    assert!(dad.book.receive(&message[..message.len() - 10]).is_err());
    assert!(dad.book.receive(b"").is_err());
    assert_eq!(
        contents(&dad.book, &id),
        before,
        "refused messages changed the record"
    );

    // The real one is accepted, and a replay of it is harmless.
    assert!(dad.book.receive(&message).is_ok());
    assert!(dad.book.receive(&message).is_ok());
    settle(&[mum, dad], &id);
    assert_eq!(contents(&dad.book, &id).1.len(), 1);

    // A device the clinic has not heard of yet (Mum invited it after their last sync).
    let gran = device(&dir, "gran", 4, Role::Carer, None);
    gran.book
        .accept(
            &mum.book
                .share(&id, &gran.book.device_card().unwrap(), Access::Writer)
                .unwrap(),
        )
        .unwrap();
    settle(&[mum, &gran], &id);
    let from_gran = gran
        .book
        .sync_message(&id, &clinic.id)
        .unwrap()
        .expect("gran knows the clinic from mum");
    let clinic_before = contents(&clinic.book, &id);
    assert!(matches!(
        clinic.book.receive(&from_gran),
        Err(Error::Sync(SyncError::NotAMember))
    ));
    assert_eq!(contents(&clinic.book, &id), clinic_before);
    // Once the clinic syncs with mum it knows gran, and takes her messages.
    settle(&[mum, clinic], &id);
    assert_eq!(clinic.book.members(&id).unwrap().len(), 4);
}

#[test]
fn a_bundle_carries_everything_and_importing_it_twice_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let (devices, id) = family(&dir);
    let (mum, clinic) = (&devices[0], &devices[2]);
    for i in 0..20 {
        mum.book
            .add_entry(&id, note("2026-02-01", &format!("note {i}")))
            .unwrap();
    }
    let bundle = mum.book.export_bundle(&id, Some(&clinic.id)).unwrap();
    let first = clinic.book.receive(&bundle).unwrap();
    assert!(first.changed);
    let after_once = contents(&clinic.book, &id);
    assert_eq!(after_once.1.len(), 20);
    assert!(!clinic.book.receive(&bundle).unwrap().changed);
    assert_eq!(contents(&clinic.book, &id), after_once);
    assert_eq!(after_once, contents(&mum.book, &id));
}

#[test]
fn removing_a_member_rotates_the_key_and_the_others_carry_on() {
    let dir = TempDir::new().unwrap();
    let (devices, id) = family(&dir);
    let (mum, dad, clinic) = (&devices[0], &devices[1], &devices[2]);
    dad.book
        .add_entry(&id, note("2026-02-01", "dad, before removal"))
        .unwrap();
    settle(&devices.iter().collect::<Vec<_>>(), &id);

    mum.book.remove_member(&id, &dad.id).unwrap();
    let members = mum.book.members(&id).unwrap();
    assert!(members
        .iter()
        .find(|m| m.device_id == dad.id)
        .unwrap()
        .removed
        .is_some());

    // Dad's messages are refused; nothing of his arrives.
    dad.book
        .add_entry(&id, note("2026-02-02", "dad, after removal"))
        .unwrap();
    let from_dad = dad
        .book
        .sync_message(&id, &mum.id)
        .unwrap()
        .expect("dad still has something to send");
    assert!(matches!(
        mum.book.receive(&from_dad),
        Err(Error::Sync(SyncError::NotAMember))
    ));
    assert!(matches!(
        mum.book.sync_message(&id, &dad.id),
        Err(Error::Sync(SyncError::NotAMember))
    ));

    // The clinic receives the new key at its next sync with Mum and carries on.
    mum.book
        .add_entry(&id, note("2026-02-03", "mum, after removal"))
        .unwrap();
    settle(&[mum, clinic], &id);
    let texts = |book: &RedBook| -> Vec<String> {
        book.child(&id)
            .unwrap()
            .entries
            .into_iter()
            .filter_map(|v| match v.entry.body {
                EntryBody::Note(n) => Some(n.text),
                _ => None,
            })
            .collect()
    };
    assert_eq!(texts(&clinic.book), texts(&mum.book));
    assert!(texts(&clinic.book).contains(&"mum, after removal".to_string()));
    assert!(!texts(&clinic.book).contains(&"dad, after removal".to_string()));
    // What Dad wrote while a member stays, verified.
    let before = clinic.book.child(&id).unwrap();
    assert!(before
        .entries
        .iter()
        .all(|v| v.verification == Verification::Verified));

    // Under the new key Dad can read nothing: a bundle for any member is refused.
    let bundle = mum.book.export_bundle(&id, None).unwrap();
    assert!(matches!(
        dad.book.receive(&bundle),
        Err(Error::Sync(SyncError::NewerKey))
    ));
    // And the clinic, having synced, refuses him too.
    if let Some(message) = dad.book.sync_message(&id, &clinic.id).unwrap() {
        assert!(clinic.book.receive(&message).is_err());
    }
    // Mum's database, re-sealed under the new key, reopens intact.
    let entries = mum.book.child(&id).unwrap().entries.len();
    drop(devices);
    let reopened = RedBook::open(&dir.path().join("mum.redbook"), raw_key(1)).unwrap();
    assert_eq!(reopened.child(&id).unwrap().entries.len(), entries);
}

/// A device that stops just after making a message, before it is handed over (here the key
/// message after a removal): once both reopen, a direct sync still brings what it writes.
#[test]
fn a_message_lost_with_a_stopped_process_is_made_again_after_reopening() {
    let dir = TempDir::new().unwrap();
    let (devices, id) = family(&dir);
    settle(&devices.iter().collect::<Vec<_>>(), &id);
    let (mum, dad, clinic) = (&devices[0], &devices[1], &devices[2]);
    mum.book.remove_member(&id, &dad.id).unwrap();
    let lost = mum.book.sync_message(&id, &clinic.id).unwrap();
    assert!(lost.is_some(), "the key message, never delivered");
    let clinic_id = clinic.id.clone();
    drop(devices);

    let reopen = |name: &str, key: u8| {
        let book =
            RedBook::open(&dir.path().join(format!("{name}.redbook")), raw_key(key)).unwrap();
        let id = book.device_id();
        Device { book, id }
    };
    let (mum, clinic) = (reopen("mum", 1), reopen("clinic", 3));
    assert_eq!(clinic.id, clinic_id);
    mum.book
        .add_entry(&id, note("2026-02-03", "mum, after reopening"))
        .unwrap();
    settle(&[&mum, &clinic], &id);
    assert_eq!(contents(&clinic.book, &id), contents(&mum.book, &id));
}

#[test]
fn a_new_member_takes_a_long_record_whole_keeps_its_own_entries_and_reopens_intact() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let clinic = device(&dir, "clinic", 3, Role::HealthVisitor, Some("RQX"));
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    for i in 0..300 {
        mum.book
            .add_entry(&id, note("2026-02-01", &format!("day {i}")))
            .unwrap();
    }
    let invitation = mum
        .book
        .share(&id, &clinic.book.device_card().unwrap(), Access::Writer)
        .unwrap();
    clinic.book.accept(&invitation).unwrap();
    // Written at the clinic before the first sync: must survive the whole-record path.
    clinic
        .book
        .add_entry(&id, note("2026-03-01", "seen at clinic"))
        .unwrap();
    settle(&[&mum, &clinic], &id);
    assert_eq!(contents(&mum.book, &id), contents(&clinic.book, &id));
    // The sender's compressed document became the clinic's snapshot, not 300 changes.
    let (chunks, _) = clinic.book.storage_stats(&id).unwrap();
    assert!(chunks <= 3, "{chunks} chunks stored");
    let expected = contents(&mum.book, &id);
    drop(clinic);
    let reopened = RedBook::open(&dir.path().join("clinic.redbook"), raw_key(3)).unwrap();
    assert_eq!(contents(&reopened, &id), expected);
    let views = reopened.child(&id).unwrap().entries;
    assert_eq!(views.len(), 301);
    assert!(views
        .iter()
        .all(|v| v.verification == Verification::Verified));
}

#[test]
fn an_invitation_that_cannot_be_taken_says_what_to_do_and_adds_nothing() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let dad = device(&dir, "dad", 2, Role::Parent, None);
    let gran = device(&dir, "gran", 3, Role::Carer, None);
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    let invitation = mum
        .book
        .share(&id, &dad.book.device_card().unwrap(), Access::Writer)
        .unwrap();
    let mut altered = invitation.clone();
    altered[100] ^= 1;
    for (bytes, device, words) in [
        (
            &invitation[..invitation.len() - 7],
            &dad,
            "is incomplete or damaged: scan it again",
        ),
        (&b"hello"[..], &dad, "is incomplete or damaged"),
        (&altered[..], &dad, "was changed after it was made"),
        (&invitation[..], &gran, "was made for another device"),
    ] {
        match device.book.accept(bytes) {
            Err(Error::InvalidInput(e)) => {
                assert_eq!(e.field, "invitation");
                assert!(e.to_string().contains(words), "{e}");
            }
            other => panic!("expected a refused invitation, got {other:?}"),
        }
        assert!(device.book.children().unwrap().children.is_empty());
    }
    dad.book.accept(&invitation).unwrap();
}

fn withdrawal() -> EntryBody {
    EntryBody::RecordClosed(RecordClosure {
        date: "2026-03-01".parse().unwrap(),
        reason: ClosureReason::CreatedInError,
    })
}

fn listed(device: &Device) -> (usize, usize) {
    let list = device.book.children().unwrap();
    (list.children.len(), list.withdrawn.len())
}

#[test]
fn a_record_created_in_error_is_withdrawn_by_its_creator_and_leaves_every_list() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let dad = device(&dir, "dad", 2, Role::Parent, None);
    let nhs = "943 476 5919";
    let mut details = child("Amara twin", "2026-01-01");
    details.nhs_number = Some(nhs.into());
    let id = mum.book.add_child(details).unwrap();
    mum.book
        .add_entry(&id, note("2026-02-01", "mum's own note"))
        .unwrap();
    invite(&mum, &dad, &id, Access::Writer);
    // Only the device that created it may withdraw it.
    match dad.book.add_entry(&id, withdrawal()) {
        Err(Error::InvalidInput(e)) => {
            assert!(e.reason.contains("only on the device that created it"))
        }
        other => panic!("{other:?}"),
    }
    let withdrawn = mum.book.add_entry(&id, withdrawal()).unwrap();
    settle(&[&mum, &dad], &id);
    for device in [&mum, &dad] {
        assert_eq!(listed(device), (0, 1), "out of the list, kept");
        assert!(device.book.find_children(nhs).unwrap().is_empty());
        assert!(device.book.find_children("amara").unwrap().is_empty());
        let screen = device
            .book
            .children_screen("2026-03-02".parse().unwrap())
            .unwrap();
        assert_eq!(
            screen.withdrawn,
            "1 record withdrawn as created in error is kept out of this list"
        );
        // Nothing deleted: the record and its entries still read.
        assert_eq!(device.book.child(&id).unwrap().timeline().len(), 2);
    }
    // Marked in error, the withdrawal no longer counts: back in every list.
    mum.book
        .mark_entered_in_error(&id, &withdrawn.entry.id, "it was Amara after all")
        .unwrap();
    settle(&[&mum, &dad], &id);
    assert_eq!(listed(&mum), (1, 0));
    assert_eq!(listed(&dad), (1, 0));
}

#[test]
fn a_record_someone_else_wrote_to_is_never_withdrawn_even_concurrently() {
    let dir = TempDir::new().unwrap();
    let mum = device(&dir, "mum", 1, Role::Parent, None);
    let dad = device(&dir, "dad", 2, Role::Parent, None);
    let id = mum.book.add_child(child("Amara", "2026-01-01")).unwrap();
    invite(&mum, &dad, &id, Access::Writer);
    // Apart: Dad writes while Mum withdraws the record.
    dad.book
        .add_entry(&id, note("2026-02-01", "first smile"))
        .unwrap();
    mum.book.add_entry(&id, withdrawal()).unwrap();
    assert_eq!(listed(&mum), (0, 1));
    settle(&[&mum, &dad], &id);
    // Merged, Dad's entry makes it real on both devices: listed, not withdrawn.
    assert_eq!(listed(&mum), (1, 0));
    assert_eq!(listed(&dad), (1, 0));
    // And now Mum's device refuses to withdraw it.
    match mum.book.add_entry(&id, withdrawal()) {
        Err(Error::InvalidInput(e)) => {
            assert!(e.reason.contains("others have written to this record"))
        }
        other => panic!("{other:?}"),
    }
}
