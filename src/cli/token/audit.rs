//! `token audit [-o json|yaml]`: which tokens were used for which joins.

use super::{AuditArgs, Failure, GlobalArgs, runtime};
use crate::cluster::audit::{audit, render_text};
use crate::cluster::{Cluster, ConnectOptions};

pub fn run(global: &GlobalArgs, args: AuditArgs) -> Result<(), Failure> {
    let format = args.output.as_str();
    if !matches!(format, "text" | "json" | "yaml") {
        return Err(Failure::new(
            1,
            format!(
                "unable to match a printer suitable for the output format \"{format}\", allowed formats are: json,text,yaml"
            ),
        ));
    }
    runtime()?.block_on(async {
        let cluster = Cluster::connect(&ConnectOptions::from_global(global))
            .await
            .map_err(|e| Failure::new(1, e.to_string()))?;
        let report = audit(&cluster)
            .await
            .map_err(|e| Failure::new(1, e.to_string()))?;
        let text = match format {
            "json" => {
                let mut s = serde_json::to_string_pretty(&report).unwrap_or_default();
                s.push('\n');
                s
            }
            "yaml" => serde_saphyr::to_string(&report)
                .map_err(|e| Failure::new(1, format!("rendering the audit as YAML: {e}")))?,
            _ => render_text(&report),
        };
        super::super::write_stdout(text.as_bytes())
    })
}
