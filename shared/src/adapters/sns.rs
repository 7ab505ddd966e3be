use aws_sdk_sns::Client;
use aws_sdk_sns::config::Region;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::MessageAttributeValue;

use super::AwsClients;
use crate::domain::alert::RenderedAlert;
use crate::ports::NotifyError;

/// Publishes alerts to the SNS topic, with String message attributes for filtering.
#[derive(Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    /// A topic in another region (an organization's hub) must be called in its own region:
    /// SNS answers a Publish to another region's topic with NotFound. Endpoint overrides
    /// (`AWS_ENDPOINT_URL_SNS`) still apply, since they come with the shared configuration.
    pub fn new(clients: &AwsClients, topic_arn: impl Into<String>) -> Self {
        let topic_arn = topic_arn.into();
        let client = match topic_region(&topic_arn) {
            Some(region) if region != clients.region() => Client::from_conf(
                aws_sdk_sns::config::Builder::from(clients.sdk_config())
                    .region(Region::new(region.to_owned()))
                    .build(),
            ),
            _ => Client::new(clients.sdk_config()),
        };
        Self { client, topic_arn }
    }
}

/// The region of `arn:PARTITION:sns:REGION:ACCOUNT:NAME`, if the ARN has one.
fn topic_region(topic_arn: &str) -> Option<&str> {
    topic_arn
        .split(':')
        .nth(3)
        .filter(|region| !region.is_empty())
}

impl SnsNotifier {
    /// Publishes the message (its events are the bus's, see [`super::Channels`]).
    pub async fn publish(&self, alert: &RenderedAlert) -> Result<(), NotifyError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_topic_region_is_read_from_its_arn() {
        assert_eq!(
            topic_region("arn:aws:sns:eu-central-1:210987654321:gitsync-guard-hub"),
            Some("eu-central-1")
        );
        assert_eq!(topic_region("arn:aws:sns::1:t"), None);
        assert_eq!(topic_region("not-an-arn"), None);
    }
}
