//! gitsync-guard's events on EventBridge (PutEvents): at most 10 entries and 256 KB a request,
//! and every entry EventBridge did not take is an error, never a silent drop (PutEvents answers
//! HTTP 200 with `FailedEntryCount` for those).

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::AwsClients;
use crate::domain::bus::{RenderedEvent, SOURCE};
use crate::ports::NotifyError;

/// PutEvents' limits: entries and bytes per request.
const MAX_ENTRIES: usize = 10;
const MAX_REQUEST_BYTES: usize = 256 * 1024;

#[derive(Clone)]
pub struct EventBridgeBus {
    client: Client,
    bus: String,
}

/// An entry's size as EventBridge counts it: source, detail-type, detail and resources (and
/// the time, which is not set: EventBridge stamps it).
fn entry_size(event: &RenderedEvent) -> usize {
    SOURCE.len()
        + event.detail_type.len()
        + event.detail.len()
        + event.resources.iter().map(String::len).sum::<usize>()
}

/// The events in requests within PutEvents' limits, in order.
fn batches(events: &[RenderedEvent]) -> Vec<&[RenderedEvent]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (at, event) in events.iter().enumerate() {
        let size = entry_size(event);
        if at > start && (at - start == MAX_ENTRIES || bytes + size > MAX_REQUEST_BYTES) {
            batches.push(&events[start..at]);
            (start, bytes) = (at, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        batches.push(&events[start..]);
    }
    batches
}

impl EventBridgeBus {
    /// `bus` is a bus name or ARN.
    pub fn new(clients: &AwsClients, bus: impl Into<String>) -> Self {
        Self {
            client: Client::new(clients.sdk_config()),
            bus: bus.into(),
        }
    }

    pub async fn put(&self, events: &[RenderedEvent]) -> Result<(), NotifyError> {
        for batch in batches(events) {
            self.put_batch(batch).await?;
        }
        Ok(())
    }

    async fn put_batch(&self, events: &[RenderedEvent]) -> Result<(), NotifyError> {
        let entries = events
            .iter()
            .map(|event| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(event.detail_type)
                    .detail(&event.detail)
                    .set_resources(Some(event.resources.clone()))
                    .build()
            })
            .collect();
        let output = self
            .client
            .put_events()
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| {
                NotifyError(format!(
                    "EventBridge PutEvents to bus {}: {}",
                    self.bus,
                    DisplayErrorContext(&err)
                ))
            })?;
        let failed: Vec<String> = output
            .entries()
            .iter()
            .zip(events)
            .filter_map(|(result, event)| {
                let code = result.error_code()?;
                let message = result.error_message().unwrap_or_default();
                Some(format!("{} ({code}: {message})", event.detail_type))
            })
            .collect();
        if output.failed_entry_count() > 0 || !failed.is_empty() {
            return Err(NotifyError(format!(
                "EventBridge PutEvents to bus {}: {} of {} event(s) not taken: {}",
                self.bus,
                output.failed_entry_count().max(failed.len() as i32),
                events.len(),
                failed.join("; ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail_bytes: usize) -> RenderedEvent {
        RenderedEvent {
            detail_type: "GitSync Test",
            resources: vec![],
            detail: "x".repeat(detail_bytes),
        }
    }

    #[test]
    fn batches_keep_to_ten_entries_and_256_kb() {
        let small: Vec<RenderedEvent> = (0..23).map(|_| event(100)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<RenderedEvent> = (0..3).map(|_| event(100 * 1024)).collect();
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 1], "two of 100 KB fit, the third does not");
        assert!(batches(&[]).is_empty());
    }
}
