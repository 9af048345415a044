//! Stand-in for `crate::etag` until it lands: the same names and behaviour.

use std::io::{self, Write};

use md5::{Digest, Md5};
use sha2::{Sha256, Sha512};

/// A HealthOmics ETag algorithm family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EtagFamily {
    /// MD5up.
    Md5up,
    /// SHA256up.
    Sha256up,
    /// SHA512up.
    Sha512up,
}

/// Streaming ETag hasher.
#[derive(Debug)]
pub enum EtagHasher {
    /// MD5.
    Md5(Md5),
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-512.
    Sha512(Sha512),
}

impl EtagHasher {
    /// A hasher for `family`.
    pub fn new(family: EtagFamily) -> Self {
        match family {
            EtagFamily::Md5up => Self::Md5(Md5::new()),
            EtagFamily::Sha256up => Self::Sha256(Sha256::new()),
            EtagFamily::Sha512up => Self::Sha512(Sha512::new()),
        }
    }

    /// Lowercase hex digest.
    pub fn finish(self) -> String {
        let bytes = match self {
            Self::Md5(h) => h.finalize().to_vec(),
            Self::Sha256(h) => h.finalize().to_vec(),
            Self::Sha512(h) => h.finalize().to_vec(),
        };
        super::reference::hex(&bytes)
    }
}

impl Write for EtagHasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Md5(h) => h.update(buf),
            Self::Sha256(h) => h.update(buf),
            Self::Sha512(h) => h.update(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
