//! Signature verdicts: each value's checked once per op, on every core, and those that
//! verified kept by digest so the store can save them and a cold open skip them.

use super::signed;
use super::values::Stored;
use super::Record;
use crate::model::{Member, RecordId};
use automerge::ObjId;
use std::collections::{HashMap, HashSet};

/// Digests of values whose signatures verified, and those the store has not saved yet.
#[derive(Default)]
pub(super) struct VerdictSet {
    digests: HashSet<VerdictDigest>,
    unsaved: Vec<VerdictDigest>,
    /// Ed25519 checks this copy has made (what persisted verdicts save; benches and tests).
    checks: usize,
}

/// The op that put a signed value, as 32 bytes: the verdict is a pure function of the
/// record id and the value's bytes, and an op's bytes never change: a copy holds one op
/// under an id (`validate_change` refuses a change reusing its author's history, the
/// only way to a second), so the verdict holds wherever and whenever the op is read,
/// across snapshots and new record keys. The store keeps them per record, sealed under
/// its key; naming the op, not hashing the value, makes a cold open's lookups cost
/// nothing per byte (docs/adr/0010-caseload.md).
pub type VerdictDigest = [u8; 32];

/// The actor's length, the op counter and the actor's bytes; an actor too long for that
/// (an honest one is 16 bytes) is hashed instead, behind a length no direct form has.
fn verdict_digest(op: &ObjId) -> VerdictDigest {
    let mut digest = [0; 32];
    if let ObjId::Id(counter, actor, _) = op {
        let actor = actor.to_bytes();
        digest[1..9].copy_from_slice(&counter.to_be_bytes());
        if actor.len() <= 23 {
            digest[0] = actor.len() as u8;
            digest[9..9 + actor.len()].copy_from_slice(actor);
        } else {
            let hashed = ring::digest::digest(&ring::digest::SHA256, actor);
            digest[0] = u8::MAX;
            digest[9..].copy_from_slice(&hashed.as_ref()[..23]);
        }
    }
    digest
}

#[derive(Default)]
pub(super) struct Verdicts {
    members: Vec<(String, [u8; 32])>,
    by_op: HashMap<ObjId, bool>,
}

impl Record {
    /// Verdicts are kept while the members' keys are the same.
    fn verdicts_for(&self, members: &[Member]) -> std::cell::RefMut<'_, Verdicts> {
        let keys: Vec<(String, [u8; 32])> = members
            .iter()
            .map(|m| (m.device_id.clone(), m.keys.signing_key))
            .collect();
        let mut verdicts = self.verdicts.borrow_mut();
        if verdicts.members != keys {
            *verdicts = Verdicts {
                members: keys,
                by_op: HashMap::new(),
            };
        }
        verdicts
    }

    /// Each value's signature verdict, checked once per op, on every core; a value among
    /// the known good (saved by the store) is not checked again.
    pub(super) fn signatures_verify(&self, values: &[&Stored], members: &[Member]) -> Vec<bool> {
        let mut verdicts = self.verdicts_for(members);
        let mut known = self.known_good.borrow_mut();
        let mut unchecked = Vec::new();
        for stored in values.iter().copied() {
            if verdicts.by_op.contains_key(&stored.op) {
                continue;
            }
            let digest = verdict_digest(&stored.op);
            if known.digests.contains(&digest) {
                verdicts.by_op.insert(stored.op.clone(), true);
            } else {
                unchecked.push((stored, digest));
            }
        }
        let to_check: Vec<&Stored> = unchecked.iter().map(|(stored, _)| *stored).collect();
        let outcomes = verify_all(&self.record_id, &to_check);
        known.checks += to_check.len();
        for ((stored, digest), ok) in unchecked.into_iter().zip(outcomes) {
            verdicts.by_op.insert(stored.op.clone(), ok);
            if ok && known.digests.insert(digest) {
                known.unsaved.push(digest);
            }
        }
        values.iter().map(|v| verdicts.by_op[&v.op]).collect()
    }

    /// Verdicts the store kept for this record (values whose signatures verified).
    pub fn add_known_good(&self, digests: impl IntoIterator<Item = VerdictDigest>) {
        self.known_good.borrow_mut().digests.extend(digests);
    }

    /// The verdicts reached since the store last saved them, leaving none unsaved.
    pub fn take_unsaved_verdicts(&self) -> Vec<VerdictDigest> {
        std::mem::take(&mut self.known_good.borrow_mut().unsaved)
    }

    /// Every verdict this copy knows (for the store to save whole under a new snapshot).
    pub fn known_good(&self) -> Vec<VerdictDigest> {
        let mut known = self.known_good.borrow_mut();
        known.unsaved.clear();
        known.digests.iter().copied().collect()
    }

    /// How many verdicts this copy holds (for the store's memory estimate).
    pub fn known_good_count(&self) -> usize {
        self.known_good.borrow().digests.len()
    }

    /// How many signatures this copy has checked itself (not taken from saved verdicts).
    pub fn signature_checks(&self) -> usize {
        self.known_good.borrow().checks
    }
}

/// Checks signatures on every core: each Ed25519 check is pure and costs ~60 us, so a
/// long record read cold (thousands of entries) is what makes the first read slow.
fn verify_all(record_id: &RecordId, values: &[&Stored]) -> Vec<bool> {
    let check = |stored: &&Stored| {
        signed::parse(&stored.bytes).is_some_and(|value| {
            signed::commits(&value, record_id, &stored.key) && value.verifies(record_id)
        })
    };
    on_every_core(values, 64, |part| {
        part.iter().map(check).collect::<Vec<_>>()
    })
    .into_iter()
    // A check cannot panic; if a thread failed anyway, check its part here.
    .flat_map(|(part, verdicts)| verdicts.unwrap_or_else(|| part.iter().map(check).collect()))
    .collect()
}

/// Runs `work` over `items` split across the cores (at most 8) when there are at least
/// `min` of them, else on this thread. Each part with its result, in order; `None` where
/// the part's thread panicked.
pub(crate) fn on_every_core<T: Sync, R: Send>(
    items: &[T],
    min: usize,
    work: impl Fn(&[T]) -> R + Sync,
) -> Vec<(&[T], Option<R>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads < 2 || items.len() < min {
        return vec![(items, Some(work(items)))];
    }
    let per_thread = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(per_thread)
            .map(|part| (part, scope.spawn(move || work(part))))
            .collect();
        parts
            .into_iter()
            .map(|(part, handle)| (part, handle.join().ok()))
            .collect()
    })
}
