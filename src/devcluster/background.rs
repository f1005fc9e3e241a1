//! A dev cluster on its own thread and tokio runtime, for callers without
//! one (the CLI's `--dev` flag, plain `#[test]`s).

use anyhow::Context;

use super::{Access, DevCluster, DevClusterConfig};

/// A dev cluster on its own thread and runtime; stops cleanly on drop.
/// Used by the CLI's global `--dev` flag and by plain `#[test]`s.
#[derive(Debug)]
pub struct BackgroundDevCluster {
    access: Access,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

pub fn start_in_background(cfg: DevClusterConfig) -> anyhow::Result<BackgroundDevCluster> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<Access>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("tokensmith-dev-cluster".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("dev-cluster-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(
                        anyhow::Error::new(e).context("starting the dev cluster runtime")
                    ));
                    return;
                }
            };
            rt.block_on(async move {
                match DevCluster::start(cfg).await {
                    Ok(dc) => {
                        let _ = ready_tx.send(Ok(dc.access.clone()));
                        // Runs until told to stop, or until the owner is gone.
                        let _ = stop_rx.await;
                        dc.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        })
        .context("spawning the dev cluster thread")?;
    let access = ready_rx
        .recv()
        .context("the dev cluster thread ended before it was ready")??;
    Ok(BackgroundDevCluster {
        access,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

impl std::ops::Deref for BackgroundDevCluster {
    type Target = Access;

    fn deref(&self) -> &Access {
        &self.access
    }
}

impl Drop for BackgroundDevCluster {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
