//! A bounded load test of the relay on PostgreSQL, over loopback HTTP:
//! 1,000 devices post and fetch across 2,000 records (two devices each), through the
//! real protocol (mailboxes derived from record keys, signed requests, sealed messages
//! of a one-entry sync message's size). The relay runs in a process of its own (this
//! binary again), so its memory is its own. Prints messages per second, p50/p99 latency
//! and the relay's peak memory. `cargo bench -p redbook-relay --bench load`;
//! REDBOOK_LOAD_ROUNDS sets the rounds (default 5).

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
    let server = PrivateServer::start().expect("a private PostgreSQL server");
    let mut relay = Command::new(std::env::current_exe().unwrap())
        .env("REDBOOK_LOAD_RELAY_POSTGRES", server.url())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(relay.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    let pid = relay.id();
    let memory_before = memory_kb(pid, "VmRSS");

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
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (records, latencies, delivered, url) = (
                records.clone(),
                latencies.clone(),
                delivered.clone(),
                url.clone(),
            );
            std::thread::spawn(move || {
                let http = HttpTransport::default();
                let (mut posts, mut fetches, mut got) = (Vec::new(), Vec::new(), 0);
                let mut cursors = std::collections::HashMap::new();
                for round in 0..rounds {
                    for device in (t..DEVICES).step_by(THREADS) {
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
                                &url,
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
                                call(&http, &url, mailbox, "GET", &path, Vec::new(), None);
                            fetches.push(timer.elapsed());
                            assert_eq!(status, 200);
                            let (messages, _) = relay_protocol::decode_fetched(&answer).unwrap();
                            if let Some(last) = messages.last() {
                                cursors.insert((r, device), last.seq);
                            }
                            got += messages.len();
                        }
                    }
                }
                let mut all = latencies.lock().unwrap();
                all.0.extend(posts);
                all.1.extend(fetches);
                *delivered.lock().unwrap() += got;
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let elapsed = started.elapsed();
    let peak = memory_kb(pid, "VmHWM");
    let (mut posts, mut fetches) = std::mem::take(&mut *latencies.lock().unwrap());
    let posted = posts.len();
    let delivered = *delivered.lock().unwrap();
    println!(
        "relay load on PostgreSQL: {DEVICES} devices, {RECORDS} records, {rounds} rounds, {THREADS} client threads, {:.1} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  {posted} messages posted, {delivered} delivered: {:.0} messages/s ({:.0} requests/s)",
        (posted + delivered) as f64 / elapsed.as_secs_f64(),
        (posts.len() + fetches.len()) as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  post latency p50 {:.2} ms, p99 {:.2} ms; fetch latency p50 {:.2} ms, p99 {:.2} ms",
        percentile(&mut posts, 0.50),
        percentile(&mut posts, 0.99),
        percentile(&mut fetches, 0.50),
        percentile(&mut fetches, 0.99)
    );
    println!(
        "  relay process memory: {} MB before, peak {} MB",
        memory_before / 1024,
        peak / 1024
    );
    let _ = relay.kill();
    let _ = relay.wait();
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
