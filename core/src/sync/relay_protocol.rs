//! The relay protocol: how devices that never meet exchange sealed sync envelopes through
//! a store-and-forward relay that is trusted with nothing (docs/adr/0008-relay.md).
//!
//! - A record's **mailbox** at a key epoch is derived from the record key: only members
//!   that hold that key can find it, sign for it or read what it holds. Its address is the
//!   public half of an Ed25519 key derived from the key, so the relay checks a request's
//!   signature against the address itself and stores no credentials. A removed member
//!   never learns the next key, so it can neither find nor sign for the next mailbox.
//! - Inside a mailbox each device has an inbox named by a **recipient tag** (a keyed hash
//!   of its device id under the mailbox key): the relay learns neither record, child,
//!   family nor device.
//! - Each envelope is sealed once more under the mailbox's own key, bound to its inbox, so
//!   the relay sees no record or device id from the envelope's header either.
//! - Nothing here is trusted for integrity: every envelope inside is signed by a member
//!   device and checked by `RedBook::receive` like any other.
//!
//! Parsing never panics and checks every length before use.

use super::SyncError;
use crate::crypto::SecretKey;
use ring::digest;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

/// The protocol's name, in every signed request and every derived key.
pub const PROTOCOL: &str = "redbook-relay-v1";
/// The largest sealed message a relay accepts: one envelope of the largest body, sealed.
pub const MAX_MESSAGE: usize =
    super::MAX_BODY + super::HEADER_LEN + super::SIGNATURE_LEN + crate::crypto::SEAL_OVERHEAD;
/// The most messages one post carries.
pub const MAX_BATCH: usize = 256;
/// How far a request's clock may be from the relay's, either way.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;
/// Header carrying the request's Unix time (seconds).
pub const TIME_HEADER: &str = "x-redbook-time";
/// Header carrying the mailbox key's signature over the request, as hex.
pub const SIGNATURE_HEADER: &str = "x-redbook-signature";
/// Header naming the posting device's own inbox tag, for per-device quotas.
pub const FROM_HEADER: &str = "x-redbook-from";

pub const TAG_LEN: usize = 16;
pub type Tag = [u8; TAG_LEN];

/// One record's mailbox at one key epoch, as a member derives it.
pub struct Mailbox {
    pub epoch: u32,
    secret: SecretKey,
    signing: Ed25519KeyPair,
    sealing: SecretKey,
    tags: SecretKey,
}

impl Mailbox {
    /// The mailbox secret for `epoch` from the record key of that epoch; kept (sealed at
    /// rest) so a device can still leave key messages for members one epoch behind.
    pub fn secret_for(record_key: &SecretKey, epoch: u32) -> SecretKey {
        record_key.derive(&format!("{PROTOCOL}/mailbox/{epoch}"))
    }

    pub fn from_secret(secret: SecretKey, epoch: u32) -> Self {
        let seed = secret.derive("signing");
        let signing = Ed25519KeyPair::from_seed_unchecked(seed.as_bytes())
            .expect("any 32 bytes are an Ed25519 seed");
        Self {
            epoch,
            sealing: secret.derive("sealing"),
            tags: secret.derive("recipients"),
            secret,
            signing,
        }
    }

    pub fn derive(record_key: &SecretKey, epoch: u32) -> Self {
        Self::from_secret(Self::secret_for(record_key, epoch), epoch)
    }

    pub fn secret(&self) -> &SecretKey {
        &self.secret
    }

    /// The mailbox's address: its Ed25519 public key, as hex.
    pub fn address(&self) -> String {
        hex::encode(self.signing.public_key().as_ref())
    }

    /// The inbox of `device_id` in this mailbox.
    pub fn recipient_tag(&self, device_id: &str) -> Tag {
        let hash = self.tags.keyed_hash(device_id.as_bytes());
        hash[..TAG_LEN].try_into().expect("16 of 32 bytes")
    }

    /// Seals an envelope for one inbox.
    pub fn seal(&self, recipient: &Tag, envelope: &[u8]) -> Result<Vec<u8>, SyncError> {
        self.sealing
            .seal(&self.binding(recipient), envelope)
            .map_err(|_| SyncError::Unreadable)
    }

    /// Opens what was sealed for `recipient`; anything else is unreadable.
    pub fn open(&self, recipient: &Tag, sealed: &[u8]) -> Result<Vec<u8>, SyncError> {
        self.sealing
            .open(&self.binding(recipient), sealed)
            .map_err(|_| SyncError::Unreadable)
    }

    fn binding(&self, recipient: &Tag) -> Vec<u8> {
        let mut aad = self.signing.public_key().as_ref().to_vec();
        aad.extend_from_slice(recipient);
        aad
    }

    /// The headers that prove a request comes from a holder of this mailbox's key.
    pub fn sign_request(
        &self,
        method: &str,
        path_and_query: &str,
        unix_time: i64,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let signed = request_to_sign(method, path_and_query, unix_time, body);
        vec![
            (TIME_HEADER.to_string(), unix_time.to_string()),
            (
                SIGNATURE_HEADER.to_string(),
                hex::encode(self.signing.sign(&signed).as_ref()),
            ),
        ]
    }
}

/// What a request's signature covers: method, path with query, time and the body's hash.
pub fn request_to_sign(method: &str, path_and_query: &str, unix_time: i64, body: &[u8]) -> Vec<u8> {
    format!(
        "{PROTOCOL}\n{method}\n{path_and_query}\n{unix_time}\n{}",
        hex::encode(digest::digest(&digest::SHA256, body))
    )
    .into_bytes()
}

/// Whether the holder of the mailbox at `address` signed this request (the relay's check).
pub fn verify_request(
    address: &[u8; 32],
    method: &str,
    path_and_query: &str,
    unix_time: i64,
    body: &[u8],
    signature: &[u8],
) -> bool {
    UnparsedPublicKey::new(&ED25519, address)
        .verify(
            &request_to_sign(method, path_and_query, unix_time, body),
            signature,
        )
        .is_ok()
}

/// A message's content address: posting the same bytes again stores nothing new.
pub fn digest_of(body: &[u8]) -> [u8; 32] {
    digest::digest(&digest::SHA256, body)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

/// The relay's paths. Addresses and tags are lower-case hex.
pub fn post_path(address: &str) -> String {
    format!("/v1/mailboxes/{address}/messages")
}

/// A recovery kit's backup slot (PUT to replace, GET to read).
pub fn backup_path(address: &str) -> String {
    format!("/v1/backups/{address}")
}

pub fn fetch_path(address: &str, recipient: &Tag, after: u64, limit: usize) -> String {
    format!(
        "/v1/mailboxes/{address}/inbox/{}?after={after}&limit={limit}",
        hex::encode(recipient)
    )
}

/// One message to post: for one inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub recipient: Tag,
    pub body: Vec<u8>,
}

/// One message fetched, with the cursor that acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub seq: u64,
    pub body: Vec<u8>,
}

const POST_MAGIC: &[u8; 4] = b"RBP1";
const FETCHED_MAGIC: &[u8; 4] = b"RBF1";

/// A post's body: `"RBP1" | count u32 | (recipient [16] | length u32 | bytes)*`.
pub fn encode_post(messages: &[Outgoing]) -> Vec<u8> {
    let mut out = POST_MAGIC.to_vec();
    out.extend_from_slice(&(messages.len() as u32).to_be_bytes());
    for message in messages {
        out.extend_from_slice(&message.recipient);
        out.extend_from_slice(&(message.body.len() as u32).to_be_bytes());
        out.extend_from_slice(&message.body);
    }
    out
}

pub fn decode_post(bytes: &[u8]) -> Result<Vec<Outgoing>, SyncError> {
    let mut reader = Reader::new(bytes, POST_MAGIC, "relay post")?;
    let count = reader.u32()? as usize;
    if count > MAX_BATCH {
        return Err(SyncError::Malformed("too many messages in one post"));
    }
    let mut messages = Vec::with_capacity(count);
    for _ in 0..count {
        let recipient: Tag = reader.take(TAG_LEN)?.try_into().expect("16 bytes");
        let len = reader.u32()? as usize;
        if len > MAX_MESSAGE {
            return Err(SyncError::Malformed("message too large"));
        }
        messages.push(Outgoing {
            recipient,
            body: reader.take(len)?.to_vec(),
        });
    }
    reader.finish()?;
    Ok(messages)
}

/// A fetch's answer: `"RBF1" | more u8 | count u32 | (seq u64 | length u32 | bytes)*`.
pub fn encode_fetched(messages: &[Delivered], more: bool) -> Vec<u8> {
    let mut out = FETCHED_MAGIC.to_vec();
    out.push(u8::from(more));
    out.extend_from_slice(&(messages.len() as u32).to_be_bytes());
    for message in messages {
        out.extend_from_slice(&message.seq.to_be_bytes());
        out.extend_from_slice(&(message.body.len() as u32).to_be_bytes());
        out.extend_from_slice(&message.body);
    }
    out
}

pub fn decode_fetched(bytes: &[u8]) -> Result<(Vec<Delivered>, bool), SyncError> {
    let mut reader = Reader::new(bytes, FETCHED_MAGIC, "relay answer")?;
    let more = match reader.take(1)?[0] {
        0 => false,
        1 => true,
        _ => return Err(SyncError::Malformed("relay answer")),
    };
    let count = reader.u32()? as usize;
    let mut messages = Vec::with_capacity(count.min(MAX_BATCH));
    for _ in 0..count {
        let seq = u64::from_be_bytes(reader.take(8)?.try_into().expect("8 bytes"));
        let len = reader.u32()? as usize;
        if len > MAX_MESSAGE {
            return Err(SyncError::Malformed("message too large"));
        }
        messages.push(Delivered {
            seq,
            body: reader.take(len)?.to_vec(),
        });
    }
    reader.finish()?;
    Ok((messages, more))
}

/// Reads a framed body front to back; every length checked before use.
struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], magic: &[u8; 4], what: &'static str) -> Result<Self, SyncError> {
        match bytes.strip_prefix(magic.as_slice()) {
            Some(rest) => Ok(Self { rest, what }),
            None => Err(SyncError::Malformed(what)),
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], SyncError> {
        if self.rest.len() < len {
            return Err(SyncError::Malformed(self.what));
        }
        let (part, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(part)
    }

    fn u32(&mut self) -> Result<u32, SyncError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn finish(self) -> Result<(), SyncError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(SyncError::Malformed(self.what))
        }
    }
}

/// The reason a relay gives for refusing a request (`{"error": "..."}`), kept short.
pub fn refusal_reason(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
    }
    match serde_json::from_slice::<Refusal>(body) {
        Ok(refusal) => refusal.error.chars().take(200).collect(),
        Err(_) => "no reason given".to_string(),
    }
}

/// One HTTP request, for the app's own HTTP stack to carry (OkHttp, URLSession; the CLI
/// and tests use a Rust client): the core never opens a socket itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The app's HTTP client. An error means no answer came (no network, timeout); an answer
/// with any status is `Ok`.
pub trait RelayTransport: Send + Sync {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(epoch: u32) -> Mailbox {
        Mailbox::derive(&SecretKey::from_slice(&[7; 32]).unwrap(), epoch)
    }

    #[test]
    fn each_epoch_has_its_own_address_and_only_its_key_signs_for_it() {
        let (one, two) = (mailbox(1), mailbox(2));
        assert_ne!(one.address(), two.address());
        assert_eq!(one.address(), mailbox(1).address(), "derived, not random");
        let headers = one.sign_request("GET", "/v1/x", 100, b"");
        let signature = hex::decode(&headers[1].1).unwrap();
        let address =
            |m: &Mailbox| -> [u8; 32] { hex::decode(m.address()).unwrap().try_into().unwrap() };
        assert!(verify_request(
            &address(&one),
            "GET",
            "/v1/x",
            100,
            b"",
            &signature
        ));
        assert!(!verify_request(
            &address(&two),
            "GET",
            "/v1/x",
            100,
            b"",
            &signature
        ));
        assert!(!verify_request(
            &address(&one),
            "GET",
            "/v1/y",
            100,
            b"",
            &signature
        ));
        assert!(!verify_request(
            &address(&one),
            "GET",
            "/v1/x",
            101,
            b"",
            &signature
        ));
        assert!(!verify_request(
            &address(&one),
            "GET",
            "/v1/x",
            100,
            b"a",
            &signature
        ));
    }

    #[test]
    fn a_sealed_message_opens_only_for_its_inbox_in_its_mailbox() {
        let one = mailbox(1);
        let (a, b) = (one.recipient_tag("aa"), one.recipient_tag("bb"));
        assert_ne!(a, b);
        let sealed = one.seal(&a, b"envelope").unwrap();
        assert_eq!(one.open(&a, &sealed).unwrap(), b"envelope");
        assert_eq!(one.open(&b, &sealed), Err(SyncError::Unreadable));
        assert_eq!(mailbox(2).open(&a, &sealed), Err(SyncError::Unreadable));
    }

    #[test]
    fn posts_and_answers_round_trip_and_every_truncation_is_refused() {
        let post = vec![
            Outgoing {
                recipient: [1; 16],
                body: b"one".to_vec(),
            },
            Outgoing {
                recipient: [2; 16],
                body: Vec::new(),
            },
        ];
        let bytes = encode_post(&post);
        assert_eq!(decode_post(&bytes).unwrap(), post);
        let fetched = vec![Delivered {
            seq: 9,
            body: b"x".to_vec(),
        }];
        let answer = encode_fetched(&fetched, true);
        assert_eq!(decode_fetched(&answer).unwrap(), (fetched, true));
        for cut in 0..bytes.len() {
            assert!(decode_post(&bytes[..cut]).is_err());
        }
        for cut in 0..answer.len() {
            assert!(decode_fetched(&answer[..cut]).is_err());
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(decode_post(&long).is_err());
        let mut huge = POST_MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(
            decode_post(&huge).is_err(),
            "a count is checked before allocating"
        );
    }
}
