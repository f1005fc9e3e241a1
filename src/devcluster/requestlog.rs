//! The admin-only request log and per-verb counters, so a test can assert
//! "dry-run sent no write" or "list made one request".

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Value, json};

/// Oldest entries are dropped past this many.
const KEEP: usize = 10_000;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Kubernetes verb (get, list, watch, create, update, patch, delete,
    /// deletecollection) or the lower-case method for non-resource paths.
    pub verb: String,
    pub resource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub user: String,
    pub code: u16,
    pub user_agent: String,
}

#[derive(Default)]
pub struct RequestLog {
    inner: Mutex<(VecDeque<RequestRecord>, BTreeMap<String, u64>)>,
}

impl RequestLog {
    pub fn record(&self, r: RequestRecord) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *g.1.entry(r.verb.clone()).or_default() += 1;
        if g.0.len() >= KEEP {
            g.0.pop_front();
        }
        g.0.push_back(r);
    }

    pub fn to_json(&self) -> Value {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        json!({
            "kind": "RequestLog",
            "apiVersion": "tokensmith.dev/v1",
            "counts": g.1,
            "items": g.0,
        })
    }

    pub fn reset(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.clear();
        g.1.clear();
    }
}
