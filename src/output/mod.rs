//! `token list` printers, as kubeadm builds them (cmd/kubeadm/app/util/output
//! and cli-runtime's printers): `text`, `json`, `yaml`, Go templates and
//! kubectl JSONPath. [`printer`] turns the flags into a [`TokenPrinter`];
//! the caller hands it each token as it decodes the Secrets, because kubeadm
//! prints per object (not a list) and interleaves decode errors on stderr.
//!
//! Everything here is pure except reading `*-file` templates in [`printer`].

mod gofmt;
mod gotemplate;
mod jsonpath;
mod kyaml;
mod object;
mod tabwriter;
mod text;
mod yaml;

use std::io::Write;
use std::path::Path;

use jiff::Timestamp;
use serde_json::Value;

use crate::token::{BootstrapToken, go_quote};
use gotemplate::GoTemplatePrinter;
use jsonpath::JsonPathTemplate;
use text::TextPrinter;

pub use object::{API_VERSION, KIND};

/// The list command's output flags, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintFlags {
    /// The raw `-o` value: `text`, `json`, `go-template={{.token}}`, `jsonpath-file=/p`…
    pub output: String,
    /// `--template`: the template (or template file) for the template formats.
    pub template: Option<String>,
    /// `--allow-missing-template-keys` (kubectl's default is true).
    pub allow_missing_template_keys: bool,
    /// `--show-managed-fields`: accepted; these objects have no managedFields.
    pub show_managed_fields: bool,
}

impl Default for PrintFlags {
    fn default() -> Self {
        Self {
            output: "text".to_owned(),
            template: None,
            allow_missing_template_keys: true,
            show_managed_fields: false,
        }
    }
}

/// cli-runtime's allowed formats, sorted as `NoCompatiblePrinterError` prints them.
pub const ALLOWED_FORMATS: [&str; 11] = [
    "go-template",
    "go-template-file",
    "json",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
    "kyaml",
    "template",
    "templatefile",
    "text",
    "yaml",
];

const GO_TEMPLATE_FORMATS: [&str; 4] = [
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
];
const JSONPATH_FORMATS: [&str; 3] = ["jsonpath", "jsonpath-as-json", "jsonpath-file"];

/// Why no printer could be built. `Display` is kubeadm's full message,
/// `could not construct output printer: …`; kubeadm exits 1 on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not construct output printer: {0}")]
pub struct PrinterError(pub String);

/// Why printing one token failed. kubeadm wraps it as
/// `unable to print token <token>: …` (use the redacted token there).
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("{0}")]
    Write(#[from] std::io::Error),
    /// cli-runtime `GoTemplatePrinter`: the template could not run.
    #[error("error executing template {}: {message}", go_quote(.template))]
    Template { template: String, message: String },
    /// cli-runtime `JSONPathPrinter`: the path could not be evaluated; the
    /// message carries kubectl's debugging dump (secret redacted).
    #[error("error executing jsonpath {}: {message}", go_quote(.template))]
    JsonPath { template: String, message: String },
}

/// A printer for a run of tokens; it remembers what it has printed
/// (the text header, the YAML document separator).
pub struct TokenPrinter {
    kind: Kind,
    printed: usize,
}

enum Kind {
    Text(TextPrinter),
    Json,
    Kyaml,
    Yaml,
    GoTemplate(Box<GoTemplatePrinter>),
    JsonPath {
        raw: String,
        template: JsonPathTemplate,
    },
}

/// `PrintFlags.ToPrinter` for `token list`: text, then json/yaml, then
/// jsonpath, then Go templates; anything else is kubectl's "unable to match".
pub fn printer(flags: &PrintFlags) -> Result<TokenPrinter, PrinterError> {
    let _ = flags.show_managed_fields; // no managedFields on these objects
    let format = flags.output.as_str();
    let kind = if format == "text" {
        Kind::Text(TextPrinter::default())
    } else if format.eq_ignore_ascii_case("json") {
        Kind::Json
    } else if format.eq_ignore_ascii_case("kyaml") {
        Kind::Kyaml
    } else if format.eq_ignore_ascii_case("yaml") {
        Kind::Yaml
    } else {
        template_printer(flags)?.ok_or_else(|| {
            PrinterError(format!(
                "unable to match a printer suitable for the output format {}, allowed formats are: {}",
                go_quote(format),
                ALLOWED_FORMATS.join(",")
            ))
        })?
    };
    Ok(TokenPrinter { kind, printed: 0 })
}

/// `KubeTemplatePrintFlags.ToPrinter`; `Ok(None)` is "no compatible printer".
fn template_printer(flags: &PrintFlags) -> Result<Option<Kind>, PrinterError> {
    let arg = flags.template.as_deref().filter(|t| !t.is_empty());
    if arg.is_none() && flags.output.is_empty() {
        return Ok(None);
    }
    let allow = flags.allow_missing_template_keys;
    if let Some((format, value)) = split_format(&flags.output, arg, &JSONPATH_FORMATS) {
        let raw = template_text(format, value, "jsonpath-file")?;
        let template = JsonPathTemplate::parse(&raw, allow, format == "jsonpath-as-json")
            .map_err(|e| PrinterError(format!("error parsing jsonpath {raw}, {e}")))?;
        return Ok(Some(Kind::JsonPath { raw, template }));
    }
    if let Some((format, value)) = split_format(&flags.output, arg, &GO_TEMPLATE_FORMATS) {
        let file_format = if format == "templatefile" {
            "templatefile"
        } else {
            "go-template-file"
        };
        let raw = template_text(format, value, file_format)?;
        let p = GoTemplatePrinter::new(&raw, allow)
            .map_err(|e| PrinterError(format!("error parsing template {raw}, {e}")))?;
        return Ok(Some(Kind::GoTemplate(Box::new(p))));
    }
    Ok(None)
}

/// Splits `format=value` (or takes `--template`) when `format` is one of `formats`.
fn split_format<'a>(
    output: &'a str,
    arg: Option<&'a str>,
    formats: &[&'static str],
) -> Option<(&'static str, &'a str)> {
    match arg {
        Some(value) => formats.iter().find(|f| **f == output).map(|f| (*f, value)),
        None => formats.iter().find_map(|f| {
            if output == *f {
                Some((*f, ""))
            } else {
                output
                    .strip_prefix(f)
                    .and_then(|r| r.strip_prefix('='))
                    .map(|v| (*f, v))
            }
        }),
    }
}

/// The template itself: the value, or the content of the file it names.
fn template_text(format: &str, value: &str, file_format: &str) -> Result<String, PrinterError> {
    if value.is_empty() {
        return Err(PrinterError(
            "template format specified but no template given".to_owned(),
        ));
    }
    if format != file_format {
        return Ok(value.to_owned());
    }
    crate::input::read_capped(std::path::Path::new(value))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| {
            PrinterError(format!(
                "error reading --template {value}, {}\n",
                go_io_error(Path::new(value), &e)
            ))
        })
}

/// How Go's `os.ReadFile` words the common failures.
fn go_io_error(path: &Path, e: &std::io::Error) -> String {
    let p = path.display();
    match e.kind() {
        std::io::ErrorKind::NotFound => format!("open {p}: no such file or directory"),
        std::io::ErrorKind::PermissionDenied => format!("open {p}: permission denied"),
        std::io::ErrorKind::IsADirectory => format!("read {p}: is a directory"),
        _ => format!("open {p}: {e}"),
    }
}

impl TokenPrinter {
    /// Prints one token. `now` decides the text TTL column.
    pub fn print(
        &mut self,
        token: &BootstrapToken,
        now: Timestamp,
        out: &mut dyn Write,
    ) -> Result<(), PrintError> {
        self.printed += 1;
        match &mut self.kind {
            Kind::Text(t) => out.write_all(t.render(token, now).as_bytes())?,
            Kind::Json => {
                let obj = Value::Object(object::token_object(token));
                out.write_all(object::go_json_indent(&obj).as_bytes())?;
                out.write_all(b"\n")?;
            }
            Kind::Kyaml => {
                let obj = Value::Object(object::token_object(token));
                out.write_all(kyaml::to_kyaml(&obj).as_bytes())?;
            }
            Kind::Yaml => {
                if self.printed > 1 {
                    out.write_all(b"---\n")?;
                }
                out.write_all(yaml::to_yaml(&object::token_object(token)).as_bytes())?;
            }
            Kind::GoTemplate(p) => {
                let obj = Value::Object(object::token_object(token));
                match p.execute(&obj) {
                    Ok(bytes) => out.write_all(&bytes)?,
                    Err(f) => {
                        // kubectl writes what ran, then debugging help, to the output.
                        out.write_all(&f.partial)?;
                        // gtmpl's messages may quote values, the token among them.
                        let message = redact_secret(&f.message, token);
                        let dump = gotemplate::debug_dump(&message, p.raw(), &redacted(token));
                        out.write_all(dump.as_bytes())?;
                        return Err(PrintError::Template {
                            template: p.raw().to_owned(),
                            message,
                        });
                    }
                }
            }
            Kind::JsonPath { raw, template } => {
                let obj = Value::Object(object::token_object(token));
                match template.execute(&obj) {
                    Ok(text) => out.write_all(text.as_bytes())?,
                    Err(e) => {
                        let message = format!(
                            "Error executing template: {e}. Printing more information for debugging the template:\n\
                             \ttemplate was:\n\t\t{raw}\n\
                             \tobject given to jsonpath engine was:\n\t\t{}\n\n\n",
                            gofmt::go_sharp_v(&redacted(token))
                        );
                        let message = redact_secret(&message, token);
                        return Err(PrintError::JsonPath {
                            template: raw.clone(),
                            message,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// `text` with the token's secret replaced by asterisks.
fn redact_secret(text: &str, token: &BootstrapToken) -> String {
    let secret = token.token.secret();
    text.replace(secret, &"*".repeat(secret.len()))
}

/// The object with the token's secret hidden, for error dumps.
fn redacted(token: &BootstrapToken) -> Value {
    let mut obj = object::token_object(token);
    obj.insert("token".into(), token.token.redacted().into());
    Value::Object(obj)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
