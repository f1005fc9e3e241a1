//! Bootstrap-token Secrets in `kube-system`: get, create (failing if the ID is
//! taken), list with the type field selector, delete. kubeadm's request shapes
//! and messages (`phases/bootstraptoken/node/token.go`, `cmd/token.go`).

use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::value::RawValue;

use super::error::{ClusterError, RequestFailure, describe};
use super::retry::RetryPolicy;
use crate::token::secret::{NAMESPACE, SECRET_TYPE};
use crate::token::{BootstrapToken, BootstrapTokenString, SecretDecodeError, TokenId};

/// IDs a create of a generated token tries before a taken one is an error
/// (eight collisions in a row need the cluster's ID space nearly full).
pub const FRESH_ID_TRIES: usize = 8;

/// A token as read back from its Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub token: BootstrapToken,
    /// The Secret's `creationTimestamp`.
    pub created: Option<Timestamp>,
    pub labels: BTreeMap<String, String>,
}

/// Whether a create looks for the Secret before it posts one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// kubeadm's sequence: GET, then POST.
    GetFirst,
    /// The POST alone; its 409 is the `already exists` answer.
    PostOnly,
}

/// The token Secrets of one cluster.
#[derive(Clone)]
pub struct TokenStore {
    api: Api<Secret>,
    client: kube::Client,
    server: String,
    dry_run: bool,
    retry: RetryPolicy,
    clock: crate::clock::Clock,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("server", &self.server)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

impl TokenStore {
    pub fn new(client: kube::Client, server: String, dry_run: bool) -> Self {
        Self {
            api: Api::namespaced(client.clone(), NAMESPACE),
            client,
            server,
            dry_run,
            retry: RetryPolicy::default(),
            clock: crate::clock::Clock::system(),
        }
    }

    /// Sets the clock expirations are computed from (`now + ttl`).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how transient failures of idempotent calls are retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    fn url(&self, name: Option<&str>) -> String {
        let base = format!(
            "{}/api/v1/namespaces/{NAMESPACE}/secrets",
            self.server.trim_end_matches('/')
        );
        match name {
            Some(n) => format!("{base}/{n}"),
            None => base,
        }
    }

    /// Reads one token; `Ok(None)` when no Secret has its name.
    pub async fn get(&self, id: &TokenId) -> Result<Option<StoredToken>, ClusterError> {
        let name = id.secret_name();
        let secret = self.get_secret(&name).await.map_err(|f| {
            f.into_error(format!(
                "failed to get bootstrap token {}",
                crate::token::go_quote(id.as_str())
            ))
        })?;
        match secret {
            None => Ok(None),
            Some(s) => stored_from_value(&s)
                .map(Some)
                .map_err(|e| ClusterError::Api {
                    context: format!(
                        "failed to read bootstrap token {}",
                        crate::token::go_quote(id.as_str())
                    ),
                    cause: e.to_string(),
                    status: None,
                    reason: None,
                }),
        }
    }

    /// Untyped, as [`TokenStore::list_selected`], so that a Secret kube's
    /// strict decoding refuses still reads as client-go reads it.
    async fn get_secret(&self, name: &str) -> Result<Option<serde_json::Value>, RequestFailure> {
        let url = self.url(Some(name));
        let mut request = kube::core::Request::new(self.api.resource_url())
            .get(name, &kube::api::GetParams::default())
            .map_err(|e| RequestFailure {
                cause: e.to_string(),
                status: None,
                reason: None,
                transient: false,
                retry_after: None,
            })?;
        request.extensions_mut().insert("get");
        self.retry
            .run(|_| {
                let request = request.clone();
                let url = &url;
                async move {
                    match self.client.request(request).await {
                        Ok(v) => Ok(Some(v)),
                        Err(kube::Error::Api(st)) if st.is_not_found() => Ok(None),
                        Err(e) => Err(describe(&e, "Get", url)),
                    }
                }
            })
            .await
    }

    /// Creates a token as `kubeadm token create` does, failing with kubeadm's
    /// `a token with id "…" already exists` when its Secret is there
    /// (`UpdateOrCreateTokens(failIfExists)`): a GET, then the POST.
    pub async fn create(&self, token: &BootstrapToken) -> Result<StoredToken, ClusterError> {
        self.create_with(token, &BTreeMap::new(), Probe::GetFirst)
            .await
    }

    /// Creates a token in one request: the POST alone, its AlreadyExists
    /// answer giving the same `already exists` error [`TokenStore::create`]
    /// gets from its GET. For scripts and rotations, whose writes are
    /// tokensmith's own: half the round trips of kubeadm's sequence. Unlike
    /// kubeadm, a taken ID is never overwritten, even when the GET would have
    /// been forbidden. A dry run still looks first, as it sends no POST.
    pub async fn create_new(
        &self,
        token: &BootstrapToken,
        labels: &BTreeMap<String, String>,
    ) -> Result<StoredToken, ClusterError> {
        self.create_with(token, labels, Probe::PostOnly).await
    }

    /// Creates a token whose ID tokensmith generated, as
    /// [`TokenStore::create_new`] does, except that an ID already taken is
    /// not the caller's error: nobody asked for it. The token gets a fresh ID
    /// and the create is sent again (up to [`FRESH_ID_TRIES`] IDs), and the
    /// stored token says which ID it got. With 36^6 IDs a collision is rare
    /// for one token but not for many: ~2% for a batch of 10,000 beside
    /// 10,000 others.
    pub async fn create_generated(
        &self,
        token: &BootstrapToken,
        labels: &BTreeMap<String, String>,
    ) -> Result<StoredToken, ClusterError> {
        let mut token = token.clone();
        for _ in 1..FRESH_ID_TRIES {
            match self.create_new(&token, labels).await {
                Err(ClusterError::TokenExists(id)) => {
                    tracing::debug!(%id, "generated token ID already taken; generating another");
                    token.token = BootstrapTokenString::generate();
                }
                done => return done,
            }
        }
        self.create_new(&token, labels).await
    }

    async fn create_with(
        &self,
        token: &BootstrapToken,
        labels: &BTreeMap<String, String>,
        probe: Probe,
    ) -> Result<StoredToken, ClusterError> {
        let id = token.token.id();
        let name = id.secret_name();
        // kubeadm ignores GET errors other than NotFound here and goes on.
        if (probe == Probe::GetFirst || self.dry_run)
            && let Ok(Some(_)) = self.get_secret(&name).await
        {
            return Err(ClusterError::TokenExists(id.to_string()));
        }
        let now = self.clock.now();
        let secret = to_secret(token, labels, now);
        let context = format!("failed to create or update bootstrap token with name {name}");
        if self.dry_run {
            print_dry_run_create(&secret);
            return Ok(StoredToken {
                token: reread(token, now),
                created: Some(now),
                labels: labels.clone(),
            });
        }
        let url = self.url(None);
        // The request is safe to repeat: a create whose answer was lost shows up
        // as AlreadyExists on the retry and becomes an update of our own Secret,
        // exactly as kubeadm's create-or-update loop behaves.
        let created = self
            .retry
            .run(|attempt| {
                let secret = secret.clone();
                let url = url.clone();
                let name = name.clone();
                async move {
                    match self.api.create(&PostParams::default(), &secret).await {
                        Ok(s) => Ok(s),
                        Err(kube::Error::Api(st)) if st.code == 409 && attempt > 0 => {
                            self.replace(&name, secret).await
                        }
                        Err(e) => {
                            let mut f = describe(&e, "Post", &url);
                            f.cause = format!("unable to create *v1.Secret: {}", f.cause);
                            Err(f)
                        }
                    }
                }
            })
            .await
            .map_err(|f| {
                // Only the first attempt's 409 gets here: a later one is our
                // own lost create, replaced above.
                if probe == Probe::PostOnly && f.reason.as_deref() == Some("AlreadyExists") {
                    ClusterError::TokenExists(id.to_string())
                } else {
                    f.into_error(context)
                }
            })?;
        stored_from_secret(&created).map_err(|e| ClusterError::Api {
            context: format!("failed to read back bootstrap token {name}"),
            cause: e.to_string(),
            status: None,
            reason: None,
        })
    }

    async fn replace(&self, name: &str, mut secret: Secret) -> Result<Secret, RequestFailure> {
        let url = self.url(Some(name));
        let wrap = |e: kube::Error| {
            let mut f = describe(&e, "Put", &url);
            f.cause = format!("unable to update *v1.Secret: {}", f.cause);
            f
        };
        let current = self.api.get(name).await.map_err(wrap)?;
        secret.metadata.resource_version = current.metadata.resource_version;
        self.api
            .replace(name, &PostParams::default(), &secret)
            .await
            .map_err(wrap)
    }

    /// Lists token Secrets with `type=bootstrap.kubernetes.io/token`, in the
    /// server's order, decoding each; a malformed one is returned as its error.
    pub async fn list(&self) -> Result<Vec<Result<StoredToken, SecretDecodeError>>, ClusterError> {
        self.list_selected(None).await
    }

    /// [`TokenStore::list`] narrowed by a label selector (e.g. one rotation's tokens).
    pub async fn list_selected(
        &self,
        label_selector: Option<&str>,
    ) -> Result<Vec<Result<StoredToken, SecretDecodeError>>, ClusterError> {
        let mut lp = ListParams::default().fields(&format!("type={SECRET_TYPE}"));
        let mut url = format!(
            "{}?fieldSelector=type%3D{}",
            self.url(None),
            SECRET_TYPE.replace('/', "%2F")
        );
        if let Some(sel) = label_selector {
            lp = lp.labels(sel);
            url.push_str(&format!("&labelSelector={sel}"));
        }
        // Untyped, so that one Secret a strict decoder refuses costs only
        // itself: kube's typed list would fail whole on it.
        let mut request = kube::core::Request::new(self.api.resource_url())
            .list(&lp)
            .map_err(|e| ClusterError::Api {
                context: "failed to list bootstrap tokens".to_owned(),
                cause: e.to_string(),
                status: None,
                reason: None,
            })?;
        request.extensions_mut().insert("list");
        let started = std::time::Instant::now();
        let text = self
            .retry
            .run(|_| {
                let request = request.clone();
                let url = &url;
                async move {
                    self.client
                        .request_text(request)
                        .await
                        .map_err(|e| describe(&e, "Get", url))
                }
            })
            .await
            .map_err(|f| f.into_error("failed to list bootstrap tokens"))?;
        let fetched = started.elapsed();
        // Each item is read in place and only for the fields a token needs:
        // a Secret's managedFields and other metadata are skipped, not built.
        // Only text that is not JSON is an error (its message names a place,
        // not content); JSON of another shape lists nothing, as before.
        let body = match serde_json::from_str::<ListBody>(&text) {
            Ok(body) => body,
            Err(e) if e.classify() == serde_json::error::Category::Data => ListBody { items: None },
            Err(e) => {
                let failure = describe(&kube::Error::SerdeError(e), "Get", &url);
                return Err(failure.into_error("failed to list bootstrap tokens"));
            }
        };
        let items = body.items.unwrap_or_default();
        let decoded: Vec<_> = items.iter().map(|item| stored_from_raw(item)).collect();
        tracing::debug!(items = items.len(), request = ?fetched, decode = ?(started.elapsed() - fetched), "listed bootstrap tokens");
        Ok(decoded)
    }

    /// Merges `labels` into a token Secret's labels (JSON merge patch).
    pub async fn label(
        &self,
        id: &TokenId,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), ClusterError> {
        let name = id.secret_name();
        if self.dry_run {
            println!(
                "[dryrun] Would perform action PATCH on resource \"secrets\" in API group \"core/v1\""
            );
            println!("[dryrun] Resource name: {}", crate::token::go_quote(&name));
            return Ok(());
        }
        let url = self.url(Some(&name));
        let patch = serde_json::json!({ "metadata": { "labels": labels } });
        self.retry
            .run(|_| async {
                self.api
                    .patch(
                        &name,
                        &kube::api::PatchParams::default(),
                        &kube::api::Patch::Merge(&patch),
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| describe(&e, "Patch", &url))
            })
            .await
            .map_err(|f| {
                f.into_error(format!(
                    "failed to label bootstrap token {}",
                    crate::token::go_quote(id.as_str())
                ))
            })
    }

    /// Deletes a token's Secret. No preconditions, no type check (as kubeadm).
    pub async fn delete(&self, id: &TokenId) -> Result<(), ClusterError> {
        let name = id.secret_name();
        let context = format!(
            "failed to delete bootstrap token {}",
            crate::token::go_quote(id.as_str())
        );
        if self.dry_run {
            println!(
                "[dryrun] Would perform action DELETE on resource \"secrets\" in API group \"core/v1\""
            );
            println!("[dryrun] Resource name: {}", crate::token::go_quote(&name));
            return Ok(());
        }
        let url = self.url(Some(&name));
        self.retry
            .run(|attempt| {
                let (name, url) = (name.clone(), url.clone());
                async move {
                    match self.api.delete(&name, &DeleteParams::default()).await {
                        Ok(_) => Ok(()),
                        // A retried delete whose first answer was lost finds nothing left.
                        Err(kube::Error::Api(st)) if st.code == 404 && attempt > 0 => Ok(()),
                        Err(e) => Err(describe(&e, "Delete", &url)),
                    }
                }
            })
            .await
            .map_err(|f| f.into_error(context))
    }
}

/// The Secret kubeadm writes for `token` at `now`.
pub fn to_secret(
    token: &BootstrapToken,
    labels: &BTreeMap<String, String>,
    now: Timestamp,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(token.token.id().secret_name()),
            namespace: Some(NAMESPACE.to_owned()),
            labels: (!labels.is_empty()).then(|| labels.clone()),
            ..ObjectMeta::default()
        },
        type_: Some(SECRET_TYPE.to_owned()),
        data: Some(
            token
                .to_secret_data(now)
                .into_iter()
                .map(|(k, v)| (k, ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    }
}

/// The token as it will read back once stored (TTL folded into `expires`).
fn reread(token: &BootstrapToken, now: Timestamp) -> BootstrapToken {
    let mut t = token.clone();
    t.expires = token.expiration_at(now);
    t.ttl = None;
    t.usages.sort();
    t
}

/// `BootstrapTokenFromSecret` on an API object.
pub fn stored_from_secret(secret: &Secret) -> Result<StoredToken, SecretDecodeError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let data: BTreeMap<String, String> = secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect();
    let meta = &secret.metadata;
    stored(
        &name,
        &data,
        meta.creation_timestamp.as_ref().map(|t| t.0),
        meta.labels.clone().unwrap_or_default(),
    )
}

fn stored(
    name: &str,
    data: &BTreeMap<String, String>,
    created: Option<Timestamp>,
    labels: BTreeMap<String, String>,
) -> Result<StoredToken, SecretDecodeError> {
    let token = BootstrapToken::from_secret(name, data)?;
    Ok(StoredToken {
        token,
        created,
        labels,
    })
}

/// The part of a listed Secret's metadata a token needs, read in place: a
/// whole `ObjectMeta` (managedFields and all) per item was most of the
/// decoding time of a long list.
#[derive(Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct TokenMeta {
    /// Any JSON: a name that is not a string reads as none.
    name: Option<serde_json::Value>,
    creation_timestamp: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>,
    labels: Option<BTreeMap<String, String>>,
}

/// A list response, its items left unparsed.
#[derive(serde::Deserialize)]
struct ListBody<'a> {
    #[serde(default, borrow)]
    items: Option<Vec<&'a RawValue>>,
}

/// The parts of a listed Secret a token is made from: its metadata unparsed
/// (managedFields and all), its small `data` map as JSON.
#[derive(Default, serde::Deserialize)]
struct ListedSecret<'a> {
    #[serde(default, borrow)]
    metadata: Option<&'a RawValue>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// Only the name, for naming an item whose metadata does not decode.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct NameOnly {
    name: Option<serde_json::Value>,
}

/// [`stored_from_value`] on a list item still in its JSON text: the same
/// token or the same error, without building the whole object.
fn stored_from_raw(item: &RawValue) -> Result<StoredToken, SecretDecodeError> {
    // Only an object has fields (serde would also read a struct from an array).
    let parts: ListedSecret = Some(item.get())
        .filter(|text| text.trim_start().starts_with('{'))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let name_of = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) => s,
        _ => String::new(),
    };
    let (name, meta) = match parts.metadata {
        None => (String::new(), Ok(TokenMeta::default())),
        Some(m) => match serde_json::from_str::<TokenMeta>(m.get()) {
            Ok(mut meta) => (name_of(meta.name.take()), Ok(meta)),
            Err(_) => {
                let name = serde_json::from_str::<NameOnly>(m.get()).unwrap_or_default();
                (name_of(name.name), Err(()))
            }
        },
    };
    token_from_parts(name, meta, parts.data.as_ref())
}

/// Go's `base64.StdEncoding`, as client-go decodes `[]byte` (the dev
/// cluster's `go_base64_decode_len` checks the same rules): padding
/// required, stray trailing bits tolerated; CR and LF are dropped first.
const GO_STD_BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
);

/// [`stored_from_secret`] on one item of an untyped list, decoding `data`
/// as client-go does (Go's lenient base64), where kube's strict decoding
/// would refuse the whole list. A part that cannot be decoded is named,
/// never shown: it may hold a token secret.
pub fn stored_from_value(item: &serde_json::Value) -> Result<StoredToken, SecretDecodeError> {
    let raw_name = item.pointer("/metadata/name").and_then(|n| n.as_str());
    let name = raw_name.unwrap_or_default().to_owned();
    let meta = match item.get("metadata") {
        None | Some(serde_json::Value::Null) => Ok(TokenMeta::default()),
        Some(m) => serde::Deserialize::deserialize(m).map_err(|_: serde_json::Error| ()),
    };
    token_from_parts(name, meta, item.get("data"))
}

/// A token from a Secret's name, metadata (`Err` when it did not decode)
/// and `data`.
fn token_from_parts(
    name: String,
    meta: Result<TokenMeta, ()>,
    data_field: Option<&serde_json::Value>,
) -> Result<StoredToken, SecretDecodeError> {
    let undecodable = |part: String| SecretDecodeError::Undecodable {
        name: name.clone(),
        part,
    };
    let meta = meta.map_err(|()| undecodable("metadata".to_owned()))?;
    let mut data = BTreeMap::new();
    match data_field {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Object(m)) => {
            for (k, v) in m {
                let bytes = match v {
                    serde_json::Value::Null => Vec::new(),
                    serde_json::Value::String(s) => {
                        use base64::Engine;
                        let s: String = s.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
                        GO_STD_BASE64.decode(s).map_err(|_| {
                            undecodable(format!("data[{}] (not base64)", crate::token::go_quote(k)))
                        })?
                    }
                    _ => {
                        return Err(undecodable(format!(
                            "data[{}] (not a string)",
                            crate::token::go_quote(k)
                        )));
                    }
                };
                data.insert(k.clone(), String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Some(_) => return Err(undecodable("data (not a map)".to_owned())),
    }
    stored(
        &name,
        &data,
        meta.creation_timestamp.map(|t| t.0),
        meta.labels.unwrap_or_default(),
    )
}

/// kubeadm's dry-run report of a write, with the token secret masked: a
/// dry run must not print the one value it was asked not to store.
fn print_dry_run_create(secret: &Secret) {
    println!(
        "[dryrun] Would perform action CREATE on resource \"secrets\" in API group \"core/v1\""
    );
    let mut shown = serde_json::to_value(secret).unwrap_or_default();
    if let Some(v) = shown.pointer_mut("/data/token-secret") {
        *v = serde_json::Value::String("<redacted>".to_owned());
    }
    shown["apiVersion"] = "v1".into();
    shown["kind"] = "Secret".into();
    // kubeadm marshals through JSON into a map: top-level keys sorted, and
    // a blank line after the object.
    if let serde_json::Value::Object(map) = &mut shown {
        map.sort_keys();
    }
    let yaml = serde_saphyr::to_string(&shown).unwrap_or_default();
    println!("[dryrun] Attached object:\n{}\n", yaml.trim_end());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::BootstrapTokenString;

    #[test]
    fn secret_round_trips_through_the_api_shape() {
        let t = BootstrapToken::with_defaults(
            BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap(),
        );
        let now: Timestamp = "2024-01-02T03:04:05Z".parse().unwrap();
        let s = to_secret(&t, &BTreeMap::new(), now);
        assert_eq!(s.metadata.name.as_deref(), Some("bootstrap-token-abcdef"));
        assert_eq!(s.type_.as_deref(), Some(SECRET_TYPE));
        let back = stored_from_secret(&s).unwrap();
        assert_eq!(back.token, reread(&t, now));
        let back = stored_from_value(&serde_json::to_value(&s).unwrap()).unwrap();
        assert_eq!(back.token, reread(&t, now));
    }

    #[test]
    fn an_undecodable_secret_is_named_and_its_values_never_shown() {
        let item = |data: serde_json::Value| serde_json::json!({"metadata": {"name": "bootstrap-token-abcdef"}, "data": data});
        for (data, part) in [
            (
                serde_json::json!({"token-secret": "SECRETSECRET!!"}),
                "data[\"token-secret\"] (not base64)",
            ),
            (
                serde_json::json!({"token-secret": 12345678}),
                "data[\"token-secret\"] (not a string)",
            ),
            (serde_json::json!("SECRETSECRET"), "data (not a map)"),
        ] {
            let e = stored_from_value(&item(data)).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "[token] skipping Secret \"bootstrap-token-abcdef\": its {part} cannot be decoded"
                )
            );
        }
        let bad_meta = serde_json::json!({"metadata": {"name": "x", "labels": {"a": 1}}});
        assert!(
            stored_from_value(&bad_meta)
                .unwrap_err()
                .to_string()
                .contains("its metadata")
        );
        // Go's decoder ignores stray bits in the last quantum; so do we.
        let sloppy = item(serde_json::json!({
            "token-id": "YWJjZGVm", "token-secret": "MDEyMzQ1Njc4OWFiY2RlZh=="
        }));
        let t = stored_from_value(&sloppy).unwrap();
        assert_eq!(t.token.token.secret(), "0123456789abcdef");
    }

    /// The list reads items in place; every shape of item, good or bad,
    /// must come out as reading the whole object would make it.
    #[test]
    fn a_list_item_read_in_place_reads_as_the_whole_object_does() {
        use serde_json::json;
        let good_data = json!({"token-id": "YWJjZGVm", "token-secret": "MDEyMzQ1Njc4OWFiY2RlZg==",
                               "expiration": "MjAzMC0wMS0wMVQwMDowMDowMFo=", "usage-bootstrap-signing": "dHJ1ZQ=="});
        let meta = json!({"name": "bootstrap-token-abcdef", "creationTimestamp": "2029-01-01T00:00:00Z",
                          "labels": {"a": "b"}, "managedFields": [{"manager": "m", "fieldsV1": {"f:data": {}}}]});
        let items = [
            json!({"metadata": meta, "data": good_data}),
            json!({"metadata": meta, "data": good_data, "type": "bootstrap.kubernetes.io/token"}),
            json!({"metadata": {"name": 5}, "data": good_data}),
            json!({"metadata": null, "data": good_data}),
            json!({"data": good_data}),
            json!({"metadata": 5, "data": good_data}),
            json!({"metadata": {"name": "x", "labels": {"a": 1}}, "data": good_data}),
            json!({"metadata": {"name": "x", "creationTimestamp": "yesterday"}, "data": good_data}),
            json!({"metadata": meta, "data": null}),
            json!({"metadata": meta}),
            json!({"metadata": meta, "data": "SECRETSECRET"}),
            json!({"metadata": meta, "data": {"token-id": null, "token-secret": "MDEyMzQ1Njc4OWFiY2RlZg=="}}),
            json!({"metadata": meta, "data": {"token-id": 5}}),
            json!({"metadata": meta, "data": {"token-id": "YWJj\nZGVm", "token-secret": "!!"}}),
            json!("a string"),
            json!(null),
            json!([1, 2]),
        ];
        for item in items {
            let raw = serde_json::value::to_raw_value(&item).unwrap();
            assert_eq!(stored_from_raw(&raw), stored_from_value(&item), "{item}");
        }
    }
}
