//! `RedBook`: the public API the bindings and the CLI stand on. One handle per open
//! database file; `Send + Sync`, every call takes the lock for its whole duration and
//! never calls out to the app while holding it.

use crate::child::{
    ChildList, ChildRecord, ChildSummary, GrowthPoint, GrowthSeries, HistoryAction, HistoryEvent,
};
use crate::crypto::device::DeviceKeys;
use crate::growth::chart::ChartRequest;
use crate::growth::{
    self, ChartSet, Correction, GrowthError, GrowthReferences, Measure, MidParentalHeight,
    Observation,
};
use crate::model::{
    validate, Author, ChildDetails, ConfirmedRoles, DetailField, EntryBody, EntryId, EntryStatus,
    EntryView, RecordId, Role, StoredEntry, ValidationError,
};
use crate::model::{
    Action, NewbornScreening, NipeStage, Profile, ReviewKind, Sex, Statement, StatementId,
    Verification,
};
use crate::model::{BloodSpotCondition, BloodSpotOutcome, RiskFactorKind};
use crate::record::{Membership, Record};
use crate::schedule::{
    self, Check, DueReport, Eligibility, GivenDose, RiskFactorUse, ScheduleError, ScheduleInput,
    ScidScreen,
};
use crate::store::{OpenOptions, Store, Unlock};
use crate::sync::attestation::TrustedOrganisation;
use crate::Error;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

const DEVICE_PROFILE: &str = "device_profile";
const DEVICE_KEYS: &str = "device_keys";
/// An organisation's attestation of this device's role, carried on its card.
const DEVICE_ATTESTATION: &str = "device_attestation";

mod exporting;
mod recovering;
mod relaying;
mod screens;
mod sharing;
pub use recovering::Restored;
pub use relaying::RelayReport;
pub use sharing::Received;

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
    sessions: sharing::Sessions,
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
        recovering::drop_kit_secret(&store)?;
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
        rename_everywhere(&mut inner)
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
        Ok(child_list(summaries.children, summaries.damaged))
    }

    /// What a search box finds: by NHS number when the query is all digits (spaces and
    /// dashes allowed), else by the start of a name or of a word of it.
    pub fn find_children(&self, query: &str) -> Result<Vec<ChildSummary>, Error> {
        let is_number = query.chars().any(|c| c.is_ascii_digit())
            && query
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_whitespace() || c == '-');
        if is_number {
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
        sort_children(&mut found);
        Ok(found)
    }

    /// The children whose name, or a word of it, begins with `prefix`, ignoring case
    /// (on the decrypted summaries: the file holds no name in the clear).
    pub fn find_by_name(&self, prefix: &str) -> Result<Vec<ChildSummary>, Error> {
        let prefix = prefix.trim().to_lowercase();
        if prefix.is_empty() {
            return Err(ValidationError::new("name", "type the start of a name").into());
        }
        let summaries = self.lock().store.summaries()?;
        let mut found: Vec<ChildSummary> = summaries
            .children
            .into_iter()
            .filter(|child| name_starts_with(&child.name, &prefix))
            .collect();
        sort_children(&mut found);
        Ok(found)
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
        sharing::mark_written_after_removal(store, id, &author.device_id, &mut entries)?;
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
        store.update_record(id, |record| {
            may_write(record, author, trusted)?;
            let mut details = record.details();
            for (field, text) in updates {
                if *field == DetailField::Name && text.is_none() {
                    return Err(ValidationError::new("name", "must not be empty").into());
                }
                details.set_field_text(*field, text.as_deref());
                // Text that did not parse would silently clear the field: refuse it.
                if text.is_some() && details.field_text(*field).is_none() {
                    return Err(
                        ValidationError::new(field.key(), "is not in the expected form").into(),
                    );
                }
            }
            let details = validate::validate_details(&details, today)?;
            let normalised: Vec<_> = updates
                .iter()
                .map(|(f, _)| (*f, details.field_text(*f)))
                .collect();
            record.set_details(&normalised, keys)?;
            Ok(())
        })
    }

    pub fn add_entry(&self, id: &RecordId, body: EntryBody) -> Result<EntryView, Error> {
        if matches!(body, EntryBody::EnteredInError { .. }) {
            return Err(ValidationError::new("kind", "use mark_entered_in_error").into());
        }
        self.write_entry(id, None, body)
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
        self.write_entry(id, Some(target.clone()), body)
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
        self.write_entry(id, None, body)
    }

    /// Adds entries read from another system's FHIR, signed by this device, in one
    /// transaction; this device must be able to write the record (book/exporting.rs,
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
        let author = author.clone();
        store.update_record(id, |record| {
            may_write(record, &author, trusted)?;
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
        let author = author.clone();
        let entry_id = EntryId::generate()?;
        store.update_record(id, |record| {
            may_write(record, &author, trusted)?;
            let birth_date = record.birth_date();
            let flags = validate::validate_entry(&body, birth_date, today)?;
            // Other devices would not let it change the schedule (`risk_factor_uses`):
            // say so now rather than store a fact that looks used and is not.
            if matches!(body, EntryBody::RecordClosed(_)) && !author.role.is_professional() {
                return Err(ValidationError::new(
                    "kind",
                    "a record is closed by a midwife, health visitor, GP or nurse",
                )
                .into());
            }
            if let EntryBody::RiskFactor(r) = &body {
                if r.factor.professional_only() && !author.role.is_professional() {
                    return Err(ValidationError::new(
                        "factor",
                        "is recorded by a midwife, health visitor, GP or nurse",
                    )
                    .into());
                }
            }
            // Only corrections look at other entries: a plain add stays O(1).
            if let Some(target) = &amends {
                let original = record
                    .entry(target)
                    .ok_or(Error::NotFound { what: "entry" })?;
                if original.body.kind_name() != body.kind_name() {
                    return Err(ValidationError::new(
                        "kind",
                        "an amendment has the kind of the entry it corrects",
                    )
                    .into());
                }
            }
            if let EntryBody::EnteredInError { target, .. } = &body {
                let original = record
                    .entry(target)
                    .ok_or(Error::NotFound { what: "entry" })?;
                if matches!(original.body, EntryBody::EnteredInError { .. }) {
                    return Err(ValidationError::new("target", "is itself an error mark").into());
                }
                let confirmed = confirmed_roles(&record.membership(), trusted);
                let already_marked = record.entry_views(&confirmed).0.into_iter().any(|v| {
                    &v.entry.id == target && matches!(v.status, EntryStatus::EnteredInError { .. })
                });
                if already_marked {
                    return Err(ValidationError::new(
                        "target",
                        "is already marked entered in error",
                    )
                    .into());
                }
            }
            let mut entry = StoredEntry {
                id: entry_id,
                author,
                recorded_at: Utc::now(),
                amends,
                body,
                source: None,
            };
            record.put_entry(&mut entry, keys)?;
            // Signed just now with this device's key: verified if it is a member.
            let verification = match record.member(&entry.author.device_id) {
                Some(member) if member.keys.signing_key == keys.public().signing_key => {
                    Verification::Verified
                }
                _ => Verification::Unverified,
            };
            Ok(EntryView {
                entry,
                status: EntryStatus::Current,
                flags,
                verification,
                author_confirmed_by: None,
                author_name_then: None,
                withheld_until: None,
            })
        })
    }

    /// Every entry's history, oldest first: who added, amended or marked what, and when.
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
        let record = self.child(id)?;
        let (input, risk_factors) = schedule_input(&record)?;
        let mut report = schedule::due(&input, on).map_err(schedule_error)?;
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
        let child = growth_child(&record)?;
        let set = chart_set(&record);
        let points: Vec<GrowthPoint> = growth_points(&record, measure)
            .into_iter()
            .map(|(entry_id, date, value)| {
                let obs = Observation {
                    sex: child.sex,
                    birth_date: child.birth_date,
                    gestation_days: child.gestation_days,
                    date,
                    measure,
                    value,
                };
                match growth::assess_in(refs, set, &obs, correction) {
                    Ok(assessment) => GrowthPoint {
                        entry_id,
                        date,
                        value,
                        assessment: Some(assessment),
                        problem: None,
                    },
                    Err(e) => GrowthPoint {
                        entry_id,
                        date,
                        value,
                        assessment: None,
                        problem: Some(e.to_string()),
                    },
                }
            })
            .collect();
        let faltering = if measure == Measure::WeightKg {
            let weights: Vec<_> = points.iter().map(|p| (p.date, p.value)).collect();
            growth::faltering(
                refs,
                set,
                child.sex,
                child.birth_date,
                child.gestation_days,
                &weights,
                correction,
            )
        } else {
            Vec::new()
        };
        let is_weight = measure == Measure::WeightKg;
        let charted: Vec<(NaiveDate, i64, f64)> = points
            .iter()
            .filter_map(|p| {
                let a = p.assessment.as_ref()?;
                let age = if a.used_corrected_age {
                    a.corrected_age_days
                } else {
                    a.chronological_age_days
                };
                Some((p.date, age, a.z))
            })
            .collect();
        let dates: Vec<NaiveDate> = points.iter().map(|p| p.date).collect();
        let values: Vec<(NaiveDate, f64)> = points.iter().map(|p| (p.date, p.value)).collect();
        Ok(GrowthSeries {
            measure,
            correction,
            chart: set,
            gestation_assumed: child.gestation_assumed,
            velocity: growth::velocity(&values),
            // The weight correlations are UK-WHO's.
            weight_gain: (is_weight && set != ChartSet::DownSyndrome)
                .then(|| growth::latest_weight_gain(refs, &charted))
                .flatten(),
            weighed_often: is_weight
                .then(|| growth::weighed_more_often_than_advised(child.birth_date, &dates))
                .flatten(),
            points,
            faltering,
        })
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
        let child = growth_child(&record)?;
        let request = ChartRequest {
            sex: child.sex,
            measure,
            birth_date: child.birth_date,
            gestation_days: child.gestation_days,
            correction,
            points: growth_points(&record, measure)
                .into_iter()
                .map(|(_, date, value)| (date, value))
                .collect(),
            // Drawn only where it can be worked out (both heights, the UK90 pack).
            set: chart_set(&record),
            mid_parental: (measure == Measure::HeightCm)
                .then(|| mid_parental(&record, child.sex, refs).ok().flatten())
                .flatten(),
        };
        growth::chart::render(refs, &request).map_err(growth_error)
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
        let child = growth_child(&record)?;
        mid_parental(&record, child.sex, refs)
    }

    /// (chunks, bytes) stored for a record.
    pub fn storage_stats(&self, id: &RecordId) -> Result<(usize, usize), Error> {
        self.lock().store.chunk_stats(id)
    }
}

/// A blood spot result is shown on a parent's device from the delay after its sample
/// was taken: until then the view keeps that a sample was taken and says when the results
/// will show; the results themselves are left out of what the app gets (NHSX PCHR 6.1.7;
/// hazard log H19). Counted from the sample date, which every device reads the same, so
/// a result typed in a year later is not withheld.
/// Saves the signature verdicts a read reached (docs/adr/0010-caseload.md). A cache: if
/// the save fails, the next cold open checks those signatures again and nothing else.
fn keep_verdicts(store: &mut Store, id: &RecordId) {
    store.save_verdicts(id).ok();
}

/// The list as the apps show it: oldest child first, damaged records after, never hidden.
fn child_list(mut children: Vec<ChildSummary>, damaged: Vec<Option<RecordId>>) -> ChildList {
    sort_children(&mut children);
    ChildList { children, damaged }
}

fn sort_children(children: &mut [ChildSummary]) {
    // Unstable is enough (ids are unique, so the order is total) and quicker.
    children.sort_unstable_by(|a, b| {
        a.birth_date
            .cmp(&b.birth_date)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// `prefix` is lower case: the whole name or any word of it starts with it ("smi" finds
/// "Amara Smith-Jones", and so does "jon").
fn name_starts_with(name: &str, prefix: &str) -> bool {
    let name = name.to_lowercase();
    name.starts_with(prefix)
        || name
            .split(|c: char| c.is_whitespace() || c == '-' || c == '\'')
            .any(|word| word.starts_with(prefix))
}

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

/// Shown SIGNATURE INVALID or WRITTEN WITHOUT THE RIGHT TO WRITE: such an entry never
/// counts for what the record works out (hazard log H18).
fn is_forged(view: &EntryView) -> bool {
    matches!(
        view.verification,
        Verification::Invalid | Verification::NotPermitted
    )
}

/// The schedule's view of a record: current entries only (amended and error-marked
/// ones do not count as given or done), and the risk factors it may rely on.
fn schedule_input(record: &ChildRecord) -> Result<(ScheduleInput, Vec<RiskFactorUse>), Error> {
    let birth_date = record
        .details
        .birth_date
        .ok_or_else(|| ValidationError::new("birth_date", "is needed to work out what is due"))?;
    let mut input = ScheduleInput {
        birth_date,
        ..Default::default()
    };
    let mut scid_sample: Option<NaiveDate> = None;
    let mut risk_views = Vec::new();
    for view in record.timeline() {
        // Only what a member vouched for counts as given or done: an entry signed by a
        // member device that could write when it wrote. A forged one, one written without
        // the right to write, one signed by no member or unsigned would hide a due dose
        // (hazard log H18). Risk factors are all listed, used or not (`risk_factor_uses`).
        if view.verification != Verification::Verified
            && !matches!(view.entry.body, EntryBody::RiskFactor(_))
        {
            continue;
        }
        match &view.entry.body {
            EntryBody::Immunisation(i) => input.given.push(GivenDose {
                vaccine: i.vaccine.clone(),
                dose: i.dose,
                date: i.date,
                reported_by: (!view.entry.author.role.is_professional())
                    .then(|| view.entry.author.display_name.clone()),
            }),
            EntryBody::Review(r) => {
                let check = match r.kind {
                    ReviewKind::NewBaby => Some(Check::NewBabyReview),
                    ReviewKind::SixToEightWeeks => Some(Check::SixToEightWeekReview),
                    ReviewKind::NineToTwelveMonths => Some(Check::NineToTwelveMonthReview),
                    ReviewKind::TwoToTwoAndAHalfYears => Some(Check::TwoYearReview),
                    ReviewKind::Antenatal | ReviewKind::Other => None,
                };
                input.checks_done.extend(check.map(|c| (c, r.date)));
            }
            EntryBody::NewbornScreening(screening) => {
                let check = match screening {
                    NewbornScreening::Nipe {
                        stage: NipeStage::Newborn,
                        ..
                    } => Check::NipeNewborn,
                    NewbornScreening::Nipe {
                        stage: NipeStage::SixToEightWeeks,
                        ..
                    } => Check::NipeSixToEightWeeks,
                    NewbornScreening::Hearing { .. } => Check::Hearing,
                    NewbornScreening::BloodSpot { .. } => Check::BloodSpot,
                };
                input.checks_done.push((check, screening.date()));
                if let NewbornScreening::BloodSpot {
                    sample_date,
                    results,
                } = screening
                {
                    // The latest sample with a SCID result decides; a suspected result is
                    // never cleared by an unclear repeat (hazard log H17).
                    let scid = results
                        .iter()
                        .find(|r| r.condition == BloodSpotCondition::Scid)
                        .map(|r| match r.outcome {
                            BloodSpotOutcome::Suspected => ScidScreen::Suspected,
                            BloodSpotOutcome::NotSuspected => ScidScreen::NotSuspected,
                            _ => ScidScreen::Unknown,
                        });
                    if let Some(scid) = scid {
                        let later = scid_sample.is_none_or(|d| *sample_date >= d);
                        if input.scid != ScidScreen::Suspected
                            && scid != ScidScreen::Unknown
                            && later
                        {
                            input.scid = scid;
                            scid_sample = Some(*sample_date);
                        }
                    }
                }
            }
            EntryBody::RiskFactor(_) => risk_views.push(view),
            _ => {}
        }
    }
    let risk_factors = risk_factor_uses(&risk_views);
    let present = |wanted: &dyn Fn(RiskFactorKind) -> bool| {
        risk_factors
            .iter()
            .any(|r| r.used && r.present && wanted(r.factor))
    };
    input.eligibility = Eligibility {
        hep_b_at_risk: present(&|k| k == RiskFactorKind::MaternalHepatitisB),
        bcg: present(&|k| k == RiskFactorKind::TuberculosisRisk),
        flu_clinical_risk: present(&RiskFactorKind::is_flu_risk_group),
        had_chickenpox: present(&|k| k == RiskFactorKind::Chickenpox),
    };
    // A monovalent hepatitis B dose on record means the baby is in that programme.
    if input
        .given
        .iter()
        .any(|g| schedule::canonical_vaccine(&g.vaccine) == Some(schedule::data::HEP_B))
    {
        input.eligibility.hep_b_at_risk = true;
    }
    Ok((input, risk_factors))
}

/// Which risk factor entries the schedule relies on: signed by a member that could
/// write, by a professional where the fact is a professional's to record; of those, the
/// latest per kind decides (hazard log H16). Every one is listed, used or not, with why.
fn risk_factor_uses(views: &[&EntryView]) -> Vec<RiskFactorUse> {
    let mut uses: Vec<(RiskFactorUse, DateTime<Utc>)> = views
        .iter()
        .filter_map(|view| {
            let EntryBody::RiskFactor(r) = &view.entry.body else {
                return None;
            };
            let author = &view.entry.author;
            let why_not_used = if view.verification != Verification::Verified {
                Some("not signed by a member of this record who could write".to_string())
            } else if r.factor.professional_only() && !author.role.is_professional() {
                Some(format!(
                    "written by a {}: a professional records this before the schedule uses it",
                    author.role.label()
                ))
            } else if r.factor.professional_only() && view.author_confirmed_by.is_none() {
                // A role an admin gave is not enough for a professional's fact: anyone an
                // admin grants "GP" could otherwise change the schedule (docs/threat-model.md,
                // "Roles").
                Some(format!(
                    "written by a {} whose role no organisation on this app's trust list has confirmed: it counts once confirmed",
                    author.role.label()
                ))
            } else {
                None
            };
            let risk = RiskFactorUse {
                entry_id: view.entry.id.to_string(),
                factor: r.factor,
                present: r.present,
                date: r.date,
                recorded_by: format!("{} ({})", author.display_name, author.role.label()),
                used: why_not_used.is_none(),
                why_not_used,
            };
            Some((risk, view.entry.recorded_at))
        })
        .collect();
    uses.sort_by(|(a, a_at), (b, b_at)| (a.factor, a.date, a_at).cmp(&(b.factor, b.date, b_at)));
    // Latest counted entry per kind decides; earlier counted ones are replaced.
    for i in 0..uses.len() {
        let replaced = uses[i + 1..]
            .iter()
            .any(|(later, _)| later.used && later.factor == uses[i].0.factor);
        if uses[i].0.used && replaced {
            uses[i].0.used = false;
            uses[i].0.why_not_used = Some("a later entry about the same thing replaces it".into());
        }
    }
    uses.into_iter().map(|(u, _)| u).collect()
}

struct GrowthChild {
    sex: growth::Sex,
    birth_date: NaiveDate,
    gestation_days: u16,
    gestation_assumed: bool,
}

fn growth_child(record: &ChildRecord) -> Result<GrowthChild, Error> {
    let d = &record.details;
    let birth_date = d
        .birth_date
        .ok_or_else(|| ValidationError::new("birth_date", "is needed to chart growth"))?;
    let sex = match d
        .sex
        .ok_or_else(|| ValidationError::new("sex", "is needed to chart growth"))?
    {
        Sex::Female => growth::Sex::Female,
        Sex::Male => growth::Sex::Male,
    };
    Ok(GrowthChild {
        sex,
        birth_date,
        gestation_days: d.gestation.map_or(280, |g| g.total_days),
        gestation_assumed: d.gestation.is_none(),
    })
}

/// The charts a child is measured on: Down or Turner syndrome when a professional's
/// risk factor entry says so and is used (the latest counted one decides, as for the
/// schedule); UK-WHO otherwise.
fn chart_set(record: &ChildRecord) -> ChartSet {
    let views: Vec<&EntryView> = record
        .timeline()
        .into_iter()
        .filter(|v| matches!(v.entry.body, EntryBody::RiskFactor(_)))
        .collect();
    let uses = risk_factor_uses(&views);
    let present = |kind| uses.iter().any(|u| u.used && u.present && u.factor == kind);
    if present(RiskFactorKind::DownSyndrome) {
        ChartSet::DownSyndrome
    } else if present(RiskFactorKind::TurnerSyndrome) {
        ChartSet::TurnerSyndrome
    } else {
        ChartSet::UkWho
    }
}

/// The latest mother's and father's heights among current entries that are not forged,
/// each on its own (one entry may give only one), and the mid-parental height from them.
fn mid_parental(
    record: &ChildRecord,
    sex: growth::Sex,
    refs: &GrowthReferences,
) -> Result<Option<MidParentalHeight>, Error> {
    let (mut mother, mut father) = (None, None);
    for view in record.timeline() {
        if let (EntryBody::ParentalHeights(h), false) = (&view.entry.body, is_forged(view)) {
            mother = h.mother_cm.or(mother);
            father = h.father_cm.or(father);
        }
    }
    match (mother, father) {
        (Some(mother), Some(father)) => growth::mid_parental_height(refs, sex, mother, father)
            .map(Some)
            .map_err(growth_error),
        _ => Ok(None),
    }
}

/// (entry, date, value) of one measure from current entries, birth details first.
fn growth_points(record: &ChildRecord, measure: Measure) -> Vec<(EntryId, NaiveDate, f64)> {
    let mut points = Vec::new();
    for view in record.timeline() {
        let id = view.entry.id.clone();
        match &view.entry.body {
            EntryBody::BirthDetails(b) => {
                let value = match measure {
                    Measure::WeightKg => b.birth_weight_kg,
                    Measure::HeightCm => b.length_cm,
                    Measure::HeadCircumferenceCm => b.head_circumference_cm,
                    Measure::Bmi => None,
                };
                points.extend(
                    value
                        .zip(record.details.birth_date)
                        .map(|(v, born)| (id, born, v)),
                );
            }
            EntryBody::Measurement(m) => {
                let length = m.length_cm.or(m.height_cm);
                let value = match measure {
                    Measure::WeightKg => m.weight_kg,
                    Measure::HeightCm => length,
                    Measure::HeadCircumferenceCm => m.head_circumference_cm,
                    Measure::Bmi => m
                        .weight_kg
                        .zip(length)
                        .map(|(kg, cm)| kg / (cm / 100.0).powi(2)),
                };
                points.extend(value.map(|v| (id, m.date, v)));
            }
            _ => {}
        }
    }
    points.sort_by_key(|p| p.1);
    points
}

fn growth_error(e: GrowthError) -> Error {
    match e {
        GrowthError::InvalidInput { field, reason } => ValidationError::new(field, &reason).into(),
        other => ValidationError::new(other.field(), &other.to_string()).into(),
    }
}

fn schedule_error(e: ScheduleError) -> Error {
    let field = match e {
        ScheduleError::BornBeforeCoveredCohorts { .. } => "birth_date",
        ScheduleError::BeforeBirth => "on",
    };
    ValidationError::new(field, &e.to_string()).into()
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
    schedule::due(&input, on).map_err(schedule_error)
}

/// Whether this device may write to the record now: not a reader or a removed member,
/// and, once a professional has closed the record, a professional (hazard log H21). A
/// device not (yet) named, such as one that has just accepted an invitation, writes: its
/// entries show as unverified until its grant arrives.
fn may_write(
    record: &Record,
    author: &Author,
    trusted: &[TrustedOrganisation],
) -> Result<(), Error> {
    let membership = record.membership();
    let member = membership.member(&author.device_id);
    if member.is_some_and(|m| !m.is_active() || !m.access.can_write()) {
        return Err(crate::sync::SyncError::NotPermitted.into());
    }
    let role = member.map_or(author.role, |m| m.role);
    // Closed as the timeline reads it: only a confirmed professional's closure counts.
    if !role.is_professional()
        && record
            .closed_at(&confirmed_roles(&membership, trusted))
            .is_some()
    {
        return Err(Error::RecordClosed);
    }
    Ok(())
}

/// The members whose role an organisation on `trusted` confirms, and until when: what
/// decides whether a professional's closure or risk factor counts (docs/threat-model.md,
/// "Roles").
fn confirmed_roles(membership: &Membership, trusted: &[TrustedOrganisation]) -> ConfirmedRoles {
    membership
        .members
        .iter()
        .filter_map(|m| Some((m.device_id.clone(), sharing::confirmation(m, trusted)?)))
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

/// Signs a rename into every record where this device is an active member shown under
/// another name, so that every member sees the name it now writes under (its entries carry
/// the name they were written under too: `view::author_line` shows both).
fn rename_everywhere(inner: &mut Inner) -> Result<(), Error> {
    let Inner {
        store,
        keys,
        author,
        ..
    } = inner;
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
        let mut rename = sharing::statement(
            keys,
            &membership,
            Action::Rename {
                name: author.display_name.clone(),
            },
        )?;
        if sharing::would_count(record, &mut rename) {
            store.update_record(&id, |record| Ok(record.put_statement(&rename, keys)?))?;
        }
    }
    Ok(())
}
