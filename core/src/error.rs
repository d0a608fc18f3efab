//! The core's error. Messages name fields, records and causes, never a person's data.

use crate::crypto::{CryptoError, KeyProviderError};
use crate::growth::GrowthError;
use crate::model::{RecordId, ValidationError};
use crate::recovery::RecoveryError;
use crate::schedule::ScheduleError;
use rusqlite::ErrorCode;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("wrong passphrase or key")]
    WrongKey,
    #[error("{}", not_found_message(what))]
    NotFound { what: &'static str },
    #[error(transparent)]
    InvalidInput(#[from] ValidationError),
    /// Possible in itself but not expected for this child (a measurement beyond the
    /// growth charts' limits for the age, a vaccine the schedule does not know, a dose
    /// beyond the course or already recorded): written again confirmed, it is kept and
    /// marked for review. `advice` is for the writer's screen only: it names the value
    /// typed (the message does not).
    #[error("{}", needs_confirmation_message(field, reason))]
    NeedsConfirmation {
        field: String,
        reason: String,
        advice: String,
    },
    #[error("{}", corrupt_message(record))]
    CorruptData { record: Option<RecordId> },
    /// The file was renamed to `moved_to`, never deleted; opening the path again starts
    /// a new database.
    #[error("the database file is damaged and was moved aside")]
    CorruptDatabase { moved_to: PathBuf },
    #[error("this file is not a redbook database; it was left untouched")]
    NotARedbookDatabase,
    #[error("this database was written by a newer version of redbook (schema {found})")]
    NewerVersion { found: u32 },
    /// A record written in a document format this version does not read (format 1 was
    /// never deployed).
    #[error(
        "this record was written in format {found}, which this version of redbook does not read"
    )]
    UnsupportedRecordFormat { found: i64 },
    /// A professional closed the record (the child died, or parental responsibility
    /// changed): a parent's or carer's device may read it, not write to it.
    #[error("this record was closed by a professional and is read-only on this device")]
    RecordClosed,
    #[error("the device's storage is full")]
    StorageFull,
    #[error("the database is busy; try again")]
    Busy,
    #[error(transparent)]
    KeyProvider(#[from] KeyProviderError),
    /// A sync message, bundle or invitation was refused; nothing was changed.
    #[error("{}", sync_refused_message(&.0.to_string()))]
    Sync(#[from] crate::sync::SyncError),
    /// No answer came from the relay (no network, a timeout); nothing was lost: the next
    /// exchange carries on.
    #[error("the relay could not be reached: {0}")]
    RelayUnreachable(String),
    /// The relay answered with an error (a quota, a rate limit, an expired signature).
    #[error("the relay refused the request ({status}): {reason}")]
    RelayRefused { status: u16, reason: String },
    /// A recovery backup that does not open with the words given (another kit's, or
    /// damaged); nothing was changed.
    #[error("this backup cannot be opened with these words (another kit's, or damaged)")]
    BackupUnreadable,
    /// A change this device made itself failed (a bug, not damage on disk).
    #[error("internal error: {0}")]
    Internal(String),
    #[error("storage error: {0}")]
    Storage(rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("encryption error: {0}")]
    Crypto(CryptoError),
}

impl Error {
    /// The one way to say stored data is damaged: `record` when it is known which.
    pub fn corrupt(record: Option<&RecordId>) -> Error {
        Error::CorruptData {
            record: record.cloned(),
        }
    }

    /// A member's write or statement its access does not allow.
    pub fn not_permitted() -> Error {
        Error::Sync(crate::sync::SyncError::NotPermitted)
    }
}

// The words of the errors whose fields cross the FFI as text (`redbook_ffi::RedbookError`
// cannot rebuild these variants from it): one source for both.

pub fn not_found_message(what: &str) -> String {
    format!("{what} not found")
}

pub fn needs_confirmation_message(field: &str, reason: &str) -> String {
    format!(
        "check the {}: it {reason}; if it is right, confirm it to keep it (marked for a professional to review)",
        crate::model::validate::field_label(field)
    )
}

/// `reason`: the refusal's own words (`sync::SyncError`).
pub fn sync_refused_message(reason: &str) -> String {
    format!("sync refused: {reason}")
}

pub fn corrupt_message(record: &Option<RecordId>) -> String {
    match record {
        Some(id) => format!("the stored data of record {id} is damaged or was tampered with"),
        None => "stored data is damaged or was tampered with".to_string(),
    }
}

impl From<GrowthError> for Error {
    fn from(e: GrowthError) -> Self {
        match e {
            GrowthError::InvalidInput { field, reason } => {
                ValidationError::new(field, &reason).into()
            }
            other => ValidationError::new(other.field(), &other.to_string()).into(),
        }
    }
}

impl From<ScheduleError> for Error {
    fn from(e: ScheduleError) -> Self {
        let field = match e {
            ScheduleError::BornBeforeCoveredCohorts { .. } => "birth_date",
            ScheduleError::BeforeBirth => "on",
        };
        ValidationError::new(field, &e.to_string()).into()
    }
}

impl From<RecoveryError> for Error {
    fn from(e: RecoveryError) -> Self {
        match e {
            RecoveryError::BadWords => {
                ValidationError::new("recovery words", &e.to_string()).into()
            }
            RecoveryError::Unreadable => Error::BackupUnreadable,
        }
    }
}

impl From<crate::record::RecordError> for Error {
    fn from(e: crate::record::RecordError) -> Self {
        use crate::record::RecordError;
        match e {
            RecordError::UnsupportedFormat(found) => Error::UnsupportedRecordFormat { found },
            RecordError::Refused(refused) => Error::Sync(refused.into()),
            // What reaches here is this device's own change failing inside automerge:
            // not damage on disk (loads from disk map to `corrupt` where they happen;
            // received bytes are refused as sync errors).
            e @ (RecordError::Malformed(_) | RecordError::Automerge(_)) => {
                Error::Internal(e.to_string())
            }
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => Error::StorageFull,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::Busy,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Error::corrupt(None),
            _ => Error::Storage(e),
        }
    }
}
