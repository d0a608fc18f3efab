//! What of a FHIR file comes into a record: the checks at the app's door, this
//! child's and no other's, ids that commit to the new record, and no vouching for another
//! device (docs/threat-model.md, "Imports").

use super::{ForeignRecord, ImportedRecord, NotImported};
use crate::crypto::device::DeviceKeys;
use crate::model::{
    validate, Author, ChildDetails, EntryBody, EntryId, StoredEntry, ValidationError,
};
use crate::record::{signed, Record};
use crate::Error;
use chrono::{NaiveDate, Utc};
use std::collections::{HashMap, HashSet};

/// The file as JSON.
pub fn parse_json(json: &[u8]) -> Result<serde_json::Value, ValidationError> {
    serde_json::from_slice(json).map_err(|_| ValidationError::new("fhir", "is not JSON"))
}

/// A Bundle this app exported, checked whole before any of it is kept: its details and
/// every entry valid at the door, no two entries with one id, nothing correcting an entry
/// the Bundle does not hold. The details as they will be stored.
pub fn check_own_bundle(
    imported: &ImportedRecord,
    today: NaiveDate,
) -> Result<ChildDetails, Error> {
    let details = validate::validate_details(&imported.details, today)?;
    let ids: HashSet<&EntryId> = imported.entries.iter().map(|(e, _)| &e.id).collect();
    if ids.len() != imported.entries.len() {
        return Err(ValidationError::new("fhir Provenance.id", "two entries share an id").into());
    }
    for (entry, _) in &imported.entries {
        validate::validate_entry(&entry.body, details.birth_date, today)?;
        let target = match &entry.body {
            EntryBody::EnteredInError { target, .. } => Some(target),
            _ => entry.amends.as_ref(),
        };
        if target.is_some_and(|t| !ids.contains(t)) {
            return Err(ValidationError::new(
                "fhir Provenance",
                "corrects an entry the Bundle does not hold",
            )
            .into());
        }
    }
    Ok(details)
}

/// Puts a checked Bundle's entries into the new `record`. Ids commit to their record, so
/// every entry takes a new one here; what corrects or marks an entry follows it to its
/// new id. An entry this device wrote and signed for the record it came from is signed
/// again for this one; any other entry comes in unsigned: a file cannot vouch for another
/// device.
pub fn put_bundle_entries(
    imported: &ImportedRecord,
    record: &mut Record,
    keys: &DeviceKeys,
) -> Result<(), Error> {
    let me = keys.public();
    let mut new_ids: HashMap<EntryId, EntryId> = HashMap::new();
    // Oldest first, so an entry takes its new id before anything that corrects it.
    let mut in_order: Vec<_> = imported.entries.iter().collect();
    in_order.sort_by_key(|(a, _)| a.recorded_at);
    for (entry, signature) in in_order {
        let own = entry.author.device_id == me.device_id()
            && imported
                .origin
                .as_ref()
                .zip(signature.as_deref())
                .is_some_and(|(origin, signature)| {
                    let json = serde_json::to_vec(entry).unwrap_or_default();
                    let value = signed::with_signature(
                        signed::Kind::Entry,
                        &json,
                        signature
                            .try_into()
                            .ok()
                            .map(|s: &[u8; 64]| (&me.signing_key, s)),
                    );
                    signed::parse(&value).is_some_and(|v| v.verifies(origin))
                });
        let mut entry = entry.clone();
        let follow = |id: &mut EntryId| {
            if let Some(new) = new_ids.get(id) {
                *id = new.clone();
            }
        };
        if let Some(target) = entry.amends.as_mut() {
            follow(target);
        }
        if let EntryBody::EnteredInError { target, .. } = &mut entry.body {
            follow(target);
        }
        let old_id = entry.id.clone();
        if own {
            record.put_entry(&mut entry, keys)?;
        } else {
            record.put_unsigned_entry(&mut entry)?;
        }
        new_ids.insert(old_id, entry.id);
    }
    Ok(())
}

/// Another system's Patient as details this record keeps: an NHS number that fails its
/// check is left out and reported, not allowed to refuse the child.
pub fn keep_valid_details(
    mut details: ChildDetails,
    foreign: &mut ForeignRecord,
    today: NaiveDate,
) -> Result<ChildDetails, Error> {
    match validate::validate_details(&details, today) {
        Err(e) if e.field == "nhs_number" => {
            foreign.not_imported.push(NotImported {
                what: format!(
                    "{} identifier",
                    foreign.patient.as_deref().unwrap_or("Patient")
                ),
                why: format!("the NHS number {}; not kept", e.reason),
            });
            details.nhs_number = None;
            Ok(validate::validate_details(&details, today)?)
        }
        other => Ok(other?),
    }
}

/// Whether a file's Patient is this record's child: the same NHS number (the record's is
/// in normal form); or, where this record has none, the same name and date of birth.
pub fn same_child(here: &ChildDetails, there: &ChildDetails) -> bool {
    match (&here.nhs_number, &there.nhs_number) {
        (Some(a), Some(b)) => validate::normalise_nhs_number(b).is_ok_and(|b| *a == b),
        (Some(_), None) => false,
        (None, _) => {
            here.name.trim().eq_ignore_ascii_case(there.name.trim())
                && here.birth_date.is_some()
                && here.birth_date == there.birth_date
        }
    }
}

/// Another system's entries as this device adds them: each that passes the checks at the
/// door, signed by `author`'s device, which vouches for having read it from the file, with
/// where it came from kept beside it; the rest reported in `not_imported`.
pub fn admitted_entries(
    entries: Vec<super::ForeignEntry>,
    birth: Option<NaiveDate>,
    today: NaiveDate,
    author: &Author,
    not_imported: &mut Vec<NotImported>,
) -> Result<Vec<StoredEntry>, Error> {
    let mut admitted = Vec::new();
    for entry in entries {
        let body = validate::normalise_entry(entry.body);
        if let Err(e) = validate::validate_entry(&body, birth, today) {
            not_imported.push(NotImported {
                what: entry.source,
                why: format!("{}: {}", e.field, e.reason),
            });
            continue;
        }
        let source = match (entry.performer.as_deref(), entry.organisation.as_deref()) {
            (Some(performer), Some(org)) => format!("{performer}, {org}"),
            (Some(performer), None) => performer.to_string(),
            (None, Some(org)) => org.to_string(),
            (None, None) => "another system".to_string(),
        };
        admitted.push(StoredEntry {
            id: EntryId::generate()?,
            author: author.clone(),
            recorded_at: Utc::now(),
            amends: None,
            body,
            source: Some(source),
            confirmed: false,
        });
    }
    Ok(admitted)
}
