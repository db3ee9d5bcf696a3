//! Big-endian reads and bounded writes that cannot panic: every access goes through `get`.

use crate::Error;

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_be_bytes(s))
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

#[inline]
pub(crate) fn be64(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(s))
}

#[inline]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Rounds up to the next multiple of 4 (RFC 8489 §14: attribute values are padded to a
/// 32-bit boundary).
#[inline]
pub(crate) const fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

/// Copies `src` into `out` at `at`; the caller sized `out`, so a miss is a caller bug and is
/// reported, never a panic.
#[inline]
pub(crate) fn put(out: &mut [u8], at: usize, src: &[u8]) -> Result<(), Error> {
    let available = out.len();
    let end = at.checked_add(src.len()).ok_or(Error::TooLong)?;
    match out.get_mut(at..end) {
        Some(dst) => {
            dst.copy_from_slice(src);
            Ok(())
        }
        None => Err(Error::BufferTooSmall {
            needed: end,
            available,
        }),
    }
}
