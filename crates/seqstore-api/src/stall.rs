//! Request body guards. A body must keep moving: one that sends nothing for a while is
//! dropped, so a stalled upload does not hold its connection, its buffers and its staging
//! forever. And a body left unread (a request refused before its body) is noted, so that the
//! answer closes the connection instead of leaving the client to reuse one that hyper drops.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// `inner`, failing once `stall` passes without a frame.
pub(crate) fn guard(inner: Body, stall: Duration) -> Body {
    Body::new(Stalling {
        inner,
        stall,
        deadline: Box::pin(tokio::time::sleep(stall)),
    })
}

struct Stalling {
    inner: Body,
    stall: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl HttpBody for Stalling {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = Instant::now() + self.stall;
                self.deadline.as_mut().reset(next);
                Poll::Ready(frame)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(format!(
                    "the request body sent nothing for {} s",
                    self.stall.as_secs()
                ))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// `inner`, and a flag that is set once it has been read to its end (at once when it is
/// empty).
pub(crate) fn track(inner: Body) -> (Body, Arc<AtomicBool>) {
    let ended = Arc::new(AtomicBool::new(inner.is_end_stream()));
    let body = Body::new(Tracked {
        inner,
        ended: ended.clone(),
    });
    (body, ended)
}

struct Tracked {
    inner: Body,
    ended: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let frame = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(frame, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.ended.store(true, Ordering::Relaxed);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
