//! Every class of bad script input through the built binary: a clear
//! diagnostic with the location, the documented exit code, never a panic.

mod support;

use std::path::{Path, PathBuf};

/// (exit code, stdout, stderr) of `tokensmith run <script> <extra…>`.
fn run(dir: &Path, name: &str, source: &[u8], extra: &[&str]) -> (i32, String, String) {
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write script");
    run_path(&path, extra)
}

fn run_path(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = support::tokensmith()
        .arg("run")
        .arg(path)
        .args(extra)
        .output()
        .expect("run tokensmith");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "tokensmith panicked: {err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn syntax_error_shows_location_line_and_caret() {
    let d = dir();
    let (code, out, err) = run(
        d.path(),
        "syntax.rhai",
        b"let a = 1;\nlet b = (a + ;\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(out, "");
    let path = d.path().join("syntax.rhai");
    assert!(
        err.starts_with(&format!("error: {}:2:", path.display())),
        "{err}"
    );
    assert!(err.contains("\n 2 | let b = (a + ;\n   |"), "{err}");
    assert!(err.trim_end().ends_with('^'), "{err}");
}

#[test]
fn unknown_function_fails_at_its_call() {
    let d = dir();
    let (code, _, err) = run(
        d.path(),
        "unknown.rhai",
        b"let x = 1;\nfrobnicate(x);\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("unknown.rhai:2:1: Function not found: frobnicate (int)"),
        "{err}"
    );
    assert!(err.contains(" 2 | frobnicate(x);\n   | ^"), "{err}");
}

#[test]
fn wrong_argument_types_name_the_types() {
    let d = dir();
    let (code, _, err) = run(d.path(), "types.rhai", b"duration(42)", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("types.rhai:1:1: Function not found: duration (int)"),
        "{err}"
    );
    let (code, _, err) = run(d.path(), "opts.rhai", b"token::create(#{ ttl: 5 })", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "token::create: ttl must be a duration string such as \"24h\" or a duration, got int"
        ),
        "{err}"
    );
}

#[test]
fn runaway_loop_is_stopped_by_the_default_limits() {
    let d = dir();
    let (code, _, err) = run(
        d.path(),
        "loop.rhai",
        b"let n = 0;\nloop { n += 1; }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("loop.rhai:2:"), "{err}");
    assert!(err.contains("too many operations"), "{err}");
}

#[test]
fn runaway_loop_is_stopped_by_the_timeout() {
    let d = dir();
    let (code, _, err) = run(
        d.path(),
        "spin.rhai",
        b"loop { }",
        &["--timeout", "300ms", "--max-operations", "0"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("the script ran past its time limit of 300ms"),
        "{err}"
    );
}

#[test]
fn deep_recursion_hits_the_call_depth_limit() {
    let d = dir();
    let (code, _, err) = run(
        d.path(),
        "rec.rhai",
        b"fn down(n) { down(n + 1) }\ndown(0)\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(err.contains("call stack too deep"), "{err}");
    let (code, _, _) = run(
        d.path(),
        "shallow.rhai",
        b"fn down(n) { if n == 0 { 0 } else { down(n - 1) } }\ndown(10)\n",
        &["--max-call-depth", "20"],
    );
    assert_eq!(code, 0);
}

#[test]
fn huge_strings_arrays_and_maps_hit_size_limits() {
    let d = dir();
    let (code, _, err) = run(
        d.path(),
        "str.rhai",
        b"let s = \"x\";\nloop { s += s; }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("exceeds the string size limit (raise it with --max-string-size)"),
        "{err}"
    );
    let (code, _, err) = run(
        d.path(),
        "arr.rhai",
        b"let a = [];\na.pad(1000, 0);\n",
        &["--max-array-size", "100"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("arr.rhai:2:") && err.contains("exceeds the array size limit"),
        "{err}"
    );
}

#[test]
fn a_loop_adding_map_keys_by_index_stops_at_the_map_size_limit() {
    let d = dir();
    // Each insertion prints how many keys went in: the run stops at the
    // insertion that went past the limit, before the `print` after it.
    let (code, out, err) = run(
        d.path(),
        "map.rhai",
        b"let m = #{};\nfor i in 0..1000 {\n    m[`k${i}`] = i;\n    print(i + 1);\n}\n",
        &["--max-map-size", "10"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.lines().last(), Some("10"), "{out}");
    assert!(
        err.contains("map.rhai:3:5: Size of object map `m` (11 entries) exceeds the map size limit (raise it with --max-map-size)"),
        "{err}"
    );
}

#[test]
fn a_module_function_adding_map_keys_stops_at_the_insertion_too() {
    let d = dir();
    std::fs::write(
        d.path().join("lib.rhai"),
        "fn fill(m) { for i in 0..100 { m[`k${i}`] = i; print(i + 1); } m }\n",
    )
    .expect("write module");
    let (code, out, err) = run(
        d.path(),
        "main.rhai",
        b"import \"lib\" as lib;\nlet x = lib::fill(#{});\nprint(\"after\");\n",
        &["--max-map-size", "10"],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out.lines().last(), Some("10"), "{out}");
    assert!(
        err.contains("exceeds the map size limit (raise it with --max-map-size)"),
        "{err}"
    );
}

#[test]
fn deeply_nested_source_is_a_syntax_error_not_a_crash() {
    let d = dir();
    let src = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let (code, _, err) = run(d.path(), "nest.rhai", src.as_bytes(), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("nest.rhai:1:"), "{err}");
}

#[test]
fn missing_file_is_a_usage_error() {
    let d = dir();
    let (code, _, err) = run_path(&d.path().join("nope.rhai"), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nope.rhai: cannot read the script: No such file or directory"),
        "{err}"
    );
}

#[test]
fn non_utf8_file_is_a_usage_error() {
    let d = dir();
    let (code, _, err) = run(d.path(), "bin.rhai", b"let a = 1;\n\xff\xfe\n", &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bin.rhai: the script is not UTF-8 text (invalid byte at offset 11)"),
        "{err}"
    );
}

#[test]
fn a_directory_is_a_usage_error() {
    let d = dir();
    let (code, _, err) = run_path(d.path(), &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let d = dir();
    for bad in [
        &["--arg", "novalue"][..],
        &["--arg", "=x"],
        &["--timeout", "3 days"],
        &["--timeout", "-1s"],
    ] {
        let (code, _, err) = run(d.path(), "ok.rhai", b"1", bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.starts_with("error: invalid value"), "{err}");
    }
}

#[test]
fn uncaught_throw_is_reported_as_the_scripts_own() {
    let d = dir();
    let (code, _, err) = run(d.path(), "throw.rhai", b"\nthrow \"bad input\";\n", &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("throw.rhai:2:1: uncaught exception: bad input"),
        "{err}"
    );
}

#[test]
fn token_calls_without_a_cluster_say_why() {
    let d = dir();
    let (code, _, err) = run(d.path(), "list.rhai", b"token::list()", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("token::list: no cluster: "), "{err}");
}

#[test]
fn scripts_that_need_no_cluster_run_without_one() {
    let d = dir();
    let (code, out, err) = run(
        d.path(),
        "pure.rhai",
        b"let t = token::generate(); `${t.id.len()} ${duration(\"90m\")}`",
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "6 1h30m0s\n");
}

#[test]
fn imports_only_resolve_inside_the_script_directory() {
    let d = dir();
    let inner = d.path().join("jobs");
    std::fs::create_dir(&inner).expect("mkdir");
    std::fs::write(d.path().join("outside.rhai"), "fn f() { 1 }").expect("write");
    std::fs::write(inner.join("lib.rhai"), "fn twice(x) { x * 2 }").expect("write");
    let (code, out, err) = run(
        &inner,
        "ok.rhai",
        b"import \"lib\" as lib; lib::twice(21)",
        &[],
    );
    assert_eq!((code, out.as_str()), (0, "42\n"), "{err}");
    let (code, _, err) = run(
        &inner,
        "escape.rhai",
        b"import \"../outside\" as o; o::f()",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("import: import \"../outside\" is not allowed"),
        "{err}"
    );
    let abs = format!("import \"{}\" as o; 1", d.path().join("outside").display());
    let (code, _, err) = run(&inner, "abs.rhai", abs.as_bytes(), &[]);
    assert_eq!(code, 1);
    assert!(err.contains("is not allowed"), "{err}");
}

#[test]
fn check_reports_every_problem_and_fails() {
    let d = dir();
    let good: PathBuf = d.path().join("good.rhai");
    std::fs::write(
        &good,
        "fn f(x) { x + 1 }\nlet t = token::generate();\nf(1)\n",
    )
    .expect("write");
    let bad = d.path().join("bad.rhai");
    std::fs::write(&bad, "token::craete(#{});\nnow(1);\nfoo::bar();\n").expect("write");
    let broken = d.path().join("broken.rhai");
    std::fs::write(&broken, "let = ;\nlet ok = 1;\nlet b = [1, 2;\n").expect("write");
    let out = support::tokensmith()
        .arg("check")
        .args([&good, &bad, &broken, &d.path().join("missing.rhai")])
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let b = bad.display();
    assert!(text.contains(&format!("{}: ok", good.display())), "{text}");
    assert!(
        text.contains(&format!(
            "{b}:1:8: function not found: token::craete (did you mean `token::create`?)"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{b}:2:1: now takes 0 arguments, not 1")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{b}:3:6: unknown module `foo`")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}:1:5:", broken.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}:3:14: Expecting ','", broken.display())),
        "every syntax error, not only the first: {text}"
    );
    assert!(
        text.contains("missing.rhai: cannot read the script"),
        "{text}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 of 4 scripts failed the check"));
}

#[test]
fn check_prints_headers_and_rejects_bad_ones() {
    let d = dir();
    let job = d.path().join("job.rhai");
    std::fs::write(
        &job,
        "//! schedule: 0 3 * * *\n//! timeout: 10m\nlog::info(\"hi\");\n",
    )
    .expect("write");
    let bad = d.path().join("badheader.rhai");
    std::fs::write(&bad, "//! schedule: 0 3 * * *\n//! overlap: sometimes\n1\n").expect("write");
    let out = support::tokensmith()
        .arg("check")
        .args([&job, &bad])
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "{}: ok\n  schedule: 0 3 * * *\n  timezone: UTC\n  overlap: skip\n  timeout: 10m0s\n",
            job.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}:2:1: invalid header: invalid overlap \"sometimes\" (accepted: skip, queue, replace)\n 2 | //! overlap: sometimes\n   | ^\n",
            bad.display()
        )),
        "{text}"
    );
}

#[test]
fn check_passes_clean_scripts() {
    let d = dir();
    let good = d.path().join("good.rhai");
    std::fs::write(&good, "log::info(`now ${now()}`);").expect("write");
    let out = support::tokensmith()
        .arg("check")
        .arg(&good)
        .output()
        .expect("run check");
    assert_eq!(out.status.code(), Some(0));
}
