//! `--state-file`: accounts survive restarts (saved on change and at exit), and a corrupt
//! file is refused with its name and the problem, and left as it was.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_sdk_codeconnections::Client;
use aws_sdk_codeconnections::types::ProviderType;
use common::{BINARY, Emulator};

const OTHER_ACCOUNT: &str = "111122223333";

/// A state file path of its own, removed (with its draft) afterwards.
struct TempPath(PathBuf);

impl TempPath {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "connections-emulator-{}-{name}.json",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }

    fn as_str(&self) -> &str {
        self.0.to_str().expect("a UTF-8 temporary path")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// SIGTERM, and a clean exit.
fn stop(emulator: Emulator) {
    let status = Command::new("kill")
        .args(["-TERM", &emulator.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(emulator.wait_for_exit(Duration::from_secs(10)).success());
}

async fn create(emulator: &Emulator, access_key_id: &str, name: &str) -> String {
    let client = Client::new(&emulator.sdk_config_as(access_key_id).await);
    client
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name(name)
        .send()
        .await
        .expect("CreateConnection succeeds")
        .connection_arn()
        .to_owned()
}

async fn names(emulator: &Emulator, access_key_id: &str) -> Vec<String> {
    let client = Client::new(&emulator.sdk_config_as(access_key_id).await);
    client
        .list_connections()
        .send()
        .await
        .expect("ListConnections succeeds")
        .connections()
        .iter()
        .filter_map(|c| c.connection_name().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn accounts_survive_a_restart() {
    let file = TempPath::new("restart");
    let emulator = Emulator::start_with(&["--state-file", file.as_str()]);
    let mine = create(&emulator, "AKIDEMULATOR", "mine").await;
    create(&emulator, OTHER_ACCOUNT, "theirs").await;
    // Saved on change: the file has both before the process stops (which here is a kill).
    for _ in 0..100 {
        let saved = std::fs::read_to_string(&file.0).unwrap_or_default();
        if saved.contains("\"mine\"") && saved.contains("\"theirs\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(emulator);

    let emulator = Emulator::start_with(&["--state-file", file.as_str()]);
    assert_eq!(names(&emulator, "AKIDEMULATOR").await, ["mine"]);
    assert_eq!(names(&emulator, OTHER_ACCOUNT).await, ["theirs"]);
    let client = Client::new(&emulator.sdk_config().await);
    let connection = client
        .get_connection()
        .connection_arn(&mine)
        .send()
        .await
        .expect("the same ARN after the restart");
    assert_eq!(
        connection.connection().map(|c| c.connection_arn()),
        Some(Some(mine.as_str()))
    );

    // Saved at exit too: a change, then SIGTERM, then a third start.
    create(&emulator, "AKIDEMULATOR", "later").await;
    stop(emulator);
    let emulator = Emulator::start_with(&["--state-file", file.as_str()]);
    assert_eq!(names(&emulator, "AKIDEMULATOR").await, ["mine", "later"]);
}

#[test]
fn a_corrupt_state_file_is_refused_and_left_untouched() {
    let file = TempPath::new("corrupt");
    let corrupt = r#"{"Version": 1, "Accounts": {"123456789012": {"Connections": [{"ConnectionName": "x", "ConnectionStatus": "BROKEN"}]}}}"#;
    std::fs::write(&file.0, corrupt).expect("the file is written");
    let output = Command::new(BINARY)
        .args(["--state-file", file.as_str()])
        .output()
        .expect("the emulator runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("state file {} is corrupt", file.as_str())),
        "{stderr}"
    );
    assert!(
        stderr.contains("Accounts.123456789012.Connections[0]"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file.0).expect("still there"),
        corrupt
    );

    std::fs::write(&file.0, "{ not json").expect("the file is written");
    let output = Command::new(BINARY)
        .args(["--state-file", file.as_str()])
        .output()
        .expect("the emulator runs");
    assert!(!output.status.success());
    assert_eq!(
        std::fs::read_to_string(&file.0).expect("still there"),
        "{ not json"
    );
}

#[tokio::test]
async fn the_demo_account_round_trips_through_the_file() {
    let file = TempPath::new("demo");
    let emulator = Emulator::start_with(&[
        "--scenario",
        common::DEMO_SCENARIO,
        "--state-file",
        file.as_str(),
    ]);
    // A sync step, so that attempts and their timestamps are in the file too.
    let (status, _) = emulator
        .admin_post(
            "resource-sync",
            serde_json::json!({"ResourceName": "payments-api", "Status": "FAILED"}),
        )
        .await;
    assert_eq!(status, 200);
    let before = emulator.admin_get("state").await;
    stop(emulator);

    // The saved state wins over the scenario, which only seeds a fresh file.
    let emulator = Emulator::start_with(&[
        "--scenario",
        common::DEMO_SCENARIO,
        "--state-file",
        file.as_str(),
    ]);
    assert_eq!(emulator.admin_get("state").await, before);
}
