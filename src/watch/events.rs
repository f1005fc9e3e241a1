//! The cluster events `on:` jobs react to, found by polling: a new CSR, a
//! token Secret gone, a token's remaining lifetime (the scheduler decides
//! which `token-expiring` windows that falls in). One poll's events go to
//! the scheduler as one batch over a bounded channel, so a flood waits for
//! the scheduler instead of growing a queue; the scheduler coalesces repeats.
//! Objects present at start are the baseline and raise no events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::api::{Api, ListParams};
use serde_json::json;
use tokio::sync::mpsc;

use crate::cluster::Cluster;
use crate::schedule::Event;
use crate::schedule::metrics::Metrics;
use crate::schedule::runner::Command;

/// How often the cluster is looked at.
pub const POLL: Duration = Duration::from_secs(1);

/// What the last poll saw.
#[derive(Default)]
struct Seen {
    csrs: BTreeSet<String>,
    tokens: BTreeSet<String>,
    primed: bool,
}

/// The event a CSR raises: its name, requester, the token it was made with
/// (when the requester is a bootstrap token) and the node it asks for.
pub fn csr_event(csr: &CertificateSigningRequest) -> Event {
    let name = csr.metadata.name.clone().unwrap_or_default();
    let user = csr.spec.username.clone().unwrap_or_default();
    let token_id = user.strip_prefix("system:bootstrap:").map(str::to_string);
    let node = crate::token::csr::parse_pem(&csr.spec.request.0)
        .ok()
        .and_then(|r| r.node_name().map(str::to_string));
    let conds = csr
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let has = |t: &str| conds.iter().any(|c| c.type_ == t);
    Event {
        kind: "csr",
        key: csr.metadata.uid.clone().unwrap_or_else(|| name.clone()),
        payload: json!({
            "name": name,
            "username": user,
            "token_id": token_id,
            "node": node,
            "signer_name": csr.spec.signer_name,
            "approved": has("Approved"),
            "denied": has("Denied"),
            "created": csr.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        }),
        remaining: None,
    }
}

/// Polls until the scheduler goes away.
pub async fn run<J: Send + 'static>(
    cluster: Cluster,
    commands: mpsc::Sender<Command<J>>,
    metrics: Metrics,
) {
    let mut seen = Seen::default();
    loop {
        match poll(&cluster, &mut seen, &metrics).await {
            Ok(evs) if !evs.is_empty() => {
                if commands.send(Command::Events(evs)).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "event poll failed; trying again"),
        }
        tokio::time::sleep(POLL).await;
        if commands.is_closed() {
            return;
        }
    }
}

async fn poll(cluster: &Cluster, seen: &mut Seen, metrics: &Metrics) -> Result<Vec<Event>, String> {
    let mut events = Vec::new();
    let api: Api<CertificateSigningRequest> = Api::all(cluster.client());
    // A cluster without the certificates API (or the RBAC) still has token events.
    let csrs = api
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let mut uses: BTreeMap<String, u64> = BTreeMap::new();
    let mut now_csrs = BTreeSet::new();
    for csr in &csrs {
        let ev = csr_event(csr);
        if let Some(id) = ev.payload["token_id"].as_str() {
            *uses.entry(id.to_string()).or_default() += 1;
        }
        if seen.primed && !seen.csrs.contains(&ev.key) {
            events.push(ev.clone());
        }
        now_csrs.insert(ev.key);
    }
    for (id, n) in uses {
        metrics.set_token_uses(&id, n);
    }
    let tokens = cluster.tokens().list().await.map_err(|e| e.to_string())?;
    let now = jiff::Timestamp::now();
    let mut now_tokens = BTreeSet::new();
    for t in tokens.into_iter().filter_map(Result::ok) {
        let id = t.token.token.id().as_str().to_string();
        if let Some(exp) = &t.token.expires {
            let left = exp.timestamp().duration_since(now);
            let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
            events.push(Event {
                kind: "token-expiring",
                key: id.clone(),
                payload: json!({
                    "id": id,
                    "expires": exp.timestamp().to_string(),
                    "remaining_seconds": left.as_secs(),
                    "description": t.token.description,
                }),
                remaining: Some(left),
            });
        }
        now_tokens.insert(id);
    }
    if seen.primed {
        for gone in seen.tokens.difference(&now_tokens) {
            events.push(Event {
                kind: "token-deleted",
                key: gone.clone(),
                payload: json!({"id": gone}),
                remaining: None,
            });
        }
    }
    seen.csrs = now_csrs;
    seen.tokens = now_tokens;
    seen.primed = true;
    Ok(events)
}
