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
//! - [`etag`] hashes of the HealthOmics ETag families (MD5up, SHA256up, SHA512up).
//! - [`fastq`] validates and counts FASTQ (plain, gzip, BGZF) and hashes its text.
//! - [`sam_text`] renders alignment records as `samtools view` (htslib) prints them.
//! - [`bam`] ingests BAM and uBAM: validation, counts, ETag, provenance header, `.bai`.
//! - [`cram`] ingests CRAM 3.0/3.1 with its reference: the same, and `.crai`.
//! - [`read_set`] is the one entry point over all of them (ingestion and `seqstore etag`).
//! - [`slices`] finds where a region's records lie in a stored BAM or CRAM (htsget).
//! - [`archive`] packs a stored file for the archive tier (gzip members re-encoded with
//!   `preflate` + zstd) and restores it byte for byte.

pub mod archive;
pub mod background;
pub mod bam;
pub mod cram;
pub mod etag;
pub mod fasta;
pub mod fastq;
pub mod limits;
pub mod read_set;
pub mod reference;
pub mod sam_text;
pub mod slices;

mod gzip;
mod message;
