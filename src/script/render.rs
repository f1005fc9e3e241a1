//! Script values as a person reads them: what `run` prints as the result
//! and the REPL prints after each input. Tokens show redacted; an array of
//! tokens is a table in `kubeadm token list`'s columns.

use jiff::{SignedDuration, Timestamp};
use rhai::{Array, Dynamic, Map};

use super::api::errors::HostError;
use super::api::time::rfc3339;
use super::api::token::ScriptToken;
use crate::token::{format_go_duration, short_human_duration};

/// The value as text; `None` for `()`, which prints nothing.
pub fn render(value: &Dynamic) -> Option<String> {
    if value.is_unit() {
        return None;
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return Some(s.to_string());
    }
    // An empty array is most often a token list that matched nothing: the
    // header alone says so more clearly than `[]`.
    if let Some(a) = value.read_lock::<Array>()
        && a.iter().all(|v| v.is::<ScriptToken>())
    {
        let tokens: Vec<ScriptToken> = a.iter().filter_map(|v| v.clone().try_cast()).collect();
        return Some(token_table(&tokens, Timestamp::now()));
    }
    Some(inline(value))
}

/// One-line form, nested values included (strings quoted, as Rhai's debug form).
pub fn inline(value: &Dynamic) -> String {
    if value.is_unit() {
        return "()".to_owned();
    }
    if let Some(t) = value.read_lock::<ScriptToken>() {
        return t.token.token.redacted();
    }
    if let Some(t) = value.read_lock::<Timestamp>() {
        return rfc3339(*t);
    }
    if let Some(d) = value.read_lock::<SignedDuration>() {
        return format_go_duration(*d);
    }
    if let Some(e) = value.read_lock::<HostError>() {
        return e.to_string();
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return format!("{:?}", s.as_str());
    }
    if let Some(a) = value.read_lock::<Array>() {
        let items: Vec<String> = a.iter().map(inline).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(m) = value.read_lock::<Map>() {
        let items: Vec<String> = m
            .iter()
            .map(|(k, v)| format!("{}: {}", map_key(k), inline(v)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    value.to_string()
}

fn map_key(k: &str) -> String {
    let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        k.to_owned()
    } else {
        format!("{k:?}")
    }
}

/// `TOKEN TTL EXPIRES USAGES DESCRIPTION EXTRA GROUPS`, padded into columns,
/// with every secret redacted.
pub fn token_table(tokens: &[ScriptToken], now: Timestamp) -> String {
    let mut rows = vec![
        [
            "TOKEN",
            "TTL",
            "EXPIRES",
            "USAGES",
            "DESCRIPTION",
            "EXTRA GROUPS",
        ]
        .map(str::to_owned),
    ];
    for t in tokens {
        let (ttl, expires) = match t.token.expires {
            // Only generated: nothing on the cluster can expire yet.
            _ if t.created.is_none() => ("<not created>".to_owned(), "<not created>".to_owned()),
            None => ("<forever>".to_owned(), "<never>".to_owned()),
            Some(e) if e.is_expired(now) => ("<invalid>".to_owned(), e.to_rfc3339()),
            Some(e) => (short_human_duration(e.remaining(now)), e.to_rfc3339()),
        };
        let or_none = |s: String| if s.is_empty() { "<none>".to_owned() } else { s };
        rows.push([
            t.token.token.redacted(),
            ttl,
            expires,
            or_none(t.sorted_usages().join(",")),
            or_none(t.token.description.clone()),
            or_none(t.token.groups.join(",")),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{BootstrapToken, BootstrapTokenString, Expiry};

    fn token(expires: Option<&str>, description: &str) -> ScriptToken {
        let mut t = BootstrapToken::with_defaults(
            BootstrapTokenString::parse("abcdef.0123456789abcdef").unwrap(),
        );
        t.ttl = None;
        t.expires = expires.map(|e| Expiry::parse(e).unwrap());
        t.description = description.into();
        ScriptToken {
            token: t,
            created: Some("2023-12-31T00:00:00Z".parse().unwrap()),
            labels: Default::default(),
        }
    }

    #[test]
    fn a_token_list_renders_as_a_redacted_table() {
        let now: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let table = token_table(
            &[
                token(Some("2024-01-02T00:00:00Z"), "rotated"),
                token(None, ""),
            ],
            now,
        );
        let want = [
            "TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION   EXTRA GROUPS",
            "abcdef.****************   1d          2024-01-02T00:00:00Z   authentication,signing   rotated       system:bootstrappers:kubeadm:default-node-token",
            "abcdef.****************   <forever>   <never>                authentication,signing   <none>        system:bootstrappers:kubeadm:default-node-token",
        ];
        assert_eq!(table, want.join("\n"));
        assert!(!table.contains("0123456789abcdef"));
    }

    #[test]
    fn nested_values_render_readably() {
        let mut m = Map::new();
        m.insert("id".into(), Dynamic::from(token(None, "")));
        m.insert("ttl".into(), Dynamic::from(SignedDuration::from_hours(2)));
        m.insert("note".into(), Dynamic::from("hi"));
        assert_eq!(
            render(&Dynamic::from_map(m)).unwrap(),
            r#"#{id: abcdef.****************, note: "hi", ttl: 2h0m0s}"#
        );
        assert_eq!(render(&Dynamic::UNIT), None);
        assert_eq!(render(&Dynamic::from("plain")).unwrap(), "plain");
    }

    #[test]
    fn an_empty_array_is_an_empty_table_and_generated_tokens_say_so() {
        let header = "TOKEN   TTL   EXPIRES   USAGES   DESCRIPTION   EXTRA GROUPS";
        assert_eq!(render(&Dynamic::from_array(Vec::new())).unwrap(), header);
        let mut generated = token(None, "");
        generated.created = None;
        let table = token_table(&[generated], Timestamp::now());
        assert!(table.contains("<not created>   <not created>"), "{table}");
    }
}
