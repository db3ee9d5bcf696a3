//! Known-answer tests of `weft_dtls_srtp::crypto`.
//!
//! Oracles (nothing expected here is computed by the code under test):
//! - the P_SHA256 / P_SHA384 vectors posted to the IETF TLS list (secret 9bbe436b...,
//!   "test label"), also recomputed with `openssl kdf ... TLS1-PRF` (OpenSSL 3.0);
//! - extended master secret, master secret, Finished, key block and exporter outputs computed
//!   with `openssl kdf -kdfopt digest:SHA256|SHA384 -kdfopt hexsecret:.. -kdfopt
//!   hexseed:<hex(label)><seed> TLS1-PRF` on the inputs below;
//! - two real OpenSSL 3.0 DTLS 1.2 handshakes (`s_server`/`s_client -dtls1_2 -use_srtp ..
//!   -keymatexport EXTRACTOR-dtls_srtp -keylogfile ..`): master secret from the key log,
//!   randoms from the `-msg` dump, exported keying material as printed by both ends;
//! - AEAD records computed with Python `cryptography` 48 (OpenSSL backend): AESGCM and
//!   ChaCha20Poly1305 over the nonce and additional data the RFCs define;
//! - RFC 7748 §6.1 (X25519) and RFC 5903 §8.1 (P-256 ECDH) test vectors;
//! - FIPS 180-2 SHA-256/384("abc"); a Python `hmac` cookie.

use ring::rand::SystemRandom;
use weft_dtls_srtp::crypto::{
    self, cookie_mac, ct_eq, export_keying_material, extended_master_secret, key_block,
    master_secret, prf, sha256, verify_data, CipherSuite, CryptoError, EphemeralKey, HashAlg,
    NamedGroup, RecordCipher, Transcript, CLIENT_FINISHED_LABEL, SERVER_FINISHED_LABEL,
    SRTP_EXPORTER_LABEL,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    hex(s).try_into().unwrap()
}

fn range<const N: usize>(start: u8) -> [u8; N] {
    std::array::from_fn(|i| start + i as u8)
}

// Inputs of the OpenSSL-computed key schedule vectors.
fn pre_master() -> [u8; 32] {
    range(0x40)
}
fn session_hash256() -> [u8; 32] {
    range(0x80)
}
fn session_hash384() -> [u8; 48] {
    range(0x80)
}
fn client_random() -> [u8; 32] {
    range(0x00)
}
fn server_random() -> [u8; 32] {
    range(0x20)
}
fn master() -> [u8; 48] {
    range(0xb0)
}

// ---- RFC 5246 §5 PRF ----------------------------------------------------------------------

#[test]
fn ietf_tls12_prf_sha256_test_label() {
    let mut out = [0u8; 100];
    prf(
        HashAlg::Sha256,
        &hex("9bbe436ba940f017b17652849a71db35"),
        b"test label",
        &hex("a0ba9f936cda311827a6f796ffd5198c"),
        &mut out,
    );
    assert_eq!(
        out.to_vec(),
        hex(
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a
             6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab
             4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701
             87347b66"
        )
    );
}

#[test]
fn ietf_tls12_prf_sha384_test_label() {
    let mut out = [0u8; 148];
    prf(
        HashAlg::Sha384,
        &hex("b80b733d6ceefcdc71566ea48e5567df"),
        b"test label",
        &hex("cd665cf6a8447dd6ff8b27555edb7465"),
        &mut out,
    );
    assert_eq!(
        out.to_vec(),
        hex(
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd
             e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd
             8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425
             9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6
             91c8f3a26854308d5eaa3be85e0990703d73e56f"
        )
    );
}

#[test]
fn prf_shorter_output_is_a_prefix() {
    // P_hash is a stream: any length, including ones not a multiple of the hash size.
    let mut long = [0u8; 100];
    let secret = hex("9bbe436ba940f017b17652849a71db35");
    let seed = hex("a0ba9f936cda311827a6f796ffd5198c");
    prf(HashAlg::Sha256, &secret, b"test label", &seed, &mut long);
    for n in [0, 1, 12, 31, 32, 33, 64, 65] {
        let mut short = vec![0u8; n];
        prf(HashAlg::Sha256, &secret, b"test label", &seed, &mut short);
        assert_eq!(short[..], long[..n], "length {n}");
    }
}

// ---- RFC 7627 §4, RFC 5246 §8.1, §7.4.9 -----------------------------------------------------

#[test]
fn rfc7627_extended_master_secret_sha256_matches_openssl() {
    assert_eq!(
        extended_master_secret(HashAlg::Sha256, &pre_master(), &session_hash256()),
        arr::<48>(
            "20cbb77b637fdeda2276e0467b9eba610e37a983fec0dbbe9c114d6ea691efae
             3472cc2f998575c3d5955f345818db75"
        )
    );
}

#[test]
fn rfc7627_extended_master_secret_sha384_matches_openssl() {
    assert_eq!(
        extended_master_secret(HashAlg::Sha384, &pre_master(), &session_hash384()),
        arr::<48>(
            "5bb7df829f3956d3d4a0b3f9f36db38562d644310aeb93e60584e40cc6717916
             eb156d76cc202c96524e2258c4b59262"
        )
    );
}

#[test]
fn rfc5246_master_secret_matches_openssl() {
    assert_eq!(
        master_secret(
            HashAlg::Sha256,
            &pre_master(),
            &client_random(),
            &server_random()
        ),
        arr::<48>(
            "7f120db9691e336abdd12b84c1c3c3368b415ba996f7033a04c122047a9b8d61
             39f9e72f941a498099e4c21e80583a62"
        )
    );
}

#[test]
fn rfc5246_verify_data_client_sha256_matches_openssl() {
    assert_eq!(CLIENT_FINISHED_LABEL, b"client finished");
    assert_eq!(
        verify_data(
            HashAlg::Sha256,
            &master(),
            CLIENT_FINISHED_LABEL,
            &session_hash256()
        ),
        arr::<12>("d71b817aed4bb3e14a605b09")
    );
}

#[test]
fn rfc5246_verify_data_server_sha384_matches_openssl() {
    assert_eq!(SERVER_FINISHED_LABEL, b"server finished");
    assert_eq!(
        verify_data(
            HashAlg::Sha384,
            &master(),
            SERVER_FINISHED_LABEL,
            &session_hash384()
        ),
        arr::<12>("5ee0fd899074107f8b50100c")
    );
}

// ---- RFC 5705 §4 exporter, RFC 5764 §4.2 ------------------------------------------------------

fn export(hash: HashAlg, label: &[u8], context: Option<&[u8]>, n: usize) -> Vec<u8> {
    let mut out = vec![0u8; n];
    export_keying_material(
        hash,
        &master(),
        &client_random(),
        &server_random(),
        label,
        context,
        &mut out,
    )
    .unwrap();
    out
}

#[test]
fn rfc5764_srtp_exporter_sha256_matches_openssl() {
    assert_eq!(SRTP_EXPORTER_LABEL, b"EXTRACTOR-dtls_srtp");
    assert_eq!(
        export(HashAlg::Sha256, SRTP_EXPORTER_LABEL, None, 60),
        hex(
            "4858fb49ee236e5e94f772c1d78a90c089248ff13d0761124dc80328f21323d8
             980e03c10bbe6da4290eb792386968791fe130aa93f46c3ef6f9a81f"
        )
    );
}

#[test]
fn rfc5764_srtp_exporter_sha384_matches_openssl() {
    assert_eq!(
        export(HashAlg::Sha384, SRTP_EXPORTER_LABEL, None, 60),
        hex(
            "f1199841e83961c5a7bc8adf627e05bb82904c34f2bef619ec57c657e9fdeb8d
             f0b7f9944495c7cd23e42678db1a6ed48bbe25dfc39a707c805b6cbf"
        )
    );
}

#[test]
fn rfc5705_exporter_with_context_matches_openssl() {
    assert_eq!(
        export(
            HashAlg::Sha256,
            b"EXPERIMENTAL weft",
            Some(b"weft context"),
            40
        ),
        hex(
            "6ed21bfa22fa6b2ad5bf11fc88f39b222af741b79360073480ce7e5a225c3bd1
             efa8efbbf0b67c34"
        )
    );
}

#[test]
fn rfc5705_exporter_empty_context_differs_from_none() {
    let empty = export(HashAlg::Sha256, b"EXPERIMENTAL weft", Some(b""), 40);
    assert_eq!(
        empty,
        hex(
            "e97e1a301e448fb983a8196e1441bb7962639480c06e940d701b2a939f73877c
             dd01af3fa49cd758"
        )
    );
    assert_ne!(
        empty,
        export(HashAlg::Sha256, b"EXPERIMENTAL weft", None, 40)
    );
}

#[test]
fn rfc5705_exporter_rejects_reserved_labels_and_long_context() {
    let mut out = [0u8; 16];
    for label in [
        &b"client finished"[..],
        b"server finished",
        b"master secret",
        b"extended master secret",
        b"key expansion",
    ] {
        assert_eq!(
            export_keying_material(
                HashAlg::Sha256,
                &master(),
                &client_random(),
                &server_random(),
                label,
                None,
                &mut out
            ),
            Err(CryptoError::ReservedExporterLabel)
        );
    }
    let long = vec![0u8; 65536];
    assert_eq!(
        export_keying_material(
            HashAlg::Sha256,
            &master(),
            &client_random(),
            &server_random(),
            SRTP_EXPORTER_LABEL,
            Some(&long),
            &mut out
        ),
        Err(CryptoError::ExporterContextTooLong)
    );
}

/// OpenSSL 3.0 `s_server`/`s_client -dtls1_2`, ECDHE-ECDSA-AES128-GCM-SHA256, use_srtp
/// SRTP_AEAD_AES_128_GCM, extended master secret: master secret from `-keylogfile`, the
/// randoms from the `-msg` dump of ClientHello and ServerHello, and the 56 bytes both ends
/// printed for `-keymatexport EXTRACTOR-dtls_srtp -keymatexportlen 56`.
#[test]
fn openssl_dtls12_srtp_exporter_sha256() {
    let master = arr::<48>(
        "d321c1c286d9a00cbf109f499deb1865b830101ae7a38d8e130ebe735eb3209f
         3f1d1ae097a1b3358145155dc6f2ed65",
    );
    let client_random =
        arr::<32>("cf2d6ac17e18bc99cfc32df3da5bd8b3fe166f7b794b4e418e4e97ab0c8f547c");
    let server_random =
        arr::<32>("8aea538d2beb59b5cee951b841e2c42379df1725d46f2e0e447d64f3bbd2ff57");
    let mut out = [0u8; 56];
    export_keying_material(
        CipherSuite::EcdheEcdsaAes128GcmSha256.hash(),
        &master,
        &client_random,
        &server_random,
        SRTP_EXPORTER_LABEL,
        None,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out.to_vec(),
        hex(
            "2428FDE9D837899B9DD7373CFF99FA29D78B03A879FEB3FBA3C895204700A72E
             050BD375BB66AB2FBA3E04BCE88A3691A9B17D17A3387FDB"
        )
    );
}

/// As above with ECDHE-ECDSA-AES256-GCM-SHA384 (the SHA-384 PRF) and SRTP_AES128_CM_SHA1_80.
#[test]
fn openssl_dtls12_srtp_exporter_sha384() {
    let master = arr::<48>(
        "a46315374faf31edd71a40590740ed63bd88485174ef830a92f7b2db0cb61559
         76849ecd82f6028a15a3e71b5087fd2d",
    );
    let client_random =
        arr::<32>("768533f0f119a4cb389a77474a060a53462210ebf4c120030d0564741108245d");
    let server_random =
        arr::<32>("f6c5ff567a8b544f86436a260346be89d38223363a432de205276cc29163c1b6");
    let mut out = [0u8; 60];
    export_keying_material(
        CipherSuite::EcdheEcdsaAes256GcmSha384.hash(),
        &master,
        &client_random,
        &server_random,
        SRTP_EXPORTER_LABEL,
        None,
        &mut out,
    )
    .unwrap();
    assert_eq!(
        out.to_vec(),
        hex(
            "4DBB9449FB5777AEA4B05CAD8C8A02DE16239F2D11BF31B5241B16AF1A584D79
             F52F5D9636BDE012F2813A13984434BED8776EB959D383A72EE48CBA"
        )
    );
}

// ---- RFC 5246 §6.3 key block ------------------------------------------------------------------

#[test]
fn rfc5246_key_block_aes128_gcm_matches_openssl() {
    let kb = key_block(
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        &master(),
        &client_random(),
        &server_random(),
    );
    let want = hex(
        "b546fe3f0eb747223670d42e4c7aa69e6152bf2a61d957518e3b18348a7b1583
                    c3c50d417e0b0a82",
    );
    assert_eq!(kb.client_key, want[0..16]);
    assert_eq!(kb.server_key, want[16..32]);
    assert_eq!(kb.client_iv, want[32..36]);
    assert_eq!(kb.server_iv, want[36..40]);
}

#[test]
fn rfc5246_key_block_aes256_gcm_sha384_matches_openssl() {
    let kb = key_block(
        CipherSuite::EcdheRsaAes256GcmSha384,
        &master(),
        &client_random(),
        &server_random(),
    );
    let want = hex(
        "0be7420b62954be7ebeb8a926adba82536b8430a35497cde3ff43b153ae06db5
                    896b3129eb55036a0a63c4b83fc6b9db25fd200d26a2d1015c3e4cba218cfb33
                    66252d0deb59953b",
    );
    assert_eq!(kb.client_key, want[0..32]);
    assert_eq!(kb.server_key, want[32..64]);
    assert_eq!(kb.client_iv, want[64..68]);
    assert_eq!(kb.server_iv, want[68..72]);
}

#[test]
fn rfc7905_key_block_chacha20_matches_openssl() {
    let kb = key_block(
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
        &master(),
        &client_random(),
        &server_random(),
    );
    let want = hex(
        "b546fe3f0eb747223670d42e4c7aa69e6152bf2a61d957518e3b18348a7b1583
                    c3c50d417e0b0a82369d530a246d0ba6d6fb39b8184117c04623aa7dd480290a
                    90016031a5d51ed432d2e341f199ac1fc4e2e95dd8329fc5",
    );
    assert_eq!(kb.client_key, want[0..32]);
    assert_eq!(kb.server_key, want[32..64]);
    assert_eq!(kb.client_iv, want[64..76]);
    assert_eq!(kb.server_iv, want[76..88]);
}

// ---- cipher suites ----------------------------------------------------------------------------

#[test]
fn cipher_suite_codes_and_parameters() {
    // (code, hash, key, fixed IV, explicit nonce, ECDSA) from RFC 5289 §3.2 and RFC 7905 §2.
    let table = [
        (0xC02B, HashAlg::Sha256, 16, 4, 8, true),
        (0xC02C, HashAlg::Sha384, 32, 4, 8, true),
        (0xCCA9, HashAlg::Sha256, 32, 12, 0, true),
        (0xC02F, HashAlg::Sha256, 16, 4, 8, false),
        (0xC030, HashAlg::Sha384, 32, 4, 8, false),
        (0xCCA8, HashAlg::Sha256, 32, 12, 0, false),
    ];
    for (code, hash, key, iv, explicit, ecdsa) in table {
        let s = CipherSuite::from_u16(code).unwrap();
        assert_eq!(s.to_u16(), code);
        assert_eq!(s.hash(), hash, "{s:?}");
        assert_eq!(s.key_len(), key, "{s:?}");
        assert_eq!(s.fixed_iv_len(), iv, "{s:?}");
        assert_eq!(s.explicit_nonce_len(), explicit, "{s:?}");
        assert_eq!(s.is_ecdsa(), ecdsa, "{s:?}");
        assert!(CipherSuite::ALL.contains(&s));
    }
    // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, TLS_AES_128_GCM_SHA256 (1.3), GREASE.
    for code in [0xC009, 0x1301, 0x0A0A] {
        assert_eq!(CipherSuite::from_u16(code), None);
    }
    assert_eq!(NamedGroup::from_u16(29), Some(NamedGroup::X25519));
    assert_eq!(NamedGroup::from_u16(23), Some(NamedGroup::Secp256r1));
    assert_eq!(NamedGroup::from_u16(24), None);
    assert_eq!(NamedGroup::X25519.to_u16(), 29);
    assert_eq!(NamedGroup::Secp256r1.to_u16(), 23);
}

// ---- AEAD records: RFC 6347 §4.1.2.1, RFC 5288 §3, RFC 7905 §2 --------------------------------

const PLAINTEXT: &[u8] = b"weft: application data in epoch 1";
const EPOCH: u16 = 1;
const SEQ: u64 = 0x0102_0304_0506;
const APPLICATION_DATA: u8 = 23;
const DTLS12: [u8; 2] = [0xfe, 0xfd];

fn gcm128() -> RecordCipher {
    RecordCipher::new(
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        &range::<16>(0x10),
        &hex("a0a1a2a3"),
    )
    .unwrap()
}
fn gcm256() -> RecordCipher {
    RecordCipher::new(
        CipherSuite::EcdheEcdsaAes256GcmSha384,
        &range::<32>(0x10),
        &hex("a0a1a2a3"),
    )
    .unwrap()
}
fn chacha() -> RecordCipher {
    RecordCipher::new(
        CipherSuite::EcdheEcdsaChacha20Poly1305Sha256,
        &range::<32>(0x10),
        &hex("c0c1c2c3c4c5c6c7c8c9cacb"),
    )
    .unwrap()
}

/// The fragment of Python `AESGCM(key).encrypt(salt + seq_num, pt, aad)` with
/// seq_num = 0001 010203040506, aad = seq_num || 17 || fefd || 0021, written after the
/// explicit nonce seq_num.
#[test]
fn rfc5288_aes128_gcm_record_layout() {
    let want = hex("0001010203040506
                    b9cbed1b6a262c327dbeb7607a41919ebc15341f040eab6005a3a42535326b449e
                    8993a5a53a8510b5fb086705debc2e42");
    let c = gcm128();
    let got = c
        .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
        .unwrap();
    assert_eq!(got, want);
    assert_eq!(got.len(), PLAINTEXT.len() + c.overhead());
    assert_eq!(
        c.open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &want).unwrap(),
        PLAINTEXT
    );
}

#[test]
fn rfc5288_aes256_gcm_record_layout() {
    let want = hex("0001010203040506
                    63e9c55722132a0a6e5c4878fa63a4740d169946af1ee29b8aa533d19008eb1c8e
                    bc17838789308e81e19e22b9c80649ed");
    let got = gcm256()
        .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
        .unwrap();
    assert_eq!(got, want);
}

/// RFC 5288 §3: the receiver takes nonce_explicit from the wire, whatever the sender put
/// there (here deadbeef00000001, not the sequence number, which stays in the AAD).
#[test]
fn rfc5288_gcm_open_uses_explicit_nonce_from_the_wire() {
    let record = hex("deadbeef00000001
                      8ab52d3653f5e45d57820a9f93061d26a0f26f635a4f6442dce0cbac6175cb0a01
                      8926e2c2f972f54751195afc515c671c");
    assert_eq!(
        gcm128()
            .open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &record)
            .unwrap(),
        PLAINTEXT
    );
}

/// Python `ChaCha20Poly1305(key).encrypt(nonce, pt, aad)` with the RFC 7905 §2 nonce
/// c0c1c2c3c4c5c6c7c8c9cacb XOR 00000000 0001010203040506 = c0c1c2c3c4c4c7c5cbcdcfcd.
#[test]
fn rfc7905_chacha20_poly1305_record_nonce() {
    let want = hex(
        "ea5249154a4d349a99af2b03d9801765385a22a5f6133fff49e0411ec3c0b3c6e9
                    659525c33697c4855e8f7c733aecbcb6",
    );
    let c = chacha();
    let got = c
        .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
        .unwrap();
    assert_eq!(got, want);
    assert_eq!(c.overhead(), 16);
    assert_eq!(
        c.open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &want).unwrap(),
        PLAINTEXT
    );
}

#[test]
fn record_round_trip_all_aeads_and_lengths() {
    for c in [gcm128(), gcm256(), chacha()] {
        for len in [0usize, 1, 15, 16, 17, 1200, 16384] {
            let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let seq = len as u64 * 3 + 1;
            let rec = c.seal(2, seq, APPLICATION_DATA, DTLS12, &pt).unwrap();
            assert_eq!(rec.len(), len + c.overhead(), "{c:?}");
            assert_eq!(
                c.open(2, seq, APPLICATION_DATA, DTLS12, &rec).unwrap(),
                pt,
                "{c:?} len {len}"
            );
        }
    }
}

#[test]
fn record_every_flipped_bit_fails_to_open() {
    for c in [gcm128(), chacha()] {
        let rec = c
            .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
            .unwrap();
        for byte in 0..rec.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = rec.clone();
                bad[byte] ^= bit;
                assert_eq!(
                    c.open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &bad),
                    Err(CryptoError::Open),
                    "{c:?} byte {byte}"
                );
            }
        }
    }
}

#[test]
fn record_header_fields_are_authenticated() {
    for c in [gcm128(), gcm256(), chacha()] {
        let rec = c
            .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
            .unwrap();
        let open = |epoch, seq, ty, ver: [u8; 2]| c.open(epoch, seq, ty, ver, &rec);
        assert_eq!(open(EPOCH + 1, SEQ, 23, DTLS12), Err(CryptoError::Open));
        assert_eq!(open(EPOCH, SEQ + 1, 23, DTLS12), Err(CryptoError::Open));
        assert_eq!(open(EPOCH, SEQ, 22, DTLS12), Err(CryptoError::Open));
        assert_eq!(open(EPOCH, SEQ, 23, [0xfe, 0xff]), Err(CryptoError::Open));
        assert_eq!(open(EPOCH, SEQ, 23, DTLS12).unwrap(), PLAINTEXT);
    }
}

#[test]
fn record_wrong_key_short_fragment_and_bad_parameters() {
    let rec = gcm128()
        .seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
        .unwrap();
    let other = RecordCipher::new(
        CipherSuite::EcdheEcdsaAes128GcmSha256,
        &range::<16>(0x11),
        &hex("a0a1a2a3"),
    )
    .unwrap();
    assert_eq!(
        other.open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &rec),
        Err(CryptoError::Open)
    );
    for n in [0, 1, 8, 23] {
        assert_eq!(
            gcm128().open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &rec[..n]),
            Err(CryptoError::Open),
            "{n} bytes"
        );
    }
    assert_eq!(
        chacha().open(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &[0u8; 15]),
        Err(CryptoError::Open)
    );
    // 48-bit sequence numbers (RFC 6347 §4.1).
    assert!(gcm128()
        .seal(0, (1 << 48) - 1, APPLICATION_DATA, DTLS12, b"")
        .is_ok());
    assert_eq!(
        gcm128().seal(0, 1 << 48, APPLICATION_DATA, DTLS12, b""),
        Err(CryptoError::SequenceOverflow)
    );
    assert_eq!(
        gcm128().seal(0, 0, APPLICATION_DATA, DTLS12, &vec![0u8; 65536]),
        Err(CryptoError::RecordTooLong)
    );
    // Key and IV lengths must be the suite's.
    let s = CipherSuite::EcdheEcdsaAes128GcmSha256;
    assert_eq!(
        RecordCipher::new(s, &[0u8; 32], &[0u8; 4]).unwrap_err(),
        CryptoError::BadKey
    );
    assert_eq!(
        RecordCipher::new(s, &[0u8; 16], &[0u8; 12]).unwrap_err(),
        CryptoError::BadKey
    );
    assert_eq!(
        RecordCipher::new(
            CipherSuite::EcdheRsaChacha20Poly1305Sha256,
            &[0u8; 32],
            &[0u8; 4]
        )
        .unwrap_err(),
        CryptoError::BadKey
    );
}

#[test]
fn record_seal_append_and_open_in_place() {
    let c = gcm128();
    let mut buf = b"HEADER".to_vec();
    c.seal_append(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT, &mut buf)
        .unwrap();
    assert_eq!(&buf[..6], b"HEADER");
    assert_eq!(
        buf[6..],
        c.seal(EPOCH, SEQ, APPLICATION_DATA, DTLS12, PLAINTEXT)
            .unwrap()[..]
    );
    let pt = c
        .open_in_place(EPOCH, SEQ, APPLICATION_DATA, DTLS12, &mut buf[6..])
        .unwrap();
    assert_eq!(pt, PLAINTEXT);
    // A failed seal leaves the buffer as it was.
    let mut buf = b"HEADER".to_vec();
    assert!(c
        .seal_append(0, 1 << 48, APPLICATION_DATA, DTLS12, b"x", &mut buf)
        .is_err());
    assert_eq!(buf, b"HEADER");
}

#[test]
fn record_cipher_pairs_from_a_key_block() {
    // Client seals with client_write_*, server opens with the same keys (RFC 5246 §6.3).
    for suite in CipherSuite::ALL {
        let kb = key_block(suite, &master(), &client_random(), &server_random());
        let client_tx = RecordCipher::new(suite, &kb.client_key, &kb.client_iv).unwrap();
        let server_rx = RecordCipher::new(suite, &kb.client_key, &kb.client_iv).unwrap();
        let server_tx = RecordCipher::new(suite, &kb.server_key, &kb.server_iv).unwrap();
        let rec = client_tx.seal(1, 0, 22, DTLS12, b"Finished").unwrap();
        assert_eq!(server_rx.open(1, 0, 22, DTLS12, &rec).unwrap(), b"Finished");
        assert_eq!(
            server_tx.open(1, 0, 22, DTLS12, &rec),
            Err(CryptoError::Open),
            "{suite:?}: directions must differ"
        );
    }
}

// ---- ECDHE: RFC 7748 §6.1, RFC 5903 §8.1, RFC 8422 §5.10 ---------------------------------------

/// A fixed private key goes in through ring's test random source (deprecated, internal, but
/// the only way ring's agreement API takes a chosen private key): X25519 and P-256 key
/// generation draw exactly one 32-byte value from it.
#[allow(deprecated)]
fn fixed_key(group: NamedGroup, private: &[u8]) -> EphemeralKey {
    let rng = ring::test::rand::FixedSliceRandom { bytes: private };
    EphemeralKey::generate(group, &rng).unwrap()
}

#[test]
fn rfc7748_section6_1_x25519() {
    let alice_private = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let alice_public = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob_private = hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let bob_public = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

    let alice = fixed_key(NamedGroup::X25519, &alice_private);
    let bob = fixed_key(NamedGroup::X25519, &bob_private);
    assert_eq!(alice.public_key(), alice_public);
    assert_eq!(bob.public_key(), bob_public);
    assert_eq!(alice.agree(&bob_public).unwrap(), shared);
    assert_eq!(bob.agree(&alice_public).unwrap(), shared);
}

#[test]
fn rfc5903_section8_1_p256_ecdh() {
    let i = hex("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433");
    let gi = hex(
        "04 DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180
                     5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
    );
    let r = hex("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53");
    let gr = hex(
        "04 D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63
                     56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
    );
    // RFC 8422 §5.10: the premaster secret is the x-coordinate of the shared point.
    let gir_x = hex("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");

    let initiator = fixed_key(NamedGroup::Secp256r1, &i);
    let responder = fixed_key(NamedGroup::Secp256r1, &r);
    assert_eq!(initiator.public_key(), gi);
    assert_eq!(responder.public_key(), gr);
    assert_eq!(initiator.agree(&gr).unwrap(), gir_x);
    assert_eq!(responder.agree(&gi).unwrap(), gir_x);
}

#[test]
fn ecdhe_generated_keys_agree() {
    let rng = SystemRandom::new();
    for group in [NamedGroup::X25519, NamedGroup::Secp256r1] {
        let a = EphemeralKey::generate(group, &rng).unwrap();
        let b = EphemeralKey::generate(group, &rng).unwrap();
        assert_eq!(a.group(), group);
        assert_eq!(a.public_key().len(), group.public_key_len());
        assert_ne!(a.public_key(), b.public_key());
        if group == NamedGroup::Secp256r1 {
            assert_eq!(a.public_key()[0], 0x04, "uncompressed point");
        }
        let (pa, pb) = (a.public_key().to_vec(), b.public_key().to_vec());
        let sa = a.agree(&pb).unwrap();
        let sb = b.agree(&pa).unwrap();
        assert_eq!(sa, sb);
        assert_eq!(sa.len(), 32);
    }
}

#[test]
fn ecdhe_rejects_bad_peer_keys() {
    let rng = SystemRandom::new();
    let x = || EphemeralKey::generate(NamedGroup::X25519, &rng).unwrap();
    let p = || EphemeralKey::generate(NamedGroup::Secp256r1, &rng).unwrap();
    // Wrong lengths, empty.
    assert_eq!(x().agree(&[9u8; 31]), Err(CryptoError::Agreement));
    assert_eq!(x().agree(&[]), Err(CryptoError::Agreement));
    assert_eq!(p().agree(&[4u8; 64]), Err(CryptoError::Agreement));
    // RFC 7748 §6.1: a small-order point gives the all-zero secret, which must be refused.
    assert_eq!(x().agree(&[0u8; 32]), Err(CryptoError::Agreement));
    let mut one = [0u8; 32];
    one[0] = 1;
    assert_eq!(x().agree(&one), Err(CryptoError::Agreement));
    // A P-256 public key from the other group, a point off the curve, a compressed point.
    let x_pub = x().public_key().to_vec();
    assert_eq!(p().agree(&x_pub), Err(CryptoError::Agreement));
    let mut off_curve = p().public_key().to_vec();
    off_curve[64] ^= 1;
    assert_eq!(p().agree(&off_curve), Err(CryptoError::Agreement));
    let mut compressed = p().public_key()[..33].to_vec();
    compressed[0] = 0x02;
    assert_eq!(p().agree(&compressed), Err(CryptoError::Agreement));
}

// ---- hashes, transcript, cookies ---------------------------------------------------------------

#[test]
fn fips180_sha256_and_sha384_abc_via_transcript() {
    assert_eq!(
        sha256(b"abc").to_vec(),
        hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    let mut t = Transcript::new(HashAlg::Sha256);
    t.update(b"a");
    let snapshot = t.clone();
    t.update(b"bc");
    assert_eq!(t.current(), sha256(b"abc"));
    assert_eq!(t.current(), sha256(b"abc"), "current() does not consume");
    assert_eq!(snapshot.current(), sha256(b"a"));
    t.update(b"d");
    assert_eq!(t.current(), sha256(b"abcd"));
    assert_eq!(t.hash_alg(), HashAlg::Sha256);

    let mut t = Transcript::new(HashAlg::Sha384);
    t.update(b"ab");
    t.update(b"c");
    assert_eq!(
        t.current(),
        hex(
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed
             8086072ba1e7cc2358baeca134c825a7"
        )
    );
    assert_eq!(t.hash_alg(), HashAlg::Sha384);
    assert_eq!(HashAlg::Sha384.output_len(), 48);
}

/// Python: `hmac.new(secret, b"".join(len(p).to_bytes(8, "big") + p for p in parts),
/// hashlib.sha256)`.
#[test]
fn rfc6347_cookie_mac_is_length_prefixed_hmac_sha256() {
    let secret = range::<32>(0x30);
    let parts: [&[u8]; 2] = [b"127.0.0.1:5000", b"client random .................."];
    let mac = cookie_mac(&secret, &parts);
    assert_eq!(
        mac,
        arr::<32>("86e5a19128b4a31aa8d294104d3ec0438150c2d5e0b7bc4558850e6f85be7876")
    );
    // Moving a byte across the boundary of two parts changes the MAC.
    let shifted: [&[u8]; 2] = [b"127.0.0.1:500", b"0client random .................."];
    assert_ne!(cookie_mac(&secret, &shifted), mac);
    assert_ne!(cookie_mac(&range::<32>(0x31), &parts), mac);
}

#[test]
fn ct_eq_compares_contents_and_lengths() {
    assert!(ct_eq(b"", b""));
    assert!(ct_eq(b"cookie", b"cookie"));
    assert!(!ct_eq(b"cookie", b"cookiE"));
    assert!(!ct_eq(b"cookie", b"cooki"));
    assert!(!ct_eq(b"Cookie", b"cookie"));
}

#[test]
fn crypto_errors_map_to_alerts() {
    // RFC 5246 §7.2.2 AlertDescription values.
    assert_eq!(CryptoError::Open.alert_description(), 20);
    assert_eq!(CryptoError::BadCertificate.alert_description(), 42);
    assert_eq!(CryptoError::Agreement.alert_description(), 47);
    assert_eq!(CryptoError::Signature.alert_description(), 51);
    assert_eq!(CryptoError::Seal.alert_description(), 80);
    assert!(!CryptoError::Open.to_string().is_empty());
    let _: &dyn std::error::Error = &CryptoError::Open;
    let _ = crypto::scheme::ECDSA_SECP256R1_SHA256;
}
