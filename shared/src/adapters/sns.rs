use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsClients;
use crate::domain::alert::RenderedAlert;
use crate::ports::{Notifier, NotifyError};

/// Publishes alerts to the SNS topic, with String message attributes for filtering.
#[derive(Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(clients: &AwsClients, topic_arn: impl Into<String>) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, alert: &RenderedAlert) -> Result<(), NotifyError> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject)
            .message(&alert.message);
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|err| NotifyError(format!("message attribute {name}: {err}")))?;
            request = request.message_attributes(name, attribute);
        }
        request.send().await.map_err(|err| {
            NotifyError(format!(
                "SNS Publish to {}: {}",
                self.topic_arn,
                DisplayErrorContext(&err)
            ))
        })?;
        Ok(())
    }
}
