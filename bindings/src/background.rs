//! Long work (opening the database, a relay exchange, a restore, FHIR in and out) runs on
//! a thread of its own while the app awaits it (Kotlin `suspend`, Swift `async`), so the
//! caller's thread, often the UI's, never waits on SQLite, automerge or the network.

use futures_channel::oneshot;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

/// Runs `work` on a new thread and resolves with what it returns.
///
/// When the caller stops waiting (its coroutine or task cancelled), the future is dropped
/// but `work` runs to its end: every write in the core is its own transaction, so stopping
/// it part-way would gain nothing, and what it wrote is kept. Work not yet started (the
/// next record of a sync) is what cancellation saves, since the caller never asks for it.
pub(crate) async fn off_the_callers_thread<T, W>(work: W) -> T
where
    T: Send + 'static,
    W: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = oneshot::channel();
    std::thread::Builder::new()
        .name("redbook-work".into())
        .spawn(move || {
            // The receiver may be gone (the caller cancelled): the result is then dropped.
            let _ = sender.send(catch_unwind(AssertUnwindSafe(work)));
        })
        // Only when the process is out of threads; UniFFI reports the panic as an exception.
        .expect("a thread for long work");
    match receiver.await {
        Ok(Ok(value)) => value,
        // A panic carries on into UniFFI, which turns it into an exception in the app.
        Ok(Err(panic)) => resume_unwind(panic),
        Err(oneshot::Canceled) => unreachable!("the worker sends before it ends"),
    }
}
