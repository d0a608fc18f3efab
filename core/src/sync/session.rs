//! One (record, peer) sync session and its rules, as pure functions the `RedBook` façade
//! calls between locking, loading and persisting: the stall guard (automerge #1284: a
//! lost message can stall or loop the protocol) and which key epoch a message needs.

use automerge::sync::State;

/// A peer that keeps exchanging without progress is reset rather than looped with.
pub const MAX_ROUNDS_WITHOUT_PROGRESS: u32 = 16;
/// The longest wait, in relay exchanges, before a silent peer is asked again.
pub const MAX_ASK_INTERVAL: u32 = 64;

pub struct Session {
    pub state: State,
    rounds_without_progress: u32,
    /// Relay exchanges since the peer was last heard from, and after how many to ask it
    /// again (doubling up to `MAX_ASK_INTERVAL`): a phone that is off for a month is not
    /// sent a hello at every exchange.
    silent_exchanges: u32,
    ask_after: u32,
    /// The newest key epoch this peer has shown it holds (by sending under it). Saved with
    /// the state: a device that forgot it would greet every peer with a key message after
    /// any key change, and never send a change to a peer with nothing to say back.
    peer_epoch: u32,
    /// The epoch whose key message was last sent to this peer: sent once, then again only
    /// when the peer stays silent (`ask_again`), not at every exchange.
    keys_sent: Option<u32>,
    /// A key message sent or a message in flight was restored from the saved state and
    /// no message has been generated since (`resume`).
    restored_marks: bool,
    /// The encoding the store holds, as last read or written: saving the same bytes
    /// again is skipped, since each save is a durable transaction of its own
    /// (`sync::engine::save_session`).
    persisted: Option<Vec<u8>>,
}

/// A saved session: `"RBSS" | version 1 | peer epoch u32 | keys sent u32 (epoch + 1, 0 for
/// none) | silent exchanges u32 | ask after u32 | in flight u8 | count u32 | last sent heads
/// (32 bytes each) | automerge's encoded state`. A saved value without the magic is
/// automerge's state alone (as saved before).
const SAVED_MAGIC: &[u8; 4] = b"RBSS";
const SAVED_HEADER: usize = 4 + 1 + 4 * 4 + 1 + 4;
/// More heads than a document has concurrent writers: a damaged value.
const MAX_SAVED_HEADS: usize = 1024;

/// What to send a peer next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The peer may hold an older key: send it the statements that carry the new one.
    Keys,
    /// An automerge sync message under the current key.
    Sync,
}

/// How a received message's key epoch compares with the one this device holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochCheck {
    Current,
    /// The sender holds an older key: refuse; it needs a key message first.
    Older,
    /// The sender holds a newer key this device has not been given (yet).
    Newer,
}

pub fn compare_epoch(message: u32, held: u32) -> EpochCheck {
    match message.cmp(&held) {
        std::cmp::Ordering::Equal => EpochCheck::Current,
        std::cmp::Ordering::Less => EpochCheck::Older,
        std::cmp::Ordering::Greater => EpochCheck::Newer,
    }
}

/// The heads last sent, when a message is in flight.
type InFlight = Option<Vec<automerge::ChangeHash>>;

/// What a saved session keeps beside automerge's state: the four words, the heads last
/// sent if a message is in flight, and automerge's state. None when it is not one.
fn decode_saved(bytes: &[u8]) -> Option<([u32; 4], InFlight, &[u8])> {
    if bytes.len() < SAVED_HEADER || !bytes.starts_with(SAVED_MAGIC) || bytes[4] != 1 {
        return None;
    }
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let kept = [word(5), word(9), word(13), word(17)];
    let in_flight = bytes[21] == 1;
    let count = word(22) as usize;
    if count > MAX_SAVED_HEADS {
        return None;
    }
    let end = SAVED_HEADER + count * 32;
    let heads = bytes
        .get(SAVED_HEADER..end)?
        .chunks_exact(32)
        .map(|chunk| automerge::ChangeHash(chunk.try_into().expect("32 bytes")))
        .collect();
    Some((kept, in_flight.then_some(heads), &bytes[end..]))
}

impl Session {
    /// A session from its saved state; a saved state that does not decode is only an
    /// optimisation lost.
    ///
    /// A saved state keeps only the heads both sides were known to hold; the session
    /// starts from there as if both had just said so: a device with nothing new sends
    /// nothing (through a relay, each background run would otherwise post a hello to
    /// every peer), and one with something new sends it in its first message.
    pub fn restored(saved: Option<&[u8]>) -> Self {
        let (kept, in_flight, automerge_state) = match saved.and_then(decode_saved) {
            Some((kept, in_flight, rest)) => (Some(kept), in_flight, Some(rest)),
            None => (None, None, saved),
        };
        let state = match automerge_state.and_then(|bytes| State::decode(bytes).ok()) {
            Some(mut state) if !state.shared_heads.is_empty() => {
                // What the peer is known to have: changes made here since go straight out
                // in the next message (through a relay, a round trip sooner).
                state.their_have = Some(vec![automerge::sync::Have {
                    last_sync: state.shared_heads.clone(),
                    bloom: automerge::sync::BloomFilter::default(),
                }]);
                state.their_need = Some(Vec::new());
                state.their_heads = Some(state.shared_heads.clone());
                state.last_sent_heads = state.shared_heads.clone();
                state.have_responded = true;
                state
            }
            Some(state) => state,
            None => State::new(),
        };
        let mut state = state;
        // A message sent and not yet answered stays in flight in the next run too: a
        // background job that opens the database for each run must not post it again
        // (through a relay only: `resume`).
        let restored_in_flight = in_flight.is_some();
        if let Some(last_sent) = in_flight {
            state.in_flight = true;
            state.last_sent_heads = last_sent;
            state.have_responded = true;
        }
        let [peer_epoch, keys_sent, silent_exchanges, ask_after] = kept.unwrap_or([0, 0, 0, 1]);
        let keys_sent = keys_sent.checked_sub(1);
        Self {
            state,
            rounds_without_progress: 0,
            silent_exchanges,
            ask_after: ask_after.clamp(1, MAX_ASK_INTERVAL),
            peer_epoch,
            keys_sent,
            restored_marks: restored_in_flight || keys_sent.is_some(),
            persisted: saved.map(<[u8]>::to_vec),
        }
    }

    /// The session's encoding when it differs from what the store holds.
    pub fn unsaved(&self) -> Option<Vec<u8>> {
        let encoded = self.encode();
        (self.persisted.as_ref() != Some(&encoded)).then_some(encoded)
    }

    /// The store now holds `encoded` for this session.
    pub fn saved(&mut self, encoded: Vec<u8>) {
        self.persisted = Some(encoded);
    }

    /// Called before each message is generated. A restored key message sent or message in
    /// flight was saved before the message was handed over, so it may never have left (the
    /// process stopped, the post failed). Through a relay that is recovered: a silent peer
    /// is asked again (`ask_again`), and trusting the marks keeps a background job from
    /// posting the same message at every run. A direct exchange has no such recovery: the
    /// peer refuses a sync message under a key it was never sent, each side then waits for
    /// the other, and nothing more is said. So it drops them and sends the key message
    /// again, and anything the peer is not known to hold.
    pub fn resume(&mut self, via_relay: bool) {
        if std::mem::take(&mut self.restored_marks) && !via_relay {
            self.keys_sent = None;
            self.state.in_flight = false;
        }
    }

    /// What to save: the automerge state and what this device knows of the peer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = SAVED_MAGIC.to_vec();
        out.push(1);
        for word in [
            self.peer_epoch,
            self.keys_sent.map_or(0, |epoch| epoch.saturating_add(1)),
            self.silent_exchanges,
            self.ask_after,
        ] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out.push(u8::from(self.state.in_flight));
        out.extend_from_slice(&(self.state.last_sent_heads.len() as u32).to_be_bytes());
        for head in &self.state.last_sent_heads {
            out.extend_from_slice(&head.0);
        }
        out.extend_from_slice(&self.state.encode());
        out
    }

    /// What to send next when this device holds `epoch`: the key message once to a peer
    /// that has not shown it holds the key, then sync messages (through a relay they are
    /// posted together, and the peer reads the new mailbox once the key message moved it
    /// there). A stalled session starts over.
    pub fn next(&mut self, epoch: u32) -> Next {
        if self.peer_epoch < epoch && self.keys_sent != Some(epoch) {
            self.keys_sent = Some(epoch);
            return Next::Keys;
        }
        if self.rounds_without_progress >= MAX_ROUNDS_WITHOUT_PROGRESS {
            self.state = State::new();
            self.rounds_without_progress = 0;
        }
        Next::Sync
    }

    /// A sync message was generated (`true`) or there was nothing to send.
    pub fn sent(&mut self, something: bool) {
        if something {
            self.rounds_without_progress += 1;
        } else {
            self.rounds_without_progress = 0;
        }
    }

    /// What the peer sent changed the record.
    pub fn progressed(&mut self) {
        self.rounds_without_progress = 0;
    }

    /// Whether the peer has said it holds everything up to `heads`, under the key of
    /// `epoch`.
    pub fn peer_has(&self, heads: &[automerge::ChangeHash], epoch: u32) -> bool {
        self.peer_epoch >= epoch && self.state.their_heads.as_deref() == Some(heads)
    }

    /// The peer sent its key message at the epoch this device holds: answer it, even with
    /// nothing new, so it learns this device holds that key too (else it would keep
    /// asking, and a device with nothing to say would never be sent its peer's changes).
    pub fn answer(&mut self) {
        self.state.have_responded = false;
    }

    /// The peer sent something in this relay exchange.
    pub fn heard_from(&mut self) {
        self.silent_exchanges = 0;
        self.ask_after = 1;
    }

    /// One more relay exchange without a word from the peer: whether it is time to ask it
    /// again (after 1, 2, 4, ... exchanges, at most `MAX_ASK_INTERVAL`).
    pub fn silent_exchange(&mut self) -> bool {
        self.silent_exchanges += 1;
        if self.silent_exchanges < self.ask_after {
            return false;
        }
        self.silent_exchanges = 0;
        self.ask_after = (self.ask_after * 2).min(MAX_ASK_INTERVAL);
        true
    }

    /// Asks the peer again where it stands: through a relay a message can be lost without
    /// the protocol noticing (automerge #1284). The next message carries only heads and
    /// what this device has (small), and what was sent unacknowledged is forgotten, so the
    /// peer's answer brings it again (docs/adr/0008-relay.md).
    pub fn ask_again(&mut self) {
        // A key message that went unanswered is sent again too.
        self.keys_sent = None;
        self.state.in_flight = false;
        self.state.sent_hashes.clear();
        self.state.last_sent_heads.clear();
        self.state.their_have = None;
        self.state.their_need = None;
    }

    /// Whether the peer has shown it holds the key of `epoch`.
    pub fn holds(&self, epoch: u32) -> bool {
        self.peer_epoch >= epoch
    }

    /// The peer showed it is still on an older key: its key message goes again now.
    pub fn behind(&mut self) {
        self.keys_sent = None;
    }

    /// The peer signed a message under `epoch`, so it holds that key.
    pub fn peer_holds(&mut self, epoch: u32) {
        self.peer_epoch = self.peer_epoch.max(epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_behind_on_the_key_gets_the_key_message_first() {
        let mut session = Session::restored(None);
        assert_eq!(session.next(0), Next::Sync);
        assert_eq!(session.next(2), Next::Keys);
        session.peer_holds(2);
        assert_eq!(session.next(2), Next::Sync);
        session.peer_holds(1);
        assert_eq!(
            session.next(2),
            Next::Sync,
            "an older message never lowers it"
        );
    }

    #[test]
    fn the_key_message_is_sent_once_until_the_peer_is_asked_again() {
        let mut session = Session::restored(None);
        assert_eq!(session.next(1), Next::Keys);
        assert_eq!(session.next(1), Next::Sync, "then sync messages follow");
        let saved = session.encode();
        let mut restored = Session::restored(Some(&saved));
        assert_eq!(restored.next(1), Next::Sync, "also in the next run");
        restored.ask_again();
        assert_eq!(
            restored.next(1),
            Next::Keys,
            "asked again: the key message again"
        );
        assert_eq!(restored.next(2), Next::Keys, "a newer key: its message");
    }

    #[test]
    fn a_direct_exchange_does_not_trust_restored_marks() {
        let mut session = Session::restored(None);
        session.state.shared_heads = vec![automerge::ChangeHash([7; 32])];
        assert_eq!(session.next(1), Next::Keys);
        session.state.in_flight = true;
        session.state.last_sent_heads = vec![automerge::ChangeHash([8; 32])];
        let saved = session.encode();

        let mut relayed = Session::restored(Some(&saved));
        relayed.resume(true);
        assert!(relayed.state.in_flight);
        assert_eq!(
            relayed.next(1),
            Next::Sync,
            "the key message is not posted again"
        );

        let mut direct = Session::restored(Some(&saved));
        direct.resume(false);
        assert!(!direct.state.in_flight, "the message may never have left");
        assert_eq!(direct.next(1), Next::Keys, "nor may the key message");
        assert_eq!(direct.next(1), Next::Sync);
        direct.state.in_flight = true;
        direct.resume(false);
        assert!(direct.state.in_flight, "marks made in this run stand");
    }

    #[test]
    fn what_is_known_of_a_peer_is_saved_with_the_state() {
        let mut session = Session::restored(None);
        session.peer_holds(3);
        session.state.shared_heads = vec![automerge::ChangeHash([7; 32])];
        assert!(session.silent_exchange());
        let restored = Session::restored(Some(&session.encode()));
        assert_eq!(restored.peer_epoch, 3);
        assert_eq!(restored.ask_after, 2);
        assert_eq!(restored.state.shared_heads, session.state.shared_heads);
        assert!(restored.peer_has(&session.state.shared_heads, 3));
        assert!(!restored.peer_has(&session.state.shared_heads, 4));
        // A state saved before (automerge's alone) still restores.
        let old = Session::restored(Some(&session.state.encode()));
        assert_eq!(old.state.shared_heads, session.state.shared_heads);
        assert_eq!(old.peer_epoch, 0);
        // Damaged: only an optimisation lost.
        let damaged = Session::restored(Some(b"RBSS\x01short"));
        assert!(damaged.state.shared_heads.is_empty());
    }

    #[test]
    fn a_stalled_session_starts_over_and_progress_clears_the_count() {
        let mut session = Session::restored(Some(b"not a state"));
        for _ in 0..MAX_ROUNDS_WITHOUT_PROGRESS {
            session.next(0);
            session.sent(true);
        }
        session.state.shared_heads = vec![automerge::ChangeHash([1; 32])];
        session.next(0);
        assert!(
            session.state.shared_heads.is_empty(),
            "reset after the limit"
        );
        session.sent(true);
        session.progressed();
        session.sent(false);
        assert_eq!(session.rounds_without_progress, 0);
    }

    #[test]
    fn a_silent_peer_is_asked_again_less_and_less_often_until_it_answers() {
        let mut session = Session::restored(None);
        let asked: Vec<u32> = (1..=200).filter(|_| session.silent_exchange()).collect();
        assert_eq!(asked, [1, 3, 7, 15, 31, 63, 127, 191]);
        session.heard_from();
        assert!(
            session.silent_exchange(),
            "answered: asked at the next silence"
        );
    }

    #[test]
    fn epochs_compare_without_arithmetic() {
        assert_eq!(compare_epoch(u32::MAX, 0), EpochCheck::Newer);
        assert_eq!(compare_epoch(0, u32::MAX), EpochCheck::Older);
        assert_eq!(compare_epoch(3, 3), EpochCheck::Current);
    }
}
