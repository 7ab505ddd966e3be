//! The emulated service: the state and every rule over it, one method per domain action.
//!
//! The wire protocol (`ops`), the admin API (`admin`) and scenarios (`scenario`) sit on
//! top of this layer and only translate: requests into calls, results into their JSON.
//! As in moto's backends, failures are the service's own errors (`ApiError`); a request
//! the service refuses as invalid answers `InvalidInput`, which the protocol renames for
//! operations whose model lists `ValidationException` instead.

mod events;
mod gitsync;
mod persist;
mod resources;
pub mod rules;
mod sync;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;

use crate::faults::{Fault, FaultConfig, Faults};
use crate::model::Models;
use crate::operation::Operation;
pub use crate::pagination::Page;
use crate::state::{ConnectionRecord, HostRecord, LinkRecord, State, SyncConfigurationRecord};

pub use events::{EventSink, EventSinkError};
pub use gitsync::{Effects, PersistentCause};
pub use persist::{StateFile, StateFileError};
pub use resources::{
    CreateConnectionRequest, CreateHostRequest, CreateRepositoryLinkRequest, LinkIdentity,
    ListConnectionsRequest, UpdateHostRequest, UpdateRepositoryLinkRequest,
};
pub use sync::{
    CreateSyncConfigurationRequest, NewSyncBlocker, RepositorySyncStep, ResourceSyncStep,
    UpdateSyncConfigurationRequest,
};

/// Where the emulated resources live, and how Git sync paces a retry.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account: String,
    /// The time between the steps of a sync attempt Git sync makes on its own.
    pub sync_step_delay: Duration,
}

/// Whether a text is an AWS account id: 12 digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// Every emulated account, each with its own state, faults and call counts, as in moto:
/// a call acts in the account its credentials name, else in the default one.
#[derive(Debug)]
pub struct Accounts {
    region: String,
    sync_step_delay: Duration,
    default_account: String,
    by_id: BTreeMap<String, Backend>,
}

impl Accounts {
    pub fn new(region: String, default_account: String, sync_step_delay: Duration) -> Self {
        Self {
            region,
            sync_step_delay,
            default_account,
            by_id: BTreeMap::new(),
        }
    }

    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// The backend of an account (the default one when none is named), created empty on
    /// first use. The caller has checked that the id is an account id.
    pub fn account(&mut self, account: Option<&str>) -> &mut Backend {
        let id = account.unwrap_or(&self.default_account).to_owned();
        let (region, sync_step_delay) = (&self.region, self.sync_step_delay);
        self.by_id.entry(id).or_insert_with_key(|id| {
            Backend::new(Settings {
                region: region.clone(),
                account: id.clone(),
                sync_step_delay,
            })
        })
    }

    /// Forgets every account: empty state, no faults, call counts zero everywhere.
    pub fn reset_all(&mut self) {
        self.by_id.clear();
    }

    /// The accounts that have been used, in id order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

/// How many calls each operation received since the last reset.
#[derive(Debug, Clone)]
pub struct CallCounts {
    by_operation: Vec<u64>,
}

impl Default for CallCounts {
    fn default() -> Self {
        Self {
            by_operation: vec![0; Operation::ALL.len()],
        }
    }
}

#[derive(Serialize)]
pub struct CallReport {
    pub total: u64,
    pub operations: BTreeMap<&'static str, u64>,
}

impl CallCounts {
    fn record(&mut self, operation: Operation) {
        self.by_operation[operation.index()] += 1;
    }

    fn report(&self) -> CallReport {
        let operations: BTreeMap<&'static str, u64> = Operation::ALL
            .iter()
            .zip(&self.by_operation)
            .filter(|(_, count)| **count > 0)
            .map(|(operation, count)| (operation.name(), *count))
            .collect();
        CallReport {
            total: operations.values().sum(),
            operations,
        }
    }
}

/// The whole state, as the admin API shows it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateDump<'a> {
    region: &'a str,
    account: &'a str,
    connections: Vec<&'a ConnectionRecord>,
    hosts: Vec<&'a HostRecord>,
    repository_links: Vec<&'a LinkRecord>,
    sync_configurations: Vec<&'a SyncConfigurationRecord>,
    faults: &'a FaultConfig,
}

/// Everything that changes, behind one lock, and the actions on it.
#[derive(Debug, Clone)]
pub struct Backend {
    settings: Settings,
    state: State,
    faults: Faults,
    calls: CallCounts,
    /// What the last change set in motion, for the service to carry out outside the lock.
    effects: Effects,
}

impl Backend {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings,
            state: State::default(),
            faults: Faults::default(),
            calls: CallCounts::default(),
            effects: Effects::default(),
        }
    }

    /// The events and later steps the calls since the last take produced.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    /// Empty state, no faults, call counts zero; the region and account stay.
    pub fn reset(&mut self) {
        *self = Self::new(self.settings.clone());
    }

    pub fn call_report(&self) -> CallReport {
        self.calls.report()
    }

    /// Counts a call and decides its fault, if any; faults take precedence over the
    /// call's own outcome.
    pub fn begin_call(&mut self, operation: Operation) -> Option<Fault> {
        self.calls.record(operation);
        self.faults.decide(operation)
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The state, to read: changes go through the actions.
    pub fn state(&self) -> &State {
        &self.state
    }

    #[cfg(test)]
    pub fn fault_config(&self) -> &FaultConfig {
        self.faults.config()
    }

    pub fn set_faults(&mut self, config: FaultConfig) -> Result<&FaultConfig, String> {
        self.faults = Faults::new(config)?;
        Ok(self.faults.config())
    }

    /// Applies a series of actions to a copy of the backend and keeps the copy only if
    /// every action succeeds: a scenario applies all or nothing.
    pub fn change_all_or_nothing<T, E>(
        &mut self,
        change: impl FnOnce(&mut Backend) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut draft = self.clone();
        let changed = change(&mut draft)?;
        *self = draft;
        Ok(changed)
    }

    pub fn dump(&self) -> StateDump<'_> {
        StateDump {
            region: &self.settings.region,
            account: &self.settings.account,
            connections: self.state.connections.values().collect(),
            hosts: self.state.hosts.values().collect(),
            repository_links: self.state.links.values().collect(),
            sync_configurations: self.state.sync_configurations.values().collect(),
            faults: self.faults.config(),
        }
    }
}

/// The service as the HTTP layers share it: the models (read-only, used outside the lock
/// to validate requests and shape answers) and the accounts behind one lock.
pub struct Service {
    pub models: Models,
    accounts: Mutex<Accounts>,
    /// Where events go, when `--events-to` names a collector.
    events: Option<EventSink>,
    /// Where the state is saved, when `--state-file` names a file.
    state_file: Option<Arc<StateFile>>,
}

pub type SharedService = Arc<Service>;

impl Service {
    pub fn new(
        models: Models,
        accounts: Accounts,
        events: Option<EventSink>,
        state_file: Option<Arc<StateFile>>,
    ) -> SharedService {
        Arc::new(Self {
            models,
            accounts: Mutex::new(accounts),
            events,
            state_file,
        })
    }

    pub fn sync_step_delay(&self) -> Duration {
        self.lock().sync_step_delay
    }

    /// The lock is never held across an await; a panic while holding it cannot leave a
    /// half-applied change (changes are applied after all checks), so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Accounts> {
        self.accounts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
