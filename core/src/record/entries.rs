//! Entries as stored: writing one signed (or, for an import, unsigned) and reading them
//! back, oldest written first, with those this version cannot read kept by id.

use super::signed::{self, Kind};
use super::values::{commit, one_value, Stored};
use super::{Record, RecordError};
use crate::crypto::device::DeviceKeys;
use crate::model::{EntryBody, EntryId, StoredEntry};
use automerge::ReadDoc;
use std::collections::HashMap;

impl Record {
    /// Writes an entry with its author device's signature inside the value: one put.
    /// Sets the entry's id to the one that commits to it (`signed::commit_id`).
    pub fn put_entry(
        &mut self,
        entry: &mut StoredEntry,
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let json = commit(Kind::Entry, &self.record_id, entry, Some(signer))?;
        let value = signed::sign(Kind::Entry, &self.record_id, &json, signer);
        let before = self.doc.get_heads();
        self.put_value(Kind::Entry, entry.id.as_str(), value)?;
        // Any entry but a closure leaves the record as open or closed as it was.
        if !matches!(entry.body, EntryBody::RecordClosed(_)) {
            let mut closure = self.closure.borrow_mut();
            if let Some((seen, _, _)) = closure.as_mut().filter(|(seen, _, _)| *seen == before) {
                *seen = self.doc.get_heads();
            }
        }
        Ok(())
    }

    /// Writes an entry another record held (an import), unsigned: its signature there
    /// cannot vouch for it here. Sets its id to the one that commits to it.
    pub fn put_unsigned_entry(&mut self, entry: &mut StoredEntry) -> Result<(), RecordError> {
        let json = commit(Kind::Entry, &self.record_id, entry, None)?;
        self.put_value(
            Kind::Entry,
            entry.id.as_str(),
            signed::with_signature(Kind::Entry, &json, None),
        )
    }

    /// One entry by id, if it is there and readable.
    pub fn entry(&self, id: &EntryId) -> Option<StoredEntry> {
        // Reads only this key: a correction looks up the one entry it corrects.
        one_value(self.values_at(&self.entries, id.as_str()))
            .and_then(|stored| Self::read_entry(&stored))
    }

    /// An entry value, if it is framed as an entry of a kind this version reads, under
    /// the key it names. Whether the key commits to it is part of its signature's
    /// verdict (`verify_all`): one that does not is shown as invalid, never hidden.
    fn read_entry(stored: &Stored) -> Option<StoredEntry> {
        signed::parse(&stored.bytes)
            .filter(|v| v.kind == Kind::Entry)
            .and_then(|v| StoredEntry::from_json(v.json))
            .filter(|entry| entry.id.as_str() == stored.key)
    }

    pub fn entry_count(&self) -> usize {
        let heads = self.doc.get_heads();
        if let Some((seen, count)) = self.entry_count.borrow().as_ref() {
            if *seen == heads {
                return *count;
            }
        }
        let count = self.doc.length(&self.entries);
        *self.entry_count.borrow_mut() = Some((heads, count));
        count
    }

    /// Every readable entry, oldest written first; entries this version cannot read (a
    /// newer app's kind) are returned by id, never dropped.
    pub fn entries(&self) -> (Vec<StoredEntry>, Vec<EntryId>) {
        let (entries, unreadable) = self.entries_with_values();
        (entries.into_iter().map(|(e, _)| e).collect(), unreadable)
    }

    pub(super) fn entries_with_values(&self) -> (Vec<(StoredEntry, Stored)>, Vec<EntryId>) {
        let values = self.values(&self.entries);
        let mut readable = Vec::with_capacity(values.len());
        let mut unreadable = Vec::new();
        for stored in values {
            match Self::read_entry(&stored) {
                Some(entry) => readable.push((entry, stored)),
                None => unreadable.extend(stored.key.parse().ok()),
            }
        }
        // Sorted by index, then each entry moved once: entries written within the same
        // millisecond come out of the map in their ids' random order, and sorting the
        // entries themselves moved each (several hundred bytes) many times.
        let mut order: Vec<usize> = (0..readable.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&readable[a].0, &readable[b].0);
            a.recorded_at.cmp(&b.recorded_at).then(a.id.cmp(&b.id))
        });
        let mut slots: Vec<Option<(StoredEntry, Stored)>> =
            readable.into_iter().map(Some).collect();
        let readable = order
            .into_iter()
            .map(|i| slots[i].take().expect("each index once"))
            .collect();
        (readable, unreadable)
    }

    /// The signed entry values as stored, by entry id (for an export that carries the
    /// signatures).
    pub fn entry_signatures(&self) -> HashMap<EntryId, ([u8; 32], [u8; 64])> {
        self.values(&self.entries)
            .into_iter()
            .filter_map(|stored| {
                let value = signed::parse(&stored.bytes)?;
                Some((stored.key.parse().ok()?, (*value.signer?, *value.signature)))
            })
            .collect()
    }
}
