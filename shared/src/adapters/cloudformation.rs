use aws_sdk_cloudformation::Client;

use super::AwsClients;
use super::sdk::api_error;
use crate::ports::{ApiError, ApiErrorKind, StackStatusLookup};

/// Stack statuses through DescribeStacks.
#[derive(Clone)]
pub struct SdkStackStatus {
    client: Client,
}

impl SdkStackStatus {
    pub fn new(clients: &AwsClients) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
        }
    }
}

impl StackStatusLookup for SdkStackStatus {
    async fn stack_status(&self, stack: &str) -> Result<Option<String>, ApiError> {
        match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(output) => Ok(output
                .stacks()
                .first()
                .and_then(|stack| stack.stack_status())
                .map(|status| status.as_str().to_owned())),
            Err(err) => {
                let error = api_error("DescribeStacks", err);
                // CloudFormation answers a missing stack with a ValidationError "does not exist".
                if error.kind == ApiErrorKind::InvalidInput
                    && error.message.contains("does not exist")
                {
                    Ok(None)
                } else {
                    Err(error)
                }
            }
        }
    }
}
