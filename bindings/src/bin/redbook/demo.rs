//! `redbook demo`: one family, two children, a year of entries written by a parent and
//! by professionals, then a summary and a look at what is on disk.

use super::{role_name, CliError, CliResult};
use chrono::{Duration, Local, NaiveDate};
use redbook_core::growth::{Correction, Measure};
use redbook_core::model::*;
use redbook_core::schedule::{DueStatus, Eligibility};
use redbook_core::DeviceProfile;
use redbook_ffi::{GrowthCharts, RedBook};
use std::path::Path;

/// Announced on screen: the demo database is throwaway.
const DEMO_PASSPHRASE: &str = "redbook-demo-passphrase";
const DEMO_FILE: &str = "family.redbook";
/// A number from the NHS's test range (999 000 0000 upwards), valid check digit.
const DEMO_NHS_NUMBER: &str = "9990000018";

pub fn run(dir: &Path) -> CliResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("cannot create {}: {e}", dir.display())))?;
    let path = dir.join(DEMO_FILE);
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("{DEMO_FILE}{suffix}"));
        if file.exists() {
            std::fs::remove_file(&file)
                .map_err(|e| CliError(format!("cannot replace the old demo: {e}")))?;
        }
    }
    println!("redbook demo");
    println!("  data folder: {}", dir.display());
    println!("  database:    {}", path.display());
    println!(
        "  passphrase:  {DEMO_PASSPHRASE}   (demo only; stretched with 600,000 rounds of PBKDF2)"
    );
    println!();

    let book = RedBook::open_with_passphrase(path.display().to_string(), DEMO_PASSPHRASE.into())?;
    let today = Local::now().date_naive();
    let amara_born = today - Duration::days(400);
    let kofi_born = today - Duration::days(3 * 365 + 60);
    let amara = book.add_child(ChildDetails {
        name: "Amara Okafor".into(),
        birth_date: Some(amara_born),
        sex: Some(Sex::Female),
        gestation: Some(Gestation::new(39, 4)),
        nhs_number: Some(DEMO_NHS_NUMBER.into()),
        address: Some("12 Cedar Road, Hackney".into()),
        gp_practice: Some("Cedar Practice".into()),
    })?;
    let kofi = book.add_child(ChildDetails {
        name: "Kofi Okafor".into(),
        birth_date: Some(kofi_born),
        sex: Some(Sex::Male),
        gestation: Some(Gestation::new(36, 2)),
        ..Default::default()
    })?;

    let as_who = |role: Role, name: &str, org: Option<&str>| -> CliResult {
        book.set_device_profile(DeviceProfile {
            role,
            display_name: name.into(),
            organisation: org.map(str::to_string),
        })?;
        Ok(())
    };
    let on = |born: NaiveDate, days: i64| born + Duration::days(days);
    let add = |child: &RecordId, body: EntryBody| -> CliResult<EntryView> {
        Ok(book.add_entry(child.clone(), body)?)
    };
    let weigh = |date, kg, length_cm, head_cm| {
        EntryBody::Measurement(Measurement {
            date,
            weight_kg: Some(kg),
            length_cm,
            height_cm: None,
            head_circumference_cm: head_cm,
            measured_by: MeasuredBy::Professional,
        })
    };
    let jab = |date, vaccine: &str, dose, batch: &str| {
        EntryBody::Immunisation(Immunisation {
            date,
            vaccine: vaccine.into(),
            dose,
            product: None,
            batch: Some(batch.into()),
            site: Some("left thigh".into()),
            route: Some("intramuscular".into()),
            given_by: Some("Practice nurse".into()),
        })
    };

    // Birth and newborn screening: the midwife.
    as_who(Role::Midwife, "Midwife Adaeze", Some("RQX"))?;
    add(
        &amara,
        EntryBody::BirthDetails(BirthDetails {
            gestation: Some(Gestation::new(39, 4)),
            birth_weight_kg: Some(3.41),
            head_circumference_cm: Some(34.5),
            length_cm: Some(50.5),
            place_of_birth: Some("Homerton University Hospital".into()),
            delivery_mode: Some(DeliveryMode::SpontaneousVaginal),
            apgar_1_min: Some(9),
            apgar_5_min: Some(10),
        }),
    )?;
    add(
        &amara,
        EntryBody::NewbornScreening(NewbornScreening::Nipe {
            date: on(amara_born, 1),
            stage: NipeStage::Newborn,
            hips: ScreeningResult::Normal,
            eyes: ScreeningResult::Normal,
            heart: ScreeningResult::Normal,
            testes: None,
        }),
    )?;
    add(
        &amara,
        EntryBody::NewbornScreening(NewbornScreening::Hearing {
            date: on(amara_born, 2),
            left: HearingEarResult::ClearResponse,
            right: HearingEarResult::ClearResponse,
            outcome: HearingOutcome::Discharged,
        }),
    )?;
    use BloodSpotCondition::*;
    add(
        &amara,
        EntryBody::NewbornScreening(NewbornScreening::BloodSpot {
            sample_date: on(amara_born, 5),
            results: [Pku, Scd, Cf, Cht, Mcadd, Hcu, Msud, Ga1, Iva, Ht1]
                .into_iter()
                .map(|condition| BloodSpotResult {
                    condition,
                    outcome: BloodSpotOutcome::NotSuspected,
                })
                .collect(),
        }),
    )?;

    // Health visitor reviews and growth.
    as_who(Role::HealthVisitor, "HV Jo Bloggs", Some("RQX"))?;
    add(
        &amara,
        EntryBody::Review(Review {
            date: on(amara_born, 12),
            kind: ReviewKind::NewBaby,
            outcome: "Feeding well, cord healed".into(),
            asq3_scores: vec![],
            advice: Some("Safe sleep, vitamin D".into()),
        }),
    )?;
    let growth = [
        (0, 3.41, 50.5, 34.5),
        (14, 3.52, 52.0, 35.6),
        (56, 5.05, 57.6, 38.9),
        (84, 5.78, 60.4, 40.1),
        (112, 6.38, 62.6, 41.2),
        (182, 7.45, 66.9, 43.2),
        (273, 8.40, 71.0, 44.6),
        (366, 9.10, 74.5, 45.8),
    ];
    let mut first_weights = Vec::new();
    for (day, kg, length, head) in growth {
        first_weights.push(add(
            &amara,
            weigh(on(amara_born, day), kg, Some(length), Some(head)),
        )?);
    }
    add(
        &amara,
        EntryBody::Review(Review {
            date: on(amara_born, 50),
            kind: ReviewKind::SixToEightWeeks,
            outcome: "Thriving; mother's mood good".into(),
            asq3_scores: vec![],
            advice: Some("Immunisations from 8 weeks".into()),
        }),
    )?;
    add(
        &amara,
        EntryBody::Review(Review {
            date: on(amara_born, 300),
            kind: ReviewKind::NineToTwelveMonths,
            outcome: "Development on track".into(),
            asq3_scores: [
                "communication",
                "gross motor",
                "fine motor",
                "problem solving",
                "personal-social",
            ]
            .into_iter()
            .zip([50, 45, 55, 50, 60])
            .map(|(domain, score)| AsqScore {
                domain: domain.into(),
                score,
            })
            .collect(),
            advice: None,
        }),
    )?;
    add(
        &amara,
        EntryBody::Contact(Contact {
            role: ContactRole::HealthVisitor,
            name: "Jo Bloggs, Hackney Health Visiting".into(),
            phone: Some("020 7946 0123".into()),
        }),
    )?;

    as_who(Role::Gp, "Dr Mensah", Some("F84001"))?;
    add(
        &amara,
        EntryBody::NewbornScreening(NewbornScreening::Nipe {
            date: on(amara_born, 45),
            stage: NipeStage::SixToEightWeeks,
            hips: ScreeningResult::Normal,
            eyes: ScreeningResult::Normal,
            heart: ScreeningResult::Normal,
            testes: None,
        }),
    )?;

    // Immunisations: the practice nurse, on the schedule in force for a 2025 birth.
    as_who(Role::Nurse, "Nurse Patel", Some("F84001"))?;
    for (day, vaccine, dose, batch) in [
        (56, "6-in-1", 1, "HX3341"),
        (56, "MenB", 1, "MB0912"),
        (56, "Rotavirus", 1, "RV2210"),
        (84, "6-in-1", 2, "HX3377"),
        (84, "MenB", 2, "MB0950"),
        (84, "Rotavirus", 2, "RV2231"),
        (112, "6-in-1", 3, "HX3402"),
        (112, "PCV", 1, "PC1187"),
        (367, "PCV", 2, "PC1290"),
        (367, "MenB", 3, "MB1022"),
        (367, "MMRV", 1, "MV0031"),
    ] {
        add(&amara, jab(on(amara_born, day), vaccine, dose, batch))?;
    }

    // The parent's own pages, and a typing slip corrected.
    as_who(Role::Parent, "Mum (Ngozi)", None)?;
    for (day, kind, text) in [
        (42, NoteKind::DevelopmentalFirst, "First real smile, at Dad"),
        (
            130,
            NoteKind::DevelopmentalFirst,
            "Rolled over tummy to back",
        ),
        (
            250,
            NoteKind::QuestionForNextVisit,
            "Is it normal she is not crawling yet?",
        ),
        (
            381,
            NoteKind::DevelopmentalFirst,
            "First steps in the kitchen!",
        ),
    ] {
        add(
            &amara,
            EntryBody::Note(Note {
                date: on(amara_born, day),
                kind,
                text: text.into(),
            }),
        )?;
    }
    let slip = add(
        &amara,
        EntryBody::Measurement(Measurement {
            date: on(amara_born, 390),
            weight_kg: Some(92.0),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Parent,
        }),
    )?;
    book.amend_entry(
        amara.clone(),
        slip.entry.id.clone(),
        EntryBody::Measurement(Measurement {
            date: on(amara_born, 390),
            weight_kg: Some(9.2),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Parent,
        }),
    )?;
    add(
        &amara,
        EntryBody::Allergy(Allergy {
            substance: "Egg".into(),
            reaction: Some("Hives around the mouth".into()),
            severity: AllergySeverity::Mild,
            noted_on: Some(on(amara_born, 320)),
        }),
    )?;

    // Kofi, the older brother: his parent copies his jabs from the paper red book.
    for (day, vaccine, dose) in [
        (56, "6-in-1", 1),
        (56, "MenB", 1),
        (56, "Rotavirus", 1),
        (84, "6-in-1", 2),
        (84, "PCV", 1),
        (84, "Rotavirus", 2),
        (112, "6-in-1", 3),
        (112, "MenB", 2),
        (366, "Hib/MenC", 1),
        (366, "MMR", 1),
        (366, "MenB", 3),
        (366, "PCV", 2),
    ] {
        add(
            &kofi,
            EntryBody::Immunisation(Immunisation {
                date: on(kofi_born, day),
                vaccine: vaccine.into(),
                dose,
                product: None,
                batch: None,
                site: None,
                route: None,
                given_by: Some("GP surgery (copied from the paper red book)".into()),
            }),
        )?;
    }
    // His third year.
    let kofi_year = 2 * 365 + 60;
    for (day, kg, cm) in [
        (kofi_year, 12.6, 88.0),
        (kofi_year + 180, 13.5, 92.4),
        (kofi_year + 360, 14.4, 96.1),
    ] {
        add(
            &kofi,
            EntryBody::Measurement(Measurement {
                date: on(kofi_born, day),
                weight_kg: Some(kg),
                length_cm: None,
                height_cm: Some(cm),
                head_circumference_cm: None,
                measured_by: MeasuredBy::Parent,
            }),
        )?;
    }
    add(
        &kofi,
        EntryBody::HealthEvent(HealthEvent {
            date: on(kofi_born, kofi_year + 95),
            kind: HealthEventKind::Illness,
            description: "Chickenpox".into(),
            place: None,
            outcome: Some("Recovered at home".into()),
        }),
    )?;
    add(
        &kofi,
        EntryBody::Medicine(Medicine {
            name: "Paracetamol oral suspension".into(),
            dose: Some("5 ml up to 4 times a day".into()),
            started: on(kofi_born, kofi_year + 95),
            stopped: Some(on(kofi_born, kofi_year + 99)),
            reason: Some("Fever with chickenpox".into()),
        }),
    )?;
    as_who(Role::HealthVisitor, "HV Jo Bloggs", Some("RQX"))?;
    add(
        &kofi,
        EntryBody::Review(Review {
            date: on(kofi_born, kofi_year + 20),
            kind: ReviewKind::TwoToTwoAndAHalfYears,
            outcome: "Talking in short sentences; dentist registered".into(),
            asq3_scores: vec![],
            advice: Some("Free childcare from age 2".into()),
        }),
    )?;
    as_who(Role::Parent, "Mum (Ngozi)", None)?;

    // Summary, read back through the same API the apps use.
    let charts = match std::env::var("REDBOOK_UK90_PACK") {
        Ok(pack) => GrowthCharts::with_uk90_pack(pack)?,
        Err(_) => GrowthCharts::who_only(),
    };
    let list = book.children()?;
    println!("The family's records ({} children):", list.children.len());
    for summary in &list.children {
        let record = book.child(summary.id.clone())?;
        let timeline = record.timeline();
        let count = |kind: &str| {
            timeline
                .iter()
                .filter(|v| v.entry.body.kind_name() == kind)
                .count()
        };
        let latest_weight = timeline.iter().rev().find_map(|v| match &v.entry.body {
            EntryBody::Measurement(m) => m.weight_kg.map(|w| (m.date, w)),
            _ => None,
        });
        let age_days = (today - record.details.birth_date.unwrap_or(today)).num_days();
        println!();
        println!(
            "  {} — {} months old, id {}",
            record.details.name,
            age_days * 12 / 365,
            record.id
        );
        println!(
            "    {} entries: {} measurements, {} immunisations, {} reviews, {} screening results, {} notes",
            timeline.len(),
            count("measurement"),
            count("immunisation"),
            count("review"),
            count("newborn_screening"),
            count("note"),
        );
        if let Some((date, kg)) = latest_weight {
            let series = book.growth(
                summary.id.clone(),
                Measure::WeightKg,
                charts.clone(),
                Correction::RcpchDigital,
            )?;
            let centile = series
                .points
                .iter()
                .rev()
                .find_map(|p| p.assessment.as_ref())
                .map(|a| format!(", {} (UK-WHO)", a.description))
                .unwrap_or_default();
            println!("    latest weight {kg:.2} kg on {date}{centile}");
        }
        let authors: std::collections::BTreeSet<String> = record
            .entries
            .iter()
            .map(|v| {
                format!(
                    "{} ({})",
                    v.entry.author.display_name,
                    role_name(v.entry.author.role)
                )
            })
            .collect();
        println!(
            "    written by: {}",
            authors.into_iter().collect::<Vec<_>>().join(", ")
        );
        for view in timeline.iter().rev().take(3).rev() {
            let date = view
                .entry
                .body
                .date()
                .map(|d| d.to_string())
                .unwrap_or_default();
            println!("    {date}  {}", view.entry.body.summary());
        }
        let due = book.due(summary.id.clone(), None, Eligibility::default())?;
        let overdue: Vec<String> = due
            .immunisations
            .iter()
            .filter(|i| i.status == DueStatus::Overdue)
            .map(|i| format!("{} #{}", i.vaccine, i.dose))
            .collect();
        if !overdue.is_empty() {
            println!(
                "    overdue: {} (no record of them here)",
                overdue.join(", ")
            );
        }
        if let Some(next) = due.reminders.iter().find(|r| r.due_date >= today) {
            println!("    next: {} on {}", next.title, next.due_date);
        }
        let corrected = record.entries.len() - timeline.len();
        if corrected > 0 {
            println!("    {corrected} superseded entries kept (a corrected typing slip: 92 kg -> 9.2 kg)");
        }
    }
    drop(book);

    // What a thief with the phone's storage would see.
    println!();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(dir.join(format!("{DEMO_FILE}{suffix}"))) {
            bytes.extend(b);
        }
    }
    let secrets = [
        "Amara",
        "Okafor",
        DEMO_NHS_NUMBER,
        "Cedar Road",
        "First steps",
        "Chickenpox",
        "HX3341",
    ];
    let readable: Vec<_> = secrets
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect();
    println!("On disk: {} bytes in {DEMO_FILE} and its WAL.", bytes.len());
    if readable.is_empty() {
        println!(
            "Checked: none of {} names, numbers or notes written above can be read in the file.",
            secrets.len()
        );
        Ok(())
    } else {
        Err(CliError(format!(
            "{} written values are readable on disk",
            readable.len()
        )))
    }
}
