//! The code systems, identifier systems and observation codes the FHIR export and
//! import share: standard ones (LOINC, SNOMED CT, UCUM, NHS), this project's own where
//! no standard code exists (docs/domain.md, "What the record holds").

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
}

pub const OBSERVATION_KINDS: &[ObservationKind] = &[
    // LOINC 29463-7 "Body weight"; SNOMED 27113001 (docs/domain.md, CH018).
    obs(
        "weight",
        "Body weight",
        Some("29463-7"),
        Some("27113001"),
        "vital-signs",
        Some("kg"),
    ),
    // LOINC 8306-3 "Body height --lying"; SNOMED 248334005 "Length of body".
    obs(
        "length",
        "Body length (lying)",
        Some("8306-3"),
        Some("248334005"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8302-2 "Body height"; SNOMED 50373000 "Body height measure".
    obs(
        "height",
        "Body height",
        Some("8302-2"),
        Some("50373000"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 9843-4 "Head Occipital-frontal circumference" (FHIR vital signs profile);
    // SNOMED 363812007 (docs/domain.md, CH018).
    obs(
        "head",
        "Head circumference",
        Some("9843-4"),
        Some("363812007"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8339-4 "Birth weight Measured"; SNOMED 364589006 (docs/domain.md, CH005).
    obs(
        "birth-weight",
        "Birth weight",
        Some("8339-4"),
        Some("364589006"),
        "vital-signs",
        Some("kg"),
    ),
    // LOINC 89269-5 "Body height Measured --at birth"; SNOMED 169886007 "Birth length".
    obs(
        "birth-length",
        "Birth length",
        Some("89269-5"),
        Some("169886007"),
        "vital-signs",
        Some("cm"),
    ),
    // LOINC 8290-9 "Head Occipital-frontal circumference --at birth by Tape measure";
    // SNOMED 169876006 (docs/domain.md, CH005).
    obs(
        "birth-head",
        "Head circumference at birth",
        Some("8290-9"),
        Some("169876006"),
        "vital-signs",
        Some("cm"),
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
    }
}

pub fn observation_kind(part: &str) -> &'static ObservationKind {
    OBSERVATION_KINDS
        .iter()
        .find(|k| k.part == part)
        .expect("every part the export writes is listed")
}
