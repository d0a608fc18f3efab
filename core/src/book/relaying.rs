//! Syncing a record through a relay (docs/adr/0008-relay.md): one bounded exchange fetches
//! what waits in this device's inbox (one request), hands each message to `receive` like
//! any other, and posts the next message for each peer (one request per mailbox). The HTTP
//! goes through the app's `RelayTransport`; the lock is never held while it runs.
//!
//! A relay that drops, delays, duplicates, reorders, replays or serves stale messages can
//! only delay sync: every envelope is checked as if it came from anywhere, automerge
//! applies each change once, and a peer that has not answered is asked again.

use super::RedBook;
use crate::model::RecordId;
use crate::sync::mailboxes;
use crate::sync::relay::{self, HttpRequest, HttpResponse, Mailbox, Outgoing, RelayTransport};
use crate::sync::removal;
use crate::sync::{self, Kind};
use crate::Error;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

const RELAY_CURSOR: &str = "relay_cursor";
/// The most messages one exchange fetches; the report says when more wait.
const FETCH_LIMIT: usize = 64;
/// Earlier mailboxes read while a member has yet to show it holds the key in force.
const EARLIER_READ: usize = 2;

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
    /// An admin removed this device from the record: it no longer posts (words for a
    /// parent: `RedBook::removal_notice`).
    pub removed: bool,
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
        self.removed |= later.removed;
        self.round_trips += later.round_trips;
        self.bytes_sent += later.bytes_sent;
        self.bytes_received += later.bytes_received;
    }
}

/// Where this device's inbox was read up to, on which relay and in which mailbox. Kept per
/// relay: sequence numbers are one relay's own, and a cursor taken to another relay (or a
/// move back) would acknowledge, and so delete, messages nobody read there.
#[derive(Serialize, Deserialize)]
struct Cursor {
    relay: String,
    address: String,
    after: u64,
}

/// What one exchange posts: the messages for each mailbox.
type Posts = Vec<(Mailbox, Vec<Outgoing>)>;

/// Cursors kept per record (relays and mailboxes a device moved between).
const KEPT_CURSORS: usize = 16;

/// Whether a message that failed to apply will never apply: refused by the checks,
/// unreadable, under a key this device does not hold. Acknowledged as refused, not fetched
/// forever. Anything else (the database busy or full, a disk error) stops the exchange
/// before it, so the message is fetched again.
fn refused_for_good(e: &Error) -> bool {
    matches!(
        e,
        Error::Sync(_)
            | Error::InvalidInput(_)
            | Error::NotFound { .. }
            | Error::Crypto(_)
            | Error::Internal(_)
            | Error::RecordClosed
    )
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
            let more = self.read_inbox(&relay, id, &mailbox, &me, &mut report, &mut heard_from)?;
            report.more_waiting = more;
        }
        // A member still on an earlier key posts there, where nobody would read it: while
        // one has not shown it holds the key in force, read the latest earlier mailboxes
        // too. Its message is refused (old key), and the key message goes again at once.
        if self.a_peer_is_behind(id)? {
            for mailbox in self.earlier_mailboxes(id)?.into_iter().take(EARLIER_READ) {
                self.read_inbox(&relay, id, &mailbox, &me, &mut report, &mut heard_from)?;
            }
        }
        if self.removed_from(id)? {
            // Nobody reads what it would post; it still reads, in case it is granted again.
            report.removed = true;
            return Ok(report);
        }
        // A restored phone's introduction has done its work once every member holds the key
        // in force: one member's answer is not enough, since a member that missed it (a
        // relay replaced, a message lost) refuses this phone's own messages, which come
        // from a device it does not know (docs/adr/0009-recovery.md).
        if self.pending_introduction(id)?.is_some() && !self.a_peer_is_behind(id)? {
            self.introduction_done(id)?;
        }
        let notices = {
            let mut inner = self.lock();
            let super::Inner { store, keys, .. } = &mut *inner;
            removal::removal_notices(store, keys, id)?
        };
        let (outgoing, notice_sent, sent_to) = self.relay_outgoing(id, &heard_from, &notices)?;
        for (mailbox, messages) in outgoing {
            if messages.is_empty() {
                continue;
            }
            report.posted += messages.len() as u32;
            let path = relay::post_path(&mailbox.address());
            let body = relay::encode_post(&messages);
            let from = hex::encode(mailbox.recipient_tag(&me));
            let posted = relay.call_from(&mailbox, "POST", &path, body, Some(from), &mut report);
            if let Err(Error::RelayUnreachable(_)) = &posted {
                // This post and the ones after it may never have reached the relay, though
                // each peer's session counts them as sent: without this, a key message lost
                // this way waited for the ask-again schedule (docs/adr/0008-relay.md).
                self.send_again(id, &sent_to)?;
            }
            posted?;
        }
        let told: Vec<String> = notices.into_iter().map(|(device, _)| device).collect();
        removal::removal_notified(&self.lock().store, id, &told)?;
        if notice_sent {
            self.introduction_notice_sent(id)?;
        }
        Ok(report)
    }

    /// Fetches this device's inbox in `mailbox` after its cursor on this relay, hands each
    /// message to `receive`, and saves the cursor; says whether more wait.
    fn read_inbox(
        &self,
        relay: &Relay,
        id: &RecordId,
        mailbox: &Mailbox,
        me: &str,
        report: &mut RelayReport,
        heard_from: &mut HashSet<String>,
    ) -> Result<bool, Error> {
        let mut after = self.relay_cursor(id, relay.base, mailbox)?;
        let tag = mailbox.recipient_tag(me);
        let path = relay::fetch_path(&mailbox.address(), &tag, after, FETCH_LIMIT);
        let answer = match relay.call(mailbox, "GET", &path, Vec::new(), report) {
            // The relay never issued that cursor (its database was rebuilt): it deleted
            // nothing; read the inbox from the start.
            Err(Error::RelayRefused { status: 409, .. }) if after > 0 => {
                after = 0;
                let path = relay::fetch_path(&mailbox.address(), &tag, 0, FETCH_LIMIT);
                relay.call(mailbox, "GET", &path, Vec::new(), report)?
            }
            answer => answer?,
        };
        let (mut messages, more) = relay::decode_fetched(&answer)?;
        // In order, so the cursor stops just before a message that could not be applied
        // now: the next fetch must not acknowledge it.
        messages.sort_by_key(|message| message.seq);
        let mut last = after;
        let mut stopped = None;
        for message in messages {
            let received = mailbox
                .open(&tag, &message.body)
                .map_err(Error::from)
                .and_then(|envelope| self.lock().engine().receive(&envelope));
            match received {
                Ok(received) => {
                    report.received += 1;
                    report.changed |= received.changed;
                    heard_from.insert(received.from_device);
                }
                Err(e) if refused_for_good(&e) => report.refused += 1,
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            }
            last = last.max(message.seq);
        }
        self.save_relay_cursor(id, relay.base, mailbox, last)?;
        match stopped {
            Some(e) => Err(e),
            None => Ok(more),
        }
    }

    /// Whether a peer has yet to show it holds the key in force.
    fn a_peer_is_behind(&self, id: &RecordId) -> Result<bool, Error> {
        let own_kit = self.own_kit_id()?;
        let mut inner = self.lock();
        let mut engine = inner.engine();
        let epoch = engine.store.record_epoch(id)?;
        for peer in engine.peers(id)? {
            if Some(&peer) != own_kit.as_ref() && !engine.session(id, &peer)?.holds(epoch) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The mailboxes of earlier epochs this device kept, newest first.
    fn earlier_mailboxes(&self, id: &RecordId) -> Result<Vec<Mailbox>, Error> {
        mailboxes::earlier_mailboxes(&mut self.lock().store, id)
    }

    /// The record's mailbox at the key this device holds now (remembered for later
    /// epochs' key messages), and this device's id.
    fn relay_mailbox(&self, id: &RecordId) -> Result<Mailbox, Error> {
        mailboxes::current_mailbox(&mut self.lock().store, id)
    }

    /// The cursors kept for a record; one saved in an older form (a single mailbox, no
    /// relay) is dropped: reading an inbox from the start again is safe, acknowledging
    /// on the wrong relay is not.
    fn relay_cursors(&self, id: &RecordId) -> Result<Vec<Cursor>, Error> {
        let inner = self.lock();
        let name = inner.store.record_meta_name(RELAY_CURSOR, id);
        Ok(inner
            .store
            .sealed_meta(&name)?
            .and_then(|bytes| serde_json::from_slice::<Vec<Cursor>>(&bytes).ok())
            .unwrap_or_default())
    }

    fn relay_cursor(&self, id: &RecordId, base: &str, mailbox: &Mailbox) -> Result<u64, Error> {
        let address = mailbox.address();
        Ok(self
            .relay_cursors(id)?
            .iter()
            .find(|c| c.relay == base && c.address == address)
            .map_or(0, |c| c.after))
    }

    fn save_relay_cursor(
        &self,
        id: &RecordId,
        base: &str,
        mailbox: &Mailbox,
        after: u64,
    ) -> Result<(), Error> {
        let address = mailbox.address();
        let mut cursors = self.relay_cursors(id)?;
        cursors.retain(|c| !(c.relay == base && c.address == address));
        cursors.insert(
            0,
            Cursor {
                relay: base.to_string(),
                address,
                after,
            },
        );
        cursors.truncate(KEPT_CURSORS);
        let inner = self.lock();
        let name = inner.store.record_meta_name(RELAY_CURSOR, id);
        inner
            .store
            .put_sealed_meta(&name, &serde_json::to_vec(&cursors).expect("serialisable"))
    }

    /// The next message for each peer, sealed for its inbox: in the current mailbox, and
    /// a key message also in each earlier one (the peer may still be there). A silent peer
    /// that has not shown it holds this device's heads is asked again, less and less often.
    /// Also says whether a restored phone's notice to the phone it replaced went out.
    fn relay_outgoing(
        &self,
        id: &RecordId,
        heard_from: &HashSet<String>,
        removal_notices: &[(String, Vec<u8>)],
    ) -> Result<(Posts, bool, Vec<String>), Error> {
        let current = self.relay_mailbox(id)?;
        let own_kit = self.own_kit_id()?;
        let peers: Vec<String> = self
            .lock()
            .engine()
            .peers(id)?
            .into_iter()
            .filter(|peer| Some(peer) != own_kit.as_ref())
            .collect();
        // A restored phone first introduces itself (signed by its kit, under the key the
        // others hold), so they know it before its own messages arrive.
        let introduction = self.pending_introduction(id)?.and_then(|intro| {
            let secret = crate::crypto::SecretKey::from_slice(&intro.mailbox_secret).ok()?;
            Some((
                Mailbox::from_secret(secret, intro.epoch),
                intro.envelope,
                intro.notice,
            ))
        });
        let earlier = self.earlier_mailboxes(id)?;
        let mut now = Vec::new();
        let mut before: Vec<Vec<Outgoing>> = earlier.iter().map(|_| Vec::new()).collect();
        // A device removed here reads an earlier mailbox (it never got the new key).
        for (device, notice) in removal_notices {
            for (mailbox, out) in earlier.iter().zip(&mut before) {
                let tag = mailbox.recipient_tag(device);
                out.push(Outgoing {
                    recipient: tag,
                    body: mailbox.seal(&tag, notice)?,
                });
            }
        }
        // Peers sent a key message now: they may not know this phone yet.
        let mut keys_to = Vec::new();
        let mut sent_to = Vec::new();
        for peer in peers {
            let mut envelope = self.lock().engine().next_message(id, &peer, true)?;
            let heard = heard_from.contains(&peer);
            if self.ask_again(id, &peer, heard, envelope.is_none())? {
                envelope = self.lock().engine().next_message(id, &peer, true)?;
            }
            if envelope.is_some() {
                sent_to.push(peer.clone());
            }
            while let Some(sent) = envelope.take() {
                let is_keys = sync::parse_envelope(&sent)?.header.kind == Kind::Keys;
                let tag = current.recipient_tag(&peer);
                now.push(Outgoing {
                    recipient: tag,
                    body: current.seal(&tag, &sent)?,
                });
                if is_keys {
                    keys_to.push(peer.clone());
                    for (mailbox, out) in earlier.iter().zip(&mut before) {
                        let tag = mailbox.recipient_tag(&peer);
                        out.push(Outgoing {
                            recipient: tag,
                            body: mailbox.seal(&tag, &sent)?,
                        });
                    }
                    // The sync message follows in the same post: the key message moves
                    // the peer to this mailbox, where it reads it in the same exchange.
                    envelope = self.lock().engine().next_message(id, &peer, true)?;
                }
            }
        }
        let mut all = Vec::new();
        let mut notice_sent = false;
        if let Some((mailbox, envelope, notice)) = introduction {
            // With each key message (once, then on the ask-again schedule), not at every
            // exchange: a peer that holds everything never answers it.
            let mut introductions = Vec::new();
            for peer in &keys_to {
                let tag = mailbox.recipient_tag(peer);
                introductions.push(Outgoing {
                    recipient: tag,
                    body: mailbox.seal(&tag, &envelope)?,
                });
            }
            // The phone it replaced still reads this mailbox: tell it, once, it was removed.
            if let Some((device, notice)) = notice {
                let tag = mailbox.recipient_tag(&device);
                introductions.push(Outgoing {
                    recipient: tag,
                    body: mailbox.seal(&tag, &notice)?,
                });
                notice_sent = true;
            }
            all.push((mailbox, introductions));
        }
        all.push((current, now));
        all.extend(earlier.into_iter().zip(before));
        Ok((all, notice_sent, sent_to))
    }

    /// A post failed on the way, so the messages just made for `peers` may not have left:
    /// as when a silent peer is asked again, the key message goes again at the next
    /// exchange and no message is taken as in flight.
    fn send_again(&self, id: &RecordId, peers: &[String]) -> Result<(), Error> {
        let mut inner = self.lock();
        let mut engine = inner.engine();
        for peer in peers {
            let session = engine.session(id, peer)?;
            session.ask_again();
            let saved = session.encode();
            engine.store.save_sync_state(id, peer, &saved)?;
        }
        Ok(())
    }

    /// Whether to ask `peer` again where it stands: there is nothing to send it, it was
    /// not heard from in this exchange, has yet to show it holds everything here under the
    /// key in force, and has been silent long enough (the wait doubles, and is saved, so a
    /// background job that opens the database for each run backs off too). If so, the
    /// session is set to ask (with the key message again when the peer has not shown it
    /// holds the key).
    fn ask_again(
        &self,
        id: &RecordId,
        peer: &str,
        heard: bool,
        nothing_to_send: bool,
    ) -> Result<bool, Error> {
        let mut inner = self.lock();
        let mut engine = inner.engine();
        let heads = engine.store.record(id)?.heads();
        let epoch = engine.store.record_epoch(id)?;
        let session = engine.session(id, peer)?;
        let ask = if heard {
            session.heard_from();
            false
        } else if !nothing_to_send || session.peer_has(&heads, epoch) || !session.silent_exchange()
        {
            false
        } else {
            session.ask_again();
            true
        };
        let saved = session.encode();
        engine.store.save_sync_state(id, peer, &saved)?;
        Ok(ask)
    }
}

/// The app's transport and the relay's base URL; counts what crosses. Every signed
/// request to a relay (mailboxes, and the recovery kit's backup slot) goes through it.
pub(super) struct Relay<'a> {
    transport: &'a dyn RelayTransport,
    /// The relay's base URL, without a trailing slash: also what its cursors are kept by.
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
        let response = self.send(mailbox, method, path, body, from, report)?;
        if !(200..300).contains(&response.status) {
            return Err(refused(&response));
        }
        Ok(response.body)
    }

    /// One signed request and the relay's answer, whatever its status (a caller that reads
    /// a refusal's body, as a backup upload reads the version the relay keeps).
    pub(super) fn send(
        &self,
        mailbox: &Mailbox,
        method: &str,
        path: &str,
        body: Vec<u8>,
        from: Option<String>,
        report: &mut RelayReport,
    ) -> Result<HttpResponse, Error> {
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
        Ok(response)
    }
}

/// A relay's refusal as the app's error, with the reason it gave.
pub(super) fn refused(response: &HttpResponse) -> Error {
    Error::RelayRefused {
        status: response.status,
        reason: relay::refusal_reason(&response.body),
    }
}
