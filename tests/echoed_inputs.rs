//! What an error under `token` echoes of a bad input (issue 10): arguments
//! that are not UTF-8 exit 1 with a clear message, a huge input is echoed
//! as a short prefix, control characters are escaped, and a repeated
//! JSONPath recursive descent is refused as kubectl refuses it.

mod support;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use support::TestCluster;

fn not_utf8() -> OsString {
    OsString::from_vec(b"abc\xff\xfe".to_vec())
}

#[test]
fn arguments_that_are_not_utf8_exit_1_with_a_clear_message() {
    let cases: Vec<Vec<OsString>> = vec![
        vec!["token".into(), "create".into(), not_utf8()],
        vec!["token".into(), "delete".into(), not_utf8()],
        vec!["token".into(), "create".into(), "--ttl".into(), not_utf8()],
        // Before the subcommand: the check for `token` must not trip on it.
        vec![
            "--context".into(),
            not_utf8(),
            "token".into(),
            "list".into(),
        ],
    ];
    for args in cases {
        let out = support::tokensmith().args(&args).output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(r#"invalid argument "abc\xff\xfe": not valid UTF-8"#),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_huge_input_is_echoed_as_a_short_prefix_and_control_characters_escaped() {
    let huge = "a".repeat(100_000);
    let escape = "ab\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let cases: Vec<Vec<String>> = [
        vec!["token", "create", "HUGE"],
        vec!["token", "create", "--ttl", "HUGE"],
        vec!["token", "create", "--usages", "HUGE"],
        vec!["token", "create", "--groups", "HUGE"],
        vec!["token", "--HUGE"],
        vec!["token", "HUGE"],
        vec!["token", "create", "--print-join-command=HUGE"],
        vec!["token", "create", "--config", "HUGE"],
        vec!["token", "list", "--kubeconfig", "HUGE"],
        vec!["--kubeconfig", "HUGE", "token", "list"],
        vec!["token", "create", "--ttl", "1h", "--ttl", "HUGE"],
        vec!["run", "--timeout", "HUGE", "x.rhai"],
    ]
    .iter()
    .map(|v| v.iter().map(|s| s.to_string()).collect())
    .collect();
    for input in [huge.as_str(), escape] {
        for case in &cases {
            let args: Vec<String> = case.iter().map(|a| a.replace("HUGE", input)).collect();
            let out = support::tokensmith().args(&args).output().expect("run");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let shown = &case.join(" ");
            assert_ne!(out.status.code(), Some(0), "{shown}: {stderr}");
            assert!(!stderr.contains("panicked"), "{shown}: {stderr}");
            assert!(
                stderr.len() < 2_000,
                "{shown}: {} bytes of stderr:\n{}",
                stderr.len(),
                &stderr[..stderr.len().min(400)]
            );
            assert!(
                !out.stderr.iter().any(|b| *b == 0x1b || *b == 0x07),
                "{shown}: a raw control character reached stderr: {stderr:?}"
            );
            if case[0] == "token" {
                // 3 is kubeadm's status for a validation error.
                assert!(
                    matches!(out.status.code(), Some(1 | 3)),
                    "{shown}: {stderr}"
                );
            }
        }
    }
}

#[test]
fn a_repeated_recursive_descent_is_refused_as_kubectl_refuses_it() {
    let c = TestCluster::start();
    let out = c
        .tokensmith()
        .args(["token", "list", "-o", "jsonpath={.........}"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error parsing jsonpath {.........}, invalid multiple recursive descent"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
    // One descent, then a field, still works.
    let ok = c
        .tokensmith()
        .args(["token", "list", "-o", "jsonpath={..kind}"])
        .output()
        .expect("run");
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
}
