//! The errors that cross the FFI. Each `RedbookError` variant is a core `Error` variant
//! with its fields as the apps can hold them; its message is the core's, rebuilt from
//! those fields, so no wording lives here.

use redbook_core::error::{needs_confirmation_message, not_found_message, sync_refused_message};
use redbook_core::model::ValidationError;
use redbook_core::Error as CoreError;
use std::fmt;

/// Every error an app must handle. Messages carry no personal data.
#[derive(Debug, uniffi::Error)]
pub enum RedbookError {
    WrongKey,
    NotFound {
        what: String,
    },
    InvalidInput {
        field: String,
        reason: String,
    },
    /// Possible but unexpected for this child (a measurement beyond the growth charts'
    /// limits for the age, a vaccine or dose the schedule does not expect): show `advice`
    /// (it names the value typed) and offer to write it again with `confirmed`.
    NeedsConfirmation {
        field: String,
        reason: String,
        advice: String,
    },
    /// A record's stored data failed authentication or did not parse.
    CorruptData {
        record_id: Option<String>,
    },
    /// The file was renamed to `moved_to`; opening the path again starts afresh.
    CorruptDatabase {
        moved_to: String,
    },
    NotARedbookDatabase,
    NewerVersion {
        found: u32,
    },
    UnsupportedRecordFormat {
        found: i64,
    },
    RecordClosed,
    StorageFull,
    Busy,
    /// `reason` is the key provider's own words (no personal data).
    KeyProvider {
        reason: String,
    },
    /// A sync message, bundle or invitation was refused (not a member, not addressed
    /// here, tampered, under another key); the record is unchanged.
    SyncRefused {
        reason: String,
    },
    /// A recovery backup that does not open with the words given.
    BackupUnreadable,
    /// No answer from the relay (no network, a timeout): try the exchange again later.
    RelayUnreachable {
        reason: String,
    },
    /// The relay answered with an error (quota, rate limit, a device clock far out).
    RelayRefused {
        status: u16,
        reason: String,
    },
    /// Storage, I/O or a bug; `detail` is the core's message, for developers (no
    /// personal data). The field is not called `message`: Kotlin exceptions have one.
    Internal {
        detail: String,
    },
}

impl std::error::Error for RedbookError {}

/// The error in the core's words, for a screen: what Kotlin's and Swift's own messages
/// for it (the variant's fields) do not say. No personal data, as every message here.
#[uniffi::export]
pub fn error_text(error: RedbookError) -> String {
    error.to_string()
}

impl fmt::Display for RedbookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The core variant back, for its message; the few whose fields cannot rebuild
        // it (a `'static` name, a whole message kept as text) use the core's word
        // functions, or are the core's message already.
        let core = match self {
            Self::WrongKey => CoreError::WrongKey,
            Self::NotFound { what } => return f.write_str(&not_found_message(what)),
            Self::InvalidInput { field, reason } => {
                CoreError::InvalidInput(ValidationError::new(field, reason))
            }
            Self::NeedsConfirmation { field, reason, .. } => {
                return f.write_str(&needs_confirmation_message(field, reason))
            }
            Self::CorruptData { record_id } => CoreError::CorruptData {
                record: record_id.as_ref().and_then(|id| id.parse().ok()),
            },
            Self::CorruptDatabase { moved_to } => CoreError::CorruptDatabase {
                moved_to: moved_to.into(),
            },
            Self::NotARedbookDatabase => CoreError::NotARedbookDatabase,
            Self::NewerVersion { found } => CoreError::NewerVersion { found: *found },
            Self::UnsupportedRecordFormat { found } => {
                CoreError::UnsupportedRecordFormat { found: *found }
            }
            Self::RecordClosed => CoreError::RecordClosed,
            Self::StorageFull => CoreError::StorageFull,
            Self::Busy => CoreError::Busy,
            Self::KeyProvider { reason } => return f.write_str(reason),
            Self::SyncRefused { reason } => return f.write_str(&sync_refused_message(reason)),
            Self::BackupUnreadable => CoreError::BackupUnreadable,
            Self::RelayUnreachable { reason } => CoreError::RelayUnreachable(reason.clone()),
            Self::RelayRefused { status, reason } => CoreError::RelayRefused {
                status: *status,
                reason: reason.clone(),
            },
            Self::Internal { detail } => return f.write_str(detail),
        };
        write!(f, "{core}")
    }
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
            CoreError::NeedsConfirmation {
                field,
                reason,
                advice,
            } => RedbookError::NeedsConfirmation {
                field,
                reason,
                advice,
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

/// A keystore's failure, as the app's key provider reports it.
#[derive(Debug, Clone, uniffi::Error)]
pub enum KeyProviderError {
    /// The keystore's key does not open the wrapped key: the app sees `WrongKey`.
    WrongKey,
    /// Anything else (locked keystore, cancelled prompt). `reason` is shown to
    /// developers; it must carry no personal data.
    Failed { reason: String },
}

impl std::error::Error for KeyProviderError {}

impl fmt::Display for KeyProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            redbook_core::crypto::KeyProviderError::from(self.clone())
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use redbook_core::crypto::KeyProviderError as CoreKeyProviderError;
    use redbook_core::model::RecordId;
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
