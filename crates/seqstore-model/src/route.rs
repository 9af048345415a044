//! Maps (method, raw path) to an operation and its decoded path labels (spec §A.2, §A.3).
//!
//! Routing never looks at the Host header: botocore prepends `control-storage-`, `storage-`
//! or `tags-` to it, or not, depending on client settings.

use std::sync::LazyLock;

use percent_encoding::percent_decode_str;

use crate::generated::schema::{OPERATIONS, Operation};

/// A routed request: the operation and its path labels, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The operation the method and path select.
    pub operation: Operation,
    /// `(label name, decoded value)` in template order, e.g. `("id", "1234567890")`.
    pub labels: Vec<(&'static str, String)>,
}

#[derive(Debug)]
enum Segment {
    Literal(&'static str),
    Label(&'static str),
}

#[derive(Debug)]
struct Template {
    operation: Operation,
    method: &'static str,
    segments: Vec<Segment>,
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    OPERATIONS
        .iter()
        .map(|def| Template {
            operation: def.operation,
            method: def.method,
            segments: split(def.request_uri)
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(label) => Segment::Label(label),
                        None => Segment::Literal(s),
                    },
                )
                .collect(),
        })
        .collect()
});

/// The segments of a path without its query; `/a/b` → `a`, `b`.
fn split(path: &str) -> impl Iterator<Item = &str> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.strip_prefix('/').unwrap_or(path).split('/')
}

impl Template {
    /// Literal segments compare exactly; labels take any non-empty raw segment.
    fn matches(&self, raw: &[&str]) -> bool {
        self.segments.len() == raw.len()
            && self.segments.iter().zip(raw).all(|(t, r)| match t {
                Segment::Literal(l) => l == r,
                Segment::Label(_) => !r.is_empty(),
            })
    }
}

/// The operation for `method` and `raw_path` (still percent-encoded; a trailing query is
/// ignored). The path is split on `/` before decoding, so `%2F` inside an ARN survives.
pub fn route(method: &str, raw_path: &str) -> Option<Route> {
    if !raw_path.starts_with('/') {
        return None;
    }
    let raw: Vec<&str> = split(raw_path).collect();
    let template = TEMPLATES
        .iter()
        .find(|t| t.method == method && t.matches(&raw))?;
    let labels = template
        .segments
        .iter()
        .zip(&raw)
        .filter_map(|(t, r)| match t {
            Segment::Label(name) => Some((
                *name,
                percent_decode_str(r).decode_utf8_lossy().into_owned(),
            )),
            Segment::Literal(_) => None,
        })
        .collect();
    Some(Route {
        operation: template.operation,
        labels,
    })
}

/// Whether some operation has this path with any method: lets the HTTP layer tell a wrong
/// method from an unknown path.
pub fn path_matches_any(raw_path: &str) -> bool {
    if !raw_path.starts_with('/') {
        return false;
    }
    let raw: Vec<&str> = split(raw_path).collect();
    TEMPLATES.iter().any(|t| t.matches(&raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path for `template` with label `name` filled in as `value-of-name`-like test data.
    fn fill(template: &str, value: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for seg in split(template) {
            out.push('/');
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(label) => out.push_str(&value(label)),
                None => out.push_str(seg),
            }
        }
        out
    }

    #[test]
    fn routes_every_operation_from_its_template() {
        assert_eq!(OPERATIONS.len(), 41);
        for def in OPERATIONS {
            let path = fill(def.request_uri, |label| format!("{label}-0123456789"));
            let route = route(def.method, &path)
                .unwrap_or_else(|| panic!("{} {path} did not route", def.name));
            assert_eq!(route.operation, def.operation, "{} {path}", def.method);
            for (name, value) in &route.labels {
                assert_eq!(value, &format!("{name}-0123456789"));
            }
            let expected = def.request_uri.matches('{').count();
            assert_eq!(route.labels.len(), expected, "{}", def.name);
            assert!(path_matches_any(&path));
        }
    }

    #[test]
    fn routes_with_a_query_string_attached() {
        let r = route(
            "GET",
            "/sequencestore/1234567890/readset/0987654321?partNumber=1&file=SOURCE1",
        )
        .unwrap();
        assert_eq!(r.operation, Operation::GetReadSet);
        assert_eq!(
            r.labels,
            vec![
                ("sequenceStoreId", "1234567890".to_owned()),
                ("id", "0987654321".to_owned())
            ]
        );
    }

    #[test]
    fn decodes_labels_after_splitting() {
        let path =
            "/tags/arn%3Aaws%3Aomics%3Aus-east-1%3A123456789012%3AsequenceStore%2F1234567890";
        for (method, op) in [
            ("GET", Operation::ListTagsForResource),
            ("POST", Operation::TagResource),
            ("DELETE", Operation::UntagResource),
        ] {
            let r = route(method, path).unwrap();
            assert_eq!(r.operation, op);
            assert_eq!(
                r.labels,
                vec![(
                    "resourceArn",
                    "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890".to_owned()
                )]
            );
        }
    }

    #[test]
    fn similar_paths_are_told_apart_by_method_and_length() {
        let r = route("POST", "/sequencestore/1234567890/readset/batch/delete").unwrap();
        assert_eq!(r.operation, Operation::BatchDeleteReadSet);
        let r = route("GET", "/sequencestore/1234567890/readset/batch").unwrap();
        assert_eq!(
            r.operation,
            Operation::GetReadSet,
            "`batch` is a read set id here"
        );
        let r = route("GET", "/sequencestore/1234567890/readset/1/metadata").unwrap();
        assert_eq!(r.operation, Operation::GetReadSetMetadata);
    }

    #[test]
    fn unknown_paths_and_methods_do_not_route() {
        assert_eq!(route("GET", "/nothing/here"), None);
        assert_eq!(route("GET", "/"), None);
        assert_eq!(route("GET", ""), None);
        assert_eq!(
            route("GET", "/sequencestore/"),
            None,
            "labels are never empty"
        );
        assert_eq!(route("GET", "/sequencestore/1234567890/"), None);
        assert_eq!(
            route("GET", "/SequenceStore/1234567890"),
            None,
            "literals are case-sensitive"
        );
        assert!(!path_matches_any("/nothing/here"));
        // A known path with the wrong method: no route, but the path exists.
        assert_eq!(route("PUT", "/sequencestore/1234567890"), None);
        assert!(path_matches_any("/sequencestore/1234567890"));
        assert_eq!(
            route("get", "/sequencestore/1234567890"),
            None,
            "methods are case-sensitive"
        );
    }

    #[test]
    fn each_generated_path_routes_to_exactly_one_operation() {
        for def in OPERATIONS {
            let path = fill(def.request_uri, |_| "x".to_owned());
            let raw: Vec<&str> = split(&path).collect();
            let hits: Vec<_> = TEMPLATES
                .iter()
                .filter(|t| t.method == def.method && t.matches(&raw))
                .map(|t| t.operation)
                .collect();
            assert_eq!(hits, vec![def.operation], "{} {path}", def.method);
        }
    }
}
