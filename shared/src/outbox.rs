//! The outbox: every message a function sends goes through it. It renders the alert in the
//! configured format and publishes it, exactly once per ledger key, across duplicate and
//! concurrent deliveries, without ever losing it.
//!
//! A claim is written before publishing. If publishing fails the claim is released and the
//! error returned, so that Lambda retries the event and the retry publishes. A duplicate that
//! finds a claim in flight waits for it: it ends published (done) or released or expired
//! (claim again). The one case that can send twice is a crash between publish and confirm,
//! after the lease: at least once beats never.
//!
//! Work that must happen once *before* its message (a resolution) uses the same protocol in
//! steps: [`Outbox::claim`], act, then [`Outbox::publish_claimed`] (confirms) or
//! [`Outbox::release`].

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use thiserror::Error;
use tracing::{debug, info, warn};

use crate::config::function_arn_account;
use crate::domain::alert::{Account, Alert, AlertFormat, Origin, RenderedAlert, render};
use crate::domain::bus::{BusEvent, RenderedEvent, test_event};
use crate::domain::selfwatch::test_alert;
use crate::ledger::{ALERT_RETENTION, Claim, LedgerError, LedgerKey};
use crate::ports::{AlertLedger, Clock, Notifier, NotifyError};

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
            retention: ALERT_RETENTION,
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

/// A claim this invocation holds: it must end in [`Outbox::publish_claimed`] or
/// [`Outbox::release`] (or expire with its lease if the invocation dies).
#[derive(Debug)]
#[must_use = "a claim must be published or released"]
pub struct Ticket {
    key: LedgerKey,
    token: String,
}

impl Ticket {
    pub fn key(&self) -> &LedgerKey {
        &self.key
    }
}

/// What [`Outbox::claim`] found.
#[derive(Debug)]
pub enum Claimed {
    /// Ours: act, then publish or release.
    Acquired(Ticket),
    /// Another invocation holds it right now.
    InFlight,
    /// Already done and published.
    Done,
}

/// Renders and publishes messages once, through the ledger. Each handler holds one, and
/// reads and writes the ledger's other items (status records, heartbeats, entries) through
/// its own store handle, not through the outbox.
pub struct Outbox<N, L, C> {
    notifier: N,
    ledger: L,
    clock: C,
    format: AlertFormat,
    policy: DedupePolicy,
    /// Who speaks: the function's name, in every message.
    source: &'static str,
    /// Where it speaks from: the account and region, in every message.
    origin: Origin,
    /// The account of the function's own ARN, from the first invocation that names one: the
    /// origin's account when the configuration (`ACCOUNT_ID`) names none.
    invoked_account: OnceLock<Account>,
}

impl<N, L, C> Outbox<N, L, C> {
    /// An outbox with the default [`DedupePolicy`]. `source` is the function's name and
    /// `origin` its account and region: every message carries them.
    pub fn new(
        notifier: N,
        ledger: L,
        clock: C,
        format: AlertFormat,
        source: &'static str,
        origin: Origin,
    ) -> Self {
        Self {
            notifier,
            ledger,
            clock,
            format,
            policy: DedupePolicy::default(),
            source,
            origin,
            invoked_account: OnceLock::new(),
        }
    }

    /// Learns the account from an invocation's `invoked_function_arn` (every Lambda
    /// invocation's context carries it), unless `ACCOUNT_ID` named one: every message, its
    /// `account` attribute and its events then name it. A malformed ARN is logged and names
    /// no account. Each function's entry point calls this before handling the event.
    pub fn adopt_invocation_account(&self, invoked_function_arn: &str) {
        if self.origin.account.is_some() || self.invoked_account.get().is_some() {
            return;
        }
        match function_arn_account(invoked_function_arn) {
            Some(id) => {
                // A concurrent invocation may set the same account first: either is right.
                let _ = self.invoked_account.set(Account {
                    id: id.to_owned(),
                    name: id.to_owned(),
                });
            }
            None => warn!(
                invoked_function_arn,
                "the invocation's function ARN names no account: messages name none; \
                 set ACCOUNT_ID to name it"
            ),
        }
    }

    /// The account and region every message names.
    fn origin(&self) -> Origin {
        Origin {
            account: (self.origin.account.as_ref())
                .or_else(|| self.invoked_account.get())
                .cloned(),
            region: self.origin.region.clone(),
        }
    }

    /// The same outbox under another policy (tests wait out shorter leases).
    pub fn with_policy(self, policy: DedupePolicy) -> Self {
        Self { policy, ..self }
    }

    pub fn policy(&self) -> DedupePolicy {
        self.policy
    }

    /// Where messages go: tests read what a fake notifier recorded, or make it fail.
    pub fn notifier(&self) -> &N {
        &self.notifier
    }

    /// What tells the time: tests move a fixed clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}

impl<N: Notifier, L: AlertLedger, C: Clock> Outbox<N, L, C> {
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Every message passes here, so this is the one place that stamps the origin, on the
    /// message and on its events; `key` is what the events are deduplicated on.
    pub fn render(&self, alert: &Alert, key: &str) -> RenderedAlert {
        let origin = self.origin();
        let alert = alert.clone().from_origin(&origin);
        let mut rendered = render(&alert, self.format, self.source);
        rendered.events = self.render_events(&origin, &alert.events, key);
        rendered
    }

    fn render_events(&self, origin: &Origin, events: &[BusEvent], key: &str) -> Vec<RenderedEvent> {
        events
            .iter()
            .map(|event| event.render(origin, self.source, key))
            .collect()
    }

    /// Publishes without a ledger key: for messages that are not about one thing (a summary);
    /// their events carry keys of their own.
    pub async fn publish(&self, alert: &Alert) -> Result<(), NotifyError> {
        self.notifier.publish(&self.render(alert, "")).await
    }

    /// Puts events that come with no message, deduplicated on `key` (the health snapshot).
    pub async fn put_events(&self, events: &[BusEvent], key: &str) -> Result<(), NotifyError> {
        self.notifier
            .put_events(&self.render_events(&self.origin(), events, key))
            .await
    }

    /// The function's test alert, through the real path (format, topic, key) and no ledger:
    /// it proves delivery and changes nothing a later run reads.
    pub async fn send_test_alert(&self) -> Result<(), NotifyError> {
        let now = self.clock.now();
        let alert = test_alert(self.source, now).event(test_event(self.source, now));
        info!(function = self.source, "sending a test alert");
        self.publish(&alert).await
    }

    /// Publishes `alert` unless the ledger says it was already published under `key`.
    pub async fn publish_once(
        &self,
        key: &LedgerKey,
        alert: &Alert,
    ) -> Result<Delivery, DedupeError> {
        let rendered = self.render(alert, &key.to_string());
        let started = self.clock.now();
        loop {
            match self.claim(key, self.policy.lease).await? {
                Claimed::Done => return Ok(Delivery::AlreadySent),
                Claimed::Acquired(ticket) => {
                    return self
                        .publish_rendered(ticket, &rendered)
                        .await
                        .map(|()| Delivery::Published)
                        .map_err(|source| DedupeError::Publish {
                            key: key.clone(),
                            source,
                        });
                }
                Claimed::InFlight => {
                    let waited = self.clock.now().duration_since(started).unwrap_or_default();
                    if waited > self.policy.lease + self.policy.poll * 4 {
                        return Err(DedupeError::StillInFlight {
                            key: key.clone(),
                            waited,
                        });
                    }
                    debug!(%key, "alert claimed by a concurrent invocation; waiting");
                    tokio::time::sleep(self.policy.poll).await;
                }
            }
        }
    }

    /// Publishes the message of claimed work and confirms the claim; if publishing fails, the
    /// claim is released so that a retry can finish the job.
    pub async fn publish_claimed(&self, ticket: Ticket, alert: &Alert) -> Result<(), NotifyError> {
        let rendered = self.render(alert, &ticket.key.to_string());
        self.publish_rendered(ticket, &rendered).await
    }

    /// Marks claimed work done without a message: it turned out to need none.
    pub async fn settle_quietly(&self, ticket: Ticket) {
        if let Err(error) = self.ledger.confirm(&ticket.key, &ticket.token).await {
            let key = &ticket.key;
            warn!(%key, %error, "could not confirm the claim; a retry may do the work again");
        }
    }

    /// Gives a claim up: the work did not happen, or its message cannot be sent.
    pub async fn release(&self, ticket: Ticket) {
        if let Err(error) = self.ledger.release(&ticket.key, &ticket.token).await {
            let key = &ticket.key;
            warn!(%key, %error, "could not release the claim; it frees itself when its lease ends");
        }
    }

    /// Claims `key` for `lease`: before publishing, or for work that must happen once before
    /// its message.
    pub async fn claim(&self, key: &LedgerKey, lease: Duration) -> Result<Claimed, LedgerError> {
        let now = self.clock.now();
        let claim = self
            .ledger
            .claim(key, now, now + lease, now + self.policy.retention)
            .await?;
        Ok(match claim {
            Claim::Acquired { token } => Claimed::Acquired(Ticket {
                key: key.clone(),
                token,
            }),
            Claim::InFlight { .. } => Claimed::InFlight,
            Claim::Done => Claimed::Done,
        })
    }

    async fn publish_rendered(
        &self,
        ticket: Ticket,
        rendered: &RenderedAlert,
    ) -> Result<(), NotifyError> {
        if let Err(error) = self.notifier.publish(rendered).await {
            self.release(ticket).await;
            return Err(error);
        }
        if let Err(error) = self.ledger.confirm(&ticket.key, &ticket.token).await {
            // Published: returning an error would make the retry send it again.
            let key = &ticket.key;
            warn!(%key, %error, "published but not confirmed in the ledger");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::alert::{AlertKind, Severity};
    use crate::fakes::{InMemoryLedger, RecordingNotifier};
    use crate::ports::SystemClock;

    type TestOutbox = Outbox<RecordingNotifier, InMemoryLedger, SystemClock>;

    fn outbox() -> TestOutbox {
        Outbox {
            notifier: RecordingNotifier::default(),
            ledger: InMemoryLedger::default(),
            clock: SystemClock,
            format: AlertFormat::Text,
            policy: DedupePolicy {
                lease: Duration::from_millis(300),
                poll: Duration::from_millis(10),
                ..DedupePolicy::default()
            },
            source: "test",
            origin: crate::fakes::test_origin(),
            invoked_account: OnceLock::new(),
        }
    }

    #[tokio::test]
    async fn without_account_id_the_invocations_function_arn_names_the_account() {
        let unnamed = || {
            Outbox::new(
                RecordingNotifier::default(),
                InMemoryLedger::default(),
                SystemClock,
                AlertFormat::Text,
                "test",
                Origin {
                    account: None,
                    region: "eu-west-1".into(),
                },
            )
        };
        let account_of = |outbox: &TestOutbox| {
            let event = BusEvent::new(crate::domain::bus::DetailType::Test, serde_json::json!({}));
            let rendered = outbox.render(&alert().event(event), "k");
            let attribute = rendered
                .attributes
                .iter()
                .find(|(name, _)| name == "account")
                .map(|(_, value)| value.clone());
            let event = rendered.events[0].detail_json()["account"].clone();
            (attribute, event, rendered.message)
        };

        let learned = unnamed();
        learned.adopt_invocation_account("arn:aws:lambda:eu-west-1:210987654321:function:f");
        learned.adopt_invocation_account("arn:aws:lambda:eu-west-1:111111111111:function:f");
        let (attribute, event, message) = account_of(&learned);
        assert_eq!(attribute.as_deref(), Some("210987654321"), "the first one");
        assert_eq!(event, "210987654321");
        assert!(
            message.contains("Account: 210987654321, eu-west-1\n"),
            "{message}"
        );

        let malformed = unnamed();
        malformed.adopt_invocation_account("arn:aws:lambda:eu-west-1:x:function:f");
        let (attribute, event, _) = account_of(&malformed);
        assert_eq!((attribute, event), (None, serde_json::Value::Null));

        let configured = outbox();
        configured.adopt_invocation_account("arn:aws:lambda:eu-west-1:210987654321:function:f");
        let (attribute, _, message) = account_of(&configured);
        assert_eq!(
            attribute.as_deref(),
            Some("123456789012"),
            "ACCOUNT_ID wins"
        );
        assert!(message.contains("test-account (123456789012)"), "{message}");
    }

    fn alert() -> Alert {
        Alert::new(AlertKind::Blocker, Severity::Critical, "blocked")
    }

    fn key() -> LedgerKey {
        LedgerKey::blocker_alert("web", "1")
    }

    #[tokio::test]
    async fn sequential_duplicates_publish_once() {
        let outbox = outbox();
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            outcomes.push(
                outbox
                    .publish_once(&key(), &alert())
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
        assert_eq!(outbox.notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn every_message_names_the_account_and_region_it_comes_from() {
        let outbox = outbox();
        outbox.publish(&alert()).await.expect("publishes");
        let published = outbox.notifier.published();
        let message = &published[0];
        assert!(
            message
                .message
                .contains("Account: test-account (123456789012), us-east-1\n"),
            "{}",
            message.message
        );
        assert!(
            message
                .attributes
                .contains(&("account".to_owned(), "123456789012".to_owned()))
        );
    }

    #[tokio::test]
    async fn the_test_alert_is_one_message_of_kind_test_and_touches_no_ledger_item() {
        let outbox = outbox();
        outbox.send_test_alert().await.expect("publishes");
        let published = outbox.notifier.published();
        assert_eq!(published.len(), 1);
        let message = &published[0];
        assert!(
            message
                .attributes
                .contains(&("kind".to_owned(), "test".to_owned()))
        );
        assert!(
            message.message.contains("nothing is wrong"),
            "{}",
            message.message
        );
        assert!(message.message.contains("Function:"), "{}", message.message);
        assert_eq!(outbox.ledger.item_count(), 0);
        outbox.notifier.fail_next(1);
        assert!(
            outbox.send_test_alert().await.is_err(),
            "a failure is an error"
        );
    }

    #[tokio::test]
    async fn concurrent_duplicates_publish_once() {
        let outbox = outbox();
        outbox.notifier.set_delay(Duration::from_millis(50));
        let (key, alert) = (key(), alert());
        let run = || outbox.publish_once(&key, &alert);
        let (a, b, c) = tokio::join!(run(), run(), run());
        let published = [a, b, c]
            .into_iter()
            .map(|r| r.expect("no error"))
            .filter(|d| *d == Delivery::Published)
            .count();
        assert_eq!(published, 1);
        assert_eq!(outbox.notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_is_an_error_and_the_retry_publishes() {
        let outbox = outbox();
        outbox.notifier.fail_next(1);
        let first = outbox.publish_once(&key(), &alert()).await;
        assert!(
            matches!(first, Err(DedupeError::Publish { .. })),
            "{first:?}"
        );
        assert!(outbox.notifier.published().is_empty());
        let retry = outbox.publish_once(&key(), &alert()).await;
        assert_eq!(retry.expect("retry publishes"), Delivery::Published);
        assert_eq!(outbox.notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_taken_over_after_its_lease() {
        let outbox = outbox();
        // A crashed invocation claimed it and never published.
        let abandoned = outbox
            .claim(&key(), Duration::from_millis(100))
            .await
            .expect("claims");
        assert!(matches!(abandoned, Claimed::Acquired(_)));
        let outcome = outbox.publish_once(&key(), &alert()).await;
        assert_eq!(outcome.expect("takes over"), Delivery::Published);
        assert_eq!(outbox.notifier.published().len(), 1);
    }

    #[tokio::test]
    async fn claimed_work_is_confirmed_by_its_message_or_released_for_a_retry() {
        let outbox = outbox();
        let Claimed::Acquired(ticket) = outbox
            .claim(&key(), Duration::from_secs(60))
            .await
            .expect("claims")
        else {
            panic!("the first claim is ours");
        };
        assert!(matches!(
            outbox
                .claim(&key(), Duration::from_secs(60))
                .await
                .expect("reads"),
            Claimed::InFlight
        ));
        outbox.notifier.fail_next(1);
        assert!(outbox.publish_claimed(ticket, &alert()).await.is_err());
        let Claimed::Acquired(ticket) = outbox
            .claim(&key(), Duration::from_secs(60))
            .await
            .expect("claims")
        else {
            panic!("a failed publish releases the claim");
        };
        outbox
            .publish_claimed(ticket, &alert())
            .await
            .expect("publishes");
        assert!(matches!(
            outbox
                .claim(&key(), Duration::from_secs(60))
                .await
                .expect("reads"),
            Claimed::Done
        ));
        assert_eq!(outbox.notifier.published().len(), 1);
    }
}
