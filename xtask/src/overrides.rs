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

/// String shapes whose pattern is widened: `S3Uri` (the sources of reference and read set
/// import jobs) also takes `file:///<absolute path>`, a local source under the server's
/// `[sources.local] roots` (issue 16). Output members of the shape are unaffected: the server
/// only ever writes `s3://` URIs there.
pub const PATTERN_OVERRIDES: &[(&str, &str)] = &[(
    "S3Uri",
    "(s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/(.{1,1024}))|(file:///.{1,1024})",
)];

/// The pattern of string shape `shape` when [`PATTERN_OVERRIDES`] replaces the model's.
pub fn pattern_override(shape: &str) -> Option<&'static str> {
    PATTERN_OVERRIDES
        .iter()
        .find(|&&(s, _)| s == shape)
        .map(|&(_, pattern)| pattern)
}
