//! Membership statements: writing them signed, reading the ones that verify, and the
//! membership and the writers per change resolved from them.

use super::causal::Writers;
use super::membership::{self, Membership};
use super::signed::{self, Kind};
use super::values::{commit, commit_with_key, one_value};
use super::{Record, RecordError};
use crate::crypto::device::DeviceKeys;
use crate::model::{Member, Statement, StatementId};
use automerge::ObjId;
use std::sync::Arc;

impl Record {
    /// Gives a statement the id that commits to it, as `put_statement` will (so a
    /// candidate can be resolved with the others before it is written).
    pub fn commit_statement(&self, statement: &mut Statement) -> Result<(), RecordError> {
        let issuer = statement.issuer.signing_key;
        commit_with_key(Kind::Statement, &self.record_id, statement, Some(&issuer)).map(|_| ())
    }

    /// Adds a membership statement, signed by its issuer, under the id that commits to it
    /// (`commit_statement` gives the caller that id beforehand).
    pub fn put_statement(
        &mut self,
        statement: &Statement,
        signer: &DeviceKeys,
    ) -> Result<(), RecordError> {
        let mut statement = statement.clone();
        let json = commit(
            Kind::Statement,
            &self.record_id,
            &mut statement,
            Some(signer),
        )?;
        let value = signed::sign(Kind::Statement, &self.record_id, &json, signer);
        self.put_value(Kind::Statement, statement.id.as_str(), value)
    }

    /// A statement value's parts, if it is framed as a statement and signed by the issuer
    /// it names (the signature itself is checked by the caller).
    fn read_statement(bytes: &[u8]) -> Option<(signed::Signed<'_>, Statement)> {
        let value = signed::parse(bytes)?;
        let statement: Statement = serde_json::from_slice(value.json).ok()?;
        (value.kind == Kind::Statement && value.signer == Some(&statement.issuer.signing_key))
            .then_some((value, statement))
    }

    /// The membership statements whose signatures verify, as their issuers wrote them.
    pub fn statements(&self) -> Vec<Statement> {
        let mut checked = self.statement_verdicts.borrow_mut();
        self.values(&self.membership)
            .into_iter()
            .filter_map(|stored| {
                let (value, statement) = Self::read_statement(&stored.bytes)?;
                // A value is never overwritten, so its op's verdict stands.
                let signed = *checked
                    .entry(stored.op.clone())
                    .or_insert_with(|| value.verifies(&self.record_id));
                let counts = signed
                    && statement.id.as_str() == stored.key
                    && signed::commits(&value, &self.record_id, &stored.key);
                counts.then_some(statement)
            })
            .collect()
    }

    /// The signed statement values as stored, for a device that needs the membership
    /// before it can read the record (`sync`'s key messages).
    pub fn statement_values(&self) -> Vec<Vec<u8>> {
        self.values(&self.membership)
            .into_iter()
            .map(|s| s.bytes)
            .collect()
    }

    /// Reads statements carried outside the document (a key message): only those signed
    /// for this record by their issuer, under the id that commits to them (so no second
    /// statement can arrive under a known id this way either, ADR 0012).
    pub fn statements_from_values(&self, values: &[Vec<u8>]) -> Vec<Statement> {
        values
            .iter()
            .filter_map(|bytes| {
                let (value, statement) = Self::read_statement(bytes)?;
                (statement.check().is_ok()
                    && signed::commits(&value, &self.record_id, statement.id.as_str())
                    && value.verifies(&self.record_id))
                .then_some(statement)
            })
            .collect()
    }

    /// Who the record's members are, resolved from its statements (cached by the
    /// document's heads).
    pub fn membership(&self) -> Arc<Membership> {
        let heads = self.doc.get_heads();
        if let Some((seen, membership)) = self.resolved.borrow().as_ref() {
            if *seen == heads {
                return membership.clone();
            }
        }
        let membership = Arc::new(membership::resolve(&self.record_id, self.statements()));
        *self.resolved.borrow_mut() = Some((heads, membership.clone()));
        membership
    }

    /// Who could write in which change (docs/threat-model.md, "Times").
    pub(super) fn writers(&self, membership: &Membership) -> Arc<Writers> {
        let heads = self.doc.get_heads();
        if let Some((seen, writers)) = self.writers.borrow().as_ref() {
            if *seen == heads {
                return writers.clone();
            }
        }
        // Only the statements that ended someone's access are looked up, one key each.
        let ops_of = |id: &StatementId| -> Vec<ObjId> {
            one_value(self.values_at(&self.membership, id.as_str()))
                .map(|stored| stored.ops().into_iter().cloned().collect())
                .unwrap_or_default()
        };
        let writers = Arc::new(Writers::new(&self.doc, &membership.members, ops_of));
        *self.writers.borrow_mut() = Some((heads, writers.clone()));
        writers
    }

    pub fn members(&self) -> Vec<Member> {
        self.membership().members.clone()
    }

    pub fn member(&self, device_id: &str) -> Option<Member> {
        self.membership().member(device_id).cloned()
    }
}
