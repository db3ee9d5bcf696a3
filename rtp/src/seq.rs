//! Sequence-number and timestamp unwrapping: the 16-bit RTP sequence number and the 32-bit
//! RTP timestamp as 64-bit counters that never wrap.
//!
//! Each value is placed at the distance from the highest value seen so far that is shortest
//! modulo 2^16 (or 2^32): a step of less than half the range forward is a step forward, one
//! of half the range or more is a step back (a reordered or late value). This is the rule
//! behind RFC 3550 §A.1, without its probation and dropout policy (see [`crate::stats`] for
//! that). Values before the first one come out negative.

/// Unwraps 16-bit RTP sequence numbers (RFC 3550 §5.1) into an `i64` counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    highest: Option<i64>,
}

impl SeqUnwrapper {
    /// An unwrapper that has seen nothing; the first value unwraps to itself.
    pub fn new() -> SeqUnwrapper {
        SeqUnwrapper::default()
    }

    /// The unwrapped value of `seq`, without recording it.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.highest {
            None => i64::from(seq),
            Some(h) => {
                // The step from the highest, in -32768..=32767.
                let step = seq.wrapping_sub(h as u16) as i16;
                h + i64::from(step)
            }
        }
    }

    /// The unwrapped value of `seq`; the highest value seen moves forward when `seq` is
    /// ahead of it.
    pub fn unwrap(&mut self, seq: u16) -> i64 {
        let v = self.peek(seq);
        if self.highest.is_none_or(|h| v > h) {
            self.highest = Some(v);
        }
        v
    }

    /// The highest unwrapped value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }
}

/// Unwraps 32-bit RTP timestamps (RFC 3550 §5.1) into an `i64` counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    highest: Option<i64>,
}

impl TimestampUnwrapper {
    /// An unwrapper that has seen nothing; the first value unwraps to itself.
    pub fn new() -> TimestampUnwrapper {
        TimestampUnwrapper::default()
    }

    /// The unwrapped value of `ts`, without recording it.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.highest {
            None => i64::from(ts),
            Some(h) => h + i64::from(ts.wrapping_sub(h as u32) as i32),
        }
    }

    /// The unwrapped value of `ts`; the highest value seen moves forward when `ts` is ahead
    /// of it.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let v = self.peek(ts);
        if self.highest.is_none_or(|h| v > h) {
            self.highest = Some(v);
        }
        v
    }

    /// The highest unwrapped value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_forward_across_the_wrap() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(65534), 65534);
        assert_eq!(u.unwrap(65535), 65535);
        assert_eq!(u.unwrap(0), 65536);
        assert_eq!(u.unwrap(1), 65537);
        // Late packets from before the wrap stay before it.
        assert_eq!(u.unwrap(65535), 65535);
        assert_eq!(u.highest(), Some(65537));
    }

    #[test]
    fn seq_backwards_before_the_first_and_across_the_wrap() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(1), 1);
        assert_eq!(u.unwrap(65535), -1);
        assert_eq!(u.unwrap(3), 3);
        assert_eq!(u.highest(), Some(3));
    }

    #[test]
    fn seq_half_range_step_is_backwards() {
        let mut u = SeqUnwrapper::new();
        u.unwrap(0);
        assert_eq!(u.peek(32767), 32767);
        assert_eq!(u.peek(32768), -32768);
    }

    #[test]
    fn seq_many_wraps() {
        let mut u = SeqUnwrapper::new();
        let mut s = 60000u16;
        for i in 0..1_000_000i64 {
            assert_eq!(u.unwrap(s), 60000 + i);
            s = s.wrapping_add(1);
        }
    }

    #[test]
    fn timestamp_forward_and_back_across_the_wrap() {
        let mut u = TimestampUnwrapper::new();
        assert_eq!(u.unwrap(u32::MAX - 1000), i64::from(u32::MAX - 1000));
        assert_eq!(u.unwrap(2000), (1i64 << 32) + 2000);
        assert_eq!(u.unwrap(u32::MAX), i64::from(u32::MAX));
        assert_eq!(u.highest(), Some((1i64 << 32) + 2000));
        let mut v = TimestampUnwrapper::new();
        assert_eq!(v.unwrap(10), 10);
        assert_eq!(v.unwrap(u32::MAX), -1);
    }
}
