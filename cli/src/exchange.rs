//! FHIR export and import, the printable summary and the check of its code.

use crate::wait::wait_for;
use std::path::Path;

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::{CliError, CliResult};

pub(crate) fn run(command: Command, path: &Path, out: &Output) -> CliResult {
    match command {
        Command::Export(args) => {
            let book = open_existing(path)?;
            let id = find_child(&book, &args.child)?;
            let text = if args.fhir {
                wait_for(book.export_fhir(id))?
            } else {
                book.summary_html(
                    id,
                    args.charts.charts()?,
                    args.charts.correction(),
                    None,
                    args.show_address,
                )?
            };
            write_file(&args.out, text.as_bytes())?;
            println!("wrote {} ({} bytes)", args.out.display(), text.len());
        }
        Command::Import {
            fhir: _,
            into,
            file,
        } => {
            let book = open_existing(path)?;
            let json = String::from_utf8(read_file(&file)?)
                .map_err(|_| CliError(format!("{} is not UTF-8 text", file.display())))?;
            let report = match &into {
                Some(child) => {
                    let id = find_child(&book, child)?;
                    wait_for(book.import_foreign_fhir(id, json))?
                }
                None => wait_for(book.import_fhir(json))?,
            };
            let not_imported: Vec<_> = report
                .not_imported
                .iter()
                .map(|n| serde_json::json!({ "what": n.what, "why": n.why }))
                .collect();
            out.print(
                &serde_json::json!({
                    "id": report.record,
                    "entries_added": report.entries_added,
                    "not_imported": not_imported,
                }),
                || {
                    let entries =
                        redbook_core::view::count(report.entries_added as i64, "entry", "entries");
                    match into {
                        Some(_) => println!("{entries} added to {}", report.record),
                        None => println!("imported as a new record: {} ({entries})", report.record),
                    }
                    if !report.not_imported.is_empty() {
                        println!("not kept ({}):", report.not_imported.len());
                        for n in &report.not_imported {
                            println!("  {}: {}", n.what, n.why);
                        }
                    }
                },
            );
        }
        Command::VerifyPrintout { child, code } => {
            let book = open_existing(path)?;
            let id = find_child(&book, &child)?;
            let code = if code == "-" {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                    .map_err(|_| CliError("the code could not be read from stdin".into()))?;
                text
            } else {
                code
            };
            let check = book.verify_printout(id, code)?;
            out.print(&check, || {
                for line in redbook_core::view::printout::printout_check_lines(&check) {
                    println!("{line}");
                }
            });
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}
