//! Constraint checks against the pinned model, one behaviour per test.

use serde_json::{Value, json};

use super::*;

fn errors(shape_name: &str, doc: Value) -> Vec<String> {
    match validate(shape_name, &doc) {
        Ok(()) => Vec::new(),
        Err(e) => e.messages().to_vec(),
    }
}

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i:010}")).collect()
}

#[test]
fn every_model_pattern_compiles() {
    for (name, s) in SHAPES {
        if let Shape::String {
            pattern: Some(p), ..
        } = s
        {
            assert!(
                PATTERNS.contains_key(p),
                "pattern of {name} does not compile: {p}"
            );
        }
    }
}

#[test]
fn accepts_a_valid_document_and_ignores_unknown_members() {
    let doc = json!({
        "name": "my store",
        "description": "ünïcødé ✓ (test)",
        "fallbackLocation": "s3://my-bucket/prefix/",
        "eTagAlgorithmFamily": "SHA256up",
        "tags": {"a": "1", "empty": ""},
        "propagatedSetLevelTags": ["a"],
        "somethingNew": 42,
    });
    assert_eq!(
        errors("CreateSequenceStoreRequest", doc),
        Vec::<String>::new()
    );
}

#[test]
fn string_length_bounds() {
    assert_eq!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "x".repeat(128)})
        ),
        vec![format!(
            "Value '{}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 127",
            "x".repeat(128)
        )]
    );
    assert!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "x".repeat(127)})
        )
        .is_empty()
    );
    // Characters, not bytes: 127 two-byte letters are fine.
    assert!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "é".repeat(127)})
        )
        .is_empty()
    );
    assert_eq!(
        errors("GetSequenceStoreRequest", json!({"id": "123456789"})),
        vec![
            "Value '123456789' at 'id' failed to satisfy constraint: Member must have length greater than or equal to 10"
        ]
    );
}

#[test]
fn empty_string_reports_length_and_pattern() {
    assert_eq!(
        errors("CreateSequenceStoreRequest", json!({"name": ""})),
        vec![
            "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
            r"Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}||\p{M}||\p{Z}||\p{S}||\p{N}||\p{P}]+",
        ]
    );
}

#[test]
fn control_characters_fail_the_printable_pattern() {
    for bad in ["a\tb", "line\nbreak", "nul\u{0}"] {
        let e = errors("CreateSequenceStoreRequest", json!({"name": bad}));
        assert_eq!(e.len(), 1, "{bad:?}: {e:?}");
        assert!(
            e[0].contains("at 'name'") && e[0].contains("regular expression pattern"),
            "{e:?}"
        );
    }
}

#[test]
fn patterns_are_full_matches() {
    // `arn:.*` unanchored would accept any string containing "arn:".
    let doc = json!({"sequenceStoreId": "1234567890", "roleArn": "xarn:aws:iam::123456789012:role/r", "sources": []});
    let e = errors("StartReadSetImportJobRequest", doc);
    assert!(
        e.iter()
            .any(|m| m.starts_with("Value 'xarn:") && m.contains("pattern: arn:.*")),
        "{e:?}"
    );
    let digits_then_letters = errors("GetSequenceStoreRequest", json!({"id": "1234567890abc"}));
    assert_eq!(digits_then_letters.len(), 1, "{digits_then_letters:?}");
}

#[test]
fn s3_locations() {
    let fallback = |v: &str| {
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "n", "fallbackLocation": v}),
        )
    };
    assert!(
        fallback("").is_empty(),
        "empty fallbackLocation means none (spec §C.3)"
    );
    assert!(fallback("s3://my-bucket").is_empty());
    assert!(fallback("s3://my-bucket/").is_empty());
    assert!(fallback("s3://my-bucket/some/prefix/").is_empty());
    assert_eq!(
        fallback("s3://b").len(),
        1,
        "bucket names have at least 3 characters"
    );
    assert_eq!(fallback("http://my-bucket/").len(), 1);
    assert_eq!(fallback("s3://My-Bucket/").len(), 1);

    let source = |v: &str| {
        let doc = json!({"referenceStoreId": "1234567890", "roleArn": "arn:aws:iam::123456789012:role/r",
            "sources": [{"sourceFile": v, "name": "ref"}]});
        errors("StartReferenceImportJobRequest", doc)
    };
    assert!(source("s3://bucket/key.fa").is_empty());
    assert_eq!(source("s3://bucket/").len(), 1, "an S3Uri needs a key");
    assert_eq!(source("s3://b/key").len(), 1);
}

#[test]
fn enum_values() {
    assert_eq!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "n", "eTagAlgorithmFamily": "MD5"})
        ),
        vec![
            "Value 'MD5' at 'eTagAlgorithmFamily' failed to satisfy constraint: Member must satisfy enum value set: [MD5up, SHA256up, SHA512up]"
        ]
    );
    assert!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "n", "eTagAlgorithmFamily": "md5up"})
        )
        .len()
            == 1
    );
}

#[test]
fn numeric_ranges() {
    assert_eq!(
        errors("ListSequenceStoresRequest", json!({"maxResults": 0})),
        vec![
            "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
        ]
    );
    assert_eq!(
        errors("ListSequenceStoresRequest", json!({"maxResults": 101})),
        vec![
            "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        ]
    );
    assert!(errors("ListSequenceStoresRequest", json!({"maxResults": 100})).is_empty());
    assert_eq!(
        errors("ListSequenceStoresRequest", json!({"maxResults": 1.5})),
        vec!["Value '1.5' at 'maxResults' failed to satisfy constraint: Member must be an integer"]
    );
    assert_eq!(
        errors(
            "ListSequenceStoresRequest",
            json!({"maxResults": 4_294_967_296_i64})
        )
        .len(),
        1,
        "beyond i32"
    );
}

#[test]
fn list_lengths_and_elements() {
    let batch = |ids: Value| {
        errors(
            "BatchDeleteReadSetRequest",
            json!({"sequenceStoreId": "1234567890", "ids": ids}),
        )
    };
    assert_eq!(
        batch(json!([])),
        vec![
            "Value '[]' at 'ids' failed to satisfy constraint: Member must have length greater than or equal to 1"
        ]
    );
    assert!(batch(json!(ids(100))).is_empty());
    let too_many = batch(json!(ids(101)));
    assert_eq!(too_many.len(), 1);
    assert!(
        too_many[0].ends_with("Member must have length less than or equal to 100"),
        "{too_many:?}"
    );
    assert_eq!(
        batch(json!(["1234567890", "12", null])),
        vec![
            "Value '12' at 'ids.1' failed to satisfy constraint: Member must have length greater than or equal to 10",
            "Value null at 'ids.2' failed to satisfy constraint: Member must not be null",
        ]
    );
}

#[test]
fn map_entries_keys_and_values() {
    let tag = |tags: Value| {
        errors(
            "TagResourceRequest",
            json!({"resourceArn": "arn:aws:omics:x", "tags": tags}),
        )
    };
    let fifty_one: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let e = tag(Value::Object(fifty_one));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].contains("at 'tags'")
            && e[0].ends_with("Member must have length less than or equal to 50"),
        "{e:?}"
    );
    let long_key = "k".repeat(129);
    assert_eq!(
        tag(json!({ long_key.clone(): "v" })),
        vec![format!(
            "Value '{long_key}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128]"
        )]
    );
    assert_eq!(
        tag(json!({"k": "v".repeat(257)})),
        vec![format!(
            "Value '{}' at 'tags.k' failed to satisfy constraint: Member must have length less than or equal to 256",
            "v".repeat(257)
        )]
    );
    assert_eq!(
        tag(json!({"k": 1})),
        vec!["Value '1' at 'tags.k' failed to satisfy constraint: Member must be a string"]
    );
}

#[test]
fn required_members() {
    assert_eq!(
        errors("CreateSequenceStoreRequest", json!({})),
        vec!["Value null at 'name' failed to satisfy constraint: Member must not be null"]
    );
    assert_eq!(
        errors("CreateSequenceStoreRequest", json!({"name": null})),
        vec!["Value null at 'name' failed to satisfy constraint: Member must not be null"]
    );
    // An explicit null for an optional member is the same as leaving it out.
    assert!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "n", "description": null})
        )
        .is_empty()
    );
}

#[test]
fn wrong_json_types() {
    assert_eq!(
        errors("CreateSequenceStoreRequest", json!({"name": 5})),
        vec!["Value '5' at 'name' failed to satisfy constraint: Member must be a string"]
    );
    assert_eq!(
        errors(
            "BatchDeleteReadSetRequest",
            json!({"sequenceStoreId": "1234567890", "ids": "1234567890"})
        ),
        vec!["Value '1234567890' at 'ids' failed to satisfy constraint: Member must be a list"]
    );
    assert_eq!(
        errors("ListSequenceStoresRequest", json!({"filter": ["x"]})),
        vec![
            r#"Value '["x"]' at 'filter' failed to satisfy constraint: Member must be a structure"#
        ]
    );
    assert_eq!(
        errors(
            "CreateSequenceStoreRequest",
            json!({"name": "n", "tags": []})
        ),
        vec!["Value '[]' at 'tags' failed to satisfy constraint: Member must be a map"]
    );
    assert_eq!(
        errors(
            "ListSequenceStoresRequest",
            json!({"filter": {"createdAfter": "yesterday"}})
        ),
        vec![
            "Value 'yesterday' at 'filter.createdAfter' failed to satisfy constraint: Member must be a timestamp (RFC 3339 or epoch seconds)"
        ]
    );
    assert!(
        errors(
            "ListSequenceStoresRequest",
            json!({"filter": {"createdAfter": "2024-01-01T00:00:00Z"}})
        )
        .is_empty()
    );
    assert!(
        errors(
            "ListSequenceStoresRequest",
            json!({"filter": {"createdAfter": 1_704_067_200}})
        )
        .is_empty()
    );
}

#[test]
fn nested_paths() {
    let doc = json!({
        "sequenceStoreId": "1234567890",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "sources": [
            {"sourceFiles": {"source1": "s3://bucket/a.fq"}, "sourceFileType": "FASTQ", "subjectId": "s", "sampleId": "x"},
            {"sourceFiles": {"source1": "nope"}, "sourceFileType": "FASTQ", "subjectId": "s"},
        ],
    });
    let e = errors("StartReadSetImportJobRequest", doc);
    assert_eq!(
        e,
        vec![
            "Value 'nope' at 'sources.1.sourceFiles.source1' failed to satisfy constraint: Member must satisfy regular expression pattern: (s3://([a-z0-9][a-z0-9-.]{1,61}[a-z0-9])/(.{1,1024}))|(file:///.{1,1024})",
            "Value null at 'sources.1.sampleId' failed to satisfy constraint: Member must not be null",
        ]
    );
    let list_filter = errors(
        "ListSequenceStoresRequest",
        json!({"filter": {"name": "", "status": "GONE"}}),
    );
    assert_eq!(list_filter.len(), 3, "{list_filter:?}");
    assert!(
        list_filter
            .iter()
            .all(|m| m.contains("at 'filter.name'") || m.contains("at 'filter.status'"))
    );
}

#[test]
fn range_header_pattern_is_not_applied() {
    let get = |range: &str| {
        let doc = json!({"id": "1234567890", "referenceStoreId": "1234567890", "partNumber": 1, "range": range});
        errors("GetReferenceRequest", doc)
    };
    assert!(get("bytes=0-99").is_empty(), "spec §E11");
    assert_eq!(
        get(&"1".repeat(128)).len(),
        1,
        "the length limit still applies"
    );
}

#[test]
fn payload_members_are_not_required_in_the_document() {
    let doc = json!({"sequenceStoreId": "1234567890", "uploadId": "1234567890", "partSource": "SOURCE1", "partNumber": 1});
    assert!(errors("UploadReadSetPartRequest", doc).is_empty());
}

#[test]
fn display_counts_the_errors() {
    let one = validate("CreateSequenceStoreRequest", &json!({})).unwrap_err();
    assert_eq!(
        one.to_string(),
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );
    let two = validate(
        "ListSequenceStoresRequest",
        &json!({"maxResults": 0, "nextToken": ""}),
    )
    .unwrap_err();
    let text = two.to_string();
    assert!(
        text.starts_with("3 validation errors detected: Value '0' at 'maxResults'"),
        "{text}"
    );
    assert_eq!(text.matches("; ").count(), 2, "{text}");
}
