//! DTLS records (RFC 6347 §4.1): a 13-byte header, then the fragment. A datagram may carry
//! several records (§4.1.1).

use super::{DecodeError, Put, Reader};

/// Record header length.
pub const HEADER_LEN: usize = 13;
/// DTLS 1.2 on the wire (RFC 6347 §4.1: {254, 253}).
pub const DTLS_1_2: [u8; 2] = [254, 253];
/// DTLS 1.0, which ClientHello records may carry (RFC 6347 §4.2.1 leaves it open).
pub const DTLS_1_0: [u8; 2] = [254, 255];
/// RFC 6347 §4.1.1.1 (RFC 5246 §6.2.1): a plaintext fragment is at most 2^14 bytes, a
/// protected one at most 2^14 + 2048.
pub const MAX_FRAGMENT: usize = (1 << 14) + 2048;

/// Record content types (RFC 5246 §6.2.1, RFC 6347 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentType {
    /// 20
    ChangeCipherSpec,
    /// 21
    Alert,
    /// 22
    Handshake,
    /// 23
    ApplicationData,
}

impl ContentType {
    /// From the wire byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            20 => ContentType::ChangeCipherSpec,
            21 => ContentType::Alert,
            22 => ContentType::Handshake,
            23 => ContentType::ApplicationData,
            _ => return None,
        })
    }

    /// The wire byte.
    pub fn to_u8(self) -> u8 {
        match self {
            ContentType::ChangeCipherSpec => 20,
            ContentType::Alert => 21,
            ContentType::Handshake => 22,
            ContentType::ApplicationData => 23,
        }
    }
}

/// One record as received: header fields and the (possibly protected) fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Content type.
    pub content_type: ContentType,
    /// Record version.
    pub version: [u8; 2],
    /// Epoch (RFC 6347 §4.1).
    pub epoch: u16,
    /// 48-bit sequence number.
    pub seq: u64,
    /// The fragment.
    pub fragment: &'a [u8],
}

impl<'a> Record<'a> {
    /// Reads the record at the front of `r`.
    pub fn read(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let ct = r.u8("record type")?;
        let content_type = ContentType::from_u8(ct).ok_or(DecodeError::BadValue {
            what: "record type",
        })?;
        let version: [u8; 2] = r.array("record version")?;
        // RFC 6347 §4.1: major 254; minor 253 (1.2) or 255 (1.0, ClientHello).
        if version[0] != 254 {
            return Err(DecodeError::BadValue {
                what: "record version",
            });
        }
        let epoch = r.u16("epoch")?;
        let seq = r.u48("sequence number")?;
        let len = r.u16("record length")?;
        if usize::from(len) > MAX_FRAGMENT {
            return Err(DecodeError::BadLength { what: "record" });
        }
        let fragment = r
            .take(usize::from(len), "record fragment")
            .map_err(|_| DecodeError::BadLength { what: "record" })?;
        Ok(Record {
            content_type,
            version,
            epoch,
            seq,
            fragment,
        })
    }

    /// Every record of a datagram, or the error of the first bad one (RFC 6347 §4.1.2.7:
    /// the caller drops the rest of the datagram).
    pub fn parse_all(datagram: &'a [u8]) -> impl Iterator<Item = Result<Record<'a>, DecodeError>> {
        let mut r = Reader::new(datagram);
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed || r.is_empty() {
                return None;
            }
            let rec = Record::read(&mut r);
            failed = rec.is_err();
            Some(rec)
        })
    }

    /// Appends a record with this header and `fragment` to `out`.
    pub fn write(
        out: &mut Vec<u8>,
        content_type: ContentType,
        version: [u8; 2],
        epoch: u16,
        seq: u64,
        fragment: &[u8],
    ) {
        out.u8(content_type.to_u8());
        out.extend_from_slice(&version);
        out.u16(epoch);
        out.u48(seq);
        out.u16(fragment.len() as u16);
        out.extend_from_slice(fragment);
    }
}

/// The anti-replay window of RFC 6347 §4.1.2.6: a bitmap of the last 64 sequence numbers
/// received in the current epoch. Check before authenticating; mark after.
#[derive(Debug, Clone, Default)]
pub struct ReplayWindow {
    /// Highest sequence number accepted.
    top: Option<u64>,
    /// Bit i set: `top - i` was received.
    bits: u64,
}

impl ReplayWindow {
    /// Width of the window.
    pub const SIZE: u64 = 64;

    /// Whether `seq` is new and inside the window.
    pub fn check(&self, seq: u64) -> bool {
        match self.top {
            None => true,
            Some(top) if seq > top => true,
            Some(top) => {
                let back = top - seq;
                back < Self::SIZE && self.bits & (1 << back) == 0
            }
        }
    }

    /// Records `seq` as received (after its record authenticated).
    pub fn mark(&mut self, seq: u64) {
        match self.top {
            None => {
                self.top = Some(seq);
                self.bits = 1;
            }
            Some(top) if seq > top => {
                let shift = seq - top;
                self.bits = if shift >= Self::SIZE {
                    1
                } else {
                    self.bits << shift | 1
                };
                self.top = Some(seq);
            }
            Some(top) => {
                let back = top - seq;
                if back < Self::SIZE {
                    self.bits |= 1 << back;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip_and_two_records_per_datagram() {
        let mut d = Vec::new();
        Record::write(&mut d, ContentType::Handshake, DTLS_1_2, 0, 1, b"abc");
        Record::write(
            &mut d,
            ContentType::Alert,
            DTLS_1_2,
            1,
            0x0000_ffff_ffff,
            &[1, 0],
        );
        let recs: Vec<_> = Record::parse_all(&d).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].fragment, b"abc");
        assert_eq!(recs[1].epoch, 1);
        assert_eq!(recs[1].seq, 0xffff_ffff);
        // A truncated second record is an error, the first still parsed.
        let cut = &d[..d.len() - 1];
        let v: Vec<_> = Record::parse_all(cut).collect();
        assert!(v[0].is_ok() && v[1].is_err() && v.len() == 2);
    }

    #[test]
    fn rfc6347_replay_window() {
        let mut w = ReplayWindow::default();
        for s in [5, 7, 6, 100] {
            assert!(w.check(s));
            w.mark(s);
        }
        assert!(!w.check(100) && !w.check(7));
        assert!(w.check(99) && w.check(37));
        assert!(!w.check(36), "64 behind the top is outside the window");
        w.mark(99);
        assert!(!w.check(99));
        w.mark(1000);
        assert!(!w.check(100), "left the window");
        assert!(w.check(999));
    }
}
