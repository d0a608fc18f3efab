//! The code systems, identifier systems and observation codes the FHIR export and
//! import share: standard ones (LOINC, SNOMED CT, UCUM, NHS), this project's own where
//! no standard code exists (docs/domain.md, "What the record holds").

use super::vaccines;
use crate::export::REDBOOK_FHIR_BASE;

pub const LOINC: &str = "http://loinc.org";
pub const SNOMED: &str = "http://snomed.info/sct";
pub const UCUM: &str = "http://unitsofmeasure.org";
/// NHS England's identifier systems (fhir.nhs.uk, UK Core).
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const ODS_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
pub(crate) const OBSERVATION_CATEGORY: &str =
    "http://terminology.hl7.org/CodeSystem/observation-category";
pub(crate) const DATA_OPERATION: &str = "http://terminology.hl7.org/CodeSystem/v3-DataOperation";
pub(crate) const PARTICIPATION_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
pub(crate) const PROVENANCE_AGENT_TYPE: &str =
    "http://terminology.hl7.org/CodeSystem/provenance-participant-type";
pub(crate) const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
pub(crate) const ROLE_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-RoleCode";
pub(crate) const PERFORMER_FUNCTION: &str = "http://terminology.hl7.org/CodeSystem/v2-0443";
pub(crate) const DATA_ABSENT_REASON: &str =
    "http://terminology.hl7.org/CodeSystem/data-absent-reason";
pub(crate) const CONDITION_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/condition-ver-status";
pub(crate) const ALLERGY_CLINICAL: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical";
pub(crate) const ALLERGY_VERIFICATION: &str =
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification";
/// ASTM E1762-95 signature types, the system FHIR R4's Signature.type binds to.
pub(crate) const SIGNATURE_TYPE: &str = "urn:iso-astm:E1762-95:2013";

/// UK Core 2.0.0 (third_party/uk-core): its canonical base, profiles, extensions and
/// code systems, e.g. `uk_core("StructureDefinition/UKCore-Patient")`.
pub const UK_CORE_BASE: &str = "https://fhir.hl7.org.uk";

pub fn uk_core(path: &str) -> String {
    format!("{UK_CORE_BASE}/{path}")
}

/// A UK Core profile by its name after `UKCore-`, e.g. `uk_core_profile("Patient")`.
pub fn uk_core_profile(name: &str) -> String {
    uk_core(&format!("StructureDefinition/UKCore-{name}"))
}

/// UK Core's NHS number verification status: redbook never traces a number against the
/// Personal Demographics Service, so a number in the record is "present but not traced"
/// (CodeSystem UKCore-NHSNumberVerificationStatusEngland, code 02).
pub const NHS_NUMBER_NOT_TRACED: (&str, &str) = ("02", "Number present but not traced");

/// The SDS job role (CodeSystem UKCore-SDSJobRoleName) a professional's role maps to.
/// A health visitor is a specialist community public health nurse: SDS has no "Health
/// Visitor" role outside students, and R0690 "Community Practitioner" is the role the
/// NHS job-role list gives them. A nurse giving immunisations in a practice or clinic has
/// no practice-nurse role in SDS; R0620 "Staff Nurse" is the nearest. docs/adr/0011-uk-core.md.
pub fn sds_job_role(role: crate::model::Role) -> Option<(&'static str, &'static str)> {
    use crate::model::Role;
    match role {
        Role::Gp => Some(("R0260", "General Medical Practitioner")),
        Role::Midwife => Some(("R0680", "Midwife")),
        Role::HealthVisitor => Some(("R0690", "Community Practitioner")),
        Role::Nurse => Some(("R0620", "Staff Nurse")),
        Role::Parent | Role::Carer => None,
    }
}

/// LOINC's own names for the codes the vital-signs profiles fix, where one code stands for
/// several of our parts (birth weight is coded as body weight, and so on).
pub fn loinc_display(code: &str) -> Option<&'static str> {
    Some(match code {
        "29463-7" => "Body weight",
        "8302-2" => "Body height",
        "9843-4" => "Head Occipital-frontal circumference",
        "39156-5" => "Body mass index (BMI) [Ratio]",
        _ => return None,
    })
}

/// UCUM units as UK Core's vital-signs profiles fix their `unit` text.
pub fn unit_name(code: &str) -> &str {
    match code {
        "kg" => "kilogram",
        "cm" => "centimeter",
        "d" => "day",
        "kg/m2" => "kilogram per square meter",
        other => other,
    }
}

/// The SNOMED CT concepts for a centile and an SDS (z score) of one measure, as the RCPCH
/// digital growth charts documentation lists them (docs/domain.md, UK edition 42.1.0):
/// (observation part, centile, SDS).
pub const CENTILE_CODES: &[(&str, vaccines::Concept, vaccines::Concept)] = &[
    (
        "weight",
        ("1153592008", "Weight for age percentile"),
        ("1153593003", "Weight for age z-score"),
    ),
    (
        "length",
        ("1153591001", "Length for age percentile"),
        ("1153590000", "Length for age z-score"),
    ),
    (
        "height",
        ("1153605006", "Body height for age percentile"),
        ("1153604005", "Body height for age z-score"),
    ),
    (
        "head",
        ("1153595005", "Head circumference for age percentile"),
        ("1153594009", "Head circumference for age z-score"),
    ),
    (
        "bmi",
        ("1153602009", "Body mass index for age percentile"),
        ("1153596006", "Body mass index for age z-score"),
    ),
];

/// This project's code system for one concept, e.g. `code_system("delivery-mode")`.
pub fn code_system(concept: &str) -> String {
    format!("{REDBOOK_FHIR_BASE}/CodeSystem/{concept}")
}

pub fn extension_url(name: &str) -> String {
    format!("{REDBOOK_FHIR_BASE}/StructureDefinition/{name}")
}

pub(crate) fn entry_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/entry")
}
pub(crate) fn record_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/record")
}
pub(crate) fn device_id_system() -> String {
    format!("{REDBOOK_FHIR_BASE}/Id/device")
}

/// One kind of Observation this export writes: its part name (this project's code), and
/// the standard codes. Sources: LOINC (loinc.org) and SNOMED CT UK edition; codes
/// docs/domain.md lists come from NHS Digital Child Health (STU3) events CH005/CH018.
pub struct ObservationKind {
    pub part: &'static str,
    pub display: &'static str,
    pub loinc: Option<&'static str>,
    pub snomed: Option<&'static str>,
    pub category: &'static str,
    /// UCUM unit of the value, for quantities.
    pub unit: Option<&'static str>,
    /// The UK Core vital-signs profile the Observation meets (its LOINC code is the one
    /// that profile fixes), else None: UKCore-Observation.
    pub vital_signs: Option<&'static str>,
}

pub const OBSERVATION_KINDS: &[ObservationKind] = &[
    // UK Core's vital-signs profiles fix one LOINC code per measure (BodyWeight 29463-7,
    // BodyHeight 8302-2, HeadCircumference 9843-4) and take the SNOMED CT concept that says
    // which (UKCore-BodyWeightMeasurements etc.): lying length and the birth measures are
    // told apart by SNOMED CT, and by this project's code on import.
    // SNOMED 27113001 "Body weight" (docs/domain.md, CH018).
    vital(
        "weight",
        "Body weight",
        "Observation-VitalSigns-BodyWeight",
        "29463-7",
        "27113001",
        "kg",
    ),
    // SNOMED 1149101003 "Recumbent body height" (in UKCore-BodyHeightMeasurements; LOINC's
    // own is 8306-3).
    vital(
        "length",
        "Body length (lying)",
        "Observation-VitalSigns-BodyHeight",
        "8302-2",
        "1149101003",
        "cm",
    ),
    // SNOMED 50373000 "Body height measure".
    vital(
        "height",
        "Body height",
        "Observation-VitalSigns-BodyHeight",
        "8302-2",
        "50373000",
        "cm",
    ),
    // SNOMED 363812007 "Head circumference" (docs/domain.md, CH018).
    vital(
        "head",
        "Head circumference",
        "Observation-VitalSigns-HeadCircumference",
        "9843-4",
        "363812007",
        "cm",
    ),
    // SNOMED 364589006 "Birth weight" (docs/domain.md, CH005; LOINC's own is 8339-4).
    vital(
        "birth-weight",
        "Birth weight",
        "Observation-VitalSigns-BodyWeight",
        "29463-7",
        "364589006",
        "kg",
    ),
    // SNOMED 169886007 "Birth length" (LOINC's own is 89269-5): more exact than any concept
    // in UKCore-BodyHeightMeasurements, a preferred binding.
    vital(
        "birth-length",
        "Birth length",
        "Observation-VitalSigns-BodyHeight",
        "8302-2",
        "169886007",
        "cm",
    ),
    // SNOMED 169876006 "Birth head circumference" (docs/domain.md, CH005; LOINC's own is
    // 8290-9).
    vital(
        "birth-head",
        "Head circumference at birth",
        "Observation-VitalSigns-HeadCircumference",
        "9843-4",
        "169876006",
        "cm",
    ),
    // Body mass index, computed from a measurement's weight and length or height where the
    // growth engine charts it (from 2 years). SNOMED 60621009 "Body mass index".
    vital(
        "bmi",
        "Body mass index",
        "Observation-VitalSigns-BMI",
        "39156-5",
        "60621009",
        "kg/m2",
    ),
    // LOINC 76516-4 "Gestational age--at birth"; SNOMED 412726003 "Length of gestation
    // at birth". In days, so 39+4 stays exact.
    obs(
        "gestation",
        "Gestation at birth",
        Some("76516-4"),
        Some("412726003"),
        "exam",
        Some("d"),
    ),
    // LOINC 9272-6 "1 minute Apgar Score", 9274-2 "5 minute Apgar Score".
    obs(
        "apgar-1",
        "Apgar score at 1 minute",
        Some("9272-6"),
        None,
        "exam",
        None,
    ),
    obs(
        "apgar-5",
        "Apgar score at 5 minutes",
        Some("9274-2"),
        None,
        "exam",
        None,
    ),
    obs("delivery", "Delivery", None, None, "exam", None),
    obs(
        "nipe",
        "Newborn and infant physical examination (NIPE)",
        None,
        None,
        "exam",
        None,
    ),
    obs(
        "newborn-hearing",
        "Newborn hearing screening",
        None,
        None,
        "exam",
        None,
    ),
    obs(
        "blood-spot",
        "Newborn blood spot screening",
        None,
        None,
        "laboratory",
        None,
    ),
    obs(
        "review-outcome",
        "Health and development review outcome",
        None,
        None,
        "survey",
        None,
    ),
    obs("note", "Note", None, None, "social-history", None),
    obs(
        "risk-factor",
        "Risk factor",
        None,
        None,
        "social-history",
        None,
    ),
    // Family history of height: each parent's, for the mid-parental height.
    obs(
        "mother-height",
        "Mother's height",
        None,
        None,
        "social-history",
        Some("cm"),
    ),
    obs(
        "father-height",
        "Father's height",
        None,
        None,
        "social-history",
        Some("cm"),
    ),
    obs(
        "record-closed",
        "Record closed",
        None,
        None,
        "social-history",
        None,
    ),
];

pub(crate) const fn obs(
    part: &'static str,
    display: &'static str,
    loinc: Option<&'static str>,
    snomed: Option<&'static str>,
    category: &'static str,
    unit: Option<&'static str>,
) -> ObservationKind {
    ObservationKind {
        part,
        display,
        loinc,
        snomed,
        category,
        unit,
        vital_signs: None,
    }
}

/// A vital sign UK Core profiles: its LOINC is the one the profile fixes.
const fn vital(
    part: &'static str,
    display: &'static str,
    profile: &'static str,
    loinc: &'static str,
    snomed: &'static str,
    unit: &'static str,
) -> ObservationKind {
    ObservationKind {
        part,
        display,
        loinc: Some(loinc),
        snomed: Some(snomed),
        category: "vital-signs",
        unit: Some(unit),
        vital_signs: Some(profile),
    }
}

pub fn observation_kind(part: &str) -> &'static ObservationKind {
    OBSERVATION_KINDS
        .iter()
        .find(|k| k.part == part)
        .expect("every part the export writes is listed")
}
