//! Why a CRAM source was refused, in words a user can act on.

use std::io;

/// A CRAM ingestion failure; messages stay within 120 characters.
#[derive(Debug, thiserror::Error)]
pub enum CramError {
    /// The source is empty.
    #[error("the CRAM file is empty")]
    Empty,
    /// The magic bytes are not `CRAM`.
    #[error("not a CRAM file: it starts with {0} instead of \"CRAM\"")]
    NotCram(String),
    /// A CRAM major version other than 3.
    #[error("CRAM version {major}.{minor} is not supported (only 3.0 and 3.1)")]
    UnsupportedVersion {
        /// Major version from the file definition.
        major: u8,
        /// Minor version from the file definition.
        minor: u8,
    },
    /// The file ends early (no EOF container).
    #[error("the CRAM file is truncated: {0}")]
    Truncated(String),
    /// A CRC32 of a container header or block does not match.
    #[error("CRC32 mismatch in {0}: the CRAM file is corrupt")]
    Checksum(String),
    /// The structure of the file is invalid.
    #[error("corrupt CRAM: {0}")]
    Corrupt(String),
    /// A block uses a compression method that cannot be decoded here.
    #[error("{0}")]
    Unsupported(String),
    /// The linked reference does not match the CRAM.
    #[error("{0}")]
    Reference(String),
    /// The linked reference could not be read.
    #[error("cannot read the reference {path}: {source}")]
    ReferenceIo {
        /// Which file.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file needs more than a documented limit of this service allows.
    #[error("{0} (a limit of this service)")]
    Limit(String),
    /// The records are not coordinate-sorted, so no `.crai` can be built.
    #[error("{0}")]
    NotSorted(String),
    /// Reading the source or writing the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}
