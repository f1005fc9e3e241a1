//! Safe rotation: make a fresh token, hand its join command to every sink,
//! and only then retire the older tokens of the same rotation — so that a
//! valid, published token always exists and no live token is left unpublished.
//!
//! The order, and what a crash at each point leaves behind:
//! 1. create the new token, labelled with the rotation (crash: one unpublished
//!    token; the next run deletes it after publishing its own); with no sink
//!    and no verification, steps 2 to 4's mark are empty, and the token is
//!    created marked published in the same write;
//! 2. optionally wait until cluster-info is signed for it and the join check passes;
//! 3. publish to every sink (crash: some sinks hold the new token; the next
//!    run republishes everywhere, then deletes it);
//! 4. label it published, then delete the rotation's other tokens except the
//!    `keep - 1` newest published ones.
//!
//! If step 2 or 3 fails, or the label cannot be set, sinks that already took the new join command get the
//! previous token's command back, and the new token is deleted; the old tokens
//! are never touched.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use crate::cluster::verify::verify_join;
use crate::cluster::{Cluster, ClusterError, StoredToken};
use crate::publish::Sink;
use crate::token::validate::{DEFAULT_GROUP, KNOWN_USAGES, validate_usages_and_groups};
use crate::token::{BootstrapToken, BootstrapTokenString, ValidationErrors};

/// The label naming the rotation a token belongs to.
pub const ROTATION_LABEL: &str = "tokensmith.io/rotation";
/// Set to `"true"` once every sink holds the token's join command.
pub const PUBLISHED_LABEL: &str = "tokensmith.io/published";
/// When the rotation created the token, in nanoseconds since the epoch:
/// `creationTimestamp` has one-second resolution, and `keep` must tell
/// apart tokens made within one second.
pub const CREATED_LABEL: &str = "tokensmith.io/created-ns";

/// The next creation mark: `now` in nanoseconds, strictly increasing
/// within this process even if the clock stands still or steps back.
fn next_created_mark(now: Timestamp) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(now.as_nanosecond()).unwrap_or(0);
    let prev = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(0);
    now.max(prev + 1)
}

/// Newest first: by the creation mark, else (a token labelled into the
/// rotation by hand) by `creationTimestamp`, ties broken by ID so that the
/// order never depends on the list order.
fn newest_first(tokens: &mut [&StoredToken]) {
    tokens.sort_by_key(|t| std::cmp::Reverse(creation_order(t)));
}

fn creation_order(t: &StoredToken) -> (i128, String) {
    creation_order_of(&t.labels, t.created, t.token.token.id().as_str())
}

/// The order rotation uses for "newer" (the audit and `token::current` ask
/// the same question): the `tokensmith.io/created-ns` mark, else
/// `creationTimestamp`, ties broken by ID.
pub fn creation_order_of(
    labels: &BTreeMap<String, String>,
    created: Option<jiff::Timestamp>,
    id: &str,
) -> (i128, String) {
    let nanos = labels
        .get(CREATED_LABEL)
        .and_then(|v| v.parse::<u64>().ok())
        .map(i128::from)
        .or_else(|| created.map(|c| c.as_nanosecond()))
        .unwrap_or(i128::MIN);
    (nanos, id.to_owned())
}

/// What to rotate and where to publish.
#[derive(Debug, Clone)]
pub struct RotationSpec {
    /// The rotation's name (a label value); tokens of other rotations are never touched.
    pub name: String,
    pub ttl: SignedDuration,
    pub description: String,
    pub usages: Vec<String>,
    pub groups: Vec<String>,
    /// How many published tokens of this rotation remain afterwards (at least 1: the new one).
    pub keep: usize,
    pub sinks: Vec<Sink>,
    /// Wait at most this long for the bootstrapsigner and check the join as a node would.
    pub verify: Option<Duration>,
    /// A certificate key makes the published command a control-plane join.
    pub certificate_key: Option<String>,
}

impl RotationSpec {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ttl: SignedDuration::from_hours(24),
            description: String::new(),
            usages: KNOWN_USAGES.iter().map(|s| s.to_string()).collect(),
            groups: vec![DEFAULT_GROUP.to_owned()],
            keep: 1,
            sinks: Vec::new(),
            verify: None,
            certificate_key: None,
        }
    }

    fn validate(&self) -> Result<(), String> {
        if !is_label_value(&self.name) || self.name.is_empty() {
            return Err(format!(
                "rotation name {:?} must be 1-63 characters of [A-Za-z0-9._-], starting and ending alphanumeric",
                self.name
            ));
        }
        if self.keep == 0 {
            return Err("keep must be at least 1 (the new token)".to_owned());
        }
        if self.ttl <= SignedDuration::ZERO {
            return Err("a rotated token needs a positive ttl".to_owned());
        }
        let errs = validate_usages_and_groups("rotate", &self.usages, &self.groups);
        if !errs.is_empty() {
            return Err(ValidationErrors(errs).to_string());
        }
        Ok(())
    }
}

fn is_label_value(s: &str) -> bool {
    s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.bytes().next().is_none_or(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_none_or(|b| b.is_ascii_alphanumeric())
}

/// What a rotation did and did not do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// The new token's ID, if one was created (and still exists unless rolled back).
    pub created: Option<String>,
    /// The new token as stored, while `created` is set.
    pub token: Option<StoredToken>,
    pub verified: bool,
    /// Sinks that now hold the new token's join command.
    pub published: Vec<String>,
    /// IDs of the rotation's older tokens deleted after the new one was published.
    pub deleted: Vec<String>,
    /// The new token's ID when it was created and then removed again by a rollback.
    pub removed: Option<String>,
    /// Sinks given the previous token's command back during a rollback.
    pub restored: Vec<String>,
    /// True only when a rollback completed: every sink that took the new
    /// command got the previous one back and the new token was removed.
    pub rolled_back: bool,
    pub errors: Vec<String>,
}

impl RotationReport {
    /// True when the new token is created, published everywhere, and nothing failed.
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && !self.rolled_back && self.created.is_some()
    }
}

/// Runs one rotation (see the module docs). Errors are collected in the
/// report; only an invalid spec fails outright.
pub async fn rotate(cluster: &Cluster, spec: &RotationSpec) -> Result<RotationReport, String> {
    spec.validate()?;
    let mut report = RotationReport::default();
    let store = cluster.tokens();
    let selector = format!("{ROTATION_LABEL}={}", spec.name);

    // 1. Create.
    let mut token = BootstrapToken::with_defaults(BootstrapTokenString::generate());
    token.ttl = Some(spec.ttl);
    token.description = spec.description.clone();
    token.usages = spec.usages.clone();
    token.groups = spec.groups.clone();
    let mut labels = BTreeMap::from([
        (ROTATION_LABEL.to_owned(), spec.name.clone()),
        (
            CREATED_LABEL.to_owned(),
            next_created_mark(cluster.clock().now()).to_string(),
        ),
    ]);
    // The join command needs only the token and the kubeconfig: made first,
    // a kubeconfig without a CA fails the rotation before anything is created.
    let mut join = match cluster.join_command(&token.token, spec.certificate_key.as_deref()) {
        Ok(j) => j,
        Err(e) => {
            report.errors.push(format!("join command: {e}"));
            return Ok(report);
        }
    };
    // With no sink to publish to and nothing to verify, no step between the
    // create and the mark can fail: the token is created marked, one write
    // instead of two.
    let marked_at_create = spec.sinks.is_empty() && spec.verify.is_none();
    let published = BTreeMap::from([(PUBLISHED_LABEL.to_owned(), "true".to_owned())]);
    if marked_at_create {
        labels.extend(published.clone());
    }
    match store.create_generated(&token, &labels).await {
        Ok(stored) => {
            // A taken ID was replaced by a fresh one: the command follows it
            // (made from the same kubeconfig, it cannot fail where it did not).
            if stored.token.token != token.token {
                token.token = stored.token.token.clone();
                match cluster.join_command(&token.token, spec.certificate_key.as_deref()) {
                    Ok(j) => join = j,
                    Err(e) => {
                        report.token = Some(stored);
                        report.created = Some(token.token.id().to_string());
                        report.errors.push(format!("join command: {e}"));
                        rollback(cluster, spec, &token.token, &selector, &[], &mut report).await;
                        return Ok(report);
                    }
                }
            }
            report.token = Some(stored);
        }
        Err(e) => {
            report.errors.push(format!("create: {e}"));
            return Ok(report);
        }
    }
    let new_id = token.token.id().clone();
    report.created = Some(new_id.to_string());
    tracing::info!(rotation = %spec.name, token = %token.token, "created token");

    // 2. Verify.
    if let Some(wait) = spec.verify {
        if cluster.dry_run() {
            println!("[dryrun] Would verify the join command against cluster-info");
        } else if let Err(e) = verify_join(cluster, &join, Some(wait)).await {
            report.errors.push(format!("verify: {e}"));
            rollback(cluster, spec, &token.token, &selector, &[], &mut report).await;
            return Ok(report);
        }
        report.verified = !cluster.dry_run();
    }

    // 3. Publish.
    let text = join.render();
    let mut done: Vec<&Sink> = Vec::new();
    for sink in &spec.sinks {
        // Every sink alike, stdout too: a dry run's token does not exist, so
        // its join command is not worth printing as if it were published.
        if cluster.dry_run() {
            println!(
                "[dryrun] Would publish the join command to {}",
                sink.describe()
            );
            // The report says what the rotation would do, as `deleted` does.
            report.published.push(sink.describe());
            continue;
        }
        match sink.publish(Some(cluster), &text).await {
            Ok(()) => {
                report.published.push(sink.describe());
                done.push(sink);
            }
            Err(e) => {
                report.errors.push(e.to_string());
                rollback(cluster, spec, &token.token, &selector, &done, &mut report).await;
                return Ok(report);
            }
        }
    }

    // 4. Mark published, then retire the older tokens.
    if !marked_at_create && let Err(e) = store.label(&new_id, &published).await {
        // Unmarked, the new token would be a live token that nothing records
        // as published: undo as for a failed publish, so the sinks and the
        // marks agree again and the old tokens stay.
        report.errors.push(format!("mark published: {e}"));
        rollback(cluster, spec, &token.token, &selector, &done, &mut report).await;
        return Ok(report);
    }
    // The report's token is the Secret as it is now: marked.
    if let Some(t) = report.token.as_mut() {
        t.labels.extend(published.clone());
    }
    let others = match rotation_tokens(cluster, &selector).await {
        Ok(t) => t,
        Err(e) => {
            report.errors.push(format!("list old tokens: {e}"));
            return Ok(report);
        }
    };
    let mut published_old: Vec<&StoredToken> = others
        .iter()
        .filter(|t| t.token.token.id() != &new_id && is_published(t))
        .collect();
    newest_first(&mut published_old);
    let kept: Vec<&BootstrapTokenString> = published_old
        .iter()
        .take(spec.keep - 1)
        .map(|t| &t.token.token)
        .collect();
    for t in &others {
        let id = t.token.token.id();
        if id == &new_id || kept.contains(&&t.token.token) {
            continue;
        }
        match store.delete(id).await {
            Ok(()) => report.deleted.push(id.to_string()),
            Err(e) if e.is_not_found() => {}
            Err(e) => report.errors.push(format!("delete old token: {e}")),
        }
    }
    Ok(report)
}

fn is_published(t: &StoredToken) -> bool {
    t.labels.get(PUBLISHED_LABEL).is_some_and(|v| v == "true")
}

async fn rotation_tokens(
    cluster: &Cluster,
    selector: &str,
) -> Result<Vec<StoredToken>, ClusterError> {
    Ok(cluster
        .tokens()
        .list_selected(Some(selector))
        .await?
        .into_iter()
        .filter_map(|t| {
            t.map_err(|e| {
                tracing::warn!("rotation: skipping a Secret that is not a valid token: {e}")
            })
            .ok()
        })
        .collect())
}

/// Undoes a failed rotation: sinks that took the new command get the newest
/// published, unexpired older token's command back; then the new token is
/// deleted. If a sink holds the new token and cannot be restored, the new
/// token is kept (deleting it would leave that sink pointing at nothing).
async fn rollback(
    cluster: &Cluster,
    spec: &RotationSpec,
    new: &BootstrapTokenString,
    selector: &str,
    done: &[&Sink],
    report: &mut RotationReport,
) {
    let mut restored_all = true;
    if !done.is_empty() {
        let now = cluster.clock().now();
        let previous = rotation_tokens(cluster, selector)
            .await
            .ok()
            .and_then(|ts| {
                let mut live: Vec<&StoredToken> = ts
                    .iter()
                    .filter(|t| {
                        t.token.token.id() != new.id()
                            && is_published(t)
                            && t.token.expires.is_none_or(|e| !e.is_expired(now))
                    })
                    .collect();
                newest_first(&mut live);
                live.first().map(|t| (*t).clone())
            });
        match previous.and_then(|p| {
            cluster
                .join_command(&p.token.token, spec.certificate_key.as_deref())
                .ok()
        }) {
            Some(prev_join) => {
                let text = prev_join.render();
                for sink in done {
                    match sink.publish(Some(cluster), &text).await {
                        Ok(()) => report.restored.push(sink.describe()),
                        Err(e) => {
                            restored_all = false;
                            report.errors.push(format!("restore: {e}"));
                        }
                    }
                }
            }
            None => restored_all = false,
        }
    }
    if restored_all {
        report.published.clear();
        match cluster.tokens().delete(new.id()).await {
            Ok(()) => {
                report.removed = Some(new.id().to_string());
                report.rolled_back = true;
                report.created = None;
                report.token = None;
            }
            Err(e) => report.errors.push(format!(
                "rollback: could not remove the new token {}: {e}",
                new.id()
            )),
        }
    } else {
        // A sink holds the new token's command: keep the token valid and mark it
        // published so the next successful rotation retires it in order.
        let published = BTreeMap::from([(PUBLISHED_LABEL.to_owned(), "true".to_owned())]);
        match cluster.tokens().label(new.id(), &published).await {
            Ok(()) => {
                if let Some(t) = report.token.as_mut() {
                    t.labels.extend(published);
                }
            }
            Err(e) => report.errors.push(format!("mark published: {e}")),
        }
        report
            .errors
            .push("kept the new token because a sink already holds it and no previous token could be restored".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, created: &str, mark: Option<u64>) -> StoredToken {
        let token = BootstrapTokenString::parse(&format!("{id}.0123456789abcdef")).expect("token");
        let mut labels = BTreeMap::new();
        if let Some(m) = mark {
            labels.insert(CREATED_LABEL.to_owned(), m.to_string());
        }
        StoredToken {
            token: BootstrapToken::with_defaults(token),
            created: Some(created.parse().expect("timestamp")),
            labels,
        }
    }

    #[test]
    fn newest_first_orders_by_the_mark_within_one_second() {
        let second = "2026-01-01T00:00:00Z";
        let base = 1_767_225_600_000_000_000u64;
        // IDs sort against creation order: a name or list order would get it wrong.
        let a = stored("zzzzzz", second, Some(base + 1));
        let b = stored("mmmmmm", second, Some(base + 2));
        let c = stored("aaaaaa", second, Some(base + 3));
        let mut ts = vec![&a, &b, &c];
        newest_first(&mut ts);
        let ids: Vec<String> = ts.iter().map(|t| t.token.token.id().to_string()).collect();
        assert_eq!(ids, ["aaaaaa", "mmmmmm", "zzzzzz"]);
        // Without a mark: creationTimestamp, then the ID, whatever the input order.
        let old = stored("bbbbbb", "2025-12-31T23:59:59Z", None);
        let x = stored("xxxxxx", second, None);
        let y = stored("yyyyyy", second, None);
        for mut ts in [vec![&old, &x, &y], vec![&y, &old, &x]] {
            newest_first(&mut ts);
            let ids: Vec<String> = ts.iter().map(|t| t.token.token.id().to_string()).collect();
            assert_eq!(ids, ["yyyyyy", "xxxxxx", "bbbbbb"]);
        }
    }

    #[test]
    fn created_marks_strictly_increase() {
        let marks: Vec<u64> = (0..1000)
            .map(|_| next_created_mark(Timestamp::now()))
            .collect();
        assert!(marks.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn spec_validation() {
        let mut s = RotationSpec::new("nightly");
        assert!(s.validate().is_ok());
        s.keep = 0;
        assert!(s.validate().unwrap_err().contains("keep"));
        s.keep = 1;
        s.name = "bad name".into();
        assert!(s.validate().is_err());
        s.name = "x".repeat(64);
        assert!(s.validate().is_err());
        s.name = "ok".into();
        s.ttl = SignedDuration::ZERO;
        assert!(s.validate().is_err());
        s.ttl = SignedDuration::from_hours(1);
        s.usages = vec!["signing".into()];
        assert!(s.validate().unwrap_err().contains("authentication"));
    }
}
