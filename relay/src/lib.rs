//! The redbook relay: stores and forwards sealed sync envelopes between a record's devices
//! (docs/adr/0008-relay.md, docs/threat-model.md "The relay"). It never sees plaintext,
//! never learns which child, family or device a mailbox serves, and can forge, alter or
//! replay nothing a device accepts: at worst it delays sync.

pub mod batch;
pub mod client;
pub mod postgres_server;
pub mod server;
pub mod storage;

pub use client::HttpTransport;
pub use server::{router, Config};
pub use storage::{PostgresStorage, Quota, SqliteStorage, Storage, StorageError};

use std::net::SocketAddr;
use std::sync::Arc;

/// A relay serving on its own thread (for the CLI's demo, tests and benchmarks); stopped
/// when dropped.
pub struct RunningRelay {
    pub address: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningRelay {
    /// Serves `storage` on `listen` (port 0: any free port) until dropped.
    pub fn start(
        storage: Arc<dyn Storage>,
        config: Config,
        listen: SocketAddr,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(listen))?;
        let address = listener.local_addr()?;
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let app = router(storage, config);
                let _ = axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            });
        });
        Ok(Self {
            address,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for RunningRelay {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves until the process is interrupted (the CLI's `redbook relay serve`).
pub fn serve_forever(
    storage: Arc<dyn Storage>,
    config: Config,
    listen: SocketAddr,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        eprintln!("relay listening on http://{}", listener.local_addr()?);
        axum::serve(
            listener,
            router(storage, config).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })
}
