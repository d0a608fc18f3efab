//! What screens and printouts show, as words: pure functions from the record's data. The
//! apps draw these; they do not compose their own (docs/architecture.md, "The apps draw; the core
//! decides").

use crate::growth::{Assessment, Correction, FalteringConcern, Measure, MidParentalHeight};
use crate::model::{
    Access, Author, ClosureReason, DetailField, EntryBody, EntryView, Member, Verification,
};

pub mod forms;
pub mod printout;
pub mod screens;
use crate::growth::GrowthSeries;
use crate::record::DetailConflict;
use crate::schedule::RiskFactorUse;
use chrono::NaiveDate;

/// z of the top line of the UK-WHO charts, the "99.6th" (at +4 centile spaces, 2.667;
/// its mirror is the 0.4th): `growth::CENTILE_LINES`.
const TOP_LINE_Z: f64 = crate::growth::CENTILE_LINES[8].0;

/// Who removed this device from a record and on what day, as it learned it.
pub struct Removal<'a> {
    pub by: &'a str,
    pub on: NaiveDate,
    /// The remover is a phone restored from the recovery kit in this one's place.
    pub replaced: bool,
}

/// What a device's relay sync says once it learns it was removed from a child's record:
/// who removed it and on what day, when its removal is known here ("Mum removed this
/// phone from Amara's record on 3 Mar 2026. ..."); a phone a restore replaced is told so.
pub fn removed_from_record(child: &str, removal: Option<Removal<'_>>) -> String {
    let record = match child.trim() {
        "" => "the child's record".to_string(),
        name => format!("{name}'s record"),
    };
    let what = match removal {
        Some(Removal {
            by,
            on,
            replaced: true,
        }) => format!(
            "{by}, restored from the recovery kit, replaced this phone in {record} on {}",
            screens::date_text(on)
        ),
        Some(Removal { by, on, .. }) => format!(
            "{by} removed this phone from {record} on {}",
            screens::date_text(on)
        ),
        None => format!("This phone was removed from {record} by someone who looks after it"),
    };
    format!(
        "{what}. It no longer sends or receives updates: what was written here after that was not shared, and everything stays readable here."
    )
}

/// What the person is told once an invitation they scanned was accepted: the child's
/// record, by name when its details came with it, is on this device now.
pub fn record_added(child: &str) -> String {
    match child.trim() {
        "" => "A child's record is on this phone now".to_string(),
        name => format!("{name}'s record is on this phone now"),
    }
}

/// What the person is told once an update file they opened was taken in: whether it
/// brought anything this device did not hold.
pub fn update_received(changed: bool) -> &'static str {
    if changed {
        "Update added to the record"
    } else {
        "Nothing new in that update: this phone already had all of it"
    }
}

/// The printable summary's heading, on a removed device, over what it wrote after its
/// removal (kept there, never sent: docs/threat-model.md, "Removal").
pub const WRITTEN_AFTER_REMOVAL: &str =
    "Written on this phone after it was removed: not shared with the family";

/// The name a recovery kit's identity is granted under (`RedBook::create_recovery_kit`).
pub const RECOVERY_KIT_NAME: &str = "Recovery kit";

/// The caption under a recovery kit's QR code, a short line each so it fits under the
/// code on paper: what it is, what it does, and that it is a key (docs/adr/0009-recovery.md).
pub const RECOVERY_KIT_CAPTION: [&str; 4] = [
    "redbook recovery kit",
    "Restores every child's record on a new phone.",
    "Keep it with the red book: anyone who has it",
    "can restore the records.",
];

/// How a member is named in the member list: a recovery kit's identity as "the recovery
/// kit"; a name two members share with the start of the device id, so that a list where
/// two phones kept the same name still tells them apart.
pub fn member_name(member: &Member, members: &[Member]) -> String {
    if member.stands_in_for.is_some() && member.display_name == RECOVERY_KIT_NAME {
        return "the recovery kit".into();
    }
    let shared = members
        .iter()
        .any(|m| m.device_id != member.device_id && m.display_name == member.display_name);
    if shared {
        let short = member.device_id.get(..6).unwrap_or(&member.device_id);
        format!("{} (device {short})", member.display_name)
    } else {
        member.display_name.clone()
    }
}

fn capitalised(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Who a member is, as a parent reads it: the role the granting admin gave, who granted
/// it and when, and whether an organisation confirms it (docs/threat-model.md, "Roles").
///
/// "Sam Patel, health visitor (X99TEST), confirmed by X99TEST; added by Mum on 3 Mar 2026"
/// "Jo, added by Mum as health visitor, not confirmed by an organisation"
/// "Mum's new phone, added by the recovery kit as parent on 5 Jun 2026, in place of Mum's
/// phone; can invite and remove"
pub fn member_standing(member: &Member, members: &[Member]) -> String {
    let name_of = |device: &str| {
        members
            .iter()
            .find(|m| m.device_id == device)
            .map_or("a device no longer listed".into(), |m| {
                member_name(m, members)
            })
    };
    let name = member_name(member, members);
    let is_kit = name == "the recovery kit";
    // A device's name as it gave it; only the kit's words start a sentence here.
    let name = if is_kit { capitalised(name) } else { name };
    let role = member.role.label();
    let org = member
        .organisation
        .as_deref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default();
    let on = member.added_at.format("%-d %b %Y");
    let mut text = if member.added_by == member.device_id {
        format!("{name}, {role}{org}, created this record on {on}")
    } else if is_kit {
        format!("{name}, added by {} on {on}", name_of(&member.added_by))
    } else if let Some(org) = &member.confirmed_by {
        format!(
            "{name}, {role} ({org}), confirmed by {org}; added by {} on {on}",
            name_of(&member.added_by)
        )
    } else if member.role.is_professional() {
        format!(
            "{name}, added by {} as {role}{org} on {on}, not confirmed by an organisation",
            name_of(&member.added_by)
        )
    } else {
        format!(
            "{name}, added by {} as {role} on {on}",
            name_of(&member.added_by)
        )
    };
    // A kit stands in for the phone that made it; a phone restored from the kit replaces it.
    if let Some(stood_for) = &member.stands_in_for {
        let stood_for = name_of(stood_for);
        if is_kit {
            text.push_str(&format!(", to restore {stood_for} if it is lost"));
        } else {
            text.push_str(&format!(", in place of {stood_for}"));
        }
    }
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
/// "Jo (health visitor, RQX, role not confirmed), verified";
/// "Mum's phone (was: This device) (parent), verified".
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
        // The importer's signature vouches only for bringing it in (hazard log H44).
        Verification::Verified if view.entry.source.is_some() => "not verified",
        Verification::Verified => "verified",
        Verification::Unverified => "not verified",
        Verification::Invalid => "SIGNATURE INVALID: not written by this author",
        Verification::NotPermitted => "WRITTEN WITHOUT THE RIGHT TO WRITE",
    };
    let name = author_with_earlier_name(view);
    match &view.entry.source {
        Some(source) => format!("{name} ({role}), {trust}; imported from {source}"),
        None => format!("{name} ({role}), {trust}"),
    }
}

/// The author's name now, with the name it wrote under when it has renamed itself since:
/// "Mum's phone (was: This device)".
pub fn author_with_earlier_name(view: &EntryView) -> String {
    match &view.author_name_then {
        Some(then) => format!("{} (was: {then})", view.entry.author.display_name),
        None => view.entry.author.display_name.clone(),
    }
}

/// A centile as a clinician reads it off the chart: beyond the outer lines the chart says
/// "above the 99.6th" or "below the 0.4th", never "centile 100.0".
pub fn centile_text(a: &Assessment) -> String {
    if a.z > TOP_LINE_Z {
        "above the 99.6th centile".into()
    } else if a.z < -TOP_LINE_Z {
        "below the 0.4th centile".into()
    } else {
        format!("centile {:.1}", a.centile)
    }
}

/// The age a centile was read at, as a clinician says it: before term, the corrected
/// gestational age ("34+3 weeks"); after, the corrected age in weeks or months.
pub fn age_text(a: &Assessment) -> String {
    let chronological = age_words(a.chronological_age_days);
    if !a.used_corrected_age || a.corrected_age_days == a.chronological_age_days {
        return format!("age {chronological}");
    }
    let corrected = if a.corrected_age_days < 0 {
        let gestation = 280 + a.corrected_age_days;
        format!(
            "corrected gestational age {}+{} weeks",
            gestation / 7,
            gestation % 7
        )
    } else {
        format!("corrected age {}", age_words(a.corrected_age_days))
    };
    format!("age {chronological}; {corrected}")
}

pub use crate::model::count;

fn age_words(days: i64) -> String {
    match days {
        d if d < 14 => count(d, "day", "days"),
        d if d < 7 * 13 => format!("{} weeks", d / 7),
        d if d < 2 * 365 => format!("{} months", d * 12 / 365),
        d => match (d % 365) * 12 / 365 {
            0 => count(d / 365, "year", "years"),
            months => format!(
                "{} {}",
                count(d / 365, "year", "years"),
                count(months, "month", "months")
            ),
        },
    }
}

/// How age was corrected for gestation, in words.
pub fn correction_text(correction: Correction) -> &'static str {
    match correction {
        Correction::RcpchDigital => "corrected for gestation at every age, as the RCPCH digital charts do",
        Correction::PaperChart => {
            "corrected for gestation to 1 year (32-36 weeks) or 2 years (under 32 weeks), as the paper charts do"
        }
    }
}

/// A detail two devices set apart, as a screen shows it. The address's values are not
/// shown (NHSX PCHR 2.1.1, safeguarding; hazard log H20): only that it needs settling.
pub fn conflict_text(conflict: &DetailConflict) -> String {
    let field = forms::field_label(conflict.field.key());
    if conflict.field == DetailField::Address {
        return format!("{field} was changed on two devices: set it again to settle it");
    }
    format!(
        "{field} was set to different values on two devices: {}; set it again to settle it",
        conflict_values(conflict)
    )
}

/// The values a conflict holds side by side: "\"A\" or \"B\"". Screens leave an address's
/// out (hazard log H20); a parent asks for them on their own device.
pub fn conflict_values(conflict: &DetailConflict) -> String {
    let values: Vec<String> = conflict.values.iter().map(|v| format!("\"{v}\"")).collect();
    values.join(" or ")
}

/// An entry in one line, as the timeline shows it; a withheld blood spot result says
/// when it will show and why; a closure whose author's role no organisation confirms says
/// that it waits.
pub fn entry_text(view: &EntryView) -> String {
    if let Some(waiting) = unconfirmed_closure_text(view) {
        return waiting;
    }
    match view.withheld_until {
        Some(until) => format!(
            "Blood spot sample taken: results show here from {}, so that your health visitor or midwife can go through them with you first",
            until.format("%-d %b %Y")
        ),
        None => view.entry.body.summary(),
    }
}

/// "Record closed by Dr Puppet (GP, A81001, not confirmed by an organisation): the child
/// died. It takes effect once an organisation confirms the role." A professional's
/// closure counts only from a confirmed role (docs/threat-model.md, "Roles").
fn unconfirmed_closure_text(view: &EntryView) -> Option<String> {
    let EntryBody::RecordClosed(closure) = &view.entry.body else {
        return None;
    };
    let author = &view.entry.author;
    let waits = view.verification == Verification::Verified
        && view.author_confirmed_by.is_none()
        && author.role.is_professional();
    waits.then(|| {
        format!(
            "Record closed by {} ({}, not confirmed by an organisation): {}. It takes effect once an organisation confirms the role",
            author.display_name,
            role_and_organisation(author),
            closure_reason(closure.reason)
        )
    })
}

fn closure_reason(reason: ClosureReason) -> &'static str {
    match reason {
        ClosureReason::Died => "the child died",
        ClosureReason::ParentalResponsibilityChanged => "parental responsibility changed",
        ClosureReason::CreatedInError => "it was created in error",
    }
}

fn role_and_organisation(author: &Author) -> String {
    match &author.organisation {
        Some(org) => format!("{}, {org}", author.role.label()),
        None => author.role.label().to_string(),
    }
}

/// What the due list says of a closure that waits for its author's role to be confirmed
/// (`record::waiting_closure`): what it would change, and that it has not yet.
pub fn closure_waiting(view: &EntryView) -> String {
    let author = &view.entry.author;
    let (on, why) = match &view.entry.body {
        EntryBody::RecordClosed(c) => (screens::date_text(c.date), closure_reason(c.reason)),
        _ => (String::new(), ""),
    };
    format!(
        "{} ({}) closed the record on {on} ({why}), but no organisation on this app's trust list has confirmed that role: once one does, the reminders stop and the record is read-only on parents' and carers' devices. Until then nothing changes",
        author.display_name,
        role_and_organisation(author),
    )
}

/// What a growth series says beyond its points, one sentence each, the same on every
/// screen and printout: NICE NG75 faltering signals, weight gain below a thrive line, a
/// baby weighed more often than the charts advise, growth per year, an assumed gestation.
pub fn growth_notes(series: &GrowthSeries) -> Vec<String> {
    growth_note_items(series)
        .into_iter()
        .map(|(_, text)| text)
        .collect()
}

/// What a growth note is, so a printout can set a concern apart from advice and facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrowthNoteKind {
    /// A reason to talk to a health visitor (NICE NG75, a thrive line).
    Concern,
    /// What the charts advise (how often to weigh): not a worry.
    Advice,
    /// Growth per year, an assumed gestation.
    Information,
}

/// `growth_notes`, each with its kind.
pub fn growth_note_items(series: &GrowthSeries) -> Vec<(GrowthNoteKind, String)> {
    let day = |d: NaiveDate| d.format("%-d %b %Y").to_string();
    let mut notes: Vec<(GrowthNoteKind, String)> = Vec::new();
    let concerns: Vec<String> = series
        .faltering
        .iter()
        .map(|concern| match concern {
            FalteringConcern::EarlyWeightLoss { percent, on } => format!(
                "Weight on {} was {percent:.1}% below birth weight (NICE NG75: assess at 10% or more): talk to your midwife or health visitor",
                day(*on)
            ),
            FalteringConcern::CentileFall { spaces, on, .. } => format!(
                "By {} weight had crossed {spaces:.1} centile spaces down since birth (NICE NG75 faltering growth): talk to your health visitor",
                day(*on)
            ),
        })
        .collect();
    notes.extend(concerns.into_iter().map(|c| (GrowthNoteKind::Concern, c)));
    if let Some(gain) = series.weight_gain.as_ref().filter(|g| g.below_thrive_line) {
        notes.push((GrowthNoteKind::Concern, format!(
            "Weight gain from {} to {} was slower than 95 in 100 babies' (below a thrive line): talk to your health visitor",
            day(gain.from),
            day(gain.on)
        )));
    }
    if let Some(often) = &series.weighed_often {
        notes.push((GrowthNoteKind::Advice, format!(
            "Weighing advice: at this age the growth charts advise weighing no more than {}, unless your health visitor asks, because weights taken close together vary from day to day (the last two were {} apart)",
            often.advised,
            count(often.days_since_previous, "day", "days"),
        )));
    }
    if let Some(v) = &series.velocity {
        let (what, unit, digits) = match series.measure {
            Measure::WeightKg => ("Weight", "kg", 2),
            Measure::HeightCm => ("Length or height", "cm", 1),
            Measure::HeadCircumferenceCm => ("Head circumference", "cm", 1),
            Measure::Bmi => ("BMI", "kg/m²", 1),
        };
        notes.push((
            GrowthNoteKind::Information,
            format!(
                "{what} from {} to {}: {:+.digits$} {unit} ({:+.digits$} {unit} a year)",
                day(v.from),
                day(v.on),
                v.change,
                v.per_year
            ),
        ));
    }
    if series.gestation_assumed {
        notes.push((
            GrowthNoteKind::Information,
            "No gestation on record: charted as born at 40 weeks".into(),
        ));
    }
    notes
}

/// The mid-parental height as the height chart's caption says it.
pub fn mid_parental_text(m: &MidParentalHeight) -> String {
    format!(
        "Mid-parental height {:.1} cm ({}); 9 in 10 children of these parents are {:.1} to {:.1} cm as adults",
        m.height_cm, m.description, m.lower_cm, m.upper_cm
    )
}

/// A risk factor entry beside the due list, and whether the list relies on it:
/// "mother has hepatitis B, 1 Mar 2026, Sam Patel (midwife): used for this list";
/// "ruled out: has had chickenpox, ... : not used (a later entry ... replaces it)".
pub fn risk_factor_line(risk: &RiskFactorUse) -> String {
    let what = if risk.present {
        risk.factor.label().to_string()
    } else {
        format!("ruled out: {}", risk.factor.label())
    };
    let used = match (&risk.why_not_used, risk.used) {
        (_, true) => "used for this list".to_string(),
        (Some(why), false) => format!("not used ({why})"),
        (None, false) => "not used".to_string(),
    };
    format!(
        "{what}, {}, {}: {used}",
        risk.date.format("%-d %b %Y"),
        risk.recorded_by
    )
}

/// How a dose counted as given reads: recorded by a professional, or reported by a family
/// member, which is not a documented dose (the Green Book's chapter "Vaccination of
/// individuals with uncertain or incomplete immunisation status"; docs/domain.md), so a
/// professional is asked to check it.
pub fn given_status(reported_by: Option<&str>) -> String {
    match reported_by {
        None => "given".into(),
        Some(who) => format!(
            "given, reported by {who}: a professional should check it against the GP record"
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_accepted_invitation_names_the_child_when_its_details_came_with_it() {
        assert_eq!(
            super::record_added(" Amara Okafor "),
            "Amara Okafor's record is on this phone now"
        );
        assert_eq!(
            super::record_added(""),
            "A child's record is on this phone now"
        );
    }

    #[test]
    fn an_update_says_whether_it_brought_anything() {
        assert_eq!(super::update_received(true), "Update added to the record");
        assert!(super::update_received(false).starts_with("Nothing new"));
    }

    #[test]
    fn a_count_names_one_thing_in_the_singular_and_any_other_number_in_the_plural() {
        assert_eq!(super::count(1, "day", "days"), "1 day");
        assert_eq!(super::count(0, "entry", "entries"), "0 entries");
        assert_eq!(super::count(33u32, "entry", "entries"), "33 entries");
    }

    use super::*;
    use crate::growth::{self, GrowthReferences, Measure, Observation, Sex};

    fn assess(gestation_days: u16, born: &str, on: &str, kg: f64) -> Assessment {
        growth::assess(
            GrowthReferences::embedded(),
            &Observation {
                sex: Sex::Female,
                birth_date: born.parse().unwrap(),
                gestation_days,
                date: on.parse().unwrap(),
                measure: Measure::WeightKg,
                value: kg,
            },
            Correction::RcpchDigital,
        )
        .unwrap()
    }

    #[test]
    fn centiles_beyond_the_outer_lines_read_as_the_chart_says() {
        let heavy = assess(280, "2026-01-01", "2026-04-01", 9.5);
        assert!(heavy.z > TOP_LINE_Z);
        assert_eq!(centile_text(&heavy), "above the 99.6th centile");
        let light = assess(280, "2026-01-01", "2026-04-01", 3.2);
        assert_eq!(centile_text(&light), "below the 0.4th centile");
        let middle = assess(280, "2026-01-01", "2026-04-01", 5.8);
        assert!(centile_text(&middle).starts_with("centile "));
    }

    #[test]
    fn a_preterm_baby_is_aged_as_a_clinician_says_it() {
        // Born at 30+0 weeks, 31 days ago: 34+3 weeks' corrected gestational age.
        let a = Assessment {
            used_corrected_age: true,
            chronological_age_days: 31,
            corrected_age_days: 31 - 70,
            ..assess(280, "2026-01-01", "2026-04-01", 5.8)
        };
        assert_eq!(
            age_text(&a),
            "age 4 weeks; corrected gestational age 34+3 weeks"
        );
        let later = Assessment {
            used_corrected_age: true,
            chronological_age_days: 200,
            corrected_age_days: 130,
            ..a
        };
        assert_eq!(age_text(&later), "age 6 months; corrected age 4 months");
        assert!(!correction_text(Correction::RcpchDigital).contains("Rcpch"));
    }
}
