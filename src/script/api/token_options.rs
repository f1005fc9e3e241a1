//! `token::create`'s options map: kubeadm's defaults overridden by the
//! script's choices, then the same validation as `tokensmith token create`.

use jiff::Timestamp;
use rhai::{Array, Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use crate::token::validate::{
    DEFAULT_GROUP, KNOWN_USAGES, ValidationErrors, validate_usages_and_groups,
};
use crate::token::{BootstrapToken, BootstrapTokenString, Expiry, parse_go_duration};

const CREATE_OPTIONS: &str = "ttl, expires, usages, groups, description";

/// Builds the token `token::create` writes: kubeadm's defaults (24h TTL, both
/// usages, the default node group) overridden by `options`, then the same
/// usages/groups validation as `tokensmith token create`.
/// `function` names the caller in errors; `now` is the run's clock (a test's
/// `clock::advance` moves it), which an `expires` must be after.
pub fn token_from_options(
    token: BootstrapTokenString,
    options: &Map,
    pos: Position,
    function: &str,
    now: Timestamp,
) -> Result<BootstrapToken, Box<EvalAltResult>> {
    let err = |m: String| host_error(function, &m, pos);
    let mut t = BootstrapToken::with_defaults(token);
    for (key, value) in options {
        if value.is_unit() {
            continue; // `#{ttl: ()}` means "the default", which makes optional args easy.
        }
        match key.as_str() {
            "ttl" => {
                t.ttl = Some(if let Some(d) = value.read_lock::<jiff::SignedDuration>() {
                    *d
                } else if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
                    parse_go_duration(&s).map_err(|e| err(format!("invalid ttl: {e}")))?
                } else {
                    return Err(err(format!(
                        "ttl must be a duration string such as \"24h\" or a duration, got {}",
                        value.type_name()
                    )));
                });
            }
            "expires" => {
                t.expires = Some(if let Some(ts) = value.read_lock::<Timestamp>() {
                    Expiry::utc(*ts)
                } else if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
                    Expiry::parse(&s).map_err(|e| err(format!("invalid expires: {e}")))?
                } else {
                    return Err(err(format!(
                        "expires must be an RFC 3339 string or a timestamp, got {}",
                        value.type_name()
                    )));
                });
            }
            "usages" => t.usages = strings(value, "usages").map_err(err)?,
            "groups" => t.groups = strings(value, "groups").map_err(err)?,
            "description" => {
                t.description = value
                    .read_lock::<rhai::ImmutableString>()
                    .map(|s| s.to_string())
                    .ok_or_else(|| {
                        err(format!(
                            "description must be a string, got {}",
                            value.type_name()
                        ))
                    })?;
            }
            other => {
                return Err(err(format!(
                    "unknown option {other:?} (accepted: {CREATE_OPTIONS})"
                )));
            }
        }
    }
    // The CLI keeps kubeadm's behaviour (a negative TTL or a past expiry
    // makes a token that is dead on arrival); in a script that is a bug.
    if let Some(ttl) = t.ttl
        && ttl.is_negative()
    {
        return Err(err(format!(
            "ttl must not be negative (0 means never expires), got {}",
            crate::token::format_go_duration(ttl)
        )));
    }
    if let Some(expires) = &t.expires
        && expires.is_expired(now)
    {
        return Err(err(format!(
            "expires {} is in the past",
            expires.to_rfc3339()
        )));
    }
    let explicit_ttl = options.get("ttl").is_some_and(|v| !v.is_unit());
    if t.expires.is_some() {
        if explicit_ttl {
            return Err(err("ttl and expires are mutually exclusive".to_owned()));
        }
        t.ttl = None;
    }
    // As `token create` does (kubeadm's defaulting): an empty list means the default.
    if t.usages.is_empty() {
        t.usages = KNOWN_USAGES.iter().map(|s| s.to_string()).collect();
    }
    // The default group only means something to a token that authenticates:
    // a signing-only token (`usages: ["signing"]`) gets none, as the Secret
    // format allows, where `kubeadm token create --usages signing` would fail
    // on its own default.
    let authenticates = t
        .usages
        .iter()
        .any(|u| u == crate::token::validate::USAGE_AUTHENTICATION);
    let explicit_groups = options
        .get("groups")
        .is_some_and(|v| !v.is_unit() && !t.groups.is_empty());
    if !authenticates && !explicit_groups {
        t.groups.clear();
    } else if t.groups.is_empty() {
        t.groups = vec![DEFAULT_GROUP.to_owned()];
    }
    let errors = validate_usages_and_groups("options", &t.usages, &t.groups);
    if !errors.is_empty() {
        return Err(err(ValidationErrors(errors).to_string()));
    }
    Ok(t)
}

/// An array of strings, or one comma-separated string as the CLI flags take.
pub fn strings(value: &Dynamic, what: &str) -> Result<Vec<String>, String> {
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return Ok(if s.is_empty() {
            Vec::new()
        } else {
            s.split(',').map(|p| p.trim().to_owned()).collect()
        });
    }
    if let Some(a) = value.read_lock::<Array>() {
        return a
            .iter()
            .map(|v| {
                v.read_lock::<rhai::ImmutableString>()
                    .map(|s| s.to_string())
                    .ok_or_else(|| format!("{what} must hold strings, found {}", v.type_name()))
            })
            .collect();
    }
    Err(format!(
        "{what} must be an array of strings or a comma-separated string, got {}",
        value.type_name()
    ))
}
