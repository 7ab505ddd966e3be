//! The product as shipped: one stack under Git sync (its connection in a given status) and the
//! three functions running with the environment template.yaml gives them, for the tests that
//! drive gitsync-guard as a deployment runs it.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use gitsync::ledger::LedgerKey;
use serde_json::{Value, json};

use crate::template::Template;
use crate::{LambdaWatch, World};

/// The stack under Git sync.
pub const STACK: &str = "orders-api";
/// The reason of the blockers the tests raise.
pub const REASON: &str = "Resource handler returned message: \"orders-queue already exists\"";

pub struct Deployed {
    pub base: World,
    pub watch: LambdaWatch,
    pub template: Template,
}

impl std::ops::Deref for Deployed {
    type Target = World;
    fn deref(&self) -> &World {
        &self.base
    }
}

impl Deployed {
    /// [`STACK`] under Git sync through a GitHub connection in `connection` status, and the
    /// functions as deployed, `overrides` replacing parts of their environment.
    pub async fn one_stack(base: World, connection: &str, overrides: &[(&str, &str)]) -> Self {
        let seeded = base
            .emulator
            .admin(
                "seed",
                json!({
                    "Connections": [{"Name": "acme-github", "ProviderType": "GitHub", "Status": connection}],
                    "RepositoryLinks": [{"Connection": "acme-github", "OwnerId": "acme", "RepositoryName": "orders"}],
                    "SyncConfigurations": [{"ResourceName": STACK, "Repository": "acme/orders", "ConfigFile": "deployment.yaml"}],
                }),
            )
            .await;
        assert_eq!(seeded["SyncConfigurations"], 1, "{seeded}");
        let watch = base.start_as_deployed(overrides);
        Self {
            base,
            watch,
            template: Template::load(),
        }
    }

    /// Git sync raises a blocker on [`STACK`] with [`REASON`]; its Id.
    pub async fn raise_blocker(&self) -> String {
        let created = self
            .emulator
            .admin(
                "sync-blockers",
                json!({"ResourceName": STACK, "CreatedReason": REASON}),
            )
            .await;
        created["Id"].as_str().expect("blocker Id").to_owned()
    }

    /// Invokes `function` and expects it to succeed, showing the functions' log if not.
    pub async fn invoke_ok(&self, function: &str, event: &Value) -> Value {
        let invocation = self.watch.invoke(function, event).await;
        assert!(
            !invocation.failed,
            "{function} failed: {}\n{}",
            invocation.body,
            self.watch.log_text()
        );
        invocation.body
    }

    /// Every scheduled job of the template, as its schedules invoke it.
    pub async fn run_scheduled_jobs(&self) {
        for function in self.template.functions() {
            for input in &function.schedule_inputs {
                self.invoke_ok(&function.binary, input).await;
            }
        }
    }

    /// What sync-watcher's schedule sends it.
    pub fn watcher_sweep(&self) -> Value {
        self.template
            .functions()
            .into_iter()
            .find(|function| function.binary == "sync-watcher")
            .and_then(|function| function.schedule_inputs.into_iter().next())
            .expect("sync-watcher has a schedule")
    }

    /// Moves a blocker alert's record back in time, as if it was sent `hours` ago.
    pub async fn age_blocker_alert(&self, blocker_id: &str, hours: u64) {
        let key = LedgerKey::blocker_alert(STACK, blocker_id);
        let past = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
            - hours * 3600;
        self.dynamodb()
            .update_item()
            .table_name(&self.sink.table)
            .key("pk", AttributeValue::S(key.scope().into()))
            .key("sk", AttributeValue::S(key.item().into()))
            .update_expression("SET claimed_at = :past")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":past", AttributeValue::N(past.to_string()))
            .send()
            .await
            .expect("the blocker alert is in the ledger");
    }
}
