//! `tokensmith token create|delete|generate|list`: kubeadm's flags and messages.

use std::path::PathBuf;

use clap::Subcommand;

mod audit;
mod create;
mod delete;
mod generate;
mod list;
pub mod pflag;

use super::{Failure, GlobalArgs};

// kubeadm's `token` has no `help` subcommand: `token help` is an unknown command.
#[derive(Debug, clap::Args)]
#[command(disable_help_subcommand = true)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: Option<TokenCommand>,
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when that subcommand is
// parsed (or help and completions walk the whole tree): start-up cost.
#[command(defer = true)]
pub enum TokenCommand {
    /// Create bootstrap tokens on the server.
    Create(CreateArgs),
    /// Delete bootstrap tokens on the server.
    Delete(DeleteArgs),
    /// Generate and print a bootstrap token, but do not create it on the server.
    Generate(GenerateArgs),
    /// List bootstrap tokens on the server.
    List(ListArgs),
    /// Which tokens were used for which joins: per token the CSRs made with it
    /// and the nodes it brought in, tokens never used, and tokens used after
    /// their rotation was superseded.
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Output format: text, json or yaml.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub output: String,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The token to create (`[a-z0-9]{6}.[a-z0-9]{16}`); generated when omitted.
    /// Further arguments are ignored, as kubeadm ignores them.
    #[arg(value_name = "TOKEN")]
    pub token: Vec<String>,

    /// The duration before the token is automatically deleted (e.g. 1s, 2m, 3h).
    /// If set to '0', the token will never expire.
    /// [default: 24h0m0s]
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    pub ttl: Option<String>,

    /// Describes the ways in which this token can be used. Comma-separated or
    /// repeated; valid options: [signing,authentication].
    /// [default: signing,authentication]
    #[arg(long, value_name = "USAGES")]
    pub usages: Option<Vec<String>>,

    /// Extra groups that this token will authenticate as when used for
    /// authentication. Must match "\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z".
    /// [default: system:bootstrappers:kubeadm:default-node-token]
    #[arg(long, value_name = "GROUPS")]
    pub groups: Option<Vec<String>>,

    /// A human friendly description of how this token is used.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,

    /// Instead of printing only the token, print the full 'kubeadm join' flag
    /// needed to join the cluster using the token.
    #[arg(long)]
    pub print_join_command: bool,

    /// When used together with '--print-join-command', print the full
    /// 'kubeadm join' flag needed to join the cluster as a control-plane. To
    /// create a new certificate key you must use 'kubeadm init phase upload-certs --upload-certs'.
    #[arg(long, value_name = "KEY")]
    pub certificate_key: Option<String>,

    /// Path to a kubeadm configuration file (InitConfiguration
    /// kubeadm.k8s.io/v1beta4); its bootstrap tokens replace every token flag.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// Token IDs (`[a-z0-9]{6}`) or whole tokens; deleted in order, stopping at
    /// the first failure.
    #[arg(value_name = "TOKEN")]
    pub tokens: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Not accepted: `generate` takes no arguments.
    #[arg(hide = true)]
    pub extra: Vec<String>,
}

// cobra keeps the last of a repeated flag (`-o json -o yaml` is yaml).
#[derive(Debug, clap::Args)]
#[command(args_override_self = true)]
pub struct ListArgs {
    /// Output format. One of: text|json|yaml|kyaml|go-template|go-template-file|
    /// template|templatefile|jsonpath|jsonpath-as-json|jsonpath-file, with
    /// `=TEMPLATE` or `=FILE` for the template formats.
    #[arg(short, long, value_name = "FORMAT", default_value = "text")]
    pub output: String,

    /// Template string or path to template file to use when -o=go-template,
    /// -o=go-template-file. The template format is golang templates.
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<String>,

    /// If true, ignore any errors in templates when a field or map key is
    /// missing in the template. Only applies to golang and jsonpath output formats.
    #[arg(long, value_name = "BOOL", default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub allow_missing_template_keys: bool,

    /// If true, keep the managedFields when printing objects in JSON or YAML format.
    #[arg(long)]
    pub show_managed_fields: bool,

    /// Not accepted: `list` takes no arguments.
    #[arg(hide = true)]
    pub extra: Vec<String>,
}

pub fn run(global: &GlobalArgs, args: TokenArgs) -> Result<(), Failure> {
    match args.command {
        Some(TokenCommand::Create(a)) => create::run(global, a),
        Some(TokenCommand::Delete(a)) => delete::run(global, a),
        Some(TokenCommand::Generate(a)) => generate::run(a),
        Some(TokenCommand::List(a)) => list::run(global, a),
        Some(TokenCommand::Audit(a)) => audit::run(global, a),
        None => {
            // kubeadm's RequireSubcommand: help on stdout, then the error.
            // Built first, so the usage line and the global options read as
            // `tokensmith token --help` prints them.
            let mut cmd = <super::Cli as clap::CommandFactory>::command();
            cmd.build();
            if let Some(token) = cmd.find_subcommand_mut("token") {
                let _ = token.print_long_help();
            }
            Err(Failure::kubeadm(1, "\nerror: subcommand is required"))
        }
    }
}

/// cobra's `NoArgs` message for a command given positional arguments.
fn no_args(command: &str, extra: &[String]) -> Result<(), Failure> {
    match extra.first() {
        Some(arg) => Err(Failure::kubeadm(
            1,
            format!(
                "unknown command {} for {}",
                crate::token::go_quote(arg),
                crate::token::go_quote(command)
            ),
        )),
        None => Ok(()),
    }
}

/// pflag's `stringSlice`: each occurrence is read as one CSV record; the
/// first occurrence replaces the default, later ones append. A value
/// `readAsCSV` rejects was reported before clap ran ([`pflag::read`]); one
/// that reaches here anyway is read as no fields.
fn string_slice(occurrences: &[String]) -> Vec<String> {
    occurrences
        .iter()
        .flat_map(|v| pflag::read_csv_record(v).unwrap_or_default())
        .collect()
}

/// A multi-threaded runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::kubeadm(1, format!("failed to start the async runtime: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_slices_read_like_pflag() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(string_slice(&v(&["a,b", "c"])), v(&["a", "b", "c"]));
        assert_eq!(string_slice(&v(&[""])), Vec::<String>::new());
        assert_eq!(string_slice(&v(&["\"x,y\",z"])), v(&["x,y", "z"]));
        assert_eq!(string_slice(&v(&["a,,b"])), v(&["a", "", "b"]));
    }
}
