//! The checksums that name a sequence (refget v2, CRAM `M5`): MD5 and the GA4GH
//! `sha512t24u` of the sequence's residues, uppercased, without line breaks.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use md5::{Digest, Md5};
use sha2::Sha512;

/// Bytes uppercased per hashing call.
const BATCH: usize = 8192;

/// The identifiers of one sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceDigests {
    /// Lowercase hex MD5: the CRAM `M5` and refget `md5` identifier.
    pub md5: String,
    /// GA4GH `sha512t24u`: base64url (no padding) of the first 24 bytes of the SHA-512.
    /// The refget identifier is `SQ.` followed by it.
    pub sha512t24u: String,
}

/// Hashes a sequence's residues pushed line by line.
#[derive(Clone, Default)]
pub struct SequenceDigester {
    md5: Md5,
    sha512: Sha512,
}

impl std::fmt::Debug for SequenceDigester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SequenceDigester").finish_non_exhaustive()
    }
}

impl SequenceDigester {
    /// Takes residues (no line terminators); lowercase letters are hashed as uppercase.
    pub fn update(&mut self, residues: &[u8]) {
        let mut upper = [0u8; BATCH];
        for piece in residues.chunks(BATCH) {
            let upper = &mut upper[..piece.len()];
            for (to, from) in upper.iter_mut().zip(piece) {
                *to = from.to_ascii_uppercase();
            }
            self.md5.update(&*upper);
            self.sha512.update(&*upper);
        }
    }

    /// The digests of everything pushed.
    pub fn finish(self) -> SequenceDigests {
        let sha512 = self.sha512.finalize();
        SequenceDigests {
            md5: format!("{:x}", self.md5.finalize()),
            sha512t24u: URL_SAFE_NO_PAD.encode(&sha512[..24]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_those_of_the_uppercase_residues() {
        // The refget specification's example: `ACGT`.
        let mut d = SequenceDigester::default();
        d.update(b"ac");
        d.update(b"GT");
        let digests = d.finish();
        assert_eq!(digests.md5, "f1f8f4bf413b16ad135722aa4591043e");
        assert_eq!(digests.sha512t24u, "aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2");
    }

    #[test]
    fn long_sequences_are_hashed_across_batches() {
        let residues: Vec<u8> = (0..3 * BATCH + 7).map(|i| b"acgtN"[i % 5]).collect();
        let mut whole = SequenceDigester::default();
        whole.update(&residues);
        let mut upper = SequenceDigester::default();
        upper.update(&residues.to_ascii_uppercase());
        assert_eq!(whole.finish(), upper.finish());
    }
}
