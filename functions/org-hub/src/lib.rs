//! org-hub: the Organization hub's function. Every member's gitsync-guard events arrive in
//! batches from the hub's queue and are folded into one state per member account and region
//! (a versioned item of the hub's table); on its schedule it alerts silent members and sends
//! the Organization's daily report to the hub topic.

pub mod settings;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use gitsync::adapters::{
    AwsClients, Channels, DynamoDocuments, SdkStackSetInstances, SnsNotifier, StartError,
};
use gitsync::config::{Env, function_arn_account};
use gitsync::domain::alert::{Alert, render};
use gitsync::domain::org::{
    HubEvent, Member, MemberState, OrgFigures, Outcome, STACK_SET_PLACEHOLDER, figures, org_report,
    parse_event,
};
use gitsync::domain::selfwatch::test_alert;
use gitsync::ledger::LedgerError;
use gitsync::metrics::{Metric, Metrics};
use gitsync::ports::{
    ApiError, Clock, Document, DocumentStore, Notifier, NotifyError, StackSetInstances, SystemClock,
};
use serde_json::{Value, json};
use thiserror::Error;

use crate::settings::HubSettings;

pub const FUNCTION_NAME: &str = "org-hub";
/// A member's state is the item `member#ACCOUNT#REGION`.
const MEMBER_PREFIX: &str = "member#";
/// The day of the last daily report sent, so that it goes once a day.
const REPORT_KEY: &str = "report#daily";
/// Reads and writes of one member's state before its events go back to the queue.
const WRITE_ATTEMPTS: usize = 3;

#[derive(Debug, Error)]
pub enum HubError {
    #[error("the hub's state table: {0}")]
    Store(#[from] LedgerError),
    #[error(
        "member {member}'s stored state is unreadable ({error}); delete its item from the \
         hub's table: the member's next snapshot rebuilds it"
    )]
    CorruptState { member: String, error: String },
    #[error(
        "member {member}'s state could not be written as JSON ({error}); its events go back to the queue"
    )]
    Unwritable { member: String, error: String },
    #[error(
        "member {0}'s state changed under this run {WRITE_ATTEMPTS} times; its events go back \
         to the queue"
    )]
    Contended(String),
    #[error("publishing to the hub topic failed: {0}")]
    Notify(#[from] NotifyError),
    #[error(
        "the input is neither an SQS batch from the hub's queue nor the hub's schedule \
         (detail.job org-watch or test): {0}"
    )]
    UnknownInput(String),
}

pub struct Hub<S, N, I, C> {
    pub store: S,
    pub notifier: N,
    /// The StackSet's instances: who should report (`None`: only those heard from count).
    pub instances: Option<I>,
    pub clock: C,
    pub settings: HubSettings,
    /// The hub's own account: `ACCOUNT_ID`, else the first invocation's function ARN.
    account: OnceLock<String>,
}

pub type AwsHub = Hub<DynamoDocuments, Channels, SdkStackSetInstances, SystemClock>;

/// The hub as deployed: configuration and clients once per cold start.
pub async fn from_env() -> Result<AwsHub, StartError> {
    let env = Env::process();
    let settings = HubSettings::from_env(&env)?;
    let clients = AwsClients::load(&env).await?;
    let notifier = Channels {
        topic: SnsNotifier::new(&clients, &settings.alert_topic_arn),
        bus: None,
    };
    let instances = settings
        .stack_set
        .as_ref()
        .map(|name| SdkStackSetInstances::new(&clients, name, &settings.call_as));
    let store = DynamoDocuments::new(&clients, &settings.state_table);
    Ok(Hub::new(store, notifier, instances, SystemClock, settings))
}

fn member_key(member: &Member) -> String {
    format!("{MEMBER_PREFIX}{}#{}", member.account, member.region)
}

fn member_of(key: &str) -> Option<Member> {
    let (account, region) = key.strip_prefix(MEMBER_PREFIX)?.split_once('#')?;
    Some(Member {
        account: account.to_owned(),
        region: region.to_owned(),
    })
}

fn read_state(member: &Member, document: Option<&Document>) -> Result<MemberState, HubError> {
    document.map_or(Ok(MemberState::default()), |document| {
        serde_json::from_str(&document.body).map_err(|error| HubError::CorruptState {
            member: member.to_string(),
            error: error.to_string(),
        })
    })
}

fn body_of(member: &Member, state: &MemberState) -> Result<String, HubError> {
    serde_json::to_string(state).map_err(|error| HubError::Unwritable {
        member: member.to_string(),
        error: error.to_string(),
    })
}

/// The scheduled job an input names, if it is the hub's schedule.
fn schedule_job(payload: &Value) -> Option<&str> {
    (payload["source"] == "gitsync-guard.schedule")
        .then(|| payload["detail"]["job"].as_str())
        .flatten()
}

impl<S: DocumentStore, N: Notifier, I: StackSetInstances, C: Clock> Hub<S, N, I, C> {
    pub fn new(
        store: S,
        notifier: N,
        instances: Option<I>,
        clock: C,
        settings: HubSettings,
    ) -> Self {
        Self {
            store,
            notifier,
            instances,
            clock,
            account: settings
                .account
                .clone()
                .map_or_else(OnceLock::new, OnceLock::from),
            settings,
        }
    }

    /// The hub's account, from the function's ARN (`arn:aws:lambda:REGION:ACCOUNT:function:..`),
    /// unless `ACCOUNT_ID` named it.
    pub fn adopt_invocation_account(&self, function_arn: &str) {
        if let Some(account) = function_arn_account(function_arn) {
            let _ = self.account.set(account.to_owned());
        }
    }

    pub async fn handle(&self, payload: Value) -> Result<Value, HubError> {
        if payload.get("Records").is_some() {
            let batch: SqsEvent = serde_json::from_value(payload).map_err(|error| {
                HubError::UnknownInput(format!("a malformed SQS batch: {error}"))
            })?;
            return Ok(self.fold(&batch.records).await);
        }
        match schedule_job(&payload) {
            Some("org-watch") => self.watch().await,
            Some("test") => {
                self.publish(test_alert(FUNCTION_NAME, self.clock.now()))
                    .await?;
                Ok(json!({"test": "published"}))
            }
            job => Err(HubError::UnknownInput(match job {
                Some(job) => format!("unknown job {job:?}"),
                None => "no Records and no detail.job".to_owned(),
            })),
        }
    }

    /// Folds a batch into the members' states. A bad event is said, counted and let go
    /// (retrying cannot make it valid); a member whose state could not be stored has its
    /// messages returned as failures, for the queue to deliver again, and only those.
    async fn fold(&self, records: &[SqsMessage]) -> Value {
        let now = self.clock.now();
        let mut by_member: BTreeMap<Member, Vec<(String, HubEvent)>> = BTreeMap::new();
        let mut rejected = 0_usize;
        for record in records {
            let id = record.message_id.clone().unwrap_or_default();
            let body = record.body.as_deref().unwrap_or_default();
            match parse_event(body, self.account.get().map(String::as_str)) {
                Ok(event) => by_member
                    .entry(event.member.clone())
                    .or_default()
                    .push((id, event)),
                Err(error) => {
                    rejected += 1;
                    tracing::warn!(message_id = %id, reason = error.metric_reason(), error = %error, "event rejected");
                }
            }
        }
        let mut failures = Vec::new();
        for (member, events) in &mut by_member {
            events.sort_by_key(|(_, event)| event.time);
            if let Err(error) = self.fold_member(member, events, now).await {
                tracing::error!(member = %member, events = events.len(), error = %error, "member's events not stored");
                failures.extend(events.iter().map(|(id, _)| json!({"itemIdentifier": id})));
            }
        }
        tracing::info!(
            received = records.len(),
            rejected,
            members = by_member.len(),
            returned = failures.len(),
            "batch folded"
        );
        let mut metrics = Metrics::new(FUNCTION_NAME);
        metrics.count(Metric::EventsRejected, rejected);
        println!("{}", metrics.line(now));
        json!({"batchItemFailures": failures})
    }

    async fn fold_member(
        &self,
        member: &Member,
        events: &[(String, HubEvent)],
        now: SystemTime,
    ) -> Result<(), HubError> {
        let key = member_key(member);
        for _ in 0..WRITE_ATTEMPTS {
            let document = self.store.document(&key).await?;
            let mut state = read_state(member, document.as_ref())?;
            let mut changed = false;
            for (id, event) in events {
                let applied = state.apply(event, now);
                if let Some(ahead) = applied.clamped_by {
                    tracing::warn!(member = %member, message_id = %id, ahead_seconds = ahead.as_secs(), "a member's clock is ahead: its fact is taken as of now");
                }
                match applied.outcome {
                    Outcome::Changed => changed = true,
                    outcome => {
                        tracing::debug!(member = %member, message_id = %id, ?outcome, "nothing new")
                    }
                }
            }
            if !changed {
                return Ok(());
            }
            let read = document.map(|document| document.version);
            if self
                .store
                .write(&key, &body_of(member, &state)?, read)
                .await?
            {
                return Ok(());
            }
        }
        Err(HubError::Contended(member.to_string()))
    }

    /// Silent members alerted (once, reminded, their return said), then the daily report
    /// when due, then the Organization's figures in the log.
    async fn watch(&self) -> Result<Value, HubError> {
        let now = self.clock.now();
        let settings = &self.settings;
        let mut members = Vec::new();
        let mut last_report = None;
        for document in self.store.documents().await? {
            if let Some(member) = member_of(&document.key) {
                let state = read_state(&member, Some(&document))?;
                members.push((member, state, document.version));
            } else if document.key == REPORT_KEY {
                last_report = Some(document);
            }
        }
        let mut told = 0_usize;
        for (member, state, version) in &mut members {
            let Some(alert) =
                state.silence(member, now, settings.silent_after, settings.remind_after)
            else {
                continue;
            };
            // Published before it is recorded: a lost write tells again, never less.
            self.publish(alert).await?;
            told += 1;
            if !self
                .store
                .write(
                    &member_key(member),
                    &body_of(member, state)?,
                    Some(*version),
                )
                .await?
            {
                tracing::warn!(member = %member, "member's state changed meanwhile: its silence is assessed again next run");
            }
        }
        let view: Vec<(Member, &MemberState)> = members
            .iter()
            .map(|(member, state, _)| (member.clone(), state))
            .collect();
        let report = self.daily_report(&view, last_report, now).await?;
        let figures = figures(&view, now, settings.silent_after);
        println!("{}", organization_metrics(&figures).line(now));
        tracing::info!(
            members = view.len(),
            reporting = figures.reporting_members,
            silent = figures.silent_members,
            blocked_stacks = figures.blocked_stacks,
            unhealthy = figures.unhealthy_resources,
            oldest_blocker_seconds = figures.oldest_blocker_age_seconds,
            "organization"
        );
        Ok(json!({"members": view.len(), "memberAlerts": told, "report": report}))
    }

    /// `sent`: the record of the last report, from the same read as the members' states (a
    /// concurrent run that sent it meanwhile loses the versioned write below).
    async fn daily_report(
        &self,
        members: &[(Member, &MemberState)],
        sent: Option<Document>,
        now: SystemTime,
    ) -> Result<&'static str, HubError> {
        let Some(day) = self.settings.report_at.due_day(now) else {
            return Ok("not due");
        };
        if sent.as_ref().is_some_and(|document| document.body == day) {
            return Ok("already sent");
        }
        let expected = self.expected_members().await;
        let alert = org_report(members, &expected, now, self.settings.silent_after);
        self.publish(alert).await?;
        let read = sent.map(|document| document.version);
        if !self.store.write(REPORT_KEY, &day, read).await? {
            tracing::warn!(day, "another run recorded today's report too");
        }
        Ok("published")
    }

    /// Who the StackSet deploys to; on failure the report goes without them (and says so in
    /// the log), rather than not at all.
    async fn expected_members(&self) -> Vec<Member> {
        let Some(instances) = &self.instances else {
            return Vec::new();
        };
        match instances.instances().await {
            Ok(instances) => instances
                .into_iter()
                .map(|(account, region)| Member { account, region })
                .collect(),
            Err(error) => {
                log_instances_failure(&error);
                Vec::new()
            }
        }
    }

    async fn publish(&self, mut alert: Alert) -> Result<(), HubError> {
        if let Some(stack_set) = &self.settings.stack_set {
            for text in alert.commands.iter_mut().chain(&mut alert.next_steps) {
                *text = text.replace(STACK_SET_PLACEHOLDER, stack_set);
            }
        }
        let rendered = render(&alert, self.settings.alert_format, FUNCTION_NAME);
        self.notifier.publish(&rendered).await?;
        Ok(())
    }
}

/// The Organization's figures, and the heartbeat of a complete run (the hub's alarm counts it).
fn organization_metrics(figures: &OrgFigures) -> Metrics {
    let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
    let mut metrics = Metrics::new(FUNCTION_NAME);
    metrics
        .count(Metric::MembersReporting, count(figures.reporting_members))
        .count(Metric::MembersSilent, count(figures.silent_members))
        .count(Metric::BlockedStacks, count(figures.blocked_stacks))
        .count(
            Metric::UnhealthyResources,
            count(figures.unhealthy_resources),
        )
        // 0 without blockers, so that the alarm sees the Organization clear.
        .seconds(
            Metric::OldestBlockerAgeSeconds,
            Duration::from_secs(figures.oldest_blocker_age_seconds.unwrap_or(0)),
        )
        .heartbeat(true);
    metrics
}

fn log_instances_failure(error: &ApiError) {
    tracing::error!(error = %error, "the StackSet's instances could not be listed: the report names no member that never reported");
}
