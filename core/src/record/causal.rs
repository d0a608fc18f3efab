//! What each change had seen. A write counts by its own change's causal past, not only by
//! the time it declares: a device that had seen its removal writes nothing that counts,
//! whatever it dates it; and a removal never voids what its remover had seen, whatever it
//! dates itself (docs/threat-model.md, "Times"). A write need not have seen its author's
//! grant: a device writes as soon as it accepts an invitation, before its first sync.
//!
//! A modified client can make a change on a fork that omits what it had seen; these rules
//! bind what a change says it had seen, and the times bound the rest.

use crate::model::{Member, StatementId};
use automerge::{Automerge, ChangeHash, ObjId};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

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
    fn reach(&self, start: &[usize], edges: &[Vec<usize>]) -> Changes {
        let mut reached = Changes::new(self.parents.len());
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

/// A set of changes, as bits.
struct Changes(Vec<u64>);

impl Changes {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

/// For one removed member: the changes that had seen its removal, and the changes its
/// removal had seen.
struct RemovalPasts {
    after: Changes,
    seen: Changes,
}

/// Who could write in which change, for every member of one membership.
pub(super) struct Writers {
    graph: ChangeGraph,
    removals: HashMap<String, RemovalPasts>,
}

impl Writers {
    /// `statement_ops`: every op that put each statement (copies of one value included).
    pub(super) fn new(
        doc: &Automerge,
        members: &[Member],
        statement_ops: &HashMap<StatementId, Vec<ObjId>>,
    ) -> Self {
        // Most records never lost a member: no graph to build.
        if members.iter().all(Member::is_active) {
            return Self {
                graph: ChangeGraph::default(),
                removals: HashMap::new(),
            };
        }
        let graph = ChangeGraph::of(doc);
        let removals = members
            .iter()
            .filter_map(|member| {
                let statement = member.removed.as_ref()?.statement.as_ref()?;
                let removed: Vec<usize> = statement_ops
                    .get(statement)
                    .into_iter()
                    .flatten()
                    .filter_map(|op| graph.change_of(doc, op))
                    .collect();
                let pasts = RemovalPasts {
                    after: graph.reach(&removed, &graph.children),
                    seen: graph.reach(&removed, &graph.parents),
                };
                Some((member.device_id.clone(), pasts))
            })
            .collect();
        Self { graph, removals }
    }

    /// Whether `member`'s value dated `at`, put by `ops` (identical copies: any one that
    /// counts is enough, so a replay on a fork cannot take an honest write's standing
    /// away), counts as written with its access.
    pub(super) fn could_write(
        &self,
        doc: &Automerge,
        member: &Member,
        at: DateTime<Utc>,
        ops: &[&ObjId],
    ) -> bool {
        if !member.dated_within_grant(at) {
            return false;
        }
        let Some(removal) = self.removals.get(&member.device_id) else {
            return member.dated_before_removal(at);
        };
        ops.iter()
            .filter_map(|op| self.graph.change_of(doc, op))
            .any(|change| {
                !removal.after.contains(change)
                    && (removal.seen.contains(change) || member.dated_before_removal(at))
            })
    }
}
