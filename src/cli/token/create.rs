//! `token create [TOKEN]` (kubeadm `RunCreateToken`, spec §6).

use super::{CreateArgs, Failure, GlobalArgs, runtime, string_slice};
use crate::cluster::{Cluster, ConnectOptions};
use crate::token::validate::{DEFAULT_GROUP, KNOWN_USAGES, validate_usages_and_groups};
use crate::token::{
    BootstrapToken, BootstrapTokenString, ValidationErrors, go_quote, parse_go_duration,
};

pub fn run(global: &GlobalArgs, args: CreateArgs) -> Result<(), Failure> {
    // pflag parses --ttl before the command runs, so its error comes first.
    let ttl = match &args.ttl {
        Some(v) => Some(parse_go_duration(v).map_err(|e| {
            Failure::kubeadm(
                1,
                format!("invalid argument {} for \"--ttl\" flag: {e}", go_quote(v)),
            )
        })?),
        None => None,
    };
    if args.config.is_some() {
        let mixed = mixed_flags(&args);
        if !mixed.is_empty() {
            return Err(Failure::kubeadm(
                1,
                format!(
                    "can not mix '--config' with arguments [{}]",
                    mixed.join(" ")
                ),
            ));
        }
    }
    // kubeadm parses a token argument (BootstrapTokenOptions.ApplyTo) before
    // it builds the client; a `--config` file's tokens win all the same.
    // kubeadm reads an empty argument as no token given, and generates one.
    let arg_token = match args.token.first().filter(|s| !s.is_empty()) {
        Some(s) => {
            Some(BootstrapTokenString::parse(s).map_err(|e| Failure::kubeadm(1, e.to_string()))?)
        }
        None => None,
    };
    runtime()?.block_on(async {
        // Then the kubeconfig, and only then the file or the flags' values:
        // kubeadm's RunE builds its client before RunCreateToken reads them.
        let cluster = Cluster::connect(&ConnectOptions::from_global(global))
            .await
            .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let tokens = match &args.config {
            Some(path) => tokens_from_config(path)?,
            None => vec![token_from_flags(&args, ttl, arg_token)?],
        };
        let store = cluster.tokens();
        for token in &tokens {
            store
                .create(token)
                .await
                .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        }
        // A config file may hold several tokens; kubeadm prints only the first.
        let first = &tokens[0];
        let line = if args.print_join_command {
            cluster
                .join_command(
                    &first.token,
                    args.certificate_key.as_deref().filter(|k| !k.is_empty()),
                )
                .map_err(|e| Failure::kubeadm(1, format!("failed to get join command: {e}")))?
                .render()
        } else {
            // kubeadm checks this only after the token was created.
            if args
                .certificate_key
                .as_deref()
                .is_some_and(|k| !k.is_empty())
            {
                return Err(Failure::kubeadm(
                    1,
                    "cannot use --certificate-key without --print-join-command",
                ));
            }
            first.token.expose()
        };
        super::super::write_stdout(format!("{line}\n").as_bytes())
    })
}

/// The token flags given alongside `--config`, in pflag's lexicographic order.
fn mixed_flags(args: &CreateArgs) -> Vec<&'static str> {
    let mut v = Vec::new();
    if args.certificate_key.is_some() {
        v.push("certificate-key");
    }
    if args.description.is_some() {
        v.push("description");
    }
    if args.groups.is_some() {
        v.push("groups");
    }
    if args.ttl.is_some() {
        v.push("ttl");
    }
    if args.usages.is_some() {
        v.push("usages");
    }
    v
}

fn token_from_flags(
    args: &CreateArgs,
    ttl: Option<jiff::SignedDuration>,
    given: Option<BootstrapTokenString>,
) -> Result<BootstrapToken, Failure> {
    let mut token =
        BootstrapToken::with_defaults(given.unwrap_or_else(BootstrapTokenString::generate));
    if let Some(ttl) = ttl {
        token.ttl = Some(ttl);
    }
    if let Some(d) = &args.description {
        token.description = d.clone();
    }
    // kubeadm's defaulting refills empty lists, so `--groups ""` means the default group.
    if let Some(u) = &args.usages {
        token.usages = string_slice(u);
        if token.usages.is_empty() {
            token.usages = KNOWN_USAGES.iter().map(|s| s.to_string()).collect();
        }
    }
    if let Some(g) = &args.groups {
        token.groups = string_slice(g);
        if token.groups.is_empty() {
            token.groups = vec![DEFAULT_GROUP.to_owned()];
        }
    }
    let errs = validate_usages_and_groups("bootstrapTokens.0", &token.usages, &token.groups);
    if !errs.is_empty() {
        return Err(Failure::kubeadm(3, ValidationErrors(errs).to_string()));
    }
    Ok(token)
}

fn tokens_from_config(path: &std::path::Path) -> Result<Vec<BootstrapToken>, Failure> {
    use crate::token::init_config::bootstrap_tokens_from_config;
    let text = crate::input::read_capped_string(path).map_err(|e| {
        Failure::kubeadm(
            1,
            format!(
                "unable to read config from {}: {}",
                go_quote(&path.display().to_string()),
                crate::cluster::error::go_path_error("open", path, &e)
            ),
        )
    })?;
    match bootstrap_tokens_from_config(&text, path) {
        Ok(tokens) if !tokens.is_empty() => Ok(tokens),
        Ok(_) => Err(Failure::kubeadm(
            1,
            format!(
                "no bootstrap tokens in {}",
                go_quote(&path.display().to_string())
            ),
        )),
        Err(e) => Err(Failure::kubeadm(e.exit_code(), e.to_string())),
    }
}
