//! The façade over the relay client (`sync::relay_client`): one exchange of a record's
//! messages, the engine lent for each step under the lock and never while the app's
//! transport carries a request.

use super::RedBook;
use crate::model::RecordId;
use crate::sync::engine::SyncEngine;
use crate::sync::relay_client::exchange::{self, LockedEngine};
use crate::sync::relay_client::RelayReport;
use crate::sync::relay_protocol::RelayTransport;
use crate::Error;

impl LockedEngine for RedBook {
    fn with_engine<T>(
        &self,
        step: impl FnOnce(&mut SyncEngine<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        step(&mut self.lock().engine())
    }
}

impl RedBook {
    /// One bounded exchange with the relay at `base_url` for record `id`: fetch, apply,
    /// post. Safe to run from a background job at any time and to repeat; an error leaves
    /// the record as it was (what was applied before it stays applied).
    pub fn relay_exchange(
        &self,
        id: &RecordId,
        transport: &dyn RelayTransport,
        base_url: &str,
    ) -> Result<RelayReport, Error> {
        let own_kit = self.own_kit_id()?;
        exchange::exchange(self, id, transport, base_url, own_kit.as_deref())
    }
}
