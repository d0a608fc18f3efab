//! The relay's HTTP service (docs/adr/0008-relay.md). Every mailbox request is signed by
//! the mailbox's key (derived from the record key, so only members can sign); the relay
//! checks the signature against the address itself and keeps no accounts. Logs and
//! metrics name routes and statuses, never an address, tag or size of one mailbox.
//!
//! Addresses cost nothing to make, so what one stranger may take is bounded by its network
//! source too (an IPv4 address or an IPv6 /64): requests per minute and bytes stored,
//! however many mailboxes or backup slots it makes, and the relay as a whole keeps to a
//! storage budget.

use crate::batch::{BatchLimits, Batcher};
use crate::storage::{
    Address, BackupPut, FetchRequest, Fetched, Full, NewMessage, PostRequest, Posted, Quota,
    Source, Storage, StorageError,
};
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota as RateQuota, RateLimiter};
use prometheus::{Encoder, HistogramVec, IntCounter, IntCounterVec, Registry, TextEncoder};
use redbook_core::sync::relay_protocol::{self as protocol, Tag};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a deployment sets; the defaults suit a pilot.
#[derive(Debug, Clone)]
pub struct Config {
    /// Messages not fetched within this are deleted (a device away longer catches up
    /// through the sync protocol: nothing is lost, its peers send again).
    pub retention: Duration,
    /// How often expired messages are deleted.
    pub sweep_every: Duration,
    /// A recovery backup not written again within this is deleted (a family's app writes
    /// it at each sync; a parent may restore long after losing the phone).
    pub backup_retention: Duration,
    /// Bytes held per mailbox, device, network source and in all (413, or 507 for the
    /// whole relay), and backup slots per source (413).
    pub quota: Quota,
    /// The largest backup one slot may hold (413 above it).
    pub max_backup_bytes: usize,
    /// The largest message one post may carry (413 above it).
    pub max_message_bytes: usize,
    /// The largest post (413 above it).
    pub max_post_bytes: usize,
    /// Requests per minute one mailbox may make (429 above it).
    pub requests_per_minute: u32,
    /// Requests per minute one network source may make, to every mailbox and slot
    /// together (429 above it).
    pub source_requests_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client: a request from one of
    /// them counts against the address it names, not the proxy's. Nobody else's is read.
    pub trusted_proxies: Vec<IpAddr>,
    /// The most messages one fetch returns.
    pub max_fetch: usize,
    /// The most bytes one fetch returns, but always one message (more wait for the next
    /// fetch): bounds what a batch of fetches holds in memory.
    pub max_fetch_bytes: usize,
    /// How many posts (and fetches) may share one round trip to storage.
    pub batch: BatchLimits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(30 * 24 * 3600),
            sweep_every: Duration::from_secs(600),
            backup_retention: Duration::from_secs(800 * 24 * 3600),
            quota: Quota::default(),
            max_backup_bytes: 16 << 20,
            max_message_bytes: 8 << 20,
            max_post_bytes: 16 << 20,
            requests_per_minute: 600,
            source_requests_per_minute: 1200,
            trusted_proxies: Vec::new(),
            max_fetch: 256,
            max_fetch_bytes: 4 << 20,
            batch: BatchLimits {
                requests: 64,
                bytes: 1 << 20,
            },
        }
    }
}

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    stored: IntCounter,
    duplicates: IntCounter,
    delivered: IntCounter,
    expired: IntCounter,
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            prometheus::Opts::new("relay_requests_total", "Requests by route and status"),
            &["route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            prometheus::HistogramOpts::new(
                "relay_request_seconds",
                "Time to answer a request, by route",
            ),
            &["route"],
        )
        .expect("valid metric");
        let counter = |name: &str, help: &str| IntCounter::new(name, help).expect("valid metric");
        let metrics = Self {
            stored: counter("relay_messages_stored_total", "Messages stored"),
            duplicates: counter(
                "relay_messages_duplicate_total",
                "Messages posted again and not stored twice",
            ),
            delivered: counter("relay_messages_delivered_total", "Messages fetched"),
            expired: counter(
                "relay_messages_expired_total",
                "Messages deleted unfetched after the retention period",
            ),
            requests,
            latency,
            registry,
        };
        for collector in [
            Box::new(metrics.requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.latency.clone()),
            Box::new(metrics.stored.clone()),
            Box::new(metrics.duplicates.clone()),
            Box::new(metrics.delivered.clone()),
            Box::new(metrics.expired.clone()),
        ] {
            metrics
                .registry
                .register(collector)
                .expect("registered once");
        }
        metrics
    }
}

struct Relay {
    storage: Arc<dyn Storage>,
    config: Config,
    /// Each relay's own rates, checked before any work; the minute's counts every relay
    /// shares (`shared_rates`) are checked in the batch that does the work.
    limiter: DefaultKeyedRateLimiter<Address>,
    source_limiter: DefaultKeyedRateLimiter<Source>,
    source_key: [u8; 32],
    metrics: Metrics,
    posts: Batcher<PostRequest, Result<Posted, Refusal>>,
    fetches: Batcher<(FetchRequest, Source), Result<Fetched, Refusal>>,
}

type Shared = Arc<Relay>;

/// A refusal: a status and a sentence for the device (no identifiers in it).
#[derive(Debug)]
struct Refusal(StatusCode, &'static str);

const RELAY_FAILED: Refusal = Refusal(StatusCode::INTERNAL_SERVER_ERROR, "the relay failed");

const MAILBOX_TOO_BUSY: Refusal = Refusal(
    StatusCode::TOO_MANY_REQUESTS,
    "too many requests for this mailbox; try again in a minute",
);

const SOURCE_TOO_BUSY: Refusal = Refusal(
    StatusCode::TOO_MANY_REQUESTS,
    "too many requests from this network address; try again in a minute",
);

/// Counts each request (its mailbox or slot, and its source) in this minute's counts,
/// which every relay over the storage shares, and refuses those past a rate: relays
/// behind a load balancer hold a mailbox and a source to the rate together, not each.
/// Storage that serves one relay only keeps no such counts; then nothing is refused here.
fn shared_rates(
    storage: &dyn Storage,
    config: &Config,
    requests: &[(&[u8], &[u8])],
) -> Vec<Option<Refusal>> {
    let scopes: Vec<&[u8]> = requests
        .iter()
        .flat_map(|(mailbox, source)| [*mailbox, *source])
        .collect();
    let minute = chrono::Utc::now().timestamp().div_euclid(60);
    match storage.count_requests(&scopes, minute) {
        Ok(Some(counts)) => counts
            .chunks(2)
            .map(|counts| {
                if counts[1] > u64::from(config.source_requests_per_minute) {
                    Some(SOURCE_TOO_BUSY)
                } else if counts[0] > u64::from(config.requests_per_minute) {
                    Some(MAILBOX_TOO_BUSY)
                } else {
                    None
                }
            })
            .collect(),
        Ok(None) => requests.iter().map(|_| None).collect(),
        // The storage that would do the work is failing: say so now, not after a second wait.
        Err(e) => requests
            .iter()
            .map(|_| Some(Refusal::from(e.clone())))
            .collect(),
    }
}

/// Runs, in one call, the requests no refusal stopped, and answers every request in order.
fn run_admitted<Request, Answer>(
    requests: Vec<Request>,
    refusals: Vec<Option<Refusal>>,
    run: impl FnOnce(&[Request]) -> Vec<Result<Answer, StorageError>>,
) -> Vec<Result<Answer, Refusal>> {
    let admitted: Vec<Request> = requests
        .into_iter()
        .zip(&refusals)
        .filter(|(_, refusal)| refusal.is_none())
        .map(|(request, _)| request)
        .collect();
    let mut answers = run(&admitted).into_iter();
    refusals
        .into_iter()
        .map(|refusal| match refusal {
            Some(refusal) => Err(refusal),
            None => answers
                .next()
                .unwrap_or(Err(StorageError::Failed("a batch answered short".into())))
                .map_err(Refusal::from),
        })
        .collect()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_static("60"));
        }
        response
    }
}

impl From<StorageError> for Refusal {
    fn from(e: StorageError) -> Self {
        tracing::warn!(error = %e, "storage");
        match e {
            StorageError::Unavailable(_) => Refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay's storage is unavailable; try again later",
            ),
            StorageError::Failed(_) => {
                Refusal(StatusCode::INTERNAL_SERVER_ERROR, "the relay failed")
            }
            StorageError::UnknownCursor => Refusal(
                StatusCode::CONFLICT,
                "the cursor is beyond anything this relay has stored: fetch from the start",
            ),
        }
    }
}

impl From<Full> for Refusal {
    fn from(full: Full) -> Self {
        match full {
            // 507: the relay, not this request, is out of room; it may have room later.
            Full::Budget => Refusal(StatusCode::INSUFFICIENT_STORAGE, full.reason()),
            // 413: the request is too large for what its mailbox or source may still hold.
            _ => Refusal(StatusCode::PAYLOAD_TOO_LARGE, full.reason()),
        }
    }
}

/// The relay's routes over `storage`, and the task that deletes expired messages. Serve it
/// with `into_make_service_with_connect_info::<SocketAddr>()`, so requests are counted by
/// their network source; without it, every request counts as one source.
pub fn router(storage: Arc<dyn Storage>, config: Config) -> Router {
    let per_minute = |n: u32| NonZeroU32::new(n.max(1)).expect("at least 1");
    let posts = {
        let (storage, config) = (storage.clone(), config.clone());
        Batcher::start(
            config.batch,
            PostRequest::bytes,
            move |posts: Vec<PostRequest>| {
                let scopes: Vec<(&[u8], &[u8])> = posts
                    .iter()
                    .map(|p| (p.mailbox.as_slice(), p.source.as_slice()))
                    .collect();
                let refusals = shared_rates(&*storage, &config, &scopes);
                run_admitted(posts, refusals, |admitted| {
                    let now = chrono::Utc::now().timestamp();
                    storage.post_batch(admitted, now, config.quota)
                })
            },
        )
    };
    let fetches = {
        let (storage, config) = (storage.clone(), config.clone());
        Batcher::start(
            config.batch,
            |_| 0,
            move |fetches: Vec<(FetchRequest, Source)>| {
                let scopes: Vec<(&[u8], &[u8])> = fetches
                    .iter()
                    .map(|(f, source)| (f.mailbox.as_slice(), source.as_slice()))
                    .collect();
                let refusals = shared_rates(&*storage, &config, &scopes);
                run_admitted(fetches, refusals, |admitted| {
                    let admitted: Vec<FetchRequest> = admitted.iter().map(|(f, _)| *f).collect();
                    storage.fetch_batch(&admitted)
                })
            },
        )
    };
    let relay = Arc::new(Relay {
        source_key: storage.source_key(),
        posts,
        fetches,
        storage,
        limiter: RateLimiter::keyed(RateQuota::per_minute(per_minute(
            config.requests_per_minute,
        ))),
        source_limiter: RateLimiter::keyed(RateQuota::per_minute(per_minute(
            config.source_requests_per_minute,
        ))),
        metrics: Metrics::new(),
        config,
    });
    tokio::spawn(sweep(relay.clone()));
    let body_limit = relay
        .config
        .max_post_bytes
        .max(relay.config.max_backup_bytes);
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/mailboxes/{address}/messages", post(post_messages))
        .route("/v1/mailboxes/{address}/inbox/{tag}", get(fetch_messages))
        .route("/v1/backups/{address}", get(get_backup).put(put_backup))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(relay)
}

async fn sweep(relay: Shared) {
    let mut every = tokio::time::interval(relay.config.sweep_every);
    loop {
        every.tick().await;
        let before = chrono::Utc::now().timestamp() - relay.config.retention.as_secs() as i64;
        let storage = relay.storage.clone();
        match tokio::task::spawn_blocking(move || storage.expire(before)).await {
            Ok(Ok(expired)) => relay.metrics.expired.inc_by(expired),
            Ok(Err(e)) => tracing::warn!(error = %e, "expiring messages"),
            Err(_) => tracing::error!("expiring messages panicked"),
        }
        let before =
            chrono::Utc::now().timestamp() - relay.config.backup_retention.as_secs() as i64;
        let storage = relay.storage.clone();
        if let Ok(Err(e)) =
            tokio::task::spawn_blocking(move || storage.expire_backups(before)).await
        {
            tracing::warn!(error = %e, "expiring backups");
        }
        // Buckets of mailboxes and sources not seen for a while are dropped, so memory
        // stays flat.
        relay.limiter.retain_recent();
        relay.source_limiter.retain_recent();
    }
}

async fn health(State(relay): State<Shared>) -> Response {
    let storage = relay.storage.clone();
    match tokio::task::spawn_blocking(move || storage.check()).await {
        Ok(Ok(())) => Json(serde_json::json!({ "status": "ok" })).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "storage unavailable" })),
        )
            .into_response(),
    }
}

async fn metrics(State(relay): State<Shared>) -> Response {
    let mut text = Vec::new();
    TextEncoder::new()
        .encode(&relay.metrics.registry.gather(), &mut text)
        .expect("text encoding does not fail");
    ([("content-type", "text/plain; version=0.0.4")], text).into_response()
}

/// Counts and logs a mailbox request by its route, never its address.
fn finish(
    relay: &Relay,
    route: &'static str,
    started: Instant,
    result: Result<Response, Refusal>,
) -> Response {
    let response = result.unwrap_or_else(IntoResponse::into_response);
    let status = response.status();
    relay
        .metrics
        .requests
        .with_label_values(&[route, status.as_str()])
        .inc();
    relay
        .metrics
        .latency
        .with_label_values(&[route])
        .observe(started.elapsed().as_secs_f64());
    tracing::info!(route, status = status.as_u16(), "request");
    response
}

/// The peer's socket address, when the router is served with connect info.
struct Peer(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

/// The client's address: the peer's, or, from a trusted proxy, the nearest address in
/// `X-Forwarded-For` that is not a trusted proxy (entries further left are the client's
/// to write, so they are not believed).
fn client_address(peer: Option<SocketAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.ip().to_canonical());
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.to_canonical() == ip);
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in forwarded.iter().rev() {
        match entry.parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip.to_canonical()) => continue,
            Ok(ip) => return ip.to_canonical(),
            // The proxy wrote something it should not have: count the proxy itself.
            Err(_) => return peer,
        }
    }
    peer
}

/// A source as counted and kept: an IPv4 address, or an IPv6 /64 (one subscriber's
/// usual allocation, so rotating within it gains nothing), hashed with the database's key.
fn source_of(relay: &Relay, address: IpAddr) -> Source {
    let mut network = [0u8; 17];
    match address {
        IpAddr::V4(v4) => {
            network[0] = 4;
            network[1..5].copy_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            network[0] = 6;
            network[1..9].copy_from_slice(&v6.octets()[..8]);
        }
    }
    let mut keyed = relay.source_key.to_vec();
    keyed.extend_from_slice(&network);
    protocol::digest_of(&keyed)[..16]
        .try_into()
        .expect("16 bytes")
}

/// Counts the request against its source's rate, before any work is done for it.
fn admit(relay: &Relay, peer: Peer, headers: &HeaderMap) -> Result<Source, Refusal> {
    let source = source_of(
        relay,
        client_address(peer.0, headers, &relay.config.trusted_proxies),
    );
    if relay.source_limiter.check_key(&source).is_err() {
        return Err(SOURCE_TOO_BUSY);
    }
    Ok(source)
}

/// Checks the request is signed by the key whose public half is the address, recently,
/// and within the mailbox's rate.
fn authorise(
    relay: &Relay,
    address: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Address, Refusal> {
    let unauthorised = |why| Refusal(StatusCode::UNAUTHORIZED, why);
    let address: Address = hex::decode(address)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(Refusal(StatusCode::NOT_FOUND, "no such mailbox"))?;
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let time: i64 = header(protocol::TIME_HEADER)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| unauthorised("the request is not signed"))?;
    let signature = header(protocol::SIGNATURE_HEADER)
        .and_then(|s| hex::decode(s).ok())
        .ok_or_else(|| unauthorised("the request is not signed"))?;
    if (chrono::Utc::now().timestamp() - time).abs() > protocol::MAX_CLOCK_SKEW_SECONDS {
        return Err(unauthorised(
            "the request's time is too far from the relay's: check the device's clock",
        ));
    }
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if !protocol::verify_request(&address, method.as_str(), path, time, body, &signature) {
        return Err(unauthorised(
            "the request is not signed by this mailbox's key",
        ));
    }
    if relay.limiter.check_key(&address).is_err() {
        return Err(MAILBOX_TOO_BUSY);
    }
    Ok(address)
}

fn tag_from(text: Option<&str>) -> Option<Tag> {
    hex::decode(text?).ok()?.try_into().ok()
}

async fn post_messages(
    State(relay): State<Shared>,
    Path(address): Path<String>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let result = post_inner(&relay, &address, peer, &method, &uri, &headers, body).await;
    finish(&relay, "post", started, result)
}

async fn post_inner(
    relay: &Shared,
    address: &str,
    peer: Peer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, Refusal> {
    let source = admit(relay, peer, headers)?;
    let mailbox = authorise(relay, address, method, uri, headers, &body)?;
    let sender = tag_from(
        headers
            .get(protocol::FROM_HEADER)
            .and_then(|v| v.to_str().ok()),
    )
    .ok_or(Refusal(
        StatusCode::BAD_REQUEST,
        "the posting device's tag is missing",
    ))?;
    let messages = protocol::decode_post(&body)
        .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "the post is malformed"))?;
    if messages
        .iter()
        .any(|m| m.body.len() > relay.config.max_message_bytes)
    {
        return Err(Refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a message is larger than this relay accepts",
        ));
    }
    let messages: Vec<NewMessage> = messages
        .into_iter()
        .map(|m| NewMessage {
            recipient: m.recipient,
            digest: protocol::digest_of(&m.body),
            body: m.body,
        })
        .collect();
    let post = PostRequest {
        mailbox,
        sender,
        messages,
        source,
    };
    let posted = relay.posts.call(post).await.unwrap_or(Err(RELAY_FAILED))?;
    match posted {
        Posted::Stored { stored, duplicates } => {
            relay.metrics.stored.inc_by(stored.into());
            relay.metrics.duplicates.inc_by(duplicates.into());
            Ok(
                Json(serde_json::json!({ "stored": stored, "duplicates": duplicates }))
                    .into_response(),
            )
        }
        Posted::OverQuota(full) => Err(full.into()),
    }
}

#[derive(serde::Deserialize)]
struct FetchQuery {
    after: Option<u64>,
    limit: Option<usize>,
}

async fn fetch_messages(
    State(relay): State<Shared>,
    Path((address, tag)): Path<(String, String)>,
    Query(query): Query<FetchQuery>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let result = async {
        let source = admit(&relay, peer, &headers)?;
        fetch_inner(
            &relay, &address, &tag, query, &method, &uri, &headers, source,
        )
        .await
    }
    .await;
    finish(&relay, "fetch", started, result)
}

#[allow(clippy::too_many_arguments)]
async fn fetch_inner(
    relay: &Shared,
    address: &str,
    tag: &str,
    query: FetchQuery,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    source: Source,
) -> Result<Response, Refusal> {
    let mailbox = authorise(relay, address, method, uri, headers, &[])?;
    let recipient = tag_from(Some(tag)).ok_or(Refusal(StatusCode::NOT_FOUND, "no such inbox"))?;
    let after = query.after.unwrap_or(0);
    let limit = query
        .limit
        .unwrap_or(relay.config.max_fetch)
        .clamp(1, relay.config.max_fetch);
    let fetch = FetchRequest {
        mailbox,
        recipient,
        after,
        limit,
        max_bytes: relay.config.max_fetch_bytes.max(1),
    };
    let (messages, more) = relay
        .fetches
        .call((fetch, source))
        .await
        .unwrap_or(Err(RELAY_FAILED))?;
    relay.metrics.delivered.inc_by(messages.len() as u64);
    Ok((
        [("content-type", "application/octet-stream")],
        protocol::encode_fetched(&messages, more),
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct BackupQuery {
    version: Option<i64>,
}

/// A recovery backup slot: one sealed blob per kit, replaced on each write, signed like a
/// mailbox request by the slot's key (derived from the kit's words; docs/adr/0009-recovery.md).
/// Each write names a version (in the signed query) greater than the one kept, so an
/// earlier upload replayed within the signature's time window cannot roll it back (409).
async fn put_backup(
    State(relay): State<Shared>,
    Path(address): Path<String>,
    Query(query): Query<BackupQuery>,
    peer: Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let result = async {
        let source = admit(&relay, peer, &headers)?;
        // The route takes PUT only.
        let slot = authorise(&relay, &address, &Method::PUT, &uri, &headers, &body)?;
        let version = query.version.filter(|v| *v > 0).ok_or(Refusal(
            StatusCode::BAD_REQUEST,
            "the backup's version is missing",
        ))?;
        if body.len() > relay.config.max_backup_bytes {
            return Err(Refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the backup is larger than this relay accepts",
            ));
        }
        let storage = relay.storage.clone();
        let config = relay.config.clone();
        let put = tokio::task::spawn_blocking(move || {
            if let Some(refusal) = shared_rates(&*storage, &config, &[(&slot, &source)]).remove(0) {
                return Err(refusal);
            }
            let now = chrono::Utc::now().timestamp();
            storage
                .put_backup(&slot, &body, version, now, &source, config.quota)
                .map_err(Refusal::from)
        })
        .await
        .map_err(|_| Refusal(StatusCode::INTERNAL_SERVER_ERROR, "the relay failed"))??;
        match put {
            BackupPut::Stored => {
                Ok(Json(serde_json::json!({ "stored": true, "version": version })).into_response())
            }
            // The version kept goes back to the slot's holder, so a device whose clock ran
            // behind can write again above it.
            BackupPut::Stale { version } => Ok((
                StatusCode::CONFLICT,
                Json(serde_json::json!({
                    "error": "a backup of this version or newer is kept",
                    "version": version,
                })),
            )
                .into_response()),
            BackupPut::OverQuota(full) => Err(full.into()),
        }
    }
    .await;
    finish(&relay, "put_backup", started, result)
}

async fn get_backup(
    State(relay): State<Shared>,
    Path(address): Path<String>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let result = async {
        let source = admit(&relay, peer, &headers)?;
        let slot = authorise(&relay, &address, &method, &uri, &headers, &[])?;
        let storage = relay.storage.clone();
        let config = relay.config.clone();
        let backup = tokio::task::spawn_blocking(move || {
            if let Some(refusal) = shared_rates(&*storage, &config, &[(&slot, &source)]).remove(0) {
                return Err(refusal);
            }
            storage.get_backup(&slot).map_err(Refusal::from)
        })
        .await
        .map_err(|_| Refusal(StatusCode::INTERNAL_SERVER_ERROR, "the relay failed"))??;
        match backup {
            Some(body) => {
                Ok(([("content-type", "application/octet-stream")], body).into_response())
            }
            None => Err(Refusal(
                StatusCode::NOT_FOUND,
                "no backup is kept for this kit",
            )),
        }
    }
    .await;
    finish(&relay, "get_backup", started, result)
}
