//! `init` and `passphrase`: the database file itself.

use std::path::Path;

use crate::args::*;
use crate::open::*;
use crate::print::*;
use crate::CliResult;

pub(crate) fn run(command: Command, path: &Path, _out: &Output) -> CliResult {
    match command {
        Command::Init => {
            let existed = path.exists();
            let passphrase = passphrase("REDBOOK_PASSPHRASE", "Passphrase", !existed)?;
            open(path, passphrase)?;
            if existed {
                println!("{} already exists; the passphrase opens it", path.display());
            } else {
                println!("created {}", path.display());
            }
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
