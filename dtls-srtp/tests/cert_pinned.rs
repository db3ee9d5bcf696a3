//! Certificates, keys and signatures made by OpenSSL 3.0, pinned: no OpenSSL at test time.
//!
//! Made with:
//! ```text
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
//!     -keyout ec_key.pem -out ec_cert.pem -subj /CN=openssl-weft-test -days 36500
//! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes ... (P-384)
//! openssl req -x509 -newkey rsa:2048 -nodes ... (RSA)
//! openssl ecparam -name prime256v1 -genkey -noout            (SEC1 "EC PRIVATE KEY")
//! openssl dgst -sha256 -sign ec_key.pem msg.bin              (and -sha384, PSS, PKCS#1)
//! openssl x509 -in ec_cert.pem -noout -fingerprint -sha1|-sha256|-sha384|-sha512
//! ```
//! and a DTLS 1.2 handshake of `openssl s_server -dtls1_2 -cert ec_cert.pem -key ec_key.pem`
//! with `s_client -msg`, from which its ServerKeyExchange is taken.

use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{
    fingerprint_of, matches_any, CertError, Certificate, Fingerprint, FingerprintAlg,
};
use weft_dtls_srtp::crypto::{scheme, verify_signature, CryptoError};

const EC_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBjjCCATWgAwIBAgIUeoTALv/8pLJVhmHOx/+3Fq+a8BowCgYIKoZIzj0EAwIw\n\
HDEaMBgGA1UEAwwRb3BlbnNzbC13ZWZ0LXRlc3QwIBcNMjYxMTIzMTYyMTQyWhgP\n\
MjEyNjEwMzAxNjIxNDJaMBwxGjAYBgNVBAMMEW9wZW5zc2wtd2VmdC10ZXN0MFkw\n\
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZyeBSh/u0sRISOYN3g1OdAq8O/ey525g\n\
wpifGZyVw6OP/B/wS2AmF1qzsdmUoG3kWErkVdgm/zV6QFspqKJs5aNTMFEwHQYD\n\
VR0OBBYEFFuh+o0FOZYKgRTusWfnDq7JDx1mMB8GA1UdIwQYMBaAFFuh+o0FOZYK\n\
gRTusWfnDq7JDx1mMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDRwAwRAIg\n\
AJt1eKdyoA242ZcuWK1Vzq14qXnrd9Qh+8Mi87BgbO0CID06KSrkcDpygnhnPhPg\n\
sqLi1stAaqumsEQpBdizym0H\n\
-----END CERTIFICATE-----\n\
";

const EC_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglK7O5oVz/ZwypB4n\n\
rcKYffA/+CDOflafLU6aX4YIuX6hRANCAARnJ4FKH+7SxEhI5g3eDU50Crw797Ln\n\
bmDCmJ8ZnJXDo4/8H/BLYCYXWrOx2ZSgbeRYSuRV2Cb/NXpAWymoomzl\n\
-----END PRIVATE KEY-----\n\
";

const P384_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIByzCCAVKgAwIBAgIUDGAbqQ5ng0PENC4EIN4jEGel9HcwCgYIKoZIzj0EAwIw\n\
HDEaMBgGA1UEAwwRb3BlbnNzbC13ZWZ0LXAzODQwIBcNMjYxMTIzMTYyMTQyWhgP\n\
MjEyNjEwMzAxNjIxNDJaMBwxGjAYBgNVBAMMEW9wZW5zc2wtd2VmdC1wMzg0MHYw\n\
EAYHKoZIzj0CAQYFK4EEACIDYgAEZ+GmdiItXge/xYK4hyyL1xxQ3O92TOmRBhmK\n\
l7Xcv+dzFZjrMLvDLiJYu/SHPKyfcshzeLQMYajNgoGGHWYryTzKa4XeZBnif+i+\n\
HnGTPlSQolbet+nFluEwPR0BOLCfo1MwUTAdBgNVHQ4EFgQUIq3+FM15n3oRcsOU\n\
ROv8CvuKgfEwHwYDVR0jBBgwFoAUIq3+FM15n3oRcsOUROv8CvuKgfEwDwYDVR0T\n\
AQH/BAUwAwEB/zAKBggqhkjOPQQDAgNnADBkAjBc89cERAllQc+fL7Xoh3iwtDuN\n\
ahzkwvGNxxK30IDWNaFcs4AHLWRiwW7JLUvefbICMCLi0cO63QPjKfevVzOOxWcW\n\
9V3PWbtbRT1Wh3jCi11Fbi3cAv3G5iJv8F2iMEuqyw==\n\
-----END CERTIFICATE-----\n\
";

const P384_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDB7aalCWISWbDIauiCU\n\
6krhZhbHmAQeNR3bUrEoFywvFQlc83Z7/r+X6uYDBk1rVd6hZANiAARn4aZ2Ii1e\n\
B7/FgriHLIvXHFDc73ZM6ZEGGYqXtdy/53MVmOswu8MuIli79Ic8rJ9yyHN4tAxh\n\
qM2CgYYdZivJPMprhd5kGeJ/6L4ecZM+VJCiVt636cWW4TA9HQE4sJ8=\n\
-----END PRIVATE KEY-----\n\
";

const RSA_CERT_PEM: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIDGTCCAgGgAwIBAgIUFkyJ/Chi9Rzl7T6ZBI4T4JPlPZkwDQYJKoZIhvcNAQEL\n\
BQAwGzEZMBcGA1UEAwwQb3BlbnNzbC13ZWZ0LXJzYTAgFw0yNjExMjMxNjIxNDJa\n\
GA8yMTI2MTAzMDE2MjE0MlowGzEZMBcGA1UEAwwQb3BlbnNzbC13ZWZ0LXJzYTCC\n\
ASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBANFCfOsEDFaGBFknIKDF/g2z\n\
ND9FIqR9Gtj5avGQ2l4dG6vTkCaR8w9Ur8njHgVSAZH1Z5GdnOcscWi5pfVVhyLj\n\
IZBgT2co+Eg0QMkBPhnOE5dZC2mWrS8E4Tv/0DkdySIlxj1izCzlY4jqV6B2o4ON\n\
YXJ3HAJQ1dzj+c6vlN+S9V7BNAF9xErJGOBdHnq+AsHjwZ7jWKmJB8zFaXoKG9s6\n\
+PRR4maaqI2N0Y30emuTTWg9yf9KPH7ZKmimWGXPC+yLT7qsOGpy/10V72zr/6Rl\n\
yPo1B1Aj6bEKicYqjMo3/DWwauJiRV8dEnFWRG2N7E2qhtvKUvpyGQf4oDaJLtsC\n\
AwEAAaNTMFEwHQYDVR0OBBYEFLSoA3hA0C2RDiwrkAYl5A0r6WzxMB8GA1UdIwQY\n\
MBaAFLSoA3hA0C2RDiwrkAYl5A0r6WzxMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZI\n\
hvcNAQELBQADggEBADiMugd7AjvHzAdRNbPEkwPrRzJWV+cttaoAibkpLOgEO59u\n\
Az7rWpAwVxK1NFg7Za7OBzwuCOWIJzRDBbl5NxF4XjdlSTq/hyIo4+ROX56BTqzh\n\
11HJN+TydRn0wXljafHU36gbXQCJSj/3JNk3H8rbJrAZs0puM7Yf4tco6kxd3fH7\n\
X7iyxW3BEyEOKAqWVTtVmP/+B8CtjU9tIILQyF0YduTLKF4RyPwLo/ybtkrm7aVv\n\
jKeTBEXMqPujpEpn23J7wupwSkSKdi4DoIVG1Vvi9A+XAIC4wWNXl8GgtCYZ+ox8\n\
PNUFJFmrTyQiSony96y6nu4Hbq/xhFOs1yO6Cmk=\n\
-----END CERTIFICATE-----\n\
";

const RSA_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDRQnzrBAxWhgRZ\n\
JyCgxf4NszQ/RSKkfRrY+WrxkNpeHRur05AmkfMPVK/J4x4FUgGR9WeRnZznLHFo\n\
uaX1VYci4yGQYE9nKPhINEDJAT4ZzhOXWQtplq0vBOE7/9A5HckiJcY9Ysws5WOI\n\
6legdqODjWFydxwCUNXc4/nOr5TfkvVewTQBfcRKyRjgXR56vgLB48Ge41ipiQfM\n\
xWl6ChvbOvj0UeJmmqiNjdGN9Hprk01oPcn/Sjx+2Spoplhlzwvsi0+6rDhqcv9d\n\
Fe9s6/+kZcj6NQdQI+mxConGKozKN/w1sGriYkVfHRJxVkRtjexNqobbylL6chkH\n\
+KA2iS7bAgMBAAECggEAY7bYCbEjI/O2jLkNXi8akXKsWd3a1SDcMzoe0L9inugl\n\
8GnezdJMTSjgn0Y/Xu+l2eRjlsrRIoNWAz47q702qNQsgTyzeYfXT6i+mkmiSu+c\n\
/EitHIJ1QeuEXG/Yy+66kjAH1+aFPnuMQ4jPeqIt5pjvL3k8eooEbr6fofKe8S2b\n\
qK9icDjPPJvvfzu38DX9zwkndcn4bcUM2qExL7anRMOSQ2/rYIMp/dTYqtcSyETY\n\
AQWx5bR2RCgTsBDf0PWEo5y1wFsFUJuEcK+2QpPlnV6DsG5vTJEMJngbrgQJfIA7\n\
nKaW353xoWrolBPredr+ZQAUVD/KEQOdz7YUylvrKQKBgQD77AYg2EJXvdAO0/W8\n\
rs1RKaoEn4zcSCM49k/AXDug/8DFwbPwiA7ZnocY9zTA1tpvacD4vP1V2/Tv56Jv\n\
qcnRksFB44af1or+9rLOeqxysl2iNG0t/bqsoTRJiKwapvuOnLLaBHfZJQofNK/D\n\
Gnzsqt29FWZEDMcnNlT6YgjjDQKBgQDUpatzCteIm3kIxsW9/ITrwXeuyqYfdKQ6\n\
FIXHRp11fiROZ7olUDdveUdQNmn3NxffwfWqbquqE4Onq0TRZcN0VKWF4lrPCW9w\n\
vsFPcK9x6oN/t0tt6PKCFKWQkQuWIOTUH/PfRCHHTFeDnqfen0ZYjerBbV1sh3a8\n\
cTZ8Uo5/hwKBgQDVA2rfJN1cAZTGpPU5ePkE8tzfEeXycVDPHn6q4ZJN/VOMI9C5\n\
xuH/ousK8iR6FnIXGO3hpTP1AIrovAz+rCuJeLTOuMuhpbBcDE9/Bf2A8k74E6pp\n\
5AyPYbOrpdQYqS82FEuqy3JneslHP66Ko4AUQhpCgrC5Q7C1+Fv8Zx6qlQKBgBLF\n\
QPoZtebYGnn82c2oca9B16e1Oa7DJBAAacKqaBHL/bZyD4tlpk8PvIzHENmConfc\n\
7iuKM1sC9/cf9iYpvnQRWL8VuQBXi9++5t91SfdbRRpL+ruL+YQkAG1fcE9jPe+/\n\
lk5Z/EVUZtE2ewj6tEHy3QsP9VQ0LPX7ZFzbCLsXAoGABFBtnGmlL33l+DuGUMvu\n\
4uGA2MrMVdRpOdWZzzhaqRRMWcWsqCFOoNnayOQacUCwPlWuMizYXCaff4zKpKc+\n\
VUvKlbp2QRGNBuciMc9u7ffxj576YtuIRLrf6k3pCqSViHZy4lonAEOWMq5yIUTs\n\
eSyQVfJsOlqkcbNTzhQ+DmA=\n\
-----END PRIVATE KEY-----\n\
";

const SEC1_KEY_PEM: &str = "\
-----BEGIN EC PRIVATE KEY-----\n\
MHcCAQEEIOy/vt4rrKKnZDUTQs5AgZbe6g0V64fiIDD5XeCZvXsnoAoGCCqGSM49\n\
AwEHoUQDQgAEUaj3Bq+hSK+a1kSPG5eFfr6DDX4uzOszDqgD7VyXm9EFOoJpbgyC\n\
K+HWf1IqgpQk/I96jNm3/UoEFWw66KKkqg==\n\
-----END EC PRIVATE KEY-----\n\
";

const MESSAGE: &[u8] = b"weft: ServerKeyExchange params signed by OpenSSL";

const EC_SIG: &str = "\
3045022100933259977358c52ad4830c0253b049161090015bacd35567d65feb\
68e5b4ad5c02201da1ae4eb0d5e2b35885fea337a4c84b900e00a3052132a5a9\
a627d0bea55327";

const P384_SIG: &str = "\
3066023100fa832bb4b6ed5ff42978035c11f189e73126474e4580cf40e75856\
8a6c36e0616f8dd49dd9c5615f4d5ce117caed1bb402310084b94b2f9b66060f\
b81fee8e9f6872dda031f5b25e2baf90aec47e1ac811f71e72d1f4837980eefd\
6c1d69f9168ae484";

const RSA_PKCS1_SIG: &str = "\
6f9ecacad90df9d1f1adb402e509ca9a8ea14e2713173722916588fc9158bc3d\
7925761c729d8fd124336efde0df42fdb6266f215caa021e2fb9e96481cff665\
13f49d9a49496ef744020fb01ce06d04eb5c3ebccdc80e63a6f23f59e8df925c\
0e98c93e1cfb87b5a73e4dc7acd230d6f31b2cdeb2e2391a6c43fadf951a1ca4\
d62d9546faed0ac8ae52970b3ffeec54f49409ae3f3adeba0bb16e5b584bf798\
5e2c15efbb4bcab1e18f2f2b3b17500b68fc6b366c53c3f5ace9da682f7c6a02\
ca4f9ac692b41dc2d11902a05ad6040c598d4187fae6edda1376201c0bd4557e\
fadcfb02421e818dbe9d99171bb4d47185ddf00fcf52d30c8d827581e0c55519";

const RSA_PSS_SIG: &str = "\
8ee7059bf5ed0ec79d37676da1671ec9fa790d31e3ace9f39dbdc85c5797db22\
b52c6146449490d0c4d430850efda1d6e8f0b02e983e6f4c9d41393ab5f08d25\
479370a5daa1761457352205d6ce268ed6d96bf3fb4c706bbf8e3eebf446e6a8\
c309df0bc199d4246edcc2fd70f873c13953a2fe89f1361f8316ddd62ad97d55\
fedce0c0297ffe5eff0eb8c7e178763c421ff680bf8b209c647fa34707b4df75\
e46ffe01c77ec24ff0dcae807ecccbdb32ad11e66e7507f7785c3da980e20968\
6d91e6c7005c757608b131faf83b645d1c5e48bf31fcb2cdf60c832cdd68e203\
4d905ac72b839cb19f864fd0d4b73c41dab6dffb96b09d93fdee1dc84193df39";

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load(cert: &str, key: &str) -> Certificate {
    Certificate::from_pem(cert, key, &SystemRandom::new()).unwrap()
}

#[test]
fn openssl_p256_pair_loads_and_writes_back_identical_pem() {
    let c = load(EC_CERT_PEM, EC_KEY_PEM);
    assert_eq!(c.signature_scheme(), scheme::ECDSA_SECP256R1_SHA256);
    assert_eq!(c.signature_scheme(), 0x0403);
    assert!(c.is_ecdsa());
    // OpenSSL writes RFC 7468 PEM with 64-column base64: ours must be byte-identical.
    assert_eq!(c.cert_pem(), EC_CERT_PEM);
    assert_eq!(c.key_pem(), EC_KEY_PEM);
    assert_eq!(
        c.der().len(),
        0x18e + 4,
        "DER SEQUENCE header says 0x18e bytes of body"
    );
}

#[test]
fn openssl_p384_and_rsa_pairs_load() {
    let p384 = load(P384_CERT_PEM, P384_KEY_PEM);
    assert_eq!(p384.signature_scheme(), scheme::ECDSA_SECP384R1_SHA384);
    assert!(p384.is_ecdsa());
    assert_eq!(p384.cert_pem(), P384_CERT_PEM);
    assert_eq!(p384.key_pem(), P384_KEY_PEM);
    let rsa = load(RSA_CERT_PEM, RSA_KEY_PEM);
    assert_eq!(rsa.signature_scheme(), scheme::RSA_PKCS1_SHA256);
    assert!(!rsa.is_ecdsa());
    assert_eq!(rsa.cert_pem(), RSA_CERT_PEM);
    assert_eq!(rsa.key_pem(), RSA_KEY_PEM);
}

#[test]
fn sign_then_verify_with_each_openssl_key() {
    let rng = SystemRandom::new();
    for (cert, key) in [
        (EC_CERT_PEM, EC_KEY_PEM),
        (P384_CERT_PEM, P384_KEY_PEM),
        (RSA_CERT_PEM, RSA_KEY_PEM),
    ] {
        let c = load(cert, key);
        let sig = c.sign(b"ServerKeyExchange params", &rng).unwrap();
        verify_signature(
            c.der(),
            c.signature_scheme(),
            b"ServerKeyExchange params",
            &sig,
        )
        .unwrap();
        assert_eq!(
            verify_signature(
                c.der(),
                c.signature_scheme(),
                b"ServerKeyExchange paramz",
                &sig
            ),
            Err(CryptoError::Signature)
        );
    }
}

#[test]
fn openssl_made_signatures_verify() {
    let ec = load(EC_CERT_PEM, EC_KEY_PEM);
    let p384 = load(P384_CERT_PEM, P384_KEY_PEM);
    let rsa = load(RSA_CERT_PEM, RSA_KEY_PEM);
    verify_signature(ec.der(), 0x0403, MESSAGE, &hex(EC_SIG)).unwrap();
    verify_signature(p384.der(), 0x0503, MESSAGE, &hex(P384_SIG)).unwrap();
    verify_signature(rsa.der(), 0x0401, MESSAGE, &hex(RSA_PKCS1_SIG)).unwrap();
    verify_signature(rsa.der(), 0x0804, MESSAGE, &hex(RSA_PSS_SIG)).unwrap();

    // A different message, a signature of another key, a truncated signature.
    let other = b"weft: ServerKeyExchange params signed by OpenSSL!";
    assert_eq!(
        verify_signature(ec.der(), 0x0403, other, &hex(EC_SIG)),
        Err(CryptoError::Signature)
    );
    assert_eq!(
        verify_signature(rsa.der(), 0x0401, other, &hex(RSA_PKCS1_SIG)),
        Err(CryptoError::Signature)
    );
    let sig = hex(EC_SIG);
    assert_eq!(
        verify_signature(ec.der(), 0x0403, MESSAGE, &sig[..sig.len() - 1]),
        Err(CryptoError::Signature)
    );
    // PKCS#1 signature presented as PSS, and the other way round.
    assert_eq!(
        verify_signature(rsa.der(), 0x0804, MESSAGE, &hex(RSA_PKCS1_SIG)),
        Err(CryptoError::Signature)
    );
    assert_eq!(
        verify_signature(rsa.der(), 0x0401, MESSAGE, &hex(RSA_PSS_SIG)),
        Err(CryptoError::Signature)
    );
    // TLS 1.2 (sha384, ecdsa) with a P-256 key is legal: hash mismatch, so it fails.
    assert_eq!(
        verify_signature(ec.der(), 0x0503, MESSAGE, &hex(EC_SIG)),
        Err(CryptoError::Signature)
    );
}

#[test]
fn verify_signature_rejects_schemes_that_do_not_fit_and_bad_certificates() {
    let ec = load(EC_CERT_PEM, EC_KEY_PEM);
    let rsa = load(RSA_CERT_PEM, RSA_KEY_PEM);
    for s in [0x0401, 0x0804, 0x0807] {
        assert_eq!(
            verify_signature(ec.der(), s, MESSAGE, &hex(EC_SIG)),
            Err(CryptoError::UnsupportedAlgorithm),
            "{s:#06x}"
        );
    }
    assert_eq!(
        verify_signature(rsa.der(), 0x0403, MESSAGE, &hex(RSA_PKCS1_SIG)),
        Err(CryptoError::UnsupportedAlgorithm)
    );
    for s in [0x0000, 0x0201, 0x0203, 0xffff] {
        assert_eq!(
            verify_signature(ec.der(), s, MESSAGE, &hex(EC_SIG)),
            Err(CryptoError::UnsupportedAlgorithm),
            "{s:#06x}"
        );
    }
    for bad in [&b""[..], b"\x30\x03\x02\x01\x00", &ec.der()[..100]] {
        assert_eq!(
            verify_signature(bad, 0x0403, MESSAGE, &hex(EC_SIG)),
            Err(CryptoError::BadCertificate)
        );
    }
}

/// The ServerKeyExchange of a real DTLS 1.2 handshake by `openssl s_server -dtls1_2`
/// (ECDHE-ECDSA-AES128-GCM-SHA256, x25519, signature scheme 0x0403) with the pinned P-256
/// certificate. RFC 8422 §5.4: the signature covers ClientHello.random + ServerHello.random
/// + ServerECDHParams.
#[test]
fn openssl_dtls12_server_key_exchange_signature_verifies() {
    let client_random = hex("cf2d6ac17e18bc99cfc32df3da5bd8b3fe166f7b794b4e418e4e97ab0c8f547c");
    let server_random = hex("8aea538d2beb59b5cee951b841e2c42379df1725d46f2e0e447d64f3bbd2ff57");
    // curve_type named_curve(3), x25519 (0x001d), 32-byte public key.
    let params = hex("03001d20e3ba0441445bfa77cb145de5bd3c4278b212a1eed5b06d489036640db5683e3d");
    let signature = hex(
        "3045022045073381d23bcfcfc0ae4192d5d5f0bc38d8199dea4ab380fc1f16f019318a7d022100821b5af3
         7e58220c7ab46bab36e6684693d541d0b4847010c04c5f3e5d8e5fa5",
    );
    let signed = [client_random.clone(), server_random.clone(), params.clone()].concat();
    let cert = load(EC_CERT_PEM, EC_KEY_PEM);
    verify_signature(cert.der(), 0x0403, &signed, &signature).unwrap();
    // The randoms in the other order must not verify.
    let swapped = [server_random, client_random, params].concat();
    assert_eq!(
        verify_signature(cert.der(), 0x0403, &swapped, &signature),
        Err(CryptoError::Signature)
    );
}

#[test]
fn fingerprints_of_openssl_cert_match_openssl_x509_fingerprint() {
    let c = load(EC_CERT_PEM, EC_KEY_PEM);
    // `openssl x509 -noout -fingerprint -<alg>` printed these (after "Fingerprint=").
    let openssl = [
        (
            FingerprintAlg::Sha1,
            "51:D8:C8:91:A8:4F:19:D5:65:1A:79:AA:84:EA:7F:0A:5B:8C:25:07",
        ),
        (
            FingerprintAlg::Sha256,
            "2F:5D:FD:38:17:77:17:91:87:4D:D6:05:69:1A:DB:43:A4:26:36:E1:8D:9D:82:C6:D8:EE:E1:CD:\
             DD:0B:9E:0A",
        ),
        (
            FingerprintAlg::Sha384,
            "7B:15:A2:D9:FC:CD:B2:22:61:A3:B6:4E:14:88:42:AF:75:13:93:55:56:2C:59:EE:93:A2:CA:52:\
             16:B1:87:3B:F4:CC:23:98:AE:70:00:51:92:AB:FB:AA:6D:7E:0A:8B",
        ),
        (
            FingerprintAlg::Sha512,
            "45:A6:B0:F0:49:4C:23:36:22:68:74:1B:DF:9F:03:D9:38:C5:E5:50:DD:C2:B6:62:40:9B:22:9A:\
             1F:85:AF:73:75:26:84:9F:4F:CE:87:3B:39:14:51:12:79:6C:40:BC:7D:A9:6E:B3:65:7D:1C:3E:\
             CC:B9:FD:1F:7F:79:74:96",
        ),
    ];
    for (alg, hex_pairs) in openssl {
        let want = format!("{} {}", alg.name(), hex_pairs);
        assert_eq!(c.fingerprint(alg).to_string(), want);
        assert_eq!(fingerprint_of(c.der(), alg).to_string(), want);
        assert_eq!(c.fingerprint(alg).bytes.len(), alg.digest_len());
        let parsed: Fingerprint = want.parse().unwrap();
        assert!(matches_any(c.der(), &[parsed]));
    }
    let rsa = load(RSA_CERT_PEM, RSA_KEY_PEM);
    assert_eq!(
        rsa.fingerprint(FingerprintAlg::Sha256).to_string(),
        "sha-256 D8:2B:AE:E4:26:37:94:36:1E:BF:E0:53:EE:03:F5:58:AD:45:FC:62:D9:2D:93:3B:56:BB:\
         BB:F4:1E:C6:DC:12"
    );
    let p384 = load(P384_CERT_PEM, P384_KEY_PEM);
    assert_eq!(
        p384.fingerprint(FingerprintAlg::Sha256).to_string(),
        "sha-256 70:AC:27:27:4F:73:49:2B:EC:99:73:DE:0B:36:CF:7E:69:83:EF:DD:4D:35:DC:B4:1C:ED:\
         96:47:44:AE:D9:A1"
    );
}

#[test]
fn from_pem_errors_say_why() {
    let rng = SystemRandom::new();
    let load = |c: &str, k: &str| Certificate::from_pem(c, k, &rng).unwrap_err();
    // SEC1 "EC PRIVATE KEY" is not PKCS#8.
    assert_eq!(
        load(EC_CERT_PEM, SEC1_KEY_PEM),
        CertError::UnsupportedKeyFormat
    );
    // A key of another certificate, of the same and of another type.
    assert_eq!(load(EC_CERT_PEM, P384_KEY_PEM), CertError::KeyMismatch);
    assert_eq!(load(EC_CERT_PEM, RSA_KEY_PEM), CertError::KeyMismatch);
    assert_eq!(load(RSA_CERT_PEM, EC_KEY_PEM), CertError::KeyMismatch);
    // Certificate and key swapped, missing, empty.
    assert_eq!(load(EC_KEY_PEM, EC_CERT_PEM), CertError::NoCertificatePem);
    assert_eq!(load(EC_CERT_PEM, EC_CERT_PEM), CertError::NoPrivateKeyPem);
    assert_eq!(load("", EC_KEY_PEM), CertError::NoCertificatePem);
    // A CERTIFICATE section that holds no certificate.
    let junk = "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n";
    assert_eq!(load(junk, EC_KEY_PEM), CertError::BadCertificate);
    // A PRIVATE KEY section that holds no key.
    let junk_key = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
    assert_eq!(load(EC_CERT_PEM, junk_key), CertError::UnsupportedKey);
    assert!(!CertError::KeyMismatch.to_string().is_empty());
}

#[test]
fn pem_with_surrounding_text_and_a_chain_takes_the_first_certificate() {
    let text = format!("subject=CN = openssl-weft-test\n{EC_CERT_PEM}{RSA_CERT_PEM}");
    let key = format!("# the key\n{EC_KEY_PEM}");
    let c = Certificate::from_pem(&text, &key, &SystemRandom::new()).unwrap();
    assert_eq!(c.cert_pem(), EC_CERT_PEM);
}
