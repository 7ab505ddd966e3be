//! In-memory implementations of the ports, for unit and handler tests (feature `fakes`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crate::domain::alert::RenderedAlert;
use crate::domain::sync::{SyncAttempt, SyncBlocker};
use crate::ports::{
    AlertLedger, ApiError, ApiErrorKind, Claim, Clock, GitSyncApi, LedgerError, LedgerKey,
    Notifier, NotifyError,
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
    failures: Mutex<HashMap<&'static str, ApiError>>,
    calls: Mutex<BTreeMap<&'static str, usize>>,
}

impl InMemoryGitSync {
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
}

/// Records what was published; can be told to fail or to take its time.
#[derive(Default)]
pub struct RecordingNotifier {
    published: Mutex<Vec<RenderedAlert>>,
    failures_left: AtomicUsize,
    delay: Mutex<Duration>,
}

impl RecordingNotifier {
    pub fn published(&self) -> Vec<RenderedAlert> {
        lock(&self.published).clone()
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
        let failing = self
            .failures_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(NotifyError("injected failure".into()));
        }
        lock(&self.published).push(alert.clone());
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryState {
    Pending {
        token: String,
        lease_until: SystemTime,
    },
    Sent,
    Closed,
}

/// The ledger's conditional writes, on a map.
#[derive(Default)]
pub struct InMemoryLedger {
    entries: Mutex<BTreeMap<LedgerKey, EntryState>>,
    tokens: AtomicUsize,
}

impl InMemoryLedger {
    pub fn state(&self, key: &LedgerKey) -> Option<EntryState> {
        lock(&self.entries).get(key).cloned()
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
        match entries.get(key) {
            Some(EntryState::Sent | EntryState::Closed) => return Ok(Claim::Done),
            Some(EntryState::Pending {
                lease_until: current,
                ..
            }) if *current >= now => {
                return Ok(Claim::InFlight {
                    lease_until: *current,
                });
            }
            _ => {}
        }
        let token = format!("token-{}", self.tokens.fetch_add(1, Ordering::SeqCst));
        entries.insert(
            key.clone(),
            EntryState::Pending {
                token: token.clone(),
                lease_until,
            },
        );
        Ok(Claim::Acquired { token })
    }

    async fn confirm(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        let mut entries = lock(&self.entries);
        if matches!(entries.get(key), Some(EntryState::Pending { token: t, .. }) if t == token) {
            entries.insert(key.clone(), EntryState::Sent);
        }
        Ok(())
    }

    async fn release(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        let mut entries = lock(&self.entries);
        if matches!(entries.get(key), Some(EntryState::Pending { token: t, .. }) if t == token) {
            entries.remove(key);
        }
        Ok(())
    }

    async fn open_items(&self, scope: &str, prefix: &str) -> Result<Vec<String>, LedgerError> {
        Ok(lock(&self.entries)
            .iter()
            .filter(|(key, state)| {
                key.scope == scope && key.item.starts_with(prefix) && **state != EntryState::Closed
            })
            .map(|(key, _)| key.item.clone())
            .collect())
    }

    async fn close(&self, key: &LedgerKey) -> Result<(), LedgerError> {
        if let Some(state) = lock(&self.entries).get_mut(key) {
            *state = EntryState::Closed;
        }
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
