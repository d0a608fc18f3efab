//! One bounded exchange of a record's messages with a relay (docs/adr/0008-relay.md):
//! fetch what waits in this device's inbox (one request per mailbox read), hand each
//! message to the sync engine like any other, and post the next message for each peer
//! (one request per mailbox). The engine is taken for each step and let go before every
//! request, so the app's transport never runs under the façade's lock.
//!
//! A relay that drops, delays, duplicates, reorders, replays or serves stale messages can
//! only delay sync: every envelope is checked as if it came from anywhere, automerge
//! applies each change once, and a peer that has not answered is asked again.

use super::cursors::{cursor, save_cursor};
use super::introduction;
use super::{Relay, RelayReport};
use crate::crypto::SecretKey;
use crate::model::RecordId;
use crate::sync::engine::SyncEngine;
use crate::sync::mailboxes::{current_mailbox, earlier_mailboxes};
use crate::sync::relay_protocol::{self, Delivered, Mailbox, Outgoing, RelayTransport};
use crate::sync::{parse_envelope, removal, Kind};
use crate::Error;
use std::collections::HashSet;

/// The most messages one exchange fetches; the report says when more wait.
const FETCH_LIMIT: usize = 64;
/// Earlier mailboxes read while a member has yet to show it holds the key in force.
const EARLIER_READ: usize = 2;

/// The device's sync engine behind the façade's lock: an exchange borrows it for one step
/// at a time.
pub trait LockedEngine {
    fn with_engine<T>(
        &self,
        step: impl FnOnce(&mut SyncEngine<'_>) -> Result<T, Error>,
    ) -> Result<T, Error>;
}

/// What one exchange posts: the messages for each mailbox.
type Posts = Vec<(Mailbox, Vec<Outgoing>)>;

/// What one exchange posts, and what it tells once the posts are made.
struct Outbox {
    posts: Posts,
    /// The peers a message was made for (sent again if a post fails on the way).
    sent_to: Vec<String>,
    /// The removed devices told here.
    told: Vec<String>,
    /// Whether a restored phone's notice to the phone it replaced went out.
    notice_sent: bool,
}

/// One bounded exchange with the relay at `base_url` for record `id`: fetch, apply,
/// post. Safe to run from a background job at any time and to repeat; an error leaves
/// the record as it was (what was applied before it stays applied). `own_kit` is this
/// device's recovery kit, which never syncs.
pub fn exchange(
    device: &impl LockedEngine,
    id: &RecordId,
    transport: &dyn RelayTransport,
    base_url: &str,
    own_kit: Option<&str>,
) -> Result<RelayReport, Error> {
    let relay = Relay::new(transport, base_url)?;
    let mut report = RelayReport::default();
    let mut heard_from = HashSet::new();
    let me = device.with_engine(|engine| Ok(engine.device_id.to_string()))?;
    // A key message can move the record to the next epoch's mailbox: read that too.
    let mut read = Vec::new();
    while read.len() < 2 {
        let (mailbox, after) = device.with_engine(|engine| {
            let mailbox = current_mailbox(engine.store, id)?;
            let after = cursor(engine.store, id, relay.base, &mailbox)?;
            Ok((mailbox, after))
        })?;
        if read.contains(&mailbox.epoch) {
            break;
        }
        read.push(mailbox.epoch);
        let more = read_inbox(
            device,
            &relay,
            &me,
            id,
            &mailbox,
            after,
            &mut report,
            &mut heard_from,
        )?;
        report.more_waiting = more;
    }
    // A member still on an earlier key posts there, where nobody would read it: while
    // one has not shown it holds the key in force, read the latest earlier mailboxes
    // too. Its message is refused (old key), and the key message goes again at once.
    let earlier = device.with_engine(|engine| {
        if !a_peer_is_behind(engine, id, own_kit)? {
            return Ok(Vec::new());
        }
        let mut earlier = Vec::new();
        for mailbox in earlier_mailboxes(engine.store, id)?
            .into_iter()
            .take(EARLIER_READ)
        {
            let after = cursor(engine.store, id, relay.base, &mailbox)?;
            earlier.push((mailbox, after));
        }
        Ok(earlier)
    })?;
    for (mailbox, after) in earlier {
        read_inbox(
            device,
            &relay,
            &me,
            id,
            &mailbox,
            after,
            &mut report,
            &mut heard_from,
        )?;
    }
    let outbox = device.with_engine(|engine| {
        if removal::removed_from(engine.store, id)? {
            return Ok(None);
        }
        // A restored phone's introduction has done its work once every member holds the
        // key in force: one member's answer is not enough, since a member that missed it
        // (a relay replaced, a message lost) refuses this phone's own messages, which come
        // from a device it does not know (docs/adr/0009-recovery.md).
        if introduction::pending(engine.store, id)?.is_some()
            && !a_peer_is_behind(engine, id, own_kit)?
        {
            introduction::done(engine.store, id)?;
        }
        outgoing(engine, id, &heard_from, own_kit).map(Some)
    })?;
    let Some(outbox) = outbox else {
        // Removed: nobody reads what it would post; it still reads, in case it is granted
        // again.
        report.removed = true;
        return Ok(report);
    };
    for (mailbox, messages) in &outbox.posts {
        if messages.is_empty() {
            continue;
        }
        report.posted += messages.len() as u32;
        let path = relay_protocol::post_path(&mailbox.address());
        let body = relay_protocol::encode_post(messages);
        let from = hex::encode(mailbox.recipient_tag(&me));
        let posted = relay.call_from(mailbox, "POST", &path, body, Some(from), &mut report);
        if let Err(Error::RelayUnreachable(_)) = &posted {
            // This post and the ones after it may never have reached the relay, though
            // each peer's session counts them as sent: without this, a key message lost
            // this way waited for the ask-again schedule (docs/adr/0008-relay.md).
            device.with_engine(|engine| send_again(engine, id, &outbox.sent_to))?;
        }
        posted?;
    }
    device.with_engine(|engine| {
        removal::removal_notified(engine.store, id, &outbox.told)?;
        if outbox.notice_sent {
            introduction::notice_sent(engine.store, id)?;
        }
        Ok(())
    })?;
    Ok(report)
}

/// Fetches this device's inbox in `mailbox` after `after` on this relay, hands each
/// message to the engine, and saves the cursor; says whether more wait.
#[allow(clippy::too_many_arguments)]
fn read_inbox(
    device: &impl LockedEngine,
    relay: &Relay,
    me: &str,
    id: &RecordId,
    mailbox: &Mailbox,
    mut after: u64,
    report: &mut RelayReport,
    heard_from: &mut HashSet<String>,
) -> Result<bool, Error> {
    let tag = mailbox.recipient_tag(me);
    let path = relay_protocol::fetch_path(&mailbox.address(), &tag, after, FETCH_LIMIT);
    let answer = match relay.call(mailbox, "GET", &path, Vec::new(), report) {
        // The relay never issued that cursor (its database was rebuilt): it deleted
        // nothing; read the inbox from the start.
        Err(Error::RelayRefused { status: 409, .. }) if after > 0 => {
            after = 0;
            let path = relay_protocol::fetch_path(&mailbox.address(), &tag, 0, FETCH_LIMIT);
            relay.call(mailbox, "GET", &path, Vec::new(), report)?
        }
        answer => answer?,
    };
    let (messages, more) = relay_protocol::decode_fetched(&answer)?;
    device.with_engine(|engine| {
        apply_fetched(
            engine, id, relay.base, mailbox, after, messages, report, heard_from,
        )
    })?;
    Ok(more)
}

/// Applies fetched messages in order and saves the cursor, which stops just before a
/// message that could not be applied now: the next fetch must not acknowledge it.
#[allow(clippy::too_many_arguments)]
fn apply_fetched(
    engine: &mut SyncEngine<'_>,
    id: &RecordId,
    base: &str,
    mailbox: &Mailbox,
    after: u64,
    mut messages: Vec<Delivered>,
    report: &mut RelayReport,
    heard_from: &mut HashSet<String>,
) -> Result<(), Error> {
    let tag = mailbox.recipient_tag(engine.device_id);
    messages.sort_by_key(|message| message.seq);
    let mut last = after;
    let mut stopped = None;
    for message in messages {
        let received = mailbox
            .open(&tag, &message.body)
            .map_err(Error::from)
            .and_then(|envelope| engine.receive(&envelope));
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
    save_cursor(engine.store, id, base, mailbox, last)?;
    match stopped {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

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

/// The peers this device posts to: its record's peers but its own recovery kit.
fn posting_peers(
    engine: &mut SyncEngine<'_>,
    id: &RecordId,
    own_kit: Option<&str>,
) -> Result<Vec<String>, Error> {
    Ok(engine
        .peers(id)?
        .into_iter()
        .filter(|peer| Some(peer.as_str()) != own_kit)
        .collect())
}

/// Whether a peer has yet to show it holds the key in force.
fn a_peer_is_behind(
    engine: &mut SyncEngine<'_>,
    id: &RecordId,
    own_kit: Option<&str>,
) -> Result<bool, Error> {
    let epoch = engine.store.record_epoch(id)?;
    for peer in posting_peers(engine, id, own_kit)? {
        if !engine.session(id, &peer)?.holds(epoch) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The next message for each peer, sealed for its inbox: in the current mailbox, and
/// a key message also in each earlier one (the peer may still be there). A silent peer
/// that has not shown it holds this device's heads is asked again, less and less often.
/// With them, the notices to devices this one removed and a restored phone's introduction.
fn outgoing(
    engine: &mut SyncEngine<'_>,
    id: &RecordId,
    heard_from: &HashSet<String>,
    own_kit: Option<&str>,
) -> Result<Outbox, Error> {
    let removal_notices = removal::removal_notices(engine.store, engine.keys, id)?;
    let current = current_mailbox(engine.store, id)?;
    let peers = posting_peers(engine, id, own_kit)?;
    // A restored phone first introduces itself (signed by its kit, under the key the
    // others hold), so they know it before its own messages arrive.
    let introduction = introduction::pending(engine.store, id)?.and_then(|intro| {
        let secret = SecretKey::from_slice(&intro.mailbox_secret).ok()?;
        Some((
            Mailbox::from_secret(secret, intro.epoch),
            intro.envelope,
            intro.notice,
        ))
    });
    let earlier = earlier_mailboxes(engine.store, id)?;
    let mut now = Vec::new();
    let mut before: Vec<Vec<Outgoing>> = earlier.iter().map(|_| Vec::new()).collect();
    // A device removed here reads an earlier mailbox (it never got the new key).
    for (device, notice) in &removal_notices {
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
        let mut envelope = engine.next_message(id, &peer, true)?;
        let heard = heard_from.contains(&peer);
        if ask_again(engine, id, &peer, heard, envelope.is_none())? {
            envelope = engine.next_message(id, &peer, true)?;
        }
        if envelope.is_some() {
            sent_to.push(peer.clone());
        }
        while let Some(sent) = envelope.take() {
            let is_keys = parse_envelope(&sent)?.header.kind == Kind::Keys;
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
                envelope = engine.next_message(id, &peer, true)?;
            }
        }
    }
    let mut posts = Vec::new();
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
        posts.push((mailbox, introductions));
    }
    posts.push((current, now));
    posts.extend(earlier.into_iter().zip(before));
    Ok(Outbox {
        posts,
        sent_to,
        told: removal_notices
            .into_iter()
            .map(|(device, _)| device)
            .collect(),
        notice_sent,
    })
}

/// A post failed on the way, so the messages just made for `peers` may not have left:
/// as when a silent peer is asked again, the key message goes again at the next
/// exchange and no message is taken as in flight.
fn send_again(engine: &mut SyncEngine<'_>, id: &RecordId, peers: &[String]) -> Result<(), Error> {
    for peer in peers {
        let session = engine.session(id, peer)?;
        session.ask_again();
        engine.save_session(id, peer)?;
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
    engine: &mut SyncEngine<'_>,
    id: &RecordId,
    peer: &str,
    heard: bool,
    nothing_to_send: bool,
) -> Result<bool, Error> {
    let heads = engine.store.record(id)?.heads();
    let epoch = engine.store.record_epoch(id)?;
    let session = engine.session(id, peer)?;
    let ask = if heard {
        session.heard_from();
        false
    } else if !nothing_to_send || session.peer_has(&heads, epoch) || !session.silent_exchange() {
        false
    } else {
        session.ask_again();
        true
    };
    engine.save_session(id, peer)?;
    Ok(ask)
}
