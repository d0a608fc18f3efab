//! The record's closure: when a professional whose role is confirmed closed it, after
//! which parents' and carers' devices may not write (hazard log H21).

use super::Record;
use crate::model::{
    ClosureReason, ConfirmedRoles, EntryBody, EntryStatus, EntryView, Verification,
};
use automerge::{ReadDoc, ScalarValueRef, ValueRef};
use chrono::{DateTime, Utc};

/// When a professional closed the record, if one did.
pub(super) type ClosedAt = Option<DateTime<Utc>>;

impl Record {
    /// When a professional whose role `confirmed` holds closed the record (the earliest
    /// closure that counts), after which parents' and carers' devices may not write
    /// (hazard log H21).
    pub fn closed_at(&self, confirmed: &ConfirmedRoles) -> Option<DateTime<Utc>> {
        let heads = self.doc.get_heads();
        if let Some((seen, roles, at)) = self.closure.borrow().as_ref() {
            if *seen == heads && roles == confirmed {
                return *at;
            }
        }
        // Most records were never closed: a look at the bytes, without parsing or
        // checking a signature, says so; only a record with a closure entry in it is read
        // whole (a parent's first write after opening would otherwise wait on that).
        let tag = br#""type":"record_closed""#;
        let mentions_closure = self
            .values(&self.entries)
            .iter()
            .any(|v| v.bytes.windows(tag.len()).any(|w| w == tag));
        if !mentions_closure {
            *self.closure.borrow_mut() = Some((heads, confirmed.clone(), None));
            return None;
        }
        self.entry_views(confirmed);
        self.closure.borrow().as_ref().and_then(|(_, _, at)| *at)
    }
}

/// The entry by which the record's creator withdrew it as created in error, if it counts:
/// current, signed by the creating device, and nobody else has written an entry (a record
/// another member wrote to is real, whatever its creator says: a professional closes
/// it). Concurrent writes decide alike on every device once merged.
pub fn withdrawal<'a>(views: &'a [EntryView], creator: Option<&str>) -> Option<&'a EntryView> {
    let creator = creator?;
    if others_wrote(views, creator) {
        return None;
    }
    views.iter().find(|view| {
        matches!(&view.entry.body, EntryBody::RecordClosed(c) if c.reason == ClosureReason::CreatedInError)
            && view.verification == Verification::Verified
            && view.status == EntryStatus::Current
            && view.entry.author.device_id == creator
    })
}

/// Whether a device other than `creator` wrote any of `views`: then the record is real
/// and no withdrawal counts.
pub fn others_wrote(views: &[EntryView], creator: &str) -> bool {
    views
        .iter()
        .any(|view| view.entry.author.device_id != creator)
}

impl Record {
    /// Whether the record's creator withdrew it as created in error (`withdrawal`). A
    /// look at the bytes first, kept by heads and carried over the device's own writes:
    /// most records never mention it.
    pub fn withdrawn(&self) -> bool {
        let heads = self.doc.get_heads();
        let mut cached = self.mentions_withdrawal.borrow_mut();
        let mentions = match cached.as_mut() {
            Some((seen, mentions)) if *seen == heads => *mentions,
            // Only the changes since: a message or another handle's writes.
            Some((seen, mentions)) => {
                *mentions = *mentions
                    || self
                        .doc
                        .get_changes(seen)
                        .iter()
                        .any(|change| mentions_withdrawal(change.raw_bytes()));
                *seen = heads;
                *mentions
            }
            None => {
                // Read in place: copying every value out would cost more than the look.
                let mentions =
                    self.doc
                        .map_range(&self.entries, ..)
                        .any(|item| match &item.value {
                            _ if item.conflict => self
                                .values_at(&self.entries, item.key.as_ref())
                                .iter()
                                .any(|v| mentions_withdrawal(&v.bytes)),
                            ValueRef::Scalar(ScalarValueRef::Bytes(bytes)) => {
                                mentions_withdrawal(bytes)
                            }
                            _ => false,
                        });
                *cached = Some((heads, mentions));
                mentions
            }
        };
        drop(cached);
        if !mentions {
            return false;
        }
        let (views, _) = self.entry_views(&ConfirmedRoles::new());
        let membership = self.membership();
        withdrawal(&views, membership.creator.as_deref()).is_some()
    }
}

/// Whether an entry value's bytes, or a change's (which hold its values' bytes whole),
/// could be a withdrawal: a cheap, conservative filter before entries are decoded.
pub(super) fn mentions_withdrawal(value: &[u8]) -> bool {
    let tag = br#""reason":"created_in_error""#;
    value.windows(tag.len()).any(|w| w == tag)
}

/// The entry by which a professional closed the record, if one did: the earliest
/// closure, signed by a member whose granted role is a professional's and confirmed by an
/// organisation on this device's trust list, not marked in error (hazard log H21).
pub fn closing_entry(views: &[EntryView]) -> Option<&EntryView> {
    closures(views)
        .filter(|view| view.author_confirmed_by.is_some())
        .min_by_key(|view| view.entry.recorded_at)
}

/// The earliest closure by a member granted a professional's role that no organisation on
/// this device's trust list confirms: shown, worded as waiting, and closing nothing until
/// the role is confirmed (docs/threat-model.md, "Roles").
pub fn waiting_closure(views: &[EntryView]) -> Option<&EntryView> {
    closures(views)
        .filter(|view| view.author_confirmed_by.is_none())
        .min_by_key(|view| view.entry.recorded_at)
}

fn closures(views: &[EntryView]) -> impl Iterator<Item = &EntryView> {
    views.iter().filter(|view| {
        matches!(&view.entry.body, EntryBody::RecordClosed(c) if c.reason != ClosureReason::CreatedInError)
            && view.verification == Verification::Verified
            && view.status == EntryStatus::Current
            && view.entry.author.role.is_professional()
    })
}
