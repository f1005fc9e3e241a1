//! A newcomer's first ten minutes, through the built binary on a fresh HOME:
//! the quick start's note, `--dev` and `dev-cluster` sharing one state, the
//! messages that must lead somewhere, and the help a new user reads.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

mod support;

use support::{TestCluster, wait_for};

/// The binary with HOME and XDG_STATE_HOME in `home` and no kubeconfig.
fn fresh(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
    cmd.env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .env_remove("KUBECONFIG")
        .env("HOME", home.join("home"))
        .env("XDG_STATE_HOME", home.join("xdg-state"))
        .current_dir(home)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("tokensmith runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn dev_dir(home: &Path) -> PathBuf {
    home.join("xdg-state/tokensmith/dev")
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write script");
    p
}

#[test]
fn the_quick_start_says_what_ran_where_state_lives_and_what_next() {
    let home = tempfile::tempdir().unwrap();
    let rotate = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rotate.rhai");
    let out = run(fresh(home.path()).args(["--dev", "run"]).arg(&rotate));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).starts_with("kubeadm join "), "{stderr}");
    let dir = dev_dir(home.path());
    for needle in [
        "rehearsal dev cluster (--dev)",
        &format!("stays in {}", dir.display()),
        "was up only while the command ran",
        "`tokensmith --dev dev-cluster`",
    ] {
        assert!(
            stderr.contains(needle),
            "{needle:?} missing from:\n{stderr}"
        );
    }
    // The state (snapshot and/or its log, as the store keeps it) and the kubeconfig stay.
    assert!(dir.join("admin.kubeconfig").is_file());

    let quiet = run(fresh(home.path()).args(["--dev", "-q", "run"]).arg(&rotate));
    assert!(quiet.status.success(), "{}", text(&quiet.stderr));
    assert_eq!(text(&quiet.stderr), "", "-q prints errors only");
}

/// `tokensmith --dev dev-cluster`, stopped (SIGTERM) on drop.
struct Served {
    child: Child,
    url: String,
}

impl Served {
    fn start(home: &Path) -> Served {
        let mut child = fresh(home)
            .args(["--dev", "dev-cluster"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dev-cluster");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("first line");
        let url = first
            .trim()
            .strip_prefix("dev cluster serving at ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        Served { child, url }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

#[test]
fn dev_commands_use_a_running_dev_dev_cluster_and_its_state_stays() {
    let home = tempfile::tempdir().unwrap();
    let created =
        run(fresh(home.path()).args(["--dev", "token", "create", "abcdef.0123456789abcdef"]));
    assert!(created.status.success(), "{}", text(&created.stderr));
    let first_port = std::fs::read_to_string(dev_dir(home.path()).join("port")).unwrap();

    let served = Served::start(home.path());
    assert!(
        served.url.ends_with(&format!(":{}", first_port.trim())),
        "the served state keeps the --dev port: {} vs {first_port}",
        served.url
    );
    // kubectl's view: the admin kubeconfig of the --dev state, pointing at it.
    let kubeconfig = dev_dir(home.path()).join("admin.kubeconfig");
    let yaml = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(yaml.contains(&served.url), "{yaml}");
    let listed = run(fresh(home.path())
        .args(["token", "list", "--kubeconfig"])
        .arg(&kubeconfig));
    assert!(
        text(&listed.stdout).contains("abcdef."),
        "the served cluster holds the --dev state: {}",
        text(&listed.stderr)
    );

    // While it serves, --dev commands connect to it instead of "state in use".
    let made =
        run(fresh(home.path()).args(["--dev", "token", "create", "ghijkl.0123456789abcdef"]));
    assert!(made.status.success(), "{}", text(&made.stderr));
    let script = write(home.path(), "ids.rhai", "token::list().map(|t| t.id)");
    let ran = run(fresh(home.path()).args(["--dev", "run"]).arg(&script));
    let stderr = text(&ran.stderr);
    assert!(ran.status.success(), "{stderr}");
    assert!(!stderr.contains("in use"), "{stderr}");
    assert!(
        !stderr.contains("was up only while"),
        "a shared cluster stays up: {stderr}"
    );
    let stdout = text(&ran.stdout);
    assert!(
        stdout.contains("abcdef") && stdout.contains("ghijkl"),
        "{stdout}"
    );
    let listed = run(fresh(home.path())
        .args(["token", "list", "--kubeconfig"])
        .arg(&kubeconfig));
    assert!(text(&listed.stdout).contains("ghijkl."));
    drop(served);

    // Stopped: --dev starts its own again, on the same state.
    let listed = run(fresh(home.path()).args(["--dev", "token", "list"]));
    let out = text(&listed.stdout);
    assert!(out.contains("abcdef.") && out.contains("ghijkl."), "{out}");
}

#[test]
fn dev_dev_cluster_refuses_another_state_file() {
    let home = tempfile::tempdir().unwrap();
    let out = run(fresh(home.path()).args(["--dev", "dev-cluster", "--state", "x.json"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("give either --dev or --state"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn no_kubeconfig_suggests_dev_and_kubeconfig() {
    let home = tempfile::tempdir().unwrap();
    let out = run(fresh(home.path()).args(["token", "list"]));
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "error: failed to load admin kubeconfig: open {}: no such file or directory",
                home.path().join("home/.kube/config").display()
            )
            .as_str()
        ),
        "kubeadm's line stays first: {stderr}"
    );
    let hint = lines.next().unwrap_or_default();
    assert!(
        hint.contains("--kubeconfig PATH") && hint.contains("--dev"),
        "{stderr}"
    );
    // In a script, the same hint comes with the thrown error.
    let script = write(home.path(), "l.rhai", "token::list()");
    let out = run(fresh(home.path()).arg("run").arg(&script));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("or --dev to rehearse"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn v5_shows_the_cause_chain_and_no_dependency_trace() {
    let c = TestCluster::start();
    // The cluster's own kubeconfig, aimed at a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = c.dir().join("dead.kubeconfig");
    let yaml = c
        .kubeconfig_yaml()
        .replace(&c.url(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(&dead, yaml).unwrap();
    let out = c
        .tokensmith()
        .args(["token", "list", "--v=5", "--kubeconfig"])
        .arg(&dead)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tokensmith::cause"), "{stderr}");
    assert!(
        stderr.contains("  0: ") && stderr.contains("  1: "),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("connection refused"),
        "{stderr}"
    );
    for dep in ["hyper", "rustls", "h2::", "tower", "kube_client"] {
        assert!(
            !stderr.lines().any(|l| l.contains(&format!(" {dep}"))),
            "{dep} logged at --v=5:\n{stderr}"
        );
    }
    assert!(stderr.len() < 8 * 1024, "{} bytes:\n{stderr}", stderr.len());
}

#[test]
fn help_separates_own_and_global_options_and_explains_verbosity() {
    let home = tempfile::tempdir().unwrap();
    let help = text(&run(fresh(home.path()).args(["run", "--help"])).stdout);
    let own = help.find("--arg <KEY=VALUE>").expect("run's own option");
    let global = help.find("Global options:").expect("a global heading");
    let kubeconfig = help.find("--kubeconfig <PATH>").expect("global option");
    assert!(own < global && global < kubeconfig, "{help}");
    assert!(help.contains("-q, --quiet"), "{help}");
    assert!(help.contains("By default only warnings, errors"), "{help}");
}

#[test]
fn token_without_subcommand_prints_token_help() {
    let home = tempfile::tempdir().unwrap();
    let help = run(fresh(home.path()).args(["token", "--help"]));
    assert!(help.status.success());
    let bare = run(fresh(home.path()).arg("token"));
    assert_eq!(bare.status.code(), Some(1));
    assert_eq!(text(&bare.stdout), text(&help.stdout));
    assert!(text(&help.stdout).contains("Usage: tokensmith token"));
}

#[test]
fn an_arg_the_script_never_reads_is_a_warning() {
    let home = tempfile::tempdir().unwrap();
    let script = write(home.path(), "t.rhai", "args.ttl ?? \"1h\"");
    let out = run(fresh(home.path())
        .arg("run")
        .arg(&script)
        .args(["--arg", "ttll=2h", "--arg", "ttl=3h"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "3h\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: --arg ttll=…: the script did not read \"ttll\" (it reads: ttl)"),
        "{stderr}"
    );
    assert!(!stderr.contains("\"ttl\""), "{stderr}");
    assert!(!stderr.contains("2h"), "the value is not echoed: {stderr}");
}

#[test]
fn check_calls_a_plain_script_a_plain_script_and_shows_no_header_for_a_failure() {
    let home = tempfile::tempdir().unwrap();
    let plain = write(home.path(), "plain.rhai", "1 + 1\n");
    let broken = write(
        home.path(),
        "broken.rhai",
        "//! schedule: 0 3 * * *\nlet = ;\n",
    );
    let out = run(fresh(home.path()).arg("check").arg(&plain));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("run it with `tokensmith run`"), "{stdout}");
    assert!(!stdout.contains("import only"), "{stdout}");
    let out = run(fresh(home.path()).arg("check").arg(&broken));
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout.contains("  schedule:"), "{stdout}");
    assert!(!stdout.contains("  timezone:"), "{stdout}");
}

#[test]
fn watch_logs_values_not_options() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("jobs");
    std::fs::create_dir_all(&dir).unwrap();
    write(&dir, "yearly.rhai", "//! schedule: 0 0 1 1 *\n");
    write(&dir, "plain.rhai", "// only imported\n");
    let log = home.path().join("daemon.log");
    let mut child = fresh(home.path())
        .arg("watch")
        .arg(&dir)
        .arg("--test-executor")
        .arg("--state-dir")
        .arg(home.path().join("state"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    wait_for(
        "both jobs loaded",
        || read().matches("job loaded").count() >= 2,
        read,
    );
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let log = read();
    assert!(!log.contains("Some(") && !log.contains("None"), "{log}");
    assert!(log.contains("next=none"), "{log}");
    assert!(log.contains("next=20"), "{log}");
}

#[test]
fn completions_cover_every_shell_clap_supports() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        let out = run(fresh(home.path()).args(["completions", shell]));
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("tokensmith"), "{shell}");
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains("completions bash\\|elvish\\|fish\\|powershell\\|zsh"));
}

#[test]
fn cargo_toml_comments_name_only_files_in_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for comment in manifest
        .lines()
        .filter_map(|l| l.split_once('#').map(|(_, c)| c))
    {
        for word in comment.split_whitespace() {
            let word = word.trim_matches(|c: char| "`,.;:()".contains(c));
            let looks_like_file = [".md", ".sh", ".rs", ".toml"]
                .iter()
                .any(|ext| word.ends_with(ext));
            if looks_like_file {
                assert!(
                    !word.starts_with("..") && root.join(word).exists(),
                    "Cargo.toml names {word}, which is not in the repository"
                );
            }
        }
    }
}

#[test]
fn the_guide_installs_with_the_lock_file() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/guide.md"))
            .unwrap();
    assert!(guide.contains("cargo install --locked --path ."), "{guide}");
}
