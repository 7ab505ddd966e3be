//! The ports: what the domain needs from the outside world. The AWS SDK implementations are
//! in [`crate::adapters`]; in-memory ones for tests in `crate::fakes`.

use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use thiserror::Error;

use crate::domain::alert::RenderedAlert;
use crate::domain::bus::RenderedEvent;
use crate::domain::connections::{Connection, Host};
use crate::domain::selfwatch::{Heartbeat, Job};
use crate::domain::sync::{RepositoryLink, SyncAttempt, SyncBlocker, SyncConfiguration};
use crate::ledger::{Claim, LedgerEntry, LedgerError, LedgerKey, LedgerQuery, StatusRecord};

/// Why an API call failed, in the terms a handler decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// Still throttled after the SDK's retries.
    Throttled,
    NotFound,
    AccessDenied,
    InvalidInput,
    /// UpdateSyncBlocker: the blocker no longer exists (already resolved and gone).
    BlockerGone,
    /// UpdateSyncBlocker: Git sync could not retry the latest commit; transient.
    RetryLatestCommitFailed,
    /// Anything else: service errors, timeouts, connection failures.
    Other,
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Throttled => "throttled",
            Self::NotFound => "not found",
            Self::AccessDenied => "access denied (check the function's IAM role)",
            Self::InvalidInput => "invalid input",
            Self::BlockerGone => "sync blocker does not exist",
            Self::RetryLatestCommitFailed => "Git sync could not retry the latest commit",
            Self::Other => "failed",
        })
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{operation} {kind}: {message}")]
pub struct ApiError {
    pub operation: &'static str,
    pub kind: ApiErrorKind,
    pub message: String,
}

/// The Git sync side of the CodeStar Connections API.
pub trait GitSyncApi: Send + Sync {
    /// The latest blockers of a stack, ACTIVE and RESOLVED (GetSyncBlockerSummary).
    fn sync_blockers(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Vec<SyncBlocker>, ApiError>> + Send;

    /// The latest sync attempt of a stack (GetResourceSyncStatus), if any.
    fn latest_stack_sync(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Option<SyncAttempt>, ApiError>> + Send;

    /// The latest sync attempt of a repository link's branch (GetRepositorySyncStatus), if any.
    fn latest_repository_sync(
        &self,
        repository_link_id: &str,
        branch: &str,
    ) -> impl Future<Output = Result<Option<SyncAttempt>, ApiError>> + Send;

    /// Resolves one blocker (UpdateSyncBlocker); Git sync then retries the latest commit.
    fn resolve_blocker(
        &self,
        stack: &str,
        blocker_id: &str,
        resolved_reason: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// Every repository link of the account (ListRepositoryLinks, all pages).
    fn repository_links(
        &self,
    ) -> impl Future<Output = Result<Vec<RepositoryLink>, ApiError>> + Send;

    /// Every CloudFormation sync configuration of one link (ListSyncConfigurations, all pages).
    fn sync_configurations(
        &self,
        repository_link_id: &str,
    ) -> impl Future<Output = Result<Vec<SyncConfiguration>, ApiError>> + Send;
}

/// The connection side of the CodeStar Connections API.
pub trait ConnectionsApi: Send + Sync {
    /// Every connection (ListConnections, all pages), optionally of one provider type.
    fn connections(
        &self,
        provider: Option<&str>,
    ) -> impl Future<Output = Result<Vec<Connection>, ApiError>> + Send;

    /// Every host (ListHosts, all pages).
    fn hosts(&self) -> impl Future<Output = Result<Vec<Host>, ApiError>> + Send;

    /// The tags of a connection, host or repository link (ListTagsForResource).
    fn tags(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send;
}

/// The current status of a CloudFormation stack (DescribeStacks).
pub trait StackStatusLookup: Send + Sync {
    /// `None` when the stack does not exist.
    fn stack_status(
        &self,
        stack: &str,
    ) -> impl Future<Output = Result<Option<String>, ApiError>> + Send;
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("publishing the alert failed: {0}")]
pub struct NotifyError(pub String);

/// Where alerts go: their events to the EventBridge bus, then their message to the SNS topic.
pub trait Notifier: Send + Sync {
    /// Puts the alert's events, then publishes its message: a failure of either is an error,
    /// so that the retry does both (consumers deduplicate events on their key).
    fn publish(
        &self,
        alert: &RenderedAlert,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;

    /// Puts events that come with no message (the health snapshot). Every entry EventBridge
    /// did not take is an error.
    fn put_events(
        &self,
        events: &[RenderedEvent],
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// The dedupe ledger (a DynamoDB table): conditional claims with a lease and a TTL.
pub trait AlertLedger: Send + Sync {
    /// Claims `key` unless it exists, or is a pending claim whose lease ended before `now`.
    fn claim(
        &self,
        key: &LedgerKey,
        now: SystemTime,
        lease_until: SystemTime,
        expires_at: SystemTime,
    ) -> impl Future<Output = Result<Claim, LedgerError>> + Send;

    /// Marks a claimed entry as published.
    fn confirm(
        &self,
        key: &LedgerKey,
        token: &str,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Drops a claim whose alert could not be published, so that a retry can claim it.
    fn release(
        &self,
        key: &LedgerKey,
        token: &str,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Every entry of `query`.
    fn entries(
        &self,
        query: &LedgerQuery,
    ) -> impl Future<Output = Result<Vec<LedgerEntry>, LedgerError>> + Send;

    /// Closes an entry: it stays (a duplicate event will not alert again) but is no longer open.
    fn close(&self, key: &LedgerKey) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// The auditor's memory between runs, kept in the ledger table.
pub trait StatusStore: Send + Sync {
    /// Every record saved so far.
    fn statuses(&self) -> impl Future<Output = Result<Vec<StatusRecord>, LedgerError>> + Send;

    /// Saves (replaces) the record of `record.arn`.
    fn save_status(
        &self,
        record: &StatusRecord,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Forgets a resource (deleted, or healthy again).
    fn forget_status(&self, arn: &str) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// The scheduled jobs' heartbeats, kept in the ledger table.
pub trait HeartbeatStore: Send + Sync {
    /// Records a complete run of `job` at `at` (keeping the first one on record).
    fn record_heartbeat(
        &self,
        job: Job,
        at: SystemTime,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;

    /// Every job's heartbeat on record.
    fn heartbeats(&self) -> impl Future<Output = Result<Vec<Heartbeat>, LedgerError>> + Send;
}

/// One JSON document per key, each write naming the version it read, so that two writers
/// never overwrite each other (the Organization hub's per-member state).
pub trait DocumentStore: Send + Sync {
    /// Every document.
    fn documents(&self) -> impl Future<Output = Result<Vec<Document>, LedgerError>> + Send;

    /// One document, as last written.
    fn document(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Document>, LedgerError>> + Send;

    /// Writes `body` under `key` as the version after `read` (`None`: the key is new).
    /// `Ok(false)`: someone else wrote it since; read again.
    fn write(
        &self,
        key: &str,
        body: &str,
        read: Option<u64>,
    ) -> impl Future<Output = Result<bool, LedgerError>> + Send;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub key: String,
    pub body: String,
    pub version: u64,
}

/// Where a StackSet deploys: the accounts and regions that should report to the hub.
pub trait StackSetInstances: Send + Sync {
    /// Every (account, region) of the StackSet's stack instances.
    fn instances(&self) -> impl Future<Output = Result<Vec<(String, String)>, ApiError>> + Send;
}

/// The time, injectable so that tests can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
