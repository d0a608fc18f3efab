//! Validation at the door: impossible values are refused with the field named; possible
//! but unusual ones are accepted and flagged for the app to show. Messages never echo
//! the value (it may be personal data).

use super::*;
use chrono::NaiveDate;
use serde::Serialize;

/// `field` names the input as the code does (`weight_kg`, for an app to find its form
/// field); the message names it as a person would (`field_label`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("invalid {}: {reason}", field_label(field))]
pub struct ValidationError {
    pub field: String,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &str, reason: &str) -> Self {
        Self {
            field: field.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A field's name in words: "weight_kg" is "weight", "nhs_number" "NHS number"; any
/// other loses its underscores.
pub fn field_label(field: &str) -> std::borrow::Cow<'_, str> {
    let label = match field {
        "weight_kg" => "weight",
        "birth_weight_kg" => "birth weight",
        "length_cm" => "length",
        "height_cm" => "height",
        "head_circumference_cm" => "head circumference",
        "mother_cm" => "mother's height",
        "father_cm" => "father's height",
        "nhs_number" => "NHS number",
        "gp_practice" => "GP practice",
        "birth_date" => "date of birth",
        "apgar_1_min" => "Apgar score at 1 minute",
        "apgar_5_min" => "Apgar score at 5 minutes",
        "asq3_scores" => "ASQ-3 scores",
        "noted_on" => "date noted",
        "given_by" => "given by",
        "text" => "note",
        other => return other.replace('_', " ").into(),
    };
    label.into()
}

/// An accepted value outside the usual range: the app shows it and asks to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub field: String,
    pub note: String,
    /// A professional should look at it: a value beyond the growth charts' limits for the
    /// child's age, or one its writer confirmed against the door's question.
    #[serde(default)]
    pub for_review: bool,
}

/// Ranges: `possible` bounds refuse, `usual` bounds flag. Deliberately wide: growth
/// centiles (core/src/growth) judge plausibility for age; this only catches typing slips.
struct Range {
    field: &'static str,
    unit: &'static str,
    possible: (f64, f64),
    usual: (f64, f64),
}

// A 22-week baby can weigh under 400 g; an adult-sized teenager over 150 kg.
const WEIGHT_KG: Range = Range {
    field: "weight_kg",
    unit: "kg",
    possible: (0.2, 250.0),
    usual: (0.4, 150.0),
};
const BIRTH_WEIGHT_KG: Range = Range {
    field: "birth_weight_kg",
    unit: "kg",
    possible: (0.2, 7.5),
    usual: (0.4, 6.0),
};
const LENGTH_CM: Range = Range {
    field: "length_cm",
    unit: "cm",
    possible: (20.0, 130.0),
    usual: (25.0, 110.0),
};
const HEIGHT_CM: Range = Range {
    field: "height_cm",
    unit: "cm",
    possible: (40.0, 230.0),
    usual: (60.0, 210.0),
};
const HEAD_CM: Range = Range {
    field: "head_circumference_cm",
    unit: "cm",
    possible: (15.0, 70.0),
    usual: (20.0, 62.0),
};
const BIRTH_LENGTH_CM: Range = Range {
    field: "length_cm",
    unit: "cm",
    possible: (20.0, 70.0),
    usual: (25.0, 60.0),
};
const BIRTH_HEAD_CM: Range = Range {
    field: "head_circumference_cm",
    unit: "cm",
    possible: (15.0, 45.0),
    usual: (20.0, 40.0),
};

// Adults: the growth engine refuses a parent beyond 8 SD; this catches typing slips.
const MOTHER_HEIGHT_CM: Range = Range {
    field: "mother_cm",
    unit: "cm",
    possible: (100.0, 250.0),
    usual: (135.0, 210.0),
};
const FATHER_HEIGHT_CM: Range = Range {
    field: "father_cm",
    ..MOTHER_HEIGHT_CM
};

/// 22+0 to 44+6 weeks: outside this, a gestation is a typing error.
pub const GESTATION_DAYS: (u16, u16) = (22 * 7, 44 * 7 + 6);
/// Antenatal reviews happen before birth; nothing else may.
const ANTENATAL_DAYS_BEFORE_BIRTH: i64 = 300;
const MAX_TEXT_CHARS: usize = 20_000;
const EARLIEST_BIRTH_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1990, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

impl Range {
    fn check(&self, value: Option<f64>, flags: &mut Vec<Flag>) -> Result<(), ValidationError> {
        let Some(v) = value else { return Ok(()) };
        if !v.is_finite() || v < self.possible.0 || v > self.possible.1 {
            return Err(ValidationError {
                field: self.field.to_string(),
                reason: format!(
                    "must be between {} and {} {}",
                    self.possible.0, self.possible.1, self.unit
                ),
            });
        }
        if v < self.usual.0 || v > self.usual.1 {
            flags.push(Flag {
                for_review: false,
                field: self.field.to_string(),
                note: format!(
                    "{} outside the usual {}-{} {}: please check the measurement",
                    field_label(self.field),
                    self.usual.0,
                    self.usual.1,
                    self.unit
                ),
            });
        }
        Ok(())
    }
}

/// The NHS number's modulus 11 check digit (NHS Data Dictionary, "NHS Number").
/// Accepts spaces or dashes between digit groups; returns the 10 digits.
pub fn normalise_nhs_number(input: &str) -> Result<String, ValidationError> {
    let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let invalid = |reason| ValidationError::new("nhs_number", reason);
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("must be 10 digits"));
    }
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = d[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(digit, weight)| digit * weight)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return Err(invalid("is not a valid NHS number (check digit)")),
        c => c,
    };
    if check != d[9] {
        return Err(invalid("is not a valid NHS number (check digit)"));
    }
    Ok(digits)
}

/// Characters that change how text around them is shown rather than being shown: the
/// bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069; a
/// right-to-left override makes "gpj.exe" read "exe.jpg"), as Unicode TR9 lists them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Refuses C0 and C1 control characters (escape sequences, a terminal's window-title
/// codes) and bidi controls, anywhere text is stored, so nothing received can drive a
/// terminal or reorder what a screen shows (docs/threat-model.md, "Text"). Free text may
/// hold line breaks and tabs; a line (a name) may not.
fn check_characters(field: &str, text: &str, free_text: bool) -> Result<(), ValidationError> {
    let allowed = |c: char| free_text && matches!(c, '\n' | '\r' | '\t');
    if text
        .chars()
        .any(|c| (c.is_control() && !allowed(c)) || is_bidi_control(c))
    {
        return Err(ValidationError::new(
            field,
            "holds a control character (only letters, digits, punctuation, spaces and line breaks)",
        ));
    }
    Ok(())
}

/// A name, device name or other one-line text.
pub fn check_line(field: &str, text: &str) -> Result<(), ValidationError> {
    check_characters(field, text, false)
}

fn check_text(field: &str, text: &str, required: bool) -> Result<(), ValidationError> {
    if required && text.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ValidationError::new(field, "is too long"));
    }
    check_characters(field, text, true)
}

fn check_optional_text(field: &str, text: &Option<String>) -> Result<(), ValidationError> {
    text.as_deref()
        .map_or(Ok(()), |t| check_text(field, t, false))
}

fn check_date(
    field: &str,
    date: NaiveDate,
    birth_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), ValidationError> {
    if date > today {
        return Err(ValidationError::new(field, "is in the future"));
    }
    if let Some(birth) = birth_date {
        if date < birth {
            return Err(ValidationError::new(field, "is before the date of birth"));
        }
    }
    Ok(())
}

fn check_gestation(gestation: Option<Gestation>) -> Result<(), ValidationError> {
    match gestation {
        Some(g) if g.total_days < GESTATION_DAYS.0 || g.total_days > GESTATION_DAYS.1 => Err(
            ValidationError::new("gestation", "must be between 22+0 and 44+6 weeks"),
        ),
        _ => Ok(()),
    }
}

/// Checks the child's details; returns the normalised details.
pub fn validate_details(
    details: &ChildDetails,
    today: NaiveDate,
) -> Result<ChildDetails, ValidationError> {
    check_text("name", &details.name, true)?;
    check_line("name", &details.name)?;
    if let Some(birth) = details.birth_date {
        if birth > today {
            return Err(ValidationError::new("birth_date", "is in the future"));
        }
        if birth < EARLIEST_BIRTH_DATE {
            return Err(ValidationError::new("birth_date", "is too far in the past"));
        }
    }
    check_gestation(details.gestation)?;
    check_optional_text("address", &details.address)?;
    check_optional_text("gp_practice", &details.gp_practice)?;
    let mut normalised = details.clone();
    normalised.name = details.name.trim().to_string();
    for text in [&mut normalised.address, &mut normalised.gp_practice] {
        if text.as_deref().is_some_and(|t| t.trim().is_empty()) {
            *text = None;
        }
    }
    if let Some(nhs) = &details.nhs_number {
        normalised.nhs_number = Some(normalise_nhs_number(nhs)?);
    }
    Ok(normalised)
}

/// One detail field's stored text as another device wrote it, checked as
/// `validate_details` checks it at the door, with the day the edit was made as "today":
/// it must be valid and already in normal form (so the value shown is the value signed).
pub fn validate_detail_text(
    field: DetailField,
    text: Option<&str>,
    today: NaiveDate,
) -> Result<(), ValidationError> {
    let Some(text) = text else {
        return match field {
            DetailField::Name => Err(ValidationError::new("name", "must not be empty")),
            _ => Ok(()),
        };
    };
    let mut details = ChildDetails {
        name: "-".into(),
        ..Default::default()
    };
    details.set_field_text(field, Some(text));
    let normalised = validate_details(&details, today)?;
    if normalised.field_text(field).as_deref() != Some(text) {
        return Err(ValidationError::new(
            field.key(),
            "is not in the expected form",
        ));
    }
    Ok(())
}

/// An optional text left empty means "not given": stored as absent, so that every
/// export (FHIR strings may not be empty) reads back byte-for-byte the same entry.
pub fn normalise_entry(mut body: EntryBody) -> EntryBody {
    fn clear(text: &mut Option<String>) {
        if text.as_deref().is_some_and(|t| t.is_empty()) {
            *text = None;
        }
    }
    match &mut body {
        EntryBody::BirthDetails(b) => clear(&mut b.place_of_birth),
        EntryBody::Immunisation(i) => {
            for text in [
                &mut i.product,
                &mut i.batch,
                &mut i.site,
                &mut i.route,
                &mut i.given_by,
            ] {
                clear(text);
            }
        }
        EntryBody::Review(r) => clear(&mut r.advice),
        EntryBody::HealthEvent(h) => {
            clear(&mut h.place);
            clear(&mut h.outcome);
        }
        EntryBody::Medicine(m) => {
            clear(&mut m.dose);
            clear(&mut m.reason);
        }
        EntryBody::Allergy(a) => clear(&mut a.reaction),
        EntryBody::Contact(c) => clear(&mut c.phone),
        EntryBody::Measurement(_)
        | EntryBody::NewbornScreening(_)
        | EntryBody::Note(_)
        | EntryBody::RiskFactor(_)
        | EntryBody::RecordClosed(_)
        | EntryBody::ParentalHeights(_)
        | EntryBody::EnteredInError { .. } => {}
    }
    body
}

/// Checks an entry against the child's date of birth and today's date.
pub fn validate_entry(
    body: &EntryBody,
    birth_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Vec<Flag>, ValidationError> {
    let mut flags = Vec::new();
    let date = |field: &str, d: NaiveDate| check_date(field, d, birth_date, today);
    match body {
        EntryBody::BirthDetails(b) => {
            check_gestation(b.gestation)?;
            BIRTH_WEIGHT_KG.check(b.birth_weight_kg, &mut flags)?;
            BIRTH_HEAD_CM.check(b.head_circumference_cm, &mut flags)?;
            BIRTH_LENGTH_CM.check(b.length_cm, &mut flags)?;
            check_optional_text("place_of_birth", &b.place_of_birth)?;
            for (field, score) in [
                ("apgar_1_min", b.apgar_1_min),
                ("apgar_5_min", b.apgar_5_min),
            ] {
                if score.is_some_and(|s| s > 10) {
                    return Err(ValidationError::new(field, "must be between 0 and 10"));
                }
            }
        }
        EntryBody::Measurement(m) => {
            date("date", m.date)?;
            if m.weight_kg.is_none()
                && m.length_cm.is_none()
                && m.height_cm.is_none()
                && m.head_circumference_cm.is_none()
            {
                return Err(ValidationError::new(
                    "measurement",
                    "give at least one measure",
                ));
            }
            if m.length_cm.is_some() && m.height_cm.is_some() {
                return Err(ValidationError::new(
                    "height_cm",
                    "give lying length or standing height, not both",
                ));
            }
            WEIGHT_KG.check(m.weight_kg, &mut flags)?;
            LENGTH_CM.check(m.length_cm, &mut flags)?;
            HEIGHT_CM.check(m.height_cm, &mut flags)?;
            HEAD_CM.check(m.head_circumference_cm, &mut flags)?;
        }
        EntryBody::Immunisation(i) => {
            date("date", i.date)?;
            check_text("vaccine", &i.vaccine, true)?;
            if !(1..=10).contains(&i.dose) {
                return Err(ValidationError::new("dose", "must be between 1 and 10"));
            }
            for (field, text) in [
                ("product", &i.product),
                ("batch", &i.batch),
                ("site", &i.site),
                ("route", &i.route),
                ("given_by", &i.given_by),
            ] {
                check_optional_text(field, text)?;
            }
        }
        EntryBody::NewbornScreening(s) => {
            date("date", s.date())?;
            if let NewbornScreening::BloodSpot { results, .. } = s {
                if results.is_empty() {
                    return Err(ValidationError::new(
                        "results",
                        "give at least one condition",
                    ));
                }
            }
        }
        EntryBody::Review(r) => {
            let earliest = birth_date
                .filter(|_| r.kind == ReviewKind::Antenatal)
                .map(|b| b - chrono::Duration::days(ANTENATAL_DAYS_BEFORE_BIRTH));
            check_date("date", r.date, earliest.or(birth_date), today)?;
            check_text("outcome", &r.outcome, false)?;
            check_optional_text("advice", &r.advice)?;
            if r.asq3_scores.iter().any(|s| s.score > 60) {
                return Err(ValidationError::new(
                    "asq3_scores",
                    "each domain scores 0 to 60",
                ));
            }
        }
        EntryBody::HealthEvent(h) => {
            date("date", h.date)?;
            check_text("description", &h.description, true)?;
            check_optional_text("place", &h.place)?;
            check_optional_text("outcome", &h.outcome)?;
        }
        EntryBody::Medicine(m) => {
            check_text("name", &m.name, true)?;
            date("started", m.started)?;
            if let Some(stopped) = m.stopped {
                date("stopped", stopped)?;
                if stopped < m.started {
                    return Err(ValidationError::new("stopped", "is before the start date"));
                }
            }
            check_optional_text("dose", &m.dose)?;
            check_optional_text("reason", &m.reason)?;
        }
        EntryBody::Allergy(a) => {
            check_text("substance", &a.substance, true)?;
            check_optional_text("reaction", &a.reaction)?;
            if let Some(noted) = a.noted_on {
                date("noted_on", noted)?;
            }
        }
        EntryBody::Contact(c) => {
            check_text("name", &c.name, true)?;
            if let Some(phone) = &c.phone {
                let ok = phone.chars().filter(char::is_ascii_digit).count() >= 3
                    && phone
                        .chars()
                        .all(|ch| ch.is_ascii_digit() || " +()-".contains(ch));
                if !ok {
                    return Err(ValidationError::new("phone", "is not a phone number"));
                }
            }
        }
        EntryBody::Note(n) => {
            date("date", n.date)?;
            check_text("text", &n.text, true)?;
        }
        EntryBody::RiskFactor(r) => {
            // A mother's hepatitis B status comes from antenatal screening.
            let earliest = birth_date
                .filter(|_| r.factor == RiskFactorKind::MaternalHepatitisB)
                .map(|b| b - chrono::Duration::days(ANTENATAL_DAYS_BEFORE_BIRTH));
            check_date("date", r.date, earliest.or(birth_date), today)?;
        }
        EntryBody::RecordClosed(c) => date("date", c.date)?,
        EntryBody::ParentalHeights(h) => {
            // Dated from the child's birth, like every entry; a parent measured before it
            // is written with the day it was recorded.
            date("date", h.date)?;
            if h.mother_cm.is_none() && h.father_cm.is_none() {
                return Err(ValidationError::new(
                    "mother_cm",
                    "give the mother's height, the father's or both",
                ));
            }
            MOTHER_HEIGHT_CM.check(h.mother_cm, &mut flags)?;
            FATHER_HEIGHT_CM.check(h.father_cm, &mut flags)?;
        }
        EntryBody::EnteredInError { reason, .. } => check_text("reason", reason, true)?,
    }
    Ok(flags)
}

/// The flags an entry carries, whenever it is read (its dates were checked on writing).
pub fn flags_of(body: &EntryBody) -> Vec<Flag> {
    validate_entry(body, None, NaiveDate::MAX).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn weight(kg: f64, on: &str) -> EntryBody {
        EntryBody::Measurement(Measurement {
            date: d(on),
            weight_kg: Some(kg),
            length_cm: None,
            height_cm: None,
            head_circumference_cm: None,
            measured_by: MeasuredBy::Professional,
        })
    }

    #[test]
    fn nhs_number_check_digit() {
        assert_eq!(normalise_nhs_number("943 476 5919").unwrap(), "9434765919");
        assert_eq!(normalise_nhs_number("401-023-2137").unwrap(), "4010232137");
        assert_eq!(
            normalise_nhs_number("9434765918").unwrap_err().field,
            "nhs_number"
        );
        assert!(normalise_nhs_number("94347659").is_err());
        assert!(normalise_nhs_number("943476591X").is_err());
    }

    #[test]
    fn impossible_weights_are_refused_with_the_field_named() {
        let birth = Some(d("2026-01-01"));
        let today = d("2026-06-01");
        for kg in [0.0, -1.0, 900.0, f64::NAN, f64::INFINITY] {
            let err = validate_entry(&weight(kg, "2026-03-01"), birth, today).unwrap_err();
            assert_eq!(err.field, "weight_kg");
        }
        assert!(validate_entry(&weight(5.1, "2026-03-01"), birth, today)
            .unwrap()
            .is_empty());
        let flags = validate_entry(&weight(0.3, "2026-03-01"), birth, today).unwrap();
        assert_eq!(flags[0].field, "weight_kg");
    }

    #[test]
    fn parents_heights_and_risk_factors_are_checked_at_the_door() {
        let birth = Some(d("2026-01-01"));
        let today = d("2026-06-01");
        let heights = |mother, father| {
            EntryBody::ParentalHeights(ParentalHeights {
                date: d("2026-03-01"),
                mother_cm: mother,
                father_cm: father,
                measured_by: MeasuredBy::Parent,
            })
        };
        let field = |body| validate_entry(&body, birth, today).unwrap_err().field;
        assert_eq!(field(heights(None, None)), "mother_cm");
        assert_eq!(field(heights(Some(16.5), None)), "mother_cm");
        assert_eq!(field(heights(Some(165.0), Some(f64::NAN))), "father_cm");
        let flags = validate_entry(&heights(Some(130.0), Some(180.0)), birth, today).unwrap();
        assert_eq!(flags[0].field, "mother_cm");
        // A mother's hepatitis B status comes from pregnancy; other risk factors do not.
        let risk = |date: &str, factor| {
            EntryBody::RiskFactor(RiskFactor {
                date: d(date),
                factor,
                present: true,
            })
        };
        assert!(validate_entry(
            &risk("2025-09-01", RiskFactorKind::MaternalHepatitisB),
            birth,
            today
        )
        .is_ok());
        assert_eq!(field(risk("2025-09-01", RiskFactorKind::Diabetes)), "date");
        assert_eq!(
            field(risk("2026-07-01", RiskFactorKind::Chickenpox)),
            "date"
        );
    }

    #[test]
    fn dates_before_birth_or_in_the_future_are_refused() {
        let birth = Some(d("2026-01-01"));
        let today = d("2026-06-01");
        let err = validate_entry(&weight(4.0, "2025-12-31"), birth, today).unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.reason.as_str()),
            ("date", "is before the date of birth")
        );
        let err = validate_entry(&weight(4.0, "2026-06-02"), birth, today).unwrap_err();
        assert_eq!(err.reason, "is in the future");
    }

    #[test]
    fn gestation_must_be_22_to_44_weeks() {
        let today = d("2026-06-01");
        let mut details = ChildDetails {
            name: "A".into(),
            ..Default::default()
        };
        for (g, ok) in [
            ("21+6", false),
            ("22+0", true),
            ("44+6", true),
            ("45+0", false),
        ] {
            details.gestation = Some(g.parse().unwrap());
            assert_eq!(validate_details(&details, today).is_ok(), ok, "{g}");
        }
        assert!("39+7".parse::<Gestation>().is_err());
        assert_eq!("39+4".parse::<Gestation>().unwrap().to_string(), "39+4");
    }

    #[test]
    fn control_characters_and_bidi_overrides_are_refused_line_breaks_kept_in_free_text() {
        let today = d("2026-06-01");
        let note = |text: &str| {
            validate_entry(
                &EntryBody::Note(Note {
                    date: d("2026-05-01"),
                    kind: NoteKind::Observation,
                    text: text.into(),
                }),
                None,
                today,
            )
        };
        assert!(note("fed well\nslept 4 hours\tthen woke").is_ok());
        for hostile in [
            "\u{1b}[2J cleared",
            "\u{1b}]0;window title\u{7}",
            "bell\u{7}",
            "nul\u{0}",
            "c1\u{9b}31m",
            "\u{202e}gpj.exe",
            "isolate\u{2067}x\u{2069}",
        ] {
            let error = note(hostile).unwrap_err();
            assert_eq!(error.field, "text");
            assert!(!error.to_string().contains(hostile));
        }
        let details = |name: &str| ChildDetails {
            name: name.into(),
            birth_date: Some(d("2026-01-01")),
            ..Default::default()
        };
        assert!(validate_details(&details("Amara Okoye"), today).is_ok());
        assert!(validate_details(&details("Amara\nOkoye"), today).is_err());
        assert!(validate_details(&details("\u{202e}Amara"), today).is_err());
        assert!(check_line("display_name", "Mum's phone").is_ok());
        assert!(check_line("display_name", "Mum\u{1b}[31m").is_err());
    }

    #[test]
    fn errors_never_echo_the_value() {
        let today = d("2026-06-01");
        let details = ChildDetails {
            name: "Ada".into(),
            nhs_number: Some("1234567890".into()),
            ..Default::default()
        };
        let err = validate_details(&details, today).unwrap_err();
        assert!(!err.to_string().contains("1234567890"));
    }
}
