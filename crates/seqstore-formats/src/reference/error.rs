//! Why a reference source was refused.

use std::io;
use std::sync::Arc;

use crate::fasta::FastaError;
use crate::message::ByteSize;

/// A reference source that cannot be imported.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ReferenceError {
    /// More bytes arrived than the caller's limit.
    #[error("reference is larger than the {} limit", ByteSize(*limit))]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// The source starts like gzip but does not decompress to its end.
    #[error("gzip stream is truncated or corrupt after {offset} compressed bytes: {source}")]
    Gzip {
        /// Compressed bytes the decoder had accepted before the failure.
        offset: u64,
        /// The decoder's error.
        source: Arc<io::Error>,
    },
    /// The (decompressed) text is not a FASTA file that can be indexed.
    #[error(transparent)]
    Fasta(#[from] FastaError),
}
