//! Streaming validation and indexing of the genomics file formats the service stores.
//!
//! Everything here is synchronous and push-based: the caller reads the source once, in chunks
//! of any size, and pushes each chunk in. Memory stays bounded by the number of sequences,
//! never by the size of the file, so a multi-GB genome can be checked on a blocking thread
//! while the same bytes are being stored.
//!
//! - [`fasta`] validates FASTA text and builds its `.fai` index (`samtools faidx` semantics).
//! - [`reference`] wraps it for reference import: MD5 and size of the bytes as received,
//!   gzip/bgzip detection and decompression, and the size limit.

pub mod fasta;
pub mod reference;

mod message;
