//! Handshake fragments (RFC 6347 §4.2.2) and the DTLS 1.2 handshake messages with ECDHE
//! (RFC 5246 §7.4, RFC 8422 §5, RFC 6347 §4.2.1), with their extensions.

use super::{DecodeError, Put, Reader};

/// Handshake header length in DTLS.
pub const HEADER_LEN: usize = 12;
/// The largest handshake message accepted (a certificate chain fits many times over).
pub const MAX_MESSAGE: u32 = 1 << 16;

/// Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2).
#[allow(missing_docs)]
pub mod msg {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const HELLO_VERIFY_REQUEST: u8 = 3;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
}

/// Extension types used here.
#[allow(missing_docs)]
pub mod ext {
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const USE_SRTP: u16 = 14;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const KEY_SHARE: u16 = 51;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// One handshake fragment as carried in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// Message type.
    pub msg_type: u8,
    /// Length of the whole message.
    pub length: u32,
    /// RFC 6347 §4.2.2 message_seq.
    pub message_seq: u16,
    /// Where this fragment starts.
    pub offset: u32,
    /// The fragment bytes.
    pub body: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// Reads one fragment at the front of `r` (a handshake record may hold several).
    pub fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let msg_type = r.u8("handshake type")?;
        let length = r.u24("handshake length")?;
        let message_seq = r.u16("message_seq")?;
        let offset = r.u24("fragment_offset")?;
        let flen = r.u24("fragment_length")?;
        if length > MAX_MESSAGE || offset.checked_add(flen).is_none_or(|end| end > length) {
            return Err(DecodeError::BadLength {
                what: "handshake fragment",
            });
        }
        let body = r.take(flen as usize, "handshake fragment")?;
        Ok(Fragment {
            msg_type,
            length,
            message_seq,
            offset,
            body,
        })
    }

    /// Appends a fragment header and body.
    pub fn write(
        out: &mut Vec<u8>,
        msg_type: u8,
        length: u32,
        message_seq: u16,
        offset: u32,
        body: &[u8],
    ) {
        out.u8(msg_type);
        out.u24(length);
        out.u16(message_seq);
        out.u24(offset);
        out.u24(body.len() as u32);
        out.extend_from_slice(body);
    }
}

/// Reassembles one handshake message from fragments in any order, with overlaps
/// (RFC 6347 §4.2.3). Memory is bounded by the message length, itself bounded by
/// [`MAX_MESSAGE`].
#[derive(Debug, Clone)]
pub struct Reassembly {
    /// Message type.
    pub msg_type: u8,
    /// message_seq.
    pub message_seq: u16,
    buf: Vec<u8>,
    /// Sorted, disjoint received ranges.
    have: Vec<(u32, u32)>,
}

impl Reassembly {
    /// Starts a message from its first fragment seen.
    pub fn new(f: &Fragment<'_>) -> Self {
        Reassembly {
            msg_type: f.msg_type,
            message_seq: f.message_seq,
            buf: vec![0; f.length as usize],
            have: Vec::new(),
        }
    }

    /// Adds a fragment; an inconsistent one (other type or length) is an error.
    pub fn add(&mut self, f: &Fragment<'_>) -> Result<(), DecodeError> {
        if f.msg_type != self.msg_type || f.length as usize != self.buf.len() {
            return Err(DecodeError::BadValue {
                what: "handshake fragment of another message",
            });
        }
        let (start, end) = (f.offset, f.offset + f.body.len() as u32);
        if let Some(dst) = self.buf.get_mut(start as usize..end as usize) {
            dst.copy_from_slice(f.body);
        }
        if start < end {
            self.have.push((start, end));
            self.have.sort_unstable();
            let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.have.len());
            for (s, e) in self.have.drain(..) {
                match merged.last_mut() {
                    Some(last) if s <= last.1 => last.1 = last.1.max(e),
                    _ => merged.push((s, e)),
                }
            }
            self.have = merged;
        }
        Ok(())
    }

    /// The whole message body once every byte arrived.
    pub fn complete(&self) -> Option<&[u8]> {
        let whole = self.buf.is_empty() || self.have == [(0, self.buf.len() as u32)];
        whole.then_some(&self.buf[..])
    }
}

/// ClientHello (RFC 6347 §4.2.1, RFC 5246 §7.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// client_version.
    pub version: [u8; 2],
    /// Random.
    pub random: [u8; 32],
    /// Session ID (unused: no resumption).
    pub session_id: &'a [u8],
    /// The cookie of HelloVerifyRequest, empty at first.
    pub cookie: &'a [u8],
    /// Cipher suites offered, raw.
    pub cipher_suites: Vec<u16>,
    /// Compression methods (must include null).
    pub compression: &'a [u8],
    /// Extensions, in order.
    pub extensions: Vec<(u16, &'a [u8])>,
}

fn read_extensions<'a>(r: &mut Reader<'a>) -> Result<Vec<(u16, &'a [u8])>, DecodeError> {
    let mut out = Vec::new();
    if r.is_empty() {
        return Ok(out);
    }
    let mut e = Reader::new(r.vec16("extensions")?);
    while !e.is_empty() {
        let typ = e.u16("extension type")?;
        let data = e.vec16("extension data")?;
        // RFC 5246 §7.4.1.4: at most one extension of each type.
        if out.iter().any(|(t, _)| *t == typ) {
            return Err(DecodeError::BadValue {
                what: "duplicate extension",
            });
        }
        out.push((typ, data));
    }
    Ok(out)
}

fn write_extensions(out: &mut Vec<u8>, exts: &[(u16, Vec<u8>)]) {
    if exts.is_empty() {
        return;
    }
    let at = out.len_start(2);
    for (t, d) in exts {
        out.u16(*t);
        out.u16(d.len() as u16);
        out.extend_from_slice(d);
    }
    out.len_end(at, 2);
}

/// The value of an extension, if present.
pub fn find_ext<'a>(exts: &[(u16, &'a [u8])], typ: u16) -> Option<&'a [u8]> {
    exts.iter().find(|(t, _)| *t == typ).map(|(_, d)| *d)
}

/// A list of u16 in a 2-byte-length vector (cipher suites, groups, signature schemes,
/// SRTP profiles).
pub fn read_u16_list(data: &[u8], what: &'static str) -> Result<Vec<u16>, DecodeError> {
    let mut r = Reader::new(data);
    let list = r.vec16(what)?;
    r.finish(what)?;
    if list.len() % 2 != 0 {
        return Err(DecodeError::BadLength { what });
    }
    Ok(list
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// The same, emitted.
pub fn u16_list(values: &[u16]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + 2 * values.len());
    v.u16((2 * values.len()) as u16);
    for x in values {
        v.u16(*x);
    }
    v
}

impl<'a> ClientHello<'a> {
    /// Parses a reassembled ClientHello body.
    pub fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let version = r.array("client_version")?;
        let random = r.array("random")?;
        let session_id = r.vec8("session_id")?;
        let cookie = r.vec8("cookie")?;
        let suites = r.vec16("cipher_suites")?;
        if suites.len() % 2 != 0 || suites.is_empty() {
            return Err(DecodeError::BadLength {
                what: "cipher_suites",
            });
        }
        let cipher_suites = suites
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let compression = r.vec8("compression_methods")?;
        let extensions = read_extensions(&mut r)?;
        r.finish("ClientHello")?;
        Ok(ClientHello {
            version,
            random,
            session_id,
            cookie,
            cipher_suites,
            compression,
            extensions,
        })
    }

    /// Emits a ClientHello body.
    pub fn emit(
        random: &[u8; 32],
        cookie: &[u8],
        suites: &[u16],
        extensions: &[(u16, Vec<u8>)],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&super::record::DTLS_1_2);
        out.extend_from_slice(random);
        out.u8(0); // session_id
        out.u8(cookie.len() as u8);
        out.extend_from_slice(cookie);
        let at = out.len_start(2);
        for s in suites {
            out.u16(*s);
        }
        out.len_end(at, 2);
        out.extend_from_slice(&[1, 0]); // compression: null
        write_extensions(&mut out, extensions);
        out
    }
}

/// ServerHello (RFC 5246 §7.4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// server_version.
    pub version: [u8; 2],
    /// Random.
    pub random: [u8; 32],
    /// The suite chosen.
    pub cipher_suite: u16,
    /// Extensions.
    pub extensions: Vec<(u16, &'a [u8])>,
}

impl<'a> ServerHello<'a> {
    /// Parses a ServerHello body.
    pub fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let version = r.array("server_version")?;
        let random = r.array("random")?;
        let _session_id = r.vec8("session_id")?;
        let cipher_suite = r.u16("cipher_suite")?;
        let compression = r.u8("compression_method")?;
        if compression != 0 {
            return Err(DecodeError::BadValue {
                what: "compression_method",
            });
        }
        let extensions = read_extensions(&mut r)?;
        r.finish("ServerHello")?;
        Ok(ServerHello {
            version,
            random,
            cipher_suite,
            extensions,
        })
    }

    /// Emits a ServerHello body.
    pub fn emit(random: &[u8; 32], suite: u16, extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(&super::record::DTLS_1_2);
        out.extend_from_slice(random);
        out.u8(0);
        out.u16(suite);
        out.u8(0);
        write_extensions(&mut out, extensions);
        out
    }
}

/// HelloVerifyRequest (RFC 6347 §4.2.1): version and cookie.
pub fn parse_hello_verify_request(body: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::new(body);
    let _version: [u8; 2] = r.array("server_version")?;
    let cookie = r.vec8("cookie")?;
    r.finish("HelloVerifyRequest")?;
    Ok(cookie)
}

/// Emits a HelloVerifyRequest body. RFC 6347 §4.2.1: its version is DTLS 1.0.
pub fn emit_hello_verify_request(cookie: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + cookie.len());
    out.extend_from_slice(&super::record::DTLS_1_0);
    out.u8(cookie.len() as u8);
    out.extend_from_slice(cookie);
    out
}

/// Certificate (RFC 5246 §7.4.2): the chain, leaf first.
pub fn parse_certificate(body: &[u8]) -> Result<Vec<&[u8]>, DecodeError> {
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24("certificate_list")?);
    r.finish("Certificate")?;
    let mut out = Vec::new();
    while !list.is_empty() {
        out.push(list.vec24("certificate")?);
    }
    Ok(out)
}

/// Emits a Certificate body with one certificate (or none: an empty list).
pub fn emit_certificate(der: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let at = out.len_start(3);
    if let Some(der) = der {
        out.u24(der.len() as u32);
        out.extend_from_slice(der);
    }
    out.len_end(at, 3);
    out
}

/// ServerKeyExchange for ECDHE (RFC 8422 §5.4): the params and their signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange<'a> {
    /// The named group.
    pub group: u16,
    /// The server's ephemeral public key.
    pub public: &'a [u8],
    /// The signed part: curve type, group, public key (RFC 8422 §5.4 ServerECDHParams).
    pub params: &'a [u8],
    /// SignatureScheme.
    pub scheme: u16,
    /// The signature.
    pub signature: &'a [u8],
}

impl<'a> ServerKeyExchange<'a> {
    /// Parses the message body.
    pub fn parse(body: &'a [u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let curve_type = r.u8("curve type")?;
        // RFC 8422 §5.4: named_curve (3) only.
        if curve_type != 3 {
            return Err(DecodeError::BadValue { what: "curve type" });
        }
        let group = r.u16("named curve")?;
        let public = r.vec8("ECDH public key")?;
        let params = body.get(..4 + public.len()).unwrap_or_default();
        let scheme = r.u16("signature scheme")?;
        let signature = r.vec16("signature")?;
        r.finish("ServerKeyExchange")?;
        Ok(ServerKeyExchange {
            group,
            public,
            params,
            scheme,
            signature,
        })
    }

    /// The ServerECDHParams bytes that are signed.
    pub fn emit_params(group: u16, public: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + public.len());
        out.u8(3);
        out.u16(group);
        out.u8(public.len() as u8);
        out.extend_from_slice(public);
        out
    }

    /// The whole body: params, scheme, signature.
    pub fn emit(params: &[u8], scheme: u16, signature: &[u8]) -> Vec<u8> {
        let mut out = params.to_vec();
        out.u16(scheme);
        out.u16(signature.len() as u16);
        out.extend_from_slice(signature);
        out
    }
}

/// CertificateRequest (RFC 5246 §7.4.4): the signature schemes the server accepts.
pub fn parse_certificate_request(body: &[u8]) -> Result<Vec<u16>, DecodeError> {
    let mut r = Reader::new(body);
    let _types = r.vec8("certificate_types")?;
    let schemes = r.vec16("supported_signature_algorithms")?;
    let _cas = r.vec16("certificate_authorities")?;
    r.finish("CertificateRequest")?;
    if schemes.len() % 2 != 0 {
        return Err(DecodeError::BadLength {
            what: "supported_signature_algorithms",
        });
    }
    Ok(schemes
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// Emits a CertificateRequest: ecdsa_sign (64) and rsa_sign (1), the given schemes, no CAs.
pub fn emit_certificate_request(schemes: &[u16]) -> Vec<u8> {
    let mut out = vec![2, 64, 1];
    out.extend_from_slice(&u16_list(schemes));
    out.u16(0);
    out
}

/// A digitally-signed struct (CertificateVerify, RFC 5246 §7.4.8): scheme and signature.
pub fn parse_signed(body: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    let mut r = Reader::new(body);
    let scheme = r.u16("signature scheme")?;
    let sig = r.vec16("signature")?;
    r.finish("CertificateVerify")?;
    Ok((scheme, sig))
}

/// Emits a digitally-signed struct.
pub fn emit_signed(scheme: u16, sig: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + sig.len());
    out.u16(scheme);
    out.u16(sig.len() as u16);
    out.extend_from_slice(sig);
    out
}

/// ClientKeyExchange for ECDHE (RFC 8422 §5.7): the client's public key.
pub fn parse_client_key_exchange(body: &[u8]) -> Result<&[u8], DecodeError> {
    let mut r = Reader::new(body);
    let public = r.vec8("ECDH public key")?;
    r.finish("ClientKeyExchange")?;
    Ok(public)
}

/// Emits a ClientKeyExchange.
pub fn emit_client_key_exchange(public: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + public.len());
    out.u8(public.len() as u8);
    out.extend_from_slice(public);
    out
}

/// use_srtp extension data (RFC 5764 §4.1.1): profiles and MKI.
pub fn parse_use_srtp(data: &[u8]) -> Result<Vec<u16>, DecodeError> {
    let mut r = Reader::new(data);
    let profiles = r.vec16("SRTPProtectionProfiles")?;
    let _mki = r.vec8("srtp_mki")?;
    r.finish("use_srtp")?;
    if profiles.len() % 2 != 0 {
        return Err(DecodeError::BadLength {
            what: "SRTPProtectionProfiles",
        });
    }
    Ok(profiles
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

/// Emits use_srtp extension data with an empty MKI.
pub fn emit_use_srtp(profiles: &[u16]) -> Vec<u8> {
    let mut v = u16_list(profiles);
    v.push(0);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembly_in_any_order_with_overlaps() {
        let msg: Vec<u8> = (0..100u8).collect();
        let frag = |off: usize, len: usize| Fragment {
            msg_type: 1,
            length: 100,
            message_seq: 0,
            offset: off as u32,
            body: &msg[off..off + len],
        };
        let mut r = Reassembly::new(&frag(60, 40));
        r.add(&frag(60, 40)).unwrap();
        assert!(r.complete().is_none());
        r.add(&frag(10, 30)).unwrap();
        r.add(&frag(30, 35)).unwrap();
        assert!(r.complete().is_none());
        r.add(&frag(0, 12)).unwrap();
        assert_eq!(r.complete().unwrap(), &msg[..]);
        let other = Fragment {
            length: 99,
            ..frag(0, 1)
        };
        assert!(r.add(&other).is_err());
    }

    #[test]
    fn fragment_bounds_are_checked() {
        let mut d = Vec::new();
        Fragment::write(&mut d, 1, 10, 0, 8, &[1, 2, 3]);
        assert!(Fragment::read(&mut Reader::new(&d)).is_err(), "8 + 3 > 10");
        let mut d = Vec::new();
        Fragment::write(&mut d, 1, 10, 0, 7, &[1, 2, 3]);
        assert!(Fragment::read(&mut Reader::new(&d)).is_ok());
    }

    #[test]
    fn hello_round_trips() {
        let exts = vec![
            (ext::EXTENDED_MASTER_SECRET, vec![]),
            (ext::USE_SRTP, emit_use_srtp(&[7, 1])),
        ];
        let b = ClientHello::emit(&[9; 32], b"cookie", &[0xC02B, 0xC02F], &exts);
        let ch = ClientHello::parse(&b).unwrap();
        assert_eq!(ch.cookie, b"cookie");
        assert_eq!(ch.cipher_suites, vec![0xC02B, 0xC02F]);
        assert_eq!(
            parse_use_srtp(find_ext(&ch.extensions, ext::USE_SRTP).unwrap()).unwrap(),
            vec![7, 1]
        );
        let b = ServerHello::emit(&[3; 32], 0xC02B, &exts);
        let sh = ServerHello::parse(&b).unwrap();
        assert_eq!(sh.cipher_suite, 0xC02B);
        assert_eq!(sh.extensions.len(), 2);
    }
}
