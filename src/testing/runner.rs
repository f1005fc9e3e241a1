//! The whole run: discover, filter, run the cases on up to `jobs` threads,
//! print each result in discovery order as soon as it and those before it
//! are done, then the failures and the summary.

use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::script::{ScriptHost, ScriptOptions};

use super::case::{Case, run_case};
use super::discover;
use super::report::{self, Finished, Format, Summary};

pub struct RunOptions {
    /// Files and directories; empty for `.` and `tests/`.
    pub paths: Vec<PathBuf>,
    /// Run only tests whose `file::test` name contains this.
    pub filter: Option<String>,
    pub format: Format,
    /// Also write JUnit XML here.
    pub junit: Option<PathBuf>,
    /// Sandbox limits and allowances, applied to each test.
    pub script: ScriptOptions,
    /// Tests run at once.
    pub jobs: usize,
}

/// Runs the tests, writing the report to `out`. An error is a run that
/// could not happen at all (a missing path, no test files).
pub fn run(opts: &RunOptions, out: &mut dyn Write) -> Result<Summary, String> {
    let started = Instant::now();
    let files = discover::files(&opts.paths)?;
    if files.is_empty() {
        let where_ = if opts.paths.is_empty() {
            ". and tests/".to_owned()
        } else {
            opts.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!("no *{} files in {where_}", discover::SUFFIX));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.jobs.max(2))
        .thread_name("tokensmith-test-io")
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let compiler = ScriptHost::for_tests(None, opts.script.clone(), None);
    let mut cases: Vec<Case> = files
        .iter()
        .flat_map(|f| discover::cases(&compiler, f))
        .collect();
    let total = cases.len();
    if let Some(filter) = &opts.filter {
        cases.retain(|c| c.full_name().contains(filter.as_str()));
    }
    let filtered_out = total - cases.len();
    let write = |out: &mut dyn Write, text: String| {
        // A closed pipe (`| head`) only ends the report early.
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    };
    write(out, report::start(opts.format, cases.len()));

    let cases: Arc<Vec<Case>> = Arc::new(cases);
    let queue = Arc::new(Mutex::new((0..cases.len()).collect::<VecDeque<usize>>()));
    let (tx, rx) = std::sync::mpsc::channel();
    let workers: Vec<_> = (0..opts.jobs.max(1).min(cases.len().max(1)))
        .map(|_| {
            let (cases, queue, tx) = (cases.clone(), queue.clone(), tx.clone());
            let (handle, script) = (rt.handle().clone(), opts.script.clone());
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(i) = next else { return };
                    let outcome = run_case(&handle, &script, &cases[i]);
                    if tx.send((i, outcome)).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    drop(tx);

    let mut pending: Vec<Option<Finished>> = (0..cases.len()).map(|_| None).collect();
    let mut results: Vec<Finished> = Vec::with_capacity(cases.len());
    for (i, outcome) in rx {
        let c = &cases[i];
        pending[i] = Some(Finished {
            name: c.full_name(),
            file: c.file.display.clone(),
            test: c.name.clone(),
            outcome,
        });
        while let Some(Some(f)) = pending.get_mut(results.len()).map(Option::take) {
            write(out, report::result(opts.format, results.len(), &f));
            results.push(f);
        }
    }
    for w in workers {
        let _ = w.join();
    }
    let took = started.elapsed();
    let summary = Summary::of(&results, filtered_out);
    write(out, report::finish(opts.format, &results, summary, took));
    if let Some(path) = &opts.junit {
        std::fs::write(path, report::junit(&results, took))
            .map_err(|e| format!("cannot write the JUnit report to {}: {e}", path.display()))?;
    }
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(summary)
}
