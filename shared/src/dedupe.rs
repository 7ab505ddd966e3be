//! Publish an alert exactly once per ledger key, across duplicate and concurrent deliveries,
//! without ever losing it.
//!
//! A claim is written before publishing. If publishing fails the claim is released and the
//! error returned, so that Lambda retries the event and the retry publishes. A duplicate that
//! finds a claim in flight waits for it: it ends published (done) or released or expired
//! (claim again). The one case that can send twice is a crash between publish and confirm,
//! after the lease: at least once beats never.

use std::time::Duration;

use thiserror::Error;
use tracing::{debug, warn};

use crate::domain::alert::RenderedAlert;
use crate::ports::{AlertLedger, Claim, Clock, LedgerError, LedgerKey, Notifier, NotifyError};

#[derive(Debug, Clone, Copy)]
pub struct DedupePolicy {
    /// How long a claim protects an alert being published. Longer than the SNS call can take
    /// (the SDK's operation timeout), short enough for a Lambda retry to take over.
    pub lease: Duration,
    /// How long a ledger entry is kept (DynamoDB TTL).
    pub retention: Duration,
    /// How often a duplicate looks again at a claim in flight.
    pub poll: Duration,
}

impl Default for DedupePolicy {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(45),
            retention: Duration::from_secs(30 * 24 * 3600),
            poll: Duration::from_millis(200),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Published,
    AlreadySent,
}

#[derive(Debug, Error)]
pub enum DedupeError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("alert {key}: {source}; the ledger claim was released so that a retry publishes it")]
    Publish { key: LedgerKey, source: NotifyError },
    #[error("alert {key} is still claimed by another invocation after {waited:?}; retry later")]
    StillInFlight { key: LedgerKey, waited: Duration },
}

/// Publishes `alert` unless the ledger says it was already published under `key`.
pub async fn publish_once<L: AlertLedger, N: Notifier>(
    ledger: &L,
    notifier: &N,
    clock: &impl Clock,
    policy: &DedupePolicy,
    key: &LedgerKey,
    alert: &RenderedAlert,
) -> Result<Delivery, DedupeError> {
    let started = clock.now();
    loop {
        let now = clock.now();
        match ledger
            .claim(key, now, now + policy.lease, now + policy.retention)
            .await?
        {
            Claim::Done => return Ok(Delivery::AlreadySent),
            Claim::Acquired { token } => {
                if let Err(source) = notifier.publish(alert).await {
                    if let Err(release) = ledger.release(key, &token).await {
                        warn!(%key, error = %release, "could not release the claim; it frees itself when its lease ends");
                    }
                    return Err(DedupeError::Publish {
                        key: key.clone(),
                        source,
                    });
                }
                if let Err(error) = ledger.confirm(key, &token).await {
                    // Published: returning an error would make the retry send it again.
                    warn!(%key, %error, "alert published but not confirmed in the ledger");
                }
                return Ok(Delivery::Published);
            }
            Claim::InFlight { lease_until } => {
                let waited = clock.now().duration_since(started).unwrap_or_default();
                if waited > policy.lease + policy.poll * 4 {
                    return Err(DedupeError::StillInFlight {
                        key: key.clone(),
                        waited,
                    });
                }
                debug!(%key, ?lease_until, "alert claimed by a concurrent invocation; waiting");
                tokio::time::sleep(policy.poll).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{InMemoryLedger, RecordingNotifier};
    use crate::ports::SystemClock;

    fn alert() -> RenderedAlert {
        RenderedAlert {
            subject: "s".into(),
            message: "m".into(),
            attributes: vec![],
        }
    }

    fn fast() -> DedupePolicy {
        DedupePolicy {
            lease: Duration::from_millis(300),
            poll: Duration::from_millis(10),
            ..DedupePolicy::default()
        }
    }

    #[tokio::test]
    async fn sequential_duplicates_publish_once() {
        let (ledger, notifier) = (InMemoryLedger::default(), RecordingNotifier::default());
        let key = LedgerKey::new("stack#web", "blocker#1");
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(
                publish_once(&ledger, &notifier, &SystemClock, &fast(), &key, &alert())
                    .await
                    .expect("publishes"),
            );
        }
        assert_eq!(
            outcomes,
            [
                Delivery::Published,
                Delivery::AlreadySent,
                Delivery::AlreadySent
            ]
        );
        assert_eq!(notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn concurrent_duplicates_publish_once() {
        let (ledger, notifier) = (InMemoryLedger::default(), RecordingNotifier::default());
        notifier.set_delay(Duration::from_millis(50));
        let key = LedgerKey::new("stack#web", "blocker#1");
        let (policy, alert) = (fast(), alert());
        let run = || publish_once(&ledger, &notifier, &SystemClock, &policy, &key, &alert);
        let (a, b, c) = tokio::join!(run(), run(), run());
        let published = [a, b, c]
            .into_iter()
            .map(|r| r.expect("no error"))
            .filter(|d| *d == Delivery::Published)
            .count();
        assert_eq!(published, 1);
        assert_eq!(notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_is_an_error_and_the_retry_publishes() {
        let (ledger, notifier) = (InMemoryLedger::default(), RecordingNotifier::default());
        let key = LedgerKey::new("stack#web", "blocker#1");
        notifier.fail_next(1);
        let first = publish_once(&ledger, &notifier, &SystemClock, &fast(), &key, &alert()).await;
        assert!(
            matches!(first, Err(DedupeError::Publish { .. })),
            "{first:?}"
        );
        assert!(notifier.published().is_empty());
        let retry = publish_once(&ledger, &notifier, &SystemClock, &fast(), &key, &alert()).await;
        assert_eq!(retry.expect("retry publishes"), Delivery::Published);
        assert_eq!(notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_taken_over_after_its_lease() {
        let (ledger, notifier) = (InMemoryLedger::default(), RecordingNotifier::default());
        let key = LedgerKey::new("stack#web", "blocker#1");
        let now = std::time::SystemTime::now();
        // A crashed invocation claimed it and never published.
        let claim = ledger
            .claim(
                &key,
                now,
                now + Duration::from_millis(100),
                now + Duration::from_secs(60),
            )
            .await
            .expect("claims");
        assert!(matches!(claim, Claim::Acquired { .. }));
        let outcome = publish_once(&ledger, &notifier, &SystemClock, &fast(), &key, &alert()).await;
        assert_eq!(outcome.expect("takes over"), Delivery::Published);
        assert_eq!(notifier.published().len(), 1);
    }
}
