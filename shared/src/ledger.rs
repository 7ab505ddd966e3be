//! The ledger: one DynamoDB table that remembers what gitsync-guard already said and did, so
//! that duplicate and concurrent deliveries act once. This module is the only place that
//! spells its keys.
//!
//! # Table schema
//!
//! Partition key `pk` (S), sort key `sk` (S), TTL attribute `expires_at` (N, epoch seconds).
//!
//! | item | `pk` | `sk` | written by |
//! |---|---|---|---|
//! | a blocker alert | `stack#STACK` | `blocker#BLOCKER_ID` | sync-watcher |
//! | a recovery notice | `stack#STACK` | `recovery#FIRST_BLOCKER_ID` | sync-watcher |
//! | a reminder | `stack#STACK` | `reminder#BLOCKER_ID#N` (the Nth interval since the alert) | sync-watcher |
//! | the daily health report | `report#health` | `YYYY-MM-DD` (UTC) | sync-watcher |
//! | a failed repository sync | `repository#LINK_ID#BRANCH` | `attempt#EPOCH_SECONDS` or `commit#COMMIT` | sync-watcher |
//! | a resolver decision | `resolver#STACK` | `MODE#resolution#BLOCKER_ID`, `MODE#held#GUARD#BLOCKER_ID`, `MODE#failed#BLOCKER_ID` | blocker-resolver |
//! | an audit digest | `audit#digest` | `digest#COUNT#HASH` | connection-auditor |
//! | a status record | `audit#status` | the connection or host ARN | connection-auditor |
//! | a heartbeat | `heartbeat` | the job (`watch`, `sweep`, `audit`) | the job's function, after each complete run |
//!
//! Alert items ([`LedgerKey`]) carry `state` (`pending`, `sent` or `closed`), `claimed_at`,
//! and while pending `token` and `lease_until`: a claim is a conditional put, so that one
//! invocation publishes and the others find it. `MODE` is `dry-run` or `enforce`: the two
//! modes keep separate items, so switching to enforce resolves what dry-run only reported.
//!
//! Status records ([`StatusRecord`]) carry `kind` (`connection` or `host`), `name`, `status`,
//! `since` and `last_alerted_at`: what the auditor saw last run.
//!
//! Heartbeats ([`crate::domain::selfwatch::Heartbeat`]) carry `completed_at` (the latest
//! complete run) and `first_completed_at` (the first one, kept by every later write): the daily
//! report reads them to say when each job last completed and which one is overdue.

use std::fmt;
use std::time::{Duration, SystemTime};

use thiserror::Error;

use crate::domain::connections::ResourceKind;
pub use crate::domain::resolution::ResolverItem;
use crate::domain::resolution::{Mode, ResolverItem as Item};
use crate::domain::selfwatch::Job;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("the alert ledger failed: {0}")]
pub struct LedgerError(pub String);

/// How long an alert item is kept (its TTL): what makes a delivery a duplicate, and what a
/// reminder counts its interval from.
pub const ALERT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// The partition of the auditor's status records.
pub const STATUS_SCOPE: &str = "audit#status";
/// Status records outlive any reminder interval; a resource gone for this long is forgotten.
pub const STATUS_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);
const BLOCKER_ALERT: &str = "blocker#";
/// The partition of the scheduled jobs' heartbeats.
pub const HEARTBEAT_SCOPE: &str = "heartbeat";
/// A heartbeat outlives any schedule by far; a job gone this long is forgotten.
pub const HEARTBEAT_RETENTION: Duration = STATUS_RETENTION;

/// One alert item: `scope` (`pk`) groups the items of one stack or resource, `item` (`sk`)
/// names one alert within it. Built only by the constructors below.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LedgerKey {
    scope: String,
    item: String,
}

/// Which failed repository sync an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepositoryFailure<'a> {
    /// The failed attempt, by its start time in epoch seconds.
    Attempt { started: u64 },
    /// No attempt recorded: the commit the event names.
    Commit(&'a str),
}

impl LedgerKey {
    pub(crate) fn new(scope: impl Into<String>, item: impl Into<String>) -> Self {
        Self {
            scope: scope.into(),
            item: item.into(),
        }
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    pub fn item(&self) -> &str {
        &self.item
    }

    /// sync-watcher's alert about one blocker of a stack.
    pub fn blocker_alert(stack: &str, blocker_id: &str) -> Self {
        Self::new(stack_scope(stack), format!("{BLOCKER_ALERT}{blocker_id}"))
    }

    /// The recovery notice of a stack's incident, named by its first blocker.
    pub fn recovery(stack: &str, first_blocker_id: &str) -> Self {
        Self::new(stack_scope(stack), format!("recovery#{first_blocker_id}"))
    }

    /// The `interval`th reminder about a blocker still ACTIVE (1 for the first).
    pub fn reminder(stack: &str, blocker_id: &str, interval: u64) -> Self {
        Self::new(
            stack_scope(stack),
            format!("reminder#{blocker_id}#{interval}"),
        )
    }

    /// The health report of one UTC day (`YYYY-MM-DD`).
    pub fn health_report(day: &str) -> Self {
        Self::new("report#health", day)
    }

    /// The alert about a failed sync of a repository link's branch.
    pub fn repository_failure(link_id: &str, branch: &str, failure: RepositoryFailure<'_>) -> Self {
        let item = match failure {
            RepositoryFailure::Attempt { started } => format!("attempt#{started}"),
            RepositoryFailure::Commit(commit) => format!("commit#{commit}"),
        };
        Self::new(format!("repository#{link_id}#{branch}"), item)
    }

    /// blocker-resolver's record of one decision on one blocker, in one mode.
    pub fn resolver(stack: &str, mode: Mode, what: Item<'_>, blocker_id: &str) -> Self {
        let item = match what {
            Item::Resolution => format!("{}{blocker_id}", resolutions_prefix(mode)),
            Item::Held { guard } => format!("{mode}#{HELD}#{guard}#{blocker_id}"),
            Item::Failed => format!("{mode}#{FAILED}#{blocker_id}"),
        };
        Self::new(resolver_scope(stack), item)
    }

    /// connection-auditor's digest of `changes` changes whose fingerprints hash to `hash`.
    pub fn audit_digest(changes: usize, hash: u128) -> Self {
        Self::new("audit#digest", format!("digest#{changes}#{hash:032x}"))
    }

    /// The status record of a connection or host.
    pub fn status(arn: &str) -> Self {
        Self::new(STATUS_SCOPE, arn)
    }

    /// The heartbeat of a scheduled job.
    pub fn heartbeat(job: Job) -> Self {
        Self::new(HEARTBEAT_SCOPE, job.as_str())
    }
}

impl fmt::Display for LedgerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scope, self.item)
    }
}

fn stack_scope(stack: &str) -> String {
    format!("stack#{stack}")
}

fn resolver_scope(stack: &str) -> String {
    format!("resolver#{stack}")
}

const RESOLUTION: &str = "resolution";
const HELD: &str = "held";
const FAILED: &str = "failed";

/// The items of one mode's resolutions start with this.
fn resolutions_prefix(mode: Mode) -> String {
    format!("{mode}#{RESOLUTION}#")
}

/// A set of alert items: those of one scope whose item starts with a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerQuery {
    scope: String,
    prefix: String,
}

impl LedgerQuery {
    pub fn scope(&self) -> &str {
        &self.scope
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// sync-watcher's blocker alerts of a stack.
    pub fn blocker_alerts(stack: &str) -> Self {
        Self {
            scope: stack_scope(stack),
            prefix: BLOCKER_ALERT.to_owned(),
        }
    }

    /// blocker-resolver's items of a stack in one mode.
    pub fn resolver_items(stack: &str, mode: Mode) -> Self {
        Self {
            scope: resolver_scope(stack),
            prefix: format!("{mode}#"),
        }
    }

    /// Every decision blocker-resolver recorded about a stack, in both modes.
    pub fn resolver_decisions(stack: &str) -> Self {
        Self {
            scope: resolver_scope(stack),
            prefix: String::new(),
        }
    }

    /// blocker-resolver's enforced resolutions of a stack: what its loop guard counts.
    pub fn enforced_resolutions(stack: &str) -> Self {
        Self {
            scope: resolver_scope(stack),
            prefix: resolutions_prefix(Mode::Enforce),
        }
    }

    /// Whether `key` is one of this set's items.
    pub fn contains(&self, key: &LedgerKey) -> bool {
        key.scope == self.scope && key.item.starts_with(&self.prefix)
    }

    /// The blocker Id an item of this set is about (the item after the prefix).
    pub fn blocker_id<'a>(&self, entry: &'a LedgerEntry) -> Option<&'a str> {
        entry.key.item.strip_prefix(&self.prefix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryState {
    /// Claimed, being published.
    Pending,
    /// Published.
    Sent,
    /// Published, and no longer current (e.g. the stack recovered).
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub key: LedgerKey,
    pub state: EntryState,
    /// When the entry was claimed.
    pub claimed_at: SystemTime,
}

impl LedgerEntry {
    pub fn is_open(&self) -> bool {
        self.state != EntryState::Closed
    }

    /// What a blocker-resolver item records: its mode, what it is, and the blocker.
    /// `None` for an item of another kind, or of an unknown mode.
    pub fn resolver_decision(&self) -> Option<(Mode, Item<'_>, &str)> {
        let (mode, rest) = self.key.item.split_once('#')?;
        let mode = mode.parse().ok()?;
        let (what, blocker_id) = match rest.split_once('#')? {
            (RESOLUTION, id) => (Item::Resolution, id),
            (FAILED, id) => (Item::Failed, id),
            (HELD, guarded) => {
                let (guard, id) = guarded.split_once('#')?;
                (Item::Held { guard }, id)
            }
            _ => return None,
        };
        Some((mode, what, blocker_id))
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

/// What the auditor last saw of one connection or host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    /// The connection or host ARN, as listed.
    pub arn: String,
    pub kind: ResourceKind,
    /// Its name, as listed; `None` in records written before names were kept.
    pub name: Option<String>,
    pub status: String,
    /// When the resource was first seen in `status`.
    pub since: SystemTime,
    /// When an alert or reminder about `status` was last published.
    pub last_alerted_at: Option<SystemTime>,
}

impl StatusRecord {
    /// Whether the recorded status is healthy (a recovered resource keeps such a record).
    pub fn is_healthy(&self) -> bool {
        crate::domain::connections::is_healthy_status(&self.status)
    }

    /// How messages name it: its name, or without one the id in its ARN (or the ARN).
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or_else(|| {
            crate::domain::connections::arn_resource(&self.arn).map_or(&self.arn, |(_, id)| id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spell_the_documented_schema() {
        let cases = [
            (
                LedgerKey::blocker_alert("web", "b-1"),
                "stack#web/blocker#b-1",
            ),
            (LedgerKey::recovery("web", "b-1"), "stack#web/recovery#b-1"),
            (
                LedgerKey::reminder("web", "b-1", 2),
                "stack#web/reminder#b-1#2",
            ),
            (
                LedgerKey::health_report("2027-01-15"),
                "report#health/2027-01-15",
            ),
            (
                LedgerKey::repository_failure(
                    "l-1",
                    "main",
                    RepositoryFailure::Attempt { started: 7 },
                ),
                "repository#l-1#main/attempt#7",
            ),
            (
                LedgerKey::repository_failure("l-1", "main", RepositoryFailure::Commit("abc")),
                "repository#l-1#main/commit#abc",
            ),
            (
                LedgerKey::resolver("web", Mode::Enforce, ResolverItem::Resolution, "b-1"),
                "resolver#web/enforce#resolution#b-1",
            ),
            (
                LedgerKey::resolver(
                    "web",
                    Mode::DryRun,
                    ResolverItem::Held {
                        guard: "loop-guard",
                    },
                    "b-1",
                ),
                "resolver#web/dry-run#held#loop-guard#b-1",
            ),
            (
                LedgerKey::resolver("web", Mode::Enforce, ResolverItem::Failed, "b-1"),
                "resolver#web/enforce#failed#b-1",
            ),
            (
                LedgerKey::audit_digest(2, 255),
                "audit#digest/digest#2#000000000000000000000000000000ff",
            ),
            (LedgerKey::status("arn:x"), "audit#status/arn:x"),
            (LedgerKey::heartbeat(Job::Sweep), "heartbeat/sweep"),
        ];
        for (key, expected) in cases {
            assert_eq!(key.to_string(), expected);
        }
    }

    #[test]
    fn resolver_items_read_back_as_decisions() {
        for what in [
            ResolverItem::Resolution,
            ResolverItem::Failed,
            ResolverItem::Held {
                guard: "loop-guard",
            },
        ] {
            let entry = LedgerEntry {
                key: LedgerKey::resolver("web", Mode::DryRun, what, "b-1"),
                state: EntryState::Sent,
                claimed_at: SystemTime::UNIX_EPOCH,
            };
            assert_eq!(entry.resolver_decision(), Some((Mode::DryRun, what, "b-1")));
        }
    }

    #[test]
    fn queries_select_their_items_and_name_the_blocker() {
        let alerts = LedgerQuery::blocker_alerts("web");
        assert!(alerts.contains(&LedgerKey::blocker_alert("web", "b-1")));
        assert!(!alerts.contains(&LedgerKey::recovery("web", "b-1")));
        assert!(!alerts.contains(&LedgerKey::blocker_alert("web2", "b-1")));
        let enforced = LedgerQuery::enforced_resolutions("web");
        let key = LedgerKey::resolver("web", Mode::Enforce, ResolverItem::Resolution, "b-9");
        assert!(enforced.contains(&key));
        assert!(LedgerQuery::resolver_items("web", Mode::Enforce).contains(&key));
        assert!(!LedgerQuery::resolver_items("web", Mode::DryRun).contains(&key));
        let entry = LedgerEntry {
            key,
            state: EntryState::Sent,
            claimed_at: SystemTime::UNIX_EPOCH,
        };
        assert_eq!(enforced.blocker_id(&entry), Some("b-9"));
    }
}
