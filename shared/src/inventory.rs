//! What Git sync deploys in this account and region: every repository link and every
//! CloudFormation sync configuration (ListRepositoryLinks, then ListSyncConfigurations of
//! each link). The sweeps start from it; a link that cannot be listed is a failure, and the
//! others are still listed.

use std::collections::BTreeSet;
use std::fmt;

use futures::stream::{self, StreamExt};
use tracing::error;

use crate::domain::sync::{RepositoryLink, SyncConfiguration};
use crate::ports::{ApiError, GitSyncApi};

/// A listing that failed: what could not be listed, and why.
#[derive(Debug, Clone)]
pub struct ListingFailure {
    pub subject: String,
    pub error: ApiError,
}

impl fmt::Display for ListingFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listing {}: {}", self.subject, self.error)
    }
}

#[derive(Debug, Clone, Default)]
pub struct GitSyncInventory {
    pub links: Vec<RepositoryLink>,
    pub configurations: Vec<SyncConfiguration>,
    /// What could not be listed.
    pub failures: Vec<ListingFailure>,
}

impl GitSyncInventory {
    /// Lists everything, `concurrency` links at a time.
    pub async fn list<G: GitSyncApi>(api: &G, concurrency: usize) -> Self {
        let links = match api.repository_links().await {
            Ok(links) => links,
            Err(error) => {
                error!(%error, "cannot list repository links");
                let subject = "repository links".to_owned();
                return Self {
                    failures: vec![ListingFailure { subject, error }],
                    ..Self::default()
                };
            }
        };
        let listed: Vec<_> = stream::iter(&links)
            .map(|link| async move { (link, api.sync_configurations(&link.id).await) })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut inventory = Self::default();
        for (link, configurations) in listed {
            match configurations {
                Ok(configurations) => inventory.configurations.extend(configurations),
                Err(error) => {
                    error!(repository_link = %link.id, %error, "cannot list sync configurations");
                    let subject = format!(
                        "the sync configurations of repository link {} ({}/{})",
                        link.id, link.owner, link.repository
                    );
                    inventory.failures.push(ListingFailure { subject, error });
                }
            }
        }
        inventory.links = links;
        inventory
    }

    /// Every stack under Git sync, once each, in order.
    pub fn stacks(&self) -> BTreeSet<String> {
        self.configurations
            .iter()
            .map(|configuration| configuration.stack.clone())
            .collect()
    }
}
