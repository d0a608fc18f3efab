//! Writes notes into a record as fast as it can, printing each note's text on stdout
//! only after `add_entry` has returned, until it is killed. The crash test kills it with
//! SIGKILL at a random moment and checks every printed note survived.
//!
//! Usage: crash_writer DB_PATH RECORD_ID START_NUMBER

use redbook_core::{model::RecordId, OpenOptions, RedBook};
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, record, start] = args.as_slice() else {
        eprintln!("usage: crash_writer DB_PATH RECORD_ID START_NUMBER");
        std::process::exit(2);
    };
    let record: RecordId = record.parse().expect("record id");
    let start: u64 = start.parse().expect("start number");
    // Compact often, so kills land inside compactions too.
    let options = OpenOptions {
        compact_min_changes: 8,
        ..Default::default()
    };
    let book = RedBook::open_with(path.as_ref(), redbook_tests::raw_key(7), options).expect("open");
    let mut stdout = std::io::stdout().lock();
    for n in start.. {
        let text = format!("crash note {n}");
        book.add_entry(&record, redbook_tests::note("2026-02-01", &text))
            .expect("write");
        writeln!(stdout, "{text}").expect("stdout");
        stdout.flush().expect("flush");
    }
}
