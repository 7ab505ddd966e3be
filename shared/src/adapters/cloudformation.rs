use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::CallAs;

use super::AwsClients;
use super::sdk::{all_pages, api_error};
use crate::ports::{ApiError, ApiErrorKind, StackSetInstances, StackStatusLookup};

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

/// A StackSet's stack instances through ListStackInstances, as its administrator (`SELF`) or a
/// delegated administrator (`DELEGATED_ADMIN`) lists them.
#[derive(Clone)]
pub struct SdkStackSetInstances {
    client: Client,
    stack_set: String,
    call_as: CallAs,
}

impl SdkStackSetInstances {
    /// `call_as` is `SELF` or `DELEGATED_ADMIN`, as the hub template's CallAs.
    pub fn new(clients: &AwsClients, stack_set: impl Into<String>, call_as: &str) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
            stack_set: stack_set.into(),
            call_as: CallAs::from(call_as),
        }
    }
}

impl StackSetInstances for SdkStackSetInstances {
    async fn instances(&self) -> Result<Vec<(String, String)>, ApiError> {
        let pages = self
            .client
            .list_stack_instances()
            .stack_set_name(&self.stack_set)
            .call_as(self.call_as.clone())
            .into_paginator()
            .send();
        all_pages(
            pages,
            |err| api_error("ListStackInstances", err),
            |page| {
                page.summaries()
                    .iter()
                    .filter_map(|instance| {
                        Some((
                            instance.account()?.to_owned(),
                            instance.region()?.to_owned(),
                        ))
                    })
                    .collect()
            },
        )
        .await
    }
}
