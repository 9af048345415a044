//! The error of parsing an unknown value into a generated enumeration.

use std::fmt;

/// A string that is not one of an enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseEnumError {
    /// The enumeration shape, e.g. `FileType`.
    pub shape: &'static str,
    /// The rejected text.
    pub value: String,
}

impl ParseEnumError {
    /// The error for `value` not being a `shape`.
    pub fn new(shape: &'static str, value: &str) -> Self {
        Self {
            shape,
            value: value.to_owned(),
        }
    }
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' is not a valid {}", self.value, self.shape)
    }
}

impl std::error::Error for ParseEnumError {}
