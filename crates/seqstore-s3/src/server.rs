//! Serving the endpoint on a TCP listener: HTTP/1.1 connections, graceful shutdown.

use std::future::Future;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::S3Endpoint;

/// How long shutdown waits for requests in flight (a long download is cut off after this).
const DRAIN: Duration = Duration::from_secs(10);

/// Accepts connections on `listener` until `shutdown` completes, then stops accepting and
/// lets requests in flight finish for up to 10 seconds.
///
/// Connection errors are the client's business (htslib drops the connection as soon as it has
/// the bytes it wants) and are logged at debug level only.
pub async fn serve(
    listener: TcpListener,
    service: S3Endpoint,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %err, "s3 accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers (a 64 KiB range, an error, a HEAD) go out at once instead of waiting
        // for the client's delayed ACK.
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %err, "cannot set TCP_NODELAY");
        }
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service.clone());
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "s3 connection ended early");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("s3 requests still in flight after {DRAIN:?}; stopping anyway");
    }
    Ok(())
}
