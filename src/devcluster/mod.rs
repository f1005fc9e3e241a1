//! (placeholder until the dev-cluster branch lands: same signatures)

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default)]
pub struct FaultConfig {}

#[derive(Debug, Clone)]
pub struct DevClusterConfig {
    pub listen: SocketAddr,
    pub state_file: Option<PathBuf>,
    pub kubeconfig_out: Option<PathBuf>,
    pub faults: FaultConfig,
}

impl Default for DevClusterConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            kubeconfig_out: None,
            faults: FaultConfig::default(),
        }
    }
}

pub struct BackgroundDevCluster;

impl BackgroundDevCluster {
    pub fn kubeconfig_path(&self) -> Option<&Path> {
        None
    }
}

pub fn default_dev_state_dir() -> anyhow::Result<PathBuf> {
    anyhow::bail!("the dev cluster is not built yet")
}

pub fn start_in_background(_cfg: DevClusterConfig) -> anyhow::Result<BackgroundDevCluster> {
    anyhow::bail!("the dev cluster is not built yet")
}
