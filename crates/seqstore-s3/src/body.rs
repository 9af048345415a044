//! Response bodies that deliver exactly the promised `Content-Length`, streamed.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use s3s::StdError;
use s3s::stream::{ByteStream as S3sByteStream, RemainingLength};
use sync_wrapper::SyncWrapper;

use crate::source::ByteStream;

/// Wraps the domain's stream so that the body is exactly `length` bytes: extra bytes are cut
/// off, and a stream that ends short (or fails) ends the body with an error, which makes hyper
/// abort the connection instead of sending a truncated object as if it were whole.
pub(crate) struct ExactBody {
    // `SyncWrapper`: s3s bodies must be `Sync`; the domain's `BoxStream` is only `Send`.
    inner: SyncWrapper<ByteStream>,
    remaining: u64,
    key: String,
    /// The request's span: the body is polled after the handler returned, outside it.
    span: tracing::Span,
}

impl ExactBody {
    pub(crate) fn new(inner: ByteStream, length: u64, key: &str) -> Self {
        Self {
            inner: SyncWrapper::new(inner),
            remaining: length,
            key: key.to_owned(),
            span: tracing::Span::current(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("object {key} ended {missing} bytes short")]
struct ShortObject {
    key: String,
    missing: u64,
}

impl Stream for ExactBody {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let _span = this.span.enter();
        loop {
            if this.remaining == 0 {
                return Poll::Ready(None);
            }
            let next = futures::ready!(this.inner.get_mut().as_mut().poll_next(cx));
            return Poll::Ready(Some(match next {
                Some(Ok(mut chunk)) => {
                    if chunk.is_empty() {
                        continue;
                    }
                    if chunk.len() as u64 > this.remaining {
                        tracing::warn!(key = %this.key, "object stream is longer than its size; cut");
                        chunk.truncate(this.remaining as usize);
                    }
                    this.remaining -= chunk.len() as u64;
                    Ok(chunk)
                }
                Some(Err(err)) => {
                    tracing::warn!(key = %this.key, error = %err, "object stream failed mid-body");
                    this.remaining = 0;
                    Err(Box::new(err) as StdError)
                }
                None => {
                    let err = ShortObject {
                        key: this.key.clone(),
                        missing: this.remaining,
                    };
                    tracing::warn!(error = %err, "object stream ended early");
                    this.remaining = 0;
                    Err(Box::new(err) as StdError)
                }
            }));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

impl S3sByteStream for ExactBody {
    fn remaining_length(&self) -> RemainingLength {
        match usize::try_from(self.remaining) {
            Ok(n) => RemainingLength::new_exact(n),
            Err(_) => RemainingLength::unknown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{StreamExt, TryStreamExt};

    fn chunks(parts: &[&'static [u8]]) -> ByteStream {
        let items: Vec<std::io::Result<Bytes>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures::stream::iter(items).boxed()
    }

    async fn collect(body: ExactBody) -> Result<Vec<u8>, String> {
        let parts: Vec<Bytes> = body.try_collect().await.map_err(|e| e.to_string())?;
        Ok(parts.concat())
    }

    #[tokio::test]
    async fn exact_stream_passes_through_and_skips_empty_chunks() {
        let body = ExactBody::new(chunks(&[b"abc", b"", b"de"]), 5, "k");
        assert_eq!(body.remaining_length().exact(), Some(5));
        assert_eq!(collect(body).await.unwrap(), b"abcde");
    }

    #[tokio::test]
    async fn longer_stream_is_cut_at_the_length() {
        let body = ExactBody::new(chunks(&[b"abc", b"def"]), 4, "k");
        assert_eq!(collect(body).await.unwrap(), b"abcd");
    }

    #[tokio::test]
    async fn short_stream_ends_in_an_error() {
        let body = ExactBody::new(chunks(&[b"abc"]), 5, "a/key");
        let err = collect(body).await.unwrap_err();
        assert_eq!(err, "object a/key ended 2 bytes short");
    }

    #[tokio::test]
    async fn stream_error_ends_the_body() {
        let items: Vec<std::io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"ab")),
            Err(std::io::Error::other("disk gone")),
            Ok(Bytes::from_static(b"cd")),
        ];
        let mut body = ExactBody::new(futures::stream::iter(items).boxed(), 4, "k");
        assert_eq!(body.next().await.unwrap().unwrap(), "ab");
        assert_eq!(
            body.next().await.unwrap().unwrap_err().to_string(),
            "disk gone"
        );
        assert!(body.next().await.is_none());
    }

    #[tokio::test]
    async fn empty_object_is_an_empty_body() {
        let body = ExactBody::new(chunks(&[]), 0, "k");
        assert_eq!(body.remaining_length().exact(), Some(0));
        assert_eq!(collect(body).await.unwrap(), b"");
    }
}
