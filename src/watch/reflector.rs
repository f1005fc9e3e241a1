//! List, then watch from the list's resourceVersion, as client-go's
//! Reflector does (tools/cache/reflector.go `ListAndWatch`): bookmarks move
//! the resume point on, a watch that ends (its `timeoutSeconds`, a dropped
//! connection) resumes from the last version seen, 410 Gone re-lists, and
//! errors are retried with a capped exponential backoff. kube's `runtime`
//! feature has this as `watcher()`; this is the part of it `watch` needs,
//! without that feature's build time.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams, WatchEvent, WatchParams};
use serde_json::Value;
use tokio::sync::mpsc;

/// A watch is asked to end after this long (kube refuses 295s or more);
/// it then resumes from where it was.
const WATCH_TIMEOUT_SECS: u32 = 290;
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Which watched set a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Csrs,
    Tokens,
}

/// One change of a watched set.
#[derive(Debug, Clone)]
pub enum Change {
    /// The complete current set, from a (re-)list.
    Listed(Vec<Value>),
    /// An object added or modified.
    Applied(Value),
    Deleted(Value),
}

/// Why one watch stopped.
enum WatchEnd {
    /// Ended normally or dropped: resume from this resourceVersion.
    Resume(String),
    /// 410 Gone: the version is older than the server keeps; re-list.
    Gone,
    /// The receiver is gone: stop.
    Closed,
}

/// Reflects `api` (narrowed by `fields`) into `changes` until the receiver
/// goes away. Errors are logged at debug and retried; they never end it.
pub async fn reflect(
    api: Api<DynamicObject>,
    fields: Option<&'static str>,
    source: Source,
    changes: mpsc::Sender<(Source, Change)>,
) {
    let mut backoff = BACKOFF_MIN;
    let mut resume: Option<String> = None;
    let mut listed_once = false;
    loop {
        let version = match resume.take() {
            Some(v) => v,
            None => {
                let mut lp = ListParams::default();
                if let Some(f) = fields {
                    lp = lp.fields(f);
                }
                match api.list(&lp).await {
                    Ok(list) => {
                        let items: Vec<Value> = list
                            .items
                            .iter()
                            .filter_map(|o| serde_json::to_value(o).ok())
                            .collect();
                        let n = items.len();
                        if changes.send((source, Change::Listed(items))).await.is_err() {
                            return;
                        }
                        let version = list.metadata.resource_version.unwrap_or_default();
                        if !listed_once {
                            tracing::info!(watched = ?source, objects = n, resource_version = %version, "event source: listed; watching from here");
                            listed_once = true;
                        }
                        version
                    }
                    Err(e) => {
                        tracing::debug!(watched = ?source, error = %e, retry_in = ?backoff, "event source: list failed");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        continue;
                    }
                }
            }
        };
        let mut wp = WatchParams::default().timeout(WATCH_TIMEOUT_SECS);
        if let Some(f) = fields {
            wp = wp.fields(f);
        }
        match watch_from(&api, &wp, &version, source, &changes, &mut backoff).await {
            WatchEnd::Closed => return,
            WatchEnd::Gone => {
                tracing::debug!(watched = ?source, "event source: resourceVersion {version} is gone; re-listing");
            }
            WatchEnd::Resume(v) => resume = Some(v),
        }
        if changes.is_closed() {
            return;
        }
    }
}

/// One watch request, streamed until it ends. A failure to open it sleeps
/// the backoff (and grows it); a watch that delivered something resets it.
async fn watch_from(
    api: &Api<DynamicObject>,
    wp: &WatchParams,
    version: &str,
    source: Source,
    changes: &mpsc::Sender<(Source, Change)>,
    backoff: &mut Duration,
) -> WatchEnd {
    let mut version = version.to_owned();
    let stream = match api.watch(wp, &version).await {
        Ok(s) => s,
        Err(kube::Error::Api(s)) if s.code == 410 => return WatchEnd::Gone,
        Err(e) => {
            tracing::debug!(watched = ?source, error = %e, retry_in = ?*backoff, "event source: watch failed");
            tokio::time::sleep(*backoff).await;
            *backoff = (*backoff * 2).min(BACKOFF_MAX);
            return WatchEnd::Resume(version);
        }
    };
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        let change = match item {
            Ok(WatchEvent::Added(o) | WatchEvent::Modified(o)) => {
                remember(&mut version, &o);
                serde_json::to_value(&o).ok().map(Change::Applied)
            }
            Ok(WatchEvent::Deleted(o)) => {
                remember(&mut version, &o);
                serde_json::to_value(&o).ok().map(Change::Deleted)
            }
            Ok(WatchEvent::Bookmark(b)) => {
                version = b.metadata.resource_version;
                None
            }
            Ok(WatchEvent::Error(s)) if s.code == 410 => return WatchEnd::Gone,
            Err(kube::Error::Api(s)) if s.code == 410 => return WatchEnd::Gone,
            Ok(WatchEvent::Error(s)) => {
                tracing::debug!(watched = ?source, code = s.code, message = %s.message, retry_in = ?*backoff, "event source: watch error");
                tokio::time::sleep(*backoff).await;
                *backoff = (*backoff * 2).min(BACKOFF_MAX);
                break;
            }
            // An undecodable line costs only itself; the stream goes on.
            Err(e) => {
                tracing::debug!(watched = ?source, error = %e, "event source: bad watch event");
                continue;
            }
        };
        *backoff = BACKOFF_MIN;
        if let Some(c) = change
            && changes.send((source, c)).await.is_err()
        {
            return WatchEnd::Closed;
        }
    }
    WatchEnd::Resume(version)
}

fn remember(version: &mut String, o: &DynamicObject) {
    if let Some(v) = &o.metadata.resource_version {
        v.clone_into(version);
    }
}
