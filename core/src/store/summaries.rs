//! A caseload's summaries (docs/adr/0010-caseload.md): per record what a list of children
//! shows, sealed under the database key in the same transaction as every change to the
//! record, in one row with the record's sealed head and that head's sealed bytes in its
//! associated data (a head is sealed afresh, with a new nonce, at every change). A summary
//! that does not open beside its record's head (missing, stale, tampered, swapped) is
//! never shown: it is rebuilt from the document and written again.

use super::chunks::open_head;
use super::cipher::StoreCipher;
use super::file::get_meta;
use super::Store;
use crate::model::{ChildSummary, RecordHint, RecordId};
use crate::record::Record;
use crate::Error;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// The summaries of every record in the file, and the records that could not be read.
pub struct Summaries {
    pub children: Vec<ChildSummary>,
    /// A damaged record, by id when its sealed id still opens.
    pub damaged: Vec<Option<RecordId>>,
    /// How many summaries were missing, stale or tampered and were rebuilt.
    pub rebuilt: usize,
}

/// The sealed form: compact, so that listing 500 children stays close to a plain select.
#[derive(Serialize, Deserialize)]
struct SealedSummary {
    id: [u8; 16],
    name: String,
    /// Days from the common era, as `NaiveDate::num_days_from_ce`.
    birth_date: Option<i32>,
    nhs_number: Option<String>,
    entry_count: u64,
    has_conflicts: bool,
    /// Milliseconds since the Unix epoch.
    last_change: Option<i64>,
    withdrawn: bool,
}

/// 2: with `withdrawn`. A summary of another format is rebuilt from its record.
const SUMMARY_FORMAT: u8 = 2;

/// Per record: the name and date of birth its invitation carried (`model::RecordHint`).
pub const DISPLAY_HINT: &str = "display_hint";

/// The record's display hint, if its invitation left one (sealed like any meta value).
pub(super) fn display_hint(
    conn: &Connection,
    cipher: &StoreCipher,
    record_ref: &[u8],
) -> Option<RecordHint> {
    let name = format!("{DISPLAY_HINT}/{}", hex::encode(record_ref));
    let sealed = get_meta(conn, &name).ok()??;
    let plain = cipher.open_meta(&name, &sealed)?;
    serde_json::from_slice(&plain).ok()
}

/// What a list shows of `record`, from the document itself. `changed_at`: when this
/// device stored the change the summary is written with; None when rebuilding, where
/// the latest head change's own time is taken instead (automerge builds each change's
/// metadata from its ops to say it: too slow for every write).
pub(super) fn summarise(
    id: &RecordId,
    record: &Record,
    changed_at: Option<DateTime<Utc>>,
    hint: impl FnOnce() -> Option<RecordHint>,
) -> ChildSummary {
    let mut details = record.details();
    // A record accepted but not yet synced has no details: its invitation's hint stands
    // in for them until the first sync brings them (read only then, so a write to a
    // record with a name costs no more).
    if details.name.is_empty() && details.birth_date.is_none() {
        if let Some(hint) = hint() {
            details.name = hint.name;
            details.birth_date = hint.birth_date;
        }
    }
    ChildSummary {
        id: id.clone(),
        name: details.name,
        birth_date: details.birth_date,
        nhs_number: details.nhs_number,
        entry_count: record.entry_count() as u64,
        has_conflicts: !record.conflicts().is_empty(),
        last_change: changed_at.or_else(|| record.last_change(Utc::now())),
        withdrawn: record.withdrawn(),
    }
}

/// Writes the record's head and `summary`, which describes the record at that head, in
/// one row within the caller's transaction.
pub(super) fn put_head_and_summary(
    conn: &Connection,
    cipher: &StoreCipher,
    record_ref: &[u8; 32],
    sealed_head: &[u8],
    summary: &ChildSummary,
) -> Result<(), Error> {
    let nhs_ref = summary.nhs_number.as_deref().map(|nhs| cipher.nhs_ref(nhs));
    let sealed =
        cipher.seal_summary(record_ref, sealed_head, nhs_ref.as_ref(), &encode(summary))?;
    let row = params![
        record_ref.as_slice(),
        sealed_head,
        nhs_ref.as_ref().map(|r| r.as_slice()),
        sealed
    ];
    // Usually only the head and the summary change: an update that does not name
    // `nhs_ref` leaves its index alone (naming it rewrites the index entry even when the
    // value is the same: one more page to write at every change).
    let updated = conn
        .prepare_cached(
            "UPDATE summaries SET sealed_head = ?2, sealed = ?4
             WHERE record_ref = ?1 AND nhs_ref IS ?3",
        )?
        .execute(row)?;
    if updated == 0 {
        conn.prepare_cached(
            "INSERT INTO summaries (record_ref, sealed_head, nhs_ref, sealed) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(record_ref) DO UPDATE SET sealed_head = excluded.sealed_head,
                 nhs_ref = excluded.nhs_ref, sealed = excluded.sealed",
        )?
        .execute(row)?;
    }
    Ok(())
}

/// A summary's plaintext: its format, then the compact form.
fn encode(summary: &ChildSummary) -> Vec<u8> {
    let sealed = SealedSummary {
        id: summary.id.to_bytes(),
        name: summary.name.clone(),
        birth_date: summary.birth_date.map(|d| d.num_days_from_ce()),
        nhs_number: summary.nhs_number.clone(),
        entry_count: summary.entry_count,
        has_conflicts: summary.has_conflicts,
        last_change: summary.last_change.map(|t| t.timestamp_millis()),
        withdrawn: summary.withdrawn,
    };
    let mut plain = vec![SUMMARY_FORMAT];
    plain.extend(postcard::to_stdvec(&sealed).expect("a summary serialises"));
    plain
}

/// The summary a plaintext holds; None for another format or damage (rebuilt by the
/// caller).
fn decode(plain: &[u8]) -> Option<ChildSummary> {
    let (&format, body) = plain.split_first()?;
    if format != SUMMARY_FORMAT {
        return None;
    }
    let s: SealedSummary = postcard::from_bytes(body).ok()?;
    Some(ChildSummary {
        id: RecordId::from_bytes(&s.id),
        name: s.name,
        birth_date: match s.birth_date {
            Some(days) => Some(NaiveDate::from_num_days_from_ce_opt(days)?),
            None => None,
        },
        nhs_number: s.nhs_number,
        entry_count: s.entry_count,
        has_conflicts: s.has_conflicts,
        last_change: match s.last_change {
            Some(ms) => Some(DateTime::<Utc>::from_timestamp_millis(ms)?),
            None => None,
        },
        withdrawn: s.withdrawn,
    })
}

impl Store {
    /// The name and date of birth a record's invitation carried, if it left any: they
    /// stand in for its details until the first sync brings them.
    pub fn display_hint(&mut self, id: &RecordId) -> Result<Option<RecordHint>, Error> {
        self.refresh(id)?;
        Ok(self
            .open_records
            .peek(id)
            .and_then(|open| display_hint(&self.conn, &self.cipher, &open.record_ref)))
    }

    /// Every record's summary: one query, one decryption each. Any that does not open
    /// beside its record's head is rebuilt from the document and written again.
    pub fn summaries(&mut self) -> Result<Summaries, Error> {
        let version = self.data_version()?;
        let mut summaries = Summaries {
            children: Vec::with_capacity(self.listed_last_time),
            damaged: Vec::new(),
            rebuilt: 0,
        };
        let mut stale = Vec::new();
        if self.v3 {
            let mut opener = self.cipher.summary_opener();
            let mut stmt = self
                .conn
                .prepare_cached("SELECT record_ref, sealed_head, nhs_ref, sealed FROM summaries")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                // A value of the wrong type (a row edited by hand) is as unreadable as a
                // tampered one.
                let Ok(record_ref) = row.get_ref(0)?.as_blob() else {
                    continue;
                };
                let opened = match (
                    row.get_ref(1)?.as_blob(),
                    row.get_ref(2)?.as_blob_or_null(),
                    row.get_ref(3)?.as_blob(),
                ) {
                    (Ok(head), Ok(nhs_ref), Ok(sealed)) => opener
                        .open(record_ref, head, nhs_ref, sealed)
                        .and_then(decode),
                    _ => None,
                };
                match opened {
                    Some(summary) => summaries.children.push(summary),
                    None => stale.push(record_ref.to_vec()),
                }
            }
        }
        // Records with no summaries row (no head either: damage, or an older file). Not
        // asked again while no other connection has written since the last full check:
        // this handle's own writes add a row with every record.
        let records = if self.summaries_checked == Some(version) {
            summaries.children.len() + stale.len()
        } else {
            self.conn
                .prepare_cached("SELECT COUNT(*) FROM records")?
                .query_row([], |row| row.get::<_, i64>(0))? as usize
        };
        if records != summaries.children.len() + stale.len() {
            let unlisted = if self.v3 {
                "SELECT record_ref FROM records r WHERE NOT EXISTS
                     (SELECT 1 FROM summaries s WHERE s.record_ref = r.record_ref)"
            } else {
                "SELECT record_ref FROM records"
            };
            let unlisted = self
                .conn
                .prepare(unlisted)?
                .query_map([], |row| row.get::<_, Vec<u8>>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            stale.extend(unlisted);
        }
        for record_ref in stale {
            let Some(id) = self.record_id_at(&record_ref)? else {
                summaries.damaged.push(None);
                continue;
            };
            match self.rebuild_summary(&id) {
                Ok(summary) => {
                    summaries.rebuilt += 1;
                    summaries.children.push(summary);
                }
                Err(Error::CorruptData { .. }) => summaries.damaged.push(Some(id)),
                Err(e) => return Err(e),
            }
        }
        if self.v3 {
            self.summaries_checked = Some(version);
        }
        self.listed_last_time = summaries.children.len();
        Ok(summaries)
    }

    /// The records whose NHS number this is (normalised: ten digits): a lookup of its
    /// keyed hash, each summary opened beside its record's head.
    pub fn find_by_nhs_number(&mut self, nhs_number: &str) -> Result<Vec<ChildSummary>, Error> {
        // A row rewritten by another connection (or by hand) since this handle last
        // checked every summary could hide a record from the index: check them all first.
        if !self.v3 || self.summaries_checked != Some(self.data_version()?) {
            let all = self.summaries()?;
            return Ok(all
                .children
                .into_iter()
                .filter(|s| s.nhs_number.as_deref() == Some(nhs_number))
                .collect());
        }
        let nhs_ref = self.cipher.nhs_ref(nhs_number);
        let mut opener = self.cipher.summary_opener();
        let mut found = Vec::new();
        let mut unreadable = false;
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT record_ref, sealed_head, sealed FROM summaries WHERE nhs_ref = ?1",
            )?;
            let mut rows = stmt.query([nhs_ref.as_slice()])?;
            while let Some(row) = rows.next()? {
                let opened = match (
                    row.get_ref(0)?.as_blob(),
                    row.get_ref(1)?.as_blob(),
                    row.get_ref(2)?.as_blob(),
                ) {
                    (Ok(record_ref), Ok(head), Ok(sealed)) => {
                        let nhs_ref = Some(nhs_ref.as_slice());
                        opener
                            .open(record_ref, head, nhs_ref, sealed)
                            .and_then(decode)
                    }
                    _ => None,
                };
                match opened {
                    Some(summary) => found.push(summary),
                    None => unreadable = true,
                }
            }
        }
        if unreadable {
            // Checked a moment ago and written only by this handle since: unreadable now
            // means damage, which the full list finds and rebuilds.
            self.summaries_checked = None;
            return self.find_by_nhs_number(nhs_number);
        }
        Ok(found)
    }

    /// The record id sealed in a records row, if it opens and matches the row.
    fn record_id_at(&self, record_ref: &[u8]) -> Result<Option<RecordId>, Error> {
        let sealed_id: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT sealed_id FROM records WHERE record_ref = ?1",
                [record_ref],
                |row| row.get(0),
            )
            .optional()?;
        Ok(sealed_id.and_then(|sealed| self.cipher.open_record_id(record_ref, &sealed)))
    }

    /// Works a record's summary out from its document and writes it beside the head the
    /// document was read at.
    fn rebuild_summary(&mut self, id: &RecordId) -> Result<ChildSummary, Error> {
        self.refresh(id)?;
        let open = &self.open_records[id];
        let summary = summarise(id, &open.record, None, || {
            display_hint(&self.conn, &self.cipher, &open.record_ref)
        });
        if self.v3 {
            // The head stays as it is: only the summary beside it is written.
            let sealed_head: Option<Vec<u8>> = self
                .conn
                .query_row(
                    "SELECT sealed_head FROM summaries WHERE record_ref = ?1",
                    [open.record_ref.as_slice()],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(sealed_head) = sealed_head {
                if open_head(&self.cipher, &open.record_ref, &sealed_head) == Some(open.last_seq) {
                    put_head_and_summary(
                        &self.conn,
                        &self.cipher,
                        &open.record_ref,
                        &sealed_head,
                        &summary,
                    )?;
                }
            }
        }
        Ok(summary)
    }

    /// Changes when another connection commits (`PRAGMA data_version`).
    fn data_version(&self) -> Result<i64, Error> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?)
    }
}
