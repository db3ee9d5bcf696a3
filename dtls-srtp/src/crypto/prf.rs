//! The TLS 1.2 PRF and the secrets derived from it.

use ring::hmac;

use super::{CipherSuite, CryptoError, HashAlg};

/// Label of the client's Finished message (RFC 5246 §7.4.9).
pub const CLIENT_FINISHED_LABEL: &[u8] = b"client finished";
/// Label of the server's Finished message (RFC 5246 §7.4.9).
pub const SERVER_FINISHED_LABEL: &[u8] = b"server finished";
/// Exporter label of DTLS-SRTP keying material (RFC 5764 §4.2).
pub const SRTP_EXPORTER_LABEL: &[u8] = b"EXTRACTOR-dtls_srtp";

/// Labels the TLS 1.2 key schedule uses itself; an exporter must not be asked for them
/// (RFC 5705 §4, RFC 7627 §4).
const RESERVED_EXPORTER_LABELS: [&[u8]; 5] = [
    CLIENT_FINISHED_LABEL,
    SERVER_FINISHED_LABEL,
    b"master secret",
    b"extended master secret",
    b"key expansion",
];

/// `PRF(secret, label, seed)` of TLS 1.2, filling `out` (RFC 5246 §5):
///
/// ```text
/// PRF(secret, label, seed) = P_<hash>(secret, label + seed)
/// P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
///                        HMAC_hash(secret, A(2) + seed) + ...
/// A(0) = seed, A(i) = HMAC_hash(secret, A(i-1))
/// ```
pub fn prf(hash: HashAlg, secret: &[u8], label: &[u8], seed: &[u8], out: &mut [u8]) {
    prf_parts(hash, secret, label, &[seed], out);
}

/// [`prf`] whose seed is the concatenation of `seed_parts`, without building it.
pub(crate) fn prf_parts(
    hash: HashAlg,
    secret: &[u8],
    label: &[u8],
    seed_parts: &[&[u8]],
    out: &mut [u8],
) {
    let key = hmac::Key::new(hash.hmac_alg(), secret);
    // A(1) = HMAC(secret, A(0)) with A(0) = label + seed.
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(label);
    for part in seed_parts {
        ctx.update(part);
    }
    let mut a = ctx.sign();
    for chunk in out.chunks_mut(hash.output_len()) {
        // HMAC(secret, A(i) + label + seed)
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(label);
        for part in seed_parts {
            ctx.update(part);
        }
        let block = ctx.sign();
        let n = chunk.len();
        if let Some(src) = block.as_ref().get(..n) {
            chunk.copy_from_slice(src);
        }
        // A(i+1) = HMAC(secret, A(i))
        a = hmac::sign(&key, a.as_ref());
    }
}

/// The extended master secret (RFC 7627 §4):
/// `PRF(pre_master_secret, "extended master secret", session_hash)[0..47]`, where
/// `session_hash` is the transcript hash up to and including ClientKeyExchange.
pub fn extended_master_secret(hash: HashAlg, pre_master: &[u8], session_hash: &[u8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    prf(
        hash,
        pre_master,
        b"extended master secret",
        session_hash,
        &mut out,
    );
    out
}

/// The classic master secret (RFC 5246 §8.1), for peers that do not negotiate the extended
/// master secret: `PRF(pre_master_secret, "master secret", ClientHello.random +
/// ServerHello.random)[0..47]`.
pub fn master_secret(
    hash: HashAlg,
    pre_master: &[u8],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> [u8; 48] {
    let mut out = [0u8; 48];
    prf_parts(
        hash,
        pre_master,
        b"master secret",
        &[client_random, server_random],
        &mut out,
    );
    out
}

/// Finished `verify_data` (RFC 5246 §7.4.9):
/// `PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]`, with `label`
/// [`CLIENT_FINISHED_LABEL`] or [`SERVER_FINISHED_LABEL`] and `handshake_hash` the
/// transcript hash ([`super::Transcript::current`]).
pub fn verify_data(
    hash: HashAlg,
    master: &[u8; 48],
    label: &[u8],
    handshake_hash: &[u8],
) -> [u8; 12] {
    let mut out = [0u8; 12];
    prf(hash, master, label, handshake_hash, &mut out);
    out
}

/// Keying material exporter (RFC 5705 §4), filling `out`:
///
/// ```text
/// PRF(master_secret, label, client_random + server_random
///     [+ context_value_length(uint16) + context_value])
/// ```
///
/// `None` and `Some(&[])` differ, as the RFC says. DTLS-SRTP uses [`SRTP_EXPORTER_LABEL`]
/// with no context (RFC 5764 §4.2).
///
/// # Errors
/// [`CryptoError::ReservedExporterLabel`] for a label of the key schedule itself;
/// [`CryptoError::ExporterContextTooLong`] for a context of 2^16 bytes or more.
pub fn export_keying_material(
    hash: HashAlg,
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
    label: &[u8],
    context: Option<&[u8]>,
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if RESERVED_EXPORTER_LABELS.contains(&label) {
        return Err(CryptoError::ReservedExporterLabel);
    }
    match context {
        None => prf_parts(hash, master, label, &[client_random, server_random], out),
        Some(ctx) => {
            let len = u16::try_from(ctx.len()).map_err(|_| CryptoError::ExporterContextTooLong)?;
            prf_parts(
                hash,
                master,
                label,
                &[client_random, server_random, &len.to_be_bytes(), ctx],
                out,
            );
        }
    }
    Ok(())
}

/// The write keys and IVs of one connection state. AEAD suites have no MAC keys, so the key
/// block is `client_write_key, server_write_key, client_write_IV, server_write_IV`
/// (RFC 5246 §6.3; RFC 5288 §3 and RFC 7905 §2 give the IV lengths).
pub struct KeyBlock {
    /// client_write_key: protects records the client sends.
    pub client_key: Vec<u8>,
    /// server_write_key: protects records the server sends.
    pub server_key: Vec<u8>,
    /// client_write_IV: the implicit nonce part of the client's records.
    pub client_iv: Vec<u8>,
    /// server_write_IV: the implicit nonce part of the server's records.
    pub server_iv: Vec<u8>,
}

impl std::fmt::Debug for KeyBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("KeyBlock")
            .field("key_len", &self.client_key.len())
            .field("iv_len", &self.client_iv.len())
            .finish_non_exhaustive()
    }
}

/// Expands the master secret into the key block of `suite` (RFC 5246 §6.3):
/// `PRF(master_secret, "key expansion", server_random + client_random)`.
pub fn key_block(
    suite: CipherSuite,
    master: &[u8; 48],
    client_random: &[u8; 32],
    server_random: &[u8; 32],
) -> KeyBlock {
    let key_len = suite.key_len();
    let iv_len = suite.fixed_iv_len();
    let mut block = vec![0u8; 2 * key_len + 2 * iv_len];
    prf_parts(
        suite.hash(),
        master,
        b"key expansion",
        &[server_random, client_random],
        &mut block,
    );
    let mut iv = block.split_off(2 * key_len);
    let server_key = block.split_off(key_len);
    let server_iv = iv.split_off(iv_len);
    KeyBlock {
        client_key: block,
        server_key,
        client_iv: iv,
        server_iv,
    }
}
