//! The `--dev` state directory and the one story around it: the first `--dev`
//! command starts a dev cluster on that state for as long as it runs, and
//! `tokensmith --dev dev-cluster` serves the same state until stopped, with
//! every other `--dev` command connecting to it meanwhile (the state's lock
//! says one is serving; its admin kubeconfig says where).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use super::{BackgroundDevCluster, DevClusterConfig, FaultConfig, default_dev_state_dir};

/// A dev cluster already holds this state file's lock.
#[derive(Debug, thiserror::Error)]
#[error("the dev cluster state {} is in use by another running dev cluster", .0.display())]
pub struct StateInUse(pub PathBuf);

/// The directory behind `--dev`: `state.json`, the CA, the admin token,
/// `admin.kubeconfig` and `port` (the port it served on last).
#[derive(Debug, Clone)]
pub struct DevState {
    dir: PathBuf,
}

impl DevState {
    /// `$XDG_STATE_HOME/tokensmith/dev`, else `~/.local/state/tokensmith/dev`.
    pub fn locate() -> anyhow::Result<DevState> {
        Ok(DevState {
            dir: default_dev_state_dir()?,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    /// A dev cluster on this state, listening on loopback `port` (0: any free one).
    pub fn config(&self, listen: SocketAddr) -> DevClusterConfig {
        DevClusterConfig {
            listen,
            state_file: Some(self.state_file()),
            kubeconfig_out: Some(self.kubeconfig()),
            faults: FaultConfig::none(),
        }
    }

    /// The loopback port served last time, so that the join commands a
    /// rehearsal publishes keep one endpoint from run to run.
    pub fn last_listen(&self) -> Option<SocketAddr> {
        std::fs::read_to_string(self.dir.join("port"))
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .filter(|p| *p != 0)
            .map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
    }

    /// Records the port of `url` for [`DevState::last_listen`]. Best effort:
    /// without the file the next run just picks a new port.
    pub fn remember(&self, url: &str) {
        let port = url.rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        if let Some(port) = port
            && self.last_listen().map(|a| a.port()) != Some(port)
        {
            let _ = std::fs::write(self.dir.join("port"), format!("{port}\n"));
        }
    }
}

/// The dev cluster a `--dev` command talks to.
#[derive(Debug)]
pub enum DevSession {
    /// Started for this command on the `--dev` state; its endpoint goes away
    /// when the command ends.
    Started(BackgroundDevCluster, DevState),
    /// Another process (`tokensmith --dev dev-cluster`) serves the state;
    /// reached through the admin kubeconfig it wrote.
    Shared(DevState),
}

impl DevSession {
    pub fn state(&self) -> &DevState {
        match self {
            DevSession::Started(_, s) | DevSession::Shared(s) => s,
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.state().kubeconfig()
    }
}

/// Starts a dev cluster on the `--dev` state for this command, or, when one
/// is already serving that state, connects to it instead.
pub fn start_dev_session() -> anyhow::Result<DevSession> {
    let state = DevState::locate()?;
    let started = match state
        .last_listen()
        .map(|l| super::start_in_background(state.config(l)))
    {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) if e.downcast_ref::<StateInUse>().is_some() => Err(e),
        // Taken by another program (or never recorded): any free port will do.
        _ => super::start_in_background(state.config(SocketAddr::from(([127, 0, 0, 1], 0)))),
    };
    match started {
        Ok(cluster) => {
            state.remember(&cluster.url());
            Ok(DevSession::Started(cluster, state))
        }
        Err(e) if e.downcast_ref::<StateInUse>().is_some() && state.kubeconfig().is_file() => {
            tracing::info!(
                kubeconfig = %state.kubeconfig().display(),
                "the --dev state is served by a running dev cluster: using it"
            );
            Ok(DevSession::Shared(state))
        }
        Err(e) => Err(e),
    }
}
