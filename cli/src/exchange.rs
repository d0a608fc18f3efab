//! FHIR export and import, and the printable summary.

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
                book.export_fhir(id)?
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
        Command::Import { fhir: _, file } => {
            let book = open_existing(path)?;
            let json = String::from_utf8(read_file(&file)?)
                .map_err(|_| CliError(format!("{} is not UTF-8 text", file.display())))?;
            let id = book.import_fhir(json)?;
            out.print(&serde_json::json!({ "id": id }), || {
                println!("imported as a new record: {id}")
            });
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}
