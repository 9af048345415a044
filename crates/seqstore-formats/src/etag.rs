//! HealthOmics ETag hashes (spec §D.9, §E4): the MD5up, SHA256up and SHA512up families.
//!
//! What is hashed depends on the format (the decompressed FASTQ text, the SAM rendering of
//! BAM and CRAM records); this module only hashes the bytes it is given, in one pass, and
//! prints the digest as the service does: lowercase hex, 32, 64 or 128 characters.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::str::FromStr;

use md5::{Digest, Md5};
use sha2::{Sha256, Sha512};

pub use crate::background::{Background, Work};

/// The hash family of a sequence store (`eTagAlgorithmFamily`, fixed when it is created).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EtagFamily {
    /// `MD5up`, the default.
    #[default]
    Md5up,
    /// `SHA256up`.
    Sha256up,
    /// `SHA512up`.
    Sha512up,
}

impl EtagFamily {
    /// Every family, in the order the model lists them.
    pub const ALL: [Self; 3] = [Self::Md5up, Self::Sha256up, Self::Sha512up];

    /// The wire name: `MD5up`, `SHA256up` or `SHA512up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5up => "MD5up",
            Self::Sha256up => "SHA256up",
            Self::Sha512up => "SHA512up",
        }
    }

    /// Length of an ETag of this family, hex characters.
    pub fn hex_len(self) -> usize {
        match self {
            Self::Md5up => 32,
            Self::Sha256up => 64,
            Self::Sha512up => 128,
        }
    }
}

impl fmt::Display for EtagFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A family name that is not one of the wire names (they are case-sensitive).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ETag algorithm family '{0}' (expected MD5up, SHA256up or SHA512up)")]
pub struct UnknownEtagFamily(pub String);

impl FromStr for EtagFamily {
    type Err = UnknownEtagFamily;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|family| family.as_str() == s)
            .ok_or_else(|| UnknownEtagFamily(s.to_owned()))
    }
}

/// Hashes bytes pushed in chunks of any size into an ETag of one family.
///
/// Also an [`io::Write`], so text can be formatted straight into it; writing never fails.
#[derive(Debug, Clone)]
pub struct EtagHasher {
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Md5(Md5),
    Sha256(Sha256),
    Sha512(Sha512),
}

impl EtagHasher {
    /// A hasher of `family` that has seen no bytes yet.
    pub fn new(family: EtagFamily) -> Self {
        let state = match family {
            EtagFamily::Md5up => State::Md5(Md5::new()),
            EtagFamily::Sha256up => State::Sha256(Sha256::new()),
            EtagFamily::Sha512up => State::Sha512(Sha512::new()),
        };
        Self { state }
    }

    /// The family this hasher computes.
    pub fn family(&self) -> EtagFamily {
        match self.state {
            State::Md5(_) => EtagFamily::Md5up,
            State::Sha256(_) => EtagFamily::Sha256up,
            State::Sha512(_) => EtagFamily::Sha512up,
        }
    }

    /// Hashes the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            State::Md5(h) => h.update(bytes),
            State::Sha256(h) => h.update(bytes),
            State::Sha512(h) => h.update(bytes),
        }
    }

    /// The ETag of everything hashed: lowercase hex.
    pub fn finish(self) -> String {
        match self.state {
            State::Md5(h) => format!("{:x}", h.finalize()),
            State::Sha256(h) => format!("{:x}", h.finalize()),
            State::Sha512(h) => format!("{:x}", h.finalize()),
        }
    }
}

impl Work for EtagHasher {
    type Output = String;
    type Error = Infallible;

    fn push(&mut self, bytes: &[u8]) -> Result<(), Infallible> {
        self.update(bytes);
        Ok(())
    }

    fn finish(self) -> Result<String, Infallible> {
        Ok(EtagHasher::finish(self))
    }
}

/// An [`EtagHasher`] on a thread of its own ([`Background`]), so that hashing overlaps with
/// whatever produces the bytes instead of adding to it.
pub type BackgroundHasher = Background<EtagHasher>;

impl BackgroundHasher {
    /// A hasher of `family` that has seen no bytes yet.
    pub fn new(family: EtagFamily) -> Self {
        Self::of(EtagHasher::new(family))
    }

    /// Hashes the next bytes (in order with those before).
    pub fn update(&mut self, bytes: &[u8]) {
        self.push(bytes);
    }

    /// The ETag of everything hashed: lowercase hex.
    pub fn finish(self) -> String {
        match self.end() {
            Ok(etag) => etag,
            Err(never) => match never {},
        }
    }
}

impl io::Write for EtagHasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.update(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::background::HAND_OVER;

    /// `printf 'abc' | md5sum` (resp. sha256sum, sha512sum).
    const ABC: [(EtagFamily, &str); 3] = [
        (EtagFamily::Md5up, "900150983cd24fb0d6963f7d28e17f72"),
        (
            EtagFamily::Sha256up,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            EtagFamily::Sha512up,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];

    /// `md5sum`, `sha256sum` and `sha512sum` of no bytes.
    const EMPTY: [(EtagFamily, &str); 3] = [
        (EtagFamily::Md5up, "d41d8cd98f00b204e9800998ecf8427e"),
        (
            EtagFamily::Sha256up,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            EtagFamily::Sha512up,
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        ),
    ];

    #[test]
    fn digests_are_lowercase_hex_of_the_family() {
        for (family, expected) in ABC {
            let mut hasher = EtagHasher::new(family);
            hasher.update(b"abc");
            assert_eq!(hasher.family(), family);
            let etag = hasher.finish();
            assert_eq!(etag, expected, "{family}");
            assert_eq!(etag.len(), family.hex_len());
        }
    }

    #[test]
    fn nothing_hashed_gives_the_empty_digest() {
        for (family, expected) in EMPTY {
            assert_eq!(EtagHasher::new(family).finish(), expected, "{family}");
        }
    }

    #[test]
    fn chunks_and_writes_hash_like_one_update() {
        for (family, expected) in ABC {
            let mut hasher = EtagHasher::new(family);
            hasher.update(b"a");
            hasher.update(b"");
            write!(hasher, "{}", char::from(b'a' + 1)).unwrap();
            hasher.write_all(b"c").unwrap();
            hasher.flush().unwrap();
            assert_eq!(hasher.finish(), expected, "{family}");
        }
    }

    #[test]
    fn the_background_hasher_hashes_like_one_update() {
        // Several hand-overs, a partial last buffer and chunks that straddle buffers.
        let bytes: Vec<u8> = (0..(3 * HAND_OVER + 12_345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for family in EtagFamily::ALL {
            let mut expected = EtagHasher::new(family);
            expected.update(&bytes);
            let expected = expected.finish();
            for chunk in [1, 1000, HAND_OVER - 1, HAND_OVER, 2 * HAND_OVER + 3] {
                let mut hasher = BackgroundHasher::new(family);
                for piece in bytes.chunks(chunk) {
                    hasher.update(piece);
                }
                hasher.update(b"");
                assert_eq!(hasher.finish(), expected, "{family}, chunks of {chunk}");
            }
            assert_eq!(
                BackgroundHasher::new(family).finish(),
                EtagHasher::new(family).finish()
            );
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for (family, name) in [
            (EtagFamily::Md5up, "MD5up"),
            (EtagFamily::Sha256up, "SHA256up"),
            (EtagFamily::Sha512up, "SHA512up"),
        ] {
            assert_eq!(family.to_string(), name);
            assert_eq!(name.parse::<EtagFamily>(), Ok(family));
        }
        assert_eq!(EtagFamily::default(), EtagFamily::Md5up);
    }

    #[test]
    fn other_names_are_refused() {
        for name in ["md5up", "MD5", "SHA256UP", "", " MD5up"] {
            let error = name.parse::<EtagFamily>().unwrap_err();
            assert_eq!(error, UnknownEtagFamily(name.to_owned()));
        }
        assert_eq!(
            "sha1".parse::<EtagFamily>().unwrap_err().to_string(),
            "unknown ETag algorithm family 'sha1' (expected MD5up, SHA256up or SHA512up)"
        );
    }
}
