//! HTTPS serving: axum-server with rustls (ring) on a std listener, client
//! certificates verified against the cluster CA, and a service wrapper that can close a connection without answering (the
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

/// The serving certificate, and client certificates asked for but not
/// required (kube-apiserver's `--client-ca-file`): one that is presented
/// must chain to the cluster CA, and then names the user (see
/// [`super::auth::certificate_user`]); without one, tokens and anonymous
/// requests work as before.
fn tls_config(pki: &Pki) -> anyhow::Result<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(pki.ca_der()?))
        .context("adding the dev cluster CA as the client CA")?;
    let verifier = rustls::server::WebPkiClientVerifier::builder(Arc::new(roots))
        .allow_unauthenticated()
        .build()
        .context("building the client certificate verifier")?;
    let chain = CertificateDer::pem_slice_iter(pki.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the serving certificate is not valid PEM: {e:?}"))?;
    let key = PrivateKeyDer::from_pem_slice(pki.key_pem.as_bytes())
        .map_err(|e| anyhow::anyhow!("the serving key is not valid PEM: {e:?}"))?;
    // kube-apiserver's (Go's) TLS 1.3 preference, the server's order over
    // the client's: AES-128-GCM with SHA-256 first (rustls leads with
    // AES-256-GCM and SHA-384, which has no instructions of its own here).
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.sort_by_key(|s| {
        use rustls::CipherSuite::*;
        match s.suite() {
            TLS13_AES_128_GCM_SHA256 => 0,
            TLS13_AES_256_GCM_SHA384 => 1,
            TLS13_CHACHA20_POLY1305_SHA256 => 2,
            _ => 3,
        }
    });
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .context("the dev cluster's TLS versions")?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("loading the dev cluster's serving certificate")?;
    // What axum-server's `RustlsConfig::from_pem` sets.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config.ignore_client_order = true;
    // One session ticket after the handshake, as Go's server sends (rustls
    // sends two). Not none: kube-rs clients leave Nagle on, and their first
    // request, written right behind their Finished, waits for its ACK; the
    // ticket carries that ACK at once, where a silent server would delay it
    // ~40 ms.
    config.send_tls13_tickets = 1;
    Ok(config)
}

/// Serves `api` on `listener` until `handle` shuts it down.
pub async fn serve(
    listener: std::net::TcpListener,
    pki: &Pki,
    api: Arc<ApiServer>,
    handle: Handle<SocketAddr>,
) -> anyhow::Result<tokio::task::JoinHandle<std::io::Result<()>>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = RustlsConfig::from_config(Arc::new(tls_config(pki)?));
    listener
        .set_nonblocking(true)
        .context("setting the listener non-blocking")?;
    // TCP_NODELAY on every connection, as Go (kube-apiserver) sets it: a
    // response written in two pieces must not wait for the client's
    // delayed ACK (~40 ms) before its second piece goes out.
    let server = axum_server::from_tcp_rustls(listener, tls)
        .context("serving on the dev cluster listener")?
        .map(|tls| tls.acceptor(axum_server::accept::NoDelayAcceptor::new()))
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
