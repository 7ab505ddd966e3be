//! org-hub's Lambda entry point: configuration and clients once per cold start, then every
//! queue batch and scheduled run to the hub.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    gitsync::telemetry::init()?;
    let hub = org_hub::from_env()
        .await
        .inspect_err(|err| tracing::error!(error = %err, "cold start failed"))?;
    let hub = &hub;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        hub.adopt_invocation_account(&event.context.invoked_function_arn);
        hub.handle(event.payload).await.map_err(Error::from)
    }))
    .await
}
