//! Emits `seqstore-model/src/generated/shapes.rs`: one Rust type per structure and enum shape.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use crate::docs::summary;
use crate::model::Scope;
use crate::naming::{field_name, str_lit, variant_name};
use crate::overrides::optional_despite_required;

const TIMESTAMP: &str = "chrono::DateTime<chrono::Utc>";

/// The text of `shapes.rs` (before rustfmt).
pub fn emit(scope: &Scope) -> Result<String> {
    let mut out = scope.header();
    emit!(
        out,
        "//! Typed input, output and nested shapes of the storage operations."
    );
    emit!(out);
    let mut defaults = BTreeMap::new();
    for name in scope.shapes_of_kind("structure") {
        let shape = scope.shape(name);
        if shape.is_error() || scope.is_streaming_only(name) {
            continue;
        }
        emit_struct(scope, name, &mut defaults, &mut out)?;
    }
    for name in scope.shapes_of_kind("string") {
        if scope.shape(name).enum_values.is_some() {
            emit_enum(scope, name, &mut out);
        }
    }
    Ok(out)
}

/// The Rust type of a shape used as a field (or list/map element).
fn rust_type(scope: &Scope, name: &str) -> Result<String> {
    let shape = scope.shape(name);
    Ok(match shape.kind.as_str() {
        "string" if shape.enum_values.is_some() => name.to_owned(),
        "string" => "String".to_owned(),
        "integer" => "i32".to_owned(),
        "long" => "i64".to_owned(),
        "boolean" => "bool".to_owned(),
        "timestamp"
            if shape
                .timestamp_format
                .as_deref()
                .is_none_or(|f| f == "iso8601") =>
        {
            TIMESTAMP.to_owned()
        }
        "structure" => name.to_owned(),
        "list" => {
            let member = &shape.member.as_ref().expect("list has a member").shape;
            if scope.shape(member).kind == "timestamp" {
                bail!(
                    "{name}: lists of timestamps need a serde helper the generator does not have"
                );
            }
            format!("Vec<{}>", rust_type(scope, member)?)
        }
        "map" => {
            let key = &shape.key.as_ref().expect("map has a key").shape;
            let value = &shape.value.as_ref().expect("map has a value").shape;
            if scope.shape(key).kind != "string" || scope.shape(value).kind == "timestamp" {
                bail!("{name}: only string-keyed maps of non-timestamp values are supported");
            }
            format!(
                "std::collections::BTreeMap<String, {}>",
                rust_type(scope, value)?
            )
        }
        other => bail!("{name}: shapes of type {other} are not supported as fields"),
    })
}

/// Whether the type of shape `name` implements `Default` (enums do not).
fn type_has_default(scope: &Scope, name: &str, memo: &mut BTreeMap<String, bool>) -> bool {
    let shape = scope.shape(name);
    match shape.kind.as_str() {
        "string" => shape.enum_values.is_none(),
        "structure" => struct_has_default(scope, name, memo),
        _ => true,
    }
}

/// A struct derives `Default` when every field type has one (optional fields always do).
fn struct_has_default(scope: &Scope, name: &str, memo: &mut BTreeMap<String, bool>) -> bool {
    if let Some(&known) = memo.get(name) {
        return known;
    }
    memo.insert(name.to_owned(), false); // breaks cycles conservatively
    let shape = scope.shape(name);
    let all = shape
        .members
        .iter()
        .filter(|(m, _)| !scope.is_streaming_payload(name, m))
        .all(|(m, member)| {
            !is_required(scope, name, m) || type_has_default(scope, &member.shape, memo)
        });
    memo.insert(name.to_owned(), all);
    all
}

fn is_required(scope: &Scope, structure: &str, member: &str) -> bool {
    scope.shape(structure).required.iter().any(|r| r == member)
        && !optional_despite_required(structure, member)
}

fn emit_struct(
    scope: &Scope,
    name: &str,
    defaults: &mut BTreeMap<String, bool>,
    out: &mut String,
) -> Result<()> {
    let shape = scope.shape(name);
    let derive_default = if struct_has_default(scope, name, defaults) {
        "Default, "
    } else {
        ""
    };
    emit!(
        out,
        "/// {}",
        summary(
            shape.documentation.as_deref(),
            &format!("The `{name}` shape.")
        )
    );
    emit!(
        out,
        "#[derive(Debug, Clone, PartialEq, {derive_default}serde::Serialize, serde::Deserialize)]"
    );
    emit!(out, "pub struct {name} {{");
    for (member_name, member) in &shape.members {
        if scope.is_streaming_payload(name, member_name) {
            continue; // the HTTP layer streams payload blobs
        }
        let ty = rust_type(scope, &member.shape)?;
        let is_timestamp = scope.shape(&member.shape).kind == "timestamp";
        let required = is_required(scope, name, member_name);
        let mut attrs = vec![format!("rename = {}", str_lit(member_name))];
        let field_ty = if required {
            if is_timestamp {
                attrs.push("with = \"crate::time::iso8601\"".to_owned());
            }
            ty
        } else {
            attrs.push("default".to_owned());
            attrs.push("skip_serializing_if = \"Option::is_none\"".to_owned());
            if is_timestamp {
                attrs.push("with = \"crate::time::iso8601_opt\"".to_owned());
            }
            format!("Option<{ty}>")
        };
        let fallback = format!("`{member_name}`.");
        emit!(
            out,
            "    /// {}",
            summary(member.documentation.as_deref(), &fallback)
        );
        if optional_despite_required(name, member_name) {
            emit!(out, "    ///");
            emit!(
                out,
                "    /// Required in the model but omitted when unknown (spec §E28), hence optional."
            );
        }
        emit!(out, "    #[serde({})]", attrs.join(", "));
        emit!(out, "    pub {}: {field_ty},", field_name(member_name));
    }
    emit!(out, "}}");
    emit!(out);
    Ok(())
}

fn emit_enum(scope: &Scope, name: &str, out: &mut String) {
    let shape = scope.shape(name);
    let values = shape.enum_values.as_deref().unwrap_or_default();
    emit!(
        out,
        "/// {}",
        summary(
            shape.documentation.as_deref(),
            &format!("The `{name}` enumeration.")
        )
    );
    emit!(
        out,
        "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]"
    );
    emit!(out, "pub enum {name} {{");
    for v in values {
        emit!(out, "    /// `{v}`");
        emit!(out, "    #[serde(rename = {})]", str_lit(v));
        emit!(out, "    {},", variant_name(v));
    }
    emit!(out, "}}");
    emit!(out);
    emit!(out, "impl {name} {{");
    emit!(out, "    /// Every value, in model order.");
    let all: Vec<String> = values
        .iter()
        .map(|v| format!("Self::{}", variant_name(v)))
        .collect();
    emit!(
        out,
        "    pub const ALL: &'static [Self] = &[{}];",
        all.join(", ")
    );
    emit!(out);
    emit!(out, "    /// The wire form of the value.");
    emit!(out, "    pub fn as_str(&self) -> &'static str {{");
    emit!(out, "        match self {{");
    for v in values {
        emit!(
            out,
            "            Self::{} => {},",
            variant_name(v),
            str_lit(v)
        );
    }
    emit!(out, "        }}");
    emit!(out, "    }}");
    emit!(out, "}}");
    emit!(out);
    emit!(out, "impl std::fmt::Display for {name} {{");
    emit!(
        out,
        "    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{"
    );
    emit!(out, "        f.write_str(self.as_str())");
    emit!(out, "    }}");
    emit!(out, "}}");
    emit!(out);
    emit!(out, "impl std::str::FromStr for {name} {{");
    emit!(out, "    type Err = crate::ParseEnumError;");
    emit!(out);
    emit!(
        out,
        "    fn from_str(s: &str) -> Result<Self, Self::Err> {{"
    );
    emit!(out, "        match s {{");
    for v in values {
        emit!(
            out,
            "            {} => Ok(Self::{}),",
            str_lit(v),
            variant_name(v)
        );
    }
    emit!(
        out,
        "            _ => Err(crate::ParseEnumError::new({}, s)),",
        str_lit(name)
    );
    emit!(out, "        }}");
    emit!(out, "    }}");
    emit!(out, "}}");
    emit!(out);
}
