//! redbook-core: England's parent-held child health record ("red book") as an encrypted,
//! mergeable local store. No UniFFI here; `bindings/` wraps this API for the apps.
//!
//! Dependence runs one way: `model` <- `record` <- `store` <- `RedBook`.
//! `crypto`, `growth` and `schedule` depend on nothing of ours.

mod book;
pub mod child;
pub mod crypto;
pub mod error;
pub mod export;
pub mod growth;
pub mod jobs;
pub mod model;
pub mod record;
pub mod recovery;
pub mod schedule;
pub mod store;
pub mod sync;
pub mod view;

pub use book::{due_for_birth_date, DeviceProfile, Received, RedBook, RelayReport, Restored};
pub use child::{
    ChildList, ChildRecord, ChildSummary, HistoryAction, HistoryEvent, ImportReport, PrintoutCheck,
};
pub use error::Error;
pub use growth::{GrowthPoint, GrowthSeries};
pub use store::{OpenOptions, Unlock};
