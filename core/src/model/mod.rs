//! The record's content: the child's details and the entries of each red book section.
//! Plain serde types; validation at the door lives in `validate`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

mod entries;
mod entry_json;
mod ids;
pub mod membership;
pub mod summary;
pub mod validate;
mod words;

pub use entries::*;
pub use ids::{EntryId, RecordId, StatementId};
pub use membership::{Access, Action, Profile, Rotation, SealedKey, Statement};
pub use summary::ChildSummary;
pub use validate::{Flag, ValidationError};
pub use words::{child_age_text, count};

/// Days of gestation as weeks+days (`40+0`), the way midwives write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Gestation {
    pub total_days: u16,
}

impl Gestation {
    pub fn new(weeks: u16, days: u16) -> Self {
        Self {
            total_days: weeks * 7 + days,
        }
    }
    pub fn weeks(self) -> u16 {
        self.total_days / 7
    }
    pub fn days(self) -> u16 {
        self.total_days % 7
    }
}

impl fmt::Display for Gestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.weeks(), self.days())
    }
}

impl std::str::FromStr for Gestation {
    type Err = ValidationError;
    /// Accepts `39+4` or `39` (whole weeks).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ValidationError::new("gestation", "write it as weeks+days, e.g. 39+4");
        let (weeks, days) = match s.trim().split_once('+') {
            Some((w, d)) => (w.trim(), d.trim()),
            None => (s.trim(), "0"),
        };
        let weeks: u16 = weeks.parse().map_err(|_| invalid())?;
        let days: u16 = days.parse().map_err(|_| invalid())?;
        if days > 6 || weeks > 60 {
            return Err(invalid());
        }
        Ok(Gestation::new(weeks, days))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sex::Female => "female",
            Sex::Male => "male",
        })
    }
}

/// The child-and-family section's single-valued fields. These are edited in place and
/// merged field by field; two devices setting one field apart is reported as a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChildDetails {
    pub name: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub gestation: Option<Gestation>,
    pub nhs_number: Option<String>,
    pub address: Option<String>,
    pub gp_practice: Option<String>,
}

/// One field of `ChildDetails`, named for setting and for reporting conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DetailField {
    Name,
    BirthDate,
    Sex,
    Gestation,
    NhsNumber,
    Address,
    GpPractice,
}

impl DetailField {
    pub const ALL: [DetailField; 7] = [
        DetailField::Name,
        DetailField::BirthDate,
        DetailField::Sex,
        DetailField::Gestation,
        DetailField::NhsNumber,
        DetailField::Address,
        DetailField::GpPractice,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DetailField::Name => "name",
            DetailField::BirthDate => "birth_date",
            DetailField::Sex => "sex",
            DetailField::Gestation => "gestation",
            DetailField::NhsNumber => "nhs_number",
            DetailField::Address => "address",
            DetailField::GpPractice => "gp_practice",
        }
    }
}

impl ChildDetails {
    /// The field's value as the text the document stores (None when unset).
    pub fn field_text(&self, field: DetailField) -> Option<String> {
        match field {
            DetailField::Name => Some(self.name.clone()),
            DetailField::BirthDate => self.birth_date.map(|d| d.to_string()),
            DetailField::Sex => self.sex.map(|s| s.to_string()),
            DetailField::Gestation => self.gestation.map(|g| g.to_string()),
            DetailField::NhsNumber => self.nhs_number.clone(),
            DetailField::Address => self.address.clone(),
            DetailField::GpPractice => self.gp_practice.clone(),
        }
    }

    /// Sets one field from its stored text; text that does not parse leaves it unset,
    /// because a value another device wrote must never make the record unreadable.
    pub fn set_field_text(&mut self, field: DetailField, text: Option<&str>) {
        match field {
            DetailField::Name => self.name = text.unwrap_or_default().to_string(),
            DetailField::BirthDate => self.birth_date = text.and_then(|t| t.parse().ok()),
            DetailField::Sex => {
                self.sex = match text {
                    Some("female") => Some(Sex::Female),
                    Some("male") => Some(Sex::Male),
                    _ => None,
                }
            }
            DetailField::Gestation => self.gestation = text.and_then(|t| t.parse().ok()),
            DetailField::NhsNumber => self.nhs_number = text.map(str::to_string),
            DetailField::Address => self.address = text.map(str::to_string),
            DetailField::GpPractice => self.gp_practice = text.map(str::to_string),
        }
    }
}

/// One edit of one detail field. Edits are never overwritten in the document: each names
/// the edits it replaces, so edits made apart stay side by side (a conflict) until an edit
/// replaces them all (docs/adr/0001-record-format-v2.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailEdit {
    pub id: EntryId,
    pub field: DetailField,
    /// `None` clears the field.
    pub value: Option<String>,
    pub replaces: Vec<EntryId>,
    /// The device that made the edit.
    pub author: String,
    pub at: DateTime<Utc>,
}

/// Who wrote an entry: the device and the person's role on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Opaque device id (hex).
    pub device_id: String,
    pub role: Role,
    pub display_name: String,
    /// ODS code of the organisation, for professionals.
    pub organisation: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Parent,
    Carer,
    Midwife,
    HealthVisitor,
    Gp,
    Nurse,
}

impl Role {
    /// Every role, in the order its one-byte code (device cards, attestations) counts.
    pub const ALL: [Role; 6] = [
        Role::Parent,
        Role::Carer,
        Role::Midwife,
        Role::HealthVisitor,
        Role::Gp,
        Role::Nurse,
    ];

    /// The role's one-byte code in binary formats.
    pub fn code(self) -> u8 {
        Role::ALL.iter().position(|r| *r == self).unwrap_or(0) as u8
    }

    pub fn from_code(code: u8) -> Option<Role> {
        Role::ALL.get(code as usize).copied()
    }

    pub fn is_professional(self) -> bool {
        !matches!(self, Role::Parent | Role::Carer)
    }

    /// The role in words, as a parent reads it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Parent => "parent",
            Role::Carer => "carer",
            Role::Midwife => "midwife",
            Role::HealthVisitor => "health visitor",
            Role::Gp => "GP",
            Role::Nurse => "nurse",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(
            match s
                .trim()
                .to_ascii_lowercase()
                .replace(['-', ' '], "_")
                .as_str()
            {
                "parent" => Role::Parent,
                "carer" => Role::Carer,
                "midwife" => Role::Midwife,
                "health_visitor" => Role::HealthVisitor,
                "gp" => Role::Gp,
                "nurse" => Role::Nurse,
                _ => {
                    return Err(ValidationError::new(
                        "role",
                        "one of parent, carer, midwife, health-visitor, gp, nurse",
                    ))
                }
            },
        )
    }
}

/// An entry as stored: immutable once written. Stored in the document as one value,
/// its canonical JSON bytes (one automerge put, docs/adr/0004).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEntry {
    pub id: EntryId,
    pub author: Author,
    pub recorded_at: DateTime<Utc>,
    /// The entry this one corrects, if it is an amendment.
    pub amends: Option<EntryId>,
    pub body: EntryBody,
    /// Where its author read it from, when it came from another system's file (a GP
    /// system's immunisations): the author vouches for having brought it in, and the
    /// screens say where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The writer confirmed what the door asked about (a measurement beyond the growth
    /// charts' limits for the child's age, a vaccine or dose the schedule does not
    /// expect): kept as written, and marked for a professional to review unless a
    /// professional wrote it (docs/adr/0014-values-checked-against-the-child.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
}

/// An entry as the app sees it, with what later entries say about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryView {
    pub entry: StoredEntry,
    pub status: EntryStatus,
    pub flags: Vec<Flag>,
    /// Whether a member device's signature vouches for who wrote it.
    pub verification: Verification,
    /// The organisation that confirms its author's role, when one does (see `Member`).
    pub author_confirmed_by: Option<String>,
    /// The name the author signed into the entry, when it has renamed itself since
    /// (`entry.author.display_name` is its name now).
    pub author_name_then: Option<String>,
    /// Set on a parent's device for a blood spot result until the deployer's delay after
    /// its sample has passed: the results are left out of this view until that day
    /// (`view::entry_text` says so).
    pub withheld_until: Option<NaiveDate>,
}

/// What the app shows beside an entry's author (docs/threat-model.md, "Entries").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Signed, for this record, by the member device it names as author, which could
    /// write when it wrote it.
    Verified,
    /// Written by a device that is not (yet) a known member, signed by it or unsigned
    /// (an import): shown, never as a member's.
    Unverified,
    /// The signature does not match, or it names a member device that did not sign it:
    /// shown, never hidden, never trusted, never exported as that author's.
    Invalid,
    /// Signed by the member it names, but that member could not write then: it was a
    /// reader, or had been removed.
    NotPermitted,
}

impl Verification {
    /// Shown SIGNATURE INVALID or WRITTEN WITHOUT THE RIGHT TO WRITE: such an entry never
    /// counts for what the record works out and never goes out as its author's (hazard
    /// log H18).
    pub fn is_forged(self) -> bool {
        matches!(self, Verification::Invalid | Verification::NotPermitted)
    }
}

/// A device that may read (and, with the access, write) a child's record, as the
/// record's signed statements resolve it (`sync::membership`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub device_id: String,
    pub keys: crate::crypto::device::DevicePublic,
    pub access: Access,
    /// The role the granting admin gave (the device's own profile never raises it).
    pub role: Role,
    /// The name the member's own latest rename gave it, else the one its grant gave.
    pub display_name: String,
    pub organisation: Option<String>,
    /// The member this device stands in for: a recovery kit's identity, or a phone
    /// restored from one (docs/adr/0009-recovery.md).
    #[serde(default)]
    pub stands_in_for: Option<String>,
    /// The admin device that granted this access (itself, for the record's creator).
    pub added_by: String,
    pub added_at: DateTime<Utc>,
    /// Set when an admin removed this device: it may no longer read new entries or sync.
    /// Of its removals since it was last granted access, the one by the most senior
    /// admin (every one counts: `periods`).
    #[serde(default)]
    pub removed: Option<Removal>,
    /// When it could write (docs/threat-model.md, "Times").
    #[serde(default, skip)]
    pub periods: Vec<WritePeriod>,
    /// The attestation the granting admin passed on from the device's card.
    #[serde(default, skip)]
    pub attestation: Option<Vec<u8>>,
    /// The organisation whose trusted key confirms the role (`RedBook` fills it in
    /// from the deployer's trust list); `None`: the role is only as the admin gave it.
    #[serde(default)]
    pub confirmed_by: Option<String>,
}

/// What an organisation on this device's trust list confirms of a member's role
/// (`sync::attestation::confirmation`): by which organisation, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleConfirmation {
    pub organisation: String,
    pub valid_until: DateTime<Utc>,
}

impl RoleConfirmation {
    /// Whether it confirms what the member did at `at`: an expired attestation confirms
    /// nothing written after its expiry (docs/threat-model.md, "Roles").
    pub fn holds_at(&self, at: DateTime<Utc>) -> bool {
        at <= self.valid_until
    }
}

/// The members whose professional role an organisation on this device's trust list
/// confirms, by device id: what a record needs to tell a professional's act (a closure, a
/// risk factor) that counts from one that waits. Empty: no role is confirmed.
pub type ConfirmedRoles = std::collections::BTreeMap<String, RoleConfirmation>;

impl Member {
    pub fn is_active(&self) -> bool {
        self.removed.is_none()
    }

    /// Whether an entry or detail it wrote at `at` counts as written with its access, by
    /// the times alone: within one of its periods of write access (not before the grant
    /// that began it, a day's grace for clocks; the creator excepted, since it signs what
    /// it brings in from before; and before every statement that ended it). What the
    /// writer's and the ender's changes had seen refines it (`record::causal`;
    /// docs/threat-model.md, "Times").
    pub fn could_write_at(&self, at: DateTime<Utc>) -> bool {
        self.periods
            .iter()
            .any(|period| self.began_by(period, at) && period.ends.iter().all(|end| at < end.at))
    }

    /// Whether `at` is no earlier than `period`'s start (a day's grace; the creator
    /// excepted).
    pub fn began_by(&self, period: &WritePeriod, at: DateTime<Utc>) -> bool {
        let creator = self.added_by == self.device_id;
        creator || at + chrono::Duration::days(1) >= period.from
    }
}

/// A span in which a member could write: from the grant that gave it write access, until
/// the statements that took it away (its removals, or a grant that made it a reader);
/// open while `ends` is empty. Several ends: removals made concurrently, every one of
/// which a write must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritePeriod {
    pub from: DateTime<Utc>,
    pub ends: Vec<PeriodEnd>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodEnd {
    pub at: DateTime<Utc>,
    pub statement: StatementId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub by: String,
    pub at: DateTime<Utc>,
    /// The statement that removed it: what its writes must not have seen
    /// (docs/threat-model.md, "Times").
    #[serde(default, skip)]
    pub statement: Option<StatementId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum EntryStatus {
    Current,
    /// A later entry corrects this one; it stays readable.
    Amended {
        by: EntryId,
    },
    /// Marked "entered in error": hidden from the timeline, never deleted.
    EnteredInError {
        marked_by: EntryId,
        reason: String,
    },
}

/// The child's name and date of birth as the inviter's copy holds them: sealed to the
/// invitee with the key, shown by it until the first sync brings the record's own
/// details, and never written into the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordHint {
    pub name: String,
    pub birth_date: Option<chrono::NaiveDate>,
}

impl RecordHint {
    /// A name as the door takes one: one line, 1 to 100 characters.
    pub(crate) fn is_well_formed(&self) -> bool {
        !self.name.trim().is_empty()
            && self.name.chars().count() <= 100
            && validate::check_line("name", &self.name).is_ok()
    }
}
