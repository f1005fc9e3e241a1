//! `token delete TOKEN…`: in order, stopping at the first failure.

use super::{DeleteArgs, Failure, GlobalArgs, runtime};
use crate::cluster::{Cluster, ConnectOptions};
use crate::token::go_quote;
use crate::token::value::{ID_PATTERN, TOKEN_PATTERN, id_from_id_or_token};

pub fn run(global: &GlobalArgs, args: DeleteArgs) -> Result<(), Failure> {
    if args.tokens.is_empty() {
        return Err(Failure::kubeadm(
            1,
            format!(
                "missing argument; 'token delete' is missing token of form {} or {}",
                go_quote(TOKEN_PATTERN),
                go_quote(ID_PATTERN)
            ),
        ));
    }
    runtime()?.block_on(async {
        // kubeadm loads the kubeconfig before looking at the arguments.
        let cluster = Cluster::connect(&ConnectOptions::from_global(global))
            .await
            .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
        let store = cluster.tokens();
        for arg in &args.tokens {
            let Some(id) = id_from_id_or_token(arg) else {
                return Err(Failure::kubeadm(
                    1,
                    format!(
                        "given token didn't match pattern {} or {}",
                        go_quote(TOKEN_PATTERN),
                        go_quote(ID_PATTERN)
                    ),
                ));
            };
            store
                .delete(&id)
                .await
                .map_err(|e| Failure::kubeadm(1, e.to_string()))?;
            super::super::write_stdout(
                format!("bootstrap token {} deleted\n", go_quote(id.as_str())).as_bytes(),
            )?;
        }
        Ok(())
    })
}
