//! `token::rotate`: the safe rotation sequence of `src/rotation` as one
//! script call. A bad option is thrown (nothing has happened yet); what goes
//! wrong during the rotation is in the report, so the script decides.

use std::time::Duration;

use rhai::{Array, Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use super::sink_spec::{refuse_stdout_in_daemon, sink_from_spec};
use super::token::ScriptToken;
use super::token_options::strings;
use crate::rotation::{RotationReport, RotationSpec};
use crate::script::context::RunContext;
use crate::token::parse_go_duration;
use crate::token::validate::{DEFAULT_GROUP, KNOWN_USAGES};

const F: &str = "token::rotate";
const OPTIONS: &str =
    "name, ttl, description, usages, groups, keep, publish, verify, certificate_key, report_only";
/// The rotation `name` defaults to.
pub const DEFAULT_NAME: &str = "default";
/// How long `verify: true` waits for the bootstrapsigner.
pub const DEFAULT_VERIFY_WAIT: Duration = Duration::from_secs(30);

/// A wait bound: a Go duration string or a `Duration`, not negative.
pub fn wait_bound(value: &Dynamic, what: &str) -> Result<Duration, String> {
    let d = if let Some(d) = value.read_lock::<jiff::SignedDuration>() {
        *d
    } else if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        parse_go_duration(&s).map_err(|e| format!("invalid {what}: {e}"))?
    } else {
        return Err(format!(
            "{what} must be a duration string such as \"30s\" or a duration, got {}",
            value.type_name()
        ));
    };
    Duration::try_from(d).map_err(|_| format!("{what} must not be negative"))
}

fn string(value: &Dynamic, what: &str) -> Result<String, String> {
    value
        .read_lock::<rhai::ImmutableString>()
        .map(|s| s.to_string())
        .ok_or_else(|| format!("{what} must be a string, got {}", value.type_name()))
}

/// The rotation `options` describe. Every key is checked and every sink
/// read before anything happens on the cluster.
fn spec_from_options(
    options: &Map,
    run: &RunContext,
    pos: Position,
) -> Result<RotationSpec, Box<EvalAltResult>> {
    let err = |m: String| host_error(F, &m, pos);
    let name = match options.get("name").filter(|v| !v.is_unit()) {
        Some(v) => string(v, "name").map_err(err)?,
        None => DEFAULT_NAME.to_owned(),
    };
    let mut spec = RotationSpec::new(name);
    spec.description = format!("tokensmith rotation {}", spec.name);
    for (key, value) in options {
        if value.is_unit() {
            continue; // `#{ttl: args.ttl}` with no such argument means the default.
        }
        match key.as_str() {
            "name" | "report_only" => {}
            "ttl" => {
                let d = if let Some(d) = value.read_lock::<jiff::SignedDuration>() {
                    *d
                } else {
                    let s = string(value, "ttl").map_err(err)?;
                    parse_go_duration(&s).map_err(|e| err(format!("invalid ttl: {e}")))?
                };
                if d <= jiff::SignedDuration::ZERO {
                    // A token that never expires defeats rotating it.
                    return Err(err(format!(
                        "ttl must be positive (a rotated token expires), got {}",
                        crate::token::format_go_duration(d)
                    )));
                }
                spec.ttl = d;
            }
            "description" => spec.description = string(value, "description").map_err(err)?,
            "usages" => {
                spec.usages = strings(value, "usages").map_err(err)?;
                // As `token create`: an empty list means kubeadm's default.
                if spec.usages.is_empty() {
                    spec.usages = KNOWN_USAGES.iter().map(|s| s.to_string()).collect();
                }
            }
            "groups" => {
                spec.groups = strings(value, "groups").map_err(err)?;
                if spec.groups.is_empty() {
                    spec.groups = vec![DEFAULT_GROUP.to_owned()];
                }
            }
            "keep" => {
                let n = value
                    .as_int()
                    .map_err(|t| err(format!("keep must be an integer, got {t}")))?;
                spec.keep = usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                    err(format!("keep must be at least 1 (the new token), got {n}"))
                })?;
            }
            "publish" => {
                let sinks = value.read_lock::<Array>().ok_or_else(|| {
                    err(format!(
                        "publish must be an array of sinks such as [#{{file: \"/path\"}}], got {}",
                        value.type_name()
                    ))
                })?;
                spec.sinks = sinks
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let sink =
                            sink_from_spec(F, &format!("publish[{i}]"), s, &run.allow_env, pos)?;
                        refuse_stdout_in_daemon(F, run, &sink, pos)?;
                        Ok::<_, Box<EvalAltResult>>(sink)
                    })
                    .collect::<Result<_, _>>()?;
            }
            "verify" => {
                spec.verify = match value.as_bool() {
                    Ok(true) => Some(DEFAULT_VERIFY_WAIT),
                    Ok(false) => None,
                    Err(_) => Some(wait_bound(value, "verify").map_err(|e| {
                        err(format!(
                            "{e} (or true for {DEFAULT_VERIFY_WAIT:?}, or false)"
                        ))
                    })?),
                };
            }
            "certificate_key" => {
                spec.certificate_key = Some(string(value, "certificate_key").map_err(err)?);
            }
            other => {
                return Err(err(format!(
                    "unknown option {other:?} (accepted: {OPTIONS})"
                )));
            }
        }
    }
    Ok(spec)
}

/// `report_only: true` asks for the report even when the rotation failed.
fn report_only(options: &Map, pos: Position) -> Result<bool, Box<EvalAltResult>> {
    match options.get("report_only").filter(|v| !v.is_unit()) {
        None => Ok(false),
        Some(v) => v.as_bool().map_err(|t| {
            host_error(
                F,
                &format!("report_only must be true or false, got {t}"),
                pos,
            )
        }),
    }
}

/// What a failed rotation throws: a `HostError` whose `report` is the report.
fn failure(report: RotationReport, pos: Position) -> Box<EvalAltResult> {
    let what = if report.rolled_back {
        "rotation failed and was rolled back"
    } else if report.created.is_some() {
        "rotation failed; the new token was kept"
    } else {
        "rotation failed"
    };
    let message = format!("{what}: {}", report.errors.join("; "));
    let map = report_map(report);
    super::errors::host_error_with_report(F, &message, map, pos)
}

fn strings_array(items: &[String]) -> Array {
    items.iter().map(|s| Dynamic::from(s.clone())).collect()
}

/// The report as the map scripts read.
fn report_map(report: RotationReport) -> Map {
    let ok = report.ok();
    let mut m = Map::new();
    let mut put = |k: &str, v: Dynamic| {
        m.insert(k.into(), v);
    };
    put(
        "created",
        report.created.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    put(
        "token",
        report
            .token
            .map_or(Dynamic::UNIT, |s| Dynamic::from(ScriptToken::from(s))),
    );
    put("verified", Dynamic::from(report.verified));
    put("published", strings_array(&report.published).into());
    put("deleted", strings_array(&report.deleted).into());
    put(
        "removed",
        report.removed.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    put("restored", strings_array(&report.restored).into());
    put("rolled_back", Dynamic::from(report.rolled_back));
    put("errors", strings_array(&report.errors).into());
    put("ok", Dynamic::from(ok));
    m
}

#[rhai::export_module]
pub mod rotate_api {
    use rhai::{EvalAltResult, Map, NativeCallContext};

    use crate::script::context::RunContext;

    /// Rotates the join token safely: creates a new token labelled with the
    /// rotation's `name`, optionally verifies it as a joining node would,
    /// publishes its join command to every sink, and only then deletes the
    /// rotation's older tokens, keeping the `keep` newest. If verifying or
    /// publishing fails, sinks that took the new command get the previous
    /// one back and the new token is deleted; old tokens are never touched.
    ///
    /// Options (all optional): `name` (default `"default"`; tokens of other
    /// rotations and other tokens are never touched), `ttl` (default `"24h"`,
    /// must be positive), `description`, `usages`, `groups` (as
    /// `token::create`), `keep` (default 1), `publish` (an array of sinks, as
    /// `publish::to` takes them), `verify` (`true` waits up to 30s for the
    /// bootstrapsigner, `"2m"` sets the bound, default `false`),
    /// `certificate_key` (publish the control-plane join command).
    ///
    /// A bad option throws before anything happens. A rotation that fails
    /// throws too (so `run` exits 1 and `watch` counts the run as failed): a
    /// `HostError` whose `report` is the report map. With `report_only: true`
    /// the report is returned instead. The report says what happened:
    /// `created` (new token ID, or `()` when none exists), `token` (the new
    /// `Token` or `()`), `verified`, `published` (sinks), `deleted` (IDs of
    /// older tokens retired), `removed` (the new token's ID when a rollback
    /// removed it again), `restored` (sinks given the previous command back),
    /// `rolled_back` (a rollback completed), `errors` (messages), `ok`.
    ///
    /// ```rhai
    /// try {
    ///     token::rotate(#{
    ///         name: "nightly", ttl: "48h", keep: 2, verify: "30s",
    ///         publish: [#{ file: "/var/lib/provisioning/join.sh" },
    ///                   #{ secret: "provisioning/join", key: "command" }],
    ///     });
    /// } catch (e) {
    ///     log::error(`${e.message}; rolled back: ${e.report.rolled_back}`);
    ///     throw e;
    /// }
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn rotate(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        let pos = ctx.call_position();
        let run = RunContext::of(&ctx)?;
        let spec = super::spec_from_options(&options, &run, pos)?;
        let report_only = super::report_only(&options, pos)?;
        let cluster = run.cluster(super::F, pos)?.clone();
        let report = run.block_on(super::F, pos, async move {
            crate::rotation::rotate(&cluster, &spec).await
        })?;
        if !report.ok() && !report_only {
            return Err(super::failure(report, pos));
        }
        Ok(super::report_map(report))
    }
}
