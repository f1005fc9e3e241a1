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
    /// The time expirations are computed and judged by: the system's, or a
    /// test dev cluster's (`clock::advance`).
    clock: crate::clock::Clock,
}

struct Inner {
    client: kube::Client,
    server: String,
    dry_run: bool,
    source: Source,
    /// The `--dev` cluster: kept alive as long as this handle when this
    /// command started it.
    dev: Option<crate::devcluster::DevSession>,
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
            let session = start_dev_cluster()?;
            let path = session.kubeconfig();
            dev = Some(session);
            KubeconfigSource::File(path)
        } else {
            kubeconfig::resolve(opts.kubeconfig.as_deref())
        };
        let (config, source) = match source {
            KubeconfigSource::File(path) => {
                let loaded = kubeconfig::load(&path, opts.context.as_deref())
                    .map_err(|e| with_no_kubeconfig_hint(e, opts, &path))
                    .map_err(|e| dry_run_wording(e, opts.dry_run))?;
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

    /// A cluster from a kubeconfig held in memory (the dev cluster a test
    /// starts); `name` stands for its path in messages.
    pub async fn from_kubeconfig_yaml(
        yaml: &str,
        name: &std::path::Path,
    ) -> Result<Cluster, ClusterError> {
        let config = kube::config::Kubeconfig::from_yaml(yaml).map_err(|e| {
            ClusterError::Kubeconfig(format!(
                "failed to load admin kubeconfig: {}: {}",
                name.display(),
                kubeconfig::parse_problem(&e.to_string())
            ))
        })?;
        let loaded = LoadedKubeconfig {
            path: name.to_path_buf(),
            context: config.current_context.clone().filter(|c| !c.is_empty()),
            config,
        };
        let options = KubeConfigOptions {
            context: loaded.context.clone(),
            ..KubeConfigOptions::default()
        };
        let config = kube::Config::from_custom_kubeconfig(loaded.config.clone(), &options)
            .await
            .map_err(|e| {
                ClusterError::Kubeconfig(format!(
                    "failed to load admin kubeconfig: {}: {e}",
                    name.display()
                ))
            })?;
        Self::from_config(config, Source::File(Box::new(loaded)), false, None)
    }

    fn from_config(
        mut config: kube::Config,
        source: Source,
        dry_run: bool,
        dev: Option<crate::devcluster::DevSession>,
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
                dev,
            }),
            clock: crate::clock::Clock::system(),
        })
    }

    /// This cluster with its time read from `clock`: the clock of the dev
    /// cluster it talks to, under `tokensmith test`.
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    pub fn tokens(&self) -> TokenStore {
        TokenStore::new(
            self.inner.client.clone(),
            self.inner.server.clone(),
            self.inner.dry_run,
        )
        .with_clock(self.clock.clone())
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

    /// The `--dev` cluster behind this connection, if any.
    pub fn dev_session(&self) -> Option<&crate::devcluster::DevSession> {
        self.inner.dev.as_ref()
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

/// When no kubeconfig was named and none exists, the error says how to name
/// one or how to rehearse without one (kubeadm's line stays the first).
/// kubeadm's dry-run client reads the file itself (`DryRun.WithKubeConfigFile`)
/// and says `failed to load kubeconfig`, without "admin".
fn dry_run_wording(err: ClusterError, dry_run: bool) -> ClusterError {
    match err {
        ClusterError::Kubeconfig(msg) if dry_run => ClusterError::Kubeconfig(
            match msg.strip_prefix("failed to load admin kubeconfig: ") {
                Some(rest) => format!("failed to load kubeconfig: {rest}"),
                None => msg,
            },
        ),
        other => other,
    }
}

fn with_no_kubeconfig_hint(
    err: ClusterError,
    opts: &ConnectOptions,
    path: &std::path::Path,
) -> ClusterError {
    match err {
        ClusterError::Kubeconfig(msg)
            if opts.kubeconfig.is_none() && !opts.dev && !path.exists() =>
        {
            ClusterError::Kubeconfig(format!(
                "{msg}\nno kubeconfig found ($KUBECONFIG, else ~/.kube/config, then {}): \
                 pass --kubeconfig PATH, or --dev to rehearse against the embedded dev cluster",
                kubeconfig::ADMIN_CONF
            ))
        }
        other => other,
    }
}

/// Starts (or reuses the state of) the `--dev` cluster under the user's state directory.
fn start_dev_cluster() -> Result<crate::devcluster::DevSession, ClusterError> {
    crate::devcluster::start_dev_session().map_err(|e| ClusterError::Dev(format!("{e:#}")))
}
