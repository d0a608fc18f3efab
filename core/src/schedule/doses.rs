//! What the door asks about an immunisation before it is written: a vaccine the schedule
//! does not know, a dose number beyond the vaccine's course, the same vaccine twice on
//! one day, a dose already recorded. Each may be right (a travel vaccine, an extra dose a
//! specialist advised), so the writer may confirm it (`record::write_rules`).

use super::data::{BCG_ELIGIBLE, FLU, HEP_B_AT_RISK, ROUTINE, VACCINE_ALIASES};
use super::{canonical_vaccine, match_key};
use crate::model::Immunisation;

/// Green Book ch. 19: a child in a clinical risk group aged 6 months to under 9 years
/// who has not had flu vaccine before has two doses, four weeks apart, in a season.
const FLU_DOSES_IN_A_SEASON: u8 = 2;

/// One thing the writer is asked to check: the field and why, without the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoseQuestion {
    pub field: &'static str,
    pub reason: String,
}

/// The schedule's vaccine names, in the order of `VACCINE_ALIASES`.
pub fn known_vaccines() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for (_, name) in VACCINE_ALIASES {
        if !names.contains(name) {
            names.push(name);
        }
    }
    names
}

/// The most doses of `vaccine` (a schedule name) any programme here gives: the routine
/// schedule for every cohort, the hepatitis B and BCG programmes; flu's are a season's.
pub fn course_doses(vaccine: &str) -> Option<u8> {
    if vaccine == FLU {
        return Some(FLU_DOSES_IN_A_SEASON);
    }
    ROUTINE
        .iter()
        .chain(HEP_B_AT_RISK)
        .chain(BCG_ELIGIBLE)
        .filter(|rule| rule.vaccine == vaccine)
        .map(|rule| rule.dose)
        .max()
}

/// What to ask about `new` given the doses the record already holds (`recorded`: its
/// current immunisations, less the one `new` corrects).
pub fn dose_questions(new: &Immunisation, recorded: &[&Immunisation]) -> Vec<DoseQuestion> {
    let mut questions = Vec::new();
    let canonical = canonical_vaccine(&new.vaccine);
    match canonical.map(|name| (name, course_doses(name))) {
        None => questions.push(DoseQuestion {
            field: "vaccine",
            reason: format!(
                "is not one the schedule knows ({}); a travel or private vaccine is kept as another vaccine",
                known_vaccines().join(", ")
            ),
        }),
        Some((name, Some(course))) if new.dose > course => questions.push(DoseQuestion {
            field: "dose",
            reason: format!(
                "is beyond the course: {name} has {}",
                crate::model::count(course, "dose", "doses")
            ),
        }),
        Some(_) => {}
    }
    let key = match_key(&new.vaccine);
    let same_vaccine = |given: &&&Immunisation| match canonical {
        Some(name) => canonical_vaccine(&given.vaccine) == Some(name),
        None => match_key(&given.vaccine) == key,
    };
    if recorded
        .iter()
        .filter(same_vaccine)
        .any(|given| given.date == new.date)
    {
        questions.push(DoseQuestion {
            field: "vaccine",
            reason: "is already recorded on this day".into(),
        });
    } else if canonical != Some(FLU)
        && recorded
            .iter()
            .filter(same_vaccine)
            .any(|given| given.dose == new.dose)
    {
        questions.push(DoseQuestion {
            field: "dose",
            reason: "is already recorded for this vaccine on another day".into(),
        });
    }
    questions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::data::{MENB, SIX_IN_ONE};

    fn dose(vaccine: &str, dose: u8, on: &str) -> Immunisation {
        Immunisation {
            date: on.parse().unwrap(),
            vaccine: vaccine.into(),
            dose,
            product: None,
            batch: None,
            site: None,
            route: None,
            given_by: None,
        }
    }

    #[test]
    fn courses_are_read_from_the_schedule_data() {
        assert_eq!(course_doses(MENB), Some(3));
        // The fourth at 18 months, for children born from 1 July 2024.
        assert_eq!(course_doses(SIX_IN_ONE), Some(4));
        assert_eq!(course_doses(FLU), Some(2));
        assert_eq!(course_doses("Yellow fever"), None);
    }

    #[test]
    fn an_unknown_vaccine_lists_the_known_ones() {
        let asked = dose_questions(&dose("banana", 1, "2026-03-01"), &[]);
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].field, "vaccine");
        assert!(asked[0].reason.contains("6-in-1, MenB, Rotavirus, PCV"));
        assert!(
            !asked[0].reason.contains("banana"),
            "the value is not echoed"
        );
    }

    #[test]
    fn a_dose_beyond_the_course_or_repeated_is_asked_about() {
        let asked = dose_questions(&dose("MenB", 7, "2026-03-01"), &[]);
        assert_eq!(asked[0].field, "dose");
        assert_eq!(asked[0].reason, "is beyond the course: MenB has 3 doses");
        let first = dose("6-in-1", 1, "2026-03-01");
        // The same dose again that day, by its brand name.
        let asked = dose_questions(&dose("Infanrix hexa", 1, "2026-03-01"), &[&first]);
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].field, "vaccine");
        assert_eq!(asked[0].reason, "is already recorded on this day");
        // Dose 1 again a month later.
        let asked = dose_questions(&dose("6-in-1", 1, "2026-04-01"), &[&first]);
        assert_eq!(asked[0].field, "dose");
        // Dose 2 a month later is what the schedule expects.
        assert!(dose_questions(&dose("6-in-1", 2, "2026-04-01"), &[&first]).is_empty());
        // Flu's dose 1 comes every season.
        let flu = dose("Flu", 1, "2026-10-01");
        assert!(dose_questions(&dose("Flu", 1, "2027-10-01"), &[&flu]).is_empty());
    }
}
