//! Emits `seqstore-model/src/generated/schema.rs`: the operation table, the constraint table
//! of every reachable shape and the modeled error shapes, as static data.

use crate::overrides::pattern_override;
use anyhow::{Result, bail};

use crate::docs::summary;
use crate::model::Scope;
use crate::naming::str_lit;

/// The text of `schema.rs` (before rustfmt).
pub fn emit(scope: &Scope) -> Result<String> {
    let mut out = scope.header();
    emit!(
        out,
        "//! Static schema of the storage operations: operations, shape constraints, error shapes."
    );
    emit!(out);
    emit!(
        out,
        "use crate::schema_types::{{Location, Member, OperationDef, Shape}};"
    );
    emit!(out);
    emit!(out, "/// The botocore release the model was taken from.");
    emit!(
        out,
        "pub const BOTOCORE_VERSION: &str = {};",
        str_lit(&scope.botocore_version)
    );
    emit!(out, "/// The Omics API version of the model.");
    emit!(
        out,
        "pub const API_VERSION: &str = {};",
        str_lit(&scope.model.metadata.api_version)
    );
    emit!(out);
    emit_operation_enum(scope, &mut out);
    emit_operation_table(scope, &mut out)?;
    emit_shape_table(scope, &mut out)?;
    emit_errors(scope, &mut out);
    Ok(out)
}

fn emit_operation_enum(scope: &Scope, out: &mut String) {
    emit!(out, "/// A storage operation of the Omics model.");
    emit!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    );
    emit!(out, "pub enum Operation {{");
    for name in &scope.operations {
        let op = scope.operation(name);
        emit!(
            out,
            "    /// {}",
            summary(op.documentation.as_deref(), &format!("`{name}`."))
        );
        emit!(out, "    {name},");
    }
    emit!(out, "}}");
    emit!(out);
    emit!(out, "impl Operation {{");
    emit!(
        out,
        "    /// Every operation, sorted by name (the order of [`OPERATIONS`])."
    );
    let all: Vec<String> = scope
        .operations
        .iter()
        .map(|o| format!("Self::{o}"))
        .collect();
    emit!(
        out,
        "    pub const ALL: &'static [Self] = &[{}];",
        all.join(", ")
    );
    emit!(out);
    emit!(out, "    /// The model name, e.g. `CreateSequenceStore`.");
    emit!(out, "    pub fn name(self) -> &'static str {{");
    emit!(out, "        match self {{");
    for name in &scope.operations {
        emit!(out, "            Self::{name} => {},", str_lit(name));
    }
    emit!(out, "        }}");
    emit!(out, "    }}");
    emit!(out);
    emit!(out, "    /// The HTTP binding and shapes of the operation.");
    emit!(out, "    pub fn def(self) -> &'static OperationDef {{");
    emit!(out, "        &OPERATIONS[self as usize]");
    emit!(out, "    }}");
    emit!(out);
    emit!(out, "    /// The operation with model name `name`.");
    emit!(out, "    pub fn from_name(name: &str) -> Option<Self> {{");
    emit!(
        out,
        "        Self::ALL.iter().copied().find(|op| op.name() == name)"
    );
    emit!(out, "    }}");
    emit!(out, "}}");
    emit!(out);
}

fn has_streaming_payload(scope: &Scope, structure: Option<&str>) -> bool {
    structure.is_some_and(|s| {
        scope
            .shape(s)
            .payload
            .as_deref()
            .is_some_and(|p| scope.is_streaming_payload(s, p))
    })
}

fn emit_operation_table(scope: &Scope, out: &mut String) -> Result<()> {
    emit!(
        out,
        "/// Every storage operation, in [`Operation::ALL`] order."
    );
    emit!(out, "pub static OPERATIONS: &[OperationDef] = &[");
    for name in &scope.operations {
        let op = scope.operation(name);
        let input = op
            .input
            .as_ref()
            .map(|r| r.shape.as_str())
            .expect("checked by model::select");
        let output = op.output.as_ref().map(|r| r.shape.as_str());
        let host_prefix = op
            .endpoint
            .as_ref()
            .map(|e| e.host_prefix.as_str())
            .unwrap_or_default();
        if op.http.request_uri.contains('?') || op.http.request_uri.contains('+') {
            bail!(
                "{name}: query literals and greedy labels in requestUri are not supported by the router"
            );
        }
        let mut errors: Vec<&str> = op.errors.iter().map(|e| e.shape.as_str()).collect();
        errors.sort_unstable();
        let errors: Vec<String> = errors.iter().map(|e| str_lit(e)).collect();
        emit!(out, "    OperationDef {{");
        emit!(out, "        operation: Operation::{name},");
        emit!(out, "        name: {},", str_lit(name));
        emit!(out, "        method: {},", str_lit(&op.http.method));
        emit!(
            out,
            "        request_uri: {},",
            str_lit(&op.http.request_uri)
        );
        emit!(out, "        host_prefix: {},", str_lit(host_prefix));
        emit!(
            out,
            "        success_code: {},",
            op.http.response_code.unwrap_or(200)
        );
        emit!(out, "        input: {},", str_lit(input));
        match output {
            Some(o) => emit!(out, "        output: Some({}),", str_lit(o)),
            None => emit!(out, "        output: None,"),
        }
        emit!(out, "        errors: &[{}],", errors.join(", "));
        emit!(
            out,
            "        streaming_input: {},",
            has_streaming_payload(scope, Some(input))
        );
        emit!(
            out,
            "        streaming_output: {},",
            has_streaming_payload(scope, output)
        );
        emit!(out, "    }},");
    }
    emit!(out, "];");
    emit!(out);
    Ok(())
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "None".to_owned(), |v| format!("Some({v})"))
}

fn emit_shape_table(scope: &Scope, out: &mut String) -> Result<()> {
    emit!(
        out,
        "/// Constraints of every shape the storage operations reach, sorted by name."
    );
    emit!(out, "pub static SHAPES: &[(&str, Shape)] = &[");
    for name in &scope.shapes {
        let s = scope.shape(name);
        let value = match s.kind.as_str() {
            "string" => {
                let values: Vec<String> =
                    s.enum_values.iter().flatten().map(|v| str_lit(v)).collect();
                format!(
                    "Shape::String {{ min: {}, max: {}, pattern: {}, enum_values: &[{}] }}",
                    opt(s.min),
                    opt(s.max),
                    opt(pattern_override(name).or(s.pattern.as_deref()).map(str_lit)),
                    values.join(", ")
                )
            }
            "integer" => format!(
                "Shape::Integer {{ min: {}, max: {} }}",
                opt(s.min),
                opt(s.max)
            ),
            "long" => format!("Shape::Long {{ min: {}, max: {} }}", opt(s.min), opt(s.max)),
            "boolean" => "Shape::Boolean".to_owned(),
            "timestamp" => "Shape::Timestamp".to_owned(),
            "blob" => "Shape::Blob".to_owned(),
            "list" => format!(
                "Shape::List {{ member: {}, min: {}, max: {} }}",
                str_lit(&s.member.as_ref().expect("list member").shape),
                opt(s.min),
                opt(s.max)
            ),
            "map" => format!(
                "Shape::Map {{ key: {}, value: {}, min: {}, max: {} }}",
                str_lit(&s.key.as_ref().expect("map key").shape),
                str_lit(&s.value.as_ref().expect("map value").shape),
                opt(s.min),
                opt(s.max)
            ),
            "structure" => structure(scope, name)?,
            other => bail!("{name}: shape type {other} is not supported"),
        };
        emit!(out, "    ({}, {value}),", str_lit(name));
    }
    emit!(out, "];");
    emit!(out);
    emit!(
        out,
        "/// The constraints of shape `name`, if the storage operations reach it."
    );
    emit!(out, "pub fn shape(name: &str) -> Option<&'static Shape> {{");
    emit!(
        out,
        "    SHAPES.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| &SHAPES[i].1)"
    );
    emit!(out, "}}");
    emit!(out);
    Ok(())
}

fn structure(scope: &Scope, name: &str) -> Result<String> {
    let s = scope.shape(name);
    let mut members = Vec::new();
    for (member_name, m) in &s.members {
        let location = if s.payload.as_deref() == Some(member_name.as_str()) {
            if !scope.is_streaming_payload(name, member_name) {
                bail!("{name}.{member_name}: non-streaming payload members are not supported");
            }
            "Location::Payload".to_owned()
        } else {
            let wire = str_lit(m.location_name.as_deref().unwrap_or(member_name));
            match m.location.as_deref() {
                None => "Location::Body".to_owned(),
                Some("uri") => format!("Location::Uri({wire})"),
                Some("querystring") => format!("Location::Query({wire})"),
                Some("header") => format!("Location::Header({wire})"),
                Some(other) => bail!("{name}.{member_name}: location {other} is not supported"),
            }
        };
        members.push(format!(
            "Member::new({}, {}, {location})",
            str_lit(member_name),
            str_lit(&m.shape)
        ));
    }
    let required: Vec<String> = s.required.iter().map(|r| str_lit(r)).collect();
    Ok(format!(
        "Shape::Structure {{ members: &[{}], required: &[{}] }}",
        members.join(", "),
        required.join(", ")
    ))
}

fn emit_errors(scope: &Scope, out: &mut String) {
    let errors = scope.error_shapes();
    emit!(
        out,
        "/// A modeled error shape; the code botocore maps to `client.exceptions.<name>`."
    );
    emit!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]"
    );
    emit!(out, "pub enum ErrorShape {{");
    for e in &errors {
        let doc = summary(scope.shape(e).documentation.as_deref(), &format!("`{e}`."));
        emit!(out, "    /// {doc}");
        emit!(out, "    {e},");
    }
    emit!(out, "}}");
    emit!(out);
    emit!(out, "impl ErrorShape {{");
    emit!(out, "    /// Every error shape, sorted by name.");
    let all: Vec<String> = errors.iter().map(|e| format!("Self::{e}")).collect();
    emit!(
        out,
        "    pub const ALL: &'static [Self] = &[{}];",
        all.join(", ")
    );
    emit!(out);
    emit!(out, "    /// The shape name, sent as `x-amzn-ErrorType`.");
    emit!(out, "    pub fn name(self) -> &'static str {{");
    emit!(out, "        match self {{");
    for e in &errors {
        emit!(out, "            Self::{e} => {},", str_lit(e));
    }
    emit!(out, "        }}");
    emit!(out, "    }}");
    emit!(out);
    emit!(
        out,
        "    /// The model's `error.httpStatusCode` (ServiceQuotaExceededException is 402 in the model)."
    );
    emit!(out, "    pub fn http_status(self) -> u16 {{");
    emit!(out, "        match self {{");
    for e in &errors {
        let status = scope
            .shape(e)
            .error
            .as_ref()
            .map_or(400, |t| t.http_status_code);
        emit!(out, "            Self::{e} => {status},");
    }
    emit!(out, "        }}");
    emit!(out, "    }}");
    emit!(out);
    emit!(out, "    /// The error shape with name `name`.");
    emit!(out, "    pub fn from_name(name: &str) -> Option<Self> {{");
    emit!(
        out,
        "        Self::ALL.iter().copied().find(|e| e.name() == name)"
    );
    emit!(out, "    }}");
    emit!(out, "}}");
}
