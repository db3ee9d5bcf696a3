//! A sliding replay window of configurable width (RFC 3711 §3.3.2), for 48-bit SRTP and
//! 31-bit SRTCP indices. Check before authenticating, mark after.

/// The window: the highest index accepted and a bitmap of the `width` below it.
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    top: Option<u64>,
    /// Bit `i` (word i/64, bit i%64): `top - i` was received.
    bits: Vec<u64>,
    width: u64,
}

impl ReplayWindow {
    /// A window of `width` packets (at least 64, rounded up to a multiple of 64).
    pub fn new(width: u32) -> Self {
        let words = u64::from(width.max(64)).div_ceil(64);
        ReplayWindow {
            top: None,
            bits: vec![0; words as usize],
            width: words * 64,
        }
    }

    fn bit(&self, back: u64) -> bool {
        self.bits
            .get((back / 64) as usize)
            .is_some_and(|w| w & (1 << (back % 64)) != 0)
    }

    /// Whether `index` is new and not too old.
    pub fn check(&self, index: u64) -> bool {
        match self.top {
            None => true,
            Some(top) if index > top => true,
            Some(top) => {
                let back = top - index;
                back < self.width && !self.bit(back)
            }
        }
    }

    /// Records `index` as received.
    pub fn mark(&mut self, index: u64) {
        match self.top {
            Some(top) if index <= top => {
                let back = top - index;
                if back < self.width {
                    if let Some(w) = self.bits.get_mut((back / 64) as usize) {
                        *w |= 1 << (back % 64);
                    }
                }
            }
            Some(top) => {
                self.shift(index - top);
                self.top = Some(index);
                if let Some(w) = self.bits.first_mut() {
                    *w |= 1;
                }
            }
            None => {
                self.top = Some(index);
                if let Some(w) = self.bits.first_mut() {
                    *w |= 1;
                }
            }
        }
    }

    /// Moves every bit `n` places further back.
    fn shift(&mut self, n: u64) {
        if n >= self.width {
            self.bits.iter_mut().for_each(|w| *w = 0);
            return;
        }
        let (words, bits) = ((n / 64) as usize, (n % 64) as u32);
        let len = self.bits.len();
        for i in (0..len).rev() {
            let src = i.checked_sub(words);
            let hi = src.and_then(|s| self.bits.get(s)).copied().unwrap_or(0);
            let lo = src
                .and_then(|s| s.checked_sub(1))
                .and_then(|s| self.bits.get(s))
                .copied()
                .unwrap_or(0);
            let v = if bits == 0 {
                hi
            } else {
                (hi << bits) | (lo >> (64 - bits))
            };
            if let Some(w) = self.bits.get_mut(i) {
                *w = v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ReplayWindow;

    #[test]
    fn window_of_128() {
        let mut w = ReplayWindow::new(128);
        for i in [1000u64, 1001, 999, 1100] {
            assert!(w.check(i));
            w.mark(i);
        }
        assert!(!w.check(1000) && !w.check(1001) && !w.check(999) && !w.check(1100));
        assert!(w.check(1099) && w.check(973));
        assert!(!w.check(972), "128 behind the top");
        w.mark(1200);
        assert!(!w.check(1100) && w.check(1073) && !w.check(1072));
        assert!(w.check(1150));
        w.mark(1_000_000);
        assert!(!w.check(1200));
    }

    #[test]
    fn bits_survive_word_shifts() {
        let mut w = ReplayWindow::new(256);
        w.mark(10);
        w.mark(70);
        w.mark(75); // shift by 5: 10 is now 65 back, 70 is 5 back
        assert!(!w.check(10) && !w.check(70) && w.check(11));
        w.mark(200); // shift 125
        assert!(!w.check(10) && !w.check(70) && !w.check(75) && w.check(76));
    }
}
