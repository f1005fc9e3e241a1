//! Lease-based leader election, as client-go's `leaderelection` does it:
//! several replicas of `tokensmith watch` share one `coordination.k8s.io/v1`
//! Lease, and only its holder runs jobs.
//!
//! Expiry is judged on this replica's own monotonic clock (how long the
//! Lease record has gone unchanged), never by comparing the holder's
//! `renewTime` with our wall clock, so clock skew between nodes cannot make
//! two replicas lead at once. Every write carries the `resourceVersion` it
//! read, so of two replicas racing for an expired Lease one gets a 409.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::time::Instant;

/// Which Lease to hold, as whom, and how long a holding lasts.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    /// This replica's name in `holderIdentity`: unique per process.
    pub identity: String,
    /// How long a Lease stays held without renewal (client-go default 15s).
    pub lease_duration: Duration,
    /// How often to try to acquire or renew (client-go default 2s).
    pub retry_period: Duration,
}

impl LeaseConfig {
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Leadership is given up locally once renewals have failed this long:
    /// before the Lease can expire for the others (client-go's renewDeadline).
    fn renew_deadline(&self) -> Duration {
        self.lease_duration.mul_f64(2.0 / 3.0)
    }
}

/// Whether this replica currently leads. Cheap to clone and to read.
#[derive(Debug, Clone, Default)]
pub struct Leadership(Arc<AtomicBool>);

impl Leadership {
    pub fn is_leader(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, leader: bool, cfg: &LeaseConfig) {
        let was = self.0.swap(leader, Ordering::AcqRel);
        if was != leader {
            if leader {
                tracing::info!(lease = %format!("{}/{}", cfg.namespace, cfg.name), identity = %cfg.identity, "became the leader");
            } else {
                tracing::warn!(lease = %format!("{}/{}", cfg.namespace, cfg.name), identity = %cfg.identity, "lost the leadership");
            }
        }
    }
}

/// A replica's view of the Lease between two attempts.
#[derive(Default)]
struct Observed {
    /// (holder, renewTime) of the last record read, and when it was first seen.
    record: Option<(String, Option<MicroTime>)>,
    since: Option<Instant>,
    last_renewed: Option<Instant>,
}

/// Runs the election until `stop` resolves, then releases the Lease if held.
pub async fn run(
    client: kube::Client,
    cfg: LeaseConfig,
    leadership: Leadership,
    stop: impl std::future::Future<Output = ()>,
) {
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    let mut observed = Observed::default();
    tokio::pin!(stop);
    loop {
        match try_acquire_or_renew(&api, &cfg, &mut observed).await {
            Ok(leading) => {
                if leading {
                    observed.last_renewed = Some(Instant::now());
                }
                leadership.set(leading, &cfg);
            }
            Err(e) => {
                tracing::debug!(error = %e, "leader election attempt failed");
                let stale = observed
                    .last_renewed
                    .is_none_or(|t| t.elapsed() >= cfg.renew_deadline());
                if stale {
                    leadership.set(false, &cfg);
                }
            }
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(cfg.retry_period) => {}
        }
    }
    if leadership.is_leader() {
        leadership.set(false, &cfg);
        if let Err(e) = release(&api, &cfg).await {
            tracing::warn!(error = %e, "could not release the lease; the next leader waits for it to expire");
        }
    }
}

/// One round: returns whether this replica holds the Lease afterwards.
async fn try_acquire_or_renew(
    api: &Api<Lease>,
    cfg: &LeaseConfig,
    observed: &mut Observed,
) -> Result<bool, kube::Error> {
    let now = MicroTime(jiff::Timestamp::now());
    let duration = i32::try_from(cfg.lease_duration.as_secs())
        .unwrap_or(i32::MAX)
        .max(1);
    let Some(mut lease) = api.get_opt(&cfg.name).await? else {
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(cfg.name.clone()),
                namespace: Some(cfg.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(cfg.identity.clone()),
                lease_duration_seconds: Some(duration),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        return match api.create(&PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(e),
        };
    };
    let spec = lease.spec.clone().unwrap_or_default();
    let holder = spec.holder_identity.clone().unwrap_or_default();
    let record = (holder.clone(), spec.renew_time.clone());
    if observed.record.as_ref() != Some(&record) {
        observed.record = Some(record);
        observed.since = Some(Instant::now());
    }
    let held_by_me = holder == cfg.identity;
    let held_for = Duration::from_secs(
        u64::try_from(spec.lease_duration_seconds.unwrap_or(duration)).unwrap_or(0),
    );
    let expired = holder.is_empty() || observed.since.is_none_or(|t| t.elapsed() > held_for);
    if !held_by_me && !expired {
        return Ok(false);
    }
    let mut next = spec;
    if !held_by_me {
        next.acquire_time = Some(now.clone());
        next.lease_transitions = Some(next.lease_transitions.unwrap_or(0) + 1);
    }
    next.holder_identity = Some(cfg.identity.clone());
    next.lease_duration_seconds = Some(duration);
    next.renew_time = Some(now);
    lease.spec = Some(next);
    // `lease` still carries the resourceVersion read above: a stale write is a 409.
    match api.replace(&cfg.name, &PostParams::default(), &lease).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives the Lease up so the next replica need not wait for it to expire.
async fn release(api: &Api<Lease>, cfg: &LeaseConfig) -> Result<(), kube::Error> {
    let Some(mut lease) = api.get_opt(&cfg.name).await? else {
        return Ok(());
    };
    let Some(spec) = lease.spec.as_mut() else {
        return Ok(());
    };
    if spec.holder_identity.as_deref() != Some(cfg.identity.as_str()) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.lease_duration_seconds = Some(1);
    spec.renew_time = Some(MicroTime(jiff::Timestamp::now()));
    api.replace(&cfg.name, &PostParams::default(), &lease)
        .await
        .map(|_| ())
}

/// A unique identity for this process: `<hostname>_<random>`, like client-go's.
pub fn default_identity() -> String {
    let host = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "tokensmith".to_owned());
    format!("{host}_{:08x}", rand::random::<u32>())
}

/// The namespace a pod runs in (its service account's), if it is one.
pub fn pod_namespace() -> Option<String> {
    std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}
