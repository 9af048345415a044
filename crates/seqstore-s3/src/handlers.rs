//! The read operations: each resolves the access point, asks the domain's policy, then maps
//! the source's answer to the s3s output types.

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use hyper::HeaderMap;
use hyper::header::{CONTENT_RANGE, ETAG, HeaderValue, LAST_MODIFIED};
use s3s::dto::{
    ETag, GetObjectInput, GetObjectOutput, GetObjectTaggingInput, GetObjectTaggingOutput,
    HeadBucketInput, HeadBucketOutput, HeadObjectInput, HeadObjectOutput, ListObjectsInput,
    ListObjectsOutput, ListObjectsV2Input, ListObjectsV2Output, StorageClass, StreamingBlob, Tag,
    Timestamp,
};
use s3s::{S3, S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

use crate::body::ExactBody;
use crate::conditions::{Conditions, Verdict};
use crate::error;
use crate::source::{AccessPoint, ObjectSource, S3Action, S3Caller, S3Object};

mod list;

/// The s3s operation handlers over an [`ObjectSource`].
pub(crate) struct ReadOnly {
    pub(crate) source: Arc<dyn ObjectSource>,
    pub(crate) region: String,
}

/// What a GetObject or HeadObject asks for, besides the key.
struct ReadRequest<'a> {
    conditions: Conditions<'a>,
    range: Option<&'a s3s::dto::Range>,
    part_number: Option<i32>,
}

/// The [`ReadRequest`] of a GetObject or HeadObject input (same fields, different types).
macro_rules! read_request {
    ($input:expr) => {
        ReadRequest {
            conditions: Conditions {
                if_match: $input.if_match.as_ref(),
                if_none_match: $input.if_none_match.as_ref(),
                if_modified_since: $input.if_modified_since.as_ref(),
                if_unmodified_since: $input.if_unmodified_since.as_ref(),
            },
            range: $input.range.as_ref(),
            part_number: $input.part_number,
        }
    };
}

/// A read that passed every check: the object and the byte range to send.
struct Read {
    ap: AccessPoint,
    info: S3Object,
    range: Option<Range<u64>>,
}

impl Read {
    /// Bytes the answer carries: the range, or the whole object.
    fn length(&self) -> u64 {
        self.range
            .as_ref()
            .map_or(self.info.size, |r| r.end - r.start)
    }
}

impl ReadOnly {
    /// Region check, access point, policy: the start of every operation.
    async fn open<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        action: S3Action,
        resource: &str,
    ) -> S3Result<AccessPoint> {
        if let Some(region) = &req.region
            && region.as_str() != self.region
        {
            return Err(error::wrong_region(region.as_str(), &self.region));
        }
        // Set by `ReadOnlyAccess`, which runs before every operation that reaches here.
        let principal = req
            .extensions
            .get::<S3Caller>()
            .ok_or_else(error::access_denied)?;
        let ap = self
            .source
            .access_point(bucket)
            .await
            .map_err(error::from_source)?
            // An unknown access point and another account's answer alike: no probing.
            .ok_or_else(error::access_denied)?;
        let allowed = self
            .source
            .authorize(&ap, principal, action, resource)
            .await
            .map_err(error::from_source)?;
        if !allowed {
            tracing::debug!(
                account = %principal.account_id,
                access_point = %ap.arn,
                %action,
                resource,
                "denied by policy"
            );
            return Err(error::access_denied());
        }
        Ok(ap)
    }

    /// Everything GetObject and HeadObject check before touching the bytes.
    async fn read<T>(
        &self,
        req: &S3Request<T>,
        bucket: &str,
        key: &str,
        ask: ReadRequest<'_>,
    ) -> S3Result<Read> {
        let ap = self.open(req, bucket, S3Action::GetObject, key).await?;
        let info = self
            .source
            .head(&ap, key)
            .await
            .map_err(error::from_source)?
            .ok_or_else(error::no_such_key)?;
        match ask
            .conditions
            .evaluate(&info.etag, info.last_modified().timestamp())
        {
            Verdict::Proceed => {}
            Verdict::PreconditionFailed => {
                return Err(S3Error::with_message(
                    S3ErrorCode::PreconditionFailed,
                    "At least one of the pre-conditions you specified did not hold",
                ));
            }
            Verdict::NotModified => {
                let mut e = S3Error::new(S3ErrorCode::NotModified);
                let mut headers = HeaderMap::new();
                headers.insert(ETAG, header_value(&quoted(&info.etag))?);
                headers.insert(LAST_MODIFIED, header_value(&http_date(&info))?);
                e.set_headers(headers);
                return Err(e);
            }
        }
        if let Some(n) = ask.part_number
            && n != 1
        {
            let mut e = S3Error::with_message(
                S3ErrorCode::Custom("InvalidPartNumber".into()),
                "The requested partnumber is not satisfiable",
            );
            e.set_status_code(hyper::StatusCode::RANGE_NOT_SATISFIABLE);
            return Err(e);
        }
        let range = match ask.range {
            None => None,
            Some(r) => Some(r.check(info.size).map_err(|_| {
                let mut e = S3Error::with_message(
                    S3ErrorCode::InvalidRange,
                    "The requested range is not satisfiable",
                );
                let mut headers = HeaderMap::new();
                if let Ok(v) = HeaderValue::try_from(format!("bytes */{}", info.size)) {
                    headers.insert(CONTENT_RANGE, v);
                }
                e.set_headers(headers);
                e
            })?),
        };
        Ok(Read { ap, info, range })
    }
}

fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

fn http_date(info: &S3Object) -> String {
    info.last_modified()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn header_value(text: &str) -> S3Result<HeaderValue> {
    HeaderValue::try_from(text).map_err(S3Error::internal_error)
}

fn etag(info: &S3Object) -> ETag {
    ETag::Strong(info.etag.clone())
}

fn timestamp(info: &S3Object) -> Timestamp {
    Timestamp::from(std::time::SystemTime::from(info.last_modified()))
}

/// `GLACIER` for archived objects; nothing (S3's way of saying `STANDARD`) otherwise.
fn storage_class(info: &S3Object) -> Option<StorageClass> {
    info.archived
        .then(|| StorageClass::from_static(StorageClass::GLACIER))
}

fn content_range(range: &Range<u64>, size: u64) -> String {
    format!("bytes {}-{}/{size}", range.start, range.end - 1)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A path-style request for `/arn:…:accesspoint/NAME/KEY` arrives split at the first `/`:
/// put the access point name back into the bucket.
fn rejoin_arn(bucket: String, key: String) -> (String, String) {
    if bucket.starts_with("arn:")
        && bucket.ends_with(":accesspoint")
        && let Some((name, rest)) = key.split_once('/')
    {
        return (format!("{bucket}/{name}"), rest.to_owned());
    }
    (bucket, key)
}

#[async_trait]
impl S3 for ReadOnly {
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = &req.input;
        let (bucket, key) = rejoin_arn(input.bucket.clone(), input.key.clone());
        let ask = read_request!(input);
        let read = self.read(&req, &bucket, &key, ask).await?;
        let length = read.length();
        let Read { ap, info, range } = read;
        if info.archived {
            return Err(error::archived());
        }
        let stream = self
            .source
            .get(&ap, &info, range.clone())
            .await
            .map_err(error::from_source)?
            .ok_or_else(error::no_such_key)?;
        let body = ExactBody::new(stream, length, &key);
        let output = GetObjectOutput {
            body: Some(StreamingBlob::new(body)),
            content_length: Some(to_i64(length)),
            content_range: range.as_ref().map(|r| content_range(r, info.size)),
            accept_ranges: Some("bytes".into()),
            content_type: Some("application/octet-stream".into()),
            e_tag: Some(etag(&info)),
            last_modified: Some(timestamp(&info)),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = &req.input;
        let (bucket, key) = rejoin_arn(input.bucket.clone(), input.key.clone());
        let ask = read_request!(input);
        let read = self.read(&req, &bucket, &key, ask).await?;
        let length = read.length();
        let Read { info, range, .. } = read;
        let output = HeadObjectOutput {
            content_length: Some(to_i64(length)),
            content_range: range.as_ref().map(|r| content_range(r, info.size)),
            accept_ranges: Some("bytes".into()),
            content_type: Some("application/octet-stream".into()),
            e_tag: Some(etag(&info)),
            last_modified: Some(timestamp(&info)),
            storage_class: storage_class(&info),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let (bucket, key) = rejoin_arn(req.input.bucket.clone(), req.input.key.clone());
        let ap = self
            .open(&req, &bucket, S3Action::GetObjectTagging, &key)
            .await?;
        let tags = self
            .source
            .tags(&ap, &key)
            .await
            .map_err(error::from_source)?
            .ok_or_else(error::no_such_key)?;
        let tag_set = tags
            .into_iter()
            .map(|(key, value)| Tag {
                key: Some(key),
                value: Some(value),
            })
            .collect();
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set,
            ..Default::default()
        }))
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let bucket = req.input.bucket.clone();
        self.open(&req, &bucket, S3Action::ListBucket, "").await?;
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(self.region.clone()),
            access_point_alias: Some(bucket.ends_with("-s3alias")),
            ..Default::default()
        }))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        list::list_objects_v2(self, req).await
    }

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        list::list_objects(self, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_style_arn_buckets_are_rejoined() {
        let (b, k) = rejoin_arn(
            "arn:aws:s3:us-east-1:999999999999:accesspoint".into(),
            "111122223333-1234567890/111122223333/sequenceStore/1/x.bam".into(),
        );
        assert_eq!(
            b,
            "arn:aws:s3:us-east-1:999999999999:accesspoint/111122223333-1234567890"
        );
        assert_eq!(k, "111122223333/sequenceStore/1/x.bam");
        let (b, k) = rejoin_arn("abc-s3alias".into(), "a/b".into());
        assert_eq!((b.as_str(), k.as_str()), ("abc-s3alias", "a/b"));
    }

    #[test]
    fn content_range_is_inclusive() {
        assert_eq!(content_range(&(0..10), 100), "bytes 0-9/100");
        assert_eq!(content_range(&(99..100), 100), "bytes 99-99/100");
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        use chrono::TimeZone;
        let info = S3Object {
            key: "k".into(),
            size: 0,
            etag: "e".into(),
            last_modified: chrono::Utc
                .with_ymd_and_hms(2024, 3, 5, 7, 8, 9)
                .unwrap()
                .into(),
            archived: false,
        };
        assert_eq!(http_date(&info), "Tue, 05 Mar 2024 07:08:09 GMT");
    }
}
