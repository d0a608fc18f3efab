//! The floor a write is compared with: what redbook's two engines alone do for it.
//! Automerge's put and commit of a signed entry value on the record's document, the
//! incremental change saved, and those bytes inserted by rusqlite in one
//! `synchronous=FULL` WAL transaction (`#[path]`-included by the benches that use it).

use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ReadDoc, ScalarValue, Value, ROOT};
use std::path::Path;

pub struct EnginesFloor {
    doc: Automerge,
    entries: ObjId,
    /// An entry value already in the document, put again under each new key.
    signed_value: Vec<u8>,
    conn: rusqlite::Connection,
}

impl EnginesFloor {
    /// From a record's whole saved document; the database is made at `database`.
    pub fn new(saved_document: &[u8], database: &Path) -> Self {
        let doc = Automerge::load(saved_document).unwrap();
        let (entries, signed_value) = an_entry_value(&doc);
        let conn = rusqlite::Connection::open(database).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch("CREATE TABLE chunks (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")
            .unwrap();
        Self {
            doc,
            entries,
            signed_value,
            conn,
        }
    }

    /// One write of the signed value under `key` (a key not used before).
    pub fn write(&mut self, key: &str) {
        let before = self.doc.get_heads();
        let mut tx = self.doc.transaction();
        tx.put(
            &self.entries,
            key,
            ScalarValue::Bytes(self.signed_value.clone()),
        )
        .unwrap();
        tx.commit();
        let change = self.doc.save_after(&before);
        let sql = self.conn.unchecked_transaction().unwrap();
        sql.prepare_cached("INSERT INTO chunks (bytes) VALUES (?1)")
            .unwrap()
            .execute([&change])
            .unwrap();
        sql.commit().unwrap();
    }
}

/// The record's entries map and the signed value of one entry in it, as stored.
pub fn an_entry_value(doc: &Automerge) -> (ObjId, Vec<u8>) {
    let (_, entries) = doc.get(ROOT, "entries").unwrap().unwrap();
    let first = doc.keys(&entries).next().unwrap();
    match doc.get(&entries, &first).unwrap().unwrap().0 {
        Value::Scalar(value) => match value.as_ref() {
            ScalarValue::Bytes(bytes) => (entries, bytes.clone()),
            _ => unreachable!("entries are signed bytes"),
        },
        _ => unreachable!("entries are signed bytes"),
    }
}
