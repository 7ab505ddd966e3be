//! `--state-file`: every account's resources, saved after each change and at exit, loaded
//! at start, so that an emulated account survives restarts. A file that cannot be read back
//! is refused with its path and the field at fault, and is never overwritten. Faults and
//! call counts are not saved: they belong to a test run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{Accounts, Service, is_account_id};
use crate::state::{ConnectionRecord, HostRecord, LinkRecord, State, SyncConfigurationRecord};

/// The version of the file's layout, checked when it is read back.
const VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is corrupt, so it was left untouched: {problem}")]
    Corrupt { path: String, problem: String },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Snapshot {
    version: u32,
    /// By account id.
    accounts: BTreeMap<String, AccountSnapshot>,
}

/// One account's tables, each in creation order.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AccountSnapshot {
    connections: Vec<ConnectionRecord>,
    hosts: Vec<HostRecord>,
    repository_links: Vec<LinkRecord>,
    sync_configurations: Vec<SyncConfigurationRecord>,
}

impl Snapshot {
    fn of(accounts: &Accounts) -> Self {
        Self {
            version: VERSION,
            accounts: accounts
                .by_id
                .iter()
                .map(|(id, backend)| (id.clone(), AccountSnapshot::of(&backend.state)))
                .collect(),
        }
    }
}

impl AccountSnapshot {
    fn of(state: &State) -> Self {
        Self {
            connections: state.connections.values().cloned().collect(),
            hosts: state.hosts.values().cloned().collect(),
            repository_links: state.links.values().cloned().collect(),
            sync_configurations: state.sync_configurations.values().cloned().collect(),
        }
    }

    fn into_state(self) -> State {
        let mut state = State::default();
        self.hosts
            .into_iter()
            .for_each(|record| state.insert_host(record));
        self.connections
            .into_iter()
            .for_each(|record| state.insert_connection(record));
        self.repository_links
            .into_iter()
            .for_each(|record| state.insert_link(record));
        self.sync_configurations
            .into_iter()
            .for_each(|record| state.insert_sync_configuration(record));
        state
    }
}

/// The file, and the signal that the state changed since it was last written.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    changed: Notify,
    /// Writes one at a time, so that an older snapshot never replaces a newer one.
    writing: Mutex<()>,
}

impl StateFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            changed: Notify::new(),
            writing: Mutex::new(()),
        }
    }

    fn shown(&self) -> String {
        self.path.display().to_string()
    }

    /// Restores the accounts the file holds; `false` when there is no file yet.
    pub fn load(&self, accounts: &mut Accounts) -> Result<bool, StateFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => {
                return Err(StateFileError::Read {
                    path: self.shown(),
                    source,
                });
            }
        };
        let snapshot = parse(&text).map_err(|problem| StateFileError::Corrupt {
            path: self.shown(),
            problem,
        })?;
        for (id, account) in snapshot.accounts {
            accounts.account(Some(&id)).state = account.into_state();
        }
        Ok(true)
    }

    /// Writes a snapshot: to a temporary file first, then renamed over the old one, so
    /// that a crash mid-write never leaves a half-written file.
    fn save(&self, snapshot: &Snapshot) -> Result<(), StateFileError> {
        let failed = |source| StateFileError::Write {
            path: self.shown(),
            source,
        };
        let bytes = serde_json::to_vec_pretty(snapshot).map_err(|error| failed(error.into()))?;
        let draft = draft_path(&self.path);
        std::fs::write(&draft, bytes).map_err(failed)?;
        std::fs::rename(&draft, &self.path).map_err(failed)
    }
}

fn draft_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".saving");
    path.with_file_name(name)
}

/// Reads a snapshot, naming the field at fault.
fn parse(text: &str) -> Result<Snapshot, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let snapshot: Snapshot =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            format!("at {path}: {}", error.into_inner())
        })?;
    deserializer.end().map_err(|error| error.to_string())?;
    if snapshot.version != VERSION {
        return Err(format!(
            "Version is {}, this emulator reads version {VERSION}",
            snapshot.version
        ));
    }
    if let Some(id) = snapshot.accounts.keys().find(|id| !is_account_id(id)) {
        return Err(format!("Accounts: '{id}' is not an account id (12 digits)"));
    }
    Ok(snapshot)
}

impl Service {
    /// Says that the state changed: the state file, if any, is written soon.
    pub fn changed(&self) {
        if let Some(file) = &self.state_file {
            file.changed.notify_one();
        }
    }

    /// Writes the state file now, if there is one (at exit, and after changes).
    pub fn save_state(&self) -> Result<(), StateFileError> {
        let Some(file) = &self.state_file else {
            return Ok(());
        };
        // The snapshot is taken under the writing lock, so writes land in snapshot order,
        // and copied out of the state lock, so that requests go on while it is written.
        let _one_at_a_time = file.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let snapshot = Snapshot::of(&self.lock());
        file.save(&snapshot)
    }

    /// Saves after changes, in the background; bursts of changes make one write.
    pub fn keep_saving(self: &Arc<Self>) {
        let Some(file) = &self.state_file else {
            return;
        };
        let service = Arc::clone(self);
        let file = Arc::clone(file);
        tokio::spawn(async move {
            loop {
                file.changed.notified().await;
                let saving = Arc::clone(&service);
                let saved = tokio::task::spawn_blocking(move || saving.save_state()).await;
                match saved {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::error!(%error, "the state was not saved"),
                    Err(error) => tracing::error!(%error, "the state saver failed"),
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_snapshots_name_the_field_at_fault() {
        let problem = parse(r#"{"Version": 1, "Accounts": {"123456789012": {"Connections": [{"ConnectionName": 3}]}}}"#)
            .err()
            .unwrap_or_default();
        assert!(
            problem.contains("Accounts.123456789012.Connections[0]"),
            "{problem}"
        );
        assert!(parse("{").is_err());
        let problem = parse(r#"{"Version": 2, "Accounts": {}}"#)
            .err()
            .unwrap_or_default();
        assert!(problem.contains("version 1"), "{problem}");
        assert!(parse(r#"{"Version": 1, "Accounts": {"abc": {"Connections": [], "Hosts": [], "RepositoryLinks": [], "SyncConfigurations": []}}}"#).is_err());
    }

    #[test]
    fn drafts_sit_beside_the_file() {
        assert_eq!(
            draft_path(Path::new("/tmp/state.json")),
            Path::new("/tmp/state.json.saving")
        );
    }
}
