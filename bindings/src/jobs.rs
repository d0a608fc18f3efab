//! The relay sync job's policy (`redbook_core::jobs`): the app's background job asks it
//! what to do next and tells it what happened.

use crate::RedbookError;
use redbook_core::jobs::{FailureHandling, JobResult, RelaySync, Setback, SyncStep};
use redbook_core::model::RecordId;
use redbook_core::view::screens::SyncStatus;
use redbook_core::RelayReport;
use std::sync::{Arc, Mutex, MutexGuard};

#[uniffi::remote(Enum)]
pub enum JobResult {
    Success,
    Retry,
    Failure,
}

#[uniffi::remote(Enum)]
pub enum SyncStep {
    Exchange { record_id: RecordId },
    RemovalNotice { record_id: RecordId },
    Backup,
    Done { result: JobResult },
}

#[uniffi::remote(Enum)]
pub enum FailureHandling {
    Problem,
    Ignore,
    Raise,
}

impl From<&RedbookError> for Setback {
    fn from(e: &RedbookError) -> Self {
        match e {
            RedbookError::RelayUnreachable { .. } => Setback::Unreachable,
            RedbookError::RelayRefused { status, .. } => Setback::Refused { status: *status },
            RedbookError::NotFound { .. } => Setback::NotFound,
            _ => Setback::Other,
        }
    }
}

/// One run of the background sync job over the given records: `next_step` until `Done`,
/// telling it after each step how it went.
#[derive(uniffi::Object)]
pub struct RelaySyncPlan {
    inner: Mutex<RelaySync>,
}

impl RelaySyncPlan {
    fn lock(&self) -> MutexGuard<'_, RelaySync> {
        // The state is whole after any panic (each call is one small update).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[uniffi::export]
impl RelaySyncPlan {
    #[uniffi::constructor]
    pub fn new(record_ids: Vec<RecordId>) -> Arc<Self> {
        Arc::new(Self {
            inner: Mutex::new(RelaySync::background(record_ids)),
        })
    }

    pub fn next_step(&self) -> SyncStep {
        self.lock().next_step()
    }

    pub fn exchanged(&self, report: RelayReport) {
        self.lock().exchanged(&report)
    }

    pub fn backed_up(&self) {
        self.lock().backed_up()
    }

    /// The step failed with `error`: whether to keep it as a problem, ignore it, or
    /// throw it on.
    pub fn failed(&self, error: RedbookError) -> FailureHandling {
        self.lock().failed(Setback::from(&error))
    }

    pub fn result(&self) -> JobResult {
        self.lock().result()
    }

    pub fn changed(&self) -> Vec<RecordId> {
        self.lock().changed().to_vec()
    }

    /// How the run stands once done, for `sync_status_text`.
    pub fn status(&self) -> SyncStatus {
        self.lock().status()
    }
}
