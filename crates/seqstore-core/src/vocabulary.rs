//! The domain's names for states and kinds. Each enum lists once the text the catalog
//! stores and the API shows (also its JSON form in job item specs); text becomes an enum
//! only at those edges.

pub use seqstore_formats::etag::EtagFamily;

/// Text that names none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {text:?}")]
pub struct UnknownName {
    /// What was being named (`read set status`, ...).
    pub what: &'static str,
    /// The text.
    pub text: String,
}

/// An enum of the vocabulary with its stored and shown text.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident ($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// The text the catalog stores and the API shows.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownName;

            fn from_str(text: &str) -> Result<Self, UnknownName> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownName { what: $what, text: text.to_owned() }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names! {
    /// Where a read set is in its life (spec D.9).
    #[derive(Default)]
    ReadSetStatus("read set status") {
        /// Being ingested from an upload.
        #[default]
        ProcessingUpload = "PROCESSING_UPLOAD",
        /// Ingestion failed; `statusMessage` says why.
        UploadFailed = "UPLOAD_FAILED",
        /// Readable.
        Active = "ACTIVE",
        /// Moved to cold storage.
        Archived = "ARCHIVED",
        /// Coming back from cold storage.
        Activating = "ACTIVATING",
        /// Being deleted.
        Deleting = "DELETING",
        /// Deleted (a tombstone).
        Deleted = "DELETED",
    }
}

impl ReadSetStatus {
    /// Whether its files are listed by the S3 endpoint (readable, or archived).
    pub fn is_listed(self) -> bool {
        matches!(self, Self::Active | Self::Archived | Self::Activating)
    }
}

names! {
    /// Where a reference is in its life.
    ReferenceStatus("reference status") {
        /// Readable.
        Active = "ACTIVE",
        /// Being deleted.
        Deleting = "DELETING",
        /// Deleted.
        Deleted = "DELETED",
    }
}

names! {
    /// Where a sequence store is in its life.
    StoreStatus("store status") {
        /// Being created.
        Creating = "CREATING",
        /// Usable.
        Active = "ACTIVE",
        /// Being changed.
        Updating = "UPDATING",
        /// Being deleted.
        Deleting = "DELETING",
        /// Creation failed.
        Failed = "FAILED",
    }
}

names! {
    /// What a background job does; each kind lives in its own module.
    JobKind("job kind") {
        /// Imports references into a reference store.
        ReferenceImport = "REFERENCE_IMPORT",
        /// Ingests the read set of a completed upload.
        ReadSetIngest = "READ_SET_INGEST",
        /// Imports read sets from S3.
        ReadSetImport = "READ_SET_IMPORT",
        /// Moves idle read sets to the archive tier (started by the server, not a user).
        ReadSetArchive = "READ_SET_ARCHIVE",
        /// Brings archived read sets back (StartReadSetActivationJob).
        ReadSetActivation = "READ_SET_ACTIVATION",
        /// Copies read sets to the user's bucket (StartReadSetExportJob).
        ReadSetExport = "READ_SET_EXPORT",
    }
}

names! {
    /// Where a job is.
    JobStatus("job status") {
        /// Waiting for a worker.
        Submitted = "SUBMITTED",
        /// A worker runs it.
        InProgress = "IN_PROGRESS",
        /// Being cancelled.
        Cancelling = "CANCELLING",
        /// Cancelled.
        Cancelled = "CANCELLED",
        /// Every item failed.
        Failed = "FAILED",
        /// Every item finished.
        Completed = "COMPLETED",
        /// Some items failed.
        CompletedWithFailures = "COMPLETED_WITH_FAILURES",
    }
}

names! {
    /// Where one source of a job is.
    ItemStatus("job item status") {
        /// Waiting.
        NotStarted = "NOT_STARTED",
        /// Being processed.
        InProgress = "IN_PROGRESS",
        /// Its resource exists.
        Finished = "FINISHED",
        /// It failed; its `statusMessage` says why.
        Failed = "FAILED",
    }
}

impl ItemStatus {
    /// Whether nothing more happens to it.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Finished | Self::Failed)
    }
}

names! {
    /// The format of a read set.
    #[derive(Default)]
    FileType("file type") {
        /// FASTQ (plain, gzip or BGZF).
        #[default]
        Fastq = "FASTQ",
        /// Aligned BAM.
        Bam = "BAM",
        /// Unaligned BAM.
        Ubam = "UBAM",
        /// CRAM.
        Cram = "CRAM",
    }
}

impl FileType {
    /// Whether it is aligned against a reference (and indexed).
    pub fn is_aligned(self) -> bool {
        matches!(self, Self::Bam | Self::Cram)
    }

    /// How its sources are read.
    pub fn source_kind(self) -> seqstore_formats::read_set::SourceKind {
        use seqstore_formats::read_set::SourceKind;
        match self {
            Self::Fastq => SourceKind::Fastq,
            Self::Bam => SourceKind::Bam,
            Self::Ubam => SourceKind::Ubam,
            Self::Cram => SourceKind::Cram,
        }
    }
}

names! {
    /// Which file of a read set a part belongs to.
    PartSource("part source") {
        /// The first (or only) file.
        Source1 = "SOURCE1",
        /// The second file of paired FASTQ.
        Source2 = "SOURCE2",
    }
}

names! {
    /// How a read set came to be.
    #[derive(Default)]
    CreationType("creation type") {
        /// By an import job.
        #[default]
        Import = "IMPORT",
        /// By a multipart upload.
        Upload = "UPLOAD",
    }
}

names! {
    /// Where a multipart upload is.
    #[derive(Default)]
    UploadStatus("upload status") {
        /// Parts may be uploaded.
        #[default]
        InProgress = "IN_PROGRESS",
        /// Completed: its read set exists.
        Completed = "COMPLETED",
        /// Aborted.
        Aborted = "ABORTED",
    }
}

names! {
    /// The server-side encryption a store was created with.
    SseType("SSE type") {
        /// AWS KMS.
        Kms = "KMS",
    }
}

names! {
    /// How a read set's ETags were computed: the format it was hashed as, and the family.
    EtagAlgorithm("ETag algorithm") {
        /// FASTQ, MD5.
        FastqMd5up = "FASTQ_MD5up",
        /// BAM or uBAM, MD5.
        BamMd5up = "BAM_MD5up",
        /// CRAM, MD5.
        CramMd5up = "CRAM_MD5up",
        /// FASTQ, SHA-256.
        FastqSha256up = "FASTQ_SHA256up",
        /// BAM or uBAM, SHA-256.
        BamSha256up = "BAM_SHA256up",
        /// CRAM, SHA-256.
        CramSha256up = "CRAM_SHA256up",
        /// FASTQ, SHA-512.
        FastqSha512up = "FASTQ_SHA512up",
        /// BAM or uBAM, SHA-512.
        BamSha512up = "BAM_SHA512up",
        /// CRAM, SHA-512.
        CramSha512up = "CRAM_SHA512up",
    }
}

impl EtagAlgorithm {
    /// The algorithm of a read set of `file_type` in a store of `family` (uBAM hashes as BAM).
    pub fn of(file_type: FileType, family: EtagFamily) -> Self {
        use EtagFamily::{Md5up, Sha256up, Sha512up};
        match (file_type, family) {
            (FileType::Fastq, Md5up) => Self::FastqMd5up,
            (FileType::Bam | FileType::Ubam, Md5up) => Self::BamMd5up,
            (FileType::Cram, Md5up) => Self::CramMd5up,
            (FileType::Fastq, Sha256up) => Self::FastqSha256up,
            (FileType::Bam | FileType::Ubam, Sha256up) => Self::BamSha256up,
            (FileType::Cram, Sha256up) => Self::CramSha256up,
            (FileType::Fastq, Sha512up) => Self::FastqSha512up,
            (FileType::Bam | FileType::Ubam, Sha512up) => Self::BamSha512up,
            (FileType::Cram, Sha512up) => Self::CramSha512up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_unknown_text_says_what_it_is() {
        for status in [ReadSetStatus::ProcessingUpload, ReadSetStatus::Deleted] {
            assert_eq!(status.as_str().parse::<ReadSetStatus>(), Ok(status));
        }
        assert_eq!(JobKind::ReadSetIngest.to_string(), "READ_SET_INGEST");
        let err = "active".parse::<ReadSetStatus>().unwrap_err();
        assert_eq!(err.to_string(), "unknown read set status \"active\"");
    }
}
