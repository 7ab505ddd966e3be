//! Accounts, as in moto: a 12-digit access key id names the account a call acts in, anything
//! else the default account; each account has its own state and ARNs, and both APIs share it.

mod common;

use aws_sdk_codeconnections::types::ProviderType;
use common::{ACCOUNT, Emulator};
use serde_json::json;

const OTHER_ACCOUNT: &str = "210987654321";

#[tokio::test]
async fn two_access_keys_keep_two_states_with_their_own_arns() {
    let emulator = Emulator::start();
    let default =
        aws_sdk_codeconnections::Client::new(&emulator.sdk_config_as("AKIDEMULATOR").await);
    let other = aws_sdk_codeconnections::Client::new(&emulator.sdk_config_as(OTHER_ACCOUNT).await);

    let mine = default
        .create_connection()
        .provider_type(ProviderType::Github)
        .connection_name("mine")
        .send()
        .await
        .expect("created in the default account")
        .connection_arn()
        .to_owned();
    let theirs = other
        .create_connection()
        .provider_type(ProviderType::Gitlab)
        .connection_name("theirs")
        .send()
        .await
        .expect("created in the other account")
        .connection_arn()
        .to_owned();
    assert!(
        mine.starts_with(&format!(
            "arn:aws:codeconnections:us-east-1:{ACCOUNT}:connection/"
        )),
        "{mine}"
    );
    assert!(
        theirs.starts_with(&format!(
            "arn:aws:codeconnections:us-east-1:{OTHER_ACCOUNT}:connection/"
        )),
        "{theirs}"
    );

    let names = |client: aws_sdk_codeconnections::Client| async move {
        let listed = client.list_connections().send().await.expect("listed");
        listed
            .connections()
            .iter()
            .filter_map(|c| c.connection_name().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(default.clone()).await, ["mine"]);
    assert_eq!(names(other.clone()).await, ["theirs"]);
    let error = default
        .get_connection()
        .connection_arn(&theirs)
        .send()
        .await
        .expect_err("another account's connection is not found");
    assert!(
        error
            .as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{error:?}"
    );

    // The older API, with the same key, acts in the same account and sees the same state.
    let old =
        aws_sdk_codestarconnections::Client::new(&emulator.sdk_config_as(OTHER_ACCOUNT).await);
    let seen = old
        .get_connection()
        .connection_arn(&theirs)
        .send()
        .await
        .expect("the other API sees it");
    assert_eq!(
        seen.connection().and_then(|c| c.owner_account_id()),
        Some(OTHER_ACCOUNT)
    );

    // The admin API takes the account as a query parameter.
    let state = emulator
        .admin_get(&format!("state?account={OTHER_ACCOUNT}"))
        .await;
    assert_eq!(state["Account"], json!(OTHER_ACCOUNT));
    assert_eq!(state["Connections"][0]["ConnectionName"], json!("theirs"));
    let accounts = emulator.admin_get("accounts").await;
    assert_eq!(accounts["Default"], json!(ACCOUNT));
    assert_eq!(accounts["Accounts"], json!([ACCOUNT, OTHER_ACCOUNT]));
    let (status, body) = emulator.admin_post("reset?account=12345", json!({})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn scenarios_and_admin_calls_name_their_account() {
    let emulator = Emulator::start();
    let (status, counts) = emulator
        .admin_post(
            "seed",
            json!({"Account": OTHER_ACCOUNT, "Connections": [{"Name": "seeded", "ProviderType": "GitHub", "Status": "AVAILABLE"}]}),
        )
        .await;
    assert_eq!(status, 200, "{counts}");
    let (status, body) = emulator
        .admin_post(
            &format!("seed?account={ACCOUNT}"),
            json!({"Account": OTHER_ACCOUNT}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let other = emulator
        .admin_get(&format!("state?account={OTHER_ACCOUNT}"))
        .await;
    let arn = other["Connections"][0]["ConnectionArn"]
        .as_str()
        .expect("an ARN")
        .to_owned();
    assert!(
        arn.contains(&format!(":{OTHER_ACCOUNT}:connection/")),
        "{arn}"
    );
    assert_eq!(emulator.admin_get("state").await["Connections"], json!([]));

    let (status, body) = emulator
        .admin_post(
            &format!("connection-status?account={OTHER_ACCOUNT}"),
            json!({"ConnectionArn": arn, "Status": "ERROR"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = emulator
        .admin_post(
            "connection-status",
            json!({"ConnectionArn": arn, "Status": "ERROR"}),
        )
        .await;
    assert_eq!(status, 404, "the default account has no such connection");
}
