//! Properties: no template, path or token text makes a printer panic, and
//! the YAML we write reads back as the strings we wrote.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::gotemplate::GoTemplatePrinter;
use super::jsonpath::JsonPathTemplate;
use super::tabwriter::TabWriter;
use super::yaml::to_yaml;
use super::{PrintFlags, printer};
use crate::token::{BootstrapToken, BootstrapTokenString, Expiry};

fn sample() -> Value {
    serde_json::json!({
        "kind": "BootstrapToken",
        "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
        "token": "abcdef.0123456789abcdef",
        "description": "d",
        "usages": ["signing", "authentication"],
        "groups": ["system:bootstrappers:kubeadm:default-node-token"]
    })
}

/// Template-ish text: mostly the characters the two syntaxes care about.
fn template_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("{{".to_owned()),
            Just("}}".to_owned()),
            Just(".".to_owned()),
            Just("..".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("[?(".to_owned()),
            Just(")]".to_owned()),
            Just("*".to_owned()),
            Just(":".to_owned()),
            Just(",".to_owned()),
            Just("-".to_owned()),
            Just("\"".to_owned()),
            Just("'".to_owned()),
            Just("\\".to_owned()),
            Just("$".to_owned()),
            Just("@".to_owned()),
            Just("|".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("range ".to_owned()),
            Just("end".to_owned()),
            Just("if ".to_owned()),
            Just("with ".to_owned()),
            Just("else".to_owned()),
            Just(":=".to_owned()),
            Just("token".to_owned()),
            Just("usages".to_owned()),
            Just("index ".to_owned()),
            Just("len ".to_owned()),
            Just("printf ".to_owned()),
            Just("exists ".to_owned()),
            Just("base64decode ".to_owned()),
            Just("-1".to_owned()),
            Just("0".to_owned()),
            Just("==".to_owned()),
            "[a-z0-9]{0,3}",
            "\\PC{0,2}",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn jsonpath_never_panics(t in template_text(), allow in any::<bool>(), as_json in any::<bool>()) {
        if let Ok(p) = JsonPathTemplate::parse(&t, allow, as_json) {
            let _ = p.execute(&sample());
        }
    }

    #[test]
    fn go_templates_never_panic(t in template_text(), allow in any::<bool>()) {
        if let Ok(p) = GoTemplatePrinter::new(&t, allow) {
            let _ = p.execute(&sample());
        }
    }

    #[test]
    fn tabwriter_never_panics(s in "\\PC{0,64}|[\\t\\n\\x0b\\x0ca ]{0,64}") {
        let mut w = TabWriter::new(10, 3);
        w.write(&s);
        let _ = w.flush();
    }

    #[test]
    fn yaml_reads_back_as_written(
        description in "\\PC{1,120}|[ a-z:#'\"\\-\\n\\t]{1,100}",
        groups in proptest::collection::vec("\\PC{0,30}|[0-9.:eE+\\-_]{1,4}|(true|no|~|null|0x1f|1_0)", 1..4),
    ) {
        let mut m = Map::new();
        m.insert("description".into(), Value::String(description.clone()));
        m.insert("groups".into(), Value::Array(groups.iter().cloned().map(Value::String).collect()));
        let yaml = to_yaml(&m);
        let back: std::collections::BTreeMap<String, Value> =
            serde_saphyr::from_str(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(back.get("description"), Some(&Value::String(description)), "{}", yaml);
        prop_assert_eq!(
            back.get("groups"),
            Some(&Value::Array(groups.into_iter().map(Value::String).collect())),
            "{}",
            yaml
        );
    }

    #[test]
    fn every_format_prints_any_token_and_json_reads_back(
        description in "\\PC{0,80}|[\\t\\n\\x0b\\x0c<>&a ]{0,20}",
        usages in proptest::collection::vec("\\PC{0,12}", 0..3),
        groups in proptest::collection::vec("\\PC{0,20}", 0..3),
        expires_secs in proptest::option::of(-400_000_000i64..400_000_000),
    ) {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let token = BootstrapToken {
            token: BootstrapTokenString::generate(),
            description: description.clone(),
            ttl: None,
            expires: expires_secs.and_then(|s| now.checked_add(jiff::SignedDuration::from_secs(s)).ok()).map(Expiry::utc),
            usages: usages.clone(),
            groups: groups.clone(),
        };
        for output in ["text", "json", "yaml", "go-template={{.}}", "jsonpath={..}"] {
            let flags = PrintFlags { output: output.into(), ..PrintFlags::default() };
            let mut p = printer(&flags).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut out = Vec::new();
            p.print(&token, now, &mut out).map_err(|e| TestCaseError::fail(format!("{output}: {e}")))?;
            if output == "json" {
                let back: Value = serde_json::from_slice(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let exposed = token.token.expose();
                prop_assert_eq!(back["token"].as_str(), Some(exposed.as_str()));
                let want_description = if description.is_empty() { None } else { Some(description.as_str()) };
                prop_assert_eq!(back.get("description").and_then(Value::as_str), want_description);
                prop_assert_eq!(back.get("usages").map(|u| u.as_array().map(Vec::len)), (!usages.is_empty()).then_some(Some(usages.len())));
            }
        }
    }
}
