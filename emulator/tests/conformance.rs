//! Conformance with botocore's models of both APIs: the vendored copies are botocore's, and
//! every operation's response, from a realistic flow over all 27 operations called through
//! each API's long target form, matches that API's output shape.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::Emulator;
use serde_json::{Map, Value, json};

/// One API as the tests see it.
struct Api {
    /// The vendored model.
    model: &'static str,
    /// Where botocore installs the same model.
    botocore_model: &'static str,
    /// botocore's long target form, as the AWS CLI sends it.
    target_prefix: &'static str,
}

const CODESTAR_CONNECTIONS: Api = Api {
    model: common::MODEL,
    botocore_model: "site-packages/botocore/data/codestar-connections/2019-12-01/service-2.json.gz",
    target_prefix: "com.amazonaws.codestar.connections.CodeStar_connections_20191201.",
};

const CODECONNECTIONS: Api = Api {
    model: common::CODECONNECTIONS_MODEL,
    botocore_model: "site-packages/botocore/data/codeconnections/2023-12-01/service-2.json.gz",
    target_prefix: "com.amazonaws.codeconnections.CodeConnections_20231201.",
};

fn vendored_model(api: &Api) -> Value {
    let text = std::fs::read_to_string(api.model).expect("the vendored model is readable");
    serde_json::from_str(&text).expect("the vendored model is JSON")
}

fn installed_botocore_model(api: &Api) -> PathBuf {
    let venv = std::env::var_os("GITSYNC_GUARD_VENV").unwrap_or_else(|| {
        panic!(
            "GITSYNC_GUARD_VENV is not set: run `. scripts/tools.sh` from the repository root in the shell \
             that runs the tests; it installs botocore (with the AWS CLI) and exports the variable"
        )
    });
    let lib = PathBuf::from(venv).join("lib");
    let entries = std::fs::read_dir(&lib)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", lib.display()));
    entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("python3"))
        .map(|entry| entry.path().join(api.botocore_model))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("no {} under {}/python3*", api.botocore_model, lib.display()))
}

#[test]
fn the_vendored_models_are_the_ones_botocore_installed() {
    for api in [CODESTAR_CONNECTIONS, CODECONNECTIONS] {
        assert_vendored_model_is_botocores(&api);
    }
}

fn assert_vendored_model_is_botocores(api: &Api) {
    let path = installed_botocore_model(api);
    let output = Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .expect("gzip runs");
    assert!(
        output.status.success(),
        "gzip -dc {} failed",
        path.display()
    );
    let installed: Value =
        serde_json::from_slice(&output.stdout).expect("botocore's model is JSON");
    assert!(
        installed == vendored_model(api),
        "{} differs from {}; copy botocore's model again",
        api.model,
        path.display()
    );
}

/// Checks values against the model's shapes: member names known, required members present,
/// JSON types as awsJson encodes them, enum values valid.
struct ShapeChecker {
    shapes: Map<String, Value>,
    operations: Map<String, Value>,
}

impl ShapeChecker {
    fn new(api: &Api) -> Self {
        let model = vendored_model(api);
        let object = |key: &str| model[key].as_object().cloned().expect("an object");
        Self {
            shapes: object("shapes"),
            operations: object("operations"),
        }
    }

    fn output_shape(&self, operation: &str) -> &str {
        self.operations[operation]["output"]["shape"]
            .as_str()
            .expect("an output shape")
    }

    fn errors(&self, operation: &str) -> Vec<&str> {
        self.operations[operation]["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["shape"].as_str()).collect())
            .unwrap_or_default()
    }

    fn check(&self, shape_name: &str, value: &Value, path: &str, problems: &mut Vec<String>) {
        let shape = &self.shapes[shape_name];
        let kind = shape["type"].as_str().unwrap_or_default();
        let mut problem = |what: String| problems.push(format!("{path}: {what}"));
        match kind {
            "structure" => {
                let Some(object) = value.as_object() else {
                    return problem(format!("expected a {shape_name} object, got {value}"));
                };
                let members = shape["members"].as_object().cloned().unwrap_or_default();
                for required in shape["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if object.get(required).is_none_or(Value::is_null) {
                        problem(format!(
                            "required member {required} of {shape_name} is missing"
                        ));
                    }
                }
                for (name, member_value) in object {
                    match members
                        .get(name)
                        .and_then(|member| member["shape"].as_str())
                    {
                        Some(member_shape) => self.check(
                            member_shape,
                            member_value,
                            &format!("{path}.{name}"),
                            problems,
                        ),
                        None => problems.push(format!("{path}: {shape_name} has no member {name}")),
                    }
                }
            }
            "list" => {
                let Some(items) = value.as_array() else {
                    return problem(format!("expected a list, got {value}"));
                };
                let member = shape["member"]["shape"].as_str().expect("a list member");
                for (index, item) in items.iter().enumerate() {
                    self.check(member, item, &format!("{path}[{index}]"), problems);
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else {
                    return problem(format!("expected a map, got {value}"));
                };
                let value_shape = shape["value"]["shape"].as_str().expect("a map value");
                for (key, entry) in entries {
                    self.check(value_shape, entry, &format!("{path}.{key}"), problems);
                }
            }
            "string" => match value.as_str() {
                None => problem(format!("expected a string, got {value}")),
                Some(text) => {
                    if let Some(allowed) = shape["enum"].as_array()
                        && !allowed.iter().any(|a| a.as_str() == Some(text))
                    {
                        problem(format!("{text} is not a {shape_name} value"));
                    }
                }
            },
            "integer" | "long" => {
                if !value.is_i64() {
                    problem(format!("expected an integer, got {value}"));
                }
            }
            "boolean" => {
                if !value.is_boolean() {
                    problem(format!("expected a boolean, got {value}"));
                }
            }
            "timestamp" => {
                if !value.is_number() {
                    problem(format!("expected epoch seconds as a number, got {value}"));
                }
            }
            other => problem(format!("unexpected shape type {other}")),
        }
    }
}

struct Flow<'a> {
    emulator: &'a Emulator,
    target_prefix: &'static str,
    checker: ShapeChecker,
    covered: BTreeSet<String>,
    problems: Vec<String>,
}

impl Flow<'_> {
    /// Calls an operation that must succeed and checks its response against the output shape.
    async fn ok(&mut self, operation: &str, input: Value) -> Value {
        let (status, headers, body) = self
            .emulator
            .call(
                &format!("{}{operation}", self.target_prefix),
                &input.to_string(),
            )
            .await;
        assert_eq!(status, 200, "{operation} {input} answered {body}");
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-amz-json-1.0"),
            "{operation}"
        );
        let output = self.checker.output_shape(operation).to_owned();
        self.checker
            .check(&output, &body, operation, &mut self.problems);
        self.covered.insert(operation.to_owned());
        body
    }

    /// Calls an operation that must fail and checks the error is one its model lists.
    async fn fails(&mut self, operation: &str, input: Value, expected: &str) {
        let (status, headers, body) = self
            .emulator
            .call(
                &format!("{}{operation}", self.target_prefix),
                &input.to_string(),
            )
            .await;
        assert_eq!(status, 400, "{operation} {input} answered {body}");
        assert_eq!(body["__type"], json!(expected), "{operation} {input}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
        assert_eq!(
            headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok()),
            Some(expected)
        );
        assert!(
            self.checker.errors(operation).contains(&expected),
            "{operation} answered {expected}, which its model does not list"
        );
    }
}

#[tokio::test]
async fn every_codestar_connections_operation_answers_in_its_output_shape() {
    every_operation_answers_in_its_output_shape(&CODESTAR_CONNECTIONS).await;
}

#[tokio::test]
async fn every_codeconnections_operation_answers_in_its_output_shape() {
    every_operation_answers_in_its_output_shape(&CODECONNECTIONS).await;
}

async fn every_operation_answers_in_its_output_shape(api: &Api) {
    let emulator = Emulator::start();
    let mut flow = Flow {
        emulator: &emulator,
        target_prefix: api.target_prefix,
        checker: ShapeChecker::new(api),
        covered: BTreeSet::new(),
        problems: Vec::new(),
    };
    let role = "arn:aws:iam::123456789012:role/GitSyncRole";

    let host = flow
        .ok(
            "CreateHost",
            json!({"Name": "ghes", "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": "https://git.example.com",
                   "VpcConfiguration": {"VpcId": "vpc-0123456789abcdef0", "SubnetIds": ["subnet-0123456789abcdef0"],
                                        "SecurityGroupIds": ["sg-0123456789abcdef0"], "TlsCertificate": "-----BEGIN CERTIFICATE-----"},
                   "Tags": [{"Key": "env", "Value": "prod"}]}),
        )
        .await;
    let host_arn = host["HostArn"].as_str().expect("a host ARN").to_owned();
    flow.ok("GetHost", json!({"HostArn": host_arn})).await;
    flow.ok(
        "UpdateHost",
        json!({"HostArn": host_arn, "ProviderEndpoint": "https://git2.example.com"}),
    )
    .await;
    emulator
        .admin_post(
            "host-status",
            json!({"HostArn": host_arn, "Status": "AVAILABLE", "StatusMessage": "ready"}),
        )
        .await;
    flow.ok("ListHosts", json!({"MaxResults": 10})).await;

    let ghes = flow
        .ok(
            "CreateConnection",
            json!({"ConnectionName": "ghes", "HostArn": host_arn}),
        )
        .await;
    let ghes_arn = ghes["ConnectionArn"].as_str().expect("an ARN").to_owned();
    let github = flow
        .ok("CreateConnection", json!({"ConnectionName": "github", "ProviderType": "GitHub", "Tags": [{"Key": "team", "Value": "platform"}]}))
        .await;
    let github_arn = github["ConnectionArn"].as_str().expect("an ARN").to_owned();
    flow.ok("GetConnection", json!({"ConnectionArn": ghes_arn}))
        .await;
    flow.ok("ListConnections", json!({"MaxResults": 1})).await;

    let link = flow
        .ok(
            "CreateRepositoryLink",
            json!({"ConnectionArn": github_arn, "OwnerId": "acme", "RepositoryName": "infra"}),
        )
        .await;
    let link_id = link["RepositoryLinkInfo"]["RepositoryLinkId"]
        .as_str()
        .expect("an id")
        .to_owned();
    let link_arn = link["RepositoryLinkInfo"]["RepositoryLinkArn"]
        .as_str()
        .expect("an ARN")
        .to_owned();
    flow.ok("GetRepositoryLink", json!({"RepositoryLinkId": link_id}))
        .await;
    flow.ok(
        "UpdateRepositoryLink",
        json!({"RepositoryLinkId": link_id, "EncryptionKeyArn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
    )
    .await;
    flow.ok("ListRepositoryLinks", json!({})).await;

    // PullRequestComment is a CodeConnections member: CodeStar Connections ignores it in
    // the input and must not show it in the output (the checker refuses unknown members).
    let stack = json!({"Branch": "main", "ConfigFile": "deployment-file.yaml", "RepositoryLinkId": link_id,
                       "ResourceName": "app-stack", "RoleArn": role, "SyncType": "CFN_STACK_SYNC",
                       "PullRequestComment": "ENABLED"});
    let created = flow.ok("CreateSyncConfiguration", stack.clone()).await;
    let shown = created["SyncConfiguration"]
        .get("PullRequestComment")
        .cloned();
    let expected = flow
        .checker
        .shapes
        .contains_key("PullRequestComment")
        .then(|| json!("ENABLED"));
    assert_eq!(shown, expected, "{created}");
    flow.fails(
        "CreateSyncConfiguration",
        stack,
        "ResourceAlreadyExistsException",
    )
    .await;
    let resource = json!({"ResourceName": "app-stack", "SyncType": "CFN_STACK_SYNC"});
    flow.ok("GetSyncConfiguration", resource.clone()).await;
    flow.ok(
        "UpdateSyncConfiguration",
        json!({"ResourceName": "app-stack", "SyncType": "CFN_STACK_SYNC", "PublishDeploymentStatus": "ENABLED"}),
    )
    .await;
    flow.ok(
        "ListSyncConfigurations",
        json!({"RepositoryLinkId": link_id, "SyncType": "CFN_STACK_SYNC", "MaxResults": 5}),
    )
    .await;
    flow.ok(
        "ListRepositorySyncDefinitions",
        json!({"RepositoryLinkId": link_id, "SyncType": "CFN_STACK_SYNC"}),
    )
    .await;

    let (_, blocker) = emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "app-stack", "CreatedReason": "Stack app-stack is in UPDATE_ROLLBACK_FAILED state",
                   "Contexts": [{"Key": "StackStatus", "Value": "UPDATE_ROLLBACK_FAILED"}]}),
        )
        .await;
    let blocker_id = blocker["Id"].as_str().expect("an id").to_owned();
    emulator
        .admin_post(
            "sync-blockers",
            json!({"ResourceName": "app-stack", "CreatedReason": "second"}),
        )
        .await;
    flow.ok("GetSyncBlockerSummary", resource.clone()).await;
    let resolve = json!({"Id": blocker_id, "ResourceName": "app-stack", "SyncType": "CFN_STACK_SYNC", "ResolvedReason": "fixed"});
    flow.ok("UpdateSyncBlocker", resolve.clone()).await;
    flow.ok("GetSyncBlockerSummary", resource.clone()).await;
    flow.fails(
        "UpdateSyncBlocker",
        resolve,
        "SyncBlockerDoesNotExistException",
    )
    .await;

    for (status, commit) in [
        ("INITIATED", "a1"),
        ("SUCCEEDED", "a1"),
        ("IN_PROGRESS", "b2"),
    ] {
        emulator
            .admin_post(
                "resource-sync",
                json!({"ResourceName": "app-stack", "Status": status, "Commit": commit,
                       "Events": [{"Event": format!("Sync {status}"), "Type": "INFO", "ExternalId": "evt-1"}]}),
            )
            .await;
    }
    flow.ok("GetResourceSyncStatus", resource.clone()).await;
    emulator
        .admin_post(
            "repository-sync",
            json!({"RepositoryLinkId": link_id, "Branch": "main", "Status": "SUCCEEDED", "Events": [{"Event": "done", "Type": "INFO"}]}),
        )
        .await;
    flow.ok(
        "GetRepositorySyncStatus",
        json!({"RepositoryLinkId": link_id, "Branch": "main", "SyncType": "CFN_STACK_SYNC"}),
    )
    .await;

    for arn in [&github_arn, &host_arn, &link_arn] {
        flow.ok(
            "TagResource",
            json!({"ResourceArn": arn, "Tags": [{"Key": "owner", "Value": "alice"}]}),
        )
        .await;
        flow.ok("ListTagsForResource", json!({"ResourceArn": arn}))
            .await;
        flow.ok(
            "UntagResource",
            json!({"ResourceArn": arn, "TagKeys": ["owner"]}),
        )
        .await;
    }

    flow.fails(
        "DeleteRepositoryLink",
        json!({"RepositoryLinkId": link_id}),
        "SyncConfigurationStillExistsException",
    )
    .await;
    flow.fails(
        "ListSyncConfigurations",
        json!({"RepositoryLinkId": link_id, "SyncType": "CFN_STACK_SYNC", "NextToken": "not-a-token"}),
        "InvalidInputException",
    )
    .await;
    flow.ok("DeleteSyncConfiguration", resource).await;
    flow.ok("DeleteRepositoryLink", json!({"RepositoryLinkId": link_id}))
        .await;
    flow.ok("DeleteConnection", json!({"ConnectionArn": ghes_arn}))
        .await;
    flow.fails(
        "GetConnection",
        json!({"ConnectionArn": ghes_arn}),
        "ResourceNotFoundException",
    )
    .await;
    flow.ok("DeleteHost", json!({"HostArn": host_arn})).await;

    let all: BTreeSet<String> = flow.checker.operations.keys().cloned().collect();
    assert_eq!(all.len(), 27);
    let missing: Vec<_> = all.difference(&flow.covered).collect();
    assert!(missing.is_empty(), "the flow does not cover {missing:?}");
    assert!(
        flow.problems.is_empty(),
        "responses do not match the model:\n{}",
        flow.problems.join("\n")
    );
}

#[test]
fn the_checker_catches_what_it_claims_to() {
    let checker = ShapeChecker::new(&CODESTAR_CONNECTIONS);
    let mut problems = Vec::new();
    checker.check(
        "GetConnectionOutput",
        &json!({"Connection": {"ConnectionArn": "x", "ConnectionStatus": "BROKEN", "Bogus": 1}}),
        "GetConnection",
        &mut problems,
    );
    checker.check("GetSyncBlockerSummaryOutput", &json!({"SyncBlockerSummary": {"LatestBlockers": [{"Id": "x", "CreatedAt": "2024-01-01"}]}}), "GetSyncBlockerSummary", &mut problems);
    let text = problems.join("\n");
    for expected in [
        "BROKEN is not a ConnectionStatus value",
        "Connection has no member Bogus",
        "required member ResourceName of SyncBlockerSummary is missing",
        "required member Status of SyncBlocker is missing",
        "expected epoch seconds as a number",
    ] {
        assert!(text.contains(expected), "{expected} not in:\n{text}");
    }
}
