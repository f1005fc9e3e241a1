//! The object store: every object as JSON, keyed by (resource, namespace,
//! name), one global monotonically increasing resourceVersion (etcd's
//! revision), a bounded event history for watches that resume from a
//! resourceVersion, and a broadcast of new events.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::objects;
use super::persist;
use super::resources::Resource;
use super::status::ApiError;

/// How many past events a watch may resume from before it gets 410 Gone.
const HISTORY: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub resource: Resource,
    /// Empty for cluster-scoped resources.
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(resource: Resource, namespace: &str, name: &str) -> Self {
        Self {
            resource,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub kind: EventType,
    pub key: Key,
    /// The object after the change (for DELETED: the last state, with the
    /// deletion's resourceVersion, as apiserver sends it).
    pub object: Value,
    /// The object before the change, so selector-filtered watches can turn a
    /// change that leaves the selection into DELETED.
    pub previous: Option<Value>,
}

struct Inner {
    objects: BTreeMap<Key, Value>,
    rv: u64,
    history: VecDeque<Arc<Event>>,
    /// Watches from a resourceVersion below this get 410 Gone.
    oldest_watchable: u64,
}

pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
    state_file: Option<PathBuf>,
    /// The resourceVersion last written to the state file; the lock orders writers.
    persisted: tokio::sync::Mutex<u64>,
    /// The cluster's time: creation timestamps, expiry checks, the controllers.
    clock: crate::clock::Clock,
}

/// A write transaction: changes apply at once and are undone if the closure fails.
pub struct Tx<'a> {
    inner: &'a mut Inner,
    undo: Vec<(Key, Option<Value>)>,
    events: Vec<Event>,
    start_rv: u64,
}

impl Tx<'_> {
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.inner.objects.get(key)
    }

    /// Objects of one resource, optionally in one namespace, in key order.
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<(Key, Value)> {
        list_in(&self.inner.objects, resource, namespace)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn next_rv(&mut self) -> u64 {
        self.inner.rv += 1;
        self.inner.rv
    }

    /// Stores `object` under `key` with a new resourceVersion and returns it as stored.
    pub fn put(&mut self, key: Key, mut object: Value) -> Value {
        let rv = self.next_rv();
        objects::set_resource_version(&mut object, rv);
        let previous = self.inner.objects.insert(key.clone(), object.clone());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.undo.push((key.clone(), previous.clone()));
        self.events.push(Event {
            rv,
            kind,
            key,
            object: object.clone(),
            previous,
        });
        object
    }

    /// Removes `key`; returns the removed object with the deletion's resourceVersion.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let previous = self.inner.objects.remove(key)?;
        let rv = self.next_rv();
        let mut last = previous.clone();
        objects::set_resource_version(&mut last, rv);
        self.undo.push((key.clone(), Some(previous.clone())));
        self.events.push(Event {
            rv,
            kind: EventType::Deleted,
            key: key.clone(),
            object: last.clone(),
            previous: Some(previous),
        });
        Some(last)
    }

    fn rollback(self) {
        let Tx {
            inner,
            undo,
            start_rv,
            ..
        } = self;
        for (key, old) in undo.into_iter().rev() {
            match old {
                Some(v) => {
                    inner.objects.insert(key, v);
                }
                None => {
                    inner.objects.remove(&key);
                }
            }
        }
        inner.rv = start_rv;
    }
}

fn list_in<'a>(
    objects: &'a BTreeMap<Key, Value>,
    resource: Resource,
    namespace: Option<&'a str>,
) -> impl Iterator<Item = (&'a Key, &'a Value)> + 'a {
    let start = Key::new(resource, namespace.unwrap_or(""), "");
    objects.range(start..).take_while(move |(k, _)| {
        k.resource == resource && namespace.is_none_or(|ns| k.namespace == ns)
    })
}

/// What a watch starts from: the events it missed, then the live feed.
pub struct Subscription {
    pub backlog: Vec<Arc<Event>>,
    pub live: broadcast::Receiver<Arc<Event>>,
    pub current_rv: u64,
    /// The current objects, when asked for (a watch without resourceVersion).
    pub initial: Vec<Value>,
}

impl Store {
    /// An empty store, or the one saved in `state_file`.
    pub fn open(state_file: Option<PathBuf>) -> anyhow::Result<Store> {
        let mut objects = BTreeMap::new();
        let mut rv = 0;
        if let Some(path) = &state_file
            && let Some(snap) = persist::load(path)?
        {
            rv = snap.resource_version;
            for obj in snap.objects {
                let key = objects::key_of(&obj).ok_or_else(|| {
                    anyhow::anyhow!(
                        "state file {} is corrupt: an object without kind, apiVersion or name",
                        path.display()
                    )
                })?;
                objects.insert(key, obj);
            }
        }
        let (events, _) = broadcast::channel(4096);
        Ok(Store {
            inner: Mutex::new(Inner {
                objects,
                rv,
                history: VecDeque::new(),
                oldest_watchable: rv,
            }),
            events,
            state_file,
            persisted: tokio::sync::Mutex::new(rv),
            clock: crate::clock::Clock::system(),
        })
    }

    /// The store with its time read from `clock` (set before serving).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &crate::clock::Clock {
        &self.clock
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug; keep serving anyway.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &Key) -> Option<Value> {
        self.lock().objects.get(key).cloned()
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().rv
    }

    /// A consistent list and the resourceVersion it was taken at.
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = list_in(&inner.objects, resource, namespace)
            .map(|(_, v)| v.clone())
            .collect();
        (items, inner.rv)
    }

    /// Runs `f` as one transaction. With `dry_run` the changes are computed,
    /// returned and then undone. Otherwise they are published to watchers and
    /// persisted before this returns.
    pub async fn transact<T>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (out, committed) = {
            let mut inner = self.lock();
            let start_rv = inner.rv;
            let mut tx = Tx {
                inner: &mut inner,
                undo: Vec::new(),
                events: Vec::new(),
                start_rv,
            };
            let result = f(&mut tx);
            let out = match result {
                Ok(out) if !dry_run => out,
                Ok(out) => {
                    tx.rollback();
                    return Ok(out);
                }
                Err(e) => {
                    tx.rollback();
                    return Err(e);
                }
            };
            let events = std::mem::take(&mut tx.events);
            drop(tx);
            if events.is_empty() {
                return Ok(out);
            }
            for ev in events {
                let ev = Arc::new(ev);
                if inner.history.len() >= HISTORY
                    && let Some(old) = inner.history.pop_front()
                {
                    inner.oldest_watchable = old.rv;
                }
                inner.history.push_back(ev.clone());
                // No receivers is fine: nobody is watching.
                let _ = self.events.send(ev);
            }
            (out, inner.rv)
        };
        if let Some(path) = self.state_file.clone() {
            self.persist(committed, path).await?;
        }
        Ok(out)
    }

    /// Makes every write up to `rv` durable. Group commit: whoever gets the
    /// writer lock saves the latest state, which covers all writers queued
    /// behind it, so they return without writing again.
    async fn persist(&self, rv: u64, path: PathBuf) -> Result<(), ApiError> {
        let mut persisted = self.persisted.lock().await;
        if *persisted >= rv {
            return Ok(());
        }
        let (latest, bytes) = {
            let inner = self.lock();
            let objs: Vec<&Value> = inner.objects.values().collect();
            (inner.rv, persist::encode(inner.rv, &objs))
        };
        let shown = path.display().to_string();
        let written = tokio::task::spawn_blocking(move || persist::write_atomically(&path, &bytes))
            .await
            .map_err(|e| ApiError::internal(format!("writing state file {shown}: {e}")))?;
        written.map_err(|e| {
            tracing::error!(file = %shown, error = %e, "could not persist dev cluster state");
            ApiError::internal(format!("writing state file {shown}: {e}"))
        })?;
        *persisted = latest;
        Ok(())
    }

    /// Events after `from_rv` (None: only new ones) and a live feed, taken
    /// together so that nothing falls between them.
    pub fn subscribe(
        &self,
        from_rv: Option<u64>,
        initial: Option<(Resource, Option<&str>)>,
    ) -> Result<Subscription, ApiError> {
        let inner = self.lock();
        let initial = match initial {
            Some((r, ns)) => list_in(&inner.objects, r, ns)
                .map(|(_, v)| v.clone())
                .collect(),
            None => Vec::new(),
        };
        let live = self.events.subscribe();
        let backlog = match from_rv {
            None => Vec::new(),
            Some(rv) if rv < inner.oldest_watchable => {
                return Err(ApiError::gone(format!(
                    "too old resource version: {rv} ({})",
                    inner.oldest_watchable
                )));
            }
            Some(rv) => inner
                .history
                .iter()
                .filter(|e| e.rv > rv)
                .cloned()
                .collect(),
        };
        Ok(Subscription {
            backlog,
            live,
            current_rv: inner.rv,
            initial,
        })
    }

    /// A feed of changes for in-process controllers.
    pub fn changes(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns"}})
    }

    #[tokio::test]
    async fn each_write_gets_a_higher_resource_version() {
        let store = Store::open(None).expect("open");
        let a = store
            .transact(false, |tx| {
                Ok(tx.put(Key::new(Resource::Secrets, "ns", "a"), secret("a")))
            })
            .await
            .expect("put");
        let b = store
            .transact(false, |tx| {
                Ok(tx.put(Key::new(Resource::Secrets, "ns", "b"), secret("b")))
            })
            .await
            .expect("put");
        assert_eq!(objects::resource_version(&a), Some(1));
        assert_eq!(objects::resource_version(&b), Some(2));
        assert_eq!(store.resource_version(), 2);
    }

    #[tokio::test]
    async fn a_failed_transaction_leaves_nothing_behind() {
        let store = Store::open(None).expect("open");
        let r: Result<(), ApiError> = store
            .transact(false, |tx| {
                tx.put(Key::new(Resource::Secrets, "ns", "a"), secret("a"));
                Err(ApiError::bad_request("no"))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(store.resource_version(), 0);
        assert!(store.list(Resource::Secrets, None).0.is_empty());
    }

    #[tokio::test]
    async fn a_dry_run_changes_nothing() {
        let store = Store::open(None).expect("open");
        let out = store
            .transact(true, |tx| {
                Ok(tx.put(Key::new(Resource::Secrets, "ns", "a"), secret("a")))
            })
            .await
            .expect("dry run");
        assert_eq!(out["metadata"]["name"], "a");
        assert!(store.get(&Key::new(Resource::Secrets, "ns", "a")).is_none());
    }

    #[tokio::test]
    async fn a_watch_resumes_from_history() {
        let store = Store::open(None).expect("open");
        for n in ["a", "b", "c"] {
            store
                .transact(false, |tx| {
                    Ok(tx.put(Key::new(Resource::Secrets, "ns", n), secret(n)))
                })
                .await
                .expect("put");
        }
        let sub = store.subscribe(Some(1), None).expect("subscribe");
        let names: Vec<&str> = sub.backlog.iter().map(|e| e.key.name.as_str()).collect();
        assert_eq!(names, ["b", "c"]);
    }

    #[tokio::test]
    async fn listing_one_namespace_does_not_leak_another() {
        let store = Store::open(None).expect("open");
        store
            .transact(false, |tx| {
                tx.put(Key::new(Resource::Secrets, "a", "x"), secret("x"));
                tx.put(Key::new(Resource::Secrets, "b", "y"), secret("y"));
                tx.put(Key::new(Resource::ConfigMaps, "a", "z"), secret("z"));
                Ok(())
            })
            .await
            .expect("put");
        assert_eq!(store.list(Resource::Secrets, Some("a")).0.len(), 1);
        assert_eq!(store.list(Resource::Secrets, None).0.len(), 2);
    }
}
