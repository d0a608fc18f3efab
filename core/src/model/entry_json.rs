//! An entry's JSON read without serde's buffering of an internally tagged enum.
//!
//! `EntryBody` is tagged by a `"type"` field inside the body, and serde reads such an
//! enum by first copying the whole body into a tree of owned values, then reading the
//! variant from that tree: most of the time a cold open spends decoding entries. Here the
//! body is kept as borrowed JSON, its `"type"` read first, then the variant read straight
//! from the same text. Anything this path does not read (a body that is not an object,
//! a kind this version does not know) goes through the derived `Deserialize`, so what
//! is read is always what the derived reader reads.

use super::entries::*;
use super::{Author, EntryId, StoredEntry};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// `StoredEntry`'s fields, the body left as JSON text.
#[derive(Deserialize)]
struct Frame<'a> {
    id: EntryId,
    author: Author,
    #[serde(deserialize_with = "rfc3339")]
    recorded_at: DateTime<Utc>,
    amends: Option<EntryId>,
    #[serde(borrow)]
    body: &'a RawValue,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    confirmed: bool,
}

/// The body's tag alone; its other fields are skipped.
#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

#[derive(Deserialize)]
struct EnteredInErrorFields {
    target: EntryId,
    reason: String,
}

impl StoredEntry {
    /// The entry `json` holds, as `serde_json::from_slice::<StoredEntry>` reads it.
    pub fn from_json(json: &[u8]) -> Option<StoredEntry> {
        Self::from_json_unbuffered(json)
            .or_else(|| serde_json::from_slice::<StoredEntry>(json).ok())
    }

    fn from_json_unbuffered(json: &[u8]) -> Option<StoredEntry> {
        let frame: Frame = serde_json::from_slice(json).ok()?;
        let body = frame.body.get();
        // serde also takes a body written as an array, tag first and the fields by
        // position after it; read whole here it would be shifted by one field.
        if !body.starts_with('{') {
            return None;
        }
        let tag: Tag = serde_json::from_str(body).ok()?;
        let body = match tag.kind.as_ref() {
            "birth_details" => EntryBody::BirthDetails(variant(body)?),
            "measurement" => EntryBody::Measurement(variant(body)?),
            "immunisation" => EntryBody::Immunisation(variant(body)?),
            "review" => EntryBody::Review(variant(body)?),
            "health_event" => EntryBody::HealthEvent(variant(body)?),
            "medicine" => EntryBody::Medicine(variant(body)?),
            "allergy" => EntryBody::Allergy(variant(body)?),
            "contact" => EntryBody::Contact(variant(body)?),
            "note" => EntryBody::Note(variant(body)?),
            "risk_factor" => EntryBody::RiskFactor(variant(body)?),
            "parental_heights" => EntryBody::ParentalHeights(variant(body)?),
            "record_closed" => EntryBody::RecordClosed(variant(body)?),
            "entered_in_error" => {
                let fields: EnteredInErrorFields = variant(body)?;
                EntryBody::EnteredInError {
                    target: fields.target,
                    reason: fields.reason,
                }
            }
            // Newborn screening is tagged again inside (by its test), and an unknown
            // kind is for the derived reader to refuse.
            _ => return None,
        };
        Some(StoredEntry {
            id: frame.id,
            author: frame.author,
            recorded_at: frame.recorded_at,
            amends: frame.amends,
            body,
            source: frame.source,
            confirmed: frame.confirmed,
        })
    }
}

/// The time as written (RFC 3339, as chrono writes it), read by chrono's strict parser,
/// several times quicker than the lenient one the derived reader uses; anything else
/// fails here and is read by the derived reader.
fn rfc3339<'de, D: serde::Deserializer<'de>>(text: D) -> Result<DateTime<Utc>, D::Error> {
    let text: &str = Deserialize::deserialize(text)?;
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(serde::de::Error::custom)
}

fn variant<T: DeserializeOwned>(body: &str) -> Option<T> {
    serde_json::from_str(body).ok()
}
