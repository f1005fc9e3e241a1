//! What `kubeadm join` checks before it trusts a cluster (spec §10): read
//! `kube-public/cluster-info` without credentials, find the token's
//! `jws-kubeconfig-<id>` signature, verify it with the token secret, and check
//! the CA inside against the join command's pins.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::error::{ClusterError, describe};
use super::join::JoinCommand;
use super::{Cluster, kubeconfig, pin};
use crate::token::jws::detached_signature_is_valid;

const POLL: Duration = Duration::from_millis(250);

/// Verifies `join` against the cluster as a joining node would. With `wait`,
/// polls (bounded by it) until the bootstrapsigner has signed the token.
pub async fn verify_join(
    cluster: &Cluster,
    join: &JoinCommand,
    wait: Option<Duration>,
) -> Result<(), ClusterError> {
    let client = anonymous_client(cluster, join)?;
    let discovery = Discovery {
        deadline: wait.map(|w| tokio::time::Instant::now() + w),
        poll: POLL,
        check_pins: true,
        prefix: "",
    };
    discovery.cluster_info(client, join).await.map(drop)
}

/// How one caller runs kubeadm's token discovery (`discovery/token`).
pub(crate) struct Discovery {
    /// Until when a missing signature or a failed request is retried
    /// (`None`: tried once).
    pub deadline: Option<tokio::time::Instant>,
    pub poll: Duration,
    /// `false` with `--discovery-token-unsafe-skip-ca-verification`.
    pub check_pins: bool,
    /// Put before every error message (kubeadm join's own wording).
    pub prefix: &'static str,
}

impl Discovery {
    /// Reads `kube-public/cluster-info` over `client` (no credentials),
    /// checks the token's JWS signature and the CA pins, and returns the
    /// kubeconfig it holds, now trusted.
    pub(crate) async fn cluster_info(
        &self,
        client: kube::Client,
        join: &JoinCommand,
    ) -> Result<String, ClusterError> {
        let prefix = self.prefix;
        let fail = |msg: String| ClusterError::Join(format!("{prefix}{msg}"));
        let api: Api<ConfigMap> = Api::namespaced(client, "kube-public");
        let url = format!(
            "https://{}/api/v1/namespaces/kube-public/configmaps/cluster-info",
            join.endpoint
        );
        let id = join.token.id().as_str().to_owned();
        let time_left = || {
            self.deadline
                .is_some_and(|d| tokio::time::Instant::now() + self.poll <= d)
        };
        loop {
            let cm = match api.get("cluster-info").await {
                Ok(cm) => cm,
                // kubeadm's discovery retries a failed request until its timeout
                // ("Failed to request cluster-info, will try again").
                Err(e) if time_left() => {
                    tracing::debug!(server = %join.endpoint, error = %e, "failed to request cluster-info, will try again");
                    tokio::time::sleep(self.poll).await;
                    continue;
                }
                Err(e) => {
                    return Err(describe(&e, "Get", &url).into_error(format!(
                        "{prefix}failed to request the cluster-info ConfigMap"
                    )));
                }
            };
            let mut data = cm.data.unwrap_or_default();
            let Some(kubeconfig_text) = data.remove("kubeconfig") else {
                return Err(fail(
                    "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect"
                        .to_owned(),
                ));
            };
            match data.get(&format!("jws-kubeconfig-{id}")) {
                Some(sig) => {
                    if !detached_signature_is_valid(sig, &kubeconfig_text, &id, join.token.secret())
                    {
                        return Err(fail(
                            "failed to verify JWS signature of received cluster info object, can't trust this API Server"
                                .to_owned(),
                        ));
                    }
                    if self.check_pins {
                        check_pins(&kubeconfig_text, join).map_err(|e| {
                            if prefix.is_empty() {
                                e
                            } else {
                                fail(e.to_string())
                            }
                        })?;
                    }
                    return Ok(kubeconfig_text);
                }
                None if time_left() => tokio::time::sleep(self.poll).await,
                None => {
                    return Err(fail(format!(
                        "token id \"{id}\" is invalid for this cluster or it has expired. Use \"kubeadm token create\" on the control-plane node to create a new valid token"
                    )));
                }
            }
        }
    }
}

/// The CA in cluster-info must match one of the pins (kubeadm `pubkeypin.CheckAny`).
fn check_pins(kubeconfig_text: &str, join: &JoinCommand) -> Result<(), ClusterError> {
    let kc = kube::config::Kubeconfig::from_yaml(kubeconfig_text).map_err(|e| {
        ClusterError::Join(format!(
            "couldn't parse the kubeconfig file in the cluster-info ConfigMap: {e}"
        ))
    })?;
    let cluster = kc
        .clusters
        .first()
        .and_then(|c| c.cluster.as_ref())
        .ok_or_else(|| {
            ClusterError::Join("the cluster-info kubeconfig has no cluster".to_owned())
        })?;
    let pem = kubeconfig::cluster_ca_pem(cluster)?;
    let found = pin::pins_from_pem(&pem).map_err(ClusterError::Join)?;
    if found.iter().any(|p| join.ca_pins.contains(p)) {
        Ok(())
    } else {
        Err(ClusterError::Join(format!(
            "cluster CA found in cluster-info ConfigMap is invalid: none of the public keys \"{}\" are pinned",
            found.join(":")
        )))
    }
}

/// A client with no credentials, trusting the kubeconfig's CA.
fn anonymous_client(cluster: &Cluster, join: &JoinCommand) -> Result<kube::Client, ClusterError> {
    let url: http::Uri = format!("https://{}", join.endpoint).parse().map_err(|e| {
        ClusterError::Join(format!("invalid join endpoint {:?}: {e}", join.endpoint))
    })?;
    let mut config = kube::Config::new(url);
    let pem = match cluster.kubeconfig() {
        Some(k) => kubeconfig::cluster_ca_pem(k.join_cluster()?)?,
        None => std::fs::read(kubeconfig::in_cluster_ca_path()).map_err(|e| {
            ClusterError::Join(format!("failed to read the service-account CA: {e}"))
        })?,
    };
    let ders: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .map(|c| c.as_ref().to_vec())
        .collect();
    config.root_cert = Some(ders);
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|e| ClusterError::Client {
        server: join.endpoint.clone(),
        reason: e.to_string(),
    })
}
