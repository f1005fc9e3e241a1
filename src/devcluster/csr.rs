//! CertificateSigningRequests as kube-apiserver's registry treats them
//! (pkg/registry/certificates/certificates/strategy.go), and the csrapprover
//! that kube-controller-manager runs (pkg/controller/certificates/approver/
//! sarapprove.go): it approves a kubelet client CSR when the requester may
//! `create certificatesigningrequests/nodeclient`, which kubeadm grants the
//! default node-token group; then the kubelet-client signer (csrsigning,
//! pkg/controller/certificates/signer) issues the certificate with the
//! cluster CA into `status.certificate`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::token::csr;

use super::auth::{self, User};
use super::crud::{self, WriteContext};
use super::objects;
use super::resources::Resource;
use super::status::{ApiError, FieldCause};
use super::store::Store;

pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const APPROVAL_TYPES: [&str; 3] = ["Approved", "Denied", "Failed"];
const RESYNC: Duration = Duration::from_secs(30);
/// kube-controller-manager's `--cluster-signing-duration` default (8760h),
/// the most a certificate is issued for.
const MAX_SIGNING_DURATION: Duration = Duration::from_secs(8760 * 3600);
/// The least `spec.expirationSeconds` may ask for (the API validates 600).
const MIN_SIGNING_DURATION: Duration = Duration::from_secs(600);

/// PrepareForCreate and Validate: the requester's identity is the server's
/// to fill in, status starts empty, and the request must be a signed PKCS#10.
pub fn prepare_create(user: &User, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut obj: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        // Let the generic decoder produce its error.
        _ => return Ok(body.to_vec()),
    };
    let name = objects::name(&obj).to_string();
    let spec = obj
        .get_mut("spec")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid(&name, vec![FieldCause::required("spec.request", "")]))?;
    spec.insert("username".into(), json!(user.name()));
    spec.insert("groups".into(), json!(user.groups()));
    spec.remove("uid");
    spec.remove("extra");
    let mut causes = Vec::new();
    match spec.get("request").and_then(Value::as_str) {
        None | Some("") => causes.push(FieldCause::required("spec.request", "")),
        Some(req) => {
            if let Err(e) = csr::parse_request_field(req) {
                causes.push(FieldCause::invalid("spec.request", "[]byte{...}", e));
            }
        }
    }
    if spec
        .get("signerName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        causes.push(FieldCause::required("spec.signerName", ""));
    }
    if spec
        .get("usages")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        causes.push(FieldCause::required("spec.usages", ""));
    }
    if !causes.is_empty() {
        return Err(invalid(&name, causes));
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert("status".into(), json!({}));
    }
    Ok(obj.to_string().into_bytes())
}

fn invalid(name: &str, causes: Vec<FieldCause>) -> ApiError {
    ApiError::invalid(Resource::CertificateSigningRequests, name, causes)
}

/// What an update may change, per resource and subresource: the main
/// resource keeps spec and status (metadata only), `approval` changes only
/// the approval conditions, `status` everything in status but those.
pub fn restrict_update(
    r: Resource,
    sub: Option<&str>,
    existing: &Value,
    obj: &mut Value,
) -> Result<(), ApiError> {
    let keep = |obj: &mut Value, field: &str| match existing.get(field) {
        Some(v) => obj[field] = v.clone(),
        None => {
            if let Some(o) = obj.as_object_mut() {
                o.remove(field);
            }
        }
    };
    match (r, sub) {
        (Resource::Nodes, None) => keep(obj, "status"),
        (Resource::Nodes, Some(_)) => keep(obj, "spec"),
        (Resource::CertificateSigningRequests, None) => {
            keep(obj, "spec");
            keep(obj, "status");
        }
        (Resource::CertificateSigningRequests, Some(sub)) => {
            keep(obj, "spec");
            let new_conditions = conditions(obj);
            let old_conditions = conditions(existing);
            let (mut status, conds) = if sub == "approval" {
                let mut status = existing.get("status").cloned().unwrap_or(json!({}));
                let mut c: Vec<Value> = old_conditions
                    .iter()
                    .filter(|c| !is_approval(c))
                    .cloned()
                    .collect();
                c.extend(new_conditions.into_iter().filter(is_approval));
                status["conditions"] = json!([]);
                (std::mem::take(&mut status), c)
            } else {
                let status = obj.get("status").cloned().unwrap_or(json!({}));
                let mut c: Vec<Value> = new_conditions
                    .into_iter()
                    .filter(|c| !is_approval(c))
                    .collect();
                c.extend(old_conditions.iter().filter(|c| is_approval(c)).cloned());
                (status, c)
            };
            let conds = validate_conditions(objects::name(existing), &old_conditions, conds)?;
            if conds.is_empty() {
                if let Some(s) = status.as_object_mut() {
                    s.remove("conditions");
                }
            } else {
                status["conditions"] = json!(conds);
            }
            obj["status"] = status;
        }
        _ => {}
    }
    Ok(())
}

fn conditions(obj: &Value) -> Vec<Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_approval(c: &Value) -> bool {
    matches!(
        c.get("type").and_then(Value::as_str),
        Some("Approved" | "Denied")
    )
}

/// validateCertificateSigningRequestStatus's rules on conditions, and the
/// timestamps the strategy fills in.
fn validate_conditions(
    name: &str,
    old: &[Value],
    mut conds: Vec<Value>,
) -> Result<Vec<Value>, ApiError> {
    let mut causes = Vec::new();
    let now = objects::now_rfc3339();
    let (mut approved, mut denied) = (false, false);
    for (i, c) in conds.iter_mut().enumerate() {
        let ty = c
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let status = c.get("status").and_then(Value::as_str).unwrap_or("");
        if ty.is_empty() {
            causes.push(FieldCause::required(
                format!("status.conditions[{i}].type"),
                "",
            ));
        }
        if !matches!(status, "True" | "False" | "Unknown") {
            causes.push(FieldCause::invalid(
                format!("status.conditions[{i}].status"),
                status,
                "supported values: \"True\", \"False\", \"Unknown\"",
            ));
        }
        if APPROVAL_TYPES.contains(&ty.as_str()) && status != "True" {
            causes.push(FieldCause::invalid(
                format!("status.conditions[{i}].status"),
                status,
                "must be \"True\" for this condition type",
            ));
        }
        approved |= ty == "Approved";
        denied |= ty == "Denied";
        if denied && approved {
            causes.push(FieldCause::invalid(
                format!("status.conditions[{i}].type"),
                &ty,
                "Approved and Denied conditions are mutually exclusive",
            ));
        }
        for stamp in ["lastUpdateTime", "lastTransitionTime"] {
            if c.get(stamp).is_none_or(Value::is_null) {
                c[stamp] = json!(now);
            }
        }
    }
    for kind in ["Approved", "Denied"] {
        let had = old
            .iter()
            .any(|c| c.get("type").and_then(Value::as_str) == Some(kind));
        let has = conds
            .iter()
            .any(|c| c.get("type").and_then(Value::as_str) == Some(kind));
        if had && !has {
            causes.push(FieldCause {
                field: "status.conditions".into(),
                reason: "FieldValueForbidden",
                value: None,
                detail: format!("updates may not remove a condition of type \"{kind}\""),
            });
        }
    }
    if causes.is_empty() {
        Ok(conds)
    } else {
        Err(invalid(name, causes))
    }
}

/// `Approved`, `Denied` or neither (GetCertApprovalCondition).
pub fn approval(obj: &Value) -> (bool, bool) {
    let c = conditions(obj);
    let has = |t: &str| {
        c.iter()
            .any(|c| c.get("type").and_then(Value::as_str) == Some(t))
    };
    (has("Approved"), has("Denied"))
}

/// Why a CSR is, or is not, a kubelet client CSR (IsKubeletClientCSR plus
/// the signer-name check of isNodeClientCert). `None` is a yes.
pub fn not_kubelet_client(obj: &Value) -> Option<String> {
    let spec = obj.get("spec")?;
    if spec.get("signerName").and_then(Value::as_str) != Some(KUBELET_CLIENT_SIGNER) {
        return Some(format!("signerName is not {KUBELET_CLIENT_SIGNER}"));
    }
    let req = match spec
        .get("request")
        .and_then(Value::as_str)
        .map(csr::parse_request_field)
    {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Some(format!("unable to parse csr: {e}")),
        None => return Some("no request".into()),
    };
    if req.organizations != ["system:nodes"] {
        return Some("subject organization is not system:nodes".into());
    }
    if req.has_sans {
        return Some("SAN extensions are not allowed".into());
    }
    let mut usages: Vec<&str> = spec
        .get("usages")
        .and_then(Value::as_array)
        .map(|u| u.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    usages.sort_unstable();
    usages.dedup();
    let full = ["client auth", "digital signature", "key encipherment"];
    let short = ["client auth", "digital signature"];
    if usages != full && usages != short {
        return Some(format!(
            "usages did not match [client auth digital signature key encipherment] or [client auth digital signature]: {usages:?}"
        ));
    }
    if !req
        .common_name
        .as_deref()
        .is_some_and(|cn| cn.starts_with("system:node:"))
    {
        return Some("subject common name does not begin with system:node:".into());
    }
    None
}

/// The csrapprover and signer loop: one pass now, after every CSR change,
/// and on resync.
pub async fn run_approver(
    store: Arc<Store>,
    pki: super::pki::Pki,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut changes = store.changes();
    loop {
        approve_once(&store).await;
        sign_once(&store, &pki).await;
        let sleep = tokio::time::sleep(RESYNC);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = &mut sleep => break,
                got = changes.recv() => match got {
                    Ok(ev) if ev.key.resource == Resource::CertificateSigningRequests => {
                        while changes.try_recv().is_ok() {}
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

async fn approve_once(store: &Store) {
    let (csrs, _) = store.list(Resource::CertificateSigningRequests, None);
    for c in csrs {
        let (approved, denied) = approval(&c);
        if approved || denied || c.pointer("/status/certificate").is_some() {
            continue;
        }
        let name = objects::name(&c).to_string();
        if let Some(why) = not_kubelet_client(&c) {
            tracing::debug!(csr = %name, reason = %why, "csrapprover: not a kubelet client CSR");
            continue;
        }
        let groups: Vec<String> = c
            .pointer("/spec/groups")
            .and_then(Value::as_array)
            .map(|g| {
                g.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        let username = c
            .pointer("/spec/username")
            .and_then(Value::as_str)
            .unwrap_or("");
        // isSelfNodeClientCert first (a node renewing its own), then nodeclient.
        let cn = c
            .pointer("/spec/request")
            .and_then(Value::as_str)
            .and_then(|r| csr::parse_request_field(r).ok())
            .and_then(|r| r.common_name);
        let (sub, message) = if cn.as_deref() == Some(username)
            && auth::may_create_csr_subresource(&groups, "selfnodeclient")
        {
            (
                "selfnodeclient",
                "Auto approving self kubelet client certificate after SubjectAccessReview.",
            )
        } else if auth::may_create_csr_subresource(&groups, "nodeclient") {
            (
                "nodeclient",
                "Auto approving kubelet client certificate after SubjectAccessReview.",
            )
        } else {
            tracing::debug!(csr = %name, "recognized csr as [nodeclient] but subject access review was not approved");
            continue;
        };
        let mut updated = Value::clone(&c);
        let mut conds = conditions(&c);
        conds.push(json!({
            "type": "Approved",
            "status": "True",
            "reason": "AutoApproved",
            "message": message,
        }));
        updated["status"]["conditions"] = json!(conds);
        let ctx = WriteContext {
            resource: Resource::CertificateSigningRequests,
            namespace: "",
            manager: "csrapprover".into(),
            dry_run: false,
        };
        match crud::update_subresource(
            store,
            &ctx,
            &name,
            "approval",
            updated.to_string().as_bytes(),
        )
        .await
        {
            Ok(_) => tracing::info!(csr = %name, via = sub, "csrapprover approved CSR"),
            Err(e) if e.code == 409 || e.code == 404 => {}
            Err(e) => {
                tracing::warn!(csr = %name, error = %e.message, "csrapprover could not approve")
            }
        }
    }
}

/// How long a certificate for `csr` is valid: its `spec.expirationSeconds`,
/// within the signer's bounds.
fn signing_duration(csr: &Value) -> Duration {
    csr.pointer("/spec/expirationSeconds")
        .and_then(Value::as_u64)
        .map_or(MAX_SIGNING_DURATION, Duration::from_secs)
        .clamp(MIN_SIGNING_DURATION, MAX_SIGNING_DURATION)
}

/// The kubelet-client signer: every approved kubelet client CSR without a
/// certificate gets one, signed by the cluster CA.
async fn sign_once(store: &Store, pki: &super::pki::Pki) {
    let (csrs, _) = store.list(Resource::CertificateSigningRequests, None);
    for c in csrs {
        let (approved, denied) = approval(&c);
        if !approved || denied || c.pointer("/status/certificate").is_some() {
            continue;
        }
        let name = objects::name(&c).to_string();
        if let Some(why) = not_kubelet_client(&c) {
            tracing::debug!(csr = %name, reason = %why, "signer: not a kubelet client CSR; not signing");
            continue;
        }
        let Some(req) = c
            .pointer("/spec/request")
            .and_then(Value::as_str)
            .and_then(|r| csr::parse_request_field(r).ok())
        else {
            continue;
        };
        let now = store.clock().now();
        let pem = match pki.sign_client_certificate(&req, now, signing_duration(&c)) {
            Ok(pem) => pem,
            Err(e) => {
                tracing::warn!(csr = %name, error = %format!("{e:#}"), "signer could not sign");
                continue;
            }
        };
        let mut updated = Value::clone(&c);
        updated["status"]["certificate"] = json!(STANDARD.encode(pem));
        let ctx = WriteContext {
            resource: Resource::CertificateSigningRequests,
            namespace: "",
            manager: "csrsigning".into(),
            dry_run: false,
        };
        match crud::update_subresource(store, &ctx, &name, "status", updated.to_string().as_bytes())
            .await
        {
            Ok(_) => tracing::info!(csr = %name, "signer issued the certificate"),
            Err(e) if e.code == 409 || e.code == 404 => {}
            Err(e) => {
                tracing::warn!(csr = %name, error = %e.message, "signer could not write the certificate")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    fn kubelet_csr(usages: &[&str]) -> Value {
        let pem = csr::kubelet_client_request("n1").expect("csr");
        json!({"metadata": {"name": "c"}, "spec": {
            "request": STANDARD.encode(pem),
            "signerName": KUBELET_CLIENT_SIGNER,
            "usages": usages,
        }})
    }

    #[test]
    fn kubelet_client_csrs_are_recognized_by_subject_and_usages() {
        assert_eq!(
            not_kubelet_client(&kubelet_csr(&["digital signature", "client auth"])),
            None
        );
        assert!(not_kubelet_client(&kubelet_csr(&["server auth"])).is_some());
        let mut other = kubelet_csr(&["digital signature", "client auth"]);
        other["spec"]["signerName"] = json!("example.com/other");
        assert!(not_kubelet_client(&other).is_some());
    }

    #[test]
    fn approval_and_denial_exclude_each_other_and_stay() {
        let a = json!({"type": "Approved", "status": "True"});
        let d = json!({"type": "Denied", "status": "True"});
        assert!(validate_conditions("c", &[], vec![a.clone(), d]).is_err());
        assert!(validate_conditions("c", std::slice::from_ref(&a), vec![]).is_err());
        let ok = validate_conditions("c", &[], vec![a]).expect("valid");
        assert!(ok[0].get("lastUpdateTime").is_some());
    }

    #[test]
    fn the_signing_duration_is_the_requested_one_within_the_signer_bounds() {
        assert_eq!(signing_duration(&json!({"spec": {}})), MAX_SIGNING_DURATION);
        assert_eq!(
            signing_duration(&json!({"spec": {"expirationSeconds": 3600}})),
            Duration::from_secs(3600)
        );
        assert_eq!(
            signing_duration(&json!({"spec": {"expirationSeconds": 5}})),
            MIN_SIGNING_DURATION
        );
        assert_eq!(
            signing_duration(&json!({"spec": {"expirationSeconds": 1_000_000_000_000u64}})),
            MAX_SIGNING_DURATION
        );
    }
}
