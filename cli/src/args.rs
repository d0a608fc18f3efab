//! The command line's arguments (clap definitions) and the parsers for their values.

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use redbook_core::growth::{Correction, Measure};
use redbook_core::model::*;
use redbook_ffi::GrowthCharts;
use std::path::PathBuf;
use std::sync::Arc;

use crate::CliResult;

mod entries;
pub use entries::*;

#[derive(Parser)]
#[command(
    name = "redbook",
    version,
    about = "England's parent-held child health record, on your own device"
)]
pub struct Cli {
    /// Database file [default: redbook.db in the platform's data folder]
    #[arg(long, global = true, env = "REDBOOK_DB")]
    pub db: Option<PathBuf>,
    /// Print data as JSON
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the database (asks for a new passphrase and this device's name)
    Init {
        /// What the other members see this device as: "Mum's phone", "Northside clinic
        /// tablet" (asked when run at a terminal)
        #[arg(long)]
        device_name: Option<String>,
    },
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
    Show {
        /// The child: the start of its name, or its record id
        child: String,
        /// Show the values of an address conflict (left out otherwise, in case someone
        /// who must not know the address can see the screen)
        #[arg(long)]
        address: bool,
    },
    /// Who added, amended or marked each entry, and when
    History {
        /// The child: the start of its name, or its record id
        child: String,
    },
    /// Correct an entry of any kind: give the kind and the corrected entry as its add
    /// command takes it (`amend CHILD ENTRY immunise --date ... --vaccine ... --dose ...`);
    /// the original stays, marked as amended
    Amend(AmendArgs),
    /// Mark an entry entered in error: hidden, never deleted
    MarkError {
        /// The child: the start of its name, or its record id
        child: String,
        /// The entry's id (`redbook history CHILD` lists them)
        entry: String,
        #[arg(long)]
        reason: String,
    },
    /// Record a risk factor the schedule uses (mother's hepatitis B, BCG eligibility, a
    /// flu risk group, chickenpox, SCID as the specialist team found it), or rule one out
    Risk(RiskArgs),
    /// Close a record (a professional's device): the child died, or parental
    /// responsibility changed. Parents' devices may then read it, not write to it
    Close(CloseArgs),
    /// Record the biological parents' heights (for the mid-parental height)
    Parents(ParentsArgs),
    /// Record newborn screening: blood spot results, the hearing screen, the physical
    /// examination (NIPE)
    #[command(subcommand)]
    Screening(ScreeningCommand),
    /// Record the birth details: gestation, weight, head, length, place, delivery, Apgar
    Birth(BirthArgs),
    /// Immunisations, reviews and screening: given, due, overdue, upcoming
    Due(DueArgs),
    /// The UK-WHO centile of one measurement (no database needed)
    Centile(CentileArgs),
    /// A child's measurements of one kind with their centiles
    Growth {
        /// The child: the start of its name, or its record id
        child: String,
        /// weight, length, height, head or bmi
        #[arg(long, value_parser = parse_measure)]
        measure: Measure,
        #[command(flatten)]
        charts: ChartOptions,
    },
    /// Draw a child's growth chart as SVG
    Chart {
        /// The child: the start of its name, or its record id
        child: String,
        /// weight, length, height, head or bmi
        #[arg(long, value_parser = parse_measure)]
        measure: Measure,
        /// The SVG file to write
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
        /// The child: the start of its name, or its record id
        child: String,
        /// The other device's card (`redbook device show` there)
        #[arg(long)]
        to: String,
        /// What it may do: admin (invites and removes; parental responsibility), writer
        /// or reader
        #[arg(long, default_value = "writer")]
        access: String,
        /// The invitation file to write, for the other device
        #[arg(long)]
        out: PathBuf,
    },
    /// Accept an invitation file
    Accept {
        /// The invitation file the other device wrote
        file: PathBuf,
    },
    /// The devices that share a child's record
    Members {
        /// The child: the start of its name, or its record id
        child: String,
    },
    /// Remove a device from a child's record; the record key is replaced
    RemoveMember {
        /// The child: the start of its name, or its record id
        child: String,
        /// The device's id (`redbook members CHILD`)
        #[arg(long)]
        device: String,
    },
    /// Sync a child's record: with another database file on this machine (the real
    /// protocol, messages passed in memory; its passphrase from REDBOOK_PEER_PASSPHRASE),
    /// or through a relay (one bounded exchange: fetch what waits, post what peers need)
    #[command(group(clap::ArgGroup::new("peer").required(true).args(["with", "relay"])))]
    Sync {
        /// The child: the start of its name, or its record id
        child: String,
        /// Another redbook database file on this machine to sync with
        #[arg(long)]
        with: Option<PathBuf>,
        /// The relay's URL, e.g. http://127.0.0.1:8787
        #[arg(long, env = "REDBOOK_RELAY")]
        relay: Option<String>,
    },
    /// Run a relay that stores and forwards sealed sync messages between devices
    #[command(subcommand)]
    Relay(RelayCommand),
    /// A recovery kit: 12 words that bring every record back on a new phone
    #[command(subcommand)]
    Recovery(RecoveryCommand),
    /// One-shot bundles for store-and-forward (a file, a relay)
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Write a child's record for a professional: FHIR R4 JSON, or a printable summary
    Export(ExportArgs),
    /// Check a printed summary's verification code (the text of its QR code): which
    /// member's device printed it, when, and whether the record has changed since
    VerifyPrintout {
        /// The child: the start of its name, or its record id
        child: String,
        /// The code as a QR scanner reads it (starts RBP1:), or - to read it from stdin
        #[arg(long)]
        code: String,
    },
    /// Read FHIR R4 JSON into a new record (a Bundle from `export --fhir`, or another
    /// system's UK Core Patient), or with --into, another system's immunisations and
    /// measurements into a child's record; prints what was not kept
    Import {
        /// The file is FHIR R4 JSON
        #[arg(long, required = true)]
        fhir: bool,
        /// The child (name or record id) whose record the file's entries go into
        #[arg(long)]
        into: Option<String>,
        /// The FHIR R4 JSON file
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
pub struct ExportArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    /// A FHIR R4 Bundle (JSON) for a professional's system
    #[arg(long)]
    pub fhir: bool,
    /// A printable summary (self-contained HTML: open it in a browser and print)
    #[arg(long)]
    pub summary: bool,
    /// Print the child's address on the summary (left off unless asked: safeguarding)
    #[arg(long, requires = "summary")]
    pub show_address: bool,
    /// The file to write
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub charts: ChartOptions,
}

#[derive(Subcommand)]
pub enum ChildCommand {
    /// Add a child; prints the new child's id
    Add(ChildArgs),
    /// List the children in this database
    List {
        /// Also list the records withdrawn as created in error
        #[arg(long)]
        withdrawn: bool,
    },
    /// Withdraw a record added by mistake (a duplicate, the wrong child), on the device
    /// that created it while nobody else has written to it: it leaves the list of
    /// children on every device; nothing is deleted (`redbook mark-error` on the
    /// withdrawal entry brings it back)
    Withdraw {
        /// The child: the start of its name, or its record id
        child: String,
    },
    /// Find children by NHS number (exact; spaces allowed) or by the start of a name
    /// or of any word of it, ignoring case
    Find {
        /// An NHS number (all digits) or the start of a name
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
    },
    /// Set details (writing a field resolves a conflict on it)
    Set(SetArgs),
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Print this device's id, role, name and card
    Show,
    /// Set who this device writes as
    Set {
        /// parent, carer, midwife, health-visitor, gp or nurse (kept if not given)
        #[arg(long)]
        role: Option<String>,
        /// Signed into every record this device is a member of: the others see it
        #[arg(long)]
        name: Option<String>,
        /// Organisation (ODS) code, for professionals
        #[arg(long)]
        organisation: Option<String>,
    },
    /// Keep an organisation's attestation of this device's role (a file the
    /// organisation issued); it travels on the device's card
    Attest { file: PathBuf },
}

#[derive(Subcommand)]
pub enum RecoveryCommand {
    /// Make this device's kit: prints the 12 words once (write them in the paper book)
    Create {
        /// Also write the words as a QR code (SVG) to this file
        #[arg(long)]
        qr: Option<PathBuf>,
    },
    /// Back up every record the kit covers, sealed with its words
    #[command(group(clap::ArgGroup::new("to").required(true).args(["out", "relay"])))]
    Backup {
        /// The backup file to write (or give --relay)
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, env = "REDBOOK_RELAY")]
        relay: Option<String>,
    },
    /// On a new phone: restore every record from the kit's backup (words from
    /// REDBOOK_RECOVERY_WORDS or asked for); the lost phone is removed, the words are
    /// used up, and this phone's new kit is shown once
    #[command(group(clap::ArgGroup::new("from_where").required(true).args(["from", "relay"])))]
    Restore {
        /// A backup file (`redbook recovery backup --out`), or give --relay
        #[arg(long)]
        from: Option<PathBuf>,
        #[arg(long, env = "REDBOOK_RELAY")]
        relay: Option<String>,
        /// Keep the lost phone as a member (it was found)
        #[arg(long)]
        keep_lost: bool,
        /// What the other members see this phone as: "Mum's new phone" (asked at a
        /// terminal when the database is new)
        #[arg(long)]
        device_name: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum RelayCommand {
    /// Serve until interrupted: SQLite in --data by default, PostgreSQL with --postgres
    Serve {
        /// A PostgreSQL database, e.g. postgresql://relay@db.internal/relay
        #[arg(long, env = "REDBOOK_RELAY_POSTGRES")]
        postgres: Option<String>,
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// Folder for the SQLite database (without --postgres)
        #[arg(long, default_value = "redbook-relay")]
        data: PathBuf,
        /// Days a message waits to be fetched before it is deleted
        #[arg(long, default_value_t = 30)]
        retention_days: u64,
        /// Megabytes one mailbox (a record at one key epoch) may hold at once
        #[arg(long, default_value_t = 64)]
        mailbox_quota_mb: u64,
        /// Requests one mailbox may make a minute
        #[arg(long, default_value_t = 600)]
        requests_per_minute: u32,
        /// Megabytes the relay holds in all, messages and backups together; past it
        /// posts and backups are refused (507)
        #[arg(long, default_value_t = 8192)]
        storage_budget_mb: u64,
        /// Megabytes one network source (an IPv4 address or IPv6 /64) may have stored,
        /// messages and backups together, however many mailboxes or slots it uses
        #[arg(long, default_value_t = 64)]
        source_quota_mb: u64,
        /// Requests one network source may make a minute, to all mailboxes and slots
        #[arg(long, default_value_t = 1200)]
        source_requests_per_minute: u32,
        /// Megabytes one recovery backup may be
        #[arg(long, default_value_t = 16)]
        backup_quota_mb: u64,
        /// Backup slots one network source may keep
        #[arg(long, default_value_t = 16)]
        backup_slots_per_source: u64,
        /// Days a recovery backup not written again is kept
        #[arg(long, default_value_t = 800)]
        backup_retention_days: u64,
        /// A reverse proxy (its IP address) whose X-Forwarded-For names the client;
        /// repeat or separate with commas. Without it the header is ignored
        #[arg(long, value_delimiter = ',')]
        trust_forwarded_for: Vec<std::net::IpAddr>,
    },
}

#[derive(Subcommand)]
pub enum BundleCommand {
    /// Write everything a device lacks (or the whole record) to a file
    Export {
        /// The child: the start of its name, or its record id
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
pub enum PassphraseCommand {
    /// New passphrase from REDBOOK_NEW_PASSPHRASE or a prompt
    Change,
}

#[derive(Args)]
pub struct ChildArgs {
    /// The child's name
    #[arg(long)]
    pub name: String,
    /// Date of birth
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub birth_date: NaiveDate,
    /// female or male
    #[arg(long, value_parser = parse_sex)]
    pub sex: Sex,
    /// Gestation at birth, weeks+days: 39+4 (term is 37+0 to 41+6)
    #[arg(long, value_name = "WW+D")]
    pub gestation: String,
    /// The child's NHS number (10 digits; spaces allowed)
    #[arg(long)]
    pub nhs_number: Option<String>,
}

#[derive(Args)]
pub struct SetArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    /// The child's name
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub gp_practice: Option<String>,
    /// The child's NHS number (10 digits; spaces allowed)
    #[arg(long)]
    pub nhs_number: Option<String>,
}

#[derive(Args)]
pub struct MeasureArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub measurement: MeasurementArgs,
    /// Keep a value the check finds unexpected for the child (beyond the growth charts'
    /// limits for the age, a vaccine or dose the schedule does not expect): it is marked
    /// for a professional to review
    #[arg(long)]
    pub confirm: bool,
}

/// A measurement as typed on the command line (`measure`, `amend`).
#[derive(Args)]
pub struct MeasurementArgs {
    /// When it was measured
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: NaiveDate,
    /// Weight in kg
    #[arg(long, allow_negative_numbers = true)]
    pub weight_kg: Option<f64>,
    /// Length in cm, lying down (under 2 years)
    #[arg(long, allow_negative_numbers = true)]
    pub length_cm: Option<f64>,
    /// Height in cm, standing (from 2 years)
    #[arg(long, allow_negative_numbers = true)]
    pub height_cm: Option<f64>,
    /// Head circumference in cm
    #[arg(long, allow_negative_numbers = true)]
    pub head_cm: Option<f64>,
    /// Measured at home by a parent, not at a clinic
    #[arg(long)]
    pub by_parent: bool,
}

impl MeasurementArgs {
    pub fn body(&self) -> EntryBody {
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
pub struct ImmuniseArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub immunisation: ImmunisationArgs,
    /// Keep a value the check finds unexpected for the child (beyond the growth charts'
    /// limits for the age, a vaccine or dose the schedule does not expect): it is marked
    /// for a professional to review
    #[arg(long)]
    pub confirm: bool,
}

/// A vaccination as typed on the command line (`immunise`, `amend`).
#[derive(Args)]
pub struct ImmunisationArgs {
    /// When it was given
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: NaiveDate,
    /// The vaccine: 6-in-1, Rotavirus, MenB, PCV, Hib/MenC, MMR, MMRV, dTaP/IPV, HepB, BCG or
    /// Flu (brand names are read too)
    #[arg(long)]
    pub vaccine: String,
    /// Which dose of the course: 1, 2, 3 ...
    #[arg(long)]
    pub dose: u8,
    /// The batch number
    #[arg(long)]
    pub batch: Option<String>,
    /// The product's brand name, as on the box
    #[arg(long)]
    pub product: Option<String>,
    /// Where it was given: left thigh, right arm ...
    #[arg(long)]
    pub site: Option<String>,
    /// Who gave it
    #[arg(long)]
    pub given_by: Option<String>,
}

impl ImmunisationArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::Immunisation(Immunisation {
            date: self.date,
            vaccine: self.vaccine,
            dose: self.dose,
            product: self.product,
            batch: self.batch,
            site: self.site,
            route: None,
            given_by: self.given_by,
        })
    }
}

#[derive(Args)]
pub struct NoteArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub note: NoteEntryArgs,
}

/// A note as typed (`note`, `amend`).
#[derive(Args)]
pub struct NoteEntryArgs {
    /// What the note says
    #[arg(long)]
    pub text: String,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// A developmental first rather than an observation
    #[arg(long)]
    pub first: bool,
}

impl NoteEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::Note(Note {
            date: self.date.unwrap_or_else(today),
            kind: if self.first {
                NoteKind::DevelopmentalFirst
            } else {
                NoteKind::Observation
            },
            text: self.text,
        })
    }
}

#[derive(Args)]
pub struct ChartOptions {
    /// UK90 data pack (preterm and 4-20 years); built by scripts/growth-tables.py uk90
    #[arg(long, env = "REDBOOK_UK90_PACK")]
    pub uk90_pack: Option<PathBuf>,
    /// Correct for gestation as the paper charts did (under 37 weeks, to 1 or 2 years)
    /// instead of the RCPCH digital default (every gestation, every age)
    #[arg(long)]
    pub paper_chart_correction: bool,
}

impl ChartOptions {
    pub fn charts(&self) -> CliResult<Arc<GrowthCharts>> {
        Ok(match &self.uk90_pack {
            Some(path) => GrowthCharts::with_uk90_pack(path.display().to_string())?,
            None => GrowthCharts::who_only(),
        })
    }

    pub fn correction(&self) -> Correction {
        if self.paper_chart_correction {
            Correction::PaperChart
        } else {
            Correction::RcpchDigital
        }
    }
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("value").required(true).args(["weight_kg", "length_cm", "height_cm", "head_cm", "bmi"])))]
pub struct CentileArgs {
    /// female or male
    #[arg(long, value_parser = parse_sex)]
    pub sex: Sex,
    /// Date of birth
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub birth_date: NaiveDate,
    /// Gestation at birth, weeks+days: 39+4 (term is 37+0 to 41+6)
    #[arg(long, value_name = "WW+D")]
    pub gestation: String,
    /// Date of the measurement
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: NaiveDate,
    /// Weight in kg
    #[arg(long, allow_negative_numbers = true)]
    pub weight_kg: Option<f64>,
    /// Length in cm, lying down (under 2 years)
    #[arg(long, allow_negative_numbers = true)]
    pub length_cm: Option<f64>,
    /// Height in cm, standing (from 2 years)
    #[arg(long, allow_negative_numbers = true)]
    pub height_cm: Option<f64>,
    /// Head circumference in cm
    #[arg(long, allow_negative_numbers = true)]
    pub head_cm: Option<f64>,
    /// Body mass index in kg/m²
    #[arg(long, allow_negative_numbers = true)]
    pub bmi: Option<f64>,
    #[command(flatten)]
    pub charts: ChartOptions,
}

pub fn parse_measure(s: &str) -> Result<Measure, String> {
    Ok(match s {
        "weight" => Measure::WeightKg,
        "length" | "height" => Measure::HeightCm,
        "head" => Measure::HeadCircumferenceCm,
        "bmi" => Measure::Bmi,
        _ => return Err("weight, length, height, head or bmi".into()),
    })
}

#[derive(Args)]
pub struct DueArgs {
    /// A child in the database (or give --birth-date instead)
    #[arg(required_unless_present = "birth_date", conflicts_with = "birth_date")]
    pub child: Option<String>,
    /// Date of birth
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub birth_date: Option<NaiveDate>,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub on: Option<NaiveDate>,
    /// Mother has hepatitis B: the selective hepatitis B programme. This flag and the
    /// three below are for --birth-date; a child's come from their record (`risk`)
    #[arg(long)]
    pub hep_b_at_risk: bool,
    /// Eligible for BCG
    #[arg(long)]
    pub bcg: bool,
    /// In a clinical risk group for flu
    #[arg(long)]
    pub flu_risk: bool,
    /// Has had chickenpox (no MMRV catch-up)
    #[arg(long)]
    pub had_chickenpox: bool,
}

#[derive(Args)]
pub struct RiskArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    #[command(flatten)]
    pub risk: RiskEntryArgs,
}

/// A risk factor as typed (`risk`, `amend`).
#[derive(Args)]
pub struct RiskEntryArgs {
    /// maternal-hepatitis-b, tuberculosis-risk, chronic-respiratory-disease,
    /// chronic-heart-disease, chronic-kidney-disease, chronic-liver-disease,
    /// chronic-neurological-disease, learning-disability, diabetes,
    /// asplenia-or-splenic-dysfunction, immunosuppression, chickenpox, down-syndrome,
    /// turner-syndrome, scid (found or, with --ruled-out, ruled out by the specialist team)
    pub factor: RiskFactorKind,
    /// Ruled out rather than found (e.g. mother screened negative)
    #[arg(long)]
    pub ruled_out: bool,
    /// [default: today]
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
}

impl RiskEntryArgs {
    pub fn body(self) -> EntryBody {
        EntryBody::RiskFactor(RiskFactor {
            date: self.date.unwrap_or_else(today),
            factor: self.factor,
            present: !self.ruled_out,
        })
    }
}

#[derive(Args)]
pub struct AmendArgs {
    /// The child: the start of its name, or its record id
    pub child: String,
    /// The entry's id (`redbook history CHILD` lists them)
    pub entry: String,
    /// The corrected entry: its kind, then what its add command takes
    #[command(subcommand)]
    pub corrected: AmendedEntry,
    /// Keep a value the check finds unexpected for the child (beyond the growth charts'
    /// limits for the age, a vaccine or dose the schedule does not expect): it is marked
    /// for a professional to review
    #[arg(long, global = true)]
    pub confirm: bool,
}

pub fn parse_closure_reason(s: &str) -> Result<ClosureReason, String> {
    match s {
        "died" => Ok(ClosureReason::Died),
        "parental-responsibility-changed" => Ok(ClosureReason::ParentalResponsibilityChanged),
        _ => Err("died or parental-responsibility-changed".into()),
    }
}

pub fn parse_sex(s: &str) -> Result<Sex, String> {
    match s {
        "female" | "f" => Ok(Sex::Female),
        "male" | "m" => Ok(Sex::Male),
        _ => Err("female or male".into()),
    }
}
