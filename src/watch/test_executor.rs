//! A stand-in executor for the daemon's own tests (hidden `--test-executor`):
//! it runs the daemon end to end without the Rhai engine or a cluster.
//!
//! A script's body, after its header, is one command per line (`//` lines and
//! blank lines are ignored):
//!
//! ```text
//! append /path/to/file some text    # appends "some text\n"
//! sleep 2s                          # Go duration; returns early when cancelled
//! fail some message                 # the run fails with this message
//! panic some message                # the run panics
//! ```
//!
//! Anything else is a compile error, which is how tests break a script.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::schedule::{JobExecutor, RunContext};
use crate::token::parse_go_duration;

#[derive(Debug, Clone)]
/// One command of a test script.
pub enum Step {
    Append(String, String),
    Sleep(Duration),
    Fail(String),
    Panic(String),
}

#[derive(Debug, Clone, Copy, Default)]
pub struct TestExecutor;

impl JobExecutor for TestExecutor {
    type Job = Arc<Vec<Step>>;

    fn compile(&self, path: &Path, source: &str) -> Result<Self::Job, String> {
        let mut steps = Vec::new();
        for (i, line) in source.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") || line.starts_with('#') {
                continue;
            }
            let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            steps.push(match cmd {
                "append" => {
                    let (path, text) = rest.split_once(' ').unwrap_or((rest, ""));
                    Step::Append(path.to_owned(), text.to_owned())
                }
                "sleep" => {
                    let at = |e: String| format!("{}:{}: {e}", path.display(), i + 1);
                    let d = parse_go_duration(rest).map_err(|e| at(e.to_string()))?;
                    Step::Sleep(Duration::try_from(d).map_err(|e| at(e.to_string()))?)
                }
                "fail" => Step::Fail(rest.to_owned()),
                "panic" => Step::Panic(rest.to_owned()),
                other => {
                    return Err(format!(
                        "{}:{}: unknown command {other:?} (test executor: append, sleep, fail, panic)",
                        path.display(),
                        i + 1
                    ));
                }
            });
        }
        Ok(Arc::new(steps))
    }

    fn run(&self, job: Self::Job, ctx: RunContext) -> BoxFuture<'static, Result<(), String>> {
        // Blocking, like the Rhai engine: exercises the same spawn_blocking path.
        async move {
            match tokio::task::spawn_blocking(move || run_steps(&job, &ctx)).await {
                Ok(r) => r,
                Err(e) => match e.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(e) => Err(format!("the run was aborted: {e}")),
                },
            }
        }
        .boxed()
    }
}

fn run_steps(steps: &[Step], ctx: &RunContext) -> Result<(), String> {
    for step in steps {
        if ctx.is_cancelled() {
            return Err("cancelled".to_owned());
        }
        match step {
            Step::Append(path, text) => {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("opening {path}: {e}"))?;
                writeln!(f, "{text}").map_err(|e| format!("writing {path}: {e}"))?;
            }
            Step::Sleep(d) => {
                let until = Instant::now() + *d;
                while Instant::now() < until {
                    if ctx.is_cancelled() {
                        return Err("cancelled during sleep".to_owned());
                    }
                    std::thread::sleep(Duration::from_millis(10).min(until - Instant::now()));
                }
            }
            Step::Fail(msg) => return Err(msg.clone()),
            Step::Panic(msg) => panic!("{msg}"),
        }
    }
    Ok(())
}
