//! Membership statements this device signs: sharing a record, removing a member (with
//! a new record key sealed to those that stay), repairing a key a member lacks, renaming
//! itself. Each is issued only if the record's own rules would count it
//! (`record::membership`), as every other device decides (docs/threat-model.md).

use super::attestation::{self, TrustedOrganisation};
use super::mailboxes::keep_current_mailbox;
use super::{DeviceCard, SyncError};
use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::SecretKey;
use crate::model::{
    Access, Action, Author, Member, Profile, RecordHint, RecordId, RoleConfirmation, Statement,
    StatementId, ValidationError,
};
use crate::record::{membership, Membership, Record};
use crate::store::Store;
use crate::Error;
use chrono::Utc;

/// Grants the device on `invitee` `access` to the record (only an admin can) and
/// returns the invitation (the record key sealed to it) for the app to carry over.
/// The role and name shown for it are the card's, as this admin confirms them.
pub fn share(
    store: &mut Store,
    keys: &DeviceKeys,
    id: &RecordId,
    invitee: &DeviceCard,
    access: Access,
) -> Result<Vec<u8>, Error> {
    let me = keys.public().device_id();
    if invitee.device_id() == me {
        return Err(ValidationError::new("invitee", "is this device").into());
    }
    let profile = Profile {
        role: invitee.role,
        display_name: invitee.display_name.clone(),
        organisation: invitee.organisation.clone(),
        // Passed on as the card carried it (the card is signed by the device);
        // whether it confirms anything is decided against each reader's trust list.
        attestation: invitee.attestation.clone(),
    };
    profile.check()?;
    let record = store.record(id)?;
    let membership = record.membership();
    if !membership.is_admin(&me) {
        return Err(SyncError::NotAnAdmin.into());
    }
    let mut grant = statement(
        keys,
        &membership,
        Action::Grant {
            subject: invitee.keys,
            access,
            profile,
            stands_in_for: None,
        },
    )?;
    if !would_count(record, &mut grant) {
        return Err(SyncError::NotPermitted.into());
    }
    store.update_record(id, |record| Ok(record.put_statement(&grant, keys)?))?;
    let details = store.record(id)?.details();
    let hint = RecordHint {
        name: details.name,
        birth_date: details.birth_date,
    };
    let key = store.record_key(id)?;
    let epoch = store.record_epoch(id)?;
    Ok(super::make_invitation(
        id,
        epoch,
        &key,
        keys,
        &invitee.keys,
        Some(&hint),
    )?)
}

/// Removes a member device (only a more senior admin can): the removal and a new
/// record key, sealed to each member that keeps access and never to the removed one,
/// are one signed statement, written and re-sealed at rest in one transaction.
pub fn remove(
    store: &mut Store,
    keys: &DeviceKeys,
    id: &RecordId,
    device_id: &str,
) -> Result<(), Error> {
    let me = keys.public().device_id();
    if device_id == me {
        return Err(
            ValidationError::new("device", "is this device; another admin removes it").into(),
        );
    }
    let record = store.record(id)?;
    let membership = record.membership();
    if !membership.is_admin(&me) {
        return Err(SyncError::NotAnAdmin.into());
    }
    match membership.member(device_id) {
        None => return Err(Error::NotFound { what: "member" }),
        Some(member) if !member.is_active() => return Ok(()),
        Some(_) => {}
    }
    let (mut revoke, new_key) = rotation_statement(record, &membership, keys, Some(device_id))?;
    if !would_count(record, &mut revoke) {
        return Err(SyncError::NotPermitted.into());
    }
    let epoch = revoke.rotation().map_or(0, |r| r.epoch);
    keep_current_mailbox(store, id)?;
    store.update_record_and_key(id, |record| {
        record.put_statement(&revoke, keys)?;
        Ok(((), Some((new_key, epoch))))
    })?;
    Ok(())
}

/// Signs a rename into every record where this device is an active member shown under
/// another name, so that every member sees the name it now writes under (its entries carry
/// the name they were written under too: `view::author_line` shows both).
pub fn rename_everywhere(
    store: &mut Store,
    keys: &DeviceKeys,
    author: &Author,
) -> Result<(), Error> {
    for listing in store.list_records()? {
        let Some(id) = listing.id else { continue };
        let record = match store.record(&id) {
            Ok(record) => record,
            // A damaged record is reported where it is read; the others are renamed.
            Err(Error::CorruptData { .. }) => continue,
            Err(e) => return Err(e),
        };
        let membership = record.membership();
        let shown = membership
            .active(&author.device_id)
            .map(|m| &m.display_name);
        if shown.is_none_or(|name| *name == author.display_name) {
            continue;
        }
        let mut rename = statement(
            keys,
            &membership,
            Action::Rename {
                name: author.display_name.clone(),
            },
        )?;
        if would_count(record, &mut rename) {
            store.update_record(&id, |record| Ok(record.put_statement(&rename, keys)?))?;
        }
    }
    Ok(())
}

/// An admin that finds a member without the key in force (granted while another admin
/// replaced the key) replaces it again, sealed to everyone that keeps access.
pub fn repair_key(store: &mut Store, keys: &DeviceKeys, id: &RecordId) -> Result<(), Error> {
    let held = store.record_epoch(id)?;
    let record = store.record(id)?;
    let membership = record.membership();
    let me = keys.public().device_id();
    if membership.missing_key.is_empty() || !membership.is_admin(&me) || held != membership.epoch {
        return Ok(());
    }
    let (mut rotate, new_key) = rotation_statement(record, &membership, keys, None)?;
    if !would_count(record, &mut rotate) {
        return Ok(());
    }
    let epoch = membership.epoch + 1;
    keep_current_mailbox(store, id)?;
    store.update_record_and_key(id, |record| {
        record.put_statement(&rotate, keys)?;
        Ok(((), Some((new_key, epoch))))
    })
}

/// A new statement by this device, after everything it has seen of the membership.
pub fn statement(
    keys: &DeviceKeys,
    membership: &Membership,
    action: Action,
) -> Result<Statement, Error> {
    Ok(Statement {
        id: StatementId::generate()?,
        issuer: keys.public(),
        issued_at: Utc::now(),
        after: membership.heads.clone(),
        action,
    })
}

/// Whether `candidate` would count, resolved with everything the record holds: the
/// façade issues only statements the rules accept (a forger's are refused by the same
/// rules on every device).
pub fn would_count(record: &Record, candidate: &mut Statement) -> bool {
    // Resolved under the id it will be written with (ties between statements go by id).
    if record.commit_statement(candidate).is_err() {
        return false;
    }
    let mut statements = record.statements();
    statements.push(candidate.clone());
    let after = membership::resolve(record.record_id(), statements);
    match &candidate.action {
        Action::Grant {
            subject, access, ..
        } => after
            .active(&subject.device_id())
            .is_some_and(|m| m.access == *access && m.added_by == candidate.issuer_id()),
        Action::Revoke { subject, rotation } => {
            after.member(subject).is_some_and(|m| !m.is_active())
                && after.rotation.as_ref().map(|r| &r.id) == Some(&candidate.id)
                && after.epoch == rotation.epoch
        }
        Action::Rotate { rotation } => {
            after.rotation.as_ref().map(|r| &r.id) == Some(&candidate.id)
                && after.epoch == rotation.epoch
        }
        Action::Create { .. } => after.creator == Some(candidate.issuer_id()),
        Action::Rename { name } => after
            .active(&candidate.issuer_id())
            .is_some_and(|m| m.display_name == *name),
    }
}

/// The members with the organisation that confirms each one's role now, if one on
/// `trusted` does: an expired attestation confirms nothing from its expiry on.
pub fn confirmed_now(mut members: Vec<Member>, trusted: &[TrustedOrganisation]) -> Vec<Member> {
    let now = Utc::now();
    for member in &mut members {
        member.confirmed_by = confirmation(member, trusted)
            .filter(|c| c.holds_at(now))
            .map(|c| c.organisation);
    }
    members
}

/// What a trusted attestation confirms of a member's role: by which organisation, until
/// when.
pub fn confirmation(member: &Member, trusted: &[TrustedOrganisation]) -> Option<RoleConfirmation> {
    attestation::confirmation(
        member.attestation.as_deref()?,
        &member.keys.signing_key,
        member.role,
        member.organisation.as_deref(),
        trusted,
    )
}

/// A new key statement by this device: a removal of `removed` or a plain rotation,
/// sealed to every other active member.
pub fn rotation_statement(
    record: &Record,
    membership: &Membership,
    keys: &DeviceKeys,
    removed: Option<&str>,
) -> Result<(Statement, SecretKey), Error> {
    let epoch = membership
        .epoch
        .checked_add(1)
        .ok_or(SyncError::NotPermitted)?;
    let recipients: Vec<DevicePublic> = membership
        .active_members()
        .filter(|m| Some(m.device_id.as_str()) != removed)
        .map(|m| m.keys)
        .collect();
    let new_key = SecretKey::generate()?;
    let rotation = membership::seal_rotation(
        record.record_id(),
        &keys.public(),
        epoch,
        &new_key,
        &recipients,
    )?;
    let action = match removed {
        Some(subject) => Action::Revoke {
            subject: subject.to_string(),
            rotation,
        },
        None => Action::Rotate { rotation },
    };
    Ok((statement(keys, membership, action)?, new_key))
}
