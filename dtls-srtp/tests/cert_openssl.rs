//! Our generated certificates, keys and signatures, checked by the `openssl` command line
//! at test time. Without `openssl` on PATH these tests pass with a note, except under
//! `CI=true`, where a missing `openssl` fails them (CI must run them).

use std::path::{Path, PathBuf};
use std::process::Command;

use ring::rand::SystemRandom;
use weft_dtls_srtp::cert::{CertDate, Certificate, FingerprintAlg, Validity};

/// Is `openssl` there? `None` means skip (and is only allowed outside CI).
fn openssl_available(test: &str) -> Option<()> {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if found {
        return Some(());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: openssl is not on PATH, and CI=true requires it"
    );
    eprintln!("{test}: skipped, openssl is not on PATH");
    None
}

/// A fresh directory for one test's files.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("weft-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs openssl and returns its stdout; fails the test with its stderr if it fails.
fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn generated_cert_fingerprints_match_openssl_x509_fingerprint() {
    let Some(()) = openssl_available("fingerprints") else {
        return;
    };
    let dir = TempDir::new("fingerprints");
    let cert = Certificate::generate_self_signed("weft", Validity::default(), &SystemRandom::new())
        .unwrap();
    let pem = dir.write("cert.pem", cert.cert_pem());
    for (alg, flag) in [
        (FingerprintAlg::Sha1, "-sha1"),
        (FingerprintAlg::Sha256, "-sha256"),
        (FingerprintAlg::Sha384, "-sha384"),
        (FingerprintAlg::Sha512, "-sha512"),
    ] {
        // "sha256 Fingerprint=2F:5D:..."
        let line = openssl(&["x509", "-in", path(&pem), "-noout", "-fingerprint", flag]);
        let (_, hex) = line.trim().split_once('=').unwrap();
        assert_eq!(
            cert.fingerprint(alg).to_string(),
            format!("{} {hex}", alg.name())
        );
    }
}

#[test]
fn openssl_reads_our_certificate_and_key() {
    let Some(()) = openssl_available("reads") else {
        return;
    };
    let dir = TempDir::new("reads");
    let validity = Validity {
        not_before: CertDate::new(2025, 3, 1),
        not_after: CertDate::new(2061, 12, 31),
    };
    let cert =
        Certificate::generate_self_signed("weft-openssl", validity, &SystemRandom::new()).unwrap();
    let cert_pem = dir.write("cert.pem", cert.cert_pem());
    let key_pem = dir.write("key.pem", cert.key_pem());

    let text = openssl(&["x509", "-in", path(&cert_pem), "-noout", "-text"]);
    for want in [
        "Version: 3 (0x2)",
        "Signature Algorithm: ecdsa-with-SHA256",
        "Issuer: CN = weft-openssl",
        "Subject: CN = weft-openssl",
        "Not Before: Mar  1 00:00:00 2025 GMT",
        "Not After : Dec 31 00:00:00 2061 GMT",
        "ASN1 OID: prime256v1",
    ] {
        assert!(text.contains(want), "{want:?} not in:\n{text}");
    }
    // The self-signature is valid.
    let verified = openssl(&[
        "verify",
        "-check_ss_sig",
        "-partial_chain",
        "-CAfile",
        path(&cert_pem),
        path(&cert_pem),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    // The key is a valid PKCS#8 P-256 key, and it is the certificate's.
    let key_pub = openssl(&["pkey", "-in", path(&key_pem), "-pubout"]);
    let cert_pub = openssl(&["x509", "-in", path(&cert_pem), "-noout", "-pubkey"]);
    assert_eq!(key_pub, cert_pub);
}

#[test]
fn openssl_verifies_our_handshake_signature() {
    let Some(()) = openssl_available("signature") else {
        return;
    };
    let dir = TempDir::new("signature");
    let rng = SystemRandom::new();
    let cert = Certificate::generate_self_signed("weft", Validity::default(), &rng).unwrap();
    let message = b"client_random + server_random + ServerECDHParams";
    let msg = dir.write("msg.bin", message);
    let sig = dir.write("sig.der", cert.sign(message, &rng).unwrap());
    let cert_pem = dir.write("cert.pem", cert.cert_pem());
    let pubkey = dir.write(
        "pub.pem",
        openssl(&["x509", "-in", path(&cert_pem), "-noout", "-pubkey"]),
    );
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        path(&pubkey),
        "-signature",
        path(&sig),
        path(&msg),
    ]);
    assert_eq!(out.trim(), "Verified OK");
    // And a tampered message does not verify.
    let other = dir.write(
        "other.bin",
        b"client_random + server_random + ServerECDHParamz",
    );
    let status = Command::new("openssl")
        .args([
            "dgst",
            "-sha256",
            "-verify",
            path(&pubkey),
            "-signature",
            path(&sig),
            path(&other),
        ])
        .output()
        .unwrap()
        .status;
    assert!(!status.success());
}
