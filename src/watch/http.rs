//! `--listen`: `/healthz`, `/readyz` and Prometheus `/metrics`, plain HTTP.

use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use futures::future::BoxFuture;
use jiff::Timestamp;

use crate::schedule::metrics::{Metrics, esc, family};
use crate::token::TokenId;

/// One bootstrap token's expiry, as listed from the cluster.
#[derive(Debug, Clone)]
pub struct TokenExpiry {
    pub id: TokenId,
    /// `None`: the token never expires.
    pub expires: Option<Timestamp>,
}

/// Lists the cluster's bootstrap tokens at scrape time. The error names the
/// operation and the server. Wired by the caller (the daemon is cluster-agnostic).
pub type TokenExpiries =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Vec<TokenExpiry>, String>> + Send + Sync>;

#[derive(Clone)]
struct App {
    metrics: Metrics,
    ready: Arc<AtomicBool>,
    tokens: Option<TokenExpiries>,
}

/// Binds `addr` and serves until the process ends. Binding errors are
/// returned (a wrong `--listen` is a configuration error worth stopping for).
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    ready: Arc<AtomicBool>,
    tokens: Option<TokenExpiries>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(App {
            metrics,
            ready,
            tokens,
        });
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics server stopped");
        }
    });
    tracing::info!(addr = %bound, "serving /healthz, /readyz and /metrics");
    Ok((bound, task))
}

async fn readyz(State(app): State<App>) -> impl IntoResponse {
    if app.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the script directory has not been loaded\n",
        )
    }
}

async fn metrics_text(State(app): State<App>) -> impl IntoResponse {
    let mut out = String::new();
    app.metrics.render(&mut out);
    if let Some(list) = &app.tokens {
        render_tokens(&mut out, list().await, Timestamp::now());
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

/// The expiry gauge, labelled by token ID only: never the secret.
pub fn render_tokens(out: &mut String, listed: Result<Vec<TokenExpiry>, String>, now: Timestamp) {
    family(
        out,
        "tokensmith_bootstrap_token_list_up",
        "gauge",
        "1 when the cluster's bootstrap tokens could be listed for this scrape.",
    );
    let tokens = match listed {
        Ok(t) => {
            let _ = writeln!(out, "tokensmith_bootstrap_token_list_up 1");
            t
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot list bootstrap tokens for /metrics");
            let _ = writeln!(out, "tokensmith_bootstrap_token_list_up 0");
            return;
        }
    };
    family(
        out,
        "tokensmith_bootstrap_token_expiry_seconds",
        "gauge",
        "Seconds until the bootstrap token expires (negative once expired); tokens without expiry are not listed.",
    );
    for t in tokens {
        if let Some(at) = t.expires {
            let secs = at.duration_since(now).as_secs_f64();
            let _ = writeln!(
                out,
                "tokensmith_bootstrap_token_expiry_seconds{{token_id=\"{}\"}} {secs}",
                esc(t.id.as_str())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_gauges_are_labelled_by_id_and_count_down() {
        let now: Timestamp = "2026-06-01T00:00:00Z".parse().expect("ts");
        let mut out = String::new();
        let id = TokenId::parse("abcdef").expect("id");
        render_tokens(
            &mut out,
            Ok(vec![
                TokenExpiry {
                    id: id.clone(),
                    expires: Some("2026-06-01T02:00:00Z".parse().expect("ts")),
                },
                TokenExpiry { id, expires: None },
            ]),
            now,
        );
        assert!(out.contains("tokensmith_bootstrap_token_list_up 1\n"));
        assert!(
            out.contains("tokensmith_bootstrap_token_expiry_seconds{token_id=\"abcdef\"} 7200\n"),
            "{out}"
        );
        assert_eq!(out.matches("token_id=").count(), 1);
    }

    #[test]
    fn a_failed_listing_is_a_zero_up_gauge() {
        let mut out = String::new();
        render_tokens(
            &mut out,
            Err("listing Secrets on https://x: refused".into()),
            Timestamp::now(),
        );
        assert!(out.contains("tokensmith_bootstrap_token_list_up 0\n"));
        assert!(!out.contains("expiry_seconds{"));
    }
}
