//! Sink specs as scripts write them: each kind read, and every bad spec
//! named with the key at fault and what is accepted.

use super::*;

fn parse(script: &str) -> Result<Sink, String> {
    let engine = rhai::Engine::new();
    let spec: Dynamic = engine.eval(script).expect("a spec map");
    let allow = BTreeSet::from(["TS_SINK_TEST_AUTH".to_owned()]);
    sink_from_spec("token::rotate", "publish[0]", &spec, &allow, Position::NONE).map_err(|e| {
        match *e {
            EvalAltResult::ErrorRuntime(v, _) => v
                .read_lock::<super::super::errors::HostError>()
                .map(|h| h.to_string())
                .unwrap_or_default(),
            other => other.to_string(),
        }
    })
}

#[test]
fn each_kind_of_sink_is_read() {
    assert!(
        matches!(parse(r#"#{file: "/tmp/j"}"#), Ok(Sink::File(p)) if p.to_str() == Some("/tmp/j"))
    );
    assert_eq!(
        parse(r#"#{secret: "prov/join"}"#).map(|s| s.describe()),
        Ok("secret prov/join[join-command]".to_owned())
    );
    assert_eq!(
        parse(r#"#{configmap: "prov/join", key: "cmd"}"#).map(|s| s.describe()),
        Ok("configmap prov/join[cmd]".to_owned())
    );
    assert!(matches!(parse("#{stdout: true}"), Ok(Sink::Stdout)));
    match parse(
        r#"#{webhook: "https://h/x", headers: #{"X-Team": "a"}, timeout: "3s", attempts: 2, payload: #{cluster: "eu"}}"#,
    ) {
        Ok(Sink::Webhook { hook, extra }) => {
            assert_eq!(hook.headers, [("X-Team".to_owned(), "a".to_owned())]);
            assert_eq!(hook.timeout, Duration::from_secs(3));
            assert_eq!(hook.attempts, 2);
            assert_eq!(extra["cluster"], "eu");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_specs_name_the_key_and_what_is_accepted() {
    let e = parse(r#"#{webhook: "https://h", hedaers: #{}}"#).unwrap_err();
    assert!(
        e.contains(
            "publish[0]: unknown key \"hedaers\" for a webhook sink (accepted: webhook, headers,"
        ),
        "{e}"
    );
    let e = parse(r#"#{path: "/x"}"#).unwrap_err();
    assert!(
        e.contains("a sink needs one of file, secret, configmap, webhook, stdout"),
        "{e}"
    );
    let e = parse(r#"#{file: "/x", stdout: true}"#).unwrap_err();
    assert!(e.contains("give each sink its own map"), "{e}");
    let e = parse(r#"#{secret: "no-slash"}"#).unwrap_err();
    assert!(e.contains("\"namespace/name\""), "{e}");
    let e = parse(r#"#{secret: "/name"}"#).unwrap_err();
    assert!(
        e.contains("publish[0]: the namespace must not be empty"),
        "{e}"
    );
    let e = parse(r#"#{file: ""}"#).unwrap_err();
    assert!(e.contains("the path must not be empty"), "{e}");
    let e = parse(r#"#{webhook: "ftp://x"}"#).unwrap_err();
    assert!(e.contains("is not an http:// or https:// URL"), "{e}");
    let e = parse(r#"#{file: 3}"#).unwrap_err();
    assert!(e.contains("file must be a string, got int"), "{e}");
    let e = parse("#{stdout: false}").unwrap_err();
    assert!(e.contains("stdout must be true"), "{e}");
    let e = parse(r#"#{webhook: "https://h", attempts: 0}"#).unwrap_err();
    assert!(e.contains("attempts must be between 1 and 100"), "{e}");
    let e = parse(r#"[1]"#).unwrap_err();
    assert!(e.contains("a sink is a map"), "{e}");
}

#[test]
fn credentials_come_from_a_file_or_an_allowed_variable_and_are_never_echoed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = dir.path().join("auth");
    std::fs::write(&auth, "Bearer s3cr3t-value\n").expect("write");
    let spec = format!(
        r#"#{{webhook: "https://h", authorization_file: {:?}}}"#,
        auth.display().to_string()
    );
    match parse(&spec) {
        Ok(Sink::Webhook { hook, .. }) => {
            assert_eq!(
                hook.headers,
                [("Authorization".to_owned(), "Bearer s3cr3t-value".to_owned())]
            );
            assert!(!format!("{hook:?}").contains("s3cr3t"));
        }
        other => panic!("{other:?}"),
    }
    std::fs::write(&auth, "\n").expect("write");
    let e = parse(&spec).unwrap_err();
    assert!(e.contains("is empty"), "{e}");
    let e = parse(r#"#{webhook: "https://h", authorization_env: "HOME"}"#).unwrap_err();
    assert!(e.contains("--allow-env HOME"), "{e}");
    let e =
        parse(r#"#{webhook: "https://h", authorization_env: "TS_SINK_TEST_AUTH"}"#).unwrap_err();
    assert!(e.contains("TS_SINK_TEST_AUTH is not set"), "{e}");
    let e =
        parse(r#"#{webhook: "https://h", authorization_file: "/nonexistent/auth"}"#).unwrap_err();
    assert!(
        e.contains("cannot read authorization_file /nonexistent/auth"),
        "{e}"
    );
    let e =
        parse(r#"#{webhook: "https://h", headers: #{"X-K": "bad\nvalue s3cr3t"}}"#).unwrap_err();
    assert!(
        e.contains("not a valid HTTP header value") && !e.contains("s3cr3t"),
        "{e}"
    );
}
