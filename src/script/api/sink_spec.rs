//! Where a script says to publish: the one place that turns a script's
//! sink description into a [`Sink`]. `publish::…` and `token::rotate`'s
//! `publish` array both go through here, so each sink takes its options the
//! same way everywhere. Everything is checked (and credential files are read)
//! before anything is published, so a bad spec fails before a token exists.

use std::collections::BTreeSet;
use std::time::Duration;

use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use crate::publish::{ObjectKind, Sink, Webhook};
use crate::token::parse_go_duration;

/// The keys that name a sink's kind; a spec has exactly one.
const KINDS: &str = "file, secret, configmap, webhook, stdout";
const OBJECT_KEYS: &str = "key";
const WEBHOOK_KEYS: &str =
    "headers, authorization_file, authorization_env, ca_file, timeout, attempts, payload";
/// The key a Secret or ConfigMap sink writes when the spec names none.
pub const DEFAULT_OBJECT_KEY: &str = "join-command";

/// A file sink; the path must not be empty.
pub fn file_sink(path: &str) -> Result<Sink, String> {
    if path.is_empty() {
        return Err("the path must not be empty".to_owned());
    }
    Ok(Sink::File(path.into()))
}

/// A Secret or ConfigMap key sink; no part may be empty.
pub fn object_sink(
    kind: ObjectKind,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Sink, String> {
    for (what, v) in [("namespace", namespace), ("name", name), ("key", key)] {
        if v.is_empty() {
            return Err(format!("the {what} must not be empty"));
        }
    }
    Ok(Sink::Object {
        kind,
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        key: key.to_owned(),
    })
}

/// A webhook sink with default settings and `extra` fields in its payload
/// beside `joinCommand`.
pub fn webhook_sink(url: &str, extra: &Map) -> Result<Sink, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    let value: serde_json::Value = rhai::serde::from_dynamic(&Dynamic::from_map(extra.clone()))
        .map_err(|e| format!("the extra payload fields are not JSON: {e}"))?;
    let extra = match value {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    Ok(Sink::Webhook {
        hook: Webhook::new(url),
        extra,
    })
}

/// Reads one sink spec map, e.g. `#{file: "/var/lib/join.sh"}`,
/// `#{secret: "ns/name", key: "join"}`, `#{webhook: "https://…", headers: #{…}}`
/// or `#{stdout: true}`. `label` prefixes messages (e.g. `publish[1]`);
/// `allow_env` holds the variables `authorization_env` may name.
pub fn sink_from_spec(
    function: &str,
    label: &str,
    spec: &Dynamic,
    allow_env: &BTreeSet<String>,
    pos: Position,
) -> Result<Sink, Box<EvalAltResult>> {
    parse_spec(spec, allow_env).map_err(|m| host_error(function, &format!("{label}: {m}"), pos))
}

fn parse_spec(spec: &Dynamic, allow_env: &BTreeSet<String>) -> Result<Sink, String> {
    let Some(map) = spec.read_lock::<Map>() else {
        return Err(format!(
            "a sink is a map such as #{{file: \"/path\"}}, got {}",
            spec.type_name()
        ));
    };
    let kinds: Vec<&str> = map
        .keys()
        .map(|k| k.as_str())
        .filter(|k| KINDS.split(", ").any(|kind| kind == *k))
        .collect();
    let kind = match kinds.as_slice() {
        [one] => *one,
        [] => return Err(format!("a sink needs one of {KINDS}")),
        [a, b, ..] => {
            return Err(format!(
                "{a:?} and {b:?} in one map: give each sink its own map"
            ));
        }
    };
    let accepted = match kind {
        "secret" | "configmap" => OBJECT_KEYS,
        "webhook" => WEBHOOK_KEYS,
        _ => "",
    };
    if let Some(bad) = map
        .keys()
        .find(|k| k.as_str() != kind && !accepted.split(", ").any(|a| a == k.as_str()))
    {
        let also = if accepted.is_empty() {
            "no other key"
        } else {
            accepted
        };
        return Err(format!(
            "unknown key {:?} for a {kind} sink (accepted: {kind}, {also})",
            bad.as_str()
        ));
    }
    let required =
        |key: &str| text(&map, key)?.ok_or_else(|| format!("{key} must be a string, got ()"));
    match kind {
        "file" => file_sink(&required("file")?),
        "secret" | "configmap" => {
            let object = required(kind)?;
            let Some((namespace, name)) = object.split_once('/') else {
                return Err(format!("{kind} must be \"namespace/name\", got {object:?}"));
            };
            let key = text(&map, "key")?.unwrap_or_else(|| DEFAULT_OBJECT_KEY.to_owned());
            let kind = if kind == "secret" {
                ObjectKind::Secret
            } else {
                ObjectKind::ConfigMap
            };
            object_sink(kind, namespace, name, &key)
        }
        "stdout" => match map.get("stdout").and_then(|v| v.as_bool().ok()) {
            Some(true) => Ok(Sink::Stdout),
            _ => Err("stdout must be true".to_owned()),
        },
        _ => {
            let payload = match map.get("payload").filter(|v| !v.is_unit()) {
                None => Map::new(),
                Some(v) => v
                    .read_lock::<Map>()
                    .map(|m| m.clone())
                    .ok_or_else(|| format!("payload must be a map, got {}", v.type_name()))?,
            };
            let mut sink = webhook_sink(&required("webhook")?, &payload)?;
            if let Sink::Webhook { hook, .. } = &mut sink {
                configure_webhook(hook, &map, allow_env)?;
            }
            Ok(sink)
        }
    }
}

/// A string option, `None` when absent or `()`.
fn text(map: &Map, key: &str) -> Result<Option<String>, String> {
    match map.get(key).filter(|v| !v.is_unit()) {
        None => Ok(None),
        Some(v) => v
            .read_lock::<rhai::ImmutableString>()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| format!("{key} must be a string, got {}", v.type_name())),
    }
}

/// Under `watch`, the `stdout` sink would write a join command (a secret)
/// into the daemon's log: refused with what to do instead.
pub fn refuse_stdout_in_daemon(
    function: &str,
    run: &crate::script::context::RunContext,
    sink: &Sink,
    pos: rhai::Position,
) -> Result<(), Box<rhai::EvalAltResult>> {
    if run.daemon && matches!(sink, Sink::Stdout) {
        return Err(super::errors::host_error(
            function,
            "the stdout sink is refused under `watch`: stdout is the daemon's log, \
             and a join command there leaks its token; publish to a file, Secret, ConfigMap or \
             webhook instead (for scripts/rotate.rhai: `//! arg: out=/run/join.sh` in the header, \
             or `watch --arg out=/run/join.sh`)",
            pos,
        ));
    }
    Ok(())
}

/// Headers, credentials, trust and retry settings of a webhook spec.
fn configure_webhook(
    hook: &mut Webhook,
    map: &Map,
    allow_env: &BTreeSet<String>,
) -> Result<(), String> {
    if let Some(v) = map.get("headers").filter(|v| !v.is_unit()) {
        let headers = v
            .read_lock::<Map>()
            .ok_or_else(|| format!("headers must be a map, got {}", v.type_name()))?;
        for (name, value) in headers.iter() {
            let value = value
                .read_lock::<rhai::ImmutableString>()
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    format!(
                        "header {:?} must be a string, got {}",
                        name.as_str(),
                        value.type_name()
                    )
                })?;
            add_header(hook, name, value)?;
        }
    }
    let from_file = text(map, "authorization_file")?;
    let from_env = text(map, "authorization_env")?;
    let authorization = match (from_file, from_env) {
        (Some(_), Some(_)) => {
            return Err("authorization_file and authorization_env are mutually exclusive".into());
        }
        (Some(path), None) => {
            let value = crate::input::read_capped_string(std::path::Path::new(&path))
                .map_err(|e| format!("cannot read authorization_file {path}: {e}"))?;
            if value.trim().is_empty() {
                return Err(format!("authorization_file {path} is empty"));
            }
            Some(value.trim().to_owned())
        }
        (None, Some(name)) => {
            if !allow_env.contains(&name) {
                return Err(format!(
                    "reading environment variable {name:?} is not allowed (allow it with --allow-env {name})"
                ));
            }
            Some(
                std::env::var(&name)
                    .map_err(|_| format!("authorization_env: {name} is not set"))?
                    .trim()
                    .to_owned(),
            )
        }
        (None, None) => None,
    };
    if let Some(value) = authorization {
        if hook
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        {
            return Err(
                "an Authorization header is given twice (headers and authorization_*)".into(),
            );
        }
        add_header(hook, "Authorization", value)?;
    }
    if let Some(ca) = text(map, "ca_file")? {
        if ca.is_empty() {
            return Err("ca_file must not be empty".into());
        }
        hook.ca_file = Some(ca.into());
    }
    if let Some(v) = map.get("timeout").filter(|v| !v.is_unit()) {
        let d = if let Some(d) = v.read_lock::<jiff::SignedDuration>() {
            *d
        } else if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
            parse_go_duration(&s).map_err(|e| format!("invalid timeout: {e}"))?
        } else {
            return Err(format!(
                "timeout must be a duration string such as \"10s\" or a duration, got {}",
                v.type_name()
            ));
        };
        hook.timeout = Duration::try_from(d)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| "timeout must be positive".to_owned())?;
    }
    if let Some(v) = map.get("attempts").filter(|v| !v.is_unit()) {
        let n = v
            .as_int()
            .map_err(|t| format!("attempts must be an integer, got {t}"))?;
        hook.attempts = u32::try_from(n)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| format!("attempts must be between 1 and 100, got {n}"))?;
    }
    Ok(())
}

/// Adds a header after checking it is valid HTTP, so a bad one fails before
/// anything is published. The value may be a credential: it is never quoted.
fn add_header(hook: &mut Webhook, name: &str, value: String) -> Result<(), String> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid HTTP header name"))?;
    http::HeaderValue::from_str(&value)
        .map_err(|_| format!("the value of header {name:?} is not a valid HTTP header value"))?;
    let lower = name.to_ascii_lowercase();
    if ["auth", "token", "key", "secret", "cookie"]
        .iter()
        .any(|w| lower.contains(w))
    {
        crate::script::redact::remember_authorization(&value);
    }
    hook.headers.push((name.to_owned(), value));
    Ok(())
}

#[cfg(test)]
#[path = "sink_spec_tests.rs"]
mod tests;
