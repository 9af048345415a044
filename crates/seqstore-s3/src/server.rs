//! Serving HTTP/1.1 on a TCP listener with bounded connections: a header (and an idle
//! keep-alive) must arrive within a timeout, at most so many connections are open at once, and
//! shutdown is graceful. Both of seqstore's endpoints are served by it.

use std::error::Error as StdError;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use seqstore_core::telemetry::{Endpoint, Metrics, Operation};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// How long shutdown waits for requests in flight (a long download is cut off after this).
const DRAIN: Duration = Duration::from_secs(10);

/// What one listener allows its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers, and the next request on an idle keep-alive connection, must
    /// arrive within this; the connection is closed otherwise.
    pub header_timeout: Duration,
    /// Connections open at once; a connection beyond is closed as soon as it is accepted.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Accepts connections on `listener` until `shutdown` completes, then stops accepting and
/// lets requests in flight finish for up to 10 seconds.
///
/// Connection errors are the client's business (htslib drops the connection as soon as it has
/// the bytes it wants) and are logged at debug level only.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()>
where
    S: hyper::service::Service<hyper::Request<Incoming>, Response = hyper::Response<B>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = limits.max_connections, "too many connections; closing a new one");
            drop(stream);
            continue;
        };
        // Small answers (a 64 KiB range, an error, a HEAD) go out at once instead of waiting
        // for the client's delayed ACK.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
        }
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended early");
            }
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN:?}; stopping anyway");
    }
    Ok(())
}

/// A service whose requests are counted in `metrics` under `endpoint`: each answer by the
/// [`Operation`] its edge put in its extensions (`unknown` otherwise) and status, with the time
/// to its head; request bytes as `Content-Length` declares them; response bytes as they go out.
#[derive(Debug, Clone)]
pub struct Metered<S> {
    inner: S,
    metrics: Arc<Metrics>,
    endpoint: Endpoint,
}

impl<S> Metered<S> {
    /// Counts `inner`'s requests.
    pub fn new(inner: S, metrics: Arc<Metrics>, endpoint: Endpoint) -> Self {
        Self {
            inner,
            metrics,
            endpoint,
        }
    }
}

impl<S, B> hyper::service::Service<hyper::Request<Incoming>> for Metered<S>
where
    S: hyper::service::Service<hyper::Request<Incoming>, Response = hyper::Response<B>>,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
{
    type Response = hyper::Response<MeteredBody<B>>;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn call(&self, request: hyper::Request<Incoming>) -> Self::Future {
        let started = std::time::Instant::now();
        let (metrics, endpoint) = (Arc::clone(&self.metrics), self.endpoint);
        let declared = request
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if let Some(n) = declared {
            metrics.bytes_in(endpoint, n);
        }
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            let operation = response
                .extensions()
                .get::<Operation>()
                .map_or("unknown", |o| o.0);
            let status = response.status().as_u16();
            metrics.request(endpoint, operation, status, started.elapsed());
            Ok(response.map(|body| {
                let count: CountFrame<B::Data> = Box::new(move |frame| {
                    if let Some(data) = frame.data_ref() {
                        metrics.bytes_out(endpoint, bytes::Buf::remaining(data) as u64);
                    }
                    frame
                });
                body.map_frame(count)
            }))
        })
    }
}

/// Counts one frame's bytes and passes it on.
type CountFrame<D> = Box<dyn FnMut(hyper::body::Frame<D>) -> hyper::body::Frame<D> + Send>;

/// A response body whose bytes are counted as they go out.
pub type MeteredBody<B> = http_body_util::combinators::MapFrame<B, CountFrame<<B as Body>::Data>>;
