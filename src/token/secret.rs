//! The bootstrap token and its Secret encoding (spec §2): kubeadm's
//! `BootstrapToken`, `encodeTokenSecretData` and `BootstrapTokenFromSecret`.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};

use super::expiry::Expiry;
use super::quote::go_quote;
use super::validate::{DEFAULT_GROUP, KNOWN_USAGES};
use super::value::{BootstrapTokenString, SECRET_NAME_PREFIX, TOKEN_PATTERN};

pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
pub const NAMESPACE: &str = "kube-system";
pub const KEY_TOKEN_ID: &str = "token-id";
pub const KEY_TOKEN_SECRET: &str = "token-secret";
pub const KEY_DESCRIPTION: &str = "description";
pub const KEY_EXPIRATION: &str = "expiration";
pub const KEY_EXTRA_GROUPS: &str = "auth-extra-groups";
pub const USAGE_KEY_PREFIX: &str = "usage-bootstrap-";

/// One bootstrap token as kubeadm models it (`bootstraptoken/v1.BootstrapToken`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootstrapToken {
    pub token: BootstrapTokenString,
    pub description: String,
    /// Only set on tokens being created; always `None` when read back.
    pub ttl: Option<SignedDuration>,
    pub expires: Option<Expiry>,
    pub usages: Vec<String>,
    pub groups: Vec<String>,
}

impl BootstrapToken {
    /// A token with kubeadm's defaults: 24h TTL, both usages, the default group.
    pub fn with_defaults(token: BootstrapTokenString) -> Self {
        Self {
            token,
            description: String::new(),
            ttl: Some(default_ttl()),
            expires: None,
            usages: KNOWN_USAGES.iter().map(|s| s.to_string()).collect(),
            groups: vec![DEFAULT_GROUP.to_owned()],
        }
    }

    /// The expiration this token gets when written at `now` (spec §2):
    /// `expires` wins; else a positive TTL; zero or negative TTL never expires.
    pub fn expiration_at(&self, now: Timestamp) -> Option<Expiry> {
        if let Some(e) = self.expires {
            return Some(Expiry::utc(e.timestamp()));
        }
        match self.ttl {
            Some(ttl) if ttl > SignedDuration::ZERO => Some(Expiry::after(now, ttl)),
            _ => None,
        }
    }

    /// `encodeTokenSecretData`: the Secret's decoded `data` map.
    pub fn to_secret_data(&self, now: Timestamp) -> BTreeMap<String, String> {
        let mut data = BTreeMap::new();
        data.insert(KEY_TOKEN_ID.to_owned(), self.token.id().to_string());
        data.insert(KEY_TOKEN_SECRET.to_owned(), self.token.secret().to_owned());
        if !self.description.is_empty() {
            data.insert(KEY_DESCRIPTION.to_owned(), self.description.clone());
        }
        if let Some(e) = self.expiration_at(now) {
            data.insert(KEY_EXPIRATION.to_owned(), e.to_rfc3339());
        }
        for u in &self.usages {
            data.insert(format!("{USAGE_KEY_PREFIX}{u}"), "true".to_owned());
        }
        if !self.groups.is_empty() {
            data.insert(KEY_EXTRA_GROUPS.to_owned(), self.groups.join(","));
        }
        data
    }

    /// `BootstrapTokenFromSecret`: every check, in upstream order, with its
    /// message. `name` is the Secret's name, `data` its decoded data.
    pub fn from_secret(
        name: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<Self, SecretDecodeError> {
        let get = |k: &str| data.get(k).map(String::as_str).unwrap_or("");
        let id = get(KEY_TOKEN_ID);
        if id.is_empty() {
            return Err(SecretDecodeError::NoTokenId(name.to_owned()));
        }
        let expected = format!("{SECRET_NAME_PREFIX}{id}");
        if name != expected {
            return Err(SecretDecodeError::BadName {
                actual: name.to_owned(),
                expected,
            });
        }
        let secret = get(KEY_TOKEN_SECRET);
        if secret.is_empty() {
            return Err(SecretDecodeError::NoTokenSecret(name.to_owned()));
        }
        let token = BootstrapTokenString::from_parts(id, secret)
            .map_err(|_| SecretDecodeError::Unparsable { id: id.to_owned() })?;
        let expires = match get(KEY_EXPIRATION) {
            "" => None,
            s => Some(
                Expiry::parse(s).map_err(|e| SecretDecodeError::BadExpiration {
                    name: name.to_owned(),
                    cause: e.to_string(),
                })?,
            ),
        };
        let mut usages: Vec<String> = data
            .iter()
            .filter(|(k, v)| k.starts_with(USAGE_KEY_PREFIX) && v.as_str() == "true")
            .map(|(k, _)| k[USAGE_KEY_PREFIX.len()..].to_owned())
            .collect();
        usages.sort();
        let groups = match get(KEY_EXTRA_GROUPS) {
            "" => Vec::new(),
            g => g.split(',').map(str::to_owned).collect(),
        };
        Ok(Self {
            token,
            description: get(KEY_DESCRIPTION).to_owned(),
            ttl: None,
            expires,
            usages,
            groups,
        })
    }
}

/// kubeadm's `--ttl` default.
pub fn default_ttl() -> SignedDuration {
    SignedDuration::from_hours(24)
}

/// Why a Secret is not a readable bootstrap token; messages are kubeadm's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretDecodeError {
    #[error("bootstrap Token Secret has no token-id data: {0}")]
    NoTokenId(String),
    #[error("bootstrap token name is not of the form 'bootstrap-token-(token-id)'. Actual: {}. Expected: {}", go_quote(.actual), go_quote(.expected))]
    BadName { actual: String, expected: String },
    #[error("bootstrap Token Secret has no token-secret data: {0}")]
    NoTokenSecret(String),
    /// kubeadm prints the whole `id.secret` here; the secret part is replaced
    /// with asterisks so that a malformed Secret never leaks it to a terminal log.
    #[error("bootstrap Token Secret is invalid and couldn't be parsed: the bootstrap token {} was not of the form {}", go_quote(&format!("{}.<redacted>", .id)), go_quote(TOKEN_PATTERN))]
    Unparsable { id: String },
    #[error("can't parse expiration time of bootstrap token {}: {cause}", go_quote(.name))]
    BadExpiration { name: String, cause: String },
    /// Not kubeadm's: client-go would have refused the whole list. `part`
    /// names what failed to decode, never its value.
    #[error("[token] skipping Secret {}: its {part} cannot be decoded", go_quote(.name))]
    Undecodable { name: String, part: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> BootstrapTokenString {
        BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap()
    }

    fn now() -> Timestamp {
        "2024-01-02T03:04:05.6Z".parse().unwrap()
    }

    #[test]
    fn encodes_kubeadm_layout() {
        let mut t = BootstrapToken::with_defaults(token());
        t.description = "hello".into();
        let d = t.to_secret_data(now());
        let keys: Vec<_> = d.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "auth-extra-groups",
                "description",
                "expiration",
                "token-id",
                "token-secret",
                "usage-bootstrap-authentication",
                "usage-bootstrap-signing"
            ]
        );
        assert_eq!(d["expiration"], "2024-01-03T03:04:05Z");
        assert_eq!(d["auth-extra-groups"], DEFAULT_GROUP);
    }

    #[test]
    fn zero_or_negative_ttl_never_expires() {
        let mut t = BootstrapToken::with_defaults(token());
        t.description.clear();
        t.groups.clear();
        for ttl in [SignedDuration::ZERO, SignedDuration::from_hours(-1)] {
            t.ttl = Some(ttl);
            let d = t.to_secret_data(now());
            assert!(!d.contains_key("expiration"));
            assert!(!d.contains_key("description"));
            assert!(!d.contains_key("auth-extra-groups"));
        }
    }

    #[test]
    fn decodes_what_it_encodes() {
        let t = BootstrapToken::with_defaults(token());
        let back = BootstrapToken::from_secret("bootstrap-token-abcdef", &t.to_secret_data(now()))
            .unwrap();
        assert_eq!(back.token, t.token);
        assert_eq!(back.usages, ["authentication", "signing"]);
        assert_eq!(back.groups, [DEFAULT_GROUP]);
        assert_eq!(back.ttl, None);
        assert_eq!(back.expires.unwrap().to_rfc3339(), "2024-01-03T03:04:05Z");
    }

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn decode_errors_are_kubeadms() {
        let e = |name: &str, d: &[(&str, &str)]| {
            BootstrapToken::from_secret(name, &data(d))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("x", &[]),
            "bootstrap Token Secret has no token-id data: x"
        );
        assert_eq!(
            e("bootstrap-token-x", &[("token-id", "abcdef")]),
            r#"bootstrap token name is not of the form 'bootstrap-token-(token-id)'. Actual: "bootstrap-token-x". Expected: "bootstrap-token-abcdef""#
        );
        assert_eq!(
            e("bootstrap-token-abcdef", &[("token-id", "abcdef")]),
            "bootstrap Token Secret has no token-secret data: bootstrap-token-abcdef"
        );
        let m = e(
            "bootstrap-token-abcdef",
            &[("token-id", "abcdef"), ("token-secret", "TOPSECRETVALUE00")],
        );
        assert!(m.starts_with("bootstrap Token Secret is invalid and couldn't be parsed: the bootstrap token \"abcdef."));
        assert!(!m.contains("TOPSECRET"));
        assert_eq!(
            e(
                "bootstrap-token-abcdef",
                &[
                    ("token-id", "abcdef"),
                    ("token-secret", "0123456789abcdef"),
                    ("expiration", "soon")
                ]
            ),
            r#"can't parse expiration time of bootstrap token "bootstrap-token-abcdef": parsing time "soon" as "2006-01-02T15:04:05Z07:00": cannot parse "soon" as "2006""#
        );
    }

    #[test]
    fn usages_are_any_true_prefix_key_sorted() {
        let t = BootstrapToken::from_secret(
            "bootstrap-token-abcdef",
            &data(&[
                ("token-id", "abcdef"),
                ("token-secret", "0123456789abcdef"),
                ("usage-bootstrap-signing", "true"),
                ("usage-bootstrap-foo", "true"),
                ("usage-bootstrap-authentication", "false"),
                ("auth-extra-groups", "b,a,b"),
            ]),
        )
        .unwrap();
        assert_eq!(t.usages, ["foo", "signing"]);
        assert_eq!(t.groups, ["b", "a", "b"]);
    }
}
