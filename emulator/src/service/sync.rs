//! Git sync: sync configurations, their blockers, sync attempts and the events they
//! publish.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::resources::{no_repository_link, page_start};
use super::rules::{self, SyncConfigurationChoices};
use super::{Backend, Page, Settings};
use crate::api_error::{ApiError, ErrorKind};
use crate::pagination::{Scope, page_size, take_page};
use crate::state::{
    BLOCKER_SUMMARY_SIZE, BlockerStatus, BlockerType, KeyValue, PublishDeploymentStatus,
    PullRequestComment, RepositorySyncAttempt, RepositorySyncStatus, ResourceSyncAttempt,
    ResourceSyncStatus, SyncBlocker, SyncConfiguration, SyncConfigurationRecord, SyncEvent,
    SyncType, Timestamp, TriggerResourceUpdateOn, sync_key,
};

const EVENT_SOURCE: &str = "aws.codeconnections";
const RESOURCE_SYNC_DETAIL_TYPE: &str = "Git Sync Resource Sync Status Change";
const REPOSITORY_SYNC_DETAIL_TYPE: &str = "Git Sync Repository Sync Status Change";

// API requests come in the model's input shapes, admin requests in the admin API's body
// shapes (strict: unknown fields are refused), so that both read them straight from a body.

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSyncConfigurationRequest {
    pub branch: String,
    pub config_file: String,
    pub repository_link_id: String,
    pub resource_name: String,
    pub role_arn: String,
    pub sync_type: SyncType,
    pub publish_deployment_status: Option<PublishDeploymentStatus>,
    pub trigger_resource_update_on: Option<TriggerResourceUpdateOn>,
    pub pull_request_comment: Option<PullRequestComment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSyncConfigurationRequest {
    resource_name: String,
    sync_type: SyncType,
    branch: Option<String>,
    config_file: Option<String>,
    repository_link_id: Option<String>,
    role_arn: Option<String>,
    publish_deployment_status: Option<PublishDeploymentStatus>,
    trigger_resource_update_on: Option<TriggerResourceUpdateOn>,
    pull_request_comment: Option<PullRequestComment>,
}

/// A blocker as Git sync raises one when a deployment fails.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct NewSyncBlocker {
    resource_name: String,
    #[serde(default)]
    sync_type: SyncType,
    created_reason: String,
    #[serde(default)]
    contexts: Vec<KeyValue>,
    /// Marks the stack's cause as persistent: Git sync's retry will fail again.
    #[serde(default)]
    persistent: bool,
}

/// An event of a sync step, as GetResourceSyncStatus and GetRepositorySyncStatus list them.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ReportedEvent {
    event: String,
    #[serde(rename = "Type")]
    kind: String,
    external_id: Option<String>,
}

/// One step of a sync of a stack.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ResourceSyncStep {
    resource_name: String,
    #[serde(default)]
    sync_type: SyncType,
    status: ResourceSyncStatus,
    pub commit: Option<String>,
    #[serde(default)]
    events: Vec<ReportedEvent>,
}

/// One step of a sync of a repository branch.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RepositorySyncStep {
    repository_link_id: String,
    pub branch: String,
    #[serde(default)]
    sync_type: SyncType,
    status: RepositorySyncStatus,
    pub commit: Option<String>,
    #[serde(default)]
    events: Vec<ReportedEvent>,
}

/// What ListRepositorySyncDefinitions lists.
pub struct SyncDefinition<'a> {
    pub branch: &'a str,
    pub directory: &'a str,
    pub parent: &'a str,
    pub target: &'a str,
}

/// What GetResourceSyncStatus answers.
pub struct ResourceSyncStatusReport<'a> {
    pub latest_sync: &'a ResourceSyncAttempt,
    pub latest_successful_sync: Option<&'a ResourceSyncAttempt>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidInput, message)
}

fn no_sync_configuration(sync_type: SyncType, resource_name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No sync configuration of type {} exists for resource {resource_name}",
        sync_type.name()
    ))
}

fn sync_events(events: Vec<ReportedEvent>, now: Timestamp) -> Vec<SyncEvent> {
    events
        .into_iter()
        .map(|event| SyncEvent {
            event: event.event,
            external_id: event.external_id,
            time: now,
            kind: event.kind,
        })
        .collect()
}

/// A sync status change as Git sync publishes it to EventBridge; `previousSync` is the
/// status the step replaces, absent for the first step.
fn sync_status_event(
    settings: &Settings,
    detail_type: &str,
    resource: &str,
    mut detail: Value,
    previous: Option<impl Serialize>,
    now: Timestamp,
) -> Value {
    if let Some(previous) = previous {
        detail["previousSync"] = json!(previous);
    }
    json!({
        "version": "0",
        "id": Uuid::new_v4().to_string(),
        "detail-type": detail_type,
        "source": EVENT_SOURCE,
        "account": settings.account,
        "time": now.to_rfc3339(),
        "region": settings.region,
        "resources": [resource],
        "detail": detail,
    })
}

impl Backend {
    pub(super) fn sync_configuration_record(
        &self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<&SyncConfigurationRecord, ApiError> {
        self.state
            .sync_configurations
            .get(&sync_key(sync_type, resource_name))
            .ok_or_else(|| no_sync_configuration(sync_type, resource_name))
    }

    pub(super) fn sync_configuration_record_mut(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<&mut SyncConfigurationRecord, ApiError> {
        self.state
            .sync_configurations
            .get_mut(&sync_key(sync_type, resource_name))
            .ok_or_else(|| no_sync_configuration(sync_type, resource_name))
    }

    /// One sync configuration per (resource, sync type), on an existing link.
    pub fn create_sync_configuration(
        &mut self,
        request: CreateSyncConfigurationRequest,
    ) -> Result<SyncConfiguration, ApiError> {
        let key = sync_key(request.sync_type, &request.resource_name);
        if self.state.sync_configurations.contains_key(&key) {
            return Err(ApiError::new(
                ErrorKind::ResourceAlreadyExists,
                format!(
                    "A sync configuration of type {} already exists for resource {}",
                    request.sync_type.name(),
                    request.resource_name
                ),
            ));
        }
        let link = &self
            .state
            .links
            .get(&request.repository_link_id)
            .ok_or_else(|| invalid(no_repository_link(&request.repository_link_id)))?
            .link;
        let configuration = rules::sync_configuration_on(
            link,
            SyncConfigurationChoices {
                branch: request.branch,
                config_file: request.config_file,
                resource_name: request.resource_name,
                role_arn: request.role_arn,
                sync_type: request.sync_type,
                publish_deployment_status: request.publish_deployment_status.unwrap_or_default(),
                trigger_resource_update_on: request.trigger_resource_update_on.unwrap_or_default(),
                pull_request_comment: request.pull_request_comment,
            },
        );
        self.state
            .insert_sync_configuration(SyncConfigurationRecord::new(configuration.clone()));
        Ok(configuration)
    }

    pub fn sync_configuration(
        &self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<&SyncConfiguration, ApiError> {
        self.sync_configuration_record(sync_type, resource_name)
            .map(|record| &record.configuration)
    }

    pub fn delete_sync_configuration(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<(), ApiError> {
        self.state
            .sync_configurations
            .remove(&sync_key(sync_type, resource_name))
            .map(drop)
            .ok_or_else(|| no_sync_configuration(sync_type, resource_name))
    }

    pub fn update_sync_configuration(
        &mut self,
        request: UpdateSyncConfigurationRequest,
    ) -> Result<&SyncConfiguration, ApiError> {
        self.sync_configuration_record(request.sync_type, &request.resource_name)?;
        let new_link = match &request.repository_link_id {
            Some(repository_link_id) => Some(
                self.state
                    .links
                    .get(repository_link_id)
                    .ok_or_else(|| invalid(no_repository_link(repository_link_id)))?
                    .link
                    .clone(),
            ),
            None => None,
        };
        let configuration = &mut self
            .sync_configuration_record_mut(request.sync_type, &request.resource_name)?
            .configuration;
        if let Some(link) = new_link {
            configuration.attach_to(&link);
        }
        if let Some(branch) = request.branch {
            configuration.branch = branch;
        }
        if let Some(config_file) = request.config_file {
            configuration.config_file = config_file;
        }
        if let Some(role_arn) = request.role_arn {
            configuration.role_arn = role_arn;
        }
        if let Some(publish_deployment_status) = request.publish_deployment_status {
            configuration.publish_deployment_status = publish_deployment_status;
        }
        if let Some(trigger_resource_update_on) = request.trigger_resource_update_on {
            configuration.trigger_resource_update_on = trigger_resource_update_on;
        }
        if let Some(pull_request_comment) = request.pull_request_comment {
            configuration.pull_request_comment = Some(pull_request_comment);
        }
        Ok(configuration)
    }

    pub fn list_sync_configurations(
        &self,
        repository_link_id: &str,
        sync_type: SyncType,
        max_results: Option<u32>,
        next_token: Option<&str>,
    ) -> Result<Page<'_, SyncConfiguration>, ApiError> {
        self.repository_link(repository_link_id)?;
        let scope = Scope::new(&[
            "ListSyncConfigurations",
            repository_link_id,
            sync_type.name(),
        ]);
        let start = page_start(&scope, next_token)?;
        let rows = self
            .state
            .sync_configurations
            .rows_from(start)
            .map(|(sequence, record)| (sequence, &record.configuration))
            .filter(|(_, configuration)| {
                configuration.repository_link_id == repository_link_id
                    && configuration.sync_type == sync_type
            });
        Ok(take_page(rows, page_size(max_results), &scope))
    }

    /// The definitions derive from the sync configurations of the link: for CloudFormation
    /// stacks the parent and the target are both the stack, and the directory is the
    /// deployment file.
    pub fn repository_sync_definitions(
        &self,
        repository_link_id: &str,
        sync_type: SyncType,
    ) -> Result<Vec<SyncDefinition<'_>>, ApiError> {
        self.repository_link(repository_link_id)?;
        Ok(self
            .state
            .sync_configurations
            .values()
            .map(|record| &record.configuration)
            .filter(|configuration| {
                configuration.repository_link_id == repository_link_id
                    && configuration.sync_type == sync_type
            })
            .map(|configuration| SyncDefinition {
                branch: &configuration.branch,
                directory: &configuration.config_file,
                parent: &configuration.resource_name,
                target: &configuration.resource_name,
            })
            .collect())
    }

    /// The most recent blockers of a configured resource, ACTIVE and RESOLVED, newest first.
    pub fn latest_blockers(
        &self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<&[SyncBlocker], ApiError> {
        let blockers = &self
            .sync_configuration_record(sync_type, resource_name)?
            .blockers;
        Ok(&blockers[..blockers.len().min(BLOCKER_SUMMARY_SIZE)])
    }

    /// Git sync raising a blocker on a configured resource after a failed deployment.
    pub fn raise_blocker(&mut self, blocker: NewSyncBlocker) -> Result<String, ApiError> {
        let id = self.add_active_blocker(
            blocker.sync_type,
            &blocker.resource_name,
            blocker.created_reason,
            blocker.contexts,
        )?;
        if blocker.persistent {
            self.sync_configuration_record_mut(blocker.sync_type, &blocker.resource_name)?
                .persistent_cause = true;
        }
        Ok(id)
    }

    pub(super) fn add_active_blocker(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        created_reason: String,
        contexts: Vec<KeyValue>,
    ) -> Result<String, ApiError> {
        let id = rules::new_blocker_id();
        self.add_blocker(
            sync_type,
            resource_name,
            SyncBlocker {
                id: id.clone(),
                kind: BlockerType::Automated,
                status: BlockerStatus::Active,
                created_reason,
                created_at: Timestamp::now(),
                contexts,
                resolved_reason: None,
                resolved_at: None,
            },
        )?;
        Ok(id)
    }

    /// Adds a blocker to a configured resource as it is given: one Git sync raises now,
    /// or one a scenario dates and may have resolved. Its reason cannot be blank, and its
    /// id is new for the resource.
    pub fn add_blocker(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        blocker: SyncBlocker,
    ) -> Result<(), ApiError> {
        if !rules::reason_is_given(&blocker.created_reason) {
            return Err(invalid("CreatedReason must not be empty"));
        }
        let record = self.sync_configuration_record_mut(sync_type, resource_name)?;
        if record
            .blockers
            .iter()
            .any(|existing| existing.id == blocker.id)
        {
            return Err(ApiError::new(
                ErrorKind::ResourceAlreadyExists,
                format!(
                    "Resource {resource_name} already has a sync blocker with the Id {}",
                    blocker.id
                ),
            ));
        }
        record.add_blocker(blocker);
        Ok(())
    }

    /// Resolves an ACTIVE blocker, and Git sync retries the latest commit. Resolving one
    /// again is answered as for a blocker that does not exist, and the first resolution is
    /// kept: callers treat that error as "already done".
    pub fn resolve_blocker(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        id: &str,
        resolved_reason: String,
        now: Timestamp,
    ) -> Result<SyncBlocker, ApiError> {
        let blocker = self
            .sync_configuration_record_mut(sync_type, resource_name)?
            .blockers
            .iter_mut()
            .find(|blocker| blocker.id == id)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorKind::SyncBlockerDoesNotExist,
                    format!("Sync blocker {id} does not exist for resource {resource_name}"),
                )
            })?;
        if blocker.status == BlockerStatus::Resolved {
            return Err(ApiError::new(
                ErrorKind::SyncBlockerDoesNotExist,
                format!(
                    "Sync blocker {id} of resource {resource_name} is already resolved: no active blocker has this Id"
                ),
            ));
        }
        blocker.status = BlockerStatus::Resolved;
        blocker.resolved_reason = Some(resolved_reason);
        blocker.resolved_at = Some(now);
        let resolved = blocker.clone();
        self.retry_latest_commit(
            sync_type,
            resource_name,
            resolved.created_reason.clone(),
            resolved.contexts.clone(),
        )?;
        Ok(resolved)
    }

    /// The latest sync of a resource; none before a sync was recorded.
    pub fn resource_sync_status(
        &self,
        sync_type: SyncType,
        resource_name: &str,
    ) -> Result<ResourceSyncStatusReport<'_>, ApiError> {
        let record = self.sync_configuration_record(sync_type, resource_name)?;
        let latest_sync = record.latest_sync.as_ref().ok_or_else(|| {
            ApiError::not_found(format!(
                "No sync of resource {resource_name} has been recorded yet"
            ))
        })?;
        Ok(ResourceSyncStatusReport {
            latest_sync,
            latest_successful_sync: record.latest_successful_sync.as_ref(),
        })
    }

    pub fn repository_sync_status(
        &self,
        repository_link_id: &str,
        branch: &str,
        sync_type: SyncType,
    ) -> Result<&RepositorySyncAttempt, ApiError> {
        let record = self
            .state
            .links
            .get(repository_link_id)
            .ok_or_else(|| ApiError::not_found(no_repository_link(repository_link_id)))?;
        let latest = record.repository_syncs.get(branch).ok_or_else(|| {
            ApiError::not_found(format!(
                "No {} repository sync of branch {branch} has been recorded for repository link {repository_link_id}",
                sync_type.name(),
            ))
        })?;
        Ok(&latest.attempt)
    }

    /// Records a step of a sync of a stack and answers the event Git sync publishes for it.
    pub fn record_resource_sync(&mut self, step: ResourceSyncStep) -> Result<Value, ApiError> {
        let now = Timestamp::now();
        self.sync_step_with(
            step.sync_type,
            &step.resource_name,
            step.status,
            step.commit,
            sync_events(step.events, now),
        )
    }

    pub(super) fn sync_step(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        status: ResourceSyncStatus,
        commit: Option<String>,
    ) -> Result<Value, ApiError> {
        self.sync_step_with(sync_type, resource_name, status, commit, Vec::new())
    }

    /// Records a step of a stack's sync; its event is answered and published.
    fn sync_step_with(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        status: ResourceSyncStatus,
        commit: Option<String>,
        events: Vec<SyncEvent>,
    ) -> Result<Value, ApiError> {
        let now = Timestamp::now();
        let record = self.sync_configuration_record_mut(sync_type, resource_name)?;
        let previous = record.record_sync(status, commit, events, now);
        let record = self.sync_configuration_record(sync_type, resource_name)?;
        let configuration = &record.configuration;
        let commit = record
            .latest_sync
            .as_ref()
            .map(|attempt| attempt.target_revision.sha.as_str())
            .unwrap_or_default();
        let link_arn = self
            .state
            .links
            .get(&configuration.repository_link_id)
            .map(|link| link.link.repository_link_arn.as_str())
            .unwrap_or_default();
        let detail = json!({
            "providerType": configuration.provider_type,
            "commit": commit,
            "repositoryName": configuration.repository_name,
            "branch": configuration.branch,
            "syncType": configuration.sync_type,
            "syncTarget": configuration.resource_name,
            "status": status,
        });
        let event = sync_status_event(
            &self.settings,
            RESOURCE_SYNC_DETAIL_TYPE,
            link_arn,
            detail,
            previous,
            now,
        );
        self.effects.events.push(event.clone());
        Ok(event)
    }

    /// Records a step of a sync of a repository branch and answers the event Git sync
    /// publishes for it.
    pub fn record_repository_sync(&mut self, step: RepositorySyncStep) -> Result<Value, ApiError> {
        let now = Timestamp::now();
        let record = self
            .state
            .links
            .get_mut(&step.repository_link_id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "No repository link has the Id {}",
                    step.repository_link_id
                ))
            })?;
        let (previous, commit) = record.record_sync(
            &step.branch,
            step.status,
            step.commit,
            sync_events(step.events, now),
            now,
        );
        let link = &record.link;
        let detail = json!({
            "connectionArn": link.connection_arn,
            "providerType": link.provider_type,
            "repositoryName": link.repository_name,
            "repositoryLinkId": link.repository_link_id,
            "ownerId": link.owner_id,
            "commit": commit,
            "branch": step.branch,
            "syncType": step.sync_type,
            "status": step.status,
        });
        let event = sync_status_event(
            &self.settings,
            REPOSITORY_SYNC_DETAIL_TYPE,
            &link.repository_link_arn,
            detail,
            previous,
            now,
        );
        self.effects.events.push(event.clone());
        Ok(event)
    }
}
