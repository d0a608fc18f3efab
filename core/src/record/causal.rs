//! What each change had seen. A write counts by its own change's causal past, not only by
//! the time it declares: a device that had seen its removal (or the grant that made it a
//! reader) writes nothing that counts, whatever it dates it; and such a statement never
//! voids what its issuer had seen, whatever it dates itself (docs/threat-model.md,
//! "Times"). A write need not have seen its author's grant: a device writes as soon as it
//! accepts an invitation, before its first sync.
//!
//! A modified client can make a change on a fork that omits what it had seen; these rules
//! bind what a change says it had seen, and the times bound the rest.

use super::membership::Bits;
use crate::model::{Member, PeriodEnd, StatementId};
use automerge::{Automerge, ChangeHash, ObjId};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};

/// The document's change graph, by index.
#[derive(Default)]
struct ChangeGraph {
    index: HashMap<ChangeHash, usize>,
    parents: Vec<Vec<usize>>,
    children: Vec<Vec<usize>>,
}

impl ChangeGraph {
    fn of(doc: &Automerge) -> Self {
        let changes = doc.get_changes_meta(&[]);
        let index: HashMap<ChangeHash, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, change)| (change.hash, i))
            .collect();
        let mut parents = vec![Vec::new(); changes.len()];
        let mut children = vec![Vec::new(); changes.len()];
        for (i, change) in changes.iter().enumerate() {
            for dep in &change.deps {
                if let Some(&j) = index.get(dep) {
                    parents[i].push(j);
                    children[j].push(i);
                }
            }
        }
        Self {
            index,
            parents,
            children,
        }
    }

    fn change_of(&self, doc: &Automerge, op: &ObjId) -> Option<usize> {
        doc.hash_for_opid(op)
            .and_then(|hash| self.index.get(&hash).copied())
    }

    /// Every change reachable from `start` along `edges`, `start` included.
    fn reach(&self, start: &[usize], edges: &[Vec<usize>]) -> Bits {
        let mut reached = Bits::new(self.parents.len());
        let mut stack = start.to_vec();
        while let Some(i) = stack.pop() {
            if !reached.contains(i) {
                reached.insert(i);
                stack.extend(&edges[i]);
            }
        }
        reached
    }
}

/// For one statement that ended a period of write access (a removal, or a grant that made
/// the member a reader): the changes that had seen it (any copy of it), and the changes it
/// had seen (every copy of it, so a copy replayed on top of a fork vouches for nothing).
struct EndPasts {
    after: Bits,
    seen: Bits,
}

/// Copies of one statement beyond which none is taken to have seen anything: walking each
/// costs the whole graph, and only a forger makes more than one or two.
const MAX_COPIES_WALKED: usize = 4;

/// Who could write in which change, for every member of one membership.
#[derive(Default)]
pub(super) struct Writers {
    graph: ChangeGraph,
    ends: HashMap<StatementId, EndPasts>,
}

impl Writers {
    /// `ops_of`: every op that put a statement (copies of one value included), asked only
    /// for the statements that ended someone's access.
    pub(super) fn new(
        doc: &Automerge,
        members: &[Member],
        ops_of: impl Fn(&StatementId) -> Vec<ObjId>,
    ) -> Self {
        let ended: HashSet<&StatementId> = members
            .iter()
            .flat_map(|member| &member.periods)
            .flat_map(|period| &period.ends)
            .map(|end| &end.statement)
            .collect();
        // Most records never took anyone's access away: no graph to build.
        if ended.is_empty() {
            return Self::default();
        }
        let graph = ChangeGraph::of(doc);
        let ends = ended
            .into_iter()
            .map(|statement| {
                let copies: Vec<usize> = ops_of(statement)
                    .iter()
                    .filter_map(|op| graph.change_of(doc, op))
                    .collect();
                let mut seen = Bits::new(graph.parents.len());
                if (1..=MAX_COPIES_WALKED).contains(&copies.len()) {
                    seen = graph.reach(&copies[..1], &graph.parents);
                    for &copy in &copies[1..] {
                        seen.keep_only(&graph.reach(&[copy], &graph.parents));
                    }
                }
                let pasts = EndPasts {
                    after: graph.reach(&copies, &graph.children),
                    seen,
                };
                (statement.clone(), pasts)
            })
            .collect();
        Self { graph, ends }
    }

    /// Whether `member`'s value dated `at`, put by `ops` (identical copies: any one that
    /// counts is enough, so a replay on a fork cannot take an honest write's standing
    /// away), counts as written with its access: within one of its periods of write
    /// access, and for every statement that ended that period, made without having seen
    /// it, and either seen by it or dated before it.
    pub(super) fn could_write(
        &self,
        doc: &Automerge,
        member: &Member,
        at: DateTime<Utc>,
        ops: &[&ObjId],
    ) -> bool {
        // Most members never lost access: their writes need no change looked up.
        let ended = member.periods.iter().any(|period| !period.ends.is_empty());
        let changes: Vec<usize> = if ended {
            ops.iter()
                .filter_map(|op| self.graph.change_of(doc, op))
                .collect()
        } else {
            Vec::new()
        };
        member.periods.iter().any(|period| {
            member.began_by(period, at)
                && (period.ends.is_empty()
                    || changes
                        .iter()
                        .any(|&change| period.ends.iter().all(|end| self.passes(end, change, at))))
        })
    }

    /// Whether a write dated `at` in `change` passes `end`: made without having seen it,
    /// and either seen by it or dated before it.
    fn passes(&self, end: &PeriodEnd, change: usize, at: DateTime<Utc>) -> bool {
        match self.ends.get(&end.statement) {
            Some(pasts) => {
                !pasts.after.contains(change) && (pasts.seen.contains(change) || at < end.at)
            }
            None => at < end.at,
        }
    }
}
