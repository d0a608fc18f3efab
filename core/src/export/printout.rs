//! A printout's verification code (docs/adr/0013-printout-verification.md): a member
//! device signs a digest of what the printout shows, and any member device can check,
//! from the code on paper, who signed it, when, and whether the record still shows it.
//!
//! The code, as bytes (139), then as text `RBP1:` and base64url without padding:
//!
//! `version 1 | record id [16] | signer's device id [16] | printed at, Unix seconds
//! (i64, big-endian) [8] | entries shown (u16) [2] | content digest [32] | Ed25519
//! signature [64]` over `redbook/printout/v1` and every byte before it.

use crate::child::{ChildRecord, PrintoutCheck};
use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::model::{EntryId, EntryView, Member, RecordId, ValidationError};
use chrono::{DateTime, Utc};
use ring::digest;
use std::collections::HashSet;

const VERSION: u8 = 1;
pub const PREFIX: &str = "RBP1:";
const SIGNED_LEN: usize = 1 + 16 + 16 + 8 + 2 + 32;
pub const CODE_LEN: usize = SIGNED_LEN + 64;
const SIGNING_TAG: &[u8] = b"redbook/printout/v1";
const CONTENT_TAG: &[u8] = b"redbook/printout/v1/content";

/// The entries a printout shows: the timeline, less what this device wrote after its
/// removal (printed apart as not shared).
pub fn shown<'a>(record: &'a ChildRecord, not_shared: &HashSet<EntryId>) -> Vec<&'a EntryView> {
    record
        .timeline()
        .into_iter()
        .filter(|v| !not_shared.contains(&v.entry.id))
        .collect()
}

/// A digest of the details and entries a printout shows. Entry ids commit to their
/// values (docs/adr/0012), so the ids alone pin every entry's content.
pub fn content_digest(record: &ChildRecord, shown: &[&EntryView]) -> [u8; 32] {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(CONTENT_TAG);
    ctx.update(&record.id.to_bytes());
    let d = &record.details;
    let fields = [
        Some(d.name.clone()),
        d.birth_date.map(|b| b.to_string()),
        d.sex.map(|s| s.to_string()),
        d.gestation.map(|g| g.to_string()),
        d.nhs_number.clone(),
        d.gp_practice.clone(),
    ];
    for field in fields {
        // Length-prefixed, so no two lists of fields hash alike.
        let bytes = field.unwrap_or_default().into_bytes();
        ctx.update(&(bytes.len() as u32).to_be_bytes());
        ctx.update(&bytes);
    }
    let mut ids: Vec<&str> = shown.iter().map(|v| v.entry.id.as_str()).collect();
    ids.sort_unstable();
    ctx.update(&(ids.len() as u32).to_be_bytes());
    for id in ids {
        ctx.update(id.as_bytes());
    }
    ctx.finish()
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

/// The code for a printout of `record` showing `shown`, signed by this device.
pub fn code(
    record: &ChildRecord,
    shown: &[&EntryView],
    signer: &DeviceKeys,
    printed_at: DateTime<Utc>,
) -> String {
    let mut bytes = Vec::with_capacity(CODE_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(&record.id.to_bytes());
    let device = hex::decode(signer.public().device_id()).expect("device ids are hex");
    bytes.extend_from_slice(&device);
    bytes.extend_from_slice(&printed_at.timestamp().to_be_bytes());
    bytes.extend_from_slice(&(shown.len().min(u16::MAX as usize) as u16).to_be_bytes());
    bytes.extend_from_slice(&content_digest(record, shown));
    let signature = signer.sign(&signing_input(&bytes));
    bytes.extend_from_slice(&signature);
    format!("{PREFIX}{}", base64_url(&bytes))
}

fn signing_input(signed: &[u8]) -> Vec<u8> {
    let mut input = SIGNING_TAG.to_vec();
    input.extend_from_slice(signed);
    input
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A code's parts, read from its text; nothing checked but its framing.
struct Parsed {
    record: RecordId,
    device: String,
    printed_at: DateTime<Utc>,
    entries: u16,
    digest: [u8; 32],
    signed: Vec<u8>,
    signature: [u8; 64],
}

fn refused(reason: &str) -> crate::Error {
    ValidationError::new("printout code", reason).into()
}

fn parse(text: &str) -> Result<Parsed, crate::Error> {
    use base64::Engine;
    // A scanner may add spaces or line breaks; a person may type it in any case prefix.
    let text: String = text.split_whitespace().collect();
    let body = text
        .strip_prefix(PREFIX)
        .or_else(|| text.strip_prefix(&PREFIX.to_lowercase()))
        .ok_or_else(|| refused("is not a red book printout code (it starts RBP1:)"))?;
    let incomplete = || refused("is incomplete or damaged: scan it again, or type all of it");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| incomplete())?;
    if bytes.len() != CODE_LEN {
        return Err(incomplete());
    }
    if bytes[0] != VERSION {
        return Err(refused(
            "was made by a newer version of redbook: update the app to check it",
        ));
    }
    let record = RecordId::from_bytes(bytes[1..17].try_into().expect("checked length"));
    let device = hex::encode(&bytes[17..33]);
    let seconds = i64::from_be_bytes(bytes[33..41].try_into().expect("checked length"));
    let printed_at = DateTime::from_timestamp(seconds, 0)
        .ok_or_else(|| refused("is damaged: its date is impossible"))?;
    Ok(Parsed {
        record,
        device,
        printed_at,
        entries: u16::from_be_bytes(bytes[41..43].try_into().expect("checked length")),
        digest: bytes[43..75].try_into().expect("checked length"),
        signed: bytes[..SIGNED_LEN].to_vec(),
        signature: bytes[SIGNED_LEN..].try_into().expect("checked length"),
    })
}

/// Checks a code against the record as this device holds it. Refused, each in its own
/// words: text that is not a code, another record's code, a signer that is not a member
/// (or was removed), a signature that does not match, a date before the signer joined.
pub fn check(
    text: &str,
    record: &ChildRecord,
    members: &[Member],
    shown: &[&EntryView],
    now: DateTime<Utc>,
) -> Result<PrintoutCheck, crate::Error> {
    let code = parse(text)?;
    if code.record != record.id {
        return Err(refused("is for another child's record"));
    }
    let signer = members
        .iter()
        .find(|m| m.device_id == code.device)
        .ok_or_else(|| {
            refused("was not signed by a member of this record (as this device holds it: a sync may bring a newer member)")
        })?;
    if !DevicePublic::verify_with(
        &signer.keys.signing_key,
        &signing_input(&code.signed),
        &code.signature,
    ) {
        return Err(refused(
            "does not match its signature: it was changed or damaged",
        ));
    }
    if signer.removed.is_some() {
        return Err(refused(
            "was signed by a device since removed from this record: ask a member to print it again",
        ));
    }
    // A day's grace either way: the code keeps whole seconds, and devices' clocks differ.
    let grace = chrono::Duration::days(1);
    if code.printed_at + grace < signer.added_at || code.printed_at > now + grace {
        return Err(refused(
            "gives a time when its signer was not a member of this record",
        ));
    }
    let unchanged = content_digest(record, shown) == code.digest;
    let mut since: Vec<&EntryView> = record
        .entries
        .iter()
        // The code keeps whole seconds: what was written in the second it was printed
        // counts as before it.
        .filter(|v| v.entry.recorded_at.timestamp() > code.printed_at.timestamp())
        .collect();
    since.sort_by_key(|v| v.entry.recorded_at);
    Ok(PrintoutCheck {
        record: record.id.clone(),
        signer_device: signer.device_id.clone(),
        signer_name: crate::view::member_name(signer, members),
        signer_role: signer.role,
        signer_organisation: signer.organisation.clone(),
        signer_confirmed_by: signer.confirmed_by.clone(),
        printed_at: code.printed_at,
        entries_then: u32::from(code.entries),
        entries_now: shown.len() as u32,
        unchanged,
        written_since: since
            .into_iter()
            .map(|v| {
                format!(
                    "{}, {}: {}",
                    v.entry.recorded_at.format("%-d %b %Y"),
                    v.entry.author.display_name,
                    crate::view::entry_text(v)
                )
            })
            .collect(),
    })
}

/// The code as a QR code (SVG, black on white, sized for paper by the page).
pub fn qr_svg(code: &str) -> Option<String> {
    let qr =
        qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M).ok()?;
    Some(
        qr.render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .quiet_zone(true)
            .build(),
    )
}
