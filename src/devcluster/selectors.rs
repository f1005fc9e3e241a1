//! Label and field selectors, parsed as k8s.io/apimachinery's `labels.Parse`
//! and `fields.ParseSelector` accept them.

use serde_json::Value;

use super::objects;
use super::resources::Resource;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector(pub Vec<LabelRequirement>);

impl LabelSelector {
    pub fn parse(input: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for term in split_top_level(input) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(term)?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let labels = objects::labels(obj);
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => get(k) == Some(v.as_str()),
            // As apimachinery: `!=` and `notin` also match objects without the label.
            LabelRequirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    // A qualified name with an optional DNS-subdomain prefix.
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    name_ok && prefix.is_none_or(super::validate::is_dns1123_subdomain)
}

fn valid_value(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.as_bytes()[0].is_ascii_alphanumeric()
            && v.as_bytes()[v.len() - 1].is_ascii_alphanumeric()
            && v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')))
}

fn parse_requirement(term: &str) -> Result<LabelRequirement, String> {
    let checked_key = |k: &str| -> Result<String, String> {
        let k = k.trim();
        if valid_key(k) {
            Ok(k.to_string())
        } else {
            Err(format!(
                "unable to parse requirement: invalid label key \"{k}\""
            ))
        }
    };
    let checked_value = |v: &str| -> Result<String, String> {
        let v = v.trim();
        if valid_value(v) {
            Ok(v.to_string())
        } else {
            Err(format!(
                "unable to parse requirement: invalid label value: \"{v}\""
            ))
        }
    };
    if let Some(k) = term.strip_prefix('!') {
        return Ok(LabelRequirement::DoesNotExist(checked_key(k)?));
    }
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(LabelRequirement::NotEquals(
            checked_key(k)?,
            checked_value(v)?,
        ));
    }
    if let Some((k, v)) = term.split_once("==") {
        return Ok(LabelRequirement::Equals(checked_key(k)?, checked_value(v)?));
    }
    if let Some((k, v)) = term.split_once('=') {
        return Ok(LabelRequirement::Equals(checked_key(k)?, checked_value(v)?));
    }
    if let Some(open) = term.find('(') {
        let head = term[..open].trim();
        let Some(list) = term[open + 1..].strip_suffix(')') else {
            // The lexer reaches the end of the selector inside the list.
            return Err("unable to parse requirement: found '', expected: ',' or ')'".into());
        };
        let (key, op) = head
            .rsplit_once(char::is_whitespace)
            .ok_or_else(|| format!("unable to parse requirement: {term}"))?;
        let values = list
            .split(',')
            .map(checked_value)
            .collect::<Result<Vec<_>, _>>()?;
        return match op.trim() {
            "in" => Ok(LabelRequirement::In(checked_key(key)?, values)),
            "notin" => Ok(LabelRequirement::NotIn(checked_key(key)?, values)),
            other => Err(format!(
                "found '{other}', expected: in, notin, =, ==, !=, gt, lt"
            )),
        };
    }
    Ok(LabelRequirement::Exists(checked_key(term)?))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub value: String,
    pub negated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector(pub Vec<FieldRequirement>);

impl FieldSelector {
    /// Parses and checks the fields against what `r` supports
    /// (registry GetAttrs: metadata.name and metadata.namespace everywhere,
    /// `type` for Secrets).
    pub fn parse(input: &str, r: Resource) -> Result<FieldSelector, String> {
        let mut reqs = Vec::new();
        for term in input.split(',') {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (field, value, negated) = if let Some((f, v)) = term.split_once("!=") {
                (f, v, true)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, v, false)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, v, false)
            } else {
                return Err(format!(
                    "invalid selector: '{term}'; can't understand '{term}'"
                ));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || (r == Resource::Secrets && field == "type");
            if !supported {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push(FieldRequirement {
                field: field.to_string(),
                value: value.trim().to_string(),
                negated,
            });
        }
        Ok(FieldSelector(reqs))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|r| {
            let actual = match r.field.as_str() {
                "metadata.name" => objects::name(obj),
                "metadata.namespace" => objects::namespace(obj),
                "type" => obj.get("type").and_then(Value::as_str).unwrap_or(""),
                _ => "",
            };
            (actual == r.value) != r.negated
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "n", "namespace": "ns", "labels": labels}, "type": "t"})
    }

    #[test]
    fn equality_and_set_based_label_selectors() {
        let o = obj(json!({"app": "web", "tier": "front"}));
        let m = |s: &str| LabelSelector::parse(s).expect(s).matches(&o);
        assert!(m("app=web"));
        assert!(m("app==web,tier=front"));
        assert!(!m("app!=web"));
        assert!(m("app in (web, db)"));
        assert!(!m("app notin (web)"));
        assert!(m("tier"));
        assert!(!m("!tier"));
        assert!(m("!missing"));
        assert!(m("missing!=x"));
        assert!(m("missing notin (x)"));
        assert!(!m("missing in (x)"));
        assert!(m(""));
    }

    #[test]
    fn bad_label_selectors_are_errors() {
        assert!(LabelSelector::parse("app in (web").is_err());
        assert!(LabelSelector::parse("bad key=x").is_err());
        assert!(LabelSelector::parse("a=b c").is_err());
    }

    #[test]
    fn field_selectors_on_secrets() {
        let o = obj(json!({}));
        let m = |s: &str| {
            FieldSelector::parse(s, Resource::Secrets)
                .expect(s)
                .matches(&o)
        };
        assert!(m("type=t"));
        assert!(m("metadata.name==n,metadata.namespace=ns"));
        assert!(!m("type!=t"));
        assert!(m("metadata.name!=other"));
    }

    #[test]
    fn unsupported_field_selectors_are_refused() {
        assert_eq!(
            FieldSelector::parse("type=x", Resource::ConfigMaps).expect_err("unsupported"),
            "field label not supported: type"
        );
        assert!(FieldSelector::parse("spec.foo=1", Resource::Secrets).is_err());
    }
}
