//! `tokensmith test` through the built binary: the stock scripts' tests pass,
//! and deliberately failing files are reported the way the docs say (one
//! line per test, file:line:col with a caret and both values, secrets
//! hidden, a summary, exit 1), while the other tests still run.

mod support;

use std::path::{Path, PathBuf};

fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = support::tokensmith()
        .current_dir(dir)
        .arg("test")
        .args(args)
        .output()
        .expect("run tokensmith test");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const MIXED: &str = r#"fn test_passes() {
    assert_eq(1 + 1, 2);
}

fn test_compares() {
    let n = token::list().len();
    assert_eq(n, 2, "two tokens");
}

fn test_loops_forever() {
    loop { }
}

fn test_throws() {
    throw "on purpose";
}

fn test_hides_secrets() {
    let t = token::create(#{ ttl: "1h" });
    print(`made ${t.value}`);
    assert_eq(t.secret, "x");
}

fn test_expiry_follows_the_clock() {
    let t = token::create(#{ ttl: "1h" });
    let u = token::create(#{ ttl: "2h" });
    clock::advance("61m");
    assert(t.expired);
    assert_eq(token::get(t.id), ());
    // Expiry queries read the test's clock too: 59m are left on u.
    assert(u.expires_within("1h"));
    assert(!u.expires_within("30m"));
    assert_eq(token::list(#{ expiring_within: "1h" }).len(), 1);
    let left = u.to_map().ttl;
    assert(left > duration("58m") && left <= duration("59m"));
}
"#;

fn mixed_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("mixed_test.rhai"), MIXED).expect("write");
    std::fs::write(
        dir.path().join("broken_test.rhai"),
        "fn test_x() {\n    let = 1;\n}\n",
    )
    .expect("write");
    // Not a test file: never run.
    std::fs::write(dir.path().join("helper.rhai"), "throw 1;").expect("write");
    dir
}

#[test]
fn the_stock_scripts_tests_pass() {
    let (code, out, err) = run_in(&scripts_dir(), &["."]);
    assert_eq!(code, 0, "{out}\n{err}");
    for file in ["rotate_test.rhai", "prune_test.rhai", "report_test.rhai"] {
        assert!(
            out.contains(&format!("test {file}::test_")),
            "{file} ran:\n{out}"
        );
    }
    assert!(!out.contains("FAILED"), "{out}");
    assert!(out.contains(" 0 failed;"), "{out}");
}

#[test]
fn failures_are_reported_with_location_values_and_a_summary() {
    let dir = mixed_dir();
    let (code, out, err) = run_in(dir.path(), &["--max-operations", "200000"]);
    assert_eq!(code, 1, "{out}\n{err}");
    for line in [
        "test mixed_test.rhai::test_passes ... ok",
        "test mixed_test.rhai::test_compares ... FAILED",
        "test mixed_test.rhai::test_loops_forever ... FAILED",
        "test mixed_test.rhai::test_throws ... FAILED",
        "test mixed_test.rhai::test_expiry_follows_the_clock ... ok",
        "test broken_test.rhai ... FAILED",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    let compares = "mixed_test.rhai:7:5: assertion `left == right` failed: two tokens\n 7 |     assert_eq(n, 2, \"two tokens\");\n   |     ^\n  left: 0\n right: 2";
    assert!(out.contains(compares), "{out}");
    assert!(
        out.contains("mixed_test.rhai:15:5: uncaught exception: on purpose"),
        "{out}"
    );
    assert!(out.contains("too many operations"), "{out}");
    assert!(out.contains("broken_test.rhai:2:9:"), "{out}");
    assert!(
        out.contains("test result: FAILED. 2 passed, 5 failed; 0 filtered out"),
        "{out}"
    );
    assert!(err.contains("5 of 7 tests failed"), "{err}");
    assert!(!out.contains("helper.rhai"), "{out}");
}

#[test]
fn secrets_never_reach_the_report() {
    let dir = mixed_dir();
    let (_, out, _) = run_in(dir.path(), &["--filter", "hides_secrets"]);
    assert!(out.contains("left: \"****************\""), "{out}");
    assert!(out.contains("made "), "the print is shown: {out}");
    let token_shaped = out.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '.');
        w.len() == 23 && w.as_bytes()[6] == b'.' && !w.contains('*')
    });
    assert!(!token_shaped, "a whole token in:\n{out}");
}

#[test]
fn filter_tap_and_junit() {
    let dir = mixed_dir();
    let junit = dir.path().join("report.xml");
    let junit_arg = junit.display().to_string();
    let (code, out, err) = run_in(
        dir.path(),
        &[
            "mixed_test.rhai",
            "--filter",
            "test_pass",
            "--tap",
            "--junit",
            &junit_arg,
        ],
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.starts_with("TAP version 14\n1..1\nok 1 - mixed_test.rhai::test_passes\n"),
        "{out}"
    );
    assert!(
        out.contains("# 1 passed, 0 failed; 5 filtered out"),
        "{out}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("<testsuites name=\"tokensmith test\" tests=\"1\" failures=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"test_passes\" classname=\"mixed_test.rhai\""),
        "{xml}"
    );

    let (code, out, _) = run_in(
        dir.path(),
        &["mixed_test.rhai", "--filter", "throws", "--tap"],
    );
    assert_eq!(code, 1);
    assert!(out.contains("not ok 1 - mixed_test.rhai::test_throws\n  ---\n  message: \"mixed_test.rhai:15:5: uncaught exception: on purpose\""), "{out}");
}

#[test]
fn nothing_to_run_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (code, _, err) = run_in(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no *_test.rhai files in . and tests/"),
        "{err}"
    );
    let (code, _, err) = run_in(dir.path(), &["missing_test.rhai"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("missing_test.rhai: No such file or directory"),
        "{err}"
    );
}
