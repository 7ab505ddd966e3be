//! org/hub.yaml against template.yaml: the StackSet deploys the member template with every
//! parameter it requires and none it lacks, pointed at the hub's topic and key.

use std::collections::BTreeSet;

use e2e::template::Template;
use e2e::workspace_root;
use serde_yaml_ng::Value as Yaml;

fn hub() -> Yaml {
    let path = workspace_root().join("org/hub.yaml");
    let text = std::fs::read_to_string(&path).expect("org/hub.yaml");
    serde_yaml_ng::from_str(&text).expect("org/hub.yaml is YAML")
}

fn keys(mapping: &Yaml) -> BTreeSet<String> {
    mapping
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(key, _)| key.as_str().map(str::to_owned))
        .collect()
}

/// The tag and value of `!Ref X` or `!GetAtt X.Y`.
fn intrinsic(value: &Yaml) -> Option<(String, String)> {
    match value {
        Yaml::Tagged(tagged) => Some((
            tagged.tag.to_string(),
            tagged.value.as_str().unwrap_or_default().to_owned(),
        )),
        _ => None,
    }
}

#[test]
fn the_stack_set_passes_what_the_member_template_requires_and_only_what_it_has() {
    let member = Template::load();
    let declared = keys(&member["Parameters"]);
    let required: BTreeSet<String> = member["Parameters"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, parameter)| parameter.get("Default").is_none())
        .filter_map(|(key, _)| key.as_str().map(str::to_owned))
        .collect();

    let hub = hub();
    let stack_set = &hub["Resources"]["Members"];
    assert_eq!(
        stack_set["Type"].as_str(),
        Some("AWS::CloudFormation::StackSet")
    );
    let passed: Vec<(String, &Yaml)> = stack_set["Properties"]["Parameters"]
        .as_sequence()
        .expect("the StackSet's Parameters")
        .iter()
        .map(|p| {
            let key = p["ParameterKey"].as_str().expect("ParameterKey").to_owned();
            (key, &p["ParameterValue"])
        })
        .collect();
    let names: BTreeSet<String> = passed.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(
        names.len(),
        passed.len(),
        "a parameter passed twice: {passed:?}"
    );
    assert!(
        required.is_subset(&names),
        "required by template.yaml but not passed: {:?}",
        required.difference(&names).collect::<Vec<_>>()
    );
    assert!(
        names.is_subset(&declared),
        "passed but not in template.yaml: {:?}",
        names.difference(&declared).collect::<Vec<_>>()
    );

    // The members publish to the hub's topic with the hub's key.
    let value = |name: &str| {
        passed
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| intrinsic(value))
    };
    assert_eq!(
        value("AlertTopicArn"),
        Some(("!Ref".to_owned(), "HubTopic".to_owned()))
    );
    assert_eq!(
        value("AlertTopicKmsKeyArn"),
        Some(("!GetAtt".to_owned(), "HubKey.Arn".to_owned()))
    );
}

#[test]
fn the_stack_set_follows_the_organization() {
    let hub = hub();
    let properties = &hub["Resources"]["Members"]["Properties"];
    assert_eq!(
        properties["PermissionModel"].as_str(),
        Some("SERVICE_MANAGED")
    );
    assert_eq!(
        properties["AutoDeployment"]["Enabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        properties["AutoDeployment"]["RetainStacksOnAccountRemoval"].as_bool(),
        Some(false)
    );
    let capabilities: Vec<&str> = properties["Capabilities"]
        .as_sequence()
        .expect("Capabilities")
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert_eq!(capabilities, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]);
    // Every parameter the hub declares is used somewhere.
    let text = std::fs::read_to_string(workspace_root().join("org/hub.yaml")).expect("hub");
    for name in keys(&hub["Parameters"]) {
        assert!(
            text.matches(&name).count() >= 3,
            "{name} is declared (and grouped) but never used"
        );
    }
}
