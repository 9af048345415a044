//! The types of the generated static schema (`generated/schema.rs` holds only the data).

use crate::generated::schema::Operation;

/// The HTTP binding of one operation, straight from the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationDef {
    /// The operation this entry describes.
    pub operation: Operation,
    /// The model name, e.g. `CreateSequenceStore`.
    pub name: &'static str,
    /// The HTTP method, uppercase.
    pub method: &'static str,
    /// The path template, e.g. `/sequencestore/{id}`.
    pub request_uri: &'static str,
    /// The static host prefix botocore prepends (`control-storage-`, `storage-`, `tags-`).
    pub host_prefix: &'static str,
    /// The status of a successful answer (200, or 204 for TagResource/UntagResource).
    pub success_code: u16,
    /// The input structure shape.
    pub input: &'static str,
    /// The output structure shape, if any.
    pub output: Option<&'static str>,
    /// The modeled error shapes, sorted.
    pub errors: &'static [&'static str],
    /// The request body is a raw streaming blob (UploadReadSetPart).
    pub streaming_input: bool,
    /// The response body is a raw streaming blob (GetReadSet, GetReference).
    pub streaming_output: bool,
}

/// The constraints of one model shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string, possibly an enumeration (`enum_values` non-empty).
    String {
        /// Minimum length in characters.
        min: Option<i64>,
        /// Maximum length in characters.
        max: Option<i64>,
        /// The model's (Java) regular expression, matched against the whole value.
        pattern: Option<&'static str>,
        /// The allowed values, in model order; empty when not an enumeration.
        enum_values: &'static [&'static str],
    },
    /// A 32-bit integer.
    Integer {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// A 64-bit integer.
    Long {
        /// Smallest allowed value.
        min: Option<i64>,
        /// Largest allowed value.
        max: Option<i64>,
    },
    /// A boolean.
    Boolean,
    /// A timestamp (ISO 8601 on the wire).
    Timestamp,
    /// Binary data (here only streaming payloads).
    Blob,
    /// A list of `member` shapes.
    List {
        /// The element shape.
        member: &'static str,
        /// Minimum number of elements.
        min: Option<i64>,
        /// Maximum number of elements.
        max: Option<i64>,
    },
    /// A map from `key` shapes to `value` shapes.
    Map {
        /// The key shape (a string).
        key: &'static str,
        /// The value shape.
        value: &'static str,
        /// Minimum number of entries.
        min: Option<i64>,
        /// Maximum number of entries.
        max: Option<i64>,
    },
    /// A structure.
    Structure {
        /// The members, in model order.
        members: &'static [Member],
        /// The names of the required members.
        required: &'static [&'static str],
    },
}

/// A member of a structure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The member name as in the model and the JSON body (camelCase).
    pub name: &'static str,
    /// The target shape.
    pub shape: &'static str,
    /// Where the member travels in the HTTP request.
    pub location: Location,
}

/// Where a member is bound in the HTTP request (spec §A.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A key of the JSON body.
    Body,
    /// A `{label}` of the path template.
    Uri(&'static str),
    /// A query parameter of that name.
    Query(&'static str),
    /// A header of that name.
    Header(&'static str),
    /// The raw HTTP body (a streaming blob).
    Payload,
}

impl Member {
    /// A member entry of the generated table.
    pub const fn new(name: &'static str, shape: &'static str, location: Location) -> Self {
        Self {
            name,
            shape,
            location,
        }
    }
}
