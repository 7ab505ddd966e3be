//! Each function's role in template.yaml grants exactly the API operations its code calls, under
//! both Git sync IAM prefixes, on the narrowest resources the Service Authorization Reference
//! allows; and nothing the code never calls: no X-Ray policy, no statement SAM already writes.
//!
//! What the code calls is read from the source: the adapters (shared/src/adapters) say which
//! SDK operation each of their methods sends; a function calls the adapter methods named in its
//! own crate and in the shared modules it uses (module by module, so a module's every call
//! counts for each function that uses it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use e2e::template::Template;
use e2e::workspace_root;
use regex::Regex;
use serde_yaml_ng::Value as Yaml;

/// The IAM prefixes of the service each adapter file talks to.
const ADAPTER_SERVICES: [(&str, &[&str]); 6] = [
    ("codestar.rs", &["codestar-connections", "codeconnections"]),
    ("cloudformation.rs", &["cloudformation"]),
    ("sns.rs", &["sns"]),
    ("dynamodb.rs", &["dynamodb"]),
    ("documents.rs", &["dynamodb"]),
    ("eventbridge.rs", &["events"]),
];

/// The Service Authorization Reference's resource type for each Git sync action the functions
/// may call (the same under codestar-connections and codeconnections); `None`: the action takes
/// no resource type, so its statement must say `*`.
const GIT_SYNC_RESOURCE_TYPES: [(&str, Option<&[&str]>); 9] = [
    ("GetSyncBlockerSummary", None),
    ("GetResourceSyncStatus", None),
    ("UpdateSyncBlocker", None),
    ("ListRepositoryLinks", None),
    ("ListSyncConfigurations", None),
    ("ListHosts", None),
    ("GetRepositorySyncStatus", Some(&["repository-link"])),
    ("ListConnections", Some(&["connection"])),
    (
        "ListTagsForResource",
        Some(&["connection", "host", "repository-link"]),
    ),
];

/// Publishing to a topic encrypted with a customer managed key: SNS asks KMS for a data key
/// with the publisher's permissions (SNS developer guide, encryption at rest).
const PUBLISH_TO_ENCRYPTED_TOPIC: [&str; 2] = ["kms:GenerateDataKey", "kms:Decrypt"];

/// A source file without its unit tests (a `#[cfg(test)] mod` closes every file that has one).
fn product_source(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match text.find("#[cfg(test)]\nmod ") {
        Some(tests) => text[..tests].to_owned(),
        None => text,
    }
}

/// A file's functions, by name, with the text up to the next `fn` (nested helpers included).
fn functions_of(source: &str) -> Vec<(String, String)> {
    let definition = Regex::new(r"\bfn\s+([a-z_][a-z0-9_]*)").expect("regex");
    let starts: Vec<(usize, String)> = definition
        .captures_iter(source)
        .map(|capture| {
            (
                capture.get(0).expect("match").start(),
                capture[1].to_owned(),
            )
        })
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(index, (start, name))| {
            let end = starts.get(index + 1).map_or(source.len(), |next| next.0);
            (name.clone(), source[*start..end].to_owned())
        })
        .collect()
}

fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Each adapter method's IAM actions: the SDK operations it sends (`client.OPERATION()`) and
/// those of the adapter methods it calls on itself, its topic or its bus.
fn adapter_actions() -> BTreeMap<String, BTreeSet<String>> {
    let dir = workspace_root().join("shared/src/adapters");
    let sends = Regex::new(r"client\s*\.\s*([a-z_]+)\(\)").expect("regex");
    let delegates = Regex::new(r"\b(?:self(?:\s*\.\s*(?:topic|bus))?|bus)\s*\.\s*([a-z_]+)\s*\(")
        .expect("regex");
    let mut direct: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("adapters dir").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if !file.ends_with(".rs") {
            continue;
        }
        let prefixes = ADAPTER_SERVICES
            .iter()
            .find(|(name, _)| *name == file)
            .map_or(&[][..], |(_, prefixes)| *prefixes);
        for (name, body) in functions_of(&product_source(&entry.path())) {
            let actions = direct.entry(name.clone()).or_default();
            for operation in sends.captures_iter(&body) {
                for prefix in prefixes {
                    actions.insert(format!("{prefix}:{}", pascal_case(&operation[1])));
                }
            }
            let callees = calls.entry(name).or_default();
            callees.extend(delegates.captures_iter(&body).map(|c| c[1].to_owned()));
        }
    }
    direct
        .keys()
        .map(|method| {
            let (mut seen, mut pending, mut actions) = (
                BTreeSet::from([method.clone()]),
                vec![method.clone()],
                BTreeSet::new(),
            );
            while let Some(next) = pending.pop() {
                actions.extend(direct.get(&next).into_iter().flatten().cloned());
                for callee in calls.get(&next).into_iter().flatten() {
                    if direct.contains_key(callee) && seen.insert(callee.clone()) {
                        pending.push(callee.clone());
                    }
                }
            }
            (method.clone(), actions)
        })
        .filter(|(_, actions)| !actions.is_empty())
        .collect()
}

fn rust_files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        for entry in std::fs::read_dir(&path).expect("source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}

/// The IAM actions a function's code calls: the adapter methods its crate calls, and those the
/// shared crate's modules it uses call.
fn actions_called_by(crate_name: &str) -> BTreeSet<String> {
    let adapters = adapter_actions();
    let method_call = Regex::new(r"\.\s*([a-z_]+)\s*\(").expect("regex");
    let module_use = Regex::new(r"\bgitsync::([a-z_]+)").expect("regex");
    let calls_in = |source: &str| -> BTreeSet<String> {
        method_call
            .captures_iter(source)
            .filter_map(|c| adapters.get(&c[1]).cloned())
            .flatten()
            .collect()
    };
    let own: String = rust_files_under(
        &workspace_root()
            .join("functions")
            .join(crate_name)
            .join("src"),
    )
    .iter()
    .map(|path| product_source(path))
    .collect();
    let mut actions = calls_in(&own);
    let shared = workspace_root().join("shared/src");
    for module in module_use.captures_iter(&own).map(|c| c[1].to_owned()) {
        // The adapters' own calls count only through the methods a caller names.
        if module == "adapters" {
            continue;
        }
        let file = shared.join(format!("{module}.rs"));
        let sources = if file.is_file() {
            vec![file]
        } else {
            rust_files_under(&shared.join(&module))
        };
        for path in sources {
            actions.extend(calls_in(&product_source(&path)));
        }
    }
    actions
}

/// One statement of a function's policy: its actions and resources (as YAML text), the
/// branch of an `!If [Condition, statement, AWS::NoValue]` included.
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
}

fn statements(function: &Yaml) -> Vec<Statement> {
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .expect("Policies");
    policies
        .iter()
        .flat_map(|policy| {
            policy["Statement"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .map(|statement| match statement {
            Yaml::Tagged(guarded) => guarded.value.as_sequence().expect("!If")[1].clone(),
            plain => plain,
        })
        .map(|statement| {
            let strings = |value: &Yaml| -> Vec<String> {
                match value {
                    Yaml::Sequence(items) => items.iter().map(yaml_text).collect(),
                    one => vec![yaml_text(one)],
                }
            };
            Statement {
                actions: strings(&statement["Action"]),
                resources: strings(&statement["Resource"]),
            }
        })
        .collect()
}

fn yaml_text(value: &Yaml) -> String {
    match value {
        Yaml::String(text) => text.clone(),
        other => serde_yaml_ng::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn functions_in(template: &Yaml) -> Vec<(String, String, Yaml)> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == "AWS::Serverless::Function")
        .map(|(id, function)| {
            let binary = function["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("BuildProperties.Binary")
                .to_owned();
            (yaml_text(id), binary, function.clone())
        })
        .collect()
}

/// template.yaml's functions.
fn functions() -> Vec<(String, String, Yaml)> {
    functions_in(&Template::load())
}

/// template.yaml's functions and the Organization hub's.
fn all_functions() -> Vec<(String, String, Yaml)> {
    let path = workspace_root().join("org/hub.yaml");
    let text = std::fs::read_to_string(&path).expect("org/hub.yaml");
    let hub: Yaml = serde_yaml_ng::from_str(&text).expect("org/hub.yaml is YAML");
    let mut all = functions();
    all.extend(functions_in(&hub));
    all
}

#[test]
fn each_role_grants_exactly_the_operations_its_code_calls() {
    let all = all_functions();
    assert!(
        all.iter().any(|(_, binary, _)| binary == "org-hub"),
        "the hub's function"
    );
    for (id, binary, function) in all {
        let granted: BTreeSet<String> = statements(&function)
            .into_iter()
            .flat_map(|statement| statement.actions)
            .collect();
        let mut called = actions_called_by(&binary);
        assert!(
            called.iter().any(|action| action.starts_with("dynamodb:")),
            "{binary}: the reading of its code found no call of its table: {called:?}"
        );
        // Reading by method name cannot see a notifier built without a bus: org-hub publishes
        // through `Channels { bus: None, .. }`, which puts no event.
        let source =
            product_source(&workspace_root().join(format!("functions/{binary}/src/lib.rs")));
        if source.contains("bus: None") {
            called.remove("events:PutEvents");
        }
        if called.contains("sns:Publish") {
            called.extend(PUBLISH_TO_ENCRYPTED_TOPIC.map(str::to_owned));
        }
        let unused: Vec<_> = granted.difference(&called).collect();
        let missing: Vec<_> = called.difference(&granted).collect();
        assert!(
            unused.is_empty() && missing.is_empty(),
            "{id} ({binary}): granted but never called: {unused:?}; called but not granted: {missing:?}"
        );
    }
}

#[test]
fn every_git_sync_action_is_granted_under_both_prefixes_on_the_same_resources() {
    for (id, _, function) in all_functions() {
        for statement in statements(&function) {
            for action in &statement.actions {
                let Some(operation) = action.strip_prefix("codestar-connections:") else {
                    continue;
                };
                assert!(
                    statement
                        .actions
                        .contains(&format!("codeconnections:{operation}")),
                    "{id}: {action} without codeconnections:{operation} beside it"
                );
                let (old, new): (Vec<_>, Vec<_>) = statement
                    .resources
                    .iter()
                    .filter(|resource| *resource != "*")
                    .partition(|resource| resource.contains(":codestar-connections:"));
                let renamed: Vec<String> = old
                    .iter()
                    .map(|resource| resource.replace(":codestar-connections:", ":codeconnections:"))
                    .collect();
                assert_eq!(
                    renamed,
                    new.into_iter().cloned().collect::<Vec<_>>(),
                    "{id}: {operation}'s resources differ between the two prefixes"
                );
            }
        }
    }
}

#[test]
fn resources_are_as_narrow_as_the_service_authorization_reference_allows() {
    for (id, _, function) in all_functions() {
        for statement in statements(&function) {
            for action in &statement.actions {
                assert!(!action.contains('*'), "{id}: wildcard action {action}");
                let (prefix, operation) = action.split_once(':').expect("prefix:Action");
                let git_sync = matches!(prefix, "codestar-connections" | "codeconnections");
                let everything = statement.resources.iter().any(|resource| resource == "*");
                if !git_sync {
                    assert!(!everything, "{id}: {action} on *");
                    continue;
                }
                let (_, types) = GIT_SYNC_RESOURCE_TYPES
                    .iter()
                    .find(|(name, _)| *name == operation)
                    .unwrap_or_else(|| panic!("{id}: {action} is not in the reference table"));
                match types {
                    None => assert!(everything, "{id}: {action} takes no resource type: *"),
                    Some(types) => {
                        assert!(!everything, "{id}: {action} takes {types:?} ARNs, not *");
                        for resource in &statement.resources {
                            assert!(
                                resource.contains(":${AWS::Region}:${AWS::AccountId}:")
                                    && types
                                        .iter()
                                        .any(|kind| resource.ends_with(&format!(":{kind}/*\""))
                                            || resource.ends_with(&format!(":{kind}/*"))),
                                "{id}: {action} on {resource}, not this account's {types:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// SAM attaches AWSXrayWriteOnlyAccess to a function's role for any `Tracing` value, and
/// writes the `sqs:SendMessage` its on-failure destination needs: neither belongs in the
/// template's own policies.
#[test]
fn no_role_gets_x_ray_or_a_statement_sam_already_writes() {
    let template = Template::load();
    assert!(
        template["Globals"]["Function"].get("Tracing").is_none(),
        "Globals.Function.Tracing makes SAM attach AWSXrayWriteOnlyAccess; Lambda's default is PassThrough"
    );
    for (id, _, function) in functions() {
        assert!(
            function["Properties"].get("Tracing").is_none(),
            "{id}: Tracing"
        );
        assert_eq!(
            function["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"]
                .as_str(),
            Some("SQS"),
            "{id}: failed invocations go to the dead-letter queue"
        );
        for statement in statements(&function) {
            assert!(
                !statement
                    .actions
                    .iter()
                    .any(|action| action.starts_with("sqs:")),
                "{id}: SAM's destination policy already grants sqs:SendMessage on the queue"
            );
        }
    }
}
