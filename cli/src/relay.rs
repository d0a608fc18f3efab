//! The relay: serving it, and one device's exchange with it.

use crate::args::RelayCommand;
use crate::wait::wait_for;
use crate::{CliError, CliResult};
use redbook_core::jobs::{self, RelaySync, SyncStep};
use redbook_core::model::RecordId;
use redbook_core::sync::relay_protocol::RelayTransport;
use redbook_ffi::{
    RedBook, RelayHttp, RelayHttpError, RelayHttpRequest, RelayHttpResponse, RelayReport,
};
use redbook_relay::{Config, HttpTransport, PostgresStorage, SqliteStorage, Storage};
use std::sync::Arc;
use std::time::Duration;

pub(crate) fn run(command: RelayCommand) -> CliResult {
    let RelayCommand::Serve {
        postgres,
        listen,
        data,
        retention_days,
        mailbox_quota_mb,
        requests_per_minute,
        storage_budget_mb,
        source_quota_mb,
        source_requests_per_minute,
        backup_quota_mb,
        backup_slots_per_source,
        backup_retention_days,
        trust_forwarded_for,
    } = command;
    let storage: Arc<dyn Storage> = match postgres {
        Some(url) => Arc::new(
            PostgresStorage::connect(&url).map_err(|e| CliError(format!("PostgreSQL: {e}")))?,
        ),
        None => {
            std::fs::create_dir_all(&data)
                .map_err(|e| CliError(format!("cannot create {}: {e}", data.display())))?;
            Arc::new(
                SqliteStorage::open(&data.join("relay.sqlite"))
                    .map_err(|e| CliError(format!("SQLite: {e}")))?,
            )
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let defaults = Config::default();
    let mailbox_bytes = mailbox_quota_mb.max(1) << 20;
    let day = 24 * 3600;
    let config = Config {
        retention: Duration::from_secs(retention_days.max(1) * day),
        backup_retention: Duration::from_secs(backup_retention_days.max(1) * day),
        quota: redbook_relay::Quota {
            mailbox_bytes,
            // One device may fill half a mailbox, so one member cannot crowd out the rest.
            sender_bytes: mailbox_bytes / 2,
            source_bytes: source_quota_mb.max(1) << 20,
            budget_bytes: storage_budget_mb.max(1) << 20,
            backup_slots: backup_slots_per_source.max(1),
        },
        max_backup_bytes: (backup_quota_mb.max(1) << 20) as usize,
        requests_per_minute: requests_per_minute.max(1),
        source_requests_per_minute: source_requests_per_minute.max(1),
        trusted_proxies: trust_forwarded_for
            .into_iter()
            .map(|ip| ip.to_canonical())
            .collect(),
        ..defaults
    };
    redbook_relay::serve_forever(storage, config, listen)
        .map_err(|e| CliError(format!("the relay stopped: {e}")))
}

/// The CLI's HTTP client, as the app's would be.
pub(crate) struct CliHttp(pub(crate) HttpTransport);

impl RelayHttp for CliHttp {
    fn send(&self, request: RelayHttpRequest) -> Result<RelayHttpResponse, RelayHttpError> {
        let response = self
            .0
            .send(redbook_core::sync::relay_protocol::HttpRequest {
                method: request.method,
                url: request.url,
                headers: request
                    .headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .collect(),
                body: request.body,
            })
            .map_err(|reason| RelayHttpError::Unreachable { reason })?;
        Ok(RelayHttpResponse {
            status: response.status,
            body: response.body,
        })
    }
}

/// A person's sync with the relay: exchanges while more messages wait than one fetches,
/// as many as the core's policy gives a command (`jobs::COMMAND_EXCHANGES`), summed. A
/// removal is in the report; the caller words it.
pub(crate) fn exchange(book: &RedBook, id: &RecordId, url: &str) -> CliResult<RelayReport> {
    let http: Arc<dyn RelayHttp> = Arc::new(CliHttp(HttpTransport::default()));
    let mut plan = RelaySync::new(vec![id.clone()], jobs::COMMAND_EXCHANGES, false);
    let mut total: Option<RelayReport> = None;
    loop {
        match plan.next_step() {
            SyncStep::Exchange { record_id } => {
                let report =
                    wait_for(book.relay_exchange(record_id, http.clone(), url.to_string()))?;
                plan.exchanged(&report);
                match &mut total {
                    Some(total) => total.add(&report),
                    None => total = Some(report),
                }
            }
            SyncStep::RemovalNotice { .. } | SyncStep::Backup => {}
            SyncStep::Done { .. } => return Ok(total.unwrap_or_default()),
        }
    }
}
