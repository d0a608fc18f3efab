//! What this device may write into a record, checked once before the write's transaction:
//! a member that can write (once a professional whose role an organisation on the trust
//! list confirms has closed the record, a professional: hazard log H21), an entry valid at
//! the door, a professional's fact written by a professional, and a correction that fits
//! what it corrects.

use super::Record;
use crate::growth::plausibility::unusual_values;
use crate::model::{
    validate, Author, ClosureReason, ConfirmedRoles, DetailField, EntryBody, EntryId, EntryStatus,
    Flag, Immunisation, ValidationError, Verification,
};
use crate::schedule::dose_questions;
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
/// What is possible but unexpected for this child is refused as `NeedsConfirmation`
/// unless the writer has `confirm`ed it.
pub fn check_entry(
    record: &Record,
    author: &Author,
    confirmed: &ConfirmedRoles,
    amends: Option<&EntryId>,
    body: &EntryBody,
    today: NaiveDate,
    confirm: bool,
) -> Result<Vec<Flag>, Error> {
    may_write(record, author, confirmed)?;
    let flags = validate::validate_entry(body, record.birth_date(), today)?;
    if !confirm {
        ask_unexpected(record, confirmed, amends, body)?;
    }
    // Other devices would not let it change the schedule (`risk_factor_uses`):
    // say so now rather than store a fact that looks used and is not.
    match body {
        EntryBody::RecordClosed(c) if c.reason == ClosureReason::CreatedInError => {
            check_withdrawal(record, author, confirmed)?
        }
        EntryBody::RecordClosed(_) if !author.role.is_professional() => {
            return Err(ValidationError::new(
                "kind",
                "a record is closed by a midwife, health visitor, GP or nurse",
            )
            .into());
        }
        _ => {}
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

/// A record is withdrawn as created in error by the device that created it, while nobody
/// else has written to it (`record::withdrawal`, which reads it the same way).
fn check_withdrawal(
    record: &Record,
    author: &Author,
    confirmed: &ConfirmedRoles,
) -> Result<(), Error> {
    if record.membership().creator.as_deref() != Some(author.device_id.as_str()) {
        return Err(ValidationError::new(
            "reason",
            "a record is withdrawn as created in error only on the device that created it",
        )
        .into());
    }
    if super::others_wrote(&record.entry_views(confirmed).0, &author.device_id) {
        return Err(ValidationError::new(
            "reason",
            "others have written to this record, so it is not withdrawn: a midwife, health visitor, GP or nurse can close it",
        )
        .into());
    }
    Ok(())
}

/// Refuses, as `NeedsConfirmation`, a measurement beyond the growth charts' limits for
/// the child's age, sex and gestation, and an immunisation the schedule does not expect
/// (docs/adr/0014-values-checked-against-the-child.md). Only immunisations read the
/// record's other entries.
fn ask_unexpected(
    record: &Record,
    confirmed: &ConfirmedRoles,
    amends: Option<&EntryId>,
    body: &EntryBody,
) -> Result<(), Error> {
    let asked: Vec<(String, String, String)> = match body {
        EntryBody::Measurement(_) | EntryBody::BirthDetails(_) => {
            unusual_values(&record.details(), body)
                .into_iter()
                .map(|v| (v.field.to_string(), v.reason(), v.advice()))
                .collect()
        }
        EntryBody::Immunisation(new) => {
            let views = record.entry_views(confirmed).0;
            let recorded: Vec<&Immunisation> = views
                .iter()
                // The doses the schedule counts (hazard log H18).
                .filter(|v| v.status == EntryStatus::Current)
                .filter(|v| v.verification == Verification::Verified)
                .filter(|v| Some(&v.entry.id) != amends)
                .filter_map(|v| match &v.entry.body {
                    EntryBody::Immunisation(i) => Some(i),
                    _ => None,
                })
                .collect();
            dose_questions(new, &recorded)
                .into_iter()
                .map(|q| {
                    let advice = format!("The {} {}.", validate::field_label(q.field), q.reason);
                    (q.field.to_string(), q.reason, advice)
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let Some((field, reason, _)) = asked.first().cloned() else {
        return Ok(());
    };
    let advice: Vec<String> = asked.into_iter().map(|(_, _, advice)| advice).collect();
    Err(Error::NeedsConfirmation {
        field,
        reason,
        advice: advice.join(" "),
    })
}
