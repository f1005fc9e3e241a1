//! What the daemon counts, and its Prometheus text exposition (format 0.0.4).
//! Hand-written: a dozen series do not justify a metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;

/// Upper bounds (seconds) of the run-duration histogram.
const BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One job's series: its name, and its context for a job that runs once per
/// kubeconfig context (`contexts:`); a single-context job has no context label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct JobKey {
    job: String,
    context: Option<Arc<str>>,
}

impl JobKey {
    /// The label pairs, `job="x"` or `job="x",context="c"`.
    fn labels(&self, name: &str) -> String {
        match &self.context {
            None => format!("{name}=\"{}\"", esc(&self.job)),
            Some(c) => format!("{name}=\"{}\",context=\"{}\"", esc(&self.job), esc(c)),
        }
    }
}

#[derive(Debug, Default)]
struct Registry {
    runs: BTreeMap<(JobKey, &'static str), u64>,
    durations: BTreeMap<JobKey, Histogram>,
    running: BTreeMap<JobKey, u64>,
    last_success: BTreeMap<JobKey, Timestamp>,
    next_run: BTreeMap<JobKey, Timestamp>,
    missed: BTreeMap<JobKey, u64>,
    load_errors: BTreeMap<String, u64>,
    load_failing: BTreeMap<String, bool>,
    reloads: u64,
    /// Joins per token id (labelled `token_id`, and `context` for a
    /// per-context daemon), from the CSRs made with it.
    token_uses: BTreeMap<JobKey, u64>,
    scripts_loaded: u64,
    directory_up: bool,
}

/// Shared, cheap to clone; every method takes the lock briefly. A view made
/// with [`Metrics::for_context`] shares the registry and labels what it
/// records with that context.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Mutex<Registry>>,
    context: Option<Arc<str>>,
}

impl Metrics {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding this lock cannot leave counters inconsistent
        // in a way that matters more than losing metrics, so keep going.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The same registry; job and token series recorded through the view
    /// carry `context="<name>"`.
    pub fn for_context(&self, context: &str) -> Metrics {
        Metrics {
            inner: self.inner.clone(),
            context: Some(context.into()),
        }
    }

    fn key(&self, job: &str) -> JobKey {
        JobKey {
            job: job.to_owned(),
            context: self.context.clone(),
        }
    }

    pub fn run_started(&self, job: &str) {
        *self.lock().running.entry(self.key(job)).or_default() += 1;
    }

    /// A run finished (`result` is ok, error, timeout, cancelled or panic).
    pub fn run_finished(&self, job: &str, result: &'static str, seconds: f64, at: Timestamp) {
        let key = self.key(job);
        let mut r = self.lock();
        if let Some(n) = r.running.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        *r.runs.entry((key.clone(), result)).or_default() += 1;
        let h = r.durations.entry(key.clone()).or_default();
        h.count += 1;
        h.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        if result == "ok" {
            r.last_success.insert(key, at);
        }
    }

    /// A tick that did not start a run (`skipped`, `queued`, `dropped`).
    pub fn tick_not_run(&self, job: &str, result: &'static str) {
        *self.lock().runs.entry((self.key(job), result)).or_default() += 1;
    }

    /// A token's joins so far (its bootstrap CSRs). Only grows: a CSR
    /// garbage-collected later does not undo a use.
    pub fn set_token_uses(&self, token_id: &str, n: u64) {
        let mut r = self.lock();
        let e = r.token_uses.entry(self.key(token_id)).or_default();
        *e = (*e).max(n);
    }

    pub fn missed(&self, job: &str, n: u64) {
        *self.lock().missed.entry(self.key(job)).or_default() += n;
    }

    pub fn set_last_success(&self, job: &str, at: Timestamp) {
        self.lock().last_success.entry(self.key(job)).or_insert(at);
    }

    pub fn set_next_run(&self, job: &str, at: Option<Timestamp>) {
        let key = self.key(job);
        let mut r = self.lock();
        match at {
            Some(at) => r.next_run.insert(key, at),
            None => r.next_run.remove(&key),
        };
    }

    pub fn script_failed_to_load(&self, script: &str) {
        let mut r = self.lock();
        *r.load_errors.entry(script.to_owned()).or_default() += 1;
        r.load_failing.insert(script.to_owned(), true);
    }

    pub fn script_loaded(&self, script: &str) {
        self.lock().load_failing.insert(script.to_owned(), false);
    }

    pub fn script_removed(&self, script: &str) {
        let mut r = self.lock();
        r.load_failing.remove(script);
        let key = self.key(script);
        r.next_run.remove(&key);
    }

    pub fn reloaded(&self, scripts_loaded: usize, directory_up: bool) {
        let mut r = self.lock();
        r.reloads += 1;
        r.scripts_loaded = scripts_loaded as u64;
        r.directory_up = directory_up;
    }

    /// Counts of `job`'s finished runs with `result`, for tests and logs.
    pub fn runs(&self, job: &str, result: &str) -> u64 {
        self.lock()
            .runs
            .iter()
            .filter(|((k, r), _)| k.job == job && k.context == self.context && *r == result)
            .map(|(_, n)| *n)
            .sum()
    }

    pub fn missed_count(&self, job: &str) -> u64 {
        self.lock().missed.get(&self.key(job)).copied().unwrap_or(0)
    }

    pub fn next_run(&self, job: &str) -> Option<Timestamp> {
        self.lock().next_run.get(&self.key(job)).copied()
    }

    /// Appends the Prometheus text exposition of every series.
    pub fn render(&self, out: &mut String) {
        let r = self.lock();
        let secs = |t: &Timestamp| t.as_millisecond() as f64 / 1000.0;
        family(
            out,
            "tokensmith_job_runs_total",
            "counter",
            "Ticks handled, by job and result (ok, error, timeout, cancelled, panic, skipped, queued, dropped, follower).",
        );
        for ((job, result), n) in &r.runs {
            let _ = writeln!(
                out,
                "tokensmith_job_runs_total{{{},result=\"{result}\"}} {n}",
                job.labels("job")
            );
        }
        family(
            out,
            "tokensmith_job_run_duration_seconds",
            "histogram",
            "How long runs took.",
        );
        for (job, h) in &r.durations {
            let job = job.labels("job");
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "tokensmith_job_run_duration_seconds_bucket{{{job},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "tokensmith_job_run_duration_seconds_bucket{{{job},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "tokensmith_job_run_duration_seconds_sum{{{job}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "tokensmith_job_run_duration_seconds_count{{{job}}} {}",
                h.count
            );
        }
        family(out, "tokensmith_job_running", "gauge", "Runs in progress.");
        for (job, n) in &r.running {
            let _ = writeln!(out, "tokensmith_job_running{{{}}} {n}", job.labels("job"));
        }
        family(
            out,
            "tokensmith_job_last_success_timestamp_seconds",
            "gauge",
            "When the job last finished successfully (Unix time).",
        );
        for (job, t) in &r.last_success {
            let _ = writeln!(
                out,
                "tokensmith_job_last_success_timestamp_seconds{{{}}} {}",
                job.labels("job"),
                secs(t)
            );
        }
        family(
            out,
            "tokensmith_job_next_run_timestamp_seconds",
            "gauge",
            "When the job's next tick is due (Unix time).",
        );
        for (job, t) in &r.next_run {
            let _ = writeln!(
                out,
                "tokensmith_job_next_run_timestamp_seconds{{{}}} {}",
                job.labels("job"),
                secs(t)
            );
        }
        family(
            out,
            "tokensmith_token_uses_total",
            "counter",
            "Joins made with each bootstrap token: CSRs created as system:bootstrap:<token_id>.",
        );
        for (id, n) in &r.token_uses {
            let _ = writeln!(
                out,
                "tokensmith_token_uses_total{{{}}} {n}",
                id.labels("token_id")
            );
        }
        family(
            out,
            "tokensmith_job_missed_runs_total",
            "counter",
            "Ticks that passed while the daemon was down and were not run.",
        );
        for (job, n) in &r.missed {
            let _ = writeln!(
                out,
                "tokensmith_job_missed_runs_total{{{}}} {n}",
                job.labels("job")
            );
        }
        family(
            out,
            "tokensmith_script_load_errors_total",
            "counter",
            "Failed attempts to load a script (read, header or compile errors).",
        );
        for (script, n) in &r.load_errors {
            let _ = writeln!(
                out,
                "tokensmith_script_load_errors_total{{script=\"{}\"}} {n}",
                esc(script)
            );
        }
        family(
            out,
            "tokensmith_script_load_failing",
            "gauge",
            "1 while the script's current file fails to load (its last good version keeps running).",
        );
        for (script, failing) in &r.load_failing {
            let _ = writeln!(
                out,
                "tokensmith_script_load_failing{{script=\"{}\"}} {}",
                esc(script),
                u8::from(*failing)
            );
        }
        family(
            out,
            "tokensmith_reloads_total",
            "counter",
            "Rescans of the script directory.",
        );
        let _ = writeln!(out, "tokensmith_reloads_total {}", r.reloads);
        family(
            out,
            "tokensmith_scripts_loaded",
            "gauge",
            "Scripts currently loaded.",
        );
        let _ = writeln!(out, "tokensmith_scripts_loaded {}", r.scripts_loaded);
        family(
            out,
            "tokensmith_script_directory_up",
            "gauge",
            "1 when the script directory could be read at the last rescan.",
        );
        let _ = writeln!(
            out,
            "tokensmith_script_directory_up {}",
            u8::from(r.directory_up)
        );
    }
}

/// `# HELP` and `# TYPE` lines of one metric family.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value as the exposition format requires.
pub fn esc(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_view_labels_its_series_and_the_plain_one_stays_unlabelled() {
        let m = Metrics::default();
        let east = m.for_context("east");
        let at = Timestamp::UNIX_EPOCH;
        m.run_finished("rotate", "ok", 0.01, at);
        east.run_finished("rotate", "error", 0.2, at);
        east.tick_not_run("rotate", "skipped");
        east.set_token_uses("abcdef", 2);
        let mut out = String::new();
        m.render(&mut out);
        for want in [
            "tokensmith_job_runs_total{job=\"rotate\",result=\"ok\"} 1\n",
            "tokensmith_job_runs_total{job=\"rotate\",context=\"east\",result=\"error\"} 1\n",
            "tokensmith_job_runs_total{job=\"rotate\",context=\"east\",result=\"skipped\"} 1\n",
            "tokensmith_job_run_duration_seconds_count{job=\"rotate\",context=\"east\"} 1\n",
            "tokensmith_job_run_duration_seconds_bucket{job=\"rotate\",le=\"0.05\"} 1\n",
            "tokensmith_token_uses_total{token_id=\"abcdef\",context=\"east\"} 2\n",
        ] {
            assert!(out.contains(want), "{want}\n{out}");
        }
        assert_eq!(
            m.runs("rotate", "error"),
            0,
            "the plain view counts its own"
        );
        assert_eq!(east.runs("rotate", "error"), 1);
    }
}
