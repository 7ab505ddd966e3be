//! The ledger on DynamoDB: the schema in [`crate::ledger`], translated to items.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

use super::AwsClients;
use super::sdk::all_pages;
use crate::domain::connections::ResourceKind;
use crate::domain::selfwatch::{Heartbeat, Job};
use crate::ledger::{
    Claim, EntryState, HEARTBEAT_RETENTION, HEARTBEAT_SCOPE, LedgerEntry, LedgerError, LedgerKey,
    LedgerQuery, STATUS_RETENTION, STATUS_SCOPE, StatusRecord,
};
use crate::ports::{AlertLedger, HeartbeatStore, StatusStore};

const PENDING: &str = "pending";
const SENT: &str = "sent";
const CLOSED: &str = "closed";

#[derive(Clone)]
pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(clients: &AwsClients, table: impl Into<String>) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
            table: table.into(),
        }
    }

    fn failed(
        &self,
        action: &str,
        key: impl fmt::Display,
        err: impl std::error::Error,
    ) -> LedgerError {
        LedgerError(format!(
            "{action} {key} in table {}: {}",
            self.table,
            DisplayErrorContext(err)
        ))
    }
}

/// The write's condition did not hold: a decision, not a failure.
fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn epoch(time: SystemTime) -> AttributeValue {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    AttributeValue::N(seconds.to_string())
}

fn key_attributes(key: &LedgerKey) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(key.scope())),
        ("sk".to_owned(), s(key.item())),
    ])
}

fn seconds(item: &HashMap<String, AttributeValue>, name: &str) -> Option<SystemTime> {
    let seconds = item.get(name)?.as_n().ok()?.parse::<u64>().ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn entry(scope: &str, item: &HashMap<String, AttributeValue>) -> Option<LedgerEntry> {
    let state = match item.get("state")?.as_s().ok()?.as_str() {
        PENDING => EntryState::Pending,
        SENT => EntryState::Sent,
        CLOSED => EntryState::Closed,
        _ => return None,
    };
    Some(LedgerEntry {
        key: LedgerKey::new(scope, item.get("sk")?.as_s().ok()?.clone()),
        state,
        claimed_at: seconds(item, "claimed_at").unwrap_or(UNIX_EPOCH),
    })
}

impl AlertLedger for DynamoLedger {
    async fn claim(
        &self,
        key: &LedgerKey,
        now: SystemTime,
        lease_until: SystemTime,
        expires_at: SystemTime,
    ) -> Result<Claim, LedgerError> {
        let token = uuid::Uuid::new_v4().to_string();
        let mut item = key_attributes(key);
        item.extend([
            ("state".to_owned(), s(PENDING)),
            ("token".to_owned(), s(&token)),
            ("lease_until".to_owned(), epoch(lease_until)),
            ("expires_at".to_owned(), epoch(expires_at)),
            ("claimed_at".to_owned(), epoch(now)),
        ]);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#state = :pending AND lease_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":now", epoch(now))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Claim::Acquired { token }),
            Err(err) if condition_failed(&err) => {}
            Err(err) => return Err(self.failed("claiming", key, err)),
        }
        let current = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| self.failed("reading", key, err))?;
        let item = current.item();
        let state = item
            .and_then(|i| i.get("state"))
            .and_then(|v| v.as_s().ok());
        let lease = item.and_then(|i| seconds(i, "lease_until"));
        Ok(match (state.map(String::as_str), lease) {
            (Some(PENDING), Some(lease_until)) => Claim::InFlight { lease_until },
            // Gone between the two calls (released): report in flight so the caller looks again.
            (None, _) => Claim::InFlight { lease_until: now },
            _ => Claim::Done,
        })
    }

    async fn confirm(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .update_expression("SET #state = :sent REMOVE #token, lease_until")
            .condition_expression("#token = :token")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":sent", s(SENT))
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            // Our lease ended and another invocation took over: its confirm counts.
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(self.failed("confirming", key, err)),
        }
    }

    async fn release(&self, key: &LedgerKey, token: &str) -> Result<(), LedgerError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .condition_expression("#token = :token")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":token", s(token))
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(self.failed("releasing", key, err)),
        }
    }

    async fn entries(&self, query: &LedgerQuery) -> Result<Vec<LedgerEntry>, LedgerError> {
        let (scope, prefix) = (query.scope(), query.prefix());
        let scope_key = format!("{scope}/{prefix}*");
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":scope", s(scope))
            .consistent_read(true);
        // DynamoDB rejects an empty string in a key condition: no prefix, no begins_with.
        let query = if prefix.is_empty() {
            query.key_condition_expression("pk = :scope")
        } else {
            query
                .key_condition_expression("pk = :scope AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix))
        };
        let pages = query.into_paginator().send();
        let failed = |err| self.failed("listing", &scope_key, err);
        all_pages(pages, failed, |page| {
            page.items()
                .iter()
                .filter_map(|item| entry(scope, item))
                .collect()
        })
        .await
    }

    async fn close(&self, key: &LedgerKey) -> Result<(), LedgerError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(key)))
            .update_expression("SET #state = :closed")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":closed", s(CLOSED))
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            Err(err) if condition_failed(&err) => Ok(()),
            Err(err) => Err(self.failed("closing", key, err)),
        }
    }
}

fn status_record(item: &HashMap<String, AttributeValue>) -> Option<StatusRecord> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    Some(StatusRecord {
        arn: text("sk")?,
        kind: ResourceKind::parse(&text("kind")?)?,
        name: text("name"),
        status: text("status")?,
        since: seconds(item, "since")?,
        last_alerted_at: seconds(item, "last_alerted_at"),
    })
}

impl StatusStore for DynamoLedger {
    async fn statuses(&self) -> Result<Vec<StatusRecord>, LedgerError> {
        let pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :scope")
            .expression_attribute_values(":scope", s(STATUS_SCOPE))
            .consistent_read(true)
            .into_paginator()
            .send();
        let failed = |err| self.failed("listing", STATUS_SCOPE, err);
        all_pages(pages, failed, |page| {
            page.items().iter().filter_map(status_record).collect()
        })
        .await
    }

    async fn save_status(&self, record: &StatusRecord) -> Result<(), LedgerError> {
        let key = LedgerKey::status(&record.arn);
        let mut item = key_attributes(&key);
        item.extend([
            ("kind".to_owned(), s(record.kind.as_str())),
            ("status".to_owned(), s(&record.status)),
            ("since".to_owned(), epoch(record.since)),
            (
                "expires_at".to_owned(),
                epoch(SystemTime::now() + STATUS_RETENTION),
            ),
        ]);
        if let Some(name) = &record.name {
            item.insert("name".to_owned(), s(name));
        }
        if let Some(alerted) = record.last_alerted_at {
            item.insert("last_alerted_at".to_owned(), epoch(alerted));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|err| self.failed("saving", &key, err))?;
        Ok(())
    }

    async fn forget_status(&self, arn: &str) -> Result<(), LedgerError> {
        let key = LedgerKey::status(arn);
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&key)))
            .send()
            .await
            .map_err(|err| self.failed("forgetting", &key, err))?;
        Ok(())
    }
}

fn heartbeat(item: &HashMap<String, AttributeValue>) -> Option<Heartbeat> {
    Some(Heartbeat {
        job: Job::parse(item.get("sk")?.as_s().ok()?)?,
        completed_at: seconds(item, "completed_at")?,
        first_completed_at: seconds(item, "first_completed_at")?,
    })
}

impl HeartbeatStore for DynamoLedger {
    async fn record_heartbeat(&self, job: Job, at: SystemTime) -> Result<(), LedgerError> {
        let key = LedgerKey::heartbeat(job);
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attributes(&key)))
            .update_expression(
                "SET completed_at = :at, first_completed_at = if_not_exists(first_completed_at, :at), expires_at = :expires",
            )
            .expression_attribute_values(":at", epoch(at))
            .expression_attribute_values(":expires", epoch(at + HEARTBEAT_RETENTION))
            .send()
            .await
            .map_err(|err| self.failed("recording", &key, err))?;
        Ok(())
    }

    async fn heartbeats(&self) -> Result<Vec<Heartbeat>, LedgerError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :scope")
            .expression_attribute_values(":scope", s(HEARTBEAT_SCOPE))
            .consistent_read(true)
            .send()
            .await
            .map_err(|err| self.failed("listing", HEARTBEAT_SCOPE, err))?;
        Ok(output.items().iter().filter_map(heartbeat).collect())
    }
}
