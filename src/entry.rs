//! Process entry: argument parsing, logging set-up, one call into the
//! library, and the single place where failures become exit codes.

use std::ffi::{OsStr, OsString};
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
    // A token on the command line (`--arg tok=…`, a malformed `token create`
    // argument) is a secret seen: hidden in every error and log line after.
    for arg in argv.iter().skip(1).filter_map(|a| a.to_str()) {
        crate::script::redact::learn_tokens(arg);
    }
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
            let args: Vec<OsString> = std::env::args_os().skip(1).collect();
            if let Some(f) = kubeadm_flag_error(&e, &args) {
                let _ = std::io::stderr().write_all(f.render().as_bytes());
                return ExitCode::from(f.code);
            }
            let code = if e.use_stderr() { 2 } else { 0 };
            let text = e.render().to_string();
            let safe = crate::failure::safe_echo(&crate::script::redact::redact_tokens(&text));
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
/// `args` is the command line after the program name, as the OS gave it
/// (an argument that is not UTF-8 is what some of these errors are about).
fn kubeadm_flag_error(e: &clap::Error, args: &[OsString]) -> Option<Failure> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if subcommand(args).is_none_or(|s| s != "token") {
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
            let bad = args.iter().find(|a| a.to_str().is_none())?;
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

/// The subcommand word of a command line (after the program name): the
/// first argument that is neither a global flag nor a global flag's value,
/// as [`Cli`] defines them. `run token` is `run`; `--kubeconfig token token
/// list` is `token`. `None` when there is none (or only after `--`).
fn subcommand(args: &[OsString]) -> Option<&OsStr> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let with_value: Vec<&clap::Arg> = cli
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .collect();
    let long_takes_value = |name: &str| {
        with_value.iter().any(|a| {
            a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|al| al.contains(&name))
        })
    };
    let short_takes_value = |c: char| {
        with_value.iter().any(|a| {
            a.get_short() == Some(c) || a.get_all_short_aliases().is_some_and(|al| al.contains(&c))
        })
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            return Some(arg);
        };
        if text == "--" {
            return None;
        }
        if let Some(long) = text.strip_prefix("--") {
            if !long.contains('=') && long_takes_value(long) {
                rest.next();
            }
        } else if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            // A cluster such as `-vq`: the first short flag that takes a
            // value takes the rest of the cluster, or else the next argument.
            if let Some(i) = shorts.find(short_takes_value)
                && shorts[i..].chars().nth(1).is_none()
            {
                rest.next();
            }
        } else {
            return Some(arg);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(args: &[&str]) -> Option<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        subcommand(&args).map(|s| s.to_string_lossy().into_owned())
    }

    #[test]
    fn the_subcommand_is_the_first_word_that_is_not_a_global_flag_or_its_value() {
        let cases: &[(&[&str], Option<&str>)] = &[
            (&["token", "list"], Some("token")),
            (&["run", "token"], Some("run")),
            (&["check", "token", "token"], Some("check")),
            (&["--kubeconfig", "token", "token", "list"], Some("token")),
            (&["--kubeconfig", "token", "run", "x.rhai"], Some("run")),
            (&["--kubeconfig=token", "run"], Some("run")),
            (&["--context", "token", "repl"], Some("repl")),
            (&["--rootfs", "/", "--v", "5", "token"], Some("token")),
            (&["--v=5", "run", "token"], Some("run")),
            (&["--log-format", "json", "watch", "token"], Some("watch")),
            (
                &["--dry-run", "-vv", "--dev", "token", "create"],
                Some("token"),
            ),
            (&["-q", "token"], Some("token")),
            (&["--bogus", "token"], Some("token")),
            (&["--kubeconfig"], None),
            (&[], None),
            (&["--", "token"], None),
        ];
        for (args, want) in cases {
            assert_eq!(sub(args).as_deref(), *want, "{args:?}");
        }
    }

    #[test]
    fn a_flag_error_is_kubeadm_s_only_under_token() {
        let err = |args: &[&str]| {
            let e = Cli::try_parse_from(std::iter::once("tokensmith").chain(args.iter().copied()))
                .expect_err("a usage error");
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            kubeadm_flag_error(&e, &args).map(|f| f.message)
        };
        assert_eq!(
            err(&["token", "list", "--bogus"]).as_deref(),
            Some("unknown flag: --bogus")
        );
        assert_eq!(
            err(&["--kubeconfig", "token", "token", "list", "--bogus"]).as_deref(),
            Some("unknown flag: --bogus")
        );
        assert_eq!(err(&["run", "token", "--bogus"]), None);
        assert_eq!(err(&["--kubeconfig", "token", "check", "--bogus"]), None);
        assert_eq!(err(&["--context", "token", "frobnicate"]), None);
    }
}
