//! What the record says about SCID, for the live vaccines: one small pure rule over the
//! findings `input` reads from blood spot results and the specialist team's entries. The
//! rule and its sources are in `data` (`SCID_RULED_OUT_SOURCE`, `LIVE_VACCINE_SOURCE`).

use super::ScidScreen;
use chrono::NaiveDate;

/// One SCID finding the record gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScidFinding {
    /// The blood spot sample's date, or the date of the specialist team's finding.
    pub date: NaiveDate,
    /// Suspected on screening, or found by the specialist team; false: not suspected on
    /// screening, or ruled out by the specialist team.
    pub suspected: bool,
    /// A specialist team's finding (a SCID risk factor entry), not a screening result.
    pub by_specialist: bool,
    /// Written by a professional whose role an organisation on the trust list confirms:
    /// only such an entry ends a suspicion (`data::SCID_RULED_OUT_SOURCE`).
    pub confirmed_professional: bool,
}

/// The SCID status the schedule acts on (`data::SCID_RULED_OUT_SOURCE`):
/// - nothing decisive recorded: unknown;
/// - never suspected: not suspected;
/// - suspected (on any counted entry): stays suspected unless a confirmed professional's
///   "not suspected" on a later sample, or the specialist team's "ruled out", is dated
///   after the latest suspicion. On the same date, suspected wins. Once the specialist
///   team has found SCID, only their own later "ruled out" ends it, never a screen.
pub fn scid_screen(findings: &[ScidFinding]) -> ScidScreen {
    let Some(suspected_on) = findings
        .iter()
        .filter(|f| f.suspected)
        .map(|f| f.date)
        .max()
    else {
        return if findings.is_empty() {
            ScidScreen::Unknown
        } else {
            ScidScreen::NotSuspected
        };
    };
    let found_by_specialist = findings.iter().any(|f| f.suspected && f.by_specialist);
    findings
        .iter()
        .filter(|f| !f.suspected && f.confirmed_professional && f.date > suspected_on)
        .filter(|f| f.by_specialist || !found_by_specialist)
        .max_by_key(|f| (f.date, f.by_specialist))
        .map_or(ScidScreen::Suspected, |f| ScidScreen::RuledOut {
            suspected_on,
            ruled_out_on: f.date,
            by_specialist: f.by_specialist,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn screen(date: &str, suspected: bool, confirmed_professional: bool) -> ScidFinding {
        ScidFinding {
            date: d(date),
            suspected,
            by_specialist: false,
            confirmed_professional,
        }
    }

    fn specialist(date: &str, suspected: bool) -> ScidFinding {
        ScidFinding {
            by_specialist: true,
            ..screen(date, suspected, true)
        }
    }

    #[test]
    fn a_later_sample_or_the_specialist_team_ends_a_suspicion_never_an_earlier_or_same_day_one() {
        assert_eq!(scid_screen(&[]), ScidScreen::Unknown);
        let suspected = screen("2026-01-06", true, true);
        let repeat = screen("2026-01-20", false, true);
        assert_eq!(
            scid_screen(&[screen("2026-01-06", false, false)]),
            ScidScreen::NotSuspected
        );
        // Suspected, then not suspected on a later sample: by sample date, whatever the
        // order the entries were written in.
        let ruled_out = ScidScreen::RuledOut {
            suspected_on: d("2026-01-06"),
            ruled_out_on: d("2026-01-20"),
            by_specialist: false,
        };
        assert_eq!(scid_screen(&[suspected, repeat]), ruled_out);
        assert_eq!(scid_screen(&[repeat, suspected]), ruled_out);
        // Not suspected, then suspected on a later sample.
        assert_eq!(
            scid_screen(&[
                screen("2026-01-06", false, true),
                screen("2026-01-20", true, false)
            ]),
            ScidScreen::Suspected
        );
        // Two results for one sample date (two devices): suspected wins.
        for pair in [
            [suspected, screen("2026-01-06", false, true)],
            [screen("2026-01-06", false, true), suspected],
        ] {
            assert_eq!(scid_screen(&pair), ScidScreen::Suspected);
        }
        // The day after the suspicion ends it; the same day does not.
        assert_eq!(
            scid_screen(&[suspected, specialist("2026-01-06", false)]),
            ScidScreen::Suspected
        );
        assert_eq!(
            scid_screen(&[suspected, specialist("2026-01-07", false)]),
            ScidScreen::RuledOut {
                suspected_on: d("2026-01-06"),
                ruled_out_on: d("2026-01-07"),
                by_specialist: true,
            }
        );
        // A later "not suspected" from anyone but a confirmed professional ends nothing.
        assert_eq!(
            scid_screen(&[suspected, screen("2026-01-20", false, false)]),
            ScidScreen::Suspected
        );
    }

    #[test]
    fn once_the_specialist_team_finds_scid_only_their_later_word_ends_it() {
        let found = specialist("2026-01-10", true);
        assert_eq!(
            scid_screen(&[found, screen("2026-02-01", false, true)]),
            ScidScreen::Suspected
        );
        assert_eq!(
            scid_screen(&[found, specialist("2026-02-01", false)]),
            ScidScreen::RuledOut {
                suspected_on: d("2026-01-10"),
                ruled_out_on: d("2026-02-01"),
                by_specialist: true,
            }
        );
        // A screen suspected after the team ruled SCID out starts again.
        assert_eq!(
            scid_screen(&[
                screen("2026-01-06", true, true),
                specialist("2026-01-08", false),
                screen("2026-01-20", true, true),
            ]),
            ScidScreen::Suspected
        );
    }

    /// The rule as the schedule reads a record: which entries count, and what is offered.
    mod from_the_record {
        use super::d;
        use crate::model::*;
        use crate::schedule::{due, schedule_input, DueReport, DueStatus, ScidScreen};

        struct By {
            role: Role,
            confirmed: bool,
            verification: Verification,
        }

        const MIDWIFE: By = By {
            role: Role::Midwife,
            confirmed: true,
            verification: Verification::Verified,
        };
        const UNCONFIRMED_GP: By = By {
            confirmed: false,
            ..MIDWIFE
        };
        const MUM: By = By {
            role: Role::Parent,
            confirmed: false,
            ..MIDWIFE
        };

        fn view(by: &By, written: u32, body: EntryBody) -> EntryView {
            EntryView {
                entry: StoredEntry {
                    id: EntryId::generate().unwrap(),
                    author: Author {
                        device_id: format!("{:?}", by.role),
                        role: by.role,
                        display_name: "someone".into(),
                        organisation: None,
                    },
                    recorded_at: chrono::DateTime::from_timestamp(
                        1_780_000_000 + i64::from(written),
                        0,
                    )
                    .unwrap(),
                    amends: None,
                    body,
                    source: None,
                    confirmed: false,
                },
                status: EntryStatus::Current,
                flags: vec![],
                verification: by.verification,
                author_confirmed_by: by.confirmed.then(|| "X99TEST".to_string()),
                author_name_then: None,
                withheld_until: None,
            }
        }

        fn scid_result(sample: &str, outcome: BloodSpotOutcome) -> EntryBody {
            EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
                sample_date: d(sample),
                results: vec![
                    BloodSpotResult {
                        condition: BloodSpotCondition::Pku,
                        outcome: BloodSpotOutcome::NotSuspected,
                    },
                    BloodSpotResult {
                        condition: BloodSpotCondition::Scid,
                        outcome,
                    },
                ],
            })
        }

        fn specialist(date: &str, found: bool) -> EntryBody {
            EntryBody::RiskFactor(RiskFactor {
                date: d(date),
                factor: RiskFactorKind::Scid,
                present: found,
            })
        }

        fn bcg_eligible() -> EntryBody {
            EntryBody::RiskFactor(RiskFactor {
                date: d("2026-01-01"),
                factor: RiskFactorKind::TuberculosisRisk,
                present: true,
            })
        }

        fn read(views: &[EntryView]) -> (ScidScreen, DueReport) {
            let details = ChildDetails {
                name: "Amara".into(),
                birth_date: Some(d("2026-01-01")),
                ..Default::default()
            };
            let timeline: Vec<&EntryView> = views.iter().collect();
            let (input, risks) = schedule_input(&details, &timeline).unwrap();
            let mut report = due(&input, d("2026-01-26")).unwrap();
            report.risk_factors = risks;
            (input.scid, report)
        }

        const SUSPECTED: BloodSpotOutcome = BloodSpotOutcome::Suspected;
        const NOT_SUSPECTED: BloodSpotOutcome = BloodSpotOutcome::NotSuspected;

        #[test]
        fn a_repeat_sample_written_first_still_ends_the_suspicion_by_its_date_and_live_vaccines_say_why(
        ) {
            // The repeat's result was typed in before the first sample's.
            let views = [
                view(&MIDWIFE, 0, bcg_eligible()),
                view(&MIDWIFE, 1, scid_result("2026-01-20", NOT_SUSPECTED)),
                view(&MIDWIFE, 2, scid_result("2026-01-06", SUSPECTED)),
            ];
            let (scid, report) = read(&views);
            assert!(
                matches!(
                    scid,
                    ScidScreen::RuledOut {
                        by_specialist: false,
                        ..
                    }
                ),
                "{scid:?}"
            );
            for (vaccine, status) in [("BCG", DueStatus::Due), ("Rotavirus", DueStatus::Upcoming)] {
                let item = report
                    .immunisations
                    .iter()
                    .find(|i| i.vaccine == vaccine)
                    .unwrap();
                assert_eq!(item.status, status, "{vaccine}");
                let note = item.note.as_deref().unwrap();
                assert_eq!(
                    note,
                    "can be given: SCID was suspected on 2026-01-06, then not suspected on the blood spot sample of 2026-01-20"
                );
                assert!(item.source.contains("UKHSA-SCID-CRIB"), "{}", item.source);
            }
            // MMRV at one year: offered again too.
            let mmrv = report
                .immunisations
                .iter()
                .find(|i| i.vaccine == "MMRV")
                .unwrap();
            assert_eq!(mmrv.status, DueStatus::Upcoming);
            assert!(mmrv.note.as_deref().unwrap().starts_with("can be given"));
        }

        #[test]
        fn only_a_confirmed_professionals_signed_word_ends_a_suspicion() {
            let suspected = || view(&MIDWIFE, 0, scid_result("2026-01-06", SUSPECTED));
            let cases = [
                (
                    "a parent's repeat result",
                    view(&MUM, 1, scid_result("2026-01-20", NOT_SUSPECTED)),
                ),
                (
                    "a parent's 'ruled out'",
                    view(&MUM, 1, specialist("2026-01-20", false)),
                ),
                (
                    "an unconfirmed GP's 'ruled out'",
                    view(&UNCONFIRMED_GP, 1, specialist("2026-01-20", false)),
                ),
                (
                    "an unconfirmed GP's repeat result",
                    view(&UNCONFIRMED_GP, 1, scid_result("2026-01-20", NOT_SUSPECTED)),
                ),
            ];
            for (what, later) in cases {
                assert_eq!(
                    read(&[suspected(), later]).0,
                    ScidScreen::Suspected,
                    "{what}"
                );
            }
            for verification in [
                Verification::Unverified,
                Verification::Invalid,
                Verification::NotPermitted,
            ] {
                let forged = By {
                    verification,
                    ..MIDWIFE
                };
                for later in [
                    scid_result("2026-01-20", NOT_SUSPECTED),
                    specialist("2026-01-20", false),
                ] {
                    let (scid, report) = read(&[suspected(), view(&forged, 1, later)]);
                    assert_eq!(scid, ScidScreen::Suspected, "{verification:?}");
                    let rota = report
                        .immunisations
                        .iter()
                        .find(|i| i.vaccine == "Rotavirus")
                        .unwrap();
                    assert_eq!(rota.status, DueStatus::NotApplicable);
                }
            }
            // Listed with why it does not count.
            let (_, report) = read(&[
                suspected(),
                view(&UNCONFIRMED_GP, 1, specialist("2026-01-20", false)),
            ]);
            let why = report.risk_factors[0].why_not_used.as_deref().unwrap();
            assert!(
                why.contains("no organisation on this app's trust list has confirmed"),
                "{why}"
            );
            // The confirmed midwife's "ruled out" counts.
            let (scid, report) = read(&[
                suspected(),
                view(&MIDWIFE, 1, specialist("2026-01-20", false)),
            ]);
            assert!(matches!(
                scid,
                ScidScreen::RuledOut {
                    by_specialist: true,
                    ..
                }
            ));
            let rota = report
                .immunisations
                .iter()
                .find(|i| i.vaccine == "Rotavirus")
                .unwrap();
            assert!(rota
                .note
                .as_deref()
                .unwrap()
                .contains("ruled out by the specialist team on 2026-01-20"));
        }

        #[test]
        fn a_later_suspicion_a_same_day_pair_and_a_specialists_finding_stop_live_vaccines() {
            // Not suspected, then suspected on a later sample; anyone's suspicion counts.
            let later = [
                view(&MIDWIFE, 0, scid_result("2026-01-06", NOT_SUSPECTED)),
                view(&MUM, 1, scid_result("2026-01-20", SUSPECTED)),
            ];
            assert_eq!(read(&later).0, ScidScreen::Suspected);
            // Two devices' results for one sample, in either order written: suspected wins.
            for (first, second) in [(SUSPECTED, NOT_SUSPECTED), (NOT_SUSPECTED, SUSPECTED)] {
                let pair = [
                    view(&MIDWIFE, 0, scid_result("2026-01-06", first)),
                    view(&UNCONFIRMED_GP, 0, scid_result("2026-01-06", second)),
                ];
                assert_eq!(read(&pair).0, ScidScreen::Suspected);
            }
            // The specialist's "found" and "ruled out" on one date: found wins, in the
            // schedule and in the list of what is used.
            for written in [[0, 1], [1, 0]] {
                let (scid, report) = read(&[
                    view(&MIDWIFE, written[0], specialist("2026-01-20", true)),
                    view(&MIDWIFE, written[1], specialist("2026-01-20", false)),
                ]);
                assert_eq!(scid, ScidScreen::Suspected);
                let used: Vec<bool> = report
                    .risk_factors
                    .iter()
                    .filter(|r| r.used)
                    .map(|r| r.present)
                    .collect();
                assert_eq!(used, [true]);
            }
            // Declined, not screened or a repeat required are no finding either way.
            for outcome in [
                BloodSpotOutcome::Declined,
                BloodSpotOutcome::NotScreened,
                BloodSpotOutcome::RepeatRequired,
            ] {
                let alone = if outcome == BloodSpotOutcome::Declined {
                    ScidScreen::Declined
                } else {
                    ScidScreen::Unknown
                };
                assert_eq!(
                    read(&[view(&MIDWIFE, 0, scid_result("2026-01-06", outcome))]).0,
                    alone
                );
                let after = [
                    view(&MIDWIFE, 0, scid_result("2026-01-06", SUSPECTED)),
                    view(&MIDWIFE, 1, scid_result("2026-01-20", outcome)),
                ];
                assert_eq!(read(&after).0, ScidScreen::Suspected);
            }
            // Declined: BCG says no result will come, and is still offered.
            let (_, report) = read(&[
                view(&MIDWIFE, 0, bcg_eligible()),
                view(
                    &MIDWIFE,
                    1,
                    scid_result("2026-01-06", BloodSpotOutcome::Declined),
                ),
            ]);
            let bcg = report
                .immunisations
                .iter()
                .find(|i| i.vaccine == "BCG")
                .unwrap();
            assert_eq!(bcg.status, DueStatus::Due);
            assert!(bcg
                .note
                .as_deref()
                .unwrap()
                .contains("no SCID result will come"));
        }
    }
}
