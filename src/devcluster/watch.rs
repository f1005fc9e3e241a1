//! Watches: newline-delimited JSON events (`{"type":"ADDED","object":…}`)
//! streamed as kube-apiserver streams them, resuming from a resourceVersion,
//! ending after `timeoutSeconds`, with bookmarks on request and a 410 Gone
//! ERROR event for a resourceVersion older than the kept history.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use futures::channel::mpsc;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::crud::ListOptions;
use super::resources::Resource;
use super::status::ApiError;
use super::store::{Event, EventType, Store};

/// apiserver's default: a random timeout in [min-request-timeout, 2×) of 1800s.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);
/// How often a bookmark is sent to clients that asked for them.
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

pub struct WatchRequest {
    pub resource: Resource,
    pub namespace: Option<String>,
    pub options: ListOptions,
    pub resource_version: Option<String>,
    pub timeout: Duration,
    pub bookmarks: bool,
    pub send_initial_events: bool,
    /// Events carry `Table`s (kubectl get -w asks with `as=Table`).
    pub table: bool,
    /// Events carry `PartialObjectMetadata` (kube's watch_metadata).
    pub metadata_only: bool,
}

impl WatchRequest {
    pub fn parse(
        resource: Resource,
        namespace: Option<String>,
        query: &HashMap<String, String>,
    ) -> Result<WatchRequest, ApiError> {
        let timeout = match query.get("timeoutSeconds").map(String::as_str) {
            None | Some("") => DEFAULT_TIMEOUT,
            // Capped at a year so that no deadline arithmetic can overflow.
            Some(s) => Duration::from_secs(
                s.parse::<u64>()
                    .map_err(|_| {
                        ApiError::bad_request(format!("invalid value for timeoutSeconds: {s:?}"))
                    })?
                    .min(365 * 24 * 3600),
            ),
        };
        Ok(WatchRequest {
            resource,
            namespace,
            options: ListOptions::parse(resource, query)?,
            resource_version: query
                .get("resourceVersion")
                .filter(|s| !s.is_empty())
                .cloned(),
            timeout,
            bookmarks: query
                .get("allowWatchBookmarks")
                .is_some_and(|v| v == "true"),
            send_initial_events: query.get("sendInitialEvents").is_some_and(|v| v == "true"),
            table: false,
            metadata_only: false,
        })
    }
}

/// One event line, written straight from the object (no copy of it).
fn line(event_type: &str, object: &Value) -> Bytes {
    let mut out = Vec::with_capacity(512);
    // Writing JSON to memory cannot fail.
    out.extend_from_slice(b"{\"type\":");
    let _ = serde_json::to_writer(&mut out, event_type);
    out.extend_from_slice(b",\"object\":");
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(r: Resource, rv: u64, initial_events_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_events_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    line(
        "BOOKMARK",
        &json!({"kind": r.kind(), "apiVersion": r.api_version(), "metadata": meta}),
    )
}

impl WatchRequest {
    fn in_scope(&self, ev: &Event) -> bool {
        ev.key.resource == self.resource
            && self
                .namespace
                .as_ref()
                .is_none_or(|ns| *ns == ev.key.namespace)
    }

    fn encode(&self, event_type: &str, object: &Value) -> Bytes {
        if self.table {
            line(
                event_type,
                &super::table::from_object(self.resource, object),
            )
        } else {
            line(event_type, object)
        }
    }

    /// The event a selector-filtered watcher sees: objects entering the
    /// selection are ADDED, leaving it DELETED (apiserver's cacheWatcher).
    fn translate<'e>(&self, ev: &'e Event) -> Option<(&'static str, &'e Value)> {
        if !self.in_scope(ev) {
            return None;
        }
        let object = ev.object.value();
        let now = self.options.matches(object);
        let before = ev
            .previous
            .as_ref()
            .is_some_and(|p| self.options.matches(p.value()));
        match ev.kind {
            EventType::Added if now => Some(("ADDED", object)),
            EventType::Deleted if before => Some(("DELETED", object)),
            EventType::Modified => match (before, now) {
                (true, true) => Some(("MODIFIED", object)),
                (false, true) => Some(("ADDED", object)),
                (true, false) => Some(("DELETED", object)),
                (false, false) => None,
            },
            _ => None,
        }
    }
}

/// Starts the watch: the returned receiver is the response body's stream.
pub fn start(
    store: Arc<Store>,
    req: WatchRequest,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> mpsc::Receiver<Result<Bytes, std::convert::Infallible>> {
    let (mut tx, rx) = mpsc::channel(64);
    let from_rv = match req.resource_version.as_deref() {
        None | Some("0") => None,
        Some(s) => match s.parse::<u64>() {
            Ok(v) => Some(v),
            Err(_) => {
                let err = ApiError::bad_request(format!(
                    "resourceVersion: Invalid value: {s:?}: strconv.ParseUint: parsing {s:?}: invalid syntax"
                ));
                tokio::spawn(async move {
                    let _ = tx.send(Ok(line("ERROR", &err.to_status()))).await;
                });
                return rx;
            }
        },
    };
    tokio::spawn(async move {
        let initial = from_rv
            .is_none()
            .then_some((req.resource, req.namespace.as_deref()));
        let sub = match store.subscribe(from_rv, initial) {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Ok(line("ERROR", &e.to_status()))).await;
                return;
            }
        };
        let mut live = sub.live;
        let mut last_rv = sub.current_rv;
        // No resourceVersion (or "0"): the current state first, as synthetic ADDED events.
        if from_rv.is_none() {
            for obj in sub.initial.iter().filter(|o| req.options.matches(o)) {
                if tx.send(Ok(req.encode("ADDED", obj))).await.is_err() {
                    return;
                }
            }
            if req.send_initial_events
                && tx
                    .send(Ok(bookmark(req.resource, sub.current_rv, true)))
                    .await
                    .is_err()
            {
                return;
            }
        }
        for ev in &sub.backlog {
            last_rv = ev.rv;
            if let Some((t, obj)) = req.translate(ev)
                && tx.send(Ok(req.encode(t, obj))).await.is_err()
            {
                return;
            }
        }
        let deadline = tokio::time::sleep(req.timeout);
        tokio::pin!(deadline);
        let mut bookmarks = tokio::time::interval(BOOKMARK_EVERY);
        bookmarks.tick().await;
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = shutdown.changed() => return,
                _ = bookmarks.tick(), if req.bookmarks => {
                    if tx.send(Ok(bookmark(req.resource, last_rv, false))).await.is_err() {
                        return;
                    }
                }
                got = live.recv() => match got {
                    Ok(ev) => {
                        // Already sent from the backlog.
                        if ev.rv <= last_rv {
                            continue;
                        }
                        last_rv = last_rv.max(ev.rv);
                        if let Some((t, obj)) = req.translate(&ev)
                            && tx.send(Ok(req.encode(t, obj))).await.is_err()
                        {
                            return;
                        }
                    }
                    // A watcher too slow to keep up is closed; clients re-list, as with apiserver.
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return,
                },
            }
        }
    });
    rx
}
