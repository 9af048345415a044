//! Emits `seqstore-api/src/generated/service.rs`: the `OmicsStorage` trait (one method per
//! operation) and `dispatch`, which feeds a bound input document to the right method.

use anyhow::Result;

use crate::docs::summary;
use crate::model::Scope;
use crate::naming::{snake_case, str_lit};

/// How one operation looks from the trait's side.
struct OpSig<'a> {
    name: &'a str,
    method: String,
    input: &'a str,
    /// `None` for operations without an output shape.
    output: Option<&'a str>,
    streaming_input: bool,
    streaming_output: bool,
    success_code: u16,
}

fn signature<'a>(scope: &'a Scope, name: &'a str) -> OpSig<'a> {
    let op = scope.operation(name);
    let input = op
        .input
        .as_ref()
        .map(|r| r.shape.as_str())
        .expect("checked by model::select");
    let output = op.output.as_ref().map(|r| r.shape.as_str());
    let streams = |s: &str| {
        scope
            .shape(s)
            .payload
            .as_deref()
            .is_some_and(|p| scope.is_streaming_payload(s, p))
    };
    OpSig {
        name,
        method: snake_case(name),
        input,
        output,
        streaming_input: streams(input),
        streaming_output: output.is_some_and(streams),
        success_code: op.http.response_code.unwrap_or(200),
    }
}

impl OpSig<'_> {
    fn return_type(&self) -> String {
        match self.output {
            _ if self.streaming_output => "BlobResponse".to_owned(),
            Some(o) => format!("model::{o}"),
            None => "()".to_owned(),
        }
    }

    /// The parameter list after `&self`.
    fn params(&self) -> String {
        let mut p = format!("ctx: &RequestContext, input: model::{}", self.input);
        if self.streaming_input {
            p.push_str(", body: BodyStream");
        }
        p
    }

    /// The argument names, comma-separated.
    fn args(&self) -> &'static str {
        if self.streaming_input {
            "ctx, input, body"
        } else {
            "ctx, input"
        }
    }
}

/// The text of `service.rs` (before rustfmt).
pub fn emit(scope: &Scope) -> Result<String> {
    let sigs: Vec<OpSig<'_>> = scope
        .operations
        .iter()
        .map(|o| signature(scope, o))
        .collect();
    let mut out = scope.header();
    emit!(
        out,
        "//! The storage service trait and the dispatch from a routed, bound request to it."
    );
    emit!(out);
    emit!(out, "use seqstore_model as model;");
    emit!(out, "use seqstore_model::Operation;");
    emit!(out);
    emit!(
        out,
        "use crate::wire::{{ApiError, BlobResponse, BodyStream, RequestContext, WireResponse, from_input}};"
    );
    emit!(out);
    emit!(
        out,
        "/// The storage operations; every method answers `NotSupportedOperationException` until"
    );
    emit!(out, "/// a backend overrides it.");
    emit!(out, "#[async_trait::async_trait]");
    emit!(out, "pub trait OmicsStorage: Send + Sync {{");
    for sig in &sigs {
        let doc = summary(
            scope.operation(sig.name).documentation.as_deref(),
            &format!("`{}`.", sig.name),
        );
        emit!(out, "    /// {doc}");
        emit!(
            out,
            "    async fn {}(&self, {}) -> Result<{}, ApiError> {{",
            sig.method,
            sig.params(),
            sig.return_type()
        );
        // The defaults use no argument; discarding them keeps the documented names.
        emit!(out, "        let _ = ({});", sig.args());
        emit!(
            out,
            "        Err(ApiError::not_implemented({}))",
            str_lit(sig.name)
        );
        emit!(out, "    }}");
        emit!(out);
    }
    emit!(out, "}}");
    emit!(out);
    emit!(
        out,
        "/// Deserializes the bound `input` into the operation's input shape, calls the service and"
    );
    emit!(
        out,
        "/// turns the output into the success answer (`body` is only read by streaming uploads)."
    );
    emit!(out, "pub async fn dispatch(");
    emit!(out, "    service: &dyn OmicsStorage,");
    emit!(out, "    ctx: &RequestContext,");
    emit!(out, "    operation: Operation,");
    emit!(out, "    input: serde_json::Value,");
    emit!(out, "    body: BodyStream,");
    emit!(out, ") -> Result<WireResponse, ApiError> {{");
    if !sigs.iter().any(|s| s.streaming_input) {
        emit!(out, "    drop(body);");
    }
    emit!(out, "    match operation {{");
    for sig in &sigs {
        let args = sig.args();
        emit!(out, "        Operation::{} => {{", sig.name);
        emit!(
            out,
            "            let input: model::{} = from_input(input)?;",
            sig.input
        );
        let call = format!("service.{}({args}).await?", sig.method);
        if sig.streaming_output {
            emit!(out, "            Ok(WireResponse::Blob({call}))");
        } else if sig.success_code == 204 || sig.output.is_none() {
            emit!(out, "            {call};");
            emit!(
                out,
                "            Ok(WireResponse::empty({}))",
                sig.success_code
            );
        } else {
            emit!(out, "            let output = {call};");
            emit!(
                out,
                "            WireResponse::json({}, &output)",
                sig.success_code
            );
        }
        emit!(out, "        }}");
    }
    emit!(out, "    }}");
    emit!(out, "}}");
    Ok(out)
}
