//! The dev cluster: an embedded, Kubernetes-API-compatible server that the
//! real `kube` client and kubectl cannot tell from kube-apiserver for what
//! tokensmith does with tokens. HTTPS on loopback, an admin kubeconfig,
//! Secrets, ConfigMaps, Namespaces and Leases, watches, server-side apply,
//! the bootstrap-token authenticator and the bootstrapsigner and
//! tokencleaner controllers, with optional persistence and fault injection.
//!
//! Start at [`DevCluster::start`] (async) or [`start_in_background`] (its
//! own thread and runtime). The request path is [`api`]; objects live in
//! [`store`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod background;
pub mod controllers;
pub mod crud;
pub mod csr;
pub mod decode;
pub mod discovery;
pub mod faults;
pub mod fields;
pub mod go_json;
pub mod kubeconfig;
pub mod list;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod persist;
pub mod pki;
pub mod proto;
pub mod requestlog;
pub mod resource_version;
pub mod resources;
pub mod review;
pub mod route;
pub mod seed;
pub mod selectors;
pub mod server;
pub mod session;
pub mod status;
pub mod store;
pub mod table;
pub mod token_cache;
pub mod validate;
pub mod watch;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context;
use rand::RngExt;

pub use background::{BackgroundDevCluster, start_in_background};
pub use faults::FaultConfig;
pub use session::{DevSession, DevState, start_dev_session};

use api::ApiServer;
use pki::Pki;
use store::Store;

/// How to run a dev cluster.
#[derive(Debug, Clone)]
pub struct DevClusterConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Persist every acknowledged write here (and keep the CA and admin token beside it).
    pub state_file: Option<PathBuf>,
    /// Write the admin kubeconfig here (mode 0600).
    pub kubeconfig_out: Option<PathBuf>,
    pub faults: FaultConfig,
}

impl DevClusterConfig {
    /// In memory, on a free loopback port, no faults.
    pub fn ephemeral() -> Self {
        DevClusterConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            kubeconfig_out: None,
            faults: FaultConfig::none(),
        }
    }
}

/// What a client needs to reach a running dev cluster. [`DevCluster`] and
/// [`BackgroundDevCluster`] both dereference to it, so their getters are one.
#[derive(Clone)]
pub struct Access {
    url: String,
    ca_pem: String,
    admin_token: String,
    kubeconfig_yaml: String,
    kubeconfig_path: Option<PathBuf>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The admin token is a credential: keep it out of Debug output.
        f.debug_struct("Access")
            .field("url", &self.url)
            .field("kubeconfig_path", &self.kubeconfig_path)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The admin kubeconfig (server, certificate-authority-data, token).
    pub fn kubeconfig_yaml(&self) -> String {
        self.kubeconfig_yaml.clone()
    }

    pub fn kubeconfig_path(&self) -> Option<&Path> {
        self.kubeconfig_path.as_deref()
    }

    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// An admin `kube::Client`, bound to the caller's runtime.
    pub async fn client(&self) -> anyhow::Result<kube::Client> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml)
            .context("parsing the dev cluster's admin kubeconfig")?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .context("loading the dev cluster's admin kubeconfig")?;
        kube::Client::try_from(cfg).context("building a client for the dev cluster")
    }
}

impl std::ops::Deref for DevCluster {
    type Target = Access;

    fn deref(&self) -> &Access {
        &self.access
    }
}

/// A running dev cluster on the caller's tokio runtime.
#[derive(Debug)]
pub struct DevCluster {
    access: Access,
    handle: axum_server::Handle<SocketAddr>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    controllers: Vec<tokio::task::JoinHandle<()>>,
    shutdown: tokio::sync::watch::Sender<bool>,
    api: Arc<ApiServer>,
    /// Held while serving, so a second server cannot write the same state file.
    _state_lock: Option<std::fs::File>,
}

/// Takes the state file's lock (`<state>.lock`), or says who has it.
fn lock_state(state_file: &Path) -> anyhow::Result<std::fs::File> {
    let dir = persist::parent_dir(state_file);
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating state directory {}", dir.display()))?;
    let mut lock_path = state_file.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening lock file {}", PathBuf::from(&lock_path).display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            Err(session::StateInUse(state_file.to_path_buf()).into())
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", PathBuf::from(&lock_path).display()))
        }
    }
}

fn url_for(addr: SocketAddr) -> String {
    let ip = addr.ip();
    let host = if ip.is_unspecified() {
        if ip.is_ipv4() {
            "127.0.0.1".to_string()
        } else {
            "[::1]".to_string()
        }
    } else if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("https://{host}:{}", addr.port())
}

fn random_token() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The admin token kept beside the state file, so a restart keeps the kubeconfig valid.
fn load_or_create_token(dir: &Path) -> anyhow::Result<String> {
    let path = dir.join("admin.token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => Ok(t.trim().to_string()),
        _ => {
            let t = random_token();
            pki::write_private(&path, &t)?;
            Ok(t)
        }
    }
}

impl DevCluster {
    pub async fn start(cfg: DevClusterConfig) -> anyhow::Result<DevCluster> {
        Self::start_with_clock(cfg, crate::clock::Clock::system()).await
    }

    /// [`DevCluster::start`] with the cluster's time read from `clock`
    /// (`tokensmith test` moves it with `clock::advance`).
    pub async fn start_with_clock(
        cfg: DevClusterConfig,
        clock: crate::clock::Clock,
    ) -> anyhow::Result<DevCluster> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        cfg.faults
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid fault configuration: {e}"))?;
        let state_lock = cfg.state_file.as_deref().map(lock_state).transpose()?;
        let state_dir = cfg.state_file.as_deref().map(persist::parent_dir);
        let (pki, admin_token) = match &state_dir {
            Some(dir) => (Pki::load_or_create(dir)?, load_or_create_token(dir)?),
            None => (Pki::generate()?, random_token()),
        };
        let store = Arc::new(Store::open(cfg.state_file.clone())?.with_clock(clock.clone()));
        let listener = std::net::TcpListener::bind(cfg.listen)
            .with_context(|| format!("listening on {}", cfg.listen))?;
        let addr = listener
            .local_addr()
            .context("reading the listener's address")?;
        let url = url_for(addr);
        seed::seed(&store, &url, &pki.ca_pem).await?;

        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let api = Arc::new(ApiServer {
            store: store.clone(),
            admin_token: admin_token.clone(),
            faults: RwLock::new(cfg.faults.clone()),
            requests: requestlog::RequestLog::default(),
            server_url: url.clone(),
            shutdown: shutdown_rx.clone(),
        });
        let handle = axum_server::Handle::new();
        let server = server::serve(listener, &pki, api.clone(), handle.clone()).await?;
        let controllers = vec![
            tokio::spawn(controllers::run_bootstrap_signer(
                store.clone(),
                shutdown_rx.clone(),
                clock.clone(),
            )),
            tokio::spawn(controllers::run_token_cleaner(
                store.clone(),
                shutdown_rx.clone(),
                clock,
            )),
            tokio::spawn(csr::run_approver(store.clone(), pki.clone(), shutdown_rx)),
        ];

        let kubeconfig_yaml = kubeconfig::admin(&url, &pki.ca_pem, &admin_token);
        if let Some(path) = &cfg.kubeconfig_out {
            pki::write_private(path, &kubeconfig_yaml)
                .with_context(|| format!("writing the admin kubeconfig to {}", path.display()))?;
        }
        tracing::info!(%url, "dev cluster serving");
        Ok(DevCluster {
            access: Access {
                url,
                ca_pem: pki.ca_pem.clone(),
                admin_token,
                kubeconfig_yaml,
                kubeconfig_path: cfg.kubeconfig_out.clone(),
            },
            handle,
            server,
            controllers,
            shutdown,
            api,
            _state_lock: state_lock,
        })
    }

    /// Changes fault injection at run time (as `PUT /tokensmith/v1/faults` does).
    pub fn set_faults(&self, faults: FaultConfig) -> anyhow::Result<()> {
        faults
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid fault configuration: {e}"))?;
        match self.api.faults.write() {
            Ok(mut g) => *g = faults,
            Err(p) => *p.into_inner() = faults,
        }
        Ok(())
    }

    /// The objects, for observers in the same process (`tokensmith test`
    /// records the token secrets a test makes, to redact them).
    pub fn store(&self) -> &Arc<Store> {
        &self.api.store
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &crate::clock::Clock {
        self.api.store.clock()
    }

    /// Runs the tokencleaner and bootstrapsigner once, now, and returns when
    /// they are done (after `clock::advance`, so its effects are visible).
    pub async fn reconcile_now(&self) {
        controllers::reconcile_now(&self.api.store).await;
    }

    /// Stops serving: open watches end, in-flight requests get a moment to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(2)));
        let _ = self.server.await;
        for c in self.controllers {
            c.abort();
            let _ = c.await;
        }
    }
}

/// Where `--dev` keeps its state: `$XDG_STATE_HOME/tokensmith/dev`, else
/// `~/.local/state/tokensmith/dev`.
pub fn default_dev_state_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        let p = PathBuf::from(x);
        // The XDG spec says relative values are invalid and must be ignored.
        if p.is_absolute() {
            return Ok(p.join("tokensmith").join("dev"));
        }
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("neither XDG_STATE_HOME nor HOME is set: cannot place the dev cluster's state")?;
    Ok(PathBuf::from(home).join(".local/state/tokensmith/dev"))
}
