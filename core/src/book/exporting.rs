//! Handing the record to a professional: FHIR R4 out and back in, and the printable
//! summary.

use super::RedBook;
use crate::export::fhir::{self, ExportSource};
use crate::export::summary::{self, GrowthSection, SummaryInput};
use crate::growth::{Correction, GrowthReferences, Measure};
use crate::model::{validate, EntryBody, EntryId, RecordId, ValidationError, Verification};
use crate::Error;
use chrono::{NaiveDate, Utc};
use std::collections::HashSet;

impl RedBook {
    /// The child's record as a FHIR R4 Bundle (JSON): every entry, its status, author,
    /// and signature. Left out: entries a newer app wrote that this one cannot read, and
    /// entries whose signature is invalid or whose author could not write then (never
    /// exported as that author's; docs/threat-model.md), with what points at them.
    pub fn export_fhir(&self, id: &RecordId) -> Result<String, Error> {
        let mut inner = self.lock();
        let (mut entries, _unreadable) = inner.store.record(id)?.entry_views();
        super::keep_verdicts(&mut inner.store, id);
        let record = inner.store.record(id)?;
        let mut left_out: HashSet<EntryId> = HashSet::new();
        loop {
            let before = left_out.len();
            for view in &entries {
                let target = match &view.entry.body {
                    EntryBody::EnteredInError { target, .. } => Some(target),
                    _ => view.entry.amends.as_ref(),
                };
                let untrusted = matches!(
                    view.verification,
                    Verification::Invalid | Verification::NotPermitted
                );
                if untrusted || target.is_some_and(|t| left_out.contains(t)) {
                    left_out.insert(view.entry.id.clone());
                }
            }
            if left_out.len() == before {
                break;
            }
        }
        entries.retain(|v| !left_out.contains(&v.entry.id));
        let bundle = fhir::to_bundle(&ExportSource {
            record_id: id.as_str(),
            details: &record.details(),
            entries: &entries,
            signatures: &record
                .entry_signatures()
                .into_iter()
                .map(|(id, (_, signature))| (id, signature.to_vec()))
                .collect(),
            members: &record.members(),
            exported_at: Utc::now(),
        });
        Ok(fhir::to_json_string(&bundle))
    }

    /// Reads a Bundle `export_fhir` wrote into a new record, which this device creates
    /// and is the only member of. Every entry keeps its id, author, time and signature;
    /// an entry shows as verified only where its signer is a member here, because a file
    /// cannot confer trust. All or nothing: a Bundle with any bad part adds nothing.
    pub fn import_fhir(&self, json: &[u8]) -> Result<RecordId, Error> {
        let imported = fhir::from_bundle(json)?;
        let today = Self::today();
        let details = validate::validate_details(&imported.details, today)?;
        let ids: HashSet<&EntryId> = imported.entries.iter().map(|(e, _)| &e.id).collect();
        if ids.len() != imported.entries.len() {
            return Err(
                ValidationError::new("fhir Provenance.id", "two entries share an id").into(),
            );
        }
        for (entry, _) in &imported.entries {
            validate::validate_entry(&entry.body, details.birth_date, today)?;
            let target = match &entry.body {
                EntryBody::EnteredInError { target, .. } => Some(target),
                _ => entry.amends.as_ref(),
            };
            if target.is_some_and(|t| !ids.contains(t)) {
                return Err(ValidationError::new(
                    "fhir Provenance",
                    "corrects an entry the Bundle does not hold",
                )
                .into());
            }
        }
        self.create_record(&details, |record, keys| {
            let me = keys.public();
            for (entry, signature) in &imported.entries {
                // An entry this device wrote and signed for the record it came from is
                // signed again for this one; any other entry comes in unsigned: a file
                // cannot vouch for another device (docs/threat-model.md, "Imports").
                let own = entry.author.device_id == me.device_id()
                    && imported
                        .origin
                        .as_ref()
                        .zip(signature.as_deref())
                        .is_some_and(|(origin, signature)| {
                            let json = serde_json::to_vec(entry).unwrap_or_default();
                            let value = crate::record::signed::with_signature(
                                crate::record::signed::Kind::Entry,
                                &json,
                                signature
                                    .try_into()
                                    .ok()
                                    .map(|s: &[u8; 64]| (&me.signing_key, s)),
                            );
                            crate::record::signed::parse(&value).is_some_and(|v| v.verifies(origin))
                        });
                if own {
                    record.put_entry(entry, keys)?;
                } else {
                    record.put_unsigned_entry(entry)?;
                }
            }
            Ok(())
        })
    }

    /// A one-page summary to print or show (self-contained HTML): details, latest
    /// measurements with centiles and charts, immunisations given and due (routine
    /// programme), reviews, screening, allergies, medicines, illnesses and contacts.
    pub fn summary_html(
        &self,
        id: &RecordId,
        refs: &GrowthReferences,
        correction: Correction,
        on: NaiveDate,
        show_address: bool,
    ) -> Result<String, Error> {
        let record = self.child(id)?;
        let mut growth = Vec::new();
        let mut growth_unavailable = None;
        for measure in [
            Measure::WeightKg,
            Measure::HeightCm,
            Measure::HeadCircumferenceCm,
        ] {
            match self.growth(id, measure, refs, correction) {
                Ok(series) => growth.push(GrowthSection {
                    chart_svg: self.growth_chart(id, measure, refs, correction).ok(),
                    series,
                }),
                Err(Error::InvalidInput(e)) => {
                    growth_unavailable = Some(format!("Growth cannot be charted: {e}."));
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(summary::render(&SummaryInput {
            record: &record,
            growth,
            growth_unavailable,
            due: self.due(id, on).ok(),
            on,
            show_address,
        }))
    }
}
