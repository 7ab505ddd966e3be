//! The 27 operations over the in-memory state. Inputs arrive already validated against the
//! model; what remains here is what the model cannot say: existence, uniqueness, references.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api_error::{ApiError, ErrorKind};
use crate::arn::{self, ResourceKind};
use crate::operation::Operation;
use crate::pagination::{Scope, page_size, take_page};
use crate::state::{
    BLOCKER_SUMMARY_SIZE, BlockerStatus, Connection, ConnectionRecord, ConnectionStatus, Host,
    HostRecord, KeyValue, LinkRecord, ProviderType, PublishDeploymentStatus, RepositoryLinkInfo,
    State, SyncConfiguration, SyncConfigurationRecord, SyncType, Timestamp,
    TriggerResourceUpdateOn, VpcConfiguration, sync_key,
};

/// AWS's limit of tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// The status a new host starts in, as a host created through the API does.
pub const NEW_HOST_STATUS: &str = "PENDING";

/// Host statuses in which the service refuses to delete a host.
const HOST_STATUSES_BLOCKING_DELETE: [&str; 2] = ["VPC_CONFIG_INITIALIZING", "VPC_CONFIG_DELETING"];

pub struct Context<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub now: Timestamp,
    /// What this operation answers for invalid input: `InvalidInputException` where its
    /// model lists that error, `ValidationException` otherwise.
    pub invalid_input: ErrorKind,
}

impl Context<'_> {
    fn invalid(&self, message: impl Into<String>) -> ApiError {
        ApiError::new(self.invalid_input, message)
    }
}

pub fn execute(
    operation: Operation,
    input: Value,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    match operation {
        Operation::CreateConnection => create_connection(parse(input, context)?, state, context),
        Operation::CreateHost => create_host(parse(input, context)?, state, context),
        Operation::CreateRepositoryLink => {
            create_repository_link(parse(input, context)?, state, context)
        }
        Operation::CreateSyncConfiguration => {
            create_sync_configuration(parse(input, context)?, state, context)
        }
        Operation::DeleteConnection => delete_connection(parse(input, context)?, state),
        Operation::DeleteHost => delete_host(parse(input, context)?, state),
        Operation::DeleteRepositoryLink => delete_repository_link(parse(input, context)?, state),
        Operation::DeleteSyncConfiguration => {
            delete_sync_configuration(parse(input, context)?, state)
        }
        Operation::GetConnection => get_connection(parse(input, context)?, state),
        Operation::GetHost => get_host(parse(input, context)?, state),
        Operation::GetRepositoryLink => get_repository_link(parse(input, context)?, state),
        Operation::GetRepositorySyncStatus => {
            get_repository_sync_status(parse(input, context)?, state)
        }
        Operation::GetResourceSyncStatus => get_resource_sync_status(parse(input, context)?, state),
        Operation::GetSyncBlockerSummary => get_sync_blocker_summary(parse(input, context)?, state),
        Operation::GetSyncConfiguration => get_sync_configuration(parse(input, context)?, state),
        Operation::ListConnections => list_connections(parse(input, context)?, state, context),
        Operation::ListHosts => list_hosts(parse(input, context)?, state, context),
        Operation::ListRepositoryLinks => {
            list_repository_links(parse(input, context)?, state, context)
        }
        Operation::ListRepositorySyncDefinitions => {
            list_repository_sync_definitions(parse(input, context)?, state)
        }
        Operation::ListSyncConfigurations => {
            list_sync_configurations(parse(input, context)?, state, context)
        }
        Operation::ListTagsForResource => list_tags_for_resource(parse(input, context)?, state),
        Operation::TagResource => tag_resource(parse(input, context)?, state),
        Operation::UntagResource => untag_resource(parse(input, context)?, state),
        Operation::UpdateHost => update_host(parse(input, context)?, state),
        Operation::UpdateRepositoryLink => {
            update_repository_link(parse(input, context)?, state, context)
        }
        Operation::UpdateSyncBlocker => update_sync_blocker(parse(input, context)?, state, context),
        Operation::UpdateSyncConfiguration => {
            update_sync_configuration(parse(input, context)?, state, context)
        }
    }
}

/// Reads a validated input into its typed form; a failure here means a value the model
/// allows but the emulator cannot represent, answered as invalid input.
fn parse<T: DeserializeOwned>(input: Value, context: &Context) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|error| context.invalid(format!("Invalid input: {error}")))
}

fn no_sync_configuration(sync_type: SyncType, resource_name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No sync configuration of type {} exists for resource {resource_name}",
        sync_type.name()
    ))
}

fn no_repository_link(repository_link_id: &str) -> String {
    format!("Repository link {repository_link_id} does not exist")
}

fn with_next_token(mut output: Value, next_token: Option<String>) -> Value {
    if let Some(next_token) = next_token {
        output["NextToken"] = Value::String(next_token);
    }
    output
}

fn page_start(scope: &Scope, next_token: Option<&str>, context: &Context) -> Result<u64, ApiError> {
    next_token.map_or(Ok(0), |token| {
        scope
            .decode(token)
            .map_err(|error| context.invalid(error.to_string()))
    })
}

fn check_tag_count(tags: &[KeyValue]) -> Result<(), ApiError> {
    if tags.len() > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::new(
            ErrorKind::LimitExceeded,
            format!(
                "A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; this request would give it {}",
                tags.len()
            ),
        ));
    }
    Ok(())
}

/// Adds or overwrites tags by key, keeping the order in which keys first appeared.
fn merge_tags(existing: &mut Vec<KeyValue>, added: Vec<KeyValue>) {
    for tag in added {
        match existing.iter_mut().find(|current| current.key == tag.key) {
            Some(current) => current.value = tag.value,
            None => existing.push(tag),
        }
    }
}

fn new_tags(tags: Option<Vec<KeyValue>>) -> Result<Vec<KeyValue>, ApiError> {
    let mut merged = Vec::new();
    merge_tags(&mut merged, tags.unwrap_or_default());
    check_tag_count(&merged)?;
    Ok(merged)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateConnectionInput {
    connection_name: String,
    provider_type: Option<ProviderType>,
    host_arn: Option<String>,
    tags: Option<Vec<KeyValue>>,
}

fn create_connection(
    input: CreateConnectionInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    let tags = new_tags(input.tags)?;
    let provider_type = match (&input.host_arn, input.provider_type) {
        (Some(host_arn), requested) => {
            let host = state
                .host(host_arn)
                .ok_or_else(|| ApiError::not_found(format!("Host {host_arn} does not exist")))?;
            let host_type = host.host.provider_type;
            if let Some(requested) = requested.filter(|requested| *requested != host_type) {
                return Err(context.invalid(format!(
                    "ProviderType {} does not match the provider type {} of host {host_arn}",
                    requested.name(),
                    host_type.name()
                )));
            }
            host_type
        }
        (None, Some(provider_type)) if provider_type.is_self_managed() => {
            return Err(context.invalid(format!(
                "ProviderType {} is reached through a host: specify HostArn",
                provider_type.name()
            )));
        }
        (None, Some(provider_type)) => provider_type,
        (None, None) => {
            return Err(context.invalid("Either ProviderType or HostArn must be specified"));
        }
    };
    let connection_arn = arn::build(
        context.region,
        context.account,
        ResourceKind::Connection,
        &Uuid::new_v4().to_string(),
    );
    state.insert_connection(ConnectionRecord {
        connection: Connection {
            connection_name: input.connection_name,
            connection_arn: connection_arn.clone(),
            provider_type,
            owner_account_id: context.account.to_owned(),
            connection_status: ConnectionStatus::Pending,
            host_arn: input.host_arn,
        },
        tags: tags.clone(),
    });
    let mut output = json!({ "ConnectionArn": connection_arn });
    if !tags.is_empty() {
        output["Tags"] = json!(tags);
    }
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateHostInput {
    name: String,
    provider_type: ProviderType,
    provider_endpoint: String,
    vpc_configuration: Option<VpcConfiguration>,
    tags: Option<Vec<KeyValue>>,
}

fn create_host(
    input: CreateHostInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    if !input.provider_type.is_self_managed() {
        return Err(context.invalid(format!(
            "ProviderType {} has no hosts: hosts are for GitHubEnterpriseServer and GitLabSelfManaged",
            input.provider_type.name()
        )));
    }
    let tags = new_tags(input.tags)?;
    let suffix = Uuid::new_v4().simple().to_string();
    let host_arn = arn::build(
        context.region,
        context.account,
        ResourceKind::Host,
        &format!("{}-{}", input.name, &suffix[..8]),
    );
    state.insert_host(HostRecord {
        host: Host {
            name: input.name,
            host_arn: host_arn.clone(),
            provider_type: input.provider_type,
            provider_endpoint: input.provider_endpoint,
            vpc_configuration: input.vpc_configuration,
            status: NEW_HOST_STATUS.to_owned(),
            status_message: None,
        },
        tags: tags.clone(),
    });
    let mut output = json!({ "HostArn": host_arn });
    if !tags.is_empty() {
        output["Tags"] = json!(tags);
    }
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRepositoryLinkInput {
    connection_arn: String,
    owner_id: String,
    repository_name: String,
    encryption_key_arn: Option<String>,
    tags: Option<Vec<KeyValue>>,
}

fn create_repository_link(
    input: CreateRepositoryLinkInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    let tags = new_tags(input.tags)?;
    let connection = state.connection(&input.connection_arn).ok_or_else(|| {
        context.invalid(format!(
            "Connection {} does not exist",
            input.connection_arn
        ))
    })?;
    let provider_type = connection.connection.provider_type;
    if let Some(existing) = state.link_of_repository(
        &input.connection_arn,
        &input.owner_id,
        &input.repository_name,
    ) {
        return Err(ApiError::new(
            ErrorKind::ResourceAlreadyExists,
            format!(
                "Repository {}/{} already has repository link {} on connection {}",
                input.owner_id,
                input.repository_name,
                existing.link.repository_link_id,
                input.connection_arn
            ),
        ));
    }
    let repository_link_id = Uuid::new_v4().to_string();
    let link = RepositoryLinkInfo {
        connection_arn: input.connection_arn,
        encryption_key_arn: input.encryption_key_arn,
        owner_id: input.owner_id,
        provider_type,
        repository_link_arn: arn::build(
            context.region,
            context.account,
            ResourceKind::RepositoryLink,
            &repository_link_id,
        ),
        repository_link_id,
        repository_name: input.repository_name,
    };
    state.insert_link(LinkRecord {
        link: link.clone(),
        tags,
        repository_syncs: Default::default(),
    });
    Ok(json!({ "RepositoryLinkInfo": link }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateSyncConfigurationInput {
    branch: String,
    config_file: String,
    repository_link_id: String,
    resource_name: String,
    role_arn: String,
    sync_type: SyncType,
    publish_deployment_status: Option<PublishDeploymentStatus>,
    trigger_resource_update_on: Option<TriggerResourceUpdateOn>,
}

fn create_sync_configuration(
    input: CreateSyncConfigurationInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    let key = sync_key(input.sync_type, &input.resource_name);
    if state.sync_configurations.contains_key(&key) {
        return Err(ApiError::new(
            ErrorKind::ResourceAlreadyExists,
            format!(
                "A sync configuration of type {} already exists for resource {}",
                input.sync_type.name(),
                input.resource_name
            ),
        ));
    }
    let link = &state
        .links
        .get(&input.repository_link_id)
        .ok_or_else(|| context.invalid(no_repository_link(&input.repository_link_id)))?
        .link;
    let configuration = SyncConfiguration {
        branch: input.branch,
        config_file: input.config_file,
        owner_id: link.owner_id.clone(),
        provider_type: link.provider_type,
        repository_link_id: input.repository_link_id,
        repository_name: link.repository_name.clone(),
        resource_name: input.resource_name,
        role_arn: input.role_arn,
        sync_type: input.sync_type,
        publish_deployment_status: input.publish_deployment_status.unwrap_or_default(),
        trigger_resource_update_on: input.trigger_resource_update_on.unwrap_or_default(),
    };
    let output = json!({ "SyncConfiguration": configuration });
    state.insert_sync_configuration(SyncConfigurationRecord::new(configuration));
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionArnInput {
    connection_arn: String,
}

fn delete_connection(input: ConnectionArnInput, state: &mut State) -> Result<Value, ApiError> {
    state
        .connections
        .remove(&arn::key(&input.connection_arn))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "Connection {} does not exist",
                input.connection_arn
            ))
        })?;
    Ok(json!({}))
}

fn get_connection(input: ConnectionArnInput, state: &State) -> Result<Value, ApiError> {
    let record = state.connection(&input.connection_arn).ok_or_else(|| {
        ApiError::not_found(format!(
            "Connection {} does not exist",
            input.connection_arn
        ))
    })?;
    Ok(json!({ "Connection": record.connection }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HostArnInput {
    host_arn: String,
}

fn no_host(host_arn: &str) -> ApiError {
    ApiError::not_found(format!("Host {host_arn} does not exist"))
}

fn delete_host(input: HostArnInput, state: &mut State) -> Result<Value, ApiError> {
    let key = arn::key(&input.host_arn);
    let host = &state
        .hosts
        .get(&key)
        .ok_or_else(|| no_host(&input.host_arn))?
        .host;
    if HOST_STATUSES_BLOCKING_DELETE.contains(&host.status.as_str()) {
        return Err(ApiError::new(
            ErrorKind::ResourceUnavailable,
            format!(
                "Host {} cannot be deleted while in status {}",
                input.host_arn, host.status
            ),
        ));
    }
    state.hosts.remove(&key);
    Ok(json!({}))
}

fn get_host(input: HostArnInput, state: &State) -> Result<Value, ApiError> {
    let host = &state
        .host(&input.host_arn)
        .ok_or_else(|| no_host(&input.host_arn))?
        .host;
    let mut output = json!({
        "Name": host.name,
        "Status": host.status,
        "ProviderType": host.provider_type,
        "ProviderEndpoint": host.provider_endpoint,
    });
    if let Some(vpc_configuration) = &host.vpc_configuration {
        output["VpcConfiguration"] = json!(vpc_configuration);
    }
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateHostInput {
    host_arn: String,
    provider_endpoint: Option<String>,
    vpc_configuration: Option<VpcConfiguration>,
}

fn update_host(input: UpdateHostInput, state: &mut State) -> Result<Value, ApiError> {
    let host = &mut state
        .hosts
        .get_mut(&arn::key(&input.host_arn))
        .ok_or_else(|| no_host(&input.host_arn))?
        .host;
    if let Some(provider_endpoint) = input.provider_endpoint {
        host.provider_endpoint = provider_endpoint;
    }
    if let Some(vpc_configuration) = input.vpc_configuration {
        host.vpc_configuration = Some(vpc_configuration);
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RepositoryLinkIdInput {
    repository_link_id: String,
}

fn delete_repository_link(
    input: RepositoryLinkIdInput,
    state: &mut State,
) -> Result<Value, ApiError> {
    if !state.links.contains_key(&input.repository_link_id) {
        return Err(ApiError::not_found(no_repository_link(
            &input.repository_link_id,
        )));
    }
    let still_syncing: Vec<&str> = state
        .sync_configurations
        .values()
        .filter(|record| record.configuration.repository_link_id == input.repository_link_id)
        .map(|record| record.configuration.resource_name.as_str())
        .collect();
    if !still_syncing.is_empty() {
        return Err(ApiError::new(
            ErrorKind::SyncConfigurationStillExists,
            format!(
                "Repository link {} still has sync configurations for: {}",
                input.repository_link_id,
                still_syncing.join(", ")
            ),
        ));
    }
    state.links.remove(&input.repository_link_id);
    Ok(json!({}))
}

fn get_repository_link(input: RepositoryLinkIdInput, state: &State) -> Result<Value, ApiError> {
    let record = state
        .links
        .get(&input.repository_link_id)
        .ok_or_else(|| ApiError::not_found(no_repository_link(&input.repository_link_id)))?;
    Ok(json!({ "RepositoryLinkInfo": record.link }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateRepositoryLinkInput {
    repository_link_id: String,
    connection_arn: Option<String>,
    encryption_key_arn: Option<String>,
}

fn update_repository_link(
    input: UpdateRepositoryLinkInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    if !state.links.contains_key(&input.repository_link_id) {
        return Err(ApiError::not_found(no_repository_link(
            &input.repository_link_id,
        )));
    }
    let new_connection = match input.connection_arn {
        Some(connection_arn) => {
            let record = state.connection(&connection_arn).ok_or_else(|| {
                context.invalid(format!("Connection {connection_arn} does not exist"))
            })?;
            Some((connection_arn, record.connection.provider_type))
        }
        None => None,
    };
    let Some(record) = state.links.get_mut(&input.repository_link_id) else {
        return Err(ApiError::not_found(no_repository_link(
            &input.repository_link_id,
        )));
    };
    if let Some((connection_arn, provider_type)) = new_connection {
        record.link.connection_arn = connection_arn;
        record.link.provider_type = provider_type;
    }
    if let Some(encryption_key_arn) = input.encryption_key_arn {
        record.link.encryption_key_arn = Some(encryption_key_arn);
    }
    let link = record.link.clone();
    for configuration in state
        .sync_configurations
        .values_mut()
        .map(|record| &mut record.configuration)
        .filter(|configuration| configuration.repository_link_id == link.repository_link_id)
    {
        configuration.attach_to(&link);
    }
    Ok(json!({ "RepositoryLinkInfo": link }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SyncResourceInput {
    resource_name: String,
    sync_type: SyncType,
}

fn sync_configuration<'s>(
    state: &'s State,
    input: &SyncResourceInput,
) -> Result<&'s SyncConfigurationRecord, ApiError> {
    state
        .sync_configurations
        .get(&sync_key(input.sync_type, &input.resource_name))
        .ok_or_else(|| no_sync_configuration(input.sync_type, &input.resource_name))
}

fn delete_sync_configuration(
    input: SyncResourceInput,
    state: &mut State,
) -> Result<Value, ApiError> {
    state
        .sync_configurations
        .remove(&sync_key(input.sync_type, &input.resource_name))
        .ok_or_else(|| no_sync_configuration(input.sync_type, &input.resource_name))?;
    Ok(json!({}))
}

fn get_sync_configuration(input: SyncResourceInput, state: &State) -> Result<Value, ApiError> {
    let record = sync_configuration(state, &input)?;
    Ok(json!({ "SyncConfiguration": record.configuration }))
}

fn get_sync_blocker_summary(input: SyncResourceInput, state: &State) -> Result<Value, ApiError> {
    let record = sync_configuration(state, &input)?;
    let latest = &record.blockers[..record.blockers.len().min(BLOCKER_SUMMARY_SIZE)];
    Ok(json!({
        "SyncBlockerSummary": {
            "ResourceName": input.resource_name,
            "LatestBlockers": latest,
        }
    }))
}

fn get_resource_sync_status(input: SyncResourceInput, state: &State) -> Result<Value, ApiError> {
    let record = sync_configuration(state, &input)?;
    let latest = record.latest_sync.as_ref().ok_or_else(|| {
        ApiError::not_found(format!(
            "No sync of resource {} has been recorded yet",
            input.resource_name
        ))
    })?;
    let mut output = json!({
        "DesiredState": latest.target_revision,
        "LatestSync": latest,
    });
    if let Some(successful) = &record.latest_successful_sync {
        output["LatestSuccessfulSync"] = json!(successful);
    }
    Ok(output)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateSyncConfigurationInput {
    resource_name: String,
    sync_type: SyncType,
    branch: Option<String>,
    config_file: Option<String>,
    repository_link_id: Option<String>,
    role_arn: Option<String>,
    publish_deployment_status: Option<PublishDeploymentStatus>,
    trigger_resource_update_on: Option<TriggerResourceUpdateOn>,
}

fn update_sync_configuration(
    input: UpdateSyncConfigurationInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    let key = sync_key(input.sync_type, &input.resource_name);
    if !state.sync_configurations.contains_key(&key) {
        return Err(no_sync_configuration(input.sync_type, &input.resource_name));
    }
    let new_link = match &input.repository_link_id {
        Some(repository_link_id) => Some(
            state
                .links
                .get(repository_link_id)
                .ok_or_else(|| context.invalid(no_repository_link(repository_link_id)))?
                .link
                .clone(),
        ),
        None => None,
    };
    let Some(record) = state.sync_configurations.get_mut(&key) else {
        return Err(no_sync_configuration(input.sync_type, &input.resource_name));
    };
    let configuration = &mut record.configuration;
    if let Some(link) = new_link {
        configuration.attach_to(&link);
    }
    if let Some(branch) = input.branch {
        configuration.branch = branch;
    }
    if let Some(config_file) = input.config_file {
        configuration.config_file = config_file;
    }
    if let Some(role_arn) = input.role_arn {
        configuration.role_arn = role_arn;
    }
    if let Some(publish_deployment_status) = input.publish_deployment_status {
        configuration.publish_deployment_status = publish_deployment_status;
    }
    if let Some(trigger_resource_update_on) = input.trigger_resource_update_on {
        configuration.trigger_resource_update_on = trigger_resource_update_on;
    }
    Ok(json!({ "SyncConfiguration": configuration }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateSyncBlockerInput {
    id: String,
    resource_name: String,
    sync_type: SyncType,
    resolved_reason: String,
}

fn update_sync_blocker(
    input: UpdateSyncBlockerInput,
    state: &mut State,
    context: &Context,
) -> Result<Value, ApiError> {
    let record = state
        .sync_configurations
        .get_mut(&sync_key(input.sync_type, &input.resource_name))
        .ok_or_else(|| no_sync_configuration(input.sync_type, &input.resource_name))?;
    let blocker = record
        .blockers
        .iter_mut()
        .find(|blocker| blocker.id == input.id)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::SyncBlockerDoesNotExist,
                format!(
                    "Sync blocker {} does not exist for resource {}",
                    input.id, input.resource_name
                ),
            )
        })?;
    // Only an ACTIVE blocker can be resolved: resolving it again is answered as for a
    // blocker that no longer exists, and the first resolution is kept.
    if blocker.status == BlockerStatus::Resolved {
        return Err(ApiError::new(
            ErrorKind::SyncBlockerDoesNotExist,
            format!(
                "Sync blocker {} of resource {} is already resolved: no active blocker has this Id",
                input.id, input.resource_name
            ),
        ));
    }
    blocker.status = BlockerStatus::Resolved;
    blocker.resolved_reason = Some(input.resolved_reason);
    blocker.resolved_at = Some(context.now);
    Ok(json!({
        "ResourceName": input.resource_name,
        "SyncBlocker": blocker,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetRepositorySyncStatusInput {
    branch: String,
    repository_link_id: String,
    sync_type: SyncType,
}

fn get_repository_sync_status(
    input: GetRepositorySyncStatusInput,
    state: &State,
) -> Result<Value, ApiError> {
    let record = state
        .links
        .get(&input.repository_link_id)
        .ok_or_else(|| ApiError::not_found(no_repository_link(&input.repository_link_id)))?;
    let latest = record.repository_syncs.get(&input.branch).ok_or_else(|| {
        ApiError::not_found(format!(
            "No {} repository sync of branch {} has been recorded for repository link {}",
            input.sync_type.name(),
            input.branch,
            input.repository_link_id
        ))
    })?;
    Ok(json!({ "LatestSync": latest.attempt }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListConnectionsInput {
    provider_type_filter: Option<ProviderType>,
    host_arn_filter: Option<String>,
    max_results: Option<u32>,
    next_token: Option<String>,
}

fn list_connections(
    input: ListConnectionsInput,
    state: &State,
    context: &Context,
) -> Result<Value, ApiError> {
    let host_filter = input.host_arn_filter.as_deref().map(arn::key);
    let scope = Scope::new(&[
        "ListConnections",
        input.provider_type_filter.map_or("", ProviderType::name),
        host_filter.as_deref().unwrap_or(""),
    ]);
    let start = page_start(&scope, input.next_token.as_deref(), context)?;
    let rows = state.connections.rows_from(start).filter(|(_, record)| {
        let connection = &record.connection;
        input
            .provider_type_filter
            .is_none_or(|provider_type| connection.provider_type == provider_type)
            && host_filter.as_ref().is_none_or(|host_key| {
                connection
                    .host_arn
                    .as_deref()
                    .is_some_and(|host_arn| arn::key(host_arn) == *host_key)
            })
    });
    let (page, next_token) = take_page(rows, page_size(input.max_results), &scope);
    let connections: Vec<&Connection> = page.into_iter().map(|record| &record.connection).collect();
    Ok(with_next_token(
        json!({ "Connections": connections }),
        next_token,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PageInput {
    max_results: Option<u32>,
    next_token: Option<String>,
}

fn list_hosts(input: PageInput, state: &State, context: &Context) -> Result<Value, ApiError> {
    let scope = Scope::new(&["ListHosts"]);
    let start = page_start(&scope, input.next_token.as_deref(), context)?;
    let (page, next_token) = take_page(
        state.hosts.rows_from(start),
        page_size(input.max_results),
        &scope,
    );
    let hosts: Vec<&Host> = page.into_iter().map(|record| &record.host).collect();
    Ok(with_next_token(json!({ "Hosts": hosts }), next_token))
}

fn list_repository_links(
    input: PageInput,
    state: &State,
    context: &Context,
) -> Result<Value, ApiError> {
    let scope = Scope::new(&["ListRepositoryLinks"]);
    let start = page_start(&scope, input.next_token.as_deref(), context)?;
    let (page, next_token) = take_page(
        state.links.rows_from(start),
        page_size(input.max_results),
        &scope,
    );
    let links: Vec<&RepositoryLinkInfo> = page.into_iter().map(|record| &record.link).collect();
    Ok(with_next_token(
        json!({ "RepositoryLinks": links }),
        next_token,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListSyncConfigurationsInput {
    repository_link_id: String,
    sync_type: SyncType,
    max_results: Option<u32>,
    next_token: Option<String>,
}

fn list_sync_configurations(
    input: ListSyncConfigurationsInput,
    state: &State,
    context: &Context,
) -> Result<Value, ApiError> {
    if !state.links.contains_key(&input.repository_link_id) {
        return Err(ApiError::not_found(no_repository_link(
            &input.repository_link_id,
        )));
    }
    let scope = Scope::new(&[
        "ListSyncConfigurations",
        &input.repository_link_id,
        input.sync_type.name(),
    ]);
    let start = page_start(&scope, input.next_token.as_deref(), context)?;
    let rows = state
        .sync_configurations
        .rows_from(start)
        .filter(|(_, record)| {
            record.configuration.repository_link_id == input.repository_link_id
                && record.configuration.sync_type == input.sync_type
        });
    let (page, next_token) = take_page(rows, page_size(input.max_results), &scope);
    let configurations: Vec<&SyncConfiguration> = page
        .into_iter()
        .map(|record| &record.configuration)
        .collect();
    Ok(with_next_token(
        json!({ "SyncConfigurations": configurations }),
        next_token,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListRepositorySyncDefinitionsInput {
    repository_link_id: String,
    sync_type: SyncType,
}

/// The definitions derive from the sync configurations of the link: for CloudFormation
/// stacks the parent and the target are both the stack, and the directory is the
/// deployment file.
fn list_repository_sync_definitions(
    input: ListRepositorySyncDefinitionsInput,
    state: &State,
) -> Result<Value, ApiError> {
    if !state.links.contains_key(&input.repository_link_id) {
        return Err(ApiError::not_found(no_repository_link(
            &input.repository_link_id,
        )));
    }
    let definitions: Vec<Value> = state
        .sync_configurations
        .values()
        .map(|record| &record.configuration)
        .filter(|configuration| {
            configuration.repository_link_id == input.repository_link_id
                && configuration.sync_type == input.sync_type
        })
        .map(|configuration| {
            json!({
                "Branch": configuration.branch,
                "Directory": configuration.config_file,
                "Parent": configuration.resource_name,
                "Target": configuration.resource_name,
            })
        })
        .collect();
    Ok(json!({ "RepositorySyncDefinitions": definitions }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListTagsForResourceInput {
    resource_arn: String,
}

fn no_resource(resource_arn: &str) -> ApiError {
    ApiError::not_found(format!("Resource {resource_arn} does not exist"))
}

fn list_tags_for_resource(
    input: ListTagsForResourceInput,
    state: &mut State,
) -> Result<Value, ApiError> {
    let tags = state
        .tags_mut(&input.resource_arn)
        .ok_or_else(|| no_resource(&input.resource_arn))?;
    Ok(json!({ "Tags": tags }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagResourceInput {
    resource_arn: String,
    tags: Vec<KeyValue>,
}

fn tag_resource(input: TagResourceInput, state: &mut State) -> Result<Value, ApiError> {
    let tags = state
        .tags_mut(&input.resource_arn)
        .ok_or_else(|| no_resource(&input.resource_arn))?;
    let mut merged = tags.clone();
    merge_tags(&mut merged, input.tags);
    check_tag_count(&merged)?;
    *tags = merged;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UntagResourceInput {
    resource_arn: String,
    tag_keys: Vec<String>,
}

fn untag_resource(input: UntagResourceInput, state: &mut State) -> Result<Value, ApiError> {
    let tags = state
        .tags_mut(&input.resource_arn)
        .ok_or_else(|| no_resource(&input.resource_arn))?;
    tags.retain(|tag| !input.tag_keys.contains(&tag.key));
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn merging_tags_overwrites_by_key_and_keeps_order() {
        let mut tags = vec![tag("a", "1"), tag("b", "2")];
        merge_tags(&mut tags, vec![tag("b", "3"), tag("c", "4")]);
        assert_eq!(tags, [tag("a", "1"), tag("b", "3"), tag("c", "4")]);
    }

    #[test]
    fn more_than_fifty_tags_exceed_the_limit() {
        let tags: Vec<KeyValue> = (0..=MAX_TAGS_PER_RESOURCE)
            .map(|i| tag(&i.to_string(), "v"))
            .collect();
        let error = check_tag_count(&tags).expect_err("over the limit");
        assert_eq!(error.kind, ErrorKind::LimitExceeded);
        assert!(check_tag_count(&tags[..MAX_TAGS_PER_RESOURCE]).is_ok());
    }
}
