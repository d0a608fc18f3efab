//! The `redbook` command line, over the same API the apps use (redbook-ffi).
//! Errors go to stderr as one line, with a non-zero exit code.

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use redbook_core::growth::{Assessment, Correction, GrowthFlag, Measure};
use redbook_core::model::*;
use redbook_core::schedule::{DueReport, DueStatus, Eligibility};
use redbook_core::{ChildRecord, DeviceProfile, HistoryAction};
use redbook_ffi::{CentileQuery, DetailUpdate, GrowthCharts, RedBook, RedbookError};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod demo;

#[derive(Parser)]
#[command(
    name = "redbook",
    version,
    about = "England's parent-held child health record, on your own device"
)]
struct Cli {
    /// Database file [default: redbook.db in the platform's data folder]
    #[arg(long, global = true, env = "REDBOOK_DB")]
    db: Option<PathBuf>,
    /// Print data as JSON
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the database (asks for a new passphrase)
    Init,
    /// Add, list or edit children
    #[command(subcommand)]
    Child(ChildCommand),
    /// Record a weight, length/height or head circumference
    Measure(MeasureArgs),
    /// Record a vaccination
    Immunise(ImmuniseArgs),
    /// Add a note to the parent's pages
    Note(NoteArgs),
    /// Show a child's record
    Show { child: String },
    /// Who added, amended or marked each entry, and when
    History { child: String },
    /// Correct an entry: the original stays, marked as amended
    Amend(AmendArgs),
    /// Mark an entry entered in error: hidden, never deleted
    MarkError {
        child: String,
        entry: String,
        #[arg(long)]
        reason: String,
    },
    /// Record a risk factor the schedule uses (mother's hepatitis B, BCG eligibility, a
    /// flu risk group, chickenpox), or rule one out
    Risk(RiskArgs),
    /// Close a record (a professional's device): the child died, or parental
    /// responsibility changed. Parents' devices may then read it, not write to it
    Close {
        child: String,
        /// died or parental-responsibility-changed
        #[arg(long, value_parser = parse_closure_reason)]
        reason: ClosureReason,
        /// [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// Record the biological parents' heights (for the mid-parental height)
    Parents {
        child: String,
        #[arg(long, value_name = "CM")]
        mother_cm: Option<f64>,
        #[arg(long, value_name = "CM")]
        father_cm: Option<f64>,
        /// As the parents said, not measured by a professional
        #[arg(long)]
        said: bool,
        /// [default: today]
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<NaiveDate>,
    },
    /// Immunisations, reviews and screening: given, due, overdue, upcoming
    Due(DueArgs),
    /// The UK-WHO centile of one measurement (no database needed)
    Centile(CentileArgs),
    /// A child's measurements of one kind with their centiles
    Growth {
        child: String,
        #[arg(long, value_parser = parse_measure)]
        measure: Measure,
        #[command(flatten)]
        charts: ChartOptions,
    },
    /// Draw a child's growth chart as SVG
    Chart {
        child: String,
        #[arg(long, value_parser = parse_measure)]
        measure: Measure,
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        charts: ChartOptions,
    },
    /// Change the passphrase (re-wraps the key; records are not rewritten)
    #[command(subcommand)]
    Passphrase(PassphraseCommand),
    /// This device: its card for invitations, its role and name
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Invite a device (by its card) to a child's record; writes the invitation
    Share {
        child: String,
        /// The other device's card (`redbook device show` there)
        #[arg(long)]
        to: String,
        /// What it may do: admin (invites and removes; parental responsibility), writer
        /// or reader
        #[arg(long, default_value = "writer")]
        access: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Accept an invitation file
    Accept { file: PathBuf },
    /// The devices that share a child's record
    Members { child: String },
    /// Remove a device from a child's record; the record key is replaced
    RemoveMember {
        child: String,
        /// The device's id (`redbook members CHILD`)
        #[arg(long)]
        device: String,
    },
    /// Sync a child's record with another database file on this machine (the real
    /// protocol, messages passed in memory); its passphrase from REDBOOK_PEER_PASSPHRASE
    Sync {
        child: String,
        #[arg(long)]
        with: PathBuf,
    },
    /// One-shot bundles for store-and-forward (a file, a relay)
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Write a child's record for a professional: FHIR R4 JSON, or a printable summary
    Export(ExportArgs),
    /// Read a FHIR Bundle (from `export --fhir`) into a new record
    Import {
        /// The Bundle is FHIR R4 JSON
        #[arg(long, required = true)]
        fhir: bool,
        file: PathBuf,
    },
    /// Run the demo: a family, two children, a year of entries
    Demo {
        /// Folder for the demo database [default: ./redbook-demo]
        #[arg(long, default_value = "redbook-demo")]
        dir: PathBuf,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["fhir", "summary"])))]
struct ExportArgs {
    child: String,
    /// A FHIR R4 Bundle (JSON) for a professional's system
    #[arg(long)]
    fhir: bool,
    /// A printable summary (self-contained HTML: open it in a browser and print)
    #[arg(long)]
    summary: bool,
    /// Print the child's address on the summary (left off unless asked: safeguarding)
    #[arg(long, requires = "summary")]
    show_address: bool,
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    charts: ChartOptions,
}

#[derive(Subcommand)]
enum ChildCommand {
    /// Add a child; prints the new child's id
    Add(ChildArgs),
    /// List the children in this database
    List,
    /// Set details (writing a field resolves a conflict on it)
    Set(SetArgs),
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Print this device's id, role, name and card
    Show,
    /// Set who this device writes as
    Set {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
        /// Organisation (ODS) code, for professionals
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Keep an organisation's attestation of this device's role (a file the
    /// organisation issued); it travels on the device's card
    Attest { file: PathBuf },
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Write everything a device lacks (or the whole record) to a file
    Export {
        child: String,
        /// The device it is for (its id); default: any member
        #[arg(long = "for")]
        for_device: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Take a bundle file; importing one twice changes nothing
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum PassphraseCommand {
    /// New passphrase from REDBOOK_NEW_PASSPHRASE or a prompt
    Change,
}

#[derive(Args)]
struct ChildArgs {
    #[arg(long)]
    name: String,
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: NaiveDate,
    #[arg(long, value_parser = parse_sex)]
    sex: Sex,
    #[arg(long, value_name = "WW+D")]
    gestation: String,
    #[arg(long)]
    nhs_number: Option<String>,
}

#[derive(Args)]
struct SetArgs {
    child: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    address: Option<String>,
    #[arg(long)]
    gp_practice: Option<String>,
    #[arg(long)]
    nhs_number: Option<String>,
}

#[derive(Args)]
struct MeasureArgs {
    child: String,
    #[command(flatten)]
    measurement: MeasurementArgs,
}

/// A measurement as typed on the command line (`measure`, `amend`).
#[derive(Args)]
struct MeasurementArgs {
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: NaiveDate,
    #[arg(long)]
    weight_kg: Option<f64>,
    #[arg(long)]
    length_cm: Option<f64>,
    #[arg(long)]
    height_cm: Option<f64>,
    #[arg(long)]
    head_cm: Option<f64>,
    /// Measured at home by a parent, not at a clinic
    #[arg(long)]
    by_parent: bool,
}

impl MeasurementArgs {
    fn body(&self) -> EntryBody {
        EntryBody::Measurement(Measurement {
            date: self.date,
            weight_kg: self.weight_kg,
            length_cm: self.length_cm,
            height_cm: self.height_cm,
            head_circumference_cm: self.head_cm,
            measured_by: if self.by_parent {
                MeasuredBy::Parent
            } else {
                MeasuredBy::Professional
            },
        })
    }
}

#[derive(Args)]
struct ImmuniseArgs {
    child: String,
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: NaiveDate,
    #[arg(long)]
    vaccine: String,
    #[arg(long)]
    dose: u8,
    #[arg(long)]
    batch: Option<String>,
    #[arg(long)]
    product: Option<String>,
    #[arg(long)]
    site: Option<String>,
    #[arg(long)]
    given_by: Option<String>,
}

#[derive(Args)]
struct NoteArgs {
    child: String,
    #[arg(long)]
    text: String,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
    /// A developmental first rather than an observation
    #[arg(long)]
    first: bool,
}

#[derive(Args)]
struct ChartOptions {
    /// UK90 data pack (preterm and 4-20 years); built by scripts/growth-tables.py uk90
    #[arg(long, env = "REDBOOK_UK90_PACK")]
    uk90_pack: Option<PathBuf>,
    /// Correct for gestation as the paper charts did (under 37 weeks, to 1 or 2 years)
    /// instead of the RCPCH digital default (every gestation, every age)
    #[arg(long)]
    paper_chart_correction: bool,
}

impl ChartOptions {
    fn charts(&self) -> CliResult<Arc<GrowthCharts>> {
        Ok(match &self.uk90_pack {
            Some(path) => GrowthCharts::with_uk90_pack(path.display().to_string())?,
            None => GrowthCharts::who_only(),
        })
    }

    fn correction(&self) -> Correction {
        if self.paper_chart_correction {
            Correction::PaperChart
        } else {
            Correction::RcpchDigital
        }
    }
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("value").required(true).args(["weight_kg", "length_cm", "height_cm", "head_cm", "bmi"])))]
struct CentileArgs {
    #[arg(long, value_parser = parse_sex)]
    sex: Sex,
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: NaiveDate,
    #[arg(long, value_name = "WW+D")]
    gestation: String,
    /// Date of the measurement
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: NaiveDate,
    #[arg(long)]
    weight_kg: Option<f64>,
    #[arg(long)]
    length_cm: Option<f64>,
    #[arg(long)]
    height_cm: Option<f64>,
    #[arg(long)]
    head_cm: Option<f64>,
    #[arg(long)]
    bmi: Option<f64>,
    #[command(flatten)]
    charts: ChartOptions,
}

fn parse_measure(s: &str) -> Result<Measure, String> {
    Ok(match s {
        "weight" => Measure::WeightKg,
        "length" | "height" => Measure::HeightCm,
        "head" => Measure::HeadCircumferenceCm,
        "bmi" => Measure::Bmi,
        _ => return Err("weight, length, height, head or bmi".into()),
    })
}

#[derive(Args)]
struct DueArgs {
    /// A child in the database (or give --birth-date instead)
    #[arg(required_unless_present = "birth_date", conflicts_with = "birth_date")]
    child: Option<String>,
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: Option<NaiveDate>,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<NaiveDate>,
    /// Mother has hepatitis B: the selective hepatitis B programme. This flag and the
    /// three below are for --birth-date; a child's come from their record (`risk`)
    #[arg(long)]
    hep_b_at_risk: bool,
    /// Eligible for BCG
    #[arg(long)]
    bcg: bool,
    /// In a clinical risk group for flu
    #[arg(long)]
    flu_risk: bool,
    /// Has had chickenpox (no MMRV catch-up)
    #[arg(long)]
    had_chickenpox: bool,
}

#[derive(Args)]
struct RiskArgs {
    child: String,
    /// maternal-hepatitis-b, tuberculosis-risk, chronic-respiratory-disease,
    /// chronic-heart-disease, chronic-kidney-disease, chronic-liver-disease,
    /// chronic-neurological-disease, learning-disability, diabetes,
    /// asplenia-or-splenic-dysfunction, immunosuppression, chickenpox
    factor: RiskFactorKind,
    /// Ruled out rather than found (e.g. mother screened negative)
    #[arg(long)]
    ruled_out: bool,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<NaiveDate>,
}

#[derive(Args)]
struct AmendArgs {
    child: String,
    entry: String,
    /// The corrected measurement
    #[command(flatten)]
    measurement: MeasurementArgs,
}

fn parse_closure_reason(s: &str) -> Result<ClosureReason, String> {
    match s {
        "died" => Ok(ClosureReason::Died),
        "parental-responsibility-changed" => Ok(ClosureReason::ParentalResponsibilityChanged),
        _ => Err("died or parental-responsibility-changed".into()),
    }
}

fn parse_sex(s: &str) -> Result<Sex, String> {
    match s {
        "female" | "f" => Ok(Sex::Female),
        "male" | "m" => Ok(Sex::Male),
        _ => Err("female or male".into()),
    }
}

/// A failure the CLI reports: one line, no personal data.
struct CliError(String);

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

type CliResult<T = ()> = Result<T, CliError>;

fn main() -> ExitCode {
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
    let path = database_path(cli.db.clone())?;
    let out = Output { json: cli.json };
    match cli.command {
        Command::Init => {
            let existed = path.exists();
            let passphrase = passphrase("REDBOOK_PASSPHRASE", "Passphrase", !existed)?;
            open(&path, passphrase)?;
            if existed {
                println!("{} already exists; the passphrase opens it", path.display());
            } else {
                println!("created {}", path.display());
            }
        }
        Command::Child(ChildCommand::Add(args)) => {
            let book = open_existing(&path)?;
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
        Command::Child(ChildCommand::List) => {
            let book = open_existing(&path)?;
            let list = book.children()?;
            out.print(&list, || {
                for c in &list.children {
                    let born = c.birth_date.map(|d| d.to_string()).unwrap_or_default();
                    let conflict = if c.has_conflicts {
                        "  (details in conflict)"
                    } else {
                        ""
                    };
                    println!(
                        "{}  {:<24} born {born}  {} entries{conflict}",
                        c.id, c.name, c.entry_count
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
        Command::Child(ChildCommand::Set(args)) => {
            let book = open_existing(&path)?;
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
            let book = open_existing(&path)?;
            let id = find_child(&book, &args.child)?;
            print_added(&out, &book.add_entry(id, args.measurement.body())?);
        }
        Command::Immunise(args) => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &args.child)?;
            let body = EntryBody::Immunisation(Immunisation {
                date: args.date,
                vaccine: args.vaccine,
                dose: args.dose,
                product: args.product,
                batch: args.batch,
                site: args.site,
                route: None,
                given_by: args.given_by,
            });
            print_added(&out, &book.add_entry(id, body)?);
        }
        Command::Note(args) => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &args.child)?;
            let body = EntryBody::Note(Note {
                date: args
                    .date
                    .unwrap_or_else(|| chrono::Local::now().date_naive()),
                kind: if args.first {
                    NoteKind::DevelopmentalFirst
                } else {
                    NoteKind::Observation
                },
                text: args.text,
            });
            print_added(&out, &book.add_entry(id, body)?);
        }
        Command::Show { child } => {
            let book = open_existing(&path)?;
            let record = book.child(find_child(&book, &child)?)?;
            out.print(&record, || print_record(&record));
        }
        Command::History { child } => {
            let book = open_existing(&path)?;
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
            let book = open_existing(&path)?;
            let id = find_child(&book, &args.child)?;
            let record = book.child(id.clone())?;
            let target = find_entry(&record, &args.entry)?;
            let body = args.measurement.body();
            print_added(&out, &book.amend_entry(id, target, body)?);
        }
        Command::MarkError {
            child,
            entry,
            reason,
        } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let target = find_entry(&book.child(id.clone())?, &entry)?;
            print_added(&out, &book.mark_entered_in_error(id, target, reason)?);
        }
        Command::Parents {
            child,
            mother_cm,
            father_cm,
            said,
            date,
        } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let body = EntryBody::ParentalHeights(ParentalHeights {
                date: date.unwrap_or_else(|| chrono::Local::now().date_naive()),
                mother_cm,
                father_cm,
                measured_by: if said {
                    MeasuredBy::Parent
                } else {
                    MeasuredBy::Professional
                },
            });
            print_added(&out, &book.add_entry(id, body)?);
        }
        Command::Close {
            child,
            reason,
            date,
        } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let body = EntryBody::RecordClosed(RecordClosure {
                date: date.unwrap_or_else(|| chrono::Local::now().date_naive()),
                reason,
            });
            print_added(&out, &book.add_entry(id, body)?);
        }
        Command::Risk(args) => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &args.child)?;
            let body = EntryBody::RiskFactor(RiskFactor {
                date: args
                    .date
                    .unwrap_or_else(|| chrono::Local::now().date_naive()),
                factor: args.factor,
                present: !args.ruled_out,
            });
            print_added(&out, &book.add_entry(id, body)?);
        }
        Command::Due(args) => {
            let flags_given =
                args.hep_b_at_risk || args.bcg || args.flu_risk || args.had_chickenpox;
            if args.child.is_some() && flags_given {
                return Err(CliError(
                    "a child's risk factors come from their record, the same on every device: record them with `redbook risk CHILD FACTOR`; the flags are for --birth-date".into(),
                ));
            }
            let eligibility = Eligibility {
                hep_b_at_risk: args.hep_b_at_risk,
                bcg: args.bcg,
                flu_clinical_risk: args.flu_risk,
                had_chickenpox: args.had_chickenpox,
            };
            let report = match (&args.child, args.birth_date) {
                (Some(child), _) => {
                    let book = open_existing(&path)?;
                    book.due(find_child(&book, child)?, args.on)?
                }
                (None, Some(birth_date)) => {
                    redbook_ffi::due_for_birth_date(birth_date, args.on, eligibility)?
                }
                (None, None) => unreachable!("clap requires one"),
            };
            out.print(&report, || print_due(&report));
        }
        Command::Centile(args) => {
            let (measure, value) = [
                (Measure::WeightKg, args.weight_kg),
                (Measure::HeightCm, args.length_cm),
                (Measure::HeightCm, args.height_cm),
                (Measure::HeadCircumferenceCm, args.head_cm),
                (Measure::Bmi, args.bmi),
            ]
            .into_iter()
            .find_map(|(m, v)| v.map(|v| (m, v)))
            .expect("clap requires one measurement");
            let query = CentileQuery {
                sex: args.sex,
                birth_date: args.birth_date,
                gestation: args.gestation.parse()?,
                date: args.date,
                measure,
                value,
            };
            let assessment = args
                .charts
                .charts()?
                .assess(query, args.charts.correction())?;
            out.print(&assessment, || print_assessment(&assessment));
        }
        Command::Growth {
            child,
            measure,
            charts,
        } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let refs = charts.charts()?;
            let series = book.growth(id.clone(), measure, refs.clone(), charts.correction())?;
            let mid_parental = (measure == Measure::HeightCm)
                .then(|| book.mid_parental_height(id, refs))
                .transpose();
            out.print(&series, || {
                for point in &series.points {
                    match (&point.assessment, &point.problem) {
                        (Some(a), _) => println!(
                            "{}  {:>7.2}  {:<35} centile {:5.1}  z {:+.2}  ({}{})",
                            point.date,
                            point.value,
                            a.description,
                            a.centile,
                            a.z,
                            a.reference.name(),
                            if a.flags.is_empty() {
                                ""
                            } else {
                                "; implausible: please re-measure"
                            }
                        ),
                        (None, problem) => println!(
                            "{}  {:>7.2}  not charted: {}",
                            point.date,
                            point.value,
                            problem.as_deref().unwrap_or("")
                        ),
                    }
                }
                for note in redbook_core::view::growth_notes(&series) {
                    println!("{note}");
                }
                match &mid_parental {
                    Ok(Some(Some(m))) => println!("{}", redbook_core::view::mid_parental_text(m)),
                    Ok(_) => {}
                    Err(e) => println!("mid-parental height: {e}"),
                }
            });
        }
        Command::Chart {
            child,
            measure,
            out: file,
            charts,
        } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let svg = book.growth_chart(id, measure, charts.charts()?, charts.correction())?;
            write_file(&file, svg.as_bytes())?;
            println!("wrote {}", file.display());
        }
        Command::Device(DeviceCommand::Show) => {
            let book = open_existing(&path)?;
            let author = book.author()?;
            let card = book.device_card()?;
            let info = serde_json::json!({
                "device_id": author.device_id,
                "role": author.role,
                "display_name": author.display_name,
                "organisation": author.organisation,
                "card": card,
            });
            out.print(&info, || {
                println!(
                    "device {} ({}, {})",
                    author.device_id,
                    author.display_name,
                    Role::label(author.role)
                );
                println!("card (give this to a member who will invite this device):\n{card}");
            });
        }
        Command::Device(DeviceCommand::Attest { file }) => {
            let book = open_existing(&path)?;
            book.set_attestation(read_file(&file)?)?;
            println!("kept; this device's card now carries the attestation");
        }
        Command::Device(DeviceCommand::Set {
            role,
            name,
            organisation,
        }) => {
            let book = open_existing(&path)?;
            book.set_device_profile(DeviceProfile {
                role: role.parse()?,
                display_name: name,
                organisation,
            })?;
        }
        Command::Share {
            child,
            to,
            access,
            out: file,
        } => {
            let access: Access = access.parse()?;
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            let invitation = book.share(id, to, access)?;
            write_file(&file, &invitation)?;
            println!(
                "wrote {} ({} bytes): give it to the other device for `redbook accept`",
                file.display(),
                invitation.len()
            );
        }
        Command::Accept { file } => {
            let book = open_existing(&path)?;
            let id = book.accept(read_file(&file)?)?;
            println!("{id}");
        }
        Command::Members { child } => {
            let book = open_existing(&path)?;
            let members = book.members(find_child(&book, &child)?)?;
            out.print(&members.iter().map(|m| serde_json::json!({
                "device_id": m.device_id, "access": m.access, "role": m.role, "display_name": m.display_name,
                "organisation": m.organisation, "added_by": m.added_by, "added_at": m.added_at,
                "removed_by": m.removed_by, "confirmed_by": m.confirmed_by, "standing": m.standing,
            })).collect::<Vec<_>>(), || {
                for m in &members {
                    println!("{}  {}", m.device_id, m.standing);
                }
            });
        }
        Command::RemoveMember { child, device } => {
            let book = open_existing(&path)?;
            book.remove_member(find_child(&book, &child)?, device)?;
            println!("removed; the record key was replaced and the other members receive it at their next sync");
        }
        Command::Sync { child, with } => {
            let book = open_existing(&path)?;
            let id = find_child(&book, &child)?;
            if !with.exists() {
                return Err(CliError(format!("no database at {}", with.display())));
            }
            let peer = open(
                &with,
                passphrase(
                    "REDBOOK_PEER_PASSPHRASE",
                    "The other database's passphrase",
                    false,
                )?,
            )?;
            let report = sync_pair(&book, &peer, &id)?;
            out.print(&report, || {
                println!(
                    "in sync after {} round trips: {} messages, {} bytes",
                    report.round_trips, report.messages, report.bytes
                )
            });
        }
        Command::Bundle(BundleCommand::Export {
            child,
            for_device,
            out: file,
        }) => {
            let book = open_existing(&path)?;
            let bundle = book.export_bundle(find_child(&book, &child)?, for_device)?;
            write_file(&file, &bundle)?;
            println!("wrote {} ({} bytes)", file.display(), bundle.len());
        }
        Command::Bundle(BundleCommand::Import { file }) => {
            let book = open_existing(&path)?;
            let received = book.receive(read_file(&file)?)?;
            out.print(&received, || {
                println!(
                    "{}",
                    if received.changed {
                        "imported: the record has new entries"
                    } else {
                        "nothing new in that bundle"
                    }
                )
            });
        }
        Command::Export(args) => {
            let book = open_existing(&path)?;
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
            let book = open_existing(&path)?;
            let json = String::from_utf8(read_file(&file)?)
                .map_err(|_| CliError(format!("{} is not UTF-8 text", file.display())))?;
            let id = book.import_fhir(json)?;
            out.print(&serde_json::json!({ "id": id }), || {
                println!("imported as a new record: {id}")
            });
        }
        Command::Passphrase(PassphraseCommand::Change) => {
            let current = passphrase("REDBOOK_PASSPHRASE", "Current passphrase", false)?;
            let book = open(&path, current.clone())?;
            let new = passphrase("REDBOOK_NEW_PASSPHRASE", "New passphrase", true)?;
            book.change_passphrase(current, new)?;
            println!("passphrase changed");
        }
        Command::Demo { .. } => unreachable!("handled above"),
    }
    Ok(())
}

struct Output {
    json: bool,
}

impl Output {
    fn print<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("serialisable")
            );
        } else {
            human();
        }
    }
}

fn print_added(out: &Output, view: &EntryView) {
    out.print(view, || {
        println!("{}", view.entry.id);
        for flag in &view.flags {
            eprintln!("note: {}: {}", flag.field, flag.note);
        }
    });
}

#[derive(Serialize)]
pub(crate) struct SyncReport {
    pub round_trips: usize,
    pub messages: usize,
    pub bytes: usize,
}

/// Runs the real protocol between two databases, passing messages in memory, until
/// neither has anything to send.
pub(crate) fn sync_pair(a: &RedBook, b: &RedBook, id: &RecordId) -> CliResult<SyncReport> {
    let (a_id, b_id) = (a.device_id(), b.device_id());
    let mut report = SyncReport {
        round_trips: 0,
        messages: 0,
        bytes: 0,
    };
    for _ in 0..64 {
        let mut sent = false;
        for (from, to, to_id) in [(a, b, &b_id), (b, a, &a_id)] {
            if let Some(message) = from.sync_message(id.clone(), to_id.clone())? {
                report.messages += 1;
                report.bytes += message.len();
                to.receive(message)?;
                sent = true;
            }
        }
        if !sent {
            return Ok(report);
        }
        report.round_trips += 1;
    }
    Err(CliError(
        "the devices did not reach the same state in 64 round trips".into(),
    ))
}

/// Writes a file only this user can read (it holds a child's record or a key).
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> CliResult {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| CliError(format!("cannot write {}: {e}", path.display())))
}

fn read_file(path: &std::path::Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError(format!("cannot read {}: {e}", path.display())))
}

fn database_path(given: Option<PathBuf>) -> CliResult<PathBuf> {
    let path = match given {
        Some(path) => path,
        None => dirs::data_dir()
            .ok_or_else(|| CliError("no data folder on this platform; give --db".into()))?
            .join("redbook")
            .join("redbook.db"),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| CliError(format!("cannot create the data folder: {e}")))?;
    }
    Ok(path)
}

/// From the environment variable, else a prompt (twice for a new passphrase).
fn passphrase(env: &str, prompt: &str, confirm: bool) -> CliResult<String> {
    if let Ok(value) = std::env::var(env) {
        return Ok(value);
    }
    let ask = |p: &str| {
        rpassword::prompt_password(format!("{p}: "))
            .map_err(|_| CliError(format!("cannot prompt for a passphrase here; set {env}")))
    };
    let first = ask(prompt)?;
    if confirm {
        let again = zeroize::Zeroizing::new(ask("Again")?);
        if *again != first {
            return Err(CliError("the passphrases differ".into()));
        }
    }
    if first.is_empty() {
        return Err(CliError("the passphrase must not be empty".into()));
    }
    Ok(first)
}

fn open(path: &std::path::Path, passphrase: String) -> CliResult<Arc<RedBook>> {
    let book = RedBook::open_with_passphrase(path.display().to_string(), passphrase)?;
    book.set_trusted_organisations(trust_list()?)?;
    Ok(book)
}

/// The organisations whose attestations confirm a professional's role: the file named by
/// `REDBOOK_TRUST_LIST`, one `ODS-CODE HEX-ED25519-KEY` a line (`#` starts a comment).
fn trust_list() -> CliResult<Vec<redbook_ffi::TrustedOrganisation>> {
    let Some(file) = std::env::var_os("REDBOOK_TRUST_LIST") else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| CliError(format!("cannot read the trust list: {e}")))?;
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(n, line)| {
            let bad = || {
                CliError(format!(
                    "trust list line {}: expected `ODS-CODE HEX-KEY`",
                    n + 1
                ))
            };
            let (ods, key) = line.split_once(char::is_whitespace).ok_or_else(bad)?;
            Ok(redbook_ffi::TrustedOrganisation {
                ods_code: ods.to_string(),
                public_key: hex::decode(key.trim()).map_err(|_| bad())?,
            })
        })
        .collect()
}

fn open_existing(path: &std::path::Path) -> CliResult<Arc<RedBook>> {
    if !path.exists() {
        return Err(CliError(format!(
            "no database at {}; run `redbook init` first",
            path.display()
        )));
    }
    open(path, passphrase("REDBOOK_PASSPHRASE", "Passphrase", false)?)
}

/// A child by id, unique id prefix, or the start of their name (case-insensitive).
fn find_child(book: &RedBook, query: &str) -> CliResult<RecordId> {
    let list = book.children()?;
    let q = query.trim().to_lowercase();
    let matches: Vec<_> = list
        .children
        .iter()
        .filter(|c| {
            c.id.as_str() == q
                || (q.len() >= 4 && c.id.as_str().starts_with(&q))
                || c.name.to_lowercase().starts_with(&q)
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => {
            // A damaged record is not listed by name, but its id still finds it.
            let damaged = list
                .damaged
                .iter()
                .flatten()
                .find(|id| id.as_str() == q || (q.len() >= 4 && id.as_str().starts_with(&q)));
            match damaged {
                Some(id) => Err(CliError(format!(
                    "the record {id} is damaged and cannot be read; the rest of the file is readable"
                ))),
                None => Err(CliError("no such child; see `redbook child list`".into())),
            }
        }
        _ => Err(CliError("more than one child matches; give the id".into())),
    }
}

fn find_entry(record: &ChildRecord, query: &str) -> CliResult<EntryId> {
    let q = query.trim().to_lowercase();
    let matches: Vec<_> = record
        .entries
        .iter()
        .filter(|v| {
            q.len() >= 4
                && (v.entry.id.as_str().starts_with(&q) || v.entry.id.as_str().ends_with(&q))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.entry.id.clone()),
        [] => Err(CliError("no such entry; see `redbook show`".into())),
        _ => Err(CliError(
            "more than one entry matches; give more of the id".into(),
        )),
    }
}

/// The random tail of an id: entry ids start with a timestamp, so their heads repeat.
fn short(id: &str) -> &str {
    &id[id.len().saturating_sub(8)..]
}

fn print_assessment(a: &Assessment) {
    use redbook_core::view;
    let centile = view::centile_text(a);
    let centile = if a.description == centile {
        String::new()
    } else {
        format!("{centile}, ")
    };
    println!(
        "{} {}: {} ({centile}SDS {:+.2})",
        a.measure.label(),
        a.value,
        a.description,
        a.z
    );
    println!(
        "{}; {}; chart {}",
        view::age_text(a),
        view::correction_text(a.correction),
        a.reference.name()
    );
    if a.flags.contains(&GrowthFlag::Implausible) {
        println!("This is far from the usual range for the age: please check the measurement.");
    }
}

fn status_word(status: DueStatus) -> &'static str {
    match status {
        DueStatus::Given => "given",
        DueStatus::Due => "DUE",
        DueStatus::Overdue => "OVERDUE",
        DueStatus::Upcoming => "upcoming",
        DueStatus::NotApplicable => "not applicable",
        DueStatus::NotRecorded => "not recorded (window passed)",
    }
}

fn print_due(report: &DueReport) {
    println!("For a child born {}, on {}:", report.birth_date, report.on);
    println!("\nImmunisations");
    for item in &report.immunisations {
        let when = match item.given_on {
            Some(given) => format!("given {given}"),
            None => format!("due {}", item.due_date),
        };
        let note = item
            .note
            .as_deref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        println!(
            "  {:<15} {:<18} {:<10} #{}  {when}{note}",
            status_word(item.status),
            item.visit,
            item.vaccine,
            item.dose
        );
    }
    println!("\nReviews and newborn screening");
    for check in &report.checks {
        let when = match check.done_on {
            Some(done) => format!("done {done}"),
            None => format!("{} to {}", check.window_from, check.window_until),
        };
        let status = if check.status == DueStatus::Given {
            "done"
        } else {
            status_word(check.status)
        };
        println!("  {status:<15} {:<38} {when}", check.title);
    }
    if !report.other_vaccines.is_empty() {
        println!("\nOther vaccines recorded (not in the routine schedule)");
        for dose in &report.other_vaccines {
            println!("  {} dose {} on {}", dose.vaccine, dose.dose, dose.date);
        }
    }
    if !report.risk_factors.is_empty() {
        println!("\nRisk factors on record");
        for risk in &report.risk_factors {
            println!("  {}", redbook_core::view::risk_factor_line(risk));
        }
    }
    let next: Vec<_> = report.reminders.iter().take(5).collect();
    if !next.is_empty() {
        println!("\nNext reminders");
        for r in next {
            println!("  {}  {} (due {})", r.remind_on, r.title, r.due_date);
        }
    }
}

/// One timeline line: date, entry, author and whether its signature checks out.
pub(crate) fn timeline_line(view: &EntryView, summary_width: usize) -> String {
    let date = view
        .entry
        .body
        .date()
        .map(|d| d.to_string())
        .unwrap_or_else(|| " ".repeat(10));
    let mut summary = redbook_core::view::entry_text(view);
    if summary.chars().count() > summary_width {
        summary = format!(
            "{}...",
            summary.chars().take(summary_width - 3).collect::<String>()
        );
    }
    format!(
        "{date}  {}  {summary:<summary_width$}  {}",
        short(view.entry.id.as_str()),
        redbook_core::view::author_line(view)
    )
}

fn print_record(record: &ChildRecord) {
    let d = &record.details;
    let mut facts = Vec::new();
    facts.extend(d.sex.map(|s| s.to_string()));
    facts.extend(d.birth_date.map(|b| format!("born {b}")));
    facts.extend(d.gestation.map(|g| format!("{g} weeks")));
    println!("{}  ({})", d.name, facts.join(", "));
    if let Some(nhs) = &d.nhs_number {
        // Grouped 3-3-4 as printed on NHS letters; any stored text prints, never panics.
        let digits: Vec<char> = nhs.chars().collect();
        let group = |range: std::ops::Range<usize>| -> String {
            digits
                .get(range.start.min(digits.len())..range.end.min(digits.len()))
                .map(|c| c.iter().collect())
                .unwrap_or_default()
        };
        println!(
            "NHS number {} {} {}",
            group(0..3),
            group(3..6),
            group(6..digits.len())
        );
    }
    for conflict in &record.conflicts {
        println!("CONFLICT: {}", redbook_core::view::conflict_text(conflict));
    }
    println!("id {}", record.id);
    if let Some(closure) = &record.closed {
        println!(
            "CLOSED: {}; read-only on parents' and carers' devices",
            timeline_line(closure, 60).trim()
        );
    }
    println!();
    let timeline = record.timeline();
    for view in &timeline {
        println!("{}", timeline_line(view, 60));
        for flag in &view.flags {
            println!("            note: {}: {}", flag.field, flag.note);
        }
    }
    let hidden = record.entries.len() - timeline.len();
    if hidden > 0 {
        println!("\n{hidden} amended, error-marked or marker entries are kept; `redbook history` shows them.");
    }
    if !record.unreadable_entries.is_empty() {
        println!(
            "{} entries were written by a newer version of redbook and are kept unread.",
            record.unreadable_entries.len()
        );
    }
}
