use super::*;
use proptest::prelude::*;

fn header(from: &DeviceKeys, to: &DeviceKeys) -> Header {
    Header {
        kind: Kind::Sync,
        record_id: RecordId::generate().unwrap(),
        epoch: 0,
        from: from.public().device_id(),
        to: to.public().device_id(),
    }
}

#[test]
fn an_envelope_opens_for_the_key_and_sender_that_made_it() {
    let (mum, dad) = (
        DeviceKeys::generate().unwrap(),
        DeviceKeys::generate().unwrap(),
    );
    let key = SecretKey::generate().unwrap();
    let h = header(&mum, &dad);
    let bytes = seal_envelope(&h, &key, b"automerge sync message", &mum).unwrap();
    let envelope = parse_envelope(&bytes).unwrap();
    assert_eq!(envelope.header, h);
    assert_eq!(
        envelope.open(&mum.public(), &key).unwrap(),
        b"automerge sync message"
    );
    assert_eq!(
        envelope.open(&dad.public(), &key),
        Err(SyncError::NotAMember)
    );
    let other_key = SecretKey::generate().unwrap();
    assert_eq!(
        envelope.open(&mum.public(), &other_key),
        Err(SyncError::Unreadable)
    );
}

#[test]
fn every_flipped_byte_and_every_truncation_is_refused() {
    let (mum, dad) = (
        DeviceKeys::generate().unwrap(),
        DeviceKeys::generate().unwrap(),
    );
    let key = SecretKey::generate().unwrap();
    let bytes = seal_envelope(&header(&mum, &dad), &key, b"body", &mum).unwrap();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x40;
        let opened = parse_envelope(&tampered).and_then(|e| e.open(&mum.public(), &key));
        assert!(opened.is_err(), "byte {i}");
    }
    for len in 0..bytes.len() {
        assert!(parse_envelope(&bytes[..len]).is_err(), "length {len}");
    }
}

#[test]
fn an_invitation_fits_a_qr_code_and_opens_only_for_its_invitee() {
    let (mum, clinic, stranger) = (
        DeviceKeys::generate().unwrap(),
        DeviceKeys::generate().unwrap(),
        DeviceKeys::generate().unwrap(),
    );
    let id = RecordId::generate().unwrap();
    let key = SecretKey::generate().unwrap();
    let hint = RecordHint {
        name: "Ada Lovelace".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
    };
    let invitation = make_invitation(&id, 3, &key, &mum, &clinic.public(), Some(&hint)).unwrap();
    assert!(invitation.len() < 400, "{} bytes", invitation.len());
    assert_eq!(
        read_invitation(&invitation, &clinic).unwrap().hint,
        Some(hint)
    );
    let opened = read_invitation(&invitation, &clinic).unwrap();
    assert_eq!(
        (opened.record_id, opened.epoch, opened.inviter),
        (id, 3, mum.public())
    );
    assert!(opened.record_key == key);
    assert!(matches!(
        read_invitation(&invitation, &stranger),
        Err(SyncError::NotForThisDevice)
    ));
    let mut tampered = invitation.clone();
    tampered[30] ^= 1;
    assert!(read_invitation(&tampered, &clinic).is_err());
}

#[test]
fn a_device_card_round_trips() {
    let keys = DeviceKeys::generate().unwrap();
    let card = DeviceCard::new(&keys, Role::HealthVisitor, "HV Jo", Some("RQX"), None).unwrap();
    let text = card.encode();
    assert_eq!(DeviceCard::decode(&text).unwrap(), card);
    // Compact and text-safe: 486 characters of hex JSON before; this is the figure the
    // README gives.
    assert!(text.len() <= 200, "{} characters", text.len());
    assert!(text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_:".contains(&b)));
    let attested = attestation::test_organisation()
        .attest(
            &keys.public(),
            Role::HealthVisitor,
            chrono::Utc::now() + chrono::Duration::days(365),
        )
        .unwrap();
    let with = DeviceCard::new(
        &keys,
        Role::HealthVisitor,
        "HV Jo",
        Some("X99TEST"),
        Some(attested),
    )
    .unwrap();
    assert_eq!(DeviceCard::decode(&with.encode()).unwrap(), with);
    assert!(
        with.encode().len() <= 420,
        "{} characters",
        with.encode().len()
    );
    // Another device cannot change the name or swap the X25519 key it carries.
    let other = DeviceKeys::generate().unwrap();
    let mut swapped = card.clone();
    swapped.keys.agreement_key = other.public().agreement_key;
    assert_eq!(
        DeviceCard::decode(&swapped.encode()),
        Err(SyncError::BadSignature)
    );
    assert!(DeviceCard::decode("rbcard2:zz").is_err());
    assert!(DeviceCard::decode(&text[..text.len() - 3]).is_err());
    assert!(DeviceCard::decode("hello").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Bytes from another device never panic a parser.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let keys = DeviceKeys::generate().unwrap();
        let _ = parse_envelope(&bytes).map(|e| e.open(&keys.public(), &SecretKey::generate().unwrap()));
        let _ = read_invitation(&bytes, &keys);
        let _ = DeviceCard::decode(&String::from_utf8_lossy(&bytes));
    }

    /// Framed like an envelope, with arbitrary contents.
    #[test]
    fn arbitrary_envelope_bodies_never_panic(kind in 0u8..4, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = ENVELOPE_MAGIC.to_vec();
        bytes.push(kind);
        bytes.extend_from_slice(&[7u8; 52]);
        bytes.extend_from_slice(&(body.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&[0u8; 64]);
        let keys = DeviceKeys::generate().unwrap();
        if let Ok(envelope) = parse_envelope(&bytes) {
            prop_assert!(envelope.open(&keys.public(), &SecretKey::generate().unwrap()).is_err());
        }
    }
}

/// An invitation as devices made it before the record hint: the key alone under "RBI1".
fn invitation_v1(id: &RecordId, key: &SecretKey, from: &DeviceKeys, to: &DevicePublic) -> Vec<u8> {
    let public = from.public();
    let mut out = b"RBI1".to_vec();
    out.extend_from_slice(&id.to_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&public.signing_key);
    out.extend_from_slice(&public.agreement_key);
    out.extend_from_slice(&hex::decode(to.device_id()).unwrap());
    let sealed = to.seal_to(&out, key.as_bytes()).unwrap();
    out.extend_from_slice(&(sealed.len() as u16).to_be_bytes());
    out.extend_from_slice(&sealed);
    let signature = from.sign(&out);
    out.extend_from_slice(&signature);
    out
}

#[test]
fn an_invitation_without_a_hint_is_still_read_and_a_bad_hint_is_left_out() {
    let (mum, clinic) = (
        DeviceKeys::generate().unwrap(),
        DeviceKeys::generate().unwrap(),
    );
    let id = RecordId::generate().unwrap();
    let key = SecretKey::generate().unwrap();
    let old = read_invitation(&invitation_v1(&id, &key, &mum, &clinic.public()), &clinic).unwrap();
    assert!(old.record_key == key && old.hint.is_none() && old.record_id == id);
    let escape = RecordHint {
        name: "Ada\u{1b}]0;owned\u{7}".into(),
        birth_date: None,
    };
    let invitation = make_invitation(&id, 0, &key, &mum, &clinic.public(), Some(&escape)).unwrap();
    let read = read_invitation(&invitation, &clinic).unwrap();
    assert!(read.hint.is_none() && read.record_key == key);
    let mut unknown = invitation.clone();
    unknown[..4].copy_from_slice(b"RBI9");
    assert!(matches!(
        read_invitation(&unknown, &clinic),
        Err(SyncError::Malformed("not a redbook invitation"))
    ));
}
