//! A caseload's summaries (docs/adr/0010-caseload.md): per record what a list of children
//! shows, sealed under the database key in the same transaction as every change to the
//! record, with the sequence number of the chunk it describes in its associated data. A
//! summary that does not open under the record's last chunk (missing, stale, tampered,
//! swapped) is never shown: it is rebuilt from the document and written again.

use super::*;
use crate::child::ChildSummary;
use crate::crypto::Opener;
use chrono::{DateTime, NaiveDate, Utc};
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
    id: RecordId,
    name: String,
    /// Days from the common era, as `NaiveDate::num_days_from_ce`.
    birth_date: Option<i32>,
    nhs_number: Option<String>,
    entry_count: u64,
    has_conflicts: bool,
    /// Milliseconds since the Unix epoch.
    last_change: Option<i64>,
}

const SUMMARY_FORMAT: u8 = 1;

/// A row of the list query: record_ref, nhs_ref, sealed summary, the record's last chunk.
type SummaryRow = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, Option<i64>);

/// What a list shows of `record`, from the document itself.
pub(super) fn summarise(id: &RecordId, record: &Record) -> ChildSummary {
    let details = record.details();
    ChildSummary {
        id: id.clone(),
        name: details.name,
        birth_date: details.birth_date,
        nhs_number: details.nhs_number,
        entry_count: record.entry_count() as u64,
        has_conflicts: !record.conflicts().is_empty(),
        last_change: record.last_change(Utc::now()),
    }
}

/// The lookup for an NHS number (normalised: ten digits): a keyed hash, so the file never
/// holds the number in the clear.
pub(super) fn nhs_ref(lookup_key: &SecretKey, nhs_number: &str) -> [u8; 32] {
    lookup_key.keyed_hash(format!("nhs_number/{nhs_number}").as_bytes())
}

fn summary_aad(record_ref: &[u8], nhs_ref: Option<&[u8]>, seq: i64) -> Vec<u8> {
    let mut aad = row_aad("summaries", record_ref);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(nhs_ref.unwrap_or_default());
    aad
}

/// Writes `summary` as describing the record at chunk `seq`, within the caller's
/// transaction.
pub(super) fn put_summary(
    conn: &Connection,
    keys: (&SecretKey, &SecretKey),
    record_ref: &[u8; 32],
    seq: i64,
    summary: &ChildSummary,
) -> Result<(), Error> {
    let (sealing_key, lookup_key) = keys;
    let sealed = SealedSummary {
        id: summary.id.clone(),
        name: summary.name.clone(),
        birth_date: summary.birth_date.map(|d| d.num_days_from_ce()),
        nhs_number: summary.nhs_number.clone(),
        entry_count: summary.entry_count,
        has_conflicts: summary.has_conflicts,
        last_change: summary.last_change.map(|t| t.timestamp_millis()),
    };
    let mut plain = vec![SUMMARY_FORMAT];
    plain.extend(postcard::to_stdvec(&sealed).expect("a summary serialises"));
    let nhs_ref = summary
        .nhs_number
        .as_deref()
        .map(|nhs| nhs_ref(lookup_key, nhs));
    let aad = summary_aad(record_ref, nhs_ref.as_ref().map(|r| r.as_slice()), seq);
    let sealed = sealing_key.seal(&aad, &plain)?;
    conn.prepare_cached(
        "INSERT INTO summaries (record_ref, nhs_ref, sealed) VALUES (?1, ?2, ?3)
         ON CONFLICT(record_ref) DO UPDATE SET nhs_ref = excluded.nhs_ref, sealed = excluded.sealed",
    )?
    .execute(params![
        record_ref.as_slice(),
        nhs_ref.as_ref().map(|r| r.as_slice()),
        sealed
    ])?;
    Ok(())
}

/// The summary if it opens as describing the record at chunk `seq`; None if it does not
/// (rebuilt by the caller).
fn open_summary(
    opener: &Opener,
    record_ref: &[u8],
    nhs_ref: Option<&[u8]>,
    seq: i64,
    sealed: &[u8],
) -> Option<ChildSummary> {
    let plain = opener
        .open(&summary_aad(record_ref, nhs_ref, seq), sealed)
        .ok()?;
    let (&format, body) = plain.split_first()?;
    if format != SUMMARY_FORMAT {
        return None;
    }
    let s: SealedSummary = postcard::from_bytes(body).ok()?;
    Some(ChildSummary {
        id: s.id,
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
    })
}

use chrono::Datelike;

impl Store {
    /// Every record's summary: one query, one decryption each. Any that does not open
    /// under its record's last chunk is rebuilt from the document and written again.
    pub fn summaries(&mut self) -> Result<Summaries, Error> {
        let version = self.data_version()?;
        let rows: Vec<SummaryRow> = self
            .conn
            .prepare_cached(
                "SELECT r.record_ref, s.nhs_ref, s.sealed,
                        (SELECT MAX(c.seq) FROM chunks c WHERE c.record_ref = r.record_ref)
                 FROM records r LEFT JOIN summaries s ON s.record_ref = r.record_ref",
            )?
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        let opener = self.sealing_key.opener();
        let mut summaries = Summaries {
            children: Vec::with_capacity(rows.len()),
            damaged: Vec::new(),
            rebuilt: 0,
        };
        let mut stale = Vec::new();
        for (record_ref, nhs_ref, sealed, seq) in rows {
            let opened = match (sealed, seq) {
                (Some(sealed), Some(seq)) => {
                    open_summary(&opener, &record_ref, nhs_ref.as_deref(), seq, &sealed)
                }
                _ => None,
            };
            match opened {
                Some(summary) => summaries.children.push(summary),
                None => stale.push(record_ref),
            }
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
        if self.has_summaries {
            self.summaries_checked = Some(version);
        }
        Ok(summaries)
    }

    /// The records whose NHS number this is (normalised: ten digits): a lookup of its
    /// keyed hash, each summary opened under its record's last chunk.
    pub fn find_by_nhs_number(&mut self, nhs_number: &str) -> Result<Vec<ChildSummary>, Error> {
        // A row rewritten by another connection (or by hand) since this handle last
        // checked every summary could hide a record from the index: check them all first.
        if !self.has_summaries || self.summaries_checked != Some(self.data_version()?) {
            let all = self.summaries()?;
            return Ok(all
                .children
                .into_iter()
                .filter(|s| s.nhs_number.as_deref() == Some(nhs_number))
                .collect());
        }
        let nhs_ref = nhs_ref(&self.lookup_key, nhs_number);
        let rows: Vec<(Vec<u8>, Vec<u8>, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT s.record_ref, s.sealed,
                        (SELECT MAX(c.seq) FROM chunks c WHERE c.record_ref = s.record_ref)
                 FROM summaries s WHERE s.nhs_ref = ?1",
            )?
            .query_map([nhs_ref.as_slice()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let opener = self.sealing_key.opener();
        let mut found = Vec::new();
        for (record_ref, sealed, seq) in rows {
            let opened = seq.and_then(|seq| {
                open_summary(&opener, &record_ref, Some(nhs_ref.as_slice()), seq, &sealed)
            });
            match opened {
                Some(summary) => found.push(summary),
                // Checked a moment ago and written only by this handle since: unreadable
                // now means damage, which the full list shows and rebuilds.
                None => {
                    self.summaries_checked = None;
                    return self.find_by_nhs_number(nhs_number);
                }
            }
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
        Ok(sealed_id.and_then(|sealed| {
            self.sealing_key
                .open(&row_aad("records/id", record_ref), &sealed)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .and_then(|s| s.parse::<RecordId>().ok())
                .filter(|id| self.record_ref(id).as_slice() == record_ref)
        }))
    }

    /// Works a record's summary out from its document and writes it for the chunk the
    /// document was read at.
    fn rebuild_summary(&mut self, id: &RecordId) -> Result<ChildSummary, Error> {
        self.refresh(id)?;
        let open = self.open_records.get(id).expect("refreshed above");
        let summary = summarise(id, &open.record);
        if self.has_summaries {
            put_summary(
                &self.conn,
                (&self.sealing_key, &self.lookup_key),
                &open.record_ref,
                open.last_seq,
                &summary,
            )?;
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
