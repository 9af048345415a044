//! Per-member departures from the model, each one citing the spec section that asks for it.
//!
//! Keep this list short and explicit: everything else is generated exactly as modeled.

/// Output members the model marks required but the service omits when unknown, so the
/// generated field is `Option<T>` instead of `T` (spec §E28: e.g. `referenceArn` of a FASTQ
/// upload, `generatedFrom` of an upload list item; emitting `""` would break the patterns).
pub const OPTIONAL_DESPITE_REQUIRED: &[(&str, &str)] = &[
    ("CreateMultipartReadSetUploadResponse", "referenceArn"),
    ("MultipartReadSetUploadListItem", "generatedFrom"),
    ("MultipartReadSetUploadListItem", "referenceArn"),
];

/// True when `structure.member` is in [`OPTIONAL_DESPITE_REQUIRED`].
pub fn optional_despite_required(structure: &str, member: &str) -> bool {
    OPTIONAL_DESPITE_REQUIRED
        .iter()
        .any(|&(s, m)| s == structure && m == member)
}
