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
mod wait;

use args::{Cli, Command};
use open::database_path;
use print::Output;

/// A failure the CLI reports: one line, no personal data.
pub(crate) struct CliError(pub(crate) String);

impl From<RedbookError> for CliError {
    fn from(e: RedbookError) -> Self {
        match e {
            // Shown to the writer who typed the value, on their own terminal: the one
            // message that names it (it is never logged).
            RedbookError::NeedsConfirmation { advice, .. } => CliError(format!(
                "{advice} If it is right, run the command again with --confirm: it is kept, marked for a professional to review"
            )),
            e => CliError(e.to_string()),
        }
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

/// One line for an argument error: what is wrong, the argument's name as declared
/// (`--birth-date <YYYY-MM-DD>`), never what was typed (it may be a date of birth or an
/// NHS number); for a choice, the values allowed; for an unknown argument, a declared one
/// like it; and the help of the command that was typed.
fn argument_problem(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let names = |kind| match e.get(kind) {
        Some(ContextValue::String(name)) => vec![name.clone()],
        Some(ContextValue::Strings(names)) => names.clone(),
        _ => Vec::new(),
    };
    let arguments = names(ContextKind::InvalidArg).join(", ");
    let mut line = match e.kind() {
        ErrorKind::MissingRequiredArgument => format!("missing {arguments}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let allowed = names(ContextKind::ValidValue);
            // A value parser's own words say what it takes (never the value typed).
            let takes = std::error::Error::source(e).map(|reason| reason.to_string());
            match (allowed.is_empty(), takes) {
                (false, _) => format!(
                    "invalid value for {arguments}: one of {}",
                    allowed.join(", ")
                ),
                (true, Some(takes)) => format!("invalid value for {arguments}: {takes}"),
                (true, None) => format!("invalid value for {arguments}"),
            }
        }
        // An unknown argument is not named: it may be a mistyped value.
        ErrorKind::UnknownArgument => match names(ContextKind::SuggestedArg).first() {
            Some(like) => format!("unexpected argument (did you mean {like}?)"),
            None => "unexpected argument".to_string(),
        },
        // A command of commands (`amend CHILD ENTRY`, `screening`): say which there are.
        ErrorKind::MissingSubcommand => {
            let (_, command) = command_typed();
            let names: Vec<&str> = command
                .get_subcommands()
                .map(|c| c.get_name())
                .filter(|name| *name != "help")
                .collect();
            format!("give one of {}", names.join(", "))
        }
        kind if arguments.is_empty() => kind.as_str().unwrap_or("invalid arguments").to_string(),
        kind => format!(
            "{} ({arguments})",
            kind.as_str().unwrap_or("invalid arguments")
        ),
    };
    line.push_str(&format!("; see `{} --help`", command_typed().0));
    line
}

/// The command an argument error is about (`redbook child add`): the subcommands named
/// among the arguments typed.
fn command_typed() -> (String, clap::Command) {
    use clap::CommandFactory;
    let mut command = Cli::command();
    let mut path = vec!["redbook".to_string()];
    for arg in std::env::args().skip(1) {
        if let Some(sub) = command.find_subcommand(&arg).cloned() {
            path.push(sub.get_name().to_string());
            command = sub;
        }
    }
    (path.join(" "), command)
}

/// Help and version print as clap writes them; any other argument error is one line on
/// stderr, exit 1, naming the argument but never echoing the value (it may be a date of
/// birth or an NHS number).
fn argument_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
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
    eprintln!("redbook: {}", argument_problem(&e));
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
        | Command::Parents(_)
        | Command::Close(_)
        | Command::Risk(_)
        | Command::Screening(_)
        | Command::Birth(_)) => records::run(c, &path, &out),
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
        c @ (Command::Export(_) | Command::Import { .. } | Command::VerifyPrintout { .. }) => {
            exchange::run(c, &path, &out)
        }
        Command::Recovery(command) => recovery::run(command, &path, &out),
        Command::Demo { .. } | Command::Relay(_) => unreachable!("handled above"),
    }
}
