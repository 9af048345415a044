//! Loads the pinned botocore model and selects the storage subset of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

/// The host prefixes that make an operation part of the storage API (spec, scope paragraph).
pub const STORAGE_HOST_PREFIXES: &[&str] = &["control-storage-", "storage-", "tags-"];

/// The parts of `service-2.json` the generator reads.
#[derive(Debug, Deserialize)]
pub struct ServiceModel {
    pub metadata: Metadata,
    pub operations: BTreeMap<String, OperationModel>,
    pub shapes: BTreeMap<String, ShapeModel>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    pub endpoint_prefix: String,
    pub protocol: String,
}

#[derive(Debug, Deserialize)]
pub struct OperationModel {
    pub name: String,
    pub http: Http,
    pub input: Option<ShapeRef>,
    pub output: Option<ShapeRef>,
    #[serde(default)]
    pub errors: Vec<ShapeRef>,
    pub endpoint: Option<Endpoint>,
    pub documentation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Http {
    pub method: String,
    pub request_uri: String,
    pub response_code: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub host_prefix: String,
}

#[derive(Debug, Deserialize)]
pub struct ShapeRef {
    pub shape: String,
}

#[derive(Debug, Deserialize)]
pub struct ShapeModel {
    #[serde(rename = "type")]
    pub kind: String,
    /// Structure members in model order (the order the docs and the JSON bodies use).
    #[serde(default, deserialize_with = "ordered_members")]
    pub members: Vec<(String, MemberModel)>,
    #[serde(default)]
    pub required: Vec<String>,
    pub member: Option<ShapeRef>,
    pub key: Option<ShapeRef>,
    pub value: Option<ShapeRef>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub pattern: Option<String>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<String>>,
    pub error: Option<ErrorTrait>,
    #[serde(default)]
    pub exception: bool,
    pub payload: Option<String>,
    #[serde(default)]
    pub streaming: bool,
    #[serde(rename = "timestampFormat")]
    pub timestamp_format: Option<String>,
    pub documentation: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorTrait {
    pub http_status_code: u16,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberModel {
    pub shape: String,
    pub location: Option<String>,
    pub location_name: Option<String>,
    pub documentation: Option<String>,
}

/// Keeps the JSON object order of `members` without turning on serde_json's
/// `preserve_order` feature, which would change map ordering for the whole workspace.
fn ordered_members<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, MemberModel)>, D::Error> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, MemberModel)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of members")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = map.next_entry()? {
                out.push(entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Ordered)
}

impl ShapeModel {
    /// The member of a structure by its model name.
    pub fn member(&self, name: &str) -> Option<&MemberModel> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    pub fn is_error(&self) -> bool {
        self.exception || self.error.is_some()
    }
}

/// The model restricted to the storage operations and the shapes they reach.
#[derive(Debug)]
pub struct Scope {
    pub model: ServiceModel,
    /// Operation names, sorted.
    pub operations: Vec<String>,
    /// Every shape reachable from the operations' inputs, outputs and errors, sorted.
    pub shapes: BTreeSet<String>,
    /// The botocore version the model came from (`model/botocore/VERSION`).
    pub botocore_version: String,
}

impl Scope {
    pub fn operation(&self, name: &str) -> &OperationModel {
        &self.model.operations[name]
    }

    pub fn shape(&self, name: &str) -> &ShapeModel {
        &self.model.shapes[name]
    }

    /// Sorted names of the shapes of one kind (`structure`, `string`...).
    pub fn shapes_of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.shapes
            .iter()
            .map(String::as_str)
            .filter(move |n| self.shape(n).kind == kind)
    }

    /// Sorted names of the modeled error shapes used by the storage operations.
    pub fn error_shapes(&self) -> Vec<&str> {
        self.shapes
            .iter()
            .map(String::as_str)
            .filter(|n| self.shape(n).is_error())
            .collect()
    }

    /// True for a blob member that is the streaming HTTP payload of its structure.
    pub fn is_streaming_payload(&self, structure: &str, member: &str) -> bool {
        let s = self.shape(structure);
        s.payload.as_deref() == Some(member)
            && s.member(member)
                .is_some_and(|m| self.shape(&m.shape).streaming)
    }

    /// Structures whose only members are a streaming payload (`GetReadSetResponse`,
    /// `GetReferenceResponse`): the HTTP layer streams them, so they get no Rust type.
    pub fn is_streaming_only(&self, structure: &str) -> bool {
        let s = self.shape(structure);
        !s.members.is_empty()
            && s.members
                .iter()
                .all(|(m, _)| self.is_streaming_payload(structure, m))
    }

    /// The header line every generated file starts with.
    pub fn header(&self) -> String {
        format!(
            "// @generated by `cargo xtask codegen` from botocore {} {} {} service-2.json. DO NOT EDIT.\n",
            self.botocore_version,
            self.model.metadata.endpoint_prefix,
            self.model.metadata.api_version
        )
    }
}

/// Reads `model/botocore/service-2.json.gz` and `VERSION` under `root`.
pub fn load(root: &Path) -> Result<Scope> {
    let dir = root.join("model/botocore");
    let version_path = dir.join("VERSION");
    let botocore_version = std::fs::read_to_string(&version_path)
        .with_context(|| format!("reading {}", version_path.display()))?
        .trim()
        .to_owned();
    let gz_path = dir.join("service-2.json.gz");
    let file =
        std::fs::File::open(&gz_path).with_context(|| format!("opening {}", gz_path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .with_context(|| format!("decompressing {}", gz_path.display()))?;
    let model: ServiceModel =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", gz_path.display()))?;
    select(model, botocore_version)
}

/// Picks the storage operations and walks the shapes they reach.
pub fn select(model: ServiceModel, botocore_version: String) -> Result<Scope> {
    if model.metadata.protocol != "rest-json" {
        bail!(
            "expected a rest-json model, got {}",
            model.metadata.protocol
        );
    }
    let operations: Vec<String> = model
        .operations
        .iter()
        .filter(|(_, op)| {
            op.endpoint
                .as_ref()
                .is_some_and(|e| STORAGE_HOST_PREFIXES.contains(&e.host_prefix.as_str()))
        })
        .map(|(name, _)| name.clone())
        .collect();
    let mut shapes = BTreeSet::new();
    for name in &operations {
        let op = &model.operations[name];
        if &op.name != name {
            bail!("operation {name} is named {} inside", op.name);
        }
        let Some(input) = &op.input else {
            bail!("operation {name} has no input shape")
        };
        walk(&model, &input.shape, &mut shapes)?;
        if let Some(output) = &op.output {
            walk(&model, &output.shape, &mut shapes)?;
        }
        for e in &op.errors {
            walk(&model, &e.shape, &mut shapes)?;
        }
    }
    Ok(Scope {
        model,
        operations,
        shapes,
        botocore_version,
    })
}

fn walk(model: &ServiceModel, name: &str, seen: &mut BTreeSet<String>) -> Result<()> {
    if !seen.insert(name.to_owned()) {
        return Ok(());
    }
    let Some(shape) = model.shapes.get(name) else {
        bail!("shape {name} is referenced but not defined")
    };
    for (_, m) in &shape.members {
        walk(model, &m.shape, seen)?;
    }
    for r in [&shape.member, &shape.key, &shape.value]
        .into_iter()
        .flatten()
    {
        walk(model, &r.shape, seen)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        load(&crate::workspace_root()).expect("the pinned model loads")
    }

    #[test]
    fn selects_the_41_storage_operations() {
        let s = scope();
        assert_eq!(s.operations.len(), 41);
        assert!(s.operations.iter().any(|o| o == "UploadReadSetPart"));
        assert!(
            !s.operations.iter().any(|o| o == "StartRun"),
            "workflow ops are out of scope"
        );
    }

    #[test]
    fn keeps_member_order_of_the_model() {
        let s = scope();
        let names: Vec<&str> = s
            .shape("CreateSequenceStoreRequest")
            .members
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(&names[..3], ["name", "description", "sseConfig"]);
    }

    #[test]
    fn finds_the_ten_error_shapes_and_streaming_outputs() {
        let s = scope();
        assert_eq!(s.error_shapes().len(), 10);
        assert!(s.is_streaming_only("GetReadSetResponse"));
        assert!(!s.is_streaming_only("UploadReadSetPartRequest"));
        assert!(s.is_streaming_payload("UploadReadSetPartRequest", "payload"));
    }
}
