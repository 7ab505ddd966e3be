//! The health snapshot: after each sweep that read every stack, one `GitSync Health Snapshot`
//! event with what a consumer needs to rebuild the account's state if it missed events: the
//! counts, every open blocker's stack and Id, the connections and hosts connection-auditor last
//! saw unhealthy, and when each job last completed. Pure.

use std::collections::BTreeSet;
use std::time::SystemTime;

use gitsync::domain::bus::{BusEvent, DetailType, time};
use gitsync::domain::selfwatch::{Heartbeat, Job, last_complete};
use gitsync::ledger::StatusRecord;
use serde_json::{Value, json};

use crate::report::ActiveBlocker;

/// Most open blockers one snapshot lists (about 120 bytes each: the event stays well within
/// PutEvents' 256 KB); the rest are counted in `openBlockersOmitted`.
pub const MAX_SNAPSHOT_BLOCKERS: usize = 1000;
/// Most unhealthy connections and hosts one snapshot lists; the rest are counted.
pub const MAX_SNAPSHOT_RESOURCES: usize = 500;

pub struct Snapshot<'a> {
    pub now: SystemTime,
    pub stacks_swept: usize,
    pub blocked: &'a [ActiveBlocker],
    pub unhealthy: &'a [StatusRecord],
    /// Every job's heartbeat, this sweep's already counted.
    pub heartbeats: &'a [Heartbeat],
}

pub fn event(snapshot: &Snapshot<'_>) -> BusEvent {
    let mut blocked: Vec<&ActiveBlocker> = snapshot.blocked.iter().collect();
    blocked.sort_by_key(|b| (b.blocker.created_at, b.stack.clone()));
    let stacks: BTreeSet<&str> = blocked.iter().map(|b| b.stack.as_str()).collect();
    let open_blockers: Vec<Value> = blocked
        .iter()
        .take(MAX_SNAPSHOT_BLOCKERS)
        .map(|b| {
            json!({
                "stack": b.stack,
                "blockerId": b.blocker.id,
                "createdAt": time(b.blocker.created_at),
            })
        })
        .collect();
    let unhealthy: Vec<Value> = snapshot
        .unhealthy
        .iter()
        .take(MAX_SNAPSHOT_RESOURCES)
        .map(|record| {
            json!({
                "arn": record.arn,
                "resourceType": record.kind.as_str(),
                "status": record.status,
                "since": time(Some(record.since)),
            })
        })
        .collect();
    let jobs: Vec<Value> = Job::ALL
        .iter()
        .map(|&job| {
            let last = last_complete(snapshot.heartbeats, job);
            json!({"job": job.as_str(), "function": job.function(), "lastCompletedAt": time(last)})
        })
        .collect();
    BusEvent::new(
        DetailType::HealthSnapshot,
        json!({
            "sweptAt": time(Some(snapshot.now)),
            "stacksSwept": snapshot.stacks_swept,
            "blockedStacks": stacks.len(),
            "openBlockers": open_blockers,
            "openBlockersOmitted": blocked.len().saturating_sub(MAX_SNAPSHOT_BLOCKERS),
            "unhealthyResources": unhealthy,
            "unhealthyResourcesOmitted": snapshot.unhealthy.len().saturating_sub(MAX_SNAPSHOT_RESOURCES),
            "jobs": jobs,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitsync::domain::connections::ResourceKind;
    use gitsync::domain::sync::{BlockerStatus, SyncBlocker};
    use std::time::{Duration, UNIX_EPOCH};

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn blocked(stack: &str, id: &str, created: u64) -> ActiveBlocker {
        ActiveBlocker {
            stack: stack.into(),
            blocker: SyncBlocker {
                id: id.into(),
                status: BlockerStatus::Active,
                created_reason: "failed".into(),
                contexts: vec![],
                created_at: Some(at(created)),
                resolved_at: None,
                resolved_reason: None,
            },
        }
    }

    #[test]
    fn the_snapshot_lists_every_open_blocker_oldest_first_and_each_jobs_last_run() {
        let blocked = [
            blocked("web", "b-2", 200),
            blocked("api", "b-1", 100),
            blocked("web", "b-3", 300),
        ];
        let unhealthy = [StatusRecord {
            arn: "arn:aws:codestar-connections:us-east-1:123456789012:connection/c-1".into(),
            kind: ResourceKind::Connection,
            name: None,
            status: "ERROR".into(),
            since: at(50),
            last_alerted_at: None,
        }];
        // As the sweep passes them: its own run already counted.
        let heartbeats = [
            Heartbeat {
                job: Job::Audit,
                completed_at: at(900),
                first_completed_at: at(0),
            },
            Heartbeat::after_run(Job::Watch, at(1000), None),
        ];
        let event = event(&Snapshot {
            now: at(1000),
            stacks_swept: 8,
            blocked: &blocked,
            unhealthy: &unhealthy,
            heartbeats: &heartbeats,
        });
        assert_eq!(event.detail_type, DetailType::HealthSnapshot);
        let detail = Value::Object(event.detail);
        assert_eq!(detail["stacksSwept"], 8);
        assert_eq!(detail["blockedStacks"], 2);
        assert_eq!(
            detail["openBlockers"],
            json!([
                {"stack": "api", "blockerId": "b-1", "createdAt": "1970-01-01T00:01:40Z"},
                {"stack": "web", "blockerId": "b-2", "createdAt": "1970-01-01T00:03:20Z"},
                {"stack": "web", "blockerId": "b-3", "createdAt": "1970-01-01T00:05:00Z"},
            ])
        );
        assert_eq!(detail["openBlockersOmitted"], 0);
        assert_eq!(detail["unhealthyResources"][0]["status"], "ERROR");
        assert_eq!(
            detail["jobs"],
            json!([
                {"job": "watch", "function": "sync-watcher", "lastCompletedAt": "1970-01-01T00:16:40Z"},
                {"job": "sweep", "function": "blocker-resolver", "lastCompletedAt": null},
                {"job": "audit", "function": "connection-auditor", "lastCompletedAt": "1970-01-01T00:15:00Z"},
            ])
        );
    }

    #[test]
    fn a_huge_account_is_counted_past_the_cap() {
        let many: Vec<ActiveBlocker> = (0..1500)
            .map(|n| blocked(&format!("s-{n}"), &format!("b-{n}"), n))
            .collect();
        let event = event(&Snapshot {
            now: at(10_000),
            stacks_swept: 1500,
            blocked: &many,
            unhealthy: &[],
            heartbeats: &[],
        });
        let detail = Value::Object(event.detail);
        assert_eq!(
            detail["openBlockers"].as_array().map(Vec::len),
            Some(MAX_SNAPSHOT_BLOCKERS)
        );
        assert_eq!(detail["openBlockersOmitted"], 500);
        assert!(
            detail.to_string().len() < 200 * 1024,
            "within PutEvents' limit"
        );
    }
}
