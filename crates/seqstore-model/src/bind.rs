//! Builds the JSON input document of an operation from the parts of an HTTP request
//! (spec §A.3): path labels, query parameters, headers and the JSON body.

use serde_json::{Map, Value};

use crate::generated::schema::{Operation, shape};
use crate::schema_types::{Location, Member, Shape};
use crate::validate::{ValidationErrors, validate};

/// Collects every member of `operation`'s input shape into one JSON object, validates it,
/// and returns it ready for `serde_json::from_value::<GeneratedRequest>`.
///
/// `labels` are the decoded path labels of the route, `query` the decoded query pairs
/// (repeated keys allowed), `header` looks a header up case-insensitively. The body is only
/// read when the input has body members; payload members are left to the HTTP layer.
/// Query and header text that does not convert to the member's type (e.g. `maxResults=abc`)
/// is kept as a string, so the validator reports it with the member's name.
pub fn bind_input(
    operation: Operation,
    labels: &[(&str, String)],
    query: &[(String, String)],
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<Value, ValidationErrors> {
    let input = operation.def().input;
    let Some(Shape::Structure { members, required }) = shape(input) else {
        return Err(ValidationErrors::single(format!(
            "{input} is not a structure shape"
        )));
    };
    let mut body_object = if members.iter().any(|m| m.location == Location::Body) {
        parse_body(body)?
    } else {
        Map::new()
    };
    let mut doc = Map::new();
    for m in *members {
        let value = match m.location {
            Location::Body => body_object.remove(m.name).filter(|v| !v.is_null()),
            Location::Uri(label) => labels
                .iter()
                .find(|(n, _)| *n == label)
                .map(|(_, v)| Value::String(v.clone())),
            Location::Query(key) => from_query(m, key, query, required.contains(&m.name)),
            Location::Header(name) => header(name).map(|text| from_text(m.shape, text)),
            Location::Payload => None,
        };
        if let Some(value) = value {
            doc.insert(m.name.to_owned(), value);
        }
    }
    let doc = Value::Object(doc);
    validate(input, &doc)?;
    Ok(doc)
}

/// An empty body is `{}` (botocore sends no body when no body member is set); anything
/// else must be a JSON object.
fn parse_body(body: &[u8]) -> Result<Map<String, Value>, ValidationErrors> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ValidationErrors::single(
            "Request body must be a JSON object",
        )),
        Err(e) => Err(ValidationErrors::single(format!(
            "Request body is not valid JSON: {e}"
        ))),
    }
}

/// A query member: repeated keys for lists (`?tagKeys=a&tagKeys=b`), the first value otherwise.
fn from_query(
    member: &Member,
    key: &str,
    query: &[(String, String)],
    required: bool,
) -> Option<Value> {
    let mut values = query
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .peekable();
    match shape(member.shape) {
        Some(Shape::List { member: item, .. }) => {
            // botocore sends no key at all for an empty list (`untag_resource(tagKeys=[])`),
            // so for a required list absence can only mean "empty".
            if values.peek().is_none() && !required {
                return None;
            }
            Some(Value::Array(values.map(|v| from_text(item, v)).collect()))
        }
        _ => values.next().map(|v| from_text(member.shape, v)),
    }
}

/// Query and header text in the JSON form of the target shape.
fn from_text(shape_name: &str, text: String) -> Value {
    match shape(shape_name) {
        Some(Shape::Integer { .. } | Shape::Long { .. }) => text
            .trim()
            .parse::<i64>()
            .map_or(Value::String(text), Value::from),
        Some(Shape::Boolean) => match text.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        },
        _ => Value::String(text),
    }
}

#[cfg(test)]
mod tests;
