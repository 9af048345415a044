//! Checks a JSON input document against the model's constraints (spec §C, §E18, §E19).
//!
//! botocore only checks `required`, types and `min` client-side (spec §A.3), so the server
//! enforces `max`, patterns and enumerations. Every violation is collected, each with a
//! dotted path (`filter.name`, `sources.0.sourceFile`, `tags.<key>`), in AWS's wording.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::generated::schema::{SHAPES, shape};
use crate::schema_types::{Location, Shape};

/// Members whose model pattern is not applied. Their length limits still are.
const PATTERN_EXEMPT: &[(&str, &str)] = &[
    // Spec §E11: the model's `[\p{N}||\p{P}]+` forbids letters, so the standard
    // `Range: bytes=0-99` would fail; the range parser checks the syntax instead.
    ("GetReferenceRequest", "range"),
];

/// One or more constraint violations, rendered like AWS's ValidationException message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    messages: Vec<String>,
}

impl ValidationErrors {
    /// A single violation with its full message.
    pub fn single(message: impl Into<String>) -> Self {
        Self {
            messages: vec![message.into()],
        }
    }

    /// The individual messages, in the order they were found.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Adds a violation.
    pub fn push(&mut self, message: impl Into<String>) {
        self.messages.push(message.into());
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.messages.len();
        let noun = if n == 1 { "error" } else { "errors" };
        write!(
            f,
            "{n} validation {noun} detected: {}",
            self.messages.join("; ")
        )
    }
}

impl std::error::Error for ValidationErrors {}

/// Validates `value` against shape `shape_name`; unknown members are ignored, and a shape
/// name the schema does not know has no constraints.
pub fn validate(shape_name: &str, value: &Value) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    Walker {
        errors: &mut errors,
    }
    .check(shape_name, value, "", true);
    errors.into_result()
}

/// Every model pattern, compiled once as a full match (`^(?:pattern)$`, spec §E18).
///
/// Rust's `regex` reads the Java-isms of the model the way Java does: `||` inside a class
/// is a literal `|`, and `\p{L}`-style classes exist; no translation is needed (the test
/// `every_model_pattern_compiles` proves it for the pinned model). One difference is kept:
/// Java's `.` also excludes `\r`, U+0085, U+2028 and U+2029, Rust's only `\n`.
static PATTERNS: LazyLock<HashMap<&'static str, Regex>> = LazyLock::new(|| {
    SHAPES
        .iter()
        .filter_map(|(_, s)| match s {
            Shape::String {
                pattern: Some(p), ..
            } => Some(*p),
            _ => None,
        })
        .filter_map(|p| Regex::new(&format!("^(?:{p})$")).ok().map(|r| (p, r)))
        .collect()
});

struct Walker<'a> {
    errors: &'a mut ValidationErrors,
}

impl Walker<'_> {
    fn fail(&mut self, value: &Value, path: &str, constraint: &str) {
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" at '{path}'")
        };
        self.errors.push(format!(
            "Value {}{at} failed to satisfy constraint: {constraint}",
            render(value)
        ));
    }

    fn check(&mut self, shape_name: &str, value: &Value, path: &str, apply_pattern: bool) {
        let Some(s) = shape(shape_name) else { return };
        match *s {
            Shape::String { .. } => match value.as_str() {
                Some(text) => {
                    for constraint in string_violations(s, text, apply_pattern) {
                        self.fail(value, path, &constraint);
                    }
                }
                None => self.fail(value, path, "Member must be a string"),
            },
            Shape::Integer { min, max } => self.check_number(value, path, min, max, true),
            Shape::Long { min, max } => self.check_number(value, path, min, max, false),
            Shape::Boolean if !value.is_boolean() => {
                self.fail(value, path, "Member must be a boolean")
            }
            Shape::Timestamp if !is_timestamp(value) => {
                self.fail(
                    value,
                    path,
                    "Member must be a timestamp (RFC 3339 or epoch seconds)",
                );
            }
            Shape::Blob if !value.is_string() => {
                self.fail(value, path, "Member must be a base64-encoded string")
            }
            Shape::Boolean | Shape::Timestamp | Shape::Blob => {}
            Shape::List { member, min, max } => match value.as_array() {
                Some(items) => {
                    self.check_size(value, path, items.len(), min, max);
                    for (i, item) in items.iter().enumerate() {
                        self.check_present(member, item, &join(path, &i.to_string()), true);
                    }
                }
                None => self.fail(value, path, "Member must be a list"),
            },
            Shape::Map {
                key,
                value: value_shape,
                min,
                max,
            } => match value.as_object() {
                Some(entries) => {
                    self.check_size(value, path, entries.len(), min, max);
                    for (k, v) in entries {
                        if let Some(key_shape) = shape(key) {
                            for constraint in string_violations(key_shape, k, true) {
                                let k = Value::String(k.clone());
                                self.fail(
                                    &k,
                                    path,
                                    &format!("Map keys must satisfy constraint: [{constraint}]"),
                                );
                            }
                        }
                        self.check_present(value_shape, v, &join(path, k), true);
                    }
                }
                None => self.fail(value, path, "Member must be a map"),
            },
            Shape::Structure { members, required } => {
                let Some(object) = value.as_object() else {
                    return self.fail(value, path, "Member must be a structure");
                };
                for m in members.iter().filter(|m| m.location != Location::Payload) {
                    let member_path = join(path, m.name);
                    let apply_pattern = !PATTERN_EXEMPT.contains(&(shape_name, m.name));
                    match object.get(m.name) {
                        None | Some(Value::Null) if required.contains(&m.name) => {
                            self.fail(&Value::Null, &member_path, "Member must not be null");
                        }
                        None | Some(Value::Null) => {}
                        Some(v) => self.check(m.shape, v, &member_path, apply_pattern),
                    }
                }
            }
        }
    }

    /// List elements and map values may not be null.
    fn check_present(&mut self, shape_name: &str, value: &Value, path: &str, apply_pattern: bool) {
        if value.is_null() {
            self.fail(value, path, "Member must not be null");
        } else {
            self.check(shape_name, value, path, apply_pattern);
        }
    }

    fn check_number(
        &mut self,
        value: &Value,
        path: &str,
        min: Option<i64>,
        max: Option<i64>,
        int32: bool,
    ) {
        let n = value
            .as_i64()
            .filter(|n| !int32 || i32::try_from(*n).is_ok());
        let Some(n) = n else {
            let kind = if int32 { "an integer" } else { "a long" };
            return self.fail(value, path, &format!("Member must be {kind}"));
        };
        if let Some(min) = min.filter(|&min| n < min) {
            self.fail(
                value,
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max.filter(|&max| n > max) {
            self.fail(
                value,
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    fn check_size(
        &mut self,
        value: &Value,
        path: &str,
        len: usize,
        min: Option<i64>,
        max: Option<i64>,
    ) {
        for constraint in length_violations(len, min, max) {
            self.fail(value, path, &constraint);
        }
    }
}

/// The violated constraints of a string value, as `Member must ...` phrases.
fn string_violations(s: &Shape, text: &str, apply_pattern: bool) -> Vec<String> {
    let Shape::String {
        min,
        max,
        pattern,
        enum_values,
    } = *s
    else {
        return Vec::new();
    };
    // Unicode scalar values; AWS (Java) counts UTF-16 code units, which differs only for
    // characters outside the Basic Multilingual Plane.
    let mut out = length_violations(text.chars().count(), min, max);
    if let Some(p) = pattern.filter(|_| apply_pattern)
        && PATTERNS.get(p).is_some_and(|re| !re.is_match(text))
    {
        out.push(format!(
            "Member must satisfy regular expression pattern: {p}"
        ));
    }
    if !enum_values.is_empty() && !enum_values.contains(&text) {
        out.push(format!(
            "Member must satisfy enum value set: [{}]",
            enum_values.join(", ")
        ));
    }
    out
}

fn length_violations(len: usize, min: Option<i64>, max: Option<i64>) -> Vec<String> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let mut out = Vec::new();
    if let Some(min) = min.filter(|&min| len < min) {
        out.push(format!(
            "Member must have length greater than or equal to {min}"
        ));
    }
    if let Some(max) = max.filter(|&max| len > max) {
        out.push(format!(
            "Member must have length less than or equal to {max}"
        ));
    }
    out
}

fn is_timestamp(value: &Value) -> bool {
    match value {
        Value::String(s) => crate::time::parse(s).is_some(),
        Value::Number(n) => n
            .as_f64()
            .and_then(crate::time::from_epoch_seconds)
            .is_some(),
        _ => false,
    }
}

fn join(path: &str, segment: &str) -> String {
    if path.is_empty() {
        segment.to_owned()
    } else {
        format!("{path}.{segment}")
    }
}

/// `'text'` for scalars, `null`, or the compact JSON of a list or map in quotes.
fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::String(s) => format!("'{s}'"),
        other => format!("'{other}'"),
    }
}

#[cfg(test)]
mod tests;
