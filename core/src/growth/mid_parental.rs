//! Mid-parental height: the height a child of these parents is expected to reach, and the
//! range 90% of children reach, as rcpchgrowth 4.6.5's module `mid_parental_height`
//! computes it (docs/domain.md, "Growth"). Facts and sources:
//! - the height: (mother + father + 13 cm) / 2 for a boy, (mother + father - 13 cm) / 2
//!   for a girl (Tanner, Whitehouse and Takaishi 1966);
//! - its SDS: each parent's height as an SDS on UK90 at 20 years, their sum over 4 (the
//!   mean of the two, regressed to the mean by half);
//! - the target range: that SDS plus or minus 1.4: 90% of children end within it (Wright
//!   and Cheetham 1999, Arch Dis Child 81:257), shown as heights at 20 years;
//! - a parent's height beyond 8 SD of UK90 at 20 years is refused as an error.

use super::{describe, lms_at, normal_cdf, GrowthError, GrowthReferences, Measure, Sex};
use serde::Serialize;

/// Parents' heights are read on UK90 at this age (rcpchgrowth: 20 years on UK-WHO).
pub const ADULT_AGE_YEARS: f64 = 20.0;
/// Half the sex difference in adult height, in cm (Tanner 1966).
const SEX_DIFFERENCE_HALF_CM: f64 = 6.5;
/// The target range's half-width in SDS (Wright and Cheetham 1999).
pub const TARGET_RANGE_SDS: f64 = 1.4;
/// A parent's height beyond this SDS is a typing error (rcpchgrowth's limit).
const REFUSE_BEYOND_SDS: f64 = 8.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MidParentalHeight {
    /// (mother + father +/- 13) / 2, in cm.
    pub height_cm: f64,
    pub sds: f64,
    pub centile: f64,
    /// "on the 50th centile", as the chart reads it.
    pub description: String,
    /// The target range at 20 years: heights at `sds` -/+ 1.4.
    pub lower_cm: f64,
    pub upper_cm: f64,
}

pub fn mid_parental_height(
    refs: &GrowthReferences,
    sex: Sex,
    mother_cm: f64,
    father_cm: f64,
) -> Result<MidParentalHeight, GrowthError> {
    let (_, mother_lms) = lms_at(refs, Sex::Female, Measure::HeightCm, ADULT_AGE_YEARS)?;
    let (_, father_lms) = lms_at(refs, Sex::Male, Measure::HeightCm, ADULT_AGE_YEARS)?;
    let parent_sds = |field: &'static str, cm: f64, lms: &super::Lms| {
        let z = lms.z(cm);
        if !cm.is_finite() || cm <= 0.0 || !z.is_finite() || z.abs() > REFUSE_BEYOND_SDS {
            return Err(GrowthError::InvalidInput {
                field,
                reason: "is beyond 8 SD of adult heights: check it".into(),
            });
        }
        Ok(z)
    };
    let mother_sds = parent_sds("mother_height_cm", mother_cm, &mother_lms)?;
    let father_sds = parent_sds("father_height_cm", father_cm, &father_lms)?;
    let sds = (mother_sds + father_sds) / 4.0;
    let (_, child_lms) = lms_at(refs, sex, Measure::HeightCm, ADULT_AGE_YEARS)?;
    let half_difference = match sex {
        Sex::Male => SEX_DIFFERENCE_HALF_CM,
        Sex::Female => -SEX_DIFFERENCE_HALF_CM,
    };
    Ok(MidParentalHeight {
        height_cm: (mother_cm + father_cm) / 2.0 + half_difference,
        sds,
        centile: 100.0 * normal_cdf(sds),
        description: describe(sds),
        lower_cm: child_lms.value_at(sds - TARGET_RANGE_SDS),
        upper_cm: child_lms.value_at(sds + TARGET_RANGE_SDS),
    })
}
