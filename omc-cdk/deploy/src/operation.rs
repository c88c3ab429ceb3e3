//! One CloudFormation operation seen through its events: what is in progress right now, how
//! much is done, what it created, updated and deleted, and, when it fails, every failed
//! resource with its reason and construct path, the root cause first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value as Json;

use crate::api::{StackEvent, StoppedTask};
use crate::time::clock;

/// A resource the operation is working on now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight {
    /// The logical id.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// Such as `CREATE_IN_PROGRESS`.
    pub status: String,
    /// When the resource's current step started (milliseconds since the Unix epoch).
    pub since_millis: i64,
}

/// Where an operation stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Resources done (complete or failed).
    pub done: usize,
    /// Resources the operation touches: the change set's changes.
    pub total: usize,
    /// Resources in progress now, the longest-running first.
    pub in_progress: Vec<InFlight>,
}

/// What an operation did to the stack's resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeCounts {
    /// Resources created.
    pub created: usize,
    /// Resources updated (replacements included).
    pub updated: usize,
    /// Resources deleted.
    pub deleted: usize,
    /// Resources that failed.
    pub failed: usize,
}

impl fmt::Display for ChangeCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created, {} updated, {} deleted",
            self.created, self.updated, self.deleted
        )?;
        if self.failed > 0 {
            write!(f, ", {} failed", self.failed)?;
        }
        Ok(())
    }
}

/// A resource that failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedResource {
    /// The logical id.
    pub logical_id: String,
    /// The resource type.
    pub resource_type: String,
    /// The construct path, from the template's `aws:cdk:path` metadata.
    pub path: Option<String>,
    /// Such as `CREATE_FAILED`.
    pub status: String,
    /// CloudFormation's reason.
    pub reason: String,
    /// The failure that started it all (the first that was not a cancellation).
    pub root_cause: bool,
    /// The physical id, when the resource was created.
    pub physical_id: Option<String>,
    /// For an ECS service: its most recently stopped tasks, newest first.
    pub stopped_tasks: Vec<StoppedTask>,
    /// For an ECS service: why its stopped tasks could not be read.
    pub tasks_error: Option<String>,
}

/// Why a stack failed: a paragraph a person can paste into an incident.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    /// The stack.
    pub stack: String,
    /// What failed, one line.
    pub summary: String,
    /// The stack's status at the end, when an operation ran.
    pub status: Option<String>,
    /// The stack's own reasons (`StackStatusReason`, stack-level failure events), such as an
    /// export that another stack still imports.
    pub stack_reasons: Vec<String>,
    /// Every resource that failed, the root cause first.
    pub resources: Vec<FailedResource>,
    /// What to do next.
    pub advice: Option<String>,
    /// Everything the client knew about the error behind `summary` (for `--verbose`).
    pub detail: Option<String>,
    /// What the operation did before it failed (and rolled back).
    pub changes: ChangeCounts,
}

impl Failure {
    /// A failure that is one line (a refused call, a declined approval).
    pub fn line(stack: &str, summary: impl Into<String>) -> Failure {
        Failure {
            stack: stack.to_owned(),
            summary: summary.into(),
            ..Failure::default()
        }
    }

    /// The root cause: the originating resource, or the stack's own reason.
    pub fn root_cause(&self) -> Option<String> {
        self.resources
            .iter()
            .find(|r| r.root_cause)
            .map(|r| {
                format!(
                    "{} {} ({}): {}",
                    r.status, r.logical_id, r.resource_type, r.reason
                )
            })
            .or_else(|| self.stack_reasons.first().cloned())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.summary)?;
        let Some(status) = &self.status else {
            if let Some(advice) = &self.advice {
                write!(f, "\n{advice}")?;
            }
            return Ok(());
        };
        write!(f, "\nstack:        {}", self.stack)?;
        write!(f, "\nfinal status: {status}")?;
        for reason in &self.stack_reasons {
            write!(f, "\nstack reason: {reason}")?;
        }
        if self.resources.is_empty() {
            write!(
                f,
                "\nfailed resources: none{}",
                if self.stack_reasons.is_empty() {
                    " (no resource reported a failure; see the stack's events)"
                } else {
                    " (the stack reason above is the cause)"
                }
            )?;
        } else {
            write!(f, "\nfailed resources: {}", self.resources.len())?;
        }
        for (i, r) in self.resources.iter().enumerate() {
            write!(
                f,
                "\n{}. {}  {}  {}{}{}",
                i + 1,
                r.status,
                r.resource_type,
                r.logical_id,
                r.path
                    .as_deref()
                    .map_or_else(String::new, |p| format!("  ({p})")),
                if r.root_cause { "  <- root cause" } else { "" }
            )?;
            write!(f, "\n   {}", r.reason)?;
            if let Some(error) = &r.tasks_error {
                write!(f, "\n   stopped tasks: not available ({error})")?;
            }
            for task in &r.stopped_tasks {
                let id = task.arn.rsplit('/').next().unwrap_or(&task.arn);
                write!(
                    f,
                    "\n   stopped task {id} at {} UTC{}: {}",
                    clock(task.stopped_at_millis),
                    task.stop_code
                        .as_deref()
                        .map_or_else(String::new, |c| format!(" ({c})")),
                    task.stopped_reason.as_deref().unwrap_or("no reason given")
                )?;
                for c in &task.containers {
                    let mut parts = Vec::new();
                    if let Some(code) = c.exit_code {
                        parts.push(format!("exit code {code}"));
                    }
                    if let Some(reason) = &c.reason {
                        parts.push(reason.clone());
                    }
                    if let Some(health) = c.health.as_deref().filter(|h| *h == "UNHEALTHY") {
                        parts.push(format!("health check {health}"));
                    }
                    if parts.is_empty() {
                        parts.push("did not run".into());
                    }
                    write!(f, "\n     container {}: {}", c.name, parts.join("; "))?;
                }
            }
        }
        if let Some(advice) = &self.advice {
            write!(f, "\n{advice}")?;
        }
        Ok(())
    }
}

/// The construct paths of a template's resources (`Metadata["aws:cdk:path"]`), by logical id.
pub fn construct_paths(template: &Json) -> BTreeMap<String, String> {
    template
        .get("Resources")
        .and_then(Json::as_object)
        .map(|resources| {
            resources
                .iter()
                .filter_map(|(id, r)| {
                    let path = r["Metadata"][omc_cdk_core::PATH_METADATA_KEY].as_str()?;
                    Some((id.clone(), path.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The cluster and the service of an ECS service's ARN
/// (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`; the old format without the cluster
/// is in the `default` cluster).
pub fn ecs_service(physical_id: &str) -> Option<(String, String)> {
    let (_, rest) = physical_id.split_once(":service/")?;
    match rest.split_once('/') {
        Some((cluster, service)) if !cluster.is_empty() && !service.is_empty() => {
            Some((cluster.to_owned(), service.to_owned()))
        }
        None if !rest.is_empty() => Some(("default".to_owned(), rest.to_owned())),
        _ => None,
    }
}

/// Whether a failure is only a consequence of another (CloudFormation cancels the rest).
fn is_cancellation(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    lower.contains("resource creation cancelled")
        || lower.contains("resource update cancelled")
        || lower.contains("resource deletion cancelled")
        || lower.contains("cancelled") && lower.len() < 40
}

/// Follows one operation's events.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The stack's name: its own events carry it as their logical id (a nested stack's carry
    /// theirs).
    stack: String,
    total: usize,
    /// The time of the newest event seen.
    newest: Option<i64>,
    seen: BTreeSet<String>,
    in_flight: BTreeMap<String, InFlight>,
    /// The first terminal status of each resource before any rollback began.
    finished: BTreeMap<String, String>,
    rolling_back: bool,
    /// Resource failures, oldest first.
    failures: Vec<StackEvent>,
    /// Reasons the stack itself gave.
    stack_reasons: Vec<String>,
}

impl Tracker {
    /// A tracker for an operation on `stack` that touches `total` resources.
    pub fn new(stack: &str, total: usize) -> Tracker {
        Tracker {
            stack: stack.to_owned(),
            total,
            ..Tracker::default()
        }
    }

    /// The time of the newest event seen: the next read need not go further back.
    pub fn newest_millis(&self) -> Option<i64> {
        self.newest
    }

    /// Takes a batch of events, newest first as CloudFormation lists them, and returns the
    /// ones not seen before, oldest first (events of the same millisecond keep their order).
    pub fn absorb(&mut self, events: Vec<StackEvent>) -> Vec<StackEvent> {
        let mut fresh: Vec<StackEvent> = Vec::new();
        for e in events.into_iter().rev() {
            if !self.seen.contains(&e.id) && !fresh.iter().any(|f| f.id == e.id) {
                fresh.push(e);
            }
        }
        fresh.sort_by_key(|e| e.timestamp_millis);
        fresh
    }

    /// Takes one event returned by [`Tracker::absorb`].
    pub fn apply(&mut self, e: &StackEvent) {
        self.seen.insert(e.id.clone());
        self.newest = Some(
            self.newest
                .map_or(e.timestamp_millis, |n| n.max(e.timestamp_millis)),
        );
        if e.is_stack() && e.logical_id == self.stack {
            self.stack_event(e);
        } else {
            self.resource_event(e);
        }
    }

    fn stack_event(&mut self, e: &StackEvent) {
        if e.status.contains("ROLLBACK") {
            self.rolling_back = true;
        }
        let explains = e.status.ends_with("_FAILED") || e.status.contains("ROLLBACK_IN_PROGRESS");
        if explains && let Some(reason) = e.reason.as_deref().filter(|r| !r.trim().is_empty()) {
            self.add_stack_reason(reason);
        }
    }

    /// Adds a reason the stack gave, once.
    pub fn add_stack_reason(&mut self, reason: &str) {
        let reason = reason.trim();
        if !reason.is_empty() && !self.stack_reasons.iter().any(|r| r == reason) {
            self.stack_reasons.push(reason.to_owned());
        }
    }

    fn resource_event(&mut self, e: &StackEvent) {
        let status = e.status.as_str();
        if status.ends_with("_IN_PROGRESS") {
            self.in_flight
                .entry(e.logical_id.clone())
                .and_modify(|f| status.clone_into(&mut f.status))
                .or_insert_with(|| InFlight {
                    logical_id: e.logical_id.clone(),
                    resource_type: e.resource_type.clone(),
                    status: status.to_owned(),
                    since_millis: e.timestamp_millis,
                });
            return;
        }
        let terminal = status.ends_with("_COMPLETE")
            || status.ends_with("_FAILED")
            || status.ends_with("_SKIPPED");
        if !terminal {
            return;
        }
        self.in_flight.remove(&e.logical_id);
        if status.ends_with("_FAILED") {
            let duplicate = self.failures.iter().any(|f| {
                f.logical_id == e.logical_id && f.status == e.status && f.reason == e.reason
            });
            if !duplicate {
                self.failures.push(e.clone());
            }
        }
        if !self.rolling_back && !self.finished.contains_key(&e.logical_id) {
            self.finished
                .insert(e.logical_id.clone(), status.to_owned());
            self.total = self.total.max(self.finished.len());
        }
    }

    /// Where the operation stands.
    pub fn progress(&self) -> Progress {
        let mut in_progress: Vec<InFlight> = self.in_flight.values().cloned().collect();
        in_progress.sort_by(|a, b| {
            a.since_millis
                .cmp(&b.since_millis)
                .then_with(|| a.logical_id.cmp(&b.logical_id))
        });
        Progress {
            done: self.finished.len().min(self.total),
            total: self.total,
            in_progress,
        }
    }

    /// What the operation did, by each resource's first outcome before any rollback.
    pub fn counts(&self) -> ChangeCounts {
        let mut counts = ChangeCounts::default();
        for status in self.finished.values() {
            match status.as_str() {
                "CREATE_COMPLETE" => counts.created += 1,
                "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => counts.updated += 1,
                "DELETE_COMPLETE" => counts.deleted += 1,
                s if s.ends_with("_FAILED") => counts.failed += 1,
                _ => {}
            }
        }
        counts
    }

    /// Whether any resource failed.
    pub fn has_failures(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The failure report: every failed resource, the root cause first, with construct
    /// paths from `paths`.
    pub fn failure(
        &self,
        stack: &str,
        summary: String,
        status: &str,
        paths: &BTreeMap<String, String>,
    ) -> Failure {
        let root = self
            .failures
            .iter()
            .position(|f| !f.reason.as_deref().is_some_and(is_cancellation))
            .or(if self.failures.is_empty() {
                None
            } else {
                Some(0)
            });
        let mut order: Vec<usize> = (0..self.failures.len()).collect();
        if let Some(root) = root {
            order.retain(|i| *i != root);
            order.insert(0, root);
        }
        let resources = order
            .into_iter()
            .map(|i| {
                let e = &self.failures[i];
                FailedResource {
                    logical_id: e.logical_id.clone(),
                    resource_type: e.resource_type.clone(),
                    path: paths.get(&e.logical_id).cloned(),
                    status: e.status.clone(),
                    reason: e
                        .reason
                        .clone()
                        .unwrap_or_else(|| "(CloudFormation gave no reason)".to_owned()),
                    root_cause: Some(i) == root,
                    physical_id: e.physical_id.clone(),
                    stopped_tasks: Vec::new(),
                    tasks_error: None,
                }
            })
            .collect();
        Failure {
            stack: stack.to_owned(),
            summary,
            status: Some(status.to_owned()),
            stack_reasons: self.stack_reasons.clone(),
            resources,
            advice: None,
            detail: None,
            changes: self.counts(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u32, logical: &str, kind: &str, status: &str, reason: Option<&str>) -> StackEvent {
        StackEvent {
            id: format!("e{id}"),
            timestamp_millis: i64::from(id) * 1000,
            logical_id: logical.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: reason.map(str::to_owned),
            physical_id: None,
        }
    }

    const STACK: &str = "AWS::CloudFormation::Stack";

    /// Absorbs and applies a batch, as the engine does.
    fn feed(t: &mut Tracker, events: Vec<StackEvent>) -> Vec<StackEvent> {
        let fresh = t.absorb(events);
        for e in &fresh {
            t.apply(e);
        }
        fresh
    }

    #[test]
    fn tracks_what_is_in_progress_and_what_is_done() {
        let mut t = Tracker::new("S", 3);
        let fresh = feed(
            &mut t,
            vec![
                event(2, "Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", None),
                event(1, "S", STACK, "UPDATE_IN_PROGRESS", None),
                event(3, "Topic", "AWS::SNS::Topic", "UPDATE_IN_PROGRESS", None),
            ],
        );
        assert_eq!(
            fresh.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
            ["e1", "e2", "e3"]
        );
        let p = t.progress();
        assert_eq!((p.done, p.total), (0, 3));
        assert_eq!(
            p.in_progress
                .iter()
                .map(|f| (f.logical_id.as_str(), f.since_millis))
                .collect::<Vec<_>>(),
            [("Queue", 2000), ("Topic", 3000)]
        );
        // The same events again are not new.
        assert!(
            feed(
                &mut t,
                vec![event(
                    2,
                    "Queue",
                    "AWS::SQS::Queue",
                    "CREATE_IN_PROGRESS",
                    None
                )]
            )
            .is_empty()
        );
        feed(
            &mut t,
            vec![
                event(4, "Queue", "AWS::SQS::Queue", "CREATE_COMPLETE", None),
                event(5, "Topic", "AWS::SNS::Topic", "UPDATE_COMPLETE", None),
                event(6, "Old", "AWS::SNS::Topic", "DELETE_IN_PROGRESS", None),
                event(7, "Old", "AWS::SNS::Topic", "DELETE_COMPLETE", None),
            ],
        );
        let p = t.progress();
        assert_eq!((p.done, p.total), (3, 3));
        assert!(p.in_progress.is_empty());
        assert_eq!(
            t.counts(),
            ChangeCounts {
                created: 1,
                updated: 1,
                deleted: 1,
                failed: 0
            }
        );
        assert_eq!(t.counts().to_string(), "1 created, 1 updated, 1 deleted");
    }

    #[test]
    fn events_of_one_millisecond_keep_the_order_cloudformation_gave() {
        // Newest first, as DescribeStackEvents lists them: COMPLETE after IN_PROGRESS.
        let mut t = Tracker::new("S", 1);
        let mut done = event(2, "Q", "AWS::SQS::Queue", "CREATE_COMPLETE", None);
        done.timestamp_millis = 1000;
        let started = event(1, "Q", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", None);
        let fresh = feed(&mut t, vec![done, started]);
        assert_eq!(
            fresh.iter().map(|e| e.status.as_str()).collect::<Vec<_>>(),
            ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
        );
        assert!(t.progress().in_progress.is_empty());
        assert_eq!(t.newest_millis(), Some(1000));
    }

    #[test]
    fn a_nested_stack_is_a_resource_of_its_parent() {
        let mut t = Tracker::new("S", 1);
        feed(
            &mut t,
            vec![event(
                1,
                "Child",
                STACK,
                "CREATE_FAILED",
                Some("Embedded stack was not successfully created"),
            )],
        );
        let f = t.failure("S", "x".into(), "ROLLBACK_COMPLETE", &BTreeMap::new());
        assert_eq!(f.resources.len(), 1);
        assert!(f.stack_reasons.is_empty());
    }

    #[test]
    fn the_root_cause_is_the_first_failure_that_is_not_a_cancellation() {
        let mut t = Tracker::new("S", 3);
        feed(
            &mut t,
            vec![
                event(
                    1,
                    "A",
                    "AWS::EC2::Subnet",
                    "CREATE_FAILED",
                    Some("Resource creation cancelled"),
                ),
                event(
                    2,
                    "B",
                    "AWS::EC2::Subnet",
                    "CREATE_FAILED",
                    Some("The CIDR '10.9.0.0/24' is invalid."),
                ),
                event(
                    3,
                    "C",
                    "AWS::EC2::Subnet",
                    "CREATE_FAILED",
                    Some("The CIDR '10.8.0.0/24' is invalid."),
                ),
                event(
                    4,
                    "S",
                    STACK,
                    "ROLLBACK_IN_PROGRESS",
                    Some(
                        "The following resource(s) failed to create: [A, B, C]. Rollback requested by user.",
                    ),
                ),
                event(5, "B", "AWS::EC2::Subnet", "DELETE_COMPLETE", None),
            ],
        );
        let paths = BTreeMap::from([("B".to_owned(), "S/B/Resource".to_owned())]);
        let f = t.failure(
            "S",
            "create of S failed".into(),
            "ROLLBACK_COMPLETE",
            &paths,
        );
        assert_eq!(
            f.resources
                .iter()
                .map(|r| (r.logical_id.as_str(), r.root_cause))
                .collect::<Vec<_>>(),
            [("B", true), ("A", false), ("C", false)]
        );
        assert_eq!(t.counts().failed, 3);
        assert_eq!(
            f.to_string(),
            "create of S failed\n\
             stack:        S\n\
             final status: ROLLBACK_COMPLETE\n\
             stack reason: The following resource(s) failed to create: [A, B, C]. Rollback requested by user.\n\
             failed resources: 3\n\
             1. CREATE_FAILED  AWS::EC2::Subnet  B  (S/B/Resource)  <- root cause\n\
             \x20  The CIDR '10.9.0.0/24' is invalid.\n\
             2. CREATE_FAILED  AWS::EC2::Subnet  A\n\
             \x20  Resource creation cancelled\n\
             3. CREATE_FAILED  AWS::EC2::Subnet  C\n\
             \x20  The CIDR '10.8.0.0/24' is invalid."
        );
    }

    #[test]
    fn a_stack_reason_is_the_cause_when_no_resource_failed() {
        let mut t = Tracker::new("S", 1);
        feed(
            &mut t,
            vec![event(
                1,
                "S",
                STACK,
                "DELETE_FAILED",
                Some("Export S-Topic cannot be deleted as it is in use by T"),
            )],
        );
        let f = t.failure(
            "S",
            "delete of S failed".into(),
            "DELETE_FAILED",
            &BTreeMap::new(),
        );
        assert_eq!(
            f.root_cause().as_deref(),
            Some("Export S-Topic cannot be deleted as it is in use by T")
        );
        assert!(
            f.to_string()
                .contains("failed resources: none (the stack reason above is the cause)")
        );
    }

    #[test]
    fn ecs_service_arns_name_their_cluster() {
        assert_eq!(
            ecs_service("arn:aws:ecs:us-east-1:123456789012:service/omc/backend"),
            Some(("omc".into(), "backend".into()))
        );
        assert_eq!(
            ecs_service("arn:aws:ecs:us-east-1:123456789012:service/backend"),
            Some(("default".into(), "backend".into()))
        );
        assert_eq!(ecs_service("backend"), None);
    }
}
