//! HTTPS serving: axum-server with rustls (ring) on a std listener, and a
//! service wrapper that can close a connection without answering (the
//! "drop" fault), which hyper does when the service returns an error.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::body::Body;
use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;

use super::api::{self, ApiServer, Outcome};
use super::pki::Pki;

/// The error that makes hyper close the connection: an injected fault.
#[derive(Debug)]
struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DroppedConnection {}

/// Serves `api` on `listener` until `handle` shuts it down.
pub async fn serve(
    listener: std::net::TcpListener,
    pki: &Pki,
    api: Arc<ApiServer>,
    handle: Handle<SocketAddr>,
) -> anyhow::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = RustlsConfig::from_pem(
        pki.cert_pem.clone().into_bytes(),
        pki.key_pem.clone().into_bytes(),
    )
    .await
    .context("loading the dev cluster's serving certificate")?;
    listener
        .set_nonblocking(true)
        .context("setting the listener non-blocking")?;
    let server = axum_server::from_tcp_rustls(listener, tls)
        .context("serving on the dev cluster listener")?
        .handle(handle);
    let per_request = tower::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
        let api = api.clone();
        async move {
            match api::handle(api, req.map(Body::new)).await {
                Outcome::Respond(resp) => Ok(resp),
                Outcome::DropConnection => Err(DroppedConnection),
            }
        }
    });
    let make = tower::service_fn(move |_peer: SocketAddr| {
        let svc = per_request.clone();
        async move { Ok::<_, Infallible>(svc) }
    });
    Ok(tokio::spawn(server.serve(make)))
}
