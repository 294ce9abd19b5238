//! What more than one bench uses.

/// A deterministic pseudo-random stream (a 64-bit LCG, Knuth's MMIX constants), so every
/// run builds the same data; the INET comparison's Python driver draws the same numbers.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next 31-bit draw (the state's high bits).
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
