//! Process entry: argument parsing, logging set-up, one call into the
//! library, and the single place where failures become exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::token::pflag::Reading;
use crate::cli::{Cli, Failure, dispatch};
use crate::token::go_quote;

pub fn main() -> ExitCode {
    // One TLS provider for the whole process (kube, the dev cluster, webhooks).
    let _ = rustls::crypto::ring::default_provider().install_default();
    // `token` command lines are read as kubeadm's pflag reads them first.
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match crate::cli::token::pflag::read(&argv) {
        Some(Reading::Error(message)) => {
            let f = Failure::kubeadm(1, message);
            let _ = std::io::stderr().write_all(f.render().as_bytes());
            return ExitCode::from(f.code);
        }
        Some(Reading::Rewritten(args)) => argv = args,
        None => {}
    }
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(f) = kubeadm_flag_error(&e) {
                let _ = std::io::stderr().write_all(f.render().as_bytes());
                return ExitCode::from(f.code);
            }
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = e.render().to_string();
            let safe = crate::failure::safe_echo(&text);
            if safe == text {
                let _ = e.print();
            } else {
                let _ = std::io::stderr().write_all(safe.as_bytes());
            }
            return ExitCode::from(code);
        }
    };
    crate::logging::init(&cli.global);
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let _ = std::io::stderr().write_all(f.render().as_bytes());
            ExitCode::from(f.code)
        }
    }
}

/// Under `token`, flag errors read as pflag/cobra word them and exit 1, so
/// scripts written against `kubeadm token` see the same failure.
fn kubeadm_flag_error(e: &clap::Error) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // args_os: an argument that is not UTF-8 is what some of these errors are about.
    if !std::env::args_os().skip(1).any(|a| a == "token") {
        return None;
    }
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    let flag_name = |arg: &str| {
        // clap renders the arg as `--ttl <DURATION>`; pflag names it `--ttl`.
        arg.split_whitespace().next().unwrap_or(arg).to_owned()
    };
    let message = match e.kind() {
        ErrorKind::UnknownArgument => {
            let arg = ctx(ContextKind::InvalidArg)?;
            match arg.strip_prefix('-') {
                Some(short) if !short.starts_with('-') => {
                    let c = short.chars().next().unwrap_or('-');
                    format!("unknown shorthand flag: '{c}' in {arg}")
                }
                _ => format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg)),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let arg = flag_name(&ctx(ContextKind::InvalidArg)?);
            let value = ctx(ContextKind::InvalidValue).unwrap_or_default();
            if value.is_empty() {
                format!("flag needs an argument: {arg}")
            } else {
                format!(
                    "invalid argument {} for {} flag: strconv.ParseBool: parsing {}: invalid syntax",
                    go_quote(&value),
                    go_quote(&arg),
                    go_quote(&value)
                )
            }
        }
        ErrorKind::InvalidSubcommand => {
            let sub = ctx(ContextKind::InvalidSubcommand)?;
            format!(
                "unknown command {} for \"tokensmith token\"",
                go_quote(&sub)
            )
        }
        ErrorKind::InvalidUtf8 => {
            let bad = std::env::args_os().skip(1).find(|a| a.to_str().is_none())?;
            format!(
                "invalid argument {}: not valid UTF-8",
                crate::token::go_quote_bytes(bad.as_encoded_bytes())
            )
        }
        // Any other usage error still exits 1 under `token`, as cobra's do;
        // the text is clap's first line.
        _ if e.use_stderr() => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_owned()
        }
        _ => return None,
    };
    Some(Failure::kubeadm(1, message))
}
