//! The `redbook` command line, over the same API the apps use (redbook-ffi).
//! Errors go to stderr as one line, with a non-zero exit code.

use clap::Parser;
use redbook_core::model::ValidationError;
use redbook_ffi::RedbookError;
use std::process::ExitCode;

mod args;
mod care;
mod database;
mod demo;
mod exchange;
mod open;
mod print;
mod records;
mod recovery;
mod relay;
mod sharing;

use args::{Cli, Command};
use open::database_path;
use print::Output;

/// A failure the CLI reports: one line, no personal data.
pub(crate) struct CliError(pub(crate) String);

impl From<RedbookError> for CliError {
    fn from(e: RedbookError) -> Self {
        CliError(e.to_string())
    }
}

impl From<ValidationError> for CliError {
    fn from(e: ValidationError) -> Self {
        CliError(e.to_string())
    }
}

pub(crate) type CliResult<T = ()> = Result<T, CliError>;

fn main() -> ExitCode {
    end_quietly_when_the_reader_stops();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return argument_error(e),
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError(message)) => {
            eprintln!("redbook: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A reader that stops early (`redbook show ada | head -1`) ends the command as it ends
/// other Unix tools, silently: Rust ignores SIGPIPE, so each print after it would panic.
fn end_quietly_when_the_reader_stops() {
    #[cfg(unix)]
    // SAFETY: restores the signal's default action before any thread or output exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Help and version print as clap writes them; any other argument error is one line on
/// stderr, exit 1, naming the argument but never echoing the value (it may be a date of
/// birth or an NHS number).
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    // The argument's name as declared (`--birth-date <BIRTH_DATE>`), never what was typed;
    // an unknown argument is not named at all, since it may be a mistyped value.
    let argument = match (e.kind(), e.get(ContextKind::InvalidArg)) {
        (ErrorKind::UnknownArgument, _) => None,
        (_, Some(ContextValue::String(name))) => Some(name.clone()),
        _ => None,
    };
    let what = match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => "invalid value",
        kind => kind.as_str().unwrap_or("invalid arguments"),
    };
    match argument {
        Some(name) => eprintln!("redbook: {what} for {name}; see `redbook --help`"),
        None => eprintln!("redbook: {what}; see `redbook --help`"),
    }
    ExitCode::FAILURE
}

fn run(cli: Cli) -> CliResult {
    if let Command::Demo { dir } = &cli.command {
        return demo::run(dir);
    }
    if let Command::Relay(command) = cli.command {
        return relay::run(command);
    }
    let path = database_path(cli.db.clone())?;
    let out = Output { json: cli.json };
    match cli.command {
        c @ (Command::Init { .. } | Command::Passphrase(_)) => database::run(c, &path, &out),
        c @ (Command::Child(_)
        | Command::Measure(_)
        | Command::Immunise(_)
        | Command::Note(_)
        | Command::Show { .. }
        | Command::History { .. }
        | Command::Amend(_)
        | Command::MarkError { .. }
        | Command::Parents { .. }
        | Command::Close { .. }
        | Command::Risk(_)) => records::run(c, &path, &out),
        c @ (Command::Due(_)
        | Command::Centile(_)
        | Command::Growth { .. }
        | Command::Chart { .. }) => care::run(c, &path, &out),
        c @ (Command::Device(_)
        | Command::Share { .. }
        | Command::Accept { .. }
        | Command::Members { .. }
        | Command::RemoveMember { .. }
        | Command::Sync { .. }
        | Command::Bundle(_)) => sharing::run(c, &path, &out),
        c @ (Command::Export(_) | Command::Import { .. }) => exchange::run(c, &path, &out),
        Command::Recovery(command) => recovery::run(command, &path, &out),
        Command::Demo { .. } | Command::Relay(_) => unreachable!("handled above"),
    }
}
