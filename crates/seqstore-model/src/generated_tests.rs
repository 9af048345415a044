//! Checks of the generated code against facts of the spec (§A.4, §A.5, §B, §C.1, §E28).

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::*;

#[test]
fn operation_table_is_in_enum_order() {
    assert_eq!(Operation::ALL.len(), 41);
    assert_eq!(OPERATIONS.len(), 41);
    for (i, op) in Operation::ALL.iter().enumerate() {
        assert_eq!(OPERATIONS[i].operation, *op);
        assert_eq!(op.def().name, op.name());
        assert_eq!(Operation::from_name(op.name()), Some(*op));
        assert!(shape(op.def().input).is_some_and(|s| matches!(s, Shape::Structure { .. })));
    }
    assert_eq!(Operation::from_name("StartRun"), None);
}

#[test]
fn operation_bindings_match_the_spec_table() {
    let d = Operation::TagResource.def();
    assert_eq!(
        (d.method, d.request_uri, d.success_code, d.host_prefix),
        ("POST", "/tags/{resourceArn}", 204, "tags-")
    );
    assert_eq!(Operation::UntagResource.def().success_code, 204);
    assert_eq!(Operation::ListTagsForResource.def().success_code, 200);
    let up = Operation::UploadReadSetPart.def();
    assert!(up.streaming_input && !up.streaming_output);
    assert_eq!(up.host_prefix, "storage-");
    assert!(Operation::GetReadSet.def().streaming_output);
    assert!(Operation::GetReference.def().streaming_output);
    let streaming: Vec<_> = OPERATIONS
        .iter()
        .filter(|d| d.streaming_input || d.streaming_output)
        .collect();
    assert_eq!(streaming.len(), 3);
    let prefixes = |p: &str| OPERATIONS.iter().filter(|d| d.host_prefix == p).count();
    assert_eq!(
        (
            prefixes("control-storage-"),
            prefixes("storage-"),
            prefixes("tags-")
        ),
        (34, 4, 3)
    );
    assert!(
        Operation::GetReadSet
            .def()
            .errors
            .contains(&"RangeNotSatisfiableException")
    );
}

#[test]
fn error_shapes_and_statuses() {
    assert_eq!(ErrorShape::ALL.len(), 10);
    assert_eq!(
        ErrorShape::ServiceQuotaExceededException.http_status(),
        402,
        "402 in the model, kept"
    );
    assert_eq!(ErrorShape::ValidationException.http_status(), 400);
    assert_eq!(
        ErrorShape::NotSupportedOperationException.http_status(),
        405
    );
    assert_eq!(ErrorShape::RangeNotSatisfiableException.http_status(), 416);
    assert_eq!(ErrorShape::InternalServerException.http_status(), 500);
    assert_eq!(
        ErrorShape::from_name("ThrottlingException"),
        Some(ErrorShape::ThrottlingException)
    );
    for op in OPERATIONS {
        for e in op.errors {
            assert!(ErrorShape::from_name(e).is_some(), "{}: {e}", op.name);
        }
    }
}

#[test]
fn shape_table_lookups() {
    assert_eq!(
        shape("SequenceStoreId"),
        Some(&Shape::String {
            min: Some(10),
            max: Some(36),
            pattern: Some("[0-9]+"),
            enum_values: &[]
        })
    );
    assert_eq!(
        shape("TagKeyList"),
        Some(&Shape::List {
            member: "TagKey",
            min: Some(0),
            max: Some(50)
        })
    );
    assert_eq!(shape("NoSuchShape"), None);
    let Some(Shape::Structure { members, .. }) = shape("GetReferenceRequest") else {
        panic!("structure")
    };
    let range = members.iter().find(|m| m.name == "range").unwrap();
    assert_eq!(range.location, Location::Header("Range"));
    assert!(
        SHAPES.windows(2).all(|w| w[0].0 < w[1].0),
        "sorted for binary search"
    );
}

#[test]
fn enums_round_trip_through_text_and_json() {
    assert_eq!(ETagAlgorithmFamily::Md5up.as_str(), "MD5up");
    assert_eq!(ETagAlgorithm::FastqMd5up.to_string(), "FASTQ_MD5up");
    assert_eq!(ReadSetFile::from_str("SOURCE1"), Ok(ReadSetFile::Source1));
    let err = FileType::from_str("SAM").unwrap_err();
    assert_eq!(err.to_string(), "'SAM' is not a valid FileType");
    assert_eq!(
        serde_json::to_value(ReadSetStatus::ProcessingUpload).unwrap(),
        json!("PROCESSING_UPLOAD")
    );
    assert_eq!(ReadSetStatus::ALL.len(), 7);
    for v in ReadSetActivationJobStatus::ALL {
        assert_eq!(ReadSetActivationJobStatus::from_str(v.as_str()), Ok(*v));
    }
    assert!(
        serde_json::from_value::<FileType>(json!("fastq")).is_err(),
        "values are case-sensitive"
    );
}

#[test]
fn outputs_serialize_with_model_names_and_millisecond_timestamps() {
    let out = CreateSequenceStoreResponse {
        id: "1234567890".into(),
        arn: "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890".into(),
        creation_time: Utc.with_ymd_and_hms(2024, 5, 1, 10, 11, 12).unwrap(),
        e_tag_algorithm_family: Some(ETagAlgorithmFamily::Md5up),
        sse_config: Some(SseConfig {
            r#type: EncryptionType::Kms,
            key_arn: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({
            "id": "1234567890",
            "arn": "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890",
            "creationTime": "2024-05-01T10:11:12.000Z",
            "eTagAlgorithmFamily": "MD5up",
            "sseConfig": {"type": "KMS"},
        })
    );
}

#[test]
fn e28_members_are_optional_and_omitted() {
    let item = MultipartReadSetUploadListItem {
        sequence_store_id: "1234567890".into(),
        upload_id: "1234567890".into(),
        source_file_type: FileType::Fastq,
        subject_id: "s".into(),
        sample_id: "x".into(),
        generated_from: None,
        reference_arn: None,
        name: None,
        description: None,
        tags: None,
        creation_time: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
    };
    let v = serde_json::to_value(&item).unwrap();
    assert!(
        v.get("referenceArn").is_none() && v.get("generatedFrom").is_none(),
        "{v}"
    );
    let resp: CreateMultipartReadSetUploadResponse = serde_json::from_value(json!({
        "sequenceStoreId": "1234567890", "uploadId": "1234567890", "sourceFileType": "FASTQ",
        "subjectId": "s", "sampleId": "x", "creationTime": "2024-01-01T00:00:00Z"
    }))
    .unwrap();
    assert_eq!(resp.reference_arn, None);
}

#[test]
fn inputs_deserialize_from_bound_documents() {
    let req: StartReadSetImportJobRequest = serde_json::from_value(json!({
        "sequenceStoreId": "1234567890",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "sources": [{"sourceFiles": {"source1": "s3://b-1/a.fq"}, "sourceFileType": "FASTQ",
                     "subjectId": "s", "sampleId": "x", "tags": {"k": "v"}}],
    }))
    .unwrap();
    assert_eq!(req.sources[0].source_files.source2, None);
    assert_eq!(req.sources[0].tags.as_ref().unwrap()["k"], "v");
    let filter: SequenceStoreFilter =
        serde_json::from_value(json!({"createdAfter": "2024-01-01T00:00:00.123456Z"})).unwrap();
    assert_eq!(
        filter.created_after.unwrap().timestamp_subsec_micros(),
        123_456
    );
}
