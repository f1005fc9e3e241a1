//! The scheduler under tokio's paused clock: days pass in microseconds and
//! every run lands at an exact instant.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::mpsc;

use tokensmith::schedule::clock::{Clock, TokioClock};
use tokensmith::schedule::metrics::Metrics;
use tokensmith::schedule::runner::{Command, JobDefinition, Scheduler};
use tokensmith::schedule::state::StateStore;
use tokensmith::schedule::{JobExecutor, RunContext, ScriptHeader};

/// What a test job does when it runs.
#[derive(Debug, Clone, Default)]
struct Behaviour {
    label: String,
    takes: Duration,
    fails: bool,
    panics: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    label: String,
    started: String,
    ended: String,
    cancelled: bool,
}

struct Recorder {
    clock: TokioClock,
    events: Arc<Mutex<Vec<Event>>>,
}

impl JobExecutor for Recorder {
    type Job = Behaviour;

    fn compile(&self, _path: &Path, _source: &str) -> Result<Behaviour, String> {
        Ok(Behaviour::default())
    }

    fn run(&self, job: Behaviour, ctx: RunContext) -> BoxFuture<'static, Result<(), String>> {
        let clock = self.clock;
        let events = self.events.clone();
        async move {
            let started = clock.now();
            let mut left = job.takes;
            // Checks the cancel flag once a second, as the sandbox would.
            while !left.is_zero() && !ctx.is_cancelled() {
                let step = left.min(Duration::from_secs(1));
                tokio::time::sleep(step).await;
                left -= step;
            }
            let cancelled = ctx.is_cancelled();
            events.lock().expect("events").push(Event {
                label: job.label.clone(),
                started: started.to_string(),
                ended: clock.now().to_string(),
                cancelled,
            });
            if job.panics {
                panic!("job {} panicked on purpose", job.label);
            }
            if cancelled {
                return Err("cancelled".to_owned());
            }
            if job.fails {
                return Err(format!("job {} failed on purpose", job.label));
            }
            Ok(())
        }
        .boxed()
    }
}

struct Harness {
    tx: mpsc::Sender<Command<Behaviour>>,
    events: Arc<Mutex<Vec<Event>>>,
    metrics: Metrics,
    clock: TokioClock,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Harness {
    fn start(at: &str, state: StateStore, grace: Duration) -> Harness {
        let clock = TokioClock::starting_at(at.parse().expect("start time"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let metrics = Metrics::default();
        let exec = Arc::new(Recorder {
            clock,
            events: events.clone(),
        });
        let sched = Scheduler::new(exec, Arc::new(clock), state, metrics.clone(), grace);
        let (tx, rx) = mpsc::channel(8);
        let done = Some(tokio::spawn(sched.run(rx)));
        Harness {
            tx,
            events,
            metrics,
            clock,
            done,
        }
    }

    async fn load(&self, jobs: &[(&str, &str, Behaviour)]) {
        let defs = jobs
            .iter()
            .map(|(name, header, b)| JobDefinition {
                name: (*name).to_owned(),
                header: ScriptHeader::parse(header).expect("valid header"),
                job: Behaviour {
                    label: if b.label.is_empty() {
                        (*name).to_owned()
                    } else {
                        b.label.clone()
                    },
                    ..b.clone()
                },
            })
            .collect();
        self.tx
            .send(Command::Load(defs))
            .await
            .expect("scheduler alive");
        // Let the scheduler apply it before time moves on.
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
    }

    /// Asks for a graceful stop and waits for the scheduler to return.
    async fn shutdown(&mut self) {
        self.tx
            .send(Command::Shutdown)
            .await
            .expect("scheduler alive");
        if let Some(done) = self.done.take() {
            done.await.expect("clean stop");
        }
    }

    fn is_running(&self) -> bool {
        self.done.as_ref().is_some_and(|d| !d.is_finished())
    }

    /// Lets virtual time flow (tokio auto-advances through every timer).
    async fn pass(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }

    fn starts(&self, label: &str) -> Vec<String> {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| e.label == label)
            .map(|e| e.started.clone())
            .collect()
    }

    fn events(&self) -> Vec<Event> {
        self.events.lock().expect("events").clone()
    }
}

const MIN: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86400);

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn quick() -> Behaviour {
    Behaviour::default()
}

#[tokio::test(start_paused = true)]
async fn each_tick_runs_once_at_its_exact_time() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    h.load(&[("every10", "//! schedule: */10 * * * *", quick())])
        .await;
    h.pass(30 * MIN).await;
    assert_eq!(
        h.starts("every10"),
        [
            "2026-06-01T00:10:00Z",
            "2026-06-01T00:20:00Z",
            "2026-06-01T00:30:00Z"
        ]
    );
    assert_eq!(h.metrics.runs("every10", "ok"), 3);
}

#[tokio::test(start_paused = true)]
async fn a_0230_berlin_job_runs_once_on_the_spring_forward_day() {
    let h = Harness::start("2026-03-27T12:00:00Z", StateStore::in_memory(), MIN);
    h.load(&[(
        "nightly",
        "//! schedule: 30 2 * * *\n//! timezone: Europe/Berlin",
        quick(),
    )])
    .await;
    h.pass(4 * DAY).await;
    assert_eq!(
        h.starts("nightly"),
        [
            "2026-03-28T01:30:00Z", // 02:30 CET
            "2026-03-29T01:30:00Z", // 02:30 does not exist: 03:30 CEST
            "2026-03-30T00:30:00Z", // 02:30 CEST
            "2026-03-31T00:30:00Z",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_0230_berlin_job_runs_once_on_the_fall_back_day() {
    let h = Harness::start("2026-10-23T12:00:00Z", StateStore::in_memory(), MIN);
    h.load(&[(
        "nightly",
        "//! schedule: 30 2 * * *\n//! timezone: Europe/Berlin",
        quick(),
    )])
    .await;
    h.pass(4 * DAY).await;
    assert_eq!(
        h.starts("nightly"),
        [
            "2026-10-24T00:30:00Z", // 02:30 CEST
            "2026-10-25T00:30:00Z", // 02:30 happens twice: the first only
            "2026-10-26T01:30:00Z", // 02:30 CET
            "2026-10-27T01:30:00Z",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn new_york_transitions_run_once_each() {
    let h = Harness::start("2026-03-07T12:00:00Z", StateStore::in_memory(), MIN);
    h.load(&[(
        "ny",
        "//! schedule: 30 2 * * *\n//! timezone: America/New_York",
        quick(),
    )])
    .await;
    h.pass(2 * DAY).await;
    assert_eq!(
        h.starts("ny"),
        ["2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"]
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_skip_drops_ticks_while_a_run_is_going() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let slow = Behaviour {
        takes: Duration::from_secs(150),
        ..quick()
    };
    h.load(&[("slow", "//! schedule: * * * * *\n//! overlap: skip", slow)])
        .await;
    h.pass(7 * MIN).await;
    // 00:01 runs to 00:03:30 (00:02, 00:03 skipped); 00:04 runs to 00:06:30
    // (00:05, 00:06 skipped); the 00:07 run is still going.
    assert_eq!(
        h.starts("slow"),
        ["2026-06-01T00:01:00Z", "2026-06-01T00:04:00Z"]
    );
    assert_eq!(h.metrics.runs("slow", "skipped"), 4);
}

#[tokio::test(start_paused = true)]
async fn overlap_queue_runs_the_late_tick_after_the_running_one() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let slower = Behaviour {
        takes: Duration::from_secs(100),
        ..quick()
    };
    h.load(&[("q", "//! schedule: * * * * *\n//! overlap: queue", slower)])
        .await;
    h.pass(4 * MIN).await;
    // 00:01 runs until 00:02:40; the 00:02 tick waits and starts at 00:02:40.
    assert_eq!(
        h.starts("q")[..2],
        ["2026-06-01T00:01:00Z", "2026-06-01T00:02:40Z"]
    );
    assert!(h.metrics.runs("q", "queued") >= 1);
}

#[tokio::test(start_paused = true)]
async fn overlap_replace_cancels_the_running_one() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let long = Behaviour {
        takes: HOUR,
        ..quick()
    };
    h.load(&[("r", "//! schedule: * * * * *\n//! overlap: replace", long)])
        .await;
    h.pass(3 * MIN + Duration::from_secs(5)).await;
    let events = h.events();
    // Runs from 00:01 and 00:02 ended, cancelled, when the next tick came.
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.cancelled));
    assert_eq!(events[0].started, "2026-06-01T00:01:00Z");
    assert_eq!(events[0].ended, "2026-06-01T00:02:00Z");
    assert_eq!(h.metrics.runs("r", "cancelled"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_cancels_the_run_and_is_reported_as_timeout() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let long = Behaviour {
        takes: HOUR,
        ..quick()
    };
    h.load(&[("t", "//! schedule: 0 * * * *\n//! timeout: 30s", long)])
        .await;
    h.pass(HOUR + MIN).await;
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].started, "2026-06-01T01:00:00Z");
    assert_eq!(events[0].ended, "2026-06-01T01:00:30Z");
    assert_eq!(h.metrics.runs("t", "timeout"), 1);
}

#[tokio::test(start_paused = true)]
async fn failing_and_panicking_jobs_never_stop_the_others() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    h.load(&[
        (
            "fails",
            "//! schedule: * * * * *",
            Behaviour {
                fails: true,
                ..quick()
            },
        ),
        (
            "panics",
            "//! schedule: * * * * *",
            Behaviour {
                panics: true,
                ..quick()
            },
        ),
        ("fine", "//! schedule: * * * * *", quick()),
    ])
    .await;
    h.pass(3 * MIN).await;
    assert_eq!(h.metrics.runs("fails", "error"), 3);
    assert_eq!(h.metrics.runs("panics", "panic"), 3);
    assert_eq!(h.metrics.runs("fine", "ok"), 3);
    assert!(h.is_running());
}

#[tokio::test(start_paused = true)]
async fn reloading_an_unchanged_schedule_keeps_its_next_tick_and_never_repeats_one() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let v1 = Behaviour {
        label: "v1".into(),
        ..quick()
    };
    let v2 = Behaviour {
        label: "v2".into(),
        ..quick()
    };
    h.load(&[("job", "//! schedule: * * * * *", v1)]).await;
    h.pass(MIN).await; // 00:01:30: v1 ran at 00:01
    h.load(&[("job", "//! schedule: * * * * *", v2.clone())])
        .await;
    // Same schedule, other spelling: recomputed from now, still never 00:01 again.
    h.pass(Duration::from_secs(1)).await;
    h.load(&[("job", "//! schedule: 0 * * * * *", v2)]).await;
    h.pass(2 * MIN).await;
    assert_eq!(h.starts("v1"), ["2026-06-01T00:01:00Z"]);
    assert_eq!(
        h.starts("v2"),
        ["2026-06-01T00:02:00Z", "2026-06-01T00:03:00Z"]
    );
    assert_eq!(
        h.metrics.next_run("job").map(|t| t.to_string()).as_deref(),
        Some("2026-06-01T00:04:00Z")
    );
}

#[tokio::test(start_paused = true)]
async fn deleting_a_script_unschedules_it() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    h.load(&[
        ("a", "//! schedule: * * * * *", quick()),
        ("b", "//! schedule: * * * * *", quick()),
    ])
    .await;
    h.pass(MIN).await;
    h.load(&[("a", "//! schedule: * * * * *", quick())]).await;
    h.pass(2 * MIN).await;
    assert_eq!(h.starts("a").len(), 3);
    assert_eq!(h.starts("b"), ["2026-06-01T00:01:00Z"]);
}

fn state_with(dir: &Path, job: &str, checked_through: &str) -> StateStore {
    let (mut s, warn) = StateStore::open(dir);
    assert!(warn.is_none());
    let at: Timestamp = checked_through.parse().expect("ts");
    s.checked(job, at);
    s.save().expect("save");
    StateStore::open(dir).0
}

#[tokio::test(start_paused = true)]
async fn a_tick_missed_while_down_runs_once_within_the_starting_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_with(dir.path(), "nightly", "2026-06-01T03:00:00Z");
    // Down from before 06-02 03:00 until 03:20: within the 1h deadline.
    let h = Harness::start("2026-06-02T03:20:00Z", state, MIN);
    h.load(&[(
        "nightly",
        "//! schedule: 0 3 * * *\n//! starting-deadline: 1h",
        quick(),
    )])
    .await;
    h.pass(MIN).await;
    assert_eq!(h.starts("nightly"), ["2026-06-02T03:20:00Z"]);
    assert_eq!(h.metrics.missed_count("nightly"), 0);
    // ... and the next one is tomorrow's, not the missed one again.
    h.pass(DAY).await;
    assert_eq!(h.starts("nightly").len(), 2);
    assert_eq!(h.starts("nightly")[1], "2026-06-03T03:00:00Z");
}

#[tokio::test(start_paused = true)]
async fn a_tick_missed_past_its_deadline_is_logged_and_counted_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = state_with(dir.path(), "nightly", "2026-06-01T03:00:00Z");
    let h = Harness::start("2026-06-04T05:00:00Z", state, MIN);
    h.load(&[(
        "nightly",
        "//! schedule: 0 3 * * *\n//! starting-deadline: 1h",
        quick(),
    )])
    .await;
    h.pass(MIN).await;
    assert!(h.starts("nightly").is_empty());
    assert_eq!(h.metrics.missed_count("nightly"), 3);
}

#[tokio::test(start_paused = true)]
async fn the_state_file_remembers_handled_ticks_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut h = Harness::start("2026-06-01T02:59:00Z", StateStore::open(dir.path()).0, MIN);
        h.load(&[(
            "nightly",
            "//! schedule: 0 3 * * *\n//! starting-deadline: 2h",
            quick(),
        )])
        .await;
        h.pass(2 * MIN).await;
        assert_eq!(h.starts("nightly"), ["2026-06-01T03:00:00Z"]);
        h.shutdown().await;
    }
    // Restarted at 03:30 the same day: 03:00 already ran, nothing to catch up.
    let h = Harness::start("2026-06-01T03:30:00Z", StateStore::open(dir.path()).0, MIN);
    h.load(&[(
        "nightly",
        "//! schedule: 0 3 * * *\n//! starting-deadline: 2h",
        quick(),
    )])
    .await;
    h.pass(MIN).await;
    assert!(h.starts("nightly").is_empty());
    assert_eq!(h.metrics.missed_count("nightly"), 0);
}

#[tokio::test(start_paused = true)]
async fn shutdown_lets_a_running_job_finish_within_the_grace_period() {
    let mut h = Harness::start(
        "2026-06-01T00:00:30Z",
        StateStore::in_memory(),
        Duration::from_secs(30),
    );
    let job = Behaviour {
        takes: Duration::from_secs(20),
        ..quick()
    };
    h.load(&[("j", "//! schedule: * * * * *", job)]).await;
    h.pass(Duration::from_secs(35)).await; // 00:01:05, the run is 5 s in
    h.shutdown().await;
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert!(!events[0].cancelled);
    assert_eq!(events[0].ended, "2026-06-01T00:01:20Z");
    assert_eq!(h.clock.now().to_string(), "2026-06-01T00:01:20Z");
}

#[tokio::test(start_paused = true)]
async fn shutdown_cancels_a_run_that_outlives_the_grace_period() {
    let mut h = Harness::start(
        "2026-06-01T00:00:30Z",
        StateStore::in_memory(),
        Duration::from_secs(30),
    );
    let job = Behaviour {
        takes: HOUR,
        ..quick()
    };
    h.load(&[("j", "//! schedule: * * * * *", job)]).await;
    h.pass(Duration::from_secs(35)).await;
    h.shutdown().await;
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert!(events[0].cancelled);
    assert_eq!(h.metrics.runs("j", "cancelled"), 1);
}

#[tokio::test(start_paused = true)]
async fn jitter_delays_each_run_within_its_bound_without_changing_the_tick() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    h.load(&[("j", "//! schedule: */10 * * * *\n//! jitter: 2m", quick())])
        .await;
    h.pass(63 * MIN).await;
    let starts = h.starts("j");
    assert_eq!(starts.len(), 6, "{starts:?}");
    for (i, s) in starts.iter().enumerate() {
        let at: Timestamp = s.parse().expect("ts");
        let ten_minutes = jiff::SignedDuration::from_mins(10 * (i as i64 + 1));
        let tick = ts("2026-06-01T00:00:00Z") + ten_minutes;
        let delay = at.duration_since(tick);
        assert!(
            !delay.is_negative() && delay < jiff::SignedDuration::from_mins(2),
            "{s} for {tick}"
        );
    }
}

fn csr_event(key: &str) -> tokensmith::schedule::Event {
    tokensmith::schedule::Event {
        kind: "csr",
        key: key.to_owned(),
        payload: serde_json::json!({"name": key}),
        remaining: None,
    }
}

async fn send_events(h: &Harness, evs: Vec<tokensmith::schedule::Event>) {
    h.tx.send(Command::Events(evs))
        .await
        .expect("scheduler alive");
    tokio::task::yield_now().await;
}

#[tokio::test(start_paused = true)]
async fn an_event_flood_is_coalesced_and_bounded_behind_a_running_handler() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let slow = Behaviour {
        takes: Duration::from_secs(10),
        ..quick()
    };
    h.load(&[("h", "//! on: csr\n//! overlap: queue", slow)])
        .await;
    let mut flood: Vec<_> = (0..100).map(|_| csr_event("same")).collect();
    flood.extend((0..100).map(|i| csr_event(&format!("csr-{i}"))));
    send_events(&h, flood).await;
    h.pass(HOUR).await;
    // The first starts at once; one repeat of it waits (the rest fold into
    // it), then 63 distinct ones fill the queue of 64; 37 are dropped.
    assert_eq!(h.starts("h").len(), 65);
    assert_eq!(h.metrics.runs("h", "coalesced"), 98);
    assert_eq!(h.metrics.runs("h", "queued"), 64);
    assert_eq!(h.metrics.runs("h", "dropped"), 37);
    assert_eq!(h.metrics.runs("h", "ok"), 65);
}

#[tokio::test(start_paused = true)]
async fn a_failing_handler_is_retried_three_times_in_all_then_counted_dropped() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    let broken = Behaviour {
        fails: true,
        ..quick()
    };
    h.load(&[
        ("f", "//! on: token-deleted", broken),
        ("other", "//! on: csr", quick()),
    ])
    .await;
    send_events(
        &h,
        vec![tokensmith::schedule::Event {
            kind: "token-deleted",
            key: "abcdef".into(),
            payload: serde_json::json!({"id": "abcdef"}),
            remaining: None,
        }],
    )
    .await;
    h.pass(MIN).await;
    assert_eq!(h.starts("f").len(), 3);
    assert_eq!(h.metrics.runs("f", "error"), 3);
    assert_eq!(h.metrics.runs("f", "retried"), 2);
    assert_eq!(h.metrics.runs("f", "dropped"), 1);
    assert!(
        h.starts("other").is_empty(),
        "a csr job ignores token events"
    );
}

#[tokio::test(start_paused = true)]
async fn token_expiring_fires_once_per_token_inside_the_window_only() {
    let h = Harness::start("2026-06-01T00:00:30Z", StateStore::in_memory(), MIN);
    h.load(&[("e", "//! on: token-expiring 1h", quick())]).await;
    let expiring = |id: &str, secs: u64| tokensmith::schedule::Event {
        kind: "token-expiring",
        key: id.to_owned(),
        payload: serde_json::json!({"id": id}),
        remaining: Some(Duration::from_secs(secs)),
    };
    for _ in 0..3 {
        send_events(&h, vec![expiring("soonly", 600), expiring("later", 7200)]).await;
        h.pass(Duration::from_secs(1)).await;
    }
    assert_eq!(
        h.starts("e").len(),
        1,
        "one run for the token inside the window"
    );
}
