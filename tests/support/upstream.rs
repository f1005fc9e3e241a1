//! The upstream tier's harness: real etcd, kube-apiserver and the upstream
//! bootstrap controllers on loopback, set up the way `kubeadm init` leaves a
//! cluster for bootstrap tokens, plus the real `kubeadm` binary.
//!
//! ```ignore
//! mod support;
//! use support::upstream::UpstreamCluster;
//! let c = UpstreamCluster::start();                       // etcd + kube-apiserver + controllers
//! c.tokensmith().args(["token", "create"]).assert().success();
//! c.kubeadm().args(["token", "list"]).assert().success();
//! let client = c.client().await;                           // admin kube::Client (admin.conf)
//! // real kubeadm against a dev cluster:
//! support::upstream::kubeadm_command(dev.dir(), dev.kubeconfig_path());
//! ```
//!
//! The binaries come from `bash tests/upstream/build.sh` (cached under
//! `${XDG_CACHE_HOME:-$HOME/.cache}/tokensmith/upstream/v1.37.2/`, or
//! `$TOKENSMITH_UPSTREAM_DIR`). A missing binary fails the test with a message
//! naming that command: this tier never skips silently.
//!
//! The certificates and kubeconfigs are the ones real kubeadm generates
//! (`kubeadm init phase certs all`, `kubeconfig admin`/`super-admin`), and
//! the token objects (`kube-public/cluster-info`, the anonymous
//! `kubeadm:bootstrap-signer-clusterinfo` Role/RoleBinding, the bootstrap
//! groups' ClusterRoleBindings) are written by the real
//! `kubeadm init phase bootstrap-token`, so nothing here re-implements what
//! kubeadm would leave behind.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

use super::{TestCluster, block_on, raw_request, sandboxed_command};

/// The upstream release every binary of this tier is built from.
pub const VERSION: &str = "v1.37.2";

/// The token `kubeadm init phase bootstrap-token` insists on creating (its
/// config defaulting always adds one); deleted again before tests see the
/// cluster, so a fresh cluster has no tokens, like a fresh dev cluster.
const SETUP_TOKEN: &str = "ts0000.0000000000000000";

/// Where `tests/upstream/build.sh` puts the binaries.
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TOKENSMITH_UPSTREAM_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .expect("neither XDG_CACHE_HOME nor HOME is set: cannot find the upstream binaries");
    cache.join("tokensmith/upstream").join(VERSION)
}

/// The path of one upstream binary; panics, naming the build command, when it
/// has not been built.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "upstream binary {} is missing: run `bash tests/upstream/build.sh` \
         (needs Go; see the README's upstream tier section)",
        path.display()
    );
    path
}

/// The real `kubeadm`, with HOME in `dir` and KUBECONFIG set to `kubeconfig`
/// (kubeadm honours KUBECONFIG when `--kubeconfig` is not given). Works
/// against an [`UpstreamCluster`] and a dev [`TestCluster`] alike.
pub fn kubeadm_command(dir: &Path, kubeconfig: &Path) -> Command {
    let mut cmd = Command::new(binary("kubeadm"));
    cmd.env("HOME", dir.join("home"))
        .env("KUBECONFIG", kubeconfig)
        .current_dir(dir);
    cmd
}

/// What tests need from a cluster, so one test body can run against the dev
/// cluster and the real apiserver.
pub trait ClusterUnderTest {
    /// An admin kubeconfig.
    fn kubeconfig_path(&self) -> &Path;
    /// The test's scratch directory.
    fn dir(&self) -> &Path;
    /// The built `tokensmith`, sandboxed, pointed at the cluster.
    fn tokensmith(&self) -> Command;
    /// The real `kubeadm`, pointed at the cluster.
    fn kubeadm(&self) -> Command {
        kubeadm_command(self.dir(), self.kubeconfig_path())
    }
    /// The cluster's CA certificate (PEM), as pinned by join commands.
    fn ca_pem(&self) -> String;
    /// The apiserver's base URL.
    fn url(&self) -> String;
    /// What to print when a wait gives up (e.g. server logs).
    fn context(&self) -> String {
        String::new()
    }
}

impl ClusterUnderTest for TestCluster {
    fn kubeconfig_path(&self) -> &Path {
        TestCluster::kubeconfig_path(self)
    }
    fn dir(&self) -> &Path {
        TestCluster::dir(self)
    }
    fn tokensmith(&self) -> Command {
        TestCluster::tokensmith(self)
    }
    fn ca_pem(&self) -> String {
        TestCluster::ca_pem(self)
    }
    fn url(&self) -> String {
        TestCluster::url(self)
    }
}

/// An admin `kube::Client` from a kubeconfig file, on the caller's runtime.
pub async fn client_from(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .unwrap_or_else(|e| panic!("reading {}: {e}", kubeconfig.display()));
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("kubeconfig to client config");
    kube::Client::try_from(cfg).expect("kube client")
}

struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, dir: &Path, cmd: &mut std::process::Command) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let out = fs::File::create(&log).expect("log file");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Proc { name, child, log }
    }

    /// The log's last lines: what usually says why a process failed.
    fn tail(&self, lines: usize) -> String {
        let Ok(f) = fs::File::open(&self.log) else {
            return String::new();
        };
        let all: Vec<String> = BufReader::new(f).lines().map_while(Result::ok).collect();
        let from = all.len().saturating_sub(lines);
        format!(
            "---- {} ({}), last {} lines ----\n{}\n",
            self.name,
            self.log.display(),
            all.len() - from,
            all[from..].join("\n")
        )
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

/// etcd + kube-apiserver + the upstream bootstrap controllers on loopback,
/// in a temporary directory; everything is killed on drop, and the servers'
/// logs are printed when the test panicked.
pub struct UpstreamCluster {
    // Dropped in reverse start order (see Drop): controllers, apiserver, etcd.
    procs: Vec<Proc>,
    dir: tempfile::TempDir,
    url: String,
    admin: PathBuf,
    super_admin: PathBuf,
    ca_pem: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl UpstreamCluster {
    /// Starts a cluster; panics with the servers' logs if it does not come up.
    pub fn start() -> UpstreamCluster {
        for name in ["kubeadm", "etcd", "kube-apiserver", "bootstrap-controllers"] {
            binary(name);
        }
        let dir = tempfile::tempdir().expect("temporary directory for the upstream cluster");
        let d = dir.path().to_path_buf();
        let port = free_port();
        let (etcd_client, etcd_peer) = (free_port(), free_port());
        let url = format!("https://127.0.0.1:{port}");
        let pki = d.join("pki");
        let config = d.join("kubeadm.yaml");
        fs::write(&config, kubeadm_config(port, &pki)).expect("write kubeadm.yaml");

        let mut c = UpstreamCluster {
            procs: Vec::new(),
            url,
            admin: d.join("admin.conf"),
            super_admin: d.join("super-admin.conf"),
            ca_pem: String::new(),
            dir,
        };
        let cfg = config.to_str().expect("UTF-8 temp path");
        c.setup_kubeadm(&["init", "phase", "certs", "all", "--config", cfg]);
        let kdir = d.to_str().expect("UTF-8 temp path");
        for which in ["admin", "super-admin"] {
            c.setup_kubeadm(&[
                "init",
                "phase",
                "kubeconfig",
                which,
                "--config",
                cfg,
                "--kubeconfig-dir",
                kdir,
            ]);
        }
        c.ca_pem = fs::read_to_string(pki.join("ca.crt")).expect("kubeadm wrote pki/ca.crt");

        let p = |f: &str| pki.join(f);
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        // Plain HTTP on loopback: etcd's own TLS is not what this tier tests.
        // --unsafe-no-fsync: the data dir is thrown away after the test.
        let etcd = Proc::spawn(
            "etcd",
            &d,
            std::process::Command::new(binary("etcd"))
                .arg("--name=upstream")
                .arg(format!("--data-dir={}", d.join("etcd").display()))
                .arg(format!("--listen-client-urls={etcd_url}"))
                .arg(format!("--advertise-client-urls={etcd_url}"))
                .arg(format!("--listen-peer-urls={peer_url}"))
                .arg(format!("--initial-advertise-peer-urls={peer_url}"))
                .arg(format!("--initial-cluster=upstream={peer_url}"))
                .arg("--unsafe-no-fsync")
                .arg("--log-level=warn"),
        );
        c.procs.push(etcd);

        // The flags kubeadm's kube-apiserver static Pod manifest carries,
        // minus what needs a kubelet or a node network.
        let apiserver = Proc::spawn(
            "kube-apiserver",
            &d,
            std::process::Command::new(binary("kube-apiserver"))
                .arg("--advertise-address=127.0.0.1")
                .arg("--bind-address=127.0.0.1")
                .arg(format!("--secure-port={port}"))
                .arg("--allow-privileged=true")
                .arg("--authorization-mode=Node,RBAC")
                .arg("--enable-admission-plugins=NodeRestriction")
                .arg("--enable-bootstrap-token-auth=true")
                .arg(format!("--etcd-servers={etcd_url}"))
                .arg(format!("--client-ca-file={}", p("ca.crt").display()))
                .arg(format!("--tls-cert-file={}", p("apiserver.crt").display()))
                .arg(format!(
                    "--tls-private-key-file={}",
                    p("apiserver.key").display()
                ))
                .arg(format!(
                    "--kubelet-client-certificate={}",
                    p("apiserver-kubelet-client.crt").display()
                ))
                .arg(format!(
                    "--kubelet-client-key={}",
                    p("apiserver-kubelet-client.key").display()
                ))
                .arg(format!(
                    "--proxy-client-cert-file={}",
                    p("front-proxy-client.crt").display()
                ))
                .arg(format!(
                    "--proxy-client-key-file={}",
                    p("front-proxy-client.key").display()
                ))
                .arg(format!(
                    "--requestheader-client-ca-file={}",
                    p("front-proxy-ca.crt").display()
                ))
                .arg("--requestheader-allowed-names=front-proxy-client")
                .arg("--requestheader-extra-headers-prefix=X-Remote-Extra-")
                .arg("--requestheader-group-headers=X-Remote-Group")
                .arg("--requestheader-username-headers=X-Remote-User")
                .arg("--service-account-issuer=https://kubernetes.default.svc.cluster.local")
                .arg(format!(
                    "--service-account-key-file={}",
                    p("sa.pub").display()
                ))
                .arg(format!(
                    "--service-account-signing-key-file={}",
                    p("sa.key").display()
                ))
                .arg("--service-cluster-ip-range=10.96.0.0/12")
                // A loopback advertise address cannot be an Endpoints address;
                // nothing here routes to the `kubernetes` Service anyway.
                .arg("--endpoint-reconciler-type=none"),
        );
        c.procs.push(apiserver);
        c.wait_ready();

        let controllers = Proc::spawn(
            "bootstrap-controllers",
            &d,
            std::process::Command::new(binary("bootstrap-controllers"))
                .arg(format!("--kubeconfig={}", c.super_admin.display()))
                .arg("--controllers=bootstrapsigner,tokencleaner,csrapproving,csrsigning")
                .arg(format!(
                    "--cluster-signing-cert-file={}",
                    p("ca.crt").display()
                ))
                .arg(format!(
                    "--cluster-signing-key-file={}",
                    p("ca.key").display()
                ))
                .arg("--v=2"),
        );
        c.procs.push(controllers);

        let sa = c.super_admin.to_str().expect("UTF-8 temp path").to_string();
        c.setup_kubeadm(&[
            "init",
            "phase",
            "bootstrap-token",
            "--config",
            cfg,
            "--kubeconfig",
            &sa,
            "--skip-token-print",
        ]);
        c.bind_cluster_admins();
        let id = SETUP_TOKEN.split('.').next().expect("token id");
        c.setup_kubeadm(&["token", "delete", id]);
        c
    }

    /// Runs a set-up step with real kubeadm; a failure panics with its output.
    fn setup_kubeadm(&self, args: &[&str]) {
        let out = self
            .kubeadm()
            .env("KUBECONFIG", &self.admin)
            .args(args)
            .output()
            .expect("run kubeadm");
        if !out.status.success() {
            panic!(
                "set-up step `kubeadm {}` failed ({}):\n{}{}\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            );
        }
    }

    /// `kubeadm init` binds the `kubeadm:cluster-admins` group (admin.conf's
    /// user) to cluster-admin through super-admin.conf; its phases do not, so
    /// this does the same (kubeadm's EnsureAdminClusterRoleBinding).
    fn bind_cluster_admins(&self) {
        use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
        let binding: ClusterRoleBinding = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "kubeadm:cluster-admins"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kubeadm:cluster-admins"}],
        }))
        .expect("ClusterRoleBinding");
        let super_admin = self.super_admin.clone();
        block_on(async move {
            let api: kube::Api<ClusterRoleBinding> =
                kube::Api::all(client_from(&super_admin).await);
            api.create(&Default::default(), &binding).await
        })
        .unwrap_or_else(|e| panic!("creating kubeadm:cluster-admins: {e}\n{}", self.logs()));
    }

    fn wait_ready(&mut self) {
        const PATIENCE: Duration = Duration::from_secs(240);
        let start = Instant::now();
        loop {
            let dead = self
                .procs
                .iter_mut()
                .find_map(|p| p.exited().map(|status| (p.name, status)));
            if let Some((name, status)) = dead {
                panic!("{name} exited early ({status}):\n{}", self.logs());
            }
            let (url, ca) = (self.url.clone(), self.ca_pem.clone());
            let ready = block_on(async move {
                raw_request(&url, &ca, "GET", "/readyz", None, None, "".into()).await
            });
            if matches!(ready, Ok(ref r) if r.status == 200) {
                return;
            }
            if start.elapsed() > PATIENCE {
                panic!(
                    "kube-apiserver not ready after {PATIENCE:?} (last answer: {ready:?}):\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The apiserver's base URL, e.g. `https://127.0.0.1:34567`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// kubeadm's admin.conf (user `kubernetes-admin`, group
    /// `kubeadm:cluster-admins`): what an operator of a kubeadm cluster has.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.admin
    }

    /// kubeadm's super-admin.conf (group `system:masters`, bypasses RBAC).
    pub fn super_admin_kubeconfig_path(&self) -> &Path {
        &self.super_admin
    }

    /// The cluster CA (kubeadm's pki/ca.crt).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// kubeadm's certificate directory (ca.crt, ca.key, sa.key, ...).
    pub fn pki_dir(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    /// The test's scratch directory (also HOME for the commands).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An admin `kube::Client` (admin.conf) on the caller's runtime.
    pub async fn client(&self) -> kube::Client {
        client_from(&self.admin).await
    }

    /// The built `tokensmith`, sandboxed like [`TestCluster::tokensmith`],
    /// with KUBECONFIG=admin.conf.
    pub fn tokensmith(&self) -> Command {
        let mut cmd = sandboxed_command(self.dir.path());
        cmd.env("KUBECONFIG", &self.admin);
        cmd
    }

    /// The real `kubeadm` with KUBECONFIG=admin.conf.
    pub fn kubeadm(&self) -> Command {
        kubeadm_command(self.dir.path(), &self.admin)
    }

    /// The last lines of every server's log.
    pub fn logs(&self) -> String {
        self.procs.iter().map(|p| p.tail(40)).collect()
    }
}

impl ClusterUnderTest for UpstreamCluster {
    fn kubeconfig_path(&self) -> &Path {
        UpstreamCluster::kubeconfig_path(self)
    }
    fn dir(&self) -> &Path {
        UpstreamCluster::dir(self)
    }
    fn tokensmith(&self) -> Command {
        UpstreamCluster::tokensmith(self)
    }
    fn kubeadm(&self) -> Command {
        UpstreamCluster::kubeadm(self)
    }
    fn ca_pem(&self) -> String {
        UpstreamCluster::ca_pem(self)
    }
    fn url(&self) -> String {
        UpstreamCluster::url(self)
    }
    fn context(&self) -> String {
        self.logs()
    }
}

impl Drop for UpstreamCluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("upstream cluster logs:\n{}", self.logs());
        }
        while let Some(mut p) = self.procs.pop() {
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
    }
}

/// kubeadm replaces a loopback advertise address with the host's default-route
/// address, and fails where it cannot pick one. This documentation-range
/// address (RFC 5737) only ends up as a SAN of the serving certificate:
/// everything connects through `controlPlaneEndpoint`, on loopback.
const ADVERTISE: &str = "203.0.113.1";

/// What `kubeadm init` would be given for a single loopback control plane.
fn kubeadm_config(port: u16, pki: &Path) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: {SETUP_TOKEN}
localAPIEndpoint:
  advertiseAddress: {ADVERTISE}
  bindPort: {port}
nodeRegistration:
  name: tokensmith-upstream
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {VERSION}
clusterName: kubernetes
certificatesDir: {}
controlPlaneEndpoint: 127.0.0.1:{port}
apiServer:
  certSANs: [127.0.0.1, localhost]
",
        pki.display()
    )
}
