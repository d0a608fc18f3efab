//! What screens and printouts show, as words: pure functions from the record's data. The
//! apps draw these; they do not compose their own (DESIGN.md, "The apps draw; the core
//! decides"). Issue 12 moves the rest of the wording here.

use crate::model::{Access, EntryView, Member, Verification};

/// Who a member is, as a parent reads it: the role the granting admin gave, who granted
/// it and when, and whether an organisation confirms it (docs/threat-model.md, "Roles").
///
/// "Sam Patel, health visitor (X99TEST), confirmed by X99TEST; added by Mum on 3 Mar 2026"
/// "Jo, added by Mum as health visitor, not confirmed by an organisation"
pub fn member_standing(member: &Member, members: &[Member]) -> String {
    let name_of = |device: &str| {
        members
            .iter()
            .find(|m| m.device_id == device)
            .map_or("a device no longer listed", |m| m.display_name.as_str())
            .to_string()
    };
    let role = member.role.label();
    let org = member
        .organisation
        .as_deref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default();
    let on = member.added_at.format("%-d %b %Y");
    let mut text = if member.added_by == member.device_id {
        format!(
            "{}, {role}{org}, created this record on {on}",
            member.display_name
        )
    } else if let Some(org) = &member.confirmed_by {
        format!(
            "{}, {role} ({org}), confirmed by {org}; added by {} on {on}",
            member.display_name,
            name_of(&member.added_by)
        )
    } else if member.role.is_professional() {
        format!(
            "{}, added by {} as {role}{org} on {on}, not confirmed by an organisation",
            member.display_name,
            name_of(&member.added_by)
        )
    } else {
        format!(
            "{}, added by {} as {role} on {on}",
            member.display_name,
            name_of(&member.added_by)
        )
    };
    text.push_str(match member.access {
        Access::Admin => "; can invite and remove",
        Access::Writer => "; can write",
        Access::Reader => "; can read",
    });
    if let Some(removal) = &member.removed {
        text.push_str(&format!(
            "; removed by {} on {}",
            name_of(&removal.by),
            removal.at.format("%-d %b %Y")
        ));
    }
    text
}

/// Who wrote an entry and how far that is vouched for, in one line:
/// "Sam Patel (health visitor, X99TEST, role confirmed), verified";
/// "Jo (health visitor, RQX, role not confirmed), verified".
pub fn author_line(view: &EntryView) -> String {
    let author = &view.entry.author;
    let mut role = author.role.label().to_string();
    if let Some(org) = &author.organisation {
        role.push_str(", ");
        role.push_str(org);
    }
    match (&view.author_confirmed_by, author.role.is_professional()) {
        (Some(org), _) if author.organisation.as_ref() == Some(org) => {
            role.push_str(", role confirmed")
        }
        (Some(org), _) => role.push_str(&format!(", role confirmed by {org}")),
        (None, true) if view.verification == Verification::Verified => {
            role.push_str(", role not confirmed")
        }
        _ => {}
    }
    let trust = match view.verification {
        Verification::Verified => "verified",
        Verification::Unverified => "not verified",
        Verification::Invalid => "SIGNATURE INVALID: not written by this author",
        Verification::NotPermitted => "WRITTEN WITHOUT THE RIGHT TO WRITE",
    };
    format!("{} ({role}), {trust}", author.display_name)
}
