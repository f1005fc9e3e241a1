//! The cluster events `on:` jobs react to, from Kubernetes API watches of
//! the CSRs and of the bootstrap-token Secrets in kube-system (see
//! [`super::reflector`]): a new CSR, a token Secret gone, and a token's
//! remaining lifetime, computed every second from the watched tokens (the
//! scheduler decides which `token-expiring` windows that falls in).
//!
//! What exists at start: every CSR present then raises its `csr` event once,
//! as an informer delivers what it first lists, so a node that joined while
//! the daemon was down (restarting, failing over) still counts; approved CSRs
//! are garbage-collected after an hour, which bounds that first batch. A
//! token deleted while the daemon was down raises nothing (it was never
//! seen); a token deleted while a watch was broken raises `token-deleted`
//! when the re-list misses it.
//!
//! Events go to the scheduler in batches over a bounded channel, so a flood
//! waits for the scheduler (and the watch for this loop) instead of growing
//! a queue; the scheduler coalesces repeats.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::reflector::{Change, Source, reflect};
use crate::cluster::Cluster;
use crate::cluster::store::{StoredToken, stored_from_value};
use crate::schedule::Event;
use crate::schedule::metrics::Metrics;
use crate::schedule::runner::Command;

/// How often the watched tokens' remaining lifetimes are looked at.
pub const EXPIRY_TICK: Duration = Duration::from_secs(1);

/// The Secrets that are bootstrap tokens (the field selector kubeadm lists with).
const TOKEN_SECRETS: &str = "type=bootstrap.kubernetes.io/token";

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

/// What a token's `token-expiring` event needs.
#[derive(Debug, Clone, PartialEq)]
struct TokenFacts {
    expires: Option<jiff::Timestamp>,
    description: String,
}

/// The watched sets, and the pure rules that turn their changes into events.
#[derive(Debug, Default)]
pub struct Watched {
    /// CSR uid (or name) → the token id it was made with.
    csrs: BTreeMap<String, Option<String>>,
    tokens: BTreeMap<String, TokenFacts>,
    /// The tokens have been listed once: later lists may raise `token-deleted`.
    tokens_listed: bool,
}

impl Watched {
    /// Applies one change; returns the events it raises (`now` for the
    /// remaining lifetime of a token that appeared).
    pub fn apply(&mut self, source: Source, change: Change, now: jiff::Timestamp) -> Vec<Event> {
        match source {
            Source::Csrs => self.apply_csrs(change),
            Source::Tokens => self.apply_tokens(change, now),
        }
    }

    fn apply_csrs(&mut self, change: Change) -> Vec<Event> {
        let mut events = Vec::new();
        match change {
            Change::Listed(items) => {
                let mut now = BTreeMap::new();
                for ev in items.iter().filter_map(parse_csr) {
                    let token = ev.payload["token_id"].as_str().map(str::to_string);
                    if !self.csrs.contains_key(&ev.key) {
                        events.push(ev.clone());
                    }
                    now.insert(ev.key, token);
                }
                self.csrs = now;
            }
            Change::Applied(obj) => {
                if let Some(ev) = parse_csr(&obj)
                    && !self.csrs.contains_key(&ev.key)
                {
                    let token = ev.payload["token_id"].as_str().map(str::to_string);
                    self.csrs.insert(ev.key.clone(), token);
                    events.push(ev);
                }
            }
            // A garbage-collected CSR is not undone: no event, and the use
            // count keeps it (see `Metrics::set_token_uses`).
            Change::Deleted(obj) => {
                if let Some(ev) = parse_csr(&obj) {
                    self.csrs.remove(&ev.key);
                }
            }
        }
        events
    }

    fn apply_tokens(&mut self, change: Change, now: jiff::Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        match change {
            Change::Listed(items) => {
                let listed: BTreeMap<String, TokenFacts> =
                    items.iter().filter_map(parse_token).collect();
                if self.tokens_listed {
                    for gone in self.tokens.keys().filter(|id| !listed.contains_key(*id)) {
                        events.push(token_deleted(gone));
                    }
                }
                for (id, facts) in &listed {
                    events.extend(expiring(id, facts, now));
                }
                self.tokens = listed;
                self.tokens_listed = true;
            }
            Change::Applied(obj) => {
                if let Some((id, facts)) = parse_token(&obj) {
                    events.extend(expiring(&id, &facts, now));
                    self.tokens.insert(id, facts);
                }
            }
            Change::Deleted(obj) => {
                if let Some(id) = deleted_token_id(&obj) {
                    self.tokens.remove(&id);
                    events.push(token_deleted(&id));
                }
            }
        }
        events
    }

    /// Every watched token's `token-expiring` event as of `now`.
    pub fn expiring(&self, now: jiff::Timestamp) -> Vec<Event> {
        self.tokens
            .iter()
            .filter_map(|(id, f)| expiring(id, f, now))
            .collect()
    }

    /// Joins per token: the watched CSRs made with it.
    pub fn uses(&self) -> BTreeMap<&str, u64> {
        let mut uses = BTreeMap::new();
        for id in self.csrs.values().flatten() {
            *uses.entry(id.as_str()).or_default() += 1;
        }
        uses
    }
}

/// A CSR's event; a malformed object is left out with a debug line.
fn parse_csr(obj: &Value) -> Option<Event> {
    match serde_json::from_value::<CertificateSigningRequest>(obj.clone()) {
        Ok(csr) => Some(csr_event(&csr)),
        Err(e) => {
            let name = obj.pointer("/metadata/name").and_then(Value::as_str);
            tracing::debug!(csr = ?name, error = %e, "event source: ignoring a malformed CSR");
            None
        }
    }
}

fn parse_token(obj: &Value) -> Option<(String, TokenFacts)> {
    match stored_from_value(obj) {
        Ok(StoredToken { token, .. }) => Some((
            token.token.id().as_str().to_string(),
            TokenFacts {
                expires: token.expires.as_ref().map(crate::token::Expiry::timestamp),
                description: token.description,
            },
        )),
        Err(e) => {
            // The error names the Secret, never its data.
            tracing::debug!(error = %e, "event source: ignoring a malformed token Secret");
            None
        }
    }
}

/// The token a deleted Secret was: from its data, or from its name when the
/// last state was malformed.
fn deleted_token_id(obj: &Value) -> Option<String> {
    if let Some((id, _)) = parse_token(obj) {
        return Some(id);
    }
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .and_then(|n| n.strip_prefix("bootstrap-token-"))
        .filter(|id| crate::token::TokenId::parse(id).is_some())
        .map(str::to_string)
}

fn token_deleted(id: &str) -> Event {
    Event {
        kind: "token-deleted",
        key: id.to_string(),
        payload: json!({"id": id}),
        remaining: None,
    }
}

fn expiring(id: &str, facts: &TokenFacts, now: jiff::Timestamp) -> Option<Event> {
    let exp = facts.expires?;
    let left = Duration::try_from(exp.duration_since(now)).unwrap_or(Duration::ZERO);
    Some(Event {
        kind: "token-expiring",
        key: id.to_string(),
        payload: json!({
            "id": id,
            "expires": exp.to_string(),
            "remaining_seconds": left.as_secs(),
            "description": facts.description,
        }),
        remaining: Some(left),
    })
}

/// Aborts the watch tasks when the event source stops (the daemon aborts it).
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Watches the cluster until the scheduler goes away.
pub async fn run<J: Send + 'static>(
    cluster: Cluster,
    commands: mpsc::Sender<Command<J>>,
    metrics: Metrics,
) {
    let (tx, mut changes) = mpsc::channel(16);
    let csrs: Api<DynamicObject> = Api::all_with(
        cluster.client(),
        &ApiResource::erase::<CertificateSigningRequest>(&()),
    );
    let secrets: Api<DynamicObject> = Api::namespaced_with(
        cluster.client(),
        "kube-system",
        &ApiResource::erase::<Secret>(&()),
    );
    // A cluster without the certificates API (or the RBAC for it) still has
    // token events: each watch retries on its own.
    let _tasks = Tasks(vec![
        tokio::spawn(reflect(csrs, None, Source::Csrs, tx.clone())),
        tokio::spawn(reflect(secrets, Some(TOKEN_SECRETS), Source::Tokens, tx)),
    ]);
    let mut watched = Watched::default();
    let mut tick = tokio::time::interval(EXPIRY_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let now = jiff::Timestamp::now();
        let events = tokio::select! {
            got = changes.recv() => match got {
                Some((source, change)) => {
                    let evs = watched.apply(source, change, now);
                    for (id, n) in watched.uses() {
                        metrics.set_token_uses(id, n);
                    }
                    evs
                }
                None => return,
            },
            _ = tick.tick() => watched.expiring(now),
        };
        if !events.is_empty() && commands.send(Command::Events(events)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csr(uid: &str, user: &str) -> Value {
        json!({
            "metadata": {"name": format!("csr-{uid}"), "uid": uid},
            "spec": {"request": "", "signerName": "kubernetes.io/kube-apiserver-client-kubelet", "username": user},
        })
    }

    fn token(id: &str, expires: &str) -> Value {
        use base64::Engine;
        let b = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        json!({
            "metadata": {"name": format!("bootstrap-token-{id}"), "namespace": "kube-system"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {
                "token-id": b(id),
                "token-secret": b("0123456789abcdef"),
                "expiration": b(expires),
                "usage-bootstrap-authentication": b("true"),
            },
        })
    }

    fn kinds(evs: &[Event]) -> Vec<(&str, &str)> {
        evs.iter().map(|e| (e.kind, e.key.as_str())).collect()
    }

    fn now() -> jiff::Timestamp {
        "2030-01-01T00:00:00Z".parse().expect("time")
    }

    #[test]
    fn csrs_present_at_start_fire_once_and_a_relist_fires_only_new_ones() {
        let mut w = Watched::default();
        let first = w.apply(
            Source::Csrs,
            Change::Listed(vec![
                csr("a", "system:bootstrap:abcdef"),
                csr("b", "kubelet"),
            ]),
            now(),
        );
        assert_eq!(kinds(&first), [("csr", "a"), ("csr", "b")]);
        // The approval is a modification: not a new CSR.
        assert!(
            w.apply(
                Source::Csrs,
                Change::Applied(csr("a", "system:bootstrap:abcdef")),
                now()
            )
            .is_empty()
        );
        let relist = w.apply(
            Source::Csrs,
            Change::Listed(vec![
                csr("a", "system:bootstrap:abcdef"),
                csr("c", "system:bootstrap:abcdef"),
            ]),
            now(),
        );
        assert_eq!(kinds(&relist), [("csr", "c")]);
        assert_eq!(w.uses().get("abcdef"), Some(&2));
    }

    #[test]
    fn a_malformed_csr_is_ignored() {
        let mut w = Watched::default();
        let bad = json!({"metadata": {"name": "x"}, "spec": {"request": 7}});
        assert!(
            w.apply(Source::Csrs, Change::Applied(bad), now())
                .is_empty()
        );
    }

    #[test]
    fn a_token_added_then_deleted_raises_token_deleted() {
        let mut w = Watched::default();
        assert!(
            w.apply(Source::Tokens, Change::Listed(vec![]), now())
                .is_empty()
        );
        let t = token("abcdef", "2030-01-01T01:00:00Z");
        let added = w.apply(Source::Tokens, Change::Applied(t.clone()), now());
        assert_eq!(kinds(&added), [("token-expiring", "abcdef")]);
        assert_eq!(added[0].remaining, Some(Duration::from_secs(3600)));
        let gone = w.apply(Source::Tokens, Change::Deleted(t), now());
        assert_eq!(kinds(&gone), [("token-deleted", "abcdef")]);
        assert!(w.expiring(now()).is_empty());
    }

    #[test]
    fn a_token_missing_from_a_relist_is_deleted_but_not_at_start() {
        let mut w = Watched::default();
        let t = token("abcdef", "2030-01-01T01:00:00Z");
        let start = w.apply(Source::Tokens, Change::Listed(vec![t]), now());
        assert_eq!(kinds(&start), [("token-expiring", "abcdef")]);
        let relist = w.apply(Source::Tokens, Change::Listed(vec![]), now());
        assert_eq!(kinds(&relist), [("token-deleted", "abcdef")]);
    }

    #[test]
    fn a_deleted_malformed_token_is_named_from_its_secret() {
        let mut w = Watched::default();
        let bad = json!({"metadata": {"name": "bootstrap-token-abcdef"}, "type": "bootstrap.kubernetes.io/token", "data": {}});
        let gone = w.apply(Source::Tokens, Change::Deleted(bad), now());
        assert_eq!(kinds(&gone), [("token-deleted", "abcdef")]);
    }
}
