//! Growth references and the schedule for a child known only by date of birth.

use crate::{CentileQuery, RedbookError, Result};
use chrono::NaiveDate;
use redbook_core::growth::{
    self, Assessment, Correction, GrowthReferences, Observation, Reference,
};
use redbook_core::model::Sex;
use redbook_core::schedule::{DueReport, Eligibility};
use std::sync::Arc;

/// The growth references this installation has: WHO 2006 always (embedded), UK90
/// (preterm, and 4 to 20 years) only from a licensed data pack the deployer supplies.
#[derive(uniffi::Object)]
pub struct GrowthCharts {
    pub(crate) references: GrowthReferences,
}

#[uniffi::export]
impl GrowthCharts {
    /// WHO 2006 only: UK90 ages answer "reference not available".
    #[uniffi::constructor]
    pub fn who_only() -> Arc<Self> {
        Arc::new(Self {
            references: GrowthReferences::embedded().clone(),
        })
    }

    /// WHO plus the UK90 pack at `path` (built by scripts/growth-tables.py uk90).
    #[uniffi::constructor]
    pub fn with_uk90_pack(path: String) -> Result<Arc<Self>> {
        let text = std::fs::read_to_string(&path).map_err(|_| RedbookError::InvalidInput {
            field: "uk90_pack".into(),
            reason: redbook_core::view::forms::UNREADABLE_FILE.into(),
        })?;
        let references =
            GrowthReferences::with_uk90_pack(&text).map_err(|e| RedbookError::InvalidInput {
                field: "uk90_pack".into(),
                reason: e.to_string(),
            })?;
        Ok(Arc::new(Self { references }))
    }

    pub fn has_uk90(&self) -> bool {
        self.references.has(Reference::Uk90Child)
    }

    /// The centile of one measurement.
    pub fn assess(&self, query: CentileQuery, correction: Correction) -> Result<Assessment> {
        let observation = Observation {
            sex: match query.sex {
                Sex::Female => growth::Sex::Female,
                Sex::Male => growth::Sex::Male,
            },
            birth_date: query.birth_date,
            gestation_days: query.gestation.total_days,
            date: query.date,
            measure: query.measure,
            value: query.value,
        };
        growth::assess(&self.references, &observation, correction).map_err(|e| match e {
            growth::GrowthError::InvalidInput { field, reason } => RedbookError::InvalidInput {
                field: field.into(),
                reason,
            },
            other => RedbookError::InvalidInput {
                field: other.field().into(),
                reason: other.to_string(),
            },
        })
    }
}

/// What is due for a child known only by date of birth. `on` defaults to today.
#[uniffi::export]
pub fn due_for_birth_date(
    birth_date: NaiveDate,
    on: Option<NaiveDate>,
    eligibility: Eligibility,
) -> Result<DueReport> {
    Ok(redbook_core::due_for_birth_date(
        birth_date,
        on.unwrap_or_else(today),
        eligibility,
    )?)
}

pub(crate) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}
