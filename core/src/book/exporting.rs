//! Handing the record to a professional: FHIR R4 out and back in, and the printable
//! summary.

use super::RedBook;
use crate::child::ImportReport;
use crate::export::fhir::{self, ExportSource, ExportedCentile};
use crate::export::summary::{self, GrowthSection, SummaryInput};
use crate::growth::{Correction, GrowthReferences, Measure};
use crate::model::{
    validate, EntryBody, EntryId, RecordId, StoredEntry, ValidationError, Verification,
};
use crate::Error;
use chrono::{NaiveDate, Utc};
use std::collections::{HashMap, HashSet};

impl RedBook {
    /// The child's record as a FHIR R4 Bundle (JSON): every entry, its status, author,
    /// and signature. Left out: entries a newer app wrote that this one cannot read, and
    /// entries whose signature is invalid or whose author could not write then (never
    /// exported as that author's; docs/threat-model.md), with what points at them.
    pub fn export_fhir(&self, id: &RecordId) -> Result<String, Error> {
        // Centiles on the embedded UK-WHO references at the RCPCH digital charts'
        // correction, as the app shows them; a measure the engine cannot chart (no sex or
        // date of birth, or a reference not installed) has none.
        let mut growth = Vec::new();
        for measure in [
            Measure::WeightKg,
            Measure::HeightCm,
            Measure::HeadCircumferenceCm,
            Measure::Bmi,
        ] {
            if let Ok(series) = self.growth(
                id,
                measure,
                GrowthReferences::embedded(),
                Correction::default(),
            ) {
                let chart = series.chart;
                growth.extend(series.points.into_iter().map(|p| (measure, chart, p)));
            }
        }
        let mut inner = self.lock();
        let me = inner.author.device_id.clone();
        let super::Inner { store, trusted, .. } = &mut *inner;
        let record = store.record(id)?;
        let confirmed = super::confirmed_roles(&record.membership(), trusted);
        let (mut entries, _unreadable) = record.entry_views(&confirmed);
        crate::sync::removal::mark_written_after_removal(store, id, &me, &mut entries)?;
        super::keep_verdicts(store, id);
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
        let bodies: HashMap<&EntryId, &EntryBody> = entries
            .iter()
            .map(|v| (&v.entry.id, &v.entry.body))
            .collect();
        let centiles: Vec<ExportedCentile> = growth
            .into_iter()
            .filter_map(|(measure, chart, point)| {
                let body = *bodies.get(&point.entry_id)?;
                let a = point.assessment?;
                Some(ExportedCentile {
                    part: centile_part(body, measure)?,
                    entry_id: point.entry_id,
                    date: point.date,
                    value: point.value,
                    centile: a.centile,
                    sds: a.z,
                    method: format!(
                        "{} chart, reference {}, read at {} age",
                        chart.name(),
                        a.reference.name(),
                        if a.used_corrected_age {
                            "corrected"
                        } else {
                            "chronological"
                        }
                    ),
                })
            })
            .collect();
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
            centiles: &centiles,
            exported_at: Utc::now(),
        });
        Ok(fhir::to_json_string(&bundle))
    }

    /// Reads FHIR into a new record, which this device creates and is the only member of.
    /// A Bundle `export_fhir` wrote comes back whole: every entry keeps its id, author,
    /// time and signature; an entry shows as verified only where its signer is a member
    /// here, because a file cannot confer trust; all or nothing. FHIR another system wrote
    /// (UK Core; a Bundle or one Patient) needs a Patient: see `import_foreign`.
    pub fn import_fhir(&self, json: &[u8]) -> Result<ImportReport, Error> {
        let value = parse_json(json)?;
        if !fhir::is_own_export(&value) {
            let mut foreign = fhir::read_foreign(&value, None)?;
            let details = foreign.details.take().ok_or_else(|| {
                ValidationError::new(
                    "fhir Patient",
                    "the file holds no Patient to make a record for",
                )
            })?;
            let details = keep_valid_details(details, &mut foreign)?;
            let record = self.create_record(&details, |_, _| Ok(()))?;
            return self.add_foreign(&record, details.birth_date, foreign);
        }
        let imported = fhir::read_bundle(&value)?;
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
        let added = imported.entries.len() as u32;
        let record = self.create_record(&details, |record, keys| {
            let me = keys.public();
            // Ids commit to their record, so every entry takes a new one here; what
            // corrects or marks an entry follows it to its new id.
            let mut new_ids: std::collections::HashMap<EntryId, EntryId> =
                std::collections::HashMap::new();
            // Oldest first, so an entry takes its new id before anything that corrects it.
            let mut in_order: Vec<_> = imported.entries.iter().collect();
            in_order.sort_by_key(|(a, _)| a.recorded_at);
            for (entry, signature) in in_order {
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
                let mut entry = entry.clone();
                let follow = |id: &mut EntryId| {
                    if let Some(new) = new_ids.get(id) {
                        *id = new.clone();
                    }
                };
                if let Some(target) = entry.amends.as_mut() {
                    follow(target);
                }
                if let EntryBody::EnteredInError { target, .. } = &mut entry.body {
                    follow(target);
                }
                let old_id = entry.id.clone();
                if own {
                    record.put_entry(&mut entry, keys)?;
                } else {
                    record.put_unsigned_entry(&mut entry)?;
                }
                new_ids.insert(old_id, entry.id);
            }
            Ok(())
        })?;
        Ok(ImportReport {
            record,
            entries_added: added,
            not_imported: Vec::new(),
        })
    }

    /// Reads FHIR another system wrote (UK Core: a GP system's immunisations, a clinic's
    /// measurements; a Bundle or one resource) into this child's record. Each Immunization
    /// and vital-signs Observation becomes an entry signed by this device, as the member
    /// that brought it in, with where it came from (`StoredEntry::source`): it counts as
    /// that member's word (a parent's reported dose is worded apart, `view`).
    /// A resource about another patient (a Patient in the file, or an NHS number on the
    /// reference, that is not this child's), one that fails the checks at the app's door,
    /// and every element redbook has no place for, is reported, not added.
    pub fn import_foreign(&self, id: &RecordId, json: &[u8]) -> Result<ImportReport, Error> {
        let value = parse_json(json)?;
        let here = self.child(id)?.details;
        let mut foreign = fhir::read_foreign(&value, here.nhs_number.as_deref())?;
        if let Some(there) = foreign.details.take() {
            if !same_child(&here, &there) {
                return Err(ValidationError::new(
                    "fhir Patient",
                    "is not this child: the NHS numbers differ (or, with none here, the name or date of birth)",
                )
                .into());
            }
        }
        self.add_foreign(id, here.birth_date, foreign)
    }

    fn add_foreign(
        &self,
        id: &RecordId,
        birth: Option<NaiveDate>,
        foreign: fhir::ForeignRecord,
    ) -> Result<ImportReport, Error> {
        let today = Self::today();
        let me = self.author()?;
        let mut report = ImportReport {
            record: id.clone(),
            entries_added: 0,
            not_imported: foreign.not_imported,
        };
        let mut entries = Vec::new();
        for entry in foreign.entries {
            let body = validate::normalise_entry(entry.body);
            if let Err(e) = validate::validate_entry(&body, birth, today) {
                report.not_imported.push(fhir::NotImported {
                    what: entry.source,
                    why: format!("{}: {}", e.field, e.reason),
                });
                continue;
            }
            // Signed by this device, which vouches for having read it from the file; where
            // it came from is kept beside it (docs/threat-model.md, "Imports").
            let source = match (entry.performer.as_deref(), entry.organisation.as_deref()) {
                (Some(performer), Some(org)) => format!("{performer}, {org}"),
                (Some(performer), None) => performer.to_string(),
                (None, Some(org)) => org.to_string(),
                (None, None) => "another system".to_string(),
            };
            entries.push(StoredEntry {
                id: EntryId::generate()?,
                author: me.clone(),
                recorded_at: Utc::now(),
                amends: None,
                body,
                source: Some(source),
            });
        }
        self.put_imported_entries(id, &entries)?;
        report.entries_added = entries.len() as u32;
        report.not_imported.sort();
        Ok(report)
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
            not_shared: {
                let me = self.device_id();
                crate::sync::removal::written_here_after_removal(
                    &mut self.lock().store,
                    id,
                    &me,
                    &record.entries,
                )?
            },
        }))
    }
}

/// Which exported Observation part a growth point measured.
fn centile_part(body: &EntryBody, measure: Measure) -> Option<&'static str> {
    Some(match (body, measure) {
        (EntryBody::BirthDetails(_), Measure::WeightKg) => "birth-weight",
        (EntryBody::BirthDetails(_), Measure::HeightCm) => "birth-length",
        (EntryBody::BirthDetails(_), Measure::HeadCircumferenceCm) => "birth-head",
        (EntryBody::Measurement(_), Measure::WeightKg) => "weight",
        (EntryBody::Measurement(m), Measure::HeightCm) if m.length_cm.is_some() => "length",
        (EntryBody::Measurement(_), Measure::HeightCm) => "height",
        (EntryBody::Measurement(_), Measure::HeadCircumferenceCm) => "head",
        (EntryBody::Measurement(_), Measure::Bmi) => "bmi",
        _ => return None,
    })
}

/// Another system's Patient as details this record keeps: an NHS number that fails its
/// check is left out and reported, not allowed to refuse the child.
fn keep_valid_details(
    mut details: crate::model::ChildDetails,
    foreign: &mut fhir::ForeignRecord,
) -> Result<crate::model::ChildDetails, Error> {
    match validate::validate_details(&details, RedBook::today()) {
        Err(e) if e.field == "nhs_number" => {
            foreign.not_imported.push(fhir::NotImported {
                what: format!(
                    "{} identifier",
                    foreign.patient.as_deref().unwrap_or("Patient")
                ),
                why: format!("the NHS number {}; not kept", e.reason),
            });
            details.nhs_number = None;
            Ok(validate::validate_details(&details, RedBook::today())?)
        }
        other => Ok(other?),
    }
}

fn parse_json(json: &[u8]) -> Result<serde_json::Value, ValidationError> {
    serde_json::from_slice(json).map_err(|_| ValidationError::new("fhir", "is not JSON"))
}

/// Whether a file's Patient is this record's child: the same NHS number (the record's is
/// in normal form); or, where this record has none, the same name and date of birth.
fn same_child(here: &crate::model::ChildDetails, there: &crate::model::ChildDetails) -> bool {
    match (&here.nhs_number, &there.nhs_number) {
        (Some(a), Some(b)) => validate::normalise_nhs_number(b).is_ok_and(|b| *a == b),
        (Some(_), None) => false,
        (None, _) => {
            here.name.trim().eq_ignore_ascii_case(there.name.trim())
                && here.birth_date.is_some()
                && here.birth_date == there.birth_date
        }
    }
}
