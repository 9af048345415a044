//! The wire edge of the domain: its names as the model's generated enums, and one generated
//! shape as a sibling shape.

use seqstore_model::{EncryptionType, SseConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::CoreError;
use crate::error::Result;

/// A name of one vocabulary as the same name of another (a domain enum as its wire enum).
pub(crate) fn parse_enum<T: std::str::FromStr>(name: impl AsRef<str>) -> Result<T> {
    let text = name.as_ref();
    text.parse()
        .map_err(|_| CoreError::Unmapped(text.to_owned()))
}

/// Moves a shape into another with the same member names (Create/Get/Update/Detail views).
pub(crate) fn reshape<T: DeserializeOwned>(from: &impl Serialize) -> Result<T> {
    serde_json::to_value(from)
        .and_then(serde_json::from_value)
        .map_err(CoreError::json("a response shape"))
}

/// The `sseConfig` echo: only when the user supplied one (spec E29).
pub(crate) fn sse_config(
    sse_type: Option<&str>,
    key_arn: Option<String>,
) -> Result<Option<SseConfig>> {
    sse_type
        .map(|t| {
            Ok(SseConfig {
                r#type: parse_enum::<EncryptionType>(t)?,
                key_arn,
            })
        })
        .transpose()
}
