//! redbook-ffi: the whole UniFFI surface of redbook, thin over `redbook-core`.
//! Calls are coarse (whole records and lists): a JNA call costs microseconds.

use chrono::NaiveDate;
use redbook_core::growth::{Correction, Measure, MidParentalHeight};
use redbook_core::model::Access;
use redbook_core::model::{Author, ChildDetails, EntryBody, EntryId, EntryView, RecordId};
use redbook_core::schedule::DueReport;
use redbook_core::view::screens::{
    ChildrenView, GrowthView, ImmunisationsView, PlannedNotification, TimelineView,
};
use redbook_core::{
    ChildList, ChildRecord, ChildSummary, DeviceProfile, HistoryEvent, ImportReport, Unlock,
};
use redbook_core::{GrowthSeries, PrintoutCheck, Received};
use std::sync::Arc;

mod background;
mod charts;
mod errors;
mod forms;
mod jobs;
mod keys;
mod organisations;
mod relay_http;
mod types;
mod words;
use background::off_the_callers_thread;
use charts::today;
pub use charts::{due_for_birth_date, GrowthCharts};
pub use errors::{error_text, KeyProviderError, RedbookError};
pub use forms::{
    input_problem, invitation_from_qr, invitation_qr, measured_standing, read_measurement_form,
    read_note_form, FormError,
};
pub use jobs::RelaySyncPlan;
use keys::unlock_with;
pub use keys::{KeyProvider, RawKeyProvider};
use organisations::decode_card;
pub use organisations::TrustedOrganisation;
#[cfg(feature = "test-organisation")]
pub use organisations::{test_organisation, test_organisation_attest};
pub use redbook_core::{RelayReport, Restored};
use relay_http::ForeignRelayHttp;
pub use relay_http::{HttpHeader, RelayHttp, RelayHttpError, RelayHttpRequest, RelayHttpResponse};
pub use types::{CentileQuery, DetailUpdate, MemberInfo};
pub use words::{
    describe_conflict, describe_entry, describe_entry_view, describe_growth, describe_restore,
    entry_date, recovery_kit_caption, sync_status_text,
};

uniffi::setup_scaffolding!();

/// Told when a record changed because of another device (a sync message or bundle), so
/// the app can refresh what it shows. Called on the thread that called `receive`, with no
/// lock held; it must not block for long.
#[uniffi::export(with_foreign)]
pub trait RecordObserver: Send + Sync {
    fn record_changed(&self, record_id: RecordId);
}

/// One open database file holding a family's children's records. Thread-safe; close it
/// (Kotlin `close()`/`use {}`, Swift deinit) to release the file.
#[derive(uniffi::Object)]
pub struct RedBook {
    // Shared with the threads long calls run on (`background`).
    inner: Arc<redbook_core::RedBook>,
    observers: Arc<Observers>,
}

type Observers = std::sync::Mutex<Vec<Arc<dyn RecordObserver>>>;

fn notify(observers: &Observers, record_id: &RecordId) {
    // Copy the list so no lock is held while the app's code runs.
    let observers = observers.lock().map(|o| o.clone()).unwrap_or_default();
    for observer in observers {
        observer.record_changed(record_id.clone());
    }
}

impl RedBook {
    fn wrap(inner: redbook_core::RedBook) -> Arc<Self> {
        Arc::new(Self {
            inner: Arc::new(inner),
            observers: Default::default(),
        })
    }

    fn notify(&self, record_id: &RecordId) {
        notify(&self.observers, record_id)
    }
}

type Result<T, E = RedbookError> = std::result::Result<T, E>;

#[uniffi::export]
impl RedBook {
    /// Opens (or creates) the database, unlocking it with a passphrase (600,000 rounds of
    /// PBKDF2: long work, done off the caller's thread like every `async` call here).
    #[uniffi::constructor]
    pub async fn open_with_passphrase(path: String, passphrase: String) -> Result<Arc<Self>> {
        off_the_callers_thread(move || {
            let unlock = Unlock::Passphrase(passphrase);
            Ok(Self::wrap(redbook_core::RedBook::open(
                path.as_ref(),
                unlock,
            )?))
        })
        .await
    }

    /// Opens (or creates) the database, unlocking it with the platform keystore.
    #[uniffi::constructor]
    pub async fn open_with_key_provider(
        path: String,
        key_provider: Arc<dyn KeyProvider>,
    ) -> Result<Arc<Self>> {
        off_the_callers_thread(move || {
            let unlock = unlock_with(key_provider);
            Ok(Self::wrap(redbook_core::RedBook::open(
                path.as_ref(),
                unlock,
            )?))
        })
        .await
    }

    /// Who this device writes entries as.
    pub fn author(&self) -> Result<Author> {
        Ok(self.inner.author()?)
    }

    /// Who this device writes as; a new name is signed into every record it is a member
    /// of, so the other members see it.
    pub fn set_device_profile(&self, profile: DeviceProfile) -> Result<()> {
        Ok(self.inner.set_device_profile(profile)?)
    }

    /// The device's name ("Mum's phone", "Northside clinic tablet"), role kept: what an
    /// app asks on its first run, and when the parent renames the phone.
    pub fn set_device_name(&self, name: String) -> Result<()> {
        Ok(self.inner.set_device_name(&name)?)
    }

    pub fn add_child(&self, details: ChildDetails) -> Result<RecordId> {
        Ok(self.inner.add_child(details)?)
    }

    pub fn children(&self) -> Result<ChildList> {
        Ok(self.inner.children()?)
    }

    /// At most `max_records` children's documents open at once, within `max_bytes`
    /// (estimated): a caseload tablet sets what its memory allows.
    pub fn set_cache_limits(&self, max_records: u32, max_bytes: u64) {
        self.inner.set_cache_limits(max_records, max_bytes)
    }

    /// A search box: by NHS number when the query is all digits, else by name.
    pub fn find_children(&self, query: String) -> Result<Vec<ChildSummary>> {
        Ok(self.inner.find_children(&query)?)
    }

    /// The children with this NHS number (exact; spaces allowed, check digit checked).
    pub fn find_by_nhs_number(&self, nhs_number: String) -> Result<Vec<ChildSummary>> {
        Ok(self.inner.find_by_nhs_number(&nhs_number)?)
    }

    /// The children whose name or a word of it starts with `prefix`, ignoring case.
    pub fn find_by_name(&self, prefix: String) -> Result<Vec<ChildSummary>> {
        Ok(self.inner.find_by_name(&prefix)?)
    }

    /// Opens a child's record off the caller's thread: decrypts and loads it, checks the
    /// signatures not checked before, and keeps it open, so the screens read next
    /// (`timeline_screen`, `child`, the charts) draw from memory. A large record read cold
    /// takes tens of milliseconds here and more on a phone: call this when a child is
    /// chosen, then draw.
    pub async fn open_record(&self, id: RecordId) -> Result<()> {
        let book = self.inner.clone();
        off_the_callers_thread(move || {
            book.child(&id)?;
            Ok(())
        })
        .await
    }

    pub fn child(&self, id: RecordId) -> Result<ChildRecord> {
        Ok(self.inner.child(&id)?)
    }

    pub fn update_details(&self, id: RecordId, updates: Vec<DetailUpdate>) -> Result<()> {
        let updates: Vec<_> = updates.into_iter().map(|u| (u.field, u.value)).collect();
        Ok(self.inner.update_details(&id, &updates)?)
    }

    /// Writes an entry. What the door finds unexpected for this child fails with
    /// `NeedsConfirmation`; written again with `confirmed`, it is kept as written and
    /// marked for a professional to review.
    #[uniffi::method(default(confirmed = false))]
    pub fn add_entry(&self, id: RecordId, entry: EntryBody, confirmed: bool) -> Result<EntryView> {
        Ok(if confirmed {
            self.inner.write_confirmed(&id, None, entry)?
        } else {
            self.inner.add_entry(&id, entry)?
        })
    }

    /// Writes a correction; the original stays readable, marked amended. `confirmed` as
    /// for `add_entry`.
    #[uniffi::method(default(confirmed = false))]
    pub fn amend_entry(
        &self,
        id: RecordId,
        target: EntryId,
        entry: EntryBody,
        confirmed: bool,
    ) -> Result<EntryView> {
        Ok(if confirmed {
            self.inner.write_confirmed(&id, Some(&target), entry)?
        } else {
            self.inner.amend_entry(&id, &target, entry)?
        })
    }

    /// Hides an entry from the timeline; it is never deleted.
    pub fn mark_entered_in_error(
        &self,
        id: RecordId,
        target: EntryId,
        reason: String,
    ) -> Result<EntryView> {
        Ok(self.inner.mark_entered_in_error(&id, &target, &reason)?)
    }

    pub fn history(&self, id: RecordId) -> Result<Vec<HistoryEvent>> {
        Ok(self.inner.history(&id)?)
    }

    /// Immunisations, reviews and screening for the child: given, due, overdue,
    /// upcoming or not applicable, with reminders to schedule. The child's risk factors
    /// come from their record (`EntryBody::RiskFactor`). `on` defaults to today.
    pub fn due(&self, id: RecordId, on: Option<NaiveDate>) -> Result<DueReport> {
        Ok(self.inner.due(&id, on.unwrap_or_else(today))?)
    }

    /// The child's measurements of one kind on the UK-WHO charts, with faltering signals.
    pub fn growth(
        &self,
        id: RecordId,
        measure: Measure,
        charts: Arc<GrowthCharts>,
        correction: Correction,
    ) -> Result<GrowthSeries> {
        Ok(self
            .inner
            .growth(&id, measure, &charts.references, correction)?)
    }

    /// The child's growth chart for one measure, as SVG for the app to show.
    pub fn growth_chart(
        &self,
        id: RecordId,
        measure: Measure,
        charts: Arc<GrowthCharts>,
        correction: Correction,
    ) -> Result<String> {
        Ok(self
            .inner
            .growth_chart(&id, measure, &charts.references, correction)?)
    }

    /// The children screen: each child's name, age on `on` (default today), entries.
    pub fn children_screen(&self, on: Option<NaiveDate>) -> Result<ChildrenView> {
        Ok(self.inner.children_screen(on.unwrap_or_else(today))?)
    }

    /// The children a search box finds (`find_children`), as rows of the children screen.
    pub fn search_screen(&self, query: String, on: Option<NaiveDate>) -> Result<ChildrenView> {
        Ok(self.inner.search_screen(&query, on.unwrap_or_else(today))?)
    }

    /// A child's timeline screen: current entries newest first, worded, with who wrote
    /// each and whether it is verified; conflicts and a closure in words.
    pub fn timeline_screen(&self, id: RecordId, on: Option<NaiveDate>) -> Result<TimelineView> {
        Ok(self.inner.timeline_screen(&id, on.unwrap_or_else(today))?)
    }

    /// A growth screen's rows and notes (the chart itself: `growth_chart`).
    pub fn growth_screen(
        &self,
        id: RecordId,
        measure: Measure,
        charts: Arc<GrowthCharts>,
        correction: Correction,
    ) -> Result<GrowthView> {
        Ok(self
            .inner
            .growth_screen(&id, measure, &charts.references, correction)?)
    }

    /// The immunisations screen: given, due now and at the next visit, risk factors.
    pub fn immunisations_screen(
        &self,
        id: RecordId,
        on: Option<NaiveDate>,
    ) -> Result<ImmunisationsView> {
        Ok(self
            .inner
            .immunisations_screen(&id, on.unwrap_or_else(today))?)
    }

    /// The local notifications to schedule for a child's reminders (none once a record
    /// is closed), each with a stable id to replace or cancel by. The child's name is in
    /// them only with `show_name`: they appear on the lock screen.
    pub fn notification_plan(
        &self,
        id: RecordId,
        on: Option<NaiveDate>,
        show_name: bool,
    ) -> Result<Vec<PlannedNotification>> {
        Ok(self
            .inner
            .notification_plan(&id, on.unwrap_or_else(today), show_name)?)
    }

    /// The mid-parental height and target range from the parents' heights on record;
    /// none until both are. Needs charts with the UK90 pack.
    pub fn mid_parental_height(
        &self,
        id: RecordId,
        charts: Arc<GrowthCharts>,
    ) -> Result<Option<MidParentalHeight>> {
        Ok(self.inner.mid_parental_height(&id, &charts.references)?)
    }

    /// The child's record as a FHIR R4 Bundle (JSON text) for a professional's system:
    /// every entry with its status, author and signature.
    pub async fn export_fhir(&self, id: RecordId) -> Result<String> {
        let book = self.inner.clone();
        off_the_callers_thread(move || Ok(book.export_fhir(&id)?)).await
    }

    /// Reads FHIR into a new record on this device: a Bundle `export_fhir` wrote (whole,
    /// all or nothing), or another system's UK Core Patient with what it holds. The
    /// report says what was added and, element by element, what was not kept.
    pub async fn import_fhir(&self, json: String) -> Result<ImportReport> {
        let book = self.inner.clone();
        off_the_callers_thread(move || Ok(book.import_fhir(json.as_bytes())?)).await
    }

    /// Reads another system's FHIR (UK Core Immunization and vital-signs Observations, a
    /// Bundle or one resource) into this child's record: each becomes an entry shown "not
    /// verified"; what is about another patient or has no place here is reported.
    pub async fn import_foreign_fhir(&self, id: RecordId, json: String) -> Result<ImportReport> {
        let book = self.inner.clone();
        off_the_callers_thread(move || Ok(book.import_foreign(&id, json.as_bytes())?)).await
    }

    /// A printable one-page summary (self-contained HTML, charts included) to print,
    /// share or show at a clinic. `on` defaults to today. The child's address is printed
    /// only with `show_address`, when a parent asks (safeguarding).
    pub fn summary_html(
        &self,
        id: RecordId,
        charts: Arc<GrowthCharts>,
        correction: Correction,
        on: Option<NaiveDate>,
        show_address: bool,
    ) -> Result<String> {
        Ok(self.inner.summary_html(
            &id,
            &charts.references,
            correction,
            on.unwrap_or_else(today),
            show_address,
        )?)
    }

    /// Checks a printout's verification code (the text its QR code carries) against the
    /// child's record here: which member device signed it (name and role as the member
    /// list shows), when, and whether the record still shows what it printed, or what
    /// was written since. Not a code, another record's, a changed code, or one signed by
    /// a device that is not (or no longer) a member: `RedbookError.InvalidInput` saying
    /// which. `describe_printout_check` words the answer.
    pub fn verify_printout(&self, id: RecordId, code: String) -> Result<PrintoutCheck> {
        Ok(self.inner.verify_printout(&id, &code)?)
    }

    /// How many days after its sample a blood spot result waits before a parent's or
    /// carer's device shows it (the deployer's setting; 14 unless set), so that a
    /// professional can tell the family first.
    pub fn set_blood_spot_delay_days(&self, days: u32) {
        self.inner.set_blood_spot_delay_days(days)
    }

    /// This device's card (text for a QR code, about 190 characters; about 380 with an
    /// organisation's attestation): what an admin needs to invite it.
    pub fn device_card(&self) -> Result<String> {
        Ok(self.inner.device_card()?.encode())
    }

    pub fn device_id(&self) -> String {
        self.inner.device_id()
    }

    /// The organisations whose attestations confirm a professional's role: the
    /// deployer's trust list. Until it is set, no role is shown as confirmed.
    pub fn set_trusted_organisations(&self, trusted: Vec<TrustedOrganisation>) -> Result<()> {
        let trusted = trusted
            .into_iter()
            .map(TrustedOrganisation::into_core)
            .collect::<Result<Vec<_>>>()?;
        self.inner.set_trusted_organisations(trusted);
        Ok(())
    }

    /// Keeps an organisation's attestation of this device's role, carried on its card.
    pub fn set_attestation(&self, attestation: Vec<u8>) -> Result<()> {
        Ok(self.inner.set_attestation(&attestation)?)
    }

    /// Grants the device whose card this is `access` (only an admin can) and returns its
    /// invitation (bytes for a QR code or file; under 1 KB).
    pub fn share(&self, id: RecordId, device_card: String, access: Access) -> Result<Vec<u8>> {
        Ok(self.inner.share(&id, &decode_card(&device_card)?, access)?)
    }

    /// Accepts an invitation; the record fills in at the first sync with the inviter.
    pub fn accept(&self, invitation: Vec<u8>) -> Result<RecordId> {
        Ok(self.inner.accept(&invitation)?)
    }

    pub fn members(&self, id: RecordId) -> Result<Vec<MemberInfo>> {
        Ok(MemberInfo::from_members(self.inner.members(&id)?))
    }

    /// Removes a member device and replaces the record key: it can no longer read new
    /// entries or sync; the other members get the new key at their next sync.
    pub fn remove_member(&self, id: RecordId, device_id: String) -> Result<()> {
        Ok(self.inner.remove_member(&id, &device_id)?)
    }

    /// The next sync message for a peer device, or None when there is nothing to send.
    pub fn sync_message(&self, id: RecordId, peer_device_id: String) -> Result<Option<Vec<u8>>> {
        Ok(self.inner.sync_message(&id, &peer_device_id)?)
    }

    /// Takes a sync message or bundle that another device produced; observers hear of
    /// it if the record changed.
    pub fn receive(&self, message: Vec<u8>) -> Result<Received> {
        let received = self.inner.receive(&message)?;
        if received.changed {
            self.notify(&received.record_id);
        }
        Ok(received)
    }

    /// One bounded exchange with the relay at `relay_url` for this record: fetches what
    /// waits for this device, applies it, posts what its peers need next. Two HTTP
    /// requests in the usual case, so a background job (WorkManager, BGTaskScheduler) can
    /// run it; run it again while `more_waiting`. Observers hear if the record changed
    /// (on the exchange's own thread). `http` is called on that thread too, never the
    /// caller's. An exchange the caller stops waiting for still finishes: each message it
    /// applies is its own transaction, and the record is whole either way.
    pub async fn relay_exchange(
        &self,
        id: RecordId,
        http: Arc<dyn RelayHttp>,
        relay_url: String,
    ) -> Result<RelayReport> {
        let (book, observers) = (self.inner.clone(), self.observers.clone());
        off_the_callers_thread(move || {
            let report = book.relay_exchange(&id, &ForeignRelayHttp(http), &relay_url)?;
            if report.changed {
                notify(&observers, &id);
            }
            Ok(report)
        })
        .await
    }

    /// Once an exchange reports `removed`: what to tell the person holding this device,
    /// in words the core chose ("Mum removed this phone from Amara's record on 3 Mar
    /// 2026. ..."); `None` while this device is a member.
    pub fn removal_notice(&self, id: RecordId) -> Result<Option<String>> {
        Ok(self.inner.removal_notice(&id)?)
    }

    /// Makes this device's recovery kit: 12 words to show once (and as a QR code) for the
    /// parent to write into the paper book. Refused if this device already has one.
    pub fn create_recovery_kit(&self) -> Result<String> {
        Ok(self.inner.create_recovery_kit()?)
    }

    /// Every record the kit covers, sealed with its words: for a file the parent keeps.
    pub fn recovery_backup(&self) -> Result<Vec<u8>> {
        Ok(self.inner.recovery_backup()?)
    }

    /// Writes the backup into the kit's slot on the relay; returns its size in bytes.
    pub async fn backup_to_relay(
        &self,
        http: Arc<dyn RelayHttp>,
        relay_url: String,
    ) -> Result<u64> {
        let book = self.inner.clone();
        off_the_callers_thread(move || {
            Ok(book.backup_to_relay(&ForeignRelayHttp(http), &relay_url)?)
        })
        .await
    }

    /// On a new phone: restores every record of the kit's backup (from a file's bytes),
    /// this phone granted by the kit, the kit retired (its words restore nothing again);
    /// with `remove_lost`, the lost phone is removed; each removal replaces the record key.
    /// The other members learn of it at their next exchange. `words` in the answer: this
    /// phone's new kit, to show once like `create_recovery_kit`'s (none if it had one).
    pub async fn restore_from_backup(
        &self,
        words: String,
        backup: Vec<u8>,
        remove_lost: bool,
    ) -> Result<Restored> {
        let book = self.inner.clone();
        off_the_callers_thread(move || Ok(book.restore(&words, &backup, remove_lost)?)).await
    }

    /// The same, with the backup fetched from the kit's slot on the relay.
    pub async fn restore_from_relay(
        &self,
        words: String,
        http: Arc<dyn RelayHttp>,
        relay_url: String,
        remove_lost: bool,
    ) -> Result<Restored> {
        let book = self.inner.clone();
        off_the_callers_thread(move || {
            let http = ForeignRelayHttp(http);
            Ok(book.restore_from_relay(&words, &http, &relay_url, remove_lost)?)
        })
        .await
    }

    /// Registers an observer for changes that arrive from other devices.
    pub fn add_observer(&self, observer: Arc<dyn RecordObserver>) {
        if let Ok(mut observers) = self.observers.lock() {
            observers.push(observer);
        }
    }

    /// Starts the exchange with a peer afresh (after a long silence or a stall).
    pub fn reset_sync(&self, id: RecordId, peer_device_id: String) -> Result<()> {
        Ok(self.inner.reset_sync(&id, &peer_device_id)?)
    }

    /// One sealed blob with everything the peer lacks (or the whole record), for a
    /// file or a relay; the other device takes it with `receive`.
    pub fn export_bundle(&self, id: RecordId, peer_device_id: Option<String>) -> Result<Vec<u8>> {
        Ok(self.inner.export_bundle(&id, peer_device_id.as_deref())?)
    }

    /// Re-wraps the database key under a new passphrase; nothing else is rewritten.
    pub fn change_passphrase(&self, current: String, new: String) -> Result<()> {
        Ok(self
            .inner
            .change_unlock(&Unlock::Passphrase(current), &Unlock::Passphrase(new))?)
    }

    /// Moves from a passphrase to the platform keystore.
    pub fn switch_to_key_provider(
        &self,
        current_passphrase: String,
        key_provider: Arc<dyn KeyProvider>,
    ) -> Result<()> {
        Ok(self.inner.change_unlock(
            &Unlock::Passphrase(current_passphrase),
            &unlock_with(key_provider),
        )?)
    }
}
