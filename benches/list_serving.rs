//! Serving a list of 2,000 token Secrets vs serialising them, both in one
//! run of one process (issue 13: serving ≤ 3× serialising).
//!
//! An in-process dev cluster gets 2,000 kubeadm token Secrets through the
//! real API (as `token create` writes them). Then, alternating so that both
//! sides see the same machine load:
//! - serving: `GET /api/v1/namespaces/kube-system/secrets` over real HTTPS on
//!   one keep-alive connection, the whole body read: everything the server
//!   does for a list, plus the TLS and HTTP work a client cannot avoid;
//! - serialising: `serde_json::to_vec` of the same list (parsed once into a
//!   `serde_json::Value`), the floor no server can go below.
//!
//! Prints each median and the ratio, and a last line `serve=S serialise=S
//! items=N` for benches/run.sh. `BENCH_ITEMS` (default 2000), `BENCH_RUNS`
//! (default 31).
//!
//! `cargo bench --bench list_serving`

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use tokensmith::devcluster::{DevCluster, DevClusterConfig};
use tokensmith::token::{BootstrapToken, BootstrapTokenString};

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

fn https_client(ca_pem: &str) -> anyhow::Result<Client> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes())?)?;
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

async fn get(client: &Client, url: &str, token: &str) -> anyhow::Result<Bytes> {
    let req = http::Request::get(url)
        .header("Authorization", format!("Bearer {token}"))
        .header("Accept", "application/json")
        .body(Empty::new())?;
    let resp = client.request(req).await?;
    anyhow::ensure!(resp.status() == 200, "GET {url}: {}", resp.status());
    Ok(resp.into_body().collect().await?.to_bytes())
}

/// Creates `n` token Secrets, 16 at a time.
async fn fill(dc: &DevCluster, n: usize) -> anyhow::Result<()> {
    let client = dc.client().await?;
    let secrets: Api<Secret> = Api::namespaced(client, "kube-system");
    let now = jiff::Timestamp::now();
    let mut pending = futures::stream::FuturesUnordered::new();
    use futures::StreamExt;
    for _ in 0..n {
        let mut token = BootstrapToken::with_defaults(BootstrapTokenString::generate());
        token.description = "list benchmark".to_owned();
        let secret = tokensmith::cluster::store::to_secret(&token, &Default::default(), now);
        let secrets = secrets.clone();
        pending.push(async move { secrets.create(&PostParams::default(), &secret).await });
        if pending.len() >= 16 {
            pending.next().await.transpose()?;
        }
    }
    while pending.next().await.transpose()?.is_some() {}
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let items: usize = std::env::var("BENCH_ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(31)
        .max(1);
    let dc = DevCluster::start(DevClusterConfig::ephemeral()).await?;
    fill(&dc, items).await?;
    let client = https_client(&dc.ca_pem())?;
    let token = dc.admin_token();
    let list_url = format!(
        "{}/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dbootstrap.kubernetes.io%2Ftoken",
        dc.url()
    );
    let floor_url = format!(
        "{}/api/v1/namespaces/kube-public/configmaps/cluster-info",
        dc.url()
    );

    // Warm up: the connection, and whatever the server prepares once.
    let body = get(&client, &list_url, &token).await?;
    let doc: serde_json::Value = serde_json::from_slice(&body)?;
    let served = doc["items"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(served >= items, "the list has {served} items, not {items}");
    let items = served;
    for _ in 0..3 {
        get(&client, &list_url, &token).await?;
    }

    let (mut serve, mut serialise, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(get(&client, &list_url, &token).await?.len());
        serve.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(serde_json::to_vec(&doc)?.len());
        serialise.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(get(&client, &floor_url, &token).await?.len());
        floor.push(t.elapsed());
    }
    let (serve, serialise, floor) = (median(serve), median(serialise), median(floor));
    println!(
        "list of {items} token Secrets ({} KiB): serving {:.2} ms, serialising {:.2} ms, one small GET {:.2} ms",
        body.len() / 1024,
        serve.as_secs_f64() * 1e3,
        serialise.as_secs_f64() * 1e3,
        floor.as_secs_f64() * 1e3,
    );
    println!(
        "serving / serialising: {:.2} (target <= 3)",
        serve.as_secs_f64() / serialise.as_secs_f64()
    );
    println!(
        "serve={} serialise={} items={items}",
        serve.as_secs_f64(),
        serialise.as_secs_f64()
    );
    dc.shutdown().await;
    Ok(())
}
