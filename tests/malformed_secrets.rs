//! Malformed bootstrap-token Secrets in `kube-system` (issue 10): each is
//! skipped with a warning naming it, never breaks `token list`,
//! `token::list()`, rotation or the watch metrics, and its body (nor any
//! other Secret's) is never dumped to a log.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use support::TestCluster;

const TYPE: &str = "bootstrap.kubernetes.io/token";
const SECRETS: &str = "/api/v1/namespaces/kube-system/secrets";

/// base64("0123456789abcdef") with the unused bits of the last quantum set:
/// Go's decoder (the API server's) takes it, a strict decoder refuses it.
const SLOPPY_SECRET: &str = "MDEyMzQ1Njc4OWFiY2RlZh==";
/// base64 of what the malformed Secrets carry as their token secret.
const PLANTED: &str = "cGxhbnRlZHNlY3JldDAwMA==";
const PLANTED_PLAIN: &str = "plantedsecret000";

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn post(c: &TestCluster, body: serde_json::Value) {
    let r = c.raw_blocking(
        "POST",
        SECRETS,
        Some(&c.admin_token()),
        Some("application/json"),
        serde_json::to_vec(&body).expect("json"),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

/// Three Secrets of the token type that are no readable token (an
/// unparsable expiration is not among them: the token cleaner deletes it
/// as expired, as upstream's does), all in the
/// published rotation `r`, plus a readable one that kube's strict base64
/// decoding rejects.
fn plant_malformed(c: &TestCluster) {
    let labels = json!({"tokensmith.io/rotation": "r", "tokensmith.io/published": "true"});
    post(
        c,
        json!({"metadata": {"name": "bootstrap-token-aaaaaa", "labels": labels},
               "type": TYPE, "data": {"token-id": b64("aaaaaa")}}),
    );
    post(
        c,
        json!({"metadata": {"name": "bootstrap-token-bbbbbb", "labels": labels},
               "type": TYPE,
               "data": {"token-id": b64("zzzzzz"), "token-secret": PLANTED}}),
    );
    post(
        c,
        json!({"metadata": {"name": "bootstrap-token-cccccc", "labels": labels},
               "type": TYPE,
               "data": {"token-id": b64("cccccc"), "token-secret": SLOPPY_SECRET,
                        "description": b64("sloppy"),
                        "expiration": b64("2099-01-01T00:00:00Z")}}),
    );
    post(
        c,
        json!({"metadata": {"name": "bootstrap-token-dddddd", "labels": labels},
               "type": TYPE,
               "data": {"token-id": b64("dddddd"), "token-secret": b64("not-a-secret")}}),
    );
}

fn create_token(c: &TestCluster) -> String {
    let out = c
        .tokensmith()
        .args(["token", "create"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

fn assert_no_dump(what: &str, text: &str, good: &str) {
    let secret = good.split('.').nth(1).expect("secret half");
    for needle in [secret, PLANTED, PLANTED_PLAIN, "\"items\"", "SecretList"] {
        assert!(!text.contains(needle), "{what} shows {needle:?}:\n{text}");
    }
}

#[test]
fn token_list_skips_each_malformed_secret_with_a_warning() {
    let c = TestCluster::start();
    let good = create_token(&c);
    plant_malformed(&c);
    for v in ["0", "9"] {
        let out = c
            .tokensmith()
            .args(["token", "list", &format!("--v={v}")])
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
        assert!(stdout.contains(&good), "{stdout}\n{stderr}");
        // Go's decoder (kubeadm's) reads the sloppy base64 as the canonical value.
        assert!(
            stdout.contains("cccccc.0123456789abcdef"),
            "{stdout}\n{stderr}"
        );
        assert_eq!(
            stdout.lines().count(),
            3,
            "header and two tokens:\n{stdout}"
        );
        assert!(!stderr.contains("cccccc"), "{stderr}");
        for id in ["aaaaaa", "bbbbbb", "dddddd"] {
            assert!(
                stderr.contains(id),
                "--v={v}: no warning for {id}:\n{stderr}"
            );
        }
        assert!(
            stderr.contains("has no token-secret data"),
            "kubeadm's message: {stderr}"
        );
        assert!(
            stderr.contains("bootstrap token name is not of the form"),
            "kubeadm's message: {stderr}"
        );
        assert_no_dump(&format!("token list --v={v} stderr"), &stderr, &good);
    }
}

#[test]
fn scripts_rotation_and_metrics_survive_malformed_secrets() {
    let c = TestCluster::start();
    let good = create_token(&c);
    plant_malformed(&c);

    let script = c.dir().join("list.rhai");
    std::fs::write(
        &script,
        "let ts = token::list();\nprint(`listed ${ts.len()}`);\n\
         print(`got ${token::get(\"cccccc\").id}`);\n\
         let r = token::rotate(#{name: \"r\", keep: 2, publish: [#{file: \"join.sh\"}]});\n\
         print(`rotated ok=${r.ok} deleted=${r.deleted.len()}`);\n\
         print(`after ${token::list().len()}`);\n",
    )
    .expect("script");
    let out = c
        .tokensmith()
        .args(["run"])
        .arg(&script)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The good token is listed, and the unreadable ones are passed over.
    assert!(stdout.contains("listed 2"), "{stdout}\n{stderr}");
    assert!(stdout.contains("got cccccc"), "{stdout}\n{stderr}");
    assert!(stdout.contains("rotated ok=true"), "{stdout}\n{stderr}");
    // The sloppy-base64 Secret is a token of the rotation; the other three
    // are no token at all, and rotation never deletes what it cannot read.
    assert!(stdout.contains("after 3"), "{stdout}\n{stderr}");
    for id in ["aaaaaa", "bbbbbb", "dddddd"] {
        assert!(stderr.contains(id), "no warning for {id}:\n{stderr}");
        let r = c.raw_blocking(
            "GET",
            &format!("{SECRETS}/bootstrap-token-{id}"),
            Some(&c.admin_token()),
            None,
            "",
        );
        assert_eq!(r.status, 200, "{id} was left alone");
    }
    assert_no_dump("run stderr", &stderr, &good);

    // The watch daemon's metrics: listed, with a gauge for the readable tokens.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").to_string()
    };
    let scripts = c.dir().join("scripts");
    std::fs::create_dir_all(&scripts).expect("mkdir");
    let log = c.dir().join("watch.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .env("KUBECONFIG", c.kubeconfig_path())
        .env("HOME", c.dir())
        .env("XDG_STATE_HOME", c.dir().join("xdg"))
        .env_remove("RUST_BACKTRACE")
        .arg("watch")
        .arg(&scripts)
        .arg("--state-dir")
        .arg(c.dir().join("watch-state"))
        .args(["--listen", &addr])
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch");
    let start = Instant::now();
    let metrics = loop {
        let m = TcpStream::connect(&addr).ok().map(|mut s| {
            let _ = write!(s, "GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            body
        });
        match m {
            Some(m) if m.contains("tokensmith_bootstrap_token_list_up") => break m,
            _ => {
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "no metrics:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let good_id = &good[..6];
    assert!(
        metrics.contains("tokensmith_bootstrap_token_list_up 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("token_id=\"{good_id}\"")),
        "{metrics}"
    );
    assert!(metrics.contains("token_id=\"cccccc\""), "{metrics}");
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert_no_dump("watch log at debug", &log, &good);
}
