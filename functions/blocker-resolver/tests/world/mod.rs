//! The resolver over in-memory ports, shared by the handler tests and the property tests.
//!
//! `gitsync::fakes` fails an operation for every stack and for ever; the wrappers here add
//! what these tests need on top: one stack failing, UpdateSyncBlocker failing a given number
//! of times, how many summaries run at once, and how often DescribeStacks is asked.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use blocker_resolver::rules::RuleSet;
use blocker_resolver::{Mode, ResolvePolicy, Resolver, ResolverConfig};
use gitsync::domain::sync::{
    BlockerStatus, RepositoryLink, SyncAttempt, SyncBlocker, SyncConfiguration,
};
use gitsync::fakes::{FakeOutbox, InMemoryGitSync, InMemoryLedger, InMemoryStacks, fake_outbox};
use gitsync::ports::{ApiError, ApiErrorKind, GitSyncApi, StackStatusLookup};

/// What the tests' rules record on a blocker they resolve (`resolved_reason`).
pub fn recorded(rule: &str, blocker_id: &str) -> String {
    format!("gitsync-guard {rule} resolved {blocker_id}")
}

/// The time every test starts at: the real time when the tests started, because the
/// fake stamps resolutions with the real time.
pub fn now() -> SystemTime {
    static START: LazyLock<SystemTime> = LazyLock::new(SystemTime::now);
    *START
}

pub fn active(id: &str, reason: &str, age: Duration) -> SyncBlocker {
    SyncBlocker {
        id: id.into(),
        status: BlockerStatus::Active,
        created_reason: reason.into(),
        contexts: vec![("StackStatus".into(), "UPDATE_ROLLBACK_COMPLETE".into())],
        created_at: Some(now() - age),
        resolved_at: None,
        resolved_reason: None,
    }
}

pub fn resolved(id: &str, resolved_reason: &str, resolved_ago: Duration) -> SyncBlocker {
    SyncBlocker {
        status: BlockerStatus::Resolved,
        resolved_at: Some(now() - resolved_ago),
        resolved_reason: Some(resolved_reason.into()),
        ..active(id, "Rate exceeded", resolved_ago + Duration::from_secs(600))
    }
}

/// The Git sync fake, with per-stack and count-based failures and a concurrency gauge.
#[derive(Default)]
pub struct TestGitSync {
    pub inner: InMemoryGitSync,
    failing_stacks: Mutex<Vec<String>>,
    retry_failures_left: AtomicUsize,
    update_attempts: AtomicUsize,
    summary_delay: Mutex<Duration>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl TestGitSync {
    pub fn fail_stack(&self, stack: &str) {
        lock(&self.failing_stacks).push(stack.to_owned());
    }

    pub fn heal_stacks(&self) {
        lock(&self.failing_stacks).clear();
    }

    /// The next `times` UpdateSyncBlocker calls answer RetryLatestCommitFailed.
    pub fn fail_updates_with_retry_latest_commit(&self, times: usize) {
        self.retry_failures_left.store(times, Ordering::SeqCst);
    }

    /// Every UpdateSyncBlocker call, failed or not.
    pub fn update_attempts(&self) -> usize {
        self.update_attempts.load(Ordering::SeqCst)
    }

    pub fn delay_summaries(&self, delay: Duration) {
        *lock(&self.summary_delay) = delay;
    }

    /// The most GetSyncBlockerSummary calls that were running at the same time.
    pub fn max_concurrent_summaries(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn add_stacks(&self, link_id: &str, stacks: &[&str]) {
        self.inner.add_link(RepositoryLink {
            id: link_id.into(),
            arn: format!(
                "arn:aws:codeconnections:eu-west-1:123456789012:repository-link/{link_id}"
            ),
            connection_arn: "arn:aws:codeconnections:eu-west-1:123456789012:connection/c".into(),
            provider: "GitHub".into(),
            owner: "acme".into(),
            repository: format!("infra-{link_id}"),
        });
        for stack in stacks {
            self.inner.add_sync_configuration(SyncConfiguration {
                stack: (*stack).into(),
                repository_link_id: link_id.into(),
                branch: "main".into(),
                config_file: Some("deployment.yaml".into()),
                owner: "acme".into(),
                repository: format!("infra-{link_id}"),
                provider: "GitHub".into(),
            });
            if self.inner.blockers(stack).is_empty() {
                self.inner.set_blockers(stack, vec![]);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GitSyncApi for TestGitSync {
    /// Reads the state when called and answers after the delay, like a slow service.
    async fn sync_blockers(&self, stack: &str) -> Result<Vec<SyncBlocker>, ApiError> {
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(running, Ordering::SeqCst);
        let answer = if lock(&self.failing_stacks).iter().any(|s| s == stack) {
            Err(ApiError {
                operation: "GetSyncBlockerSummary",
                kind: ApiErrorKind::Other,
                message: format!("InternalServerException: injected for {stack}"),
            })
        } else {
            self.inner.sync_blockers(stack).await
        };
        let delay = *lock(&self.summary_delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        answer
    }

    async fn latest_stack_sync(&self, stack: &str) -> Result<Option<SyncAttempt>, ApiError> {
        self.inner.latest_stack_sync(stack).await
    }

    async fn latest_repository_sync(
        &self,
        link: &str,
        branch: &str,
    ) -> Result<Option<SyncAttempt>, ApiError> {
        self.inner.latest_repository_sync(link, branch).await
    }

    async fn resolve_blocker(&self, stack: &str, id: &str, reason: &str) -> Result<(), ApiError> {
        self.update_attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .retry_failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(ApiError {
                operation: "UpdateSyncBlocker",
                kind: ApiErrorKind::RetryLatestCommitFailed,
                message: "RetryLatestCommitFailedException: injected".into(),
            });
        }
        self.inner.resolve_blocker(stack, id, reason).await
    }

    async fn repository_links(&self) -> Result<Vec<RepositoryLink>, ApiError> {
        self.inner.repository_links().await
    }

    async fn sync_configurations(&self, link: &str) -> Result<Vec<SyncConfiguration>, ApiError> {
        self.inner.sync_configurations(link).await
    }
}

/// Stack statuses that count how often DescribeStacks is asked.
#[derive(Default)]
pub struct CountingStacks {
    pub inner: InMemoryStacks,
    calls: AtomicUsize,
}

impl CountingStacks {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl StackStatusLookup for CountingStacks {
    async fn stack_status(&self, stack: &str) -> Result<Option<String>, ApiError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.stack_status(stack).await
    }
}

pub type TestResolver = Resolver<TestGitSync, CountingStacks, InMemoryLedger, FakeOutbox>;

pub fn resolver(rules: &str, mode: Mode) -> TestResolver {
    let store = InMemoryLedger::default();
    Resolver {
        api: TestGitSync::default(),
        stacks: CountingStacks::default(),
        outbox: fake_outbox(blocker_resolver::FUNCTION_NAME, now(), &store),
        store,
        config: ResolverConfig {
            rules: RuleSet::parse(rules).expect("the test's rules are valid"),
            mode,
            sweep_concurrency: 4,
        },
        region: "eu-west-1".into(),
        resolve: ResolvePolicy {
            attempts: 3,
            first_backoff: Duration::from_millis(1),
            lease: Duration::from_secs(60),
        },
    }
}
