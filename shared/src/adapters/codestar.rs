use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::types::{
    RepositorySyncAttempt, ResourceSyncAttempt, SyncBlocker as SdkBlocker, SyncConfigurationType,
};

use super::AwsClients;
use super::sdk::{api_error, system_time};
use crate::domain::sync::{BlockerStatus, SyncAttempt, SyncAttemptEvent, SyncBlocker, SyncStatus};
use crate::ports::{ApiError, GitSyncApi};

/// The Git sync API through aws-sdk-codestarconnections.
#[derive(Clone)]
pub struct SdkGitSync {
    client: Client,
}

impl SdkGitSync {
    pub fn new(clients: &AwsClients) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
        }
    }
}

impl GitSyncApi for SdkGitSync {
    async fn sync_blockers(&self, stack: &str) -> Result<Vec<SyncBlocker>, ApiError> {
        let output = self
            .client
            .get_sync_blocker_summary()
            .resource_name(stack)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .map_err(|err| api_error("GetSyncBlockerSummary", err))?;
        Ok(output
            .sync_blocker_summary()
            .map(|summary| summary.latest_blockers().iter().map(blocker).collect())
            .unwrap_or_default())
    }

    async fn latest_stack_sync(&self, stack: &str) -> Result<Option<SyncAttempt>, ApiError> {
        let output = self
            .client
            .get_resource_sync_status()
            .resource_name(stack)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .map_err(|err| api_error("GetResourceSyncStatus", err))?;
        Ok(output.latest_sync().map(resource_attempt))
    }

    async fn latest_repository_sync(
        &self,
        repository_link_id: &str,
        branch: &str,
    ) -> Result<Option<SyncAttempt>, ApiError> {
        let output = self
            .client
            .get_repository_sync_status()
            .repository_link_id(repository_link_id)
            .branch(branch)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .send()
            .await
            .map_err(|err| api_error("GetRepositorySyncStatus", err))?;
        Ok(output.latest_sync().map(repository_attempt))
    }
}

fn blocker(blocker: &SdkBlocker) -> SyncBlocker {
    SyncBlocker {
        id: blocker.id().to_owned(),
        status: BlockerStatus::parse(blocker.status().as_str()),
        created_reason: blocker.created_reason().to_owned(),
        contexts: blocker
            .contexts()
            .iter()
            .map(|context| (context.key().to_owned(), context.value().to_owned()))
            .collect(),
        created_at: system_time(blocker.created_at()),
        resolved_at: blocker.resolved_at().and_then(system_time),
        resolved_reason: blocker.resolved_reason().map(str::to_owned),
    }
}

fn resource_attempt(attempt: &ResourceSyncAttempt) -> SyncAttempt {
    SyncAttempt {
        status: SyncStatus::parse(attempt.status().as_str()),
        started_at: system_time(attempt.started_at()),
        events: attempt
            .events()
            .iter()
            .map(|event| SyncAttemptEvent {
                time: system_time(event.time()),
                kind: event.r#type().to_owned(),
                message: event.event().to_owned(),
                external_id: event.external_id().map(str::to_owned),
            })
            .collect(),
    }
}

fn repository_attempt(attempt: &RepositorySyncAttempt) -> SyncAttempt {
    SyncAttempt {
        status: SyncStatus::parse(attempt.status().as_str()),
        started_at: system_time(attempt.started_at()),
        events: attempt
            .events()
            .iter()
            .map(|event| SyncAttemptEvent {
                time: system_time(event.time()),
                kind: event.r#type().to_owned(),
                message: event.event().to_owned(),
                external_id: event.external_id().map(str::to_owned),
            })
            .collect(),
    }
}
