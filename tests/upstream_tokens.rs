//! The upstream tier, token commands: tokensmith and real kubeadm v1.37.2 on
//! one real kube-apiserver with the real bootstrapsigner and tokencleaner.
//! Each side reads back what the other wrote, and where both print the same
//! thing (list, join commands) the output is compared byte for byte.
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod support;

use std::process::Output;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use support::upstream::{UpstreamCluster, client_from};
use support::wait_for;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(what: &str, o: Output) -> String {
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

fn tokensmith(c: &UpstreamCluster, args: &[&str]) -> Output {
    c.tokensmith().args(args).output().expect("tokensmith runs")
}

fn kubeadm(c: &UpstreamCluster, args: &[&str]) -> Output {
    c.kubeadm().args(args).output().expect("kubeadm runs")
}

fn secret(c: &UpstreamCluster, id: &str) -> Option<Secret> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api: Api<Secret> = Api::namespaced(c.client().await, "kube-system");
        api.get_opt(&format!("bootstrap-token-{id}")).await.unwrap()
    })
}

/// The token list as both tools print it, with the TTL column blanked: the two
/// commands run a moment apart, and a TTL can cross an hour between them.
fn list_without_ttl(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| {
            let mut cols: Vec<String> = l.split_whitespace().map(str::to_owned).collect();
            if cols.len() > 1 {
                cols[1] = "TTL".into();
            }
            cols
        })
        .collect()
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn tokens_written_by_either_tool_read_back_the_same_in_both() {
    let c = UpstreamCluster::start();

    ok(
        "tokensmith token create",
        tokensmith(
            &c,
            &[
                "token",
                "create",
                "aaaaaa.0123456789abcdef",
                "--ttl",
                "2h",
                "--description",
                "made by tokensmith",
                "--groups",
                "system:bootstrappers:pool-a",
            ],
        ),
    );
    ok(
        "kubeadm token create",
        kubeadm(
            &c,
            &[
                "token",
                "create",
                "bbbbbb.0123456789abcdef",
                "--ttl",
                "0",
                "--description",
                "made by kubeadm",
                "--usages",
                "authentication",
            ],
        ),
    );
    // Written by different tools, the two Secrets have the same shape.
    let a = secret(&c, "aaaaaa").expect("tokensmith's Secret");
    let b = secret(&c, "bbbbbb").expect("kubeadm's Secret");
    assert_eq!(a.type_, b.type_);
    let keys = |s: &Secret| {
        let mut k: Vec<String> = s.data.iter().flatten().map(|(k, _)| k.clone()).collect();
        k.retain(|k| k != "expiration" && k != "usage-bootstrap-signing");
        k
    };
    assert_eq!(keys(&a), keys(&b));

    let mine = ok("tokensmith token list", tokensmith(&c, &["token", "list"]));
    let theirs = ok("kubeadm token list", kubeadm(&c, &["token", "list"]));
    assert_eq!(list_without_ttl(&mine), list_without_ttl(&theirs));
    assert_eq!(mine.lines().count(), 3, "{mine}");
    for fmt in ["json", "yaml"] {
        let mine = ok(
            "tokensmith list",
            tokensmith(&c, &["token", "list", "-o", fmt]),
        );
        let theirs = ok("kubeadm list", kubeadm(&c, &["token", "list", "-o", fmt]));
        assert_eq!(mine, theirs, "-o {fmt}");
    }

    // Each tool deletes what the other made.
    ok(
        "tokensmith token delete",
        tokensmith(&c, &["token", "delete", "bbbbbb"]),
    );
    ok(
        "kubeadm token delete",
        kubeadm(&c, &["token", "delete", "aaaaaa.0123456789abcdef"]),
    );
    assert_eq!(
        ok("kubeadm token list", kubeadm(&c, &["token", "list"])),
        ""
    );
    assert_eq!(
        ok("tokensmith token list", tokensmith(&c, &["token", "list"])),
        ""
    );
    assert!(secret(&c, "aaaaaa").is_none() && secret(&c, "bbbbbb").is_none());
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn join_commands_and_ca_pins_match_real_kubeadm() {
    let c = UpstreamCluster::start();
    for extra in [&[][..], &["--certificate-key", "k3y"][..]] {
        let mut mine_args = vec![
            "token",
            "create",
            "cccccc.0123456789abcdef",
            "--print-join-command",
        ];
        mine_args.extend_from_slice(extra);
        let mine = ok("tokensmith create", tokensmith(&c, &mine_args));
        let mut their_args = mine_args.clone();
        their_args[2] = "dddddd.0123456789abcdef";
        let theirs = ok("kubeadm create", kubeadm(&c, &their_args));
        assert_eq!(
            mine.replace("cccccc.", "dddddd."),
            theirs,
            "join command with {extra:?}"
        );
        assert!(
            mine.starts_with(&format!(
                "kubeadm join {} ",
                c.url().replace("https://", "")
            )),
            "{mine}"
        );
        ok(
            "delete",
            tokensmith(&c, &["token", "delete", "cccccc", "dddddd"]),
        );
    }
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn join_verify_checks_the_real_bootstrapsigners_signature() {
    let c = UpstreamCluster::start();
    let script = c.dir().join("verify.rhai");
    std::fs::write(
        &script,
        r#"
        let good = token::create(#{ ttl: "1h" });
        let ok = join::verify(good, #{ wait: "30s" }).ok;
        // Without the signing usage the bootstrapsigner never signs for it.
        let unsigned = token::create(#{ ttl: "1h", usages: ["authentication"] });
        let msg = "";
        let r = join::verify(unsigned);
        if !r.ok { msg = r.error }
        [ok, good.id, msg]
        "#,
    )
    .unwrap();
    let out = ok(
        "tokensmith run verify.rhai",
        c.tokensmith().arg("run").arg(&script).output().unwrap(),
    );
    assert!(out.starts_with("[true, \""), "{out}");
    assert!(
        out.contains("is invalid for this cluster or it has expired. Use \\\"kubeadm token create\\\" on the control-plane node to create a new valid token"),
        "{out}"
    );
    // The signature tokensmith accepted is the real controller's.
    let id = out.split('"').nth(1).expect("the token id").to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let cm = rt.block_on(async {
        let api: Api<ConfigMap> =
            Api::namespaced(client_from(c.kubeconfig_path()).await, "kube-public");
        api.get("cluster-info").await.unwrap()
    });
    let data = cm.data.unwrap_or_default();
    let jws = data
        .get(&format!("jws-kubeconfig-{id}"))
        .unwrap_or_else(|| panic!("no signature for {id}: {data:?}"));
    assert!(jws.contains(".."), "a detached JWS: {jws}");
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn the_real_tokencleaner_removes_a_token_tokensmith_made_when_it_expires() {
    let c = UpstreamCluster::start();
    ok(
        "create",
        tokensmith(
            &c,
            &["token", "create", "eeeeee.0123456789abcdef", "--ttl", "3s"],
        ),
    );
    ok(
        "create",
        tokensmith(
            &c,
            &["token", "create", "ffffff.0123456789abcdef", "--ttl", "1h"],
        ),
    );
    assert!(secret(&c, "eeeeee").is_some());
    // The tokencleaner re-queues a token for its expiry time, so this takes
    // seconds, not a resync period.
    wait_for(
        "the tokencleaner to delete the expired token",
        || secret(&c, "eeeeee").is_none(),
        || c.logs(),
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(secret(&c, "ffffff").is_some(), "the live token stays");
    let list = ok("kubeadm token list", kubeadm(&c, &["token", "list"]));
    assert!(
        list.contains("ffffff.") && !list.contains("eeeeee."),
        "{list}"
    );
}
