//! Kill the writer at any instant: every write that returned is there after reopening,
//! and the file opens. The writer is a real child process killed with SIGKILL.

use redbook_core::RedBook;
use redbook_tests::{child, raw_key};
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const ROUNDS: u64 = 12;

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("crash.redbook");
    let id = RedBook::open(&path, raw_key(7))
        .unwrap()
        .add_child(child("Amara", "2026-01-01"))
        .unwrap();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("seed {seed}");
    let mut rng = seed | 1;
    let mut acknowledged = HashSet::new();
    for round in 0..ROUNDS {
        // xorshift: a different kill moment each round, reproducible from the seed.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let run_for = Duration::from_millis(30 + rng % 250);
        let mut writer = Command::new(env!("CARGO_BIN_EXE_crash_writer"))
            .args([
                path.to_str().unwrap(),
                id.as_str(),
                &(round * 1_000_000).to_string(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = writer.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let started = Instant::now();
        while started.elapsed() < run_for {
            std::thread::sleep(Duration::from_millis(5));
        }
        writer.kill().unwrap(); // SIGKILL on Unix
        writer.wait().unwrap();
        let lines = reader.join().unwrap();
        acknowledged.extend(lines.into_iter().filter(|l| l.starts_with("crash note ")));

        let book = RedBook::open(&path, raw_key(7)).expect("the file opens after a kill");
        let stored: HashSet<String> = book
            .child(&id)
            .unwrap()
            .entries
            .into_iter()
            .filter_map(|v| match v.entry.body {
                redbook_core::model::EntryBody::Note(n) => Some(n.text),
                _ => None,
            })
            .collect();
        let lost: Vec<_> = acknowledged.difference(&stored).collect();
        assert!(
            lost.is_empty(),
            "round {round} (seed {seed}): lost {} acknowledged writes",
            lost.len()
        );
    }
    assert!(
        acknowledged.len() as u64 > ROUNDS,
        "the writer barely ran: {}",
        acknowledged.len()
    );
    println!(
        "{} acknowledged writes survived {ROUNDS} kills",
        acknowledged.len()
    );
}
