//! UK-WHO growth centiles: the LMS method, reference switching by corrected age, the
//! gestational correction, the words a parent reads, and faltering growth.
//! Pure functions over the tables in `tables`; of ours, only `series` (a record's
//! measurements on the charts) reads the model and the schedule's counted risk factors.
//! Facts from docs/domain.md, "Growth" (RCPCH "How the API works"; NICE NG75).

use chrono::NaiveDate;
use serde::Serialize;

pub mod chart;
mod dynamic;
mod mid_parental;
pub mod plausibility;
pub mod series;
mod tables;
pub use dynamic::{
    conditional_gain_sds, latest_weight_gain, thrive_line, velocity,
    weighed_more_often_than_advised, Velocity, WeighedOften, WeightCorrelations, WeightGain,
    THRIVE_LINE_CENTILE,
};
pub use mid_parental::{mid_parental_height, MidParentalHeight, TARGET_RANGE_SDS};
pub use series::{GrowthPoint, GrowthSeries};
pub use tables::{GrowthReferences, Lms, LmsTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    WeightKg,
    /// Lying length under 2 years, standing height from 2: one series in the tables.
    HeightCm,
    HeadCircumferenceCm,
    Bmi,
}

impl Measure {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "weight" => Measure::WeightKg,
            "height" => Measure::HeightCm,
            "head" => Measure::HeadCircumferenceCm,
            "bmi" => Measure::Bmi,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Measure::WeightKg => "Weight (kg)",
            Measure::HeightCm => "Length / height (cm)",
            Measure::HeadCircumferenceCm => "Head circumference (cm)",
            Measure::Bmi => "BMI (kg/m²)",
        }
    }

    /// |z| above which a value is refused as an error (docs/domain.md: 8, BMI 15).
    fn refuse_beyond(self) -> f64 {
        if self == Measure::Bmi {
            15.0
        } else {
            8.0
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Reference {
    #[serde(rename = "uk90_preterm")]
    Uk90Preterm,
    #[serde(rename = "who_2006_infant")]
    Who2006Infant,
    #[serde(rename = "who_2006_child")]
    Who2006Child,
    #[serde(rename = "uk90_child")]
    Uk90Child,
    /// Down syndrome, UK and Republic of Ireland 2002 (Styles et al., Arch Dis Child
    /// 2002;87:104-8; BMI 2013): all four measures, term to 20 years. In the pack.
    #[serde(rename = "trisomy_21")]
    Trisomy21,
    /// Turner syndrome, UK 1985 (Lyon, Preece and Grant): girls' height, 1 to 20 years.
    /// In the pack.
    #[serde(rename = "turner")]
    Turner,
}

/// Which charts a child is measured on: UK-WHO, or the Down syndrome or Turner syndrome
/// charts a professional's entry calls for (`book::chart_set`; docs/adr/0003).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartSet {
    #[default]
    UkWho,
    DownSyndrome,
    /// Turner's chart for height from 1 year; UK-WHO for everything else.
    TurnerSyndrome,
}

impl ChartSet {
    pub fn name(self) -> &'static str {
        match self {
            ChartSet::UkWho => "UK-WHO",
            ChartSet::DownSyndrome => "Down syndrome (UK 2002)",
            ChartSet::TurnerSyndrome => "Turner syndrome (UK 1985)",
        }
    }
}

impl Reference {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "uk90_preterm" => Reference::Uk90Preterm,
            "who_2006_infant" => Reference::Who2006Infant,
            "who_2006_child" => Reference::Who2006Child,
            "uk90_child" => Reference::Uk90Child,
            "trisomy_21" => Reference::Trisomy21,
            "turner" => Reference::Turner,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Reference::Uk90Preterm => "uk90_preterm",
            Reference::Who2006Infant => "who_2006_infant",
            Reference::Who2006Child => "who_2006_child",
            Reference::Uk90Child => "uk90_child",
            Reference::Trisomy21 => "trisomy_21",
            Reference::Turner => "turner",
        }
    }

    /// The reference as a clinician names it.
    pub fn title(self) -> &'static str {
        match self {
            Reference::Uk90Preterm => "UK90 preterm and newborn",
            Reference::Who2006Infant => "WHO 2006 infant",
            Reference::Who2006Child => "WHO 2006 child",
            Reference::Uk90Child => "UK90 child",
            Reference::Trisomy21 => "Down syndrome (UK 2002)",
            Reference::Turner => "Turner syndrome (UK 1985)",
        }
    }
}

/// Days of a term pregnancy: corrected age counts from the due date (280 days).
const TERM_DAYS: i64 = 280;
pub(crate) const DAYS_PER_YEAR: f64 = 365.25;
/// Reference boundaries as decimal (corrected) ages; at a boundary the older table
/// applies (docs/domain.md). 23 weeks' and 42 weeks' gestation are before/after term.
pub const UK90_FROM_YEARS: f64 = (23.0 * 7.0 - 280.0) / DAYS_PER_YEAR;
pub const WHO_INFANT_FROM_YEARS: f64 = (42.0 * 7.0 - 280.0) / DAYS_PER_YEAR;
pub const WHO_CHILD_FROM_YEARS: f64 = 2.0;
pub const UK90_CHILD_FROM_YEARS: f64 = 4.0;
pub const UK90_CHILD_UNTIL_YEARS: f64 = 20.0;

/// The nine centile lines, two-thirds of an SD apart.
pub const CENTILE_LINES: [(f64, &str); 9] = [
    (-8.0 / 3.0, "0.4th"),
    (-2.0, "2nd"),
    (-4.0 / 3.0, "9th"),
    (-2.0 / 3.0, "25th"),
    (0.0, "50th"),
    (2.0 / 3.0, "75th"),
    (4.0 / 3.0, "91st"),
    (2.0, "98th"),
    (8.0 / 3.0, "99.6th"),
];
/// One centile space, in SD.
pub const CENTILE_SPACE: f64 = 2.0 / 3.0;
/// |z| beyond which a value is implausible: ask to re-measure.
const IMPLAUSIBLE_BEYOND: f64 = 4.0;

/// How age is corrected for gestation: a clinical decision, stated in every result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// RCPCH digital charts: every gestation, at every age (the default).
    #[default]
    RcpchDigital,
    /// The paper charts: only under 37 weeks, until 1 year (32-36 weeks) or 2 years
    /// (under 32 weeks) of chronological age.
    PaperChart,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GrowthError {
    #[error("invalid {field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("no UK-WHO chart covers this age ({reason}); the measurement itself may be fine")]
    OutsideReferenceAges { reason: &'static str },
    #[error("the {} charts are not installed: supply the UK90 data pack", reference.title())]
    ReferenceNotAvailable { reference: Reference },
    #[error(
        "this value is impossible for the child's age (|z| above {limit}): check and re-measure"
    )]
    Impossible { limit: f64 },
    #[error("the UK90 pack is malformed: {reason}")]
    BadPack { reason: String },
}

impl GrowthError {
    /// The input a growth error is about, for an error that names its field.
    pub fn field(&self) -> &'static str {
        match self {
            GrowthError::InvalidInput { field, .. } => field,
            GrowthError::OutsideReferenceAges { .. } => "age",
            GrowthError::ReferenceNotAvailable { .. } | GrowthError::BadPack { .. } => "reference",
            GrowthError::Impossible { .. } => "measurement",
        }
    }
}

/// A measurement to assess.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Gestation at birth in days (40+0 weeks = 280).
    pub gestation_days: u16,
    pub date: NaiveDate,
    pub measure: Measure,
    pub value: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthFlag {
    /// |z| over 4: possible, but check the measurement.
    Implausible,
}

/// What the chart says about one measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub measure: Measure,
    pub value: f64,
    pub reference: Reference,
    pub correction: Correction,
    pub chronological_age_days: i64,
    pub corrected_age_days: i64,
    /// Whether the centile was read at the corrected age.
    pub used_corrected_age: bool,
    pub z: f64,
    pub centile: f64,
    /// e.g. "between the 50th and 75th centile".
    pub description: String,
    pub flags: Vec<GrowthFlag>,
    /// The reference's L, M and S at the age used.
    pub lms: Lms,
}

/// Ages in days: (chronological, corrected for gestation, whether to use corrected).
pub fn ages(
    birth: NaiveDate,
    gestation_days: u16,
    date: NaiveDate,
    correction: Correction,
) -> (i64, i64, bool) {
    let chronological = (date - birth).num_days();
    let corrected = chronological - (TERM_DAYS - i64::from(gestation_days));
    let use_corrected = match correction {
        Correction::RcpchDigital => true,
        Correction::PaperChart => {
            let weeks = gestation_days / 7;
            (weeks < 32 && chronological < 2 * 365)
                || ((32..37).contains(&weeks) && chronological < 365)
        }
    };
    (chronological, corrected, use_corrected)
}

/// The reference for a decimal age; at exactly 42 weeks, 2 and 4 years the older one.
pub fn reference_for(age_years: f64, measure: Measure) -> Result<Reference, GrowthError> {
    if age_years < UK90_FROM_YEARS {
        return Err(GrowthError::OutsideReferenceAges {
            reason: "under 23 weeks' gestation",
        });
    }
    if age_years > UK90_CHILD_UNTIL_YEARS {
        return Err(GrowthError::OutsideReferenceAges {
            reason: "over 20 years",
        });
    }
    if measure == Measure::Bmi && age_years < WHO_INFANT_FROM_YEARS {
        return Err(GrowthError::OutsideReferenceAges {
            reason: "BMI is charted from 42 weeks",
        });
    }
    Ok(if age_years < WHO_INFANT_FROM_YEARS {
        Reference::Uk90Preterm
    } else if age_years < WHO_CHILD_FROM_YEARS {
        Reference::Who2006Infant
    } else if age_years < UK90_CHILD_FROM_YEARS {
        Reference::Who2006Child
    } else {
        Reference::Uk90Child
    })
}

/// The reference a chart set uses for a measure at a decimal age.
pub fn reference_in(
    set: ChartSet,
    sex: Sex,
    age_years: f64,
    measure: Measure,
) -> Result<Reference, GrowthError> {
    match set {
        ChartSet::DownSyndrome if age_years < 0.0 => Err(GrowthError::OutsideReferenceAges {
            reason: "the Down syndrome charts start at term (40 weeks)",
        }),
        ChartSet::DownSyndrome if age_years > UK90_CHILD_UNTIL_YEARS => {
            Err(GrowthError::OutsideReferenceAges {
                reason: "over 20 years",
            })
        }
        ChartSet::DownSyndrome => Ok(Reference::Trisomy21),
        ChartSet::TurnerSyndrome
            if sex == Sex::Female
                && measure == Measure::HeightCm
                && (1.0..=UK90_CHILD_UNTIL_YEARS).contains(&age_years) =>
        {
            Ok(Reference::Turner)
        }
        _ => reference_for(age_years, measure),
    }
}

/// The LMS for a measure at a decimal age, from the right UK-WHO reference.
pub fn lms_at(
    refs: &GrowthReferences,
    sex: Sex,
    measure: Measure,
    age_years: f64,
) -> Result<(Reference, Lms), GrowthError> {
    lms_in(refs, ChartSet::UkWho, sex, measure, age_years)
}

/// The LMS for a measure at a decimal age, from the chart set's reference for it.
pub fn lms_in(
    refs: &GrowthReferences,
    set: ChartSet,
    sex: Sex,
    measure: Measure,
    age_years: f64,
) -> Result<(Reference, Lms), GrowthError> {
    let reference = reference_in(set, sex, age_years, measure)?;
    if !refs.has(reference) {
        return Err(GrowthError::ReferenceNotAvailable { reference });
    }
    let table = refs
        .table(reference, measure, sex)
        .ok_or(GrowthError::OutsideReferenceAges {
            reason: "no table for this measure at this age",
        })?;
    let lms = table
        .at(age_years)
        .ok_or(GrowthError::OutsideReferenceAges {
            reason: match (reference, measure) {
                (Reference::Uk90Preterm, Measure::HeightCm) => {
                    "length is charted from 25 weeks' gestation"
                }
                (Reference::Uk90Child, Measure::HeadCircumferenceCm) => {
                    "head circumference is charted to 17 (girls) or 18 (boys)"
                }
                (Reference::Trisomy21, Measure::HeadCircumferenceCm) => {
                    "the Down syndrome chart has head circumference to 18 years"
                }
                (Reference::Trisomy21, Measure::Bmi) => {
                    "the Down syndrome chart has BMI to 18.9 years"
                }
                _ => "outside the reference table",
            },
        })?;
    Ok((reference, lms))
}

/// Standard normal CDF.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2))
}

/// The centile in words a parent understands.
pub fn describe(z: f64) -> String {
    // Within a quarter of a centile space of a line counts as on it.
    let near = CENTILE_SPACE / 4.0;
    if let Some((_, name)) = CENTILE_LINES
        .iter()
        .find(|(line, _)| (z - line).abs() <= near)
    {
        return format!("on the {name} centile");
    }
    let (lowest, highest) = (CENTILE_LINES[0], CENTILE_LINES[8]);
    if z < lowest.0 {
        return format!("below the {} centile", lowest.1);
    }
    if z > highest.0 {
        return format!("above the {} centile", highest.1);
    }
    let upper = CENTILE_LINES
        .iter()
        .position(|(line, _)| *line > z)
        .expect("z is below the top line");
    format!(
        "between the {} and {} centile",
        CENTILE_LINES[upper - 1].1,
        CENTILE_LINES[upper].1
    )
}

pub fn assess(
    refs: &GrowthReferences,
    obs: &Observation,
    correction: Correction,
) -> Result<Assessment, GrowthError> {
    assess_in(refs, ChartSet::UkWho, obs, correction)
}

/// A measurement on a chart set's references (`assess` is UK-WHO's).
pub fn assess_in(
    refs: &GrowthReferences,
    set: ChartSet,
    obs: &Observation,
    correction: Correction,
) -> Result<Assessment, GrowthError> {
    if !obs.value.is_finite() || obs.value <= 0.0 {
        return Err(GrowthError::InvalidInput {
            field: "value",
            reason: "must be a positive number".into(),
        });
    }
    if obs.date < obs.birth_date {
        return Err(GrowthError::InvalidInput {
            field: "date",
            reason: "is before the date of birth".into(),
        });
    }
    if !(22 * 7..=44 * 7 + 6).contains(&obs.gestation_days) {
        return Err(GrowthError::InvalidInput {
            field: "gestation",
            reason: "must be between 22+0 and 44+6 weeks".into(),
        });
    }
    let (chronological, corrected, use_corrected) =
        ages(obs.birth_date, obs.gestation_days, obs.date, correction);
    let age_days = if use_corrected {
        corrected
    } else {
        chronological
    };
    let (reference, lms) = lms_in(
        refs,
        set,
        obs.sex,
        obs.measure,
        age_days as f64 / DAYS_PER_YEAR,
    )?;
    let z = lms.z(obs.value);
    let limit = obs.measure.refuse_beyond();
    if !z.is_finite() || z.abs() > limit {
        return Err(GrowthError::Impossible { limit });
    }
    let flags = if z.abs() > IMPLAUSIBLE_BEYOND {
        vec![GrowthFlag::Implausible]
    } else {
        vec![]
    };
    Ok(Assessment {
        measure: obs.measure,
        value: obs.value,
        reference,
        correction,
        chronological_age_days: chronological,
        corrected_age_days: corrected,
        used_corrected_age: use_corrected,
        z,
        centile: 100.0 * normal_cdf(z),
        description: describe(z),
        flags,
        lms,
    })
}

/// NICE NG75 "faltering growth" signals over a child's weights.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "concern")]
pub enum FalteringConcern {
    /// Weight loss of 10% or more of birth weight in the early days.
    EarlyWeightLoss { percent: f64, on: NaiveDate },
    /// A fall across centile spaces from birth weight's centile: 1 or more if birth weight
    /// was below the 9th centile, 2 between the 9th and 91st, 3 above the 91st.
    CentileFall {
        spaces: f64,
        threshold: f64,
        on: NaiveDate,
    },
}

/// Days after birth during which NG75's 10% weight-loss rule applies: the "early days".
const EARLY_DAYS: i64 = 14;

/// Faltering signals in a series of weights (the first is taken as birth weight when
/// it is on the date of birth). Unchartable weights (e.g. UK90 ages without the pack)
/// are skipped.
pub fn faltering(
    refs: &GrowthReferences,
    set: ChartSet,
    sex: Sex,
    birth_date: NaiveDate,
    gestation_days: u16,
    weights: &[(NaiveDate, f64)],
    correction: Correction,
) -> Vec<FalteringConcern> {
    let mut sorted = weights.to_vec();
    sorted.sort_by_key(|(d, _)| *d);
    let mut concerns = Vec::new();
    let Some(&(first_date, birth_weight)) = sorted.first() else {
        return concerns;
    };
    if first_date == birth_date {
        if let Some(&(on, kg)) = sorted
            .iter()
            .filter(|(d, _)| (*d - birth_date).num_days() <= EARLY_DAYS)
            .min_by(|a, b| a.1.total_cmp(&b.1))
        {
            let percent = 100.0 * (birth_weight - kg) / birth_weight;
            if percent >= 10.0 {
                concerns.push(FalteringConcern::EarlyWeightLoss { percent, on });
            }
        }
    }
    let z_at = |date: NaiveDate, kg: f64| {
        let obs = Observation {
            sex,
            birth_date,
            gestation_days,
            date,
            measure: Measure::WeightKg,
            value: kg,
        };
        assess_in(refs, set, &obs, correction).ok().map(|a| a.z)
    };
    let Some((start_date, start_z)) = sorted
        .iter()
        .find_map(|(d, kg)| z_at(*d, *kg).map(|z| (*d, z)))
    else {
        return concerns;
    };
    let threshold = if start_z < -4.0 / 3.0 {
        1.0
    } else if start_z <= 4.0 / 3.0 {
        2.0
    } else {
        3.0
    };
    let worst = sorted
        .iter()
        .filter(|(d, _)| *d > start_date)
        .filter_map(|(d, kg)| z_at(*d, *kg).map(|z| (*d, (start_z - z) / CENTILE_SPACE)))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((on, spaces)) = worst {
        if spaces >= threshold {
            concerns.push(FalteringConcern::CentileFall {
                spaces,
                threshold,
                on,
            });
        }
    }
    concerns
}

#[cfg(test)]
mod tests;
