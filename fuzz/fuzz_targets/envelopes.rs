//! Everything a device parses before it holds a record key: envelopes, invitations,
//! device cards, attestations, what a relay answers, recovery words and backups. Never a
//! panic; nothing opens without the right keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redbook_core::crypto::SecretKey;
use redbook_core::recovery::{self, RecoveryKit};
use redbook_core::sync::{self, attestation, relay_protocol, DeviceCard};
use redbook_fuzz_support::family;

fuzz_target!(|data: &[u8]| {
    let f = family();
    if let Ok(envelope) = sync::parse_envelope(data) {
        let key = SecretKey::from_slice(&[9; 32]).unwrap();
        assert!(envelope.open(&f.mum.public(), &key).is_err() || data.len() > 0);
        let _ = envelope.open_keys(&f.mum.public(), &f.clinic);
    }
    let _ = sync::read_invitation(data, &f.clinic);
    let _ = DeviceCard::decode(&String::from_utf8_lossy(data));
    let _ = relay_protocol::decode_post(data);
    let _ = relay_protocol::decode_fetched(data);
    let _ = relay_protocol::refusal_reason(data);
    let _ = RecoveryKit::from_words(&String::from_utf8_lossy(data));
    static KIT: std::sync::OnceLock<RecoveryKit> = std::sync::OnceLock::new();
    let kit = KIT.get_or_init(|| RecoveryKit::generate().unwrap());
    assert!(recovery::open_backup(kit, data).is_err() || data.starts_with(b"RBB1"));
    if let Ok(a) = attestation::Attestation::decode(data) {
        let _ = a.valid_until();
        let _ = attestation::confirmation(data, &a.device_key, a.role, Some(&a.organisation), &[]);
    }
});
