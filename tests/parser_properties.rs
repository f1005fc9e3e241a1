//! Property tests over every parser that reads user input: token strings,
//! Go durations, RFC 3339 expiry, usages, groups, cron specs, `//!` header
//! lines, sink specs, kubeconfig and `--config` files, go-template and
//! jsonpath. For any input: no panic, and an error as the user sees it
//! (after `Failure::render`) is one line (bar usages, which kubeadm repeats
//! as they are), holds no control character but newline and tab, and
//! repeats at most a short prefix of a huge input. Where a format defines a
//! round trip, it holds (expiry format→parse, cron source preserved; token
//! and duration round trips are in tests/token_properties.rs).
//!
//! go-template and jsonpath errors repeat the template as kubectl does
//! (`error parsing template <raw>, …`), newlines included, so for those the
//! one-line property is not asserted; the others are.

use std::collections::BTreeSet;

use proptest::prelude::*;
use tokensmith::failure::Failure;

/// The longest error line a bad input may produce, however long the input.
const MAX_SHOWN: usize = 700;

/// Inputs: short printable text, short text with any character (controls
/// included), and a huge run pasted by mistake.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "(?s).{0,40}",
        ("[a-z0-9.:@*/,-]{0,12}", 300..6000usize)
            .prop_map(|(p, n)| format!("{p}{}", "z".repeat(n))),
    ]
}

/// What `main` would print for `message`: checked for the properties above.
fn shown_ok(what: &str, input: &str, message: &str, one_line: bool) -> Result<(), TestCaseError> {
    prop_assert!(
        !message.trim().is_empty(),
        "{what}: empty error for {input:?}"
    );
    let shown = Failure::new(1, message).render();
    let body = shown.strip_suffix('\n').unwrap_or(&shown);
    if one_line {
        prop_assert!(
            !body.contains('\n'),
            "{what}: several lines for {input:?}: {shown:?}"
        );
    }
    prop_assert!(
        // Tab is left as it is (it cannot drive a terminal), as kubeadm leaves it.
        !body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{what}: a control character for {input:?}: {shown:?}"
    );
    if input.chars().count() > 1000 {
        prop_assert!(
            shown.chars().count() <= MAX_SHOWN,
            "{what}: {} characters shown for a {}-character input: {}…",
            shown.chars().count(),
            input.chars().count(),
            shown.chars().take(200).collect::<String>()
        );
    }
    Ok(())
}

/// The `-o` printer for `output`, as `token list -o …` builds it.
fn printer(output: &str) -> Result<(), String> {
    let flags = tokensmith::output::PrintFlags {
        output: output.to_owned(),
        ..Default::default()
    };
    tokensmith::output::printer(&flags)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// One valid field over `lo..=hi`; a step is at most `max_step` (the
/// field's span: 7 for day-of-week, whose 0 and 7 are both Sunday).
fn cron_field(lo: u32, hi: u32, max_step: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        (lo..=hi).prop_map(|v| v.to_string()),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (1..=max_step).prop_map(|s| format!("*/{s}")),
        proptest::collection::btree_set(lo..=hi, 1..4)
            .prop_map(|s| { s.iter().map(u32::to_string).collect::<Vec<_>>().join(",") }),
    ]
}

fn valid_cron() -> impl Strategy<Value = String> {
    (
        cron_field(0, 59, 60),
        cron_field(0, 23, 24),
        cron_field(1, 28, 31),
        cron_field(1, 12, 12),
        cron_field(0, 7, 7),
        " {0,2}",
    )
        .prop_map(|(m, h, dom, mon, dow, pad)| format!("{pad}{m} {h} {dom} {mon} {dow}{pad}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn token_strings(s in input()) {
        if let Err(e) = tokensmith::token::BootstrapTokenString::parse(&s) {
            shown_ok("token", &s, &e.to_string(), true)?;
        }
    }

    #[test]
    fn go_durations(s in input()) {
        if let Err(e) = tokensmith::token::parse_go_duration(&s) {
            shown_ok("duration", &s, &e.to_string(), true)?;
        }
    }

    #[test]
    fn rfc3339_expiry(s in input()) {
        if let Err(e) = tokensmith::token::Expiry::parse(&s) {
            shown_ok("expiry", &s, &e.to_string(), true)?;
        }
    }

    #[test]
    fn rfc3339_expiry_round_trips(
        secs in 0i64..4_000_000_000,
        offset_min in -14 * 60i32..=14 * 60,
    ) {
        let at = jiff::Timestamp::from_second(secs).unwrap();
        let offset = jiff::tz::Offset::from_seconds(offset_min * 60).unwrap();
        let text = at.display_with_offset(offset).to_string();
        let parsed = tokensmith::token::Expiry::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed.timestamp(), at);
        let again = tokensmith::token::Expiry::parse(&parsed.to_rfc3339()).unwrap();
        prop_assert_eq!(again.timestamp(), at);
    }

    #[test]
    fn usages(list in proptest::collection::vec(input(), 1..4)) {
        if let Err(e) = tokensmith::token::validate::validate_usages(&list) {
            // kubeadm repeats a bad usage with `%s`, a newline in it too; the
            // drop-in says the same (control characters are still escaped).
            shown_ok("usages", &list.concat(), &e, false)?;
        }
    }

    #[test]
    fn groups(g in input()) {
        if let Err(e) = tokensmith::token::validate::validate_group(&g) {
            shown_ok("group", &g, &e, true)?;
        }
    }

    #[test]
    fn cron_specs(s in input()) {
        match tokensmith::schedule::CronSpec::parse(&s) {
            Ok(spec) => prop_assert_eq!(spec.source(), s.trim()),
            Err(e) => shown_ok("cron", &s, &e.to_string(), true)?,
        }
    }

    #[test]
    fn cron_source_is_preserved(s in valid_cron()) {
        let spec = tokensmith::schedule::CronSpec::parse(&s)
            .map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
        prop_assert_eq!(spec.source(), s.trim());
        prop_assert_eq!(spec.to_string(), s.trim());
        let again = tokensmith::schedule::CronSpec::parse(spec.source()).unwrap();
        prop_assert_eq!(again, spec);
    }

    #[test]
    fn cron_fields_with_one_bad_item(
        good in valid_cron(),
        field in 0usize..5,
        bad in prop_oneof![
            (60u32..100_000).prop_map(|v| v.to_string()),
            Just(String::new()),
            "[a-z]{1,5}",
            "[0-9]{1,2}-[0-9]{1,2}/0",
            "[0-9]{1,2},,[0-9]{1,2}",
            "\\PC{1,6}",
        ],
    ) {
        let mut parts: Vec<String> = good.split_whitespace().map(str::to_owned).collect();
        parts[field] = if bad.is_empty() { "1,".to_owned() } else { bad.clone() };
        let expr = parts.join(" ");
        if let Err(e) = tokensmith::schedule::CronSpec::parse(&expr) {
            shown_ok("cron field", &expr, &e.to_string(), true)?;
            let shown = e.to_string();
            prop_assert!(!shown.ends_with(": "), "empty reason: {shown}");
            prop_assert!(!e.reason.contains("Invalid"), "the crate's words: {shown}");
        }
    }

    #[test]
    fn header_lines(key in prop_oneof![
        Just("schedule".to_owned()), Just("timezone".to_owned()), Just("overlap".to_owned()),
        Just("timeout".to_owned()), Just("arg".to_owned()), Just("on".to_owned()), "\\PC{0,10}",
    ], value in input()) {
        let source = format!("//! {key}: {value}\nlet x = 1;\n");
        if let Err(e) = tokensmith::schedule::header::parse(&source) {
            shown_ok("header", &value, &e.to_string(), true)?;
        }
    }

    #[test]
    fn sink_specs(entries in proptest::collection::vec((
        prop_oneof![
            Just("file"), Just("secret"), Just("configmap"), Just("webhook"), Just("stdout"),
            Just("key"), Just("headers"), Just("timeout"), Just("attempts"), Just("payload"),
            Just("authorization_env"), Just("bogus"),
        ],
        prop_oneof![input().prop_map(rhai::Dynamic::from), any::<i64>().prop_map(rhai::Dynamic::from),
                    any::<bool>().prop_map(rhai::Dynamic::from)],
    ), 0..4)) {
        let mut map = rhai::Map::new();
        for (k, v) in entries {
            map.insert(k.into(), v);
        }
        let spec = rhai::Dynamic::from_map(map);
        let r = tokensmith::script::api::sink_spec::sink_from_spec(
            "publish::to", "sink", &spec, &BTreeSet::new(), rhai::Position::NONE,
        );
        if let Err(e) = r {
            shown_ok("sink spec", &format!("{spec:?}"), &e.to_string(), true)?;
        }
    }
}

proptest! {
    // Each case writes a file: fewer of them.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn kubeconfig_files(
        server in input(),
        token in input(),
        context in prop_oneof![Just("x".to_owned()), input()],
        garbage in prop_oneof![Just(String::new()), input()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        let yaml = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n\
             contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: {}\n\
             users:\n- name: u\n  user:\n    token: {}\n{garbage}",
            serde_json::to_string(&server).unwrap(),
            serde_json::to_string(&context).unwrap(),
            serde_json::to_string(&token).unwrap(),
        );
        std::fs::write(&path, &yaml).unwrap();
        if let Err(e) = tokensmith::cluster::kubeconfig::load(&path, None) {
            let shown = e.to_string();
            shown_ok("kubeconfig", &yaml, &shown, false)?;
            let secret = token.trim();
            // The context's name and the server are echoed as kubeadm echoes
            // them; a generated token that is part of either shows through them.
            if secret.len() >= 8 && !context.contains(secret) && !server.contains(secret) {
                prop_assert!(!shown.contains(secret), "the token is echoed: {shown}");
            }
        }
    }

    #[test]
    fn config_files(
        kind in prop_oneof![Just("InitConfiguration".to_owned()), Just("ClusterConfiguration".to_owned()), "\\PC{0,12}"],
        token in input(),
        ttl in input(),
        extra in prop_oneof![Just(String::new()), input()],
    ) {
        let yaml = format!(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: {}\nbootstrapTokens:\n- token: {}\n  ttl: {}\n{extra}",
            serde_json::to_string(&kind).unwrap(),
            serde_json::to_string(&token).unwrap(),
            serde_json::to_string(&ttl).unwrap(),
        );
        let r = tokensmith::token::init_config::bootstrap_tokens_from_config(
            &yaml,
            std::path::Path::new("config.yaml"),
        );
        if let Err(e) = r {
            shown_ok("config file", &yaml, &e.to_string(), false)?;
        }
    }

    #[test]
    fn go_templates(raw in prop_oneof![
        input(),
        "(\\{\\{|\\}\\}|\\.token|range|end|if|define \"a\"|template \"a\"|printf|len|\\| |\\$x|:=| ){0,16}",
    ]) {
        if let Err(e) = printer(&format!("go-template={raw}")) {
            shown_ok("go-template", &raw, &e, false)?;
        }
    }

    #[test]
    fn jsonpaths(raw in prop_oneof![
        input(),
        "(\\{|\\}|\\.|\\.\\.|\\[|\\]|\\*|\\?|@|==|range|end|token|'|\"|[0-9]|:){0,16}",
    ]) {
        if let Err(e) = printer(&format!("jsonpath={raw}")) {
            shown_ok("jsonpath", &raw, &e, false)?;
        }
    }
}
