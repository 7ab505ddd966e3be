use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::primitives::DateTime;
use aws_sdk_codestarconnections::types::{
    Connection as SdkConnection, Host as SdkHost, ProviderType, RepositoryLinkInfo,
    RepositorySyncAttempt, ResourceSyncAttempt, SyncBlocker as SdkBlocker,
    SyncConfiguration as SdkSyncConfiguration, SyncConfigurationType,
};

use super::AwsClients;
use super::sdk::{all_pages, api_error, system_time};
use crate::domain::connections::{Connection, ConnectionStatus, Host};
use crate::domain::sync::{
    BlockerStatus, RepositoryLink, SyncAttempt, SyncAttemptEvent, SyncBlocker, SyncConfiguration,
    SyncStatus,
};
use crate::ports::{ApiError, ConnectionsApi, GitSyncApi};

/// The largest page the list operations allow: fewest calls.
const PAGE_SIZE: i32 = 100;

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

    async fn resolve_blocker(
        &self,
        stack: &str,
        blocker_id: &str,
        resolved_reason: &str,
    ) -> Result<(), ApiError> {
        self.client
            .update_sync_blocker()
            .id(blocker_id)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .resource_name(stack)
            .resolved_reason(resolved_reason)
            .send()
            .await
            .map_err(|err| api_error("UpdateSyncBlocker", err))?;
        Ok(())
    }

    async fn repository_links(&self) -> Result<Vec<RepositoryLink>, ApiError> {
        let pages = self
            .client
            .list_repository_links()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        all_pages(
            pages,
            |err| api_error("ListRepositoryLinks", err),
            |page| {
                page.repository_links()
                    .iter()
                    .map(repository_link)
                    .collect()
            },
        )
        .await
    }

    async fn sync_configurations(
        &self,
        repository_link_id: &str,
    ) -> Result<Vec<SyncConfiguration>, ApiError> {
        let pages = self
            .client
            .list_sync_configurations()
            .repository_link_id(repository_link_id)
            .sync_type(SyncConfigurationType::CfnStackSync)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        all_pages(
            pages,
            |err| api_error("ListSyncConfigurations", err),
            |page| {
                page.sync_configurations()
                    .iter()
                    .map(sync_configuration)
                    .collect()
            },
        )
        .await
    }
}

impl ConnectionsApi for SdkGitSync {
    async fn connections(&self, provider: Option<&str>) -> Result<Vec<Connection>, ApiError> {
        let pages = self
            .client
            .list_connections()
            .set_provider_type_filter(provider.map(ProviderType::from))
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        all_pages(
            pages,
            |err| api_error("ListConnections", err),
            |page| page.connections().iter().filter_map(connection).collect(),
        )
        .await
    }

    async fn hosts(&self) -> Result<Vec<Host>, ApiError> {
        let pages = self
            .client
            .list_hosts()
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        all_pages(
            pages,
            |err| api_error("ListHosts", err),
            |page| page.hosts().iter().filter_map(host).collect(),
        )
        .await
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>, ApiError> {
        let output = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|err| api_error("ListTagsForResource", err))?;
        Ok(output
            .tags()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect())
    }
}

fn repository_link(link: &RepositoryLinkInfo) -> RepositoryLink {
    RepositoryLink {
        id: link.repository_link_id().to_owned(),
        arn: link.repository_link_arn().to_owned(),
        connection_arn: link.connection_arn().to_owned(),
        provider: link.provider_type().as_str().to_owned(),
        owner: link.owner_id().to_owned(),
        repository: link.repository_name().to_owned(),
    }
}

fn sync_configuration(configuration: &SdkSyncConfiguration) -> SyncConfiguration {
    SyncConfiguration {
        stack: configuration.resource_name().to_owned(),
        repository_link_id: configuration.repository_link_id().to_owned(),
        branch: configuration.branch().to_owned(),
        config_file: configuration.config_file().map(str::to_owned),
        owner: configuration.owner_id().to_owned(),
        repository: configuration.repository_name().to_owned(),
        provider: configuration.provider_type().as_str().to_owned(),
    }
}

/// A connection without an ARN cannot be audited or named: skipped.
fn connection(connection: &SdkConnection) -> Option<Connection> {
    Some(Connection {
        arn: connection.connection_arn()?.to_owned(),
        name: connection.connection_name().unwrap_or_default().to_owned(),
        provider: connection
            .provider_type()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        status: connection
            .connection_status()
            .map_or(ConnectionStatus::Other(String::new()), |s| {
                ConnectionStatus::parse(s.as_str())
            }),
        host_arn: connection.host_arn().map(str::to_owned),
    })
}

fn host(host: &SdkHost) -> Option<Host> {
    Some(Host {
        arn: host.host_arn()?.to_owned(),
        name: host.name().unwrap_or_default().to_owned(),
        provider: host
            .provider_type()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        endpoint: host.provider_endpoint().map(str::to_owned),
        status: host.status().unwrap_or_default().to_owned(),
        status_message: host.status_message().map(str::to_owned),
    })
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

/// Resource and repository sync events share their fields but not their type.
fn attempt_event(
    time: &DateTime,
    kind: &str,
    message: &str,
    external_id: Option<&str>,
) -> SyncAttemptEvent {
    SyncAttemptEvent {
        time: system_time(time),
        kind: kind.to_owned(),
        message: message.to_owned(),
        external_id: external_id.map(str::to_owned),
    }
}

fn resource_attempt(attempt: &ResourceSyncAttempt) -> SyncAttempt {
    SyncAttempt {
        status: SyncStatus::parse(attempt.status().as_str()),
        started_at: system_time(attempt.started_at()),
        events: attempt
            .events()
            .iter()
            .map(|e| attempt_event(e.time(), e.r#type(), e.event(), e.external_id()))
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
            .map(|e| attempt_event(e.time(), e.r#type(), e.event(), e.external_id()))
            .collect(),
    }
}
