//! `token list` printers through the public API, as the list command uses
//! them: one printer, tokens fed one by one, output snapshotted.

use jiff::{SignedDuration, Timestamp};
use tokensmith::output::{PrintFlags, printer};
use tokensmith::token::{BootstrapToken, BootstrapTokenString, Expiry};

fn now() -> Timestamp {
    "2026-11-29T12:00:00Z".parse().expect("valid timestamp")
}

/// Three tokens as `BootstrapToken::from_secret` would decode them.
fn tokens() -> Vec<BootstrapToken> {
    let t = |s: &str| BootstrapTokenString::parse(s).expect("valid test token");
    let mut fresh = BootstrapToken::with_defaults(t("abcdef.0123456789abcdef"));
    fresh.ttl = None;
    fresh.usages = vec!["authentication".into(), "signing".into()];
    fresh.expires = Some(Expiry::after(now(), SignedDuration::from_secs(86_399)));
    fresh.description = "node join for rack 7 & 8 <ops>".into();
    let mut forever = BootstrapToken::with_defaults(t("zyx987.abcdefghijklmnop"));
    forever.ttl = None;
    forever.usages = vec!["signing".into()];
    forever.groups = vec![];
    let mut expired = BootstrapToken::with_defaults(t("000000.1111111111111111"));
    expired.ttl = None;
    expired.expires = Some(Expiry::parse("2026-11-29T13:00:00+02:00").expect("valid expiry"));
    expired.description = "multi\nline".into();
    vec![fresh, forever, expired]
}

fn list(output: &str) -> String {
    let flags = PrintFlags {
        output: output.into(),
        ..PrintFlags::default()
    };
    let mut p = printer(&flags).expect("printer builds");
    let mut out = Vec::new();
    for t in tokens() {
        p.print(&t, now(), &mut out).expect("prints");
    }
    String::from_utf8(out).expect("utf-8")
}

#[test]
fn text_list() {
    insta::assert_snapshot!(list("text"));
}

#[test]
fn json_list() {
    insta::assert_snapshot!(list("json"));
}

#[test]
fn yaml_list() {
    insta::assert_snapshot!(list("yaml"));
}

#[test]
fn jsonpath_range_list() {
    assert_eq!(
        list(r#"jsonpath={.token}{"\t"}{range .usages[*]}{@},{end}{"\n"}"#),
        "abcdef.0123456789abcdef\tauthentication,signing,\nzyx987.abcdefghijklmnop\tsigning,\n000000.1111111111111111\tsigning,authentication,\n"
    );
}

#[test]
fn go_template_list() {
    assert_eq!(
        list(r#"go-template={{.token}} {{if .expires}}{{.expires}}{{else}}never{{end}}{{"\n"}}"#),
        "abcdef.0123456789abcdef 2026-11-30T11:59:59Z\nzyx987.abcdefghijklmnop never\n000000.1111111111111111 2026-11-29T11:00:00Z\n"
    );
}
