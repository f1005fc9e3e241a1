//! SIGKILL during a rotation, at each of its steps, and the next run
//! converges: right after the kill a published, signed token exists and the
//! file sink holds a complete join command for a live token, with at most
//! one extra token; after the next run the rotation is back to `keep`
//! published tokens and every sink holds the newest one.
//!
//! The kill points are made deterministic from outside the process, with no
//! hooks in the shipped code: a webhook receiver that never answers holds the
//! process inside a publish, and the dev cluster's latency fault holds it
//! inside the API call that follows the request the test saw in the request
//! log (create, the published mark, the first delete).

mod rotation_support;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rotation_support::receiver::{Mode, Receiver};
use rotation_support::{
    check_finished, check_safe, complete_join_command, connect, is_published, rotate_rhai,
    rotation_tokens,
};
use serde_json::Value;
use support::TestCluster;
use tokensmith::cluster::Cluster;
use tokensmith::devcluster::FaultConfig;

const ROTATION: &str = "crash";

/// Long enough that the process is surely still waiting on the next API
/// call when the test kills it; it only bounds how long that wait is.
fn slow_api() -> FaultConfig {
    FaultConfig {
        latency_ms: 2000,
        ..FaultConfig::none()
    }
}

struct Scene {
    rt: tokio::runtime::Runtime,
    c: TestCluster,
    cluster: Cluster,
    hook: Receiver,
    file: PathBuf,
}

impl Scene {
    fn new() -> Scene {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let c = TestCluster::start();
        let cluster = rt.block_on(connect(&c));
        let file = c.dir().join("join.sh");
        Scene {
            rt,
            c,
            cluster,
            hook: Receiver::start(),
            file,
        }
    }

    /// rotate.rhai's arguments: a file sink, then the webhook `/a`.
    fn args(&self, verify: bool) -> Vec<String> {
        vec![
            format!("name={ROTATION}"),
            "ttl=1h".to_owned(),
            format!("verify={verify}"),
            format!("out={}", self.file.display()),
            format!("webhook={}", self.hook.url("a")),
        ]
    }

    fn command(&self, script: &Path, args: &[String]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokensmith"));
        cmd.env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LOG")
            .env("HOME", self.c.dir().join("home"))
            .env("XDG_STATE_HOME", self.c.dir().join("xdg-state"))
            .env("KUBECONFIG", self.c.kubeconfig_path())
            .current_dir(self.c.dir())
            .arg("run")
            .arg(script);
        for a in args {
            cmd.arg("--arg").arg(a);
        }
        cmd
    }

    /// A whole run, which must succeed.
    fn rotate(&self, script: &Path, args: &[String]) {
        let out = self.command(script, args).output().expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts a run and SIGKILLs it once `reached` says it got to the kill
    /// point; the process must still be running then.
    fn kill_when(&self, script: &Path, args: &[String], reached: impl Fn() -> bool) {
        let mut child: Child = self
            .command(script, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tokensmith");
        let give_up = Instant::now() + Duration::from_secs(60);
        while !reached() {
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!("the run ended ({status}) before the kill point");
            }
            assert!(
                Instant::now() < give_up,
                "the run never reached the kill point"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            child.try_wait().expect("poll child").is_none(),
            "the run ended before it could be killed at the kill point"
        );
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }

    /// True once the request log has a successful `verb` on a token Secret.
    fn logged(&self, verb: &str) -> bool {
        let log = self.c.requests_blocking();
        log["items"].as_array().is_some_and(|items| {
            items.iter().any(|r: &Value| {
                r["verb"] == verb
                    && r["resource"] == "secrets"
                    && r["name"]
                        .as_str()
                        .is_none_or(|n| n.starts_with("bootstrap-token-"))
                    && matches!(r["code"].as_u64(), Some(200..=299))
            })
        })
    }

    /// The invariants right after a kill; returns the rotation's token count.
    fn after_kill(&self, what: &str) -> usize {
        self.c.set_faults_blocking(&FaultConfig::none());
        let when = format!("after a kill {what}");
        let (tokens, _) = self.rt.block_on(check_safe(
            &self.c,
            &self.cluster,
            ROTATION,
            &self.file,
            &when,
        ));
        tokens.len()
    }

    /// The next run converges: `keep` published tokens, every sink on the newest.
    fn converges(&self, script: &Path, args: &[String], keep: usize, webhooks: &[&str]) {
        for w in webhooks {
            self.hook.set(w, Mode::Accept);
        }
        self.rotate(script, args);
        let (tokens, in_file) = self.rt.block_on(check_finished(
            &self.c,
            &self.cluster,
            ROTATION,
            &self.file,
            "after the next run",
        ));
        assert_eq!(tokens.len(), keep, "the next run retires the extra tokens");
        let newest = tokens.iter().max_by_key(|t| t.created).expect("a token");
        assert_eq!(
            newest.token.token, in_file,
            "the file holds the newest token"
        );
        let text = std::fs::read_to_string(&self.file).expect("file sink");
        for w in webhooks {
            assert_eq!(
                self.hook.last_command(w).as_deref(),
                Some(text.trim_end_matches('\n')),
                "webhook /{w} holds the newest command"
            );
        }
    }

    fn tokens(&self) -> Vec<tokensmith::cluster::StoredToken> {
        self.rt.block_on(rotation_tokens(&self.cluster, ROTATION))
    }

    fn file_token(&self) -> tokensmith::token::BootstrapTokenString {
        complete_join_command(&std::fs::read_to_string(&self.file).expect("file sink"))
            .expect("a complete join command")
    }
}

#[test]
fn killed_after_create_while_verifying_leaves_one_unpublished_token_and_converges() {
    let s = Scene::new();
    let script = rotate_rhai();
    s.rotate(&script, &s.args(true));
    let before = s.file_token();
    s.c.reset_requests_blocking();
    s.c.set_faults_blocking(&slow_api());
    s.kill_when(&script, &s.args(true), || s.logged("create"));
    assert_eq!(
        s.after_kill("while verifying"),
        2,
        "at most one extra token"
    );
    let tokens = s.tokens();
    assert_eq!(tokens.iter().filter(|t| !is_published(t)).count(), 1);
    assert_eq!(s.file_token(), before, "nothing was published yet");
    s.converges(&script, &s.args(true), 1, &["a"]);
}

#[test]
fn killed_while_a_webhook_hangs_after_the_file_took_the_new_command_converges() {
    let s = Scene::new();
    let script = rotate_rhai();
    s.rotate(&script, &s.args(false));
    let before = s.file_token();
    s.hook.set("a", Mode::Hang);
    let seen = s.hook.arrived("a");
    s.kill_when(&script, &s.args(false), || s.hook.arrived("a") > seen);
    assert_eq!(
        s.after_kill("while publishing"),
        2,
        "at most one extra token"
    );
    // The file holds the new, live but unmarked token; the webhook the old one.
    assert_ne!(s.file_token(), before);
    let hooked = complete_join_command(&s.hook.last_command("a").expect("an earlier POST"))
        .expect("a complete command");
    assert_eq!(hooked, before);
    s.converges(&script, &s.args(false), 1, &["a"]);
}

#[test]
fn killed_while_the_second_of_two_webhooks_hangs_converges() {
    let s = Scene::new();
    let script = s.c.dir().join("two-hooks.rhai");
    std::fs::write(
        &script,
        r#"
        let r = token::rotate(#{
            name: args.name, ttl: args.ttl,
            publish: [#{ file: args.out }, #{ webhook: args.a }, #{ webhook: args.b }],
        });
        if !r.ok { throw `rotation failed: ${r.errors}` }
        "#,
    )
    .expect("write script");
    let args = vec![
        format!("name={ROTATION}"),
        "ttl=1h".to_owned(),
        format!("out={}", s.file.display()),
        format!("a={}", s.hook.url("a")),
        format!("b={}", s.hook.url("b")),
    ];
    s.rotate(&script, &args);
    let before = s.file_token();
    s.hook.set("b", Mode::Hang);
    let seen = s.hook.arrived("b");
    s.kill_when(&script, &args, || s.hook.arrived("b") > seen);
    assert_eq!(s.after_kill("while the second webhook hangs"), 2);
    let a = complete_join_command(&s.hook.last_command("a").expect("a")).expect("command");
    let b = complete_join_command(&s.hook.last_command("b").expect("b")).expect("command");
    assert_eq!(a, s.file_token(), "the first webhook took the new command");
    assert_eq!(b, before, "the second still holds the old one");
    s.converges(&script, &args, 1, &["a", "b"]);
}

#[test]
fn killed_after_marking_published_before_retiring_the_old_token_converges() {
    let s = Scene::new();
    let script = rotate_rhai();
    s.rotate(&script, &s.args(false));
    s.c.reset_requests_blocking();
    s.c.set_faults_blocking(&slow_api());
    s.kill_when(&script, &s.args(false), || s.logged("patch"));
    assert_eq!(s.after_kill("after the published mark"), 2);
    assert!(
        s.tokens().iter().all(is_published),
        "both tokens are marked"
    );
    assert_eq!(
        complete_join_command(&s.hook.last_command("a").expect("a")).expect("command"),
        s.file_token(),
        "every sink took the new command"
    );
    s.converges(&script, &s.args(false), 1, &["a"]);
}

#[test]
fn killed_after_the_first_delete_of_several_converges() {
    let s = Scene::new();
    let script = rotate_rhai();
    s.rotate(&script, &s.args(false));
    // A first crash leaves an unpublished token, so the next run has two to retire.
    s.c.reset_requests_blocking();
    s.c.set_faults_blocking(&slow_api());
    s.kill_when(&script, &s.args(false), || s.logged("create"));
    assert_eq!(s.after_kill("after create"), 2);
    s.c.reset_requests_blocking();
    s.c.set_faults_blocking(&slow_api());
    s.kill_when(&script, &s.args(false), || s.logged("delete"));
    assert_eq!(
        s.after_kill("after the first delete"),
        2,
        "the new token and one of the two it was retiring"
    );
    let tokens = s.tokens();
    let newest = tokens.iter().max_by_key(|t| t.created).expect("a token");
    assert!(is_published(newest) && newest.token.token == s.file_token());
    s.converges(&script, &s.args(false), 1, &["a"]);
}
