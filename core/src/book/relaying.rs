//! Syncing a record through a relay (docs/adr/0008-relay.md): one bounded exchange fetches
//! what waits in this device's inbox (one request), hands each message to `receive` like
//! any other, and posts the next message for each peer (one request per mailbox). The HTTP
//! goes through the app's `RelayTransport`; the lock is never held while it runs.
//!
//! A relay that drops, delays, duplicates, reorders, replays or serves stale messages can
//! only delay sync: every envelope is checked as if it came from anywhere, automerge
//! applies each change once, and a peer that has not answered is asked again.

use super::{sharing, RedBook};
use crate::model::RecordId;
use crate::sync::relay::{self, HttpRequest, Mailbox, Outgoing, RelayTransport};
use crate::sync::{self, Kind};
use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

const RELAY_CURSOR: &str = "relay_cursor";
const RELAY_MAILBOXES: &str = "relay_mailboxes";
/// The most messages one exchange fetches; the report says when more wait.
const FETCH_LIMIT: usize = 64;
/// Mailboxes of earlier key epochs kept, to leave key messages for members still there.
const KEPT_MAILBOXES: usize = 8;

/// What one exchange with a relay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Messages fetched and accepted.
    pub received: u32,
    /// Messages fetched and refused (not from a member, tampered, under another key):
    /// each changed nothing.
    pub refused: u32,
    /// Messages posted for other devices.
    pub posted: u32,
    /// Whether the record changed.
    pub changed: bool,
    /// More messages wait than one exchange fetches: exchange again.
    pub more_waiting: bool,
    /// HTTP requests made.
    pub round_trips: u32,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl RelayReport {
    /// Adds what a later exchange did (a caller that exchanges while more waits).
    pub fn add(&mut self, later: &RelayReport) {
        self.received += later.received;
        self.refused += later.refused;
        self.posted += later.posted;
        self.changed |= later.changed;
        self.more_waiting = later.more_waiting;
        self.round_trips += later.round_trips;
        self.bytes_sent += later.bytes_sent;
        self.bytes_received += later.bytes_received;
    }
}

/// Where this device's inbox was read up to, in which mailbox.
#[derive(Serialize, Deserialize)]
struct Cursor {
    address: String,
    after: u64,
}

/// A mailbox secret of one epoch, sealed at rest with the rest of the meta values.
#[derive(Serialize, Deserialize)]
struct KeptMailbox {
    epoch: u32,
    secret: Vec<u8>,
}

impl RedBook {
    /// One bounded exchange with the relay at `base_url` for record `id`: fetch, apply,
    /// post. Safe to run from a background job at any time and to repeat; an error leaves
    /// the record as it was (what was applied before it stays applied).
    pub fn relay_exchange(
        &self,
        id: &RecordId,
        transport: &dyn RelayTransport,
        base_url: &str,
    ) -> Result<RelayReport, Error> {
        let relay = Relay::new(transport, base_url);
        let me = self.device_id();
        let mut report = RelayReport::default();
        let mut heard_from = HashSet::new();
        // A key message can move the record to the next epoch's mailbox: read that too.
        let mut read = Vec::new();
        while read.len() < 2 {
            let mailbox = self.relay_mailbox(id)?;
            if read.contains(&mailbox.epoch) {
                break;
            }
            read.push(mailbox.epoch);
            let after = self.relay_cursor(id, &mailbox)?;
            let tag = mailbox.recipient_tag(&me);
            let path = relay::fetch_path(&mailbox.address(), &tag, after, FETCH_LIMIT);
            let answer = relay.call(&mailbox, "GET", &path, Vec::new(), &mut report)?;
            let (messages, more) = relay::decode_fetched(&answer)?;
            report.more_waiting = more;
            let mut last = after;
            for message in messages {
                last = last.max(message.seq);
                let received = mailbox
                    .open(&tag, &message.body)
                    .map_err(Error::from)
                    .and_then(|envelope| self.receive(&envelope));
                match received {
                    Ok(received) => {
                        report.received += 1;
                        report.changed |= received.changed;
                        heard_from.insert(received.from_device);
                    }
                    Err(_) => report.refused += 1,
                }
            }
            self.save_relay_cursor(id, &mailbox, last)?;
        }
        // A restored phone's introduction has done its work once a member answers it.
        if !heard_from.is_empty() && self.pending_introduction(id)?.is_some() {
            self.introduction_done(id)?;
        }
        for (mailbox, messages) in self.relay_outgoing(id, &me, &heard_from)? {
            if messages.is_empty() {
                continue;
            }
            report.posted += messages.len() as u32;
            let path = relay::post_path(&mailbox.address());
            let body = relay::encode_post(&messages);
            let from = hex::encode(mailbox.recipient_tag(&me));
            relay.call_from(&mailbox, "POST", &path, body, Some(from), &mut report)?;
        }
        Ok(report)
    }

    /// The record's mailbox at the key this device holds now (remembered for later
    /// epochs' key messages), and this device's id.
    fn relay_mailbox(&self, id: &RecordId) -> Result<Mailbox, Error> {
        let mut inner = self.lock();
        let store = &mut inner.store;
        let epoch = store.record_epoch(id)?;
        let mailbox = Mailbox::derive(&store.record_key(id)?, epoch);
        let name = store.record_meta_name(RELAY_MAILBOXES, id);
        let mut kept = kept_mailboxes(store.sealed_meta(&name)?);
        if !kept.iter().any(|k| k.epoch == epoch) {
            kept.push(KeptMailbox {
                epoch,
                secret: mailbox.secret().as_bytes().to_vec(),
            });
            kept.sort_by_key(|k| std::cmp::Reverse(k.epoch));
            kept.truncate(KEPT_MAILBOXES);
            store.put_sealed_meta(&name, &serde_json::to_vec(&kept).expect("serialisable"))?;
        }
        Ok(mailbox)
    }

    fn relay_cursor(&self, id: &RecordId, mailbox: &Mailbox) -> Result<u64, Error> {
        let inner = self.lock();
        let name = inner.store.record_meta_name(RELAY_CURSOR, id);
        let cursor = inner
            .store
            .sealed_meta(&name)?
            .and_then(|bytes| serde_json::from_slice::<Cursor>(&bytes).ok());
        Ok(cursor
            .filter(|c| c.address == mailbox.address())
            .map_or(0, |c| c.after))
    }

    fn save_relay_cursor(&self, id: &RecordId, mailbox: &Mailbox, after: u64) -> Result<(), Error> {
        let inner = self.lock();
        let name = inner.store.record_meta_name(RELAY_CURSOR, id);
        let cursor = Cursor {
            address: mailbox.address(),
            after,
        };
        inner
            .store
            .put_sealed_meta(&name, &serde_json::to_vec(&cursor).expect("serialisable"))
    }

    /// The next message for each peer, sealed for its inbox: in the current mailbox, and
    /// a key message also in each earlier one (the peer may still be there). A silent peer
    /// that has not shown it holds this device's heads is asked again, less and less often.
    fn relay_outgoing(
        &self,
        id: &RecordId,
        me: &str,
        heard_from: &HashSet<String>,
    ) -> Result<Vec<(Mailbox, Vec<Outgoing>)>, Error> {
        let current = self.relay_mailbox(id)?;
        let own_kit = self.own_kit_id()?;
        let peers: Vec<String> = {
            let mut inner = self.lock();
            sharing::sync_peers(&mut inner.store, id, me)?
        }
        .into_iter()
        .filter(|peer| Some(peer) != own_kit.as_ref())
        .collect();
        // A restored phone first introduces itself (signed by its kit, under the key the
        // others hold), so they know it before its own messages arrive.
        let introduction = self.pending_introduction(id)?.and_then(|intro| {
            let secret = crate::crypto::SecretKey::from_slice(&intro.mailbox_secret).ok()?;
            Some((Mailbox::from_secret(secret, intro.epoch), intro.envelope))
        });
        let mut introductions = Vec::new();
        if let Some((mailbox, envelope)) = &introduction {
            for peer in &peers {
                let tag = mailbox.recipient_tag(peer);
                introductions.push(Outgoing {
                    recipient: tag,
                    body: mailbox.seal(&tag, envelope)?,
                });
            }
        }
        let earlier: Vec<Mailbox> = {
            let inner = self.lock();
            let name = inner.store.record_meta_name(RELAY_MAILBOXES, id);
            kept_mailboxes(inner.store.sealed_meta(&name)?)
                .into_iter()
                .filter(|k| k.epoch < current.epoch)
                .filter_map(|k| {
                    let secret = crate::crypto::SecretKey::from_slice(&k.secret).ok()?;
                    Some(Mailbox::from_secret(secret, k.epoch))
                })
                .collect()
        };
        let mut now = Vec::new();
        let mut before: Vec<Vec<Outgoing>> = earlier.iter().map(|_| Vec::new()).collect();
        for peer in peers {
            let mut envelope = self.sync_message(id, &peer)?;
            if envelope.is_none() && self.ask_again(id, &peer, heard_from.contains(&peer))? {
                envelope = self.sync_message(id, &peer)?;
            }
            let Some(envelope) = envelope else { continue };
            let is_keys = sync::parse_envelope(&envelope)?.header.kind == Kind::Keys;
            let tag = current.recipient_tag(&peer);
            now.push(Outgoing {
                recipient: tag,
                body: current.seal(&tag, &envelope)?,
            });
            if is_keys {
                for (mailbox, out) in earlier.iter().zip(&mut before) {
                    let tag = mailbox.recipient_tag(&peer);
                    out.push(Outgoing {
                        recipient: tag,
                        body: mailbox.seal(&tag, &envelope)?,
                    });
                }
            }
        }
        let mut all = Vec::new();
        if let Some((mailbox, _)) = introduction {
            all.push((mailbox, introductions));
        }
        all.push((current, now));
        all.extend(earlier.into_iter().zip(before));
        Ok(all)
    }

    /// Whether to ask `peer` again where it stands: it was not heard from in this exchange,
    /// has yet to show it holds everything here, and has been silent long enough (the
    /// wait doubles). If so, the session is set to ask.
    fn ask_again(&self, id: &RecordId, peer: &str, heard: bool) -> Result<bool, Error> {
        let mut inner = self.lock();
        let super::Inner {
            store, sessions, ..
        } = &mut *inner;
        let heads = store.record(id)?.heads();
        let session = sharing::session(sessions, store, id, peer)?;
        if heard {
            session.heard_from();
            return Ok(false);
        }
        if session.peer_has(&heads) || !session.silent_exchange() {
            return Ok(false);
        }
        session.ask_again();
        Ok(true)
    }
}

fn kept_mailboxes(bytes: Option<Vec<u8>>) -> Vec<KeptMailbox> {
    bytes
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The app's transport and the relay's base URL; counts what crosses. Every signed
/// request to a relay (mailboxes, and the recovery kit's backup slot) goes through it.
pub(super) struct Relay<'a> {
    transport: &'a dyn RelayTransport,
    base: &'a str,
}

impl<'a> Relay<'a> {
    pub(super) fn new(transport: &'a dyn RelayTransport, base_url: &'a str) -> Self {
        Self {
            transport,
            base: base_url.trim_end_matches('/'),
        }
    }

    pub(super) fn call(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        report: &mut RelayReport,
    ) -> Result<Vec<u8>, Error> {
        self.call_from(mailbox, method, path, body, None, report)
    }

    fn call_from(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        from: Option<String>,
        report: &mut RelayReport,
    ) -> Result<Vec<u8>, Error> {
        let mut headers = mailbox.sign_request(method, path, chrono::Utc::now().timestamp(), &body);
        if let Some(from) = from {
            headers.push((relay::FROM_HEADER.to_string(), from));
        }
        headers.push((
            "content-type".to_string(),
            "application/octet-stream".to_string(),
        ));
        report.round_trips += 1;
        report.bytes_sent += body.len() as u64;
        let response = self
            .transport
            .send(HttpRequest {
                method: method.to_string(),
                url: format!("{}{path}", self.base),
                headers,
                body,
            })
            .map_err(Error::RelayUnreachable)?;
        report.bytes_received += response.body.len() as u64;
        if !(200..300).contains(&response.status) {
            return Err(Error::RelayRefused {
                status: response.status,
                reason: relay::refusal_reason(&response.body),
            });
        }
        Ok(response.body)
    }
}
