//! The ports: what the domain needs from the outside world. The AWS SDK implementations are
//! in [`crate::adapters`]; in-memory ones for tests in `crate::fakes`.

use std::fmt;
use std::future::Future;
use std::time::SystemTime;

use thiserror::Error;

use crate::domain::alert::RenderedAlert;
use crate::domain::sync::{SyncAttempt, SyncBlocker};

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
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("publishing the alert failed: {0}")]
pub struct NotifyError(pub String);

/// Where alerts go (the SNS topic).
pub trait Notifier: Send + Sync {
    fn publish(
        &self,
        alert: &RenderedAlert,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("the alert ledger failed: {0}")]
pub struct LedgerError(pub String);

/// One ledger entry: `scope` groups the entries of one stack or resource, `item` names one
/// alert within it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LedgerKey {
    pub scope: String,
    pub item: String,
}

impl LedgerKey {
    pub fn new(scope: impl Into<String>, item: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
            item: item.into(),
        }
    }
}

impl fmt::Display for LedgerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scope, self.item)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This invocation owns the entry until `lease_until` and must publish, then confirm.
    Acquired { token: String },
    /// Another invocation holds an unexpired claim.
    InFlight { lease_until: SystemTime },
    /// Already published (or closed).
    Done,
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

    /// The items under `scope` starting with `prefix` that are not closed.
    fn open_items(
        &self,
        scope: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, LedgerError>> + Send;

    /// Closes an entry: it stays (a duplicate event will not alert again) but is no longer open.
    fn close(&self, key: &LedgerKey) -> impl Future<Output = Result<(), LedgerError>> + Send;
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
