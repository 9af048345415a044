//! Binding HTTP request parts into input documents, as botocore sends them (spec §A.3).

use serde_json::json;

use super::*;
use crate::{
    CreateMultipartReadSetUploadRequest, GetReferenceRequest, ListReadSetsRequest, ReadSetStatus,
    UntagResourceRequest,
};

fn no_headers(_: &str) -> Option<String> {
    None
}

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn messages(e: ValidationErrors) -> Vec<String> {
    e.messages().to_vec()
}

#[test]
fn query_integers_labels_and_body() {
    let labels = [("sequenceStoreId", "1234567890".to_owned())];
    let query = q(&[
        ("maxResults", "5"),
        ("nextToken", "abc"),
        ("unknown", "ignored"),
    ]);
    let body = br#"{"filter": {"createdAfter": "2024-01-01T00:00:00Z", "status": "ACTIVE"}}"#;
    let doc = bind_input(Operation::ListReadSets, &labels, &query, &no_headers, body).unwrap();
    assert_eq!(
        doc,
        json!({"sequenceStoreId": "1234567890", "maxResults": 5, "nextToken": "abc",
               "filter": {"createdAfter": "2024-01-01T00:00:00Z", "status": "ACTIVE"}})
    );
    let input: ListReadSetsRequest = serde_json::from_value(doc).unwrap();
    assert_eq!(input.max_results, Some(5));
    assert_eq!(input.filter.unwrap().status, Some(ReadSetStatus::Active));
}

#[test]
fn unparseable_query_integer_names_the_member() {
    let labels = [("sequenceStoreId", "1234567890".to_owned())];
    let e = bind_input(
        Operation::ListReadSets,
        &labels,
        &q(&[("maxResults", "abc")]),
        &no_headers,
        b"",
    )
    .unwrap_err();
    assert_eq!(
        messages(e),
        vec!["Value 'abc' at 'maxResults' failed to satisfy constraint: Member must be an integer"]
    );
}

#[test]
fn repeated_query_keys_make_a_list() {
    let labels = [(
        "resourceArn",
        "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890".to_owned(),
    )];
    let query = q(&[("tagKeys", "a"), ("tagKeys", "b c")]);
    let doc = bind_input(Operation::UntagResource, &labels, &query, &no_headers, b"").unwrap();
    let input: UntagResourceRequest = serde_json::from_value(doc).unwrap();
    assert_eq!(input.tag_keys, vec!["a", "b c"]);
    assert_eq!(
        input.resource_arn,
        "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"
    );

    // botocore sends no key for `tagKeys=[]`; the required list binds as empty.
    let doc = bind_input(Operation::UntagResource, &labels, &[], &no_headers, b"").unwrap();
    assert_eq!(doc["tagKeys"], json!([]));
}

#[test]
fn range_header_and_part_number() {
    let labels = [
        ("referenceStoreId", "1234567890".to_owned()),
        ("id", "0987654321".to_owned()),
    ];
    let header = |name: &str| (name == "Range").then(|| "bytes=0-99".to_owned());
    let doc = bind_input(
        Operation::GetReference,
        &labels,
        &q(&[("partNumber", "1")]),
        &header,
        b"",
    )
    .unwrap();
    let input: GetReferenceRequest = serde_json::from_value(doc).unwrap();
    assert_eq!(input.range.as_deref(), Some("bytes=0-99"));
    assert_eq!(input.part_number, 1);
    assert_eq!(input.file, None);
}

#[test]
fn missing_required_query_member() {
    let labels = [
        ("sequenceStoreId", "1234567890".to_owned()),
        ("id", "0987654321".to_owned()),
    ];
    let e = bind_input(
        Operation::GetReadSet,
        &labels,
        &q(&[("file", "SOURCE3")]),
        &no_headers,
        b"",
    )
    .unwrap_err();
    assert_eq!(
        messages(e),
        vec![
            "Value 'SOURCE3' at 'file' failed to satisfy constraint: Member must satisfy enum value set: [SOURCE1, SOURCE2, INDEX]",
            "Value null at 'partNumber' failed to satisfy constraint: Member must not be null",
        ]
    );
}

#[test]
fn bad_bodies() {
    let e = bind_input(
        Operation::CreateSequenceStore,
        &[],
        &[],
        &no_headers,
        b"{not json",
    )
    .unwrap_err();
    assert_eq!(e.messages().len(), 1);
    assert!(
        e.to_string()
            .starts_with("1 validation error detected: Request body is not valid JSON"),
        "{e}"
    );
    let e = bind_input(
        Operation::CreateSequenceStore,
        &[],
        &[],
        &no_headers,
        b"[1, 2]",
    )
    .unwrap_err();
    assert_eq!(messages(e), vec!["Request body must be a JSON object"]);
}

#[test]
fn empty_body_is_an_empty_object() {
    let doc = bind_input(Operation::ListSequenceStores, &[], &[], &no_headers, b"").unwrap();
    assert_eq!(doc, json!({}));
    let e = bind_input(Operation::CreateSequenceStore, &[], &[], &no_headers, b"").unwrap_err();
    assert_eq!(
        messages(e),
        vec!["Value null at 'name' failed to satisfy constraint: Member must not be null"]
    );
}

#[test]
fn bodies_of_operations_without_body_members_are_ignored() {
    let labels = [("id", "1234567890".to_owned())];
    let doc = bind_input(
        Operation::GetSequenceStore,
        &labels,
        &[],
        &no_headers,
        b"garbage",
    )
    .unwrap();
    assert_eq!(doc, json!({"id": "1234567890"}));
}

#[test]
fn path_labels_win_over_body_keys() {
    let labels = [("sequenceStoreId", "1234567890".to_owned())];
    let body = br#"{"sequenceStoreId": "9999999999", "sourceFileType": "FASTQ", "subjectId": "s",
                    "sampleId": "x", "name": "n", "bogus": true}"#;
    let doc = bind_input(
        Operation::CreateMultipartReadSetUpload,
        &labels,
        &[],
        &no_headers,
        body,
    )
    .unwrap();
    let input: CreateMultipartReadSetUploadRequest = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(input.sequence_store_id, "1234567890");
    assert!(
        doc.get("bogus").is_none(),
        "unknown body members are dropped"
    );
}

#[test]
fn streaming_payload_is_left_to_the_http_layer() {
    let labels = [
        ("sequenceStoreId", "1234567890".to_owned()),
        ("uploadId", "1234567890".to_owned()),
    ];
    let query = q(&[("partSource", "SOURCE1"), ("partNumber", "3")]);
    let doc = bind_input(
        Operation::UploadReadSetPart,
        &labels,
        &query,
        &no_headers,
        b"raw part bytes",
    )
    .unwrap();
    assert_eq!(
        doc,
        json!({"sequenceStoreId": "1234567890", "uploadId": "1234567890", "partSource": "SOURCE1", "partNumber": 3})
    );
}
