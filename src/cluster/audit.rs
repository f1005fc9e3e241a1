//! Who used which token. A joining kubelet creates its client CSR as
//! `system:bootstrap:<token-id>`, so the CSRs name the token behind every
//! join; the Nodes say which joins completed. From those and the token
//! Secrets: per token its CSRs and nodes, the tokens never used, and the
//! tokens used after a newer published token of their rotation existed.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use serde::Serialize;

use super::error::{ClusterError, describe};
use super::{Cluster, StoredToken};
use crate::rotation::{PUBLISHED_LABEL, ROTATION_LABEL};
use crate::token::TokenId;

/// One CSR made with a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CsrUse {
    pub name: String,
    /// From the subject `system:node:<name>`; empty when the subject is not a node's.
    pub node: String,
    pub time: Option<Timestamp>,
    /// `Approved`, `Denied` or `Pending`.
    pub state: String,
}

/// Everything known about one token's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    pub id: String,
    /// The token's Secret still exists.
    pub exists: bool,
    pub rotation: Option<String>,
    pub csrs: Vec<CsrUse>,
    /// Nodes registered under a name one of its CSRs asked for.
    pub nodes: Vec<String>,
    /// A CSR came after a newer published token of the same rotation was created.
    pub used_after_superseded: bool,
}

impl TokenUsage {
    /// How many joins the token was used for (its CSRs).
    pub fn uses(&self) -> usize {
        self.csrs.len()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Audit {
    pub tokens: Vec<TokenUsage>,
    pub never_used: Vec<String>,
    pub used_after_superseded: Vec<String>,
}

/// A CSR as the audit reads it, or why it is not a bootstrap join.
fn bootstrap_use(csr: &CertificateSigningRequest) -> Result<(String, CsrUse), String> {
    let name = csr.metadata.name.clone().unwrap_or_default();
    let user = csr.spec.username.as_deref().unwrap_or("");
    let id = user
        .strip_prefix("system:bootstrap:")
        .filter(|id| TokenId::parse(id).is_some())
        .ok_or_else(|| format!("requested by {user:?}, not a bootstrap token user"))?;
    let pem = &csr.spec.request.0;
    let req = crate::token::csr::parse_pem(pem).map_err(|e| format!("malformed request: {e}"))?;
    let conds = csr
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .cloned()
        .unwrap_or_default();
    let state = if conds.iter().any(|c| c.type_ == "Denied") {
        "Denied"
    } else if conds.iter().any(|c| c.type_ == "Approved") {
        "Approved"
    } else {
        "Pending"
    };
    let time = csr.metadata.creation_timestamp.as_ref().map(|t| t.0);
    Ok((
        id.to_string(),
        CsrUse {
            name,
            node: req.node_name().unwrap_or("").to_string(),
            time,
            state: state.to_string(),
        },
    ))
}

/// Builds the audit from what the cluster holds.
pub fn build(
    tokens: &[StoredToken],
    csrs: &[CertificateSigningRequest],
    nodes: &[String],
) -> Audit {
    let mut by_id: BTreeMap<String, TokenUsage> = BTreeMap::new();
    for t in tokens {
        let id = t.token.token.id().as_str().to_string();
        by_id.insert(
            id.clone(),
            TokenUsage {
                id,
                exists: true,
                rotation: t.labels.get(ROTATION_LABEL).cloned(),
                csrs: Vec::new(),
                nodes: Vec::new(),
                used_after_superseded: false,
            },
        );
    }
    for csr in csrs {
        match bootstrap_use(csr) {
            Ok((id, u)) => by_id
                .entry(id.clone())
                .or_insert_with(|| TokenUsage {
                    id,
                    exists: false,
                    rotation: None,
                    csrs: Vec::new(),
                    nodes: Vec::new(),
                    used_after_superseded: false,
                })
                .csrs
                .push(u),
            Err(why) => tracing::debug!(
                csr = csr.metadata.name.as_deref().unwrap_or(""),
                reason = %why,
                "token audit: ignoring CSR"
            ),
        }
    }
    let registered: BTreeSet<&str> = nodes.iter().map(String::as_str).collect();
    for usage in by_id.values_mut() {
        usage
            .csrs
            .sort_by(|a, b| (a.time, &a.name).cmp(&(b.time, &b.name)));
        let mut seen = BTreeSet::new();
        usage.nodes = usage
            .csrs
            .iter()
            .filter(|c| !c.node.is_empty() && registered.contains(c.node.as_str()))
            .filter(|c| seen.insert(c.node.clone()))
            .map(|c| c.node.clone())
            .collect();
        // CSR times have second resolution: name order is the stable one.
        usage.nodes.sort();
        if let Some(rotation) = &usage.rotation {
            // The earliest moment a newer published token of the rotation existed.
            // "Newer" as rotation orders tokens (its nanosecond mark):
            // creationTimestamps of two rotations a second apart tie.
            let order = |t: &StoredToken| {
                crate::rotation::creation_order_of(
                    &t.labels,
                    t.created,
                    t.token.token.id().as_str(),
                )
            };
            let own = tokens
                .iter()
                .find(|t| t.token.token.id().as_str() == usage.id)
                .map(order);
            let superseded_at = tokens
                .iter()
                .filter(|t| t.labels.get(ROTATION_LABEL) == Some(rotation))
                .filter(|t| t.labels.get(PUBLISHED_LABEL).is_some_and(|v| v == "true"))
                .filter(|t| own.as_ref().is_some_and(|o| order(t) > *o))
                .filter_map(|t| t.created)
                .min();
            usage.used_after_superseded = superseded_at
                .is_some_and(|s| usage.csrs.iter().any(|c| c.time.is_some_and(|t| t >= s)));
        }
    }
    let tokens: Vec<TokenUsage> = by_id.into_values().collect();
    Audit {
        never_used: tokens
            .iter()
            .filter(|t| t.exists && t.csrs.is_empty())
            .map(|t| t.id.clone())
            .collect(),
        used_after_superseded: tokens
            .iter()
            .filter(|t| t.used_after_superseded)
            .map(|t| t.id.clone())
            .collect(),
        tokens,
    }
}

/// Reads tokens, CSRs and Nodes and builds the audit.
pub async fn audit(cluster: &Cluster) -> Result<Audit, ClusterError> {
    let tokens: Vec<StoredToken> = cluster
        .tokens()
        .list()
        .await?
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let csr_api: Api<CertificateSigningRequest> = Api::all(cluster.client());
    let csrs = csr_api
        .list(&ListParams::default())
        .await
        .map_err(|e| {
            describe(&e, "Get", "certificatesigningrequests")
                .into_error("failed to list certificate signing requests")
        })?
        .items;
    let node_api: Api<Node> = Api::all(cluster.client());
    let nodes: Vec<String> = node_api
        .list(&ListParams::default())
        .await
        .map_err(|e| describe(&e, "Get", "nodes").into_error("failed to list nodes"))?
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    Ok(build(&tokens, &csrs, &nodes))
}

/// The text table `token audit` prints.
pub fn render_text(a: &Audit) -> String {
    let mut out = String::from("TOKEN    STATE     CSRS   NODES   NOTE\n");
    for t in &a.tokens {
        let state = if t.exists { "present" } else { "deleted" };
        let nodes = if t.nodes.is_empty() {
            "<none>".to_string()
        } else {
            t.nodes.join(",")
        };
        let mut note = Vec::new();
        if t.exists && t.csrs.is_empty() {
            note.push("never used".to_string());
        }
        if t.used_after_superseded {
            note.push("used after its rotation was superseded".to_string());
        }
        let denied = t.csrs.iter().filter(|c| c.state == "Denied").count();
        if denied > 0 {
            note.push(format!("{denied} denied"));
        }
        out.push_str(&format!(
            "{:<8} {:<9} {:<6} {:<7} {}\n",
            t.id,
            state,
            t.csrs.len(),
            nodes,
            note.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestSpec,
        CertificateSigningRequestStatus,
    };

    fn csr(name: &str, user: &str, request: Vec<u8>, approved: bool) -> CertificateSigningRequest {
        CertificateSigningRequest {
            metadata: kube::api::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: CertificateSigningRequestSpec {
                request: k8s_openapi::ByteString(request),
                signer_name: "kubernetes.io/kube-apiserver-client-kubelet".into(),
                username: Some(user.into()),
                ..Default::default()
            },
            status: approved.then(|| CertificateSigningRequestStatus {
                conditions: Some(vec![CertificateSigningRequestCondition {
                    type_: "Approved".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn only_bootstrap_csrs_with_a_parsable_request_count() {
        let pem = crate::token::csr::kubelet_client_request("n1")
            .expect("csr")
            .into_bytes();
        let csrs = vec![
            csr("a", "system:bootstrap:abcdef", pem.clone(), true),
            csr("b", "system:node:n1", pem.clone(), true),
            csr("c", "system:bootstrap:abcdef", b"garbage".to_vec(), false),
            csr("d", "system:bootstrap:NOTANID", pem, false),
        ];
        let a = build(&[], &csrs, &["n1".to_string()]);
        assert_eq!(a.tokens.len(), 1);
        let t = &a.tokens[0];
        assert_eq!((t.id.as_str(), t.exists), ("abcdef", false));
        assert_eq!(t.csrs.len(), 1);
        assert_eq!(t.csrs[0].node, "n1");
        assert_eq!(t.csrs[0].state, "Approved");
        assert_eq!(t.nodes, ["n1"]);
        assert!(a.never_used.is_empty());
    }
}
