//! Writing and reading a child's record: children, measurements, vaccinations, notes,
//! risk factors, parents' heights, birth details, newborn screening, corrections of any
//! of them, closing a record.

use redbook_core::model::*;
use redbook_core::HistoryAction;
use redbook_ffi::DetailUpdate;
use std::path::Path;

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::{CliError, CliResult};

pub(crate) fn run(command: Command, path: &Path, out: &Output) -> CliResult {
    match command {
        Command::Child(ChildCommand::Add(args)) => {
            let book = open_existing(path)?;
            let details = ChildDetails {
                name: args.name,
                birth_date: Some(args.birth_date),
                sex: Some(args.sex),
                gestation: Some(args.gestation.parse()?),
                nhs_number: args.nhs_number,
                ..Default::default()
            };
            let id = book.add_child(details)?;
            out.print(&serde_json::json!({ "id": id }), || println!("{id}"));
        }
        Command::Child(ChildCommand::List { withdrawn }) => {
            let book = open_existing(path)?;
            let list = book.children()?;
            out.print(&list, || {
                print_children(&list.children);
                if withdrawn {
                    print_children(&list.withdrawn);
                } else if !list.withdrawn.is_empty() {
                    println!(
                        "({} kept out of this list: `redbook child list --withdrawn` shows {})",
                        count(
                            list.withdrawn.len() as i64,
                            "record withdrawn as created in error",
                            "records withdrawn as created in error"
                        ),
                        if list.withdrawn.len() == 1 {
                            "it"
                        } else {
                            "them"
                        }
                    );
                }
                for damaged in &list.damaged {
                    let id = damaged
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "(unknown)".into());
                    println!("{id}  DAMAGED: this record's stored data failed its integrity check");
                }
            });
        }
        Command::Child(ChildCommand::Withdraw { child }) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let body = EntryBody::RecordClosed(RecordClosure {
                date: chrono::Local::now().date_naive(),
                reason: ClosureReason::CreatedInError,
            });
            let view = book.add_entry(id.clone(), body, false)?;
            out.print(&view, || {
                println!(
                    "withdrawn as created in error: the record leaves the list of children on every device it syncs with; nothing is deleted (`redbook mark-error {id} {} --reason ...` brings it back)",
                    short(view.entry.id.as_str()),
                )
            });
        }
        Command::Child(ChildCommand::Find { query }) => {
            let book = open_existing(path)?;
            let found = book.find_children(query.join(" "))?;
            out.print(&found, || {
                if found.is_empty() {
                    println!("No child found.");
                }
                print_children(&found);
            });
        }
        Command::Child(ChildCommand::Set(args)) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            let updates: Vec<DetailUpdate> = [
                (DetailField::Name, args.name),
                (DetailField::Address, args.address),
                (DetailField::GpPractice, args.gp_practice),
                (DetailField::NhsNumber, args.nhs_number),
            ]
            .into_iter()
            .filter_map(|(field, value)| {
                value.map(|v| DetailUpdate {
                    field,
                    value: Some(v),
                })
            })
            .collect();
            if updates.is_empty() {
                return Err(CliError(
                    "give at least one of --name, --address, --gp-practice, --nhs-number".into(),
                ));
            }
            book.update_details(id, updates)?;
        }
        Command::Measure(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(
                out,
                &book.add_entry(id, args.measurement.body(), args.confirm)?,
            );
        }
        Command::Immunise(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(
                out,
                &book.add_entry(id, args.immunisation.body(), args.confirm)?,
            );
        }
        Command::Note(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(out, &book.add_entry(id, args.note.body(), false)?);
        }
        Command::Screening(screening) => {
            let (child, body) = match screening {
                ScreeningCommand::BloodSpot(args) => (args.child, args.entry.body()?),
                ScreeningCommand::Hearing(args) => (args.child, args.entry.body()),
                ScreeningCommand::Nipe(args) => (args.child, args.entry.body()),
            };
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            print_added(out, &book.add_entry(id, body, false)?);
        }
        Command::Birth(args) => {
            let body = args.entry.body()?;
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(out, &book.add_entry(id, body, args.confirm)?);
        }
        Command::Show { child, address } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let record = book.child(id.clone())?;
            out.print(&record, || {
                // A removed phone says so first: what it wrote after is not shared.
                if let Ok(Some(notice)) = book.removal_notice(id) {
                    println!("{notice}\n");
                }
                print_record(&record, address)
            });
        }
        Command::History { child } => {
            let book = open_existing(path)?;
            let history = book.history(find_child(&book, &child)?)?;
            out.print(&history, || {
                for event in &history {
                    let what = match &event.action {
                        HistoryAction::Added => format!("added {}", event.kind),
                        HistoryAction::Amended { target } => {
                            format!("amended {} {}", event.kind, short(target.as_str()))
                        }
                        HistoryAction::MarkedEnteredInError { target, reason } => {
                            format!(
                                "marked {} entered in error ({reason})",
                                short(target.as_str())
                            )
                        }
                    };
                    println!(
                        "{}  {}  {what}  by {} ({}) on device {}",
                        event.recorded_at.format("%Y-%m-%d %H:%M:%S"),
                        short(event.entry_id.as_str()),
                        event.author.display_name,
                        Role::label(event.author.role),
                        short(&event.author.device_id),
                    );
                }
            });
        }
        Command::Amend(args) => {
            let body = args.corrected.body()?;
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            let record = book.child(id.clone())?;
            let target = find_entry(&record, &args.entry)?;
            print_added(out, &book.amend_entry(id, target, body, args.confirm)?);
        }
        Command::MarkError {
            child,
            entry,
            reason,
        } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let target = find_entry(&book.child(id.clone())?, &entry)?;
            print_added(out, &book.mark_entered_in_error(id, target, reason)?);
        }
        Command::Parents(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(out, &book.add_entry(id, args.entry.body(), false)?);
        }
        Command::Close(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(out, &book.add_entry(id, args.entry.body(), false)?);
        }
        Command::Risk(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            print_added(out, &book.add_entry(id, args.risk.body(), false)?);
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}

fn print_children(children: &[redbook_core::ChildSummary]) {
    for c in children {
        let born = c.birth_date.map(|d| d.to_string()).unwrap_or_default();
        let nhs = c
            .nhs_number
            .as_deref()
            .map(|n| format!("  NHS {}", redbook_core::view::screens::nhs_number_text(n)))
            .unwrap_or_default();
        let conflict = if c.has_conflicts {
            "  (details in conflict)"
        } else {
            ""
        };
        println!(
            "{}  {:<24} born {born}{nhs}  {}{conflict}",
            c.id,
            c.name,
            redbook_core::view::count(c.entry_count as i64, "entry", "entries")
        );
    }
}
