//! Workflow scripts written from `docs/guide.md` and `docs/rhai-api.md` alone,
//! as a new user would (`tests/workflows/*.rhai`), run by the built binary
//! against the dev cluster. Each script checks what the docs promise and
//! throws on a mismatch, so a passing run is the docs holding.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::TestCluster;

fn workflow(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/workflows")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(c: &TestCluster, global: &[&str], name: &str) -> Output {
    let mut cmd = c.tokensmith();
    cmd.args(global).arg("run").arg(workflow(name));
    cmd.output().expect("run tokensmith")
}

fn ok(c: &TestCluster, global: &[&str], name: &str) -> String {
    let out = run(c, global, name);
    assert!(
        out.status.success(),
        "{name} failed:\n{}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

#[test]
fn the_api_workflows_hold_against_the_dev_cluster() {
    let c = TestCluster::start();
    for name in [
        "rotation_current.rhai",
        "prune_many.rhai",
        "report_json.rhai",
        "interpolation.rhai",
        "signing_only.rhai",
        "verify_report.rhai",
        "expiring.rhai",
        "time_math.rhai",
        "caught_errors.rhai",
        "delete_forms.rhai",
        "many.rhai",
        "pitfalls.rhai",
    ] {
        let stdout = ok(&c, &[], name);
        assert_eq!(stdout.trim_end(), "ok", "{name}: {stdout}");
    }
    let hello = ok(&c, &[], "hello.rhai");
    assert!(hello.starts_with("kubeadm join "), "{hello}");
    let ctx = ok(&c, &[], "context.rhai");
    assert!(ctx.starts_with("on ") && ctx.trim_end().len() > 3, "{ctx}");
}

#[test]
fn a_dry_run_says_what_it_would_do_and_still_fails_on_a_missing_token() {
    let c = TestCluster::start();
    c.reset_requests_blocking();
    let stdout = ok(&c, &["--dry-run"], "dry_run.rhai");
    assert!(
        stdout.contains("[dryrun] Would publish to stdout"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("kubeadm join"),
        "a dry run printed a join command: {stdout}"
    );
    let counts = c.counts_blocking();
    for verb in ["create", "update", "patch", "delete"] {
        assert_eq!(
            counts.get(verb),
            None,
            "{verb} sent in a dry run: {counts:?}"
        );
    }
}

#[test]
fn token_tables_print_for_empty_and_generated_results() {
    let c = TestCluster::start();
    let empty = ok(&c, &[], "empty_table.rhai");
    assert!(
        empty.starts_with("TOKEN") && empty.trim_end().lines().count() == 1,
        "{empty}"
    );
    let generated = ok(&c, &[], "generated_table.rhai");
    assert!(generated.contains("<not created>"), "{generated}");
}

#[test]
fn errors_point_into_the_module_and_closure_that_failed() {
    let c = TestCluster::start();
    let out = run(&c, &[], "broken_helper_user.rhai");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("helper.rhai:4:10: Function not found: hours_left (Duration)"),
        "{err}"
    );
    assert!(
        err.contains(" 4 |     left.hours_left()\n   |          ^"),
        "{err}"
    );
    assert!(err.contains("in fn check_ttl, called at "), "{err}");
    assert!(err.contains("broken_helper_user.rhai:3:4"), "{err}");

    let out = run(&c, &[], "closure_error.rhai");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("closure_error.rhai:2:29: Function not found: seconds (Duration)"),
        "{err}"
    );
    assert!(err.contains("in a closure, called at "), "{err}");
    assert!(err.contains("in fn pick, called at "), "{err}");
    assert!(err.contains("closure_error.rhai:5:1"), "{err}");
}

#[test]
fn a_polling_loop_runs_into_the_api_call_budget_and_a_try_does_not_hide_it() {
    let c = TestCluster::start();
    let out = c
        .tokensmith()
        .args(["run", "--max-api-calls", "25"])
        .arg(workflow("poll_forever.rhai"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("too many API calls: the script hit its API-call limit of 25 (raise it with --max-api-calls)"),
        "{err}"
    );
}

/// The workflows are what a user writes, so `check` must pass them all; the
/// ones that fail on purpose (to show where an error points) are the exception.
#[test]
fn every_workflow_passes_check() {
    let dir = workflow("");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/workflows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .filter(|p| {
            !p.ends_with("broken_helper_user.rhai")
                && !p.ends_with("helper.rhai")
                && !p.ends_with("closure_error.rhai")
        })
        .collect();
    paths.sort();
    let out = support::tokensmith()
        .arg("check")
        .args(&paths)
        .output()
        .expect("run tokensmith check");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(stdout.matches(": ok\n").count(), paths.len(), "{stdout}");
}
