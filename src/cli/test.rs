//! `tokensmith test [PATH…]`: run the `fn test_*()` functions of
//! `*_test.rhai` files, each against a fresh in-process dev cluster.

use std::path::PathBuf;

use super::run::SandboxArgs;
use super::{Failure, GlobalArgs};
use crate::testing::report::Format;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test files, or directories whose `*_test.rhai` files to run (not
    /// recursively). Default: `.` and `tests/`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Run only the tests whose name (`file::test_name`) contains this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,

    /// Also write the results as JUnit XML to FILE, for CI systems.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Print the results as TAP (version 14) instead of cargo-test-style lines.
    #[arg(long)]
    pub tap: bool,

    /// Tests to run at once (default: the number of CPU cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,

    /// Limits apply to each test on its own.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn run(global: &GlobalArgs, args: TestArgs) -> Result<(), Failure> {
    if global.dev || global.kubeconfig.is_some() || global.context.is_some() {
        return Err(Failure::new(
            2,
            "tokensmith test runs every test against its own dev cluster: --dev, --kubeconfig and --context do not apply",
        ));
    }
    let mut script = args.sandbox.options(global);
    script.echo_print = false;
    let jobs = args.jobs.filter(|n| *n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    quiet_test_panics();
    let opts = crate::testing::RunOptions {
        paths: args.paths,
        filter: args.filter,
        format: if args.tap { Format::Tap } else { Format::Human },
        junit: args.junit,
        script,
        jobs,
    };
    let summary = crate::testing::run(&opts, &mut std::io::stdout().lock())
        .map_err(|e| Failure::new(2, e))?;
    if summary.failed == 0 {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            format!(
                "{} of {} tests failed",
                summary.failed,
                summary.failed + summary.passed
            ),
        ))
    }
}

/// A panic on a test's thread is that test's failure and is reported with
/// it; the default hook would also spray it over stderr mid-report.
fn quiet_test_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some(crate::testing::case::TEST_THREAD) {
            default(info);
        }
    }));
}
