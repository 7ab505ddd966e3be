//! blocker-resolver's entry point. With `--check-rules FILE` it checks a rules file and
//! exits; without arguments it is the Lambda function: rules, configuration and clients once
//! per cold start, then every event to the resolver.

use std::process::ExitCode;

use blocker_resolver::cli::Command;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<ExitCode, Error> {
    if let Some(command) = Command::from_args(std::env::args_os().skip(1)) {
        return Ok(command.run());
    }
    gitsync::telemetry::init()?;
    let resolver = blocker_resolver::from_env()
        .await
        .inspect_err(|err| tracing::error!(error = %err, "cold start failed"))?;
    let resolver = &resolver;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Without ACCOUNT_ID, the account is the one in the function's own ARN.
        resolver
            .outbox
            .adopt_invocation_account(&event.context.invoked_function_arn);
        resolver.handle(event.payload).await
    }))
    .await?;
    Ok(ExitCode::SUCCESS)
}
