//! What this device may write into a record, checked once before the write's transaction:
//! a member that can write (once a professional whose role an organisation on the trust
//! list confirms has closed the record, a professional: hazard log H21), an entry valid at
//! the door, a professional's fact written by a professional, and a correction that fits
//! what it corrects.

use super::Record;
use crate::model::{
    validate, Author, ConfirmedRoles, DetailField, EntryBody, EntryId, EntryStatus, Flag,
    ValidationError,
};
use crate::Error;
use chrono::NaiveDate;

/// Whether this device may write to the record now: not a reader or a removed member,
/// and, once a professional has closed the record, a professional. A device not (yet)
/// named, such as one that has just accepted an invitation, writes: its entries show as
/// unverified until its grant arrives.
pub fn may_write(
    record: &Record,
    author: &Author,
    confirmed: &ConfirmedRoles,
) -> Result<(), Error> {
    let membership = record.membership();
    let member = membership.member(&author.device_id);
    if member.is_some_and(|m| !m.is_active() || !m.access.can_write()) {
        return Err(Error::not_permitted());
    }
    let role = member.map_or(author.role, |m| m.role);
    // Closed as the timeline reads it: only a confirmed professional's closure counts.
    if !role.is_professional() && record.closed_at(confirmed).is_some() {
        return Err(Error::RecordClosed);
    }
    Ok(())
}

/// Checks detail updates (None clears a field) against the record as it stands; the
/// fields as they will be written, in normal form. Writing a field resolves its conflict.
pub fn check_details(
    record: &Record,
    author: &Author,
    confirmed: &ConfirmedRoles,
    updates: &[(DetailField, Option<String>)],
    today: NaiveDate,
) -> Result<Vec<(DetailField, Option<String>)>, Error> {
    may_write(record, author, confirmed)?;
    let mut details = record.details();
    for (field, text) in updates {
        if *field == DetailField::Name && text.is_none() {
            return Err(ValidationError::new("name", "must not be empty").into());
        }
        details.set_field_text(*field, text.as_deref());
        // Text that did not parse would silently clear the field: refuse it.
        if text.is_some() && details.field_text(*field).is_none() {
            return Err(ValidationError::new(field.key(), "is not in the expected form").into());
        }
    }
    let details = validate::validate_details(&details, today)?;
    Ok(updates
        .iter()
        .map(|(f, _)| (*f, details.field_text(*f)))
        .collect())
}

/// Checks `body` (normalised), written by `author` as a new entry or as a correction of
/// `amends`, against the record as it stands; the flags the door raised (`validate`).
pub fn check_entry(
    record: &Record,
    author: &Author,
    confirmed: &ConfirmedRoles,
    amends: Option<&EntryId>,
    body: &EntryBody,
    today: NaiveDate,
) -> Result<Vec<Flag>, Error> {
    may_write(record, author, confirmed)?;
    let flags = validate::validate_entry(body, record.birth_date(), today)?;
    // Other devices would not let it change the schedule (`risk_factor_uses`):
    // say so now rather than store a fact that looks used and is not.
    if matches!(body, EntryBody::RecordClosed(_)) && !author.role.is_professional() {
        return Err(ValidationError::new(
            "kind",
            "a record is closed by a midwife, health visitor, GP or nurse",
        )
        .into());
    }
    if let EntryBody::RiskFactor(r) = body {
        if r.factor.professional_only() && !author.role.is_professional() {
            return Err(ValidationError::new(
                "factor",
                "is recorded by a midwife, health visitor, GP or nurse",
            )
            .into());
        }
    }
    // Only corrections look at other entries: a plain add stays O(1).
    if let Some(target) = amends {
        let original = record
            .entry(target)
            .ok_or(Error::NotFound { what: "entry" })?;
        // Also per screening test: a hearing screen is not corrected by a blood spot.
        if original.body.kind_words() != body.kind_words() {
            let reason = format!(
                "an amendment has the kind of the entry it corrects: this is {}, the entry is {}",
                body.kind_words(),
                original.body.kind_words()
            );
            return Err(ValidationError::new("kind", &reason).into());
        }
    }
    if let EntryBody::EnteredInError { target, .. } = body {
        let original = record
            .entry(target)
            .ok_or(Error::NotFound { what: "entry" })?;
        if matches!(original.body, EntryBody::EnteredInError { .. }) {
            return Err(ValidationError::new("target", "is itself an error mark").into());
        }
        let already_marked = record.entry_views(confirmed).0.into_iter().any(|v| {
            &v.entry.id == target && matches!(v.status, EntryStatus::EnteredInError { .. })
        });
        if already_marked {
            return Err(
                ValidationError::new("target", "is already marked entered in error").into(),
            );
        }
    }
    Ok(flags)
}
