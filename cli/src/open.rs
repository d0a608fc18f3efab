//! Opening databases, passphrases, files, and finding a child or an entry by what a
//! person types.

use crate::wait::wait_for;
use redbook_core::model::*;
use redbook_core::ChildRecord;
use redbook_ffi::RedBook;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

use crate::{CliError, CliResult};

#[derive(Serialize)]
pub(crate) struct SyncReport {
    pub round_trips: usize,
    pub messages: usize,
    pub bytes: usize,
}

/// Runs the real protocol between two databases, passing messages in memory, until
/// neither has anything to send.
pub(crate) fn sync_pair(a: &RedBook, b: &RedBook, id: &RecordId) -> CliResult<SyncReport> {
    let (a_id, b_id) = (a.device_id(), b.device_id());
    let mut report = SyncReport {
        round_trips: 0,
        messages: 0,
        bytes: 0,
    };
    for _ in 0..64 {
        let mut sent = false;
        for (from, to, to_id) in [(a, b, &b_id), (b, a, &a_id)] {
            if let Some(message) = from.sync_message(id.clone(), to_id.clone())? {
                report.messages += 1;
                report.bytes += message.len();
                to.receive(message)?;
                sent = true;
            }
        }
        if !sent {
            return Ok(report);
        }
        report.round_trips += 1;
    }
    Err(CliError(
        "the devices did not reach the same state in 64 round trips".into(),
    ))
}

/// Writes a file only this user can read (it holds a child's record or a key).
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> CliResult {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))
}

pub(crate) fn read_file(path: &std::path::Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError(format!("cannot read {}: {e}", path.display())))
}

pub(crate) fn database_path(given: Option<PathBuf>) -> CliResult<PathBuf> {
    let path = match given {
        Some(path) => path,
        None => dirs::data_dir()
            .ok_or_else(|| CliError("no data folder on this platform; give --db".into()))?
            .join("redbook")
            .join("redbook.db"),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError(format!("cannot create the data folder: {e}")))?;
    }
    Ok(path)
}

/// From the environment variable, else a prompt (twice for a new passphrase).
pub(crate) fn passphrase(env: &str, prompt: &str, confirm: bool) -> CliResult<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    let ask = |p: &str| {
        rpassword::prompt_password(format!("{p}: "))
            .map_err(|_| CliError(format!("cannot prompt for a passphrase here; set {env}")))
    };
    let first = ask(prompt)?;
    if confirm {
        let again = zeroize::Zeroizing::new(ask("Again")?);
        if *again != first {
            return Err(CliError("the passphrases differ".into()));
        }
    }
    if first.is_empty() {
        return Err(CliError("the passphrase must not be empty".into()));
    }
    Ok(first)
}

pub(crate) fn open(path: &std::path::Path, passphrase: String) -> CliResult<Arc<RedBook>> {
    let book = wait_for(RedBook::open_with_passphrase(
        path.display().to_string(),
        passphrase,
    ))?;
    book.set_trusted_organisations(trust_list()?)?;
    Ok(book)
}

/// The organisations whose attestations confirm a professional's role: the file named by
/// `REDBOOK_TRUST_LIST`, one `ODS-CODE HEX-ED25519-KEY` a line, and a line
/// `revoke ODS-CODE HEX-DEVICE-KEY` for each device whose attestation by that organisation
/// no longer counts (`#` starts a comment). Taking an organisation's line out revokes its key.
pub(crate) fn trust_list() -> CliResult<Vec<redbook_ffi::TrustedOrganisation>> {
    let Some(file) = std::env::var_os("REDBOOK_TRUST_LIST") else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CliError(format!("cannot read the trust list: {e}")))?;
    let mut organisations: Vec<redbook_ffi::TrustedOrganisation> = Vec::new();
    let mut revoked: Vec<(String, Vec<u8>)> = Vec::new();
    let lines = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .enumerate()
        .filter(|(_, line)| !line.is_empty());
    for (n, line) in lines {
        let bad = || {
            CliError(format!(
                "trust list line {}: expected `ODS-CODE HEX-KEY` or `revoke ODS-CODE HEX-DEVICE-KEY`",
                n + 1
            ))
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["revoke", ods, device] => {
                revoked.push((ods.to_string(), hex::decode(device).map_err(|_| bad())?))
            }
            [ods, key] => organisations.push(redbook_ffi::TrustedOrganisation {
                ods_code: ods.to_string(),
                public_key: hex::decode(key).map_err(|_| bad())?,
                revoked_devices: Vec::new(),
            }),
            _ => return Err(bad()),
        }
    }
    for (ods, device) in revoked {
        for organisation in organisations.iter_mut().filter(|o| o.ods_code == ods) {
            organisation.revoked_devices.push(device.clone());
        }
    }
    Ok(organisations)
}

pub(crate) fn open_existing(path: &std::path::Path) -> CliResult<Arc<RedBook>> {
    if !path.exists() {
        return Err(CliError(format!(
            "no database at {}; run `redbook init` first",
            path.display()
        )));
    }
    open(path, passphrase("REDBOOK_PASSPHRASE", "Passphrase", false)?)
}

/// A child by id, unique id prefix, or the start of their name (case-insensitive).
pub(crate) fn find_child(book: &RedBook, query: &str) -> CliResult<RecordId> {
    let list = book.children()?;
    let q = query.trim().to_lowercase();
    let matches: Vec<_> = list
        .children
        .iter()
        .filter(|c| {
            c.id.as_str() == q
                || (q.len() >= 4 && c.id.as_str().starts_with(&q))
                || c.name.to_lowercase().starts_with(&q)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] if list
            .withdrawn
            .iter()
            .any(|c| c.id.as_str() == q || (q.len() >= 4 && c.id.as_str().starts_with(&q))) =>
        {
            // A withdrawn record is out of the list, but its id still finds it.
            let found = list
                .withdrawn
                .iter()
                .find(|c| c.id.as_str().starts_with(&q));
            Ok(found.expect("just found").id.clone())
        }
        [] => {
            // A damaged record is not listed by name, but its id still finds it.
            let damaged = list
                .damaged
                .iter()
                .flatten()
                .find(|id| id.as_str() == q || (q.len() >= 4 && id.as_str().starts_with(&q)));
            match damaged {
                Some(id) => Err(CliError(format!(
                    "the record {id} is damaged and cannot be read; the rest of the file is readable"
                ))),
                None => Err(CliError("no such child; see `redbook child list`".into())),
            }
        }
        _ => Err(CliError("more than one child matches; give the id".into())),
    }
}

pub(crate) fn find_entry(record: &ChildRecord, query: &str) -> CliResult<EntryId> {
    let q = query.trim().to_lowercase();
    let matches: Vec<_> = record
        .entries
        .iter()
        .filter(|v| {
            q.len() >= 4
                && (v.entry.id.as_str().starts_with(&q) || v.entry.id.as_str().ends_with(&q))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.entry.id.clone()),
        [] => Err(CliError("no such entry; see `redbook show`".into())),
        _ => Err(CliError(
            "more than one entry matches; give more of the id".into(),
        )),
    }
}
