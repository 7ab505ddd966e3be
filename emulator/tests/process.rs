//! The emulator as a process: start-up output, scenarios given on the command line, signals.

mod common;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{BINARY, Emulator};

fn run_to_exit(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the emulator binary runs")
}

/// A scenario file in the temporary directory, removed when dropped.
struct ScenarioFile(std::path::PathBuf);

impl ScenarioFile {
    fn new(name: &str, yaml: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "connections-emulator-{}-{name}.yaml",
            std::process::id()
        ));
        std::fs::write(&path, yaml).expect("a temporary scenario file");
        ScenarioFile(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("a UTF-8 path")
    }
}

impl Drop for ScenarioFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn signal(emulator: &Emulator, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), emulator.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn sigterm_and_sigint_stop_the_emulator_cleanly() {
    for name in ["TERM", "INT"] {
        let emulator = Emulator::start_demo();
        signal(&emulator, name);
        let status = emulator.wait_for_exit(Duration::from_secs(10));
        assert!(status.success(), "SIG{name} gave {status}");
    }
}

#[test]
fn a_bad_scenario_stops_start_up_with_the_file_and_field_named() {
    let cases = [
        (
            "status",
            "Connections:\n  - Name: c\n    ProviderType: GitHub\n    Status: BROKEN\n",
            "Connections[0].Status",
        ),
        (
            "reference",
            "RepositoryLinks:\n  - Connection: missing\n    OwnerId: acme\n    RepositoryName: r\n",
            "RepositoryLinks[0].Connection",
        ),
        (
            "pattern",
            "Connections:\n  - Name: c\n    ProviderType: GitHub\nRepositoryLinks:\n  - Connection: c\n    OwnerId: acme\n    RepositoryName: r\nSyncConfigurations:\n  - ResourceName: has space\n    Repository: acme/r\n",
            "SyncConfigurations[0].ResourceName",
        ),
        ("syntax", "Connections: [\n", "scenario file"),
    ];
    for (name, yaml, field) in cases {
        let file = ScenarioFile::new(name, yaml);
        let output = run_to_exit(&["--scenario", file.path()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name}: started anyway");
        assert!(output.stdout.is_empty(), "{name}: announced an address");
        assert!(stderr.contains(file.path()), "{name}: {stderr}");
        assert!(stderr.contains(field), "{name}: {stderr}");
    }
    let output = run_to_exit(&["--scenario", "/nonexistent/scenario.yaml"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("cannot read scenario file /nonexistent/scenario.yaml")
    );
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["--account", "12345"][..],
        &["--region", "US East"][..],
        &["--listen", "nowhere"][..],
    ] {
        let output = run_to_exit(args);
        assert!(!output.status.success(), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn region_and_account_shape_new_arns() {
    let emulator = Emulator::start_with(&["--region", "eu-west-2", "--account", "210987654321"]);
    let (status, body) = emulator
        .op(
            "CreateConnection",
            serde_json::json!({"ConnectionName": "c", "ProviderType": "Bitbucket"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let arn = body["ConnectionArn"].as_str().expect("an ARN");
    assert!(
        arn.starts_with("arn:aws:codestar-connections:eu-west-2:210987654321:connection/"),
        "{arn}"
    );
}

#[tokio::test]
async fn the_demo_scenario_describes_a_realistic_account() {
    let emulator = Emulator::start_demo();
    let state = emulator.admin_get("state").await;
    let providers: std::collections::BTreeSet<&str> = state["Connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter_map(|c| c["ProviderType"].as_str())
        .collect();
    assert_eq!(
        providers.into_iter().collect::<Vec<_>>(),
        ["Bitbucket", "GitHub", "GitHubEnterpriseServer", "GitLab"]
    );
    let blocked: Vec<(&str, &str)> = state["SyncConfigurations"]
        .as_array()
        .expect("sync configurations")
        .iter()
        .flat_map(|c| {
            c["Blockers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|b| b["Status"] == "ACTIVE")
                .map(move |b| {
                    (
                        c["ResourceName"].as_str().unwrap_or_default(),
                        b["CreatedReason"].as_str().unwrap_or_default(),
                    )
                })
        })
        .collect();
    assert_eq!(blocked.len(), 2, "{blocked:?}");
    assert!(blocked.iter().any(
        |(stack, reason)| *stack == "payments-api" && reason.contains("UPDATE_ROLLBACK_FAILED")
    ));
    assert!(
        blocked
            .iter()
            .any(|(stack, reason)| *stack == "web-frontend"
                && reason.contains("is in UPDATE_IN_PROGRESS state and can not be updated"))
    );
}

#[tokio::test]
async fn shutdown_does_not_wait_forever_for_requests_in_flight() {
    let emulator = Emulator::start();
    let (status, _) = emulator
        .admin_post("faults", serde_json::json!({"LatencyMs": 60_000}))
        .await;
    assert_eq!(status, 200);
    let endpoint = emulator.endpoint.clone();
    let slow = tokio::spawn(async move {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client")
            .post(format!("{endpoint}/"))
            .header("X-Amz-Target", "CodeStar_connections_20191201.ListHosts")
            .body("{}")
            .send()
            .await
    });
    // The request is in flight once the emulator has counted it.
    while emulator.admin_get("calls").await["total"] != 1 {
        tokio::task::yield_now().await;
    }
    signal(&emulator, "TERM");
    let status =
        tokio::task::spawn_blocking(move || emulator.wait_for_exit(Duration::from_secs(15)))
            .await
            .expect("waited");
    assert!(status.success(), "{status}");
    assert!(
        slow.await.expect("joined").is_err(),
        "the slow request was cut off"
    );
}
