//! `init` and `passphrase`: the database file itself.

use std::path::Path;

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::CliResult;

pub(crate) fn run(command: Command, path: &Path, _out: &Output) -> CliResult {
    match command {
        Command::Init { device_name } => {
            let existed = path.exists();
            let passphrase = passphrase("REDBOOK_PASSPHRASE", "Passphrase", !existed)?;
            let book = open(path, passphrase)?;
            let name = match device_name {
                Some(name) => Some(name),
                None if !existed => ask_device_name()?,
                None => None,
            };
            if let Some(name) = name {
                book.set_device_name(name)?;
            }
            if existed {
                println!("{} already exists; the passphrase opens it", path.display());
            } else {
                println!("created {}", path.display());
            }
            let author = book.author()?;
            println!(
                "this device is \"{}\" to the other members (`redbook device set --name` changes it)",
                author.display_name
            );
        }
        Command::Passphrase(PassphraseCommand::Change) => {
            let current = passphrase("REDBOOK_PASSPHRASE", "Current passphrase", false)?;
            let book = open(path, current.clone())?;
            let new = passphrase("REDBOOK_NEW_PASSPHRASE", "New passphrase", true)?;
            book.change_passphrase(current, new)?;
            println!("passphrase changed");
        }
        _ => unreachable!("main sends each module only its own commands"),
    }
    Ok(())
}

/// The device's name, asked at a terminal; None when nobody is there to answer (a script
/// names it with `--device-name`).
pub(crate) fn ask_device_name() -> CliResult<Option<String>> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    print!("What should the other members see this device as (e.g. Mum's phone)? ");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| crate::CliError(format!("cannot read the device's name: {e}")))?;
    let name = line.trim();
    Ok((!name.is_empty()).then(|| name.to_string()))
}
