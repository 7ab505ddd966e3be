//! The in-memory state: the service's resources, stored in the wire shapes of the model
//! (PascalCase members), each table in creation order for stable pagination.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize, Serializer};

use crate::arn;

/// How many blockers GetSyncBlockerSummary returns: the most recent ones, newest first.
pub const BLOCKER_SUMMARY_SIZE: usize = 10;

/// A point in time, kept in milliseconds; on the wire it is epoch seconds as a JSON number,
/// as awsJson protocols send timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    pub fn from_system_time(time: SystemTime) -> Self {
        let millis = time.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
        Self(millis)
    }

    pub fn earlier_by(self, age: Duration) -> Self {
        let age = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_sub(age))
    }

    pub fn to_rfc3339(self) -> String {
        let time = UNIX_EPOCH + Duration::from_millis(self.0);
        humantime::format_rfc3339_seconds(time).to_string()
    }
}

/// Read back from the state file, where it was written as on the wire.
impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(deserializer)?;
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(serde::de::Error::custom(format!(
                "{seconds} is not a time (epoch seconds)"
            )));
        }
        Ok(Self((seconds * 1000.0).round() as u64))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Millisecond precision keeps the number exact enough for every client.
        serializer.serialize_f64(self.0 as f64 / 1000.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderType {
    Bitbucket,
    GitHub,
    GitHubEnterpriseServer,
    GitLab,
    GitLabSelfManaged,
    /// AWS CodeConnections only, as the next one.
    AzureDevOps,
    GitHubEnterpriseCloudDataResidency,
}

impl ProviderType {
    /// Self-managed providers are reached through a host.
    pub fn is_self_managed(self) -> bool {
        matches!(self, Self::GitHubEnterpriseServer | Self::GitLabSelfManaged)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Bitbucket => "Bitbucket",
            Self::GitHub => "GitHub",
            Self::GitHubEnterpriseServer => "GitHubEnterpriseServer",
            Self::GitLab => "GitLab",
            Self::GitLabSelfManaged => "GitLabSelfManaged",
            Self::AzureDevOps => "AzureDevOps",
            Self::GitHubEnterpriseCloudDataResidency => "GitHubEnterpriseCloudDataResidency",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConnectionStatus {
    #[default]
    Pending,
    Available,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SyncType {
    #[default]
    #[serde(rename = "CFN_STACK_SYNC")]
    CfnStackSync,
}

impl SyncType {
    pub fn name(self) -> &'static str {
        match self {
            Self::CfnStackSync => "CFN_STACK_SYNC",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockerStatus {
    #[default]
    Active,
    Resolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockerType {
    Automated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PublishDeploymentStatus {
    Enabled,
    #[default]
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerResourceUpdateOn {
    #[default]
    AnyChange,
    FileChange,
}

/// Whether Git sync comments on pull requests (AWS CodeConnections only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PullRequestComment {
    Enabled,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResourceSyncStatus {
    Failed,
    Initiated,
    InProgress,
    Succeeded,
}

impl ResourceSyncStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RepositorySyncStatus {
    Failed,
    Initiated,
    InProgress,
    Succeeded,
    Queued,
}

impl RepositorySyncStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Succeeded)
    }
}

/// A `Tag` or a `SyncBlockerContext`: both are `{Key, Value}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyValue {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Connection {
    pub connection_name: String,
    pub connection_arn: String,
    pub provider_type: ProviderType,
    pub owner_account_id: String,
    pub connection_status: ConnectionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_arn: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionRecord {
    #[serde(flatten)]
    pub connection: Connection,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcConfiguration {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Host {
    pub name: String,
    pub host_arn: String,
    pub provider_type: ProviderType,
    pub provider_endpoint: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_configuration: Option<VpcConfiguration>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HostRecord {
    #[serde(flatten)]
    pub host: Host,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RepositoryLinkInfo {
    pub connection_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption_key_arn: Option<String>,
    pub owner_id: String,
    pub provider_type: ProviderType,
    pub repository_link_arn: String,
    pub repository_link_id: String,
    pub repository_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncEvent {
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub time: Timestamp,
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RepositorySyncAttempt {
    pub started_at: Timestamp,
    pub status: RepositorySyncStatus,
    pub events: Vec<SyncEvent>,
}

/// The latest repository sync of one branch; the commit is not part of the API's attempt,
/// but the events name it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RepositorySyncRecord {
    #[serde(flatten)]
    pub attempt: RepositorySyncAttempt,
    pub commit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LinkRecord {
    #[serde(flatten)]
    pub link: RepositoryLinkInfo,
    pub tags: Vec<KeyValue>,
    /// By branch.
    pub repository_syncs: BTreeMap<String, RepositorySyncRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncConfiguration {
    pub branch: String,
    pub config_file: String,
    pub owner_id: String,
    pub provider_type: ProviderType,
    pub repository_link_id: String,
    pub repository_name: String,
    pub resource_name: String,
    pub role_arn: String,
    pub sync_type: SyncType,
    pub publish_deployment_status: PublishDeploymentStatus,
    pub trigger_resource_update_on: TriggerResourceUpdateOn,
    /// Set only through AWS CodeConnections; CodeStar Connections does not show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_request_comment: Option<PullRequestComment>,
}

impl SyncConfiguration {
    /// Points the configuration at a link, taking the repository it names.
    pub fn attach_to(&mut self, link: &RepositoryLinkInfo) {
        self.repository_link_id.clone_from(&link.repository_link_id);
        self.owner_id.clone_from(&link.owner_id);
        self.repository_name.clone_from(&link.repository_name);
        self.provider_type = link.provider_type;
    }

    fn revision(&self, sha: String) -> Revision {
        Revision {
            branch: self.branch.clone(),
            directory: self.config_file.clone(),
            owner_id: self.owner_id.clone(),
            repository_name: self.repository_name.clone(),
            provider_type: self.provider_type,
            sha,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncBlocker {
    pub id: String,
    #[serde(rename = "Type")]
    pub kind: BlockerType,
    pub status: BlockerStatus,
    pub created_reason: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contexts: Vec<KeyValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Revision {
    pub branch: String,
    pub directory: String,
    pub owner_id: String,
    pub repository_name: String,
    pub provider_type: ProviderType,
    pub sha: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceSyncAttempt {
    pub events: Vec<SyncEvent>,
    pub initial_revision: Revision,
    pub started_at: Timestamp,
    pub status: ResourceSyncStatus,
    pub target_revision: Revision,
    pub target: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SyncConfigurationRecord {
    #[serde(flatten)]
    pub configuration: SyncConfiguration,
    /// Newest first.
    pub blockers: Vec<SyncBlocker>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_sync: Option<ResourceSyncAttempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_successful_sync: Option<ResourceSyncAttempt>,
    /// Whether the cause of this stack's blockers persists: Git sync's retries fail again.
    pub persistent_cause: bool,
}

impl SyncConfigurationRecord {
    pub fn new(configuration: SyncConfiguration) -> Self {
        Self {
            configuration,
            blockers: Vec::new(),
            latest_sync: None,
            latest_successful_sync: None,
            persistent_cause: false,
        }
    }

    /// Adds a blocker, keeping the list newest first (by creation time, then insertion).
    pub fn add_blocker(&mut self, blocker: SyncBlocker) {
        let position = self
            .blockers
            .iter()
            .position(|existing| existing.created_at <= blocker.created_at)
            .unwrap_or(self.blockers.len());
        self.blockers.insert(position, blocker);
    }

    /// Records a step of a sync of this resource and answers the status it replaces.
    ///
    /// A step continues the latest attempt while that attempt is not final and names the
    /// same commit (or none); otherwise it starts a new attempt, from the revision of the
    /// latest successful one.
    pub fn record_sync(
        &mut self,
        status: ResourceSyncStatus,
        commit: Option<String>,
        events: Vec<SyncEvent>,
        now: Timestamp,
    ) -> Option<ResourceSyncStatus> {
        let previous = self.latest_sync.as_ref().map(|attempt| attempt.status);
        let continued = self.latest_sync.as_mut().filter(|attempt| {
            !attempt.status.is_final()
                && commit
                    .as_ref()
                    .is_none_or(|sha| *sha == attempt.target_revision.sha)
        });
        match continued {
            Some(attempt) => {
                attempt.status = status;
                attempt.events.extend(events);
            }
            None => {
                let target_revision = self
                    .configuration
                    .revision(commit.unwrap_or_else(random_commit));
                let initial_revision = match &self.latest_successful_sync {
                    Some(successful) => self
                        .configuration
                        .revision(successful.target_revision.sha.clone()),
                    None => target_revision.clone(),
                };
                self.latest_sync = Some(ResourceSyncAttempt {
                    events,
                    initial_revision,
                    started_at: now,
                    status,
                    target_revision,
                    target: self.configuration.resource_name.clone(),
                });
            }
        }
        if status == ResourceSyncStatus::Succeeded {
            self.latest_successful_sync.clone_from(&self.latest_sync);
        }
        previous
    }
}

impl LinkRecord {
    /// Records a step of a repository sync of one branch and answers the status it
    /// replaces and the commit synced; steps continue an attempt as for resources.
    pub fn record_sync(
        &mut self,
        branch: &str,
        status: RepositorySyncStatus,
        commit: Option<String>,
        events: Vec<SyncEvent>,
        now: Timestamp,
    ) -> (Option<RepositorySyncStatus>, String) {
        let latest = self.repository_syncs.get_mut(branch);
        let previous = latest.as_ref().map(|record| record.attempt.status);
        let continued = latest.filter(|record| {
            !record.attempt.status.is_final()
                && commit.as_ref().is_none_or(|sha| *sha == record.commit)
        });
        if let Some(record) = continued {
            record.attempt.status = status;
            record.attempt.events.extend(events);
            return (previous, record.commit.clone());
        }
        let commit = commit.unwrap_or_else(random_commit);
        self.repository_syncs.insert(
            branch.to_owned(),
            RepositorySyncRecord {
                attempt: RepositorySyncAttempt {
                    started_at: now,
                    status,
                    events,
                },
                commit: commit.clone(),
            },
        );
        (previous, commit)
    }
}

/// A 40-hex-digit commit id.
pub fn random_commit() -> String {
    let first = uuid::Uuid::new_v4().simple().to_string();
    let second = uuid::Uuid::new_v4().simple().to_string();
    format!("{first}{}", &second[..8])
}

/// Rows in creation order, with a key index.
#[derive(Debug, Clone)]
pub struct Table<T> {
    rows: BTreeMap<u64, T>,
    keys: HashMap<String, u64>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: BTreeMap::new(),
            keys: HashMap::new(),
        }
    }
}

impl<T> Table<T> {
    pub fn insert(&mut self, sequence: u64, key: String, row: T) {
        if let Some(replaced) = self.keys.insert(key, sequence) {
            self.rows.remove(&replaced);
        }
        self.rows.insert(sequence, row);
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.keys
            .get(key)
            .and_then(|sequence| self.rows.get(sequence))
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        let sequence = self.keys.get(key)?;
        self.rows.get_mut(sequence)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.keys.contains_key(key)
    }

    pub fn remove(&mut self, key: &str) -> Option<T> {
        let sequence = self.keys.remove(key)?;
        self.rows.remove(&sequence)
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.rows.values_mut()
    }

    /// Rows from `sequence` on, with their sequence numbers, in creation order.
    pub fn rows_from(&self, sequence: u64) -> impl Iterator<Item = (u64, &T)> {
        self.rows
            .range(sequence..)
            .map(|(sequence, row)| (*sequence, row))
    }
}

/// The key of a sync configuration: unique per (sync type, resource).
pub fn sync_key(sync_type: SyncType, resource_name: &str) -> String {
    format!("{}/{resource_name}", sync_type.name())
}

#[derive(Debug, Clone, Default)]
pub struct State {
    next_sequence: u64,
    /// By [`arn::key`].
    pub connections: Table<ConnectionRecord>,
    /// By [`arn::key`].
    pub hosts: Table<HostRecord>,
    /// By repository link id.
    pub links: Table<LinkRecord>,
    /// By [`sync_key`].
    pub sync_configurations: Table<SyncConfigurationRecord>,
}

impl State {
    pub fn next_sequence(&mut self) -> u64 {
        self.next_sequence += 1;
        self.next_sequence
    }

    pub fn connection(&self, connection_arn: &str) -> Option<&ConnectionRecord> {
        self.connections.get(&arn::key(connection_arn))
    }

    pub fn host(&self, host_arn: &str) -> Option<&HostRecord> {
        self.hosts.get(&arn::key(host_arn))
    }

    pub fn insert_connection(&mut self, record: ConnectionRecord) {
        let sequence = self.next_sequence();
        let key = arn::key(&record.connection.connection_arn);
        self.connections.insert(sequence, key, record);
    }

    pub fn insert_host(&mut self, record: HostRecord) {
        let sequence = self.next_sequence();
        let key = arn::key(&record.host.host_arn);
        self.hosts.insert(sequence, key, record);
    }

    pub fn insert_link(&mut self, record: LinkRecord) {
        let sequence = self.next_sequence();
        let key = record.link.repository_link_id.clone();
        self.links.insert(sequence, key, record);
    }

    pub fn insert_sync_configuration(&mut self, record: SyncConfigurationRecord) {
        let sequence = self.next_sequence();
        let key = sync_key(
            record.configuration.sync_type,
            &record.configuration.resource_name,
        );
        self.sync_configurations.insert(sequence, key, record);
    }

    /// The link of a repository on a connection, if one exists.
    pub fn link_of_repository(
        &self,
        connection_arn: &str,
        owner_id: &str,
        repository_name: &str,
    ) -> Option<&LinkRecord> {
        let connection_key = arn::key(connection_arn);
        self.links.values().find(|record| {
            record.link.owner_id == owner_id
                && record.link.repository_name == repository_name
                && arn::key(&record.link.connection_arn) == connection_key
        })
    }

    /// The tags of the connection, host or repository link an ARN names.
    pub fn tags_mut(&mut self, resource_arn: &str) -> Option<&mut Vec<KeyValue>> {
        let key = arn::key(resource_arn);
        match arn::resource(resource_arn)? {
            (arn::ResourceKind::Connection, _) => self
                .connections
                .get_mut(&key)
                .map(|record| &mut record.tags),
            (arn::ResourceKind::Host, _) => self.hosts.get_mut(&key).map(|record| &mut record.tags),
            (arn::ResourceKind::RepositoryLink, id) => self
                .links
                .get_mut(id)
                .filter(|record| arn::key(&record.link.repository_link_arn) == key)
                .map(|record| &mut record.tags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configuration() -> SyncConfigurationRecord {
        SyncConfigurationRecord::new(SyncConfiguration {
            branch: "main".into(),
            config_file: "deploy.yaml".into(),
            owner_id: "acme".into(),
            provider_type: ProviderType::GitHub,
            repository_link_id: "id".into(),
            repository_name: "infra".into(),
            resource_name: "stack".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            sync_type: SyncType::CfnStackSync,
            publish_deployment_status: PublishDeploymentStatus::Disabled,
            trigger_resource_update_on: TriggerResourceUpdateOn::AnyChange,
            pull_request_comment: None,
        })
    }

    fn blocker(id: &str, created_at: u64) -> SyncBlocker {
        SyncBlocker {
            id: id.into(),
            kind: BlockerType::Automated,
            status: BlockerStatus::Active,
            created_reason: "reason".into(),
            created_at: Timestamp(created_at),
            contexts: Vec::new(),
            resolved_reason: None,
            resolved_at: None,
        }
    }

    #[test]
    fn blockers_stay_newest_first() {
        let mut record = configuration();
        record.add_blocker(blocker("b", 2_000));
        record.add_blocker(blocker("a", 1_000));
        record.add_blocker(blocker("c", 3_000));
        record.add_blocker(blocker("d", 3_000));
        let ids: Vec<&str> = record.blockers.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["d", "c", "b", "a"]);
    }

    #[test]
    fn sync_steps_continue_an_attempt_until_it_is_final() {
        let mut record = configuration();
        let now = Timestamp(5_000);
        assert_eq!(
            record.record_sync(
                ResourceSyncStatus::Initiated,
                Some("c1".into()),
                vec![],
                now
            ),
            None
        );
        assert_eq!(
            record.record_sync(ResourceSyncStatus::Succeeded, None, vec![], now),
            Some(ResourceSyncStatus::Initiated)
        );
        let latest = record.latest_sync.as_ref().expect("attempt");
        assert_eq!(latest.target_revision.sha, "c1");
        assert_eq!(latest.initial_revision.sha, "c1");
        assert!(record.latest_successful_sync.is_some());

        assert_eq!(
            record.record_sync(ResourceSyncStatus::Failed, Some("c2".into()), vec![], now),
            Some(ResourceSyncStatus::Succeeded)
        );
        let latest = record.latest_sync.as_ref().expect("attempt");
        assert_eq!(latest.target_revision.sha, "c2");
        assert_eq!(latest.initial_revision.sha, "c1");
        let successful = record.latest_successful_sync.as_ref().expect("successful");
        assert_eq!(successful.target_revision.sha, "c1");
    }

    #[test]
    fn timestamps_are_epoch_seconds_on_the_wire() {
        let json = serde_json::to_string(&Timestamp(1_700_000_000_250)).expect("serializes");
        assert_eq!(json, "1700000000.25");
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn random_commits_look_like_git_shas() {
        let commit = random_commit();
        assert_eq!(commit.len(), 40);
        assert!(commit.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn table_keeps_creation_order_and_index() {
        let mut table = Table::default();
        table.insert(3, "c".into(), 'c');
        table.insert(1, "a".into(), 'a');
        table.insert(2, "b".into(), 'b');
        assert_eq!(table.get("b"), Some(&'b'));
        assert_eq!(table.remove("b"), Some('b'));
        let from_two: Vec<_> = table.rows_from(2).collect();
        assert_eq!(from_two, [(3, &'c')]);
        assert_eq!(table.values().count(), 2);
    }
}
