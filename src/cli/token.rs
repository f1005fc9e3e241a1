//! `tokensmith token create|delete|generate|list`: kubeadm's flags and messages.

use std::path::PathBuf;

use clap::Subcommand;

use super::{Failure, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: Option<TokenCommand>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create bootstrap tokens on the server.
    Create(CreateArgs),
    /// Delete bootstrap tokens on the server.
    Delete(DeleteArgs),
    /// Generate and print a bootstrap token, but do not create it on the server.
    Generate(GenerateArgs),
    /// List bootstrap tokens on the server.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The token to create (`[a-z0-9]{6}.[a-z0-9]{16}`); generated when omitted.
    /// Further arguments are ignored, as kubeadm ignores them.
    #[arg(value_name = "TOKEN")]
    pub token: Vec<String>,

    /// The duration before the token is automatically deleted (e.g. 1s, 2m, 3h).
    /// If set to '0', the token will never expire.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "24h0m0s",
        allow_hyphen_values = true
    )]
    pub ttl: String,

    /// Describes the ways in which this token can be used. Comma-separated or
    /// repeated; valid options: [signing,authentication].
    #[arg(long, value_name = "USAGES", default_value = "signing,authentication")]
    pub usages: Vec<String>,

    /// Extra groups that this token will authenticate as when used for
    /// authentication. Must match "\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z".
    #[arg(
        long,
        value_name = "GROUPS",
        default_value = "system:bootstrappers:kubeadm:default-node-token"
    )]
    pub groups: Vec<String>,

    /// A human friendly description of how this token is used.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub description: String,

    /// Instead of printing only the token, print the full 'kubeadm join' flag
    /// needed to join the cluster using the token.
    #[arg(long)]
    pub print_join_command: bool,

    /// When used together with '--print-join-command', print the full
    /// 'kubeadm join' flag needed to join the cluster as a control-plane. To
    /// create a new certificate key you must use 'kubeadm init phase upload-certs --upload-certs'.
    #[arg(long, value_name = "KEY")]
    pub certificate_key: Option<String>,

    /// Path to a kubeadm configuration file (InitConfiguration v1beta3 or
    /// v1beta4); its bootstrap tokens replace every token flag.
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

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format. One of: text|json|yaml|go-template|go-template-file|
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

pub fn run(_global: &GlobalArgs, _args: TokenArgs) -> Result<(), Failure> {
    Err(Failure::kubeadm(1, "not built yet"))
}
