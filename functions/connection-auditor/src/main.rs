//! connection-auditor's Lambda entry point: configuration and clients once per cold start,
//! then every scheduled event to the auditor.

// The audit's future nests deeply (listing, blast radius, outbox, ledger) and rustc's default
// limit of 128 is too low to compute its layout.
#![recursion_limit = "256"]

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    gitsync::telemetry::init()?;
    let auditor = connection_auditor::from_env()
        .await
        .inspect_err(|err| tracing::error!(error = %err, "cold start failed"))?;
    let auditor = &auditor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Without ACCOUNT_ID, the account is the one in the function's own ARN.
        auditor
            .outbox
            .adopt_invocation_account(&event.context.invoked_function_arn);
        auditor.handle(event.payload).await
    }))
    .await
}
