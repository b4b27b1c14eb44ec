//! Stable 64-bit row fingerprints (XXH3), stored beside rows so that a resync or an HR pull finds the
//! unchanged ones (nearly all of them, nearly always) by reading a few narrow columns instead of every row
//! in full. Stable across builds and platforms: they are stored and compared by later versions of this
//! program. Equal rows always have equal fingerprints; two different rows share one with a chance of 2⁻⁶⁴.

use xxhash_rust::xxh3::Xxh3;

/// Hashes fields one after the other; each is framed (present or not, and its length), so that no two
/// different sequences of fields hash the same bytes.
pub struct Fingerprint(Xxh3);

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprint")
    }
}

impl Fingerprint {
    /// Starts a fingerprint of the kind `version`: bump it whenever the fields hashed change, so stored
    /// fingerprints of the old kind never match.
    pub fn new(version: u8) -> Self {
        let mut h = Xxh3::new();
        h.update(&[version]);
        Self(h)
    }

    pub fn text(mut self, value: Option<&str>) -> Self {
        match value {
            None => self.0.update(&[0]),
            Some(s) => {
                self.0.update(&[1]);
                self.0.update(&(s.len() as u64).to_le_bytes());
                self.0.update(s.as_bytes());
            }
        }
        self
    }

    pub fn int(mut self, value: Option<i64>) -> Self {
        match value {
            None => self.0.update(&[0]),
            Some(n) => {
                self.0.update(&[1]);
                self.0.update(&n.to_le_bytes());
            }
        }
        self
    }

    /// The fingerprint, as the signed BIGINT it is stored as: the bits are what matter.
    pub fn finish(self) -> i64 {
        self.0.digest() as i64
    }
}
