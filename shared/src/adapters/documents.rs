//! Versioned documents on DynamoDB: one item per key (`pk`), its JSON in `body` and its version
//! in `version`; a write is conditional on the version it read.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::AttributeValue;

use super::AwsClients;
use super::sdk::all_pages;
use crate::ledger::LedgerError;
use crate::ports::{Document, DocumentStore};

#[derive(Clone)]
pub struct DynamoDocuments {
    client: Client,
    table: String,
}

impl DynamoDocuments {
    pub fn new(clients: &AwsClients, table: impl Into<String>) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
            table: table.into(),
        }
    }

    fn failed(&self, action: &str, err: impl std::error::Error) -> LedgerError {
        LedgerError(format!(
            "{action} in table {}: {}",
            self.table,
            DisplayErrorContext(err)
        ))
    }
}

/// An item as a document; an item missing an attribute is not one of ours and is skipped.
fn document(item: &HashMap<String, AttributeValue>) -> Option<Document> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some(Document {
        key: text("pk")?,
        body: text("body")?,
        version: item.get("version")?.as_n().ok()?.parse().ok()?,
    })
}

impl DocumentStore for DynamoDocuments {
    async fn documents(&self) -> Result<Vec<Document>, LedgerError> {
        let pages = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .send();
        let failed = |err| self.failed("scanning the documents", err);
        all_pages(pages, failed, |page| {
            page.items().iter().filter_map(document).collect()
        })
        .await
    }

    async fn document(&self, key: &str) -> Result<Option<Document>, LedgerError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(key.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| self.failed(&format!("reading {key}"), err))?;
        Ok(output.item().and_then(document))
    }

    async fn write(&self, key: &str, body: &str, read: Option<u64>) -> Result<bool, LedgerError> {
        let next = read.map_or(1, |version| version + 1);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(key.to_owned()))
            .item("body", AttributeValue::S(body.to_owned()))
            .item("version", AttributeValue::N(next.to_string()));
        put = match read {
            None => put.condition_expression("attribute_not_exists(pk)"),
            Some(version) => put
                .condition_expression("version = :read")
                .expression_attribute_values(":read", AttributeValue::N(version.to_string())),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(err) => Err(self.failed(&format!("writing {key}"), err)),
        }
    }
}
