//! `scripts/rotate.rhai` and the Rhai rotation API (`token::rotate`,
//! `join::verify`, `publish::to`) run by the built binary against the dev
//! cluster, with its fault injection on and a real webhook receiver on
//! loopback; the rotation invariants are checked after every run.

mod rotation_support;
mod support;

use std::process::Output;

use rotation_support::receiver::{Mode, Receiver};
use rotation_support::{check_finished, connect, rotate_rhai, rotation_tokens, rough_weather};
use support::TestCluster;
use tokensmith::devcluster::FaultConfig;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn script(c: &TestCluster, name: &str, body: &str) -> std::path::PathBuf {
    let p = c.dir().join(name);
    std::fs::write(&p, body).expect("write script");
    p
}

#[test]
fn rotate_rhai_keeps_a_published_signed_token_through_api_and_webhook_faults() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let c = TestCluster::start();
    let cluster = rt.block_on(connect(&c));
    let hook = Receiver::start();
    hook.set("join", Mode::Flaky);
    let file = c.dir().join("join.sh");
    let auth = c.dir().join("hook-auth");
    std::fs::write(&auth, "Bearer test-credential\n").expect("write auth file");
    let run = || -> Output {
        c.tokensmith()
            .arg("run")
            .arg(rotate_rhai())
            .args([
                "--arg",
                "name=nightly",
                "--arg",
                "ttl=1h",
                "--arg",
                "verify=10s",
            ])
            .arg("--arg")
            .arg(format!("out={}", file.display()))
            .arg("--arg")
            .arg(format!("webhook={}", hook.url("join")))
            .arg("--arg")
            .arg(format!("webhook_auth_file={}", auth.display()))
            .output()
            .expect("run rotate.rhai")
    };
    let first = run();
    assert!(first.status.success(), "{}", text(&first.stderr));
    rt.block_on(check_finished(&c, &cluster, "nightly", &file, "first run"));

    c.reset_requests_blocking();
    let (mut ok, mut failed) = (0, 0);
    for i in 0..12 {
        // Every fourth run the receiver refuses: the rotation must roll back.
        let refused = i % 4 == 3;
        hook.set(
            "join",
            if refused {
                Mode::Reject(503)
            } else {
                Mode::Flaky
            },
        );
        c.set_faults_blocking(&rough_weather());
        let out = run();
        c.set_faults_blocking(&FaultConfig::none());
        let when = format!("run {i}");
        let stderr = text(&out.stderr);
        if out.status.success() {
            ok += 1;
            assert!(!refused, "{when}: succeeded although the webhook refused");
        } else {
            failed += 1;
            assert_eq!(out.status.code(), Some(1), "{when}: {stderr}");
            assert!(
                stderr.contains("token::rotate: rotation failed"),
                "{when}: {stderr}"
            );
            assert!(!stderr.contains("test-credential"), "{when}: {stderr}");
        }
        let (tokens, in_file) = rt.block_on(check_finished(&c, &cluster, "nightly", &file, &when));
        assert!(tokens.len() <= 2, "{when}: {} tokens", tokens.len());
        if out.status.success() {
            assert_eq!(tokens.len(), 1, "{when}: keep=1 leaves one token");
        }
        // Both sinks always agree: a refused webhook means the file got the
        // previous command back.
        let file_text = std::fs::read_to_string(&file).expect("file sink");
        assert_eq!(
            hook.last_command("join").as_deref(),
            Some(file_text.trim_end_matches('\n')),
            "{when}: the webhook and the file disagree ({stderr})"
        );
        assert_eq!(
            rotation_support::complete_join_command(&file_text).ok(),
            Some(in_file)
        );
    }
    eprintln!("{ok} rotations succeeded and {failed} failed under faults");
    assert!(
        hook.authorizations("join")
            .iter()
            .all(|a| a.as_deref() == Some("Bearer test-credential")),
        "every POST carries the Authorization header read from the file"
    );
    let log = c.requests_blocking();
    let injected = log["items"]
        .as_array()
        .expect("request log items")
        .iter()
        .filter(|r| matches!(r["code"].as_u64(), Some(0 | 500 | 429)))
        .count();
    assert!(injected > 0, "the faults were not exercised");
    assert!(ok >= 3, "too few rotations got through the faults: {ok}");
    assert!(failed >= 3, "the refused webhook runs must fail: {failed}");
}

#[test]
fn a_dry_run_of_rotate_rhai_sends_no_write_and_writes_no_file() {
    let c = TestCluster::start();
    let file = c.dir().join("join.sh");
    c.reset_requests_blocking();
    let out = c
        .tokensmith()
        .args(["--dry-run", "run"])
        .arg(rotate_rhai())
        .arg("--arg")
        .arg(format!("out={}", file.display()))
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("[dryrun] Would publish the join command to file"),
        "{stdout}"
    );
    assert!(!file.exists());
    // The report says what it would do: the sink it would publish to, as
    // it lists the tokens it would delete.
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("publish to [\"file {}\"]", file.display())),
        "{stderr}"
    );
    let counts = c.counts_blocking();
    for verb in ["create", "update", "patch", "delete"] {
        assert_eq!(
            counts.get(verb),
            None,
            "{verb} sent in a dry run: {counts:?}"
        );
    }
}

#[test]
fn token_rotate_returns_a_report_or_with_report_only_a_failed_one() {
    let c = TestCluster::start();
    let file = c.dir().join("j.sh");
    let p = script(
        &c,
        "report.rhai",
        &format!(
            r#"
            let r = token::rotate(#{{ name: "api", ttl: "2h", verify: true, publish: [#{{ file: {file:?} }}] }});
            print(r);
            log::warn(r);
            let again = token::rotate(#{{ name: "api", report_only: true, publish: [#{{ file: {missing:?} }}] }});
            [r.ok, r.created == r.token.id, r.token.published, r.verified, r.published, r.deleted.len(), r.rolled_back,
             again.ok, again.rolled_back, again.created, again.errors.len(), `${{r.token}}`]
            "#,
            file = file.display().to_string(),
            missing = c.dir().join("no-dir/j.sh").display().to_string(),
        ),
    );
    let out = c.tokensmith().arg("run").arg(&p).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let want = format!(
        "[true, true, true, true, [\"file {}\"], 0, false, false, true, (), 1, ",
        file.display()
    );
    // `print(r)` echoes first; the result is the last line.
    let result = stdout.lines().last().unwrap_or_default();
    assert!(result.starts_with(&want), "{stdout}");
    assert!(result.ends_with(".****************\"]"), "{stdout}");
    // The report, printed or logged, never shows the new token's secret.
    let published = std::fs::read_to_string(&file).expect("file sink");
    let token = rotation_support::complete_join_command(&published).expect("join command");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("ok: true, published"), "{stderr}");
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains(token.secret()), "{shown}");
    }

    // Bad options throw before anything happens, naming the key and what is accepted.
    let p = script(
        &c,
        "bad.rhai",
        r#"
        let msgs = [];
        for o in [#{ ttl: "0s" }, #{ keep: 0 }, #{ tll: "1h" }, #{ publish: #{ file: "/x" } },
                  #{ publish: [#{ file: "/x" }, #{ webhook: "https://h", hedaers: #{} }] },
                  #{ verify: "soon" }, #{ name: "bad name" }] {
            try { token::rotate(o); msgs.push("no error") } catch (e) { msgs.push(e.message) }
        }
        msgs
        "#,
    );
    let out = c.tokensmith().arg("run").arg(&p).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for want in [
        "token::rotate: ttl must be positive",
        "token::rotate: keep must be at least 1 (the new token), got 0",
        "token::rotate: unknown option \\\"tll\\\" (accepted: name, ttl, description, usages, groups, keep, publish, verify, certificate_key, report_only)",
        "token::rotate: publish must be an array of sinks",
        "token::rotate: publish[1]: unknown key \\\"hedaers\\\" for a webhook sink (accepted: webhook, headers,",
        "token::rotate: invalid verify:",
        "token::rotate: rotation name \\\"bad name\\\" must be",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in {stdout}");
    }
    assert!(!stdout.contains("no error"), "{stdout}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = rt.block_on(connect(&c));
    let left = rt.block_on(rotation_tokens(&cluster, "default"));
    assert!(left.is_empty(), "a bad option created a token");
    assert_eq!(rt.block_on(rotation_tokens(&cluster, "api")).len(), 1);
}

#[test]
fn join_verify_reports_a_signed_token_and_kubeadms_message_otherwise() {
    let c = TestCluster::start();
    let p = script(
        &c,
        "verify.rhai",
        r#"
        let good = token::create(#{ ttl: "1h" });
        let ok = join::verify(good, #{ wait: "10s" }).ok;
        // Without the signing usage the bootstrapsigner never signs for it.
        let unsigned = token::create(#{ ttl: "1h", usages: ["authentication"] });
        let r = join::verify(unsigned);
        if r.ok || r.verified { throw "an unsigned token verified" }
        let msg = r.error;
        let bad = "";
        try { join::verify(good, #{ wiat: "1s" }) } catch (e) { bad = e.message }
        [ok, msg, bad]
        "#,
    );
    let out = c.tokensmith().arg("run").arg(&p).output().expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("[true, \"join::verify: token id \\\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("is invalid for this cluster or it has expired. Use \\\"kubeadm token create\\\" on the control-plane node to create a new valid token"),
        "{stdout}"
    );
    assert!(
        stdout.contains("join::verify: unknown option \\\"wiat\\\" (accepted: wait, control_plane, certificate_key)"),
        "{stdout}"
    );
}

#[test]
fn publish_to_takes_the_same_sink_maps_as_token_rotate() {
    let c = TestCluster::start();
    let hook = Receiver::start();
    let file = c.dir().join("to.txt");
    let p = script(
        &c,
        "to.rhai",
        &format!(
            r#"
            publish::to(#{{ file: {file:?} }}, "hello");
            publish::to(#{{ webhook: {url:?}, headers: #{{ "X-Team": "infra" }}, payload: #{{ cluster: "eu" }},
                            authorization_env: "TS_HOOK_AUTH" }}, "cmd");
            publish::to(#{{ secret: "kube-system/joined" }}, "in a secret");
            let e = "";
            try {{ publish::to(#{{ fiel: "/x" }}, "x") }} catch (err) {{ e = err.message }}
            e
            "#,
            file = file.display().to_string(),
            url = hook.url("to"),
        ),
    );
    let out = c
        .tokensmith()
        .arg("run")
        .arg(&p)
        .args(["--allow-env", "TS_HOOK_AUTH"])
        .env("TS_HOOK_AUTH", "Bearer from-env")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        hook.authorizations("to"),
        [Some("Bearer from-env".to_owned())]
    );
    assert_eq!(
        text(&out.stdout),
        "publish::to: sink: a sink needs one of file, secret, configmap, webhook, stdout\n"
    );
    assert_eq!(std::fs::read_to_string(&file).expect("file"), "hello\n");
    assert_eq!(hook.last_command("to").as_deref(), Some("cmd"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let secret = rt.block_on(async {
        let api: kube::Api<k8s_openapi::api::core::v1::Secret> =
            kube::Api::namespaced(c.client().await, "kube-system");
        api.get("joined").await.expect("the published Secret")
    });
    let data = secret.data.unwrap_or_default();
    assert_eq!(
        data.get("join-command").map(|b| b.0.as_slice()),
        Some(b"in a secret".as_slice()),
        "the default key is join-command"
    );
}

#[test]
fn a_failed_rotation_throws_a_catchable_error_carrying_its_report_and_run_exits_1() {
    let c = TestCluster::start();
    let missing = c.dir().join("no-dir/j.sh").display().to_string();
    let caught = script(
        &c,
        "caught.rhai",
        &format!(
            r#"
            let r = "no error";
            try {{
                token::rotate(#{{ name: "api", publish: [#{{ file: {missing:?} }}] }});
            }} catch (e) {{
                r = [type_of(e), e.message.contains("rolled back"), e.report.ok, e.report.rolled_back,
                     e.report.created, type_of(e.report.removed), e.report.deleted];
            }}
            r
            "#
        ),
    );
    let out = c
        .tokensmith()
        .arg("run")
        .arg(&caught)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        "[\"HostError\", true, false, true, (), \"string\", []]",
        "{}",
        text(&out.stderr)
    );

    let uncaught = script(
        &c,
        "uncaught.rhai",
        &format!(r#"token::rotate(#{{ name: "api", publish: [#{{ file: {missing:?} }}] }});"#),
    );
    let out = c
        .tokensmith()
        .arg("run")
        .arg(&uncaught)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("rotation failed and was rolled back"),
        "{stderr}"
    );
    assert!(stderr.contains("no-dir/j.sh"), "{stderr}");
}
