//! The object store: every object as JSON, keyed by (resource, namespace,
//! name), one global monotonically increasing resourceVersion (etcd's
//! revision), a bounded event history for watches that resume from a
//! resourceVersion, and a broadcast of new events.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast;

use super::objects::{self, Stored};
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
    /// deletion's resourceVersion, as apiserver sends it). Shared with the
    /// store, as `previous` is: an event copies no object.
    pub object: Arc<Stored>,
    /// The object before the change, so selector-filtered watches can turn a
    /// change that leaves the selection into DELETED.
    pub previous: Option<Arc<Stored>>,
}

struct Inner {
    /// The latest state, including writes not yet durable: transactions
    /// decide on it, so two creates of one name cannot both succeed.
    objects: BTreeMap<Key, Arc<Stored>>,
    /// The latest resourceVersion handed out.
    rv: u64,
    /// What readers see: everything up to here is durable.
    visible_rv: u64,
    /// For keys changed by writes not yet durable: what readers still see
    /// (None: absent), and the last pending write that changed the key.
    shadow: BTreeMap<Key, (Option<Arc<Stored>>, u64)>,
    /// Committed events waiting for their log record to be durable.
    pending_events: Vec<Event>,
    /// Encoded log records not yet written.
    pending_log: Vec<u8>,
    /// Set when the log could not be written: later writes fail loudly
    /// instead of being acknowledged without being durable.
    broken: Option<String>,
    history: VecDeque<Arc<Event>>,
    /// Watches from a resourceVersion below this get 410 Gone.
    oldest_watchable: u64,
}

impl Inner {
    fn visible(&self, key: &Key) -> Option<&Arc<Stored>> {
        match self.shadow.get(key) {
            Some((v, _)) => v.as_ref(),
            None => self.objects.get(key),
        }
    }

    /// What readers see of one resource (optionally one namespace), in key order.
    fn visible_list(&self, resource: Resource, namespace: Option<&str>) -> Vec<Arc<Stored>> {
        let durable = list_in(&self.objects, resource, namespace)
            .filter(|(k, _)| !self.shadow.contains_key(*k));
        if self.shadow.is_empty() {
            return durable.map(|(_, v)| v.clone()).collect();
        }
        let shadowed = list_in(&self.shadow, resource, namespace)
            .filter_map(|(k, (v, _))| v.as_ref().map(|v| (k, v)));
        let mut out: Vec<(&Key, &Arc<Stored>)> = durable.chain(shadowed).collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out.into_iter().map(|(_, v)| v.clone()).collect()
    }

    fn publish(&mut self, ev: Event, events: &broadcast::Sender<Arc<Event>>) {
        let ev = Arc::new(ev);
        if self.history.len() >= HISTORY
            && let Some(old) = self.history.pop_front()
        {
            self.oldest_watchable = old.rv;
        }
        self.history.push_back(ev.clone());
        // No receivers is fine: nobody is watching.
        let _ = events.send(ev);
    }

    /// Everything up to `rv` is durable: show it to readers and watchers.
    fn made_durable(&mut self, rv: u64, events: &broadcast::Sender<Arc<Event>>) {
        if rv <= self.visible_rv {
            return;
        }
        self.visible_rv = rv;
        let split = self.pending_events.partition_point(|e| e.rv <= rv);
        let ready: Vec<Event> = self.pending_events.drain(..split).collect();
        for ev in ready {
            self.publish(ev, events);
        }
        self.shadow.retain(|_, (_, last)| *last > rv);
    }
}

pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
    state_file: Option<PathBuf>,
    /// The log; its lock makes one writer at a time the group-commit leader.
    log: Option<tokio::sync::Mutex<persist::Log>>,
    /// The cluster's time: creation timestamps, expiry checks, the controllers.
    clock: crate::clock::Clock,
}

/// A write transaction: changes apply at once and are undone if the closure fails.
pub struct Tx<'a> {
    inner: &'a mut Inner,
    undo: Vec<(Key, Option<Arc<Stored>>)>,
    events: Vec<Event>,
    start_rv: u64,
}

impl Tx<'_> {
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.inner.objects.get(key).map(|v| v.value())
    }

    /// Objects of one resource, optionally in one namespace, in key order.
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> Vec<(Key, Value)> {
        list_in(&self.inner.objects, resource, namespace)
            .map(|(k, v)| (k.clone(), v.value().clone()))
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
        let stored = Arc::new(Stored::new(object));
        let previous = self.inner.objects.insert(key.clone(), stored.clone());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        let object = stored.value().clone();
        self.events.push(Event {
            rv,
            kind,
            key: key.clone(),
            object: stored,
            previous: previous.clone(),
        });
        self.undo.push((key, previous));
        object
    }

    /// Removes `key`; returns the removed object with the deletion's resourceVersion.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let previous = self.inner.objects.remove(key)?;
        let rv = self.next_rv();
        let mut last = previous.value().clone();
        objects::set_resource_version(&mut last, rv);
        self.events.push(Event {
            rv,
            kind: EventType::Deleted,
            key: key.clone(),
            object: Arc::new(Stored::new(last.clone())),
            previous: Some(previous.clone()),
        });
        self.undo.push((key.clone(), Some(previous)));
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

fn list_in<'a, V>(
    objects: &'a BTreeMap<Key, V>,
    resource: Resource,
    namespace: Option<&'a str>,
) -> impl Iterator<Item = (&'a Key, &'a V)> + 'a {
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
    pub initial: Vec<Arc<Stored>>,
}

impl Store {
    /// An empty store, or the one saved in `state_file` (snapshot and log).
    pub fn open(state_file: Option<PathBuf>) -> anyhow::Result<Store> {
        let (objects, rv, log) = match &state_file {
            Some(path) => {
                let r = persist::recover(path)?;
                (r.objects, r.resource_version, Some(r.log))
            }
            None => (BTreeMap::new(), 0, None),
        };
        let (events, _) = broadcast::channel(4096);
        Ok(Store {
            inner: Mutex::new(Inner {
                objects,
                rv,
                visible_rv: rv,
                shadow: BTreeMap::new(),
                pending_events: Vec::new(),
                pending_log: Vec::new(),
                broken: None,
                history: VecDeque::new(),
                oldest_watchable: rv,
            }),
            events,
            state_file,
            log: log.map(tokio::sync::Mutex::new),
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
        self.lock().visible(key).map(|v| v.value().clone())
    }

    /// [`Store::get`] without the copy: the object as the store holds it.
    pub fn get_shared(&self, key: &Key) -> Option<Arc<Stored>> {
        self.lock().visible(key).cloned()
    }

    pub fn resource_version(&self) -> u64 {
        self.lock().visible_rv
    }

    /// A consistent list and the resourceVersion it was taken at. The
    /// objects are shared with the store, not copied.
    pub fn list(&self, resource: Resource, namespace: Option<&str>) -> (Vec<Arc<Stored>>, u64) {
        let inner = self.lock();
        (inner.visible_list(resource, namespace), inner.visible_rv)
    }

    /// Runs `f` as one transaction. With `dry_run` the changes are computed,
    /// returned and then undone. Otherwise they are made durable (with
    /// `--state`), then shown to readers and watchers, before this returns.
    pub async fn transact<T>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let (out, committed) = {
            let mut inner = self.lock();
            if let Some(why) = &inner.broken
                && !dry_run
            {
                return Err(ApiError::internal(why.clone()));
            }
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
            let undo = std::mem::take(&mut tx.undo);
            drop(tx);
            if events.is_empty() {
                return Ok(out);
            }
            let committed = inner.rv;
            if self.log.is_none() {
                for ev in events {
                    inner.publish(ev, &self.events);
                }
                inner.visible_rv = committed;
                return Ok(out);
            }
            let ops: Vec<persist::Op<'_>> = events
                .iter()
                .map(|e| match e.kind {
                    EventType::Deleted => persist::Op::Delete(e.object.value()),
                    _ => persist::Op::Put(e.object.value()),
                })
                .collect();
            let mut record = std::mem::take(&mut inner.pending_log);
            persist::encode_record(&mut record, committed, &ops);
            inner.pending_log = record;
            // Readers keep seeing the value from before the first pending change.
            for (key, before) in undo {
                inner
                    .shadow
                    .entry(key)
                    .and_modify(|(_, last)| *last = committed)
                    .or_insert((before, committed));
            }
            inner.pending_events.extend(events);
            (out, committed)
        };
        self.sync(committed).await?;
        Ok(out)
    }

    /// Makes every write up to `rv` durable. Group commit: whoever gets the
    /// log's lock writes every record queued so far with one fsync, which
    /// covers the writers queued behind it, so they return without writing.
    async fn sync(&self, rv: u64) -> Result<(), ApiError> {
        let Some(log) = &self.log else {
            return Ok(());
        };
        let mut log = log.lock().await;
        let (bytes, upto) = {
            let mut inner = self.lock();
            if inner.visible_rv >= rv {
                return Ok(());
            }
            if let Some(why) = &inner.broken {
                return Err(ApiError::internal(why.clone()));
            }
            (std::mem::take(&mut inner.pending_log), inner.rv)
        };
        let n = bytes.len() as u64;
        let plan = log.plan_append(n);
        // On this worker, not the blocking pool: a record's write and
        // fdatasync take ~0.2 ms, less than handing them to another thread
        // and waking this one again; writers queued behind the log's lock
        // wait asynchronously, and the other workers keep serving.
        let written = persist::Log::append_durably(log.file(), plan, &bytes);
        if let Err(e) = written {
            let shown = log.path().display();
            return Err(self.break_store(format!("writing state log {shown}: {e}")));
        }
        log.appended(plan, n);
        let mut upto = upto;
        if log.wants_compaction() {
            match self.compact(&mut log).await {
                Ok(rv) => upto = rv,
                Err(e) => return Err(self.break_store(e)),
            }
        }
        self.lock().made_durable(upto, &self.events);
        Ok(())
    }

    /// Writes a snapshot of the latest state (which covers every record
    /// still queued) and empties the log; returns the snapshot's resourceVersion.
    async fn compact(&self, log: &mut persist::Log) -> Result<u64, String> {
        let Some(path) = self.state_file.clone() else {
            return Err("compacting without a state file".to_string());
        };
        let (rv, objs) = {
            let mut inner = self.lock();
            // The objects are shared, immutable: take them, encode them
            // without holding up readers and writers.
            let objs: Vec<Arc<Stored>> = inner.objects.values().cloned().collect();
            // The snapshot holds these records' changes.
            inner.pending_log.clear();
            (inner.rv, objs)
        };
        let bytes = tokio::task::spawn_blocking(move || {
            let values: Vec<&Value> = objs.iter().map(|v| v.value()).collect();
            persist::encode(rv, &values)
        })
        .await
        .map_err(|e| format!("encoding the state snapshot: {e}"))?;
        let size = bytes.len() as u64;
        let shown = path.display().to_string();
        tokio::task::spawn_blocking(move || persist::write_atomically(&path, &bytes))
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|e| format!("writing state file {shown}: {e}"))?;
        log.truncate(size)
            .map_err(|e| format!("truncating state log {}: {e}", log.path().display()))?;
        Ok(rv)
    }

    /// The log is in an unknown state: refuse further writes, loudly.
    fn break_store(&self, why: String) -> ApiError {
        tracing::error!(error = %why, "could not persist dev cluster state; refusing further writes");
        self.lock().broken = Some(why.clone());
        ApiError::internal(why)
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
            Some((r, ns)) => inner.visible_list(r, ns),
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
            current_rv: inner.visible_rv,
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

    async fn put(store: &Store, name: &str, obj: Value) -> Value {
        store
            .transact(false, |tx| {
                Ok(tx.put(Key::new(Resource::Secrets, "ns", name), obj))
            })
            .await
            .expect("put")
    }

    #[tokio::test]
    async fn a_persistent_store_reopens_with_every_acknowledged_write() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone())).expect("open");
        for n in ["a", "b", "c"] {
            put(&store, n, secret(n)).await;
        }
        store
            .transact(false, |tx| {
                Ok(tx.remove(&Key::new(Resource::Secrets, "ns", "b")))
            })
            .await
            .expect("remove");
        drop(store);
        let again = Store::open(Some(path)).expect("reopen");
        let (items, rv) = again.list(Resource::Secrets, None);
        let names: Vec<&str> = items.iter().map(|o| objects::name(o)).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(rv, 4);
    }

    #[tokio::test]
    async fn the_log_is_compacted_once_it_outgrows_the_live_set() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone())).expect("open");
        let big = "x".repeat(64 << 10);
        // 200 rewrites of one 64 KiB object: 12.5 MiB written, 64 KiB live.
        for i in 0..200 {
            let mut obj = secret("a");
            obj["data"] = json!({"k": format!("{big}{i}")});
            put(&store, "a", obj).await;
        }
        let log = std::fs::read(persist::log_path(&path)).expect("log");
        // Records only: the zero-filled space ahead of them is not log.
        let used = log.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        assert!(used < 5 << 20, "the log was compacted: {used} bytes");
        assert!(path.exists(), "compaction wrote a snapshot");
        drop(store);
        let again = Store::open(Some(path)).expect("reopen");
        let a = again
            .get(&Key::new(Resource::Secrets, "ns", "a"))
            .expect("a");
        assert_eq!(a["data"]["k"], json!(format!("{big}199")));
        assert_eq!(again.resource_version(), 200);
    }

    #[tokio::test]
    async fn readers_and_watchers_see_a_write_only_once_it_is_durable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(Some(dir.path().join("state.json"))).expect("open"));
        put(&store, "a", secret("a")).await;
        let mut live = store.subscribe(None, None).expect("subscribe").live;
        // Holding the log's lock stands in for a slow fsync.
        let held = store.log.as_ref().expect("log").lock().await;
        let writer = {
            let store = store.clone();
            tokio::spawn(async move {
                let mut changed = secret("a");
                changed["data"] = json!({"k": "bmV3"});
                put(&store, "a", changed).await;
                put(&store, "b", secret("b")).await;
            })
        };
        while store.lock().rv < 2 {
            tokio::task::yield_now().await;
        }
        let key = Key::new(Resource::Secrets, "ns", "a");
        assert_eq!(store.resource_version(), 1);
        assert!(store.get(&key).expect("a")["data"].is_null());
        assert_eq!(store.list(Resource::Secrets, None).0.len(), 1);
        assert!(
            live.try_recv().is_err(),
            "no event before the write is durable"
        );
        let conflict = store
            .transact(false, |tx| match tx.get(&key) {
                Some(o) if o["data"].is_null() => Ok(()),
                _ => Err(ApiError::bad_request("writers decide on the latest state")),
            })
            .await;
        assert!(conflict.is_err());
        drop(held);
        writer.await.expect("writer");
        assert_eq!(store.resource_version(), 3);
        assert_eq!(store.get(&key).expect("a")["data"]["k"], "bmV3");
        assert_eq!(store.list(Resource::Secrets, None).0.len(), 2);
        assert_eq!(live.recv().await.expect("event").rv, 2);
        assert_eq!(live.recv().await.expect("event").rv, 3);
    }
}
