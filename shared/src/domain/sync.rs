//! Git sync values as the domain sees them, translated from the API by the adapters.

use std::fmt;
use std::time::SystemTime;

/// The only sync type Git sync offers today; the API requires it on every sync call.
pub const CFN_STACK_SYNC: &str = "CFN_STACK_SYNC";

/// The stack statuses Git sync deploys to; in any other, resolving a blocker cannot help.
pub const DEPLOYABLE_STACK_STATUSES: [&str; 5] = [
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
];

/// A sync status as reported by events and the API. Unknown values are kept, not rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    Initiated,
    InProgress,
    Succeeded,
    Failed,
    Queued,
    Other(String),
}

impl SyncStatus {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "INITIATED" => Self::Initiated,
            "IN_PROGRESS" => Self::InProgress,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "QUEUED" => Self::Queued,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Initiated => "INITIATED",
            Self::InProgress => "IN_PROGRESS",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Queued => "QUEUED",
            Self::Other(raw) => raw,
        }
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockerStatus {
    Active,
    Resolved,
    Other(String),
}

impl BlockerStatus {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "ACTIVE" => Self::Active,
            "RESOLVED" => Self::Resolved,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One sync blocker, as GetSyncBlockerSummary reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncBlocker {
    pub id: String,
    pub status: BlockerStatus,
    pub created_reason: String,
    pub contexts: Vec<(String, String)>,
    pub created_at: Option<SystemTime>,
    pub resolved_at: Option<SystemTime>,
    pub resolved_reason: Option<String>,
}

impl SyncBlocker {
    pub fn is_active(&self) -> bool {
        self.status == BlockerStatus::Active
    }
}

/// One event inside a sync attempt (a CloudFormation or Git sync step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncAttemptEvent {
    pub time: Option<SystemTime>,
    pub kind: String,
    pub message: String,
    pub external_id: Option<String>,
}

/// The latest sync attempt of a stack or of a repository branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncAttempt {
    pub status: SyncStatus,
    pub started_at: Option<SystemTime>,
    pub events: Vec<SyncAttemptEvent>,
}

/// A repository link: a repository reached through a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryLink {
    pub id: String,
    pub arn: String,
    pub connection_arn: String,
    pub provider: String,
    pub owner: String,
    pub repository: String,
}

/// A sync configuration: one stack deployed from one branch of a repository link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncConfiguration {
    pub stack: String,
    pub repository_link_id: String,
    pub branch: String,
    pub config_file: Option<String>,
    pub owner: String,
    pub repository: String,
    pub provider: String,
}
