//! Growth over time: how fast a child grew between two measurements, whether a baby's
//! weight gain was slower than the slowest 5% (the RCPCH digital charts' thrive lines),
//! and whether a baby is weighed more often than the charts advise.
//!
//! Facts and sources:
//! - Conditional weight gain (Cole TJ, "Conditional reference charts to assess weight
//!   gain in British infants", Arch Dis Child 1995;73:8-16): with z1 and z2 the weight
//!   SDS at two ages and r their correlation, (z2 - r z1) / sqrt(1 - r^2) is the gain's
//!   SDS. Below the 5th centile (-1.645) is slower than a thrive line. The correlations
//!   by week of age (0-53) are rcpchgrowth 4.6.5's
//!   `uk_who_weight_correlation_matrices/weight_correlation_by_week.json`, read between
//!   whole weeks bilinearly as rcpchgrowth's `return_correlation` does; they come in the
//!   UK90 pack (scripts/growth-tables.py), not committed, like UK90 itself.
//! - Weighing: after the first two weeks, no more than once a month to 6 months, once
//!   every two months from 6 to 12 months, once every three months after (RCPCH UK-WHO
//!   0-4 years chart, parents' page). "A month" is taken as four weeks, so that weights at
//!   the 8, 12 and 16 week vaccination visits are not called too frequent.

use super::{normal_cdf, GrowthReferences};
use chrono::NaiveDate;
use serde::Serialize;

/// The velocity centile of a thrive line: the 5th (Cole 1995; rcpchgrowth's default).
pub const THRIVE_LINE_CENTILE: f64 = 5.0;
/// Its SDS: the 5th centile of the standard normal.
const THRIVE_LINE_SDS: f64 = -1.6448536269514722;
/// Conditional gain is read over at least two weeks: closer weights differ by noise.
const MIN_GAIN_INTERVAL_DAYS: i64 = 14;
/// Velocity is reported over at least three months.
const MIN_VELOCITY_INTERVAL_DAYS: i64 = 91;
const DAYS_PER_WEEK: f64 = 7.0;

/// Weight correlations between weeks of age, `r[t1][t2]` for whole weeks 0..=53.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightCorrelations {
    pub(super) by_week: Vec<Vec<f64>>,
}

impl WeightCorrelations {
    pub const WEEKS: usize = 54;

    /// The correlation between weights at two ages in weeks, bilinear between whole
    /// weeks; none from 53 weeks on (the table's end).
    pub fn between(&self, t1_weeks: f64, t2_weeks: f64) -> Option<f64> {
        let last = (Self::WEEKS - 1) as f64;
        if !(0.0..last).contains(&t1_weeks) || !(0.0..last).contains(&t2_weeks) {
            return None;
        }
        let (i, j) = (t1_weeks.floor() as usize, t2_weeks.floor() as usize);
        let (dx, dy) = (t1_weeks - i as f64, t2_weeks - j as f64);
        let r = &self.by_week;
        Some(
            r[i][j] * (1.0 - dx) * (1.0 - dy)
                + r[i + 1][j] * dx * (1.0 - dy)
                + r[i][j + 1] * (1.0 - dx) * dy
                + r[i + 1][j + 1] * dx * dy,
        )
    }
}

/// The gain between two weights as an SDS, given each weight's SDS and their ages.
pub fn conditional_gain_sds(r: f64, z1: f64, z2: f64) -> Option<f64> {
    let spread = (1.0 - r * r).sqrt();
    (spread > 1e-9 && spread.is_finite()).then(|| (z2 - r * z1) / spread)
}

/// From a weight at SDS `z1` and `from_weeks`, the weight SDS at each later week that
/// would mean a gain at the 5th centile since then: a later weight below the line gained
/// more slowly than 95 in 100 babies. Each point is conditional on the start itself (the
/// test `latest_weight_gain` applies), not chained week on week: the table's correlation
/// of a week with itself is below 1 (measurement error), so chaining would compound it.
pub fn thrive_line(
    correlations: &WeightCorrelations,
    z1: f64,
    from_weeks: f64,
    to_weeks: f64,
) -> Vec<(f64, f64)> {
    let mut line = vec![(from_weeks, z1)];
    let mut t = from_weeks;
    while t < to_weeks {
        t = (t + 1.0).min(to_weeks);
        let Some(r) = correlations.between(from_weeks, t) else {
            break;
        };
        line.push((t, r * z1 + THRIVE_LINE_SDS * (1.0 - r * r).sqrt()));
    }
    line
}

/// A baby's latest weight gain compared with the thrive line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightGain {
    pub from: NaiveDate,
    pub on: NaiveDate,
    /// The gain's SDS (Cole 1995) and its centile.
    pub sds: f64,
    pub centile: f64,
    /// Slower than the slowest 5% of babies: below a thrive line.
    pub below_thrive_line: bool,
}

/// The gain between the last two weights at least two weeks apart, both under 53 weeks
/// of age: `weights` are (date, age in days used for the chart, weight SDS).
pub fn latest_weight_gain(
    refs: &GrowthReferences,
    weights: &[(NaiveDate, i64, f64)],
) -> Option<WeightGain> {
    let correlations = refs.weight_correlations()?;
    let (on, t2, z2) = *weights.last()?;
    let (from, t1, z1) = *weights
        .iter()
        .rev()
        .find(|(d, _, _)| (on - *d).num_days() >= MIN_GAIN_INTERVAL_DAYS)?;
    let weeks = |days: i64| days as f64 / DAYS_PER_WEEK;
    let r = correlations.between(weeks(t1), weeks(t2))?;
    let sds = conditional_gain_sds(r, z1, z2)?;
    Some(WeightGain {
        from,
        on,
        sds,
        centile: 100.0 * normal_cdf(sds),
        below_thrive_line: sds < THRIVE_LINE_SDS,
    })
}

/// Growth per year between the last two measurements at least three months apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Velocity {
    pub from: NaiveDate,
    pub on: NaiveDate,
    /// The change in the measure's unit (negative: a loss).
    pub change: f64,
    pub per_year: f64,
}

pub fn velocity(points: &[(NaiveDate, f64)]) -> Option<Velocity> {
    let (on, last) = *points.last()?;
    let (from, earlier) = *points
        .iter()
        .rev()
        .find(|(d, _)| (on - *d).num_days() >= MIN_VELOCITY_INTERVAL_DAYS)?;
    let change = last - earlier;
    Some(Velocity {
        from,
        on,
        change,
        per_year: change / ((on - from).num_days() as f64 / 365.25),
    })
}

/// Two weighings closer together than the charts advise for the baby's age.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeighedOften {
    pub on: NaiveDate,
    pub days_since_previous: i64,
    /// "once a month", "once every two months", "once every three months".
    pub advised: String,
}

/// The advice, if the latest weight came sooner after the one before than advised.
pub fn weighed_more_often_than_advised(
    birth_date: NaiveDate,
    weighed_on: &[NaiveDate],
) -> Option<WeighedOften> {
    let mut dates = weighed_on.to_vec();
    dates.sort();
    dates.dedup();
    let [.., previous, on] = dates.as_slice() else {
        return None;
    };
    let age = (*on - birth_date).num_days();
    let (advised_days, advised) = match age {
        a if a < 14 => return None,
        a if a < 182 => (28, "once a month"),
        a if a < 365 => (56, "once every two months"),
        _ => (84, "once every three months"),
    };
    let days_since_previous = (*on - *previous).num_days();
    (days_since_previous < advised_days).then(|| WeighedOften {
        on: *on,
        days_since_previous,
        advised: advised.into(),
    })
}
