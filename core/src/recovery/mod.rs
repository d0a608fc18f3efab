//! The recovery kit (docs/adr/0009-recovery.md): 128 random bits, shown once as 12
//! BIP-39 words (and a QR code of them) for the parent to keep in the paper book. From them
//! every phone derives the same three things:
//! - the kit's **identity**, device keys an admin grants as a member standing in for its
//!   own device, so a phone restored from the kit can be granted by it and remove the lost
//!   one (record/membership.rs, rule 3);
//! - the **backup slot**, a relay address only the words can sign for;
//! - the **backup key**, which seals the backup: every record's document, key and epoch.
//!
//! Nothing the backup store holds is readable without the words. Once the words are
//! shown, a phone keeps only its kit's `BackupKeys`: the slot and the identity's public
//! keys, each a one-way derivation, so the phone can neither sign as the kit nor give
//! back the words. Parsing never panics.

use crate::crypto::device::{DeviceKeys, DevicePublic};
use crate::crypto::{random_bytes, SecretKey};
use crate::model::RecordId;
use crate::sync::relay_protocol::{Mailbox, Tag};
use chrono::{DateTime, Utc};

pub mod backup;
pub mod kept;
pub mod restore;
pub use restore::Restored;

const ENTROPY_LEN: usize = 16;
const BACKUP_MAGIC: &[u8; 4] = b"RBB1";
const BACKUP_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryError {
    #[error("these are not the words of a recovery kit: check each word and its order")]
    BadWords,
    #[error("this backup cannot be opened with these words (another kit's, or damaged)")]
    Unreadable,
}

/// A kit's secret. Not `Debug`; wiped when dropped.
pub struct RecoveryKit {
    entropy: zeroize::Zeroizing<[u8; ENTROPY_LEN]>,
    root: SecretKey,
}

impl RecoveryKit {
    pub fn generate() -> Result<Self, crate::crypto::CryptoError> {
        Ok(Self::from_entropy(random_bytes::<ENTROPY_LEN>()?))
    }

    fn from_entropy(entropy: [u8; ENTROPY_LEN]) -> Self {
        // HMAC-SHA256 keyed with the 128 bits (zero-padded to a key's length).
        let mut padded = zeroize::Zeroizing::new([0u8; 32]);
        padded[..ENTROPY_LEN].copy_from_slice(&entropy);
        let root = SecretKey::from_slice(&*padded)
            .expect("32 bytes")
            .derive("redbook-recovery-v1");
        Self {
            entropy: zeroize::Zeroizing::new(entropy),
            root,
        }
    }

    /// The kit from its words (any case, any spacing); the checksum word catches a typo.
    pub fn from_words(words: &str) -> Result<Self, RecoveryError> {
        let normal = words
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normal)
            .map_err(|_| RecoveryError::BadWords)?;
        let entropy: [u8; ENTROPY_LEN] = mnemonic
            .to_entropy()
            .try_into()
            .map_err(|_| RecoveryError::BadWords)?;
        Ok(Self::from_entropy(entropy))
    }

    /// The 12 words, space-separated, to write down.
    pub fn words(&self) -> String {
        bip39::Mnemonic::from_entropy_in(bip39::Language::English, &*self.entropy)
            .expect("16 bytes are valid BIP-39 entropy")
            .to_string()
    }

    /// The kit from the 16 bytes a database kept before it kept only `BackupKeys`: read
    /// once, to make those, and then erased.
    pub(crate) fn from_stored_entropy(bytes: &[u8]) -> Option<Self> {
        Some(Self::from_entropy(bytes.try_into().ok()?))
    }

    /// What the phone that shows the words keeps of them.
    pub fn backup_keys(&self) -> BackupKeys {
        BackupKeys {
            slot: self.root.derive("backup"),
            identity: self.identity().public(),
        }
    }

    /// The identity an admin grants as standing in for its device.
    pub fn identity(&self) -> DeviceKeys {
        DeviceKeys::from_seeds(
            &self.root.derive("identity/signing"),
            &self.root.derive("identity/agreement"),
        )
        .expect("32-byte seeds make keys")
    }

    /// The relay slot the backup is kept in, and the key that seals it.
    pub fn backup_slot(&self) -> Mailbox {
        self.backup_keys().slot()
    }
}

/// What a phone keeps of its kit (sealed in its meta table): the backup slot's secret,
/// from which come the slot's signing key and the key that seals backups, and the kit
/// identity's public keys, to grant it on records made later. Nothing here signs as the
/// kit or gives back the words. Not `Debug`; the secret is wiped when dropped.
pub struct BackupKeys {
    slot: SecretKey,
    identity: DevicePublic,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredBackupKeys {
    slot: String,
    identity: DevicePublic,
}

impl BackupKeys {
    /// The relay slot the backup is kept in, and the key that seals it.
    pub fn slot(&self) -> Mailbox {
        Mailbox::from_secret(self.slot.clone(), 0)
    }

    /// The kit's identity, as its grants name it.
    pub fn identity(&self) -> DevicePublic {
        self.identity
    }

    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        let stored = StoredBackupKeys {
            slot: hex::encode(self.slot.as_bytes()),
            identity: self.identity,
        };
        let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&stored).expect("serialisable"));
        let mut hex_slot = stored.slot;
        zeroize::Zeroize::zeroize(&mut hex_slot);
        bytes
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let stored: StoredBackupKeys = serde_json::from_slice(bytes).ok()?;
        let mut hex_slot = stored.slot;
        let slot = zeroize::Zeroizing::new(hex::decode(&hex_slot).ok());
        zeroize::Zeroize::zeroize(&mut hex_slot);
        let slot = slot.as_deref()?;
        Some(Self {
            slot: SecretKey::from_slice(slot).ok()?,
            identity: stored.identity,
        })
    }
}

/// One record as a backup carries it.
pub struct BackedUpRecord {
    pub id: RecordId,
    pub epoch: u32,
    pub key: SecretKey,
    pub document: Vec<u8>,
}

pub struct Backup {
    pub made_at: DateTime<Utc>,
    pub records: Vec<BackedUpRecord>,
}

/// The one inbox of a backup slot.
fn backup_tag() -> Tag {
    [0; 16]
}

/// `"RBB1" | sealed( version u8 | made_at i64 | count u32 | (record id [16] | epoch u32 |
/// key [32] | length u32 | document)* )`, sealed under the kit's backup key (`slot`).
pub fn seal_backup(slot: &Mailbox, backup: &Backup) -> Result<Vec<u8>, crate::Error> {
    let mut plain = zeroize::Zeroizing::new(vec![BACKUP_VERSION]);
    plain.extend_from_slice(&backup.made_at.timestamp().to_be_bytes());
    plain.extend_from_slice(&(backup.records.len() as u32).to_be_bytes());
    for record in &backup.records {
        plain.extend_from_slice(
            &hex::decode(record.id.as_str()).map_err(|_| crate::Error::corrupt(None))?,
        );
        plain.extend_from_slice(&record.epoch.to_be_bytes());
        plain.extend_from_slice(record.key.as_bytes());
        plain.extend_from_slice(&(record.document.len() as u32).to_be_bytes());
        plain.extend_from_slice(&record.document);
    }
    let mut out = BACKUP_MAGIC.to_vec();
    out.extend(slot.seal(&backup_tag(), &plain)?);
    Ok(out)
}

pub fn open_backup(kit: &RecoveryKit, bytes: &[u8]) -> Result<Backup, RecoveryError> {
    let sealed = bytes
        .strip_prefix(BACKUP_MAGIC.as_slice())
        .ok_or(RecoveryError::Unreadable)?;
    let plain = zeroize::Zeroizing::new(
        kit.backup_slot()
            .open(&backup_tag(), sealed)
            .map_err(|_| RecoveryError::Unreadable)?,
    );
    let mut rest: &[u8] = &plain;
    let mut take = |len: usize| -> Result<&[u8], RecoveryError> {
        if rest.len() < len {
            return Err(RecoveryError::Unreadable);
        }
        let (part, tail) = rest.split_at(len);
        rest = tail;
        Ok(part)
    };
    if take(1)? != [BACKUP_VERSION] {
        return Err(RecoveryError::Unreadable);
    }
    let made_at = i64::from_be_bytes(take(8)?.try_into().expect("8 bytes"));
    let made_at = DateTime::from_timestamp(made_at, 0).ok_or(RecoveryError::Unreadable)?;
    let count = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes"));
    let mut records = Vec::new();
    for _ in 0..count {
        let id = hex::encode(take(16)?)
            .parse()
            .map_err(|_| RecoveryError::Unreadable)?;
        let epoch = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes"));
        let key = SecretKey::from_slice(take(32)?).map_err(|_| RecoveryError::Unreadable)?;
        let len = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        records.push(BackedUpRecord {
            id,
            epoch,
            key,
            document: take(len)?.to_vec(),
        });
    }
    if !rest.is_empty() {
        return Err(RecoveryError::Unreadable);
    }
    Ok(Backup { made_at, records })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_give_back_the_same_kit_and_a_typo_is_caught() {
        let kit = RecoveryKit::generate().unwrap();
        let words = kit.words();
        assert_eq!(words.split(' ').count(), 12);
        let typed = format!("  {}  ", words.to_uppercase().replace(' ', "   "));
        let again = RecoveryKit::from_words(&typed).unwrap();
        assert_eq!(again.identity().public(), kit.identity().public());
        assert_eq!(again.backup_slot().address(), kit.backup_slot().address());
        // A word not on the list is refused; two words swapped are refused by the checksum
        // (4 bits: 15 times in 16) or else make a different kit, never this one.
        let mut misspelt: Vec<&str> = words.split(' ').collect();
        misspelt[3] = "rhubarbx";
        assert_eq!(
            RecoveryKit::from_words(&misspelt.join(" ")).err(),
            Some(RecoveryError::BadWords)
        );
        let mut swapped: Vec<&str> = words.split(' ').collect();
        swapped.swap(0, 1);
        if swapped[0] != swapped[1] {
            if let Ok(other) = RecoveryKit::from_words(&swapped.join(" ")) {
                assert_ne!(other.identity().public(), kit.identity().public());
            }
        }
        assert!(RecoveryKit::from_words("abandon").is_err());
        assert!(RecoveryKit::from_words("").is_err());
    }

    #[test]
    fn a_backup_opens_only_with_its_kit_and_every_truncation_is_refused() {
        let kit = RecoveryKit::generate().unwrap();
        let backup = Backup {
            made_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            records: vec![BackedUpRecord {
                id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
                epoch: 3,
                key: SecretKey::from_slice(&[5; 32]).unwrap(),
                document: b"automerge bytes".to_vec(),
            }],
        };
        let sealed = seal_backup(&kit.backup_keys().slot(), &backup).unwrap();
        let opened = open_backup(&kit, &sealed).unwrap();
        assert_eq!(opened.made_at, backup.made_at);
        assert_eq!(opened.records[0].epoch, 3);
        assert_eq!(opened.records[0].document, b"automerge bytes");
        let other = RecoveryKit::generate().unwrap();
        assert_eq!(
            open_backup(&other, &sealed).err(),
            Some(RecoveryError::Unreadable)
        );
        for cut in 0..sealed.len() {
            assert!(open_backup(&kit, &sealed[..cut]).is_err());
        }
        assert!(!sealed.windows(15).any(|w| w == b"automerge bytes"));
    }
}
