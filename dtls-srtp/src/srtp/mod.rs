//! SRTP and SRTCP (RFC 3711) with the WebRTC profiles: AES_CM_128_HMAC_SHA1_80/_32
//! (RFC 3711, RFC 5764) and AEAD_AES_128_GCM/AEAD_AES_256_GCM (RFC 7714).
//!
//! [`Context`] protects or unprotects packets in place in the caller's buffer; nothing is
//! allocated per packet. Session keys are derived once per context (RFC 3711 §4.3, KDR 0)
//! and the HMAC pad states computed once, so a packet costs one pass of AES and one of
//! HMAC-SHA1 (or one AES-GCM).
//!
//! Primitives: the raw AES block cipher of the `aes` crate (AES-NI when present) for counter
//! mode and the key derivation, which ring does not expose; ring's AES-GCM for the AEAD
//! profiles; RustCrypto `hmac` + `sha1` for HMAC-SHA1, which run on the CPU's SHA extensions
//! (ring's SHA-1 is portable code, about 3x slower on 1200-byte packets).

mod cipher;
mod replay;

use std::fmt;

pub use crate::endpoint::SrtpProfile;
pub use replay::ReplayWindow;

use cipher::{AesCm, Gcm, HmacSha1};

/// Why a packet was refused. A refused packet changes no state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Shorter than its header plus tag (or not RTP version 2).
    TooShort,
    /// The caller's buffer has no room for the tag (protect).
    BufferTooSmall,
    /// The authentication tag does not verify.
    Authentication,
    /// The index was already received or is behind the replay window.
    Replay,
    /// A new SSRC would exceed the configured number of streams.
    SsrcLimit,
    /// The key material has the wrong length for the profile.
    KeyLength,
    /// The index space is exhausted (2^48 RTP or 2^31 RTCP packets): rekey.
    IndexExhausted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::TooShort => "packet too short",
            Error::BufferTooSmall => "no room for the authentication tag",
            Error::Authentication => "authentication failed",
            Error::Replay => "replayed or too old",
            Error::SsrcLimit => "too many SSRCs",
            Error::KeyLength => "wrong key material length",
            Error::IndexExhausted => "packet index exhausted",
        })
    }
}

impl std::error::Error for Error {}

impl SrtpProfile {
    fn key_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    fn salt_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 12,
            _ => 14,
        }
    }

    /// Bytes the RTP authentication tag adds (RFC 3711 §4.2, RFC 7714 §7).
    pub fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmSha1_80 => 10,
            SrtpProfile::Aes128CmSha1_32 => 4,
            _ => 16,
        }
    }

    /// Bytes SRTCP adds: the E flag and index word plus the tag (RFC 3711 §3.4; the _32
    /// profile keeps an 80-bit SRTCP tag, RFC 5764 §4.1.2).
    pub fn rtcp_overhead(self) -> usize {
        match self {
            SrtpProfile::Aes128CmSha1_80 | SrtpProfile::Aes128CmSha1_32 => 4 + 10,
            _ => 4 + 16,
        }
    }

    fn is_aead(self) -> bool {
        matches!(
            self,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm
        )
    }
}

/// Master key and salt of one direction.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    /// The profile.
    pub profile: SrtpProfile,
    /// Master key (16 or 32 bytes).
    pub key: Vec<u8>,
    /// Master salt (14 or 12 bytes).
    pub salt: Vec<u8>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({:?}, ..)", self.profile)
    }
}

impl MasterKey {
    /// Splits the DTLS exporter output (RFC 5764 §4.2: client key, server key, client salt,
    /// server salt) into (ours to protect with, theirs to unprotect with).
    pub fn from_dtls_export(
        profile: SrtpProfile,
        material: &[u8],
        we_are_client: bool,
    ) -> Result<(MasterKey, MasterKey), Error> {
        let (k, s) = (profile.key_len(), profile.salt_len());
        if material.len() != 2 * (k + s) {
            return Err(Error::KeyLength);
        }
        let part = |a: usize, n: usize| material.get(a..a + n).unwrap_or_default().to_vec();
        let client = MasterKey {
            profile,
            key: part(0, k),
            salt: part(2 * k, s),
        };
        let server = MasterKey {
            profile,
            key: part(k, k),
            salt: part(2 * k + s, s),
        };
        Ok(if we_are_client {
            (client, server)
        } else {
            (server, client)
        })
    }
}

/// Session keys of one direction for RTP or RTCP.
// Two per context; boxing would cost an indirection per packet.
#[allow(clippy::large_enum_variant)]
enum Session {
    Cm {
        cipher: AesCm,
        salt: [u8; 14],
        auth: HmacSha1,
    },
    Gcm {
        cipher: Gcm,
        salt: [u8; 12],
    },
}

/// RFC 3711 §4.3.1 key derivation labels.
const LABEL_RTP_ENC: u8 = 0x00;
const LABEL_RTP_AUTH: u8 = 0x01;
const LABEL_RTP_SALT: u8 = 0x02;
const LABEL_RTCP_ENC: u8 = 0x03;
const LABEL_RTCP_AUTH: u8 = 0x04;
const LABEL_RTCP_SALT: u8 = 0x05;

/// RFC 3711 §4.3.1 (KDR 0; RFC 7714 §11 uses the same KDF): AES-CM keystream of the master
/// key, with IV = (label || 0^48) XOR master salt, shifted left 16 bits.
pub fn derive(master: &MasterKey, label: u8, out: &mut [u8]) -> Result<(), Error> {
    let kdf = AesCm::new(&master.key).ok_or(Error::KeyLength)?;
    let mut iv = [0u8; 16];
    for (i, b) in master.salt.iter().enumerate().take(14) {
        if let Some(x) = iv.get_mut(i) {
            *x = *b;
        }
    }
    // The label sits at byte 7 of the 14-byte salt-aligned value (key_id = label << 48).
    if let Some(x) = iv.get_mut(7) {
        *x ^= label;
    }
    out.iter_mut().for_each(|b| *b = 0);
    kdf.apply_keystream(&iv, out);
    Ok(())
}

/// Session keys given directly (RFC 7714 §16-17 and RFC 3711 test vectors use them; real
/// sessions derive them from a [`MasterKey`]).
#[derive(Debug, Clone, Copy)]
pub struct SessionKeys<'a> {
    /// Session encryption key.
    pub key: &'a [u8],
    /// Session salt (14 bytes for AES-CM, 12 for GCM).
    pub salt: &'a [u8],
    /// Session authentication key (AES-CM profiles only).
    pub auth: Option<&'a [u8; 20]>,
}

impl Session {
    fn from_keys(p: SrtpProfile, k: &SessionKeys<'_>) -> Result<Self, Error> {
        if k.key.len() != p.key_len() || k.salt.len() != p.salt_len() {
            return Err(Error::KeyLength);
        }
        if p.is_aead() {
            let mut salt = [0u8; 12];
            salt.copy_from_slice(k.salt);
            Ok(Session::Gcm {
                cipher: Gcm::new(k.key).ok_or(Error::KeyLength)?,
                salt,
            })
        } else {
            let mut salt = [0u8; 14];
            salt.copy_from_slice(k.salt);
            Ok(Session::Cm {
                cipher: AesCm::new(k.key).ok_or(Error::KeyLength)?,
                salt,
                auth: HmacSha1::new(k.auth.ok_or(Error::KeyLength)?),
            })
        }
    }

    fn new(master: &MasterKey, rtcp: bool) -> Result<Self, Error> {
        let (l_enc, l_auth, l_salt) = if rtcp {
            (LABEL_RTCP_ENC, LABEL_RTCP_AUTH, LABEL_RTCP_SALT)
        } else {
            (LABEL_RTP_ENC, LABEL_RTP_AUTH, LABEL_RTP_SALT)
        };
        let p = master.profile;
        if master.key.len() != p.key_len() || master.salt.len() != p.salt_len() {
            return Err(Error::KeyLength);
        }
        let mut key = vec![0u8; p.key_len()];
        derive(master, l_enc, &mut key)?;
        if p.is_aead() {
            let mut salt = [0u8; 12];
            derive(master, l_salt, &mut salt)?;
            Ok(Session::Gcm {
                cipher: Gcm::new(&key).ok_or(Error::KeyLength)?,
                salt,
            })
        } else {
            let mut salt = [0u8; 14];
            derive(master, l_salt, &mut salt)?;
            // RFC 3711 §4.2.1: a 160-bit session authentication key.
            let mut auth = [0u8; 20];
            derive(master, l_auth, &mut auth)?;
            Ok(Session::Cm {
                cipher: AesCm::new(&key).ok_or(Error::KeyLength)?,
                salt,
                auth: HmacSha1::new(&auth),
            })
        }
    }
}

/// Receive-side state of one SSRC (RFC 3711 §3.2.1, Appendix A).
#[derive(Debug, Clone)]
struct Stream {
    ssrc: u32,
    /// Highest index seen (ROC << 16 | SEQ), if any.
    s_l: Option<u64>,
    replay: ReplayWindow,
    /// SRTCP: the replay window of the 31-bit index.
    rtcp_replay: ReplayWindow,
    /// Send side: next SRTCP index; and the ROC/last sequence we sent.
    rtcp_index: u32,
}

/// Configuration of a [`Context`].
#[derive(Debug, Clone, Copy)]
pub struct ContextConfig {
    /// Replay window width in packets (RFC 3711 §3.3.2 asks for at least 64; default 128).
    pub replay_window: u32,
    /// SSRCs a context keeps state for; packets of further ones are refused.
    pub max_streams: usize,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            replay_window: 128,
            max_streams: 256,
        }
    }
}

/// One direction of SRTP + SRTCP: protect (our master key) or unprotect (the peer's).
pub struct Context {
    profile: SrtpProfile,
    rtp: Session,
    rtcp: Session,
    config: ContextConfig,
    streams: Vec<Stream>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Context({:?}, {} streams)",
            self.profile,
            self.streams.len()
        )
    }
}

/// The RTP header length (fixed header, CSRCs, extension), or `TooShort`.
fn rtp_header_len(p: &[u8]) -> Result<usize, Error> {
    let b0 = *p.first().ok_or(Error::TooShort)?;
    if b0 >> 6 != 2 || p.len() < 12 {
        return Err(Error::TooShort);
    }
    let mut len = 12 + 4 * usize::from(b0 & 0x0f);
    if b0 & 0x10 != 0 {
        // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words.
        let words = p.get(len + 2..len + 4).ok_or(Error::TooShort)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if len > p.len() {
        return Err(Error::TooShort);
    }
    Ok(len)
}

fn be32(p: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    if let Some(s) = p.get(at..at + 4) {
        b.copy_from_slice(s);
    }
    u32::from_be_bytes(b)
}

impl Context {
    /// A context for `master` (one direction).
    pub fn new(master: &MasterKey, config: ContextConfig) -> Result<Self, Error> {
        Ok(Context {
            profile: master.profile,
            rtp: Session::new(master, false)?,
            rtcp: Session::new(master, true)?,
            config,
            streams: Vec::new(),
        })
    }

    /// A context from session keys given directly, skipping the key derivation.
    pub fn with_session_keys(
        profile: SrtpProfile,
        rtp: &SessionKeys<'_>,
        rtcp: &SessionKeys<'_>,
        config: ContextConfig,
    ) -> Result<Self, Error> {
        Ok(Context {
            profile,
            rtp: Session::from_keys(profile, rtp)?,
            rtcp: Session::from_keys(profile, rtcp)?,
            config,
            streams: Vec::new(),
        })
    }

    /// Sets the next SRTCP index a protecting context uses for `ssrc` (tests and rekeying).
    pub fn set_rtcp_index(&mut self, ssrc: u32, index: u32) -> Result<(), Error> {
        let i = self.stream_or_insert(ssrc)?;
        if let Some(s) = self.streams.get_mut(i) {
            s.rtcp_index = index & 0x7fff_ffff;
        }
        Ok(())
    }

    /// Sets the rollover counter a context assumes for `ssrc` (RFC 3711 §3.3.1: a receiver
    /// joining late learns it out of band).
    pub fn set_roc(&mut self, ssrc: u32, roc: u32, last_seq: u16) -> Result<(), Error> {
        let i = self.stream_or_insert(ssrc)?;
        if let Some(s) = self.streams.get_mut(i) {
            s.s_l = Some(u64::from(roc) << 16 | u64::from(last_seq));
        }
        Ok(())
    }

    /// The profile.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    fn stream_index(&self, ssrc: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.ssrc == ssrc)
    }

    /// The stream of `ssrc`, created on first sight within the limit.
    fn stream_or_insert(&mut self, ssrc: u32) -> Result<usize, Error> {
        if let Some(i) = self.stream_index(ssrc) {
            return Ok(i);
        }
        let s = self.new_stream(ssrc)?;
        self.streams.push(s);
        Ok(self.streams.len() - 1)
    }

    fn new_stream(&self, ssrc: u32) -> Result<Stream, Error> {
        if self.streams.len() >= self.config.max_streams {
            return Err(Error::SsrcLimit);
        }
        Ok(Stream {
            ssrc,
            s_l: None,
            replay: ReplayWindow::new(self.config.replay_window),
            rtcp_replay: ReplayWindow::new(self.config.replay_window),
            rtcp_index: 0,
        })
    }

    /// RFC 3711 Appendix A: the index of `seq` given the highest index seen.
    fn estimate(s_l: Option<u64>, seq: u16) -> u64 {
        let Some(s_l) = s_l else {
            return u64::from(seq);
        };
        let roc = s_l >> 16;
        let last = (s_l & 0xffff) as u16;
        let seq64 = u64::from(seq);
        let v = if last < 0x8000 {
            if seq > last && seq - last > 0x8000 {
                // From the previous ROC, unless there is none: a stream's first ROC is 0
                // (RFC 3711 §3.3.1), so a large jump forward early on stays in ROC 0.
                roc.saturating_sub(1)
            } else {
                roc
            }
        } else if last - 0x8000 > seq {
            roc + 1
        } else {
            roc
        };
        (v << 16 | seq64) & 0xffff_ffff_ffff
    }

    /// Protects an RTP packet of `len` bytes at the front of `buf` in place; returns the
    /// SRTP length (`len` + tag). `buf` must have room for the tag.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        let packet = buf.get(..len).ok_or(Error::TooShort)?;
        let hlen = rtp_header_len(packet)?;
        let ssrc = be32(packet, 8);
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let tag = self.profile.rtp_tag_len();
        if buf.len() < len + tag {
            return Err(Error::BufferTooSmall);
        }
        let pos = self.stream_or_insert(ssrc)?;
        let s_l = self.streams.get(pos).and_then(|s| s.s_l);
        // The sender's index follows its own sequence numbers (RFC 3711 §3.3.1).
        let index = Self::estimate(s_l, seq);
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Session::Cm { cipher, salt, auth } => {
                let iv = cipher::cm_iv(salt, ssrc, index);
                cipher.apply_keystream(&iv, buf.get_mut(hlen..len).unwrap_or_default());
                // RFC 3711 §4.2: the tag covers the packet and the ROC.
                let mac = auth.mac(&[buf.get(..len).unwrap_or_default(), &roc.to_be_bytes()]);
                if let Some(t) = buf.get_mut(len..len + tag) {
                    t.copy_from_slice(mac.get(..tag).unwrap_or_default());
                }
            }
            Session::Gcm { cipher, salt } => {
                let nonce = cipher::gcm_rtp_nonce(salt, ssrc, roc, seq);
                cipher.seal(&nonce, buf, hlen, len)?;
            }
        }
        if let Some(s) = self.streams.get_mut(pos) {
            if s.s_l.is_none_or(|l| index > l) {
                s.s_l = Some(index);
            }
        }
        Ok(len + tag)
    }

    /// Unprotects an SRTP packet in place; returns the RTP length. A refused packet
    /// changes nothing (no ROC, replay-window or stream update).
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let tag = self.profile.rtp_tag_len();
        let hlen = rtp_header_len(buf)?;
        if buf.len() < hlen + tag {
            return Err(Error::TooShort);
        }
        let len = buf.len() - tag;
        let ssrc = be32(buf, 8);
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let pos = self.stream_index(ssrc);
        if pos.is_none() && self.streams.len() >= self.config.max_streams {
            return Err(Error::SsrcLimit);
        }
        let s_l = pos.and_then(|i| self.streams.get(i)).and_then(|s| s.s_l);
        let index = Self::estimate(s_l, seq);
        if let Some(s) = pos.and_then(|i| self.streams.get(i)) {
            if !s.replay.check(index) {
                return Err(Error::Replay);
            }
        }
        let roc = (index >> 16) as u32;
        match &self.rtp {
            Session::Cm { cipher, salt, auth } => {
                let mac = auth.mac(&[buf.get(..len).unwrap_or_default(), &roc.to_be_bytes()]);
                let got = buf.get(len..).unwrap_or_default();
                if !cipher::ct_eq(mac.get(..tag).unwrap_or_default(), got) {
                    return Err(Error::Authentication);
                }
                let iv = cipher::cm_iv(salt, ssrc, index);
                cipher.apply_keystream(&iv, buf.get_mut(hlen..len).unwrap_or_default());
            }
            Session::Gcm { cipher, salt } => {
                let nonce = cipher::gcm_rtp_nonce(salt, ssrc, roc, seq);
                cipher.open(&nonce, buf, hlen)?;
            }
        }
        // Authenticated: now the state moves.
        let i = match pos {
            Some(i) => i,
            None => self.stream_or_insert(ssrc)?,
        };
        if let Some(s) = self.streams.get_mut(i) {
            s.replay.mark(index);
            if s.s_l.is_none_or(|l| index > l) {
                s.s_l = Some(index);
            }
        }
        Ok(len)
    }

    /// Protects an RTCP compound packet of `len` bytes in place (RFC 3711 §3.4, encrypted,
    /// E flag set); returns the SRTCP length.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        if len < 8 || buf.len() < len {
            return Err(Error::TooShort);
        }
        if buf.len() < len + self.profile.rtcp_overhead() {
            return Err(Error::BufferTooSmall);
        }
        let ssrc = be32(buf, 4);
        let pos = self.stream_or_insert(ssrc)?;
        let index = self.streams.get(pos).map_or(0, |s| s.rtcp_index);
        if index >= 0x8000_0000 {
            return Err(Error::IndexExhausted);
        }
        let e_index = (0x8000_0000 | index).to_be_bytes();
        let out = match &self.rtcp {
            Session::Cm { cipher, salt, auth } => {
                let iv = cipher::cm_iv(salt, ssrc, u64::from(index));
                cipher.apply_keystream(&iv, buf.get_mut(8..len).unwrap_or_default());
                if let Some(w) = buf.get_mut(len..len + 4) {
                    w.copy_from_slice(&e_index);
                }
                let mac = auth.mac(&[buf.get(..len + 4).unwrap_or_default()]);
                if let Some(t) = buf.get_mut(len + 4..len + 14) {
                    t.copy_from_slice(mac.get(..10).unwrap_or_default());
                }
                len + 14
            }
            Session::Gcm { cipher, salt } => {
                // RFC 7714 §9: AAD = header (8) || E+index; the tag follows the ciphertext,
                // then the E+index word.
                let nonce = cipher::gcm_rtcp_nonce(salt, ssrc, index);
                cipher.seal_rtcp(&nonce, buf, len, &e_index)?;
                len + 20
            }
        };
        if let Some(s) = self.streams.get_mut(pos) {
            s.rtcp_index = index + 1;
        }
        Ok(out)
    }

    /// Unprotects an SRTCP packet in place; returns the RTCP length. A refused packet
    /// changes nothing.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        let over = self.profile.rtcp_overhead();
        if buf.len() < 8 + over {
            return Err(Error::TooShort);
        }
        let ssrc = be32(buf, 4);
        let pos = self.stream_index(ssrc);
        if pos.is_none() && self.streams.len() >= self.config.max_streams {
            return Err(Error::SsrcLimit);
        }
        let (len, word_at) = match self.profile.is_aead() {
            false => (buf.len() - 14, buf.len() - 14),
            true => (buf.len() - 20, buf.len() - 4),
        };
        let word = be32(buf, word_at);
        let encrypted = word & 0x8000_0000 != 0;
        let index = word & 0x7fff_ffff;
        if let Some(s) = pos.and_then(|i| self.streams.get(i)) {
            if !s.rtcp_replay.check(u64::from(index)) {
                return Err(Error::Replay);
            }
        }
        match &self.rtcp {
            Session::Cm { cipher, salt, auth } => {
                let mac = auth.mac(&[buf.get(..len + 4).unwrap_or_default()]);
                if !cipher::ct_eq(
                    mac.get(..10).unwrap_or_default(),
                    buf.get(len + 4..).unwrap_or_default(),
                ) {
                    return Err(Error::Authentication);
                }
                if encrypted {
                    let iv = cipher::cm_iv(salt, ssrc, u64::from(index));
                    cipher.apply_keystream(&iv, buf.get_mut(8..len).unwrap_or_default());
                }
            }
            Session::Gcm { cipher, salt } => {
                let nonce = cipher::gcm_rtcp_nonce(salt, ssrc, index);
                cipher.open_rtcp(&nonce, buf, len, encrypted)?;
            }
        }
        let i = match pos {
            Some(i) => i,
            None => self.stream_or_insert(ssrc)?,
        };
        if let Some(s) = self.streams.get_mut(i) {
            s.rtcp_replay.mark(u64::from(index));
        }
        Ok(len)
    }
}
