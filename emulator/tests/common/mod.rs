//! Starts the real emulator binary for a test and talks to it.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_codestarconnections::Client;
use aws_sdk_codestarconnections::config::{Credentials, Region};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use connections_emulator::launcher::{Launcher, RunningEmulator};
use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_connections-emulator");
pub const DEMO_SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.yaml");
pub const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/model/codestar-connections-2019-12-01.json"
);
pub const CODECONNECTIONS_MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/model/codeconnections-2023-12-01.json"
);
pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// Demo scenario resources used across tests.
pub mod demo {
    pub const GITHUB_CONNECTION: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/3f2a1c9e-7b4d-4e8a-9c61-2d5f8e0b7a14";
    pub const GITLAB_CONNECTION: &str = "arn:aws:codeconnections:us-east-1:123456789012:connection/8c7d6e5f-4a3b-4c2d-9e1f-0a9b8c7d6e5f";
    pub const BITBUCKET_CONNECTION: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/b1e2c3d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e";
    pub const GHES_CONNECTION: &str = "arn:aws:codestar-connections:us-east-1:123456789012:connection/5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";
    pub const HOST: &str =
        "arn:aws:codestar-connections:us-east-1:123456789012:host/ghes-corp-5e1f2a3b";
    pub const PLATFORM_LINK: &str = "6053346f-8a33-4edb-9397-10394b695039";
    pub const PAYMENTS_LINK: &str = "2c9e4b1a-7d3f-4e6a-b5c8-91f0a2d4e6b7";
    pub const PAYMENTS_BLOCKER: &str = "5b0c2e7a-3d4f-4a1b-9e8c-7f6a5b4c3d2e";
    pub const PAYMENTS_RESOLVED_BLOCKER: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
    pub const WEB_BLOCKER: &str = "8e7f6a5b-4c3d-4b2a-9f1e-0d9c8b7a6f5e";
}

/// A running emulator, killed when dropped.
pub struct Emulator {
    process: RunningEmulator,
    pub endpoint: String,
    http: reqwest::Client,
}

impl Emulator {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_demo() -> Self {
        Self::start_with(&["--scenario", DEMO_SCENARIO])
    }

    pub fn start_with(args: &[&str]) -> Self {
        let process = Launcher::new(BINARY)
            .args(args)
            .env("RUST_LOG", "warn")
            .stderr(Stdio::inherit())
            .start()
            .expect("the emulator starts and announces its address");
        let endpoint = process.endpoint().to_owned();
        assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client");
        Emulator {
            process,
            endpoint,
            http,
        }
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Waits for the process to exit (after a signal), answering its exit status.
    pub fn wait_for_exit(mut self, timeout: Duration) -> std::process::ExitStatus {
        self.process
            .wait_for_exit(timeout)
            .expect("process status")
            .unwrap_or_else(|| panic!("the emulator did not exit within {timeout:?}"))
    }

    /// An SDK client as production code builds one, pointed at the emulator, with the
    /// standard retry mode (3 attempts) and a short backoff to keep tests fast.
    pub async fn sdk(&self) -> Client {
        Client::new(&self.sdk_config().await)
    }

    /// The configuration of that client, for either API's SDK crate.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_as("AKIDEMULATOR").await
    }

    /// The same with another access key id: a 12-digit one names the account.
    pub async fn sdk_config_as(&self, access_key_id: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(Provider::Rustls(CryptoMode::Ring))
                    .build_https(),
            )
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                access_key_id,
                "emulator-secret",
                None,
                None,
                "tests",
            ))
            .endpoint_url(&self.endpoint)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(10)),
            )
            .load()
            .await
    }

    /// An API call over raw HTTP: status, headers and parsed body.
    pub async fn call(&self, target: &str, body: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("X-Amz-Target", target)
            .header("Content-Type", "application/x-amz-json-1.0")
            .body(body.to_owned())
            .send()
            .await
            .expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {text}"));
        (status, headers, body)
    }

    /// Calls an operation with the SDK's short target form.
    pub async fn op(&self, operation: &str, body: Value) -> (u16, Value) {
        let (status, _, body) = self
            .call(
                &format!("CodeStar_connections_20191201.{operation}"),
                &body.to_string(),
            )
            .await;
        (status, body)
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/_emulator/{path}", self.endpoint))
            .json(&body)
            .send()
            .await
            .expect("the emulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    pub async fn admin_get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/_emulator/{path}", self.endpoint))
            .send()
            .await
            .expect("the emulator answers");
        assert_eq!(response.status().as_u16(), 200, "GET /_emulator/{path}");
        response.json().await.expect("a JSON body")
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}
