//! `tokensmith token …` end to end: the built binary against a dev cluster
//! over HTTPS, checked against kubeadm's documented output, messages and exit
//! codes (../shared/kubeadm-token-spec.md §5–9, §13).

mod support;

use std::collections::BTreeMap;
use std::process::Output;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use support::TestCluster;

const TRAILER: &str = "To see the stack trace of this error execute with --v=5 or higher\n";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn run(c: &TestCluster, args: &[&str]) -> Output {
    c.tokensmith().args(args).output().expect("tokensmith runs")
}

fn is_token(s: &str) -> bool {
    tokensmith::token::BootstrapTokenString::parse(s).is_ok()
}

/// Reads a Secret with the admin client (on a private runtime).
fn secret(c: &TestCluster, name: &str) -> Option<Secret> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api: Api<Secret> = Api::namespaced(c.client().await, "kube-system");
        api.get_opt(name).await.unwrap()
    })
}

fn data(s: &Secret) -> BTreeMap<String, String> {
    s.data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
        .collect()
}

/// The CA pin computed by openssl, independently of tokensmith.
fn openssl_pin(ca_pem: &str) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut x509 = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    x509.stdin
        .take()
        .unwrap()
        .write_all(ca_pem.as_bytes())
        .unwrap();
    let pubkey = x509.wait_with_output().unwrap().stdout;
    let mut pkey = Command::new("openssl")
        .args(["pkey", "-pubin", "-outform", "DER"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    pkey.stdin.take().unwrap().write_all(&pubkey).unwrap();
    let der = pkey.wait_with_output().unwrap().stdout;
    let mut dgst = Command::new("openssl")
        .args(["dgst", "-sha256", "-hex"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    dgst.stdin.take().unwrap().write_all(&der).unwrap();
    let out = String::from_utf8(dgst.wait_with_output().unwrap().stdout).unwrap();
    format!("sha256:{}", out.trim().rsplit(' ').next().unwrap())
}

#[test]
fn generate_prints_one_valid_token_and_touches_no_cluster() {
    let out = support::tokensmith()
        .args(["token", "generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.ends_with('\n') && s.lines().count() == 1, "{s:?}");
    assert!(is_token(s.trim_end_matches('\n')), "{s:?}");
    assert_eq!(stderr(&out), "");
}

#[test]
fn generate_rejects_arguments_like_cobra() {
    let out = support::tokensmith()
        .args(["token", "generate", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: unknown command \"x\" for \"tokensmith token generate\"\n{TRAILER}")
    );
}

#[test]
fn create_writes_kubeadms_secret_and_prints_the_token() {
    let c = TestCluster::start();
    let out = run(&c, &["token", "create", "--description", "node pool a"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim_end().to_owned();
    assert!(is_token(&token), "{token:?}");
    let (id, secret_part) = token.split_once('.').unwrap();
    let s = secret(&c, &format!("bootstrap-token-{id}")).expect("secret created");
    assert_eq!(s.type_.as_deref(), Some("bootstrap.kubernetes.io/token"));
    let d = data(&s);
    assert_eq!(d["token-id"], id);
    assert_eq!(d["token-secret"], secret_part);
    assert_eq!(d["description"], "node pool a");
    assert_eq!(d["usage-bootstrap-signing"], "true");
    assert_eq!(d["usage-bootstrap-authentication"], "true");
    assert_eq!(
        d["auth-extra-groups"],
        "system:bootstrappers:kubeadm:default-node-token"
    );
    let e = &d["expiration"];
    assert!(
        e.len() == 20 && e.ends_with('Z') && !e.contains('.'),
        "RFC 3339 UTC, whole seconds: {e}"
    );
    let exp: jiff::Timestamp = e.parse().unwrap();
    let left = exp.duration_since(jiff::Timestamp::now());
    assert!(
        left > jiff::SignedDuration::from_hours(23) && left <= jiff::SignedDuration::from_hours(24),
        "{left:?}"
    );

    let list = run(&c, &["token", "list"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let text = stdout(&list);
    let row = text.lines().nth(1).expect("one row after the header");
    assert!(text.starts_with("TOKEN"), "{text}");
    assert!(row.starts_with(&token), "{row}");
    assert!(
        row.contains(" 23h ")
            && row.contains("authentication,signing")
            && row.contains("node pool a"),
        "{row}"
    );
}

#[test]
fn create_with_a_given_token_and_no_expiry_lists_forever() {
    let c = TestCluster::start();
    let out = run(
        &c,
        &[
            "token",
            "create",
            "abcdef.0123456789abcdef",
            "--ttl",
            "0",
            "--groups",
            "system:bootstrappers:x",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "abcdef.0123456789abcdef\n");
    let d = data(&secret(&c, "bootstrap-token-abcdef").unwrap());
    assert!(!d.contains_key("expiration"));
    assert!(!d.contains_key("description"));
    assert_eq!(d["auth-extra-groups"], "system:bootstrappers:x");
    let list = stdout(&run(&c, &["token", "list"]));
    insta::assert_snapshot!("list_forever_token", list);
}

#[test]
fn negative_ttl_means_no_expiry_as_upstream() {
    let c = TestCluster::start();
    let out = run(
        &c,
        &["token", "create", "abcdef.0123456789abcdef", "--ttl=-1h"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!data(&secret(&c, "bootstrap-token-abcdef").unwrap()).contains_key("expiration"));
}

#[test]
fn creating_an_existing_id_fails_and_changes_nothing() {
    let c = TestCluster::start();
    assert!(
        run(&c, &["token", "create", "abcdef.0123456789abcdef"])
            .status
            .success()
    );
    let before = secret(&c, "bootstrap-token-abcdef").unwrap();
    let out = run(&c, &["token", "create", "abcdef.aaaaaaaaaaaaaaaa"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: a token with id \"abcdef\" already exists\n{TRAILER}")
    );
    let after = secret(&c, "bootstrap-token-abcdef").unwrap();
    assert_eq!(
        before.metadata.resource_version,
        after.metadata.resource_version
    );
}

#[test]
fn validation_errors_exit_3_and_send_no_write() {
    let c = TestCluster::start();
    c.reset_requests_blocking();
    let cases: &[(&[&str], &str)] = &[
        (
            // The default group stays, and needs the authentication usage: two errors.
            &["--usages", "foo"],
            r#"[bootstrapTokens.0.usages: Invalid value: ["foo"]: invalid bootstrap token usage string: foo, valid usage options: signing,authentication, bootstrapTokens.0.groups: Invalid value: ["system:bootstrappers:kubeadm:default-node-token"]: token groups cannot be specified unless --usages includes "authentication"]"#,
        ),
        (
            &["--usages", "foo,authentication"],
            r#"bootstrapTokens.0.usages: Invalid value: ["foo","authentication"]: invalid bootstrap token usage string: foo, valid usage options: signing,authentication"#,
        ),
        (
            &["--usages", "signing"],
            r#"bootstrapTokens.0.groups: Invalid value: ["system:bootstrappers:kubeadm:default-node-token"]: token groups cannot be specified unless --usages includes "authentication""#,
        ),
        (
            &["--groups", "foo"],
            r#"bootstrapTokens.0.groups: Invalid value: ["foo"]: bootstrap group "foo" is invalid (must match \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z)"#,
        ),
    ];
    for (flags, msg) in cases {
        let mut args = vec!["token", "create"];
        args.extend_from_slice(flags);
        let out = run(&c, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("error: {msg}\n{TRAILER}"));
        assert_eq!(stdout(&out), "");
    }
    let counts = c.counts_blocking();
    assert_eq!(counts.get("create"), None, "{counts:?}");
}

#[test]
fn flag_and_argument_errors_read_like_kubeadm() {
    let c = TestCluster::start();
    let cases: &[(&[&str], &str)] = &[
        (
            &["token", "create", "--ttl", "1d"],
            r#"invalid argument "1d" for "--ttl" flag: time: unknown unit "d" in duration "1d""#,
        ),
        (
            &["token", "create", "--ttl", "abc"],
            r#"invalid argument "abc" for "--ttl" flag: time: invalid duration "abc""#,
        ),
        (
            &["token", "create", "nope"],
            r#"the bootstrap token "nope" was not of the form "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z""#,
        ),
        (&["token", "create", "--foo"], "unknown flag: --foo"),
        (
            &[
                "token", "create", "--config", "x.yaml", "--usages", "signing", "--ttl", "1h",
            ],
            "can not mix '--config' with arguments [ttl usages]",
        ),
        (
            &["token", "delete"],
            r#"missing argument; 'token delete' is missing token of form "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z" or "\\A([a-z0-9]{6})\\z""#,
        ),
        (
            &["token", "delete", "abc"],
            r#"given token didn't match pattern "\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z" or "\\A([a-z0-9]{6})\\z""#,
        ),
    ];
    for (args, msg) in cases {
        let out = run(&c, args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("error: {msg}\n{TRAILER}"), "{args:?}");
    }
}

#[test]
fn join_command_uses_kubeconfig_endpoint_and_openssl_matching_pin() {
    let c = TestCluster::start();
    let out = run(
        &c,
        &[
            "token",
            "create",
            "abcdef.0123456789abcdef",
            "--print-join-command",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let host_port = c.url().replace("https://", "");
    let pin = openssl_pin(&c.ca_pem());
    assert_eq!(
        stdout(&out),
        format!(
            "kubeadm join {host_port} --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash {pin} \n"
        )
    );
    let cp = run(
        &c,
        &[
            "token",
            "create",
            "bbbbbb.0123456789abcdef",
            "--print-join-command",
            "--certificate-key",
            "k3y",
        ],
    );
    assert_eq!(
        stdout(&cp),
        format!(
            "kubeadm join {host_port} --token bbbbbb.0123456789abcdef --discovery-token-ca-cert-hash {pin} --control-plane --certificate-key k3y\n"
        )
    );
}

#[test]
fn certificate_key_without_join_command_fails_after_creating() {
    let c = TestCluster::start();
    let out = run(
        &c,
        &[
            "token",
            "create",
            "abcdef.0123456789abcdef",
            "--certificate-key",
            "k",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!("error: cannot use --certificate-key without --print-join-command\n{TRAILER}")
    );
    assert!(
        secret(&c, "bootstrap-token-abcdef").is_some(),
        "kubeadm creates the token first"
    );
}

#[test]
fn delete_by_id_and_by_token_stops_at_the_first_failure() {
    let c = TestCluster::start();
    for t in [
        "aaaaaa.0123456789abcdef",
        "bbbbbb.0123456789abcdef",
        "cccccc.0123456789abcdef",
    ] {
        assert!(run(&c, &["token", "create", t]).status.success());
    }
    let out = run(
        &c,
        &[
            "token",
            "delete",
            "aaaaaa",
            "bbbbbb.ffffffffffffffff",
            "zzzzzz",
            "cccccc",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "bootstrap token \"aaaaaa\" deleted\nbootstrap token \"bbbbbb\" deleted\n"
    );
    assert_eq!(
        stderr(&out),
        format!(
            "error: failed to delete bootstrap token \"zzzzzz\": secrets \"bootstrap-token-zzzzzz\" not found\n{TRAILER}"
        )
    );
    assert!(secret(&c, "bootstrap-token-aaaaaa").is_none());
    assert!(secret(&c, "bootstrap-token-bbbbbb").is_none());
    assert!(
        secret(&c, "bootstrap-token-cccccc").is_some(),
        "processing stopped at zzzzzz"
    );
}

#[test]
fn dry_run_reads_but_sends_no_write() {
    let c = TestCluster::start();
    assert!(
        run(&c, &["token", "create", "aaaaaa.0123456789abcdef"])
            .status
            .success()
    );
    c.reset_requests_blocking();
    let out = run(
        &c,
        &["--dry-run", "token", "create", "bbbbbb.0123456789abcdef"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("[dryrun] Would perform action CREATE on resource \"secrets\""),
        "{text}"
    );
    assert!(text.ends_with("bbbbbb.0123456789abcdef\n"), "{text}");
    assert!(
        !text.contains("MDEyMzQ1Njc4OWFiY2RlZg"),
        "the dry run must not print the secret: {text}"
    );
    let out = run(&c, &["token", "delete", "--dry-run", "aaaaaa"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("bootstrap token \"aaaaaa\" deleted\n"));
    let counts = c.counts_blocking();
    for verb in ["create", "update", "patch", "delete"] {
        assert_eq!(counts.get(verb), None, "dry run sent a {verb}: {counts:?}");
    }
    assert!(secret(&c, "bootstrap-token-aaaaaa").is_some());
    assert!(secret(&c, "bootstrap-token-bbbbbb").is_none());
}

#[test]
fn list_prints_nothing_when_there_are_no_tokens() {
    let c = TestCluster::start();
    let out = run(&c, &["token", "list"]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn list_structured_outputs_are_kubeadms_objects() {
    let c = TestCluster::start();
    assert!(
        run(
            &c,
            &[
                "token",
                "create",
                "abcdef.0123456789abcdef",
                "--ttl",
                "0",
                "--description",
                "a<b"
            ]
        )
        .status
        .success()
    );
    let json = stdout(&run(&c, &["token", "list", "-o", "json"]));
    insta::assert_snapshot!("list_json", json);
    let yaml = stdout(&run(&c, &["token", "list", "-o", "yaml"]));
    insta::assert_snapshot!("list_yaml", yaml);
    let tpl = stdout(&run(
        &c,
        &[
            "token",
            "list",
            "-o",
            "go-template={{.token}} {{range .usages}}{{.}},{{end}}",
        ],
    ));
    assert_eq!(tpl, "abcdef.0123456789abcdef authentication,signing,");
    let jp = stdout(&run(
        &c,
        &["token", "list", "-o", "jsonpath={.description}"],
    ));
    assert_eq!(jp, "a<b");
    let bad = run(&c, &["token", "list", "-o", "xml"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).starts_with("error: could not construct output printer: unable to match a printer suitable for the output format \"xml\""), "{}", stderr(&bad));
}

#[test]
fn list_reports_malformed_secrets_on_stderr_and_goes_on() {
    let c = TestCluster::start();
    assert!(
        run(&c, &["token", "create", "abcdef.0123456789abcdef"])
            .status
            .success()
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api: Api<Secret> = Api::namespaced(c.client().await, "kube-system");
        for (name, d) in [
            (
                "bootstrap-token-aaaaaa",
                vec![("token-id", "bbbbbb"), ("token-secret", "0123456789abcdef")],
            ),
            ("bootstrap-token-cccccc", vec![("token-id", "cccccc")]),
        ] {
            let s = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(name.into()),
                    ..Default::default()
                },
                type_: Some("bootstrap.kubernetes.io/token".into()),
                string_data: Some(
                    d.into_iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                ),
                ..Default::default()
            };
            api.create(&PostParams::default(), &s).await.unwrap();
        }
    });
    let out = run(&c, &["token", "list"]);
    assert!(out.status.success());
    assert_eq!(
        stderr(&out),
        "bootstrap token name is not of the form 'bootstrap-token-(token-id)'. Actual: \"bootstrap-token-aaaaaa\". Expected: \"bootstrap-token-bbbbbb\"\
         bootstrap Token Secret has no token-secret data: bootstrap-token-cccccc"
    );
    assert!(stdout(&out).contains("abcdef.0123456789abcdef"));
}

#[test]
fn config_file_creates_every_token_and_prints_the_first() {
    let c = TestCluster::start();
    let cfg = c.dir().join("kubeadm.yaml");
    std::fs::write(
        &cfg,
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n\
         - token: aaaaaa.0123456789abcdef\n  ttl: 1h\n  description: first\n\
         - token: bbbbbb.0123456789abcdef\n  usages: [signing, authentication]\n",
    )
    .unwrap();
    let out = run(&c, &["token", "create", "--config", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "aaaaaa.0123456789abcdef\n");
    assert_eq!(
        data(&secret(&c, "bootstrap-token-aaaaaa").unwrap())["description"],
        "first"
    );
    assert!(secret(&c, "bootstrap-token-bbbbbb").is_some());
}

#[test]
fn kubeconfig_problems_are_one_clear_line() {
    let c = TestCluster::start();
    let out = c
        .tokensmith()
        .args(["token", "list", "--kubeconfig", "/nonexistent/admin.conf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: failed to load admin kubeconfig: open /nonexistent/admin.conf: no such file or directory\n{TRAILER}"
        )
    );
    // As in kubeadm: the kubeconfig is read before the flags' values and a
    // config file are checked, and the dry-run client words it without "admin".
    for (extra, prefix) in [
        (&["--usages", "foo"][..], "failed to load admin kubeconfig"),
        (
            &["--config", "/nonexistent/config.yaml"][..],
            "failed to load admin kubeconfig",
        ),
        (
            &["--usages", "foo", "--dry-run"][..],
            "failed to load kubeconfig",
        ),
    ] {
        let out = c
            .tokensmith()
            .args(["token", "create", "--kubeconfig", "/nonexistent/admin.conf"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert_eq!(
            stderr(&out),
            format!(
                "error: {prefix}: open /nonexistent/admin.conf: no such file or directory\n{TRAILER}"
            ),
            "{extra:?}"
        );
    }
    let garbage = c.dir().join("garbage.conf");
    std::fs::write(&garbage, "{ this is: [not yaml").unwrap();
    let out = c
        .tokensmith()
        .args(["token", "list", "--kubeconfig", garbage.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: failed to load admin kubeconfig: "),
        "{}",
        stderr(&out)
    );
    let out = c
        .tokensmith()
        .args(["token", "list", "--context", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("context \"nope\" does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_dead_server_is_an_error_naming_it() {
    let c = TestCluster::start();
    let yaml = c.kubeconfig_yaml().replace(&c.url(), "https://127.0.0.1:1");
    let path = c.dir().join("dead.conf");
    std::fs::write(&path, yaml).unwrap();
    let out = c
        .tokensmith()
        .args(["token", "list", "--kubeconfig", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: failed to list bootstrap tokens: Get \"https://127.0.0.1:1/api/v1/namespaces/kube-system/secrets"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn join_command_without_a_ca_fails_after_creating() {
    let c = TestCluster::start();
    // No CA in the kubeconfig (the connection skips verification): the token is
    // created, then the join command cannot be pinned — kubeadm's order.
    let yaml: String = c
        .kubeconfig_yaml()
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("certificate-authority-data") {
                let indent = &l[..l.len() - l.trim_start().len()];
                format!("{indent}insecure-skip-tls-verify: true\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let path = c.dir().join("noca.conf");
    std::fs::write(&path, yaml).unwrap();
    let out = c
        .tokensmith()
        .args([
            "token",
            "create",
            "abcdef.0123456789abcdef",
            "--print-join-command",
            "--kubeconfig",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: failed to get join command: no CA certificates found in kubeconfig\n{TRAILER}"
        )
    );
    assert!(secret(&c, "bootstrap-token-abcdef").is_some());
}

#[test]
fn dev_flag_keeps_state_between_commands() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = |args: &[&str]| {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .env_remove("RUST_BACKTRACE")
            .env("HOME", dir.path())
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env_remove("KUBECONFIG")
            .args(args)
            .output()
            .unwrap()
    };
    let created = cmd(&["--dev", "token", "create", "--description", "rehearsal"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim_end().to_owned();
    let listed = cmd(&["--dev", "token", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains(&token), "{}", stdout(&listed));
    assert!(dir.path().join("state/tokensmith/dev").exists());
    // The dev cluster comes back on the port it had, so a rehearsal's published
    // join commands keep one endpoint.
    let endpoint = |out: &Output| stdout(out).split_whitespace().nth(2).map(str::to_owned);
    let first = cmd(&["--dev", "token", "create", "--print-join-command"]);
    let second = cmd(&["--dev", "token", "create", "--print-join-command"]);
    assert!(
        first.status.success() && second.status.success(),
        "{}{}",
        stderr(&first),
        stderr(&second)
    );
    assert_eq!(endpoint(&first), endpoint(&second));
}

#[test]
fn rootfs_reads_the_hosts_admin_conf_inside_the_chroot() {
    let c = TestCluster::start();
    let root = c.dir().join("host");
    std::fs::create_dir_all(root.join("etc/kubernetes")).unwrap();
    std::fs::write(root.join("etc/kubernetes/admin.conf"), c.kubeconfig_yaml()).unwrap();
    assert!(
        run(&c, &["token", "create", "abcdef.0123456789abcdef"])
            .status
            .success()
    );
    let out = c
        .tokensmith()
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .args([
            "--rootfs",
            root.to_str().unwrap(),
            "token",
            "list",
            "-o",
            "jsonpath={.token}",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "abcdef.0123456789abcdef");
}

#[test]
fn completions_cover_the_token_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = support::tokensmith()
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = stdout(&out);
        assert!(
            text.contains("print-join-command") && text.contains("dev-cluster"),
            "{shell}"
        );
    }
    let bad = support::tokensmith()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
