//! The web console: a fixed set of static files compiled into the binary, served under
//! `/console/` on the omics listener. They hold no data and need no signature; every call
//! they make is SigV4-signed in the browser with the user's own keys.

use crate::router::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderValue, StatusCode};
use seqstore_core::telemetry::Operation;

/// Same origin only, no inline script or style, never framed: the console talks to
/// nothing but the server that served it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's files: name under `/console/`, content type, bytes.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../console/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../console/style.css"),
    ),
    ("app.js", JS, include_str!("../console/app.js")),
    ("api.js", JS, include_str!("../console/api.js")),
    ("sigv4.js", JS, include_str!("../console/sigv4.js")),
    ("ui.js", JS, include_str!("../console/ui.js")),
    ("stores.js", JS, include_str!("../console/stores.js")),
    ("readsets.js", JS, include_str!("../console/readsets.js")),
    ("transfer.js", JS, include_str!("../console/transfer.js")),
    ("jobs.js", JS, include_str!("../console/jobs.js")),
];

const JS: &str = "text/javascript; charset=utf-8";

/// `GET /console`: the console lives under the slash, so relative asset links resolve.
pub(crate) async fn redirect() -> Response {
    let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
    response
        .headers_mut()
        .insert(LOCATION, HeaderValue::from_static("/console/"));
    finish(response)
}

/// `GET /console/`: the page itself.
pub(crate) async fn index() -> Response {
    asset_response("index.html")
}

/// `GET /console/{*file}`: one of [`ASSETS`], or 404.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    asset_response(&file)
}

/// `GET /console/config.json`: what the sign-in form needs before it has keys.
pub(crate) async fn config(State(state): State<AppState>) -> Response {
    config_response(&state.service.settings().region)
}

fn config_response(region: &str) -> Response {
    let body = serde_json::json!({ "region": region, "service": "omics" }).to_string();
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    finish(response)
}

fn asset_response(file: &str) -> Response {
    let Some((_, content_type, text)) = ASSETS.iter().find(|(name, _, _)| *name == file) else {
        let mut response = (StatusCode::NOT_FOUND, "no such console file\n").into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return finish(response);
    };
    let mut response = (StatusCode::OK, *text).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    finish(response)
}

/// The headers every console answer carries, and its name for the metrics.
fn finish(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Assets change with the binary; revalidating them is cheap on a local listener.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response.extensions_mut().insert(Operation("Console"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(response: Response) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn header<'a>(response: &'a Response, name: &str) -> &'a str {
        response.headers()[name].to_str().unwrap()
    }

    #[tokio::test]
    async fn index_is_html_with_a_strict_policy() {
        let response = index().await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        let csp = header(&response, "content-security-policy");
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self';"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "cache-control"), "no-cache");
        assert!(
            body(response)
                .await
                .contains(r#"<script type="module" src="app.js">"#)
        );
    }

    #[tokio::test]
    async fn every_asset_is_served_with_its_type() {
        for (name, content_type, _) in ASSETS {
            let response = asset(Path((*name).to_owned())).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(header(&response, "content-type"), *content_type, "{name}");
            assert!(response.headers().contains_key("content-security-policy"));
            assert!(!body(response).await.is_empty(), "{name}");
        }
        let css = asset(Path("style.css".into())).await;
        assert_eq!(header(&css, "content-type"), "text/css; charset=utf-8");
        let js = asset(Path("sigv4.js".into())).await;
        assert_eq!(
            header(&js, "content-type"),
            "text/javascript; charset=utf-8"
        );
    }

    #[tokio::test]
    async fn unknown_files_are_not_found() {
        for name in ["missing.js", "../Cargo.toml", "index.html/", "a/app.js", ""] {
            let response = asset(Path(name.to_owned())).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{name}");
            assert!(response.headers().contains_key("content-security-policy"));
        }
    }

    #[tokio::test]
    async fn bare_path_redirects_under_the_slash() {
        let response = redirect().await;
        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(header(&response, "location"), "/console/");
    }

    #[tokio::test]
    async fn config_names_the_region() {
        let response = config_response("eu-west-2");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "content-type"), "application/json");
        let value: serde_json::Value = serde_json::from_str(&body(response).await).unwrap();
        assert_eq!(value["region"], "eu-west-2");
    }

    /// The console may only talk to its own origin: no asset names another one.
    #[test]
    fn assets_name_no_other_origin() {
        for (name, _, text) in ASSETS {
            for scheme in ["http://", "https://", "//cdn", "ws://", "wss://"] {
                assert!(!text.contains(scheme), "{name} mentions {scheme}");
            }
            assert!(!text.contains("<script>"), "{name} has an inline script");
            assert!(!text.contains(" style=\""), "{name} has an inline style");
        }
    }

    /// No omics operation lives under /console, so the console cannot shadow one.
    #[test]
    fn no_operation_is_routed_under_console() {
        for path in ["/console", "/console/", "/console/app.js"] {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"] {
                assert!(
                    seqstore_model::route(method, path).is_none(),
                    "{method} {path}"
                );
            }
            assert!(!seqstore_model::path_matches_any(path), "{path}");
        }
    }
}
