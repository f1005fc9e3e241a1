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
    /// How long one attempt may wait for its answer. kube's client has no
    /// read timeout, so without this a server that accepts and never answers
    /// would hold the call forever.
    pub attempt_timeout: Duration,
    /// No attempt starts that could not end within this much time from the
    /// first, so one call is bounded by it whatever the server does.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// 6 attempts, 100 ms doubling to at most 2 s: about 3 s of patience, enough
    /// to ride out a restarting API server without hanging a CLI call. Each
    /// attempt waits at most 10 s and the call at most 25 s, so a `token`
    /// command of two calls (create: get, then post) ends within a minute
    /// against a wedged server, as kubeadm's one-minute API-call bound.
    fn default() -> Self {
        Self {
            attempts: 6,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(10),
            budget: Duration::from_secs(25),
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

    /// Runs `op` until it succeeds, fails permanently, or attempts or the
    /// budget run out. `op` gets the attempt number (0-based).
    pub async fn run<T, F, Fut>(&self, mut op: F) -> Result<T, RequestFailure>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, RequestFailure>>,
    {
        let start = tokio::time::Instant::now();
        let mut delay = self.first_delay;
        let mut attempt = 0;
        loop {
            let outcome = match tokio::time::timeout(self.attempt_timeout, op(attempt)).await {
                Ok(r) => r,
                Err(_) => Err(self.no_answer()),
            };
            match outcome {
                Ok(v) => return Ok(v),
                Err(f) if f.transient && attempt + 1 < self.attempts => {
                    let wait = f
                        .retry_after
                        .map(Duration::from_secs)
                        .unwrap_or(delay)
                        .min(self.max_delay);
                    if start.elapsed() + wait + self.attempt_timeout > self.budget {
                        return Err(self.last(f, attempt + 1, start.elapsed()));
                    }
                    tracing::debug!(attempt, cause = %f.cause, ?wait, "retrying after a transient failure");
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(self.max_delay);
                    attempt += 1;
                }
                Err(f) => return Err(self.last(f, attempt + 1, start.elapsed())),
            }
        }
    }

    fn no_answer(&self) -> RequestFailure {
        RequestFailure {
            cause: format!(
                "the API server did not answer within {}s",
                self.attempt_timeout.as_secs()
            ),
            status: None,
            reason: None,
            transient: true,
            retry_after: None,
        }
    }

    /// The failure that ends the call; a server that never answered is
    /// said to have been given up on, with how long that took.
    fn last(&self, mut f: RequestFailure, attempts: u32, took: Duration) -> RequestFailure {
        if f.status.is_none() && f.cause == self.no_answer().cause {
            f.cause = format!(
                "{}; gave up after {attempts} attempt{} in {}s",
                f.cause,
                if attempts == 1 { "" } else { "s" },
                took.as_secs()
            );
        }
        f
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

    #[tokio::test(start_paused = true)]
    async fn a_server_that_never_answers_is_given_up_on_within_the_budget() {
        let policy = RetryPolicy::default();
        let calls = AtomicU32::new(0);
        let start = tokio::time::Instant::now();
        let r: Result<(), _> = policy
            .run(|_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                std::future::pending().await
            })
            .await;
        assert!(start.elapsed() <= policy.budget, "{:?}", start.elapsed());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(
            r.unwrap_err().cause,
            "the API server did not answer within 10s; gave up after 2 attempts in 20s"
        );
    }
}
