//! In-memory implementations of the ports, for unit and handler tests (feature `fakes`).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::domain::alert::{Account, AlertFormat, Origin, RenderedAlert};
use crate::domain::bus::RenderedEvent;
use crate::domain::connections::{Connection, Host};
use crate::domain::selfwatch::{Heartbeat, Job};
use crate::domain::sync::{
    BlockerStatus, RepositoryLink, SyncAttempt, SyncBlocker, SyncConfiguration,
};
use crate::ledger::{
    Claim, EntryState, LedgerEntry, LedgerError, LedgerKey, LedgerQuery, StatusRecord,
};
use crate::outbox::{DedupePolicy, Outbox};
use crate::ports::{
    AlertLedger, ApiError, ApiErrorKind, Clock, ConnectionsApi, Document, DocumentStore,
    GitSyncApi, HeartbeatStore, Notifier, NotifyError, StackSetInstances, StackStatusLookup,
    StatusStore,
};

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Git sync state held in maps; unknown stacks answer ResourceNotFound like the service.
#[derive(Default)]
pub struct InMemoryGitSync {
    blockers: Mutex<HashMap<String, Vec<SyncBlocker>>>,
    stack_syncs: Mutex<HashMap<String, SyncAttempt>>,
    repository_syncs: Mutex<HashMap<(String, String), SyncAttempt>>,
    links: Mutex<Vec<RepositoryLink>>,
    configurations: Mutex<Vec<SyncConfiguration>>,
    resolutions: Mutex<Vec<Resolution>>,
    failures: Mutex<HashMap<&'static str, ApiError>>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

/// One UpdateSyncBlocker call the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub stack: String,
    pub blocker_id: String,
    pub resolved_reason: String,
}

impl InMemoryGitSync {
    pub fn add_link(&self, link: RepositoryLink) {
        lock(&self.links).push(link);
    }

    pub fn add_sync_configuration(&self, configuration: SyncConfiguration) {
        lock(&self.configurations).push(configuration);
    }

    /// Every UpdateSyncBlocker call, in order.
    pub fn resolutions(&self) -> Vec<Resolution> {
        lock(&self.resolutions).clone()
    }

    pub fn blockers(&self, stack: &str) -> Vec<SyncBlocker> {
        lock(&self.blockers).get(stack).cloned().unwrap_or_default()
    }

    /// Stops failing `operation`.
    pub fn heal(&self, operation: &str) {
        lock(&self.failures).remove(operation);
    }

    pub fn set_blockers(&self, stack: &str, blockers: Vec<SyncBlocker>) {
        lock(&self.blockers).insert(stack.to_owned(), blockers);
    }

    pub fn set_stack_sync(&self, stack: &str, attempt: SyncAttempt) {
        lock(&self.stack_syncs).insert(stack.to_owned(), attempt);
    }

    pub fn set_repository_sync(&self, link_id: &str, branch: &str, attempt: SyncAttempt) {
        lock(&self.repository_syncs).insert((link_id.to_owned(), branch.to_owned()), attempt);
    }

    /// Makes every call of `operation` fail with `kind` until cleared.
    pub fn fail(&self, operation: &'static str, kind: ApiErrorKind) {
        lock(&self.failures).insert(
            operation,
            ApiError {
                operation,
                kind,
                message: "injected by the test".into(),
            },
        );
    }

    pub fn calls(&self, operation: &str) -> usize {
        lock(&self.calls).get(operation).copied().unwrap_or(0)
    }

    fn enter(&self, operation: &'static str) -> Result<(), ApiError> {
        *lock(&self.calls).entry(operation).or_default() += 1;
        match lock(&self.failures).get(operation) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

impl GitSyncApi for InMemoryGitSync {
    async fn sync_blockers(&self, stack: &str) -> Result<Vec<SyncBlocker>, ApiError> {
        self.enter("GetSyncBlockerSummary")?;
        lock(&self.blockers)
            .get(stack)
            .cloned()
            .ok_or_else(|| ApiError {
                operation: "GetSyncBlockerSummary",
                kind: ApiErrorKind::NotFound,
                message: format!("no sync configuration for {stack}"),
            })
    }

    async fn latest_stack_sync(&self, stack: &str) -> Result<Option<SyncAttempt>, ApiError> {
        self.enter("GetResourceSyncStatus")?;
        Ok(lock(&self.stack_syncs).get(stack).cloned())
    }

    async fn latest_repository_sync(
        &self,
        repository_link_id: &str,
        branch: &str,
    ) -> Result<Option<SyncAttempt>, ApiError> {
        self.enter("GetRepositorySyncStatus")?;
        Ok(lock(&self.repository_syncs)
            .get(&(repository_link_id.to_owned(), branch.to_owned()))
            .cloned())
    }

    /// Resolves an ACTIVE blocker like the service; an unknown Id is BlockerGone.
    async fn resolve_blocker(
        &self,
        stack: &str,
        blocker_id: &str,
        resolved_reason: &str,
    ) -> Result<(), ApiError> {
        self.enter("UpdateSyncBlocker")?;
        let mut blockers = lock(&self.blockers);
        let blocker = blockers
            .get_mut(stack)
            .and_then(|list| {
                list.iter_mut()
                    .find(|b| b.id == blocker_id && b.is_active())
            })
            .ok_or_else(|| ApiError {
                operation: "UpdateSyncBlocker",
                kind: ApiErrorKind::BlockerGone,
                message: format!("no active blocker {blocker_id} on {stack}"),
            })?;
        blocker.status = BlockerStatus::Resolved;
        blocker.resolved_reason = Some(resolved_reason.to_owned());
        blocker.resolved_at = Some(SystemTime::now());
        lock(&self.resolutions).push(Resolution {
            stack: stack.to_owned(),
            blocker_id: blocker_id.to_owned(),
            resolved_reason: resolved_reason.to_owned(),
        });
        Ok(())
    }

    async fn repository_links(&self) -> Result<Vec<RepositoryLink>, ApiError> {
        self.enter("ListRepositoryLinks")?;
        Ok(lock(&self.links).clone())
    }

    async fn sync_configurations(
        &self,
        repository_link_id: &str,
    ) -> Result<Vec<SyncConfiguration>, ApiError> {
        self.enter("ListSyncConfigurations")?;
        Ok(lock(&self.configurations)
            .iter()
            .filter(|c| c.repository_link_id == repository_link_id)
            .cloned()
            .collect())
    }
}

/// Connections, hosts and tags held in memory.
#[derive(Default)]
pub struct InMemoryConnections {
    connections: Mutex<Vec<Connection>>,
    hosts: Mutex<Vec<Host>>,
    tags: Mutex<HashMap<String, Vec<(String, String)>>>,
    failing_tags: Mutex<Vec<String>>,
}

impl InMemoryConnections {
    pub fn set_connections(&self, connections: Vec<Connection>) {
        *lock(&self.connections) = connections;
    }

    pub fn set_hosts(&self, hosts: Vec<Host>) {
        *lock(&self.hosts) = hosts;
    }

    pub fn set_tags(&self, arn: &str, tags: Vec<(String, String)>) {
        lock(&self.tags).insert(arn.to_owned(), tags);
    }

    /// Makes ListTagsForResource fail for one ARN.
    pub fn fail_tags(&self, arn: &str) {
        lock(&self.failing_tags).push(arn.to_owned());
    }
}

impl ConnectionsApi for InMemoryConnections {
    async fn connections(&self, provider: Option<&str>) -> Result<Vec<Connection>, ApiError> {
        Ok(lock(&self.connections)
            .iter()
            .filter(|c| provider.is_none_or(|p| c.provider == p))
            .cloned()
            .collect())
    }

    async fn hosts(&self) -> Result<Vec<Host>, ApiError> {
        Ok(lock(&self.hosts).clone())
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, ApiError> {
        if lock(&self.failing_tags).iter().any(|a| a == arn) {
            return Err(ApiError {
                operation: "ListTagsForResource",
                kind: ApiErrorKind::Other,
                message: "injected by the test".into(),
            });
        }
        Ok(lock(&self.tags).get(arn).cloned().unwrap_or_default())
    }
}

/// Stack statuses held in memory; an unknown stack does not exist.
#[derive(Default)]
pub struct InMemoryStacks {
    statuses: Mutex<HashMap<String, String>>,
}

impl InMemoryStacks {
    pub fn set_status(&self, stack: &str, status: &str) {
        lock(&self.statuses).insert(stack.to_owned(), status.to_owned());
    }
}

impl StackStatusLookup for InMemoryStacks {
    async fn stack_status(&self, stack: &str) -> Result<Option<String>, ApiError> {
        Ok(lock(&self.statuses).get(stack).cloned())
    }
}

/// Records what was published; can be told to fail or to take its time.
#[derive(Default)]
pub struct RecordingNotifier {
    published: Mutex<Vec<RenderedAlert>>,
    /// Every event put, with messages or alone, in order.
    events: Mutex<Vec<RenderedEvent>>,
    failures_left: AtomicUsize,
    delay: Mutex<Duration>,
}

impl RecordingNotifier {
    pub fn published(&self) -> Vec<RenderedAlert> {
        lock(&self.published).clone()
    }

    /// Every event put so far: those of published messages and those put alone.
    pub fn events(&self) -> Vec<RenderedEvent> {
        lock(&self.events).clone()
    }

    fn injected_failure(&self) -> bool {
        self.failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn fail_next(&self, times: usize) {
        self.failures_left.store(times, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.delay) = delay;
    }
}

impl Notifier for RecordingNotifier {
    async fn publish(&self, alert: &RenderedAlert) -> Result<(), NotifyError> {
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if self.injected_failure() {
            return Err(NotifyError("injected failure".into()));
        }
        lock(&self.events).extend(alert.events.iter().cloned());
        lock(&self.published).push(alert.clone());
        Ok(())
    }

    async fn put_events(&self, events: &[RenderedEvent]) -> Result<(), NotifyError> {
        if self.injected_failure() {
            return Err(NotifyError("injected failure".into()));
        }
        lock(&self.events).extend(events.iter().cloned());
        Ok(())
    }
}

#[derive(Debug, Clone)]
struct FakeEntry {
    state: EntryState,
    token: String,
    lease_until: SystemTime,
    claimed_at: SystemTime,
}

/// The ledger's conditional writes, on a map. A clone is the same ledger, as a clone of
/// the DynamoDB adapter is the same table: the outbox and a handler's store share one.
#[derive(Default, Clone)]
pub struct InMemoryLedger(Arc<LedgerMaps>);

#[derive(Default)]
pub struct LedgerMaps {
    entries: Mutex<BTreeMap<LedgerKey, FakeEntry>>,
    tokens: AtomicUsize,
    statuses: Mutex<BTreeMap<String, StatusRecord>>,
    heartbeats: Mutex<BTreeMap<Job, Heartbeat>>,
}

impl std::ops::Deref for InMemoryLedger {
    type Target = LedgerMaps;
    fn deref(&self) -> &LedgerMaps {
        &self.0
    }
}

impl InMemoryLedger {
    pub fn state(&self, key: &LedgerKey) -> Option<EntryState> {
        lock(&self.entries).get(key).map(|entry| entry.state)
    }

    /// Every item held: alert entries, status records and heartbeats.
    pub fn item_count(&self) -> usize {
        lock(&self.entries).len() + lock(&self.statuses).len() + lock(&self.heartbeats).len()
    }

    /// Records an entry as published at `claimed_at`, as an earlier run would have.
    pub fn record_sent(&self, key: LedgerKey, claimed_at: SystemTime) {
        lock(&self.entries).insert(
            key,
            FakeEntry {
                state: EntryState::Sent,
                token: String::new(),
                lease_until: claimed_at,
                claimed_at,
            },
        );
    }
}

impl AlertLedger for InMemoryLedger {
    async fn claim(
        &self,
        key: &LedgerKey,
        now: SystemTime,
        lease_until: SystemTime,
        _expires_at: SystemTime,
    ) -> Result<Claim, LedgerError> {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get(key) {
            match entry.state {
                EntryState::Sent | EntryState::Closed => return Ok(Claim::Done),
                EntryState::Pending if entry.lease_until >= now => {
                    return Ok(Claim::InFlight {
                        lease_until: entry.lease_until,
                    });
                }
                EntryState::Pending => {}
            }
        }
        let token = format!("token-{}", self.tokens.fetch_add(1, Ordering::SeqCst));
        entries.insert(
            key.clone(),
            FakeEntry {
                state: EntryState::Pending,
                token: token.clone(),
                lease_until,
                claimed_at: now,
            },
        );
        Ok(Claim::Acquired { token })
    }

    async fn confirm(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        if let Some(entry) = lock(&self.entries).get_mut(key)
            && entry.state == EntryState::Pending
            && entry.token == token
        {
            entry.state = EntryState::Sent;
        }
        Ok(())
    }

    async fn release(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        let mut entries = lock(&self.entries);
        if entries
            .get(key)
            .is_some_and(|entry| entry.state == EntryState::Pending && entry.token == token)
        {
            entries.remove(key);
        }
        Ok(())
    }

    async fn entries(&self, query: &LedgerQuery) -> Result<Vec<LedgerEntry>, LedgerError> {
        Ok(lock(&self.entries)
            .iter()
            .filter(|(key, _)| query.contains(key))
            .map(|(key, entry)| LedgerEntry {
                key: key.clone(),
                state: entry.state,
                claimed_at: entry.claimed_at,
            })
            .collect())
    }

    async fn close(&self, key: &LedgerKey) -> Result<(), LedgerError> {
        if let Some(entry) = lock(&self.entries).get_mut(key) {
            entry.state = EntryState::Closed;
        }
        Ok(())
    }
}

impl HeartbeatStore for InMemoryLedger {
    async fn record_heartbeat(&self, job: Job, at: SystemTime) -> Result<(), LedgerError> {
        let mut heartbeats = lock(&self.heartbeats);
        let beat = Heartbeat::after_run(job, at, heartbeats.get(&job));
        heartbeats.insert(job, beat);
        Ok(())
    }

    async fn heartbeats(&self) -> Result<Vec<Heartbeat>, LedgerError> {
        Ok(lock(&self.heartbeats).values().copied().collect())
    }
}

impl StatusStore for InMemoryLedger {
    async fn statuses(&self) -> Result<Vec<StatusRecord>, LedgerError> {
        Ok(lock(&self.statuses).values().cloned().collect())
    }

    async fn save_status(&self, record: &StatusRecord) -> Result<(), LedgerError> {
        lock(&self.statuses).insert(record.arn.clone(), record.clone());
        Ok(())
    }

    async fn forget_status(&self, arn: &str) -> Result<(), LedgerError> {
        lock(&self.statuses).remove(arn);
        Ok(())
    }
}

/// A clock that stands still until moved.
pub struct FixedClock(Mutex<SystemTime>);

impl FixedClock {
    pub fn at(time: SystemTime) -> Self {
        Self(Mutex::new(time))
    }

    pub fn advance(&self, by: Duration) {
        *lock(&self.0) += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        *lock(&self.0)
    }
}

/// The outbox of handler tests: recorded messages, an in-memory ledger, a clock at `now`,
/// text format, and leases short enough for tests to wait them out.
pub type FakeOutbox = Outbox<RecordingNotifier, InMemoryLedger, FixedClock>;

/// An outbox over `store` (the same ledger: the handler's store handle is `store` itself).
pub fn fake_outbox(source: &'static str, now: SystemTime, store: &InMemoryLedger) -> FakeOutbox {
    Outbox::new(
        RecordingNotifier::default(),
        store.clone(),
        FixedClock::at(now),
        AlertFormat::Text,
        source,
        test_origin(),
    )
    .with_policy(DedupePolicy {
        lease: Duration::from_millis(200),
        poll: Duration::from_millis(5),
        ..DedupePolicy::default()
    })
}

/// The account and region every fake outbox speaks from.
pub fn test_origin() -> Origin {
    Origin {
        account: Some(Account {
            id: "123456789012".into(),
            name: "test-account".into(),
        }),
        region: "us-east-1".into(),
    }
}

/// The paste-ready commands as a POSIX shell reads them, for the tests that check quoting.
pub mod shell {
    use std::process::Command;

    /// A value that would run commands or split into words if it were pasted unquoted.
    pub const HOSTILE: &str = "x'; touch /tmp/pwned; echo '$(id) `id` \"a b\"";

    /// The arguments `sh` reads from `command` (after its leading `aws`), without running it.
    pub fn words(command: &str) -> Vec<String> {
        let rest = command.strip_prefix("aws ").expect("an aws command");
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {rest}"))
            .output()
            .expect("sh runs");
        assert!(output.status.success(), "sh rejected: {command}");
        let mut words: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .split('\0')
            .map(str::to_owned)
            .collect();
        words.pop(); // after the last NUL
        words
    }

    /// The argument after `option`.
    pub fn value_after(words: &[String], option: &str) -> String {
        let at = words.iter().position(|w| w == option).expect(option);
        words[at + 1].clone()
    }
}

/// Connections, repository links and sync configurations in account 123456789012, us-east-1,
/// for tests of who stalls what.
pub mod fixtures {
    use crate::domain::connections::{Connection, ConnectionStatus};
    use crate::domain::sync::{RepositoryLink, SyncConfiguration};
    use crate::domain::topology::Configurations;

    /// `arn:aws:SERVICE:us-east-1:123456789012:RESOURCE`.
    pub fn arn(service: &str, resource: &str) -> String {
        format!("arn:aws:{service}:us-east-1:123456789012:{resource}")
    }

    /// A GitHub connection named `id` (ARN `codestar-connections`), through host `host`
    /// (ARN `codeconnections`) if any.
    pub fn connection(id: &str, status: &str, host: Option<&str>) -> Connection {
        Connection {
            arn: arn("codestar-connections", &format!("connection/{id}")),
            name: id.into(),
            provider: "GitHub".into(),
            status: ConnectionStatus::parse(status),
            host_arn: host.map(|h| arn("codeconnections", &format!("host/{h}"))),
        }
    }

    /// Repository link `id` (repository `acme/repo-ID`) through a connection.
    pub fn link(id: &str, connection_arn: &str) -> RepositoryLink {
        RepositoryLink {
            id: id.into(),
            arn: arn("codeconnections", &format!("repository-link/{id}")),
            connection_arn: connection_arn.into(),
            provider: "GitHub".into(),
            owner: "acme".into(),
            repository: format!("repo-{id}"),
        }
    }

    /// The sync configuration of `stack` on a link's `main`.
    pub fn configuration(stack: &str, link_id: &str) -> SyncConfiguration {
        SyncConfiguration {
            stack: stack.into(),
            repository_link_id: link_id.into(),
            branch: "main".into(),
            config_file: None,
            owner: "acme".into(),
            repository: format!("repo-{link_id}"),
            provider: "GitHub".into(),
        }
    }

    /// Each link's stacks.
    pub fn configurations(pairs: &[(&str, &[&str])]) -> Configurations {
        pairs
            .iter()
            .map(|(link_id, stacks)| {
                let list = stacks.iter().map(|s| configuration(s, link_id)).collect();
                ((*link_id).to_owned(), list)
            })
            .collect()
    }
}

/// Versioned documents on a map, with the DynamoDB adapter's conditional writes; a clone is
/// the same store.
#[derive(Default, Clone)]
pub struct InMemoryDocuments(Arc<Mutex<BTreeMap<String, (String, u64)>>>);

impl InMemoryDocuments {
    pub fn body(&self, key: &str) -> Option<String> {
        lock(&self.0).get(key).map(|(body, _)| body.clone())
    }

    /// Someone else writes `key` (as a concurrent run would).
    pub fn overwrite(&self, key: &str, body: &str) {
        let mut documents = lock(&self.0);
        let version = documents.get(key).map_or(1, |(_, version)| version + 1);
        documents.insert(key.to_owned(), (body.to_owned(), version));
    }
}

impl DocumentStore for InMemoryDocuments {
    async fn documents(&self) -> Result<Vec<Document>, LedgerError> {
        Ok(lock(&self.0)
            .iter()
            .map(|(key, (body, version))| Document {
                key: key.clone(),
                body: body.clone(),
                version: *version,
            })
            .collect())
    }

    async fn document(&self, key: &str) -> Result<Option<Document>, LedgerError> {
        Ok(lock(&self.0).get(key).map(|(body, version)| Document {
            key: key.to_owned(),
            body: body.clone(),
            version: *version,
        }))
    }

    async fn write(&self, key: &str, body: &str, read: Option<u64>) -> Result<bool, LedgerError> {
        let mut documents = lock(&self.0);
        let current = documents.get(key).map(|(_, version)| *version);
        if current != read {
            return Ok(false);
        }
        documents.insert(key.to_owned(), (body.to_owned(), read.map_or(1, |v| v + 1)));
        Ok(true)
    }
}

/// A StackSet's instances, as given.
#[derive(Default)]
pub struct FixedInstances(pub Vec<(String, String)>);

impl StackSetInstances for FixedInstances {
    async fn instances(&self) -> Result<Vec<(String, String)>, ApiError> {
        Ok(self.0.clone())
    }
}
