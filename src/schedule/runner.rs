//! The scheduler: one tokio task that sleeps until the next tick, starts runs
//! under their overlap policy and timeout, applies reloads, catches up on
//! ticks missed while down, and stops gracefully.
//!
//! Runs are tokio tasks of their own, so a run that fails, hangs or panics
//! never holds up the scheduler or another job.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rand::RngExt;
use tokio::sync::mpsc;

use super::clock::Clock;
use super::executor::{Event, EventCall, JobExecutor, RunContext};
use super::header::{EventTrigger, Overlap, ScriptHeader};
use super::metrics::Metrics;
use super::missed::catch_up;
use super::run::{StopReason, Stopper, supervise};
use super::state::StateStore;
use crate::cluster::leader::Leadership;

/// A loaded script, as the scheduler sees it.
#[derive(Debug, Clone)]
pub struct JobDefinition<J> {
    /// The job's name: the script's file name without `.rhai`.
    pub name: String,
    pub header: ScriptHeader,
    pub job: J,
}

/// What the daemon tells the scheduler.
#[derive(Debug)]
pub enum Command<J> {
    /// Every script now loaded. A script that stopped compiling is passed in
    /// its last good version; a script left out is unscheduled.
    Load(Vec<JobDefinition<J>>),
    /// Cluster events for `on:` jobs, one poll's worth.
    Events(Vec<Event>),
    /// Stop scheduling, let runs finish within the grace period, return.
    Shutdown,
}

/// Events waiting behind a running handler, per job. Beyond this a flood is
/// dropped (counted); repeats of a waiting event are coalesced into it.
const MAX_QUEUED_EVENTS: usize = 64;

/// A failed handler runs again with the same event, this many times in all.
pub const EVENT_ATTEMPTS: u32 = 3;

/// A queue of late ticks is bounded: a job always slower than its schedule
/// would otherwise queue forever.
const MAX_QUEUED: usize = 8;

/// The longest single sleep, so that a wall-clock jump (suspend, NTP step) is
/// noticed within this time.
const MAX_SLEEP: Duration = Duration::from_secs(300);

/// After the grace period, cancelled runs get this long to return.
const CANCEL_WAIT: Duration = Duration::from_secs(1);

struct Pending {
    tick: Timestamp,
    fire_at: Timestamp,
}

struct Slot<J> {
    def: JobDefinition<J>,
    next: Option<Pending>,
    queued: VecDeque<Timestamp>,
    /// Events waiting for the running handler, with their attempt number.
    events: VecDeque<(Event, u32)>,
    /// `token-expiring` events already handled, so each token fires once.
    notified: std::collections::BTreeSet<String>,
}

struct InFlight {
    job: String,
    stop: Stopper,
}

struct Finished {
    id: u64,
    job: String,
    ok_at: Option<Timestamp>,
    event: Option<(Event, u32)>,
}

pub struct Scheduler<E: JobExecutor, C: Clock> {
    executor: Arc<E>,
    clock: Arc<C>,
    state: StateStore,
    metrics: Metrics,
    grace: Duration,
    jobs: BTreeMap<String, Slot<E::Job>>,
    runs: BTreeMap<u64, InFlight>,
    next_id: u64,
    loaded_once: bool,
    done_tx: mpsc::UnboundedSender<Finished>,
    done_rx: Option<mpsc::UnboundedReceiver<Finished>>,
    /// With leader election on, ticks start runs only while this replica leads.
    leadership: Option<Leadership>,
}

impl<E: JobExecutor, C: Clock> Scheduler<E, C> {
    pub fn new(
        executor: Arc<E>,
        clock: Arc<C>,
        state: StateStore,
        metrics: Metrics,
        grace: Duration,
    ) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Self {
            executor,
            clock,
            state,
            metrics,
            grace,
            jobs: BTreeMap::new(),
            runs: BTreeMap::new(),
            next_id: 0,
            loaded_once: false,
            done_tx,
            done_rx: Some(done_rx),
            leadership: None,
        }
    }

    /// Gates every tick on `leadership`: a replica that does not hold the
    /// Lease lets its ticks pass (counted as `follower`), so among several
    /// replicas each tick runs once.
    pub fn with_leadership(mut self, leadership: Leadership) -> Self {
        self.leadership = Some(leadership);
        self
    }

    /// Runs until `Shutdown` (or until every sender is gone), then waits for
    /// runs in progress within the grace period.
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command<E::Job>>) {
        let Some(mut done_rx) = self.done_rx.take() else {
            return;
        };
        loop {
            let wake = self.next_wake();
            let sleep = async move {
                match wake {
                    Some(d) => tokio::time::sleep(d.min(MAX_SLEEP)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => self.fire_due(),
                cmd = commands.recv() => match cmd {
                    Some(Command::Load(defs)) => self.load(defs),
                    Some(Command::Events(evs)) => self.events(evs),
                    Some(Command::Shutdown) | None => break,
                },
                Some(done) = done_rx.recv() => self.finished(done),
            }
        }
        self.shutdown(&mut done_rx).await;
    }

    /// How long until the earliest pending tick fires.
    fn next_wake(&self) -> Option<Duration> {
        let now = self.clock.now();
        self.jobs
            .values()
            .filter_map(|s| s.next.as_ref())
            .map(|p| p.fire_at)
            .min()
            .map(|at| Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
    }

    fn schedule_next(&self, def: &JobDefinition<E::Job>, after: Timestamp) -> Option<Pending> {
        let spec = def.header.schedule.as_ref()?;
        let next = spec.next_after(after, def.header.timezone);
        let pending = next.map(|tick| {
            let jitter = def.header.jitter.map_or(SignedDuration::ZERO, |j| {
                let nanos = u64::try_from(j.as_nanos()).unwrap_or(u64::MAX);
                SignedDuration::from_nanos(
                    i64::try_from(rand::rng().random_range(0..nanos.max(1))).unwrap_or(0),
                )
            });
            Pending {
                tick,
                fire_at: tick.checked_add(jitter).unwrap_or(tick),
            }
        });
        self.metrics
            .set_next_run(&def.name, pending.as_ref().map(|p| p.fire_at));
        pending
    }

    fn fire_due(&mut self) {
        let now = self.clock.now();
        let due: Vec<(String, Timestamp)> = self
            .jobs
            .iter()
            .filter_map(|(name, s)| {
                s.next
                    .as_ref()
                    .filter(|p| p.fire_at <= now)
                    .map(|p| (name.clone(), p.tick))
            })
            .collect();
        for (name, tick) in due {
            // Computed from `now`, not the tick: after a stall (suspend, a
            // clock step) the passed ticks are not replayed in a burst.
            let Some(def) = self.jobs.get(&name).map(|s| &s.def) else {
                continue;
            };
            let next = self.schedule_next(def, now);
            if let Some(slot) = self.jobs.get_mut(&name) {
                slot.next = next;
            }
            self.state.checked(&name, tick);
            self.save_state();
            self.tick(&name, tick);
        }
    }

    /// A tick is due: start a run, or apply the job's overlap policy.
    fn tick(&mut self, name: &str, tick: Timestamp) {
        let Some(slot) = self.jobs.get_mut(name) else {
            return;
        };
        if self.leadership.as_ref().is_some_and(|l| !l.is_leader()) {
            tracing::debug!(job = %name, tick = %tick, result = "follower", "tick not run: another replica leads");
            self.metrics.tick_not_run(name, "follower");
            return;
        }
        let running: Vec<&InFlight> = self.runs.values().filter(|r| r.job == name).collect();
        if running.is_empty() {
            self.start(name, tick);
            return;
        }
        match slot.def.header.overlap {
            Overlap::Skip => {
                tracing::warn!(job = %name, tick = %tick, result = "skipped", "tick skipped: the previous run is still going (overlap: skip)");
                self.metrics.tick_not_run(name, "skipped");
            }
            Overlap::Queue if slot.queued.len() < MAX_QUEUED => {
                slot.queued.push_back(tick);
                tracing::info!(job = %name, tick = %tick, queued = slot.queued.len(), "tick queued behind the running one (overlap: queue)");
                self.metrics.tick_not_run(name, "queued");
            }
            Overlap::Queue => {
                tracing::warn!(job = %name, tick = %tick, result = "dropped", "tick dropped: {MAX_QUEUED} ticks already queued (overlap: queue)");
                self.metrics.tick_not_run(name, "dropped");
            }
            Overlap::Replace => {
                for r in running {
                    r.stop.stop(StopReason::Replaced);
                }
                tracing::info!(job = %name, tick = %tick, "cancelling the running run to start this tick (overlap: replace)");
                self.start(name, tick);
            }
        }
    }

    fn start(&mut self, name: &str, tick: Timestamp) {
        self.start_run(name, tick, None);
    }

    fn start_run(&mut self, name: &str, tick: Timestamp, event: Option<(Event, u32)>) {
        let Some(slot) = self.jobs.get(name) else {
            return;
        };
        let call = match (&event, slot.def.header.on) {
            (Some((ev, _)), Some(on)) => Some(EventCall {
                handler: on.handler(),
                payload: ev.payload.clone(),
            }),
            _ => None,
        };
        let id = self.next_id;
        self.next_id += 1;
        let stop = Stopper::default();
        let timeout = slot.def.header.timeout;
        let ctx = RunContext {
            job: name.to_owned(),
            cancel: stop.flag(),
            deadline: timeout.and_then(|t| std::time::Instant::now().checked_add(t)),
            event: call,
        };
        self.runs.insert(
            id,
            InFlight {
                job: name.to_owned(),
                stop: stop.clone(),
            },
        );
        self.metrics.run_started(name);
        match &event {
            Some((ev, attempt)) => {
                tracing::info!(job = %name, event = ev.kind, key = %ev.key, attempt, "handler started")
            }
            None => tracing::info!(job = %name, tick = %tick, "job started"),
        }
        let run = self.executor.run(slot.def.job.clone(), ctx);
        let (job, clock, metrics, done) = (
            name.to_owned(),
            self.clock.clone(),
            self.metrics.clone(),
            self.done_tx.clone(),
        );
        // In the scheduler's span: a context's runs log their context.
        let supervised = async move {
            let ok_at = supervise(&job, run, timeout, &stop, clock.as_ref(), &metrics).await;
            let _ = done.send(Finished {
                id,
                job,
                ok_at,
                event,
            });
        };
        tokio::spawn(tracing::Instrument::in_current_span(supervised));
    }

    fn finished(&mut self, done: Finished) {
        self.runs.remove(&done.id);
        if let Some(at) = done.ok_at {
            self.state.succeeded(&done.job, at);
            self.save_state();
        }
        if let (None, Some((ev, attempt))) = (done.ok_at, done.event)
            && let Some(slot) = self.jobs.get_mut(&done.job)
        {
            if attempt < EVENT_ATTEMPTS {
                tracing::warn!(job = %done.job, event = ev.kind, key = %ev.key, attempt, "handler failed; retrying");
                self.metrics.tick_not_run(&done.job, "retried");
                slot.events.push_front((ev, attempt + 1));
            } else {
                tracing::error!(job = %done.job, event = ev.kind, key = %ev.key, attempts = attempt, "handler failed on every attempt; event dropped");
                self.metrics.tick_not_run(&done.job, "dropped");
            }
        }
        let idle = !self.runs.values().any(|r| r.job == done.job);
        let Some(slot) = self.jobs.get_mut(&done.job).filter(|_| idle) else {
            return;
        };
        if let Some(tick) = slot.queued.pop_front() {
            self.start(&done.job, tick);
        } else if let Some(ev) = slot.events.pop_front() {
            self.start_run(&done.job, self.clock.now(), Some(ev));
        }
    }

    /// Hands each event to the `on:` jobs it is for, under their overlap
    /// policy and the leader gate, as a tick would be.
    fn events(&mut self, evs: Vec<Event>) {
        for ev in evs {
            let targets: Vec<String> = self
                .jobs
                .iter()
                .filter(|(_, s)| match (s.def.header.on, ev.remaining) {
                    (Some(EventTrigger::TokenExpiring(window)), Some(left)) => {
                        ev.kind == "token-expiring"
                            && left <= window
                            && !s.notified.contains(&ev.key)
                    }
                    (Some(on), _) => on.kind() == ev.kind && ev.kind != "token-expiring",
                    (None, _) => false,
                })
                .map(|(n, _)| n.clone())
                .collect();
            for name in targets {
                self.deliver(&name, ev.clone());
            }
        }
    }

    fn deliver(&mut self, name: &str, ev: Event) {
        if self.leadership.as_ref().is_some_and(|l| !l.is_leader()) {
            tracing::debug!(job = %name, event = ev.kind, result = "follower", "event not handled: another replica leads");
            self.metrics.tick_not_run(name, "follower");
            return;
        }
        let now = self.clock.now();
        let running: Vec<&InFlight> = self.runs.values().filter(|r| r.job == name).collect();
        let Some(slot) = self.jobs.get_mut(name) else {
            return;
        };
        if ev.kind == "token-expiring" {
            slot.notified.insert(ev.key.clone());
        }
        if running.is_empty() {
            self.start_run(name, now, Some((ev, 1)));
            return;
        }
        match slot.def.header.overlap {
            Overlap::Skip => {
                tracing::warn!(job = %name, event = ev.kind, key = %ev.key, result = "skipped", "event skipped: the previous run is still going (overlap: skip)");
                self.metrics.tick_not_run(name, "skipped");
            }
            Overlap::Queue
                if slot
                    .events
                    .iter()
                    .any(|(e, _)| e.key == ev.key && e.kind == ev.kind) =>
            {
                self.metrics.tick_not_run(name, "coalesced");
            }
            Overlap::Queue if slot.events.len() < MAX_QUEUED_EVENTS => {
                slot.events.push_back((ev, 1));
                self.metrics.tick_not_run(name, "queued");
            }
            Overlap::Queue => {
                tracing::warn!(job = %name, event = ev.kind, key = %ev.key, result = "dropped", "event dropped: {MAX_QUEUED_EVENTS} events already queued (overlap: queue)");
                self.metrics.tick_not_run(name, "dropped");
            }
            Overlap::Replace => {
                for r in running {
                    r.stop.stop(StopReason::Replaced);
                }
                self.start_run(name, now, Some((ev, 1)));
            }
        }
    }

    /// Applies the set of loaded scripts.
    fn load(&mut self, defs: Vec<JobDefinition<E::Job>>) {
        let now = self.clock.now();
        let startup = !self.loaded_once;
        self.loaded_once = true;
        let names: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
        let removed: Vec<String> = self
            .jobs
            .keys()
            .filter(|k| !names.contains(k))
            .cloned()
            .collect();
        for name in removed {
            self.jobs.remove(&name);
            self.metrics.set_next_run(&name, None);
            tracing::info!(job = %name, "job removed (runs in progress finish)");
        }
        let mut late_runs = Vec::new();
        for def in defs {
            let name = def.name.clone();
            if let Some(slot) = self.jobs.get(&name) {
                let same = slot.def.header.schedule == def.header.schedule
                    && slot.def.header.timezone == def.header.timezone;
                // Unchanged: keep the pending tick, so a reload never runs
                // one twice nor drops one. Changed: the new schedule starts now.
                let next = (!same).then(|| self.schedule_next(&def, now));
                if !same {
                    tracing::info!(job = %name, schedule = %describe(&def.header), "schedule changed");
                    if def.header.schedule.is_some() {
                        self.state.checked(&name, now);
                    }
                }
                if let Some(slot) = self.jobs.get_mut(&name) {
                    slot.def = def;
                    if let Some(next) = next {
                        slot.next = next;
                    }
                }
                continue;
            }
            if startup && let Some(tick) = self.catch_up(&def, now) {
                late_runs.push((name.clone(), tick));
            }
            let next = self.schedule_next(&def, now);
            tracing::info!(job = %name, schedule = %describe(&def.header), next = %next.as_ref().map_or_else(|| "none".to_owned(), |p| p.fire_at.to_string()), "job loaded");
            if let Some(r) = self.state.get(&name).and_then(|r| r.last_success) {
                self.metrics.set_last_success(&name, r);
            }
            if def.header.schedule.is_some() {
                self.state.checked(&name, now);
            }
            self.jobs.insert(
                name,
                Slot {
                    def,
                    next,
                    queued: VecDeque::new(),
                    events: VecDeque::new(),
                    notified: std::collections::BTreeSet::new(),
                },
            );
        }
        self.save_state();
        for (name, tick) in late_runs {
            self.tick(&name, tick);
        }
    }

    /// At start: the tick to run late, if one passed while down within the
    /// job's starting deadline; every other passed tick is logged and counted.
    fn catch_up(&self, def: &JobDefinition<E::Job>, now: Timestamp) -> Option<Timestamp> {
        let spec = def.header.schedule.as_ref()?;
        let record = self.state.get(&def.name)?;
        let c = catch_up(
            spec,
            def.header.timezone,
            record.checked_through,
            now,
            def.header.starting_deadline,
        );
        if c.missed() > 0 {
            let why = match def.header.starting_deadline {
                None => "the script has no starting-deadline".to_owned(),
                Some(d) if c.run.is_none() => format!("older than its starting-deadline of {d:?}"),
                Some(_) => "only the latest missed tick runs".to_owned(),
            };
            tracing::warn!(
                job = %def.name,
                missed = c.missed(),
                latest = %c.latest.map_or_else(|| "none".to_owned(), |t| t.to_string()),
                "ticks missed while the daemon was down were not run: {why}"
            );
            self.metrics.missed(&def.name, u64::from(c.missed()));
        }
        if let Some(tick) = c.run {
            tracing::info!(job = %def.name, tick = %tick, "running a tick missed while the daemon was down (within its starting-deadline)");
        }
        c.run
    }

    async fn shutdown(&mut self, done_rx: &mut mpsc::UnboundedReceiver<Finished>) {
        for slot in self.jobs.values_mut() {
            slot.next = None;
            slot.queued.clear();
            slot.events.clear();
        }
        if !self.runs.is_empty() {
            tracing::info!(running = self.runs.len(), grace = ?self.grace, "stopping: waiting for runs in progress");
            self.drain(done_rx, self.grace).await;
        }
        if !self.runs.is_empty() {
            let jobs: Vec<&str> = self.runs.values().map(|r| r.job.as_str()).collect();
            tracing::warn!(jobs = %jobs.join(", "), "grace period over: cancelling runs still in progress");
            for r in self.runs.values() {
                r.stop.stop(StopReason::Shutdown);
            }
            self.drain(done_rx, CANCEL_WAIT).await;
        }
        self.save_state();
        tracing::info!("scheduler stopped");
    }

    async fn drain(&mut self, done_rx: &mut mpsc::UnboundedReceiver<Finished>, limit: Duration) {
        let deadline = tokio::time::sleep(limit);
        tokio::pin!(deadline);
        while !self.runs.is_empty() {
            tokio::select! {
                Some(done) = done_rx.recv() => {
                    self.runs.remove(&done.id);
                    if let Some(at) = done.ok_at {
                        self.state.succeeded(&done.job, at);
                    }
                }
                () = &mut deadline => break,
            }
        }
    }

    fn save_state(&self) {
        if let Err(e) = self.state.save() {
            tracing::warn!(error = %e, "could not persist job state; missed-tick detection after a restart may be off");
        }
    }
}

fn describe(h: &ScriptHeader) -> String {
    match (&h.schedule, h.on) {
        (Some(s), _) => format!("{s} ({})", h.timezone.name()),
        (None, Some(on)) => format!("on {on}"),
        (None, None) => "none (import only)".to_owned(),
    }
}
