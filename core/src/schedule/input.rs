//! The schedule's input read from a child's record: what was given and done, and which
//! risk factor entries it may rely on. Only what a member vouched for counts.

use super::{
    canonical_vaccine, data, scid_screen, Check, Eligibility, GivenDose, RiskFactorUse,
    ScheduleInput, ScidFinding, ScidScreen,
};
use crate::model::{
    BloodSpotCondition, BloodSpotOutcome, ChildDetails, EntryBody, EntryView, NewbornScreening,
    NipeStage, ReviewKind, RiskFactorKind, ValidationError, Verification,
};
use chrono::{DateTime, Utc};

/// The schedule's view of a record: current entries only (amended and error-marked
/// ones do not count as given or done), and the risk factors it may rely on.
pub fn schedule_input(
    details: &ChildDetails,
    timeline: &[&EntryView],
) -> Result<(ScheduleInput, Vec<RiskFactorUse>), ValidationError> {
    let birth_date = details
        .birth_date
        .ok_or_else(|| ValidationError::new("birth_date", "is needed to work out what is due"))?;
    let mut input = ScheduleInput {
        birth_date,
        ..Default::default()
    };
    let mut scid_findings = Vec::new();
    let mut scid_declined = false;
    let mut risk_views = Vec::new();
    for &view in timeline {
        // Only what a member vouched for counts as given or done: an entry signed by a
        // member device that could write when it wrote. A forged one, one written without
        // the right to write, one signed by no member or unsigned would hide a due dose
        // (hazard log H18). Risk factors are all listed, used or not (`risk_factor_uses`).
        if view.verification != Verification::Verified
            && !matches!(view.entry.body, EntryBody::RiskFactor(_))
        {
            continue;
        }
        match &view.entry.body {
            EntryBody::Immunisation(i) => input.given.push(GivenDose {
                vaccine: i.vaccine.clone(),
                dose: i.dose,
                date: i.date,
                reported_by: (!view.entry.author.role.is_professional())
                    .then(|| view.entry.author.display_name.clone()),
            }),
            EntryBody::Review(r) => {
                let check = match r.kind {
                    ReviewKind::NewBaby => Some(Check::NewBabyReview),
                    ReviewKind::SixToEightWeeks => Some(Check::SixToEightWeekReview),
                    ReviewKind::NineToTwelveMonths => Some(Check::NineToTwelveMonthReview),
                    ReviewKind::TwoToTwoAndAHalfYears => Some(Check::TwoYearReview),
                    ReviewKind::Antenatal | ReviewKind::Other => None,
                };
                input.checks_done.extend(check.map(|c| (c, r.date)));
            }
            EntryBody::NewbornScreening(screening) => {
                let check = match screening {
                    NewbornScreening::Nipe {
                        stage: NipeStage::Newborn,
                        ..
                    } => Check::NipeNewborn,
                    NewbornScreening::Nipe {
                        stage: NipeStage::SixToEightWeeks,
                        ..
                    } => Check::NipeSixToEightWeeks,
                    NewbornScreening::Hearing { .. } => Check::Hearing,
                    NewbornScreening::BloodSpot { .. } => Check::BloodSpot,
                };
                input.checks_done.push((check, screening.date()));
                if let NewbornScreening::BloodSpot {
                    sample_date,
                    results,
                } = screening
                {
                    // Only a decisive result is a finding; an unclear repeat (repeat
                    // required, not screened, declined) never clears a suspicion (H17).
                    let scid = results.iter().find_map(|r| match r.outcome {
                        _ if r.condition != BloodSpotCondition::Scid => None,
                        BloodSpotOutcome::Suspected => Some(true),
                        BloodSpotOutcome::NotSuspected => Some(false),
                        _ => None,
                    });
                    scid_declined |= results.iter().any(|r| {
                        r.condition == BloodSpotCondition::Scid
                            && r.outcome == BloodSpotOutcome::Declined
                    });
                    scid_findings.extend(scid.map(|suspected| ScidFinding {
                        date: *sample_date,
                        suspected,
                        by_specialist: false,
                        confirmed_professional: confirmed_professional(view),
                    }));
                }
            }
            EntryBody::RiskFactor(_) => risk_views.push(view),
            _ => {}
        }
    }
    let risk_factors = risk_factor_uses(&risk_views);
    // The specialist team's findings: every counted one, not only the latest (on one
    // date, "found" must beat "ruled out" whichever was written last).
    scid_findings.extend(
        risk_views
            .iter()
            .filter(|view| why_not_counted(view).is_none())
            .filter_map(|view| match &view.entry.body {
                EntryBody::RiskFactor(r) if r.factor == RiskFactorKind::Scid => Some(ScidFinding {
                    date: r.date,
                    suspected: r.present,
                    by_specialist: true,
                    confirmed_professional: true,
                }),
                _ => None,
            }),
    );
    input.scid = match scid_screen(&scid_findings) {
        ScidScreen::Unknown if scid_declined => ScidScreen::Declined,
        scid => scid,
    };
    let present = |wanted: &dyn Fn(RiskFactorKind) -> bool| {
        risk_factors
            .iter()
            .any(|r| r.used && r.present && wanted(r.factor))
    };
    input.eligibility = Eligibility {
        hep_b_at_risk: present(&|k| k == RiskFactorKind::MaternalHepatitisB),
        bcg: present(&|k| k == RiskFactorKind::TuberculosisRisk),
        flu_clinical_risk: present(&RiskFactorKind::is_flu_risk_group),
        had_chickenpox: present(&|k| k == RiskFactorKind::Chickenpox),
    };
    // A monovalent hepatitis B dose on record means the baby is in that programme.
    if input
        .given
        .iter()
        .any(|g| canonical_vaccine(&g.vaccine) == Some(data::HEP_B))
    {
        input.eligibility.hep_b_at_risk = true;
    }
    Ok((input, risk_factors))
}

/// Which risk factor entries the schedule relies on: signed by a member that could
/// write, by a professional where the fact is a professional's to record; of those, the
/// latest per kind decides (hazard log H16). Every one is listed, used or not, with why.
pub fn risk_factor_uses(views: &[&EntryView]) -> Vec<RiskFactorUse> {
    let mut uses: Vec<(RiskFactorUse, DateTime<Utc>)> = views
        .iter()
        .filter_map(|view| {
            let EntryBody::RiskFactor(r) = &view.entry.body else {
                return None;
            };
            let author = &view.entry.author;
            let why_not_used = why_not_counted(view);
            let risk = RiskFactorUse {
                entry_id: view.entry.id.to_string(),
                factor: r.factor,
                present: r.present,
                date: r.date,
                recorded_by: format!("{} ({})", author.display_name, author.role.label()),
                used: why_not_used.is_none(),
                why_not_used,
            };
            Some((risk, view.entry.recorded_at))
        })
        .collect();
    // On one date, a SCID found sorts after (so wins over) one ruled out, as the schedule
    // reads them (`scid::scid_screen`); otherwise the later written wins.
    let found_last = |u: &RiskFactorUse| u.factor == RiskFactorKind::Scid && u.present;
    uses.sort_by(|(a, a_at), (b, b_at)| {
        (a.factor, a.date, found_last(a), a_at).cmp(&(b.factor, b.date, found_last(b), b_at))
    });
    // Latest counted entry per kind decides; earlier counted ones are replaced.
    for i in 0..uses.len() {
        let replaced = uses[i + 1..]
            .iter()
            .any(|(later, _)| later.used && later.factor == uses[i].0.factor);
        if uses[i].0.used && replaced {
            uses[i].0.used = false;
            uses[i].0.why_not_used = Some("a later entry about the same thing replaces it".into());
        }
    }
    uses.into_iter().map(|(u, _)| u).collect()
}

/// Why a risk factor entry does not count, if it does not: not vouched for by a member
/// that could write, or a professional's fact written by anyone else, or by a
/// professional whose role no organisation on this app's trust list confirms.
fn why_not_counted(view: &EntryView) -> Option<String> {
    let EntryBody::RiskFactor(r) = &view.entry.body else {
        return Some("not a risk factor".into());
    };
    let author = &view.entry.author;
    if view.verification != Verification::Verified {
        Some("not signed by a member of this record who could write".to_string())
    } else if r.factor.professional_only() && !author.role.is_professional() {
        Some(format!(
            "written by a {}: a professional records this before the schedule uses it",
            author.role.label()
        ))
    } else if r.factor.professional_only() && view.author_confirmed_by.is_none() {
        // A role an admin gave is not enough for a professional's fact: anyone an admin
        // grants "GP" could otherwise change the schedule (docs/threat-model.md, "Roles").
        Some(format!(
            "written by a {} whose role no organisation on this app's trust list has confirmed: it counts once confirmed",
            author.role.label()
        ))
    } else {
        None
    }
}

/// Written by a professional whose role an organisation on the trust list confirms
/// (signed and verified is checked by the caller).
fn confirmed_professional(view: &EntryView) -> bool {
    view.entry.author.role.is_professional() && view.author_confirmed_by.is_some()
}
