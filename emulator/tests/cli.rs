//! The AWS CLI (botocore, the long X-Amz-Target form) against a running emulator, through
//! both `aws codestar-connections` and `aws codeconnections`.

mod common;

use std::process::{Command, Output};

use common::Emulator;
use serde_json::{Value, json};

struct Cli<'a> {
    emulator: &'a Emulator,
    /// `codestar-connections` or `codeconnections`.
    service: &'static str,
    /// A 12-digit one names the account the calls act in.
    access_key_id: &'static str,
}

impl Cli<'_> {
    fn command(&self, args: &[&str]) -> Output {
        let output = Command::new("aws")
            .arg(self.service)
            .args(args)
            .args([
                "--endpoint-url",
                &self.emulator.endpoint,
                "--region",
                common::REGION,
                "--output",
                "json",
            ])
            .env("AWS_ACCESS_KEY_ID", self.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", "emulator-secret")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/nonexistent/gitsync-guard/aws-config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/gitsync-guard/aws-credentials",
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "")
            .output();
        match output {
            Ok(output) => output,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "the AWS CLI (`aws`) is not on PATH: run `. scripts/tools.sh` from the repository root \
                 in the shell that runs the tests; it installs the CLI into a venv and puts it on PATH"
            ),
            Err(error) => panic!("cannot run the AWS CLI: {error}"),
        }
    }

    fn json(&self, args: &[&str]) -> Value {
        let output = self.command(args);
        assert!(
            output.status.success(),
            "aws {} {args:?} failed: {}",
            self.service,
            String::from_utf8_lossy(&output.stderr)
        );
        if output.stdout.iter().all(u8::is_ascii_whitespace) {
            return json!({});
        }
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    fn error(&self, args: &[&str]) -> String {
        let output = self.command(args);
        assert!(
            !output.status.success(),
            "aws {} {args:?} should fail",
            self.service
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }
}

fn text(value: &Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn is_recent(timestamp: &Value) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    timestamp
        .as_f64()
        .is_some_and(|seconds| (now - seconds).abs() < 60.0)
}

#[tokio::test]
async fn the_aws_cli_drives_a_representative_flow() {
    let emulator = Emulator::start();
    let cli = Cli {
        emulator: &emulator,
        service: "codestar-connections",
        access_key_id: "AKIDEMULATOR",
    };

    let created = cli.json(&[
        "create-connection",
        "--provider-type",
        "GitHub",
        "--connection-name",
        "cli-github",
        "--tags",
        "Key=team,Value=platform",
    ]);
    let connection_arn = text(&created["ConnectionArn"]).to_owned();
    assert!(
        connection_arn
            .starts_with("arn:aws:codestar-connections:us-east-1:123456789012:connection/")
    );
    assert_eq!(
        created["Tags"],
        json!([{"Key": "team", "Value": "platform"}])
    );

    let listed = cli.json(&["list-connections"]);
    assert_eq!(
        listed["Connections"][0]["ConnectionArn"],
        json!(connection_arn)
    );
    assert_eq!(
        listed["Connections"][0]["ConnectionStatus"],
        json!("PENDING")
    );

    let fetched = cli.json(&["get-connection", "--connection-arn", &connection_arn]);
    assert_eq!(fetched["Connection"]["ConnectionName"], json!("cli-github"));
    assert_eq!(fetched["Connection"]["ProviderType"], json!("GitHub"));

    // AWS CLI v1 fetches parameter values that look like URLs, so the endpoint goes in JSON.
    let host_input = json!({"Name": "cli-ghes", "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": "https://git.example.com"});
    let host = cli.json(&["create-host", "--cli-input-json", &host_input.to_string()]);
    let host_arn = text(&host["HostArn"]).to_owned();
    let fetched_host = cli.json(&["get-host", "--host-arn", &host_arn]);
    assert_eq!(fetched_host["Status"], json!("PENDING"));
    assert_eq!(
        fetched_host["ProviderEndpoint"],
        json!("https://git.example.com")
    );

    let link = cli.json(&[
        "create-repository-link",
        "--connection-arn",
        &connection_arn,
        "--owner-id",
        "acme",
        "--repository-name",
        "infra",
    ]);
    let link_info = &link["RepositoryLinkInfo"];
    let link_id = text(&link_info["RepositoryLinkId"]).to_owned();
    let link_arn = text(&link_info["RepositoryLinkArn"]).to_owned();
    assert_eq!(link_info["ConnectionArn"], json!(connection_arn));

    let sync = cli.json(&[
        "create-sync-configuration",
        "--branch",
        "main",
        "--config-file",
        "deployment-file.yaml",
        "--repository-link-id",
        &link_id,
        "--resource-name",
        "cli-stack",
        "--role-arn",
        "arn:aws:iam::123456789012:role/GitSyncRole",
        "--sync-type",
        "CFN_STACK_SYNC",
    ]);
    assert_eq!(sync["SyncConfiguration"]["RepositoryName"], json!("infra"));

    let (status, blocker) = emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "cli-stack", "CreatedReason": "Stack cli-stack is in UPDATE_IN_PROGRESS state and can not be updated.",
                   "Contexts": [{"Key": "StackName", "Value": "cli-stack"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let blocker_id = text(&blocker["Id"]).to_owned();

    let summary = cli.json(&[
        "get-sync-blocker-summary",
        "--sync-type",
        "CFN_STACK_SYNC",
        "--resource-name",
        "cli-stack",
    ]);
    let latest = &summary["SyncBlockerSummary"]["LatestBlockers"][0];
    assert_eq!(latest["Id"], json!(blocker_id));
    assert_eq!(latest["Status"], json!("ACTIVE"));
    assert_eq!(
        latest["Contexts"],
        json!([{"Key": "StackName", "Value": "cli-stack"}])
    );
    // Timestamps are epoch seconds, which AWS CLI v1 prints as it received them.
    assert!(is_recent(&latest["CreatedAt"]), "{latest}");

    let resolved = cli.json(&[
        "update-sync-blocker",
        "--id",
        &blocker_id,
        "--sync-type",
        "CFN_STACK_SYNC",
        "--resource-name",
        "cli-stack",
        "--resolved-reason",
        "Stack update finished",
    ]);
    assert_eq!(resolved["SyncBlocker"]["Status"], json!("RESOLVED"));
    assert_eq!(
        resolved["SyncBlocker"]["ResolvedReason"],
        json!("Stack update finished")
    );
    assert!(
        is_recent(&resolved["SyncBlocker"]["ResolvedAt"]),
        "{resolved}"
    );
    let again = cli.error(&[
        "update-sync-blocker",
        "--id",
        &blocker_id,
        "--sync-type",
        "CFN_STACK_SYNC",
        "--resource-name",
        "cli-stack",
        "--resolved-reason",
        "again",
    ]);
    assert!(
        again.contains("SyncBlockerDoesNotExistException"),
        "{again}"
    );

    for arn in [&connection_arn, &host_arn, &link_arn] {
        cli.json(&[
            "tag-resource",
            "--resource-arn",
            arn,
            "--tags",
            "Key=env,Value=prod",
            "Key=owner,Value=alice",
        ]);
        cli.json(&[
            "untag-resource",
            "--resource-arn",
            arn,
            "--tag-keys",
            "owner",
        ]);
        let tags = cli.json(&["list-tags-for-resource", "--resource-arn", arn]);
        assert!(
            tags["Tags"]
                .as_array()
                .is_some_and(|t| t.contains(&json!({"Key": "env", "Value": "prod"}))),
            "{arn}: {tags}"
        );
        assert!(!tags["Tags"].to_string().contains("owner"), "{arn}: {tags}");
    }

    let missing = cli.error(&[
        "get-connection",
        "--connection-arn",
        "arn:aws:codeconnections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000",
    ]);
    assert!(missing.contains("ResourceNotFoundException"), "{missing}");
    let invalid = cli.error(&[
        "get-sync-blocker-summary",
        "--sync-type",
        "CFN_STACK_SYNC",
        "--resource-name",
        "bad name",
    ]);
    assert!(
        invalid.contains("InvalidInputException") && invalid.contains("resourceName"),
        "{invalid}"
    );

    let calls = emulator.admin_get("calls").await;
    assert_eq!(calls["operations"]["CreateConnection"], json!(1));
    assert_eq!(calls["operations"]["TagResource"], json!(3));
}

#[tokio::test]
async fn the_codeconnections_cli_works_in_the_account_its_key_names() {
    let emulator = Emulator::start();
    let account = "111122223333";
    let cli = Cli {
        emulator: &emulator,
        service: "codeconnections",
        access_key_id: "111122223333",
    };

    let created = cli.json(&[
        "create-connection",
        "--provider-type",
        "AzureDevOps",
        "--connection-name",
        "cli-azure",
    ]);
    let connection_arn = text(&created["ConnectionArn"]).to_owned();
    let prefix = format!("arn:aws:codeconnections:us-east-1:{account}:connection/");
    assert!(connection_arn.starts_with(&prefix), "{connection_arn}");
    let got = cli.json(&["get-connection", "--connection-arn", &connection_arn]);
    assert_eq!(got["Connection"]["ProviderType"], json!("AzureDevOps"));
    assert_eq!(got["Connection"]["OwnerAccountId"], json!(account));

    let link = cli.json(&[
        "create-repository-link",
        "--connection-arn",
        &connection_arn,
        "--owner-id",
        "acme",
        "--repository-name",
        "infra",
    ]);
    let link_id = text(&link["RepositoryLinkInfo"]["RepositoryLinkId"]).to_owned();
    let configured = cli.json(&[
        "create-sync-configuration",
        "--branch",
        "main",
        "--config-file",
        "deploy.yaml",
        "--repository-link-id",
        &link_id,
        "--resource-name",
        "app-stack",
        "--role-arn",
        "arn:aws:iam::111122223333:role/GitSyncRole",
        "--sync-type",
        "CFN_STACK_SYNC",
        "--pull-request-comment",
        "ENABLED",
    ]);
    assert_eq!(
        configured["SyncConfiguration"]["PullRequestComment"],
        json!("ENABLED")
    );
    let error = cli.error(&["get-connection", "--connection-arn", "arn:aws:codeconnections:us-east-1:111122223333:connection/00000000-0000-0000-0000-000000000000"]);
    assert!(error.contains("ResourceNotFoundException"), "{error}");

    // The older API sees the same account's resources, without the newer member.
    let old = Cli {
        service: "codestar-connections",
        ..cli
    };
    let listed = old.json(&[
        "get-sync-configuration",
        "--resource-name",
        "app-stack",
        "--sync-type",
        "CFN_STACK_SYNC",
    ]);
    assert_eq!(
        listed["SyncConfiguration"]["RepositoryLinkId"],
        json!(link_id)
    );
    assert_eq!(listed["SyncConfiguration"].get("PullRequestComment"), None);
    let error = old.error(&[
        "create-connection",
        "--provider-type",
        "AzureDevOps",
        "--connection-name",
        "old-azure",
    ]);
    assert!(error.contains("ValidationException"), "{error}");

    // Another key, another account: nothing there.
    let other = Cli {
        access_key_id: "AKIDEMULATOR",
        ..old
    };
    assert_eq!(other.json(&["list-connections"])["Connections"], json!([]));
}
