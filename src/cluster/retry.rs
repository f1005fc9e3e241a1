//! Retrying idempotent API calls with exponential backoff. Non-idempotent
//! calls are not passed through here.

use std::future::Future;
use std::time::Duration;

use super::error::RequestFailure;

/// How often and how long to retry a transient failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 100 ms doubling to at most 2 s: about 3 s of patience, enough
    /// to ride out a restarting API server without hanging a CLI call.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            attempts: 1,
            ..Self::default()
        }
    }

    /// Runs `op` until it succeeds, fails permanently, or attempts run out.
    /// `op` gets the attempt number (0-based).
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, RequestFailure>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, RequestFailure>>,
    {
        let mut delay = self.first_delay;
        let mut attempt = 0;
        loop {
            match op(attempt).await {
                Ok(v) => return Ok(v),
                Err(f) if f.transient && attempt + 1 < self.attempts => {
                    let wait = f
                        .retry_after
                        .map(Duration::from_secs)
                        .unwrap_or(delay)
                        .min(self.max_delay);
                    tracing::debug!(attempt, cause = %f.cause, ?wait, "retrying after a transient failure");
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(self.max_delay);
                    attempt += 1;
                }
                Err(f) => return Err(f),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn transient() -> RequestFailure {
        RequestFailure {
            cause: "boom".into(),
            status: Some(503),
            reason: None,
            transient: true,
            retry_after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_failures_then_succeeds() {
        let calls = AtomicU32::new(0);
        let r = RetryPolicy::default()
            .run(|_| async {
                if calls.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(transient())
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_budget_and_never_retries_permanent_errors() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = RetryPolicy::default()
            .run(|_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(transient())
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 6);
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = RetryPolicy::default()
            .run(|_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(RequestFailure {
                    transient: false,
                    ..transient()
                })
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
