//! Jobs that run once per kubeconfig context (`//! contexts: a, b`,
//! `//! contexts: *`, `watch --contexts/--all-contexts`).
//!
//! Each context is a member with its own scheduler, so a job's overlap,
//! timeout and queue are per context: a slow or failing cluster never holds
//! up another's run of the same job. A member also has its own client, job
//! state file, leader election (with `--leader-elect`) and metrics labelled
//! `context="<name>"`. Members start when a loaded job first needs them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::cluster::Cluster;
use crate::cluster::leader::Leadership;
use crate::schedule::JobExecutor;
use crate::schedule::ScriptHeader;
use crate::schedule::clock::SystemClock;
use crate::schedule::metrics::Metrics;
use crate::schedule::runner::{Command, JobDefinition, Scheduler};
use crate::schedule::state::StateStore;

/// What the daemon needs to run one context's jobs.
pub struct Member<E: JobExecutor> {
    /// Runs jobs against this context's cluster.
    pub executor: Arc<E>,
    /// With `--leader-elect`: this context's own Lease.
    pub leadership: Option<Leadership>,
    /// Where this context's `on:` events come from.
    pub cluster: Option<Cluster>,
    /// Ends the member's leader election (releasing its Lease).
    pub release: Option<BoxFuture<'static, ()>>,
}

/// Starts the member for a context (connects, starts its election).
pub type StartMember<E> =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Member<E>, String>> + Send + Sync>;

/// Which contexts there are, and where a job without `contexts:` runs.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The kubeconfig's contexts, in its order; without a kubeconfig file
    /// (`--dev`, in a pod) why not, and `contexts:` is refused with it.
    pub known: Result<Vec<String>, String>,
    /// `watch --contexts/--all-contexts`: the contexts of a job without its
    /// own `contexts:` line. `None`: such a job runs on the daemon's cluster.
    pub default: Option<Vec<String>>,
}

impl Default for Targets {
    fn default() -> Self {
        Self {
            known: Err("this daemon runs without kubeconfig contexts".to_owned()),
            default: None,
        }
    }
}

impl Targets {
    /// The contexts `header`'s job runs in; `None` is the daemon's own
    /// cluster. An error is the script's load error.
    pub fn of(&self, header: &ScriptHeader) -> Result<Option<Vec<String>>, String> {
        match (&header.contexts, &self.known) {
            (None, _) => Ok(self.default.clone()),
            (Some(_), Err(why)) => Err(format!(
                "`contexts:` needs a kubeconfig file that names the contexts: {why}"
            )),
            (Some(c), Ok(known)) => c.resolve(known).map(Some),
        }
    }
}

/// The per-context jobs' part of a daemon.
pub struct Fleet<E: JobExecutor> {
    pub targets: Targets,
    pub start: StartMember<E>,
}

struct Running<J> {
    commands: mpsc::Sender<Command<J>>,
    scheduler: JoinHandle<()>,
    events: Option<JoinHandle<()>>,
    cluster: Option<Cluster>,
    metrics: Metrics,
    release: Option<BoxFuture<'static, ()>>,
}

/// The members started so far.
pub struct Members<E: JobExecutor> {
    fleet: Option<Fleet<E>>,
    running: BTreeMap<String, Running<E::Job>>,
    state_dir: Option<PathBuf>,
    metrics: Metrics,
    grace: Duration,
}

impl<E: JobExecutor> Members<E> {
    pub fn new(
        fleet: Option<Fleet<E>>,
        state_dir: Option<PathBuf>,
        metrics: Metrics,
        grace: Duration,
    ) -> Self {
        Self {
            fleet,
            running: BTreeMap::new(),
            state_dir,
            metrics,
            grace,
        }
    }

    pub fn targets(&self) -> Targets {
        self.fleet
            .as_ref()
            .map(|f| f.targets.clone())
            .unwrap_or_default()
    }

    /// Hands every member its jobs (none to a member no job needs any
    /// more), starting the members first needed; returns the jobs that run
    /// on the daemon's own cluster.
    pub async fn load(&mut self, defs: Vec<JobDefinition<E::Job>>) -> Vec<JobDefinition<E::Job>> {
        let targets = self.targets();
        let mut plain = Vec::new();
        let mut per: BTreeMap<String, Vec<JobDefinition<E::Job>>> = BTreeMap::new();
        for def in defs {
            match targets.of(&def.header) {
                Ok(None) => plain.push(def),
                Ok(Some(contexts)) => {
                    for c in contexts {
                        per.entry(c).or_default().push(def.clone());
                    }
                }
                // The loader refused it already; not reached.
                Err(e) => tracing::warn!(job = %def.name, error = %e, "job not scheduled"),
            }
        }
        for name in self.running.keys() {
            per.entry(name.clone()).or_default();
        }
        for (context, defs) in per {
            if !self.running.contains_key(&context) {
                if defs.is_empty() {
                    continue;
                }
                match self.start(&context).await {
                    Ok(r) => {
                        self.running.insert(context.clone(), r);
                    }
                    Err(e) => {
                        let jobs: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
                        tracing::error!(context = %context, jobs = %jobs.join(", "), error = %e, "cannot start the context; its jobs are not scheduled");
                        continue;
                    }
                }
            }
            let Some(r) = self.running.get_mut(&context) else {
                continue;
            };
            if r.events.is_none()
                && defs.iter().any(|d| d.header.on.is_some())
                && let Some(cluster) = r.cluster.clone()
            {
                let source = super::events::run(cluster, r.commands.clone(), r.metrics.clone());
                r.events = Some(tokio::spawn(source.instrument(span(&context))));
            }
            if r.commands.send(Command::Load(defs)).await.is_err() {
                tracing::error!(context = %context, "the context's scheduler stopped");
            }
        }
        plain
    }

    async fn start(&self, context: &str) -> Result<Running<E::Job>, String> {
        let fleet = self
            .fleet
            .as_ref()
            .ok_or("no kubeconfig contexts in this daemon")?;
        let member = (fleet.start)(context.to_owned()).await?;
        let state = match &self.state_dir {
            Some(dir) => {
                let (store, problem) =
                    StateStore::open(&dir.join("contexts").join(file_name(context)));
                if let Some(e) = problem {
                    tracing::warn!(context = %context, error = %e, "job state");
                }
                store
            }
            None => StateStore::in_memory(),
        };
        let metrics = self.metrics.for_context(context);
        let mut scheduler = Scheduler::new(
            member.executor,
            Arc::new(SystemClock),
            state,
            metrics.clone(),
            self.grace,
        );
        if let Some(l) = member.leadership {
            scheduler = scheduler.with_leadership(l);
        }
        let (commands, rx) = mpsc::channel(4);
        let scheduler = tokio::spawn(scheduler.run(rx).instrument(span(context)));
        tracing::info!(context = %context, "context started");
        Ok(Running {
            commands,
            scheduler,
            events: None,
            cluster: member.cluster,
            metrics,
            release: member.release,
        })
    }

    /// Stops every member: each lets its runs finish within the grace
    /// period (all at once, not one after another), then releases its Lease.
    pub async fn shutdown(self) {
        let stops = self.running.into_iter().map(|(context, r)| async move {
            if let Some(e) = r.events {
                e.abort();
            }
            let _ = r.commands.send(Command::Shutdown).await;
            if let Err(e) = r.scheduler.await {
                tracing::error!(context = %context, error = %e, "the context's scheduler task failed");
            }
            if let Some(release) = r.release {
                let _ = tokio::time::timeout(Duration::from_secs(5), release).await;
            }
        });
        futures::future::join_all(stops).await;
    }
}

/// Every log line of a member's jobs carries its context.
fn span(context: &str) -> tracing::Span {
    tracing::info_span!("context", context = %context)
}

/// A context name as one safe file name: `[A-Za-z0-9_-]` kept, every other
/// byte (`/`, `:`, `.`) as `%XX`, so two names never share a file.
pub fn file_name(context: &str) -> String {
    let mut out = String::with_capacity(context.len());
    for b in context.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Lease a context's leader election uses: `<base>-<context>`, made a
/// valid object name; a name that had to change gets a hash of the original
/// so that two contexts never share a Lease.
pub fn lease_name(base: &str, context: &str) -> String {
    let clean: String = context
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect();
    let clean = clean.trim_matches('-');
    let mut name = format!("{base}-{clean}");
    if clean != context {
        // FNV-1a: stable across builds and platforms, unlike `DefaultHasher`.
        let hash = context.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        name = format!("{name}-{hash:08x}");
    }
    name.truncate(253);
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::header::Contexts;

    #[test]
    fn a_job_runs_where_its_header_or_the_daemon_says() {
        let known = vec!["east".to_owned(), "west".to_owned()];
        let t = Targets {
            known: Ok(known.clone()),
            default: None,
        };
        let mut h = ScriptHeader::default();
        assert_eq!(t.of(&h), Ok(None));
        h.contexts = Some(Contexts::All);
        assert_eq!(t.of(&h), Ok(Some(known.clone())));
        h.contexts = Some(Contexts::Named(vec!["south".into()]));
        assert!(t.of(&h).unwrap_err().contains("\"south\" is not in"));
        let t = Targets {
            known: Ok(known),
            default: Some(vec!["west".into()]),
        };
        assert_eq!(
            t.of(&ScriptHeader::default()),
            Ok(Some(vec!["west".into()]))
        );
        h.contexts = Some(Contexts::Named(vec!["east".into()]));
        assert_eq!(t.of(&h), Ok(Some(vec!["east".into()])), "the header wins");
        let none = Targets::default();
        assert!(none.of(&h).unwrap_err().contains("needs a kubeconfig file"));
        assert_eq!(none.of(&ScriptHeader::default()), Ok(None));
    }

    #[test]
    fn context_names_become_distinct_file_and_lease_names() {
        assert_eq!(file_name("east"), "east");
        assert_eq!(
            file_name("arn:aws:eks/prod.1"),
            "arn%3Aaws%3Aeks%2Fprod%2E1"
        );
        assert_eq!(file_name(".."), "%2E%2E");
        assert_eq!(
            lease_name("tokensmith-watch", "east"),
            "tokensmith-watch-east"
        );
        let a = lease_name("tokensmith-watch", "East");
        let b = lease_name("tokensmith-watch", "EAST");
        assert!(a.starts_with("tokensmith-watch-east-"), "{a}");
        assert_ne!(a, b);
        assert_ne!(a, "tokensmith-watch-east");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{a}"
        );
    }
}
