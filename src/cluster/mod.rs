//! Everything that talks to the API server: kubeconfig resolution, the
//! client, the token store, CA pins and the join command.

pub mod audit;
pub mod bootstrap;
pub mod error;
pub mod join;
pub mod kubeconfig;
pub mod leader;
pub mod pin;
pub mod retry;
pub mod store;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;

use kube::config::KubeConfigOptions;

pub use error::ClusterError;
pub use join::JoinCommand;
pub use kubeconfig::{KubeconfigSource, LoadedKubeconfig};
pub use store::{StoredToken, TokenStore};

use crate::token::BootstrapTokenString;

/// How to reach the cluster: the global flags that matter for it.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub dry_run: bool,
    /// Use the embedded dev cluster with persistent state instead of a kubeconfig.
    pub dev: bool,
}

impl ConnectOptions {
    pub fn from_global(g: &crate::cli::GlobalArgs) -> Self {
        Self {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            dry_run: g.dry_run,
            dev: g.dev,
        }
    }
}

/// A connected cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    client: kube::Client,
    server: String,
    dry_run: bool,
    source: Source,
    /// Keeps the `--dev` cluster alive as long as this handle.
    _dev: Option<crate::devcluster::BackgroundDevCluster>,
}

enum Source {
    File(Box<LoadedKubeconfig>),
    InCluster,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("server", &self.inner.server)
            .field("dry_run", &self.inner.dry_run)
            .finish()
    }
}

impl Cluster {
    /// Resolves the kubeconfig as kubeadm does (or starts the `--dev` cluster,
    /// or uses the pod's service account) and builds a client. No request is
    /// sent yet.
    pub async fn connect(opts: &ConnectOptions) -> Result<Cluster, ClusterError> {
        let mut dev = None;
        let source = if opts.dev {
            let handle = start_dev_cluster()?;
            let path = handle
                .kubeconfig_path()
                .map(|p| p.to_path_buf())
                .ok_or_else(|| ClusterError::Dev("it wrote no kubeconfig".to_owned()))?;
            dev = Some(handle);
            KubeconfigSource::File(path)
        } else {
            kubeconfig::resolve(opts.kubeconfig.as_deref())
        };
        let (config, source) = match source {
            KubeconfigSource::File(path) => {
                let loaded = kubeconfig::load(&path, opts.context.as_deref())?;
                let options = KubeConfigOptions {
                    context: loaded.context.clone(),
                    ..KubeConfigOptions::default()
                };
                let config = kube::Config::from_custom_kubeconfig(loaded.config.clone(), &options)
                    .await
                    .map_err(|e| {
                        ClusterError::Kubeconfig(format!(
                            "failed to load admin kubeconfig: {}: {e}",
                            path.display()
                        ))
                    })?;
                (config, Source::File(Box::new(loaded)))
            }
            KubeconfigSource::InCluster => {
                let config = kube::Config::incluster().map_err(|e| {
                    ClusterError::Kubeconfig(format!(
                        "failed to load the in-cluster configuration: {e}"
                    ))
                })?;
                (config, Source::InCluster)
            }
        };
        Self::from_config(config, source, opts.dry_run, dev)
    }

    fn from_config(
        mut config: kube::Config,
        source: Source,
        dry_run: bool,
        dev: Option<crate::devcluster::BackgroundDevCluster>,
    ) -> Result<Cluster, ClusterError> {
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        // Retries are ours (retry.rs): bounded, and only for idempotent calls.
        config.default_retry = false;
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::Client {
            server: server.clone(),
            reason: e.to_string(),
        })?;
        Ok(Cluster {
            inner: Arc::new(Inner {
                client,
                server,
                dry_run,
                source,
                _dev: dev,
            }),
        })
    }

    pub fn tokens(&self) -> TokenStore {
        TokenStore::new(
            self.inner.client.clone(),
            self.inner.server.clone(),
            self.inner.dry_run,
        )
    }

    pub fn client(&self) -> kube::Client {
        self.inner.client.clone()
    }

    /// The API server URL, e.g. `https://127.0.0.1:6443`.
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    pub fn dry_run(&self) -> bool {
        self.inner.dry_run
    }

    /// The kubeconfig file in use, if any.
    pub fn kubeconfig(&self) -> Option<&LoadedKubeconfig> {
        match &self.inner.source {
            Source::File(k) => Some(k),
            Source::InCluster => None,
        }
    }

    /// The join line for `token` (spec §7). `control_plane` is the certificate
    /// key for a control-plane join. Errors are the reason kubeadm gives after
    /// `failed to get join command: `.
    pub fn join_command(
        &self,
        token: &BootstrapTokenString,
        control_plane: Option<&str>,
    ) -> Result<JoinCommand, ClusterError> {
        let (server, pem) = match &self.inner.source {
            Source::File(k) => {
                let cluster = k.join_cluster()?;
                let server = cluster.server.clone().unwrap_or_default();
                (server, kubeconfig::cluster_ca_pem(cluster)?)
            }
            Source::InCluster => {
                let server =
                    kubeconfig::in_cluster_server().unwrap_or_else(|| self.inner.server.clone());
                let path = kubeconfig::in_cluster_ca_path();
                let pem = std::fs::read(&path).map_err(|e| {
                    ClusterError::Join(format!(
                        "failed to load the service-account CA: {}",
                        error::go_path_error("open", &path, &e)
                    ))
                })?;
                (server, pem)
            }
        };
        let pins = pin::pins_from_pem(&pem).map_err(ClusterError::Join)?;
        Ok(JoinCommand::new(
            &server,
            token.clone(),
            pins,
            control_plane.map(str::to_owned),
        ))
    }
}

/// Starts (or reuses the state of) the `--dev` cluster under the user's state directory.
fn start_dev_cluster() -> Result<crate::devcluster::BackgroundDevCluster, ClusterError> {
    crate::devcluster::start_dev_session().map_err(|e| ClusterError::Dev(format!("{e:#}")))
}
