//! Scenario documents: a YAML file given at start (`--scenario`) or the same schema as JSON
//! (`POST /_emulator/seed`). Resources refer to each other by name: a connection names its
//! host, a repository link its connection, a sync configuration its repository
//! (`OWNER/REPO`), a blocker its resource. A document applies entirely or not at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Api;
use crate::api_error::ApiError;
use crate::arn;
use crate::faults::FaultConfig;
use crate::model::Model;
use crate::service::rules::{self, NEW_HOST_STATUS};
use crate::service::{
    Accounts, Backend, CreateConnectionRequest, CreateHostRequest, CreateRepositoryLinkRequest,
    CreateSyncConfigurationRequest, LinkIdentity, PersistentCause, is_account_id,
};
use crate::state::{
    BlockerStatus, BlockerType, ConnectionStatus, KeyValue, ProviderType, PublishDeploymentStatus,
    PullRequestComment, State, SyncBlocker, SyncType, Timestamp, TriggerResourceUpdateOn,
    VpcConfiguration,
};
use crate::validate::validate_named;

const DEFAULT_BRANCH: &str = "main";
const DEFAULT_CONFIG_FILE: &str = "deployment-file.yaml";
const DEFAULT_ROLE_NAME: &str = "CloudFormationGitSyncRole";
/// Resources a scenario creates carry the original ARN prefix, unless it fixes their ARN.
const SCENARIO_API: Api = Api::CodeStarConnections;

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
    let counts = backend.change_all_or_nothing(|backend| {
        let mut loader = Loader {
            model,
            now,
            backend,
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

/// Creates a document's resources through the service's actions, as the API does, so
/// that the service's rules decide; the loader resolves names and checks fields.
struct Loader<'a> {
    model: &'a Model,
    now: Timestamp,
    backend: &'a mut Backend,
}

/// The service's refusal of the resource at a place in the document.
fn refused(at: &str) -> impl Fn(ApiError) -> String + '_ {
    move |error| format!("{at}: {error}")
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

/// A time in a document: an age before `now` (`3h ago`) or an RFC 3339 time.
fn time(text: &str, path: &str, now: Timestamp) -> Result<Timestamp, String> {
    if let Some(age) = text.strip_suffix(" ago") {
        let age = humantime::parse_duration(age.trim())
            .map_err(|error| format!("{path}: '{text}' is not an age such as '3h ago': {error}"))?;
        return Ok(now.earlier_by(age));
    }
    humantime::parse_rfc3339_weak(text)
        .map(Timestamp::from_system_time)
        .map_err(|error| {
            format!("{path}: '{text}' is neither an RFC 3339 time such as 2025-06-01T12:00:00Z nor an age such as '3h ago': {error}")
        })
}

/// Connection ARNs by name, built once: seed documents can hold thousands of links.
struct ConnectionsByName(HashMap<String, Vec<String>>);

impl ConnectionsByName {
    fn new(state: &State) -> Self {
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for record in state.connections.values() {
            by_name
                .entry(record.connection.connection_name.clone())
                .or_default()
                .push(record.connection.connection_arn.clone());
        }
        Self(by_name)
    }

    fn arn(&self, name: &str) -> Result<&str, String> {
        match self.0.get(name).map(Vec::as_slice) {
            Some([only]) => Ok(only),
            Some(_) => Err(format!("several connections are named '{name}'")),
            None => Err(format!("no connection is named '{name}'")),
        }
    }
}

/// A repository link a sync configuration may be on.
struct LinkChoice {
    repository_link_id: String,
    connection_key: String,
}

/// The links of each repository (`OWNER`, `REPO`), built once.
struct LinksByRepository(HashMap<(String, String), Vec<LinkChoice>>);

impl LinksByRepository {
    fn new(state: &State) -> Self {
        let mut by_repository: HashMap<(String, String), Vec<LinkChoice>> = HashMap::new();
        for record in state.links.values() {
            let link = &record.link;
            by_repository
                .entry((link.owner_id.clone(), link.repository_name.clone()))
                .or_default()
                .push(LinkChoice {
                    repository_link_id: link.repository_link_id.clone(),
                    connection_key: arn::key(&link.connection_arn),
                });
        }
        Self(by_repository)
    }

    fn of(&self, owner_id: &str, repository_name: &str) -> &[LinkChoice] {
        self.0
            .get(&(owner_id.to_owned(), repository_name.to_owned()))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }
}

impl Loader<'_> {
    fn check(&self, shape: &str, value: &str, path: &str) -> Result<(), String> {
        validate_named(self.model, shape, &Value::String(value.to_owned()), path)
    }

    /// Tags with checked keys and values; the service decides how many a resource can have.
    fn tags(&self, tags: BTreeMap<String, String>, at: &str) -> Result<Vec<KeyValue>, String> {
        tags.into_iter()
            .map(|(key, value)| {
                self.check("TagKey", &key, &format!("{at}.Tags"))?;
                self.check("TagValue", &value, &format!("{at}.Tags.{key}"))?;
                Ok(KeyValue { key, value })
            })
            .collect()
    }

    fn hosts(&mut self, hosts: Vec<HostSpec>) -> Result<usize, String> {
        let count = hosts.len();
        let mut names: HashSet<String> = self
            .backend
            .state()
            .hosts
            .values()
            .map(|record| record.host.name.clone())
            .collect();
        for (index, spec) in hosts.into_iter().enumerate() {
            let at = format!("Hosts[{index}]");
            if !names.insert(spec.name.clone()) {
                return Err(format!(
                    "{at}.Name: a host named '{}' already exists",
                    spec.name
                ));
            }
            self.host(spec, &at)?;
        }
        Ok(count)
    }

    fn host(&mut self, spec: HostSpec, at: &str) -> Result<(), String> {
        self.check("HostName", &spec.name, &format!("{at}.Name"))?;
        self.check(
            "Url",
            &spec.provider_endpoint,
            &format!("{at}.ProviderEndpoint"),
        )?;
        let status = spec.status.unwrap_or_else(|| NEW_HOST_STATUS.to_owned());
        self.check("HostStatus", &status, &format!("{at}.Status"))?;
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
        let request = CreateHostRequest {
            name: spec.name,
            provider_type: spec.provider_type,
            provider_endpoint: spec.provider_endpoint,
            vpc_configuration: spec.vpc_configuration,
            tags: Some(self.tags(spec.tags, at)?),
        };
        let host_arn = self
            .backend
            .create_host_as(request, SCENARIO_API, spec.arn)
            .map_err(refused(at))?
            .host
            .host_arn;
        self.backend
            .set_host_status(&host_arn, status, spec.status_message)
            .map_err(refused(at))?;
        Ok(())
    }

    fn connections(&mut self, connections: Vec<ConnectionSpec>) -> Result<usize, String> {
        let count = connections.len();
        let mut names: HashSet<String> = self
            .backend
            .state()
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
            self.connection(spec, &at)?;
        }
        Ok(count)
    }

    fn connection(&mut self, spec: ConnectionSpec, at: &str) -> Result<(), String> {
        let host_arn = match &spec.host {
            Some(host_name) => Some(
                unique_by_name(
                    self.backend.state().hosts.values(),
                    |record| &record.host.name,
                    host_name,
                    "host",
                )
                .map_err(|message| format!("{at}.Host: {message}"))?
                .host
                .host_arn
                .clone(),
            ),
            None => None,
        };
        let request = CreateConnectionRequest {
            connection_name: spec.name,
            provider_type: spec.provider_type,
            host_arn,
            tags: Some(self.tags(spec.tags, at)?),
        };
        let connection_arn = self
            .backend
            .create_connection_as(request, SCENARIO_API, spec.arn)
            .map_err(refused(at))?
            .connection
            .connection_arn;
        self.backend
            .set_connection_status(&connection_arn, spec.status)
            .map_err(refused(at))?;
        Ok(())
    }

    fn repository_links(&mut self, links: Vec<RepositoryLinkSpec>) -> Result<usize, String> {
        let count = links.len();
        let connections = ConnectionsByName::new(self.backend.state());
        for (index, spec) in links.into_iter().enumerate() {
            let at = format!("RepositoryLinks[{index}]");
            let connection_arn = connections
                .arn(&spec.connection)
                .map_err(|message| format!("{at}.Connection: {message}"))?;
            self.repository_link(spec, connection_arn.to_owned(), &at)?;
        }
        Ok(count)
    }

    fn repository_link(
        &mut self,
        spec: RepositoryLinkSpec,
        connection_arn: String,
        at: &str,
    ) -> Result<(), String> {
        self.check("OwnerId", &spec.owner_id, &format!("{at}.OwnerId"))?;
        self.check(
            "RepositoryName",
            &spec.repository_name,
            &format!("{at}.RepositoryName"),
        )?;
        if let Some(key_arn) = &spec.encryption_key_arn {
            self.check("KmsKeyArn", key_arn, &format!("{at}.EncryptionKeyArn"))?;
        }
        // The id the link will have when the document fixes it, by `Id` or by `Arn`.
        let fixed_id = spec.id.as_deref().or_else(|| {
            let (_, id) = arn::resource(spec.arn.as_deref()?)?;
            Some(id)
        });
        if let Some(id) = fixed_id {
            self.check("RepositoryLinkId", id, &format!("{at}.Id"))?;
        }
        let request = CreateRepositoryLinkRequest {
            connection_arn,
            owner_id: spec.owner_id,
            repository_name: spec.repository_name,
            encryption_key_arn: spec.encryption_key_arn,
            tags: Some(self.tags(spec.tags, at)?),
        };
        let fixed = LinkIdentity {
            id: spec.id,
            arn: spec.arn,
        };
        self.backend
            .create_repository_link_as(request, SCENARIO_API, fixed)
            .map_err(refused(at))?;
        Ok(())
    }

    fn sync_configurations(
        &mut self,
        configurations: Vec<SyncConfigurationSpec>,
    ) -> Result<usize, String> {
        let count = configurations.len();
        let links = LinksByRepository::new(self.backend.state());
        for (index, spec) in configurations.into_iter().enumerate() {
            let at = format!("SyncConfigurations[{index}]");
            self.sync_configuration(spec, &links, &at)?;
        }
        Ok(count)
    }

    fn sync_configuration(
        &mut self,
        spec: SyncConfigurationSpec,
        links: &LinksByRepository,
        at: &str,
    ) -> Result<(), String> {
        self.check(
            "ResourceName",
            &spec.resource_name,
            &format!("{at}.ResourceName"),
        )?;
        let branch = spec.branch.unwrap_or_else(|| DEFAULT_BRANCH.to_owned());
        self.check("BranchName", &branch, &format!("{at}.Branch"))?;
        let role_arn = spec.role_arn.unwrap_or_else(|| {
            let account = &self.backend.settings().account;
            format!("arn:aws:iam::{account}:role/{DEFAULT_ROLE_NAME}")
        });
        self.check("IamRoleArn", &role_arn, &format!("{at}.RoleArn"))?;
        let Some((owner_id, repository_name)) = spec.repository.rsplit_once('/') else {
            return Err(format!(
                "{at}.Repository: '{}' is not OWNER/REPO",
                spec.repository
            ));
        };
        let repository_link_id = self.choose_link(
            links.of(owner_id, repository_name),
            spec.connection.as_deref(),
            &spec.repository,
            at,
        )?;
        let request = CreateSyncConfigurationRequest {
            branch,
            config_file: spec
                .config_file
                .unwrap_or_else(|| DEFAULT_CONFIG_FILE.to_owned()),
            repository_link_id,
            resource_name: spec.resource_name,
            role_arn,
            sync_type: spec.sync_type,
            publish_deployment_status: Some(spec.publish_deployment_status),
            trigger_resource_update_on: Some(spec.trigger_resource_update_on),
            pull_request_comment: spec.pull_request_comment,
        };
        self.backend
            .create_sync_configuration(request)
            .map_err(refused(at))?;
        Ok(())
    }

    /// The id of the one link of the repository, on the named connection when one is named.
    fn choose_link(
        &self,
        candidates: &[LinkChoice],
        connection_name: Option<&str>,
        repository: &str,
        at: &str,
    ) -> Result<String, String> {
        let on_connection: Vec<&LinkChoice> = match connection_name {
            Some(name) => {
                let connection = unique_by_name(
                    self.backend.state().connections.values(),
                    |record| &record.connection.connection_name,
                    name,
                    "connection",
                )
                .map_err(|message| format!("{at}.Connection: {message}"))?;
                let connection_key = arn::key(&connection.connection.connection_arn);
                candidates
                    .iter()
                    .filter(|link| link.connection_key == connection_key)
                    .collect()
            }
            None => candidates.iter().collect(),
        };
        match on_connection.as_slice() {
            [only] => Ok(only.repository_link_id.clone()),
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
            self.sync_blocker(spec, &format!("SyncBlockers[{index}]"))?;
        }
        Ok(count)
    }

    fn sync_blocker(&mut self, spec: SyncBlockerSpec, at: &str) -> Result<(), String> {
        let id = spec.id.unwrap_or_else(rules::new_blocker_id);
        self.check("Id", &id, &format!("{at}.Id"))?;
        let created_at = match &spec.created_at {
            Some(text) => time(text, &format!("{at}.CreatedAt"), self.now)?,
            None => self.now,
        };
        let (resolved_reason, resolved_at) = self.resolution(
            spec.status,
            spec.resolved_reason,
            spec.resolved_at.as_deref(),
            created_at,
            at,
        )?;
        let blocker = SyncBlocker {
            id,
            kind: BlockerType::Automated,
            status: spec.status,
            created_reason: spec.created_reason,
            created_at,
            contexts: spec.contexts,
            resolved_reason,
            resolved_at,
        };
        self.backend
            .add_blocker(spec.sync_type, &spec.resource_name, blocker)
            .map_err(refused(at))?;
        if spec.persistent {
            let marking = PersistentCause {
                resource_name: spec.resource_name,
                sync_type: spec.sync_type,
                persistent: true,
            };
            self.backend
                .set_persistent_cause(marking)
                .map_err(refused(at))?;
        }
        Ok(())
    }

    /// The resolution of a blocker: none while ACTIVE, a reason and a time once RESOLVED.
    fn resolution(
        &self,
        status: BlockerStatus,
        reason: Option<String>,
        resolved_at: Option<&str>,
        created_at: Timestamp,
        at: &str,
    ) -> Result<(Option<String>, Option<Timestamp>), String> {
        match status {
            BlockerStatus::Active if reason.is_some() || resolved_at.is_some() => Err(format!(
                "{at}: only a RESOLVED blocker has a ResolvedReason or ResolvedAt"
            )),
            BlockerStatus::Active => Ok((None, None)),
            BlockerStatus::Resolved => {
                let reason = reason
                    .ok_or_else(|| format!("{at}.ResolvedReason: a RESOLVED blocker needs one"))?;
                self.check("ResolvedReason", &reason, &format!("{at}.ResolvedReason"))?;
                let resolved_at = match resolved_at {
                    Some(text) => time(text, &format!("{at}.ResolvedAt"), self.now)?,
                    None => self.now,
                };
                if resolved_at < created_at {
                    return Err(format!("{at}.ResolvedAt: is before CreatedAt"));
                }
                Ok((Some(reason), Some(resolved_at)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Settings;

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
                "Connections[0]: InvalidInputException: ProviderType GitHubEnterpriseServer is reached through a host",
            ),
            (
                "SyncBlockers:\n  - ResourceName: ghost\n    CreatedReason: x\n",
                "SyncBlockers[0]: ResourceNotFoundException: No sync configuration of type CFN_STACK_SYNC exists for resource ghost",
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
    fn the_services_rules_refuse_what_they_refuse_through_the_api() {
        let connection = "Connections:\n  - Name: gh\n    ProviderType: GitHub\n";
        let link_item = "  - Connection: gh\n    OwnerId: acme\n    RepositoryName: infra\n";
        let link = format!("RepositoryLinks:\n{link_item}");
        let configuration_item = "  - ResourceName: app\n    Repository: acme/infra\n";
        let configuration = format!("SyncConfigurations:\n{configuration_item}");
        let blocker = "  - ResourceName: app\n    Id: b1\n    CreatedReason: failed\n";
        let cases = [
            (
                format!("{connection}{link}{link_item}"),
                "RepositoryLinks[1]: ResourceAlreadyExistsException: Repository acme/infra already has repository link",
            ),
            (
                format!("{connection}{link}{configuration}{configuration_item}"),
                "SyncConfigurations[1]: ResourceAlreadyExistsException: A sync configuration of type CFN_STACK_SYNC already exists for resource app",
            ),
            (
                format!("{connection}{link}{configuration}SyncBlockers:\n{blocker}{blocker}"),
                "SyncBlockers[1]: ResourceAlreadyExistsException: Resource app already has a sync blocker with the Id b1",
            ),
            (
                format!(
                    "{connection}{link}    Id: 11111111-2222-3333-4444-555555555555\n    Arn: arn:aws:codestar-connections:us-east-1:123456789012:repository-link/11111111-2222-3333-4444-666666666666\n"
                ),
                "RepositoryLinks[0]: InvalidInputException: Repository link ARN",
            ),
            (
                format!(
                    "{connection}    Arn: arn:aws:codestar-connections:us-east-1:123456789012:host/h-1\n"
                ),
                "Connections[0]: InvalidInputException: arn:aws:codestar-connections:us-east-1:123456789012:host/h-1 does not name a Connection",
            ),
        ];
        for (yaml, expected) in cases {
            let error = load(&yaml).expect_err(&yaml);
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
        let now = Timestamp::from_system_time(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(7_200),
        );
        assert_eq!(
            time("1h ago", "x", now).map(Timestamp::to_rfc3339),
            Ok("1970-01-01T01:00:00Z".to_owned())
        );
        assert_eq!(
            time("2025-06-01T12:00:00Z", "x", now).map(Timestamp::to_rfc3339),
            Ok("2025-06-01T12:00:00Z".to_owned())
        );
        assert!(time("yesterday", "x", now).is_err());
    }
}
