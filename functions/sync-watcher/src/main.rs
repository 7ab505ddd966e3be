//! sync-watcher's Lambda entry point: configuration and clients once per cold start, then
//! every event to the watcher.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    gitsync::telemetry::init()?;
    let watcher = sync_watcher::from_env()
        .await
        .inspect_err(|err| tracing::error!(error = %err, "cold start failed"))?;
    let watcher = &watcher;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Without ACCOUNT_ID, the account is the one in the function's own ARN.
        watcher
            .outbox
            .adopt_invocation_account(&event.context.invoked_function_arn);
        watcher.handle(event.payload).await
    }))
    .await
}
