use super::*;

fn argv(line: &str) -> Vec<OsString> {
    std::iter::once("tokensmith")
        .chain(line.split(' '))
        .map(OsString::from)
        .collect()
}

fn error(line: &str) -> String {
    match read(&argv(line)) {
        Some(Reading::Error(e)) => e,
        other => panic!("{line}: expected an error, got {other:?}"),
    }
}

fn rewritten(line: &str) -> Vec<String> {
    match read(&argv(line)) {
        Some(Reading::Rewritten(v)) => v
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().expect("UTF-8"))
            .collect(),
        other => panic!("{line}: expected a rewrite, got {other:?}"),
    }
}

#[test]
fn the_first_bad_flag_in_order_is_the_error() {
    assert_eq!(
        error("token create --ttl=abc -x"),
        r#"invalid argument "abc" for "--ttl" flag: time: invalid duration "abc""#
    );
    assert_eq!(
        error("token create -x --ttl=abc"),
        "unknown shorthand flag: 'x' in -x"
    );
    assert_eq!(
        error("token create --ttl=1d --output=json"),
        r#"invalid argument "1d" for "--ttl" flag: time: unknown unit "d" in duration "1d""#
    );
    assert_eq!(
        error("token create --ttl=abc --ttl"),
        r#"invalid argument "abc" for "--ttl" flag: time: invalid duration "abc""#
    );
    assert_eq!(error("token create --ttl"), "flag needs an argument: --ttl");
    assert_eq!(error("token list --foo=1"), "unknown flag: --foo");
    assert_eq!(error("token list -o"), "flag needs an argument: 'o' in -o");
    assert_eq!(
        error("token delete -x"),
        "unknown shorthand flag: 'x' in -x"
    );
    assert_eq!(error("token list ---x"), "bad flag syntax: ---x");
    assert_eq!(
        error("token create --print-join-command=maybe"),
        r#"invalid argument "maybe" for "--print-join-command" flag: strconv.ParseBool: parsing "maybe": invalid syntax"#
    );
    assert_eq!(
        error("token list --v=abc"),
        r#"invalid argument "abc" for "--v" flag: strconv.ParseInt: parsing "abc": invalid syntax"#
    );
    assert_eq!(
        error("token list -h=no"),
        r#"invalid argument "no" for "-h, --help" flag: strconv.ParseBool: parsing "no": invalid syntax"#
    );
}

#[test]
fn a_flag_error_beats_help_as_in_cobra() {
    assert_eq!(
        error("token create --help --ttl=x").split(':').next(),
        Some("invalid argument \"x\" for \"--ttl\" flag")
    );
    assert_eq!(read(&argv("token create --help")), None);
    assert_eq!(read(&argv("token list -h -o json")), None);
}

#[test]
fn values_and_positionals_are_pflags() {
    // `-o=` is the value `=`; `-ojson` and `-o=json` are `json`.
    assert_eq!(
        rewritten("token list -o="),
        ["token", "list", "--output==", "--"]
    );
    assert_eq!(
        rewritten("token list -ojson"),
        ["token", "list", "--output=json", "--"]
    );
    assert_eq!(
        rewritten("token list -o=json -o yaml"),
        ["token", "list", "--output=yaml", "--"]
    );
    // A bool flag takes no next word: `false` is an argument.
    assert_eq!(
        rewritten("token list --allow-missing-template-keys false"),
        [
            "token",
            "list",
            "--allow-missing-template-keys=true",
            "--",
            "false"
        ]
    );
    assert_eq!(
        rewritten(
            "token create abcdef.0123456789abcdef --print-join-command=false --usages a --usages=b,c --description -x"
        ),
        [
            "token",
            "create",
            "--usages=a",
            "--usages=b,c",
            "--description=-x",
            "--",
            "abcdef.0123456789abcdef"
        ]
    );
    // Global options before `token` come along; tokensmith's switches count.
    assert_eq!(
        rewritten("--kubeconfig k token delete -vv abc --dry-run"),
        [
            "token",
            "delete",
            "--kubeconfig=k",
            "--verbose",
            "--verbose",
            "--dry-run",
            "--",
            "abc"
        ]
    );
    assert_eq!(
        rewritten("token delete -- -x"),
        ["token", "delete", "--", "-x"]
    );
}

#[test]
fn other_command_lines_are_left_to_clap() {
    assert_eq!(read(&argv("token")), None);
    assert_eq!(read(&argv("token nosuch --foo")), None);
    assert_eq!(read(&argv("token audit -x")), None);
    assert_eq!(read(&argv("run script.rhai --ttl=abc")), None);
}

#[test]
fn string_slice_values_are_go_csv_records() {
    let ok = |s: &str| read_csv_record(s).expect(s);
    assert_eq!(ok(""), Vec::<String>::new());
    assert_eq!(ok("a,b"), ["a", "b"]);
    assert_eq!(ok("\"x,y\",z"), ["x,y", "z"]);
    assert_eq!(ok("a,,b"), ["a", "", "b"]);
    assert_eq!(ok("\"a\"\"b\""), ["a\"b"]);
    // Only the first record counts; empty lines before it are skipped.
    assert_eq!(ok("a,b\nc"), ["a", "b"]);
    assert_eq!(ok("\n\na"), ["a"]);
    assert_eq!(ok("\"a\nb\",c"), ["a\nb", "c"]);
    let bad = |s: &str| read_csv_record(s).expect_err(s);
    assert_eq!(
        bad("a\"b"),
        "parse error on line 1, column 2: bare \" in non-quoted-field"
    );
    assert_eq!(
        bad("x,\"ab\"c"),
        "parse error on line 1, column 6: extraneous or missing \" in quoted-field"
    );
    assert_eq!(
        bad("\"abc"),
        "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
    );
    assert_eq!(bad("\n"), "EOF");
    assert_eq!(
        error("token create --groups=a\"b"),
        r#"invalid argument "a\"b" for "--groups" flag: parse error on line 1, column 2: bare " in non-quoted-field"#
    );
}
