//! `token::…`: the `kubeadm token` operations as script functions, with the
//! CLI's defaults and validation, and the `Token` type scripts handle.

use std::fmt;

use jiff::Timestamp;
use rhai::plugin::*;
use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::errors::host_error;
use super::token_options::token_from_options;
use crate::script::context::RunContext;
use crate::token::value::id_from_id_or_token;
use crate::token::{BootstrapToken, BootstrapTokenString, TokenId};

/// A token as a script sees it. Printing one shows `abcdef.****************`;
/// the secret is only reachable through the `secret` and `value` getters.
#[derive(Clone)]
pub struct ScriptToken {
    pub token: BootstrapToken,
    /// When the Secret was created; `None` for a token only generated.
    pub created: Option<Timestamp>,
    /// The Secret's labels (the rotation marks); empty for a token only generated.
    pub labels: std::collections::BTreeMap<String, String>,
}

impl From<crate::cluster::store::StoredToken> for ScriptToken {
    fn from(s: crate::cluster::store::StoredToken) -> Self {
        Self {
            token: s.token,
            created: s.created,
            labels: s.labels,
        }
    }
}

impl ScriptToken {
    pub fn generated(token: BootstrapTokenString) -> Self {
        let mut t = BootstrapToken::with_defaults(token);
        // Not stored anywhere yet: nothing expires.
        t.ttl = None;
        Self {
            token: t,
            created: None,
            labels: Default::default(),
        }
    }

    /// The usages in sorted order, as the reference documents them.
    pub fn sorted_usages(&self) -> Vec<String> {
        let mut u = self.token.usages.clone();
        u.sort();
        u
    }

    pub fn expires(&self) -> Option<Timestamp> {
        self.token.expires.map(|e| e.timestamp())
    }
}

impl fmt::Debug for ScriptToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("token", &self.token.token.redacted())
            .field("description", &self.token.description)
            .field("expires", &self.token.expires.map(|e| e.to_rfc3339()))
            .field("usages", &self.sorted_usages())
            .field("labels", &self.labels)
            .field("groups", &self.token.groups)
            .finish()
    }
}

/// Reads a token ID from what scripts pass to `delete`/`get`: an ID, a whole
/// token string, or a `Token`. The message never echoes a token secret.
pub fn id_of(
    value: &Dynamic,
    function: &str,
    pos: Position,
) -> Result<TokenId, Box<EvalAltResult>> {
    if let Some(t) = value.read_lock::<ScriptToken>() {
        return Ok(t.token.token.id().clone());
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return id_from_id_or_token(&s).ok_or_else(|| {
            host_error(
                function,
                &format!(
                    "{} is neither a token ID ([a-z0-9]{{6}}) nor a token ([a-z0-9]{{6}}.[a-z0-9]{{16}})",
                    redact_maybe_token(&s)
                ),
                pos,
            )
        });
    }
    Err(host_error(
        function,
        &format!(
            "expected a token ID, a token string or a Token, got {}",
            value.type_name()
        ),
        pos,
    ))
}

/// Quotes a rejected input for a message, hiding anything after a `.` in
/// case it is a (malformed) secret.
fn redact_maybe_token(s: &str) -> String {
    match s.split_once('.') {
        Some((id, _)) => format!("{:?}", format!("{id}.<redacted>")),
        None => format!("{s:?}"),
    }
}

/// Reads a token string or `Token` for `create`/`join::command`.
pub fn token_of(
    value: &Dynamic,
    function: &str,
    pos: Position,
) -> Result<BootstrapTokenString, Box<EvalAltResult>> {
    if let Some(t) = value.read_lock::<ScriptToken>() {
        return Ok(t.token.token.clone());
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return BootstrapTokenString::parse(&s).map_err(|_| {
            host_error(
                function,
                &format!(
                    "the bootstrap token {} was not of the form \"[a-z0-9]{{6}}.[a-z0-9]{{16}}\"",
                    redact_maybe_token(&s)
                ),
                pos,
            )
        });
    }
    Err(host_error(
        function,
        &format!(
            "expected a token string or a Token, got {}",
            value.type_name()
        ),
        pos,
    ))
}

/// Deletes one token. A dry run looks the token up first, so that deleting
/// one that does not exist fails as it would for real instead of printing a
/// delete.
pub fn delete_one(ctx: &NativeCallContext, id: TokenId) -> Result<(), Box<EvalAltResult>> {
    const F: &str = "token::delete";
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    let store = run.cluster(F, pos)?.tokens();
    if run.dry_run {
        let probe = store.clone();
        let lookup = id.clone();
        let found = run.block_on(F, pos, async move { probe.get(&lookup).await })?;
        if found.is_none() {
            return Err(host_error(
                F,
                &format!(
                    "failed to delete bootstrap token {}: secrets {} not found",
                    crate::token::go_quote(id.as_str()),
                    crate::token::go_quote(&id.secret_name())
                ),
                pos,
            ));
        }
    }
    run.block_on(F, pos, async move { store.delete(&id).await })
}

/// `token::create`'s work, shared by its three overloads: the token the
/// script gave, or a generated one (`None`), which gets a fresh ID if its
/// first one is taken.
pub fn create_with(
    ctx: &NativeCallContext,
    value: Option<BootstrapTokenString>,
    options: &Map,
) -> Result<ScriptToken, Box<EvalAltResult>> {
    const F: &str = "token::create";
    let pos = ctx.call_position();
    let run = RunContext::of(ctx)?;
    let generated = value.is_none();
    let value = value.unwrap_or_else(BootstrapTokenString::generate);
    let token = token_from_options(value, options, pos, F, run.now())?;
    let store = run.cluster(F, pos)?.tokens();
    let stored = run.block_on(F, pos, async move {
        if generated {
            store.create_generated(&token, &Default::default()).await
        } else {
            store.create_new(&token, &Default::default()).await
        }
    })?;
    Ok(ScriptToken::from(stored))
}

#[export_module]
pub mod token_api {
    use rhai::{Array, Dynamic, EvalAltResult, Map};

    use super::{ScriptToken, create_with, delete_one, id_of, token_of};
    use crate::script::api::errors::HostError;
    use crate::script::context::RunContext;
    use crate::token::BootstrapTokenString;

    /// A bootstrap token: stored on the cluster, or only generated.
    /// Printing one shows the ID and hides the secret: `abcdef.****************`.
    pub type Token = ScriptToken;

    /// A fresh random token (`[a-z0-9]{6}.[a-z0-9]{16}`) from the OS random
    /// generator. Nothing is written to the cluster: pass it to `token::create`.
    ///
    /// ```rhai
    /// let t = token::generate();
    /// print(t);        // abcdef.****************
    /// ```
    #[rhai_fn(volatile)]
    pub fn generate() -> Token {
        ScriptToken::generated(BootstrapTokenString::generate())
    }

    /// Creates a new token with kubeadm's defaults: 24h TTL, usages
    /// signing and authentication, group system:bootstrappers:kubeadm:default-node-token.
    ///
    /// ```rhai
    /// let t = token::create();
    /// print(t.expires);
    /// ```
    #[rhai_fn(name = "create", return_raw, volatile)]
    pub fn create_default(ctx: NativeCallContext) -> Result<Token, Box<EvalAltResult>> {
        create_with(&ctx, None, &Map::new())
    }

    /// Creates a new random token. Options (all optional): `ttl` (Go duration
    /// string or duration; `"0"` never expires), `expires` (RFC 3339 string or
    /// timestamp, instead of ttl), `usages` and `groups` (arrays of strings or
    /// comma-separated strings), `description`. Validation and defaults are
    /// `tokensmith token create`'s. If the random ID is already taken, the
    /// token gets a fresh one (up to 8 tries); the existing token is left alone.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "2h", description: "rack 12 provisioning" });
    /// print(`${t.id} expires ${t.expires}`);
    /// ```
    #[rhai_fn(name = "create", return_raw, volatile)]
    pub fn create_with_options(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Token, Box<EvalAltResult>> {
        create_with(&ctx, None, &options)
    }

    /// Creates the given token (a token string or a `Token` from
    /// `token::generate()`), with the same options as `token::create(#{…})`.
    /// If its ID is taken, the call throws kubeadm's
    /// `a token with id "…" already exists`.
    ///
    /// ```rhai
    /// let t = token::generate();
    /// token::create(t, #{ ttl: duration("30m") });
    /// ```
    #[rhai_fn(name = "create", return_raw, volatile)]
    pub fn create_value(
        ctx: NativeCallContext,
        token: Dynamic,
        options: Map,
    ) -> Result<Token, Box<EvalAltResult>> {
        let value = token_of(&token, "token::create", ctx.call_position())?;
        create_with(&ctx, Some(value), &options)
    }

    /// Deletes a token by ID, by token string or as a `Token`. Deleting a
    /// token that does not exist is an error, as in kubeadm, and in a dry
    /// run too.
    ///
    /// Given an array of those, it tries every one, in order, and returns one
    /// map per item: `#{ id, deleted: true }` or `#{ id, deleted: false,
    /// error: message }`, so one failure does not leave the rest undone. An
    /// item that is not a token or ID throws before anything is deleted.
    ///
    /// ```rhai
    /// for t in token::list() { if t.expired { token::delete(t) } }
    /// let results = token::delete(token::list(#{ expired: true }));
    /// let failed = results.filter(|r| !r.deleted);
    /// if failed.len() > 0 { throw `could not delete ${failed.map(|r| r.id)}` }
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn delete(ctx: NativeCallContext, what: Dynamic) -> Result<Dynamic, Box<EvalAltResult>> {
        const F: &str = "token::delete";
        let pos = ctx.call_position();
        let many = match what.read_lock::<Array>() {
            Some(items) => Some(
                items
                    .iter()
                    .map(|v| id_of(v, F, pos))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let Some(ids) = many else {
            let id = id_of(&what, F, pos)?;
            delete_one(&ctx, id)?;
            return Ok(Dynamic::UNIT);
        };
        let mut results = Array::with_capacity(ids.len());
        for id in ids {
            let mut r = Map::new();
            r.insert("id".into(), Dynamic::from(id.to_string()));
            match delete_one(&ctx, id) {
                Ok(()) => {
                    r.insert("deleted".into(), Dynamic::TRUE);
                }
                // A failed item is reported; a timeout or cancel still stops the run.
                Err(e) => match *e {
                    EvalAltResult::ErrorRuntime(v, _) if v.is::<HostError>() => {
                        let message = v.cast::<HostError>().to_string();
                        r.insert("deleted".into(), Dynamic::FALSE);
                        r.insert("error".into(), Dynamic::from(message));
                    }
                    other => return Err(other.into()),
                },
            }
            results.push(r.into());
        }
        Ok(results.into())
    }

    /// Every bootstrap token on the cluster, in the API server's order.
    /// Secrets that are not readable tokens are skipped with a warning in the log.
    ///
    /// ```rhai
    /// for t in token::list() { print(`${t.id} ${t.ttl}`) }
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn list(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        const F: &str = "token::list";
        let pos = ctx.call_position();
        let run = RunContext::of(&ctx)?;
        let store = run.cluster(F, pos)?.tokens();
        let all = run.block_on(F, pos, async move { store.list().await })?;
        let mut out = Array::with_capacity(all.len());
        for item in all {
            match item {
                Ok(s) => out.push(Dynamic::from(ScriptToken::from(s))),
                Err(e) => crate::script::api::log::emit(
                    tracing::Level::WARN,
                    &run.script,
                    &format!("token::list: skipping a Secret that is not a valid token: {e}"),
                ),
            }
        }
        Ok(out)
    }

    /// The token with this ID (or this token string's ID), or `()` if there is none.
    ///
    /// ```rhai
    /// let t = token::get("abcdef");
    /// if t == () { print("no such token") } else { print(t.expires) }
    /// ```
    #[rhai_fn(return_raw, volatile)]
    pub fn get(ctx: NativeCallContext, id: Dynamic) -> Result<Dynamic, Box<EvalAltResult>> {
        const F: &str = "token::get";
        let pos = ctx.call_position();
        let id = id_of(&id, F, pos)?;
        let run = RunContext::of(&ctx)?;
        let store = run.cluster(F, pos)?.tokens();
        let found = run.block_on(F, pos, async move { store.get(&id).await })?;
        Ok(found.map_or(Dynamic::UNIT, |s| Dynamic::from(ScriptToken::from(s))))
    }

    /// The token ID, the public half: `abcdef`.
    ///
    /// ```rhai
    /// print(token::generate().id);
    /// ```
    #[rhai_fn(global, get = "id", pure)]
    pub fn id(t: &mut Token) -> String {
        t.token.token.id().to_string()
    }

    /// The 16-character secret, for a sink or a file of your own. `print`,
    /// `debug`, `log::*` and error messages show it as `****************`
    /// (they hide every secret the run has seen); a script's result, the
    /// `publish::*` functions and a rotation's sinks carry it as it is.
    ///
    /// ```rhai
    /// let s = token::generate().secret;
    /// ```
    #[rhai_fn(global, get = "secret", pure)]
    pub fn secret(t: &mut Token) -> String {
        t.token.token.secret().to_owned()
    }

    /// The whole token `id.secret`, as `kubeadm join --token` takes it.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "1h" });
    /// let value = t.value;
    /// ```
    #[rhai_fn(global, get = "value", pure)]
    pub fn value(t: &mut Token) -> String {
        t.token.token.expose()
    }

    /// The token's description (empty if none).
    ///
    /// ```rhai
    /// for t in token::list() { if t.description == "rotated" { print(t) } }
    /// ```
    #[rhai_fn(global, get = "description", pure)]
    pub fn description(t: &mut Token) -> String {
        t.token.description.clone()
    }

    /// The usages, sorted: `["authentication", "signing"]`.
    ///
    /// ```rhai
    /// print(token::generate().usages);
    /// ```
    #[rhai_fn(global, get = "usages", pure)]
    pub fn usages(t: &mut Token) -> Array {
        t.sorted_usages().into_iter().map(Dynamic::from).collect()
    }

    /// The extra groups the token authenticates as.
    ///
    /// ```rhai
    /// print(token::generate().groups);
    /// ```
    #[rhai_fn(global, get = "groups", pure)]
    pub fn groups(t: &mut Token) -> Array {
        t.token
            .groups
            .iter()
            .map(|g| Dynamic::from(g.clone()))
            .collect()
    }

    /// When the token expires, or `()` if it never does.
    ///
    /// ```rhai
    /// let t = token::create(#{ ttl: "2h" });
    /// print(t.expires.to_rfc3339());
    /// ```
    #[rhai_fn(global, get = "expires", pure)]
    pub fn expires(t: &mut Token) -> Dynamic {
        t.expires().map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// Time left until the token expires, in whole seconds (negative once
    /// past), or `()` if it never expires.
    ///
    /// ```rhai
    /// for t in token::list() { if t.ttl != () && t.ttl < duration("1h") { log::warn(`${t.id} expires soon`) } }
    /// ```
    #[rhai_fn(global, get = "ttl", pure)]
    pub fn ttl(ctx: NativeCallContext, t: &mut Token) -> Dynamic {
        // Expirations are whole seconds; sub-second noise would only clutter output.
        let now = crate::script::context::RunContext::now_of(&ctx);
        t.expires().map_or(Dynamic::UNIT, |e| {
            let left = e.duration_since(now);
            Dynamic::from(jiff::SignedDuration::from_secs(left.as_secs()))
        })
    }

    /// True once the expiration time has passed (the exact instant counts as expired).
    ///
    /// ```rhai
    /// let stale = token::list().filter(|t| t.expired);
    /// ```
    #[rhai_fn(global, get = "expired", pure)]
    pub fn expired(ctx: NativeCallContext, t: &mut Token) -> bool {
        let now = crate::script::context::RunContext::now_of(&ctx);
        t.token.expires.is_some_and(|e| e.is_expired(now))
    }

    /// When the token's Secret was created, or `()` for a token only generated.
    ///
    /// ```rhai
    /// let old = token::list().filter(|t| t.created != () && now() - t.created > duration("168h"));
    /// ```
    #[rhai_fn(global, get = "created", pure)]
    pub fn created(t: &mut Token) -> Dynamic {
        t.created.map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// A token prints with its secret hidden: `abcdef.****************`.
    ///
    /// ```rhai
    /// print(token::generate());
    /// ```
    #[rhai_fn(global, name = "to_string", pure)]
    pub fn to_string(t: &mut Token) -> String {
        t.token.token.redacted()
    }

    /// The debug form shows every field but the secret.
    ///
    /// ```rhai
    /// debug(token::generate());
    /// ```
    #[rhai_fn(global, name = "to_debug", pure)]
    pub fn to_debug(t: &mut Token) -> String {
        format!("{t:?}")
    }

    /// Two tokens are equal when their ID and secret are.
    ///
    /// ```rhai
    /// let t = token::generate();
    /// print(t == t);   // true
    /// ```
    #[rhai_fn(global, name = "==", pure)]
    pub fn eq(a: &mut Token, b: Token) -> bool {
        a.token.token == b.token.token
    }

    #[rhai_fn(global, name = "!=", pure)]
    pub fn ne(a: &mut Token, b: Token) -> bool {
        a.token.token != b.token.token
    }
}
