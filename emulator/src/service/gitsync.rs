//! What Git sync does on its own once a blocker is resolved: it retries the latest commit.
//! The attempt goes INITIATED, IN_PROGRESS, then SUCCEEDED, one step per `--sync-step-delay`
//! (all at once when it is zero); when the stack's cause is marked persistent it FAILS and
//! the same reason raises a new ACTIVE blocker, which is what a resolver's loop guard is for.
//! Every step publishes its EventBridge event.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{Backend, Service};
use crate::api_error::ApiError;
use crate::state::{KeyValue, ResourceSyncStatus, SyncType};

/// A marking of a stack's cause: while persistent, every retry fails again.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PersistentCause {
    pub resource_name: String,
    #[serde(default)]
    pub sync_type: SyncType,
    pub persistent: bool,
}

/// The cause a retry inherits from the blocker it follows: what a new blocker would say.
#[derive(Debug, Clone)]
struct Cause {
    reason: String,
    contexts: Vec<KeyValue>,
}

/// The next step of a retry, to take after the step delay.
#[derive(Debug, Clone)]
pub struct PendingStep {
    pub account: String,
    sync_type: SyncType,
    resource_name: String,
    status: ResourceSyncStatus,
    cause: Cause,
}

/// What changes set in motion beyond the state: events to publish, steps to take later.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    pub events: Vec<Value>,
    pub later: Vec<PendingStep>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.later.is_empty()
    }
}

impl Backend {
    pub fn set_persistent_cause(&mut self, marking: PersistentCause) -> Result<(), ApiError> {
        self.sync_configuration_record_mut(marking.sync_type, &marking.resource_name)?
            .persistent_cause = marking.persistent;
        Ok(())
    }

    /// Starts Git sync's retry of the latest commit after a blocker with `reason` was
    /// resolved: the INITIATED step now, the others now too or later.
    pub(super) fn retry_latest_commit(
        &mut self,
        sync_type: SyncType,
        resource_name: &str,
        reason: String,
        contexts: Vec<KeyValue>,
    ) -> Result<(), ApiError> {
        let commit = self
            .sync_configuration_record(sync_type, resource_name)?
            .latest_sync
            .as_ref()
            .map(|attempt| attempt.target_revision.sha.clone());
        self.sync_step(
            sync_type,
            resource_name,
            ResourceSyncStatus::Initiated,
            commit,
        )?;
        let step = PendingStep {
            account: self.settings.account.clone(),
            sync_type,
            resource_name: resource_name.to_owned(),
            status: ResourceSyncStatus::InProgress,
            cause: Cause { reason, contexts },
        };
        self.schedule(step)
    }

    /// Takes a step now when there is no delay, else leaves it for the service to take.
    fn schedule(&mut self, step: PendingStep) -> Result<(), ApiError> {
        if self.settings.sync_step_delay.is_zero() {
            self.take_step(step)
        } else {
            self.effects.later.push(step);
            Ok(())
        }
    }

    /// Takes one step of a retry and schedules the next: IN_PROGRESS leads to the outcome,
    /// SUCCEEDED, or FAILED with a new blocker when the cause persists.
    pub fn take_step(&mut self, step: PendingStep) -> Result<(), ApiError> {
        let persistent = self
            .sync_configuration_record(step.sync_type, &step.resource_name)?
            .persistent_cause;
        self.sync_step(step.sync_type, &step.resource_name, step.status, None)?;
        match step.status {
            ResourceSyncStatus::Initiated | ResourceSyncStatus::InProgress => {
                let outcome = if persistent {
                    ResourceSyncStatus::Failed
                } else {
                    ResourceSyncStatus::Succeeded
                };
                let next = match step.status {
                    ResourceSyncStatus::Initiated => ResourceSyncStatus::InProgress,
                    _ => outcome,
                };
                self.schedule(PendingStep {
                    status: next,
                    ..step
                })
            }
            ResourceSyncStatus::Failed => self
                .add_active_blocker(
                    step.sync_type,
                    &step.resource_name,
                    step.cause.reason,
                    step.cause.contexts,
                )
                .map(drop),
            ResourceSyncStatus::Succeeded => Ok(()),
        }
    }
}

impl Service {
    /// Carries out what a change set in motion: publishes its events and, after the step
    /// delay, takes each later step (and then carries out what that step set in motion).
    pub fn carry_out(self: &Arc<Self>, effects: Effects) {
        if effects.is_empty() {
            return;
        }
        if let Some(sink) = &self.events {
            for event in effects.events {
                sink.publish(event);
            }
        }
        for step in effects.later {
            let service = Arc::clone(self);
            tokio::spawn(async move {
                let delay = service.sync_step_delay();
                tokio::time::sleep(delay).await;
                let effects = {
                    let mut accounts = service.lock();
                    let backend = accounts.account(Some(&step.account));
                    if let Err(error) = backend.take_step(step) {
                        // The stack's sync configuration was deleted meanwhile: the retry ends.
                        tracing::info!(%error, "a Git sync retry ended early");
                    }
                    backend.take_effects()
                };
                service.changed();
                service.carry_out(effects);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_effects_set_is_empty() {
        assert!(Effects::default().is_empty());
    }

    #[test]
    fn persistent_cause_bodies_default_the_sync_type() {
        let marking: PersistentCause =
            serde_json::from_str(r#"{"ResourceName": "stack", "Persistent": true}"#)
                .expect("parses");
        assert_eq!(marking.sync_type, SyncType::CfnStackSync);
        assert!(marking.persistent);
    }
}
