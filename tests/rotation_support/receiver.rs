//! A real HTTP webhook receiver on loopback for the rotation tests: each
//! path (`/a`, `/b`, …) accepts, rejects, fails every third POST, or hangs
//! without answering, as the test sets it. It runs on its own thread and
//! runtime, so sync tests and spawned processes can use it alike.

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

#[derive(Default)]
struct Inner {
    modes: HashMap<String, Mode>,
    /// POSTs that arrived, per path, whatever the answer.
    arrived: HashMap<String, usize>,
    /// Accepted bodies, per path, in order.
    accepted: HashMap<String, Vec<serde_json::Value>>,
    /// The Authorization header of each POST, per path.
    authorization: HashMap<String, Vec<Option<String>>>,
}

#[derive(Clone)]
pub struct Receiver {
    addr: String,
    inner: Arc<Mutex<Inner>>,
}

async fn receive(
    State(r): State<Receiver>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let mode = {
        let mut g = r.inner.lock().expect("receiver state");
        let n = {
            let n = g.arrived.entry(name.clone()).or_default();
            *n += 1;
            *n
        };
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        g.authorization.entry(name.clone()).or_default().push(auth);
        let mode = g.modes.get(&name).copied().unwrap_or(Mode::Accept);
        let accept = match mode {
            Mode::Accept => true,
            Mode::Flaky => n % 3 != 1,
            _ => false,
        };
        if accept && let Ok(v) = serde_json::from_slice(&body) {
            g.accepted.entry(name.clone()).or_default().push(v);
        }
        (mode, accept)
    };
    match mode {
        (Mode::Hang, _) => std::future::pending().await,
        (_, true) => StatusCode::NO_CONTENT,
        (Mode::Reject(code), _) => {
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl Receiver {
    /// Starts a receiver on a free loopback port; it lives as long as the test process.
    pub fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address").to_string();
        let r = Receiver {
            addr,
            inner: Arc::default(),
        };
        let app = Router::new()
            .route("/{name}", post(receive))
            .with_state(r.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app).await;
            });
        });
        r
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    pub fn set(&self, name: &str, mode: Mode) {
        self.inner
            .lock()
            .expect("receiver state")
            .modes
            .insert(name.to_owned(), mode);
    }

    pub fn arrived(&self, name: &str) -> usize {
        let g = self.inner.lock().expect("receiver state");
        g.arrived.get(name).copied().unwrap_or(0)
    }

    /// The join command of the last accepted POST to `name`.
    pub fn last_command(&self, name: &str) -> Option<String> {
        let g = self.inner.lock().expect("receiver state");
        g.accepted
            .get(name)
            .and_then(|v| v.last())
            .and_then(|b| b["joinCommand"].as_str())
            .map(str::to_owned)
    }

    pub fn authorizations(&self, name: &str) -> Vec<Option<String>> {
        let g = self.inner.lock().expect("receiver state");
        g.authorization.get(name).cloned().unwrap_or_default()
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
