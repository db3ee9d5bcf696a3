//! SRTP and SRTCP against the published vectors: RFC 3711 Appendix B (AES-CM keystream,
//! key derivation) and RFC 7714 §16-17 (AES-GCM RTP and RTCP, 128 and 256 bits), plus
//! round trips, rollover, replay, tamper and truncation on every profile.

use weft_dtls_srtp::srtp::{
    derive, Context, ContextConfig, Error, MasterKey, SessionKeys, SrtpProfile,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn rfc3711_appendix_b2_keystream() {
    // The keystream is what AES-CM XORs onto zeros: session key 2B7E..., salt F0F1...FD,
    // SSRC 0, index 0 (the counter blocks F0F1...FD0000 onwards).
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    let auth = [0u8; 20];
    let k = SessionKeys {
        key: &key,
        salt: &salt,
        auth: Some(&auth),
    };
    let mut ctx = Context::with_session_keys(
        SrtpProfile::Aes128CmSha1_80,
        &k,
        &k,
        ContextConfig::default(),
    )
    .unwrap();
    // An RTP packet with SSRC 0, seq 0 and 0xFF02 blocks of zero payload.
    let payload = 16 * 0xff02;
    let mut buf = vec![0u8; 12 + payload + 10];
    buf[0] = 0x80;
    let n = ctx.protect_rtp(&mut buf, 12 + payload).unwrap();
    assert_eq!(n, 12 + payload + 10);
    let block = |i: usize| &buf[12 + 16 * i..12 + 16 * (i + 1)];
    assert_eq!(block(0), &hex("E03EAD0935C95E80E166B16DD92B4EB4")[..]);
    assert_eq!(block(1), &hex("D23513162B02D0F72A43A2FE4A5F97AB")[..]);
    assert_eq!(block(2), &hex("41E95B3BB0A2E8DD477901E4FCA894C0")[..]);
    assert_eq!(block(0xfeff), &hex("EC8CDF7398607CB0F2D21675EA9EA1E4")[..]);
    assert_eq!(block(0xff00), &hex("362B7C3C6773516318A077D7FC5073AE")[..]);
    assert_eq!(block(0xff01), &hex("6A2CC3787889374FBEB4C81B17BA6C44")[..]);
}

#[test]
fn rfc3711_appendix_b3_key_derivation() {
    let master = MasterKey {
        profile: SrtpProfile::Aes128CmSha1_80,
        key: hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
        salt: hex("0EC675AD498AFEEBB6960B3AABE6"),
    };
    let mut enc = [0u8; 16];
    let mut salt = [0u8; 14];
    let mut auth = [0u8; 94];
    derive(&master, 0, &mut enc).unwrap();
    derive(&master, 2, &mut salt).unwrap();
    derive(&master, 1, &mut auth).unwrap();
    assert_eq!(enc.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    assert_eq!(salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    assert_eq!(
        auth.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

const GCM_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const GCM_SALT: &str = "517569642070726f2071756f";
const RTP: &str = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";
const RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

fn gcm(profile: SrtpProfile, key: &str) -> Context {
    let (key, salt) = (hex(key), hex(GCM_SALT));
    let k = SessionKeys {
        key: &key,
        salt: &salt,
        auth: None,
    };
    Context::with_session_keys(profile, &k, &k, ContextConfig::default()).unwrap()
}

fn gcm_rtp_case(profile: SrtpProfile, key: &str, expected: &str) {
    let plain = hex(RTP);
    let expected = hex(expected);
    let mut buf = vec![0u8; plain.len() + 16];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = gcm(profile, key)
        .protect_rtp(&mut buf, plain.len())
        .unwrap();
    assert_eq!(&buf[..n], &expected[..]);
    let mut rx = gcm(profile, key);
    let mut buf = expected.clone();
    let n = rx.unprotect_rtp(&mut buf).unwrap();
    assert_eq!(&buf[..n], &plain[..]);
}

#[test]
fn rfc7714_16_1_aead_aes_128_gcm_rtp() {
    gcm_rtp_case(
        SrtpProfile::AeadAes128Gcm,
        GCM_KEY_128,
        "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce",
    );
}

#[test]
fn rfc7714_16_2_aead_aes_256_gcm_rtp() {
    gcm_rtp_case(
        SrtpProfile::AeadAes256Gcm,
        GCM_KEY_256,
        "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
    );
}

fn gcm_rtcp_case(profile: SrtpProfile, key: &str, expected: &str) {
    let plain = hex(RTCP);
    let expected = hex(expected);
    let mut tx = gcm(profile, key);
    tx.set_rtcp_index(0x4d61_7273, 0x5d4).unwrap();
    let mut buf = vec![0u8; plain.len() + 20];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
    assert_eq!(&buf[..n], &expected[..]);
    let mut buf = expected.clone();
    let n = gcm(profile, key).unprotect_rtcp(&mut buf).unwrap();
    assert_eq!(&buf[..n], &plain[..]);
}

#[test]
fn rfc7714_17_1_aead_aes_128_gcm_rtcp() {
    gcm_rtcp_case(
        SrtpProfile::AeadAes128Gcm,
        GCM_KEY_128,
        "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
    );
}

#[test]
fn rfc7714_17_2_aead_aes_256_gcm_rtcp() {
    gcm_rtcp_case(
        SrtpProfile::AeadAes256Gcm,
        GCM_KEY_256,
        "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4",
    );
}

#[test]
fn rfc7714_17_3_aead_aes_128_gcm_rtcp_authenticated_only() {
    let plain = hex(RTCP);
    let mut buf = hex("81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef841dd9683dd78ec92ae58790125f62b3000005d4");
    let n = gcm(SrtpProfile::AeadAes128Gcm, GCM_KEY_128)
        .unprotect_rtcp(&mut buf)
        .unwrap();
    assert_eq!(&buf[..n], &plain[..]);
    buf[10] ^= 1;
    assert!(gcm(SrtpProfile::AeadAes128Gcm, GCM_KEY_128)
        .unprotect_rtcp(&mut buf)
        .is_err());
}

const ALL: [SrtpProfile; 4] = [
    SrtpProfile::Aes128CmSha1_80,
    SrtpProfile::Aes128CmSha1_32,
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::AeadAes256Gcm,
];

fn pair(profile: SrtpProfile) -> (Context, Context) {
    let material: Vec<u8> = (0..profile.keying_material_len() as u8).collect();
    let (ours, _) = MasterKey::from_dtls_export(profile, &material, true).unwrap();
    (
        Context::new(&ours, ContextConfig::default()).unwrap(),
        Context::new(&ours, ContextConfig::default()).unwrap(),
    )
}

fn rtp_packet(seq: u16, ssrc: u32, payload: usize) -> Vec<u8> {
    let mut p = vec![0x80, 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 960).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..payload).map(|i| (i as u8).wrapping_mul(7)));
    p
}

fn protect(tx: &mut Context, p: &[u8]) -> Vec<u8> {
    let mut buf = p.to_vec();
    buf.resize(p.len() + 16, 0);
    let n = tx.protect_rtp(&mut buf, p.len()).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn every_profile_round_trips_across_the_sequence_wrap() {
    for profile in ALL {
        let (mut tx, mut rx) = pair(profile);
        for seq in (65_500u32..65_536 + 100).map(|s| s as u16) {
            let p = rtp_packet(seq, 0xcafe_babe, 200);
            let mut s = protect(&mut tx, &p);
            assert_ne!(&s[12..212], &p[12..], "{profile:?}: encrypted");
            let n = rx
                .unprotect_rtp(&mut s)
                .unwrap_or_else(|e| panic!("{profile:?} seq {seq}: {e}"));
            assert_eq!(&s[..n], &p[..]);
        }
    }
}

#[test]
fn every_profile_refuses_replay_tamper_truncation_without_changing_state() {
    for profile in ALL {
        let (mut tx, mut rx) = pair(profile);
        let first = protect(&mut tx, &rtp_packet(1, 7, 100));
        let mut ok = first.clone();
        rx.unprotect_rtp(&mut ok).unwrap();
        let mut again = first.clone();
        assert_eq!(
            rx.unprotect_rtp(&mut again),
            Err(Error::Replay),
            "{profile:?}"
        );
        // Tampered: authentication fails, and the genuine packet still goes through.
        let genuine = protect(&mut tx, &rtp_packet(2, 7, 100));
        let mut bad = genuine.clone();
        bad[40] ^= 0x20;
        assert_eq!(
            rx.unprotect_rtp(&mut bad),
            Err(Error::Authentication),
            "{profile:?}"
        );
        let mut bad_tag = genuine.clone();
        let last = bad_tag.len() - 1;
        bad_tag[last] ^= 1;
        assert_eq!(rx.unprotect_rtp(&mut bad_tag), Err(Error::Authentication));
        // A forged packet far ahead must not move the ROC: later genuine packets still pass.
        let mut forged = rtp_packet(40_000, 7, 100);
        forged.extend_from_slice(&[0; 16][..profile.rtp_tag_len()]);
        assert!(rx.unprotect_rtp(&mut forged).is_err());
        let mut g = genuine.clone();
        assert!(
            rx.unprotect_rtp(&mut g).is_ok(),
            "{profile:?}: state moved on a forgery"
        );
        // Truncated.
        let mut short = genuine[..10].to_vec();
        assert_eq!(rx.unprotect_rtp(&mut short), Err(Error::TooShort));
        // Out of window: 200 packets later, packet 3 is too old.
        let p3 = protect(&mut tx, &rtp_packet(3, 7, 10));
        for seq in 4..204 {
            let mut s = protect(&mut tx, &rtp_packet(seq, 7, 10));
            rx.unprotect_rtp(&mut s).unwrap();
        }
        let mut old = p3;
        assert_eq!(
            rx.unprotect_rtp(&mut old),
            Err(Error::Replay),
            "{profile:?}"
        );
    }
}

#[test]
fn srtcp_round_trip_replay_and_index() {
    for profile in ALL {
        let (mut tx, mut rx) = pair(profile);
        let rtcp = hex(RTCP);
        let mut sent = Vec::new();
        for _ in 0..3 {
            let mut buf = rtcp.clone();
            buf.resize(rtcp.len() + profile.rtcp_overhead(), 0);
            let n = tx.protect_rtcp(&mut buf, rtcp.len()).unwrap();
            assert_eq!(n, rtcp.len() + profile.rtcp_overhead());
            sent.push(buf);
        }
        // E flag set, indices 0, 1, 2.
        for (i, s) in sent.iter().enumerate() {
            let at = if profile.rtp_tag_len() == 16 {
                s.len() - 4
            } else {
                s.len() - 14
            };
            assert_eq!(
                u32::from_be_bytes(s[at..at + 4].try_into().unwrap()),
                0x8000_0000 | i as u32
            );
        }
        let mut second = sent[1].clone();
        let n = rx.unprotect_rtcp(&mut second).unwrap();
        assert_eq!(&second[..n], &rtcp[..]);
        let mut again = sent[1].clone();
        assert_eq!(rx.unprotect_rtcp(&mut again), Err(Error::Replay));
        let mut first = sent[0].clone();
        assert!(
            rx.unprotect_rtcp(&mut first).is_ok(),
            "reordered but inside the window"
        );
        let mut bad = sent[2].clone();
        bad[12] ^= 1;
        assert_eq!(rx.unprotect_rtcp(&mut bad), Err(Error::Authentication));
    }
}

#[test]
fn ssrc_limit_and_key_length_errors() {
    let material: Vec<u8> = (0..60).collect();
    let (k, _) =
        MasterKey::from_dtls_export(SrtpProfile::Aes128CmSha1_80, &material, true).unwrap();
    let cfg = ContextConfig {
        max_streams: 2,
        ..ContextConfig::default()
    };
    let mut tx = Context::new(&k, ContextConfig::default()).unwrap();
    let mut rx = Context::new(&k, cfg).unwrap();
    for ssrc in 1..=3 {
        let mut s = protect(&mut tx, &rtp_packet(1, ssrc, 20));
        let r = rx.unprotect_rtp(&mut s);
        if ssrc <= 2 {
            r.unwrap();
        } else {
            assert_eq!(r, Err(Error::SsrcLimit));
        }
    }
    assert_eq!(
        MasterKey::from_dtls_export(SrtpProfile::AeadAes128Gcm, &material, true).err(),
        Some(Error::KeyLength)
    );
    let mut small = rtp_packet(1, 1, 20);
    let len = small.len();
    assert_eq!(tx.protect_rtp(&mut small, len), Err(Error::BufferTooSmall));
}

#[test]
fn a_large_early_jump_forward_stays_in_roc_zero() {
    // Found against libsrtp: seq 10 then seq 40000 must not be read as ROC -1.
    for profile in ALL {
        let (mut tx, mut rx) = pair(profile);
        for seq in [10u16, 40_000, 40_001, 65_535, 3] {
            let p = rtp_packet(seq, 99, 50);
            let mut s = protect(&mut tx, &p);
            let n = rx
                .unprotect_rtp(&mut s)
                .unwrap_or_else(|e| panic!("{profile:?} seq {seq}: {e}"));
            assert_eq!(&s[..n], &p[..]);
        }
        // The packet of seq 40000 after seq 10 is protected with ROC 0: the same bytes as a
        // fresh sender's first packet with that sequence number.
        let (mut a, _) = pair(profile);
        let (mut b, _) = pair(profile);
        let _ = protect(&mut a, &rtp_packet(10, 5, 20));
        let after_jump = protect(&mut a, &rtp_packet(40_000, 5, 20));
        assert_eq!(
            after_jump,
            protect(&mut b, &rtp_packet(40_000, 5, 20)),
            "{profile:?}"
        );
    }
}
