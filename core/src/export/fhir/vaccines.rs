//! The vaccine code table: each vaccine of the schedule data (schedule/data.rs, by its
//! canonical name) with the SNOMED CT procedure a UK system records for giving it, and
//! the dm+d product (AMP) for the brands clinics write. UK Core's Immunization carries the
//! product in `vaccineCode` (UKCore-VaccineCode: dm+d) and the procedure in
//! Extension-UKCore-VaccinationProcedure (SNOMED CT). A vaccine not here keeps free text.
//!
//! Sources:
//! - Procedures: the expansion of UK Core 2.0.0's ValueSet UKCore-VaccinationProcedure
//!   (SNOMED CT UK edition 2021-08-04), third_party/uk-core/valuesets; the tests check every
//!   code and display below against it.
//! - Products (AMP ids): dm+d, as NHS services and integration samples for the national
//!   Immunisation FHIR API record them: NHS England's Record a vaccination service (its
//!   design history, "Supporting MenB vaccinations in response to an outbreak", 2026-04-22:
//!   Bexsero, and the MenB dose procedures), the Manage vaccinations in schools prototype
//!   (M-M-RvaxPro, Priorix, Fluenz Trivalent), and Immunisation API test payloads (the
//!   rest; Infanrix hexa and Boostrix-IPV in two of them). No dm+d release is available
//!   offline to check them against (docs/clinical-safety/hazard-log.md, H33). An AMP is
//!   sent only when the brand written matches one below exactly, never guessed.
//! - VMPs (the generic product) are not yet in the table: no source here to check them
//!   against. docs/adr/0011-uk-core.md lists the gap.

use crate::schedule::data::{
    BCG, FLU, HEP_B, HIB_MENC, MENB, MMR, MMRV, PCV, PRESCHOOL_BOOSTER, ROTAVIRUS, SIX_IN_ONE,
};

/// dm+d's code system URI, as UK Core binds `Immunization.vaccineCode`.
pub const DMD_SYSTEM: &str = "https://dmd.nhs.uk";

/// One SNOMED CT or dm+d concept: (code, display).
pub type Concept = (&'static str, &'static str);

pub struct VaccineCodes {
    /// The schedule's canonical vaccine name (schedule/data.rs).
    pub vaccine: &'static str,
    /// Giving the vaccine, any dose.
    pub procedure: Concept,
    /// Giving a given dose, where SNOMED CT UK has a concept for it: (dose, concept).
    pub procedure_by_dose: &'static [(u8, Concept)],
    /// Brands: (name as matched, ignoring case, spaces and hyphens; dm+d AMP).
    pub products: &'static [(&'static str, Concept)],
}

impl VaccineCodes {
    /// The procedure for this dose: the dose's own concept, else the vaccine's.
    pub fn procedure_for(&self, dose: u8) -> Concept {
        self.procedure_by_dose
            .iter()
            .find(|(d, _)| *d == dose)
            .map_or(self.procedure, |(_, c)| *c)
    }

    /// The dm+d AMP for a brand written as `product`, when it is one of ours.
    pub fn product(&self, product: &str) -> Option<Concept> {
        let key = crate::schedule::match_key(product);
        self.products
            .iter()
            .find(|(name, _)| crate::schedule::match_key(name) == key)
            .map(|(_, amp)| *amp)
    }
}

/// The codes of a vaccine by its canonical name.
pub fn vaccine_codes(canonical: &str) -> Option<&'static VaccineCodes> {
    VACCINE_CODES.iter().find(|v| v.vaccine == canonical)
}

/// The table's vaccine whose procedure or product is `code`, for import.
pub fn vaccine_by_code(code: &str) -> Option<&'static VaccineCodes> {
    VACCINE_CODES.iter().find(|v| {
        v.procedure.0 == code
            || v.procedure_by_dose.iter().any(|(_, c)| c.0 == code)
            || v.products.iter().any(|(_, c)| c.0 == code)
    })
}

pub const VACCINE_CODES: &[VaccineCodes] = &[
    VaccineCodes {
        vaccine: SIX_IN_ONE,
        procedure: ("1082431000000104", "Diphtheria, tetanus and acellular pertussis, inactivated polio, Haemophilus influenzae type b and hepatitis B vaccination"),
        procedure_by_dose: &[
            (1, ("1082441000000108", "First diphtheria, tetanus and acellular pertussis, inactivated polio, Haemophilus influenzae type b and hepatitis B vaccination")),
            (2, ("1082451000000106", "Second diphtheria, tetanus and acellular pertussis, inactivated polio, Haemophilus influenzae type b and hepatitis B vaccination")),
            (3, ("1082461000000109", "Third diphtheria, tetanus and acellular pertussis, inactivated polio, Haemophilus influenzae type b and hepatitis B vaccination")),
        ],
        products: &[
            ("Infanrix hexa", ("34765811000001105", "Infanrix Hexa vaccine powder and suspension for suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)")),
            ("Vaxelis", ("39367111000001105", "Vaxelis vaccine suspension for injection 0.5ml pre-filled syringes (Sanofi)")),
        ],
    },
    VaccineCodes {
        vaccine: MENB,
        procedure: ("720537002", "Administration of meningitis B vaccine"),
        procedure_by_dose: &[
            (1, ("720539004", "Administration of first dose of meningitis B vaccine")),
            (2, ("720540002", "Administration of second dose of meningitis B vaccine")),
            // The dose at one year is the booster (Record a vaccination service, above).
            (3, ("720544006", "Administration of booster dose of meningitis B vaccine")),
        ],
        products: &[(
            "Bexsero",
            ("23584211000001109", "Bexsero vaccine suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)"),
        )],
    },
    VaccineCodes {
        vaccine: ROTAVIRUS,
        procedure: ("415354003", "Administration of rotavirus vaccine"),
        procedure_by_dose: &[
            (1, ("868631000000102", "First rotavirus vaccination")),
            (2, ("868651000000109", "Second rotavirus vaccination")),
        ],
        products: &[(
            "Rotarix",
            ("34609911000001106", "Rotarix vaccine live oral suspension 1.5ml tube (GlaxoSmithKline UK Ltd)"),
        )],
    },
    VaccineCodes {
        vaccine: PCV,
        procedure: ("12866006", "Administration of pneumococcal vaccine"),
        procedure_by_dose: &[
            (1, ("247631000000101", "First pneumococcal conjugated vaccination")),
            (2, ("247641000000105", "Second pneumococcal conjugated vaccination")),
            (3, ("247651000000108", "Third pneumococcal conjugated vaccination")),
        ],
        products: &[(
            "Prevenar 13",
            ("16649411000001104", "Prevenar 13 vaccine suspension for injection 0.5ml pre-filled syringes (Pfizer Ltd)"),
        )],
    },
    VaccineCodes {
        vaccine: HIB_MENC,
        procedure: ("428975001", "Administration of Haemophilus influenzae type B and meningitis C vaccine"),
        procedure_by_dose: &[
            (1, ("712834006", "Administration of first dose of Haemophilus influenzae type B and meningitis C vaccine")),
            (2, ("712833000", "Administration of second dose of Haemophilus influenzae type B and meningitis C vaccine")),
        ],
        products: &[(
            "Menitorix",
            ("9903711000001109", "Menitorix powder and solvent for solution for injection 0.5ml vials (GlaxoSmithKline)"),
        )],
    },
    VaccineCodes {
        vaccine: MMR,
        procedure: ("38598009", "Administration of measles and mumps and rubella vaccine"),
        procedure_by_dose: &[
            (1, ("308081000000105", "Measles mumps and rubella vaccination - first dose")),
            (2, ("170433008", "Administration of second dose of measles and mumps and rubella vaccine")),
        ],
        products: &[
            ("M-M-RvaxPro", ("13968211000001108", "M-M-RVAXPRO vaccine powder and solvent for suspension for injection 0.5ml pre-filled syringes (Merck Sharp & Dohme (UK) Ltd)")),
            ("Priorix", ("34925111000001104", "Priorix vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)")),
        ],
    },
    VaccineCodes {
        vaccine: MMRV,
        procedure: ("432636005", "Administration of measles and mumps and rubella and varicella virus vaccine"),
        procedure_by_dose: &[
            (1, ("871909005", "Administration of first dose of measles and mumps and rubella and varicella virus vaccine")),
            (2, ("433733003", "Administration of second dose of measles and mumps and rubella and varicella virus vaccine")),
        ],
        products: &[
            ("Priorix Tetra", ("45525711000001102", "Priorix Tetra vaccine powder and solvent for solution for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)")),
            ("ProQuad", ("45480711000001107", "ProQuad vaccine powder and solvent for suspension for injection 0.5ml pre-filled syringes (Merck Sharp & Dohme (UK) Ltd)")),
        ],
    },
    VaccineCodes {
        vaccine: PRESCHOOL_BOOSTER,
        procedure: ("247821000000102", "Booster diphtheria, tetanus, acellular pertussis and inactivated polio vaccination"),
        procedure_by_dose: &[],
        products: &[(
            "Boostrix-IPV",
            ("26267211000001100", "Boostrix-IPV suspension for injection 0.5ml pre-filled syringes (GlaxoSmithKline UK Ltd)"),
        )],
    },
    VaccineCodes {
        vaccine: HEP_B,
        procedure: ("16584000", "Administration of hepatitis B vaccine"),
        procedure_by_dose: &[
            (1, ("170370000", "Administration of first dose of hepatitis B vaccine")),
            (2, ("170371001", "Administration of second dose of hepatitis B vaccine")),
            (3, ("170372008", "Administration of third dose of hepatitis B vaccine")),
            (4, ("170374009", "Administration of fourth dose of hepatitis B vaccine")),
        ],
        products: &[],
    },
    VaccineCodes {
        vaccine: BCG,
        procedure: ("42284007", "BCG vaccination"),
        procedure_by_dose: &[],
        products: &[],
    },
    // The route (nasal or injected) decides the dose concepts; the record does not say
    // which was given, so every dose takes the general one.
    VaccineCodes {
        vaccine: FLU,
        procedure: ("86198006", "Administration of influenza vaccine"),
        procedure_by_dose: &[],
        // The children's nasal vaccine from 2024/25; "Fluenz" alone names no season's
        // product, so it gets none. The display is the brand and maker as the source gives
        // them, not dm+d's full name, which no source here states.
        products: &[(
            "Fluenz Trivalent",
            ("43208811000001106", "Fluenz Trivalent (AstraZeneca UK Ltd)"),
        )],
    },
    VaccineCodes {
        vaccine: "Varicella",
        procedure: ("737081007", "Administration of Varicella-zoster vaccine for chickenpox"),
        procedure_by_dose: &[
            (1, ("425897001", "Administration of first dose of Varicella-zoster vaccine for chickenpox")),
            (2, ("428502009", "Administration of second dose of Varicella-zoster vaccine for chickenpox")),
        ],
        products: &[],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// UK Core's expansion of its VaccinationProcedure value set: code -> display.
    fn uk_core_procedures() -> HashMap<String, String> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../third_party/uk-core/valuesets/ValueSet-UKCore-VaccinationProcedure.xml"
        );
        let xml = std::fs::read_to_string(path).unwrap();
        let value = |s: &str| s.split('"').nth(1).unwrap_or_default().to_string();
        let mut codes = HashMap::new();
        for block in xml.split("<contains>").skip(1) {
            let lines: Vec<&str> = block.lines().map(str::trim).collect();
            let code = lines.iter().find(|l| l.starts_with("<code "));
            let display = lines.iter().find(|l| l.starts_with("<display "));
            if let (Some(code), Some(display)) = (code, display) {
                codes.insert(value(code), value(display));
            }
        }
        codes
    }

    #[test]
    fn every_procedure_is_in_uk_cores_vaccination_procedures_with_its_display() {
        let known = uk_core_procedures();
        assert!(known.len() > 400, "the expansion was read");
        for v in VACCINE_CODES {
            let all =
                std::iter::once(&v.procedure).chain(v.procedure_by_dose.iter().map(|(_, c)| c));
            for (code, display) in all {
                assert_eq!(
                    known.get(*code).map(String::as_str),
                    Some(*display),
                    "{}",
                    v.vaccine
                );
            }
        }
    }

    #[test]
    fn every_vaccine_the_schedule_offers_has_codes_and_every_brand_it_knows_a_product() {
        use crate::schedule::data::VACCINE_ALIASES;
        for (_, canonical) in VACCINE_ALIASES {
            if *canonical == crate::schedule::data::HBSAG_TEST {
                continue; // a blood test, not a vaccine
            }
            assert!(vaccine_codes(canonical).is_some(), "{canonical}");
        }
        let six_in_one = vaccine_codes(SIX_IN_ONE).unwrap();
        assert_eq!(six_in_one.procedure_for(2).0, "1082451000000106");
        assert_eq!(six_in_one.procedure_for(9).0, "1082431000000104");
        assert_eq!(
            six_in_one.product("infanrix-HEXA").unwrap().0,
            "34765811000001105"
        );
        assert!(six_in_one.product("Infanrix").is_none(), "never a guess");
        assert_eq!(vaccine_by_code("23584211000001109").unwrap().vaccine, MENB);
    }
}
