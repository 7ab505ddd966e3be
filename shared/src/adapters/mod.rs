//! The AWS SDK implementations of the ports. Thin: they translate types and errors only.

mod cloudformation;
mod codestar;
mod dynamodb;
mod sdk;
mod sns;

pub use cloudformation::SdkStackStatus;
pub use codestar::SdkGitSync;
pub use dynamodb::DynamoLedger;
pub use sdk::{AwsClients, ClientsError};
pub use sns::SnsNotifier;

use thiserror::Error;

use crate::config::{CommonConfig, ConfigError, Env};

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Clients(#[from] ClientsError),
}

/// What every function builds once per cold start: its configuration and the AWS adapters.
pub struct Wiring {
    pub config: CommonConfig,
    pub region: String,
    pub git_sync: SdkGitSync,
    pub notifier: SnsNotifier,
    pub ledger: DynamoLedger,
    pub stacks: SdkStackStatus,
}

impl Wiring {
    pub async fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, StartError> {
        let config = CommonConfig::from_env(env)?;
        let clients = AwsClients::load().await?;
        Ok(Self {
            region: clients.region(),
            git_sync: SdkGitSync::new(&clients),
            notifier: SnsNotifier::new(&clients, &config.alert_topic_arn),
            ledger: DynamoLedger::new(&clients, &config.ledger_table),
            stacks: SdkStackStatus::new(&clients),
            config,
        })
    }
}
