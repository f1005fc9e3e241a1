//! Requests per second of the dev cluster for a create+get+list+delete mix
//! of Secrets, through the real `kube` client: over one keep-alive
//! connection, and over 16 concurrent connections (one client each).
//!
//! `KUBECONFIG=<dev cluster kubeconfig> cargo bench --bench devcluster`
//! measures a running server (benches/devcluster.sh starts one and runs
//! wrk beside this). Without KUBECONFIG it starts an in-process cluster.
//! `BENCH_SECONDS` (default 10) sets each run's length.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use tokensmith::devcluster::{DevCluster, DevClusterConfig};

const NAMESPACE: &str = "bench";

async fn client_from_env(kubeconfig: &str) -> anyhow::Result<kube::Client> {
    let yaml = std::fs::read_to_string(kubeconfig)?;
    let kc = kube::config::Kubeconfig::from_yaml(&yaml)?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    Ok(kube::Client::try_from(cfg)?)
}

/// One worker's loop: create, get, list (its own label), delete; returns requests made.
async fn worker(client: kube::Client, id: usize, until: Instant) -> anyhow::Result<u64> {
    let secrets: Api<Secret> = Api::namespaced(client, NAMESPACE);
    let label = format!("bench-worker=w{id}");
    let lp = ListParams::default().labels(&label);
    let mut n = 0u64;
    let mut requests = 0u64;
    while Instant::now() < until {
        let name = format!("w{id}-{n}");
        let s: Secret = serde_json::from_value(json!({
            "metadata": {"name": name, "labels": {"bench-worker": format!("w{id}")}},
            "type": "Opaque",
            "stringData": {"token-id": "abcdef", "token-secret": "0123456789abcdef"},
        }))?;
        secrets.create(&PostParams::default(), &s).await?;
        secrets.get(&name).await?;
        secrets.list(&lp).await?;
        secrets.delete(&name, &DeleteParams::default()).await?;
        requests += 4;
        n += 1;
    }
    Ok(requests)
}

async fn run(
    kubeconfig: Option<&str>,
    connections: usize,
    seconds: u64,
    dc: Option<&DevCluster>,
) -> anyhow::Result<f64> {
    let mut clients = Vec::new();
    for _ in 0..connections {
        clients.push(match (kubeconfig, dc) {
            (Some(k), _) => client_from_env(k).await?,
            (None, Some(dc)) => dc.client().await?,
            (None, None) => anyhow::bail!("no cluster"),
        });
    }
    let start = Instant::now();
    let until = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, c)| tokio::spawn(worker(c, i + connections * 100, until)))
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let kubeconfig = std::env::var("KUBECONFIG").ok().filter(|k| !k.is_empty());
    let in_process = match &kubeconfig {
        Some(_) => None,
        None => Some(DevCluster::start(DevClusterConfig::ephemeral()).await?),
    };
    let client = match (&kubeconfig, &in_process) {
        (Some(k), _) => client_from_env(k).await?,
        (None, Some(dc)) => dc.client().await?,
        _ => anyhow::bail!("no cluster"),
    };
    let nss: Api<Namespace> = Api::all(client);
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": NAMESPACE}}))?;
    match nss.create(&PostParams::default(), &ns).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    for connections in [1, 16] {
        let rps = run(
            kubeconfig.as_deref(),
            connections,
            seconds,
            in_process.as_ref(),
        )
        .await?;
        println!(
            "kube client, {connections:>2} connection(s): {rps:>8.0} requests/s (create+get+list+delete of Secrets)"
        );
    }
    if let Some(dc) = in_process {
        dc.shutdown().await;
    }
    Ok(())
}
