//! The two kube-controller-manager controllers kubeadm enables, run inside
//! the dev cluster: bootstrapsigner and tokencleaner (spec §11). Each wakes
//! on a change to the objects it watches and on a timer for the next token
//! expiry, so both react within a second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::broadcast::error::TryRecvError;

use crate::token::jws::detached_signature;

use super::crud::{self, Preconditions, WriteContext};
use super::resources::Resource;
use super::store::{Event, Store};
use super::token_cache::{TokenCache, TokenFields, next_expiry};

/// Where the controllers read the time: the store's clock in the server, a
/// clock that follows tokio's (pausable) one in tests.
pub use crate::clock::Clock;

pub fn wall_clock() -> Clock {
    Clock::system()
}

const JWS_PREFIX: &str = "jws-kubeconfig-";
/// Even with no change and no expiry in sight, look again this often.
const RESYNC: Duration = Duration::from_secs(30);
/// A pass costs O(tokens): under a stream of writes, the next pass starts no
/// sooner than [`GAP_FACTOR`] times the last one took after it began (so a
/// controller uses at most a tenth of a core, and the two leave the request
/// path the rest), the changes in between coalesced into it, as
/// kube-controller-manager's work queue coalesces them. With few tokens a
/// pass takes microseconds and the controllers answer a change at once;
/// under load a change waits at most ten pass-times.
const MIN_GAP: Duration = Duration::from_millis(1);
const GAP_FACTOR: u32 = 10;

fn relevant(ev: &Event) -> bool {
    (ev.key.resource == Resource::Secrets && ev.key.namespace == "kube-system")
        || (ev.key.resource == Resource::ConfigMaps
            && ev.key.namespace == "kube-public"
            && ev.key.name == "cluster-info")
}

/// Runs `pass` now, after every relevant change, and when the time it
/// returns (until the next token expiry it saw) has passed.
async fn drive<F, Fut>(
    store: Arc<Store>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    clock: Clock,
    mut pass: F,
) where
    F: FnMut(Arc<Store>, jiff::Timestamp) -> Fut,
    Fut: std::future::Future<Output = Option<Duration>>,
{
    let mut changes = store.changes();
    let mut advanced = clock.subscribe();
    loop {
        let started = tokio::time::Instant::now();
        let next = pass(store.clone(), clock.now()).await;
        let gap = MIN_GAP.max(started.elapsed() * GAP_FACTOR);
        let wait = next
            // Wake just after the instant, so it already counts as expired.
            .map(|d| (d + Duration::from_millis(5)).min(RESYNC))
            .unwrap_or(RESYNC);
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = &mut sleep => break,
                // `clock::advance` in a test: what was due later may be due now.
                Ok(()) = advanced.changed() => break,
                got = changes.recv() => match got {
                    Ok(ev) if relevant(&ev) => {
                        // Coalesce a burst of changes into one pass.
                        tokio::select! {
                            _ = shutdown.changed() => return,
                            () = tokio::time::sleep_until(started + gap) => {}
                        }
                        while let Ok(_) | Err(TryRecvError::Lagged(_)) = changes.try_recv() {}
                        break;
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }
}

/// bootstrapsigner: keeps `jws-kubeconfig-<id>` in cluster-info in step with
/// the valid, unexpired, signing-usage token Secrets.
pub async fn run_bootstrap_signer(
    store: Arc<Store>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    clock: Clock,
) {
    let cache = Arc::new(Mutex::new(SignatureCache::default()));
    drive(store, shutdown, clock, move |s, now| {
        let cache = cache.clone();
        async move { sign_once(&s, now, &cache).await }
    })
    .await;
}

/// Signatures already computed, by token id and secret, for one cluster-info
/// content, and the token Secrets already decoded: a pass then costs a lookup
/// per token, not a JWS.
#[derive(Default)]
pub struct SignatureCache {
    content: String,
    signatures: HashMap<(String, String), String>,
    tokens: TokenCache,
}

/// The signatures cluster-info should carry now (bootstrapsigner.signConfigMap).
pub fn wanted_signatures<'a>(
    kubeconfig: &str,
    secrets: impl IntoIterator<Item = &'a Value>,
    now: jiff::Timestamp,
) -> Map<String, Value> {
    let tokens: Vec<_> = secrets
        .into_iter()
        .filter_map(TokenFields::of)
        .map(Arc::new)
        .collect();
    wanted_signatures_cached(kubeconfig, &tokens, now, &mut SignatureCache::default())
}

fn wanted_signatures_cached(
    kubeconfig: &str,
    tokens: &[Arc<TokenFields>],
    now: jiff::Timestamp,
    cache: &mut SignatureCache,
) -> Map<String, Value> {
    if cache.content != kubeconfig {
        cache.content = kubeconfig.to_owned();
        cache.signatures.clear();
    }
    // Only this pass's tokens stay cached.
    let mut known = std::mem::take(&mut cache.signatures);
    let mut out = Map::new();
    for t in tokens {
        let Some(id) = &t.name_id else {
            continue;
        };
        if !t.signing || t.is_expired(now) {
            continue;
        }
        let (token_id, secret) = (t.token_id.as_str(), t.token_secret.as_str());
        if token_id.is_empty() || token_id != id.as_str() || secret.is_empty() {
            continue;
        }
        let key = format!("{JWS_PREFIX}{token_id}");
        if out.contains_key(&key) {
            continue;
        }
        let ids = (token_id.to_owned(), secret.to_owned());
        let signature = match known.remove(&ids) {
            Some(sig) => sig,
            None => detached_signature(kubeconfig, token_id, secret),
        };
        out.insert(key, json!(signature.clone()));
        cache.signatures.insert(ids, signature);
    }
    out
}

/// One bootstrapsigner pass; returns the time until the next token expiry.
async fn sign_once(
    store: &Store,
    now: jiff::Timestamp,
    cache: &Mutex<SignatureCache>,
) -> Option<Duration> {
    let key = super::store::Key::new(Resource::ConfigMaps, "kube-public", "cluster-info");
    // Read as the store holds it: most passes (the signer's own write coming
    // back, a token that does not sign) change nothing and copy nothing.
    let cm = store.get_shared(&key);
    let data = cm
        .as_ref()
        .and_then(|cm| cm.value().get("data")?.as_object());
    let kubeconfig = data.and_then(|d| d.get("kubeconfig")?.as_str());
    let (next, wanted) = {
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        let tokens = cache.tokens.tokens(store);
        let wanted = kubeconfig.map(|k| wanted_signatures_cached(k, &tokens, now, &mut cache));
        (next_expiry(&tokens, now), wanted)
    };
    let (Some(cm), Some(data), Some(wanted)) = (cm.as_ref(), data, wanted) else {
        return next;
    };
    let mut current = data.iter().filter(|(k, _)| k.starts_with(JWS_PREFIX));
    if current.clone().count() == wanted.len() && current.all(|(k, v)| wanted.get(k) == Some(v)) {
        return next;
    }
    let mut new_data: Map<String, Value> = data
        .iter()
        .filter(|(k, _)| !k.starts_with(JWS_PREFIX))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    new_data.extend(wanted);
    let mut updated = cm.value().clone();
    updated["data"] = Value::Object(new_data);
    let ctx = WriteContext {
        resource: Resource::ConfigMaps,
        namespace: "kube-public",
        manager: "bootstrap-signer".into(),
        dry_run: false,
    };
    // Conflict and NotFound are ignored: the next change triggers another pass.
    match crud::update_object(store, &ctx, "cluster-info", updated).await {
        Ok(_) => tracing::debug!("bootstrapsigner updated cluster-info signatures"),
        Err(e) if e.code == 409 || e.code == 404 => {}
        Err(e) => {
            tracing::warn!(error = %e.message, "bootstrapsigner could not update cluster-info")
        }
    }
    next
}

/// One pass of both controllers at the store's current time, for a caller
/// that has just moved the clock and must see the result before going on.
pub async fn reconcile_now(store: &Store) {
    let now = store.clock().now();
    clean_once(store, now, &Mutex::default()).await;
    sign_once(store, now, &Mutex::default()).await;
}

/// tokencleaner: deletes expired token Secrets (an unparsable expiration
/// counts as expired) with a UID precondition.
pub async fn run_token_cleaner(
    store: Arc<Store>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    clock: Clock,
) {
    let cache = Arc::new(Mutex::new(TokenCache::default()));
    drive(store, shutdown, clock, move |s, now| {
        let cache = cache.clone();
        async move { clean_once(&s, now, &cache).await }
    })
    .await;
}

/// One tokencleaner pass; returns the time until the next expiry among the
/// tokens it did not delete (zero for one whose delete failed: it is tried
/// again shortly).
async fn clean_once(
    store: &Store,
    now: jiff::Timestamp,
    cache: &Mutex<TokenCache>,
) -> Option<Duration> {
    let tokens = cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .tokens(store);
    let mut kept = Vec::with_capacity(tokens.len());
    for t in tokens {
        if !t.is_expired(now) {
            kept.push(t);
            continue;
        }
        let name = t.name.as_str();
        let ctx = WriteContext {
            resource: Resource::Secrets,
            namespace: "kube-system",
            manager: "token-cleaner".into(),
            dry_run: false,
        };
        let pre = Preconditions {
            uid: Some(t.uid.clone()),
            resource_version: None,
        };
        match crud::delete(store, &ctx, name, &pre).await {
            Ok(_) => {
                tracing::info!(secret = %name, "tokencleaner deleted expired bootstrap token secret")
            }
            // Gone, or replaced (its change wakes the next pass).
            Err(e) if e.code == 409 || e.code == 404 => {}
            Err(e) => {
                tracing::warn!(secret = %name, error = %e.message, "tokencleaner could not delete");
                kept.push(t);
            }
        }
    }
    next_expiry(&kept, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devcluster::auth::BOOTSTRAP_TOKEN_TYPE;
    use crate::devcluster::objects;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn token_secret(id: &str, secret: &str, extra: &[(&str, &str)]) -> Value {
        let mut data = Map::new();
        data.insert("token-id".into(), json!(STANDARD.encode(id)));
        data.insert("token-secret".into(), json!(STANDARD.encode(secret)));
        for (k, v) in extra {
            data.insert((*k).into(), json!(STANDARD.encode(v)));
        }
        json!({"metadata": {"name": format!("bootstrap-token-{id}")}, "type": BOOTSTRAP_TOKEN_TYPE, "data": data})
    }

    #[test]
    fn only_valid_unexpired_signing_tokens_are_signed() {
        let now: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().expect("ts");
        let secrets = vec![
            token_secret(
                "abcdef",
                "0123456789abcdef",
                &[("usage-bootstrap-signing", "true")],
            ),
            token_secret(
                "bbbbbb",
                "0123456789abcdef",
                &[("usage-bootstrap-authentication", "true")],
            ),
            token_secret(
                "cccccc",
                "0123456789abcdef",
                &[
                    ("usage-bootstrap-signing", "true"),
                    ("expiration", "2029-01-01T00:00:00Z"),
                ],
            ),
            token_secret(
                "dddddd",
                "0123456789abcdef",
                &[("usage-bootstrap-signing", "true"), ("expiration", "nope")],
            ),
        ];
        let sigs = wanted_signatures("content", &secrets, now);
        assert_eq!(sigs.keys().collect::<Vec<_>>(), ["jws-kubeconfig-abcdef"]);
        assert_eq!(
            sigs["jws-kubeconfig-abcdef"],
            json!(detached_signature("content", "abcdef", "0123456789abcdef"))
        );
    }

    /// A clock that starts at `base` and moves with tokio's (paused) clock.
    fn tokio_clock(base: jiff::Timestamp) -> Clock {
        let start = tokio::time::Instant::now();
        Clock::from_fn(move || {
            let elapsed = jiff::SignedDuration::try_from(start.elapsed()).unwrap_or_default();
            base + elapsed
        })
    }

    async fn put_token(store: &Store, id: &str, expiration: Option<&str>) {
        let mut s = token_secret(
            id,
            "0123456789abcdef",
            &[("usage-bootstrap-signing", "true")],
        );
        if let Some(e) = expiration {
            s["data"]["expiration"] = json!(STANDARD.encode(e));
        }
        s["apiVersion"] = json!("v1");
        s["kind"] = json!("Secret");
        s["metadata"]["namespace"] = json!("kube-system");
        s["metadata"]["uid"] = json!(objects::new_uid());
        let key =
            crate::devcluster::store::Key::new(Resource::Secrets, "kube-system", objects::name(&s));
        store
            .transact(false, |tx| Ok(tx.put(key, s)))
            .await
            .expect("put token secret");
    }

    fn exists(store: &Store, id: &str) -> bool {
        store
            .get(&crate::devcluster::store::Key::new(
                Resource::Secrets,
                "kube-system",
                &format!("bootstrap-token-{id}"),
            ))
            .is_some()
    }

    #[tokio::test(start_paused = true)]
    async fn the_cleaner_wakes_at_the_next_expiry_and_not_before() {
        let base: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().expect("ts");
        let store = Arc::new(Store::open(None).expect("store"));
        put_token(&store, "soonly", Some("2030-01-01T00:00:10Z")).await;
        put_token(&store, "forevr", None).await;
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(run_token_cleaner(
            store.clone(),
            shutdown,
            tokio_clock(base),
        ));

        tokio::time::sleep(Duration::from_secs(9)).await;
        assert!(exists(&store, "soonly"), "not expired at 9s");
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Let the cleaner's delete run.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(
            !exists(&store, "soonly"),
            "deleted once its expiration passed"
        );
        assert!(
            exists(&store, "forevr"),
            "a token without expiration is never touched"
        );
        let _ = stop.send(true);
        let _ = task.await;
    }

    #[test]
    fn a_token_id_that_disagrees_with_the_name_is_not_signed() {
        let now = jiff::Timestamp::now();
        let mut s = token_secret(
            "abcdef",
            "0123456789abcdef",
            &[("usage-bootstrap-signing", "true")],
        );
        s["metadata"]["name"] = json!("bootstrap-token-zzzzzz");
        assert!(wanted_signatures("c", &[s], now).is_empty());
    }
}
