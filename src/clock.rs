//! The wall clock that tokens' expirations are judged by. One [`Clock`] is
//! shared by a dev cluster (its tokencleaner, bootstrapsigner, authenticator
//! and creation timestamps), the client connected to it (expirations computed
//! from a TTL) and the scripts run against it (`now()`, `t.expired`), so that
//! `tokensmith test` can move all of them forward at once with
//! `clock::advance`. Everywhere else it is the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// Wall time, optionally moved forward by a test. Cheap to clone; clones
/// share the same offset.
#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    /// How far this clock runs ahead of its source, in nanoseconds (i64
    /// nanoseconds cover ±292 years, more than any test moves).
    offset_ns: AtomicI64,
    /// Bumped on every advance, so that sleepers (the controllers) re-read the time.
    advanced: tokio::sync::watch::Sender<u64>,
}

enum Source {
    System,
    /// A function of some other time base, e.g. tokio's paused clock in unit tests.
    Custom(Box<dyn Fn() -> Timestamp + Send + Sync>),
}

impl Clock {
    /// The system's real time.
    pub fn system() -> Clock {
        Self::with_source(Source::System)
    }

    /// Time read from `now` (tests that drive tokio's paused clock).
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Self::with_source(Source::Custom(Box::new(now)))
    }

    fn with_source(source: Source) -> Clock {
        Clock {
            inner: Arc::new(Inner {
                source,
                offset_ns: AtomicI64::new(0),
                advanced: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    pub fn now(&self) -> Timestamp {
        let base = match &self.inner.source {
            Source::System => Timestamp::now(),
            Source::Custom(f) => f(),
        };
        base.saturating_add(self.offset()).unwrap_or(Timestamp::MAX)
    }

    /// How far the clock has been moved ahead of real time.
    pub fn offset(&self) -> SignedDuration {
        SignedDuration::from_nanos(self.inner.offset_ns.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `by` and wakes everything waiting on it.
    /// Time never runs backwards: a negative or too large step is refused.
    pub fn advance(&self, by: SignedDuration) -> Result<(), String> {
        if by.is_negative() {
            return Err(format!(
                "the clock only moves forward; got {}",
                crate::token::format_go_duration(by)
            ));
        }
        let step = i64::try_from(by.as_nanos())
            .map_err(|_| "the step is too large (at most about 292 years)".to_owned())?;
        self.inner
            .offset_ns
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |o| o.checked_add(step))
            .map_err(|_| "the clock cannot move that far ahead".to_owned())?;
        self.inner.advanced.send_modify(|n| *n += 1);
        Ok(())
    }

    /// A receiver that sees a change each time the clock is advanced.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.advanced.subscribe()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("offset", &self.offset())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_clone_and_never_backwards() {
        let base: Timestamp = "2030-01-01T00:00:00Z".parse().expect("ts");
        let clock = Clock::from_fn(move || base);
        let other = clock.clone();
        let seen = other.subscribe();
        clock
            .advance(SignedDuration::from_hours(2))
            .expect("advance");
        assert_eq!(other.now(), base + SignedDuration::from_hours(2));
        assert!(seen.has_changed().expect("sender alive"));
        assert!(clock.advance(SignedDuration::from_secs(-1)).is_err());
        assert_eq!(clock.offset(), SignedDuration::from_hours(2));
    }
}
