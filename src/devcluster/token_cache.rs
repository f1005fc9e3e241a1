//! What the controllers read from the token Secrets, decoded once per version
//! of each Secret rather than on every pass.
//!
//! The store never changes a stored object in place (a write stores a new
//! `Arc`), and while the cache holds an object's `Arc` its allocation cannot
//! be reused, so the address names that exact version. A pass then costs a
//! list and one lookup per Secret in `kube-system`; only a Secret written
//! since the last pass has its `data` base64-decoded and its expiration
//! parsed. Without this, the two controllers' passes (each O(tokens), run after
//! every write) took three quarters of a dev cluster's CPU under a stream of
//! creates at a few thousand tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::token::TokenId;

use super::auth::{BOOTSTRAP_TOKEN_TYPE, Expiration, decode_data_value};
use super::objects::{self, Stored};
use super::resources::Resource;
use super::store::Store;

const TOKEN_PREFIX: &str = "bootstrap-token-";

/// One token Secret's fields, decoded as [`super::auth::secret_data`] decodes
/// them (a value that is not base64 reads as empty).
#[derive(Debug)]
pub struct TokenFields {
    /// The Secret's name.
    pub name: String,
    pub uid: String,
    /// The ID in the name (`bootstrap-token-<id>`), if it is a valid one.
    pub name_id: Option<TokenId>,
    pub token_id: String,
    pub token_secret: String,
    /// `usage-bootstrap-signing` is `"true"`.
    pub signing: bool,
    expiration: Expiration,
}

impl TokenFields {
    /// The fields of a Secret with a `data` map; None without one.
    pub fn of(secret: &Value) -> Option<TokenFields> {
        let data = secret.get("data")?.as_object()?;
        let name = objects::name(secret).to_string();
        let expiration = Expiration::parse(field(data, "expiration").as_deref());
        Some(TokenFields {
            name_id: name.strip_prefix(TOKEN_PREFIX).and_then(TokenId::parse),
            uid: objects::uid(secret).to_string(),
            token_id: field(data, "token-id").unwrap_or_default(),
            token_secret: field(data, "token-secret").unwrap_or_default(),
            signing: field(data, "usage-bootstrap-signing").as_deref() == Some("true"),
            expiration,
            name,
        })
    }

    /// As `util/secrets.GetExpiration` decides it ([`Expiration::is_expired`]).
    pub fn is_expired(&self, now: jiff::Timestamp) -> bool {
        self.expiration.is_expired(now)
    }

    /// Time until a parsable expiration (zero once it has passed).
    pub fn remaining(&self, now: jiff::Timestamp) -> Option<Duration> {
        let Expiration::At(e) = &self.expiration else {
            return None;
        };
        Some(Duration::try_from(e.remaining(now)).unwrap_or(Duration::ZERO))
    }
}

/// One `data` field decoded, if the Secret has it.
fn field(data: &Map<String, Value>, key: &str) -> Option<String> {
    data.get(key).map(decode_data_value)
}

/// The fields of every `kube-system` Secret seen in the last pass, by the
/// address of the stored version (held, so no other object can take it).
#[derive(Default)]
pub struct TokenCache {
    seen: HashMap<usize, Seen>,
    pass: u64,
}

struct Seen {
    _object: Arc<Stored>,
    fields: Option<Arc<TokenFields>>,
    /// The last pass that listed it.
    pass: u64,
}

impl TokenCache {
    /// The bootstrap-token Secrets the store holds now, in its order;
    /// versions no longer there are forgotten.
    pub fn tokens(&mut self, store: &Store) -> Vec<Arc<TokenFields>> {
        let (secrets, _) = store.list(Resource::Secrets, Some("kube-system"));
        self.pass += 1;
        let pass = self.pass;
        let listed = secrets.len();
        let mut out = Vec::with_capacity(listed);
        for s in secrets {
            let at = Arc::as_ptr(&s) as usize;
            if let Some(seen) = self.seen.get_mut(&at) {
                seen.pass = pass;
                out.extend(seen.fields.clone());
                continue;
            }
            let fields = Some(s.value())
                .filter(|v| v.get("type").and_then(Value::as_str) == Some(BOOTSTRAP_TOKEN_TYPE))
                .and_then(TokenFields::of)
                .map(Arc::new);
            out.extend(fields.clone());
            let seen = Seen {
                _object: s,
                fields,
                pass,
            };
            self.seen.insert(at, seen);
        }
        // Under a stream of creates nothing goes, and this is skipped.
        if self.seen.len() > listed {
            self.seen.retain(|_, seen| seen.pass == pass);
        }
        out
    }
}

/// The earliest time until a parsable expiration among `tokens`.
pub fn next_expiry<'a>(
    tokens: impl IntoIterator<Item = &'a Arc<TokenFields>>,
    now: jiff::Timestamp,
) -> Option<Duration> {
    tokens.into_iter().filter_map(|t| t.remaining(now)).min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;

    use crate::devcluster::store::Key;

    fn secret(name: &str, kind: &str, data: &[(&str, &str)]) -> Value {
        let data: Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_string(), json!(STANDARD.encode(v))))
            .collect();
        json!({"apiVersion": "v1", "kind": "Secret", "type": kind,
               "metadata": {"name": name, "namespace": "kube-system", "uid": objects::new_uid()},
               "data": data})
    }

    async fn put(store: &Store, s: Value) {
        let key = Key::new(Resource::Secrets, "kube-system", objects::name(&s));
        store
            .transact(false, |tx| Ok(tx.put(key, s)))
            .await
            .expect("put");
    }

    #[tokio::test]
    async fn a_rewritten_secret_is_read_again_and_a_deleted_one_is_forgotten() {
        let store = Store::open(None).expect("store");
        let mut cache = TokenCache::default();
        let token = |exp: &str| {
            secret(
                "bootstrap-token-abcdef",
                BOOTSTRAP_TOKEN_TYPE,
                &[("token-id", "abcdef"), ("expiration", exp)],
            )
        };
        put(&store, token("2030-01-01T00:00:00Z")).await;
        put(&store, secret("other", "Opaque", &[("token-id", "zzzzzz")])).await;
        let now: jiff::Timestamp = "2029-12-31T23:59:00Z".parse().expect("ts");

        let first = cache.tokens(&store);
        assert_eq!(first.len(), 1, "only the bootstrap-token Secret");
        assert_eq!(first[0].remaining(now), Some(Duration::from_secs(60)));
        let again = cache.tokens(&store);
        assert!(
            Arc::ptr_eq(&first[0], &again[0]),
            "unchanged: not decoded again"
        );

        put(&store, token("2029-12-31T23:59:30Z")).await;
        let rewritten = cache.tokens(&store);
        assert!(!Arc::ptr_eq(&first[0], &rewritten[0]));
        assert_eq!(rewritten[0].remaining(now), Some(Duration::from_secs(30)));

        let key = Key::new(Resource::Secrets, "kube-system", "bootstrap-token-abcdef");
        store
            .transact(false, |tx| Ok(tx.remove(&key)))
            .await
            .expect("delete");
        assert!(cache.tokens(&store).is_empty());
        assert_eq!(cache.seen.len(), 1, "only the Opaque Secret is still held");
    }

    #[test]
    fn expirations_are_judged_as_the_upstream_controllers_judge_them() {
        let now: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().expect("ts");
        let with = |exp: Option<&str>| {
            let mut data = vec![("token-id", "abcdef")];
            data.extend(exp.map(|e| ("expiration", e)));
            TokenFields::of(&secret(
                "bootstrap-token-abcdef",
                BOOTSTRAP_TOKEN_TYPE,
                &data,
            ))
            .expect("has data")
        };
        assert!(!with(None).is_expired(now), "no expiration never expires");
        assert!(!with(Some("")).is_expired(now), "empty reads as none");
        assert!(
            with(Some("soon")).is_expired(now),
            "unparsable counts as expired"
        );
        assert_eq!(with(Some("soon")).remaining(now), None);
        assert!(
            with(Some("2030-01-01T00:00:00Z")).is_expired(now),
            "the instant itself"
        );
        assert!(!with(Some("2030-01-01T00:00:01Z")).is_expired(now));
        assert_eq!(
            with(Some("2029-01-01T00:00:00Z")).remaining(now),
            Some(Duration::ZERO)
        );
        let mut not_base64 = secret("bootstrap-token-abcdef", BOOTSTRAP_TOKEN_TYPE, &[]);
        not_base64["data"]["expiration"] = json!("%%%");
        let fields = TokenFields::of(&not_base64).expect("has data");
        assert!(
            !fields.is_expired(now),
            "text that is not base64 reads as empty"
        );
        assert_eq!(fields.name_id.as_ref().map(|i| i.as_str()), Some("abcdef"));
        assert!(TokenFields::of(&json!({"metadata": {"name": "x"}})).is_none());
    }
}
