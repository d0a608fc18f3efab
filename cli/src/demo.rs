//! `redbook demo`: one family's red book on three devices, Mum's phone, Dad's phone and
//! the clinic's tablet, each with its own encrypted database. The clinic writes a year
//! of visits while offline, the parents write apart, they sync through the family's relay
//! (in-process, on loopback; the real protocol over real HTTP), a conflict on a
//! single-valued field is shown and resolved, and the record ends identical on every
//! device. Then Mum removes the GP surgery (told at its next sync) and Dad renames his
//! phone (every member's list shows it).

use crate::open::{sync_pair, write_file};
use crate::print::timeline_line;
use crate::wait::wait_for;
use crate::{CliError, CliResult};
use chrono::{Duration, Local, NaiveDate};
use redbook_core::growth::{Correction, Measure};
use redbook_core::model::*;
use redbook_core::schedule::DueStatus;
use redbook_core::view;
use redbook_core::{ChildRecord, DeviceProfile};
use redbook_ffi::{DetailUpdate, GrowthCharts, RedBook, RedbookError};
use std::path::Path;
use std::sync::Arc;

mod hostile;
use hostile::hostile;

/// Announced on screen: the demo databases are throwaway.
const DEMO_PASSPHRASE: &str = "redbook-demo-passphrase";
const DEVICES: [&str; 4] = ["mum-phone", "dad-phone", "clinic-tablet", "gp-surgery"];
/// A number from the NHS's test range (999 000 0000 upwards), valid check digit.
const DEMO_NHS_NUMBER: &str = "9990000018";

fn open_device(dir: &Path, name: &str, profile: DeviceProfile) -> CliResult<Arc<RedBook>> {
    let path = dir.join(format!("{name}.redbook"));
    let book = wait_for(RedBook::open_with_passphrase(
        path.display().to_string(),
        DEMO_PASSPHRASE.into(),
    ))?;
    book.set_device_profile(profile)?;
    // The demo's deployer trusts the test organisation only (docs/threat-model.md, "Roles").
    book.set_trusted_organisations(vec![redbook_ffi::test_organisation()])?;
    Ok(book)
}

fn profile(role: Role, name: &str, org: Option<&str>) -> DeviceProfile {
    DeviceProfile {
        role,
        display_name: name.into(),
        organisation: org.map(str::to_string),
    }
}

pub fn run(dir: &Path) -> CliResult {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError(format!("cannot create {}: {e}", dir.display())))?;
    for name in DEVICES {
        for suffix in ["", "-wal", "-shm"] {
            let file = dir.join(format!("{name}.redbook{suffix}"));
            if file.exists() {
                std::fs::remove_file(&file)
                    .map_err(|e| CliError(format!("cannot replace the old demo: {e}")))?;
            }
        }
    }
    println!("redbook demo: one family's red book on two parents' phones, a health visitor's tablet and a GP surgery");
    println!(
        "  data folder: {} ({})",
        dir.display(),
        DEVICES.map(|d| format!("{d}.redbook")).join(", ")
    );
    println!("  passphrase:  {DEMO_PASSPHRASE}   (demo only, all four; 600,000 rounds of PBKDF2)");
    println!();

    let mum = open_device(dir, DEVICES[0], profile(Role::Parent, "Mum (Ngozi)", None))?;
    let dad = open_device(dir, DEVICES[1], profile(Role::Parent, "Dad (Tunde)", None))?;
    let clinic = open_device(
        dir,
        DEVICES[2],
        profile(Role::HealthVisitor, "HV Jo Bloggs", Some("X99TEST")),
    )?;
    // The clinic's organisation attests the tablet's role, as its provisioning would.
    clinic.set_attestation(redbook_ffi::test_organisation_attest(
        clinic.device_card()?,
    )?)?;
    // A GP surgery's computer that calls itself a GP practice; no organisation vouches.
    let surgery = open_device(
        dir,
        DEVICES[3],
        profile(Role::Gp, "Dr Mensah", Some("F84001")),
    )?;

    // 1. Mum's phone holds the children's records and shares them.
    let today = Local::now().date_naive();
    let amara_born = today - Duration::days(400);
    let kofi_born = today - Duration::days(3 * 365 + 60);
    let amara = mum.add_child(ChildDetails {
        name: "Amara Okafor".into(),
        birth_date: Some(amara_born),
        sex: Some(Sex::Female),
        gestation: Some(Gestation::new(39, 4)),
        nhs_number: Some(DEMO_NHS_NUMBER.into()),
        address: Some("12 Cedar Road, Hackney".into()),
        gp_practice: Some("Cedar Practice".into()),
    })?;
    let kofi = mum.add_child(ChildDetails {
        name: "Kofi Okafor".into(),
        birth_date: Some(kofi_born),
        sex: Some(Sex::Male),
        gestation: Some(Gestation::new(36, 2)),
        ..Default::default()
    })?;
    println!("1. Mum's phone creates Amara's and Kofi's records and invites Dad's phone and the clinic tablet:");
    for child in [&amara, &kofi] {
        // Dad has parental responsibility too; the clinic writes.
        for (other, access) in [(&dad, Access::Admin), (&clinic, Access::Writer)] {
            let invitation = mum.share(child.clone(), other.device_card()?, access)?;
            other.accept(invitation.clone())?;
            let report = sync_pair(&mum, other, child)?;
            println!(
                "   invitation of {} bytes accepted; first sync: {}, {} bytes",
                invitation.len(),
                view::count(report.messages as i64, "message", "messages"),
                report.bytes
            );
        }
    }
    let card = surgery.device_card()?;
    surgery.accept(mum.share(amara.clone(), card.clone(), Access::Writer)?)?;
    println!(
        "   Amara's members as Mum's phone shows them (device cards of {} characters):",
        card.len()
    );
    for member in mum.members(amara.clone())? {
        println!("     {}", member.standing);
    }

    // 2. The clinic tablet, offline all year, records the professional entries.
    let on = |born: NaiveDate, days: i64| born + Duration::days(days);
    let add = |book: &RedBook, child: &RecordId, body: EntryBody| -> CliResult<EntryView> {
        Ok(book.add_entry(child.clone(), body, false)?)
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
    println!(
        "2. The health visitor's tablet, offline, records a year of visits (its role confirmed by its organisation)."
    );
    add(
        &clinic,
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
        &clinic,
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
        &clinic,
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
        &clinic,
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
    add(
        &clinic,
        &amara,
        EntryBody::Review(Review {
            date: on(amara_born, 12),
            kind: ReviewKind::NewBaby,
            outcome: "Feeding well, cord healed".into(),
            asq3_scores: vec![],
            advice: Some("Safe sleep, vitamin D".into()),
        }),
    )?;
    for (day, kg, length, head) in [
        (14, 3.52, 52.0, 35.6),
        (56, 5.05, 57.6, 38.9),
        (84, 5.78, 60.4, 40.1),
        (112, 6.38, 62.6, 41.2),
        (182, 7.45, 66.9, 43.2),
        (273, 8.40, 71.0, 44.6),
        (366, 9.10, 74.5, 45.8),
    ] {
        add(
            &clinic,
            &amara,
            weigh(on(amara_born, day), kg, Some(length), Some(head)),
        )?;
    }
    add(
        &clinic,
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
        &clinic,
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
        &clinic,
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
        add(
            &clinic,
            &amara,
            EntryBody::Immunisation(Immunisation {
                date: on(amara_born, day),
                vaccine: vaccine.into(),
                dose,
                product: None,
                batch: Some(batch.into()),
                site: Some("left thigh".into()),
                route: Some("intramuscular".into()),
                given_by: Some("Nurse Patel".into()),
            }),
        )?;
    }
    add(
        &clinic,
        &kofi,
        EntryBody::Review(Review {
            date: on(kofi_born, 2 * 365 + 80),
            kind: ReviewKind::TwoToTwoAndAHalfYears,
            outcome: "Talking in short sentences; dentist registered".into(),
            asq3_scores: vec![],
            advice: Some("Free childcare from age 2".into()),
        }),
    )?;

    // 3. Meanwhile the parents write apart, and both change the address.
    println!("3. Meanwhile Mum and Dad write apart, and both edit Amara's address.");
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
    ] {
        add(
            &mum,
            &amara,
            EntryBody::Note(Note {
                date: on(amara_born, day),
                kind,
                text: text.into(),
            }),
        )?;
    }
    add(
        &mum,
        &amara,
        EntryBody::Allergy(Allergy {
            substance: "Egg".into(),
            reaction: Some("Hives around the mouth".into()),
            severity: AllergySeverity::Mild,
            noted_on: Some(on(amara_born, 320)),
        }),
    )?;
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
            &mum,
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
    add(
        &dad,
        &amara,
        EntryBody::Note(Note {
            date: on(amara_born, 381),
            kind: NoteKind::DevelopmentalFirst,
            text: "First steps in the kitchen!".into(),
        }),
    )?;
    // A slipped decimal point is refused at the door, with what was perhaps meant; a
    // misread scale is possible, so it is written and then corrected.
    match dad.add_entry(amara.clone(), home_weight(on(amara_born, 390), 92.0), false) {
        Err(RedbookError::NeedsConfirmation { advice, .. }) => {
            println!("   Dad types Amara's weight; his phone asks: {advice}");
            println!("   He types 9.8 kg (a misread scale), then corrects it to 9.2 kg.");
        }
        other => {
            return Err(CliError(format!(
                "the door took a weight of 92 kg at 1 year: {}",
                if other.is_ok() {
                    "written"
                } else {
                    "another error"
                }
            )))
        }
    }
    let misread = add(&dad, &amara, home_weight(on(amara_born, 390), 9.8))?;
    dad.amend_entry(
        amara.clone(),
        misread.entry.id.clone(),
        home_weight(on(amara_born, 390), 9.2),
        false,
    )?;
    let kofi_year = 2 * 365 + 60;
    for (day, kg, cm) in [
        (kofi_year, 12.6, 88.0),
        (kofi_year + 180, 13.5, 92.4),
        (kofi_year + 360, 14.4, 96.1),
    ] {
        add(
            &dad,
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
        &dad,
        &kofi,
        EntryBody::HealthEvent(HealthEvent {
            date: on(kofi_born, kofi_year + 95),
            kind: HealthEventKind::Illness,
            description: "Chickenpox".into(),
            place: None,
            outcome: Some("Recovered at home".into()),
        }),
    )?;
    let address = |text: &str| {
        vec![DetailUpdate {
            field: DetailField::Address,
            value: Some(text.into()),
        }]
    };
    mum.update_details(amara.clone(), address("14 Birch Lane, Hackney E8 1AB"))?;
    dad.update_details(amara.clone(), address("14 Birch Lane, London E8"))?;

    // 4. Apart, they sync through the family's relay: each device now and then.
    let relay_dir = dir.join("relay");
    let _ = std::fs::remove_dir_all(&relay_dir);
    std::fs::create_dir_all(&relay_dir)
        .map_err(|e| CliError(format!("cannot create {}: {e}", relay_dir.display())))?;
    let storage = redbook_relay::SqliteStorage::open(&relay_dir.join("relay.sqlite"))
        .map_err(|e| CliError(format!("the demo's relay: {e}")))?;
    let relay = redbook_relay::RunningRelay::start(
        Arc::new(storage),
        redbook_relay::Config::default(),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .map_err(|e| CliError(format!("the demo's relay: {e}")))?;
    println!(
        "4. Apart, each device syncs through the family's relay at {} (sealed, signed messages; the relay reads none):",
        relay.url()
    );
    let devices = [("Mum", &mum), ("Dad", &dad), ("clinic", &clinic)];
    relay_turns(&devices, &[&amara, &kofi], &relay.url(), true)?;
    // 5. The conflict is shown on every device, and resolved by a new write.
    let conflicts = mum.child(amara.clone())?.conflicts;
    for conflict in &conflicts {
        // The screen's words: an address's values are never shown (safeguarding).
        println!(
            "5. Conflict on Amara's record: {} (both values kept; none silently dropped)",
            redbook_core::view::conflict_text(conflict)
        );
    }
    mum.update_details(amara.clone(), address("14 Birch Lane, Hackney E8 1AB"))?;
    relay_turns(&devices, &[&amara], &relay.url(), false)?;
    println!(
        "   Mum sets the address again; after syncing, conflicts left: {}",
        mum.child(amara.clone())?.conflicts.len()
    );

    // 6. The record on every device.
    let records: Vec<ChildRecord> = devices
        .iter()
        .map(|(_, book)| book.child(amara.clone()))
        .collect::<Result<_, _>>()?;
    // The same entries, statuses and signatures everywhere; what each device shows of
    // them may differ (a new blood spot result waits on a parent's phone).
    let content = |r: &ChildRecord| -> Vec<_> {
        r.entries
            .iter()
            .map(|v| (v.entry.id.clone(), v.status.clone(), v.verification))
            .collect()
    };
    let identical = records
        .windows(2)
        .all(|w| content(&w[0]) == content(&w[1]) && w[0].details == w[1].details);
    println!(
        "6. Amara's record on Mum's phone ({}); {} on all three devices:",
        view::count(records[0].timeline().len() as i64, "entry", "entries"),
        if identical { "identical" } else { "DIFFERENT" }
    );
    if !identical {
        return Err(CliError("the devices' records differ after sync".into()));
    }
    for view in records[0].timeline() {
        println!("   {}", timeline_line(view, 52));
    }
    hostile(dir, &mum, &amara, &records[0])?;
    membership_changes(&devices, &surgery, &[&amara, &kofi], &relay.url())?;
    summary(&mum, &clinic, &[amara, kofi], today, dir)?;
    drop((mum, dad, clinic, surgery));
    on_disk_check(dir)
}

/// Turns of every device's exchange with the relay for each child until a turn in which
/// nobody fetches anything (what is posted then waits for the GP surgery, which is off);
/// prints what crossed when `report` is set.
fn relay_turns(
    devices: &[(&str, &Arc<RedBook>)],
    children: &[&RecordId],
    url: &str,
    report: bool,
) -> CliResult {
    let mut crossed = vec![(0u32, 0u64); devices.len()];
    for turn in 1..=12 {
        let mut quiet = true;
        for (i, (_, book)) in devices.iter().enumerate() {
            for child in children {
                let done = crate::relay::exchange(book, child, url)?;
                quiet &= done.received == 0;
                crossed[i].0 += done.posted;
                crossed[i].1 += done.bytes_sent;
            }
        }
        if quiet {
            if report {
                for ((name, _), (messages, bytes)) in devices.iter().zip(&crossed) {
                    let posted = view::count(*messages as i64, "message", "messages");
                    println!("   {name}: {posted} posted, {bytes} bytes");
                }
                println!("   settled after {turn} turns of each device (in the last, nobody fetched anything)");
            }
            return Ok(());
        }
    }
    Err(CliError(
        "the devices did not settle through the relay in 12 turns".into(),
    ))
}

/// What a family changes in its membership: Mum removes the GP surgery from Amara's
/// record (its next sync tells it so, in words), and Dad renames his phone, which every
/// member sees after a sync.
fn membership_changes(
    devices: &[(&str, &Arc<RedBook>)],
    surgery: &RedBook,
    children: &[&RecordId],
    url: &str,
) -> CliResult {
    let [(_, mum), (_, dad), ..] = devices else {
        return Err(CliError("the demo needs Mum's and Dad's phones".into()));
    };
    let amara = children[0];
    println!("8. Mum removes the GP surgery from Amara's record (the record key is replaced); Dad renames his phone:");
    mum.remove_member(amara.clone(), surgery.device_id())?;
    dad.set_device_name("Tunde's phone".into())?;
    relay_turns(devices, children, url, false)?;
    let told = crate::relay::exchange(surgery, amara, url)?;
    if !told.removed || told.posted > 0 {
        return Err(CliError("the removed surgery was not told".into()));
    }
    if let Some(notice) = surgery.removal_notice(amara.clone())? {
        println!("   the surgery's next sync says: {notice}");
    }
    let dad_id = dad.device_id();
    for (name, book) in devices {
        let members = book.members(amara.clone())?;
        if let Some(dad) = members.iter().find(|m| m.device_id == dad_id) {
            println!("   on {name}'s device: {}", dad.standing);
        }
    }
    Ok(())
}

fn home_weight(date: NaiveDate, kg: f64) -> EntryBody {
    EntryBody::Measurement(Measurement {
        date,
        weight_kg: Some(kg),
        length_cm: None,
        height_cm: None,
        head_circumference_cm: None,
        measured_by: MeasuredBy::Parent,
    })
}

/// Centiles, what is due, and who wrote, for each child.
fn summary(
    book: &RedBook,
    checker: &RedBook,
    children: &[RecordId],
    today: NaiveDate,
    dir: &Path,
) -> CliResult {
    let charts = match std::env::var("REDBOOK_UK90_PACK") {
        Ok(pack) => GrowthCharts::with_uk90_pack(pack)?,
        Err(_) => GrowthCharts::who_only(),
    };
    println!();
    println!("Summary:");
    for id in children {
        let record = book.child(id.clone())?;
        let timeline = record.timeline();
        let count = |kind: &str| {
            timeline
                .iter()
                .filter(|v| v.entry.body.kind_name() == kind)
                .count()
        };
        let age = record
            .details
            .birth_date
            .map(|born| view::screens::child_age_text(born, today))
            .unwrap_or_default();
        println!("  {}, {age}, id {}", record.details.name, record.id);
        // Each kind the list shows, and the rest together, so that the parts add up.
        let kinds = [
            ("measurement", "measurement", "measurements"),
            ("immunisation", "immunisation", "immunisations"),
            ("review", "review", "reviews"),
            ("newborn_screening", "screening result", "screening results"),
            ("note", "note", "notes"),
        ];
        let mut parts: Vec<String> = kinds
            .iter()
            .filter(|(kind, ..)| count(kind) > 0)
            .map(|(kind, one, many)| view::count(count(kind) as i64, one, many))
            .collect();
        let others = timeline.len() - kinds.iter().map(|(kind, ..)| count(kind)).sum::<usize>();
        if others > 0 {
            parts.push(format!(
                "{others} other (birth, allergies, risk factors ...)"
            ));
        }
        println!(
            "    {}: {}",
            view::count(timeline.len() as i64, "entry", "entries"),
            parts.join(", ")
        );
        let series = book.growth(
            id.clone(),
            Measure::WeightKg,
            charts.clone(),
            Correction::RcpchDigital,
        )?;
        if let Some((point, a)) = series
            .points
            .iter()
            .rev()
            .find_map(|p| p.assessment.as_ref().map(|a| (p, a)))
        {
            println!(
                "    latest weight {:.2} kg on {}: {} (UK-WHO)",
                point.value, point.date, a.description
            );
        }
        let due = book.due(id.clone(), None)?;
        let overdue: Vec<String> = due
            .immunisations
            .iter()
            .filter(|i| i.status == DueStatus::Overdue)
            .map(|i| format!("{} #{}", i.vaccine, i.dose))
            .collect();
        if !overdue.is_empty() {
            println!("    overdue: {}", overdue.join(", "));
        }
        if let Some(next) = due.reminders.iter().find(|r| r.due_date >= today) {
            println!("    next: {} on {}", next.title, next.due_date);
        }
        // What a parent hands over at a clinic: a printable page and a FHIR Bundle.
        let first_name = record
            .details
            .name
            .split(' ')
            .next()
            .unwrap_or("child")
            .to_lowercase();
        let page = dir.join(format!("{first_name}-summary.html"));
        let html = book.summary_html(
            id.clone(),
            charts.clone(),
            Correction::RcpchDigital,
            None,
            false,
        )?;
        write_file(&page, html.as_bytes())?;
        // The clinic scans the first child's printout's QR code (its text is also on
        // the page).
        if let Some(code) = html
            .split_once("data-code=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(code, _)| code.to_string())
            .filter(|_| Some(id) == children.first())
        {
            let check = checker.verify_printout(id.clone(), code)?;
            println!("    the clinic's tablet checks the printout's QR code:");
            for line in view::printout::printout_check_lines(&check) {
                println!("      {line}");
            }
        }
        let fhir = dir.join(format!("{first_name}.fhir.json"));
        write_file(&fhir, wait_for(book.export_fhir(id.clone()))?.as_bytes())?;
        println!(
            "    to print: {}; for a clinic's system (FHIR R4): {}",
            page.display(),
            fhir.display()
        );
        let superseded = record.entries.len() - timeline.len();
        if superseded > 0 {
            let kept = view::count(superseded as i64, "superseded entry", "superseded entries");
            println!("    {kept} kept (e.g. Dad's misread scale, 9.8 kg corrected to 9.2 kg)");
        }
    }
    Ok(())
}

/// What a thief with a phone's storage would see.
fn on_disk_check(dir: &Path) -> CliResult {
    println!();
    let mut bytes = Vec::new();
    for name in DEVICES {
        for suffix in ["", "-wal"] {
            if let Ok(b) = std::fs::read(dir.join(format!("{name}.redbook{suffix}"))) {
                bytes.extend(b);
            }
        }
    }
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(dir.join(format!("relay/relay.sqlite{suffix}"))) {
            bytes.extend(b);
        }
    }
    let secrets = [
        "Amara",
        "Okafor",
        DEMO_NHS_NUMBER,
        "Birch Lane",
        "First steps",
        "Chickenpox",
        "HX3341",
    ];
    let readable = secrets
        .iter()
        .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
        .count();
    println!(
        "On disk: {} bytes across the four databases, the relay's and their WALs.",
        bytes.len()
    );
    if readable == 0 {
        println!(
            "Checked: none of {} names, numbers or notes written above can be read in those files.",
            secrets.len()
        );
        println!("(The summaries and FHIR files exported beside them are readable by design: a parent hands them over.)");
        Ok(())
    } else {
        Err(CliError(format!(
            "{readable} written values are readable on disk"
        )))
    }
}
