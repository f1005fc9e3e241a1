//! TEMPORARY: the cluster contract from the brief, so that the script API
//! compiles before `src/cluster/` lands on main. Removed at the merge.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::token::{BootstrapToken, BootstrapTokenString, SecretDecodeError, TokenId};

#[derive(Debug, thiserror::Error)]
#[error("cluster not available")]
pub struct ClusterError;

pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub dry_run: bool,
    pub dev: bool,
}
impl ConnectOptions {
    pub fn from_global(g: &crate::cli::GlobalArgs) -> Self {
        Self { kubeconfig: g.kubeconfig.clone(), context: g.context.clone(), dry_run: g.dry_run, dev: g.dev }
    }
}
#[derive(Clone)]
pub struct Cluster;
impl Cluster {
    pub async fn connect(_opts: &ConnectOptions) -> Result<Cluster, ClusterError> {
        Err(ClusterError)
    }
    pub fn tokens(&self) -> TokenStore {
        TokenStore
    }
    pub fn server(&self) -> &str {
        ""
    }
    pub fn dry_run(&self) -> bool {
        false
    }
    pub fn join_command(&self, _t: &BootstrapTokenString, _cp: Option<&str>) -> Result<JoinCommand, ClusterError> {
        Err(ClusterError)
    }
}
#[derive(Clone)]
pub struct TokenStore;
impl TokenStore {
    pub async fn create(&self, _t: &BootstrapToken) -> Result<StoredToken, ClusterError> {
        Err(ClusterError)
    }
    pub async fn get(&self, _id: &TokenId) -> Result<Option<StoredToken>, ClusterError> {
        Err(ClusterError)
    }
    pub async fn list(&self) -> Result<Vec<Result<StoredToken, SecretDecodeError>>, ClusterError> {
        Err(ClusterError)
    }
    pub async fn delete(&self, _id: &TokenId) -> Result<(), ClusterError> {
        Err(ClusterError)
    }
}
pub struct StoredToken {
    pub token: BootstrapToken,
    pub created: Option<jiff::Timestamp>,
    pub labels: BTreeMap<String, String>,
}
pub struct JoinCommand;
impl JoinCommand {
    pub fn render(&self) -> String {
        String::new()
    }
}
