//! Who is asking, and may they? Authentication: the admin bearer token,
//! bootstrap tokens exactly as kube-apiserver's bootstrap-token authenticator
//! checks them (plugin/pkg/auth/authenticator/token/bootstrap, spec §12), and
//! anonymous. Authorization: what kubeadm's RBAC grants those users.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::token::BootstrapTokenString;
use crate::token::Expiry;
use crate::token::validate::is_valid_group;

use super::objects;
use super::resources::Resource;
use super::status::ApiError;
use super::store::{Key, Store};

pub const BOOTSTRAP_TOKEN_TYPE: &str = "bootstrap.kubernetes.io/token";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum User {
    Admin,
    Anonymous,
    Bootstrap {
        id: String,
        groups: Vec<String>,
    },
    /// A client certificate signed by the cluster CA: CN and O.
    Certificate {
        name: String,
        groups: Vec<String>,
    },
}

impl User {
    /// Groups as the authenticator chain reports them (authenticated users
    /// also get `system:authenticated`).
    pub fn groups(&self) -> Vec<String> {
        match self {
            User::Admin => vec![
                "kubeadm:cluster-admins".into(),
                "system:authenticated".into(),
            ],
            User::Anonymous => vec!["system:unauthenticated".into()],
            User::Bootstrap { groups, .. } | User::Certificate { groups, .. } => {
                let mut g = groups.clone();
                g.push("system:authenticated".into());
                g
            }
        }
    }

    pub fn name(&self) -> String {
        match self {
            User::Admin => "kubernetes-admin".to_string(),
            User::Anonymous => "system:anonymous".to_string(),
            User::Bootstrap { id, .. } => format!("system:bootstrap:{id}"),
            User::Certificate { name, .. } => name.clone(),
        }
    }
}

/// kube-apiserver's x509 authenticator (request/x509 `CommonNameUserConversion`):
/// a client certificate the TLS handshake verified against the cluster CA
/// names the user (CN) and its groups (O). One without a CN authenticates nobody.
pub fn certificate_user(der: &[u8]) -> Option<User> {
    let (cn, groups) = crate::token::csr::certificate_subject(der).ok()?;
    let name = cn.filter(|c| !c.is_empty())?;
    Some(User::Certificate { name, groups })
}

/// The Node authorizer, approximated for registration: a member of
/// `system:nodes` named `system:node:<name>` may create and get the Node
/// `<name>`, and no other (plugin/pkg/auth/authorizer/node, NodeRestriction).
fn node_may(user: &User, verb: &str, resource: Resource, name: Option<&str>) -> bool {
    let User::Certificate { name: cn, groups } = user else {
        return false;
    };
    let Some(own) = cn.strip_prefix("system:node:") else {
        return false;
    };
    // A create names its Node in the body: [`admit_node_create`] checks it.
    resource == Resource::Nodes
        && groups.iter().any(|g| g == "system:nodes")
        && match verb {
            "create" => name.is_none() || name == Some(own),
            "get" => name == Some(own),
            _ => false,
        }
}

/// NodeRestriction admission for a Node create by a node: only its own Node.
pub fn admit_node_create(user: &User, resource: Resource, body: &[u8]) -> Result<(), ApiError> {
    let User::Certificate { name: cn, .. } = user else {
        return Ok(());
    };
    let Some(own) = cn.strip_prefix("system:node:") else {
        return Ok(());
    };
    if resource != Resource::Nodes {
        return Ok(());
    }
    let asked = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    if asked == own {
        return Ok(());
    }
    Err(ApiError::forbidden(
        format!(
            "nodes \"{asked}\" is forbidden: node \"{own}\" is not allowed to modify node \"{asked}\""
        ),
        Some(asked.as_str()),
        Some("nodes"),
    ))
}

/// The Authorization header's verdict. `None` is a 401.
pub fn authenticate(header: Option<&str>, admin_token: &str, store: &Store) -> Option<User> {
    let Some(header) = header else {
        return Some(User::Anonymous);
    };
    let (scheme, token) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    if token.is_empty() {
        return None;
    }
    if constant_time_eq(token.as_bytes(), admin_token.as_bytes()) {
        return Some(User::Admin);
    }
    bootstrap_user(token, store, store.clock().now())
}

/// Every check of the upstream authenticator, in its order. Rejections are
/// logged without the secret, as upstream logs them at -v=3.
pub fn bootstrap_user(token: &str, store: &Store, now: jiff::Timestamp) -> Option<User> {
    // 1. Not of the token form: not ours to judge.
    let parsed = BootstrapTokenString::parse(token).ok()?;
    let id = parsed.id().as_str().to_string();
    let name = parsed.id().secret_name();
    let reject = |why: &str| {
        tracing::debug!("Bootstrap secret kube-system/{name} matching bearer token {why}");
        None
    };
    // 2. The Secret.
    let Some(secret) = store.get(&Key::new(Resource::Secrets, "kube-system", &name)) else {
        tracing::debug!("No secret of name {name} to match bootstrap bearer token");
        return None;
    };
    // 3. Being deleted.
    if objects::meta(&secret)
        .is_some_and(|m| m.get("deletionTimestamp").is_some_and(|d| !d.is_null()))
    {
        return reject("is deleted and awaiting removal");
    }
    // 4. Type and data.
    if secret.get("type").and_then(Value::as_str) != Some(BOOTSTRAP_TOKEN_TYPE) {
        return reject(&format!(
            "has invalid type, expected {BOOTSTRAP_TOKEN_TYPE}"
        ));
    }
    let Some(data) = secret_data(&secret) else {
        return reject("has no data");
    };
    let get = |k: &str| {
        data.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    // 5. The secret, compared in constant time.
    if !constant_time_eq(
        get("token-secret").unwrap_or("").as_bytes(),
        parsed.secret().as_bytes(),
    ) {
        return reject("has invalid value for key token-secret");
    }
    // 6. The id.
    if get("token-id") != Some(id.as_str()) {
        return reject("has invalid value for key token-id");
    }
    // 7. Expiry; an unparsable expiration counts as expired.
    if is_expired(get("expiration"), now) {
        return reject("has expired");
    }
    // 8. Usage.
    if get("usage-bootstrap-authentication") != Some("true") {
        return reject("not marked usage-bootstrap-authentication=true");
    }
    // 9. Extra groups, all valid or the token fails.
    let mut groups = vec!["system:bootstrappers".to_string()];
    if let Some(extra) = get("auth-extra-groups")
        && !extra.is_empty()
    {
        for g in extra.split(',') {
            if !is_valid_group(g) {
                return reject("has invalid value for key auth-extra-groups");
            }
            groups.push(g.to_string());
        }
    }
    groups.sort();
    groups.dedup();
    Some(User::Bootstrap { id, groups })
}

/// A token Secret's `expiration` as util/secrets.GetExpiration reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// Absent or empty.
    Never,
    /// Present but not RFC 3339: counts as expired.
    Unparsable,
    At(Expiry),
}

impl Expiration {
    pub fn parse(expiration: Option<&str>) -> Self {
        match expiration {
            None | Some("") => Expiration::Never,
            Some(s) => Expiry::parse(s).map_or(Expiration::Unparsable, Expiration::At),
        }
    }

    /// Never expired, unparsable expired, the exact instant expired.
    pub fn is_expired(&self, now: jiff::Timestamp) -> bool {
        match self {
            Expiration::Never => false,
            Expiration::Unparsable => true,
            Expiration::At(e) => e.is_expired(now),
        }
    }
}

/// util/secrets.GetExpiration's verdict: absent or empty is never expired,
/// unparsable is expired, the exact instant is expired.
pub fn is_expired(expiration: Option<&str>, now: jiff::Timestamp) -> bool {
    Expiration::parse(expiration).is_expired(now)
}

/// One `data` value decoded; a value that is not base64 text reads as empty.
pub fn decode_data_value(value: &Value) -> String {
    value
        .as_str()
        .and_then(|s| STANDARD.decode(s).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A Secret's data decoded to strings; None when there is no data map.
pub fn secret_data(secret: &Value) -> Option<Vec<(String, String)>> {
    let m = secret.get("data")?.as_object()?;
    Some(
        m.iter()
            .map(|(k, v)| (k.clone(), decode_data_value(v)))
            .collect(),
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What is being asked, for authorization.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// A non-resource path such as `/version` or `/api`.
    Path(&'a str),
    Resource {
        verb: &'a str,
        resource: Resource,
        namespace: &'a str,
        name: Option<&'a str>,
    },
}

/// The group kubeadm binds `system:node-bootstrapper` and the nodeclient
/// auto-approval to (kubeadm:kubelet-bootstrap, kubeadm:node-autoapprove-bootstrap).
pub const DEFAULT_NODE_TOKEN_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";

/// ClusterRole system:node-bootstrapper: what a joining kubelet may do with CSRs.
const NODE_BOOTSTRAPPER_VERBS: [&str; 4] = ["create", "get", "list", "watch"];

/// The SubjectAccessReview the csrapprover makes: may these groups `create
/// certificatesigningrequests/<sub>`? kubeadm binds `nodeclient` to the
/// default node-token group and `selfnodeclient` to `system:nodes`.
pub fn may_create_csr_subresource(groups: &[String], sub: &str) -> bool {
    let has = |g: &str| groups.iter().any(|x| x == g);
    match sub {
        "nodeclient" => has(DEFAULT_NODE_TOKEN_GROUP),
        "selfnodeclient" => has("system:nodes"),
        _ => false,
    }
}

/// kubeadm's RBAC, reduced to the users the dev cluster knows.
pub fn authorize(user: &User, target: &Target<'_>) -> Result<(), ApiError> {
    if *user == User::Admin {
        return Ok(());
    }
    match target {
        Target::Path(path) => {
            // system:public-info-viewer (everyone) and system:discovery
            // (authenticated users only).
            let public = matches!(
                *path,
                "/version" | "/version/" | "/healthz" | "/livez" | "/readyz"
            );
            let discovery = *path == "/api"
                || *path == "/apis"
                || path.starts_with("/api/")
                || path.starts_with("/apis/")
                || path.starts_with("/openapi/");
            if public || (discovery && *user != User::Anonymous) {
                Ok(())
            } else {
                Err(ApiError::forbidden(
                    format!(
                        "forbidden: User \"{}\" cannot get path \"{path}\"",
                        user.name()
                    ),
                    None,
                    None,
                ))
            }
        }
        Target::Resource {
            verb,
            resource,
            namespace,
            name,
        } => {
            // Role kubeadm:bootstrap-signer-clusterinfo, bound to the user
            // system:anonymous only (kubeadm phases/bootstraptoken/clusterinfo):
            // a bootstrap token is refused, so `kubeadm join` reads it anonymously.
            if *user == User::Anonymous
                && *verb == "get"
                && *resource == Resource::ConfigMaps
                && *namespace == "kube-public"
                && *name == Some("cluster-info")
            {
                return Ok(());
            }
            if *resource == Resource::CertificateSigningRequests
                && NODE_BOOTSTRAPPER_VERBS.contains(verb)
                && user.groups().iter().any(|g| g == DEFAULT_NODE_TOKEN_GROUP)
            {
                return Ok(());
            }
            if node_may(user, verb, *resource, *name) {
                return Ok(());
            }
            let scope = if resource.namespaced() && !namespace.is_empty() {
                format!("in the namespace \"{namespace}\"")
            } else {
                "at the cluster scope".to_string()
            };
            let subject = match name {
                Some(n) => format!("{} \"{n}\"", resource.qualified()),
                None => resource.qualified(),
            };
            Err(ApiError::forbidden(
                format!(
                    "{subject} is forbidden: User \"{}\" cannot {verb} resource \"{}\" in API group \"{}\" {scope}",
                    user.name(),
                    resource.plural(),
                    resource.group()
                ),
                *name,
                Some(resource.plural()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_certificate_may_create_and_get_only_its_own_node() {
        let node = User::Certificate {
            name: "system:node:a".into(),
            groups: vec!["system:nodes".into()],
        };
        let t = |verb, name| Target::Resource {
            verb,
            resource: Resource::Nodes,
            namespace: "",
            name,
        };
        assert!(authorize(&node, &t("create", None)).is_ok());
        assert!(authorize(&node, &t("get", Some("a"))).is_ok());
        assert!(authorize(&node, &t("get", Some("b"))).is_err());
        assert!(authorize(&node, &t("delete", Some("a"))).is_err());
        assert!(admit_node_create(&node, Resource::Nodes, br#"{"metadata":{"name":"a"}}"#).is_ok());
        let e = admit_node_create(&node, Resource::Nodes, br#"{"metadata":{"name":"b"}}"#)
            .expect_err("another node's");
        assert_eq!(e.code, 403);
        let not_a_node = User::Certificate {
            name: "someone".into(),
            groups: vec!["system:nodes".into()],
        };
        assert!(authorize(&not_a_node, &t("create", None)).is_err());
        assert_eq!(node.name(), "system:node:a");
        assert_eq!(node.groups(), ["system:nodes", "system:authenticated"]);
    }

    #[test]
    fn anonymous_may_only_read_cluster_info() {
        let ok = Target::Resource {
            verb: "get",
            resource: Resource::ConfigMaps,
            namespace: "kube-public",
            name: Some("cluster-info"),
        };
        assert!(authorize(&User::Anonymous, &ok).is_ok());
        let list = Target::Resource {
            verb: "list",
            resource: Resource::Secrets,
            namespace: "kube-system",
            name: None,
        };
        let e = authorize(&User::Anonymous, &list).expect_err("forbidden");
        assert_eq!(e.code, 403);
        assert_eq!(
            e.message,
            "secrets is forbidden: User \"system:anonymous\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\""
        );
    }

    #[test]
    fn discovery_needs_authentication_but_version_does_not() {
        assert!(authorize(&User::Anonymous, &Target::Path("/version")).is_ok());
        let e = authorize(&User::Anonymous, &Target::Path("/api")).expect_err("forbidden");
        assert_eq!(
            e.message,
            "forbidden: User \"system:anonymous\" cannot get path \"/api\""
        );
        let b = User::Bootstrap {
            id: "abcdef".into(),
            groups: vec![],
        };
        assert!(authorize(&b, &Target::Path("/api")).is_ok());
    }

    #[test]
    fn expiry_follows_get_expiration() {
        let now: jiff::Timestamp = "2030-01-01T00:00:00Z".parse().expect("ts");
        assert!(!is_expired(None, now));
        assert!(!is_expired(Some(""), now));
        assert!(is_expired(Some("garbage"), now));
        assert!(is_expired(Some("2030-01-01T00:00:00Z"), now));
        assert!(!is_expired(Some("2030-01-01T00:00:01Z"), now));
    }
}
