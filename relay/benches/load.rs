//! A bounded load test of the relay on PostgreSQL, over loopback HTTP:
//! 1,000 devices post and fetch across 2,000 records (two devices each), through the
//! real protocol (mailboxes derived from record keys, signed requests, sealed messages
//! of a one-entry sync message's size). Each relay runs in a process of its own (this
//! binary again), so its memory is its own. Run once with one relay and once with two
//! over one PostgreSQL server (devices spread across them: device d talks to relay
//! d mod N), each on a fresh server. Prints messages per second, p50/p99 latency, each
//! relay's peak memory and the CPU time each party took per message (relays,
//! PostgreSQL, the clients), which varies less than throughput on a shared machine.
//! `cargo bench -p redbook-relay --bench load`; REDBOOK_LOAD_ROUNDS sets the rounds
//! (default 5), REDBOOK_LOAD_RELAYS the relay counts to run (default `1,2`).

use redbook_core::crypto::SecretKey;
use redbook_core::sync::relay_protocol::{self, HttpRequest, Mailbox, Outgoing, RelayTransport};
use redbook_relay::postgres_server::PrivateServer;
use redbook_relay::{Config, HttpTransport, PostgresStorage};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEVICES: usize = 1_000;
const RECORDS: usize = 2_000;
const THREADS: usize = 64;
/// A sealed one-entry sync message through the relay is about this size (README).
const MESSAGE_BYTES: usize = 900;

fn main() {
    if let Ok(url) = std::env::var("REDBOOK_LOAD_RELAY_POSTGRES") {
        return serve(&url);
    }
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list`
    }
    let rounds: usize = std::env::var("REDBOOK_LOAD_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let relay_counts: Vec<usize> = std::env::var("REDBOOK_LOAD_RELAYS")
        .unwrap_or_else(|_| "1,2".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    for relays in relay_counts {
        run(relays, rounds);
    }
}

/// The CPU time (user and system) a process has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// The CPU time of a PostgreSQL server: the postmaster, and every process it started that
/// is still running (the relays' connections are, until the relays stop).
fn postgres_cpu_seconds(server: &PrivateServer) -> f64 {
    let pid_file = server.data_dir().join("postmaster.pid");
    let Some(postmaster) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|text| text.lines().next()?.trim().parse::<u32>().ok())
    else {
        return 0.0;
    };
    let mut total = cpu_seconds(postmaster);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(postmaster) {
            total += cpu_seconds(pid);
        }
    }
    total
}

fn run(relay_count: usize, rounds: usize) {
    let server = PrivateServer::start().expect("a private PostgreSQL server");
    let mut relays: Vec<(std::process::Child, String)> = (0..relay_count)
        .map(|_| {
            let mut relay = Command::new(std::env::current_exe().unwrap())
                .env("REDBOOK_LOAD_RELAY_POSTGRES", server.url())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut line = String::new();
            BufReader::new(relay.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            (relay, line.trim().to_string())
        })
        .collect();
    let pids: Vec<u32> = relays.iter().map(|(relay, _)| relay.id()).collect();
    let urls: Arc<Vec<String>> = Arc::new(relays.iter().map(|(_, url)| url.clone()).collect());
    let memory_before: Vec<u64> = pids.iter().map(|&pid| memory_kb(pid, "VmRSS")).collect();
    // Record r is shared by devices r % DEVICES and (r * 7 + 1) % DEVICES.
    let records: Vec<(Mailbox, [usize; 2])> = (0..RECORDS)
        .map(|r| {
            let key = SecretKey::generate().unwrap();
            (
                Mailbox::derive(&key, 0),
                [r % DEVICES, (r * 7 + 1) % DEVICES],
            )
        })
        .collect();
    let records = Arc::new(records);
    let latencies = Arc::new(Mutex::new((Vec::new(), Vec::new())));
    let delivered = Arc::new(Mutex::new(0usize));
    // Each message's sequence number as fetched, and each inbox's cursor, for the check
    // after the timed run that every message arrives exactly once.
    let seen = Arc::new(Mutex::new((Vec::new(), std::collections::HashMap::new())));
    let cpu_before = (
        pids.iter().map(|&pid| cpu_seconds(pid)).sum::<f64>(),
        postgres_cpu_seconds(&server),
        cpu_seconds(std::process::id()),
    );
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (records, latencies, delivered, urls, seen) = (
                records.clone(),
                latencies.clone(),
                delivered.clone(),
                urls.clone(),
                seen.clone(),
            );
            std::thread::spawn(move || {
                let http = HttpTransport::default();
                let (mut posts, mut fetches, mut got) = (Vec::new(), Vec::new(), 0);
                let mut cursors = std::collections::HashMap::new();
                let mut seqs = Vec::new();
                for round in 0..rounds {
                    for device in (t..DEVICES).step_by(THREADS) {
                        let url = &urls[device % urls.len()];
                        for (r, (mailbox, members)) in records.iter().enumerate() {
                            let Some(me) = members.iter().position(|&d| d == device) else {
                                continue;
                            };
                            let peer = members[1 - me];
                            let to = mailbox.recipient_tag(&peer.to_string());
                            let mut body = vec![0u8; MESSAGE_BYTES];
                            body[..16].copy_from_slice(
                                &(round as u128 * 1_000_000 + device as u128).to_be_bytes(),
                            );
                            let post = vec![Outgoing {
                                recipient: to,
                                body: mailbox.seal(&to, &body).unwrap(),
                            }];
                            let from = mailbox.recipient_tag(&device.to_string());
                            let timer = Instant::now();
                            let status = call(
                                &http,
                                url,
                                mailbox,
                                "POST",
                                &relay_protocol::post_path(&mailbox.address()),
                                relay_protocol::encode_post(&post),
                                Some(&from),
                            )
                            .0;
                            posts.push(timer.elapsed());
                            assert_eq!(status, 200);
                            let after = *cursors.get(&(r, device)).unwrap_or(&0u64);
                            let path =
                                relay_protocol::fetch_path(&mailbox.address(), &from, after, 64);
                            let timer = Instant::now();
                            let (status, answer) =
                                call(&http, url, mailbox, "GET", &path, Vec::new(), None);
                            fetches.push(timer.elapsed());
                            assert_eq!(status, 200);
                            let (messages, _) = relay_protocol::decode_fetched(&answer).unwrap();
                            if let Some(last) = messages.last() {
                                cursors.insert((r, device), last.seq);
                            }
                            seqs.extend(messages.iter().map(|m| m.seq));
                            got += messages.len();
                        }
                    }
                }
                let mut all = latencies.lock().unwrap();
                all.0.extend(posts);
                all.1.extend(fetches);
                *delivered.lock().unwrap() += got;
                let mut seen = seen.lock().unwrap();
                seen.0.extend(seqs);
                seen.1.extend(cursors);
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let elapsed = started.elapsed();
    let peaks: Vec<u64> = pids.iter().map(|&pid| memory_kb(pid, "VmHWM")).collect();
    let cpu = (
        pids.iter().map(|&pid| cpu_seconds(pid)).sum::<f64>() - cpu_before.0,
        postgres_cpu_seconds(&server) - cpu_before.1,
        cpu_seconds(std::process::id()) - cpu_before.2,
    );
    let (mut posts, mut fetches) = std::mem::take(&mut *latencies.lock().unwrap());
    let posted = posts.len();
    let delivered = *delivered.lock().unwrap();
    let messages = (posted + delivered) as f64;
    println!(
        "relay load on PostgreSQL, {relay_count} relay(s): {DEVICES} devices, {RECORDS} records, {rounds} rounds, {THREADS} client threads, {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  {posted} messages posted, {delivered} delivered: {:.0} messages/s ({:.0} requests/s)",
        messages / elapsed.as_secs_f64(),
        (posts.len() + fetches.len()) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  post latency p50 {:.2} ms, p99 {:.2} ms; fetch latency p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut posts, 0.50),
        percentile(&mut posts, 0.99),
        percentile(&mut fetches, 0.50),
        percentile(&mut fetches, 0.99)
    );
    for (i, (before, peak)) in memory_before.iter().zip(&peaks).enumerate() {
        println!(
            "  relay {} process memory: {} MB before, peak {} MB",
            i + 1,
            before / 1024,
            peak / 1024
        );
    }
    println!(
        "  CPU per message: relays {:.0} us, PostgreSQL {:.0} us, clients {:.0} us",
        cpu.0 / messages * 1e6,
        cpu.1 / messages * 1e6,
        cpu.2 / messages * 1e6
    );
    // Untimed: every inbox read to the end, through the relays its devices use.
    let (mut seqs, cursors) = std::mem::take(&mut *seen.lock().unwrap());
    let http = HttpTransport::default();
    for (r, (mailbox, members)) in records.iter().enumerate() {
        for &device in members {
            let url = &urls[device % urls.len()];
            let inbox = mailbox.recipient_tag(&device.to_string());
            let mut after = *cursors.get(&(r, device)).unwrap_or(&0u64);
            loop {
                let path = relay_protocol::fetch_path(&mailbox.address(), &inbox, after, 64);
                let (status, answer) = call(&http, url, mailbox, "GET", &path, Vec::new(), None);
                assert_eq!(status, 200);
                let (messages, more) = relay_protocol::decode_fetched(&answer).unwrap();
                after = messages.last().map_or(after, |m| m.seq);
                seqs.extend(messages.iter().map(|m| m.seq));
                if !more {
                    break;
                }
            }
        }
    }
    let fetched = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(
        (fetched, seqs.len()),
        (posted, posted),
        "every message posted is fetched, and once"
    );
    println!("  every message posted was fetched once (the rest read after the timed run)");
    for (relay, _) in &mut relays {
        let _ = relay.kill();
        let _ = relay.wait();
    }
}

fn call(
    http: &HttpTransport,
    url: &str,
    mailbox: &Mailbox,
    method: &str,
    path: &str,
    body: Vec<u8>,
    from: Option<&relay_protocol::Tag>,
) -> (u16, Vec<u8>) {
    let mut headers = mailbox.sign_request(method, path, chrono::Utc::now().timestamp(), &body);
    if let Some(from) = from {
        headers.push((relay_protocol::FROM_HEADER.into(), hex::encode(from)));
    }
    let response = http
        .send(HttpRequest {
            method: method.into(),
            url: format!("{url}{path}"),
            headers,
            body,
        })
        .unwrap();
    (response.status, response.body)
}

fn percentile(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let i = ((samples.len() as f64 * p) as usize).min(samples.len() - 1);
    samples[i].as_secs_f64() * 1000.0
}

fn memory_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// The relay process: serves PostgreSQL on a free loopback port and prints its URL.
fn serve(postgres: &str) {
    let storage = Arc::new(PostgresStorage::connect(postgres).unwrap());
    // A thousand devices, all from loopback: one network source standing for many.
    let config = Config {
        source_requests_per_minute: 1_000_000,
        quota: redbook_relay::Quota {
            source_bytes: u64::MAX,
            ..redbook_relay::Quota::default()
        },
        ..Config::default()
    };
    let relay = redbook_relay::RunningRelay::start(storage, config, "127.0.0.1:0".parse().unwrap())
        .unwrap();
    println!("{}", relay.url());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
