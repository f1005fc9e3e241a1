//! The upstream tier, differential: generated `token` command lines run
//! through real kubeadm v1.37.2 and through tokensmith on the same cluster
//! (the dev cluster, and a real kube-apiserver), comparing stdout, stderr,
//! exit code and the bootstrap-token Secrets left behind, modulo the random
//! parts (generated token ids and secrets, the moment of creation).
//!
//! Cases come from a seeded generator; the seed is printed, and
//! `TOKENSMITH_DIFF_SEED=<n>` replays a run. `TOKENSMITH_DIFF_CASES` sets the
//! count (default 1000). Every difference is printed; the test fails unless
//! none is left. Deliberate departures are normalised away here, each naming
//! its entry in `docs/departures.md`.
//!
//! Run with `bash tests/upstream/run.sh` (ignored by the hermetic `cargo test`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use support::TestCluster;
use support::upstream::{ClusterUnderTest, UpstreamCluster, client_from};

/// SplitMix64: small, seeded, and the same on every platform.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.below(options.len())]
    }
    fn token_chars(&mut self, n: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        (0..n)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect()
    }
    fn token(&mut self) -> String {
        format!("{}.{}", self.token_chars(6), self.token_chars(16))
    }
}

const TTLS: &[&str] = &[
    "1h", "2h30m", "24h", "0", "0s", "-1h", "-5m", "90m", "1h2m3s", "87600h", "2562047h",
    "9999999h", "1d", "abc", "", "1.5h", "+2h", "1e3h", "300ms", "15s",
];
const USAGES: &[&str] = &[
    "signing",
    "authentication",
    "signing,authentication",
    "authentication,signing",
    "",
    "foo",
    "signing,foo",
    "foo,bar",
    "authentication,authentication",
    "Signing",
    "\"signing,authentication\"",
];
const GROUPS: &[&str] = &[
    "system:bootstrappers:kubeadm:default-node-token",
    "system:bootstrappers:foo",
    "system:bootstrappers:a,system:bootstrappers:b",
    "",
    "foo",
    "system:bootstrappers",
    "system:bootstrappers:",
    "system:bootstrappers:Foo",
    "system:bootstrappers:foo-",
    "system:bootstrappers:a:b-c:9",
];
const DESCRIPTIONS: &[&str] = &[
    "",
    "hello",
    "two words",
    "héllo wörld",
    "a,b,c",
    "tab\there",
    "quote \" and 'single'",
    "<b>&amp;</b>",
    "a description that is longer than fifty-six characters, so it widens its row",
];
const BAD_TOKENS: &[&str] = &[
    "abc.def",
    "ABCDEF.0123456789ABCDEF",
    "abcdef0123456789abcdef",
    "abcdef.0123456789abcde",
    "abcdef.0123456789abcdefg",
    "abcde_.0123456789abcdef",
    "",
    " abcdef.0123456789abcdef",
];
const OUTPUTS: &[&str] = &[
    "text",
    "json",
    "yaml",
    "go-template={{.token}}",
    "go-template={{.description}}|{{.usages}}",
    "go-template={{.nosuchkey}}",
    "go-template={{",
    "template={{.token}} {{.expires}}",
    "jsonpath={.token}",
    "jsonpath={.usages[*]}",
    "jsonpath={.groups}",
    "jsonpath={.nosuchkey}",
    "jsonpath={",
    "jsonpath-as-json={.token}",
    "name",
    "wide",
    "JSON",
    "kyaml",
    "",
    "go-template",
    "jsonpath",
];
const CONFIGS: &[&str] = &[
    // A valid InitConfiguration with two tokens: both created, the first printed.
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfgaaa.0123456789abcdef\n  description: from a file\n  ttl: 2h\n  usages: [signing, authentication]\n  groups: [system:bootstrappers:cfg]\n- token: cfgbbb.0123456789abcdef\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- description: generated from a file\n  ttl: 0s\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfgccc.0123456789abcdef\n  usages: [nope]\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: not-a-token\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfgddd.0123456789abcdef\n  groups: [nope]\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfgeee.0123456789abcdef\n  ttl: nonsense\n",
    "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfgfff.0123456789abcdef\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    token: cfgggg.0123456789abcdef\n    unsafeSkipCAVerification: true\n    apiServerEndpoint: 127.0.0.1:6443\n",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n",
    "apiVersion: kubeadm.k8s.io/v9\nkind: InitConfiguration\n",
    "this is: [not yaml\n",
    "",
    "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: cfghhh.0123456789abcdef\n  bogusField: 1\n",
];

/// One generated command line and what it needs set up first.
#[derive(Debug, Clone)]
struct Case {
    args: Vec<String>,
    /// A config file's contents, written to `config.yaml` in the case dir.
    config: Option<&'static str>,
    /// Tokens to exist before the command runs (list and delete cases).
    seed_tokens: bool,
    /// Whether the outcome depends on the cluster (else it runs once).
    uses_cluster: bool,
}

fn maybe_unknown_flag(g: &mut Gen, args: &mut Vec<String>) {
    if g.chance(4) {
        args.push(
            g.pick(&["--foo", "--ttl", "-x", "--usages", "--output=json"])
                .into(),
        );
    }
}

/// Now and then a kubeconfig that is not there: which check comes first (a
/// flag's value, a token argument, the kubeconfig, a config file) and how
/// the failure reads, dry run or not, are kubeadm's.
fn maybe_missing_kubeconfig(g: &mut Gen, args: &mut Vec<String>) {
    if g.chance(6) {
        args.push("--kubeconfig=missing.conf".into());
    }
}

fn generate_case(g: &mut Gen) -> Case {
    let mut args: Vec<String> = vec!["token".into()];
    let mut config = None;
    let mut seed_tokens = false;
    let mut uses_cluster = true;
    match g.below(100) {
        0..=9 => {
            args.push("generate".into());
            uses_cluster = false;
            if g.chance(20) {
                args.push(g.pick(&["extra", "--ttl=1h", "-o", "--help"]).into());
            }
            maybe_unknown_flag(g, &mut args);
        }
        10..=59 => {
            args.push("create".into());
            if g.chance(25) {
                args.push(g.token());
            } else if g.chance(8) {
                args.push(g.pick(BAD_TOKENS).into());
            }
            if g.chance(60) {
                args.push(format!("--ttl={}", g.pick(TTLS)));
            }
            if g.chance(35) {
                args.push(format!("--usages={}", g.pick(USAGES)));
                if g.chance(15) {
                    args.push(format!("--usages={}", g.pick(USAGES)));
                }
            }
            if g.chance(35) {
                args.push(format!("--groups={}", g.pick(GROUPS)));
            }
            if g.chance(30) {
                args.push("--description".into());
                args.push(g.pick(DESCRIPTIONS).into());
            }
            if g.chance(30) {
                args.push("--print-join-command".into());
            }
            if g.chance(10) {
                args.push(format!(
                    "--certificate-key={}",
                    g.pick(&[
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "not-hex"
                    ])
                ));
            }
            if g.chance(15) {
                config = Some(CONFIGS[g.below(CONFIGS.len())]);
                // Mostly alone, sometimes mixed with flags.
                if g.chance(70) {
                    args.truncate(2);
                    if g.chance(30) {
                        args.push("--print-join-command".into());
                    }
                }
                args.push("--config=config.yaml".into());
            }
            if g.chance(5) {
                args.push("--dry-run".into());
            }
            maybe_missing_kubeconfig(g, &mut args);
            maybe_unknown_flag(g, &mut args);
        }
        60..=79 => {
            args.push("list".into());
            seed_tokens = true;
            if g.chance(75) {
                let o = g.pick(OUTPUTS);
                if g.chance(50) {
                    args.push(format!("-o={o}"));
                } else {
                    args.push("--output".into());
                    args.push(o.into());
                }
            }
            if g.chance(10) {
                args.push(format!(
                    "--allow-missing-template-keys={}",
                    g.pick(&["true", "false"])
                ));
            }
            if g.chance(5) {
                args.push("extra".into());
            }
            maybe_missing_kubeconfig(g, &mut args);
            maybe_unknown_flag(g, &mut args);
        }
        80..=95 => {
            args.push("delete".into());
            seed_tokens = true;
            for _ in 0..g.below(3) {
                let which = g.below(5);
                args.push(match which {
                    0 => SEEDS[g.below(SEEDS.len())].token.into(),
                    1 => SEEDS[g.below(SEEDS.len())].token[..6].into(),
                    2 => g.token(),
                    3 => g.token()[..6].into(),
                    _ => g.pick(BAD_TOKENS).into(),
                });
            }
            if g.chance(5) {
                args.push("--dry-run".into());
            }
            maybe_missing_kubeconfig(g, &mut args);
            maybe_unknown_flag(g, &mut args);
        }
        _ => {
            uses_cluster = false;
            if g.chance(50) {
                args.push(g.pick(&["nosuch", "help", "--help", "-h"]).into());
            }
        }
    }
    Case {
        args,
        config,
        seed_tokens,
        uses_cluster,
    }
}

/// Tokens that exist before list and delete cases, with expirations half
/// an hour off a whole hour so that a TTL column cannot tick between the
/// two tools' runs.
struct SeedToken {
    token: &'static str,
    expires_in_secs: Option<i64>,
    description: &'static str,
    usages: &'static [&'static str],
    groups: &'static str,
}

const SEEDS: &[SeedToken] = &[
    SeedToken {
        token: "seed01.0123456789abcdef",
        expires_in_secs: Some(5 * 3600 + 1800),
        description: "first",
        usages: &["signing", "authentication"],
        groups: "system:bootstrappers:kubeadm:default-node-token",
    },
    SeedToken {
        token: "seed02.0123456789abcdef",
        expires_in_secs: None,
        description: "",
        usages: &["authentication"],
        groups: "",
    },
    SeedToken {
        token: "seed03.0123456789abcdef",
        expires_in_secs: Some(3 * 86400 + 1800),
        description: "a description that is longer than fifty-six characters, so it widens its row",
        usages: &["signing"],
        groups: "system:bootstrappers:a,system:bootstrappers:b",
    },
];

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .expect("timestamp in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// One base for the whole run, so both tools list the same expirations.
fn seed_base() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(now_secs)
}

/// Whether a Secret's expiration is the one `reset` seeded, untouched by the
/// tool: shown as such, since the tools start seconds apart and a time
/// relative to each start would differ by that gap.
fn is_seeded_expiration(name: &str, t: i64) -> bool {
    SEEDS.iter().any(|s| {
        name == format!("bootstrap-token-{}", &s.token[..6])
            && s.expires_in_secs.map(|e| seed_base() + e) == Some(t)
    })
}

fn seed_secret(t: &SeedToken, base: i64) -> Secret {
    let (id, secret) = t.token.split_once('.').expect("seed token has a dot");
    let mut data = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        data.insert(
            k.to_string(),
            k8s_openapi::ByteString(v.as_bytes().to_vec()),
        );
    };
    put("token-id", id);
    put("token-secret", secret);
    if !t.description.is_empty() {
        put("description", t.description);
    }
    if let Some(s) = t.expires_in_secs {
        put("expiration", &rfc3339(base + s));
    }
    for u in t.usages {
        put(&format!("usage-bootstrap-{u}"), "true");
    }
    if !t.groups.is_empty() {
        put("auth-extra-groups", t.groups);
    }
    Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(format!("bootstrap-token-{id}")),
            namespace: Some("kube-system".into()),
            ..Default::default()
        },
        type_: Some("bootstrap.kubernetes.io/token".into()),
        data: Some(data),
        ..Default::default()
    }
}

/// What one tool did for one case, normalised.
#[derive(Debug, PartialEq, Clone)]
struct Observed {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    secrets: Vec<String>,
}

/// Replaces every full token (and a lone token id after `bootstrap-token-`)
/// not named in `keep` with a placeholder.
fn mask_tokens(s: &str, keep: &[String]) -> String {
    let b = s.as_bytes();
    let is_tok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if i + 23 <= b.len()
            && (i == 0 || !is_tok(b[i - 1]))
            && b[i..i + 6].iter().all(|&c| is_tok(c))
            && b[i + 6] == b'.'
            && b[i + 7..i + 23].iter().all(|&c| is_tok(c))
            && (i + 23 == b.len() || !is_tok(b[i + 23]))
        {
            let t = &s[i..i + 23];
            if keep.iter().any(|k| k == t) {
                out.push_str(t);
            } else {
                out.push_str("<token>");
            }
            i += 23;
            continue;
        }
        let ch = s[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// A Secret as text: name, type, labels, annotations and decoded data, with
/// generated ids/secrets masked and the expiration shown relative to the
/// tool's start (rounded to 10 s, so that the run's duration drops out).
fn describe_secret(s: &Secret, keep: &[String], started: i64) -> String {
    let mut out = String::new();
    let name = s.metadata.name.clone().unwrap_or_default();
    let id = name.trim_start_matches("bootstrap-token-");
    let keep_id = keep.iter().any(|k| k.starts_with(&format!("{id}.")));
    out.push_str(&format!(
        "name={} type={:?} labels={:?} annotations={:?}",
        if keep_id {
            name.clone()
        } else {
            "bootstrap-token-<id>".into()
        },
        s.type_,
        s.metadata.labels,
        s.metadata.annotations
    ));
    for (k, v) in s.data.clone().unwrap_or_default() {
        let v = String::from_utf8_lossy(&v.0).into_owned();
        let shown = match k.as_str() {
            "token-id" | "token-secret" if !keep_id => "<random>".into(),
            "expiration" => match chrono::DateTime::parse_from_rfc3339(&v) {
                Ok(t) if is_seeded_expiration(&name, t.timestamp()) => "<as seeded>".into(),
                Ok(t) => format!("now+{}s", ((t.timestamp() - started + 5) / 10) * 10),
                Err(_) => v,
            },
            _ => v,
        };
        out.push_str(&format!(" {k}={shown}"));
    }
    out
}

/// The normalisations that stand for documented departures
/// (docs/departures.md); each is applied to both sides alike.
fn normalise(text: &str, keep: &[String], dir: &Path) -> String {
    let mut t = mask_tokens(text, keep);
    // The case directory (temporary, per cluster) can appear in messages.
    t = t.replace(&dir.display().to_string(), "<dir>");
    // kubeadm's config defaulting asks dl.k8s.io for the stable version and
    // warns when offline (departures.md: "stable version look-up").
    t = t
        .lines()
        .filter(|l| !(l.contains("version.go:") && l.starts_with('W')))
        .map(|l| format!("{}\n", warning_as_message(l)))
        .collect::<String>()
        + if text.ends_with('\n') || text.is_empty() {
            ""
        } else {
            "<no newline>"
        };
    t
}

/// A warning line without its logger's header: kubeadm's klog
/// `W1202 17:21:19.210385   9686 initconfiguration.go:334] msg` and
/// tokensmith's `2026-12-02T17:21:19.210385Z  WARN target: msg` both as
/// `W] msg` (time, pid and source position are each logger's own).
fn warning_as_message(line: &str) -> String {
    let b = line.as_bytes();
    let klog = b.len() > 5 && b[0] == b'W' && b[1..5].iter().all(u8::is_ascii_digit);
    if klog && let Some((_, msg)) = line.split_once("] ") {
        return format!("W] {msg}");
    }
    let mut words = line.splitn(3, ' ').filter(|w| !w.is_empty());
    if let (Some(time), Some(rest)) = (words.next(), line.split_once("  WARN "))
        && time.contains('T')
        && time.ends_with('Z')
        && let Some((_, msg)) = rest.1.split_once(": ")
    {
        return format!("W] {msg}");
    }
    line.to_string()
}

struct Runner<'a> {
    cluster: &'a dyn ClusterUnderTest,
    rt: tokio::runtime::Runtime,
    client: kube::Client,
}

impl<'a> Runner<'a> {
    fn new(cluster: &'a dyn ClusterUnderTest) -> Runner<'a> {
        let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
        let client = rt.block_on(client_from(cluster.kubeconfig_path()));
        Runner {
            cluster,
            rt,
            client,
        }
    }

    fn secrets_api(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), "kube-system")
    }

    fn tokens(&self) -> Vec<Secret> {
        let api = self.secrets_api();
        self.rt.block_on(async {
            let mut list = api
                .list(&ListParams::default().fields("type=bootstrap.kubernetes.io/token"))
                .await
                .expect("list bootstrap tokens")
                .items;
            list.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
            list
        })
    }

    fn reset(&self, seed: bool) {
        let api = self.secrets_api();
        let existing = self.tokens();
        self.rt.block_on(async {
            for s in existing {
                let name = s.metadata.name.unwrap_or_default();
                let _ = api.delete(&name, &DeleteParams::default()).await;
            }
            if seed {
                let base = seed_base();
                for t in SEEDS {
                    api.create(&PostParams::default(), &seed_secret(t, base))
                        .await
                        .expect("seed a token");
                }
            }
        });
    }

    fn run(&self, case: &Case, tool: &str) -> Observed {
        if case.uses_cluster {
            self.reset(case.seed_tokens);
        }
        let dir = self.cluster.dir().join("diff-case");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("case dir");
        if let Some(cfg) = case.config {
            std::fs::write(dir.join("config.yaml"), cfg).expect("write config");
        }
        let mut cmd: Command = if tool == "kubeadm" {
            self.cluster.kubeadm()
        } else {
            self.cluster.tokensmith()
        };
        cmd.current_dir(&dir).args(&case.args);
        let started = now_secs();
        let out: Output = cmd.output().expect("tool runs");
        let keep: Vec<String> = case
            .args
            .iter()
            .filter(|a| a.len() == 23)
            .cloned()
            .chain(CONFIGS.iter().flat_map(|c| {
                c.split_whitespace()
                    .filter(|w| w.len() == 23 && w.contains('.'))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            }))
            .chain(SEEDS.iter().map(|s| s.token.to_string()))
            .collect();
        let secrets = if case.uses_cluster {
            self.tokens()
                .iter()
                .map(|s| describe_secret(s, &keep, started))
                .collect()
        } else {
            Vec::new()
        };
        Observed {
            code: out.status.code(),
            stdout: normalise(&String::from_utf8_lossy(&out.stdout), &keep, &dir),
            stderr: normalise(&String::from_utf8_lossy(&out.stderr), &keep, &dir),
            secrets,
        }
    }
}

/// Runs `cases` on one cluster; returns the differences, rendered.
/// One output of a run; a departure names the ones it explains.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stream {
    Exit,
    Stdout,
    Stderr,
    Secrets,
}

/// A known difference, each a row in `docs/departures.md` (its `row`
/// names it there). `explains` sees the case and both tools' results and
/// says whether this difference on `stream` is that departure; anything it
/// does not explain fails the test.
struct Departure {
    row: &'static str,
    stream: Stream,
    explains: fn(&Case, &Observed, &Observed) -> bool,
}

fn has(case: &Case, arg: &str) -> bool {
    case.args.iter().any(|a| a == arg)
}

/// tokensmith's stderr equals kubeadm's once `f` is applied to kubeadm's.
fn stderr_as(want: &Observed, got: &Observed, f: impl Fn(&str) -> String) -> bool {
    got.stderr == f(&want.stderr)
}

/// Without warning lines (kubeadm's klog `W…` lines, as [`normalise`] left them).
fn without_klog_warnings(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("W] "))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A redacted token (`abcdef.****************`) as the harness masks a token.
fn unredacted(s: &str) -> String {
    let mut out = s.to_string();
    while let Some(i) = out.find(".****************") {
        let start = i.saturating_sub(6);
        out.replace_range(start..i + 17, "<token>");
    }
    out
}

const DEPARTURES: &[Departure] = &[
    Departure {
        row: "help text",
        stream: Stream::Stdout,
        explains: |c, _, _| c.args == ["token"] || has(c, "--help") || has(c, "-h"),
    },
    Departure {
        row: "program name in cobra-style messages",
        stream: Stream::Stderr,
        explains: |_, w, g| stderr_as(w, g, |s| s.replace("\"kubeadm token", "\"tokensmith token")),
    },
    Departure {
        row: "`--dry-run` output",
        stream: Stream::Stdout,
        explains: |c, w, g| {
            // The command's own result, the last line, is the same.
            has(c, "--dry-run")
                && w.stdout.starts_with("[dryrun] ")
                && g.stdout.starts_with("[dryrun] ")
                && w.stdout.lines().last() == g.stdout.lines().last()
        },
    },
    Departure {
        row: "kubeadm's klog warning lines",
        stream: Stream::Stderr,
        explains: |_, w, g| !g.stderr.is_empty() && stderr_as(w, g, without_klog_warnings),
    },
    Departure {
        row: "Logs and errors that would carry a token secret",
        stream: Stream::Stderr,
        explains: |_, w, g| redacts(&w.stderr, &g.stderr),
    },
    Departure {
        row: "Logs and errors that would carry a token secret",
        stream: Stream::Stdout,
        explains: |_, w, g| redacts(&w.stdout, &g.stdout),
    },
    Departure {
        row: "Config file error wording",
        stream: Stream::Stderr,
        explains: |c, _, _| {
            c.config.is_some_and(|cfg| {
                [
                    "this is: [not yaml",
                    "bogusField: 1",
                    "ttl: nonsense",
                    "token: not-a-token",
                    "kubeadm.k8s.io/v9",
                ]
                .iter()
                .any(|k| cfg.contains(k))
            })
        },
    },
    Departure {
        row: "A TTL under a second",
        stream: Stream::Secrets,
        explains: |c, w, g| {
            let expired = |s: &[String]| s.iter().all(|x| x.contains(" expiration=now+0s "));
            has(c, "--ttl=300ms")
                && ((w.secrets.is_empty() && expired(&g.secrets))
                    || (g.secrets.is_empty() && expired(&w.secrets)))
        },
    },
];

/// tokensmith's text is kubeadm's with every token secret redacted (a
/// token the harness masked shows as `<token>` on kubeadm's side).
fn redacts(want: &str, got: &str) -> bool {
    // Which occurrences are redacted differs (the command's own output keeps
    // the token); with every secret redacted the two texts are the same.
    got.contains(".****************")
        && (unredacted(got) == want || redact_secrets(want) == redact_secrets(got))
}

fn redact_secrets(s: &str) -> String {
    let b = s.as_bytes();
    let tok = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut out = s.to_string();
    let mut i = 0;
    while i + 23 <= b.len() {
        if b[i..i + 6].iter().all(tok) && b[i + 6] == b'.' && b[i + 7..i + 23].iter().all(tok) {
            out.replace_range(i + 7..i + 23, "****************");
            i += 23;
        } else {
            i += 1;
        }
    }
    out
}

/// What one cluster's run found: per departure (cases, differences), and
/// the differences no departure explains.
struct Findings {
    ran: usize,
    known: Vec<(usize, usize)>,
    unexplained: Vec<String>,
}

fn compare_on(name: &str, cluster: &dyn ClusterUnderTest, cases: &[Case]) -> Findings {
    let runner = Runner::new(cluster);
    let mut f = Findings {
        ran: 0,
        known: vec![(0, 0); DEPARTURES.len()],
        unexplained: Vec::new(),
    };
    for (i, case) in cases.iter().enumerate() {
        let want = runner.run(case, "kubeadm");
        let got = runner.run(case, "tokensmith");
        f.ran += 1;
        if want == got {
            continue;
        }
        let differing = [
            (Stream::Exit, want.code != got.code),
            (Stream::Stdout, want.stdout != got.stdout),
            (Stream::Stderr, want.stderr != got.stderr),
            (Stream::Secrets, want.secrets != got.secrets),
        ];
        let mut explained_by = Vec::new();
        let mut open = Vec::new();
        for (stream, differs) in differing {
            if !differs {
                continue;
            }
            match DEPARTURES
                .iter()
                .position(|d| d.stream == stream && (d.explains)(case, &want, &got))
            {
                Some(k) => explained_by.push(k),
                None => open.push(stream),
            }
        }
        if open.is_empty() {
            let mut seen = Vec::new();
            for k in explained_by {
                f.known[k].1 += 1;
                if !seen.contains(&k) {
                    f.known[k].0 += 1;
                    seen.push(k);
                }
            }
            continue;
        }
        let mut d = format!(
            "[{name} #{i}] {:?}{}\n",
            case.args,
            case.config
                .map(|c| format!(" config={c:?}"))
                .unwrap_or_default()
        );
        for stream in open {
            d.push_str(&match stream {
                Stream::Exit => format!(
                    "  exit: kubeadm {:?}, tokensmith {:?}\n",
                    want.code, got.code
                ),
                Stream::Stdout => format!(
                    "  stdout:\n    kubeadm:    {:?}\n    tokensmith: {:?}\n",
                    want.stdout, got.stdout
                ),
                Stream::Stderr => format!(
                    "  stderr:\n    kubeadm:    {:?}\n    tokensmith: {:?}\n",
                    want.stderr, got.stderr
                ),
                Stream::Secrets => format!(
                    "  secrets:\n    kubeadm:    {:?}\n    tokensmith: {:?}\n",
                    want.secrets, got.secrets
                ),
            });
        }
        f.unexplained.push(d);
    }
    f
}

/// The run's seed and `count` generated cases that `wanted` keeps: cases it
/// drops are replaced by further ones from the same generator, so each
/// cluster runs the full count.
fn seed_and_cases(wanted: fn(&Case) -> bool) -> (u64, Vec<Case>) {
    let seed = std::env::var("TOKENSMITH_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| now_secs() as u64);
    let n: usize = std::env::var("TOKENSMITH_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mut g = Gen(seed);
    let cases = std::iter::repeat_with(|| generate_case(&mut g))
        .filter(wanted)
        .take(n)
        .collect();
    (seed, cases)
}

fn report(seed: u64, total: usize, cluster: &str, f: &Findings) {
    eprintln!(
        "differential: seed {seed} (replay: TOKENSMITH_DIFF_SEED={seed}); {total} generated cases; {} run on {cluster}; {} differences not in the known departures",
        f.ran,
        f.unexplained.len()
    );
    for (d, (cases, diffs)) in DEPARTURES.iter().zip(&f.known) {
        eprintln!(
            "  known departure {:?} ({:?}): {cases} cases, {diffs} differences",
            d.row, d.stream
        );
    }
    for d in &f.unexplained {
        eprintln!("{d}");
    }
    assert!(
        f.unexplained.is_empty(),
        "{} differences between kubeadm and tokensmith not in the known departures (seed {seed}); see above",
        f.unexplained.len()
    );
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn tokensmith_matches_kubeadm_on_the_dev_cluster() {
    let (seed, cases) = seed_and_cases(|_| true);
    let dev = TestCluster::start();
    let findings = compare_on("dev", &dev, &cases);
    report(seed, cases.len(), "the dev cluster", &findings);
}

#[test]
#[ignore = "upstream tier: bash tests/upstream/run.sh"]
fn tokensmith_matches_kubeadm_on_kube_apiserver() {
    // Cases that never reach a cluster ran against the dev cluster already;
    // further cases that do take their places.
    let (seed, cases) = seed_and_cases(|c| c.uses_cluster);
    let real = UpstreamCluster::start();
    let findings = compare_on("real", &real, &cases);
    report(seed, cases.len(), "kube-apiserver", &findings);
}
