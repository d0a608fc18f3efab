//! LMS reference tables: the embedded WHO 2006 data and the UK90 pack a deployer
//! supplies. One CSV format for both (scripts/growth-tables.py writes it):
//! `reference,measure,sex,decimal_age,L,M,S`, `#` lines are comments.

use super::{GrowthError, Measure, Reference, Sex, WeightCorrelations};
use std::collections::HashMap;
use std::sync::OnceLock;

/// WHO Child Growth Standards (2006), open data; see core/data/README.md. Deflated by
/// build.rs from core/data/who_2006_lms.csv: a fifth of the text's size in the library.
const WHO_2006_DEFLATED: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/who_2006_lms.csv.deflate"));

fn who_2006_csv() -> String {
    use std::io::Read;
    let mut csv = String::new();
    flate2::read::DeflateDecoder::new(WHO_2006_DEFLATED)
        .read_to_string(&mut csv)
        .expect("the embedded WHO table inflates");
    csv
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Lms {
    pub l: f64,
    pub m: f64,
    pub s: f64,
}

impl Lms {
    /// z = ((X/M)^L - 1) / (L*S), or ln(X/M) / S when L = 0 (docs/domain.md, "Growth").
    pub fn z(&self, x: f64) -> f64 {
        if self.l.abs() < 1e-12 {
            (x / self.m).ln() / self.s
        } else {
            ((x / self.m).powf(self.l) - 1.0) / (self.l * self.s)
        }
    }

    /// The measurement at a z: M * (1 + L*S*z)^(1/L), or M * e^(S*z) when L = 0.
    pub fn value_at(&self, z: f64) -> f64 {
        if self.l.abs() < 1e-12 {
            self.m * (self.s * z).exp()
        } else {
            self.m * (1.0 + self.l * self.s * z).powf(1.0 / self.l)
        }
    }
}

/// One reference's LMS values for one measure and sex, by decimal age.
#[derive(Debug, Clone, Default)]
pub struct LmsTable {
    ages: Vec<f64>,
    values: Vec<Lms>,
}

impl LmsTable {
    pub fn first_age(&self) -> f64 {
        self.ages[0]
    }

    pub fn last_age(&self) -> f64 {
        self.ages[self.ages.len() - 1]
    }

    /// LMS at a decimal age, interpolated as RCPCH does: an exact table age (to 4
    /// decimals) is used as is; otherwise 4-point cubic Lagrange over the two ages below
    /// and two above, linear where the table's edge leaves fewer.
    pub fn at(&self, age: f64) -> Option<Lms> {
        let round4 = |a: f64| (a * 10_000.0).round();
        if round4(age) < round4(self.first_age()) || round4(age) > round4(self.last_age()) {
            return None;
        }
        // Index of the last table age below `age` (or equal, to 4 decimals).
        let above = self.ages.partition_point(|a| *a < age);
        if above < self.ages.len() && round4(self.ages[above]) == round4(age) {
            return Some(self.values[above]);
        }
        if above > 0 && round4(self.ages[above - 1]) == round4(age) {
            return Some(self.values[above - 1]);
        }
        let i = above.checked_sub(1)?;
        if i + 1 >= self.ages.len() {
            return None;
        }
        let (a, v) = (&self.ages, &self.values);
        if i >= 1 && i + 2 < a.len() {
            let xs = [a[i - 1], a[i], a[i + 1], a[i + 2]];
            let pick = |f: fn(&Lms) -> f64| [f(&v[i - 1]), f(&v[i]), f(&v[i + 1]), f(&v[i + 2])];
            Some(Lms {
                l: lagrange(age, xs, pick(|p| p.l)),
                m: lagrange(age, xs, pick(|p| p.m)),
                s: lagrange(age, xs, pick(|p| p.s)),
            })
        } else {
            let t = (age - a[i]) / (a[i + 1] - a[i]);
            let lerp = |x: f64, y: f64| x + t * (y - x);
            Some(Lms {
                l: lerp(v[i].l, v[i + 1].l),
                m: lerp(v[i].m, v[i + 1].m),
                s: lerp(v[i].s, v[i + 1].s),
            })
        }
    }
}

/// The cubic through four points, evaluated at `x`.
fn lagrange(x: f64, xs: [f64; 4], ys: [f64; 4]) -> f64 {
    (0..4)
        .map(|j| {
            let basis: f64 = (0..4)
                .filter(|k| *k != j)
                .map(|k| (x - xs[k]) / (xs[j] - xs[k]))
                .product();
            ys[j] * basis
        })
        .sum()
}

/// The tables this installation has: WHO always, UK90 when a pack was loaded.
#[derive(Debug, Clone, Default)]
pub struct GrowthReferences {
    tables: HashMap<(Reference, Measure, Sex), LmsTable>,
    /// From the UK90 pack: weight correlations by week for thrive lines.
    correlations: Option<WeightCorrelations>,
}

impl GrowthReferences {
    /// The embedded WHO 2006 tables only; UK90 ages answer "reference not available".
    pub fn embedded() -> &'static GrowthReferences {
        static WHO: OnceLock<GrowthReferences> = OnceLock::new();
        WHO.get_or_init(|| {
            let mut refs = GrowthReferences::default();
            refs.load_csv(
                &who_2006_csv(),
                &[Reference::Who2006Infant, Reference::Who2006Child],
            )
            .expect("the embedded WHO tables parse");
            refs
        })
    }

    /// WHO plus a UK90 pack's text (scripts/growth-tables.py uk90): UK90, and where the
    /// pack has them the Down and Turner syndrome charts and the weight correlations.
    pub fn with_uk90_pack(pack: &str) -> Result<GrowthReferences, GrowthError> {
        let mut refs = Self::embedded().clone();
        refs.load_csv(
            pack,
            &[
                Reference::Uk90Preterm,
                Reference::Uk90Child,
                Reference::Trisomy21,
                Reference::Turner,
            ],
        )?;
        for reference in [Reference::Uk90Preterm, Reference::Uk90Child] {
            if !refs.tables.keys().any(|(r, _, _)| *r == reference) {
                return Err(GrowthError::BadPack {
                    reason: format!("no {} tables", reference.name()),
                });
            }
        }
        Ok(refs)
    }

    pub fn weight_correlations(&self) -> Option<&WeightCorrelations> {
        self.correlations.as_ref()
    }

    pub fn has(&self, reference: Reference) -> bool {
        self.tables.keys().any(|(r, _, _)| *r == reference)
    }

    pub fn table(&self, reference: Reference, measure: Measure, sex: Sex) -> Option<&LmsTable> {
        self.tables.get(&(reference, measure, sex))
    }

    fn load_csv(&mut self, text: &str, allowed: &[Reference]) -> Result<(), GrowthError> {
        let bad = |line: usize, what: &str| GrowthError::BadPack {
            reason: format!("line {line}: {what}"),
        };
        let mut rows: HashMap<(Reference, Measure, Sex), Vec<(f64, Lms)>> = HashMap::new();
        let mut correlations: Vec<Vec<f64>> =
            vec![vec![f64::NAN; WeightCorrelations::WEEKS]; WeightCorrelations::WEEKS];
        let mut any_correlation = false;
        for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("reference,") {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            // weight_correlation,<week>,<week>,<r>: the thrive lines' table.
            if let ["weight_correlation", t1, t2, r] = fields.as_slice() {
                let week = |t: &str| {
                    t.parse::<usize>()
                        .ok()
                        .filter(|w| *w < WeightCorrelations::WEEKS)
                        .ok_or_else(|| bad(n, "week out of range"))
                };
                let r = r
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && r.abs() <= 1.0)
                    .ok_or_else(|| bad(n, "a correlation is between -1 and 1"))?;
                correlations[week(t1)?][week(t2)?] = r;
                any_correlation = true;
                continue;
            }
            let [reference, measure, sex, age, l, m, s] = fields.as_slice() else {
                return Err(bad(n, "expected 7 fields"));
            };
            let reference = Reference::from_name(reference)
                .filter(|r| allowed.contains(r))
                .ok_or_else(|| bad(n, "unexpected reference"))?;
            let measure = Measure::from_name(measure).ok_or_else(|| bad(n, "unknown measure"))?;
            let sex = match *sex {
                "male" => Sex::Male,
                "female" => Sex::Female,
                _ => return Err(bad(n, "unknown sex")),
            };
            let number = |t: &str| {
                t.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(n, "not a number"))
            };
            let lms = Lms {
                l: number(l)?,
                m: number(m)?,
                s: number(s)?,
            };
            if lms.m <= 0.0 || lms.s <= 0.0 {
                return Err(bad(n, "M and S must be positive"));
            }
            rows.entry((reference, measure, sex))
                .or_default()
                .push((number(age)?, lms));
        }
        for (key, mut rows) in rows {
            rows.sort_by(|a, b| a.0.total_cmp(&b.0));
            if rows.len() < 2 || rows.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(GrowthError::BadPack {
                    reason: "each table needs two or more distinct ages".into(),
                });
            }
            let (ages, values) = rows.into_iter().unzip();
            self.tables.insert(key, LmsTable { ages, values });
        }
        if any_correlation {
            if correlations.iter().flatten().any(|r| r.is_nan()) {
                return Err(GrowthError::BadPack {
                    reason: "the weight correlation table is incomplete".into(),
                });
            }
            self.correlations = Some(WeightCorrelations {
                by_week: correlations,
            });
        }
        Ok(())
    }
}
