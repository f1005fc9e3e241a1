use std::time::Duration;

use super::{HeaderError, Overlap, ScriptHeader};

#[test]
fn a_full_header_sets_every_field() {
    let src = "#!/usr/bin/env tokensmith\n\
               //! Rotates the join token nightly.\n\
               //! schedule: 30 2 * * *\n\
               //! timezone: Europe/Berlin\n\
               //! overlap: replace\n\
               //! timeout: 10m\n\
               //! starting-deadline: 1h30m\n\
               //! jitter: 30s\n\
               let x = 1;\n";
    let h = ScriptHeader::parse(src).expect("valid header");
    assert_eq!(h.schedule.as_ref().map(|s| s.source()), Some("30 2 * * *"));
    assert_eq!(h.timezone, chrono_tz::Europe::Berlin);
    assert_eq!(h.overlap, Overlap::Replace);
    assert_eq!(h.timeout, Some(Duration::from_secs(600)));
    assert_eq!(h.starting_deadline, Some(Duration::from_secs(5400)));
    assert_eq!(h.jitter, Some(Duration::from_secs(30)));
    assert_eq!(
        h.to_string(),
        "schedule: 30 2 * * *\ntimezone: Europe/Berlin\noverlap: replace\ntimeout: 10m0s\n\
         starting-deadline: 1h30m0s\njitter: 30s"
    );
}

#[test]
fn no_header_means_import_only_in_utc_with_skip() {
    let h = ScriptHeader::parse("fn helper() { 1 }\n").expect("no header is fine");
    assert_eq!(h, ScriptHeader::default());
    assert!(
        h.to_string()
            .starts_with("schedule: none (a plain script: run it with `tokensmith run`; `watch` does not schedule it)\ntimezone: UTC\noverlap: skip")
    );
}

#[test]
fn only_the_leading_doc_lines_are_read() {
    let src = "//! schedule: @daily\nlet a = 1;\n//! overlap: bogus\n";
    let h = ScriptHeader::parse(src).expect("later //! lines are not the header");
    assert_eq!(h.overlap, Overlap::Skip);
}

#[test]
fn unknown_keys_name_the_key_and_the_accepted_ones() {
    let err = ScriptHeader::parse("//! schedule: @daily\n//! timzone: UTC\n").expect_err("typo");
    assert_eq!(
        err.to_string(),
        "line 2: unknown header key \"timzone\" (accepted: schedule, timezone, overlap, timeout, starting-deadline, jitter, on, contexts, arg)"
    );
    assert_eq!(err.line(), 2);
}

#[test]
fn bad_values_are_reported_with_their_line() {
    let cases = [
        (
            "//! schedule: 0 3 * *",
            "line 1: invalid cron expression \"0 3 * *\"",
        ),
        (
            "//! timezone: Mars/Olympus",
            "line 1: unknown time zone \"Mars/Olympus\"",
        ),
        (
            "//! overlap: sometimes",
            "line 1: invalid overlap \"sometimes\" (accepted: skip, queue, replace)",
        ),
        (
            "//! timeout: 1d",
            "line 1: invalid timeout \"1d\": time: unknown unit \"d\" in duration \"1d\"",
        ),
        (
            "//! jitter: -5s",
            "line 1: invalid jitter \"-5s\": must be positive",
        ),
        (
            "//! starting-deadline: 0",
            "line 1: invalid starting-deadline \"0\": must be positive",
        ),
    ];
    for (src, want) in cases {
        let err = ScriptHeader::parse(src).expect_err(src);
        assert!(err.to_string().starts_with(want), "{src}: {err}");
    }
}

#[test]
fn a_key_set_twice_is_an_error() {
    let err = ScriptHeader::parse("//! overlap: skip\n//! overlap: queue\n").expect_err("dup");
    assert!(
        matches!(err, HeaderError::Duplicate { line: 2, .. }),
        "{err}"
    );
}

#[test]
fn free_text_doc_lines_are_not_keys() {
    let src = "//! Rotate tokens. See https://example.com/docs for details\n//! Note: runs nightly\n//! schedule: @daily\n";
    // `Note` is capitalised, so it is prose; the URL's colon is not a key either.
    let h = ScriptHeader::parse(src).expect("prose is fine");
    assert!(h.schedule.is_some());
}

#[test]
fn arg_lines_set_job_arguments_and_a_repeated_key_is_refused() {
    let h =
        ScriptHeader::parse("//! schedule: @daily\n//! arg: out=/run/join.sh\n//! arg: ttl = 2h\n")
            .unwrap();
    assert_eq!(h.args.get("out").map(String::as_str), Some("/run/join.sh"));
    assert_eq!(h.args.get("ttl").map(String::as_str), Some("2h"));
    let e = ScriptHeader::parse("//! arg: out=/a\n//! arg: out=/b\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2: invalid arg \"out=/b\": this key is set twice"
    );
    let e = ScriptHeader::parse("//! arg: novalue\n").unwrap_err();
    assert_eq!(e.line(), 1);
}

#[test]
fn on_names_an_event_and_its_handler() {
    use super::EventTrigger;
    let h = ScriptHeader::parse("//! on: csr\n").expect("valid");
    assert_eq!(h.on, Some(EventTrigger::Csr));
    assert_eq!(h.on.map(EventTrigger::handler), Some("on_csr"));
    assert!(h.schedule.is_none());
    let h = ScriptHeader::parse("//! on: token-expiring 1h\n").expect("valid");
    assert_eq!(
        h.on,
        Some(EventTrigger::TokenExpiring(Duration::from_secs(3600)))
    );
    assert!(
        h.to_string().ends_with("\non: token-expiring 1h0m0s"),
        "{h}"
    );
    let h = ScriptHeader::parse("//! on: token-deleted\n").expect("valid");
    assert_eq!(h.on.map(EventTrigger::handler), Some("on_token_deleted"));
    for bad in [
        "//! on: pods",
        "//! on: token-expiring",
        "//! on: token-expiring soon",
        "//! on: csr now",
        "//! on:",
    ] {
        let e = ScriptHeader::parse(bad).expect_err(bad);
        assert_eq!(e.line(), 1);
        assert!(
            e.to_string()
                .contains("accepted: csr, token-expiring <duration>, token-deleted"),
            "{e}"
        );
    }
}

#[test]
fn contexts_name_kubeconfig_contexts_or_all_of_them() {
    use super::Contexts;
    let h = ScriptHeader::parse("//! schedule: @daily\n//! contexts: east, west\n").expect("valid");
    assert_eq!(
        h.contexts,
        Some(Contexts::Named(vec!["east".into(), "west".into()]))
    );
    assert!(h.to_string().ends_with("\ncontexts: east, west"), "{h}");
    let h = ScriptHeader::parse("//! contexts: *\n").expect("valid");
    assert_eq!(h.contexts, Some(Contexts::All));
    let known = ["a".to_owned(), "b".to_owned()];
    assert_eq!(Contexts::All.resolve(&known).unwrap(), known);
    assert_eq!(
        Contexts::Named(vec!["b".into(), "c".into()])
            .resolve(&known)
            .unwrap_err(),
        "context \"c\" is not in the kubeconfig (it has: a, b)"
    );
    for (bad, why) in [
        ("//! contexts:", "an empty name"),
        ("//! contexts: a,,b", "an empty name"),
        ("//! contexts: a, *", "* stands alone"),
        ("//! contexts: a, b, a", "\"a\" is named twice"),
    ] {
        let e = ScriptHeader::parse(bad).expect_err(bad);
        assert_eq!(e.line(), 1);
        assert!(e.to_string().contains(why), "{bad}: {e}");
    }
}
