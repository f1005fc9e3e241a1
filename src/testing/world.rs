//! A test's world: its own dev cluster and the clock that cluster, its
//! client and the script share, the webhook receivers it started, the
//! output it printed and the token secrets it made (kept out of reports).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::clock::Clock;
use crate::cluster::Cluster;
use crate::devcluster::{DevCluster, DevClusterConfig};
use crate::script::{ScriptHost, ScriptOptions};

use super::receiver::Receiver;

/// Ends [`Output::capture_thread`].
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURING.with(|c| *c.borrow_mut() = None);
    }
}

/// Lines a test printed (`print`, `debug`), shown when it fails.
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<Vec<String>>>);

impl Output {
    pub fn push(&self, line: String) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Routes `log::` lines of scripts on this thread here until the guard drops.
    pub fn capture_thread(&self) -> CaptureGuard {
        CAPTURING.with(|c| *c.borrow_mut() = Some(self.clone()));
        CaptureGuard
    }

    /// Routes `print` and `debug` of `engine` here instead of the log.
    pub fn capture(&self, engine: &mut rhai::Engine) {
        let out = self.clone();
        engine.on_print(move |text| out.push(text.to_owned()));
        let out = self.clone();
        engine.on_debug(move |text, _, pos| match pos.line() {
            Some(l) => out.push(format!("[{l}:{}] {text}", pos.position().unwrap_or(1))),
            None => out.push(text.to_owned()),
        });
    }
}

thread_local! {
    /// The output of the test whose script runs on this thread. Scripts run
    /// synchronously on their own thread, so a thread-local is exact.
    static CAPTURING: std::cell::RefCell<Option<Output>> = const { std::cell::RefCell::new(None) };
}

/// Keeps `log::…` lines of the script running on this thread in its test's
/// output instead of the log; false when no test runs here.
pub fn capture_log(level: tracing::Level, msg: &str) -> bool {
    CAPTURING.with(|c| match &*c.borrow() {
        Some(out) => {
            out.push(format!("[{level}] {msg}"));
            true
        }
        None => false,
    })
}

/// Token secrets the test's cluster has held; reports hide them by value.
#[derive(Clone, Default)]
pub struct Secrets(Arc<Mutex<BTreeSet<String>>>);

impl Secrets {
    fn add(&self, secret: String) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(secret);
    }

    /// `text` with every recorded secret (and every token-shaped string) hidden.
    pub fn redact(&self, text: &str) -> String {
        let mut out = crate::script::redact::redact_tokens(text);
        for s in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if !s.is_empty() {
                out = out.replace(s.as_str(), &"*".repeat(s.len()));
            }
        }
        out
    }
}

/// Everything one test runs in.
pub struct World {
    pub(crate) clock: Clock,
    pub(crate) dev: Arc<DevCluster>,
    pub(crate) runtime: tokio::runtime::Handle,
    /// The test file's directory: where `run_job` and `schedule::ticks` find scripts.
    pub(crate) dir: PathBuf,
    /// What `run_job` runs on: the production API (no test functions) on
    /// the same cluster, with the daemon's options.
    pub(crate) jobs: ScriptHost,
    pub(crate) output: Output,
    pub(crate) secrets: Secrets,
    receivers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    recorder: tokio::task::JoinHandle<()>,
}

impl World {
    /// Starts a fresh dev cluster on `rt` and connects to it. Returns the
    /// world and the cluster the test's own host should use.
    pub fn start(
        rt: &tokio::runtime::Handle,
        dir: &Path,
        opts: &ScriptOptions,
    ) -> anyhow::Result<(Arc<World>, Cluster)> {
        let clock = Clock::system();
        let dev = rt.block_on(DevCluster::start_with_clock(
            DevClusterConfig::ephemeral(),
            clock.clone(),
        ))?;
        let secrets = Secrets::default();
        let recorder = rt.spawn(record_secrets(dev.store().changes(), secrets.clone()));
        let cluster = rt
            .block_on(Cluster::from_kubeconfig_yaml(
                &dev.kubeconfig_yaml(),
                Path::new("<test dev cluster>"),
            ))?
            .with_clock(clock.clone());
        let _entered = rt.enter();
        let job_opts = ScriptOptions {
            // As the daemon: a job's wall time is its header's `timeout`.
            limits: crate::script::Limits {
                timeout: None,
                ..opts.limits.clone()
            },
            echo_print: false,
            ..opts.clone()
        };
        let world = World {
            clock,
            dev: Arc::new(dev),
            runtime: rt.clone(),
            dir: dir.to_path_buf(),
            jobs: ScriptHost::new(Some(cluster.clone()), job_opts),
            output: Output::default(),
            secrets,
            receivers: Mutex::default(),
            recorder,
        };
        Ok((Arc::new(world), cluster))
    }

    /// Records the secrets the cluster holds now (the recorder may not have
    /// seen the very last writes yet).
    pub fn collect_secrets(&self) {
        let (items, _) = self.dev.store().list(
            crate::devcluster::resources::Resource::Secrets,
            Some("kube-system"),
        );
        for s in items {
            for (k, v) in crate::devcluster::auth::secret_data(&s).unwrap_or_default() {
                if k == "token-secret" {
                    self.secrets.add(v);
                }
            }
        }
    }

    /// A new webhook receiver, stopped with the world.
    pub fn receiver(&self) -> std::io::Result<Receiver> {
        let (r, task) = Receiver::start_on(&self.runtime)?;
        self.receivers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
        Ok(r)
    }

    /// Stops the receivers and the dev cluster (in the background: the
    /// next test need not wait for connections to drain).
    pub fn stop(self: Arc<Self>) {
        let Ok(world) = Arc::try_unwrap(self) else {
            // Still referenced (a detached script thread): let it be.
            return;
        };
        for task in world
            .receivers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
        world.recorder.abort();
        if let Ok(dev) = Arc::try_unwrap(world.dev) {
            world.runtime.spawn(dev.shutdown());
        }
    }
}

/// Keeps every `token-secret` a bootstrap-token Secret of the cluster held.
async fn record_secrets(
    mut changes: tokio::sync::broadcast::Receiver<Arc<crate::devcluster::store::Event>>,
    secrets: Secrets,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changes.recv().await {
            Ok(ev) => {
                if let Some(data) = crate::devcluster::auth::secret_data(&ev.object) {
                    for (k, v) in data {
                        if k == "token-secret" {
                            secrets.add(v);
                        }
                    }
                }
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}
