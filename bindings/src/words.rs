//! The core's sentences for what the apps show outside a screen model; each is one
//! `redbook_core::view` call.

use chrono::NaiveDate;
use redbook_core::model::{EntryBody, EntryView};
use redbook_core::record::DetailConflict;
use redbook_core::view::screens::SyncStatus;
use redbook_core::{GrowthSeries, PrintoutCheck, Restored};

/// One line describing an entry, the same in every app.
#[uniffi::export]
pub fn describe_entry(entry: EntryBody) -> String {
    entry.summary()
}

/// What a growth series says beyond its points, a sentence each (faltering, thrive line,
/// weighing too often, growth per year, an assumed gestation).
#[uniffi::export]
pub fn describe_growth(series: GrowthSeries) -> Vec<String> {
    redbook_core::view::growth_notes(&series)
}

/// A detail two devices set apart, in words (the address's values are never shown).
#[uniffi::export]
pub fn describe_conflict(conflict: DetailConflict) -> String {
    redbook_core::view::conflict_text(&conflict)
}

/// What an app says once an invitation was accepted: the child's record (by name, or
/// "A child's" when its details have not come yet) is on this device now.
#[uniffi::export]
pub fn record_added_text(child_name: String) -> String {
    redbook_core::view::record_added(&child_name)
}

/// What an app says once an update file was taken in: whether it brought anything new.
#[uniffi::export]
pub fn update_received_text(changed: bool) -> String {
    redbook_core::view::update_received(changed).to_string()
}

/// The caption under a recovery kit's QR code, a line each.
#[uniffi::export]
pub fn recovery_kit_caption() -> Vec<String> {
    redbook_core::view::RECOVERY_KIT_CAPTION
        .iter()
        .map(|line| line.to_string())
        .collect()
}

/// The clinical date an entry is about, for the timeline (none for birth details, a
/// contact or an error mark).
#[uniffi::export]
pub fn entry_date(entry: EntryBody) -> Option<NaiveDate> {
    entry.date()
}

/// An entry of the timeline in one line; a blood spot result still withheld from a
/// parent's device says when it will show.
#[uniffi::export]
pub fn describe_entry_view(view: EntryView) -> String {
    redbook_core::view::entry_text(&view)
}

/// What checking a printout's code found, a sentence a line (who printed it, when, and
/// whether the record has changed since).
#[uniffi::export]
pub fn describe_printout_check(check: PrintoutCheck) -> Vec<String> {
    redbook_core::view::printout::printout_check_lines(&check)
}

/// The caption beside a printout's QR code, a line each.
#[uniffi::export]
pub fn printout_code_caption() -> Vec<String> {
    redbook_core::view::printout::PRINTOUT_CODE_CAPTION
        .iter()
        .map(|line| line.to_string())
        .collect()
}

/// How the family's sync stands, in a sentence for the sync screen.
#[uniffi::export]
pub fn sync_status_text(status: SyncStatus) -> String {
    redbook_core::view::screens::sync_status_text(status)
}

/// What a restore from the recovery kit did, a sentence a line (its new words are shown
/// apart, with `recovery_kit_caption`).
#[uniffi::export]
pub fn describe_restore(restored: Restored) -> Vec<String> {
    redbook_core::view::screens::restore_lines(
        restored.records.len(),
        restored.removed.len(),
        restored.skipped.len(),
        restored.words.is_some(),
    )
}
