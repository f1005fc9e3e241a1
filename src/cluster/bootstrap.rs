//! A rehearsal of `kubeadm join`'s discovery and TLS bootstrap: parse the
//! line, read cluster-info anonymously (without trusting the server yet),
//! verify the token's JWS and the CA pins (kubeadm `discovery/token`), create
//! a kubelet client CSR as `system:bootstrap:<id>` (kubelet `bootstrap.go`),
//! wait for its approval and certificate, and register the Node with that
//! certificate, as the kubelet does (the Node authorizer lets a node create
//! only its own Node).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec,
};
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ObjectMeta, PostParams, WatchEvent, WatchParams};

use super::error::{ClusterError, describe};
use super::join::JoinCommand;
use super::verify::Discovery;
use crate::token::BootstrapTokenString;

const POLL: Duration = Duration::from_millis(200);
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";

/// A parsed `kubeadm join` line plus the flags that matter to a rehearsal.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub join: JoinCommand,
    pub unsafe_skip_ca_verification: bool,
    pub node_name: Option<String>,
}

/// What a successful rehearsal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinOutcome {
    pub node: String,
    pub csr: String,
    pub token_id: String,
}

fn bad(msg: impl Into<String>) -> ClusterError {
    ClusterError::Join(msg.into())
}

/// Reads `kubeadm join <endpoint> --token … --discovery-token-ca-cert-hash …`
/// with cobra's `--flag value` and `--flag=value` forms.
pub fn parse_join_line(line: &str) -> Result<JoinRequest, ClusterError> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let rest = match words.as_slice() {
        ["kubeadm", "join", rest @ ..] => rest,
        ["join", rest @ ..] => rest,
        _ => {
            return Err(bad(
                "not a join command: it must start with \"kubeadm join\"",
            ));
        }
    };
    let mut endpoint = None;
    let mut token = None;
    let mut pins = Vec::new();
    let mut skip = false;
    let mut control_plane = false;
    let mut certificate_key = None;
    let mut node_name = None;
    let mut i = 0;
    while i < rest.len() {
        let word = rest[i];
        i += 1;
        let Some(flag) = word.strip_prefix("--") else {
            if endpoint.replace(word.to_string()).is_some() {
                return Err(bad(format!(
                    "unexpected argument {word:?}: a join command takes one API server endpoint"
                )));
            }
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let mut value = || -> Result<String, ClusterError> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = rest
                .get(i)
                .ok_or_else(|| bad(format!("flag needs an argument: --{name}")))?;
            i += 1;
            Ok((*v).to_string())
        };
        match name {
            "token" | "discovery-token" => token = Some(value()?),
            "discovery-token-ca-cert-hash" => pins.push(value()?),
            "discovery-token-unsafe-skip-ca-verification" => {
                skip = inline.as_deref() != Some("false")
            }
            "control-plane" => control_plane = inline.as_deref() != Some("false"),
            "certificate-key" => certificate_key = Some(value()?),
            "node-name" => node_name = Some(value()?),
            "tls-bootstrap-token" => {
                value()?;
            }
            other => return Err(bad(format!("unknown flag: --{other}"))),
        }
    }
    let endpoint = endpoint.ok_or_else(|| bad("discovery: Invalid value: \"\": bootstrapToken or file must be set (no API server endpoint given)"))?;
    let token = token.ok_or_else(|| {
        bad("discovery.bootstrapToken.token: Invalid value: \"\": the bootstrap token is invalid")
    })?;
    let token = BootstrapTokenString::parse(&token).map_err(|_| {
        bad("discovery.bootstrapToken.token: Invalid value: \"\": the bootstrap token is invalid")
    })?;
    if pins.is_empty() && !skip {
        return Err(bad(
            "discovery.bootstrapToken: Invalid value: \"\": using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue",
        ));
    }
    let cp = control_plane.then(|| certificate_key.unwrap_or_default());
    Ok(JoinRequest {
        join: JoinCommand::new(&endpoint, token, pins, cp),
        unsafe_skip_ca_verification: skip,
        node_name,
    })
}

/// kubeadm's token discovery: the cluster-info kubeconfig, once its JWS and
/// pins check out. Returns the CA (PEM) to trust from then on.
pub async fn discover(req: &JoinRequest, timeout: Duration) -> Result<Vec<u8>, ClusterError> {
    let join = &req.join;
    let url: http::Uri = format!("https://{}", join.endpoint)
        .parse()
        .map_err(|e| bad(format!("invalid join endpoint {:?}: {e}", join.endpoint)))?;
    let mut config = kube::Config::new(url);
    // Not trusted yet: the JWS and the pins are what establish trust.
    config.accept_invalid_certs = true;
    config.default_retry = false;
    let client = kube::Client::try_from(config).map_err(|e| ClusterError::Client {
        server: join.endpoint.clone(),
        reason: e.to_string(),
    })?;
    let discovery = Discovery {
        deadline: Some(tokio::time::Instant::now() + timeout),
        poll: POLL,
        check_pins: !req.unsafe_skip_ca_verification,
        prefix: "couldn't validate the identity of the API Server: ",
    };
    let kubeconfig_text = discovery.cluster_info(client, join).await?;
    cluster_info_ca(&kubeconfig_text)
}

fn cluster_info_ca(kubeconfig_text: &str) -> Result<Vec<u8>, ClusterError> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig_text).map_err(|e| {
        bad(format!(
            "couldn't parse the kubeconfig file in the cluster-info ConfigMap: {e}"
        ))
    })?;
    let cluster = kc
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(|| bad("the cluster-info kubeconfig has no cluster"))?;
    super::kubeconfig::cluster_ca_pem(cluster)
}

/// A client for the join endpoint that trusts `ca_pem` and presents the token.
pub async fn bootstrap_client(
    join: &JoinCommand,
    ca_pem: &[u8],
) -> Result<kube::Client, ClusterError> {
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bootstrap\n  cluster:\n    server: https://{}\n    certificate-authority-data: {}\nusers:\n- name: tls-bootstrap-token-user\n  user:\n    token: {}\ncontexts:\n- name: bootstrap\n  context:\n    cluster: bootstrap\n    user: tls-bootstrap-token-user\ncurrent-context: bootstrap\n",
        join.endpoint,
        STANDARD.encode(ca_pem),
        join.token.expose()
    );
    let kc = kube::config::Kubeconfig::from_yaml(&yaml)
        .map_err(|e| bad(format!("building the bootstrap kubeconfig: {e}")))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| bad(format!("building the bootstrap kubeconfig: {e}")))?;
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| ClusterError::Client {
        server: join.endpoint.clone(),
        reason: e.to_string(),
    })
}

/// A node name for a rehearsal that gave none: unique per call.
fn generated_node_name() -> String {
    use rand::RngExt;
    let suffix: String = (0..5)
        .map(|_| {
            let i = rand::rng().random_range(0..36u32);
            char::from_digit(i, 36).unwrap_or('x')
        })
        .collect();
    format!("rehearsal-{suffix}")
}

/// A node's client credentials, as the TLS bootstrap leaves them.
pub struct ClientCertificate {
    /// The CSR they were issued for.
    pub csr: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("ClientCertificate")
            .field("csr", &self.csr)
            .finish_non_exhaustive()
    }
}

/// Creates the kubelet client CSR as the bootstrap user and waits (bounded
/// by `timeout`) for it to be approved and its certificate issued.
pub async fn request_client_certificate(
    client: kube::Client,
    node: &str,
    timeout: Duration,
) -> Result<ClientCertificate, ClusterError> {
    let (key_pem, pem) = crate::token::csr::kubelet_client_key_and_request(node).map_err(bad)?;
    let csr = CertificateSigningRequest {
        metadata: ObjectMeta {
            generate_name: Some("csr-".into()),
            ..ObjectMeta::default()
        },
        spec: CertificateSigningRequestSpec {
            request: k8s_openapi::ByteString(pem.into_bytes()),
            signer_name: KUBELET_CLIENT_SIGNER.into(),
            usages: Some(vec!["digital signature".into(), "client auth".into()]),
            ..CertificateSigningRequestSpec::default()
        },
        status: None,
    };
    let api: Api<CertificateSigningRequest> = Api::all(client);
    let created = api
        .create(&PostParams::default(), &csr)
        .await
        .map_err(|e| {
            describe(&e, "Post", "certificatesigningrequests")
                .into_error("error execution phase kubelet-start: failed to create the certificate signing request")
        })?;
    let name = created.metadata.name.clone().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut current = created;
    // kubelet's WaitForCertificate (client-go util/certificate/csr): a watch
    // of this one CSR, so the decision is seen the moment it is made (an
    // `on: csr` handler may delete the token right after). A watch that ends
    // early is resumed after a fresh get.
    let wp = WatchParams::default().fields(&format!("metadata.name={name}"));
    loop {
        if let Some(decided) = decision(&current, &name) {
            return decided.map(|cert_pem| ClientCertificate {
                csr: name,
                cert_pem,
                key_pem,
            });
        }
        let rv = current
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default();
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let secs = u32::try_from(left.as_secs().max(1))
            .unwrap_or(u32::MAX)
            .min(290);
        let mut latest: Option<CertificateSigningRequest> = None;
        let waited = tokio::time::timeout_at(deadline, async {
            let stream = api.watch(&wp.clone().timeout(secs), &rv).await?;
            let mut stream = std::pin::pin!(stream);
            while let Some(ev) = stream.next().await {
                if let WatchEvent::Added(c) | WatchEvent::Modified(c) = ev? {
                    let decided = decision(&c, &name).is_some();
                    latest = Some(c);
                    if decided {
                        return Ok(true);
                    }
                }
            }
            Ok::<_, kube::Error>(false)
        })
        .await;
        if let Some(c) = latest {
            current = c;
        }
        match waited {
            Ok(Ok(true)) => {}
            Err(_elapsed) => {
                let approved = approved(&current);
                return Err(bad(if approved {
                    format!(
                        "error execution phase kubelet-start: timed out waiting for the condition: certificate signing request {name} was approved but no certificate was issued"
                    )
                } else {
                    format!(
                        "error execution phase kubelet-start: timed out waiting for the condition: certificate signing request {name} was not approved"
                    )
                }));
            }
            Ok(result) => {
                if let Err(e) = result {
                    tracing::debug!(csr = %name, error = %e, "watching the certificate signing request failed; getting it again");
                    tokio::time::sleep(POLL.min(left)).await;
                }
                current = api.get(&name).await.map_err(|e| {
                    describe(&e, "Get", "certificatesigningrequests")
                        .into_error("error execution phase kubelet-start: failed to get the certificate signing request")
                })?;
            }
        }
    }
}

fn approved(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Approved"))
}

/// Issued (`Ok`, the certificate PEM), denied or failed (`Err`), or not yet
/// (`None`: pending, or approved without a certificate so far).
fn decision(csr: &CertificateSigningRequest, name: &str) -> Option<Result<String, ClusterError>> {
    let status = csr.status.as_ref()?;
    let conds = status.conditions.as_deref().unwrap_or_default();
    if let Some(c) = conds
        .iter()
        .find(|c| c.type_ == "Denied" || c.type_ == "Failed")
    {
        let what = if c.type_ == "Denied" {
            "denied"
        } else {
            "failed"
        };
        return Some(Err(bad(format!(
            "error execution phase kubelet-start: certificate signing request {name} is {what}, reason: {}, message: {}",
            c.reason.clone().unwrap_or_default(),
            c.message.clone().unwrap_or_default()
        ))));
    }
    let cert = status.certificate.as_ref().filter(|c| !c.0.is_empty())?;
    approved(csr).then(|| Ok(String::from_utf8_lossy(&cert.0).into_owned()))
}

/// A client for the join endpoint that trusts `ca_pem` and presents the
/// node's issued certificate (kubelet's kubelet.conf after the bootstrap).
pub async fn node_client(
    join: &JoinCommand,
    ca_pem: &[u8],
    cert: &ClientCertificate,
) -> Result<kube::Client, ClusterError> {
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: default-cluster\n  cluster:\n    server: https://{}\n    certificate-authority-data: {}\nusers:\n- name: default-auth\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: default-context\n  context:\n    cluster: default-cluster\n    user: default-auth\ncurrent-context: default-context\n",
        join.endpoint,
        STANDARD.encode(ca_pem),
        STANDARD.encode(&cert.cert_pem),
        STANDARD.encode(&cert.key_pem),
    );
    let kc = kube::config::Kubeconfig::from_yaml(&yaml)
        .map_err(|e| bad(format!("building the node kubeconfig: {e}")))?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| bad(format!("building the node kubeconfig: {e}")))?;
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| ClusterError::Client {
        server: join.endpoint.clone(),
        reason: e.to_string(),
    })
}

/// Registers the Node as the node itself (labels as kubeadm's kubelet-start
/// leaves them).
pub async fn register_node(node_client: kube::Client, node: &str) -> Result<(), ClusterError> {
    let api: Api<Node> = Api::all(node_client);
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), node.to_string());
    let obj = Node {
        metadata: ObjectMeta {
            name: Some(node.to_string()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        ..Node::default()
    };
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 409 => Err(bad(format!(
            "error execution phase kubelet-start: a Node with name \"{node}\" and status \"Ready\" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node"
        ))),
        Err(e) => Err(describe(&e, "Post", "nodes")
            .into_error("error execution phase kubelet-start: failed to register the Node")),
    }
}

/// The whole rehearsal, with nothing but the join line (as `kubeadm join`).
pub async fn rehearse(
    line: &str,
    node_name: Option<&str>,
    timeout: Duration,
) -> Result<JoinOutcome, ClusterError> {
    let req = parse_join_line(line)?;
    let node = node_name
        .map(str::to_string)
        .or_else(|| req.node_name.clone())
        .unwrap_or_else(generated_node_name);
    let ca = discover(&req, timeout).await?;
    let client = bootstrap_client(&req.join, &ca).await?;
    let cert = request_client_certificate(client, &node, timeout).await?;
    let as_node = node_client(&req.join, &ca, &cert).await?;
    register_node(as_node, &node).await?;
    Ok(JoinOutcome {
        node,
        csr: cert.csr,
        token_id: req.join.token.id().as_str().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_printed_line_parses_back() {
        let line = "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:aa ";
        let r = parse_join_line(line).expect("parses");
        assert_eq!(r.join.render(), line);
        let r = parse_join_line(
            "kubeadm join h:1 --token=abcdef.0123456789abcdef --discovery-token-unsafe-skip-ca-verification --node-name n1",
        )
        .expect("parses");
        assert!(r.unsafe_skip_ca_verification);
        assert_eq!(r.node_name.as_deref(), Some("n1"));
    }

    #[test]
    fn bad_lines_are_named() {
        for (line, want) in [
            ("kubectl get", "not a join command"),
            (
                "kubeadm join h:1 --token abcdef.0123456789abcdef",
                "without caCertHashes",
            ),
            (
                "kubeadm join h:1 --token nope --discovery-token-ca-cert-hash sha256:aa",
                "token is invalid",
            ),
            ("kubeadm join h:1 --bogus", "unknown flag: --bogus"),
            (
                "kubeadm join h:1 --token",
                "flag needs an argument: --token",
            ),
        ] {
            let e = parse_join_line(line).expect_err(line).to_string();
            assert!(e.contains(want), "{line}: {e}");
            assert!(!e.contains("0123456789abcdef"), "{e}");
        }
    }
}
