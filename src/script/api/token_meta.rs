//! What a rotation author asks of a token beyond its kubeadm fields: the
//! rotation marks (`t.rotation`, `t.published`, `t.labels`), `t.expires_within(d)`
//! and `t.to_map()`; and the queries built on them, `token::list(#{…})` and
//! `token::current(rotation)`.

use jiff::{SignedDuration, Timestamp};
use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use super::time::rfc3339;
use super::token::ScriptToken;
use crate::rotation::{PUBLISHED_LABEL, ROTATION_LABEL};
use crate::token::format_go_duration;

/// A duration argument: a `Duration` or a Go duration string.
pub fn duration_arg(
    value: &Dynamic,
    what: &str,
    function: &str,
    pos: Position,
) -> Result<SignedDuration, Box<EvalAltResult>> {
    if let Some(d) = value.read_lock::<SignedDuration>() {
        return Ok(*d);
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return crate::token::parse_go_duration(&s)
            .map_err(|e| host_error(function, &format!("invalid {what}: {e}"), pos));
    }
    Err(host_error(
        function,
        &format!(
            "{what} must be a duration string such as \"1h\" or a duration, got {}",
            value.type_name()
        ),
        pos,
    ))
}

impl ScriptToken {
    pub fn rotation(&self) -> Option<&str> {
        self.labels.get(ROTATION_LABEL).map(String::as_str)
    }

    pub fn published(&self) -> bool {
        self.labels
            .get(PUBLISHED_LABEL)
            .is_some_and(|v| v == "true")
    }

    /// True when the token is gone within `d` of `now`: it expires by then, or
    /// has already expired. A token that never expires never is.
    pub fn expires_within(&self, d: SignedDuration, now: Timestamp) -> bool {
        self.expires()
            .is_some_and(|e| now.checked_add(d).is_ok_and(|limit| e <= limit))
    }

    /// Every field but the secret, as a map (`token` is the redacted form).
    /// `now` is the run's clock ([`crate::script::context::RunContext::now_of`]).
    pub fn to_map(&self, now: Timestamp) -> Map {
        let opt = |t: Option<Timestamp>| t.map_or(Dynamic::UNIT, Dynamic::from);
        let strings = |v: &[String]| -> Dynamic {
            v.iter()
                .cloned()
                .map(Dynamic::from)
                .collect::<rhai::Array>()
                .into()
        };
        let labels: Map = self
            .labels
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect();
        let ttl = self.expires().map_or(Dynamic::UNIT, |e| {
            Dynamic::from(SignedDuration::from_secs(e.duration_since(now).as_secs()))
        });
        let mut m = Map::new();
        let mut put = |k: &str, v: Dynamic| {
            m.insert(k.into(), v);
        };
        put("token", Dynamic::from(self.token.token.redacted()));
        put("id", Dynamic::from(self.token.token.id().to_string()));
        put("description", Dynamic::from(self.token.description.clone()));
        put("usages", strings(&self.sorted_usages()));
        put("groups", strings(&self.token.groups));
        put("expires", opt(self.expires()));
        put("ttl", ttl);
        put(
            "expired",
            Dynamic::from(self.token.expires.is_some_and(|e| e.is_expired(now))),
        );
        put("created", opt(self.created));
        put(
            "rotation",
            self.rotation()
                .map_or(Dynamic::UNIT, |r| Dynamic::from(r.to_owned())),
        );
        put("published", Dynamic::from(self.published()));
        put("labels", labels.into());
        m
    }
}

/// A value as JSON: tokens as their [`ScriptToken::to_map`] (no secret),
/// timestamps as RFC 3339, durations as Go prints them, errors as
/// `{function, message}`; anything else Rhai has no JSON for as its text.
pub fn json_of(value: &Dynamic, now: Timestamp) -> serde_json::Value {
    use serde_json::Value;
    if value.is_unit() {
        return Value::Null;
    }
    if let Ok(b) = value.as_bool() {
        return Value::Bool(b);
    }
    if let Ok(i) = value.as_int() {
        return Value::from(i);
    }
    if let Ok(f) = value.as_float() {
        return serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number);
    }
    if let Ok(c) = value.as_char() {
        return Value::String(c.to_string());
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return Value::String(s.to_string());
    }
    if let Some(t) = value.read_lock::<ScriptToken>() {
        return json_of(&Dynamic::from_map(t.to_map(now)), now);
    }
    if let Some(t) = value.read_lock::<Timestamp>() {
        return Value::String(rfc3339(*t));
    }
    if let Some(d) = value.read_lock::<SignedDuration>() {
        return Value::String(format_go_duration(*d));
    }
    if let Some(e) = value.read_lock::<super::errors::HostError>() {
        return serde_json::json!({ "function": e.function, "message": e.to_string() });
    }
    if let Some(a) = value.read_lock::<rhai::Array>() {
        return Value::Array(a.iter().map(|v| json_of(v, now)).collect());
    }
    if let Some(m) = value.read_lock::<Map>() {
        return Value::Object(
            m.iter()
                .map(|(k, v)| (k.to_string(), json_of(v, now)))
                .collect(),
        );
    }
    Value::String(crate::script::render::inline(value))
}

/// Why a token does not match a `token::list` filter.
pub struct ListFilter {
    pub rotation: Option<String>,
    description: Option<String>,
    expiring_within: Option<SignedDuration>,
    published: Option<bool>,
    expired: Option<bool>,
}

const LIST_FILTERS: &str = "rotation, description, expiring_within, published, expired";

impl ListFilter {
    pub fn parse(options: &Map, pos: Position) -> Result<Self, Box<EvalAltResult>> {
        const F: &str = "token::list";
        let err = |m: String| host_error(F, &m, pos);
        let string = |k: &str, v: &Dynamic| {
            v.read_lock::<rhai::ImmutableString>()
                .map(|s| s.to_string())
                .ok_or_else(|| err(format!("{k} must be a string, got {}", v.type_name())))
        };
        let boolean = |k: &str, v: &Dynamic| {
            v.as_bool()
                .map_err(|t| err(format!("{k} must be true or false, got {t}")))
        };
        let mut f = Self {
            rotation: None,
            description: None,
            expiring_within: None,
            published: None,
            expired: None,
        };
        for (k, v) in options {
            if v.is_unit() {
                continue;
            }
            match k.as_str() {
                "rotation" => f.rotation = Some(string(k, v)?),
                "description" => f.description = Some(string(k, v)?),
                "expiring_within" => {
                    f.expiring_within = Some(duration_arg(v, "expiring_within", F, pos)?)
                }
                "published" => f.published = Some(boolean(k, v)?),
                "expired" => f.expired = Some(boolean(k, v)?),
                other => {
                    return Err(err(format!(
                        "unknown filter {other:?} (accepted: {LIST_FILTERS})"
                    )));
                }
            }
        }
        Ok(f)
    }

    pub fn matches(&self, t: &ScriptToken, now: Timestamp) -> bool {
        self.rotation
            .as_deref()
            .is_none_or(|r| t.rotation() == Some(r))
            && self
                .description
                .as_deref()
                .is_none_or(|d| t.token.description == d)
            && self
                .expiring_within
                .is_none_or(|d| t.expires_within(d, now))
            && self.published.is_none_or(|p| t.published() == p)
            && self
                .expired
                .is_none_or(|x| t.token.expires.is_some_and(|e| e.is_expired(now)) == x)
    }
}

/// The tokens of the cluster, narrowed by a label selector when `rotation` is set.
pub fn list_tokens(
    ctx: &rhai::NativeCallContext,
    function: &str,
    rotation: Option<&str>,
) -> Result<Vec<ScriptToken>, Box<EvalAltResult>> {
    let pos = ctx.call_position();
    let run = crate::script::context::RunContext::of(ctx)?;
    let store = run.cluster(function, pos)?.tokens();
    let selector = rotation.map(|r| format!("{ROTATION_LABEL}={r}"));
    let all = run.block_on(function, pos, async move {
        store.list_selected(selector.as_deref()).await
    })?;
    let mut out = Vec::with_capacity(all.len());
    for item in all {
        match item {
            Ok(s) => out.push(ScriptToken::from(s)),
            Err(e) => crate::script::api::log::emit(
                tracing::Level::WARN,
                &run.script,
                &format!("{function}: skipping a Secret that is not a valid token: {e}"),
            ),
        }
    }
    Ok(out)
}

#[rhai::export_module]
pub mod token_meta_api {
    use rhai::{Array, Dynamic, EvalAltResult, Map, NativeCallContext};

    use super::{ListFilter, list_tokens};

    /// The name the reference and definition files show.
    type Token = crate::script::api::token::ScriptToken;

    /// Tokens matching every given filter, in the API server's order:
    /// `rotation` (the rotation's name, as `token::rotate`'s `name`),
    /// `description` (exactly), `expiring_within` (a duration or `"2h"`:
    /// expires by then, expired ones included), `published` (true for tokens
    /// a rotation finished publishing), `expired`. An unknown key is an error.
    ///
    /// ```rhai
    /// let soon = token::list(#{ rotation: "nightly", expiring_within: "2h" });
    /// ```
    #[rhai_fn(name = "list", return_raw, volatile)]
    pub fn list_filtered(ctx: NativeCallContext, filter: Map) -> Result<Array, Box<EvalAltResult>> {
        const F: &str = "token::list";
        let f = ListFilter::parse(&filter, ctx.call_position())?;
        let now = crate::script::context::RunContext::now_of(&ctx);
        Ok(list_tokens(&ctx, F, f.rotation.as_deref())?
            .into_iter()
            .filter(|t| f.matches(t, now))
            .map(Dynamic::from)
            .collect())
    }

    /// The rotation's current token: the newest one `token::rotate` finished
    /// publishing that has not expired, or `()` when there is none.
    ///
    /// ```rhai
    /// let t = token::current("nightly");
    /// if t == () { throw "nightly has no published token" }
    /// print(`nightly is on ${t}, expiring ${t.expires}`);
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn current(ctx: NativeCallContext, rotation: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let now = crate::script::context::RunContext::now_of(&ctx);
        let newest = list_tokens(&ctx, "token::current", Some(rotation))?
            .into_iter()
            .filter(|t| t.published() && !t.token.expires.is_some_and(|e| e.is_expired(now)))
            .max_by_key(|t| {
                crate::rotation::creation_order_of(
                    &t.labels,
                    t.created,
                    t.token.token.id().as_str(),
                )
            });
        Ok(newest.map_or(Dynamic::UNIT, Dynamic::from))
    }

    /// The rotation the token belongs to (`tokensmith.io/rotation`), or `()`
    /// for a token no rotation made.
    ///
    /// ```rhai
    /// for t in token::list() { if t.rotation == "nightly" { print(t) } }
    /// ```
    #[rhai_fn(global, get = "rotation", pure)]
    pub fn rotation(t: &mut Token) -> Dynamic {
        t.rotation()
            .map_or(Dynamic::UNIT, |r| Dynamic::from(r.to_owned()))
    }

    /// True once a rotation has published the token's join command to
    /// every sink (`tokensmith.io/published=true`).
    ///
    /// ```rhai
    /// let live = token::list().filter(|t| t.published);
    /// ```
    #[rhai_fn(global, get = "published", pure)]
    pub fn published(t: &mut Token) -> bool {
        t.published()
    }

    /// The labels of the token's Secret, as a map (empty for a token only generated).
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// print(t.labels);   // #{}
    /// ```
    #[rhai_fn(global, get = "labels", pure)]
    pub fn labels(t: &mut Token) -> Map {
        t.labels
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect()
    }

    /// True when the token expires within `d` (a duration or `"2h"`) from
    /// now, or has expired already; false for a token that never expires.
    ///
    /// ```rhai
    /// let soon = token::list().filter(|t| t.expires_within("6h"));
    /// ```
    #[rhai_fn(global, pure, return_raw)]
    pub fn expires_within(
        ctx: NativeCallContext,
        t: &mut Token,
        d: Dynamic,
    ) -> Result<bool, Box<EvalAltResult>> {
        let d = super::duration_arg(
            &d,
            "the duration",
            "Token.expires_within",
            ctx.call_position(),
        )?;
        Ok(t.expires_within(d, crate::script::context::RunContext::now_of(&ctx)))
    }

    /// Every field but the secret as a map: `token` (redacted), `id`,
    /// `description`, `usages`, `groups`, `expires`, `ttl`, `expired`,
    /// `created`, `rotation`, `published`, `labels`.
    ///
    /// ```rhai
    /// let m = token::generate().to_map();
    /// print(m.id);
    /// ```
    #[rhai_fn(global, pure)]
    pub fn to_map(ctx: NativeCallContext, t: &mut Token) -> Map {
        t.to_map(crate::script::context::RunContext::now_of(&ctx))
    }
}

/// `to_json()` for tokensmith's types and for maps and arrays holding them.
/// Global, not in `token::`, so the map and array forms replace Rhai's own
/// (which knows nothing of these types and prints their Rust names).
#[rhai::export_module]
pub mod json_api {
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    use super::json_of;
    use crate::script::context::RunContext;

    /// The names the reference and definition files show.
    type Token = crate::script::api::token::ScriptToken;
    type Timestamp = jiff::Timestamp;
    type Duration = jiff::SignedDuration;
    type HostError = crate::script::api::errors::HostError;

    /// The token as a JSON object: `to_map()`'s fields, so never the secret.
    ///
    /// ```rhai
    /// print(token::generate().to_json());
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn token_to_json(ctx: NativeCallContext, t: &mut Token) -> String {
        json_of(&Dynamic::from(t.clone()), RunContext::now_of(&ctx)).to_string()
    }

    /// The timestamp as a JSON string: `"2024-01-02T03:04:05Z"`.
    ///
    /// ```rhai
    /// print(now().to_json());
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn timestamp_to_json(ctx: NativeCallContext, t: &mut Timestamp) -> String {
        json_of(&Dynamic::from(*t), RunContext::now_of(&ctx)).to_string()
    }

    /// The duration as a JSON string, as Go prints it: `"1h30m0s"`.
    ///
    /// ```rhai
    /// print(duration("90m").to_json());
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn duration_to_json(ctx: NativeCallContext, d: &mut Duration) -> String {
        json_of(&Dynamic::from(*d), RunContext::now_of(&ctx)).to_string()
    }

    /// The error as a JSON object `{"function": …, "message": …}`.
    ///
    /// ```rhai
    /// try { token::get("bad!") } catch (e) { print(e.to_json()) }
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn error_to_json(ctx: NativeCallContext, e: &mut HostError) -> String {
        json_of(&Dynamic::from(e.clone()), RunContext::now_of(&ctx)).to_string()
    }

    /// A map as JSON, with tokens, timestamps, durations and errors inside it
    /// as their own `to_json()` gives them (a token never with its secret).
    ///
    /// ```rhai
    /// let t = token::generate();
    /// print(#{ token: t, checked: now() }.to_json());
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn map_to_json(ctx: NativeCallContext, m: &mut Map) -> String {
        json_of(&Dynamic::from_map(m.clone()), RunContext::now_of(&ctx)).to_string()
    }

    /// An array as JSON, its items as `to_json()` gives them.
    ///
    /// ```rhai
    /// print(token::list().to_json());
    /// ```
    #[rhai_fn(global, name = "to_json", pure)]
    pub fn array_to_json(ctx: NativeCallContext, a: &mut Array) -> String {
        json_of(&Dynamic::from_array(a.clone()), RunContext::now_of(&ctx)).to_string()
    }
}
