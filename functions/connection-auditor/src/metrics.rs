//! The run's metrics as one CloudWatch Embedded Metric Format (EMF) line: Lambda ships stdout
//! to CloudWatch Logs, which extracts the metrics without any API call from the function.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

pub const NAMESPACE: &str = "GitSyncGuard";
/// The one dimension, constant so that alarms need not know the deployed function's name.
pub const DIMENSION: &str = "Function";

/// What one run counted. The inventory is unknown when listing failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMetrics {
    pub inventory: Option<InventoryMetrics>,
    /// Calls that failed: per resource, listings, publishing, saving.
    pub audit_errors: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InventoryMetrics {
    pub connections_total: usize,
    pub connections_unhealthy: usize,
    pub hosts_unhealthy: usize,
    pub stacks_affected: usize,
}

impl RunMetrics {
    fn values(&self) -> Vec<(&'static str, usize)> {
        let mut values = Vec::with_capacity(5);
        if let Some(inventory) = self.inventory {
            values.extend([
                ("ConnectionsTotal", inventory.connections_total),
                ("ConnectionsUnhealthy", inventory.connections_unhealthy),
                ("HostsUnhealthy", inventory.hosts_unhealthy),
                ("StacksAffected", inventory.stacks_affected),
            ]);
        }
        values.push(("AuditErrors", self.audit_errors));
        values
    }
}

/// The EMF document, one line. Without an inventory only AuditErrors is emitted: a zero
/// ConnectionsTotal would be a false reading.
pub fn emf_line(metrics: &RunMetrics, function: &str, at: SystemTime) -> String {
    let values = metrics.values();
    let timestamp = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis());
    let definitions: Vec<Value> = values
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    let mut document = Map::new();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": definitions,
            }],
        }),
    );
    document.insert(DIMENSION.into(), function.into());
    for (name, value) in values {
        document.insert(name.into(), value.into());
    }
    Value::Object(document).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn parse(line: &str) -> Value {
        assert!(!line.contains('\n'), "one line");
        serde_json::from_str(line).expect("valid JSON")
    }

    #[test]
    fn a_full_run_emits_every_metric_as_a_count() {
        let metrics = RunMetrics {
            inventory: Some(InventoryMetrics {
                connections_total: 5,
                connections_unhealthy: 2,
                hosts_unhealthy: 1,
                stacks_affected: 3,
            }),
            audit_errors: 0,
        };
        let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        let document = parse(&emf_line(&metrics, "connection-auditor", at));
        assert_eq!(document["_aws"]["Timestamp"], 1_800_000_000_123_u64);
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "GitSyncGuard");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(document["Function"], "connection-auditor");
        let names: Vec<&str> = directive["Metrics"]
            .as_array()
            .expect("metrics")
            .iter()
            .map(|metric| {
                assert_eq!(metric["Unit"], "Count");
                metric["Name"].as_str().expect("name")
            })
            .collect();
        assert_eq!(
            names,
            [
                "ConnectionsTotal",
                "ConnectionsUnhealthy",
                "HostsUnhealthy",
                "StacksAffected",
                "AuditErrors"
            ]
        );
        for (name, value) in [
            ("ConnectionsTotal", 5),
            ("ConnectionsUnhealthy", 2),
            ("HostsUnhealthy", 1),
            ("StacksAffected", 3),
            ("AuditErrors", 0),
        ] {
            assert_eq!(document[name], value, "{name}");
        }
    }

    #[test]
    fn a_failed_listing_emits_only_audit_errors() {
        let metrics = RunMetrics {
            inventory: None,
            audit_errors: 1,
        };
        let document = parse(&emf_line(&metrics, "connection-auditor", SystemTime::now()));
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "AuditErrors", "Unit": "Count"}])
        );
        assert_eq!(document["AuditErrors"], 1);
        assert!(document.get("ConnectionsTotal").is_none());
    }
}
