//! Bootstrap tokens from a kubeadm configuration file (`token create
//! --config`): kubeadm's `LoadInitConfigurationFromFile` →
//! `BytesToInitConfiguration` → `documentMapToInitConfiguration`, then
//! `SetDefaults_BootstrapToken`, dynamic defaulting (a missing token is
//! generated) and `ValidateBootstrapTokens`.
//!
//! Only the token part of the file matters here; other documents
//! (ClusterConfiguration, JoinConfiguration, KubeletConfiguration, …) are
//! checked for a well-formed `apiVersion`/`kind` and otherwise ignored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde_json::{Map, Value};

use super::duration::parse_go_duration;
use super::expiry::Expiry;
use super::quote::go_quote;
use super::secret::BootstrapToken;
use super::validate::{
    DEFAULT_GROUP, FieldError, FieldValue, KNOWN_USAGES, ValidationErrors,
    validate_usages_and_groups,
};
use super::value::BootstrapTokenString;

/// The kubeadm API version whose `InitConfiguration` we read (kubeadm v1.37
/// reads no other).
pub const SUPPORTED_VERSION: &str = "kubeadm.k8s.io/v1beta4";
/// Still experimental in v1.37 (`--allow-experimental-api`).
const EXPERIMENTAL_VERSION: &str = "kubeadm.k8s.io/v1";
/// Kinds of kubeadm's scheme; only InitConfiguration carries tokens.
const KUBEADM_KINDS: [&str; 5] = [
    "InitConfiguration",
    "ClusterConfiguration",
    "JoinConfiguration",
    "ResetConfiguration",
    "UpgradeConfiguration",
];
/// The fields of v1beta4's `InitConfiguration`.
const INIT_FIELDS: [&str; 10] = [
    "apiVersion",
    "kind",
    "bootstrapTokens",
    "dryRun",
    "nodeRegistration",
    "localAPIEndpoint",
    "certificateKey",
    "skipPhases",
    "patches",
    "timeouts",
];
/// The fields of the InitConfiguration structs one level down, for the
/// strict check's unknown-field warning.
fn nested_fields(field: &str) -> Option<&'static [&'static str]> {
    Some(match field {
        "nodeRegistration" => &[
            "name",
            "criSocket",
            "taints",
            "kubeletExtraArgs",
            "ignorePreflightErrors",
            "imagePullPolicy",
            "imagePullSerial",
        ],
        "localAPIEndpoint" => &["advertiseAddress", "bindPort"],
        "patches" => &["directory"],
        "timeouts" => &[
            "controlPlaneComponentHealthCheck",
            "kubeletHealthCheck",
            "kubernetesAPICall",
            "etcdAPICall",
            "tlsBootstrap",
            "discovery",
            "upgradeManifests",
        ],
        _ => return None,
    })
}
/// The fields of kubeadm's `BootstrapToken`.
const TOKEN_FIELDS: [&str; 6] = ["token", "description", "ttl", "expires", "usages", "groups"];
/// Component configuration kubeadm reads alongside its own documents.
const COMPONENT_CONFIG_GROUPS: [&str; 2] = ["kubelet.config.k8s.io", "kubeproxy.config.k8s.io"];
/// The component configs kubeadm's scheme registers.
const COMPONENT_CONFIGS: [(&str, &str); 2] = [
    ("kubelet.config.k8s.io/v1beta1", "KubeletConfiguration"),
    ("kubeproxy.config.k8s.io/v1alpha1", "KubeProxyConfiguration"),
];
/// `validateSupportedVersion`'s table of removed versions and the kubeadm
/// release that still reads each.
const OLD_VERSIONS: [(&str, &str); 6] = [
    ("kubeadm.k8s.io/v1alpha1", "v1.11"),
    ("kubeadm.k8s.io/v1alpha2", "v1.12"),
    ("kubeadm.k8s.io/v1alpha3", "v1.14"),
    ("kubeadm.k8s.io/v1beta1", "v1.15"),
    ("kubeadm.k8s.io/v1beta2", "v1.22"),
    ("kubeadm.k8s.io/v1beta3", "v1.36"),
];

/// Why a config file gave no tokens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitConfigError {
    /// The file could not be used at all (kubeadm exits 1).
    #[error("{}", .0)]
    Load(#[from] LoadError),
    /// The tokens in it are invalid (a field-error aggregate: kubeadm exits 3).
    #[error("{0}")]
    Invalid(ValidationErrors),
}

impl InitConfigError {
    /// kubeadm's exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            InitConfigError::Load(_) => 1,
            InitConfigError::Invalid(_) => 3,
        }
    }
}

/// A config file that cannot be read as kubeadm configuration. kubeadm's
/// messages do not name the file, so `file` is kept for callers only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    pub file: PathBuf,
    pub message: String,
}

/// The bootstrap tokens a kubeadm config file describes, defaulted and
/// validated as `kubeadm token create --config` does. `source` is only used
/// in messages. Warnings kubeadm logs with klog (an unknown field, an
/// ignored document) are logged here at WARN with the same words.
pub fn bootstrap_tokens_from_config(
    yaml: &str,
    source: &Path,
) -> Result<Vec<BootstrapToken>, InitConfigError> {
    let load = |message: String| {
        InitConfigError::Load(LoadError {
            file: source.to_owned(),
            message,
        })
    };
    let documents = parse_documents(yaml).map_err(load)?;

    // SplitConfigDocuments: every document needs a group, a version and a
    // kind; a kind may appear once (repeats are aggregated).
    let mut documents_by_kind = Vec::new();
    let mut seen = BTreeSet::new();
    let mut repeated = Vec::new();
    for doc in documents {
        // yamlserializer.DefaultMetaFactory.Interpret's errors.
        let interpret = |why: String| {
            load(format!(
                "could not interpret GroupVersionKind; unmarshal error: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {why}"
            ))
        };
        let Value::Object(doc) = doc else {
            return Err(interpret(format!(
                "{} into Go value of type runtime.TypeMeta",
                json_type(&doc)
            )));
        };
        let api_version = string_field(&doc, "apiVersion").map_err(interpret)?;
        let kind = string_field(&doc, "kind").map_err(interpret)?;
        let group_and_version = api_version
            .split_once('/')
            .is_some_and(|(g, v)| !g.is_empty() && !v.is_empty());
        if !group_and_version || kind.is_empty() {
            return Err(load(format!(
                "invalid configuration for GroupVersionKind {}: kind and apiVersion is mandatory information that must be specified",
                gvk(&api_version, &kind)
            )));
        }
        if !seen.insert(kind.clone()) {
            repeated.push(format!(
                "invalid configuration: kind {} is specified twice in YAML file",
                go_quote(&kind)
            ));
            continue;
        }
        documents_by_kind.push((api_version, kind, doc));
    }
    match repeated.len() {
        0 => {}
        1 => return Err(load(repeated.remove(0))),
        _ => return Err(load(format!("[{}]", repeated.join(", ")))),
    }

    // documentMapToInitConfiguration, in its order: sorted by GVK string.
    documents_by_kind.sort_by_key(|(v, k, _)| gvk(v, k));
    let mut init: Option<Vec<RawToken>> = None;
    let mut cluster = false;
    for (api_version, kind, doc) in documents_by_kind {
        let group = api_version.split('/').next().unwrap_or_default();
        check_supported_version(&api_version, &kind).map_err(load)?;
        let known = is_registered(&api_version, &kind);
        if !known {
            // strict.VerifyUnmarshalStrict finds no scheme for it.
            tracing::warn!("unknown configuration {}", go_gvk(&api_version, &kind));
        }
        match kind.as_str() {
            "InitConfiguration" | "ClusterConfiguration" if !known => {
                return Err(load(format!(
                    "no kind {} is registered for version {} in scheme \"pkg/runtime/scheme.go:111\"",
                    go_quote(&kind),
                    go_quote(&api_version)
                )));
            }
            "InitConfiguration" => {
                let mut unknown = Vec::new();
                let tokens = decode_init_configuration(&doc, &mut unknown).map_err(|e| {
                    // The strict check meets the same error first, and warns.
                    tracing::warn!(
                        "error unmarshaling configuration {}: {e}",
                        go_gvk(&api_version, &kind)
                    );
                    load(e)
                })?;
                if !unknown.is_empty() {
                    tracing::warn!(
                        "error unmarshaling configuration {}: strict decoding error: {}",
                        go_gvk(&api_version, &kind),
                        unknown
                            .iter()
                            .map(|f| format!("unknown field {}", go_quote(f)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                init = Some(tokens);
            }
            "ClusterConfiguration" => cluster = true,
            _ if !COMPONENT_CONFIG_GROUPS.contains(&group) => {
                tracing::warn!(
                    "[config] WARNING: Ignored configuration document with GroupVersionKind {}",
                    gvk(&api_version, &kind)
                );
            }
            _ => {}
        }
    }
    if init.is_none() && !cluster {
        return Err(load(
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file"
                .into(),
        ));
    }
    let raw = init.unwrap_or_default();
    // SetDefaults_InitConfiguration: no tokens means one default token.
    let raw = if raw.is_empty() {
        vec![RawToken::default()]
    } else {
        raw
    };
    let tokens: Vec<Defaulted> = raw.into_iter().map(RawToken::defaulted).collect();
    validate(&tokens).map_err(InitConfigError::Invalid)?;
    Ok(tokens.into_iter().map(|t| t.token).collect())
}

/// Every non-empty YAML document as a JSON-like value. A syntax error reads
/// as kubeadm's (go-yaml's problem and line, where the two parsers agree).
fn parse_documents(yaml: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .map(|docs| docs.into_iter().filter(|d| !d.is_null()).collect())
        .map_err(|e| {
            format!(
                "could not interpret GroupVersionKind; unmarshal error: error converting YAML to JSON: yaml: {}",
                yaml_problem(&e.without_snippet().to_string(), yaml)
            )
        })
}

/// go-yaml's `line N: problem` for saphyr's `problem at line L, column C`.
/// go-yaml numbers a parser error by the line before its mark (marks count
/// from 0 there), a scanner error by the mark's own line.
fn yaml_problem(saphyr: &str, yaml: &str) -> String {
    let msg = saphyr.strip_prefix("error: ").unwrap_or(saphyr).trim_end();
    let (problem, line) = match msg.rsplit_once(" at line ") {
        Some((p, rest)) => (
            p,
            rest.split(',')
                .next()
                .and_then(|l| l.trim().parse::<usize>().ok()),
        ),
        None => (msg, None),
    };
    // saphyr words a few of libyaml's problems its own way.
    let (problem, scanner) = match problem {
        p if p.starts_with("unclosed bracket '['") || p.contains("expected ',' or ']'") => {
            ("did not find expected ',' or ']'", false)
        }
        p if p.starts_with("unclosed bracket '{'") || p.contains("expected ',' or '}'") => {
            ("did not find expected ',' or '}'", false)
        }
        p => (p, true),
    };
    let line = match line {
        // An unclosed flow collection is found at the end of the input.
        Some(_) | None if !scanner && problem.starts_with("did not find") => {
            Some(yaml.lines().count().max(1))
        }
        l => l,
    };
    match line {
        Some(l) => format!("line {l}: {problem}"),
        None => problem.to_owned(),
    }
}

fn string_field(doc: &Map<String, Value>, key: &str) -> Result<String, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "{} into Go struct field TypeMeta.{key} of type string",
            json_type(other)
        )),
    }
}

/// encoding/json's name for a value's type in an `UnmarshalTypeError`.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `schema.GroupVersionKind`'s `%+v`: `group/version, Kind=kind`.
fn gvk(api_version: &str, kind: &str) -> String {
    let (group, version) = split_api_version(api_version);
    format!("{group}/{version}, Kind={kind}")
}

/// `schema.GroupVersionKind`'s `%#v`, as kubeadm's strict check prints it.
fn go_gvk(api_version: &str, kind: &str) -> String {
    let (group, version) = split_api_version(api_version);
    format!(
        "schema.GroupVersionKind{{Group:{}, Version:{}, Kind:{}}}",
        go_quote(group),
        go_quote(version),
        go_quote(kind)
    )
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// `validateSupportedVersion`: removed versions name the release that still
/// reads them; the experimental v1 needs a flag `token create` lacks.
fn check_supported_version(api_version: &str, kind: &str) -> Result<(), String> {
    if let Some((_, release)) = OLD_VERSIONS.iter().find(|(v, _)| *v == api_version) {
        return Err(format!(
            "your configuration file uses an old API spec: {} (kind: {}). Please use kubeadm {release} instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.",
            go_quote(api_version),
            go_quote(kind)
        ));
    }
    if api_version == EXPERIMENTAL_VERSION {
        return Err(format!(
            "experimental API spec: {} (kind: {}) is not allowed. You can use the --allow-experimental-api flag if the command supports it.",
            go_quote(api_version),
            go_quote(kind)
        ));
    }
    Ok(())
}

/// Whether kubeadm's schemes (its own and the component configs') know
/// this kind at this version.
fn is_registered(api_version: &str, kind: &str) -> bool {
    (api_version == SUPPORTED_VERSION && KUBEADM_KINDS.contains(&kind))
        || COMPONENT_CONFIGS.contains(&(api_version, kind))
}

/// One `bootstrapTokens` entry as written in the file, decoded as kubeadm's
/// JSON decoding does (`ttl` a Go duration, `expires` RFC 3339).
#[derive(Default)]
struct RawToken {
    index: usize,
    token: Option<BootstrapTokenString>,
    description: String,
    ttl: Option<SignedDuration>,
    expires: Option<Expiry>,
    usages: Vec<String>,
    groups: Vec<String>,
}

/// The tokens of an InitConfiguration, decoded as encoding/json decodes the
/// document sigs.k8s.io/yaml made of the file: keys in sorted order; a
/// field's own `UnmarshalJSON` failing (token, ttl, expires) ends the
/// decoding, a plain type mismatch is kept and reported at the end if
/// nothing worse happened. Unknown fields are pushed onto `unknown` (paths
/// as the strict decoder prints them); they are only warned about.
fn decode_init_configuration(
    init: &Map<String, Value>,
    unknown: &mut Vec<String>,
) -> Result<Vec<RawToken>, String> {
    let mut saved: Option<String> = None;
    let mut save = |e: String| {
        saved.get_or_insert(e);
    };
    let type_error = |v: &Value, field: &str, ty: &str| {
        format!(
            "json: cannot unmarshal {} into Go struct field {field} of type {ty}",
            json_type(v)
        )
    };
    let mut tokens = Vec::new();
    for (key, value) in sorted(init) {
        if key == "bootstrapTokens" {
            match value {
                Value::Null => {}
                Value::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        match item {
                            Value::Null => tokens.push(RawToken {
                                index,
                                ..RawToken::default()
                            }),
                            Value::Object(m) => {
                                tokens.push(decode_token(index, m, unknown, &mut save)?)
                            }
                            other => save(type_error(
                                other,
                                "InitConfiguration.bootstrapTokens",
                                "v1.BootstrapToken",
                            )),
                        }
                    }
                }
                other => save(type_error(
                    other,
                    "InitConfiguration.bootstrapTokens",
                    "[]v1.BootstrapToken",
                )),
            }
        } else if !INIT_FIELDS.contains(&key.as_str()) {
            unknown.push(key.clone());
        } else if let (Some(fields), Value::Object(m)) = (nested_fields(key), value) {
            unknown.extend(
                sorted(m)
                    .into_iter()
                    .map(|(k, _)| k)
                    .filter(|k| !fields.contains(&k.as_str()))
                    .map(|k| format!("{key}.{k}")),
            );
        }
    }
    match saved {
        Some(e) => Err(e),
        None => Ok(tokens),
    }
}

/// A mapping's entries in the order encoding/json writes a Go map: by key.
fn sorted(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by_key(|(k, _)| *k);
    entries
}

fn decode_token(
    index: usize,
    m: &Map<String, Value>,
    unknown: &mut Vec<String>,
    save: &mut impl FnMut(String),
) -> Result<RawToken, String> {
    let field = |name: &str| format!("BootstrapToken.bootstrapTokens.{name}");
    let type_error = |v: &Value, name: &str, ty: &str| {
        format!(
            "json: cannot unmarshal {} into Go struct field {} of type {ty}",
            json_type(v),
            field(name)
        )
    };
    let mut t = RawToken {
        index,
        ..RawToken::default()
    };
    for (key, value) in sorted(m) {
        match (key.as_str(), value) {
            (_, Value::Null) if TOKEN_FIELDS.contains(&key.as_str()) => {}
            ("description", Value::String(s)) => t.description = s.clone(),
            ("description", v) => save(type_error(v, "description", "string")),
            // metav1.Time and metav1.Duration unmarshal a string themselves.
            ("expires", Value::String(s)) => {
                t.expires = Some(Expiry::parse(s).map_err(|e| e.to_string())?)
            }
            ("ttl", Value::String(s)) => {
                t.ttl = Some(parse_go_duration(s).map_err(|e| e.to_string())?)
            }
            ("expires" | "ttl", v) => return Err(type_error(v, key, "string")),
            ("usages" | "groups", Value::Array(items)) => {
                let mut list = Vec::new();
                for item in items {
                    match item {
                        Value::String(s) => list.push(s.clone()),
                        // A null element decodes as "".
                        Value::Null => list.push(String::new()),
                        other => save(type_error(other, key, "string")),
                    }
                }
                if key == "usages" {
                    t.usages = list;
                } else {
                    t.groups = list;
                }
            }
            ("usages" | "groups", v) => save(type_error(v, key, "[]string")),
            // BootstrapTokenString.UnmarshalJSON parses the JSON text with its
            // quotes removed, whatever type it is.
            ("token", v) => {
                let text = serde_json::to_string(v)
                    .expect("a JSON value serialises")
                    .replace('"', "");
                t.token = Some(BootstrapTokenString::parse(&text).map_err(|e| e.to_string())?);
            }
            _ => unknown.push(format!("bootstrapTokens[{index}].{key}")),
        }
    }
    Ok(t)
}

/// A token after defaulting, remembering where it came from for messages.
struct Defaulted {
    index: usize,
    token: BootstrapToken,
}

impl RawToken {
    /// `SetDefaults_BootstrapToken` and dynamic defaulting (a missing token
    /// is generated).
    fn defaulted(self) -> Defaulted {
        let token = self.token.unwrap_or_else(BootstrapTokenString::generate);
        let usages = if self.usages.is_empty() {
            KNOWN_USAGES.iter().map(|s| s.to_string()).collect()
        } else {
            self.usages
        };
        let groups = if self.groups.is_empty() {
            vec![DEFAULT_GROUP.to_owned()]
        } else {
            self.groups
        };
        Defaulted {
            index: self.index,
            token: BootstrapToken {
                token,
                description: self.description,
                ttl: Some(self.ttl.unwrap_or(SignedDuration::from_hours(24))),
                expires: self.expires,
                usages,
                groups,
            },
        }
    }
}

/// `ValidateBootstrapTokens`, all tokens' errors aggregated.
fn validate(tokens: &[Defaulted]) -> Result<(), ValidationErrors> {
    let mut errs = Vec::new();
    for d in tokens {
        let path = format!("bootstrapTokens.{}", d.index);
        errs.extend(validate_usages_and_groups(
            &path,
            &d.token.usages,
            &d.token.groups,
        ));
        // TTL is always defaulted, so any `expires` in a file trips this,
        // exactly as upstream's defaulting-then-validation does.
        if d.token.expires.is_some() && d.token.ttl.is_some() {
            errs.push(FieldError {
                path,
                value: FieldValue::Str(String::new()),
                detail: "the BootstrapToken .TTL and .Expires fields are mutually exclusive".into(),
            });
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors(errs))
    }
}

#[cfg(test)]
mod tests;
