//! The documents a handle keeps open, least recently used first out: at most
//! `max_records`, and within `max_bytes` by their estimated size (docs/adr/0010-caseload.md).
//! A caseload of hundreds of records opened one after another holds a few at a time.

use super::chunks::OpenRecord;
use crate::model::RecordId;
use lru::LruCache;

/// What an app that sets nothing gets: a family's few children stay open; a caseload
/// holds its most recent 32 records, or 64 MiB of them.
pub const DEFAULT_MAX_OPEN_RECORDS: usize = 32;
pub const DEFAULT_MAX_OPEN_BYTES: usize = 64 * 1024 * 1024;

/// Heap bytes an open document (with its reader's caches) takes per byte of its stored
/// chunks: measured at 6.3 by the caseload bench's counting allocator (records of 200
/// entries: 175 KiB of heap for 28 KiB of chunks; `cargo bench --bench caseload`),
/// rounded up so the budget is an upper bound.
const HEAP_PER_STORED_BYTE: usize = 7;
/// A verdict: a 32-byte digest in a hash set, with the set's overhead.
const HEAP_PER_VERDICT: usize = 48;

pub(super) struct OpenRecords {
    records: LruCache<RecordId, OpenRecord>,
    max_records: usize,
    max_bytes: usize,
}

impl OpenRecords {
    pub(super) fn new() -> Self {
        Self {
            records: LruCache::unbounded(),
            max_records: DEFAULT_MAX_OPEN_RECORDS,
            max_bytes: DEFAULT_MAX_OPEN_BYTES,
        }
    }

    /// New limits, applied at once (at least one record stays: the one in use).
    pub(super) fn set_limits(&mut self, max_records: usize, max_bytes: usize) {
        self.max_records = max_records.max(1);
        self.max_bytes = max_bytes;
        self.evict();
    }

    pub(super) fn contains(&self, id: &RecordId) -> bool {
        self.records.contains(id)
    }

    /// The record, marked as just used.
    pub(super) fn get_mut(&mut self, id: &RecordId) -> Option<&mut OpenRecord> {
        self.records.get_mut(id)
    }

    /// The record, without marking it used.
    pub(super) fn peek(&self, id: &RecordId) -> Option<&OpenRecord> {
        self.records.peek(id)
    }

    /// Keeps `open` as the most recently used, letting the least recently used go while
    /// the limits are passed; never the one just kept.
    pub(super) fn insert(&mut self, id: RecordId, open: OpenRecord) {
        self.records.put(id, open);
        self.evict();
    }

    pub(super) fn remove(&mut self, id: &RecordId) {
        self.records.pop(id);
    }

    pub(super) fn len(&self) -> usize {
        self.records.len()
    }

    /// The estimated heap bytes of the documents kept open.
    pub(super) fn estimated_bytes(&self) -> usize {
        self.records.iter().map(|(_, open)| estimate(open)).sum()
    }

    fn evict(&mut self) {
        let mut bytes = self.estimated_bytes();
        while self.records.len() > 1
            && (self.records.len() > self.max_records || bytes > self.max_bytes)
        {
            if let Some((_, gone)) = self.records.pop_lru() {
                bytes -= estimate(&gone);
            }
        }
    }
}

fn estimate(open: &OpenRecord) -> usize {
    HEAP_PER_STORED_BYTE * (open.snapshot_bytes + open.loose_bytes)
        + HEAP_PER_VERDICT * open.record.known_good_count()
}

impl std::ops::Index<&RecordId> for OpenRecords {
    type Output = OpenRecord;

    fn index(&self, id: &RecordId) -> &OpenRecord {
        self.peek(id)
            .expect("the caller opened the record just now")
    }
}
