//! FASTA validation and `.fai` indexing in one streaming pass.
//!
//! The index is the one `samtools faidx` (htslib 1.16 `fai_build_core`) writes; files that
//! htslib refuses are refused here too, and a few more that it silently accepts with a
//! surprising index (empty or duplicate names, empty sequences, unexpected characters).

mod alphabet;
mod digest;
mod error;
mod index;
mod indexer;

pub use digest::{SequenceDigester, SequenceDigests};
pub use error::FastaError;
pub use index::{FaiRecord, FastaIndex};
pub use indexer::{FastaIndexer, MAX_NAME_LEN};
