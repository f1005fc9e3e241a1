//! `tokensmith definitions DIR`: Rhai language-server definition files.

use std::path::PathBuf;

use super::Failure;

#[derive(Debug, clap::Args)]
pub struct DefinitionsArgs {
    /// The directory to write the `.d.rhai` files into (created if missing).
    pub dir: PathBuf,
}

pub fn run(args: DefinitionsArgs) -> Result<(), Failure> {
    let names = crate::script::definitions::write(&args.dir).map_err(|e| {
        Failure::new(
            1,
            format!(
                "error: cannot write definitions to {}: {e}",
                args.dir.display()
            ),
        )
    })?;
    let mut out = String::new();
    for n in names {
        out.push_str(&format!("{}\n", args.dir.join(n).display()));
    }
    super::write_stdout(out.as_bytes())
}
