//! Invites, accepts, removes and hands out new keys as fast as it can, printing each step
//! only after it returned, until it is killed: the crash test kills it with SIGKILL at a
//! random moment and checks that every printed step held and the devices still sync.
//!
//! Usage: crash_member_writer DIR RECORD_ID START_NUMBER
//! DIR holds `mum.redbook` (the record's creator) and `dad.redbook` (an admin), opened
//! with raw keys 7 and 8; each guest `guest-N.redbook` with key 9.

use redbook_core::model::{Access, RecordId};
use redbook_core::RedBook;
use redbook_tests::{raw_key, settle, Device};
use std::io::Write;
use std::path::Path;

fn device(dir: &Path, name: &str, key: u8) -> Device {
    let book = RedBook::open(&dir.join(format!("{name}.redbook")), raw_key(key)).expect("open");
    let id = book.device_id();
    Device { book, id }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, record, start] = args.as_slice() else {
        eprintln!("usage: crash_member_writer DIR RECORD_ID START_NUMBER");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    let id: RecordId = record.parse().expect("record id");
    let start: u64 = start.parse().expect("start number");
    let mum = device(dir, "mum", 7);
    let dad = device(dir, "dad", 8);
    let mut stdout = std::io::stdout().lock();
    let mut say = |line: String| {
        writeln!(stdout, "{line}").expect("stdout");
        stdout.flush().expect("flush");
    };
    for n in start.. {
        let guest = device(dir, &format!("guest-{n}"), 9);
        let invitation = mum
            .book
            .share(
                &id,
                &guest.book.device_card().expect("card"),
                Access::Reader,
            )
            .expect("share");
        guest.book.accept(&invitation).expect("accept");
        say(format!("accepted {n} {}", guest.id));
        mum.book.remove_member(&id, &guest.id).expect("remove");
        say(format!("removed {n} {}", guest.id));
        // Dad takes the new key from Mum's statements.
        settle(&[&mum, &dad], &id);
        say(format!("adopted {n}"));
    }
}
