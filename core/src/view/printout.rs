//! What the printout's verification code says on paper, and what checking it says.

use crate::child::PrintoutCheck;

/// The caption beside the QR code on a printout, a short line each.
pub const PRINTOUT_CODE_CAPTION: [&str; 3] = [
    "Check this printout",
    "Scan with the red book app (or run redbook verify-printout) to see which member's device printed it, when, and whether the record has changed since.",
    "Signed by the printing device, like the stamp in the paper book.",
];

/// What checking a printout's code found, a sentence a line:
/// "Printed by Mum's phone (parent) on 3 Mar 2026 at 14:05 UTC: a member of this record."
/// "The record still shows what this printout shows." or what changed since.
pub fn printout_check_lines(check: &PrintoutCheck) -> Vec<String> {
    let mut role = check.signer_role.label().to_string();
    if let Some(org) = &check.signer_organisation {
        role.push_str(", ");
        role.push_str(org);
    }
    match &check.signer_confirmed_by {
        Some(org) => role.push_str(&format!(", role confirmed by {org}")),
        None if check.signer_role.is_professional() => {
            role.push_str(", role not confirmed by an organisation")
        }
        None => {}
    }
    let mut lines = vec![format!(
        "Genuine: printed by {} ({role}), a member of this record, on {}.",
        check.signer_name,
        check.printed_at.format("%-d %b %Y at %H:%M UTC")
    )];
    if check.unchanged {
        lines.push("The record still shows what this printout shows.".into());
        return lines;
    }
    lines.push(format!(
        "The record has changed since it was printed: it showed {}, the record now shows {}.",
        super::count(check.entries_then, "entry", "entries"),
        super::count(check.entries_now, "entry", "entries"),
    ));
    if check.written_since.is_empty() {
        lines.push(
            "Nothing here was written after the printout: entries written before it reached this device later, or a detail (name, date of birth, NHS number, GP) was changed."
                .into(),
        );
    } else {
        lines.push("Written since it was printed:".into());
        lines.extend(check.written_since.iter().map(|line| format!("- {line}")));
    }
    lines
}
