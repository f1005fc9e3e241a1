use std::path::Path;

use super::*;

fn load(yaml: &str) -> Result<Vec<BootstrapToken>, InitConfigError> {
    bootstrap_tokens_from_config(yaml, Path::new("/etc/kubeadm.yaml"))
}

fn load_err(yaml: &str) -> String {
    match load(yaml) {
        Ok(t) => panic!("expected an error, got {} tokens", t.len()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reads_every_token_of_an_init_configuration_with_defaults() {
    // v1beta4 only: kubeadm v1.37 refuses v1beta3 (see the error table below).
    {
        let version = "v1beta4";
        let yaml = format!(
            "apiVersion: kubeadm.k8s.io/{version}
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  description: first
  ttl: 1h30m
  usages: [signing, authentication]
  groups:
  - system:bootstrappers:custom
- description: generated
---
apiVersion: kubeadm.k8s.io/{version}
kind: ClusterConfiguration
kubernetesVersion: v1.31.0
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
"
        );
        let tokens = load(&yaml).expect("valid config");
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[0].token.expose(), "abcdef.0123456789abcdef");
        assert_eq!(tokens[0].description, "first");
        assert_eq!(tokens[0].ttl, Some(SignedDuration::from_mins(90)));
        assert_eq!(tokens[0].groups, vec!["system:bootstrappers:custom"]);
        assert_eq!(tokens[1].description, "generated");
        assert_eq!(tokens[1].ttl, Some(SignedDuration::from_hours(24)));
        assert_eq!(tokens[1].usages, vec!["signing", "authentication"]);
        assert_eq!(tokens[1].groups, vec![DEFAULT_GROUP]);
        assert_ne!(tokens[1].token, tokens[0].token);
    }
}

#[test]
fn no_tokens_or_only_a_cluster_configuration_gives_one_default_token() {
    for yaml in [
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n",
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens: []\n",
        "---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\n",
    ] {
        let tokens = load(yaml).expect("valid config");
        assert_eq!(tokens.len(), 1, "{yaml}");
        assert_eq!(tokens[0].ttl, Some(SignedDuration::from_hours(24)));
        assert_eq!(tokens[0].usages, vec!["signing", "authentication"]);
    }
}

#[test]
fn validation_errors_carry_field_paths_and_exit_3() {
    let yaml = "apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  usages: [foo]
- token: abcdef.0123456789abcdef
  usages: [signing]
";
    let err = load(yaml).expect_err("invalid");
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        r#"[bootstrapTokens.0.usages: Invalid value: ["foo"]: invalid bootstrap token usage string: foo, valid usage options: signing,authentication, bootstrapTokens.0.groups: Invalid value: ["system:bootstrappers:kubeadm:default-node-token"]: token groups cannot be specified unless --usages includes "authentication", bootstrapTokens.1.groups: Invalid value: ["system:bootstrappers:kubeadm:default-node-token"]: token groups cannot be specified unless --usages includes "authentication"]"#
    );
}

#[test]
fn a_bad_token_is_a_decoding_error_and_a_bad_group_a_field_error() {
    // BootstrapTokenString.UnmarshalJSON: whatever the value, quotes removed.
    for (yaml, shown) in [("nope", "nope"), ("\"\"", ""), ("5", "5")] {
        let err = load(&format!(
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: {yaml}\n"
        ))
        .expect_err("invalid");
        assert_eq!(
            err.to_string(),
            format!(
                r#"the bootstrap token "{shown}" was not of the form "\\A([a-z0-9]{{6}})\\.([a-z0-9]{{16}})\\z""#
            )
        );
    }
    let err = load_err(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- groups: [foo]\n",
    );
    assert_eq!(
        err,
        r#"bootstrapTokens.0.groups: Invalid value: ["foo"]: bootstrap group "foo" is invalid (must match \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z)"#
    );
}

#[test]
fn fields_decode_in_key_order_and_a_hard_error_beats_a_type_mismatch() {
    let h = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n";
    let cases = [
        // `token` sorts before `ttl`.
        (
            "- ttl: 1d\n  token: nope\n",
            "the bootstrap token \"nope\" was not of the form \"\\\\A([a-z0-9]{6})\\\\.([a-z0-9]{16})\\\\z\"",
        ),
        // Two mismatches: the first in key order.
        (
            "- usages: [1]\n  groups: x\n",
            "json: cannot unmarshal string into Go struct field BootstrapToken.bootstrapTokens.groups of type []string",
        ),
        (
            "- description: 5\n  usages: signing\n",
            "json: cannot unmarshal number into Go struct field BootstrapToken.bootstrapTokens.description of type string",
        ),
        // A mismatch is kept; ttl's own unmarshalling failing ends it all.
        (
            "- description: 5\n  ttl: 5\n",
            "json: cannot unmarshal number into Go struct field BootstrapToken.bootstrapTokens.ttl of type string",
        ),
        (
            "- expires: 5\n",
            "json: cannot unmarshal number into Go struct field BootstrapToken.bootstrapTokens.expires of type string",
        ),
        (
            "- 5\n",
            "json: cannot unmarshal number into Go struct field InitConfiguration.bootstrapTokens of type v1.BootstrapToken",
        ),
    ];
    for (tokens, want) in cases {
        let err = load(&format!("{h}{tokens}")).expect_err(tokens);
        assert_eq!(err.to_string(), want, "{tokens}");
    }
    // null is no value at all.
    let tokens = load(&format!("{h}- token: null\n  ttl: null\n  usages: null\n")).expect("valid");
    assert_eq!(tokens[0].ttl, Some(SignedDuration::from_hours(24)));
}

#[test]
fn expires_always_conflicts_with_the_defaulted_ttl() {
    let err = load(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- expires: \"2030-01-01T00:00:00Z\"\n",
    )
    .expect_err("invalid");
    assert_eq!(err.exit_code(), 3);
    assert_eq!(
        err.to_string(),
        r#"bootstrapTokens.0: Invalid value: "": the BootstrapToken .TTL and .Expires fields are mutually exclusive"#
    );
}

#[test]
fn load_errors_name_the_file_and_exit_1() {
    let cases = [
        (
            "",
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n",
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file",
        ),
        (
            "kind: InitConfiguration\n",
            "invalid configuration for GroupVersionKind /, Kind=InitConfiguration: kind and apiVersion is mandatory information that must be specified",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n",
            "invalid configuration: kind \"InitConfiguration\" is specified twice in YAML file",
        ),
        (
            "apiVersion: v1\nkind: Pod\n",
            "invalid configuration for GroupVersionKind /v1, Kind=Pod: kind and apiVersion is mandatory information that must be specified",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n",
            "your configuration file uses an old API spec: \"kubeadm.k8s.io/v1beta3\" (kind: \"InitConfiguration\"). Please use kubeadm v1.36 instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: InitConfiguration\n",
            "your configuration file uses an old API spec: \"kubeadm.k8s.io/v1beta2\" (kind: \"InitConfiguration\"). Please use kubeadm v1.22 instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1\nkind: InitConfiguration\n",
            "experimental API spec: \"kubeadm.k8s.io/v1\" (kind: \"InitConfiguration\") is not allowed. You can use the --allow-experimental-api flag if the command supports it.",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfig\n",
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- ttl: 1d\n",
            "time: unknown unit \"d\" in duration \"1d\"",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- expires: tomorrow\n",
            "parsing time \"tomorrow\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"tomorrow\" as \"2006\"",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens: yes\n",
            "json: cannot unmarshal bool into Go struct field InitConfiguration.bootstrapTokens of type []v1.BootstrapToken",
        ),
        (
            "- just\n- a list\n",
            "could not interpret GroupVersionKind; unmarshal error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type runtime.TypeMeta",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v9\nkind: InitConfiguration\n",
            "no kind \"InitConfiguration\" is registered for version \"kubeadm.k8s.io/v9\" in scheme \"pkg/runtime/scheme.go:111\"",
        ),
    ];
    for (yaml, want) in cases {
        let err = load(yaml).expect_err(yaml);
        assert_eq!(err.exit_code(), 1, "{yaml}");
        assert_eq!(err.to_string(), want, "{yaml}");
    }
}

#[test]
fn not_yaml_reads_as_go_yaml_words_it() {
    let prefix = "could not interpret GroupVersionKind; unmarshal error: error converting YAML to JSON: yaml: ";
    let cases = [
        (
            "this is: [not yaml\n",
            "line 1: did not find expected ',' or ']'",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: [InitConfiguration\n",
            "line 2: did not find expected ',' or ']'",
        ),
        (
            "a: b\n c: d\n",
            "line 2: mapping values are not allowed in this context",
        ),
    ];
    for (yaml, want) in cases {
        assert_eq!(load_err(yaml), format!("{prefix}{want}"), "{yaml}");
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        #[test]
        fn no_config_text_panics(yaml in "\\PC{0,200}") {
            let _ = load(&yaml);
        }

        #[test]
        fn no_token_entry_panics(
            token in "[a-z0-9.]{0,24}",
            ttl in "-?[0-9]{0,4}(h|m|s|ms|d|x)?",
            expires in "[0-9TZ:+-]{0,25}",
            usages in proptest::collection::vec("[a-z:]{0,15}", 0..3),
            groups in proptest::collection::vec("[a-z:-]{0,40}", 0..3),
        ) {
            let yaml = format!(
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: \"{token}\"\n  ttl: \"{ttl}\"\n  expires: \"{expires}\"\n  usages: {usages:?}\n  groups: {groups:?}\n"
            );
            match load(&yaml) {
                Ok(tokens) => prop_assert_eq!(tokens.len(), 1),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_crash() {
    for depth in [1_000, 100_000] {
        let yaml = format!("a: {}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(load(&yaml).expect_err("rejected").exit_code(), 1);
        let yaml = format!("{}x", "- ".repeat(depth));
        assert_eq!(load(&yaml).expect_err("rejected").exit_code(), 1);
    }
}
