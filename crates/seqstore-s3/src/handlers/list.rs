//! ListObjectsV2 and ListObjects (V1) over [`crate::listing`].

use s3s::dto::{
    CommonPrefix, EncodingType, ListObjectsInput, ListObjectsOutput, ListObjectsV2Input,
    ListObjectsV2Output, Object, ObjectStorageClass,
};
use s3s::{S3Request, S3Response, S3Result};

use super::{ReadOnly, etag, timestamp, to_i64};
use crate::error;
use crate::listing::{self, MAX_KEYS, Page, Query, Resume};
use crate::source::{S3Action, S3Object};

pub(super) async fn list_objects_v2(
    svc: &ReadOnly,
    req: S3Request<ListObjectsV2Input>,
) -> S3Result<S3Response<ListObjectsV2Output>> {
    let input = &req.input;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max_keys = max_keys(input.max_keys)?;
    let encode = encoder(input.encoding_type.as_ref())?;
    let resume = match (&input.continuation_token, &input.start_after) {
        (Some(token), _) => Some(Resume::from_token(token).ok_or_else(|| {
            error::invalid_argument("The continuation token provided is incorrect")
        })?),
        (None, Some(after)) => Some(Resume::AfterKey(after.clone())),
        (None, None) => None,
    };
    let ap = svc
        .open(&req, &input.bucket, S3Action::ListBucket, &prefix)
        .await?;
    let query = Query {
        prefix: &prefix,
        delimiter: input.delimiter.as_deref(),
        resume,
        max_keys,
    };
    let page = listing::list_page(svc.source.as_ref(), &ap, &query)
        .await
        .map_err(error::from_source)?;
    let key_count = page.contents.len() + page.common_prefixes.len();
    let next = page
        .truncated
        .then(|| page.last.as_ref().map(Resume::to_token))
        .flatten();
    let (contents, common_prefixes) = entries(page, &encode);
    Ok(S3Response::new(ListObjectsV2Output {
        name: Some(input.bucket.clone()),
        prefix: Some(encode(&prefix)),
        delimiter: input.delimiter.as_deref().map(&encode),
        max_keys: Some(i32::try_from(max_keys).unwrap_or(i32::MAX)),
        key_count: Some(i32::try_from(key_count).unwrap_or(i32::MAX)),
        is_truncated: Some(next.is_some()),
        continuation_token: input.continuation_token.clone(),
        next_continuation_token: next,
        start_after: input.start_after.as_deref().map(&encode),
        encoding_type: input.encoding_type.clone(),
        contents,
        common_prefixes,
        ..Default::default()
    }))
}

pub(super) async fn list_objects(
    svc: &ReadOnly,
    req: S3Request<ListObjectsInput>,
) -> S3Result<S3Response<ListObjectsOutput>> {
    let input = &req.input;
    let prefix = input.prefix.clone().unwrap_or_default();
    let max_keys = max_keys(input.max_keys)?;
    let encode = encoder(input.encoding_type.as_ref())?;
    let ap = svc
        .open(&req, &input.bucket, S3Action::ListBucket, &prefix)
        .await?;
    let query = Query {
        prefix: &prefix,
        delimiter: input.delimiter.as_deref(),
        resume: input.marker.clone().map(Resume::AfterKey),
        max_keys,
    };
    let page = listing::list_page(svc.source.as_ref(), &ap, &query)
        .await
        .map_err(error::from_source)?;
    // S3 sends NextMarker only with a delimiter; without one, clients resume after the last key.
    let has_delimiter = input.delimiter.as_deref().is_some_and(|d| !d.is_empty());
    let next_marker = (page.truncated && has_delimiter)
        .then(|| match &page.last {
            Some(Resume::AfterKey(k) | Resume::AfterPrefix(k)) => Some(encode(k)),
            None => None,
        })
        .flatten();
    let truncated = page.truncated;
    let (contents, common_prefixes) = entries(page, &encode);
    Ok(S3Response::new(ListObjectsOutput {
        name: Some(input.bucket.clone()),
        prefix: Some(encode(&prefix)),
        marker: Some(input.marker.as_deref().map(&encode).unwrap_or_default()),
        delimiter: input.delimiter.as_deref().map(&encode),
        max_keys: Some(i32::try_from(max_keys).unwrap_or(i32::MAX)),
        is_truncated: Some(truncated),
        next_marker,
        encoding_type: input.encoding_type.clone(),
        contents,
        common_prefixes,
        ..Default::default()
    }))
}

/// `max-keys`: 1000 when absent, at most 1000, never negative.
fn max_keys(requested: Option<i32>) -> S3Result<usize> {
    match requested {
        None => Ok(MAX_KEYS),
        Some(n) => usize::try_from(n).map(|n| n.min(MAX_KEYS)).map_err(|_| {
            error::invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647")
        }),
    }
}

type Encoder = Box<dyn Fn(&str) -> String + Send + Sync>;

/// `encoding-type`: `url` percent-encodes keys and prefixes in the answer; nothing else is valid.
fn encoder(encoding: Option<&EncodingType>) -> S3Result<Encoder> {
    match encoding.map(EncodingType::as_str) {
        None => Ok(Box::new(str::to_owned)),
        Some(EncodingType::URL) => Ok(Box::new(listing::url_encode)),
        Some(_) => Err(error::invalid_argument(
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// `(Contents, CommonPrefixes)`, absent when empty as S3 sends them.
fn entries(page: Page, encode: &Encoder) -> (Option<Vec<Object>>, Option<Vec<CommonPrefix>>) {
    let contents: Vec<Object> = page.contents.iter().map(|o| object(o, encode)).collect();
    let prefixes: Vec<CommonPrefix> = page
        .common_prefixes
        .iter()
        .map(|p| CommonPrefix {
            prefix: Some(encode(p)),
        })
        .collect();
    (
        (!contents.is_empty()).then_some(contents),
        (!prefixes.is_empty()).then_some(prefixes),
    )
}

fn object(info: &S3Object, encode: &Encoder) -> Object {
    let class = if info.archived {
        ObjectStorageClass::GLACIER
    } else {
        ObjectStorageClass::STANDARD
    };
    Object {
        key: Some(encode(&info.key)),
        size: Some(to_i64(info.size)),
        e_tag: Some(etag(info)),
        last_modified: Some(timestamp(info)),
        storage_class: Some(ObjectStorageClass::from_static(class)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_keys_defaults_and_clamps() {
        assert_eq!(max_keys(None).unwrap(), 1000);
        assert_eq!(max_keys(Some(0)).unwrap(), 0);
        assert_eq!(max_keys(Some(7)).unwrap(), 7);
        assert_eq!(max_keys(Some(5000)).unwrap(), 1000);
        assert!(max_keys(Some(-1)).is_err());
    }

    #[test]
    fn only_url_encoding_is_accepted() {
        let url = EncodingType::from_static(EncodingType::URL);
        assert_eq!(encoder(Some(&url)).unwrap()("a b"), "a%20b");
        assert_eq!(encoder(None).unwrap()("a b"), "a b");
        let other = EncodingType::from_static("base64");
        assert!(encoder(Some(&other)).is_err());
    }
}
