//! Scenario documents: a YAML file given at start (`--scenario`) or the same schema as JSON
//! (`POST /_emulator/seed`). Resources refer to each other by name: a connection names its
//! host, a repository link its connection, a sync configuration its repository
//! (`OWNER/REPO`), a blocker its resource. A document applies entirely or not at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Api;
use crate::arn::{self, ResourceKind};
use crate::faults::FaultConfig;
use crate::model::Model;
use crate::service::rules::{
    self, MAX_TAGS_PER_RESOURCE, NEW_HOST_STATUS, ProviderTypeProblem, SyncConfigurationChoices,
};
use crate::service::{Accounts, Backend, Settings, is_account_id};
use crate::state::{
    BlockerStatus, BlockerType, Connection, ConnectionRecord, ConnectionStatus, Host, HostRecord,
    KeyValue, LinkRecord, ProviderType, PublishDeploymentStatus, PullRequestComment,
    RepositoryLinkInfo, State, SyncBlocker, SyncConfigurationRecord, SyncType, Timestamp,
    TriggerResourceUpdateOn, VpcConfiguration, sync_key,
};
use crate::validate::validate_named;

const DEFAULT_BRANCH: &str = "main";
const DEFAULT_CONFIG_FILE: &str = "deployment-file.yaml";
const DEFAULT_ROLE_NAME: &str = "CloudFormationGitSyncRole";

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("scenario file {path}: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ScenarioDocument {
    /// The account the document describes; the default account when absent.
    account: Option<String>,
    #[serde(default)]
    hosts: Vec<HostSpec>,
    #[serde(default)]
    connections: Vec<ConnectionSpec>,
    #[serde(default)]
    repository_links: Vec<RepositoryLinkSpec>,
    #[serde(default)]
    sync_configurations: Vec<SyncConfigurationSpec>,
    #[serde(default)]
    sync_blockers: Vec<SyncBlockerSpec>,
    faults: Option<FaultConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct HostSpec {
    name: String,
    provider_type: ProviderType,
    provider_endpoint: String,
    status: Option<String>,
    status_message: Option<String>,
    arn: Option<String>,
    vpc_configuration: Option<VpcConfiguration>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConnectionSpec {
    name: String,
    provider_type: Option<ProviderType>,
    /// The name of a host, for self-managed providers.
    host: Option<String>,
    #[serde(default)]
    status: ConnectionStatus,
    arn: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct RepositoryLinkSpec {
    /// The name of a connection.
    connection: String,
    owner_id: String,
    repository_name: String,
    id: Option<String>,
    arn: Option<String>,
    encryption_key_arn: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SyncConfigurationSpec {
    resource_name: String,
    /// `OWNER/REPO` of a repository link.
    repository: String,
    /// The name of the link's connection, needed only when several links share the repository.
    connection: Option<String>,
    branch: Option<String>,
    config_file: Option<String>,
    role_arn: Option<String>,
    #[serde(default)]
    sync_type: SyncType,
    #[serde(default)]
    publish_deployment_status: PublishDeploymentStatus,
    #[serde(default)]
    trigger_resource_update_on: TriggerResourceUpdateOn,
    pull_request_comment: Option<PullRequestComment>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SyncBlockerSpec {
    resource_name: String,
    #[serde(default)]
    sync_type: SyncType,
    id: Option<String>,
    #[serde(default)]
    status: BlockerStatus,
    created_reason: String,
    /// RFC 3339 (`2025-06-01T12:00:00Z`) or an age (`3h ago`); now when absent.
    created_at: Option<String>,
    #[serde(default)]
    contexts: Vec<KeyValue>,
    resolved_reason: Option<String>,
    resolved_at: Option<String>,
    /// Marks the stack's cause as persistent: Git sync's retry after a resolution fails.
    #[serde(default)]
    persistent: bool,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SeedCounts {
    pub hosts: usize,
    pub connections: usize,
    pub repository_links: usize,
    pub sync_configurations: usize,
    pub sync_blockers: usize,
}

/// Reads a YAML scenario file and applies it to the account it names.
pub fn load_file(
    path: &Path,
    accounts: &mut Accounts,
    model: &Model,
) -> Result<SeedCounts, ScenarioError> {
    let shown_path = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: shown_path.clone(),
        source,
    })?;
    let invalid = |message: String| ScenarioError::Invalid {
        path: shown_path.clone(),
        message,
    };
    let document: ScenarioDocument =
        serde_yaml_ng::from_str(&text).map_err(|error| invalid(error.to_string()))?;
    let account = document.account(None).map_err(invalid)?;
    let backend = accounts.account(account.as_deref());
    apply(document, backend, model, Timestamp::now()).map_err(invalid)
}

impl ScenarioDocument {
    /// The account the document names, else `requested` (the admin API's `account`); the
    /// two must agree when both are given.
    pub fn account(&self, requested: Option<&str>) -> Result<Option<String>, String> {
        match (&self.account, requested) {
            (Some(named), _) if !is_account_id(named) => Err(format!(
                "Account: '{named}' is not an account id (12 digits)"
            )),
            (Some(named), Some(requested)) if named != requested => Err(format!(
                "Account: the document names account {named}, the request account {requested}"
            )),
            (Some(named), _) => Ok(Some(named.clone())),
            (None, requested) => Ok(requested.map(str::to_owned)),
        }
    }
}

/// Applies a document to the backend, all of it or (on the first error) none of it.
pub fn apply(
    document: ScenarioDocument,
    backend: &mut Backend,
    model: &Model,
    now: Timestamp,
) -> Result<SeedCounts, String> {
    let faulted = |message: String| format!("Faults: {message}");
    if let Some(faults) = &document.faults {
        faults.check().map_err(faulted)?;
    }
    let counts = backend.change_all_or_nothing(|state, settings| {
        let mut loader = Loader {
            model,
            settings,
            now,
            state,
        };
        Ok::<_, String>(SeedCounts {
            hosts: loader.hosts(document.hosts)?,
            connections: loader.connections(document.connections)?,
            repository_links: loader.repository_links(document.repository_links)?,
            sync_configurations: loader.sync_configurations(document.sync_configurations)?,
            sync_blockers: loader.sync_blockers(document.sync_blockers)?,
        })
    })?;
    if let Some(faults) = document.faults {
        backend.set_faults(faults).map_err(faulted)?;
    }
    Ok(counts)
}

struct Loader<'a> {
    model: &'a Model,
    settings: &'a Settings,
    now: Timestamp,
    state: &'a mut State,
}

/// Finds the one resource with a name; names must be unambiguous where they are used.
fn unique_by_name<'s, T>(
    candidates: impl Iterator<Item = &'s T>,
    name_of: impl Fn(&T) -> &str,
    name: &str,
    kind: &str,
) -> Result<&'s T, String>
where
    T: 's,
{
    let mut matching = candidates.filter(|candidate| name_of(candidate) == name);
    match (matching.next(), matching.next()) {
        (Some(found), None) => Ok(found),
        (None, _) => Err(format!("no {kind} is named '{name}'")),
        (Some(_), Some(_)) => Err(format!("several {kind}s are named '{name}'")),
    }
}

impl Loader<'_> {
    fn check(&self, shape: &str, value: &str, path: &str) -> Result<(), String> {
        validate_named(self.model, shape, &Value::String(value.to_owned()), path)
    }

    fn tags(&self, tags: BTreeMap<String, String>, at: &str) -> Result<Vec<KeyValue>, String> {
        if !rules::within_tag_limit(tags.len()) {
            return Err(format!(
                "{at}.Tags: at most {MAX_TAGS_PER_RESOURCE} tags, got {}",
                tags.len()
            ));
        }
        tags.into_iter()
            .map(|(key, value)| {
                self.check("TagKey", &key, &format!("{at}.Tags"))?;
                self.check("TagValue", &value, &format!("{at}.Tags.{key}"))?;
                Ok(KeyValue { key, value })
            })
            .collect()
    }

    /// An explicit ARN must name the right kind of resource and be new; answers its id.
    fn explicit_arn<'s>(
        &self,
        arn: &'s str,
        kind: ResourceKind,
        taken: bool,
        at: &str,
    ) -> Result<&'s str, String> {
        let (found_kind, id) = arn::resource(arn).ok_or_else(|| {
            format!("{at}.Arn: '{arn}' is not an ARN of arn:aws:codestar-connections or arn:aws:codeconnections")
        })?;
        if found_kind != kind {
            return Err(format!("{at}.Arn: '{arn}' does not name a {kind:?}"));
        }
        if taken {
            return Err(format!(
                "{at}.Arn: a resource with the ARN '{arn}' already exists"
            ));
        }
        Ok(id)
    }

    fn time(&self, text: &str, path: &str) -> Result<Timestamp, String> {
        if let Some(age) = text.strip_suffix(" ago") {
            let age = humantime::parse_duration(age.trim()).map_err(|error| {
                format!("{path}: '{text}' is not an age such as '3h ago': {error}")
            })?;
            return Ok(self.now.earlier_by(age));
        }
        humantime::parse_rfc3339_weak(text)
            .map(Timestamp::from_system_time)
            .map_err(|error| {
                format!("{path}: '{text}' is neither an RFC 3339 time such as 2025-06-01T12:00:00Z nor an age such as '3h ago': {error}")
            })
    }

    fn hosts(&mut self, hosts: Vec<HostSpec>) -> Result<usize, String> {
        let count = hosts.len();
        let mut names: HashSet<String> = self
            .state
            .hosts
            .values()
            .map(|record| record.host.name.clone())
            .collect();
        for (index, spec) in hosts.into_iter().enumerate() {
            let at = format!("Hosts[{index}]");
            self.check("HostName", &spec.name, &format!("{at}.Name"))?;
            self.check(
                "Url",
                &spec.provider_endpoint,
                &format!("{at}.ProviderEndpoint"),
            )?;
            let status = spec.status.unwrap_or_else(|| NEW_HOST_STATUS.to_owned());
            self.check("HostStatus", &status, &format!("{at}.Status"))?;
            if !rules::provider_has_hosts(spec.provider_type) {
                return Err(format!(
                    "{at}.ProviderType: {} has no hosts; hosts are for GitHubEnterpriseServer and GitLabSelfManaged",
                    spec.provider_type.name()
                ));
            }
            if let Some(vpc_configuration) = &spec.vpc_configuration {
                let value =
                    serde_json::to_value(vpc_configuration).map_err(|error| error.to_string())?;
                validate_named(
                    self.model,
                    "VpcConfiguration",
                    &value,
                    &format!("{at}.VpcConfiguration"),
                )?;
            }
            if !names.insert(spec.name.clone()) {
                return Err(format!(
                    "{at}.Name: a host named '{}' already exists",
                    spec.name
                ));
            }
            let host_arn = match spec.arn {
                Some(host_arn) => {
                    self.explicit_arn(
                        &host_arn,
                        ResourceKind::Host,
                        self.state.host(&host_arn).is_some(),
                        &at,
                    )?;
                    host_arn
                }
                None => rules::new_host_arn(self.settings, Api::CodeStarConnections, &spec.name),
            };
            let tags = self.tags(spec.tags, &at)?;
            self.state.insert_host(HostRecord {
                host: Host {
                    name: spec.name,
                    host_arn,
                    provider_type: spec.provider_type,
                    provider_endpoint: spec.provider_endpoint,
                    vpc_configuration: spec.vpc_configuration,
                    status,
                    status_message: spec.status_message,
                },
                tags,
            });
        }
        Ok(count)
    }

    fn connections(&mut self, connections: Vec<ConnectionSpec>) -> Result<usize, String> {
        let count = connections.len();
        let mut names: HashSet<String> = self
            .state
            .connections
            .values()
            .map(|record| record.connection.connection_name.clone())
            .collect();
        for (index, spec) in connections.into_iter().enumerate() {
            let at = format!("Connections[{index}]");
            self.check("ConnectionName", &spec.name, &format!("{at}.Name"))?;
            if !names.insert(spec.name.clone()) {
                return Err(format!(
                    "{at}.Name: a connection named '{}' already exists",
                    spec.name
                ));
            }
            let host = match &spec.host {
                Some(host_name) => Some(
                    &unique_by_name(
                        self.state.hosts.values(),
                        |record| &record.host.name,
                        host_name,
                        "host",
                    )
                    .map_err(|message| format!("{at}.Host: {message}"))?
                    .host,
                ),
                None => None,
            };
            let provider_type = rules::connection_provider_type(
                spec.provider_type,
                host.map(|host| host.provider_type),
            )
            .map_err(|problem| match problem {
                ProviderTypeProblem::DiffersFromHost { requested, host } => format!(
                    "{at}.ProviderType: {} differs from the provider type {} of host '{}'",
                    requested.name(),
                    host.name(),
                    spec.host.as_deref().unwrap_or_default()
                ),
                ProviderTypeProblem::NeedsHost(requested) => {
                    format!("{at}.Host: a {} connection needs a Host", requested.name())
                }
                ProviderTypeProblem::Missing => format!("{at}: give a ProviderType or a Host"),
            })?;
            let host_arn = host.map(|host| host.host_arn.clone());
            let connection_arn = match spec.arn {
                Some(connection_arn) => {
                    let taken = self.state.connection(&connection_arn).is_some();
                    self.explicit_arn(&connection_arn, ResourceKind::Connection, taken, &at)?;
                    connection_arn
                }
                None => rules::new_connection_arn(self.settings, Api::CodeStarConnections),
            };
            let tags = self.tags(spec.tags, &at)?;
            self.state.insert_connection(ConnectionRecord {
                connection: Connection {
                    connection_name: spec.name,
                    connection_arn,
                    provider_type,
                    owner_account_id: self.settings.account.clone(),
                    connection_status: spec.status,
                    host_arn,
                },
                tags,
            });
        }
        Ok(count)
    }

    fn repository_links(&mut self, links: Vec<RepositoryLinkSpec>) -> Result<usize, String> {
        let count = links.len();
        // Connection ARNs by name, built once: seed documents can hold thousands of links.
        let mut connections_by_name: HashMap<String, Vec<(String, ProviderType)>> = HashMap::new();
        for record in self.state.connections.values() {
            connections_by_name
                .entry(record.connection.connection_name.clone())
                .or_default()
                .push((
                    record.connection.connection_arn.clone(),
                    record.connection.provider_type,
                ));
        }
        let mut linked: HashMap<(String, String, String), String> = self
            .state
            .links
            .values()
            .map(|record| {
                let link = &record.link;
                (
                    (
                        arn::key(&link.connection_arn),
                        link.owner_id.clone(),
                        link.repository_name.clone(),
                    ),
                    link.repository_link_id.clone(),
                )
            })
            .collect();
        for (index, spec) in links.into_iter().enumerate() {
            let at = format!("RepositoryLinks[{index}]");
            let (connection_arn, provider_type) =
                match connections_by_name.get(&spec.connection).map(Vec::as_slice) {
                    Some([only]) => only.clone(),
                    Some(_) => {
                        return Err(format!(
                            "{at}.Connection: several connections are named '{}'",
                            spec.connection
                        ));
                    }
                    None => {
                        return Err(format!(
                            "{at}.Connection: no connection is named '{}'",
                            spec.connection
                        ));
                    }
                };
            self.check("OwnerId", &spec.owner_id, &format!("{at}.OwnerId"))?;
            self.check(
                "RepositoryName",
                &spec.repository_name,
                &format!("{at}.RepositoryName"),
            )?;
            if let Some(key_arn) = &spec.encryption_key_arn {
                self.check("KmsKeyArn", key_arn, &format!("{at}.EncryptionKeyArn"))?;
            }
            let repository_key = (
                arn::key(&connection_arn),
                spec.owner_id.clone(),
                spec.repository_name.clone(),
            );
            if let Some(existing) = linked.get(&repository_key) {
                return Err(format!(
                    "{at}: repository {}/{} already has repository link {existing} on connection '{}'",
                    spec.owner_id, spec.repository_name, spec.connection
                ));
            }
            let (repository_link_id, repository_link_arn) =
                self.link_identity(spec.id, spec.arn, &at)?;
            let tags = self.tags(spec.tags, &at)?;
            linked.insert(repository_key, repository_link_id.clone());
            self.state.insert_link(LinkRecord {
                link: RepositoryLinkInfo {
                    connection_arn,
                    encryption_key_arn: spec.encryption_key_arn,
                    owner_id: spec.owner_id,
                    provider_type,
                    repository_link_arn,
                    repository_link_id,
                    repository_name: spec.repository_name,
                },
                tags,
                repository_syncs: BTreeMap::new(),
            });
        }
        Ok(count)
    }

    /// The id and ARN of a new link: generated, or taken from `Id` and/or `Arn`, which
    /// must agree (a link's ARN ends with its id).
    fn link_identity(
        &self,
        id: Option<String>,
        link_arn: Option<String>,
        at: &str,
    ) -> Result<(String, String), String> {
        let id = match (id, &link_arn) {
            (Some(id), _) => id,
            (None, Some(link_arn)) => self
                .explicit_arn(link_arn, ResourceKind::RepositoryLink, false, at)?
                .to_owned(),
            (None, None) => rules::new_repository_link_id(),
        };
        self.check("RepositoryLinkId", &id, &format!("{at}.Id"))?;
        if self.state.links.contains_key(&id) {
            return Err(format!(
                "{at}.Id: a repository link with the Id {id} already exists"
            ));
        }
        let link_arn = match link_arn {
            Some(link_arn) => {
                let from_arn =
                    self.explicit_arn(&link_arn, ResourceKind::RepositoryLink, false, at)?;
                if from_arn != id {
                    return Err(format!(
                        "{at}.Arn: '{link_arn}' does not end with the link's Id {id}"
                    ));
                }
                link_arn
            }
            None => rules::repository_link_arn(self.settings, Api::CodeStarConnections, &id),
        };
        Ok((id, link_arn))
    }

    fn sync_configurations(
        &mut self,
        configurations: Vec<SyncConfigurationSpec>,
    ) -> Result<usize, String> {
        let count = configurations.len();
        let mut links_by_repository: HashMap<(&str, &str), Vec<&RepositoryLinkInfo>> =
            HashMap::new();
        for record in self.state.links.values() {
            links_by_repository
                .entry((&record.link.owner_id, &record.link.repository_name))
                .or_default()
                .push(&record.link);
        }
        let mut new_records = Vec::with_capacity(count);
        for (index, spec) in configurations.into_iter().enumerate() {
            let at = format!("SyncConfigurations[{index}]");
            self.check(
                "ResourceName",
                &spec.resource_name,
                &format!("{at}.ResourceName"),
            )?;
            let branch = spec.branch.unwrap_or_else(|| DEFAULT_BRANCH.to_owned());
            self.check("BranchName", &branch, &format!("{at}.Branch"))?;
            let role_arn = spec.role_arn.unwrap_or_else(|| {
                format!(
                    "arn:aws:iam::{}:role/{DEFAULT_ROLE_NAME}",
                    self.settings.account
                )
            });
            self.check("IamRoleArn", &role_arn, &format!("{at}.RoleArn"))?;
            let Some((owner_id, repository_name)) = spec.repository.rsplit_once('/') else {
                return Err(format!(
                    "{at}.Repository: '{}' is not OWNER/REPO",
                    spec.repository
                ));
            };
            let candidates = links_by_repository
                .get(&(owner_id, repository_name))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let link = self.choose_link(
                candidates,
                spec.connection.as_deref(),
                &spec.repository,
                &at,
            )?;
            let key = sync_key(spec.sync_type, &spec.resource_name);
            if self.state.sync_configurations.contains_key(&key)
                || new_records.iter().any(|(existing, _)| *existing == key)
            {
                return Err(format!(
                    "{at}.ResourceName: resource '{}' already has a {} sync configuration",
                    spec.resource_name,
                    spec.sync_type.name()
                ));
            }
            let configuration = rules::sync_configuration_on(
                link,
                SyncConfigurationChoices {
                    branch,
                    config_file: spec
                        .config_file
                        .unwrap_or_else(|| DEFAULT_CONFIG_FILE.to_owned()),
                    resource_name: spec.resource_name,
                    role_arn,
                    sync_type: spec.sync_type,
                    publish_deployment_status: spec.publish_deployment_status,
                    trigger_resource_update_on: spec.trigger_resource_update_on,
                    pull_request_comment: spec.pull_request_comment,
                },
            );
            new_records.push((key, SyncConfigurationRecord::new(configuration)));
        }
        for (_, record) in new_records {
            self.state.insert_sync_configuration(record);
        }
        Ok(count)
    }

    fn choose_link<'l>(
        &self,
        candidates: &[&'l RepositoryLinkInfo],
        connection_name: Option<&str>,
        repository: &str,
        at: &str,
    ) -> Result<&'l RepositoryLinkInfo, String> {
        let on_connection: Vec<&RepositoryLinkInfo> = match connection_name {
            Some(name) => {
                let connection = unique_by_name(
                    self.state.connections.values(),
                    |record| &record.connection.connection_name,
                    name,
                    "connection",
                )
                .map_err(|message| format!("{at}.Connection: {message}"))?;
                let connection_key = arn::key(&connection.connection.connection_arn);
                candidates
                    .iter()
                    .copied()
                    .filter(|link| arn::key(&link.connection_arn) == connection_key)
                    .collect()
            }
            None => candidates.to_vec(),
        };
        match on_connection.as_slice() {
            [only] => Ok(only),
            [] => Err(format!(
                "{at}.Repository: no repository link is for '{repository}'{}",
                connection_name
                    .map(|name| format!(" on connection '{name}'"))
                    .unwrap_or_default()
            )),
            _ => Err(format!(
                "{at}.Repository: '{repository}' is linked through several connections; add Connection to choose one"
            )),
        }
    }

    fn sync_blockers(&mut self, blockers: Vec<SyncBlockerSpec>) -> Result<usize, String> {
        let count = blockers.len();
        for (index, spec) in blockers.into_iter().enumerate() {
            let at = format!("SyncBlockers[{index}]");
            if !rules::reason_is_given(&spec.created_reason) {
                return Err(format!("{at}.CreatedReason: must not be empty"));
            }
            let id = spec.id.unwrap_or_else(rules::new_blocker_id);
            self.check("Id", &id, &format!("{at}.Id"))?;
            let created_at = match &spec.created_at {
                Some(text) => self.time(text, &format!("{at}.CreatedAt"))?,
                None => self.now,
            };
            let (resolved_reason, resolved_at) = match spec.status {
                BlockerStatus::Active => {
                    if spec.resolved_reason.is_some() || spec.resolved_at.is_some() {
                        return Err(format!(
                            "{at}: only a RESOLVED blocker has a ResolvedReason or ResolvedAt"
                        ));
                    }
                    (None, None)
                }
                BlockerStatus::Resolved => {
                    let reason = spec.resolved_reason.ok_or_else(|| {
                        format!("{at}.ResolvedReason: a RESOLVED blocker needs one")
                    })?;
                    self.check("ResolvedReason", &reason, &format!("{at}.ResolvedReason"))?;
                    let resolved_at = match &spec.resolved_at {
                        Some(text) => self.time(text, &format!("{at}.ResolvedAt"))?,
                        None => self.now,
                    };
                    if resolved_at < created_at {
                        return Err(format!("{at}.ResolvedAt: is before CreatedAt"));
                    }
                    (Some(reason), Some(resolved_at))
                }
            };
            let record = self
                .state
                .sync_configurations
                .get_mut(&sync_key(spec.sync_type, &spec.resource_name))
                .ok_or_else(|| {
                    format!(
                        "{at}.ResourceName: no {} sync configuration exists for '{}'",
                        spec.sync_type.name(),
                        spec.resource_name
                    )
                })?;
            record.persistent_cause |= spec.persistent;
            if record.blockers.iter().any(|blocker| blocker.id == id) {
                return Err(format!(
                    "{at}.Id: resource '{}' already has a blocker with the Id {id}",
                    spec.resource_name
                ));
            }
            record.add_blocker(SyncBlocker {
                id,
                kind: BlockerType::Automated,
                status: spec.status,
                created_reason: spec.created_reason,
                created_at,
                contexts: spec.contexts,
                resolved_reason,
                resolved_at,
            });
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            sync_step_delay: std::time::Duration::ZERO,
        }
    }

    fn load(yaml: &str) -> Result<(Backend, SeedCounts), String> {
        let model =
            Model::load(crate::api::Api::CodeStarConnections).map_err(|error| error.to_string())?;
        let document: ScenarioDocument =
            serde_yaml_ng::from_str(yaml).map_err(|error| error.to_string())?;
        let mut backend = Backend::new(settings());
        let counts = apply(document, &mut backend, &model, Timestamp::now())?;
        Ok((backend, counts))
    }

    const SMALL: &str = r#"
Hosts:
  - Name: ghes
    ProviderType: GitHubEnterpriseServer
    ProviderEndpoint: https://git.example.com
    Status: AVAILABLE
Connections:
  - Name: gh
    ProviderType: GitHub
    Status: AVAILABLE
    Tags: {team: platform}
  - Name: ghes-conn
    Host: ghes
    Arn: arn:aws:codeconnections:us-east-1:123456789012:connection/0b3c5d7e-1111-2222-3333-444455556666
RepositoryLinks:
  - Connection: gh
    OwnerId: acme
    RepositoryName: infra
    Id: 11111111-2222-3333-4444-555555555555
  - Connection: ghes-conn
    OwnerId: acme
    RepositoryName: infra
SyncConfigurations:
  - ResourceName: payments
    Repository: acme/infra
    Connection: gh
SyncBlockers:
  - ResourceName: payments
    CreatedReason: Stack is in UPDATE_ROLLBACK_FAILED
    CreatedAt: 2h ago
  - ResourceName: payments
    Status: RESOLVED
    CreatedReason: earlier failure
    CreatedAt: 2025-01-01T00:00:00Z
    ResolvedReason: fixed
    ResolvedAt: 2025-01-01T01:00:00Z
Faults:
  LatencyMs: 5
"#;

    #[test]
    fn a_document_creates_everything_it_names() {
        let (backend, counts) = load(SMALL).expect("loads");
        assert_eq!(
            (
                counts.hosts,
                counts.connections,
                counts.repository_links,
                counts.sync_configurations,
                counts.sync_blockers
            ),
            (1, 2, 2, 1, 2)
        );
        let connection = backend
            .state()
            .connection("arn:aws:codestar-connections:us-east-1:123456789012:connection/0b3c5d7e-1111-2222-3333-444455556666")
            .expect("found under either prefix");
        assert!(
            connection
                .connection
                .connection_arn
                .starts_with("arn:aws:codeconnections:")
        );
        assert_eq!(
            connection.connection.provider_type,
            ProviderType::GitHubEnterpriseServer
        );
        let record = backend
            .state()
            .sync_configurations
            .get("CFN_STACK_SYNC/payments")
            .expect("configured");
        assert_eq!(
            record.configuration.repository_link_id,
            "11111111-2222-3333-4444-555555555555"
        );
        assert_eq!(record.blockers[0].status, BlockerStatus::Active);
        assert_eq!(record.blockers[1].status, BlockerStatus::Resolved);
        assert_eq!(backend.fault_config().latency_ms, 5);
    }

    #[test]
    fn an_ambiguous_repository_needs_a_connection() {
        let yaml = SMALL.replace("    Connection: gh\nSyncBlockers", "SyncBlockers");
        let error = load(&yaml).expect_err("ambiguous");
        assert!(
            error.contains("SyncConfigurations[0].Repository"),
            "{error}"
        );
        assert!(error.contains("several connections"), "{error}");
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "Connections:\n  - Name: c\n    ProviderType: GitHub\n    Status: BROKEN\n",
                "Connections[0].Status",
            ),
            (
                "Connections:\n  - Name: c\n    Provider: GitHub\n",
                "unknown field `Provider`",
            ),
            (
                "RepositoryLinks:\n  - Connection: nope\n    OwnerId: o\n    RepositoryName: r\n",
                "RepositoryLinks[0].Connection: no connection is named 'nope'",
            ),
            (
                "Connections:\n  - Name: c\n    ProviderType: GitHubEnterpriseServer\n",
                "Connections[0].Host",
            ),
            (
                "SyncBlockers:\n  - ResourceName: ghost\n    CreatedReason: x\n",
                "SyncBlockers[0].ResourceName",
            ),
            ("Faults:\n  ThrottleRate: 2\n", "Faults: ThrottleRate"),
        ];
        for (yaml, expected) in cases {
            let error = load(yaml).expect_err(yaml);
            assert!(
                error.contains(expected),
                "{error} should contain {expected}"
            );
        }
    }

    #[test]
    fn a_failing_document_changes_nothing() {
        let model = Model::load(crate::api::Api::CodeStarConnections).expect("model");
        let mut backend = Backend::new(settings());
        let yaml = "Connections:\n  - Name: ok\n    ProviderType: GitHub\n  - Name: bad\n";
        let document: ScenarioDocument = serde_yaml_ng::from_str(yaml).expect("parses");
        assert!(apply(document, &mut backend, &model, Timestamp::now()).is_err());
        assert_eq!(backend.state().connections.values().count(), 0);
    }

    #[test]
    fn ages_and_rfc3339_times_are_accepted() {
        let model = Model::load(crate::api::Api::CodeStarConnections).expect("model");
        let mut state = State::default();
        let loader = Loader {
            model: &model,
            settings: &settings(),
            now: Timestamp::from_system_time(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(7_200),
            ),
            state: &mut state,
        };
        assert_eq!(
            loader.time("1h ago", "x").map(Timestamp::to_rfc3339),
            Ok("1970-01-01T01:00:00Z".to_owned())
        );
        assert_eq!(
            loader
                .time("2025-06-01T12:00:00Z", "x")
                .map(Timestamp::to_rfc3339),
            Ok("2025-06-01T12:00:00Z".to_owned())
        );
        assert!(loader.time("yesterday", "x").is_err());
    }
}
