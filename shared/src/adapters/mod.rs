//! The AWS SDK implementations of the ports. Thin: they translate types and errors only.

mod cloudformation;
mod codestar;
mod documents;
mod dynamodb;
mod eventbridge;
mod sdk;
mod sns;
mod trust;

pub use cloudformation::{SdkStackSetInstances, SdkStackStatus};
pub use codestar::SdkGitSync;
pub use documents::DynamoDocuments;
pub use dynamodb::DynamoLedger;
pub use eventbridge::EventBridgeBus;
pub use sdk::{AL2023_CA_BUNDLE, AwsClients, ClientsError, https_client};
pub use sns::SnsNotifier;

use thiserror::Error;

use crate::config::{CommonConfig, ConfigError, Env};
use crate::domain::alert::Origin;
use crate::domain::alert::RenderedAlert;
use crate::domain::bus::RenderedEvent;
use crate::outbox::Outbox;
use crate::ports::{Notifier, NotifyError, SystemClock};

/// The outbox every function holds in production.
pub type AwsOutbox = Outbox<Channels, DynamoLedger, SystemClock>;

/// Where alerts go in production: their events to the EventBridge bus (when one is
/// configured), then their message to the SNS topic.
pub struct Channels {
    pub topic: SnsNotifier,
    pub bus: Option<EventBridgeBus>,
}

impl Notifier for Channels {
    async fn publish(&self, alert: &RenderedAlert) -> Result<(), NotifyError> {
        // Events first: if the message then fails, the retry puts them again (consumers
        // deduplicate on their key), rather than a person reading the message twice.
        self.put_events(&alert.events).await?;
        self.topic.publish(alert).await
    }

    async fn put_events(&self, events: &[RenderedEvent]) -> Result<(), NotifyError> {
        match &self.bus {
            Some(bus) if !events.is_empty() => bus.put(events).await,
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Clients(#[from] ClientsError),
}

/// What every function builds once per cold start: its configuration and the adapters all
/// three call. A function that calls another service builds its client from `clients`
/// (blocker-resolver: [`SdkStackStatus`]).
pub struct Wiring {
    pub config: CommonConfig,
    pub region: String,
    pub clients: AwsClients,
    pub git_sync: SdkGitSync,
    /// The ledger table, for what is not the outbox's claim and publish: status records,
    /// heartbeats, reading and closing entries. The same table as the outbox's.
    pub store: DynamoLedger,
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
        let store = DynamoLedger::new(&clients, &config.ledger_table);
        let channels = Channels {
            topic: SnsNotifier::new(&clients, &config.alert_topic_arn),
            bus: config
                .event_bus
                .as_ref()
                .map(|bus| EventBridgeBus::new(&clients, bus)),
        };
        Ok(Self {
            region: clients.region(),
            git_sync: SdkGitSync::new(&clients),
            outbox: Outbox::new(
                channels,
                store.clone(),
                SystemClock,
                config.alert_format,
                source,
                origin,
            ),
            store,
            clients,
            config,
        })
    }
}
