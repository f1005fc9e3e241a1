//! The shared integration-test harness: a dev cluster per test, the real
//! `tokensmith` binary in a sandbox, raw HTTPS requests, and the dev
//! cluster's request log and fault controls.
//!
//! ```ignore
//! mod support;
//! let cluster = support::TestCluster::start();          // works in #[test] and #[tokio::test]
//! let client = cluster.client().await;                   // admin kube::Client
//! cluster.tokensmith().args(["token", "list"]).assert().success();
//! assert_eq!(cluster.counts_blocking().get("create"), None);
//! ```
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod daemon;
pub mod fleet;
pub mod join;
pub mod leader;
pub mod upstream;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tokensmith::devcluster::{
    BackgroundDevCluster, DevClusterConfig, FaultConfig, start_in_background,
};

/// A dev cluster on a free loopback port with its state in a temporary
/// directory; it stops when dropped.
pub struct TestCluster {
    cluster: BackgroundDevCluster,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

/// A raw HTTP answer.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", self.body))
    }
}

/// Runs `f` on a fresh runtime on its own thread, so it works from sync
/// tests and from inside a tokio runtime alike.
fn block_on<T: Send>(f: impl std::future::Future<Output = T> + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("test runtime")
                .block_on(f)
        })
        .join()
        .expect("test helper thread panicked")
    })
}

impl TestCluster {
    pub fn start() -> TestCluster {
        Self::start_with(FaultConfig::none())
    }

    pub fn start_with(faults: FaultConfig) -> TestCluster {
        let dir = tempfile::tempdir().expect("temporary directory for the dev cluster");
        let kubeconfig = dir.path().join("admin.kubeconfig");
        let cfg = DevClusterConfig {
            listen: "127.0.0.1:0".parse().expect("loopback address"),
            state_file: Some(dir.path().join("state/state.json")),
            kubeconfig_out: Some(kubeconfig.clone()),
            faults,
        };
        let cluster = start_in_background(cfg).expect("dev cluster starts");
        TestCluster {
            cluster,
            dir,
            kubeconfig,
        }
    }

    pub fn url(&self) -> String {
        self.cluster.url()
    }

    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn kubeconfig_yaml(&self) -> String {
        self.cluster.kubeconfig_yaml()
    }

    pub fn ca_pem(&self) -> String {
        self.cluster.ca_pem()
    }

    pub fn admin_token(&self) -> String {
        self.cluster.admin_token()
    }

    /// The test's scratch directory (also HOME for [`TestCluster::tokensmith`]).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An admin `kube::Client` on the caller's runtime.
    pub async fn client(&self) -> kube::Client {
        self.cluster.client().await.expect("admin client")
    }

    /// A `kube::Client` presenting `token` (None: anonymous).
    pub async fn client_with_token(&self, token: Option<&str>) -> kube::Client {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(self.ca_pem());
        let user = match token {
            Some(t) => format!("    token: {t}\n"),
            None => "    {}\n".to_string(),
        };
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user:\n{user}",
            self.url()
        );
        let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(cfg).expect("client")
    }

    /// The built `tokensmith` binary, pointed at this cluster through
    /// KUBECONFIG, with HOME and XDG_STATE_HOME in the test's directory.
    pub fn tokensmith(&self) -> Command {
        let mut cmd = sandboxed_command(self.dir.path());
        cmd.env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// Any request, over a fresh HTTPS connection. `token` None: anonymous.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> RawResponse {
        raw_request(
            &self.url(),
            &self.ca_pem(),
            method,
            path,
            token,
            content_type,
            body.into(),
        )
        .await
        .expect("HTTP exchange")
    }

    /// [`TestCluster::raw`] as the admin.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> RawResponse {
        let token = self.admin_token();
        self.raw(method, path, Some(&token), content_type, body)
            .await
    }

    /// The request log: `{"counts": {verb: n}, "items": [...]}`.
    pub async fn requests(&self) -> Value {
        self.admin("GET", "/tokensmith/v1/requests", None, "")
            .await
            .json()
    }

    /// Requests per Kubernetes verb since the last reset.
    pub async fn counts(&self) -> BTreeMap<String, u64> {
        serde_json::from_value(self.requests().await["counts"].clone()).expect("counts")
    }

    pub async fn reset_requests(&self) {
        let r = self
            .admin("DELETE", "/tokensmith/v1/requests", None, "")
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    pub async fn set_faults(&self, faults: &FaultConfig) {
        let body = serde_json::to_vec(faults).expect("faults as JSON");
        let r = self
            .admin(
                "PUT",
                "/tokensmith/v1/faults",
                Some("application/json"),
                body,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    pub fn counts_blocking(&self) -> BTreeMap<String, u64> {
        block_on(self.counts())
    }

    pub fn requests_blocking(&self) -> Value {
        block_on(self.requests())
    }

    pub fn reset_requests_blocking(&self) {
        block_on(self.reset_requests())
    }

    pub fn set_faults_blocking(&self, faults: &FaultConfig) {
        block_on(self.set_faults(faults))
    }

    pub fn raw_blocking(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Bytes>,
    ) -> RawResponse {
        let body = body.into();
        block_on(self.raw(method, path, token, content_type, body))
    }
}

/// The `tokensmith` binary with RUST_BACKTRACE removed and HOME,
/// XDG_STATE_HOME and KUBECONFIG pointed into a fresh temporary directory
/// (kept on disk, as the command may outlive this call).
pub fn tokensmith() -> Command {
    let dir = tempfile::tempdir()
        .expect("temporary directory for tokensmith")
        .keep();
    let mut cmd = sandboxed_command(&dir);
    cmd.env("KUBECONFIG", dir.join("no-such-kubeconfig"));
    cmd
}

fn sandboxed_command(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
    cmd.env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env("HOME", dir.join("home"))
        .env("XDG_STATE_HOME", dir.join("xdg-state"))
        .current_dir(dir);
    cmd
}

pub async fn raw_request(
    url: &str,
    ca_pem: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Bytes,
) -> anyhow::Result<RawResponse> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(ca_pem.as_bytes())?)?;
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("{url}{path}"));
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    let resp = client.request(req.body(Full::new(body))?).await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok(RawResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// Polls `cond` until it holds, failing after a generous bound with `what`
/// and `context()` (e.g. a daemon's log). For end-to-end waits on an
/// observable effect; nothing asserts on how long it took.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool, context: impl Fn() -> String) {
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < PATIENCE,
            "gave up waiting for {what}:\n{}",
            context()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
