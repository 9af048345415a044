//! The wire edge of the domain: each vocabulary enum and its generated model enum convert
//! into each other by one exhaustive `match` per direction (no text in between).

use seqstore_model::{self as model, SseConfig};

use crate::vocabulary::{
    CreationType, EtagAlgorithm, FileType, ItemStatus, JobStatus, PartSource, ReadSetStatus,
    ReferenceStatus, SseType, StoreStatus,
};
use seqstore_formats::etag::EtagFamily;

/// The members of one generated shape moved into a sibling shape that has them too (the
/// Create, Get, Update and list views of a resource); the compiler checks every member.
macro_rules! sibling {
    ($from:expr => $to:ident { $($member:ident),+ $(,)? }) => {{
        let from = $from;
        $to {
            $($member: from.$member,)+
        }
    }};
}
pub(crate) use sibling;

/// The `sseConfig` echo: only when the user supplied one (spec E29).
pub(crate) fn sse_config(sse_type: Option<SseType>, key_arn: Option<String>) -> Option<SseConfig> {
    sse_type.map(|t| SseConfig {
        r#type: t.into(),
        key_arn,
    })
}

/// The same names in the vocabulary and in the model: an exhaustive `From` each way.
macro_rules! same_names {
    ($($domain:ident <=> $wire:ident { $($variant:ident),+ $(,)? })+) => {$(
        impl From<$domain> for model::$wire {
            fn from(name: $domain) -> Self {
                match name {
                    $($domain::$variant => Self::$variant,)+
                }
            }
        }

        impl From<model::$wire> for $domain {
            fn from(name: model::$wire) -> Self {
                match name {
                    $(model::$wire::$variant => Self::$variant,)+
                }
            }
        }
    )+};
}

same_names! {
    ReadSetStatus <=> ReadSetStatus {
        ProcessingUpload, UploadFailed, Active, Archived, Activating, Deleting, Deleted,
    }
    ReferenceStatus <=> ReferenceStatus { Active, Deleting, Deleted }
    StoreStatus <=> SequenceStoreStatus { Creating, Active, Updating, Deleting, Failed }
    JobStatus <=> ReadSetImportJobStatus {
        Submitted, InProgress, Cancelling, Cancelled, Failed, Completed, CompletedWithFailures,
    }
    JobStatus <=> ReferenceImportJobStatus {
        Submitted, InProgress, Cancelling, Cancelled, Failed, Completed, CompletedWithFailures,
    }
    JobStatus <=> ReadSetActivationJobStatus {
        Submitted, InProgress, Cancelling, Cancelled, Failed, Completed, CompletedWithFailures,
    }
    JobStatus <=> ReadSetExportJobStatus {
        Submitted, InProgress, Cancelling, Cancelled, Failed, Completed, CompletedWithFailures,
    }
    ItemStatus <=> ReadSetImportJobItemStatus { NotStarted, InProgress, Finished, Failed }
    ItemStatus <=> ReadSetActivationJobItemStatus { NotStarted, InProgress, Finished, Failed }
    ItemStatus <=> ReadSetExportJobItemStatus { NotStarted, InProgress, Finished, Failed }
    ItemStatus <=> ReferenceImportJobItemStatus { NotStarted, InProgress, Finished, Failed }
    FileType <=> FileType { Fastq, Bam, Ubam, Cram }
    PartSource <=> ReadSetPartSource { Source1, Source2 }
    CreationType <=> CreationType { Import, Upload }
    SseType <=> EncryptionType { Kms }
    EtagAlgorithm <=> ETagAlgorithm {
        FastqMd5up, BamMd5up, CramMd5up, FastqSha256up, BamSha256up, CramSha256up,
        FastqSha512up, BamSha512up, CramSha512up,
    }
}

/// The ETag family on the wire (both enums are foreign here, so no `From`).
pub(crate) fn wire_family(family: EtagFamily) -> model::ETagAlgorithmFamily {
    match family {
        EtagFamily::Md5up => model::ETagAlgorithmFamily::Md5up,
        EtagFamily::Sha256up => model::ETagAlgorithmFamily::Sha256up,
        EtagFamily::Sha512up => model::ETagAlgorithmFamily::Sha512up,
    }
}

/// The ETag family a request names.
pub(crate) fn family(family: model::ETagAlgorithmFamily) -> EtagFamily {
    match family {
        model::ETagAlgorithmFamily::Md5up => EtagFamily::Md5up,
        model::ETagAlgorithmFamily::Sha256up => EtagFamily::Sha256up,
        model::ETagAlgorithmFamily::Sha512up => EtagFamily::Sha512up,
    }
}
