//! What each entry counts as when read (`EntryView`): whether its author's signature and
//! standing vouch for it, and whether a later entry amended it or marked it in error.

use super::closure::closing_entry;
use super::signed;
use super::values::Stored;
use super::{Membership, Record};
use crate::growth::plausibility::unusual_values;
use crate::model::{
    validate, ChildDetails, ConfirmedRoles, EntryBody, EntryId, EntryStatus, EntryView, Flag,
    Member, StoredEntry, Verification,
};
use std::collections::HashMap;

impl Record {
    /// Every readable entry with what later entries say about it, whether its author's
    /// signature checks out and whether `confirmed` confirms its author's role when it
    /// wrote it; and the ids of entries this version cannot read. A function of the
    /// document and `confirmed` alone.
    pub fn entry_views(&self, confirmed: &ConfirmedRoles) -> (Vec<EntryView>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_values();
        let membership = self.membership();
        let writers = self.writers(&membership);
        let stored: Vec<&Stored> = entries.iter().map(|(_, s)| s).collect();
        let verified = self.signatures_verify(&stored, &membership.members);
        let mut verifications: Vec<Verification> = entries
            .iter()
            .zip(verified)
            .map(|((entry, stored), signature_ok)| {
                let signer = signed::parse(&stored.bytes).and_then(|v| v.signer.copied());
                let could_write = |member: &Member| {
                    writers.could_write(&self.doc, member, entry.recorded_at, &stored.ops())
                };
                verification(entry, signer, signature_ok, &membership, could_write)
            })
            .collect();
        let entries: Vec<StoredEntry> = entries.into_iter().map(|(e, _)| e).collect();
        let finish = |entries: Vec<StoredEntry>, verifications: &[Verification]| {
            let mut views = entry_views(entries, verifications);
            for (view, verification) in views.iter_mut().zip(verifications) {
                view.verification = *verification;
                // Shown with the role the granting admin gave: a device's own profile
                // never raises it (docs/threat-model.md, "Roles").
                if *verification != Verification::Invalid {
                    if let Some(member) = membership.member(&view.entry.author.device_id) {
                        view.entry.author.role = member.role;
                        // Its name now (the member's own latest rename), with the one
                        // it wrote under when that differs.
                        if view.entry.author.display_name != member.display_name {
                            view.author_name_then = Some(std::mem::replace(
                                &mut view.entry.author.display_name,
                                member.display_name.clone(),
                            ));
                        }
                        view.entry.author.organisation = member.organisation.clone();
                    }
                }
                // Judged at the time it says it was written: a closure does not lapse
                // when the attestation later expires (docs/threat-model.md, "Roles").
                if *verification == Verification::Verified {
                    view.author_confirmed_by = confirmed
                        .get(&view.entry.author.device_id)
                        .filter(|c| c.holds_at(view.entry.recorded_at))
                        .map(|c| c.organisation.clone());
                }
            }
            views
        };
        let mut views = finish(entries, &verifications);
        // A closed record is read-only to parents' and carers' devices: what they sign
        // after the closure was written is not permitted (hazard log H21). Views are
        // worked out again so that such an amendment or mark does not count either.
        let closed = closing_entry(&views).map(|v| v.entry.recorded_at);
        if let Some(closed_at) = closed {
            // The first pass already shows each author by its name now.
            let thens: Vec<Option<String>> =
                views.iter().map(|v| v.author_name_then.clone()).collect();
            let entries: Vec<StoredEntry> = views.into_iter().map(|v| v.entry).collect();
            for (entry, v) in entries.iter().zip(verifications.iter_mut()) {
                let by_family = !entry.author.role.is_professional();
                if *v == Verification::Verified && by_family && entry.recorded_at > closed_at {
                    *v = Verification::NotPermitted;
                }
            }
            views = finish(entries, &verifications);
            for (view, then) in views.iter_mut().zip(thens) {
                view.author_name_then = view.author_name_then.take().or(then);
            }
        }
        let details = self.details();
        for view in &mut views {
            let by_professional = view.verification == Verification::Verified
                && view.entry.author.role.is_professional()
                && view.author_confirmed_by.is_some();
            let flags = review_flags(&details, &view.entry, by_professional);
            view.flags.extend(flags);
        }
        *self.closure.borrow_mut() = Some((self.doc.get_heads(), confirmed.clone(), closed));
        (views, unreadable)
    }
}

/// What a professional should look at in `entry`: each value beyond the growth charts'
/// limits for the child's age, whoever wrote it and whatever it claims; and a value its
/// writer confirmed against the door's question, unless `by_professional`: its verified
/// author is a professional whose role an organisation on the trust list confirms (as for
/// a closure; docs/adr/0014-values-checked-against-the-child.md).
pub fn review_flags(
    details: &ChildDetails,
    entry: &StoredEntry,
    by_professional: bool,
) -> Vec<Flag> {
    let vouched = by_professional && entry.confirmed;
    let unusual = unusual_values(details, &entry.body);
    let mut flags: Vec<Flag> = unusual
        .iter()
        .map(|v| Flag {
            field: v.field.to_string(),
            note: if vouched {
                format!(
                    "The {} {}. Confirmed by the {} who wrote it.",
                    v.label(),
                    v.reason(),
                    entry.author.role.label()
                )
            } else {
                format!(
                    "The {} {}. For a professional to review.",
                    v.label(),
                    v.reason()
                )
            },
            for_review: !vouched,
        })
        .collect();
    if entry.confirmed && unusual.is_empty() && !by_professional {
        flags.push(Flag {
            field: "confirmed".into(),
            note: "Kept as its writer confirmed it, though the schedule did not expect it (a vaccine it does not know, a dose beyond the course or repeated): for a professional to review.".into(),
            for_review: true,
        });
    }
    flags
}

/// What an entry's signature and its author's membership say (docs/threat-model.md,
/// "Entries").
fn verification(
    entry: &StoredEntry,
    signer: Option<[u8; 32]>,
    signature_ok: bool,
    membership: &Membership,
    could_write: impl Fn(&Member) -> bool,
) -> Verification {
    let author = membership.member(&entry.author.device_id);
    match (signer, author) {
        // Unsigned: an import. Naming a member is a claim nobody vouched for.
        (None, Some(_)) => Verification::Invalid,
        (None, None) => Verification::Unverified,
        (Some(_), _) if !signature_ok => Verification::Invalid,
        (Some(key), Some(member)) => {
            if key != member.keys.signing_key {
                Verification::Invalid
            } else if could_write(member) {
                Verification::Verified
            } else {
                Verification::NotPermitted
            }
        }
        // A device that is not a member: its own entry is unverified; one naming
        // another device is a forgery.
        (Some(key), None) => {
            if crate::crypto::device::DevicePublic::device_id_of(&key) == entry.author.device_id {
                Verification::Unverified
            } else {
                Verification::Invalid
            }
        }
    }
}

/// Works out each entry's status from the amendments and error marks that point at it
/// (verification is left `Unverified`: `Record::entry_views` fills it in). Nobody hides or
/// replaces what another member wrote (docs/threat-model.md, "Entries"): a correction or
/// an error mark of a verified entry counts only if it is verified and by the same
/// device; of an unverified one (an import), if it is verified or by the same device.
/// Marks that are invalid or written without the right to write never count.
fn entry_views(entries: Vec<StoredEntry>, verifications: &[Verification]) -> Vec<EntryView> {
    let by_id: HashMap<&EntryId, (&StoredEntry, Verification)> = entries
        .iter()
        .zip(verifications)
        .map(|(e, v)| (&e.id, (e, *v)))
        .collect();
    let counts = |marker: &StoredEntry, verification: Verification, target: &EntryId| {
        let Some((original, original_verification)) = by_id.get(target) else {
            return false;
        };
        let same_device = original.author.device_id == marker.author.device_id;
        match (verification, original_verification) {
            (verification, _) if verification.is_forged() => false,
            (_, Verification::Verified) => verification == Verification::Verified && same_device,
            _ => verification == Verification::Verified || same_device,
        }
    };
    let mut status: HashMap<EntryId, EntryStatus> = HashMap::new();
    // Entries come sorted by time written, so the latest amendment wins; an error mark
    // outranks an amendment whatever the order.
    for (entry, verification) in entries.iter().zip(verifications) {
        if let Some(target) = &entry.amends {
            if counts(entry, *verification, target)
                && !matches!(status.get(target), Some(EntryStatus::EnteredInError { .. }))
            {
                status.insert(
                    target.clone(),
                    EntryStatus::Amended {
                        by: entry.id.clone(),
                    },
                );
            }
        }
        if let EntryBody::EnteredInError { target, reason } = &entry.body {
            if counts(entry, *verification, target) {
                status.insert(
                    target.clone(),
                    EntryStatus::EnteredInError {
                        marked_by: entry.id.clone(),
                        reason: reason.clone(),
                    },
                );
            }
        }
    }
    entries
        .into_iter()
        .map(|entry| EntryView {
            status: status.remove(&entry.id).unwrap_or(EntryStatus::Current),
            flags: validate::flags_of(&entry.body),
            verification: Verification::Unverified,
            author_confirmed_by: None,
            author_name_then: None,
            withheld_until: None,
            entry,
        })
        .collect()
}
