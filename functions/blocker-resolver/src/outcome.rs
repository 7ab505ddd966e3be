//! What an invocation reports: a verdict per blocker, counts, failures.

use gitsync::ledger::LedgerError;
use gitsync::metrics::ApiFailures;
use gitsync::outbox::DedupeError;
use gitsync::ports::{ApiError, NotifyError};
use serde::Serialize;
use thiserror::Error;
use tracing::info;

use crate::Mode;

/// Most decisions listed in an invocation's result (every one is logged).
pub const MAX_LISTED_DECISIONS: usize = 100;

/// What happened to one ACTIVE blocker (or to the message of an earlier resolution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Unmatched,
    Ignored,
    TooYoung,
    /// Resolved and reported by an earlier invocation.
    AlreadyHandled,
    /// Another invocation is resolving it right now.
    InFlight,
    HeldBack,
    Resolved,
    WouldResolve,
    /// Gone before UpdateSyncBlocker reached it: someone else resolved it.
    Gone,
    Failed,
    /// Resolved by an earlier invocation that could not publish its message; published now.
    ReportedLate,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unmatched => "unmatched",
            Self::Ignored => "ignored",
            Self::TooYoung => "too-young",
            Self::AlreadyHandled => "already-handled",
            Self::InFlight => "in-flight",
            Self::HeldBack => "held-back",
            Self::Resolved => "resolved",
            Self::WouldResolve => "would-resolve",
            Self::Gone => "gone",
            Self::Failed => "failed",
            Self::ReportedLate => "reported-late",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionRecord {
    pub stack: String,
    pub blocker_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub outcome: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How many blockers ended in each verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub unmatched: usize,
    pub ignored: usize,
    pub too_young: usize,
    pub already_handled: usize,
    pub in_flight: usize,
    pub held_back: usize,
    pub resolved: usize,
    pub would_resolve: usize,
    pub gone: usize,
    pub failed: usize,
    pub reported_late: usize,
}

impl Tally {
    fn count(&mut self, verdict: Verdict) {
        let counter = match verdict {
            Verdict::Unmatched => &mut self.unmatched,
            Verdict::Ignored => &mut self.ignored,
            Verdict::TooYoung => &mut self.too_young,
            Verdict::AlreadyHandled => &mut self.already_handled,
            Verdict::InFlight => &mut self.in_flight,
            Verdict::HeldBack => &mut self.held_back,
            Verdict::Resolved => &mut self.resolved,
            Verdict::WouldResolve => &mut self.would_resolve,
            Verdict::Gone => &mut self.gone,
            Verdict::Failed => &mut self.failed,
            Verdict::ReportedLate => &mut self.reported_late,
        };
        *counter += 1;
    }
}

/// What an invocation did, returned to the caller and logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// `evaluated-stack`, `swept` or `ignored`.
    pub action: &'static str,
    pub mode: Mode,
    pub stacks: usize,
    pub active_blockers: usize,
    #[serde(flatten)]
    pub tally: Tally,
    /// Messages about single blockers published by this invocation.
    pub published: usize,
    /// Whether the sweep's summary was published.
    pub summary_published: bool,
    pub failed_stacks: usize,
    /// API calls that failed after the SDK's retries, throttled ones apart.
    #[serde(flatten)]
    pub api_failures: ApiFailures,
    pub decisions: Vec<DecisionRecord>,
    pub decisions_omitted: usize,
    pub note: String,
}

impl Outcome {
    pub(crate) fn new(action: &'static str, mode: Mode) -> Self {
        Self {
            action,
            mode,
            stacks: 0,
            active_blockers: 0,
            tally: Tally::default(),
            published: 0,
            summary_published: false,
            failed_stacks: 0,
            api_failures: ApiFailures::default(),
            decisions: Vec::new(),
            decisions_omitted: 0,
            note: String::new(),
        }
    }

    pub(crate) fn ignored(mode: Mode, note: String) -> Self {
        Self {
            note,
            ..Self::new("ignored", mode)
        }
    }

    /// Adds one stack's report and hands back its failures.
    pub(crate) fn absorb(&mut self, report: StackReport) -> Vec<StackFailure> {
        self.stacks += 1;
        self.active_blockers += report.active_blockers;
        self.published += report.published;
        for decision in report.decisions {
            self.tally.count(decision.outcome);
            if self.decisions.len() < MAX_LISTED_DECISIONS {
                self.decisions.push(decision);
            } else {
                self.decisions_omitted += 1;
            }
        }
        if !report.failures.is_empty() {
            self.failed_stacks += 1;
        }
        for failure in &report.failures {
            if let StackFailure::Api { error, .. } | StackFailure::Resolve { error, .. } = failure {
                self.api_failures.count(error);
            }
        }
        report.failures
    }
}

/// Something that went wrong on one stack; the invocation reports it as an error.
#[derive(Debug, Error)]
pub enum StackFailure {
    #[error("stack {stack}: {error}")]
    Api { stack: String, error: ApiError },
    #[error("stack {stack}, blocker {blocker_id}: {error} (after {attempts} attempt(s))")]
    Resolve {
        stack: String,
        blocker_id: String,
        error: ApiError,
        attempts: u32,
    },
    #[error(
        "stack {stack}, blocker {blocker_id}: resolved, but its message was not published ({error}); a retry publishes it"
    )]
    Report {
        stack: String,
        blocker_id: String,
        error: NotifyError,
    },
    #[error("stack {stack}: {error}")]
    Ledger { stack: String, error: LedgerError },
    #[error("stack {stack}: {error}")]
    Publish { stack: String, error: DedupeError },
}

/// One stack's decisions and failures.
pub(crate) struct StackReport {
    pub(crate) stack: String,
    pub(crate) active_blockers: usize,
    pub(crate) decisions: Vec<DecisionRecord>,
    pub(crate) published: usize,
    pub(crate) failures: Vec<StackFailure>,
}

impl StackReport {
    pub(crate) fn new(stack: &str) -> Self {
        Self {
            stack: stack.to_owned(),
            active_blockers: 0,
            decisions: Vec::new(),
            published: 0,
            failures: Vec::new(),
        }
    }

    /// Records and logs one decision: the structured line every decision gets.
    pub(crate) fn decide(
        &mut self,
        mode: Mode,
        blocker_id: &str,
        rule: Option<&str>,
        outcome: Verdict,
        detail: Option<String>,
    ) {
        info!(
            stack = %self.stack,
            blocker_id,
            rule,
            outcome = outcome.as_str(),
            detail = detail.as_deref(),
            mode = mode.as_str(),
            "decision"
        );
        self.decisions.push(DecisionRecord {
            stack: self.stack.clone(),
            blocker_id: blocker_id.to_owned(),
            rule: rule.map(str::to_owned),
            outcome,
            detail,
        });
    }
}
