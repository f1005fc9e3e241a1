//! Behaviour of the engine factory without a cluster: the API surface,
//! limits, diagnostics and the sandbox.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;

fn host() -> ScriptHost {
    ScriptHost::new(None, ScriptOptions::default())
}

fn run_with(
    host: &ScriptHost,
    src: &str,
    args: &[(&str, &str)],
) -> Result<rhai::Dynamic, ScriptError> {
    let script = host.compile_str("test.rhai", src)?;
    let ctl = RunControl {
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..RunControl::default()
    };
    host.run(&script, &ctl)
}

fn eval(src: &str) -> Result<rhai::Dynamic, ScriptError> {
    run_with(&host(), src, &[])
}

fn eval_str(src: &str) -> String {
    match eval(src) {
        Ok(v) => v.to_string(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn args_are_visible_at_top_level_and_in_functions() {
    let h = host();
    let v = run_with(
        &h,
        "fn f() { args.ttl } `${args.ttl}/${f()}`",
        &[("ttl", "48h")],
    )
    .unwrap();
    assert_eq!(v.to_string(), "48h/48h");
    let v = run_with(&h, "args.missing ?? \"dflt\"", &[]).unwrap();
    assert_eq!(v.to_string(), "dflt");
}

#[test]
fn durations_and_timestamps_print_go_and_rfc3339() {
    assert_eq!(eval_str("duration(\"48h\").to_string()"), "48h0m0s");
    assert_eq!(eval_str("`${duration(\"90m\")}`"), "1h30m0s");
    assert_eq!(
        eval_str("(timestamp(\"2024-01-02T03:04:05Z\") + duration(\"1h\")).to_rfc3339()"),
        "2024-01-02T04:04:05Z"
    );
    assert_eq!(
        eval_str("`${timestamp(\"2024-01-02T05:04:05+02:00\")}`"),
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(
        eval_str(
            "(timestamp(\"2024-01-02T00:00:00Z\") - timestamp(\"2024-01-01T00:00:00Z\")).to_string()"
        ),
        "24h0m0s"
    );
    assert_eq!(eval_str("duration(\"1h\") > duration(\"30m\")"), "true");
    assert_eq!(eval_str("now() < now() + duration(\"1s\")"), "true");
    assert_eq!(eval_str("(duration(\"1h\") * 3).to_string()"), "3h0m0s");
    assert_eq!(eval_str("(-duration(\"5m\")).to_string()"), "-5m0s");
}

#[test]
fn bad_duration_is_a_catchable_host_error_with_gos_message() {
    assert_eq!(
        eval_str(
            "let r; try { duration(\"1d\") } catch (e) { r = `${type_of(e)}: ${e.message}` } r"
        ),
        "HostError: duration: time: unknown unit \"d\" in duration \"1d\""
    );
    let e = eval("let x = 1;\nlet d = duration(\"1d\");").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Runtime);
    assert_eq!((e.line, e.col), (Some(2), Some(9)));
    assert!(
        e.message.starts_with("duration: time: unknown unit"),
        "{}",
        e.message
    );
}

#[test]
fn a_scripts_own_throw_is_told_apart_from_host_errors() {
    assert_eq!(
        eval_str("let r; try { throw \"mine\" } catch (e) { r = type_of(e) } r"),
        "string"
    );
    let e = eval("throw \"boom\"").unwrap_err();
    assert_eq!(e.message, "uncaught exception: boom");
}

#[test]
fn generated_tokens_print_redacted() {
    let s = eval_str("let t = token::generate(); `${t}|${t.id}|${t.value}`");
    let parts: Vec<&str> = s.split('|').collect();
    assert_eq!(parts[0], format!("{}.****************", parts[1]));
    assert!(parts[2].starts_with(&format!("{}.", parts[1])));
    assert_eq!(parts[2].len(), 23);
    let dbg = eval_str("let t = token::generate(); [t.secret, t.to_debug()]");
    let secret = dbg.split('"').nth(1).unwrap().to_owned();
    assert_eq!(dbg.matches(&secret).count(), 1, "{dbg}");
    assert_eq!(eval_str("token::generate().expires"), "");
    assert_eq!(eval_str("type_of(token::generate().expires)"), "()");
}

#[test]
fn cluster_functions_fail_clearly_without_a_cluster() {
    let e = eval("token::list()").unwrap_err();
    assert_eq!(
        e.message,
        "token::list: no cluster is connected to this script host"
    );
    assert_eq!(
        eval_str("let r; try { token::create(#{ttl: \"1h\"}) } catch (e) { r = e.function } r"),
        "token::create"
    );
}

#[test]
fn create_options_are_validated_like_the_cli() {
    let e = eval("token::create(#{usages: [\"foo\", \"authentication\"]})").unwrap_err();
    assert_eq!(
        e.message,
        r#"token::create: options.usages: Invalid value: ["foo","authentication"]: invalid bootstrap token usage string: foo, valid usage options: signing,authentication"#
    );
    // Signing-only tokens get no default group; naming one is still refused.
    let e = eval("token::create(#{usages: \"signing\", groups: \"system:bootstrappers:x\"})")
        .unwrap_err();
    assert!(
        e.message
            .contains("token groups cannot be specified unless --usages includes"),
        "{}",
        e.message
    );
    let e = eval("token::create(#{ttl: \"3 days\"})").unwrap_err();
    assert!(
        e.message.starts_with("token::create: invalid ttl: time: "),
        "{}",
        e.message
    );
    let e = eval("token::create(#{ttl: \"-1h\"})").unwrap_err();
    assert_eq!(
        e.message,
        "token::create: ttl must not be negative (0 means never expires), got -1h0m0s"
    );
    let e = eval("token::create(#{expires: \"2001-01-01T00:00:00Z\"})").unwrap_err();
    assert_eq!(
        e.message,
        "token::create: expires 2001-01-01T00:00:00Z is in the past"
    );
    let e = eval("token::create(#{colour: \"red\"})").unwrap_err();
    assert!(
        e.message.contains("unknown option \"colour\""),
        "{}",
        e.message
    );
    let e = eval("token::create(\"abcdef.0123456789ABCDEF\", #{})").unwrap_err();
    assert!(!e.message.contains("0123456789"), "{}", e.message);
}

#[test]
fn env_needs_an_allowance() {
    let e = eval("env(\"HOME\")").unwrap_err();
    assert!(e.message.contains("--allow-env HOME"), "{}", e.message);
    let mut opts = ScriptOptions::default();
    opts.allow_env.insert("PATH".into());
    opts.allow_env.insert("TOKENSMITH_SURELY_UNSET".into());
    let h = ScriptHost::new(None, opts);
    assert_eq!(
        run_with(&h, "type_of(env(\"PATH\"))", &[])
            .unwrap()
            .to_string(),
        "string"
    );
    assert_eq!(
        run_with(&h, "env(\"TOKENSMITH_SURELY_UNSET\") ?? \"none\"", &[])
            .unwrap()
            .to_string(),
        "none"
    );
}

#[test]
fn syntax_errors_point_at_the_line() {
    let e = host()
        .compile_str("bad.rhai", "let a = 1;\nlet b = (a + ;\n")
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.line, Some(2));
    assert!(e.to_string().starts_with("bad.rhai:2:"), "{e}");
    assert!(e.to_string().contains("\n 2 | let b = (a + ;\n"), "{e}");
}

#[test]
fn unknown_functions_fail_at_run_time_with_position() {
    let e = eval("nope(1)").unwrap_err();
    assert_eq!((e.line, e.col), (Some(1), Some(1)));
    assert!(e.message.contains("nope"), "{}", e.message);
}

#[test]
fn runaway_loop_stops_on_operations() {
    let mut opts = ScriptOptions::default();
    opts.limits.max_operations = 100_000;
    let h = ScriptHost::new(None, opts);
    let e = run_with(&h, "loop {}", &[]).unwrap_err();
    assert!(
        e.message.starts_with("too many operations"),
        "{}",
        e.message
    );
}

#[test]
fn runaway_loop_stops_at_the_deadline() {
    let mut opts = ScriptOptions::default();
    opts.limits.max_operations = 0;
    let h = ScriptHost::new(None, opts);
    let script = h.compile_str("spin.rhai", "loop {}").unwrap();
    let ctl = RunControl {
        deadline: Some(Instant::now() + Duration::from_millis(50)),
        ..RunControl::default()
    };
    let e = h.run(&script, &ctl).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Timeout);
}

#[test]
fn cancel_stops_a_run() {
    let h = host();
    let script = h.compile_str("spin.rhai", "loop {}").unwrap();
    let ctl = RunControl::default();
    ctl.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
    let e = h.run(&script, &ctl).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled);
}

#[test]
fn sleep_honours_the_deadline() {
    let h = host();
    let script = h.compile_str("nap.rhai", "sleep(3600); 1").unwrap();
    let ctl = RunControl {
        deadline: Some(Instant::now() + Duration::from_millis(20)),
        ..RunControl::default()
    };
    assert_eq!(h.run(&script, &ctl).unwrap_err().kind, ErrorKind::Timeout);
}

#[test]
fn deep_recursion_and_huge_strings_hit_limits() {
    let e = eval("fn f(n) { f(n + 1) } f(0)").unwrap_err();
    assert!(
        e.message.starts_with("call stack too deep"),
        "{}",
        e.message
    );
    let e = eval("let s = \"x\"; loop { s += s; }").unwrap_err();
    assert!(
        e.message
            .contains("exceeds the string size limit (raise it with --max-string-size)"),
        "{}",
        e.message
    );
    let e = eval("let a = []; a.pad(10000000, 0);").unwrap_err();
    assert!(
        e.message
            .contains("exceeds the array size limit (raise it with --max-array-size)"),
        "{}",
        e.message
    );
}

#[test]
fn eval_is_disabled() {
    assert!(host().compile_str("x", "eval(\"1\")").is_err());
}

#[test]
fn header_comments_and_log_calls_compile() {
    let src = "//! schedule: 0 3 * * *\n//! timeout: 10m\nlog::debug(\"d\"); log::info(\"i\"); log::warn(\"w\"); log::error(\"e\"); print(\"p\"); debug(1); 7";
    assert_eq!(eval_str(src), "7");
}

#[test]
fn dry_run_reports_the_option() {
    let h = ScriptHost::new(
        None,
        ScriptOptions {
            dry_run: true,
            ..ScriptOptions::default()
        },
    );
    assert_eq!(run_with(&h, "dry_run()", &[]).unwrap().to_string(), "true");
}

#[test]
fn imports_resolve_only_beside_the_script() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rhai"), "fn double(x) { x * 2 }").unwrap();
    std::fs::write(
        dir.path().join("main.rhai"),
        "import \"lib\" as lib; lib::double(21)",
    )
    .unwrap();
    std::fs::write(dir.path().join("evil.rhai"), "import \"../x\" as x; 1").unwrap();
    let h = host();
    let s = h.compile_file(&dir.path().join("main.rhai")).unwrap();
    assert_eq!(
        h.run(&s, &RunControl::default()).unwrap().as_int().unwrap(),
        42
    );
    let s = h.compile_file(&dir.path().join("evil.rhai")).unwrap();
    let e = h.run(&s, &RunControl::default()).unwrap_err();
    assert!(e.message.contains("not allowed"), "{}", e.message);
    let s = h.compile_str("inline", "import \"lib\" as lib; 1").unwrap();
    assert!(h.run(&s, &RunControl::default()).is_err());
}

#[test]
fn missing_and_non_utf8_files_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = host()
        .compile_file(&dir.path().join("none.rhai"))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("No such file"), "{}", e.message);
    let p = dir.path().join("bin.rhai");
    std::fs::write(&p, b"let a = \"\xff\";").unwrap();
    let e = host().compile_file(&p).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Io);
    assert!(e.message.contains("not UTF-8"), "{}", e.message);
}

#[test]
fn compiled_scripts_and_hosts_cross_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<CompiledScript>();
    assert_send_sync::<ScriptHost>();
    let h = host();
    let s = h.compile_str("t", "40 + 2").unwrap();
    let v =
        std::thread::spawn(move || h.run(&s, &RunControl::default()).unwrap().as_int().unwrap())
            .join()
            .unwrap();
    assert_eq!(v, 42);
}

#[test]
fn types_have_user_names() {
    assert_eq!(
        eval_str("[type_of(token::generate()), type_of(now()), type_of(duration(\"1s\"))]"),
        "[\"Token\", \"Timestamp\", \"Duration\"]"
    );
}

#[test]
fn recursion_limit_fits_a_blocking_pool_thread() {
    // tokio's blocking threads (where the daemon runs scripts) have 2 MiB
    // stacks: hitting the call-depth limit must be an error, not an abort.
    let h = host();
    let script = h
        .compile_str(
            "deep.rhai",
            "fn f(n) { let a = [n, n + 1, `${n}`]; if n > 100000 { 0 } else { f(n + 1) + a[0] } } f(0)",
        )
        .unwrap();
    let e = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || h.run(&script, &RunControl::default()).unwrap_err())
        .unwrap()
        .join()
        .unwrap();
    assert!(
        e.message.starts_with("call stack too deep"),
        "{}",
        e.message
    );
}

#[test]
fn shebang_and_byte_order_mark_are_accepted() {
    assert_eq!(eval_str("#!/usr/bin/env -S tokensmith run\n1 + 1"), "2");
    assert_eq!(eval_str("\u{feff}1 + 2"), "3");
    let e = eval("#!/bin/x\nlet a = ;").unwrap_err();
    assert_eq!(e.line, Some(2));
}

#[test]
fn errors_never_carry_a_token_even_one_the_script_threw() {
    let e = eval("let t = token::generate();\nthrow t.value;").unwrap_err();
    assert!(
        e.message.starts_with("uncaught exception: "),
        "{}",
        e.message
    );
    assert!(e.message.ends_with(".****************"), "{}", e.message);
    let e = eval("let x = \"abcdef.0123456789abcdef\"; nope(x)").unwrap_err();
    assert_eq!(
        e.to_string(),
        "test.rhai:1:36: Function not found: nope (string)\n 1 | let x = \"abcdef.****************\"; nope(x)\n   |                                    ^"
    );
}

#[test]
fn log_takes_any_value_and_durations_scale_both_ways() {
    assert_eq!(
        eval_str("log::info(42); log::warn(token::generate()); log::debug(()); 1"),
        "1"
    );
    assert_eq!(eval_str("(2 * duration(\"90m\")).to_string()"), "3h0m0s");
    assert_eq!(eval_str("duration(\"2h\").minutes"), "120");
}

#[test]
fn an_enormous_timeout_is_no_timeout() {
    let mut opts = ScriptOptions::default();
    opts.limits.timeout = Some(Duration::MAX);
    let h = ScriptHost::new(None, opts);
    assert_eq!(run_with(&h, "1 + 1", &[]).unwrap().as_int().unwrap(), 2);
}

#[test]
fn a_broken_helper_is_imported_in_its_last_good_version_by_the_same_host() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib.rhai");
    let main = dir.path().join("job.rhai");
    std::fs::write(&lib, "fn answer() { 42 }").unwrap();
    std::fs::write(&main, "import \"lib\" as lib; lib::answer()").unwrap();
    let host = ScriptHost::new(None, ScriptOptions::default());
    let job = host.compile_file(&main).unwrap();
    let run = |h: &ScriptHost| {
        h.run(&job, &RunControl::default())
            .map(|v| v.as_int().unwrap())
    };
    assert_eq!(run(&host).unwrap(), 42);
    std::fs::write(&lib, "fn answer() { 42 ").unwrap();
    assert_eq!(run(&host).unwrap(), 42, "the last good lib was not used");
    // A host that never saw the good version fails, pointing into the module.
    let fresh = ScriptHost::new(None, ScriptOptions::default());
    let e = run(&fresh).unwrap_err();
    assert!(e.file.ends_with("lib.rhai"), "{e}");
    assert!(e.chain[0].starts_with("in module "), "{e}");
}

fn host_with(limits: Limits) -> ScriptHost {
    ScriptHost::new(
        None,
        ScriptOptions {
            limits,
            ..ScriptOptions::default()
        },
    )
}

#[test]
fn a_map_grown_by_index_assignment_stops_at_the_map_size_limit() {
    let h = host_with(Limits {
        max_map_size: 10,
        ..Limits::default()
    });
    // `n` counts the insertions that went through; the 11th key is the one
    // past the limit, and the loop stops at its next use of `m`.
    let src = "let m = #{};\nlet n = 0;\nfor i in 0..1000 {\n  m[`k${i}`] = i;\n  n += 1;\n}\nn";
    let e = run_with(&h, src, &[]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Runtime);
    assert_eq!((e.line, e.col), (Some(4), Some(3)), "{e}");
    assert_eq!(
        e.message,
        "Size of object map `m` (11 entries) exceeds the map size limit (raise it with --max-map-size)"
    );
    // At the inserting statement itself: nothing after it runs, even a
    // statement that does not read the map.
    let src = "let m = #{};\nlet n = 0;\nfor i in 0..11 { m[`k${i}`] = i; }\nn = 99;\nn";
    let e = run_with(&h, src, &[]).unwrap_err();
    assert_eq!((e.line, e.col), (Some(3), Some(18)), "{e}");
    // The same inside a function, on its parameter.
    let src = "fn fill(m) { for i in 0..100 { m[`k${i}`] = i; } m }\nfill(#{}).len()";
    let e = run_with(&h, src, &[]).unwrap_err();
    assert!(e.message.contains("exceeds the map size limit"), "{e}");
    // Up to the limit is fine, and reading a full map is too.
    let ok = run_with(
        &h,
        "let m = #{}; for i in 0..10 { m[`k${i}`] = i; } m.k3 + m.len() + (m.nope ?? 0)",
        &[],
    )
    .unwrap();
    assert_eq!(ok.as_int().unwrap(), 13);
}

#[test]
fn every_way_of_growing_a_map_or_array_is_bounded() {
    let h = host_with(Limits {
        max_map_size: 5,
        max_array_size: 5,
        ..Limits::default()
    });
    for src in [
        "let m = #{}; for i in 0..50 { m[`k${i}`] = i; }",
        "let m = #{}; for i in 0..50 { let one = #{}; one[`k${i}`] = i; m.mixin(one); }",
        "let m = #{ a: 1, b: 2, c: 3 }; m += #{ d: 4, e: 5, f: 6 };",
        "let m = #{ a: 1, b: 2, c: 3 }; let n = m + #{ d: 4, e: 5, f: 6 };",
        "let m = #{}; m.a = 1; m.b = 2; m.c = 3; m.d = 4; m.e = 5; m.f = 6;",
    ] {
        let e = run_with(&h, src, &[]).expect_err(src);
        assert!(
            e.message
                .contains("exceeds the map size limit (raise it with --max-map-size)"),
            "{src}: {e}"
        );
    }
    for src in [
        "let a = []; for i in 0..50 { a.push(i); }",
        "let a = []; for i in 0..50 { a += i; }",
        // Rhai checks `a += b` before it appends; the end of the run checks
        // what is left in the scope.
        "let a = [1, 2, 3]; a += [4, 5, 6];",
    ] {
        let e = run_with(&h, src, &[]).expect_err(src);
        assert!(
            e.message
                .contains("exceeds the array size limit (raise it with --max-array-size)"),
            "{src}: {e}"
        );
    }
}

#[test]
fn caught_rhai_errors_say_rhai_type_names() {
    let got = eval_str(
        "let r = []; let f = Fn(\"nope\");\n\
         try { f.call(1, \"s\", 1.5, true, 'c', [], #{}, ()) } catch (e) { r.push(e.message); r.push(e.function) }\n\
         try { let x = 5; x.nope() } catch (e) { r.push(e.message) }\n\
         try { token::generate().nope(duration(\"1h\"), now()) } catch (e) { r.push(e.message) }\n\
         r",
    );
    assert_eq!(
        got,
        "[\"Function not found: nope (int, string, float, bool, char, array, map, ())\", \
         \"nope (int, string, float, bool, char, array, map, ())\", \
         \"Function not found: nope (int)\", \
         \"Function not found: nope (Token, Duration, Timestamp)\"]"
    );
    // A thrown map that merely looks like one is the script's own: left alone.
    assert_eq!(
        eval_str(
            "let r; try { throw #{ error: \"Mine\", message: \"i64\" } } catch (e) { r = e.message } r"
        ),
        "i64"
    );
    // Uncaught, the same error says the same names.
    let e = eval("let x = 5;\nx.nope(\"a\")").unwrap_err();
    assert_eq!(e.message, "Function not found: nope (int, string)");
}
