//! What crosses between devices: sync envelopes, one-shot bundles and invitations.
//! Every envelope is sealed with the record key and signed by the sending device, so a
//! QR code, a file or an untrusted relay carries only ciphertext. Parsing never panics:
//! every length is checked before it is used.
//!
//! Envelope: `magic "RBS2" | kind u8 | record id [16] | key epoch u32 | from [16] |
//! to [16] | body length u32 | body (AEAD, the header as associated data) | Ed25519
//! signature [64] over everything before it`.
//!
//! A device that holds an older record key than its peer cannot open what the peer
//! sends, so the peer first sends a key message: the record's membership statements,
//! sealed to the device's X25519 key. The new key travels only inside the statement that
//! replaced it, sealed by the admin who replaced it to the members that keep access: a
//! device passing statements on never passes a key to one that was removed
//! (docs/threat-model.md, "Removal").

use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::SecretKey;
use crate::model::{RecordHint, RecordId, Role};

const ENVELOPE_MAGIC: &[u8; 4] = b"RBS2";
const INVITATION_MAGIC: &[u8; 4] = b"RBI2";
/// Invitations before the record hint: the record key alone, still accepted.
const INVITATION_MAGIC_V1: &[u8; 4] = b"RBI1";
const CARD_PREFIX: &str = "rbcard2:";
const HEADER_LEN: usize = 4 + 1 + 16 + 4 + 16 + 16 + 4;
const SIGNATURE_LEN: usize = 64;
/// Bodies larger than this are refused before anything is allocated for them.
pub const MAX_BODY: usize = crate::record::MAX_MESSAGE_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("the message is malformed: {0}")]
    Malformed(&'static str),
    #[error("it is addressed to another device")]
    NotForThisDevice,
    #[error("the sending device is not a member of this record")]
    NotAMember,
    #[error("only an admin of this record (someone with parental responsibility) can do that")]
    NotAnAdmin,
    #[error("this device's access to the record does not allow that")]
    NotPermitted,
    #[error(transparent)]
    Refused(#[from] crate::record::RefusedChange),
    #[error("the message's signature does not match its sender")]
    BadSignature,
    #[error("the message is sealed under an old record key")]
    OldKey,
    #[error("the message is sealed under a newer record key this device has not been given yet")]
    NewerKey,
    #[error("the message cannot be opened with this record's key")]
    Unreadable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// One automerge sync protocol message for one peer.
    Sync = 1,
    /// Everything a peer lacks, for store-and-forward.
    Bundle = 2,
    /// The record's membership statements, sealed to one member's X25519 key rather than
    /// under the record key, for a member that holds an older key: the statement that
    /// replaced the key carries it, sealed to each member that keeps access.
    Keys = 3,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub kind: Kind,
    pub record_id: RecordId,
    pub epoch: u32,
    pub from: String,
    /// All zeros (as hex) for a bundle any member may import.
    pub to: String,
}

pub const ANYONE: &str = "00000000000000000000000000000000";

fn id_bytes(hex_id: &str) -> Result<[u8; 16], SyncError> {
    hex::decode(hex_id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(SyncError::Malformed("device or record id"))
}

impl Header {
    fn encode(&self, body_len: usize) -> Result<Vec<u8>, SyncError> {
        let mut out = Vec::with_capacity(HEADER_LEN);
        out.extend_from_slice(ENVELOPE_MAGIC);
        out.push(self.kind as u8);
        out.extend_from_slice(&id_bytes(self.record_id.as_str())?);
        out.extend_from_slice(&self.epoch.to_be_bytes());
        out.extend_from_slice(&id_bytes(&self.from)?);
        out.extend_from_slice(&id_bytes(&self.to)?);
        out.extend_from_slice(
            &u32::try_from(body_len)
                .map_err(|_| SyncError::Malformed("too large"))?
                .to_be_bytes(),
        );
        Ok(out)
    }
}

/// A key message: the record's statement values, sealed to `recipient`, the header bound in.
pub fn seal_keys(
    header: &Header,
    statements: &[Vec<u8>],
    recipient: &DevicePublic,
    signer: &DeviceKeys,
) -> Result<Vec<u8>, SyncError> {
    let mut body = (statements.len() as u32).to_be_bytes().to_vec();
    for value in statements {
        body.extend_from_slice(&(value.len() as u32).to_be_bytes());
        body.extend_from_slice(value);
    }
    let body_len = body.len() + crate::crypto::device::SEALED_TO_DEVICE_OVERHEAD;
    let mut out = header.encode(body_len)?;
    let sealed = recipient
        .seal_to(&out, &body)
        .map_err(|_| SyncError::Unreadable)?;
    out.extend_from_slice(&sealed);
    let signature = signer.sign(&out);
    out.extend_from_slice(&signature);
    Ok(out)
}

/// The statement values of a key message's body; every length checked.
fn read_statement_values(body: &[u8]) -> Result<Vec<Vec<u8>>, SyncError> {
    let malformed = || SyncError::Malformed("key message");
    let count = u32::from_be_bytes(
        body.get(..4)
            .ok_or_else(malformed)?
            .try_into()
            .expect("4 bytes"),
    );
    let mut rest = &body[4..];
    let mut values = Vec::new();
    for _ in 0..count {
        let len = u32::from_be_bytes(
            rest.get(..4)
                .ok_or_else(malformed)?
                .try_into()
                .expect("4 bytes"),
        ) as usize;
        let value = rest
            .get(4..4usize.checked_add(len).ok_or_else(malformed)?)
            .ok_or_else(malformed)?;
        values.push(value.to_vec());
        rest = &rest[4 + len..];
    }
    if !rest.is_empty() {
        return Err(malformed());
    }
    Ok(values)
}

/// Seals `body` with the record key and signs the whole envelope.
pub fn seal_envelope(
    header: &Header,
    record_key: &SecretKey,
    body: &[u8],
    signer: &DeviceKeys,
) -> Result<Vec<u8>, SyncError> {
    let sealed_len = body.len() + crate::crypto::SEAL_OVERHEAD;
    let mut out = header.encode(sealed_len)?;
    let sealed = record_key
        .seal(&out, body)
        .map_err(|_| SyncError::Unreadable)?;
    out.extend_from_slice(&sealed);
    let signature = signer.sign(&out);
    out.extend_from_slice(&signature);
    Ok(out)
}

/// An envelope whose framing is sound; its signature and body are not yet checked.
pub struct Envelope<'a> {
    pub header: Header,
    signed: &'a [u8],
    sealed_body: &'a [u8],
    signature: &'a [u8],
}

pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope<'_>, SyncError> {
    if bytes.len() < HEADER_LEN + SIGNATURE_LEN {
        return Err(SyncError::Malformed("too short"));
    }
    if &bytes[..4] != ENVELOPE_MAGIC {
        return Err(SyncError::Malformed("not a redbook sync message"));
    }
    let kind = match bytes[4] {
        1 => Kind::Sync,
        2 => Kind::Bundle,
        3 => Kind::Keys,
        _ => return Err(SyncError::Malformed("unknown kind")),
    };
    let field = |from: usize, len: usize| &bytes[from..from + len];
    let body_len = u32::from_be_bytes(field(57, 4).try_into().expect("4 bytes")) as usize;
    if body_len > MAX_BODY || bytes.len() != HEADER_LEN + body_len + SIGNATURE_LEN {
        return Err(SyncError::Malformed("length does not match"));
    }
    let record_id = hex::encode(field(5, 16))
        .parse()
        .map_err(|_| SyncError::Malformed("record id"))?;
    let header = Header {
        kind,
        record_id,
        epoch: u32::from_be_bytes(field(21, 4).try_into().expect("4 bytes")),
        from: hex::encode(field(25, 16)),
        to: hex::encode(field(41, 16)),
    };
    let signed_len = HEADER_LEN + body_len;
    Ok(Envelope {
        header,
        signed: &bytes[..signed_len],
        sealed_body: &bytes[HEADER_LEN..signed_len],
        signature: &bytes[signed_len..],
    })
}

impl Envelope<'_> {
    /// Checks the sender's signature, then opens a key message's statements with this
    /// device's X25519 key.
    pub fn open_keys(
        &self,
        sender: &DevicePublic,
        me: &DeviceKeys,
    ) -> Result<Vec<Vec<u8>>, SyncError> {
        if self.header.kind != Kind::Keys {
            return Err(SyncError::Malformed("not a key message"));
        }
        self.check_signature(sender)?;
        let body = me
            .open_sealed(&self.signed[..HEADER_LEN], self.sealed_body)
            .map_err(|_| SyncError::Unreadable)?;
        read_statement_values(&body)
    }

    /// Whether the sender (as this device knows its keys) signed the envelope.
    pub fn check_signature(&self, sender: &DevicePublic) -> Result<(), SyncError> {
        if sender.device_id() != self.header.from {
            return Err(SyncError::NotAMember);
        }
        if !sender.verify(self.signed, self.signature) {
            return Err(SyncError::BadSignature);
        }
        Ok(())
    }

    /// Checks the sender's signature, then opens the body with the record key.
    pub fn open(
        &self,
        sender: &DevicePublic,
        record_key: &SecretKey,
    ) -> Result<Vec<u8>, SyncError> {
        if self.header.kind == Kind::Keys {
            return Err(SyncError::Malformed(
                "a key message carries no record content",
            ));
        }
        self.check_signature(sender)?;
        record_key
            .open(&self.signed[..HEADER_LEN], self.sealed_body)
            .map_err(|_| SyncError::Unreadable)
    }
}

/// What a device shows (as a QR code or text) so an admin can invite it: its keys, the
/// role and name it asks to be added as, and an organisation's attestation if it has one.
/// The device signs it, binding its X25519 key (and the rest) to its Ed25519 key.
///
/// Text: `rbcard2:` then base64url (no padding) of `version 2 | signing key [32] |
/// agreement key [32] | role u8 | name length u8 | name | organisation length u8 |
/// organisation | attestation length u16 | attestation | Ed25519 signature [64]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCard {
    pub keys: DevicePublic,
    pub role: Role,
    pub display_name: String,
    pub organisation: Option<String>,
    /// An organisation's attestation of this device's role (`attestation`), if any.
    pub attestation: Option<Vec<u8>>,
    binding: [u8; 64],
}

const CARD_VERSION: u8 = 2;
const CARD_DOMAIN: &[u8] = b"redbook/card/v2";

impl DeviceCard {
    /// This device's card, signed by it.
    pub fn new(
        keys: &DeviceKeys,
        role: Role,
        display_name: &str,
        organisation: Option<&str>,
        attestation: Option<Vec<u8>>,
    ) -> Result<Self, SyncError> {
        let mut card = Self {
            keys: keys.public(),
            role,
            display_name: display_name.to_string(),
            organisation: organisation.map(str::to_string),
            attestation,
            binding: [0; 64],
        };
        let mut signed = CARD_DOMAIN.to_vec();
        signed.extend(card.unsigned_bytes()?);
        card.binding = keys.sign(&signed);
        Ok(card)
    }

    pub fn device_id(&self) -> String {
        self.keys.device_id()
    }

    fn unsigned_bytes(&self) -> Result<Vec<u8>, SyncError> {
        let too_long = || SyncError::Malformed("device card field too long");
        let name = self.display_name.as_bytes();
        let org = self.organisation.as_deref().unwrap_or("").as_bytes();
        let attestation = self.attestation.as_deref().unwrap_or(&[]);
        let mut out = vec![CARD_VERSION];
        out.extend_from_slice(&self.keys.signing_key);
        out.extend_from_slice(&self.keys.agreement_key);
        out.push(self.role.code());
        out.push(u8::try_from(name.len()).map_err(|_| too_long())?);
        out.extend_from_slice(name);
        out.push(u8::try_from(org.len()).map_err(|_| too_long())?);
        out.extend_from_slice(org);
        out.extend_from_slice(
            &u16::try_from(attestation.len())
                .map_err(|_| too_long())?
                .to_be_bytes(),
        );
        out.extend_from_slice(attestation);
        Ok(out)
    }

    pub fn encode(&self) -> String {
        use base64::Engine;
        let mut bytes = self
            .unsigned_bytes()
            .expect("checked when the card was made");
        bytes.extend_from_slice(&self.binding);
        format!(
            "{CARD_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )
    }

    /// Reads a card another device shows; refused unless that device signed it.
    pub fn decode(text: &str) -> Result<Self, SyncError> {
        use base64::Engine;
        let malformed = || SyncError::Malformed("device card");
        let encoded = text
            .trim()
            .strip_prefix(CARD_PREFIX)
            .ok_or(SyncError::Malformed("not a redbook device card"))?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| malformed())?;
        let mut at: usize = 0;
        let mut take = |len: usize| -> Result<&[u8], SyncError> {
            let part = bytes
                .get(at..at.checked_add(len).ok_or_else(malformed)?)
                .ok_or_else(malformed)?;
            at += len;
            Ok(part)
        };
        if take(1)? != [CARD_VERSION] {
            return Err(malformed());
        }
        let keys = DevicePublic {
            signing_key: take(32)?.try_into().expect("32 bytes"),
            agreement_key: take(32)?.try_into().expect("32 bytes"),
        };
        let role = Role::from_code(take(1)?[0]).ok_or_else(malformed)?;
        let name_len = take(1)?[0] as usize;
        let display_name = String::from_utf8(take(name_len)?.to_vec()).map_err(|_| malformed())?;
        let org_len = take(1)?[0] as usize;
        let organisation = String::from_utf8(take(org_len)?.to_vec()).map_err(|_| malformed())?;
        let attestation_len = u16::from_be_bytes(take(2)?.try_into().expect("2 bytes")) as usize;
        let attestation = take(attestation_len)?.to_vec();
        let binding: [u8; 64] = take(64)?.try_into().expect("64 bytes");
        if at != bytes.len() {
            return Err(malformed());
        }
        let card = Self {
            keys,
            role,
            display_name,
            organisation: (!organisation.is_empty()).then_some(organisation),
            attestation: (!attestation.is_empty()).then_some(attestation),
            binding,
        };
        let mut signed = CARD_DOMAIN.to_vec();
        signed.extend(card.unsigned_bytes()?);
        if !card.keys.verify(&signed, &card.binding) {
            return Err(SyncError::BadSignature);
        }
        Ok(card)
    }
}

/// An invitation: the record key sealed to one device, signed by the inviting member.
/// `magic "RBI2" | record id [16] | epoch u32 | inviter keys [64] | invitee [16] |
/// sealed length u16 | sealed (record key [32], then the record's hint as JSON) |
/// signature [64]`. "RBI1" (the key alone, no hint) is still read.
pub struct Invitation {
    pub record_id: RecordId,
    pub epoch: u32,
    pub inviter: DevicePublic,
    pub record_key: SecretKey,
    /// What the invitee shows for the record until its first sync brings the details.
    pub hint: Option<RecordHint>,
}

const INVITATION_FIXED: usize = 4 + 16 + 4 + 64 + 16 + 2;

pub fn make_invitation(
    record_id: &RecordId,
    epoch: u32,
    record_key: &SecretKey,
    inviter: &DeviceKeys,
    invitee: &DevicePublic,
    hint: Option<&RecordHint>,
) -> Result<Vec<u8>, SyncError> {
    let public = inviter.public();
    let mut out = INVITATION_MAGIC.to_vec();
    out.extend_from_slice(&id_bytes(record_id.as_str())?);
    out.extend_from_slice(&epoch.to_be_bytes());
    out.extend_from_slice(&public.signing_key);
    out.extend_from_slice(&public.agreement_key);
    out.extend_from_slice(&id_bytes(&invitee.device_id())?);
    let mut plain = zeroize::Zeroizing::new(record_key.as_bytes().to_vec());
    if let Some(hint) = hint.filter(|h| h.is_well_formed()) {
        plain.extend(serde_json::to_vec(hint).expect("serialisable"));
    }
    // The key and hint are bound to everything before them.
    let sealed = invitee
        .seal_to(&out, &plain)
        .map_err(|_| SyncError::Unreadable)?;
    let sealed_len = u16::try_from(sealed.len()).map_err(|_| SyncError::Malformed("too long"))?;
    out.extend_from_slice(&sealed_len.to_be_bytes());
    out.extend_from_slice(&sealed);
    let signature = inviter.sign(&out);
    out.extend_from_slice(&signature);
    Ok(out)
}

pub fn read_invitation(bytes: &[u8], me: &DeviceKeys) -> Result<Invitation, SyncError> {
    let with_hint = match bytes.get(..4) {
        Some(magic) if magic == INVITATION_MAGIC => true,
        Some(magic) if magic == INVITATION_MAGIC_V1 => false,
        _ => return Err(SyncError::Malformed("not a redbook invitation")),
    };
    if bytes.len() < INVITATION_FIXED + SIGNATURE_LEN {
        return Err(SyncError::Malformed("not a redbook invitation"));
    }
    let sealed_len =
        u16::from_be_bytes([bytes[INVITATION_FIXED - 2], bytes[INVITATION_FIXED - 1]]) as usize;
    if bytes.len() != INVITATION_FIXED + sealed_len + SIGNATURE_LEN {
        return Err(SyncError::Malformed("length does not match"));
    }
    let inviter = DevicePublic {
        signing_key: bytes[24..56].try_into().expect("32 bytes"),
        agreement_key: bytes[56..88].try_into().expect("32 bytes"),
    };
    let signed = &bytes[..INVITATION_FIXED + sealed_len];
    if !inviter.verify(signed, &bytes[INVITATION_FIXED + sealed_len..]) {
        return Err(SyncError::BadSignature);
    }
    if hex::encode(&bytes[88..104]) != me.public().device_id() {
        return Err(SyncError::NotForThisDevice);
    }
    let plain = zeroize::Zeroizing::new(
        me.open_sealed(
            &bytes[..INVITATION_FIXED - 2],
            &bytes[INVITATION_FIXED..INVITATION_FIXED + sealed_len],
        )
        .map_err(|_| SyncError::Unreadable)?,
    );
    let key_len = crate::crypto::KEY_LEN;
    if plain.len() < key_len || (!with_hint && plain.len() != key_len) {
        return Err(SyncError::Unreadable);
    }
    // Only a display hint: one that does not parse or pass the door is left out, and the
    // record joins all the same.
    let hint = serde_json::from_slice::<RecordHint>(&plain[key_len..])
        .ok()
        .filter(RecordHint::is_well_formed);
    Ok(Invitation {
        record_id: hex::encode(&bytes[4..20])
            .parse()
            .map_err(|_| SyncError::Malformed("record id"))?,
        epoch: u32::from_be_bytes(bytes[20..24].try_into().expect("4 bytes")),
        inviter,
        record_key: SecretKey::from_slice(&plain[..key_len]).map_err(|_| SyncError::Unreadable)?,
        hint,
    })
}

pub mod attestation;
pub mod engine;
pub mod mailboxes;
pub mod members;
pub mod relay_client;
pub mod relay_protocol;
pub mod removal;
pub mod session;

#[cfg(test)]
mod tests;
