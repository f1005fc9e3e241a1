//! `token::create_many` with the built binary against the dev cluster.

mod support;

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use support::TestCluster;

fn token_secrets(cluster: &TestCluster) -> Vec<Secret> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let api: Api<Secret> = Api::namespaced(cluster.client().await, "kube-system");
        api.list(&Default::default())
            .await
            .expect("list secrets")
            .items
            .into_iter()
            .filter(|s| s.type_.as_deref() == Some("bootstrap.kubernetes.io/token"))
            .collect()
    })
}

fn run(c: &TestCluster, source: &str) -> std::process::Output {
    let p = c.dir().join("bulk.rhai");
    std::fs::write(&p, source).expect("write script");
    c.tokensmith().arg("run").arg(&p).output().expect("run")
}

#[test]
fn create_many_stores_every_token_and_returns_them_in_order() {
    let c = TestCluster::start();
    let out = run(
        &c,
        r#"
        let ts = token::create_many(60, #{ description: "bulk", ttl: "2h", parallel: 8 });
        let more = token::create_many([#{ description: "one" }, #{ description: "two" }]);
        let listed = token::list();
        let ids = ts.map(|t| t.id);
        [ids.len(), listed.len(), more[0].description, more[1].description, ids.reduce(|a, b| a + "," + b, "")]
        "#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.starts_with(r#"[60, 62, "one", "two", "#), "{stdout}");
    let stored = token_secrets(&c);
    assert_eq!(stored.len(), 62);
    let returned: BTreeSet<String> = stdout
        .rsplit('"')
        .nth(1)
        .expect("ids")
        .trim_start_matches(',')
        .split(',')
        .map(|id| format!("bootstrap-token-{id}"))
        .collect();
    assert_eq!(returned.len(), 60, "distinct tokens");
    let described: BTreeSet<String> = stored
        .iter()
        .filter(|s| {
            s.data
                .as_ref()
                .and_then(|d| d.get("description"))
                .map(|v| v.0.as_slice())
                == Some(b"bulk".as_slice())
        })
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    assert_eq!(described, returned, "what it returned is what it stored");
}

#[test]
fn bad_arguments_throw_before_anything_is_created() {
    let c = TestCluster::start();
    for (source, message) in [
        (
            "token::create_many(0)",
            "the number of tokens must be between 1 and 100000, got 0",
        ),
        (
            "token::create_many(5, #{ parallel: 500 })",
            "parallel must be between 1 and 64, got 500",
        ),
        ("token::create_many(3, #{ ttl: \"soon\" })", "invalid ttl"),
        (
            "token::create_many([#{ description: \"ok\" }, 7])",
            "element 1 is not an option map",
        ),
    ] {
        let out = run(&c, source);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{source}: {stderr}");
        assert!(stderr.contains(message), "{source}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(token_secrets(&c).is_empty());
}
