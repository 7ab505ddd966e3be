//! What an audit counted, as the run's metrics (written by `gitsync::metrics` as one
//! CloudWatch embedded-metric-format line).

use gitsync::metrics::{Metric, Metrics};

use crate::FUNCTION_NAME;

/// What one run counted. The inventory is unknown when listing failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunMetrics {
    pub inventory: Option<InventoryMetrics>,
    /// Calls that failed: per resource, listings, publishing, saving.
    pub audit_errors: usize,
    /// The heartbeat: the audit covered every connection, host and link and saved what it saw.
    pub complete: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InventoryMetrics {
    pub connections_total: usize,
    pub connections_unhealthy: usize,
    pub hosts_unhealthy: usize,
    pub stacks_affected: usize,
}

impl RunMetrics {
    /// Without an inventory only AuditErrors is emitted: a zero ConnectionsTotal would be a
    /// false reading.
    pub fn metrics(&self) -> Metrics {
        let mut metrics = Metrics::new(FUNCTION_NAME);
        if let Some(inventory) = self.inventory {
            metrics
                .count(Metric::ConnectionsTotal, inventory.connections_total)
                .count(
                    Metric::ConnectionsUnhealthy,
                    inventory.connections_unhealthy,
                )
                .count(Metric::HostsUnhealthy, inventory.hosts_unhealthy)
                .count(Metric::StacksAffected, inventory.stacks_affected);
        }
        metrics
            .count(Metric::AuditErrors, self.audit_errors)
            .heartbeat(self.complete);
        metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
            complete: true,
        };
        let at = UNIX_EPOCH + Duration::from_millis(1_800_000_000_123);
        let document = parse(&metrics.metrics().line(at));
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
                "AuditErrors",
                "CompleteRuns"
            ]
        );
        for (name, value) in [
            ("ConnectionsTotal", 5),
            ("ConnectionsUnhealthy", 2),
            ("HostsUnhealthy", 1),
            ("StacksAffected", 3),
            ("AuditErrors", 0),
            ("CompleteRuns", 1),
        ] {
            assert_eq!(document[name], value, "{name}");
        }
    }

    #[test]
    fn a_failed_listing_emits_only_audit_errors_and_no_complete_run() {
        let metrics = RunMetrics {
            inventory: None,
            audit_errors: 1,
            complete: false,
        };
        let document = parse(&metrics.metrics().line(SystemTime::now()));
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Metrics"],
            json!([{"Name": "AuditErrors", "Unit": "Count"}, {"Name": "CompleteRuns", "Unit": "Count"}])
        );
        assert_eq!(document["AuditErrors"], 1);
        assert_eq!(document["CompleteRuns"], 0);
        assert!(document.get("ConnectionsTotal").is_none());
    }
}
