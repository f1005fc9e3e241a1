//! `tokensmith run` and `tokensmith check` with the built binary: real
//! scripts, against the dev cluster where they touch tokens.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use support::TestCluster;

/// Writes `source` as `name` in `dir` and returns its path.
fn script(dir: &Path, name: &str, source: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, source).expect("write script");
    p
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run tokensmith");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 stdout")
}

/// (exit code, stdout, stderr)
fn outcome(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run tokensmith");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn secrets(cluster: &TestCluster) -> Vec<Secret> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let api: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
        api.list(&Default::default())
            .await
            .expect("list secrets")
            .items
    })
}

fn secret_data(s: &Secret, key: &str) -> Option<String> {
    s.data
        .as_ref()?
        .get(key)
        .map(|v| String::from_utf8_lossy(&v.0).into_owned())
}

#[test]
fn token_api_round_trip_against_the_cluster() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "api.rhai",
        r#"
        let t = token::create(#{ ttl: "2h", description: "from a script", usages: ["signing", "authentication"] });
        let back = token::get(t.id);
        let listed = token::list().filter(|x| x.id == t.id);
        let ttl_ok = back.ttl > duration("1h59m") && back.ttl <= duration("2h");
        let out = [t.id, back.description, `${back.usages}`, `${back.groups}`, `${ttl_ok}`, `${listed.len()}`,
                   `${back.expired}`, `${type_of(back.created)}`, `${back}`];
        token::delete(t);
        out.push(`${token::get(t.id)}`);
        out.push(`${type_of(token::get(t.id))}`);
        out
        "#,
    );
    let out = stdout(c.tokensmith().arg("run").arg(&p));
    let id = out.split('"').nth(1).expect("id in output").to_owned();
    assert_eq!(
        out.trim(),
        format!(
            r#"["{id}", "from a script", "[\"authentication\", \"signing\"]", "[\"system:bootstrappers:kubeadm:default-node-token\"]", "true", "1", "false", "Timestamp", "{id}.****************", "", "()"]"#
        )
    );
    assert!(
        secrets(&c)
            .iter()
            .all(|s| s.metadata.name.as_deref() != Some(&format!("bootstrap-token-{id}")))
    );
}

#[test]
fn created_secret_has_kubeadms_layout_and_the_given_value() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "create.rhai",
        r#"token::create("abcdef.0123456789abcdef", #{ ttl: "0", description: "fixed", groups: "system:bootstrappers:x" }); ()"#,
    );
    let out = stdout(c.tokensmith().arg("run").arg(&p));
    assert_eq!(out, "");
    let all = secrets(&c);
    let s = all
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some("bootstrap-token-abcdef"))
        .expect("secret created");
    assert_eq!(s.type_.as_deref(), Some("bootstrap.kubernetes.io/token"));
    assert_eq!(
        secret_data(s, "token-secret").as_deref(),
        Some("0123456789abcdef")
    );
    assert_eq!(secret_data(s, "description").as_deref(), Some("fixed"));
    assert_eq!(
        secret_data(s, "auth-extra-groups").as_deref(),
        Some("system:bootstrappers:x")
    );
    assert_eq!(secret_data(s, "expiration"), None, "ttl 0 never expires");
}

#[test]
fn host_failures_are_catchable_and_never_show_the_secret() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "dup.rhai",
        r#"
        let t = token::create(#{});
        let caught = "";
        try { token::create(t, #{}) } catch (e) { caught = `${type_of(e)}|${e.function}|${e.message}` }
        let mine = "";
        try { throw "my own" } catch (e) { mine = type_of(e) }
        [caught, mine, t.secret.len()]
        "#,
    );
    let out = stdout(c.tokensmith().arg("run").arg(&p));
    assert!(
        out.contains(r#"HostError|token::create|token::create: a token with id \""#)
            && out.contains(r#"already exists"#)
            && out.contains(r#", "string", 16]"#),
        "{out}"
    );
    // Uncaught: the message names the function, the stderr has no secret.
    let p = script(
        c.dir(),
        "dup2.rhai",
        "let t = token::create(#{});\nlet s = t.secret;\ntoken::create(t, #{});\n",
    );
    let (code, _out, err) = outcome(c.tokensmith().arg("run").arg(&p));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "error: {}:3:8: token::create: a token with id",
            p.display()
        )),
        "{err}"
    );
    assert!(
        err.contains("\n 3 | token::create(t, #{});\n   |        ^"),
        "{err}"
    );
    let secret = secrets(&c)
        .iter()
        .find_map(|s| secret_data(s, "token-secret"))
        .expect("a token secret");
    assert!(!err.contains(&secret));
}

#[test]
fn join_command_is_kubeadms_line_for_worker_and_control_plane() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "join.rhai",
        r#"
        let t = token::create(#{ ttl: "1h" });
        [t.value, join::command(t), join::command(t.value, #{ control_plane: true, certificate_key: "k3y" })]
        "#,
    );
    let out = stdout(c.tokensmith().arg("run").arg(&p));
    let parts: Vec<&str> = out
        .trim()
        .trim_matches(['[', ']'])
        .split("\", \"")
        .collect();
    let value = parts[0].trim_matches('"');
    let worker = parts[1];
    let cp = parts[2].trim_matches('"');
    let host = c.url().trim_start_matches("https://").to_owned();
    assert!(
        worker.starts_with(&format!(
            "kubeadm join {host} --token {value} --discovery-token-ca-cert-hash sha256:"
        )),
        "{worker}"
    );
    assert!(
        worker.ends_with(' '),
        "kubeadm leaves a trailing space: {worker:?}"
    );
    assert!(
        cp.ends_with(" --control-plane --certificate-key k3y"),
        "{cp}"
    );
    let p = script(
        c.dir(),
        "badjoin.rhai",
        "join::command(token::generate(), #{ control_plane: true })",
    );
    let (code, _, err) = outcome(c.tokensmith().arg("run").arg(&p));
    assert_eq!(code, 1);
    assert!(
        err.contains("join::command: control_plane: true needs certificate_key"),
        "{err}"
    );
}

#[test]
fn dry_run_writes_nothing() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "dry.rhai",
        "let t = token::create(#{}); [dry_run(), token::list().len()]",
    );
    c.reset_requests_blocking();
    let out = stdout(c.tokensmith().args(["--dry-run", "run"]).arg(&p));
    assert!(out.trim_end().ends_with("[true, 0]"), "{out}");
    assert_eq!(c.counts_blocking().get("create"), None);
}

/// kubeadm v1.37.2's dry-run client answers every bootstrap-token delete
/// from a reactor without asking the cluster, so `token delete --dry-run`
/// of a missing token succeeds, and the CLI, a drop-in, does the same; a
/// script's dry run predicts its real run, so `token::delete` fails there
/// (docs/departures.md).
#[test]
fn a_dry_run_delete_of_a_missing_token_succeeds_on_the_cli_and_fails_in_a_script() {
    let c = TestCluster::start();
    let (code, out, err) = outcome(
        c.tokensmith()
            .args(["--dry-run", "token", "delete", "zzzzz9"]),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with("bootstrap token \"zzzzz9\" deleted\n"),
        "{out}"
    );
    let p = script(c.dir(), "del.rhai", "token::delete(\"zzzzz9\")");
    let (code, _, err) = outcome(c.tokensmith().args(["--dry-run", "run"]).arg(&p));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("token::delete: failed to delete bootstrap token \"zzzzz9\": secrets \"bootstrap-token-zzzzz9\" not found"),
        "{err}"
    );
}

#[test]
fn args_env_print_and_log_reach_the_user() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "io.rhai",
        r#"
        print(`hello ${args.who}`);
        log::warn("careful");
        let denied = "";
        try { env("HOME") } catch (e) { denied = e.message }
        [env("TS_TEST_REGION"), denied]
        "#,
    );
    let (code, out, err) = outcome(
        c.tokensmith()
            .arg("run")
            .arg(&p)
            .args(["--arg", "who=world", "--allow-env", "TS_TEST_REGION"])
            .env("TS_TEST_REGION", "eu-1"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "hello world\n[\"eu-1\", \"env: reading environment variable \\\"HOME\\\" is not allowed (allow it with --allow-env HOME)\"]\n"
    );
    assert!(err.contains("careful") && err.contains("io.rhai"), "{err}");
}

#[test]
fn stock_rotate_keeps_one_managed_token_and_leaves_others_alone() {
    let c = TestCluster::start();
    let rotate = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rotate.rhai");
    stdout(
        c.tokensmith()
            .args(["token", "create", "--description", "someone else's"]),
    );
    let first = stdout(
        c.tokensmith()
            .arg("run")
            .arg(&rotate)
            .args(["--arg", "ttl=2h"]),
    );
    let second = stdout(c.tokensmith().arg("run").arg(&rotate));
    assert!(first.starts_with("kubeadm join ") && second.starts_with("kubeadm join "));
    assert_ne!(first, second);
    let all = secrets(&c);
    let descriptions: Vec<String> = all
        .iter()
        .filter_map(|s| secret_data(s, "description"))
        .collect();
    assert_eq!(
        descriptions
            .iter()
            .filter(|d| *d == "tokensmith: rotate.rhai")
            .count(),
        1,
        "{descriptions:?}"
    );
    assert!(descriptions.iter().any(|d| d == "someone else's"));
    // The survivor is the token in the second join command.
    let token = second
        .split("--token ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap_or_default();
    let (id, secret) = token.split_once('.').expect("token in join command");
    let kept = all
        .iter()
        .find(|s| secret_data(s, "description").as_deref() == Some("tokensmith: rotate.rhai"))
        .expect("managed token");
    assert_eq!(secret_data(kept, "token-id").as_deref(), Some(id));
    assert_eq!(secret_data(kept, "token-secret").as_deref(), Some(secret));
    // keep=2 leaves the previous one too.
    stdout(
        c.tokensmith()
            .arg("run")
            .arg(&rotate)
            .args(["--arg", "keep=2"]),
    );
    let managed = secrets(&c)
        .iter()
        .filter(|s| secret_data(s, "description").as_deref() == Some("tokensmith: rotate.rhai"))
        .count();
    assert_eq!(managed, 2);
}

#[test]
fn stock_prune_deletes_old_tokens_matching_its_filter() {
    let c = TestCluster::start();
    let prune = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/prune.rhai");
    stdout(c.tokensmith().args([
        "token",
        "create",
        "abcdef.0123456789abcdef",
        "--description",
        "old",
    ]));
    stdout(c.tokensmith().args([
        "token",
        "create",
        "ghijkl.0123456789abcdef",
        "--description",
        "keep",
    ]));
    let out = stdout(c.tokensmith().arg("run").arg(&prune));
    assert_eq!(out, "pruned 0 token(s)\n");
    // A dry run says what it would do and does not claim it did it.
    let out = stdout(
        c.tokensmith()
            .arg("--dry-run")
            .arg("run")
            .arg(&prune)
            .args(["--arg", "older_than=0s", "--arg", "mark=old"]),
    );
    assert!(out.contains("would delete abcdef: created "), "{out}");
    assert!(
        out.ends_with("older than 0s\nwould prune 1 token(s)\n"),
        "{out}"
    );
    assert!(
        !out.contains("\ndeleted ") && !out.starts_with("deleted "),
        "{out}"
    );
    let out = stdout(c.tokensmith().arg("run").arg(&prune).args([
        "--arg",
        "older_than=0s",
        "--arg",
        "mark=old",
    ]));
    assert!(out.starts_with("deleted abcdef: created "), "{out}");
    assert!(out.ends_with("older than 0s\npruned 1 token(s)\n"), "{out}");
    let left: Vec<String> = secrets(&c)
        .iter()
        .filter_map(|s| secret_data(s, "token-id"))
        .collect();
    assert_eq!(left, ["ghijkl"]);
}

#[test]
fn stock_report_lists_every_token_without_secrets() {
    let c = TestCluster::start();
    let report = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/report.rhai");
    stdout(c.tokensmith().args([
        "token",
        "create",
        "abcdef.0123456789abcdef",
        "--ttl",
        "30m",
        "--description",
        "soon",
    ]));
    stdout(c.tokensmith().args([
        "token",
        "create",
        "ghijkl.0123456789abcdef",
        "--ttl",
        "0",
        "--description",
        "forever",
    ]));
    let out = stdout(c.tokensmith().arg("run").arg(&report));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("ID      EXPIRES"), "{out}");
    assert!(
        lines[1].starts_with("abcdef  ") && lines[1].contains("SOON") && lines[1].ends_with("soon"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("ghijkl  never") && lines[2].ends_with("forever"),
        "{out}"
    );
    assert_eq!(
        lines[3],
        "2 token(s): 0 expired, 1 expiring within 1h0m0s, 1 never expire"
    );
    assert!(!out.contains("0123456789abcdef"));
}

#[test]
fn stock_scripts_pass_check() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut cmd = support::tokensmith();
    cmd.arg("check");
    for name in ["rotate.rhai", "prune.rhai", "report.rhai"] {
        cmd.arg(dir.join(name));
    }
    let out = stdout(&mut cmd);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": ok")).count(),
        3,
        "{out}"
    );
    // rotate.rhai is the job the README's daemon runs: it carries a schedule.
    assert!(
        out.contains("rotate.rhai: ok\n  schedule: 0 */6 * * *\n"),
        "{out}"
    );
}

#[test]
fn publish_writes_a_private_file_and_a_secret_key() {
    use std::os::unix::fs::PermissionsExt;
    let c = TestCluster::start();
    let rotate = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/rotate.rhai");
    let out = c.dir().join("published/join.sh");
    std::fs::create_dir_all(out.parent().expect("parent")).expect("mkdir");
    let printed = stdout(
        c.tokensmith()
            .arg("run")
            .arg(&rotate)
            .arg("--arg")
            .arg(format!("out={}", out.display()))
            // With a file sink, the command is printed only when asked.
            .args(["--arg", "stdout=true"]),
    );
    let written = std::fs::read_to_string(&out).expect("join command file");
    // A published file is a text file: the command and a newline, as printed.
    assert_eq!(written, printed);
    assert_eq!(
        std::fs::metadata(&out).expect("stat").permissions().mode() & 0o777,
        0o600
    );

    let p = script(
        c.dir(),
        "pub.rhai",
        r#"publish::secret("kube-system", "join-command", "command", "kubeadm join x"); "done""#,
    );
    assert_eq!(stdout(c.tokensmith().arg("run").arg(&p)), "done\n");
    let s = secrets(&c)
        .into_iter()
        .find(|s| s.metadata.name.as_deref() == Some("join-command"))
        .expect("published secret");
    assert_eq!(
        secret_data(&s, "command").as_deref(),
        Some("kubeadm join x")
    );

    // A dry run writes nothing and says what it would have done.
    let dry = c.dir().join("dry.sh");
    let p = script(
        c.dir(),
        "dry-pub.rhai",
        &format!("publish::file({:?}, \"x\")", dry.display().to_string()),
    );
    let said = stdout(c.tokensmith().args(["--dry-run", "run"]).arg(&p));
    assert!(said.contains("[dryrun] Would publish to file"), "{said}");
    assert!(!dry.exists());
}

#[test]
fn logs_hide_secrets_even_when_a_script_logs_one() {
    let c = TestCluster::start();
    let p = script(
        c.dir(),
        "leak.rhai",
        "let t = token::create(#{});\nlog::warn(`join with ${join::command(t)}`);\nprint(t.value);\nt.secret",
    );
    let (code, out, err) = outcome(c.tokensmith().arg("run").arg(&p));
    assert_eq!(code, 0, "{err}");
    let secret = out
        .lines()
        .last()
        .expect("secret printed as the result")
        .to_owned();
    assert_eq!(secret.len(), 16);
    // stdout is the script's own output; the log on stderr never has the secret.
    assert!(
        err.contains("join with kubeadm join ") && err.contains(".****************"),
        "{err}"
    );
    assert!(!err.contains(&secret), "{err}");
}
