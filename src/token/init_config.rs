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

const KUBEADM_GROUP: &str = "kubeadm.k8s.io";
/// The kubeadm API versions whose `InitConfiguration` we read.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"];
/// Kinds of the kubeadm API group; only InitConfiguration carries tokens.
const KUBEADM_KINDS: [&str; 5] = [
    "InitConfiguration",
    "ClusterConfiguration",
    "JoinConfiguration",
    "ResetConfiguration",
    "UpgradeConfiguration",
];
/// The fields of kubeadm's `BootstrapToken`.
const TOKEN_FIELDS: [&str; 6] = ["token", "description", "ttl", "expires", "usages", "groups"];
/// Component configuration kubeadm reads alongside its own documents.
const COMPONENT_CONFIG_GROUPS: [&str; 2] = ["kubelet.config.k8s.io", "kubeproxy.config.k8s.io"];
/// `validateSupportedVersion`'s table of removed versions and the kubeadm
/// release that still reads each.
const OLD_VERSIONS: [(&str, &str); 5] = [
    ("kubeadm.k8s.io/v1alpha1", "v1.11"),
    ("kubeadm.k8s.io/v1alpha2", "v1.12"),
    ("kubeadm.k8s.io/v1alpha3", "v1.14"),
    ("kubeadm.k8s.io/v1beta1", "v1.15"),
    ("kubeadm.k8s.io/v1beta2", "v1.22"),
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
/// in messages.
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
        let Value::Object(doc) = doc else {
            return Err(load(
                "a configuration document must be a YAML mapping with apiVersion and kind".into(),
            ));
        };
        let api_version = string_field(&doc, "apiVersion").map_err(load)?;
        let kind = string_field(&doc, "kind").map_err(load)?;
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

    // documentMapToInitConfiguration
    let mut init: Option<Map<String, Value>> = None;
    let mut cluster = false;
    for (api_version, kind, doc) in documents_by_kind {
        let group = api_version.split('/').next().unwrap_or_default();
        if group != KUBEADM_GROUP {
            if !COMPONENT_CONFIG_GROUPS.contains(&group) {
                tracing::warn!(
                    file = %source.display(),
                    "[config] WARNING: Ignored configuration document with GroupVersionKind {}",
                    gvk(&api_version, &kind)
                );
            }
            continue;
        }
        check_kubeadm_document(&api_version, &kind).map_err(load)?;
        match kind.as_str() {
            "InitConfiguration" => init = Some(doc),
            "ClusterConfiguration" => cluster = true,
            _ => {}
        }
    }
    if init.is_none() && !cluster {
        return Err(load(
            "no InitConfiguration or ClusterConfiguration kind was found in the configuration file"
                .into(),
        ));
    }
    let raw = match &init {
        Some(doc) => raw_tokens(doc).map_err(load)?,
        None => Vec::new(),
    };
    // SetDefaults_InitConfiguration: no tokens means one default token.
    let raw = if raw.is_empty() {
        vec![RawToken::default()]
    } else {
        raw
    };
    let (tokens, token_errors): (Vec<Defaulted>, Vec<Option<FieldError>>) =
        raw.into_iter().map(RawToken::defaulted).unzip();
    validate(&tokens, token_errors.into_iter().flatten().collect())
        .map_err(InitConfigError::Invalid)?;
    Ok(tokens.into_iter().map(|t| t.token).collect())
}

/// Every non-empty YAML document as a JSON-like value. A syntax error
/// carries its line and column.
fn parse_documents(yaml: &str) -> Result<Vec<Value>, String> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .map(|docs| docs.into_iter().filter(|d| !d.is_null()).collect())
        // One line, "<what> at line L, column C", without the source snippet.
        .map_err(|e| {
            let msg = e.without_snippet().to_string();
            let msg = msg
                .strip_prefix("error: ")
                .unwrap_or(&msg)
                .trim_end()
                .to_owned();
            format!("not a valid YAML configuration: {msg}")
        })
}

fn string_field(doc: &Map<String, Value>, key: &str) -> Result<String, String> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{key} must be a string, not {other}")),
    }
}

/// `schema.GroupVersionKind`'s `%+v`: `group/version, Kind=kind`.
fn gvk(api_version: &str, kind: &str) -> String {
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    format!("{group}/{version}, Kind={kind}")
}

/// `validateSupportedVersion` plus a clear word on what is accepted.
fn check_kubeadm_document(api_version: &str, kind: &str) -> Result<(), String> {
    if let Some((_, release)) = OLD_VERSIONS.iter().find(|(v, _)| *v == api_version) {
        return Err(format!(
            "your configuration file uses an old API spec: {} (kind: {}). Please use kubeadm {release} instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.",
            go_quote(api_version),
            go_quote(kind)
        ));
    }
    if !SUPPORTED_VERSIONS.contains(&api_version) {
        return Err(format!(
            "unsupported apiVersion {} (kind: {}); accepted versions are {}",
            go_quote(api_version),
            go_quote(kind),
            SUPPORTED_VERSIONS.join(", ")
        ));
    }
    if !KUBEADM_KINDS.contains(&kind) {
        return Err(format!(
            "unknown kind {} for apiVersion {}; accepted kinds are {}",
            go_quote(kind),
            go_quote(api_version),
            KUBEADM_KINDS.join(", ")
        ));
    }
    // kubeadm v1.37 no longer reads v1beta3.
    if api_version.ends_with("/v1beta3") {
        return Err(format!(
            "your configuration file uses an old API spec: {} (kind: {}). Please use kubeadm v1.36 instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.",
            go_quote(api_version),
            go_quote(kind)
        ));
    }
    Ok(())
}

/// One `bootstrapTokens` entry as written in the file, decoded as kubeadm's
/// JSON decoding does (`ttl` a Go duration, `expires` RFC 3339).
#[derive(Default)]
struct RawToken {
    index: usize,
    token: Option<String>,
    description: String,
    ttl: Option<SignedDuration>,
    expires: Option<Expiry>,
    usages: Vec<String>,
    groups: Vec<String>,
}

fn raw_tokens(init: &Map<String, Value>) -> Result<Vec<RawToken>, String> {
    let list = match init.get("bootstrapTokens") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("InitConfiguration.bootstrapTokens must be a list".into()),
    };
    list.iter()
        .enumerate()
        .map(|(index, item)| {
            let at = |field: &str| format!("InitConfiguration.bootstrapTokens[{index}].{field}");
            let Value::Object(m) = item else {
                return Err(format!(
                    "InitConfiguration.bootstrapTokens[{index}] must be a mapping"
                ));
            };
            // kubeadm's strict decoding only warns about unknown fields.
            for key in m.keys().filter(|k| !TOKEN_FIELDS.contains(&k.as_str())) {
                tracing::warn!(
                    "strict decoding error: unknown field \"bootstrapTokens[{index}].{key}\""
                );
            }
            let text = |field: &str| -> Result<Option<String>, String> {
                match m.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(other) => Err(format!("{}: expected a string, got {other}", at(field))),
                }
            };
            let list = |field: &str| -> Result<Vec<String>, String> {
                match m.get(field) {
                    None | Some(Value::Null) => Ok(Vec::new()),
                    Some(Value::Array(items)) => items
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => Ok(s.clone()),
                            other => Err(format!("{}: expected strings, got {other}", at(field))),
                        })
                        .collect(),
                    Some(other) => Err(format!("{}: expected a list, got {other}", at(field))),
                }
            };
            let ttl = text("ttl")?
                .map(|s| parse_go_duration(&s).map_err(|e| format!("{}: {e}", at("ttl"))))
                .transpose()?;
            let expires = text("expires")?
                .map(|s| Expiry::parse(&s).map_err(|e| format!("{}: {e}", at("expires"))))
                .transpose()?;
            Ok(RawToken {
                index,
                token: text("token")?.filter(|t| !t.is_empty()),
                description: text("description")?.unwrap_or_default(),
                ttl,
                expires,
                usages: list("usages")?,
                groups: list("groups")?,
            })
        })
        .collect()
}

/// A token after defaulting, remembering where it came from for messages.
struct Defaulted {
    index: usize,
    token: BootstrapToken,
}

impl RawToken {
    /// `SetDefaults_BootstrapToken` and dynamic defaulting. A token string
    /// that is not `<id>.<secret>` is kubeadm's `ValidateToken` error (a
    /// stand-in token keeps the other checks running so that every error is
    /// reported at once).
    fn defaulted(self) -> (Defaulted, Option<FieldError>) {
        let (token, token_error) = match &self.token {
            None => (BootstrapTokenString::generate(), None),
            Some(s) => match BootstrapTokenString::parse(s) {
                Ok(t) => (t, None),
                Err(_) => (
                    BootstrapTokenString::generate(),
                    Some(FieldError {
                        path: format!("bootstrapTokens.{}.token", self.index),
                        value: FieldValue::Str(s.clone()),
                        detail: "the bootstrap token is invalid".into(),
                    }),
                ),
            },
        };
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
        let defaulted = Defaulted {
            index: self.index,
            token: BootstrapToken {
                token,
                description: self.description,
                ttl: Some(self.ttl.unwrap_or(SignedDuration::from_hours(24))),
                expires: self.expires,
                usages,
                groups,
            },
        };
        (defaulted, token_error)
    }
}

/// `ValidateBootstrapTokens`, all tokens' errors aggregated.
fn validate(tokens: &[Defaulted], token_errors: Vec<FieldError>) -> Result<(), ValidationErrors> {
    let mut errs = Vec::new();
    for d in tokens {
        let path = format!("bootstrapTokens.{}", d.index);
        errs.extend(
            token_errors
                .iter()
                .filter(|e| e.path == format!("{path}.token"))
                .cloned(),
        );
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
