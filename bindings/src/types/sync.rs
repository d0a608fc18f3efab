//! Exchanges, restores and a record's members.

use super::Instant;
use redbook_core::model::*;
use redbook_core::{Received, RelayReport, Restored};

#[uniffi::remote(Record)]
pub struct Received {
    pub record_id: RecordId,
    pub from_device: String,
    pub changed: bool,
}

#[uniffi::remote(Record)]
pub struct RelayReport {
    pub received: u32,
    pub refused: u32,
    pub posted: u32,
    pub changed: bool,
    pub more_waiting: bool,
    pub removed: bool,
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

#[uniffi::remote(Record)]
pub struct Restored {
    pub records: Vec<RecordId>,
    pub removed: Vec<String>,
    pub skipped: Vec<RecordId>,
    pub words: Option<String>,
}

/// A device that may read and write a child's record.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MemberInfo {
    pub device_id: String,
    /// What it may do: admin (invites and removes), writer, reader.
    pub access: Access,
    /// The role the granting admin gave it.
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
    pub added_by: String,
    pub added_at: Instant,
    /// The member that removed it, if it was removed.
    pub removed_by: Option<String>,
    /// The organisation that confirms its role, if one on the trust list does.
    pub confirmed_by: Option<String>,
    /// Who it is, in words a parent reads: role as granted, by whom, whether confirmed.
    pub standing: String,
}

impl MemberInfo {
    pub fn from_members(members: Vec<Member>) -> Vec<Self> {
        members
            .iter()
            .map(|m| MemberInfo {
                standing: redbook_core::view::member_standing(m, &members),
                ..MemberInfo::from(m.clone())
            })
            .collect()
    }
}

impl From<Member> for MemberInfo {
    fn from(m: Member) -> Self {
        MemberInfo {
            standing: String::new(),
            confirmed_by: m.confirmed_by,
            device_id: m.device_id,
            access: m.access,
            role: m.role,
            display_name: m.display_name,
            organisation: m.organisation,
            added_by: m.added_by,
            added_at: m.added_at,
            removed_by: m.removed.map(|r| r.by),
        }
    }
}
