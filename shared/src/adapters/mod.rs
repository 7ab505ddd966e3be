//! The AWS SDK implementations of the ports. Thin: they translate types and errors only.

mod cloudformation;
mod codestar;
mod dynamodb;
mod sdk;
mod sns;

pub use cloudformation::SdkStackStatus;
pub use codestar::SdkGitSync;
pub use dynamodb::DynamoLedger;
pub use sdk::{AL2023_CA_BUNDLE, AwsClients, ClientsError, https_client};
pub use sns::SnsNotifier;

use thiserror::Error;

use crate::config::{CommonConfig, ConfigError, Env};
use crate::domain::alert::Origin;
use crate::outbox::{DedupePolicy, Outbox};
use crate::ports::SystemClock;

/// The outbox every function holds in production.
pub type AwsOutbox = Outbox<SnsNotifier, DynamoLedger, SystemClock>;

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
    pub stacks: SdkStackStatus,
    pub outbox: AwsOutbox,
}

impl Wiring {
    /// `source` is the function's name, which every message it sends carries.
    pub async fn from_env<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        source: &'static str,
    ) -> Result<Self, StartError> {
        let config = CommonConfig::from_env(env)?;
        let clients = AwsClients::load(env).await?;
        let origin = Origin {
            account: config.account.clone(),
            region: clients.region(),
        };
        Ok(Self {
            region: clients.region(),
            git_sync: SdkGitSync::new(&clients),
            stacks: SdkStackStatus::new(&clients),
            outbox: Outbox {
                notifier: SnsNotifier::new(&clients, &config.alert_topic_arn),
                ledger: DynamoLedger::new(&clients, &config.ledger_table),
                clock: SystemClock,
                format: config.alert_format,
                policy: DedupePolicy::default(),
                source,
                origin,
            },
            config,
        })
    }
}
