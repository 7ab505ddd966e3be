//! Input validation driven by the model: walks a JSON value against a shape and reports
//! every violation the way AWS words them, e.g.
//! `1 validation error detected: Value 'a b' at 'resourceName' failed to satisfy constraint: ...`.

use std::fmt::Display;

use serde_json::Value;

use crate::model::{Model, Pattern, Shape, ShapeId};
use crate::operation::Operation;

/// Longest rendering of an offending value inside a message.
const MAX_SHOWN_VALUE_CHARS: usize = 80;

/// One step of the path to the value being checked; rendered only when there is a violation.
#[derive(Clone, Copy)]
enum Segment<'a> {
    Name(&'a str),
    ListItem(usize),
}

struct Walk<'a> {
    model: &'a Model,
    path: Vec<Segment<'a>>,
    violations: Vec<String>,
}

/// Validates an operation's input. `Err` carries the complete message.
pub fn validate_input(model: &Model, operation: Operation, input: &Value) -> Result<(), String> {
    let mut walk = Walk {
        model,
        path: Vec::new(),
        violations: Vec::new(),
    };
    walk.check_structure_members(model.input_shape(operation), input);
    walk.finish()
}

/// Validates one value against a named shape of the model, reporting it under `path`
/// (used for scenario documents and admin bodies).
pub fn validate_named(
    model: &Model,
    shape_name: &str,
    value: &Value,
    path: &str,
) -> Result<(), String> {
    let Some(shape) = model.shape_id(shape_name) else {
        return Err(format!(
            "the model has no shape {shape_name} to check '{path}' against"
        ));
    };
    let mut walk = Walk {
        model,
        path: vec![Segment::Name(path)],
        violations: Vec::new(),
    };
    walk.check(shape, value);
    walk.finish()
}

impl<'a> Walk<'a> {
    fn finish(self) -> Result<(), String> {
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(format!(
                "1 validation error detected: {}",
                self.violations[0]
            )),
            count => Err(format!(
                "{count} validation errors detected: {}",
                self.violations.join("; ")
            )),
        }
    }

    fn rendered_path(&self) -> String {
        let mut rendered = String::new();
        for segment in &self.path {
            if !rendered.is_empty() {
                rendered.push('.');
            }
            match segment {
                Segment::Name(name) => rendered.push_str(name),
                Segment::ListItem(index) => {
                    rendered.push_str(&(index + 1).to_string());
                    rendered.push_str(".member");
                }
            }
        }
        rendered
    }

    fn violation(&mut self, value: Option<&Value>, constraint: impl AsRef<str>) {
        let message = format!(
            "Value {} at '{}' failed to satisfy constraint: {}",
            shown(value),
            self.rendered_path(),
            constraint.as_ref()
        );
        self.violations.push(message);
    }

    fn check(&mut self, shape_id: ShapeId, value: &'a Value) {
        let model = self.model;
        match model.shape(shape_id) {
            Shape::String {
                min,
                max,
                pattern,
                allowed,
            } => {
                let Some(text) = value.as_str() else {
                    return self.violation(Some(value), "Member must be a string");
                };
                self.check_bounds(value, "length", text.chars().count(), *min, *max);
                self.check_text(value, text, allowed.as_deref(), pattern.as_ref());
            }
            Shape::Integer { min, max } => {
                let Some(number) = value.as_i64() else {
                    return self.violation(Some(value), "Member must be an integer");
                };
                self.check_bounds(value, "value", number, *min, *max);
            }
            Shape::Boolean => {
                if !value.is_boolean() {
                    self.violation(Some(value), "Member must be a boolean");
                }
            }
            Shape::Timestamp => {
                if !value.is_number() {
                    self.violation(Some(value), "Member must be a timestamp in epoch seconds");
                }
            }
            Shape::List { member, min, max } => {
                let Some(items) = value.as_array() else {
                    return self.violation(Some(value), "Member must be a list");
                };
                self.check_bounds(value, "length", items.len(), *min, *max);
                for (index, item) in items.iter().enumerate() {
                    self.check_within(Segment::ListItem(index), *member, item);
                }
            }
            Shape::Map {
                value: value_shape,
                min,
                max,
            } => {
                let Some(entries) = value.as_object() else {
                    return self.violation(Some(value), "Member must be a map");
                };
                self.check_bounds(value, "length", entries.len(), *min, *max);
                for (key, entry) in entries {
                    self.check_within(Segment::Name(key), *value_shape, entry);
                }
            }
            Shape::Structure { .. } => {
                if !value.is_object() {
                    return self.violation(Some(value), "Member must be a structure");
                }
                self.check_structure_members(shape_id, value);
            }
        }
    }

    /// Checks an item of a list or an entry of a map, under its place in the path; `null`
    /// items are skipped.
    fn check_within(&mut self, segment: Segment<'a>, shape_id: ShapeId, item: &'a Value) {
        if item.is_null() {
            return;
        }
        self.path.push(segment);
        self.check(shape_id, item);
        self.path.pop();
    }

    /// A string's length, a list's or a map's size, or an integer's value (`measure`)
    /// within the shape's bounds.
    fn check_bounds<T: PartialOrd + Display>(
        &mut self,
        value: &Value,
        measure: &str,
        actual: T,
        min: Option<T>,
        max: Option<T>,
    ) {
        if let Some(min) = min.filter(|min| actual < *min) {
            self.violation(
                Some(value),
                format!("Member must have {measure} greater than or equal to {min}"),
            );
        }
        if let Some(max) = max.filter(|max| actual > *max) {
            self.violation(
                Some(value),
                format!("Member must have {measure} less than or equal to {max}"),
            );
        }
    }

    /// A string among the shape's allowed values and matching its pattern, when it has them.
    fn check_text(
        &mut self,
        value: &Value,
        text: &str,
        allowed: Option<&[String]>,
        pattern: Option<&Pattern>,
    ) {
        if let Some(allowed) = allowed.filter(|allowed| !allowed.iter().any(|a| a == text)) {
            self.violation(
                Some(value),
                format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
        if let Some(pattern) = pattern.filter(|pattern| !pattern.regex.is_match(text)) {
            self.violation(
                Some(value),
                format!(
                    "Member must satisfy regular expression pattern: {}",
                    pattern.source
                ),
            );
        }
    }

    /// Checks the members of a structure; members the model does not name are ignored, as
    /// the service ignores them, and `null` counts as absent.
    fn check_structure_members(&mut self, shape_id: ShapeId, value: &'a Value) {
        let model = self.model;
        let Shape::Structure { members } = model.shape(shape_id) else {
            return;
        };
        for member in members {
            self.path.push(Segment::Name(&member.path_name));
            match value.get(&member.name).filter(|v| !v.is_null()) {
                Some(member_value) => self.check(member.shape, member_value),
                None if member.required => self.violation(None, "Member must not be null"),
                None => {}
            }
            self.path.pop();
        }
    }
}

/// Renders a value as AWS does in messages: strings in single quotes, others as JSON.
fn shown(value: Option<&Value>) -> String {
    let rendered = match value {
        None | Some(Value::Null) => return "null".to_owned(),
        Some(Value::String(text)) => format!("'{text}'"),
        Some(other) => other.to_string(),
    };
    if rendered.chars().count() > MAX_SHOWN_VALUE_CHARS {
        let truncated: String = rendered.chars().take(MAX_SHOWN_VALUE_CHARS).collect();
        format!("{truncated}...")
    } else {
        rendered
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(operation: Operation, input: Value) -> Result<(), String> {
        let model = Model::load(crate::api::Api::CodeStarConnections).expect("model loads");
        validate_input(&model, operation, &input)
    }

    #[test]
    fn a_valid_input_passes_and_unknown_members_are_ignored() {
        let input =
            json!({"ResourceName": "payments-api", "SyncType": "CFN_STACK_SYNC", "Extra": 1});
        assert_eq!(check(Operation::GetSyncBlockerSummary, input), Ok(()));
    }

    #[test]
    fn missing_required_members_are_named() {
        let message = check(Operation::GetSyncBlockerSummary, json!({"SyncType": null}))
            .expect_err("invalid");
        assert!(
            message.starts_with("2 validation errors detected: "),
            "{message}"
        );
        assert!(message.contains(
            "Value null at 'resourceName' failed to satisfy constraint: Member must not be null"
        ));
        assert!(message.contains(
            "Value null at 'syncType' failed to satisfy constraint: Member must not be null"
        ));
    }

    #[test]
    fn pattern_enum_and_length_violations_are_reported() {
        let message = check(
            Operation::UpdateSyncBlocker,
            json!({"Id": "", "ResourceName": "bad name", "SyncType": "CFN", "ResolvedReason": "ok"}),
        )
        .expect_err("invalid");
        assert!(
            message.starts_with("3 validation errors detected: "),
            "{message}"
        );
        assert!(message.contains("Value '' at 'id' failed to satisfy constraint: Member must have length greater than or equal to 1"));
        assert!(message.contains(r"Value 'bad name' at 'resourceName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$"), "{message}");
        assert!(message.contains("Value 'CFN' at 'syncType' failed to satisfy constraint: Member must satisfy enum value set: [CFN_STACK_SYNC]"));
    }

    #[test]
    fn integer_ranges_and_types_are_checked() {
        let message =
            check(Operation::ListConnections, json!({"MaxResults": 101})).expect_err("invalid");
        assert_eq!(
            message,
            "1 validation error detected: Value 101 at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"
        );
        let message =
            check(Operation::ListConnections, json!({"MaxResults": "10"})).expect_err("invalid");
        assert!(message.contains(
            "Value '10' at 'maxResults' failed to satisfy constraint: Member must be an integer"
        ));
        let message =
            check(Operation::ListConnections, json!({"MaxResults": 1.5})).expect_err("invalid");
        assert!(message.contains("Member must be an integer"));
    }

    #[test]
    fn nested_list_members_get_aws_style_paths() {
        let message = check(
            Operation::TagResource,
            json!({"ResourceArn": "arn:aws:codestar-connections:us-east-1:123456789012:connection/x", "Tags": [{"Key": "a", "Value": "b"}, {"Key": ""}]}),
        )
        .expect_err("invalid");
        assert!(message.contains("at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{message}");
        assert!(
            message.contains("Value null at 'tags.2.member.value'"),
            "{message}"
        );
    }

    #[test]
    fn structures_must_be_objects() {
        let message = check(
            Operation::CreateHost,
            json!({"Name": "h", "ProviderType": "GitHubEnterpriseServer", "ProviderEndpoint": "https://x", "VpcConfiguration": []}),
        )
        .expect_err("invalid");
        assert!(message.contains("Value [] at 'vpcConfiguration' failed to satisfy constraint: Member must be a structure"), "{message}");
    }

    #[test]
    fn named_shapes_validate_scenario_values() {
        let model = Model::load(crate::api::Api::CodeStarConnections).expect("model loads");
        assert_eq!(
            validate_named(
                &model,
                "ResourceName",
                &json!("stack-1"),
                "SyncConfigurations[0].ResourceName"
            ),
            Ok(())
        );
        let message = validate_named(
            &model,
            "ResourceName",
            &json!("-x"),
            "SyncConfigurations[0].ResourceName",
        )
        .expect_err("invalid");
        assert!(
            message.contains("at 'SyncConfigurations[0].ResourceName'"),
            "{message}"
        );
    }

    #[test]
    fn long_values_are_truncated_in_messages() {
        let long = "x".repeat(500);
        let message = check(Operation::CreateConnection, json!({"ConnectionName": long}))
            .expect_err("invalid");
        assert!(message.len() < 300, "{message}");
        assert!(
            message.contains("...' at") || message.contains("... at"),
            "{message}"
        );
    }
}
