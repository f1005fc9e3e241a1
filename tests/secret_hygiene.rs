//! The secret-hygiene sweep: one workload (create, list, get, print, debug,
//! log, a throw, a secret assembled from parts) run through every way
//! tokensmith writes text — every `--v` level, `--log-format json`, the
//! REPL with its history file, the watch daemon's log — and every stream
//! and every file the runs write is searched for each secret, bare and in
//! base64. Only the outputs that exist to show a secret are exempt:
//! `token create` stdout and a script's explicit result.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use support::TestCluster;

const TOKEN: &str = "hyg1en.s3cr3tv4lu3xyz09";
const SECRET: &str = "s3cr3tv4lu3xyz09";

/// Each secret's forms to search for: bare, and base64 at every alignment
/// (the Secret's `data` holds it encoded; a webhook body may embed it).
fn forms(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    for prefix in ["", "a", "ab"] {
        let enc = base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{secret}"));
        // Only the characters that come from the secret's own bits.
        let skip = (8 * prefix.len()).div_ceil(6);
        let end = 8 * (prefix.len() + secret.len()) / 6;
        out.push(enc[skip..end].to_owned());
    }
    out
}

fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        for f in forms(s) {
            if let Some(i) = text.find(&f) {
                let around: String = text[i..].chars().take(200).collect();
                panic!("{what} shows {f:?} (a form of a secret): {around}…");
            }
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every file under `dir`, except the kubeconfig (it holds the admin
/// credential, not a token), the dev cluster's own storage (it exists to
/// hold the Secrets) and files the test wrote itself.
fn files(dir: &Path, skip: &[&Path], out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if skip.iter().any(|s| *s == p) {
            continue;
        }
        if p.is_dir() {
            files(&p, skip, out);
        } else {
            out.push(p);
        }
    }
}

const WORKLOAD: &str = r#"
let made = token::create(#{ttl: "1h", description: "sweep"});
let listed = token::list();
let got = token::get(args.id);
print(got.secret);
print(`inside ${got.secret} text`);
debug(made.secret);
log::info(got.value);
log::warn(`list: ${listed}`);
log::error(made);
let parts = "hyg1en." + "s3cr3tv4" + "lu3xyz09";
print(parts);
try { token::create(parts, #{}) } catch (e) { print(e.message); log::warn(e) }
throw `failed with ${made.secret} and ${got.secret}`;
"#;

#[test]
fn no_secret_reaches_a_stream_or_a_file_at_any_verbosity() {
    let c = TestCluster::start();
    let created = c
        .tokensmith()
        .args(["token", "create", TOKEN, "--ttl", "2h"])
        .output()
        .expect("create");
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert_eq!(
        text(&created.stdout).trim(),
        TOKEN,
        "create shows its token"
    );

    let script = c.dir().join("workload.rhai");
    std::fs::write(&script, WORKLOAD).expect("script");
    let mut secrets = vec![SECRET.to_owned()];
    let mut levels: Vec<Vec<String>> = (0..=9).map(|v| vec![format!("--v={v}")]).collect();
    levels.push(vec!["-vvv".into()]);
    levels.push(vec!["-vvv".into(), "--log-format".into(), "json".into()]);
    levels.push(vec!["--log-format".into(), "json".into()]);
    for flags in &levels {
        let out = c
            .tokensmith()
            .args(flags)
            .args(["run", "--arg", "id=hyg1en"])
            .arg(&script)
            .env_remove("RUST_LOG")
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{flags:?}: the throw fails the run"
        );
        let stderr = text(&out.stderr);
        assert!(stderr.contains("failed with"), "{flags:?}: {stderr}");
        assert_clean(&format!("run {flags:?} stderr"), &stderr, &secrets);
        assert_clean(
            &format!("run {flags:?} stdout"),
            &text(&out.stdout),
            &secrets,
        );
    }

    // The REPL: a secret typed as a literal and one assembled from parts,
    // shown, listed by :vars, and kept out of the history file.
    let out = c
        .tokensmith()
        .arg("repl")
        .write_stdin(format!(
            "let lit = \"{TOKEN}\"\nlet a = \"s3cr3tv4\"\nlet b = a + \"lu3xyz0\"\nb\n\
             let t = token::get(\"hyg1en\")\nt.secret\n:vars\nprint(b)\nthrow b\n:quit\n"
        ))
        .output()
        .expect("repl");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_clean("repl stdout", &stdout, &secrets);
    assert_clean("repl stderr", &stderr, &secrets);

    // The daemon: a job that reads the token and logs it every second.
    let jobs = c.dir().join("jobs");
    std::fs::create_dir_all(&jobs).expect("jobs dir");
    std::fs::write(
        jobs.join("leak.rhai"),
        "//! schedule: * * * * * *\n//! arg: id=hyg1en\n\
         let t = token::get(args.id); log::info(`job saw ${t.secret}`); throw t.secret;\n",
    )
    .expect("job");
    let log = c.dir().join("daemon.log");
    // As `tokensmith()` sets it up, but spawned: the daemon runs until killed.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .env_remove("RUST_BACKTRACE")
        .env("HOME", c.dir().join("home"))
        .env("XDG_STATE_HOME", c.dir().join("xdg-state"))
        .env("KUBECONFIG", c.kubeconfig_path())
        .current_dir(c.dir())
        .args(["-vv", "watch"])
        .arg(&jobs)
        .arg("--state-dir")
        .arg(c.dir().join("watch-state"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(c.dir().join("daemon.out")).expect("out"))
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch");
    let start = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("job saw")
    {
        assert!(start.elapsed() < Duration::from_secs(60), "no job ran");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = daemon.kill();
    let _ = daemon.wait();

    // A secret generated during the sweep counts too: `token list` shows them all.
    let listed = c
        .tokensmith()
        .args(["token", "list", "-o", "json"])
        .output()
        .expect("list");
    let list_json = text(&listed.stdout);
    for v in serde_json::Deserializer::from_str(&list_json).into_iter::<serde_json::Value>() {
        if let Some(t) = v.ok().and_then(|v| v["token"].as_str().map(str::to_owned))
            && let Some((_, s)) = t.split_once('.')
        {
            secrets.push(s.to_owned());
        }
    }
    assert!(
        secrets.len() > 1,
        "the workload created tokens: {list_json}"
    );

    let kubeconfig = c.kubeconfig_path().to_path_buf();
    let mut written = Vec::new();
    let storage = c.dir().join("state");
    files(c.dir(), &[&kubeconfig, &script, &storage], &mut written);
    assert!(
        written.iter().any(|p| p.ends_with("repl_history")),
        "{written:?}"
    );
    for p in written {
        let body = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
        assert_clean(&p.display().to_string(), &body, &secrets);
    }
}

/// The output paths added after the sweep above: `token audit` in each
/// format, `dev-cluster join` (accepted and refused) and the daemon's `on:`
/// event handlers, at several verbosities. Exempt: `token create` stdout.
#[test]
fn audit_join_and_event_handlers_show_no_secret() {
    let c = TestCluster::start();
    let made = c
        .tokensmith()
        .args(["token", "create", "--print-join-command", "--ttl", "1h"])
        .output()
        .expect("create");
    assert!(made.status.success(), "{}", text(&made.stderr));
    let join_line = text(&made.stdout).trim().to_owned();
    let token = join_line
        .split_whitespace()
        .skip_while(|w| *w != "--token")
        .nth(1)
        .expect("a --token in the join command")
        .to_owned();
    let (id, secret) = token.split_once('.').expect("id.secret");
    // A wrong secret for the same id: parsed from the join line, refused, and
    // never repeated either.
    let wrong = "wr0ngs3cr3tv4lu3";
    let wrong_line = join_line.replace(secret, wrong);
    let secrets = vec![secret.to_owned(), wrong.to_owned()];
    let levels: [&[&str]; 4] = [
        &[],
        &["--v=5"],
        &["-vvv"],
        &["-vvv", "--log-format", "json"],
    ];
    for (i, flags) in levels.iter().enumerate() {
        for format in ["text", "json", "yaml"] {
            let out = c
                .tokensmith()
                .args(*flags)
                .args(["token", "audit", "-o", format])
                .env_remove("RUST_LOG")
                .output()
                .expect("audit");
            assert!(out.status.success(), "{flags:?}: {}", text(&out.stderr));
            assert!(text(&out.stdout).contains(id), "the audit lists {id}");
            assert_clean(
                &format!("audit {format} {flags:?} stdout"),
                &text(&out.stdout),
                &secrets,
            );
            assert_clean(
                &format!("audit {format} {flags:?} stderr"),
                &text(&out.stderr),
                &secrets,
            );
        }
        let out = c
            .tokensmith()
            .args(*flags)
            .args([
                "dev-cluster",
                "join",
                &join_line,
                "--node-name",
                &format!("hygiene-{i}"),
            ])
            .env_remove("RUST_LOG")
            .output()
            .expect("join");
        assert!(out.status.success(), "{flags:?}: {}", text(&out.stderr));
        assert_clean(
            &format!("join {flags:?} stdout"),
            &text(&out.stdout),
            &secrets,
        );
        assert_clean(
            &format!("join {flags:?} stderr"),
            &text(&out.stderr),
            &secrets,
        );
        let out = c
            .tokensmith()
            .args(*flags)
            .args([
                "dev-cluster",
                "join",
                &wrong_line,
                "--node-name",
                "refused",
                "--timeout",
                "5s",
            ])
            .env_remove("RUST_LOG")
            .output()
            .expect("join");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{flags:?}: a wrong secret is refused"
        );
        assert_clean(
            &format!("refused join {flags:?} stdout"),
            &text(&out.stdout),
            &secrets,
        );
        assert_clean(
            &format!("refused join {flags:?} stderr"),
            &text(&out.stderr),
            &secrets,
        );
    }

    // Event handlers: each logs the token it is given and throws it.
    let jobs = c.dir().join("event-jobs");
    std::fs::create_dir_all(&jobs).expect("jobs dir");
    std::fs::write(
        jobs.join("expiring.rhai"),
        "//! on: token-expiring 2h\nfn on_token_expiring(t) { log::info(`expiring saw ${t.secret} ${t}`); throw t.value; }\n",
    )
    .expect("job");
    std::fs::write(
        jobs.join("deleted.rhai"),
        "//! on: token-deleted\nfn on_token_deleted(t) { log::warn(`deleted saw ${t}`); print(t); throw `gone: ${t}`; }\n",
    )
    .expect("job");
    let log = c.dir().join("events.log");
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_tokensmith"))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LOG")
        .env("HOME", c.dir().join("home"))
        .env("KUBECONFIG", c.kubeconfig_path())
        .current_dir(c.dir())
        .args(["-vvv", "watch"])
        .arg(&jobs)
        .arg("--state-dir")
        .arg(c.dir().join("event-state"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(c.dir().join("events.out")).expect("out"))
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("watch");
    let wait_for = |needle: &str| {
        let start = Instant::now();
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(needle)
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "no {needle:?} in the daemon log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("expiring saw");
    let deleted = c
        .tokensmith()
        .args(["token", "delete", id])
        .output()
        .expect("delete");
    assert!(deleted.status.success(), "{}", text(&deleted.stderr));
    wait_for("deleted saw");
    std::thread::sleep(Duration::from_millis(500));
    let _ = daemon.kill();
    let _ = daemon.wait();
    for f in ["events.log", "events.out"] {
        let body = std::fs::read_to_string(c.dir().join(f)).unwrap_or_default();
        assert_clean(f, &body, &secrets);
    }
    let mut written = Vec::new();
    files(&c.dir().join("event-state"), &[], &mut written);
    for p in written {
        let body = String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).into_owned();
        assert_clean(&p.display().to_string(), &body, &secrets);
    }
}

/// What the attacker-style sweep found in secrets no API call returned: a
/// token written in the script, one put together from parts, one given as
/// `--arg` or in the environment. Each is hidden bare, glued to other
/// characters and in base64 (computed in Rhai, where no host function sees
/// it), in print, log, debug and an uncaught throw, at every level; and a
/// token given as a malformed flag value is not echoed by the parse error.
#[test]
fn secrets_from_literals_parts_args_and_the_environment_are_hidden_too() {
    let c = TestCluster::start();
    let lit = "swplit.l1t3r4ls3cr3t003";
    let parts = "swpprt.s3cr3tpa4rts0004";
    let arg = "swparg.4rgs3cr3tv4lu002";
    let env = "swpenv.3nvs3cr3tv4lu009";
    // Base64 written in Rhai: the encoded text never passes through tokensmith.
    let script = c.dir().join("sweep.rhai");
    std::fs::write(
        &script,
        format!(
            r#"
fn b64(s) {{
    let abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.to_blob(); let out = ""; let i = 0;
    while i < b.len() {{
        let n = b[i] * 65536 + (if i + 1 < b.len() {{ b[i + 1] * 256 }} else {{ 0 }}) + (if i + 2 < b.len() {{ b[i + 2] }} else {{ 0 }});
        out += abc[(n / 262144) % 64]; out += abc[(n / 4096) % 64];
        out += if i + 1 < b.len() {{ abc[(n / 64) % 64] }} else {{ "=" }};
        out += if i + 2 < b.len() {{ abc[n % 64] }} else {{ "=" }};
        i += 3;
    }}
    out
}}
let lit = "{lit}";
let parts = "swpprt." + "s3cr3tpa" + "4rts0004";
let all = [lit, parts, args.tok, env("SWEEP_TOK")];
for s in all {{
    print(b64(s)); log::warn(b64("a" + s)); debug(b64("ab" + s)); log::info("x" + s);
    print(s.sub_string(7));
}}
throw "x" + lit + parts;
"#
        ),
    )
    .expect("write script");
    let secrets: Vec<String> = [lit, parts, arg, env]
        .iter()
        .map(|t| t[7..].to_owned())
        .collect();
    for level in [
        &[][..],
        &["-v"],
        &["-vvv"],
        &["--v=10", "--log-format", "json"],
    ] {
        let out = c
            .tokensmith()
            .args(level)
            .args(["run", "--allow-env", "SWEEP_TOK", "--arg"])
            .arg(format!("tok={arg}"))
            .arg(&script)
            .env("SWEEP_TOK", env)
            .output()
            .expect("run");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{level:?}: {}",
            text(&out.stderr)
        );
        assert_clean(&format!("{level:?} stdout"), &text(&out.stdout), &secrets);
        assert_clean(&format!("{level:?} stderr"), &text(&out.stderr), &secrets);
        assert!(text(&out.stderr).contains("uncaught exception: xswplit.****************"));
    }
    // A usage error that echoes a flag's value.
    for flags in [["--arg", arg], ["--timeout", arg]] {
        let out = c
            .tokensmith()
            .arg("run")
            .arg(&script)
            .args(flags)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert_clean(&format!("{flags:?}"), &text(&out.stderr), &secrets);
    }
    // A malformed token argument: kubeadm's message, its secret part hidden.
    let out = c
        .tokensmith()
        .args(["token", "create", "swpcli.cl1s3cr3tv4lu007x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_clean(
        "token create",
        &text(&out.stderr),
        &["cl1s3cr3tv4lu007".to_owned()],
    );
}
