//! Rhai's names for types in messages. Rhai and `Dynamic::type_name` spell
//! some types the Rust way (`i64`, `&str | ImmutableString | String`,
//! `tokensmith::script::api::token::ScriptToken`); scripts know them as
//! `int`, `string`, `Token`.

use rhai::{Dynamic, ImmutableString, Map};

/// Rust spellings and the names a script author reads, longest first so a
/// spelling that contains another is replaced whole.
const NAMES: [(&str, &str); 12] = [
    ("&str | ImmutableString | String", "string"),
    ("tokensmith::script::api::token::ScriptToken", "Token"),
    ("tokensmith::script::api::errors::HostError", "HostError"),
    ("jiff::signed_duration::SignedDuration", "Duration"),
    ("jiff::timestamp::Timestamp", "Timestamp"),
    ("ImmutableString", "string"),
    ("rhai::Array", "array"),
    ("rhai::Map", "map"),
    ("bool", "bool"),
    ("char", "char"),
    ("i64", "int"),
    ("f64", "float"),
];

/// `message` with every Rust type spelling replaced by the script's name for it.
pub fn script_type_names(message: &str) -> String {
    let mut out = message.to_owned();
    for (rust, rhai) in NAMES {
        if rust != rhai && out.contains(rust) {
            out = replace_word(&out, rust, rhai);
        }
    }
    if out.contains("tokensmith::") {
        out = without_crate_paths(&out);
    }
    out
}

/// `tokensmith::testing::api::webhook::WebhookReceiver` → `WebhookReceiver`:
/// every other type of ours is registered under its Rust name.
fn without_crate_paths(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("tokensmith::") {
        out.push_str(&rest[..i]);
        let path = &rest[i..];
        let end = path
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(path.len());
        let last = path[..end].rsplit("::").next().unwrap_or_default();
        out.push_str(last);
        rest = &path[end..];
    }
    out.push_str(rest);
    out
}

/// The fields of the map `catch (e)` receives for an error Rhai raised
/// itself (not a `throw`), which Rhai fills with Rust spellings.
const CAUGHT_TEXT_FIELDS: [&str; 5] = ["message", "function", "requested", "actual", "type"];

/// Rewrites the error map a `catch` gave the script (`#{ error:
/// "ErrorFunctionNotFound", message: "…", … }`) to say Rhai's type names.
/// Rhai builds that map itself (`eval/stmt.rs`, `Stmt::TryCatch`), with no
/// hook, so the session calls this when the script first reads the catch
/// variable. Any other value is left alone: a thrown value is the script's own.
pub fn normalize_caught(value: &mut Dynamic) {
    let Some(mut map) = value.write_lock::<Map>() else {
        return;
    };
    // A caught error map has at most a handful of entries.
    let is_error = map.len() <= 8
        && map
            .get("error")
            .and_then(|e| {
                e.read_lock::<ImmutableString>()
                    .map(|e| e.starts_with("Error"))
            })
            .unwrap_or(false)
        && map.contains_key("message");
    if !is_error {
        return;
    }
    for field in CAUGHT_TEXT_FIELDS {
        if let Some(v) = map.get_mut(field) {
            let text = v.read_lock::<ImmutableString>().map(|t| t.to_string());
            if let Some(text) = text {
                let better = script_type_names(&text);
                if better != text {
                    *v = better.into();
                }
            }
        }
    }
}

/// Replaces `from` where it is not part of a longer identifier (`i64` in
/// `(i64)` but not in `xi64`).
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(ident) || after.is_some_and(ident) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::script_type_names;

    #[test]
    fn rust_spellings_become_rhai_names() {
        assert_eq!(
            script_type_names(
                "Function not found: foo (i64, &str | ImmutableString | String, f64)"
            ),
            "Function not found: foo (int, string, float)"
        );
        assert_eq!(
            script_type_names("got tokensmith::script::api::token::ScriptToken"),
            "got Token"
        );
        assert_eq!(
            script_type_names("a tokensmith::testing::api::webhook::WebhookReceiver here"),
            "a WebhookReceiver here"
        );
        assert_eq!(
            script_type_names("xi64 and i64s stay"),
            "xi64 and i64s stay"
        );
    }
}
