//! Embedding tokensmith's Rhai engine in another Rust program: start an
//! in-process dev cluster, connect, and run a script that creates a token and
//! builds its join command — the same engine `tokensmith run` uses.
//!
//! ```sh
//! cargo run --example embed
//! ```

use std::collections::BTreeMap;

use tokensmith::cluster::{Cluster, ConnectOptions};
use tokensmith::devcluster::{DevCluster, DevClusterConfig};
use tokensmith::script::{RunControl, ScriptHost, ScriptOptions};

const SCRIPT: &str = r#"
let t = token::create(#{ ttl: args.ttl, description: "made by an embedding program" });
print(`created ${t}`);          // the secret is redacted when printed
join::command(t)                // the script's result: the full join line
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile_dir()?;
    let dev = DevCluster::start(DevClusterConfig {
        kubeconfig_out: Some(dir.join("kubeconfig")),
        ..DevClusterConfig::ephemeral()
    })
    .await?;
    let cluster = Cluster::connect(&ConnectOptions {
        kubeconfig: dev.kubeconfig_path().map(|p| p.to_path_buf()),
        ..ConnectOptions::default()
    })
    .await?;

    let host = ScriptHost::new(
        Some(cluster),
        ScriptOptions {
            echo_print: true,
            ..ScriptOptions::default()
        },
    );
    let script = host.compile_str("embedded.rhai", SCRIPT)?;
    let ctl = RunControl {
        args: BTreeMap::from([("ttl".to_owned(), "2h".to_owned())]),
        ..RunControl::default()
    };
    // Scripts block on cluster calls: run them off the async workers.
    let join = tokio::task::spawn_blocking(move || host.run(&script, &ctl)).await??;
    println!("{join}");
    dev.shutdown().await;
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tokensmith-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
