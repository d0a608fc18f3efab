//! The façade over `export`: FHIR R4 out and back in, and the printable summary. The
//! record is read once per call; what goes out and what comes in is decided in
//! `export::fhir` (`export_rules`, `import_rules`).

use super::{Inner, RedBook};
use crate::child::{ImportReport, PrintoutCheck};
use crate::export::fhir::{self, export_rules, import_rules, ExportSource};
use crate::export::printout;
use crate::export::summary::{self, GrowthSection, SummaryInput};
use crate::growth::{series, Correction, GrowthReferences, Measure};
use crate::model::{RecordId, ValidationError};
use crate::sync::removal;
use crate::Error;
use chrono::{NaiveDate, Utc};

impl RedBook {
    /// The child's record as a FHIR R4 Bundle (JSON): every entry, its status, author,
    /// and signature. Left out: entries a newer app wrote that this one cannot read, and
    /// entries whose signature is invalid or whose author could not write then (never
    /// exported as that author's; docs/threat-model.md), with what points at them.
    pub fn export_fhir(&self, id: &RecordId) -> Result<String, Error> {
        // Centiles on the embedded UK-WHO references at the RCPCH digital charts'
        // correction, as the app shows them; a measure the engine cannot chart (no sex or
        // date of birth, or a reference not installed) has none.
        let shown = self.child(id)?;
        let mut growth = Vec::new();
        for measure in [
            Measure::WeightKg,
            Measure::HeightCm,
            Measure::HeadCircumferenceCm,
            Measure::Bmi,
        ] {
            if let Ok(series) = series::series(
                &shown.details,
                &shown.timeline(),
                measure,
                GrowthReferences::embedded(),
                Correction::default(),
            ) {
                let chart = series.chart;
                growth.extend(series.points.into_iter().map(|p| (measure, chart, p)));
            }
        }
        let mut inner = self.lock();
        let Inner {
            store,
            trusted,
            author,
            ..
        } = &mut *inner;
        let record = store.record(id)?;
        let confirmed = super::confirmed_roles(&record.membership(), trusted);
        let (mut entries, _unreadable) = record.entry_views(&confirmed);
        removal::mark_written_after_removal(store, id, &author.device_id, &mut entries)?;
        super::keep_verdicts(store, id);
        export_rules::leave_out_untrusted(&mut entries);
        let centiles = export_rules::exported_centiles(growth, &entries);
        let record = store.record(id)?;
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
        let value = import_rules::parse_json(json)?;
        let today = Self::today();
        if !fhir::is_own_export(&value) {
            let mut foreign = fhir::read_foreign(&value, None)?;
            let details = foreign.details.take().ok_or_else(|| {
                ValidationError::new(
                    "fhir Patient",
                    "the file holds no Patient to make a record for",
                )
            })?;
            let details = import_rules::keep_valid_details(details, &mut foreign, today)?;
            let record = self.create_record(&details, |_, _| Ok(()))?;
            return self.add_foreign(&record, details.birth_date, foreign);
        }
        let imported = fhir::read_bundle(&value)?;
        let details = import_rules::check_own_bundle(&imported, today)?;
        let record = self.create_record(&details, |record, keys| {
            import_rules::put_bundle_entries(&imported, record, keys)
        })?;
        Ok(ImportReport {
            record,
            entries_added: imported.entries.len() as u32,
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
        let value = import_rules::parse_json(json)?;
        let here = self.child(id)?.details;
        let mut foreign = fhir::read_foreign(&value, here.nhs_number.as_deref())?;
        if let Some(there) = foreign.details.take() {
            if !import_rules::same_child(&here, &there) {
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
        let mut not_imported = foreign.not_imported;
        let entries = import_rules::admitted_entries(
            foreign.entries,
            birth,
            Self::today(),
            &self.author()?,
            &mut not_imported,
        )?;
        self.put_imported_entries(id, &entries)?;
        not_imported.sort();
        Ok(ImportReport {
            record: id.clone(),
            entries_added: entries.len() as u32,
            not_imported,
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
        let timeline = record.timeline();
        let mut growth = Vec::new();
        let mut growth_unavailable = None;
        for measure in [
            Measure::WeightKg,
            Measure::HeightCm,
            Measure::HeadCircumferenceCm,
        ] {
            match series::series(&record.details, &timeline, measure, refs, correction) {
                Ok(series) => growth.push(GrowthSection {
                    chart_svg: series::chart_svg(
                        &record.details,
                        &timeline,
                        measure,
                        refs,
                        correction,
                    )
                    .ok(),
                    series,
                }),
                Err(e) => match Error::from(e) {
                    Error::InvalidInput(e) => {
                        growth_unavailable = Some(format!("Growth cannot be charted: {e}."));
                        break;
                    }
                    e => return Err(e),
                },
            }
        }
        let (not_shared, verification_code) = {
            let mut inner = self.lock();
            let Inner {
                store,
                author,
                keys,
                ..
            } = &mut *inner;
            let not_shared =
                removal::written_here_after_removal(store, id, &author.device_id, &record.entries)?;
            let shown = printout::shown(&record, &not_shared);
            let code = printout::code(&record, &shown, keys, Utc::now());
            (not_shared, code)
        };
        Ok(summary::render(&SummaryInput {
            record: &record,
            growth,
            growth_unavailable,
            due: super::due_report(&record, on).ok(),
            on,
            show_address,
            not_shared,
            verification_code: Some(verification_code),
        }))
    }

    /// Checks a printout's verification code (the text its QR code carries) against this
    /// child's record as this device holds it: which member device signed it, when, and
    /// whether the record still shows what it printed (or what was written since). A
    /// code that is not one, another record's, or signed by a device that is not (or no
    /// longer) a member is refused in words that say which.
    pub fn verify_printout(&self, id: &RecordId, code: &str) -> Result<PrintoutCheck, Error> {
        let record = self.child(id)?;
        let mut inner = self.lock();
        let Inner {
            store,
            author,
            trusted,
            ..
        } = &mut *inner;
        let not_shared =
            removal::written_here_after_removal(store, id, &author.device_id, &record.entries)?;
        let members = crate::sync::members::confirmed_now(store.record(id)?.members(), trusted);
        let shown = printout::shown(&record, &not_shared);
        printout::check(code, &record, &members, &shown, Utc::now())
    }
}
