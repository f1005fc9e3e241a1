//! KYAML, the strict YAML subset kubectl/kubeadm v1.37 print for `-o kyaml`:
//! every document starts with `---`, mappings and lists are flow style
//! with one entry a line and a trailing comma, strings are always quoted.

use serde_json::Value;

/// One object as a KYAML document, newline-terminated.
pub fn to_kyaml(v: &Value) -> String {
    let mut out = String::from("---\n");
    write_value(v, 0, &mut out);
    out.push('\n');
    out
}

fn write_value(v: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth + 1);
    match v {
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(m) => {
            out.push_str("{\n");
            for (k, v) in m {
                out.push_str(&pad);
                out.push_str(&key(k));
                out.push_str(": ");
                write_value(v, depth + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&"  ".repeat(depth));
            out.push('}');
        }
        Value::Array(a) => {
            out.push_str("[\n");
            for v in a {
                out.push_str(&pad);
                write_value(v, depth + 1, out);
                out.push_str(",\n");
            }
            out.push_str(&"  ".repeat(depth));
            out.push(']');
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        other => out.push_str(&other.to_string()),
    }
}

/// Keys that read as plain identifiers stay bare, as KYAML prints them.
fn key(k: &str) -> String {
    let plain = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if plain {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}
