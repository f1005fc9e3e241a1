//! Safe rotation (issue 5) against the dev cluster, with its fault injection
//! on: the invariants after every run, rollback when a sink fails, and a real
//! webhook receiver on loopback.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use support::TestCluster;
use tokensmith::cluster::verify::verify_join;
use tokensmith::cluster::{Cluster, ConnectOptions, StoredToken};
use tokensmith::devcluster::FaultConfig;
use tokensmith::publish::{Sink, Webhook};
use tokensmith::rotation::{PUBLISHED_LABEL, ROTATION_LABEL, RotationSpec, rotate};
use tokensmith::token::BootstrapTokenString;

async fn connect(c: &TestCluster) -> Cluster {
    Cluster::connect(&ConnectOptions {
        kubeconfig: Some(c.kubeconfig_path().to_path_buf()),
        ..ConnectOptions::default()
    })
    .await
    .expect("connect")
}

async fn rotation_tokens(cluster: &Cluster, name: &str) -> Vec<StoredToken> {
    cluster
        .tokens()
        .list_selected(Some(&format!("{ROTATION_LABEL}={name}")))
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.expect("decodes"))
        .collect()
}

/// The token inside a published join line.
fn token_in(line: &str) -> BootstrapTokenString {
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == "--token" {
            return BootstrapTokenString::parse(words.next().expect("a value after --token"))
                .expect("a token");
        }
    }
    panic!("no --token in {line:?}");
}

/// What a webhook receiver does with each POST.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Accept,
    Reject(u16),
}

#[derive(Clone)]
struct Hook {
    mode: Arc<Mutex<Receiver>>,
    bodies: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn receive(State(h): State<Hook>, body: axum::body::Bytes) -> StatusCode {
    let mode = *h.mode.lock().unwrap();
    if let Ok(v) = serde_json::from_slice(&body) {
        h.bodies.lock().unwrap().push(v);
    }
    match mode {
        Receiver::Accept => StatusCode::NO_CONTENT,
        Receiver::Reject(code) => StatusCode::from_u16(code).unwrap(),
    }
}

/// A real HTTP server on loopback; returns its URL and controls.
async fn webhook_receiver() -> (String, Hook) {
    let hook = Hook {
        mode: Arc::new(Mutex::new(Receiver::Accept)),
        bodies: Arc::new(Mutex::new(Vec::new())),
    };
    let app = Router::new()
        .route("/join", post(receive))
        .with_state(hook.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/join"), hook)
}

/// Faults that make most requests of a rotation need a retry.
fn rough_weather() -> FaultConfig {
    FaultConfig {
        error_rate: 0.15,
        throttle_rate: 0.1,
        retry_after_seconds: 0,
        drop_rate: 0.05,
        latency_ms: 5,
    }
}

fn spec(name: &str, sinks: Vec<Sink>) -> RotationSpec {
    let mut s = RotationSpec::new(name);
    s.ttl = jiff::SignedDuration::from_hours(1);
    s.description = format!("rotation {name}");
    s.sinks = sinks;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_keeps_a_published_signed_token_through_faults() {
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    let file = c.dir().join("join.sh");
    let mut s = spec("nightly", vec![Sink::File(file.clone())]);
    s.verify = Some(Duration::from_secs(10));
    let first = rotate(&cluster, &s).await.unwrap();
    assert!(first.ok(), "{first:?}");
    c.reset_requests().await;

    c.set_faults(&rough_weather()).await;
    let mut successes = 0;
    for run in 0..12 {
        let report = rotate(&cluster, &s).await.unwrap();
        if report.ok() {
            successes += 1;
        }
        // Invariants, checked without faults so that the check itself is exact.
        c.set_faults(&FaultConfig::none()).await;
        let line = std::fs::read_to_string(&file).unwrap();
        assert!(
            line.starts_with("kubeadm join ")
                && line.contains(" --discovery-token-ca-cert-hash sha256:"),
            "run {run}: {line:?}"
        );
        let published = token_in(&line);
        let tokens = rotation_tokens(&cluster, "nightly").await;
        let live = tokens
            .iter()
            .find(|t| t.token.token == published)
            .unwrap_or_else(|| panic!("run {run}: the published token is gone: {report:?}"));
        assert_eq!(
            live.labels.get(PUBLISHED_LABEL).map(String::as_str),
            Some("true"),
            "run {run}"
        );
        let join = cluster.join_command(&published, None).unwrap();
        verify_join(&cluster, &join, Some(Duration::from_secs(5)))
            .await
            .unwrap_or_else(|e| panic!("run {run}: published token does not verify: {e}"));
        for t in &tokens {
            assert_eq!(
                t.labels.get(PUBLISHED_LABEL).map(String::as_str),
                Some("true"),
                "run {run}: an unpublished live token remains: {} ({report:?})",
                t.token.token
            );
        }
        assert!(tokens.len() <= 2, "run {run}: {} tokens left", tokens.len());
        c.set_faults(&rough_weather()).await;
    }
    eprintln!("{successes}/12 rotations succeeded under faults");
    let log = c.requests().await;
    let injected = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| matches!(r["code"].as_u64(), Some(500) | Some(429)))
        .count();
    assert!(injected > 0, "the faults were not exercised");
    assert!(successes > 0, "no rotation got through the faults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_rolls_back_and_restores_the_previous_command() {
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    let (url, hook) = webhook_receiver().await;
    let file = c.dir().join("join.sh");
    let mut wh = Webhook::new(url.clone());
    wh.attempts = 2;
    let sinks = vec![
        Sink::File(file.clone()),
        Sink::Webhook {
            hook: wh,
            extra: serde_json::Map::new(),
        },
    ];
    let s = spec("hooked", sinks);
    let first = rotate(&cluster, &s).await.unwrap();
    assert!(first.ok(), "{first:?}");
    let before = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        hook.bodies.lock().unwrap()[0]["joinCommand"],
        before.trim_end_matches('\n'),
        "the file holds the webhook's command and a final newline"
    );

    *hook.mode.lock().unwrap() = Receiver::Reject(503);
    let failed = rotate(&cluster, &s).await.unwrap();
    assert!(!failed.ok() && failed.rolled_back, "{failed:?}");
    assert!(
        failed
            .errors
            .iter()
            .any(|e| e.contains(&url) && e.contains("503")),
        "{failed:?}"
    );
    assert_eq!(
        failed.restored,
        [format!("file {}", file.display())],
        "{failed:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "the file sink got the old command back"
    );
    let tokens = rotation_tokens(&cluster, "hooked").await;
    assert_eq!(
        tokens.len(),
        1,
        "the new token was deleted, the old one kept"
    );
    assert_eq!(tokens[0].token.token, token_in(&before));

    // 4xx is the receiver's final answer: no retry.
    *hook.mode.lock().unwrap() = Receiver::Reject(400);
    let n = hook.bodies.lock().unwrap().len();
    let failed = rotate(&cluster, &s).await.unwrap();
    assert!(failed.rolled_back);
    assert_eq!(
        hook.bodies.lock().unwrap().len(),
        n + 1,
        "a 4xx is not retried"
    );

    *hook.mode.lock().unwrap() = Receiver::Accept;
    let ok = rotate(&cluster, &s).await.unwrap();
    assert!(ok.ok(), "{ok:?}");
    assert_eq!(ok.deleted, [tokens[0].token.token.id().to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_sink_fails_before_anything_old_is_touched() {
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    let good = c.dir().join("join.sh");
    let ok = rotate(&cluster, &spec("r", vec![Sink::File(good.clone())]))
        .await
        .unwrap();
    assert!(ok.ok());
    let old = rotation_tokens(&cluster, "r").await;
    let bad = spec("r", vec![Sink::File(c.dir().join("missing-dir/join.sh"))]);
    let report = rotate(&cluster, &bad).await.unwrap();
    assert!(report.rolled_back && report.created.is_none(), "{report:?}");
    assert!(
        report.errors[0].contains("missing-dir/join.sh"),
        "{report:?}"
    );
    let now = rotation_tokens(&cluster, "r").await;
    assert_eq!(now.len(), old.len());
    assert_eq!(now[0].token.token, old[0].token.token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_retains_the_newest_published_tokens_and_never_other_rotations() {
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    let outsider = cluster
        .tokens()
        .create(&tokensmith::token::BootstrapToken::with_defaults(
            BootstrapTokenString::generate(),
        ))
        .await
        .unwrap();
    let mut s = spec("k", vec![Sink::File(c.dir().join("j"))]);
    s.keep = 2;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let r = rotate(&cluster, &s).await.unwrap();
        assert!(r.ok(), "{r:?}");
        ids.push(r.created.unwrap());
        // creationTimestamp has one-second resolution: keep the order unambiguous.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }
    let left: Vec<String> = rotation_tokens(&cluster, "k")
        .await
        .iter()
        .map(|t| t.token.token.id().to_string())
        .collect();
    let mut want = ids[2..].to_vec();
    want.sort();
    let mut got = left.clone();
    got.sort();
    assert_eq!(got, want);
    assert!(
        cluster
            .tokens()
            .get(outsider.token.token.id())
            .await
            .unwrap()
            .is_some(),
        "other tokens are untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fails_cleanly_when_the_token_cannot_sign() {
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    // Without the signing usage the bootstrapsigner never signs cluster-info for it.
    let mut s = spec("unsigned", vec![Sink::File(c.dir().join("j"))]);
    s.usages = vec!["authentication".into()];
    s.verify = Some(Duration::from_secs(1));
    let r = rotate(&cluster, &s).await.unwrap();
    assert!(r.rolled_back, "{r:?}");
    assert!(r.errors[0].starts_with("verify: token id"), "{r:?}");
    assert!(rotation_tokens(&cluster, "unsigned").await.is_empty());
    assert!(!c.dir().join("j").exists(), "nothing was published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_token_whose_id_is_taken_gets_a_fresh_id_and_the_first_is_untouched() {
    use tokensmith::token::BootstrapToken;
    let c = TestCluster::start();
    let cluster = connect(&c).await;
    let store = cluster.tokens();
    let taken = BootstrapTokenString::parse("t4ken1.0123456789abcdef").unwrap();
    store
        .create(&BootstrapToken::with_defaults(taken.clone()))
        .await
        .unwrap();
    // A generated token that happens to draw the taken ID.
    let unlucky = BootstrapTokenString::parse("t4ken1.zyxwvutsrqponmlk").unwrap();
    let mut wanted = BootstrapToken::with_defaults(unlucky.clone());
    wanted.description = "fresh".into();
    // Given by a caller, the taken ID is an error, as in kubeadm.
    let e = store
        .create_new(&wanted, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "a token with id \"t4ken1\" already exists");
    let got = store
        .create_generated(&wanted, &Default::default())
        .await
        .unwrap();
    assert_ne!(got.token.token.id(), taken.id());
    assert_eq!(got.token.description, "fresh");
    let all: Vec<_> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.unwrap().token)
        .collect();
    assert_eq!(all.len(), 2, "{all:?}");
    let first = all.iter().find(|t| t.token.id() == taken.id()).unwrap();
    assert_eq!(
        first.token, taken,
        "the taken ID's Secret was not rewritten"
    );
    assert_eq!(first.description, "");
}
