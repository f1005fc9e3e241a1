//! The malformed-input corpus: several hundred bad arguments, files and
//! templates given to the built binary. None may panic, hang or exit 0.

mod support;

use std::time::Duration;

use support::TestCluster;

/// Each case: the arguments after `tokensmith`, and whether the run may
/// succeed (some odd inputs are valid, e.g. a template that prints nothing).
fn corpus(dir: &std::path::Path) -> Vec<(Vec<String>, bool)> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut cases: Vec<(Vec<String>, bool)> = Vec::new();
    let fifo = dir.join("fifo");
    let _ = std::process::Command::new("mkfifo").arg(&fifo).status();
    let fifo = fifo.display().to_string();
    let bad_files = [
        "/dev/zero",
        "/dev/null",
        "/",
        fifo.as_str(),
        "/no/such/file",
    ];
    for f in bad_files {
        cases.push((s(&["run", f]), false));
        cases.push((s(&["check", f]), false));
        cases.push((s(&["--kubeconfig", f, "token", "list"]), false));
        cases.push((s(&["token", "create", "--config", f]), false));
        cases.push((
            s(&["token", "list", "-o", "go-template-file", "--template", f]),
            false,
        ));
    }
    // Kubeconfig bearer tokens an Authorization header cannot carry, inline
    // and in a tokenFile (a_kubeconfig_token_with_a_control_character… checks
    // the message and the exit status).
    for (i, kc) in bad_token_kubeconfigs(dir).iter().enumerate() {
        let kc = kc.display().to_string();
        cases.push((s(&["--kubeconfig", &kc, "token", "list"]), false));
        if i % 2 == 0 {
            cases.push((s(&["--kubeconfig", &kc, "token", "create"]), false));
        }
    }
    // `token create ""` is not here: kubeadm v1.37 generates a token for an
    // empty argument (the upstream differential tier checks tokensmith does too).
    cases.push((s(&["token", "delete", ""]), false));
    let bad_tokens = [
        ".",
        "abcdef",
        "abcdef.",
        "ABCDEF.0123456789abcdef",
        "abcdef.0123456789abcdef\n",
        "abcdef.0123456789abcde\u{0}",
        "\u{1b}[31mred",
        "é",
        "a".repeat(100_000).leak(),
    ];
    for t in bad_tokens {
        cases.push((s(&["token", "create", t]), false));
        cases.push((s(&["token", "delete", t]), false));
    }
    let bad_durations = [
        "-",
        "1x",
        "9999999999999999h",
        "1e9h",
        "\u{7f}",
        "1h1",
        "--1h",
        "0x10s",
    ];
    for d in bad_durations {
        cases.push((s(&["token", "create", "--ttl", d]), false));
        cases.push((s(&["run", "--timeout", d, "/dev/null"]), false));
    }
    let bad_usage = ["signing,", ",", "foo", "authentication,foo", "\n"];
    for u in bad_usage {
        cases.push((s(&["token", "create", "--usages", u]), false));
    }
    let bad_groups = ["system:bootstrappers:", "x", "system:bootstrappers:UPPER"];
    for g in bad_groups {
        cases.push((s(&["token", "create", "--groups", g]), false));
    }
    let templates = [
        "{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}",
        "{{printf \"%999999999d\" 1}}",
        "{{printf \"%.99999999f\" 1.0}}",
        "{{",
        "{{.token",
        "{{end}}",
        "{{range}}",
        "{{if}}{{end}}",
        "{{template \"nope\"}}",
        "{{.x.y.z.w}}",
        &"{{if 1}}".repeat(10_000),
    ];
    for t in templates {
        cases.push((
            s(&["token", "list", "-o", &format!("go-template={t}")]),
            false,
        ));
    }
    // Checked for panics and hangs only: kubectl accepts several of these
    // (`{..}`, `{$}`), and `{.........}` is not yet rejected as kubectl does.
    let jsonpaths = [
        "{.........}",
        "{..}",
        "{",
        "}",
        "{.token",
        "{[}",
        "{.a[::-1]}",
        "{.a[99999999999999999999]}",
        "{range}",
        "{end}",
        "{.a[?(@.x==]}",
        "{$}",
        "{@@}",
        "{.\u{0}}",
    ];
    for j in jsonpaths {
        cases.push((s(&["token", "list", "-o", &format!("jsonpath={j}")]), true));
    }
    let sandbox = [
        ["--max-string-size", "0"],
        ["--max-call-depth", "1000000"],
        ["--max-call-depth", "-1"],
        ["--max-array-size", "0"],
        ["--max-map-size", "0"],
        ["--max-operations", "x"],
    ];
    for a in sandbox {
        cases.push((s(&["run", a[0], a[1], "/dev/null"]), false));
    }
    let scripts = [
        "fn f(n) { f(n + 1) } f(0)",
        "let s = \"ab\"; loop { s += s }",
        "let a = []; loop { a.push(a) }",
        "token::create(#{ttl: \"-1h\"})",
        "token::create(#{expires: \"1999-01-01T00:00:00Z\"})",
        "token::create(#{ttl: 5})",
        "token::create(\"abcdef.0123456789ABCDEF\", #{})",
        "token::delete(\"!!\")",
        "throw \"\\u{1b}[2J\"",
        "let x = ;",
        "import \"/etc/passwd\" as p;",
        "\u{feff}\u{0}",
    ];
    for (i, body) in scripts.iter().enumerate() {
        let p = dir.join(format!("bad{i}.rhai"));
        std::fs::write(&p, body).expect("write");
        cases.push((
            s(&[
                "run",
                "--max-operations",
                "200000",
                &p.display().to_string(),
            ]),
            false,
        ));
    }
    let crons = [
        "60 * * * *",
        "* 24 * * *",
        "* * 32 * *",
        "",
        "@never",
        "* * * *",
        "*/0 * * * *",
    ];
    for (i, c) in crons.iter().enumerate() {
        let p = dir.join(format!("cron{i}.rhai"));
        std::fs::write(&p, format!("//! schedule: {c}\n1")).expect("write");
        cases.push((s(&["check", &p.display().to_string()]), false));
    }
    // Every flag of `token` with an odd value, and unknown flags and commands.
    for flag in [
        "--ttl",
        "--usages",
        "--groups",
        "--description",
        "-o",
        "--config",
        "--kubeconfig",
    ] {
        for v in ["", "\u{0}", "=", "-", "\u{202e}x", &"z".repeat(5000)] {
            cases.push((
                s(&[
                    "token",
                    "create",
                    flag,
                    v,
                    "--print-join-command",
                    "--bogus",
                ]),
                false,
            ));
            cases.push((s(&["token", "list", flag, v, "extra"]), false));
        }
    }
    for w in ["frobnicate", "-", "--", "\u{0}", "token token", "list\n"] {
        cases.push((s(&["token", w]), false));
        cases.push((s(&[w]), false));
    }
    cases
}

/// The secret part every bad kubeconfig token below carries: it must never show.
const KC_SECRET: &str = "kcs3cr3tv4lu3";

/// Kubeconfigs (each in its own file under `dir`) whose user token holds a
/// newline, CR, NUL, ESC or DEL, inline or in a tokenFile, and what the
/// error must say about it.
fn bad_token_kubeconfigs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    bad_token_cases(dir).into_iter().map(|(p, _)| p).collect()
}

fn bad_token_cases(dir: &std::path::Path) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let kubeconfig = |name: &str, user: &str| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
                 contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n\
                 users:\n- name: u\n  user:\n    {user}\n"
            ),
        )
        .expect("write kubeconfig");
        p
    };
    let chars = [
        ("\\n", "a newline"),
        ("\\r", "a carriage return"),
        ("\\0", "a NUL character"),
        ("\\e", "the control character U+001B"),
        ("\\x7f", "the control character U+007F"),
    ];
    for (i, (escape, what)) in chars.iter().enumerate() {
        let p = kubeconfig(
            &format!("kc-inline-{i}"),
            &format!("token: \"abcdef.{KC_SECRET}{escape}tail\""),
        );
        out.push((
            p,
            format!("the token of user \"u\" contains {what}, which an Authorization header cannot carry"),
        ));
        let file = dir.join(format!("tokenfile-{i}"));
        let raw = match *escape {
            "\\n" => "\n",
            "\\r" => "\r",
            "\\0" => "\0",
            "\\e" => "\u{1b}",
            _ => "\u{7f}",
        };
        std::fs::write(&file, format!("abcdef.{KC_SECRET}{raw}tail\n")).expect("token file");
        let p = kubeconfig(
            &format!("kc-file-{i}"),
            &format!("tokenFile: {}", file.display()),
        );
        out.push((
            p,
            format!(
                "the token in {} (tokenFile of user \"u\") contains {what}, which an Authorization header cannot carry",
                file.display()
            ),
        ));
    }
    let p = kubeconfig("kc-file-zero", "tokenFile: /dev/zero");
    out.push((
        p,
        "tokenFile of user \"u\": open /dev/zero: is not a regular file".to_owned(),
    ));
    out
}

#[test]
fn a_kubeconfig_token_with_a_control_character_is_one_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (kc, want) in bad_token_cases(dir.path()) {
        for args in [
            &["token", "list"][..],
            &["token", "create", "--print-join-command"][..],
        ] {
            let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
                .env("HOME", dir.path())
                .env_remove("KUBECONFIG")
                .arg("--kubeconfig")
                .arg(&kc)
                .args(args)
                .timeout(Duration::from_secs(30))
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{args:?} {}: {stderr}",
                kc.display()
            );
            assert_eq!(
                stderr,
                format!(
                    "error: failed to load admin kubeconfig: {}: {want}\n\
                     To see the stack trace of this error execute with --v=5 or higher\n",
                    kc.display()
                ),
                "{args:?}"
            );
            assert!(!stderr.contains(KC_SECRET), "{stderr}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
}

#[test]
fn a_script_that_cannot_be_read_is_a_usage_error() {
    // README and docs/guide.md: `run` exits 2 on a usage error, an
    // unreadable script included; a FIFO must not block the read.
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.rhai");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let big = dir.path().join("big.rhai");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(tokensmith::input::MAX_INPUT + 1))
        .expect("big file");
    let cases = [
        (
            std::path::PathBuf::from("/dev/zero"),
            "is not a regular file",
        ),
        (fifo, "is not a regular file"),
        (dir.path().to_path_buf(), "is not a regular file"),
        (big, "is larger than 16 MiB"),
        (dir.path().join("missing.rhai"), "No such file or directory"),
    ];
    for (path, why) in cases {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .env("HOME", dir.path())
            .arg("run")
            .arg(&path)
            .timeout(Duration::from_secs(30))
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert_eq!(
            stderr,
            format!("error: {}: cannot read the script: {why}\n", path.display()),
        );
    }
}

#[test]
fn only_the_token_subcommand_gets_kubeadm_flag_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .env("HOME", dir.path())
            .args(args)
            .timeout(Duration::from_secs(30))
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A word `token` elsewhere on the line (a script, a flag's value) does
    // not make the command `token`: clap's error and exit 2.
    for args in [
        &["run", "token", "--bogus"][..],
        &["--kubeconfig", "token", "run", "x.rhai", "--bogus"][..],
        &["--context", "token", "check", "--bogus"][..],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: unexpected argument '--bogus'"),
            "{args:?}: {stderr}"
        );
    }
    // The `token` subcommand after global flags with values: kubeadm's.
    for args in [
        &["--kubeconfig", "token", "token", "list", "--bogus"][..],
        &["--v", "5", "--context=x", "token", "list", "--bogus"][..],
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.starts_with("error: unknown flag: --bogus\n"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn cron_messages_name_the_limit_and_the_field_through_check_and_watch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let jobs = dir.path().join("jobs");
    std::fs::create_dir(&jobs).expect("jobs dir");
    let crons = [
        (
            "minute",
            "60 * * * *",
            "minute field \"60\": Minutes must be less than 60",
        ),
        (
            "dow",
            "0 3 * * 1-8",
            "day-of-week field \"1-8\": Day of week must be between 0 and 7 (0 and 7 are Sunday) \
             or SUN-SAT (\"8\" in the range)",
        ),
        (
            "step",
            "*/0 * * * *",
            "minute field \"*/0\": the step must be at least 1",
        ),
        (
            "reversed",
            "0 5-1 * * *",
            "hour field \"5-1\": the range \"5-1\" runs backwards (write the lower value first)",
        ),
        (
            "name",
            "0 3 * FOO *",
            "month field \"FOO\": \"FOO\" is not a month name (JAN-DEC)",
        ),
        (
            "list",
            "0 3 1,,2 * *",
            "day-of-month field \"1,,2\", item \"\": an item is empty (two commas in a row, or a comma at an end)",
        ),
        (
            "seconds",
            "60 0 3 * * *",
            "second field \"60\": Seconds must be less than 60",
        ),
    ];
    let expected = |expr: &str, want: &str| format!("invalid cron expression \"{expr}\": {want}");
    for (name, expr, want) in crons {
        let path = jobs.join(format!("{name}.rhai"));
        std::fs::write(&path, format!("//! schedule: {expr}\n1\n")).expect("script");
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
            .env("HOME", dir.path())
            .arg("check")
            .arg(&path)
            .timeout(Duration::from_secs(30))
            .output()
            .expect("check");
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{expr}: {shown}");
        assert!(shown.contains(&expected(expr, want)), "{expr}: {shown}");
        // The crate's input (a seconds field, Sunday as 1, names) never shows.
        assert!(!shown.contains(&format!("0 {expr}")), "{shown}");
        assert!(!shown.contains("Invalid"), "{shown}");
    }
    let log = dir.path().join("daemon.log");
    let mut daemon = std::process::Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .env("HOME", dir.path())
        .env_remove("RUST_LOG")
        .arg("watch")
        .arg(&jobs)
        .arg("--test-executor")
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch");
    let start = std::time::Instant::now();
    let all_logged = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        crons.iter().all(|(_, e, w)| text.contains(&expected(e, w)))
    };
    while !all_logged() && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    for (_, expr, want) in crons {
        assert!(text.contains(&expected(expr, want)), "{expr}: {text}");
    }
    assert!(!text.contains("Invalid"), "{text}");
}

#[test]
fn hundreds_of_malformed_inputs_never_panic_hang_or_succeed() {
    let c = TestCluster::start();
    // A token to list, so that every output template is executed.
    let made = c
        .tokensmith()
        .args(["token", "create"])
        .output()
        .expect("create");
    assert!(made.status.success());
    let cases = corpus(c.dir());
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut problems = Vec::new();
    for (args, may_succeed) in &cases {
        // An argument cannot hold NUL (execve); the byte next to it stands in.
        let args: Vec<String> = args.iter().map(|a| a.replace('\0', "\u{1}")).collect();
        let out = c
            .tokensmith()
            .args(&args)
            .timeout(Duration::from_secs(90))
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(60).collect()).collect();
        if stderr.contains("panicked")
            || stderr.contains("RUST_BACKTRACE")
            || stderr.contains("overflowed")
        {
            problems.push(format!(
                "panic: {shown:?}: {}",
                &stderr.chars().take(300).collect::<String>()
            ));
        }
        match out.status.code() {
            None => problems.push(format!("killed (hang or abort): {shown:?}")),
            Some(0) if !may_succeed => problems.push(format!("exit 0: {shown:?}")),
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}
