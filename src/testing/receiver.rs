//! A real HTTP webhook receiver on loopback that records every POST: what
//! `webhook::receiver()` gives a test script, and what the rotation tests
//! publish to. Each path (`/a`, `/b`, …) accepts, rejects, fails every third
//! POST, or hangs without answering, as the test sets it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

/// What the receiver does with a POST to one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Accept,
    Reject(u16),
    /// Answers 503 to every third POST (the 1st, 4th, …), accepts the others:
    /// the sender's retry gets through.
    Flaky,
    /// Never answers: the sender blocks until its timeout.
    Hang,
}

/// One POST as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    /// The path without its leading `/`.
    pub path: String,
    pub authorization: Option<String>,
    pub body: bytes::Bytes,
    /// The status answered (0 for a POST left hanging).
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    modes: HashMap<String, Mode>,
    /// Every POST, whatever the answer, in order of arrival.
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    addr: String,
    inner: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

async fn receive(
    State(r): State<Receiver>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mode = {
        let mut g = r.lock();
        let n = g.received.iter().filter(|x| x.path == name).count() + 1;
        let mode = g.modes.get(&name).copied().unwrap_or(Mode::Accept);
        let status = match mode {
            Mode::Accept => 204,
            Mode::Flaky if n % 3 != 1 => 204,
            Mode::Flaky => 503,
            Mode::Reject(code) => code,
            Mode::Hang => 0,
        };
        g.received.push(Received {
            path: name.clone(),
            authorization: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body,
            status,
        });
        (mode, status)
    };
    match mode {
        (Mode::Hang, _) => std::future::pending().await,
        (_, code) => StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

impl Receiver {
    fn bind() -> std::io::Result<(std::net::TcpListener, Receiver)> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?.to_string();
        Ok((
            listener,
            Receiver {
                addr,
                inner: Arc::default(),
            },
        ))
    }

    fn app(&self) -> Router {
        Router::new()
            .route("/{name}", post(receive))
            .with_state(self.clone())
    }

    /// Starts a receiver on a free loopback port, on its own thread and
    /// runtime; it lives as long as the process (for integration tests).
    pub fn start() -> Receiver {
        let (listener, r) = Self::bind().expect("bind a loopback port for the receiver");
        let app = r.app();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                    let _ = axum::serve(listener, app).await;
                }
            });
        });
        r
    }

    /// Starts a receiver served by a task on `rt`; it stops when the task is aborted.
    pub fn start_on(
        rt: &tokio::runtime::Handle,
    ) -> std::io::Result<(Receiver, tokio::task::JoinHandle<()>)> {
        let (listener, r) = Self::bind()?;
        let app = r.app();
        let _entered = rt.enter();
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let task = rt.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((r, task))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the record half-written.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    pub fn set(&self, name: &str, mode: Mode) {
        self.lock().modes.insert(name.to_owned(), mode);
    }

    /// Every POST so far, to any path.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    fn on(&self, name: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == name)
            .collect()
    }

    pub fn arrived(&self, name: &str) -> usize {
        self.on(name).len()
    }

    /// The join command of the last accepted POST to `name`.
    pub fn last_command(&self, name: &str) -> Option<String> {
        self.on(name)
            .iter()
            .rev()
            .filter(|r| (200..300).contains(&r.status))
            .find_map(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.body)
                    .ok()
                    .and_then(|b| b["joinCommand"].as_str().map(str::to_owned))
            })
    }

    pub fn authorizations(&self, name: &str) -> Vec<Option<String>> {
        self.on(name).into_iter().map(|r| r.authorization).collect()
    }

    /// Waits until more than `seen` POSTs to `name` have arrived. The bound
    /// only turns a hang into a failure; nothing is timed.
    pub fn wait_arrived(&self, name: &str, seen: usize) {
        let give_up = Instant::now() + Duration::from_secs(60);
        while self.arrived(name) <= seen {
            assert!(
                Instant::now() < give_up,
                "no POST to /{name} arrived (seen {seen})"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
