//! Resolving a record's membership statements into members, access and the key epoch.
//!
//! A pure function of the *set* of statements, so every device holding the same
//! statements, received in any order, computes the same members (property-tested below).
//! The rules, written down in docs/adr/0002-membership-as-signed-statements.md:
//!
//! 1. The root is the one `Create` whose issuer's key and nonce hash to the record id.
//! 2. A statement counts only if its issuer could issue it in the state made by the
//!    statements it had seen (its `after`, transitively): an active admin for grants,
//!    removals and new keys.
//! 3. Seniority: the creator has rank 0; a member granted by a rank-r admin has rank r+1.
//!    Changing or removing a member needs a strictly more senior admin, so two admins
//!    cannot remove each other and nobody else removes the creator. One exception: a
//!    device granted as standing in for member D (by D itself, or by a device standing in
//!    for D) takes D's rank and may remove D: a recovery kit and the phone restored from
//!    it replace a lost phone, the creator's too (docs/adr/0009-recovery.md). And one
//!    more: a phone restored from a kit (standing in for D, granted by D's stand-in, not
//!    by D) may remove any kit of D's (a device D granted as standing in for D), so a
//!    restore retires the kit it used; a kit never removes a restored phone.
//! 4. A removal wins over a grant of the same device it had not seen, and voids every
//!    statement the removed device issued that the removal had not seen (a grant made
//!    by a device concurrently with its own removal does not stand).
//! 5. A new key's epoch is one more than the epoch its issuer had seen, and it is sealed
//!    to exactly the members that keep access, never to the removed one. Two keys for one
//!    epoch: the statement with the lower id wins. Nothing overflows (`checked_add`).
//! 6. A member's name is the one its latest rename gives (`Rename`, issued by the member
//!    about itself while active), else the one its first grant gave (a later grant
//!    changes its access, not its name). "Latest": a rename that
//!    had seen another replaces it; of two that had not seen each other, the later
//!    `issued_at`, then the greater id.
//! 7. Every removal counts, concurrent ones too (the member list shows the most senior
//!    remover's). A member's periods of write access begin at a grant that gives it and
//!    end at the statements that take it away; what it wrote in one keeps its standing
//!    whatever its access later becomes (docs/threat-model.md, "Times").

use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::SecretKey;
use crate::model::{
    Access, Action, Member, PeriodEnd, Profile, RecordId, Removal, Rotation, SealedKey, Statement,
    StatementId, WritePeriod,
};
use std::collections::{BTreeMap, HashMap};

/// The record's members as its statements resolve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Membership {
    /// Every device ever granted access, removed ones included, oldest grant first.
    pub members: Vec<Member>,
    /// The device that created the record, once its `Create` statement is here.
    pub creator: Option<String>,
    /// The record key's epoch: 0 until the first key replacement.
    pub epoch: u32,
    /// The statement whose key is in force (None at epoch 0).
    pub rotation: Option<Statement>,
    /// Statements no other statement lists as seen: a new statement's `after`.
    pub heads: Vec<StatementId>,
    /// Members a replaced key was not sealed to although they keep access (a grant made
    /// concurrently with the replacement): an admin replaces the key again.
    pub missing_key: Vec<String>,
}

impl Membership {
    pub fn member(&self, device_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.device_id == device_id)
    }

    pub fn active(&self, device_id: &str) -> Option<&Member> {
        self.member(device_id).filter(|m| m.is_active())
    }

    pub fn is_admin(&self, device_id: &str) -> bool {
        self.active(device_id)
            .is_some_and(|m| m.access == Access::Admin)
    }

    pub fn active_members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.is_active())
    }

    /// The record key in force sealed to `me`, if it was sealed to it.
    pub fn key_for(&self, record_id: &RecordId, me: &DeviceKeys) -> Option<SecretKey> {
        let statement = self.rotation.as_ref()?;
        open_key(record_id, statement, me)
    }
}

/// What binds a sealed record key to its place: the record, the epoch, the admin that
/// sealed it and the device it is sealed to. Not the statement's id, which commits to the
/// statement and so to these sealed keys (`record::signed`).
fn key_aad(record_id: &RecordId, epoch: u32, issuer: &DevicePublic, device_id: &str) -> Vec<u8> {
    let mut aad = b"redbook/record-key/v3".to_vec();
    aad.extend_from_slice(&record_id.to_bytes());
    aad.extend_from_slice(&epoch.to_be_bytes());
    aad.extend_from_slice(&issuer.signing_key);
    aad.extend_from_slice(device_id.as_bytes());
    aad
}

/// A new key for `epoch`, sealed to each of `recipients` (and to nobody else).
pub fn seal_rotation(
    record_id: &RecordId,
    issuer: &DevicePublic,
    epoch: u32,
    key: &SecretKey,
    recipients: &[DevicePublic],
) -> Result<Rotation, crate::crypto::CryptoError> {
    let keys = recipients
        .iter()
        .map(|device| {
            let device_id = device.device_id();
            let aad = key_aad(record_id, epoch, issuer, &device_id);
            Ok(SealedKey {
                sealed: device.seal_to(&aad, key.as_bytes())?,
                device_id,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Rotation { epoch, keys })
}

/// Opens the key a rotation statement sealed to `me`.
pub fn open_key(record_id: &RecordId, statement: &Statement, me: &DeviceKeys) -> Option<SecretKey> {
    let rotation = statement.rotation()?;
    let my_id = me.public().device_id();
    let sealed = rotation.keys.iter().find(|k| k.device_id == my_id)?;
    let aad = key_aad(record_id, rotation.epoch, &statement.issuer, &my_id);
    let bytes = me.open_sealed(&aad, &sealed.sealed).ok()?;
    SecretKey::from_slice(&bytes).ok()
}

#[derive(Clone)]
struct MemberState {
    keys: DevicePublic,
    access: Access,
    profile: Profile,
    added_by: String,
    added_at: chrono::DateTime<chrono::Utc>,
    rank: u32,
    /// The member this one stands in for (rule 3's exception).
    stands_in_for: Option<String>,
    /// Every removal since it was last granted access, with its remover's rank: a
    /// junior admin's concurrent removal never replaces a senior's (`removed`).
    removals: Vec<(Removal, u32)>,
    /// When it could write, across its grants and removals.
    periods: Vec<WritePeriod>,
    /// The rename in force (rule 6), by statement index.
    renamed: Option<usize>,
}

impl MemberState {
    fn is_active(&self) -> bool {
        self.removals.is_empty()
    }

    /// The removal shown: the most senior remover's, then the earliest.
    fn removed(&self) -> Option<&Removal> {
        self.removals
            .iter()
            .min_by(|(a, a_rank), (b, b_rank)| {
                (a_rank, a.at, &a.statement).cmp(&(b_rank, b.at, &b.statement))
            })
            .map(|(removal, _)| removal)
    }
}

#[derive(Clone, Default)]
struct State {
    members: BTreeMap<String, MemberState>,
    creator: Option<String>,
    epoch: u32,
    rotation: Option<usize>,
}

impl State {
    fn active(&self, device_id: &str) -> Option<&MemberState> {
        self.members.get(device_id).filter(|m| m.is_active())
    }
}

/// A set of indices (statements here, changes in `causal`), as bits.
#[derive(Clone)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    pub(super) fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    pub(super) fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    pub(super) fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn union(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
    /// Keeps only what `other` holds too.
    pub(super) fn keep_only(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a &= b);
    }
}

struct Resolver<'a> {
    record_id: &'a RecordId,
    statements: Vec<Statement>,
    issuers: Vec<String>,
    /// Indices in a deterministic causal order (Kahn's algorithm, ties by id).
    order: Vec<usize>,
    /// Each statement's causal past, itself excluded.
    past: Vec<Bits>,
}

/// Resolves the statements (any order, duplicates allowed; signatures already checked
/// by the caller, `record::Record::statements`).
pub fn resolve(record_id: &RecordId, mut statements: Vec<Statement>) -> Membership {
    // Two different statements under one id (only a forger makes them: a record refuses
    // a second value under a statement's key, so they meet only in a key message): keep
    // one, the first by content, so the answer never depends on the order they came in
    // (found by the membership fuzzer once it could build valid histories).
    statements.sort_by_cached_key(|s| (s.id.clone(), serde_json::to_vec(s).unwrap_or_default()));
    statements.dedup_by(|b, a| a.id == b.id);
    let n = statements.len();
    let index: HashMap<&StatementId, usize> = statements
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.id, i))
        .collect();
    // Statements whose `after` names one that is not here wait until it arrives; a cycle
    // (only a forger can make one) never resolves.
    let mut waiting: Vec<usize> = vec![0; n];
    let mut followers: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut incomplete = vec![false; n];
    for (i, s) in statements.iter().enumerate() {
        for dep in &s.after {
            match index.get(dep) {
                Some(&j) if j != i => {
                    waiting[i] += 1;
                    followers[j].push(i);
                }
                _ => incomplete[i] = true,
            }
        }
    }
    let mut ready: std::collections::BTreeSet<(StatementId, usize)> = (0..n)
        .filter(|&i| waiting[i] == 0 && !incomplete[i])
        .map(|i| (statements[i].id.clone(), i))
        .collect();
    let mut order = Vec::with_capacity(n);
    let mut past: Vec<Bits> = vec![Bits::new(n); n];
    while let Some((_, i)) = ready.pop_first() {
        order.push(i);
        for &f in &followers[i] {
            let (before, after) = if i < f {
                let (a, b) = past.split_at_mut(f);
                (&a[i], &mut b[0])
            } else {
                let (a, b) = past.split_at_mut(i);
                (&b[0], &mut a[f])
            };
            after.union(before);
            after.insert(i);
            waiting[f] -= 1;
            if waiting[f] == 0 && !incomplete[f] {
                ready.insert((statements[f].id.clone(), f));
            }
        }
    }
    let issuers = statements.iter().map(Statement::issuer_id).collect();
    let resolver = Resolver {
        record_id,
        statements,
        issuers,
        order,
        past,
    };
    resolver.run()
}

impl Resolver<'_> {
    fn run(self) -> Membership {
        let n = self.statements.len();
        let mut void = vec![false; n];
        let mut valid = vec![false; n];
        // Each pass decides validity from the voids of the last; a removal that stops
        // counting un-voids what it voided. The passes are a pure function of the set,
        // so even a history that never settles resolves the same everywhere.
        for _ in 0..=2 * n + 1 {
            valid = vec![false; n];
            for &i in &self.order {
                if void[i] {
                    continue;
                }
                let state = self.fold(|j| valid[j] && self.past[i].contains(j));
                valid[i] = self.permitted(i, &state);
            }
            let mut next = vec![false; n];
            for r in (0..n).filter(|&r| valid[r]) {
                if let Action::Revoke { subject, .. } = &self.statements[r].action {
                    for (j, voided) in next.iter_mut().enumerate() {
                        if j != r && &self.issuers[j] == subject && !self.past[r].contains(j) {
                            *voided = true;
                        }
                    }
                }
            }
            if next == void {
                break;
            }
            void = next;
        }
        let state = self.fold(|j| valid[j]);
        self.membership(state)
    }

    /// When statement `i` took effect: the time it claims, but no earlier than any
    /// statement it had seen (a removal dated "2 January" that lists a March grant as
    /// seen takes effect in March; docs/threat-model.md, "Times").
    fn effective_at(&self, i: usize) -> chrono::DateTime<chrono::Utc> {
        (0..self.statements.len())
            .filter(|&j| self.past[i].contains(j))
            .map(|j| self.statements[j].issued_at)
            .fold(self.statements[i].issued_at, std::cmp::max)
    }

    /// The state the statements in `include` make, applied in causal order.
    fn fold(&self, include: impl Fn(usize) -> bool) -> State {
        let mut state = State::default();
        for &i in self.order.iter().filter(|&&i| include(i)) {
            let s = &self.statements[i];
            let issuer = &self.issuers[i];
            match &s.action {
                Action::Create { profile, .. } => {
                    if state.creator.is_none() {
                        state.creator = Some(issuer.clone());
                        state.members.insert(
                            issuer.clone(),
                            MemberState {
                                keys: s.issuer,
                                access: Access::Admin,
                                profile: profile.clone(),
                                added_by: issuer.clone(),
                                added_at: s.issued_at,
                                rank: 0,
                                stands_in_for: None,
                                removals: Vec::new(),
                                periods: vec![WritePeriod {
                                    from: s.issued_at,
                                    ends: Vec::new(),
                                }],
                                renamed: None,
                            },
                        );
                    }
                }
                Action::Grant {
                    subject,
                    access,
                    profile,
                    stands_in_for,
                } => {
                    let subject_id = subject.device_id();
                    let removed_concurrently = self.order.iter().any(|&r| {
                        include(r)
                            && matches!(&self.statements[r].action,
                                Action::Revoke { subject, .. } if *subject == subject_id)
                            && !self.past[i].contains(r)
                            && !self.past[r].contains(i)
                    });
                    let Some(issuer_rank) = state.members.get(issuer).map(|m| m.rank) else {
                        continue;
                    };
                    // Standing in for a member: its rank (permitted checked who may ask).
                    let rank = match stands_in_for.as_ref().and_then(|d| state.members.get(d)) {
                        Some(stood_for) => stood_for.rank,
                        None => issuer_rank + 1,
                    };
                    if removed_concurrently {
                        continue;
                    }
                    // A change of access keeps the member's name: only a member names
                    // itself (docs/threat-model.md, "Names").
                    let earlier = state.members.get(&subject_id);
                    let renamed = earlier.and_then(|m| m.renamed);
                    let mut profile = profile.clone();
                    if let Some(earlier) = earlier {
                        profile.display_name = earlier.profile.display_name.clone();
                    }
                    // A change of access to an active member keeps when its membership
                    // began: what it wrote before still counts (docs/threat-model.md,
                    // "Times"). After a removal, a grant begins a new membership.
                    let at = self.effective_at(i);
                    let active = earlier.filter(|m| m.is_active());
                    let added_at = active.map_or(at, |earlier| earlier.added_at);
                    // Write access begins a period and ending it ends one; what the
                    // member wrote in an earlier period keeps its standing.
                    let mut periods = earlier.map(|m| m.periods.clone()).unwrap_or_default();
                    let could_write = active.is_some_and(|m| m.access.can_write());
                    match (could_write, access.can_write()) {
                        (false, true) => periods.push(WritePeriod {
                            from: at,
                            ends: Vec::new(),
                        }),
                        (true, false) => {
                            if let Some(open) = periods.last_mut() {
                                open.ends.push(PeriodEnd {
                                    at,
                                    statement: s.id.clone(),
                                });
                            }
                        }
                        _ => {}
                    }
                    state.members.insert(
                        subject_id,
                        MemberState {
                            keys: *subject,
                            access: *access,
                            profile,
                            added_by: issuer.clone(),
                            added_at,
                            rank,
                            stands_in_for: stands_in_for.clone(),
                            removals: Vec::new(),
                            periods,
                            renamed,
                        },
                    );
                }
                Action::Revoke { subject, rotation } => {
                    let remover_rank = state.members.get(issuer).map_or(u32::MAX, |m| m.rank);
                    if let Some(member) = state.members.get_mut(subject) {
                        // Every removal counts, concurrent ones too: each ends the
                        // period it removed the member from.
                        let at = self.effective_at(i);
                        if let Some(last) = member.periods.last_mut() {
                            last.ends.push(PeriodEnd {
                                at,
                                statement: s.id.clone(),
                            });
                        }
                        let removal = Removal {
                            by: issuer.clone(),
                            at,
                            statement: Some(s.id.clone()),
                        };
                        member.removals.push((removal, remover_rank));
                    }
                    self.rotate(&mut state, i, rotation);
                }
                Action::Rotate { rotation } => self.rotate(&mut state, i, rotation),
                Action::Rename { .. } => {
                    if let Some(member) = state.members.get_mut(issuer) {
                        if member.renamed.is_none_or(|j| self.renames_after(i, j)) {
                            member.renamed = Some(i);
                        }
                    }
                }
            }
        }
        state
    }

    /// Whether rename `i` replaces rename `j` (rule 6). Applied in causal order, so a
    /// rename that had seen `j` always comes after it.
    fn renames_after(&self, i: usize, j: usize) -> bool {
        let (a, b) = (&self.statements[i], &self.statements[j]);
        self.past[i].contains(j)
            || (!self.past[j].contains(i) && (a.issued_at, &a.id) > (b.issued_at, &b.id))
    }

    fn rotate(&self, state: &mut State, i: usize, rotation: &Rotation) {
        let wins = rotation.epoch > state.epoch
            || (rotation.epoch == state.epoch
                && state
                    .rotation
                    .is_none_or(|j| self.statements[i].id < self.statements[j].id));
        if wins {
            state.epoch = rotation.epoch;
            state.rotation = Some(i);
        }
    }

    /// Whether statement `i`'s issuer could issue it in `past` (rule 2, 3 and 5).
    fn permitted(&self, i: usize, past: &State) -> bool {
        let s = &self.statements[i];
        let issuer = &self.issuers[i];
        if let Action::Create { nonce, .. } = &s.action {
            let Ok(nonce) = <[u8; 16]>::try_from(nonce.as_slice()) else {
                return false;
            };
            return past.creator.is_none()
                && RecordId::for_creator(&s.issuer.signing_key, &nonce) == *self.record_id;
        }
        let Some(me) = past
            .active(issuer)
            .filter(|m| m.keys.signing_key == s.issuer.signing_key)
        else {
            return false;
        };
        // Any active member names itself, and only itself (the issuer is the subject).
        if let Action::Rename { .. } = &s.action {
            return true;
        }
        if me.access != Access::Admin {
            return false;
        }
        let senior_to = |device: &str| past.active(device).is_none_or(|m| me.rank < m.rank);
        let stands_in_for = |device: &str| me.stands_in_for.as_deref() == Some(device);
        // A restored phone retires the kits of the member it replaced: once the words
        // were typed in, whoever else holds them (the lost phone kept them) must not stay
        // an admin. Only a phone granted by a stand-in qualifies, never a kit itself
        // (granted by the member it stands in for), so a kit cannot remove the phone
        // restored from it, and the lost phone cannot remove its own kits.
        let retires_kit = |device: &str| {
            me.stands_in_for.as_deref().is_some_and(|replaced| {
                me.added_by != replaced
                    && past.active(device).is_some_and(|kit| {
                        kit.stands_in_for.as_deref() == Some(replaced) && kit.added_by == replaced
                    })
            })
        };
        match &s.action {
            Action::Create { .. } => false,
            Action::Grant {
                subject,
                stands_in_for: stood_for,
                ..
            } => {
                let subject_id = subject.device_id();
                // Only a member itself, or one standing in for it, names a stand-in for it.
                let may_stand_in = stood_for.as_deref().is_none_or(|d| {
                    past.members.contains_key(d) && (d == issuer.as_str() || stands_in_for(d))
                });
                // A removed device comes back only through the admin that removed it or
                // one senior to that admin: a junior admin cannot undo a senior's removal.
                // Every removal it had seen must allow it.
                let may_regrant = past.members.get(&subject_id).is_none_or(|m| {
                    m.removals.iter().all(|(removal, _)| {
                        removal.by == *issuer
                            || stands_in_for(&removal.by)
                            || past
                                .members
                                .get(&removal.by)
                                .is_none_or(|remover| me.rank < remover.rank)
                    })
                });
                subject_id != *issuer && senior_to(&subject_id) && may_stand_in && may_regrant
            }
            Action::Revoke { subject, rotation } => {
                subject != issuer
                    && past.active(subject).is_some()
                    && (senior_to(subject) || stands_in_for(subject) || retires_kit(subject))
                    && self.rotation_fits(rotation, past, Some(subject))
            }
            Action::Rotate { rotation } => self.rotation_fits(rotation, past, None),
            Action::Rename { .. } => true,
        }
    }

    /// One epoch on, sealed to exactly the members that keep access.
    fn rotation_fits(&self, rotation: &Rotation, past: &State, removed: Option<&String>) -> bool {
        if past.epoch.checked_add(1) != Some(rotation.epoch) {
            return false;
        }
        let mut keep: Vec<&String> = past
            .members
            .iter()
            .filter(|(id, m)| m.is_active() && Some(*id) != removed)
            .map(|(id, _)| id)
            .collect();
        let mut sealed_to: Vec<&String> = rotation.keys.iter().map(|k| &k.device_id).collect();
        keep.sort();
        sealed_to.sort();
        keep == sealed_to
    }

    fn membership(self, state: State) -> Membership {
        let rotation = state.rotation.map(|i| self.statements[i].clone());
        let missing_key = match &rotation {
            Some(statement) => {
                let sealed: Vec<&str> = statement
                    .rotation()
                    .map(|r| r.keys.iter().map(|k| k.device_id.as_str()).collect())
                    .unwrap_or_default();
                state
                    .members
                    .iter()
                    .filter(|(id, m)| m.is_active() && !sealed.contains(&id.as_str()))
                    .map(|(id, _)| id.clone())
                    .collect()
            }
            None => Vec::new(),
        };
        let mut members: Vec<Member> = state
            .members
            .into_iter()
            .map(|(device_id, m)| Member {
                removed: m.removed().cloned(),
                device_id,
                keys: m.keys,
                access: m.access,
                role: m.profile.role,
                display_name: match m.renamed.map(|i| &self.statements[i].action) {
                    Some(Action::Rename { name }) => name.clone(),
                    _ => m.profile.display_name,
                },
                stands_in_for: m.stands_in_for,
                organisation: m.profile.organisation,
                added_by: m.added_by,
                added_at: m.added_at,
                periods: m.periods,
                attestation: m.profile.attestation,
                confirmed_by: None,
            })
            .collect();
        members.sort_by(|a, b| {
            a.added_at
                .cmp(&b.added_at)
                .then(a.device_id.cmp(&b.device_id))
        });
        // Heads: every statement here that no other lists as seen (valid or not, so a
        // new statement acknowledges everything this device holds).
        let mut seen = vec![false; self.statements.len()];
        for &i in &self.order {
            for (j, seen) in seen.iter_mut().enumerate() {
                if self.past[i].contains(j) {
                    *seen = true;
                }
            }
        }
        let heads = self
            .order
            .iter()
            .filter(|&&i| !seen[i])
            .map(|&i| self.statements[i].id.clone())
            .collect();
        Membership {
            members,
            creator: state.creator,
            epoch: state.epoch,
            rotation,
            heads,
            missing_key,
        }
    }
}

#[cfg(test)]
mod tests;
