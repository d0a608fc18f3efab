//! England's immunisation, review and newborn screening schedules as dated data.
//! Each rule names the cohort (by date of birth) it applies to and its source. A change
//! to the schedule is an edit here plus a test, never new code.
//!
//! Sources (docs/domain.md, "Immunisations"):
//! - [GOVUK-2026] gov.uk, "Complete routine immunisation schedule from 1 January 2026"
//!   (updated 10 December 2025).
//! - [UKHSA-2025-04] UKHSA letter of 30 April 2025 and its Annexe A (12/16-week changes
//!   from 1 July 2025; 18-month visit and Hib/MenC removal).
//! - [UKHSA-MMRV] UKHSA MMRV letter of 31 October 2025 (MMRV from 1 January 2026, by date
//!   of birth; the catch-up campaign).
//! - [UKHSA-INCOMPLETE] UKHSA, "Vaccination of individuals with uncertain or incomplete
//!   immunisation status": which vaccines are caught up, and until what age.
//! - [GREEN-BOOK] UKHSA "Immunisation against infectious disease": ch. 11 (schedule and
//!   minimum intervals), ch. 18 (hepatitis B), ch. 27b (rotavirus), ch. 32 (BCG),
//!   ch. 19 (influenza).
//! - [UKHSA-SCID-GP] gov.uk, "Rotavirus vaccine and SCID newborn screening evaluation:
//!   information for GPs and practice nurses" (20 September 2021): BCG and rotavirus are
//!   live vaccines, not given to babies with SCID; BCG only once the SCID screening
//!   outcome is known.
//! - [UKHSA-SCID-CRIB] gov.uk, "SCID screening: crib sheet for blood spot takers"
//!   (updated 8 April 2022): parents decide whether their baby is screened for SCID; a
//!   "SCID suspected" result goes to the specialist immunology team, whose blood test
//!   (flow cytometry) finds SCID, another condition, or neither (the baby is discharged);
//!   some babies born before 37 weeks give a second sample.

use super::{Age, Check, Programme};
use chrono::NaiveDate;

const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("invalid date in schedule data"),
    }
}

/// The oldest children the routine schedule here covers.
pub const EARLIEST_COHORT: NaiveDate = date(2020, 1, 1);

/// UNVERIFIED (docs/domain.md): whether the 1 July 2025 change (MenB #2 to 12 weeks, PCV to
/// 16 weeks) applies by appointment or by date of birth. We assume a baby follows the
/// new infant course if their 12-week vaccines fall due on or after 1 July 2025, i.e.
/// born on or after 8 April 2025 (1 July 2025 less 84 days). Change this one date if
/// UKHSA says otherwise.
pub const NEW_INFANT_COURSE_BORN_FROM: NaiveDate = date(2025, 4, 8);
const OLD_INFANT_COURSE_BORN_UNTIL: NaiveDate = date(2025, 4, 7);
/// Hib/MenC dropped and the 18-month visit added for children born on/after 1 July 2024.
const EIGHTEEN_MONTH_VISIT_BORN_FROM: NaiveDate = date(2024, 7, 1);
const HIB_MENC_BORN_UNTIL: NaiveDate = date(2024, 6, 30);
/// MMRV cohorts [UKHSA-MMRV].
const MMRV_AT_ONE_BORN_FROM: NaiveDate = date(2025, 1, 1);
const MMR_AT_ONE_BORN_UNTIL: NaiveDate = date(2024, 12, 31);
const MMRV_PRESCHOOL_ONLY_FROM: NaiveDate = date(2022, 9, 1);
const MMR2_PRESCHOOL_BORN_UNTIL: NaiveDate = date(2022, 8, 31);

/// Days after the due date before an item counts as overdue. A local policy, not a
/// national rule: infant doses slip by weeks, pre-school ones by months.
const INFANT_GRACE_DAYS: u16 = 28;
const CHILD_GRACE_DAYS: u16 = 90;
/// Green Book ch. 11: doses of the same vaccine at least four weeks apart.
const MIN_INTERVAL_DAYS: u16 = 28;

/// One dose of one vaccine in a programme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DoseRule {
    pub programme: Programme,
    /// The vaccine's canonical name (see `VACCINE_ALIASES`).
    pub vaccine: &'static str,
    pub dose: u8,
    /// The visit as families know it ("8 weeks", "1 year").
    pub visit: &'static str,
    pub age: Age,
    /// Where a source gives the window's end ("by 28 days", "between 12 and 18 months"):
    /// overdue from the day after it, whatever `grace_days` says.
    pub due_until: Option<Age>,
    /// When the rule came into force (for the routine schedule before 2024, the start
    /// of the cohorts covered here).
    pub in_force_from: NaiveDate,
    /// The cohort by date of birth, inclusive at both ends.
    pub born_from: NaiveDate,
    pub born_until: Option<NaiveDate>,
    /// The earliest interval after the previous dose of the same vaccine.
    pub min_days_after_previous: u16,
    /// Not to be given from this age on (rotavirus); missed, it is not applicable.
    pub not_from_age: Option<Age>,
    pub grace_days: u16,
    pub source: &'static str,
    pub note: Option<&'static str>,
}

const fn routine(vaccine: &'static str, dose: u8, visit: &'static str, age: Age) -> DoseRule {
    DoseRule {
        programme: Programme::Routine,
        vaccine,
        dose,
        visit,
        age,
        due_until: None,
        in_force_from: EARLIEST_COHORT,
        born_from: EARLIEST_COHORT,
        born_until: None,
        min_days_after_previous: MIN_INTERVAL_DAYS,
        not_from_age: None,
        grace_days: if matches!(age, Age::Weeks(_)) {
            INFANT_GRACE_DAYS
        } else {
            CHILD_GRACE_DAYS
        },
        source: "GOVUK-2026",
        note: None,
    }
}

const fn born(rule: DoseRule, from: NaiveDate, until: Option<NaiveDate>) -> DoseRule {
    DoseRule {
        born_from: from,
        born_until: until,
        ..rule
    }
}

/// MenB and PCV are not offered from the second birthday to a child who missed them
/// [UKHSA-INCOMPLETE]: after it, a dose not given is not applicable, never overdue.
const fn under_two(rule: DoseRule) -> DoseRule {
    DoseRule {
        not_from_age: Some(Age::Months(24)),
        note: Some("not offered from the second birthday to a child who missed it"),
        ..rule
    }
}

const fn sourced(rule: DoseRule, source: &'static str) -> DoseRule {
    DoseRule { source, ..rule }
}

const fn in_force(rule: DoseRule, from: NaiveDate) -> DoseRule {
    DoseRule {
        in_force_from: from,
        ..rule
    }
}

/// 1 July 2025: MenB #2 to 12 weeks, PCV to 16 weeks; Hib/MenC dropped for the cohorts
/// born from 1 July 2024, whose 18-month visit starts 1 January 2026 [UKHSA-2025-04].
const JULY_2025: NaiveDate = date(2025, 7, 1);
/// 1 January 2026: MMRV replaces MMR; the 18-month visit begins [GOVUK-2026, UKHSA-MMRV].
const JANUARY_2026: NaiveDate = date(2026, 1, 1);

pub const SIX_IN_ONE: &str = "6-in-1";
pub const MENB: &str = "MenB";
pub const ROTAVIRUS: &str = "Rotavirus";
pub const PCV: &str = "PCV";
pub const HIB_MENC: &str = "Hib/MenC";
pub const MMR: &str = "MMR";
pub const MMRV: &str = "MMRV";
pub const PRESCHOOL_BOOSTER: &str = "dTaP/IPV";
pub const HEP_B: &str = "HepB";
pub const HBSAG_TEST: &str = "HBsAg test";
pub const BCG: &str = "BCG";
pub const FLU: &str = "Flu";

/// The routine childhood schedule for every cohort born from 2020 on.
pub const ROUTINE: &[DoseRule] = &[
    // 8 weeks: unchanged for every cohort.
    routine(SIX_IN_ONE, 1, "8 weeks", Age::Weeks(8)),
    under_two(routine(MENB, 1, "8 weeks", Age::Weeks(8))),
    DoseRule {
        not_from_age: Some(Age::Weeks(15)),
        note: Some("the first dose must be given before 15 weeks of age"),
        ..sourced(
            routine(ROTAVIRUS, 1, "8 weeks", Age::Weeks(8)),
            "GREEN-BOOK ch. 27b",
        )
    },
    // 12 weeks.
    routine(SIX_IN_ONE, 2, "12 weeks", Age::Weeks(12)),
    DoseRule {
        not_from_age: Some(Age::Weeks(24)),
        note: Some("the second dose must be given before 24 weeks of age"),
        ..sourced(
            routine(ROTAVIRUS, 2, "12 weeks", Age::Weeks(12)),
            "GREEN-BOOK ch. 27b",
        )
    },
    in_force(
        sourced(
            born(
                under_two(routine(MENB, 2, "12 weeks", Age::Weeks(12))),
                NEW_INFANT_COURSE_BORN_FROM,
                None,
            ),
            "UKHSA-2025-04",
        ),
        JULY_2025,
    ),
    born(
        under_two(routine(PCV, 1, "12 weeks", Age::Weeks(12))),
        EARLIEST_COHORT,
        Some(OLD_INFANT_COURSE_BORN_UNTIL),
    ),
    // 16 weeks.
    routine(SIX_IN_ONE, 3, "16 weeks", Age::Weeks(16)),
    in_force(
        sourced(
            born(
                under_two(routine(PCV, 1, "16 weeks", Age::Weeks(16))),
                NEW_INFANT_COURSE_BORN_FROM,
                None,
            ),
            "UKHSA-2025-04",
        ),
        JULY_2025,
    ),
    born(
        under_two(routine(MENB, 2, "16 weeks", Age::Weeks(16))),
        EARLIEST_COHORT,
        Some(OLD_INFANT_COURSE_BORN_UNTIL),
    ),
    // 1 year: on or after the first birthday.
    under_two(routine(PCV, 2, "1 year", Age::Months(12))),
    under_two(routine(MENB, 3, "1 year", Age::Months(12))),
    born(
        routine(HIB_MENC, 1, "1 year", Age::Months(12)),
        EARLIEST_COHORT,
        Some(HIB_MENC_BORN_UNTIL),
    ),
    born(
        routine(MMR, 1, "1 year", Age::Months(12)),
        EARLIEST_COHORT,
        Some(MMR_AT_ONE_BORN_UNTIL),
    ),
    in_force(
        sourced(
            born(
                routine(MMRV, 1, "1 year", Age::Months(12)),
                MMRV_AT_ONE_BORN_FROM,
                None,
            ),
            "UKHSA-MMRV",
        ),
        JANUARY_2026,
    ),
    // 18 months: a new visit for children born on/after 1 July 2024.
    in_force(
        sourced(
            born(
                routine(SIX_IN_ONE, 4, "18 months", Age::Months(18)),
                EIGHTEEN_MONTH_VISIT_BORN_FROM,
                None,
            ),
            "UKHSA-2025-04",
        ),
        JANUARY_2026,
    ),
    in_force(
        sourced(
            born(
                routine(MMRV, 2, "18 months", Age::Months(18)),
                MMRV_AT_ONE_BORN_FROM,
                None,
            ),
            "UKHSA-MMRV",
        ),
        JANUARY_2026,
    ),
    in_force(
        sourced(
            born(
                routine(MMRV, 1, "18 months", Age::Months(18)),
                EIGHTEEN_MONTH_VISIT_BORN_FROM,
                Some(MMR_AT_ONE_BORN_UNTIL),
            ),
            "UKHSA-MMRV",
        ),
        JANUARY_2026,
    ),
    // 3 years 4 months.
    routine(PRESCHOOL_BOOSTER, 1, "3 years 4 months", Age::Months(40)),
    born(
        routine(MMR, 2, "3 years 4 months", Age::Months(40)),
        EARLIEST_COHORT,
        Some(MMR2_PRESCHOOL_BORN_UNTIL),
    ),
    in_force(
        sourced(
            born(
                routine(MMRV, 1, "3 years 4 months", Age::Months(40)),
                MMRV_PRESCHOOL_ONLY_FROM,
                Some(HIB_MENC_BORN_UNTIL),
            ),
            "UKHSA-MMRV",
        ),
        JANUARY_2026,
    ),
    in_force(
        sourced(
            born(
                routine(MMRV, 2, "3 years 4 months", Age::Months(40)),
                EIGHTEEN_MONTH_VISIT_BORN_FROM,
                Some(MMR_AT_ONE_BORN_UNTIL),
            ),
            "UKHSA-MMRV",
        ),
        JANUARY_2026,
    ),
];

const fn selective(
    programme: Programme,
    vaccine: &'static str,
    dose: u8,
    visit: &'static str,
    age: Age,
    grace_days: u16,
) -> DoseRule {
    DoseRule {
        programme,
        vaccine,
        dose,
        visit,
        age,
        due_until: None,
        in_force_from: EARLIEST_COHORT,
        born_from: EARLIEST_COHORT,
        born_until: None,
        min_days_after_previous: MIN_INTERVAL_DAYS,
        not_from_age: None,
        grace_days,
        source: "GREEN-BOOK ch. 18",
        note: None,
    }
}

/// Babies of mothers with hepatitis B (Green Book ch. 18). From 1 July 2024 the 6-in-1
/// course replaces the later monovalent doses; earlier cohorts had a 1-year dose too.
pub const HEP_B_AT_RISK: &[DoseRule] = &[
    DoseRule {
        note: Some("within 24 hours of birth"),
        ..selective(Programme::HepBAtRisk, HEP_B, 1, "birth", Age::Days(0), 1)
    },
    selective(
        Programme::HepBAtRisk,
        HEP_B,
        2,
        "4 weeks",
        Age::Weeks(4),
        INFANT_GRACE_DAYS,
    ),
    born(
        selective(
            Programme::HepBAtRisk,
            HEP_B,
            3,
            "1 year",
            Age::Months(12),
            CHILD_GRACE_DAYS,
        ),
        EARLIEST_COHORT,
        Some(HIB_MENC_BORN_UNTIL),
    ),
    DoseRule {
        min_days_after_previous: 0,
        // Green Book ch. 18 (docs/domain.md): between 12 and 18 months, calendar months.
        due_until: Some(Age::Months(18)),
        note: Some("a blood test for infection, between 12 and 18 months"),
        ..selective(
            Programme::HepBAtRisk,
            HBSAG_TEST,
            1,
            "1 year",
            Age::Months(12),
            182,
        )
    },
];

/// BCG for eligible babies, by 28 days (Green Book ch. 32), only once the SCID
/// screening result is known.
pub const BCG_ELIGIBLE: &[DoseRule] = &[DoseRule {
    source: "GREEN-BOOK ch. 32",
    note: Some("given once the SCID newborn screening result is known"),
    // Due from birth, by 28 days of age; overdue from day 29.
    due_until: Some(Age::Days(28)),
    ..selective(
        Programme::Bcg,
        BCG,
        1,
        "by 28 days",
        Age::Days(0),
        INFANT_GRACE_DAYS,
    )
}];

/// Live vaccines of the schedule: not given to a baby whose newborn screening suggests
/// SCID (`LIVE_VACCINE_SOURCE`).
pub const LIVE_VACCINES: &[&str] = &[BCG, ROTAVIRUS, MMR, MMRV];
pub const LIVE_VACCINE_SOURCE: &str =
    "GREEN-BOOK ch. 6 (live vaccines and severe immunodeficiency), ch. 27b, ch. 32; UKHSA-SCID-GP";

/// When a suspected SCID stops counting and live vaccines are offered again
/// (`scid::scid_screen`): a "not suspected" result on a blood spot sample taken after the
/// latest suspicion, or the specialist team's "ruled out" (a SCID risk factor entry, not
/// present) dated after it, written by a professional whose role an organisation on the
/// trust list confirms (as for a closure, hazard log H21; H41). A suspicion from any
/// counted entry stands; on the same date suspected wins; once the specialist team has
/// found SCID only their own later word ends it.
/// UNVERIFIED: [UKHSA-SCID-CRIB] says a baby whose blood test shows neither SCID nor
/// another condition is discharged, and [UKHSA-SCID-GP] that live vaccines wait only for
/// SCID; neither, as read, says in so many words that live vaccines are then offered, nor
/// how a repeat sample's "not suspected" weighs against a first "suspected". Ask the
/// screening programme before go-live; a change is an edit to `scid_screen` and its tests.
pub const SCID_RULED_OUT_SOURCE: &str =
    "UKHSA-SCID-CRIB (UNVERIFIED: see data::SCID_RULED_OUT_SOURCE)";

/// The one-off MMRV catch-up [UKHSA-MMRV]: children born 1 January 2020 to 31 August
/// 2022 who have had neither chickenpox nor a varicella vaccine.
pub struct CatchUp {
    pub vaccine: &'static str,
    pub born_from: NaiveDate,
    pub born_until: NaiveDate,
    pub offered_from: NaiveDate,
    pub offered_until: NaiveDate,
    pub source: &'static str,
}

pub const MMRV_CATCH_UP: CatchUp = CatchUp {
    vaccine: MMRV,
    born_from: date(2020, 1, 1),
    born_until: date(2022, 8, 31),
    offered_from: date(2026, 11, 1),
    offered_until: date(2028, 3, 31),
    source: "UKHSA-MMRV",
};

/// One flu season's childhood programme (Green Book ch. 19; the annual flu letter).
pub struct FluSeason {
    pub label: &'static str,
    pub starts: NaiveDate,
    /// UNVERIFIED: JCVI aims to vaccinate by December; we call it overdue after this.
    pub overdue_from: NaiveDate,
    pub ends: NaiveDate,
    /// Aged 2 or 3 on 31 August: born in this range.
    pub preschool_born: (NaiveDate, NaiveDate),
    /// School years reception to 11.
    pub school_born: (NaiveDate, NaiveDate),
    /// Children in a clinical risk group, from this age.
    pub clinical_risk_from: Age,
    pub source: &'static str,
}

pub const FLU_SEASONS: &[FluSeason] = &[FluSeason {
    label: "2026/27",
    starts: date(2026, 9, 1),
    overdue_from: date(2027, 1, 1),
    ends: date(2027, 3, 31),
    preschool_born: (date(2022, 9, 1), date(2024, 8, 31)),
    school_born: (date(2010, 9, 1), date(2022, 8, 31)),
    clinical_risk_from: Age::Months(6),
    source: "GOVUK-2026; national flu immunisation programme 2026 to 2027 letter",
}];

/// A check with a window of ages (reviews and newborn screening).
pub struct CheckRule {
    pub check: Check,
    pub from: Age,
    pub until: Age,
    pub source: &'static str,
}

pub const CHECKS: &[CheckRule] = &[
    CheckRule { check: Check::NipeNewborn, from: Age::Days(0), until: Age::Days(3), source: "NHS NIPE screening standards: within 72 hours of birth" },
    CheckRule { check: Check::BloodSpot, from: Age::Days(5), until: Age::Days(8), source: "NHS newborn blood spot screening: sample on day 5 (day of birth = day 0), exceptionally to day 8" },
    CheckRule { check: Check::Hearing, from: Age::Days(0), until: Age::Weeks(4), source: "NHS newborn hearing screening: completed by 4 weeks (hospital programme)" },
    CheckRule { check: Check::NewBabyReview, from: Age::Days(10), until: Age::Days(14), source: "Healthy Child Programme: new baby review at 10-14 days" },
    CheckRule { check: Check::NipeSixToEightWeeks, from: Age::Weeks(6), until: Age::Weeks(8), source: "NHS NIPE screening standards: 6-8 week examination" },
    CheckRule { check: Check::SixToEightWeekReview, from: Age::Weeks(6), until: Age::Weeks(8), source: "Healthy Child Programme: 6-8 week review" },
    CheckRule { check: Check::NineToTwelveMonthReview, from: Age::Months(9), until: Age::Months(12), source: "Healthy Child Programme: 9-12 month review (the 12-month review, February 2026 guidance)" },
    CheckRule { check: Check::TwoYearReview, from: Age::Months(24), until: Age::Months(30), source: "Healthy Child Programme: 2-2.5 year review" },
];

/// Names clinics write, mapped to the schedule's vaccine names. Matching ignores case,
/// spaces and hyphens. A name not here is kept and shown as another vaccine.
pub const VACCINE_ALIASES: &[(&str, &str)] = &[
    ("6in1", SIX_IN_ONE),
    ("dtapipvhibhepb", SIX_IN_ONE),
    ("hexavalent", SIX_IN_ONE),
    ("infanrixhexa", SIX_IN_ONE),
    ("vaxelis", SIX_IN_ONE),
    ("menb", MENB),
    ("bexsero", MENB),
    ("rotavirus", ROTAVIRUS),
    ("rota", ROTAVIRUS),
    ("rotarix", ROTAVIRUS),
    ("pcv", PCV),
    ("pcv13", PCV),
    ("prevenar13", PCV),
    ("pneumococcal", PCV),
    ("hibmenc", HIB_MENC),
    ("menitorix", HIB_MENC),
    ("mmr", MMR),
    ("mmrvaxpro", MMR),
    ("priorix", MMR),
    ("mmrv", MMRV),
    ("priorixtetra", MMRV),
    ("proquad", MMRV),
    ("dtapipv", PRESCHOOL_BOOSTER),
    ("4in1", PRESCHOOL_BOOSTER),
    ("boostrixipv", PRESCHOOL_BOOSTER),
    ("repevax", PRESCHOOL_BOOSTER),
    ("hepb", HEP_B),
    ("hepatitisb", HEP_B),
    ("engerixb", HEP_B),
    ("hbvaxpro", HEP_B),
    ("hbsagtest", HBSAG_TEST),
    ("bcg", BCG),
    ("flu", FLU),
    ("influenza", FLU),
    ("fluenz", FLU),
    ("laiv", FLU),
];

/// Vaccines that protect against chickenpox: one given means the catch-up is not needed.
pub const VARICELLA_CONTAINING: &[&str] = &[MMRV, "Varicella"];
