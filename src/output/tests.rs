//! The printers as a user sees them. The first vectors are upstream's
//! `TestTokenOutput` (cmd/kubeadm/app/cmd/token_test.go) at v1alpha3.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::token::{BootstrapTokenString, Expiry};

fn token(description: &str, usages: &[&str], groups: &[&str]) -> BootstrapToken {
    BootstrapToken {
        token: BootstrapTokenString::parse("abcdef.1234567890123456").expect("valid test token"),
        description: description.to_owned(),
        ttl: None,
        expires: None,
        usages: usages.iter().map(|s| s.to_string()).collect(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
    }
}

fn upstream_token() -> BootstrapToken {
    token(
        "valid bootstrap tooken",
        &["signing", "authentication"],
        &["system:bootstrappers:kubeadm:default-node-token"],
    )
}

fn now() -> Timestamp {
    "2024-01-01T00:00:00Z".parse().expect("valid timestamp")
}

fn flags(output: &str) -> PrintFlags {
    PrintFlags {
        output: output.to_owned(),
        ..PrintFlags::default()
    }
}

fn render_all(f: &PrintFlags, tokens: &[BootstrapToken]) -> String {
    let mut p = printer(f).expect("printer builds");
    let mut out = Vec::new();
    for t in tokens {
        p.print(t, now(), &mut out).expect("prints");
    }
    String::from_utf8(out).expect("utf-8 output")
}

fn render(output: &str, t: &BootstrapToken) -> String {
    render_all(&flags(output), std::slice::from_ref(t))
}

#[test]
fn upstream_json_output() {
    assert_eq!(
        render("json", &upstream_token()),
        r#"{
    "kind": "BootstrapToken",
    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
    "token": "abcdef.1234567890123456",
    "description": "valid bootstrap tooken",
    "usages": [
        "signing",
        "authentication"
    ],
    "groups": [
        "system:bootstrappers:kubeadm:default-node-token"
    ]
}
"#
    );
}

#[test]
fn upstream_yaml_output() {
    assert_eq!(
        render("yaml", &upstream_token()),
        "apiVersion: output.kubeadm.k8s.io/v1alpha3
description: valid bootstrap tooken
groups:
- system:bootstrappers:kubeadm:default-node-token
kind: BootstrapToken
token: abcdef.1234567890123456
usages:
- signing
- authentication
"
    );
}

#[test]
fn upstream_go_template_output() {
    assert_eq!(
        render(
            "go-template={{println .token .description .usages .groups}}",
            &upstream_token()
        ),
        "abcdef.1234567890123456 valid bootstrap tooken [signing authentication] [system:bootstrappers:kubeadm:default-node-token]\n"
    );
}

#[test]
fn upstream_text_output() {
    assert_eq!(
        render("text", &upstream_token()),
        "TOKEN                     TTL         EXPIRES   USAGES                   DESCRIPTION                                                EXTRA GROUPS
abcdef.1234567890123456   <forever>   <never>   signing,authentication   valid bootstrap tooken                                     system:bootstrappers:kubeadm:default-node-token
"
    );
}

#[test]
fn upstream_jsonpath_output() {
    assert_eq!(
        render("jsonpath={.token} {.groups}", &upstream_token()),
        r#"abcdef.1234567890123456 ["system:bootstrappers:kubeadm:default-node-token"]"#
    );
}

#[test]
fn text_header_only_once_and_each_row_aligned_on_its_own() {
    let mut dated = token("", &["authentication", "signing"], &[]);
    dated.expires = Some(Expiry::after(now(), SignedDuration::from_hours(2)));
    let mut offset = token(
        "a description that is longer than fifty-six runes, so it widens its row",
        &[],
        &["g"],
    );
    offset.expires = Some(Expiry::parse("2024-01-03T02:00:00+02:00").expect("valid expiry"));
    let forever = token("ünïcödé", &["signing"], &[]);
    let out = render_all(&flags("text"), &[dated, offset, forever]);
    insta::assert_snapshot!(out);
}

#[test]
fn text_ttl_column_counts_down_and_turns_invalid() {
    let mut t = token("", &[], &[]);
    let at = |secs: i64| {
        Expiry::utc(
            now()
                .checked_add(SignedDuration::from_secs(secs))
                .expect("in range"),
        )
    };
    for (secs, ttl) in [
        (86_399, "23h"),
        (2 * 86_400, "2d"),
        (59, "59s"),
        (-1, "0s"),
        (-2, "<invalid>"),
    ] {
        t.expires = Some(at(secs));
        let out = render("text", &t);
        let row = out.lines().nth(1).expect("a row");
        assert!(
            row.starts_with(&format!("abcdef.1234567890123456   {ttl:<9}   ")),
            "{secs}: {row:?}"
        );
    }
}

#[test]
fn json_is_one_document_per_token_with_utc_expiry_and_html_escaping() {
    let mut t = token("<a & b>", &[], &[]);
    t.expires = Some(Expiry::parse("2024-01-03T02:00:00+02:00").expect("valid expiry"));
    let one = render("json", &t);
    assert_eq!(
        one,
        "{\n    \"kind\": \"BootstrapToken\",\n    \"apiVersion\": \"output.kubeadm.k8s.io/v1alpha3\",\n    \"token\": \"abcdef.1234567890123456\",\n    \"description\": \"\\u003ca \\u0026 b\\u003e\",\n    \"expires\": \"2024-01-03T00:00:00Z\"\n}\n"
    );
    assert_eq!(render_all(&flags("JSON"), &[t.clone(), t]), one.repeat(2));
}

#[test]
fn yaml_separates_documents_and_quotes_like_go_yaml() {
    let mut t = token("true", &["signing"], &["1", "a: b", "", "x"]);
    t.expires = Some(Expiry::parse("2024-01-03T02:00:00+02:00").expect("valid expiry"));
    let out = render_all(&flags("yaml"), &[t.clone(), t]);
    let doc = "apiVersion: output.kubeadm.k8s.io/v1alpha3
description: \"true\"
expires: \"2024-01-03T00:00:00Z\"
groups:
- \"1\"
- 'a: b'
- \"\"
- x
kind: BootstrapToken
token: abcdef.1234567890123456
usages:
- signing
";
    assert_eq!(out, format!("{doc}---\n{doc}"));
}

#[test]
fn go_template_missing_key_prints_no_value_or_fails_like_kubectl() {
    assert_eq!(
        render("go-template={{.foo}}", &upstream_token()),
        "<no value>"
    );
    let mut f = flags("go-template={{.token}} {{.foo}}");
    f.allow_missing_template_keys = false;
    let mut p = printer(&f).expect("printer builds");
    let mut out = Vec::new();
    let err = p
        .print(&upstream_token(), now(), &mut out)
        .expect_err("missing key fails");
    assert_eq!(
        err.to_string(),
        r#"error executing template "{{.token}} {{.foo}}": template: output:1:13: executing "output" at <.foo>: map has no entry for key "foo""#
    );
    let out = String::from_utf8(out).expect("utf-8");
    assert!(
        out.starts_with("abcdef.1234567890123456 Error executing template: "),
        "{out}"
    );
    assert!(
        out.contains("\ttemplate was:\n\t\t{{.token}} {{.foo}}\n"),
        "{out}"
    );
    assert!(
        !out.contains("1234567890123456 E") || out.matches("1234567890123456").count() == 1,
        "secret only in the partial output: {out}"
    );
}

#[test]
fn go_template_functions_and_formats() {
    let t = upstream_token();
    assert_eq!(
        render("template={{range .usages}}{{.}},{{end}}", &t),
        "signing,authentication,"
    );
    assert_eq!(
        render("go-template={{len .groups}} {{index .usages 1}}", &t),
        "1 authentication"
    );
    assert_eq!(
        render("go-template={{.usages}}", &t),
        "[signing authentication]"
    );
    assert_eq!(render(r#"go-template={{base64decode "aGk="}}"#, &t), "hi");
    assert_eq!(
        render(r#"go-template={{printf "%q %d%%" .kind 5}}"#, &t),
        r#""BootstrapToken" 5%"#
    );
    assert_eq!(
        render(
            "go-template={{range $i, $e := .usages}}{{$i}}={{$e}};{{end}}",
            &t
        ),
        "0=signing;1=authentication;"
    );
    assert_eq!(render("go-template={{- .kind -}}", &t), "BootstrapToken");
    assert_eq!(
        render(
            r#"go-template={{exists . "description"}} {{exists . "ttl"}}"#,
            &t
        ),
        "true false"
    );
    assert_eq!(
        render(
            r#"go-template={{if eq .kind "BootstrapToken"}}yes{{end}}"#,
            &t
        ),
        "yes"
    );
    assert_eq!(
        render(r#"go-template={{printf "%s-%s" .kind .apiVersion}}"#, &t),
        "BootstrapToken-output.kubeadm.k8s.io/v1alpha3"
    );
}

#[test]
fn template_flag_supplies_the_template() {
    let f = PrintFlags {
        output: "go-template".into(),
        template: Some("{{.kind}}".into()),
        ..PrintFlags::default()
    };
    assert_eq!(render_all(&f, &[upstream_token()]), "BootstrapToken");
    let f = PrintFlags {
        output: "jsonpath".into(),
        template: Some("{.kind}".into()),
        ..PrintFlags::default()
    };
    assert_eq!(render_all(&f, &[upstream_token()]), "BootstrapToken");
}

#[test]
fn template_files_are_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.tmpl");
    std::fs::write(&path, "{{.kind}}\n").expect("write");
    for format in ["go-template-file", "templatefile"] {
        assert_eq!(
            render(&format!("{format}={}", path.display()), &upstream_token()),
            "BootstrapToken\n"
        );
    }
    std::fs::write(&path, "{.kind}").expect("write");
    assert_eq!(
        render(
            &format!("jsonpath-file={}", path.display()),
            &upstream_token()
        ),
        "BootstrapToken"
    );
    let missing = dir.path().join("missing");
    let err = printer(&flags(&format!("go-template-file={}", missing.display())))
        .err()
        .expect("fails");
    assert_eq!(
        err.to_string(),
        format!(
            "could not construct output printer: error reading --template {0}, open {0}: no such file or directory\n",
            missing.display()
        )
    );
}

#[test]
fn bad_formats_name_every_allowed_format() {
    for bad in ["", "xml", "Text", "go-templat", "foo=bar"] {
        let err = printer(&flags(bad)).err().expect("rejected");
        assert_eq!(
            err.to_string(),
            format!(
                "could not construct output printer: unable to match a printer suitable for the output format {}, allowed formats are: go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,kyaml,template,templatefile,text,yaml",
                go_quote(bad)
            )
        );
    }
}

#[test]
fn template_formats_without_a_template_say_so() {
    for f in [
        "go-template",
        "go-template=",
        "jsonpath",
        "jsonpath-as-json=",
        "templatefile",
    ] {
        assert_eq!(
            printer(&flags(f)).err().expect("rejected").to_string(),
            "could not construct output printer: template format specified but no template given"
        );
    }
}

#[test]
fn unparsable_templates_are_printer_errors() {
    let err = printer(&flags("go-template={{.token"))
        .err()
        .expect("rejected")
        .to_string();
    assert!(
        err.starts_with("could not construct output printer: error parsing template {{.token, "),
        "{err}"
    );
    let err = printer(&flags("jsonpath={.token"))
        .err()
        .expect("rejected")
        .to_string();
    assert_eq!(
        err,
        "could not construct output printer: error parsing jsonpath {.token, unclosed action"
    );
}

#[test]
fn jsonpath_missing_key_fails_only_when_keys_must_exist() {
    assert_eq!(render("jsonpath={.foo}", &upstream_token()), "");
    let mut f = flags("jsonpath={.foo}");
    f.allow_missing_template_keys = false;
    let mut p = printer(&f).expect("printer builds");
    let mut out = Vec::new();
    let err = p
        .print(&upstream_token(), now(), &mut out)
        .expect_err("missing key fails")
        .to_string();
    assert!(out.is_empty());
    assert!(
        err.starts_with("error executing jsonpath \"{.foo}\": Error executing template: foo is not found. Printing more information for debugging the template:\n\ttemplate was:\n\t\t{.foo}\n\tobject given to jsonpath engine was:\n\t\tmap[string]interface {}{\"apiVersion\":\"output.kubeadm.k8s.io/v1alpha3\", "),
        "{err}"
    );
    assert!(err.ends_with("\n\n\n"), "{err:?}");
    assert!(!err.contains("1234567890123456"), "secret leaked: {err}");
}

#[test]
fn jsonpath_as_json_prints_each_expression_as_an_array() {
    assert_eq!(
        render("jsonpath-as-json={.token}", &upstream_token()),
        "[\n    \"abcdef.1234567890123456\"\n]\n"
    );
}

#[test]
fn show_managed_fields_changes_nothing() {
    let f = PrintFlags {
        output: "json".into(),
        show_managed_fields: true,
        ..PrintFlags::default()
    };
    assert_eq!(
        render_all(&f, &[upstream_token()]),
        render("json", &upstream_token())
    );
}

#[test]
fn go_template_parse_errors_read_like_go() {
    for (t, want) in [
        (
            "{{.token | nosuchfunc}}",
            r#"template: output:1: function "nosuchfunc" not defined"#,
        ),
        ("{{end}}", "template: output:1: unexpected {{end}}"),
        ("{{if .a}}", "template: output:1: unexpected EOF"),
    ] {
        assert_eq!(
            printer(&flags(&format!("go-template={t}")))
                .err()
                .map(|e| e.to_string()),
            Some(format!(
                "could not construct output printer: error parsing template {t}, {want}"
            ))
        );
    }
}

#[test]
fn deeply_nested_templates_are_refused_not_overflowed() {
    let go = format!(
        "go-template={}{}",
        "{{if .kind}}".repeat(5000),
        "{{end}}".repeat(5000)
    );
    assert!(printer(&flags(&go)).is_err());
    let parens = format!(
        "go-template={{{{{}.kind{}}}}}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(printer(&flags(&parens)).is_err());
    let jp = format!(
        "jsonpath={}{}",
        "{range .usages[*]}".repeat(5000),
        "{end}".repeat(5000)
    );
    assert!(printer(&flags(&jp)).is_err());
    let ok = format!(
        "go-template={}x{}",
        "{{if .kind}}{{with .}}".repeat(50),
        "{{end}}".repeat(100)
    );
    assert_eq!(render(&ok, &upstream_token()), "x");
}

#[test]
fn template_errors_never_carry_the_secret() {
    for t in [
        "go-template={{range .token}}{{end}}",
        r#"go-template={{printf "%d" .token}}"#,
        "go-template={{.token.x}}",
        "go-template={{index .token 99}}",
        "jsonpath={.token[0]}",
        "jsonpath={.token.x}",
    ] {
        let mut f = flags(t);
        f.allow_missing_template_keys = false;
        let mut p = printer(&f).expect("printer builds");
        let err = p
            .print(&upstream_token(), now(), &mut Vec::new())
            .expect_err(t)
            .to_string();
        assert!(!err.contains("1234567890123456"), "{t}: {err}");
    }
}
