//! Usages and groups validation with kubeadm's messages
//! (`cluster-bootstrap/token/util/helpers.go`, kubeadm `validation.go`), and
//! apimachinery's field-error rendering used for exit status 3.

use std::collections::BTreeSet;
use std::fmt;

use super::quote::go_quote;

pub const USAGE_SIGNING: &str = "signing";
pub const USAGE_AUTHENTICATION: &str = "authentication";
/// `KnownTokenUsages`, in upstream order (also the `--usages` default).
pub const KNOWN_USAGES: [&str; 2] = [USAGE_SIGNING, USAGE_AUTHENTICATION];
/// `BootstrapGroupPattern`.
pub const GROUP_PATTERN: &str = r"\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z";
/// kubeadm's `DefaultTokenGroups`.
pub const DEFAULT_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
/// The group the authenticator always adds (`BootstrapDefaultGroup`).
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";
const GROUP_PREFIX: &str = "system:bootstrappers:";

/// `ValidateUsages`: unknown usages, sorted and comma-joined.
pub fn validate_usages<S: AsRef<str>>(usages: &[S]) -> Result<(), String> {
    let invalid: BTreeSet<&str> = usages
        .iter()
        .map(AsRef::as_ref)
        .filter(|u| !KNOWN_USAGES.contains(u))
        .collect();
    if invalid.is_empty() {
        return Ok(());
    }
    Err(format!(
        "invalid bootstrap token usage string: {}, valid usage options: {}",
        invalid.into_iter().collect::<Vec<_>>().join(","),
        KNOWN_USAGES.join(",")
    ))
}

/// True when `g` matches `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
pub fn is_valid_group(g: &str) -> bool {
    let Some(rest) = g.strip_prefix(GROUP_PREFIX) else {
        return false;
    };
    let b = rest.as_bytes();
    let Some((&last, body)) = b.split_last() else {
        return false;
    };
    body.len() <= 255
        && (last.is_ascii_lowercase() || last.is_ascii_digit())
        && body
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b':' || *c == b'-')
}

/// `ValidateBootstrapGroupName`.
pub fn validate_group(g: &str) -> Result<(), String> {
    if is_valid_group(g) {
        Ok(())
    } else {
        Err(format!(
            "bootstrap group {} is invalid (must match {GROUP_PATTERN})",
            go_quote(g)
        ))
    }
}

/// The value shown in a field error: apimachinery renders strings with `%q`
/// and slices as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    Str(String),
    List(Vec<String>),
}

impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Str(s) => f.write_str(&go_quote(s)),
            FieldValue::List(l) => f.write_str(&serde_json::to_string(l).map_err(|_| fmt::Error)?),
        }
    }
}

/// One `field.Invalid` error: `<path>: Invalid value: <value>: <detail>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub value: FieldValue,
    pub detail: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: Invalid value: {}: {}",
            self.path, self.value, self.detail
        )
    }
}

/// A `utilerrors.Aggregate` of field errors: one message alone, several as
/// `[e1, e2]` with duplicates dropped. kubeadm exits 3 on these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seen = BTreeSet::new();
        let msgs: Vec<String> = self
            .0
            .iter()
            .map(ToString::to_string)
            .filter(|m| seen.insert(m.clone()))
            .collect();
        if msgs.len() == 1 {
            f.write_str(&msgs[0])
        } else {
            write!(f, "[{}]", msgs.join(", "))
        }
    }
}

/// kubeadm's `ValidateTokenUsages` + `ValidateTokenGroups` for the token at
/// `path` (e.g. `bootstrapTokens.0`).
pub fn validate_usages_and_groups(
    path: &str,
    usages: &[String],
    groups: &[String],
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Err(detail) = validate_usages(usages) {
        errs.push(FieldError {
            path: format!("{path}.usages"),
            value: FieldValue::List(usages.to_vec()),
            detail,
        });
    }
    let groups_err = |detail| FieldError {
        path: format!("{path}.groups"),
        value: FieldValue::List(groups.to_vec()),
        detail,
    };
    if !groups.is_empty() && !usages.iter().any(|u| u == USAGE_AUTHENTICATION) {
        errs.push(groups_err(format!(
            "token groups cannot be specified unless --usages includes {}",
            go_quote(USAGE_AUTHENTICATION)
        )));
    }
    for g in groups {
        if let Err(detail) = validate_group(g) {
            errs.push(groups_err(detail));
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn usages_messages() {
        assert!(validate_usages(&["signing", "authentication"]).is_ok());
        assert!(validate_usages::<&str>(&[]).is_ok());
        assert_eq!(
            validate_usages(&["foo", "bar", "signing", "foo"]).unwrap_err(),
            "invalid bootstrap token usage string: bar,foo, valid usage options: signing,authentication"
        );
    }

    #[test]
    fn group_pattern() {
        for ok in [
            "system:bootstrappers:kubeadm:default-node-token",
            "system:bootstrappers:a",
            "system:bootstrappers:foo:bar-1",
        ] {
            assert!(is_valid_group(ok), "{ok}");
        }
        let long_ok = format!("system:bootstrappers:{}a", "b".repeat(255));
        assert!(is_valid_group(&long_ok));
        let too_long = format!("system:bootstrappers:{}a", "b".repeat(256));
        for bad in [
            "system:bootstrappers",
            "system:bootstrappers:",
            "system:bootstrappers:foo-",
            "system:bootstrappers:Foo",
            "foo",
            "system:bootstrappers:foo:",
            too_long.as_str(),
        ] {
            assert!(!is_valid_group(bad), "{bad}");
        }
        assert_eq!(
            validate_group("foo").unwrap_err(),
            r#"bootstrap group "foo" is invalid (must match \Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z)"#
        );
    }

    #[test]
    fn field_errors_render_like_apimachinery() {
        let errs = validate_usages_and_groups(
            "bootstrapTokens.0",
            &v(&["signing"]),
            &v(&["system:bootstrappers:kubeadm:default-node-token"]),
        );
        assert_eq!(
            ValidationErrors(errs).to_string(),
            r#"bootstrapTokens.0.groups: Invalid value: ["system:bootstrappers:kubeadm:default-node-token"]: token groups cannot be specified unless --usages includes "authentication""#
        );
        let errs = validate_usages_and_groups("bootstrapTokens.0", &v(&["foo"]), &v(&[]));
        assert_eq!(
            ValidationErrors(errs).to_string(),
            r#"bootstrapTokens.0.usages: Invalid value: ["foo"]: invalid bootstrap token usage string: foo, valid usage options: signing,authentication"#
        );
        let errs = validate_usages_and_groups("p", &v(&["foo"]), &v(&["bad"]));
        let s = ValidationErrors(errs).to_string();
        assert!(
            s.starts_with("[p.usages: ") && s.contains(", p.groups: ") && s.ends_with(']'),
            "{s}"
        );
    }
}
