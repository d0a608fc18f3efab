//! What a parent hands to a professional: the record as a FHIR R4 Bundle (and back), and
//! a printable summary. Reads the record as the app sees it; writes nothing itself.

pub mod fhir;
pub mod printout;
pub mod summary;

/// Where this project's own FHIR code systems, extensions and identifiers live. A
/// placeholder (`.example` is reserved) until the service has a canonical URL: one
/// constant, so changing it is one line.
pub const REDBOOK_FHIR_BASE: &str = "https://redbook.example/fhir";
