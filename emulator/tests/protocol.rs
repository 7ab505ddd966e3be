//! The wire protocol over raw HTTP: targets, headers, error shapes, bad input of every kind.

mod common;

use common::{Emulator, demo};
use serde_json::json;

const SHORT: &str = "CodeStar_connections_20191201.";
const LONG: &str = "com.amazonaws.codestar.connections.CodeStar_connections_20191201.";

#[tokio::test]
async fn both_target_forms_and_any_header_case_are_accepted() {
    let emulator = Emulator::start_demo();
    let body = json!({"ConnectionArn": demo::GITHUB_CONNECTION}).to_string();
    for target in [
        format!("{SHORT}GetConnection"),
        format!("{LONG}GetConnection"),
    ] {
        let (status, headers, answer) = emulator.call(&target, &body).await;
        assert_eq!(status, 200, "{target}: {answer}");
        assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
        assert!(headers.contains_key("x-amzn-requestid"));
        assert_eq!(answer["Connection"]["ConnectionName"], json!("acme-github"));
    }
    for header in ["x-amz-target", "X-AMZ-TARGET", "X-Amz-Target"] {
        let response = emulator
            .http()
            .post(format!("{}/", emulator.endpoint))
            .header(header, format!("{SHORT}ListHosts"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=garbage, Signature=not-checked",
            )
            .body("{}")
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 200, "{header}");
    }
}

#[tokio::test]
async fn errors_carry_the_type_in_body_and_header() {
    let emulator = Emulator::start();
    let missing = "arn:aws:codestar-connections:us-east-1:123456789012:connection/00000000-0000-0000-0000-000000000000";
    let (status, headers, body) = emulator
        .call(
            &format!("{SHORT}GetConnection"),
            &json!({"ConnectionArn": missing}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(headers["content-type"], "application/x-amz-json-1.0");
    assert_eq!(body["__type"], json!("ResourceNotFoundException"));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(missing)),
        "{body}"
    );
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "{body}");
}

#[tokio::test]
async fn unknown_or_missing_operations_are_rejected() {
    let emulator = Emulator::start();
    let (status, headers, body) = emulator
        .call(&format!("{SHORT}DescribeEverything"), "{}")
        .await;
    assert_eq!(status, 400);
    assert_eq!(headers["x-amzn-errortype"], "UnknownOperationException");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("DescribeEverything")),
        "{body}"
    );
    let (status, _, body) = emulator.call("GetConnection", "{}").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let response = emulator
        .http()
        .post(format!("{}/", emulator.endpoint))
        .body("{}")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 400);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("X-Amz-Target")),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_bodies_are_serialization_errors() {
    let emulator = Emulator::start();
    for body in [
        "{",
        "[1, 2]",
        "\"text\"",
        "{\"MaxResults\": 1} trailing",
        "\u{0}",
    ] {
        let (status, _, answer) = emulator.call(&format!("{SHORT}ListHosts"), body).await;
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(
            answer["__type"],
            json!("SerializationException"),
            "{body:?}"
        );
    }
    // An empty body is an empty input, as for operations without members.
    let (status, _, answer) = emulator.call(&format!("{SHORT}ListHosts"), "").await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn model_constraints_are_enforced_with_the_field_named() {
    let emulator = Emulator::start();
    let (status, _, body) = emulator
        .call(
            &format!("{SHORT}GetSyncBlockerSummary"),
            &json!({"ResourceName": "bad name", "SyncType": "CFN_STACK_SYNC"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], json!("InvalidInputException"));
    assert_eq!(
        body["message"],
        json!(
            r"1 validation error detected: Value 'bad name' at 'resourceName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$"
        )
    );

    let cases = [
        (
            "ListHosts",
            json!({"MaxResults": "10"}),
            "ValidationException",
            "'maxResults'",
        ),
        (
            "ListHosts",
            json!({"MaxResults": 1000}),
            "ValidationException",
            "less than or equal to 100",
        ),
        (
            "CreateConnection",
            json!({"ProviderType": "GitHub"}),
            "ValidationException",
            "Value null at 'connectionName'",
        ),
        (
            "CreateConnection",
            json!({"ConnectionName": "c", "ProviderType": "SVN"}),
            "ValidationException",
            "enum value set",
        ),
        (
            "CreateConnection",
            json!({"ConnectionName": 7, "ProviderType": "GitHub"}),
            "ValidationException",
            "Member must be a string",
        ),
        (
            "CreateHost",
            json!({"Name": "h", "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": "https://x", "VpcConfiguration": {"VpcId": "vpc-1"}}),
            "ValidationException",
            "'vpcConfiguration.subnetIds'",
        ),
        (
            "TagResource",
            json!({"ResourceArn": demo::HOST, "Tags": [{"Key": "k"}]}),
            "ValidationException",
            "'tags.1.member.value'",
        ),
        (
            "UpdateSyncBlocker",
            json!({"Id": "", "ResourceName": "s", "SyncType": "CFN_STACK_SYNC", "ResolvedReason": "r".repeat(251)}),
            "InvalidInputException",
            "2 validation errors detected",
        ),
        (
            "GetRepositoryLink",
            json!({"RepositoryLinkId": "not-a-uuid"}),
            "InvalidInputException",
            "'repositoryLinkId'",
        ),
        (
            "GetHost",
            json!({"HostArn": "arn:aws:s3:us-east-1:123456789012:host/x"}),
            "ValidationException",
            "'hostArn'",
        ),
    ];
    for (operation, input, kind, fragment) in cases {
        let (status, _, body) = emulator
            .call(&format!("{SHORT}{operation}"), &input.to_string())
            .await;
        assert_eq!(status, 400, "{operation} {input}");
        assert_eq!(body["__type"], json!(kind), "{operation} {input}: {body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(fragment)),
            "{operation} {input}: {body}"
        );
    }

    // Members the model does not know are ignored, as the service ignores them.
    let (status, _, body) = emulator
        .call(
            &format!("{SHORT}CreateConnection"),
            &json!({"ConnectionName": "c", "ProviderType": "GitHub", "Colour": "blue"}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn codeconnections_arns_are_accepted_where_the_model_names_only_the_old_prefix() {
    let emulator = Emulator::start_demo();
    let renamed_host = demo::HOST.replace("codestar-connections", "codeconnections");
    let (status, _, body) = emulator
        .call(
            &format!("{SHORT}GetHost"),
            &json!({"HostArn": renamed_host}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Name"], json!("ghes-corp"));
    let (status, _, body) = emulator
        .call(
            &format!("{SHORT}ListConnections"),
            &json!({"HostArnFilter": renamed_host}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Connections"][0]["ConnectionArn"],
        json!(demo::GHES_CONNECTION)
    );
    // A connection created with the new prefix is returned as given.
    let (status, _, body) = emulator
        .call(
            &format!("{SHORT}GetConnection"),
            &json!({"ConnectionArn": demo::GITLAB_CONNECTION}).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["Connection"]["ConnectionArn"],
        json!(demo::GITLAB_CONNECTION)
    );
}

#[tokio::test]
async fn bodies_over_one_megabyte_are_refused_and_the_server_carries_on() {
    let emulator = Emulator::start();
    let huge = json!({"ConnectionName": "x".repeat(2 * 1024 * 1024), "ProviderType": "GitHub"})
        .to_string();
    let (status, headers, body) = emulator
        .call(&format!("{SHORT}CreateConnection"), &huge)
        .await;
    assert_eq!(status, 413);
    assert_eq!(
        headers["x-amzn-errortype"],
        "RequestEntityTooLargeException"
    );
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("1048576")),
        "{body}"
    );
    let (status, _, _) = emulator.call(&format!("{SHORT}ListHosts"), "{}").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn concurrent_calls_all_succeed() {
    let emulator = Emulator::start_demo();
    let body = json!({"ConnectionArn": demo::GITHUB_CONNECTION}).to_string();
    let target = format!("{SHORT}GetConnection");
    let calls = (0..64).map(|_| emulator.call(&target, &body));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(|(status, _, _)| *status == 200));
    assert_eq!(emulator.admin_get("calls").await["total"], json!(64));
}
