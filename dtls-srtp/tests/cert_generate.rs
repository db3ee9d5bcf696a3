//! Generated certificates, SDP fingerprint strings, and the RFC 8122 §5 matching rule.

use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{
    fingerprint_of, matches_any, CertDate, CertError, Certificate, Fingerprint, FingerprintAlg,
    Validity,
};
use weft_dtls_srtp::crypto::{sha256, verify_signature, CryptoError};

fn generate(cn: &str) -> Certificate {
    Certificate::generate_self_signed(cn, Validity::default(), &SystemRandom::new()).unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn generated_p256_certificate_parses_and_verifies_its_signatures() {
    let rng = SystemRandom::new();
    let c = generate("weft");
    assert_eq!(c.signature_scheme(), 0x0403);
    assert!(c.is_ecdsa());
    // webpki parses it and verifies a handshake signature under its key.
    let sig = c
        .sign(b"client_random + server_random + params", &rng)
        .unwrap();
    assert_eq!(sig[0], 0x30, "DER ECDSA-Sig-Value SEQUENCE");
    verify_signature(
        c.der(),
        0x0403,
        b"client_random + server_random + params",
        &sig,
    )
    .unwrap();
    assert_eq!(
        verify_signature(
            c.der(),
            0x0403,
            b"client_random + server_random + paramz",
            &sig
        ),
        Err(CryptoError::Signature)
    );
    // Subject and issuer CN=weft: OID 2.5.4.3, UTF8String "weft", twice.
    let cn = [
        0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, b'w', b'e', b'f', b't',
    ];
    let first = c.der().windows(cn.len()).position(|w| w == cn).unwrap();
    assert!(
        contains(&c.der()[first + cn.len()..], &cn),
        "issuer and subject"
    );
    // ecdsa-with-SHA256 (1.2.840.10045.4.3.2) and prime256v1 (1.2.840.10045.3.1.7).
    assert!(contains(
        c.der(),
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]
    ));
    assert!(contains(
        c.der(),
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    ));
}

#[test]
fn generated_certificate_round_trips_through_pem() {
    let c = generate("weft");
    let back = Certificate::from_pem(&c.cert_pem(), &c.key_pem(), &SystemRandom::new()).unwrap();
    assert_eq!(back.der(), c.der());
    assert_eq!(
        back.fingerprint(FingerprintAlg::Sha256),
        c.fingerprint(FingerprintAlg::Sha256)
    );
    assert!(c.cert_pem().starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(c.key_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(c.cert_pem().lines().all(|l| l.len() <= 64));
    // Each certificate has its own key.
    let other = generate("weft");
    assert_ne!(other.der(), c.der());
    assert_ne!(
        other.fingerprint(FingerprintAlg::Sha256),
        c.fingerprint(FingerprintAlg::Sha256)
    );
    assert_eq!(
        Certificate::from_pem(&c.cert_pem(), &other.key_pem(), &SystemRandom::new()).unwrap_err(),
        CertError::KeyMismatch
    );
}

#[test]
fn generated_certificate_carries_the_given_validity() {
    let rng = SystemRandom::new();
    // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
    let v = Validity {
        not_before: CertDate::new(2025, 1, 1),
        not_after: CertDate::new(2055, 2, 28),
    };
    let c = Certificate::generate_self_signed("weft", v, &rng).unwrap();
    assert!(contains(c.der(), b"\x17\x0d250101000000Z"));
    assert!(contains(c.der(), b"\x18\x0f20550228000000Z"));
    // The clock-free default: 1975-01-01 to 4096-01-01.
    let d = generate("weft");
    assert!(contains(d.der(), b"\x17\x0d750101000000Z"));
    assert!(contains(d.der(), b"\x18\x0f40960101000000Z"));
    // Leap days.
    let leap = Validity {
        not_before: CertDate::new(2024, 2, 29),
        not_after: CertDate::new(2400, 2, 29),
    };
    assert!(Certificate::generate_self_signed("weft", leap, &rng).is_ok());
}

#[test]
fn impossible_validity_is_an_error_not_a_panic() {
    let rng = SystemRandom::new();
    let ok = CertDate::new(2030, 6, 15);
    for bad in [
        CertDate::new(2023, 2, 29),
        CertDate::new(2100, 2, 29),
        CertDate::new(2025, 13, 1),
        CertDate::new(2025, 0, 1),
        CertDate::new(2025, 4, 31),
        CertDate::new(2025, 1, 0),
        CertDate::new(1949, 12, 31),
        CertDate::new(10000, 1, 1),
    ] {
        assert!(!bad.is_valid(), "{bad:?}");
        for v in [
            Validity {
                not_before: bad,
                not_after: ok,
            },
            Validity {
                not_before: ok,
                not_after: bad,
            },
        ] {
            assert_eq!(
                Certificate::generate_self_signed("weft", v, &rng).unwrap_err(),
                CertError::InvalidValidity,
                "{v:?}"
            );
        }
    }
    let backwards = Validity {
        not_before: CertDate::new(2030, 1, 2),
        not_after: CertDate::new(2030, 1, 1),
    };
    assert_eq!(
        Certificate::generate_self_signed("weft", backwards, &rng).unwrap_err(),
        CertError::InvalidValidity
    );
}

#[test]
fn certificate_debug_shows_no_key() {
    let c = generate("weft");
    let dbg = format!("{c:?}");
    assert!(dbg.contains("0x0403"), "{dbg}");
    assert!(dbg.contains(&c.fingerprint(FingerprintAlg::Sha256).to_string()));
    let key_b64 = c.key_pem().lines().nth(1).unwrap().to_string();
    assert!(!dbg.contains(&key_b64));
}

#[test]
fn fingerprint_display_is_sdp_form() {
    let fp = Fingerprint {
        alg: FingerprintAlg::Sha256,
        bytes: sha256(b"abc").to_vec(),
    };
    assert_eq!(
        fp.to_string(),
        "sha-256 BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:\
         FF:61:F2:00:15:AD"
    );
    assert_eq!(fingerprint_of(b"abc", FingerprintAlg::Sha256), fp);
    assert_eq!(
        fingerprint_of(b"abc", FingerprintAlg::Sha1).to_string(),
        "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D"
    );
}

#[test]
fn fingerprint_from_str_round_trips_any_case() {
    let c = generate("weft");
    for alg in [
        FingerprintAlg::Sha1,
        FingerprintAlg::Sha256,
        FingerprintAlg::Sha384,
        FingerprintAlg::Sha512,
    ] {
        let fp = c.fingerprint(alg);
        let s = fp.to_string();
        assert_eq!(s.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(s.to_lowercase().parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(s.to_uppercase().parse::<Fingerprint>().unwrap(), fp);
        // SDP may surround it with whitespace; one or more spaces or tabs separate the two.
        let spaced = format!("  {}\t {}\r\n", alg.name(), &s[alg.name().len() + 1..]);
        assert_eq!(spaced.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(alg.name().parse::<FingerprintAlg>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.name());
    }
    assert_eq!(
        "SHA-1".parse::<FingerprintAlg>().unwrap(),
        FingerprintAlg::Sha1
    );
}

#[test]
fn fingerprint_from_str_rejects_malformed() {
    let good = "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D";
    assert!(good.parse::<Fingerprint>().is_ok());
    let cases = [
        ("", CertError::BadFingerprint),
        ("sha-1", CertError::BadFingerprint),
        (
            "md5 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C",
            CertError::UnknownFingerprintAlg,
        ),
        ("sha-224 A9:99", CertError::UnknownFingerprintAlg),
        ("sha256 A9:99", CertError::UnknownFingerprintAlg),
        // One byte short, one too many.
        (
            "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D:00",
            CertError::BadFingerprint,
        ),
        // No colons, doubled colon, trailing colon, odd digits, non-hex, extra field.
        (
            "sha-1 A9993E364706816ABA3E25717850C26C9CD0D89D",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 A9::99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D:",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 A99:9:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 G9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 +9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D",
            CertError::BadFingerprint,
        ),
        (
            "sha-1 A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D extra",
            CertError::BadFingerprint,
        ),
    ];
    for (s, err) in cases {
        assert_eq!(s.parse::<Fingerprint>().unwrap_err(), err, "{s:?}");
    }
}

#[test]
fn rfc8122_matches_any_uses_the_strongest_offered_hash() {
    let c = generate("weft");
    let other = generate("weft");
    let sha1 = c.fingerprint(FingerprintAlg::Sha1);
    let sha256 = c.fingerprint(FingerprintAlg::Sha256);
    let sha512 = c.fingerprint(FingerprintAlg::Sha512);
    let wrong1 = other.fingerprint(FingerprintAlg::Sha1);
    let wrong256 = other.fingerprint(FingerprintAlg::Sha256);
    let wrong512 = other.fingerprint(FingerprintAlg::Sha512);
    let der = c.der();

    assert!(!matches_any(der, &[]), "nothing offered matches nothing");
    assert!(matches_any(der, std::slice::from_ref(&sha256)));
    assert!(!matches_any(der, std::slice::from_ref(&wrong256)));
    // Any fingerprint of the strongest set may match.
    assert!(matches_any(der, &[wrong256.clone(), sha256.clone()]));
    // sha-1 counts when the peer offered nothing else...
    assert!(matches_any(der, std::slice::from_ref(&sha1)));
    assert!(matches_any(der, &[wrong1.clone(), sha1.clone()]));
    // ...and not when a stronger one was offered, even a non-matching one.
    assert!(!matches_any(der, &[sha1.clone(), wrong256.clone()]));
    assert!(matches_any(der, &[wrong1, sha256.clone()]));
    assert!(!matches_any(der, &[sha256.clone(), wrong512]));
    assert!(matches_any(der, &[wrong256, sha512, sha1]));
    // A fingerprint whose bytes are not of its hash's length never matches.
    let truncated = Fingerprint {
        alg: FingerprintAlg::Sha256,
        bytes: sha256.bytes[..31].to_vec(),
    };
    assert!(!matches_any(der, &[truncated]));
}
