//! `RedBook`: the public API the bindings and the CLI stand on. One handle per open
//! database file; `Send + Sync`, every call takes the lock for its whole duration and
//! never calls out to the app while holding it.

use crate::child::{ChildList, ChildRecord, ChildSummary, HistoryAction, HistoryEvent};
use crate::crypto::device::DeviceKeys;
use crate::growth::{
    series, Correction, GrowthReferences, GrowthSeries, Measure, MidParentalHeight,
};
use crate::model::{
    summary, validate, Author, ChildDetails, ConfirmedRoles, DetailField, EntryBody, EntryId,
    EntryStatus, EntryView, RecordId, Role, StoredEntry, ValidationError,
};
use crate::model::{Action, NewbornScreening, Profile, Statement, StatementId, Verification};
use crate::record::{review_flags, write_rules, Membership, Record};
use crate::schedule::{self, DueReport, Eligibility, ScheduleInput};
use crate::store::{OpenOptions, Store, Unlock};
use crate::sync::attestation::TrustedOrganisation;
use crate::Error;
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

const DEVICE_PROFILE: &str = "device_profile";
const DEVICE_KEYS: &str = "device_keys";
/// An organisation's attestation of this device's role, carried on its card.
const DEVICE_ATTESTATION: &str = "device_attestation";

mod export;
mod recovery;
mod relay;
mod screens;
mod sync;
pub use crate::recovery::Restored;
pub use crate::sync::engine::Received;
pub use crate::sync::relay_client::RelayReport;

pub struct RedBook {
    inner: Mutex<Inner>,
}

struct Inner {
    store: Store,
    /// Read once at open and kept in step by `set_device_profile`: every write needs it.
    author: Author,
    /// This installation's identity: signs its entries and sync messages.
    keys: DeviceKeys,
    /// Automerge sync state per (record, peer) for this session; saved after each step.
    sessions: crate::sync::engine::Sessions,
    /// Organisations whose attestations confirm a member's role (set by the app from the
    /// deployer's configuration; empty: no role is shown as confirmed).
    trusted: Vec<TrustedOrganisation>,
    /// How long a new blood spot result waits before a parent's device shows it.
    blood_spot_delay: chrono::Duration,
}

/// UNVERIFIED default: NHSX PCHR MVP 6.1.7 asks for a configurable delay before blood spot
/// results show to parents, without a figure. 14 days after the sample (taken on day 5)
/// reaches past the new baby review (10-14 days), where a health visitor usually goes
/// through the results. Deployers set their own (`RedBook::set_blood_spot_delay_days`).
pub const DEFAULT_BLOOD_SPOT_DELAY_DAYS: u32 = 14;

/// This installation as it signs its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceProfile {
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
}

impl RedBook {
    /// Opens the database at `path`, creating it if it does not exist.
    pub fn open(path: &Path, unlock: Unlock) -> Result<Self, Error> {
        Self::open_with(path, unlock, OpenOptions::default())
    }

    pub fn open_with(path: &Path, unlock: Unlock, options: OpenOptions) -> Result<Self, Error> {
        let store = Store::open(path, &unlock, options)?;
        let corrupt = |_| Error::corrupt(None);
        let keys = match store.sealed_meta(DEVICE_KEYS)? {
            Some(bytes) => DeviceKeys::from_bytes(&bytes).map_err(corrupt)?,
            None => {
                let keys = DeviceKeys::generate()?;
                store.put_sealed_meta(DEVICE_KEYS, &keys.to_bytes())?;
                keys
            }
        };
        if store.sealed_meta(DEVICE_PROFILE)?.is_none() {
            let profile = DeviceProfile {
                role: Role::Parent,
                display_name: "This device".into(),
                organisation: None,
            };
            store.put_sealed_meta(
                DEVICE_PROFILE,
                &serde_json::to_vec(&profile).expect("serialisable"),
            )?;
        }
        crate::recovery::kept::drop_kit_secret(&store)?;
        let author = author_of(&store, &keys)?;
        Ok(Self {
            inner: Mutex::new(Inner {
                store,
                author,
                keys,
                sessions: Default::default(),
                trusted: Vec::new(),
                blood_spot_delay: chrono::Duration::days(DEFAULT_BLOOD_SPOT_DELAY_DAYS.into()),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the store usable: every write is one
        // SQLite transaction, and a failed write drops the in-memory copy.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn today() -> NaiveDate {
        chrono::Local::now().date_naive()
    }

    /// The author this device writes entries as.
    pub fn author(&self) -> Result<Author, Error> {
        Ok(self.lock().author.clone())
    }

    /// How many children's documents stay open at once, and how much memory they may take
    /// (estimated); the least recently used is let go first and read again when next
    /// wanted (docs/adr/0010-caseload.md). Defaults: 32 records, 64 MiB.
    pub fn set_cache_limits(&self, max_records: u32, max_bytes: u64) {
        self.lock().store.set_cache_limits(
            max_records as usize,
            usize::try_from(max_bytes).unwrap_or(usize::MAX),
        );
    }

    /// The organisations whose attestations confirm a professional's role (the
    /// deployer's trust list; `sync::attestation::test_organisation` for tests and demos).
    pub fn set_trusted_organisations(&self, trusted: Vec<TrustedOrganisation>) {
        self.lock().trusted = trusted;
    }

    /// The deployer's delay before a blood spot result shows on a parent's or carer's
    /// device (NHSX PCHR 6.1.7), so that a professional can tell the family first.
    pub fn set_blood_spot_delay_days(&self, days: u32) {
        self.lock().blood_spot_delay = chrono::Duration::days(days.into());
    }

    /// Keeps an organisation's attestation of this device's role, to carry on its card.
    /// It must be for this device's key and its profile's role and organisation.
    pub fn set_attestation(&self, attestation: &[u8]) -> Result<(), Error> {
        let inner = self.lock();
        let a = crate::sync::attestation::Attestation::decode(attestation)?;
        let fits = a.device_key == inner.keys.public().signing_key
            && a.role == inner.author.role
            && inner.author.organisation.as_deref() == Some(a.organisation.as_str());
        if !fits {
            return Err(ValidationError::new(
                "attestation",
                "is for another device, role or organisation than this device's profile",
            )
            .into());
        }
        if a.valid_until() < Utc::now() {
            return Err(ValidationError::new(
                "attestation",
                "has expired: ask the organisation for a new one",
            )
            .into());
        }
        inner.store.put_sealed_meta(DEVICE_ATTESTATION, attestation)
    }

    pub fn set_device_profile(&self, profile: DeviceProfile) -> Result<(), Error> {
        Profile {
            role: profile.role,
            display_name: profile.display_name.clone(),
            organisation: profile.organisation.clone(),
            attestation: None,
        }
        .check()?;
        if profile.role.is_professional()
            && profile
                .organisation
                .as_deref()
                .unwrap_or("")
                .trim()
                .is_empty()
        {
            return Err(ValidationError::new(
                "organisation",
                "professionals give their organisation code",
            )
            .into());
        }
        let mut inner = self.lock();
        inner.store.put_sealed_meta(
            DEVICE_PROFILE,
            &serde_json::to_vec(&profile).expect("serialisable"),
        )?;
        inner.author = author_of(&inner.store, &inner.keys)?;
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        crate::sync::members::rename_everywhere(store, keys, author)
    }

    /// Names this device ("Mum's phone", "Northside clinic tablet"), keeping its role and
    /// organisation: what an app asks on its first run. Every record it is a member of
    /// learns the new name from a signed rename.
    pub fn set_device_name(&self, name: &str) -> Result<(), Error> {
        let author = self.author()?;
        self.set_device_profile(DeviceProfile {
            role: author.role,
            display_name: name.trim().to_string(),
            organisation: author.organisation,
        })
    }

    pub fn add_child(&self, details: ChildDetails) -> Result<RecordId, Error> {
        let details = validate::validate_details(&details, Self::today())?;
        self.create_record(&details, |_, _| Ok(()))
    }

    /// A new record with these (validated) details, this device its creator and first
    /// admin (its id bound to this device's key); `fill` adds anything else before it is
    /// stored in one transaction.
    fn create_record(
        &self,
        details: &ChildDetails,
        fill: impl FnOnce(&mut Record, &DeviceKeys) -> Result<(), Error>,
    ) -> Result<RecordId, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            keys,
            author,
            ..
        } = &mut *inner;
        let nonce = crate::crypto::random_bytes::<16>()?;
        let id = RecordId::for_creator(&keys.public().signing_key, &nonce);
        let mut record = Record::genesis(&id)?;
        let create = Statement {
            id: StatementId::generate()?,
            issuer: keys.public(),
            issued_at: Utc::now(),
            after: Vec::new(),
            action: Action::Create {
                nonce: nonce.to_vec(),
                profile: Profile {
                    role: author.role,
                    display_name: author.display_name.clone(),
                    organisation: author.organisation.clone(),
                    attestation: store.sealed_meta(DEVICE_ATTESTATION)?,
                },
            },
        };
        record.put_statement(&create, keys)?;
        let fields: Vec<_> = DetailField::ALL
            .into_iter()
            .filter_map(|f| details.field_text(f).map(|text| (f, Some(text))))
            .collect();
        record.set_details(&fields, keys)?;
        fill(&mut record, keys)?;
        store.create_record(&id, record)?;
        Ok(id)
    }

    /// Every child in the file, from the sealed summaries (docs/adr/0010-caseload.md):
    /// one query and one decryption per child, whatever the records hold.
    pub fn children(&self) -> Result<ChildList, Error> {
        let summaries = self.lock().store.summaries()?;
        Ok(ChildList::sorted(summaries.children, summaries.damaged))
    }

    /// What a search box finds: by NHS number when the query is all digits (spaces and
    /// dashes allowed), else by the start of a name or of a word of it.
    pub fn find_children(&self, query: &str) -> Result<Vec<ChildSummary>, Error> {
        if summary::is_nhs_number_query(query) {
            self.find_by_nhs_number(query)
        } else {
            self.find_by_name(query)
        }
    }

    /// The children with this NHS number (spaces and dashes allowed; the check digit is
    /// checked): an exact lookup of its keyed hash. More than one only if the same child
    /// has two records (a second record made before the first was shared).
    pub fn find_by_nhs_number(&self, nhs_number: &str) -> Result<Vec<ChildSummary>, Error> {
        let nhs_number = validate::normalise_nhs_number(nhs_number)?;
        let mut found = self.lock().store.find_by_nhs_number(&nhs_number)?;
        found.retain(|c| !c.withdrawn);
        summary::sort_children(&mut found);
        Ok(found)
    }

    /// The children whose name, or a word of it, begins with `prefix`, ignoring case
    /// (on the decrypted summaries: the file holds no name in the clear).
    pub fn find_by_name(&self, prefix: &str) -> Result<Vec<ChildSummary>, Error> {
        let mut summaries = self.lock().store.summaries()?;
        summaries.children.retain(|c| !c.withdrawn);
        Ok(summary::named(summaries.children, prefix)?)
    }

    pub fn child(&self, id: &RecordId) -> Result<ChildRecord, Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            trusted,
            author,
            blood_spot_delay,
            ..
        } = &mut *inner;
        let record = store.record(id)?;
        let membership = record.membership();
        let (mut entries, unreadable_entries) =
            record.entry_views(&confirmed_roles(&membership, trusted));
        // The role the record's admin gave this device (its own profile's if it is not a
        // member): a parent's device cannot show results early by calling itself a GP.
        let my_role = membership
            .member(&author.device_id)
            .map_or(author.role, |m| m.role);
        let today = Self::today();
        for view in &mut entries {
            // A result this device wrote itself is already known here.
            if !my_role.is_professional() && view.entry.author.device_id != author.device_id {
                withhold_new_blood_spot(view, *blood_spot_delay, today);
            }
        }
        let closed = crate::record::closing_entry(&entries).cloned();
        let (mut details, conflicts) = (record.details(), record.conflicts());
        crate::sync::removal::mark_written_after_removal(
            store,
            id,
            &author.device_id,
            &mut entries,
        )?;
        // Accepted but not yet synced: the invitation's name and date of birth stand in,
        // as in the list of children.
        if details.name.is_empty() && details.birth_date.is_none() {
            if let Some(hint) = store.display_hint(id)? {
                details.name = hint.name;
                details.birth_date = hint.birth_date;
            }
        }
        keep_verdicts(store, id);
        Ok(ChildRecord {
            id: id.clone(),
            details,
            conflicts,
            entries,
            unreadable_entries,
            closed,
        })
    }

    /// Sets detail fields (None clears one). Writing a field resolves its conflict.
    pub fn update_details(
        &self,
        id: &RecordId,
        updates: &[(DetailField, Option<String>)],
    ) -> Result<(), Error> {
        let today = Self::today();
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            keys,
            trusted,
            ..
        } = &mut *inner;
        let record = store.record(id)?;
        let confirmed = confirmed_roles(&record.membership(), trusted);
        let fields = write_rules::check_details(record, author, &confirmed, updates, today)?;
        store.update_record(id, |record| Ok(record.set_details(&fields, keys)?))
    }

    pub fn add_entry(&self, id: &RecordId, body: EntryBody) -> Result<EntryView, Error> {
        if matches!(body, EntryBody::EnteredInError { .. }) {
            return Err(ValidationError::new("kind", "use mark_entered_in_error").into());
        }
        self.write_entry(id, None, body, false)
    }

    /// Writes a new entry (or, with `amends`, a correction) that the door asked the writer
    /// to confirm (`Error::NeedsConfirmation`): kept as written, marked for a
    /// professional to review unless a professional wrote it.
    pub fn write_confirmed(
        &self,
        id: &RecordId,
        amends: Option<&EntryId>,
        body: EntryBody,
    ) -> Result<EntryView, Error> {
        if matches!(body, EntryBody::EnteredInError { .. }) {
            return Err(ValidationError::new("kind", "use mark_entered_in_error").into());
        }
        self.write_entry(id, amends.cloned(), body, true)
    }

    /// Writes a correction of `target`; the original stays readable, marked amended.
    pub fn amend_entry(
        &self,
        id: &RecordId,
        target: &EntryId,
        body: EntryBody,
    ) -> Result<EntryView, Error> {
        if matches!(body, EntryBody::EnteredInError { .. }) {
            return Err(ValidationError::new("kind", "use mark_entered_in_error").into());
        }
        self.write_entry(id, Some(target.clone()), body, false)
    }

    /// Hides `target` from the timeline; it stays in the record and its history.
    pub fn mark_entered_in_error(
        &self,
        id: &RecordId,
        target: &EntryId,
        reason: &str,
    ) -> Result<EntryView, Error> {
        let body = EntryBody::EnteredInError {
            target: target.clone(),
            reason: reason.trim().to_string(),
        };
        self.write_entry(id, None, body, false)
    }

    /// Adds entries read from another system's FHIR, signed by this device, in one
    /// transaction; this device must be able to write the record (book/export.rs,
    /// `import_foreign`).
    fn put_imported_entries(&self, id: &RecordId, entries: &[StoredEntry]) -> Result<(), Error> {
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            keys,
            trusted,
            ..
        } = &mut *inner;
        let record = store.record(id)?;
        write_rules::may_write(
            record,
            author,
            &confirmed_roles(&record.membership(), trusted),
        )?;
        store.update_record(id, |record| {
            for entry in entries {
                record.put_entry(&mut entry.clone(), keys)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    fn write_entry(
        &self,
        id: &RecordId,
        amends: Option<EntryId>,
        body: EntryBody,
        confirm: bool,
    ) -> Result<EntryView, Error> {
        let today = Self::today();
        let body = validate::normalise_entry(body);
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            keys,
            trusted,
            ..
        } = &mut *inner;
        let record = store.record(id)?;
        let confirmed = confirmed_roles(&record.membership(), trusted);
        let flags = write_rules::check_entry(
            record,
            author,
            &confirmed,
            amends.as_ref(),
            &body,
            today,
            confirm,
        )?;
        let mut entry = StoredEntry {
            id: EntryId::generate()?,
            author: author.clone(),
            recorded_at: Utc::now(),
            amends,
            body,
            source: None,
            confirmed: confirm,
        };
        store.update_record(id, |record| Ok(record.put_entry(&mut entry, keys)?))?;
        // Signed just now with this device's key: verified if it is a member.
        let record = store.record(id)?;
        let member = record.member(&entry.author.device_id);
        let verification = match &member {
            Some(member) if member.keys.signing_key == keys.public().signing_key => {
                Verification::Verified
            }
            _ => Verification::Unverified,
        };
        // Judged as every read judges it: the role its admin granted, confirmed by an
        // organisation on the trust list.
        let author_confirmed_by = confirmed
            .get(&entry.author.device_id)
            .filter(|c| c.holds_at(entry.recorded_at))
            .map(|c| c.organisation.clone());
        let by_professional = verification == Verification::Verified
            && member.as_ref().is_some_and(|m| m.role.is_professional())
            && author_confirmed_by.is_some();
        let mut flags = flags;
        flags.extend(review_flags(&record.details(), &entry, by_professional));
        Ok(EntryView {
            entry,
            status: EntryStatus::Current,
            flags,
            verification,
            author_confirmed_by: author_confirmed_by
                .filter(|_| verification == Verification::Verified),
            author_name_then: None,
            withheld_until: None,
        })
    }

    pub fn history(&self, id: &RecordId) -> Result<Vec<HistoryEvent>, Error> {
        let mut inner = self.lock();
        let Inner { store, trusted, .. } = &mut *inner;
        let record = store.record(id)?;
        let (views, _) = record.entry_views(&confirmed_roles(&record.membership(), trusted));
        keep_verdicts(store, id);
        Ok(views
            .into_iter()
            .map(|view| {
                let entry = view.entry;
                let action = match (&entry.body, &entry.amends) {
                    (EntryBody::EnteredInError { target, reason }, _) => {
                        HistoryAction::MarkedEnteredInError {
                            target: target.clone(),
                            reason: reason.clone(),
                        }
                    }
                    (_, Some(target)) => HistoryAction::Amended {
                        target: target.clone(),
                    },
                    (_, None) => HistoryAction::Added,
                };
                HistoryEvent {
                    kind: entry.body.kind_name().to_string(),
                    entry_id: entry.id,
                    recorded_at: entry.recorded_at,
                    author: entry.author,
                    action,
                }
            })
            .collect())
    }

    /// Re-wraps the database key; the records are not rewritten.
    pub fn change_unlock(&self, current: &Unlock, new: &Unlock) -> Result<(), Error> {
        self.lock().store.change_unlock(current, new)
    }

    /// The record's whole automerge document, unsealed: for benchmarks and tools on this
    /// device. Another device takes a record only sealed and checked (`export_bundle`).
    pub fn record_bytes(&self, id: &RecordId) -> Result<Vec<u8>, Error> {
        Ok(self.lock().store.record(id)?.save())
    }

    /// What is due, overdue and done for a child on a date: immunisations, reviews and
    /// newborn screening, from what the record holds, risk factors included, so that
    /// every device shows the same list for the same record.
    pub fn due(&self, id: &RecordId, on: NaiveDate) -> Result<DueReport, Error> {
        due_report(&self.child(id)?, on)
    }

    /// A child's measurements of one kind on the UK-WHO charts: each point's centile (or
    /// why it cannot be charted), and NICE NG75 faltering-growth signals for weight.
    pub fn growth(
        &self,
        id: &RecordId,
        measure: Measure,
        refs: &GrowthReferences,
        correction: Correction,
    ) -> Result<GrowthSeries, Error> {
        let record = self.child(id)?;
        Ok(series::series(
            &record.details,
            &record.timeline(),
            measure,
            refs,
            correction,
        )?)
    }

    /// The child's growth chart for one measure, as SVG.
    pub fn growth_chart(
        &self,
        id: &RecordId,
        measure: Measure,
        refs: &GrowthReferences,
        correction: Correction,
    ) -> Result<String, Error> {
        let record = self.child(id)?;
        Ok(series::chart_svg(
            &record.details,
            &record.timeline(),
            measure,
            refs,
            correction,
        )?)
    }

    /// The mid-parental height and target range from the latest parents' heights on
    /// record (`growth::mid_parental_height`); None until both are recorded. Needs the
    /// UK90 pack (parents' heights are read on UK90 at 20 years).
    pub fn mid_parental_height(
        &self,
        id: &RecordId,
        refs: &GrowthReferences,
    ) -> Result<Option<MidParentalHeight>, Error> {
        let record = self.child(id)?;
        Ok(series::record_mid_parental_height(
            &record.details,
            &record.timeline(),
            refs,
        )?)
    }

    /// (chunks, bytes) stored for a record.
    pub fn storage_stats(&self, id: &RecordId) -> Result<(usize, usize), Error> {
        self.lock().store.chunk_stats(id)
    }
}

/// Saves the signature verdicts a read reached (docs/adr/0010-caseload.md). A cache: if
/// the save fails, the next cold open checks those signatures again and nothing else.
fn keep_verdicts(store: &mut Store, id: &RecordId) {
    store.save_verdicts(id).ok();
}

/// A blood spot result is shown on a parent's device from the delay after its sample
/// was taken: until then the view keeps that a sample was taken and says when the results
/// will show; the results themselves are left out of what the app gets (NHSX PCHR 6.1.7;
/// hazard log H19). Counted from the sample date, which every device reads the same, so
/// a result typed in a year later is not withheld.
fn withhold_new_blood_spot(view: &mut EntryView, delay: chrono::Duration, today: NaiveDate) {
    if let EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
        results,
        sample_date,
    }) = &mut view.entry.body
    {
        let shown_from = *sample_date + delay;
        if shown_from > today {
            results.clear();
            view.withheld_until = Some(shown_from);
        }
    }
}

/// What is due, overdue and done for a record as read, with the risk factors it relies
/// on; a closed record reminds nobody, an unconfirmed closure waits and says so.
fn due_report(record: &ChildRecord, on: NaiveDate) -> Result<DueReport, Error> {
    let (input, risk_factors) = schedule::schedule_input(&record.details, &record.timeline())?;
    let mut report = schedule::due(&input, on)?;
    report.risk_factors = risk_factors;
    // A closed record reminds nobody of anything (the child may have died).
    if record.closed.is_some() {
        report.reminders.clear();
    } else {
        // What an unconfirmed professional's closure would change, and that it waits.
        report.closure_waiting =
            crate::record::waiting_closure(&record.entries).map(crate::view::closure_waiting);
    }
    Ok(report)
}

/// What is due for a child known only by date of birth (no record needed).
pub fn due_for_birth_date(
    birth_date: NaiveDate,
    on: NaiveDate,
    eligibility: Eligibility,
) -> Result<DueReport, Error> {
    let input = ScheduleInput {
        birth_date,
        eligibility,
        ..Default::default()
    };
    Ok(schedule::due(&input, on)?)
}

/// The members whose role an organisation on `trusted` confirms, and until when: what
/// decides whether a professional's closure or risk factor counts (docs/threat-model.md,
/// "Roles").
fn confirmed_roles(membership: &Membership, trusted: &[TrustedOrganisation]) -> ConfirmedRoles {
    membership
        .members
        .iter()
        .filter_map(|m| {
            Some((
                m.device_id.clone(),
                crate::sync::members::confirmation(m, trusted)?,
            ))
        })
        .collect()
}

fn author_of(store: &Store, keys: &DeviceKeys) -> Result<Author, Error> {
    let corrupt = || Error::corrupt(None);
    let profile: DeviceProfile =
        serde_json::from_slice(&store.sealed_meta(DEVICE_PROFILE)?.ok_or_else(corrupt)?)
            .map_err(|_| corrupt())?;
    Ok(Author {
        device_id: keys.public().device_id(),
        role: profile.role,
        display_name: profile.display_name,
        organisation: profile.organisation,
    })
}
