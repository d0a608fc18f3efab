//! redbook-ffi: the whole UniFFI surface of redbook, thin over `redbook-core`.
//! Calls are coarse (whole records and lists): a JNA call costs microseconds.

use chrono::NaiveDate;
use redbook_core::growth::{
    self, Assessment, Correction, GrowthReferences, Measure, MidParentalHeight, Observation,
    Reference,
};
use redbook_core::model::{Access, Sex};
use redbook_core::model::{Author, ChildDetails, EntryBody, EntryId, EntryView, RecordId};
use redbook_core::record::DetailConflict;
use redbook_core::schedule::{DueReport, Eligibility};
use redbook_core::view::screens::{
    self, ChildrenView, GrowthView, ImmunisationsView, PlannedNotification, TimelineView,
};
use redbook_core::{
    ChildList, ChildRecord, ChildSummary, DeviceProfile, Error as CoreError, HistoryEvent,
    ImportReport, Unlock,
};
use redbook_core::{GrowthSeries, Received};
use std::sync::Arc;

mod types;
pub use redbook_core::{RelayReport, Restored};
pub use types::{CentileQuery, DetailUpdate, MemberInfo};

uniffi::setup_scaffolding!();

/// Every error an app must handle. Messages carry no personal data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RedbookError {
    #[error("wrong passphrase or key")]
    WrongKey,
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: String, reason: String },
    /// A record's stored data failed authentication or did not parse.
    #[error("{}", corrupt_message(record_id))]
    CorruptData { record_id: Option<String> },
    /// The file was renamed to `moved_to`; opening the path again starts afresh.
    #[error("the database file is damaged and was moved aside")]
    CorruptDatabase { moved_to: String },
    #[error("this file is not a redbook database; it was left untouched")]
    NotARedbookDatabase,
    #[error("this database was written by a newer version of redbook (schema {found})")]
    NewerVersion { found: u32 },
    #[error(
        "this record was written in format {found}, which this version of redbook does not read"
    )]
    UnsupportedRecordFormat { found: i64 },
    #[error("this record was closed by a professional and is read-only on this device")]
    RecordClosed,
    #[error("the device's storage is full")]
    StorageFull,
    #[error("the database is busy; try again")]
    Busy,
    /// `reason` is the key provider's own words (no personal data).
    #[error("{reason}")]
    KeyProvider { reason: String },
    /// A sync message, bundle or invitation was refused (not a member, not addressed
    /// here, tampered, under another key); the record is unchanged.
    #[error("sync refused: {reason}")]
    SyncRefused { reason: String },
    /// A recovery backup that does not open with the words given.
    #[error("this backup cannot be opened with these words (another kit's, or damaged)")]
    BackupUnreadable,
    /// No answer from the relay (no network, a timeout): try the exchange again later.
    #[error("the relay could not be reached: {reason}")]
    RelayUnreachable { reason: String },
    /// The relay answered with an error (quota, rate limit, a device clock far out).
    #[error("the relay refused the request ({status}): {reason}")]
    RelayRefused { status: u16, reason: String },

    /// Storage, I/O or a bug; `detail` is the core's message, for developers (no
    /// personal data). The field is not called `message`: Kotlin exceptions have one.
    #[error("{detail}")]
    Internal { detail: String },
}

/// The core's wording for damaged data, from the record id as the app knows it.
fn corrupt_message(record_id: &Option<String>) -> String {
    redbook_core::error::corrupt_message(&record_id.as_ref().and_then(|id| id.parse().ok()))
}

impl From<CoreError> for RedbookError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::WrongKey => RedbookError::WrongKey,
            CoreError::NotFound { what } => RedbookError::NotFound { what: what.into() },
            CoreError::InvalidInput(v) => RedbookError::InvalidInput {
                field: v.field,
                reason: v.reason,
            },
            CoreError::CorruptData { record } => RedbookError::CorruptData {
                record_id: record.map(|r| r.to_string()),
            },
            CoreError::CorruptDatabase { moved_to } => RedbookError::CorruptDatabase {
                moved_to: moved_to.display().to_string(),
            },
            CoreError::NotARedbookDatabase => RedbookError::NotARedbookDatabase,
            CoreError::NewerVersion { found } => RedbookError::NewerVersion { found },
            CoreError::UnsupportedRecordFormat { found } => {
                RedbookError::UnsupportedRecordFormat { found }
            }
            CoreError::RecordClosed => RedbookError::RecordClosed,
            CoreError::StorageFull => RedbookError::StorageFull,
            CoreError::Busy => RedbookError::Busy,
            CoreError::KeyProvider(e) => RedbookError::KeyProvider {
                reason: e.to_string(),
            },
            CoreError::Sync(e) => RedbookError::SyncRefused {
                reason: e.to_string(),
            },
            CoreError::RelayUnreachable(reason) => RedbookError::RelayUnreachable { reason },
            CoreError::BackupUnreadable => RedbookError::BackupUnreadable,
            CoreError::RelayRefused { status, reason } => {
                RedbookError::RelayRefused { status, reason }
            }
            other @ (CoreError::Storage(_)
            | CoreError::Io(_)
            | CoreError::Crypto(_)
            | CoreError::Internal(_)) => RedbookError::Internal {
                detail: other.to_string(),
            },
        }
    }
}

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyProviderError {
    /// The keystore's key does not open the wrapped key: the app sees `WrongKey`.
    #[error("the keystore key does not match")]
    WrongKey,
    /// Anything else (locked keystore, cancelled prompt). `reason` is shown to
    /// developers; it must carry no personal data.
    #[error("key provider failed: {reason}")]
    Failed { reason: String },
}

impl From<KeyProviderError> for redbook_core::crypto::KeyProviderError {
    fn from(e: KeyProviderError) -> Self {
        match e {
            KeyProviderError::WrongKey => Self::WrongKey,
            KeyProviderError::Failed { reason } => Self::Failed { reason },
        }
    }
}

impl From<redbook_core::crypto::KeyProviderError> for KeyProviderError {
    fn from(e: redbook_core::crypto::KeyProviderError) -> Self {
        match e {
            redbook_core::crypto::KeyProviderError::WrongKey => Self::WrongKey,
            redbook_core::crypto::KeyProviderError::Failed { reason } => Self::Failed { reason },
        }
    }
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyProviderError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyProviderError::Failed { reason: e.reason }
    }
}

/// The platform keystore (Android Keystore, iOS Keychain): it wraps and unwraps the
/// database key with a key that never leaves secure hardware.
#[uniffi::export(with_foreign)]
pub trait KeyProvider: Send + Sync {
    fn wrap_key(&self, database_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError>;
    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError>;
}

/// A key provider over a 32-byte key the app holds itself (tests, the CLI's raw key).
#[derive(uniffi::Object)]
pub struct RawKeyProvider {
    inner: redbook_core::crypto::RawKeyProvider,
}

#[uniffi::export]
impl RawKeyProvider {
    #[uniffi::constructor]
    pub fn new(key: Vec<u8>) -> Result<Arc<Self>, RedbookError> {
        let inner = redbook_core::crypto::RawKeyProvider::new(&key).map_err(|_| {
            RedbookError::InvalidInput {
                field: "key".into(),
                reason: "must be 32 bytes".into(),
            }
        })?;
        Ok(Arc::new(Self { inner }))
    }
}

#[uniffi::export]
impl KeyProvider for RawKeyProvider {
    fn wrap_key(&self, database_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError> {
        use redbook_core::crypto::KeyProvider as _;
        Ok(self.inner.wrap_key(&database_key)?)
    }
    fn unwrap_key(&self, wrapped_key: Vec<u8>) -> Result<Vec<u8>, KeyProviderError> {
        use redbook_core::crypto::KeyProvider as _;
        Ok(self.inner.unwrap_key(&wrapped_key)?)
    }
}

/// Lets the core call a keystore implemented in Kotlin or Swift.
struct ForeignKeyProvider(Arc<dyn KeyProvider>);

impl redbook_core::crypto::KeyProvider for ForeignKeyProvider {
    fn wrap_key(&self, key: &[u8]) -> Result<Vec<u8>, redbook_core::crypto::KeyProviderError> {
        Ok(self.0.wrap_key(key.to_vec())?)
    }
    fn unwrap_key(
        &self,
        wrapped: &[u8],
    ) -> Result<Vec<u8>, redbook_core::crypto::KeyProviderError> {
        Ok(self.0.unwrap_key(wrapped.to_vec())?)
    }
}

fn unlock_with(provider: Arc<dyn KeyProvider>) -> Unlock {
    Unlock::KeyProvider(Arc::new(ForeignKeyProvider(provider)))
}

/// One HTTP request of the relay protocol, for the app's own HTTP stack to carry.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RelayHttpRequest {
    /// "GET", "POST" or "PUT".
    pub method: String,
    pub url: String,
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// The relay's answer, whatever its status.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RelayHttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RelayHttpError {
    /// No answer came (no network, a timeout, TLS refused). `reason` is shown to
    /// developers; it must carry no personal data.
    #[error("{reason}")]
    Unreachable { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for RelayHttpError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        RelayHttpError::Unreachable { reason: e.reason }
    }
}

/// The app's HTTP client (OkHttp, URLSession), as mozilla's viaduct lets the app bring
/// its own: the core builds and signs each request and reads each answer.
#[uniffi::export(with_foreign)]
pub trait RelayHttp: Send + Sync {
    fn send(&self, request: RelayHttpRequest) -> Result<RelayHttpResponse, RelayHttpError>;
}

/// Lets the core call the app's HTTP client.
struct ForeignRelayHttp(Arc<dyn RelayHttp>);

impl redbook_core::sync::relay::RelayTransport for ForeignRelayHttp {
    fn send(
        &self,
        request: redbook_core::sync::relay::HttpRequest,
    ) -> Result<redbook_core::sync::relay::HttpResponse, String> {
        let request = RelayHttpRequest {
            method: request.method,
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: request.body,
        };
        let response = self.0.send(request).map_err(|e| e.to_string())?;
        Ok(redbook_core::sync::relay::HttpResponse {
            status: response.status,
            body: response.body,
        })
    }
}

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
    inner: redbook_core::RedBook,
    observers: std::sync::Mutex<Vec<Arc<dyn RecordObserver>>>,
}

impl RedBook {
    fn wrap(inner: redbook_core::RedBook) -> Arc<Self> {
        Arc::new(Self {
            inner,
            observers: Default::default(),
        })
    }

    fn notify(&self, record_id: &RecordId) {
        // Copy the list so no lock is held while the app's code runs.
        let observers = self.observers.lock().map(|o| o.clone()).unwrap_or_default();
        for observer in observers {
            observer.record_changed(record_id.clone());
        }
    }
}

type Result<T, E = RedbookError> = std::result::Result<T, E>;

#[uniffi::export]
impl RedBook {
    /// Opens (or creates) the database, unlocking it with a passphrase.
    #[uniffi::constructor]
    pub fn open_with_passphrase(path: String, passphrase: String) -> Result<Arc<Self>> {
        let inner = redbook_core::RedBook::open(path.as_ref(), Unlock::Passphrase(passphrase))?;
        Ok(Self::wrap(inner))
    }

    /// Opens (or creates) the database, unlocking it with the platform keystore.
    #[uniffi::constructor]
    pub fn open_with_key_provider(
        path: String,
        key_provider: Arc<dyn KeyProvider>,
    ) -> Result<Arc<Self>> {
        let inner = redbook_core::RedBook::open(path.as_ref(), unlock_with(key_provider))?;
        Ok(Self::wrap(inner))
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

    pub fn child(&self, id: RecordId) -> Result<ChildRecord> {
        Ok(self.inner.child(&id)?)
    }

    pub fn update_details(&self, id: RecordId, updates: Vec<DetailUpdate>) -> Result<()> {
        let updates: Vec<_> = updates.into_iter().map(|u| (u.field, u.value)).collect();
        Ok(self.inner.update_details(&id, &updates)?)
    }

    pub fn add_entry(&self, id: RecordId, entry: EntryBody) -> Result<EntryView> {
        Ok(self.inner.add_entry(&id, entry)?)
    }

    /// Writes a correction; the original stays readable, marked amended.
    pub fn amend_entry(
        &self,
        id: RecordId,
        target: EntryId,
        entry: EntryBody,
    ) -> Result<EntryView> {
        Ok(self.inner.amend_entry(&id, &target, entry)?)
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
        Ok(screens::children(
            &self.inner.children()?,
            on.unwrap_or_else(today),
        ))
    }

    /// The children a search box finds (`find_children`), as rows of the children screen.
    pub fn search_screen(&self, query: String, on: Option<NaiveDate>) -> Result<ChildrenView> {
        let found = self.inner.find_children(&query)?;
        Ok(screens::children(
            &ChildList {
                children: found,
                damaged: Vec::new(),
            },
            on.unwrap_or_else(today),
        ))
    }

    /// A child's timeline screen: current entries newest first, worded, with who wrote
    /// each and whether it is verified; conflicts and a closure in words.
    pub fn timeline_screen(&self, id: RecordId, on: Option<NaiveDate>) -> Result<TimelineView> {
        Ok(screens::timeline(
            &self.inner.child(&id)?,
            on.unwrap_or_else(today),
        ))
    }

    /// A growth screen's rows and notes (the chart itself: `growth_chart`).
    pub fn growth_screen(
        &self,
        id: RecordId,
        measure: Measure,
        charts: Arc<GrowthCharts>,
        correction: Correction,
    ) -> Result<GrowthView> {
        Ok(screens::growth(&self.inner.growth(
            &id,
            measure,
            &charts.references,
            correction,
        )?))
    }

    /// The immunisations screen: given, due now and at the next visit, risk factors.
    pub fn immunisations_screen(
        &self,
        id: RecordId,
        on: Option<NaiveDate>,
    ) -> Result<ImmunisationsView> {
        Ok(screens::immunisations(
            &self.inner.due(&id, on.unwrap_or_else(today))?,
        ))
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
        let report = self.inner.due(&id, on.unwrap_or_else(today))?;
        let name = show_name
            .then(|| self.inner.child(&id).map(|r| r.details.name))
            .transpose()?;
        Ok(screens::notification_plan(
            &id.to_string(),
            &report,
            name.as_deref(),
        ))
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
    pub fn export_fhir(&self, id: RecordId) -> Result<String> {
        Ok(self.inner.export_fhir(&id)?)
    }

    /// Reads FHIR into a new record on this device: a Bundle `export_fhir` wrote (whole,
    /// all or nothing), or another system's UK Core Patient with what it holds. The
    /// report says what was added and, element by element, what was not kept.
    pub fn import_fhir(&self, json: String) -> Result<ImportReport> {
        Ok(self.inner.import_fhir(json.as_bytes())?)
    }

    /// Reads another system's FHIR (UK Core Immunization and vital-signs Observations, a
    /// Bundle or one resource) into this child's record: each becomes an entry shown "not
    /// verified"; what is about another patient or has no place here is reported.
    pub fn import_foreign_fhir(&self, id: RecordId, json: String) -> Result<ImportReport> {
        Ok(self.inner.import_foreign(&id, json.as_bytes())?)
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
            .map(|t| {
                let key = |bytes: &[u8], field: &str| {
                    <[u8; 32]>::try_from(bytes).map_err(|_| RedbookError::InvalidInput {
                        field: field.into(),
                        reason: "an Ed25519 public key is 32 bytes".into(),
                    })
                };
                Ok(redbook_core::sync::attestation::TrustedOrganisation {
                    public_key: key(&t.public_key, "public_key")?,
                    revoked_devices: t
                        .revoked_devices
                        .iter()
                        .map(|d| key(d, "revoked_devices"))
                        .collect::<Result<_>>()?,
                    ods_code: t.ods_code,
                })
            })
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
    /// run it; run it again while `more_waiting`. Observers hear if the record changed.
    pub fn relay_exchange(
        &self,
        id: RecordId,
        http: Arc<dyn RelayHttp>,
        relay_url: String,
    ) -> Result<RelayReport> {
        let report = self
            .inner
            .relay_exchange(&id, &ForeignRelayHttp(http), &relay_url)?;
        if report.changed {
            self.notify(&id);
        }
        Ok(report)
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
    pub fn backup_to_relay(&self, http: Arc<dyn RelayHttp>, relay_url: String) -> Result<u64> {
        Ok(self
            .inner
            .backup_to_relay(&ForeignRelayHttp(http), &relay_url)?)
    }

    /// On a new phone: restores every record of the kit's backup (from a file's bytes),
    /// this phone granted by the kit, the kit retired (its words restore nothing again);
    /// with `remove_lost`, the lost phone is removed; each removal replaces the record key.
    /// The other members learn of it at their next exchange. `words` in the answer: this
    /// phone's new kit, to show once like `create_recovery_kit`'s (none if it had one).
    pub fn restore_from_backup(
        &self,
        words: String,
        backup: Vec<u8>,
        remove_lost: bool,
    ) -> Result<Restored> {
        Ok(self.inner.restore(&words, &backup, remove_lost)?)
    }

    /// The same, with the backup fetched from the kit's slot on the relay.
    pub fn restore_from_relay(
        &self,
        words: String,
        http: Arc<dyn RelayHttp>,
        relay_url: String,
        remove_lost: bool,
    ) -> Result<Restored> {
        Ok(self.inner.restore_from_relay(
            &words,
            &ForeignRelayHttp(http),
            &relay_url,
            remove_lost,
        )?)
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

/// The growth references this installation has: WHO 2006 always (embedded), UK90
/// (preterm, and 4 to 20 years) only from a licensed data pack the deployer supplies.
#[derive(uniffi::Object)]
pub struct GrowthCharts {
    references: GrowthReferences,
}

#[uniffi::export]
impl GrowthCharts {
    /// WHO 2006 only: UK90 ages answer "reference not available".
    #[uniffi::constructor]
    pub fn who_only() -> Arc<Self> {
        Arc::new(Self {
            references: GrowthReferences::embedded().clone(),
        })
    }

    /// WHO plus the UK90 pack at `path` (built by scripts/growth-tables.py uk90).
    #[uniffi::constructor]
    pub fn with_uk90_pack(path: String) -> Result<Arc<Self>> {
        let text = std::fs::read_to_string(&path).map_err(|_| RedbookError::InvalidInput {
            field: "uk90_pack".into(),
            reason: "cannot be read".into(),
        })?;
        let references =
            GrowthReferences::with_uk90_pack(&text).map_err(|e| RedbookError::InvalidInput {
                field: "uk90_pack".into(),
                reason: e.to_string(),
            })?;
        Ok(Arc::new(Self { references }))
    }

    pub fn has_uk90(&self) -> bool {
        self.references.has(Reference::Uk90Child)
    }

    /// The centile of one measurement.
    pub fn assess(&self, query: CentileQuery, correction: Correction) -> Result<Assessment> {
        let observation = Observation {
            sex: match query.sex {
                Sex::Female => growth::Sex::Female,
                Sex::Male => growth::Sex::Male,
            },
            birth_date: query.birth_date,
            gestation_days: query.gestation.total_days,
            date: query.date,
            measure: query.measure,
            value: query.value,
        };
        growth::assess(&self.references, &observation, correction).map_err(|e| match e {
            growth::GrowthError::InvalidInput { field, reason } => RedbookError::InvalidInput {
                field: field.into(),
                reason,
            },
            other => RedbookError::InvalidInput {
                field: other.field().into(),
                reason: other.to_string(),
            },
        })
    }
}

/// What is due for a child known only by date of birth. `on` defaults to today.
#[uniffi::export]
pub fn due_for_birth_date(
    birth_date: NaiveDate,
    on: Option<NaiveDate>,
    eligibility: Eligibility,
) -> Result<DueReport> {
    Ok(redbook_core::due_for_birth_date(
        birth_date,
        on.unwrap_or_else(today),
        eligibility,
    )?)
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// One line describing an entry, the same in every app.
/// Another device's card, as text a QR code carried; a bad one is invalid input.
fn decode_card(text: &str) -> Result<redbook_core::sync::DeviceCard> {
    redbook_core::sync::DeviceCard::decode(text).map_err(|e| RedbookError::InvalidInput {
        field: "device_card".into(),
        reason: e.to_string(),
    })
}

/// An organisation whose attestations confirm a professional's role, less the devices
/// whose attestations by it the deployer has revoked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TrustedOrganisation {
    pub ods_code: String,
    /// Its Ed25519 public key, 32 bytes.
    pub public_key: Vec<u8>,
    /// Ed25519 keys (32 bytes each) of devices it no longer vouches for: their
    /// attestations by it confirm nothing.
    pub revoked_devices: Vec<Vec<u8>>,
}

/// The organisation shipped for tests and demos (`X99TEST`); never on a real trust list.
/// With its signing below, only in a library built with the `test-organisation` feature
/// (the CLI's demo and the binding tests): an app's library is built without it, so it
/// cannot attest anything (docs/threat-model.md, "Roles").
#[cfg(feature = "test-organisation")]
#[uniffi::export]
pub fn test_organisation() -> TrustedOrganisation {
    let trusted = redbook_core::sync::attestation::test_organisation().trusted();
    TrustedOrganisation {
        ods_code: trusted.ods_code,
        public_key: trusted.public_key.to_vec(),
        revoked_devices: Vec::new(),
    }
}

/// The test organisation's attestation of the device whose card this is, in the role the
/// card asks for, valid for a year: what a trust's provisioning would hand a
/// professional's device.
#[cfg(feature = "test-organisation")]
#[uniffi::export]
pub fn test_organisation_attest(device_card: String) -> Result<Vec<u8>> {
    let card = decode_card(&device_card)?;
    Ok(redbook_core::sync::attestation::test_organisation()
        .attest(
            &card.keys,
            card.role,
            chrono::Utc::now() + chrono::Duration::days(365),
        )
        .map_err(CoreError::from)?)
}

#[uniffi::export]
pub fn describe_entry(entry: EntryBody) -> String {
    entry.summary()
}

/// What a growth series says beyond its points, a sentence each (faltering, thrive line,
/// weighing too often, growth per year, an assumed gestation).
#[uniffi::export]
pub fn describe_growth(series: GrowthSeries) -> Vec<String> {
    redbook_core::view::growth_notes(&series)
}

/// A detail two devices set apart, in words (the address's values are never shown).
#[uniffi::export]
pub fn describe_conflict(conflict: DetailConflict) -> String {
    redbook_core::view::conflict_text(&conflict)
}

/// The clinical date an entry is about, for the timeline (none for birth details, a
/// contact or an error mark).
#[uniffi::export]
pub fn entry_date(entry: EntryBody) -> Option<NaiveDate> {
    entry.date()
}

/// An entry of the timeline in one line; a blood spot result still withheld from a
/// parent's device says when it will show.
#[uniffi::export]
pub fn describe_entry_view(view: EntryView) -> String {
    redbook_core::view::entry_text(&view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redbook_core::crypto::KeyProviderError as CoreKeyProviderError;
    use redbook_core::model::ValidationError;
    use redbook_core::sync::SyncError;

    /// An app shows the core's words: every error crosses the FFI with the same message.
    #[test]
    fn every_error_says_what_the_core_says() {
        let id: RecordId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let errors = vec![
            CoreError::WrongKey,
            CoreError::NotFound { what: "entry" },
            CoreError::InvalidInput(ValidationError::new(
                "weight_kg",
                "must be between 0.2 and 250 kg",
            )),
            CoreError::corrupt(None),
            CoreError::corrupt(Some(&id)),
            CoreError::CorruptDatabase {
                moved_to: "/data/x.redbook.damaged".into(),
            },
            CoreError::NotARedbookDatabase,
            CoreError::NewerVersion { found: 9 },
            CoreError::UnsupportedRecordFormat { found: 1 },
            CoreError::RecordClosed,
            CoreError::StorageFull,
            CoreError::Busy,
            CoreError::KeyProvider(CoreKeyProviderError::Failed {
                reason: "locked".into(),
            }),
            CoreError::Sync(SyncError::NotAMember),
            CoreError::RelayUnreachable("connection refused".into()),
            CoreError::BackupUnreadable,
            CoreError::RelayRefused {
                status: 429,
                reason: "too many requests".into(),
            },
            CoreError::Internal("automerge: a bug".into()),
            CoreError::Io(std::io::Error::other("disk")),
            CoreError::Storage(rusqlite::Error::InvalidQuery),
        ];
        for core in errors {
            let message = core.to_string();
            let crossed = RedbookError::from(core);
            assert_eq!(crossed.to_string(), message, "{crossed:?}");
        }
    }
}
