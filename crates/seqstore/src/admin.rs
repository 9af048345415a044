//! The admin listener (`admin_listen`): Prometheus `/metrics`, `/healthz` (the process
//! answers) and `/readyz` (the catalog and the blob store answer). No authentication: bind
//! it to loopback or a private network.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use seqstore_core::Service;

/// The admin endpoints as an axum router.
pub fn router(service: Arc<Service>) -> Router {
    Router::new().fallback(handle).with_state(service)
}

async fn handle(State(service): State<Arc<Service>>, request: Request) -> Response {
    let text = |status: u16, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap_or_default()
    };
    let plain = "text/plain; charset=utf-8";
    if request.method() != axum::http::Method::GET {
        return text(405, plain, "the admin endpoints answer GET only\n".into());
    }
    match request.uri().path() {
        "/metrics" => match service.metrics_text().await {
            Ok(body) => text(
                200,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                body,
            ),
            Err(e) => {
                let message = seqstore_core::error_chain(&e);
                tracing::warn!(error = %message, "cannot read the catalog's metrics");
                text(503, plain, format!("cannot read the catalog: {message}\n"))
            }
        },
        "/healthz" => text(200, plain, "ok\n".into()),
        "/readyz" => match service.ready().await {
            Ok(()) => text(200, plain, "ready\n".into()),
            Err(why) => text(503, plain, format!("{why}\n")),
        },
        _ => text(
            404,
            plain,
            "the admin endpoints are /metrics, /healthz and /readyz\n".into(),
        ),
    }
}
