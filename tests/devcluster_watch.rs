//! Watches through the real kube client: events in order, resuming from a
//! resourceVersion, selectors, timeouts, and 410 Gone for a resourceVersion
//! the server no longer remembers.

mod support;

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use support::TestCluster;
use tokensmith::devcluster::{DevCluster, DevClusterConfig};

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    let mut c: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}}))
            .expect("cm");
    if !labels.is_empty() {
        c.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        );
    }
    c
}

fn describe(ev: &WatchEvent<ConfigMap>) -> String {
    match ev {
        WatchEvent::Added(o) => format!("ADDED {}", o.metadata.name.as_deref().unwrap_or("")),
        WatchEvent::Modified(o) => format!("MODIFIED {}", o.metadata.name.as_deref().unwrap_or("")),
        WatchEvent::Deleted(o) => format!("DELETED {}", o.metadata.name.as_deref().unwrap_or("")),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(e) => format!("ERROR {}", e.code),
    }
}

#[tokio::test]
async fn a_watch_sees_adds_changes_and_deletes_in_order() {
    let cluster = TestCluster::start();
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await, "default");
    let start = cms
        .create(&PostParams::default(), &cm("before", &[]))
        .await
        .expect("create");
    let rv = start.metadata.resource_version.expect("rv");

    let mut stream = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    cms.create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("create");
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "w"}})),
    )
    .await
    .expect("patch");
    cms.delete("a", &DeleteParams::default())
        .await
        .expect("delete");

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = stream
            .try_next()
            .await
            .expect("event")
            .expect("stream open");
        seen.push(describe(&ev));
    }
    assert_eq!(seen, ["ADDED a", "MODIFIED a", "DELETED a"]);
}

#[tokio::test]
async fn a_watch_from_an_old_version_replays_what_followed() {
    let cluster = TestCluster::start();
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await, "default");
    let first = cms
        .create(&PostParams::default(), &cm("one", &[]))
        .await
        .expect("create");
    cms.create(&PostParams::default(), &cm("two", &[]))
        .await
        .expect("create");
    cms.create(&PostParams::default(), &cm("three", &[]))
        .await
        .expect("create");
    let rv = first.metadata.resource_version.expect("rv");
    let mut stream = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let a = describe(&stream.try_next().await.expect("event").expect("open"));
    let b = describe(&stream.try_next().await.expect("event").expect("open"));
    assert_eq!([a, b], ["ADDED two", "ADDED three"]);
}

#[tokio::test]
async fn a_watch_without_version_starts_with_the_current_objects() {
    let cluster = TestCluster::start();
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await, "kube-public");
    let mut stream = cms
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    let ev = stream.try_next().await.expect("event").expect("open");
    assert_eq!(describe(&ev), "ADDED cluster-info");
}

#[tokio::test]
async fn a_label_filtered_watch_sees_objects_leave_the_selection() {
    let cluster = TestCluster::start();
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await, "default");
    let rv = cms
        .create(&PostParams::default(), &cm("noise", &[]))
        .await
        .expect("create")
        .metadata
        .resource_version
        .expect("rv");
    let wp = WatchParams::default().labels("app=web");
    let mut stream = cms.watch(&wp, &rv).await.expect("watch").boxed();
    cms.create(&PostParams::default(), &cm("other", &[("app", "db")]))
        .await
        .expect("create");
    cms.create(&PostParams::default(), &cm("web", &[("app", "web")]))
        .await
        .expect("create");
    cms.patch(
        "web",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"app": "db"}}})),
    )
    .await
    .expect("relabel");
    let a = describe(&stream.try_next().await.expect("event").expect("open"));
    let b = describe(&stream.try_next().await.expect("event").expect("open"));
    assert_eq!([a, b], ["ADDED web", "DELETED web"]);
}

#[tokio::test]
async fn a_watch_ends_after_its_timeout() {
    let cluster = TestCluster::start();
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client().await, "default");
    let rv = cms
        .create(&PostParams::default(), &cm("x", &[]))
        .await
        .expect("create")
        .metadata
        .resource_version
        .expect("rv");
    let stream = cms
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .expect("watch");
    let events: Vec<_> = stream.collect().await;
    assert!(
        events.is_empty(),
        "no change, so no event before the stream closed: {events:?}"
    );
}

#[tokio::test]
async fn a_raw_watch_streams_newline_delimited_json() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin(
            "GET",
            "/api/v1/namespaces/kube-public/configmaps?watch=1&timeoutSeconds=1",
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 200);
    let lines: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", r.body);
    assert_eq!(lines[0]["type"], "ADDED");
    assert_eq!(lines[0]["object"]["metadata"]["name"], "cluster-info");
    assert_eq!(lines[0]["object"]["kind"], "ConfigMap");
}

#[tokio::test]
async fn initial_events_end_with_a_bookmark_when_asked() {
    let cluster = TestCluster::start();
    let r = cluster
        .admin(
            "GET",
            "/api/v1/namespaces/kube-public/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
            None,
            "",
        )
        .await;
    let lines: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.body);
    assert_eq!(lines[1]["type"], "BOOKMARK");
    assert_eq!(
        lines[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

/// After a restart the event history is gone: an old resourceVersion gets
/// an ERROR event with 410 Gone, as after an etcd compaction.
#[tokio::test]
async fn a_too_old_resource_version_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = DevClusterConfig {
        state_file: Some(dir.path().join("state.json")),
        ..DevClusterConfig::ephemeral()
    };
    let first = DevCluster::start(cfg.clone()).await.expect("start");
    let cms: Api<ConfigMap> = Api::namespaced(first.client().await.expect("client"), "default");
    let old_rv = cms
        .create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("create")
        .metadata
        .resource_version
        .expect("rv");
    cms.create(&PostParams::default(), &cm("b", &[]))
        .await
        .expect("create");
    first.shutdown().await;

    let second = DevCluster::start(cfg).await.expect("restart");
    let cms: Api<ConfigMap> = Api::namespaced(second.client().await.expect("client"), "default");
    let mut stream = cms
        .watch(&WatchParams::default(), &old_rv)
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("event").expect("open") {
        WatchEvent::Error(e) => {
            assert_eq!((e.code, e.reason.as_str()), (410, "Expired"));
            assert!(
                e.message.starts_with("too old resource version"),
                "{}",
                e.message
            );
        }
        other => panic!("expected 410, got {}", describe(&other)),
    }
    second.shutdown().await;
}
