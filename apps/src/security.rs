//! `<Prefix>-Security`: the account's security baseline.

use omc_cdk::{App, Result};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, Key, Monitoring, SecurityBaseline,
    SecurityBaselineProps, ServerAccessLogs,
};

use crate::config::Config;

/// The security stack: a multi-region CloudTrail trail with log file validation into an
/// encrypted, private, TLS-only bucket, its log files encrypted with the environment's logs key
/// and the bucket's server access logs in an access-log bucket of this stack; a GuardDuty
/// detector; AWS Config with managed rules.
///
/// The access-log bucket is this stack's own (the services stack has another for the load
/// balancer's log bucket): an access-log bucket's policy names each source bucket's ARN, so a
/// shared one in the network stack would depend on the stacks that depend on it.
/// GuardDuty findings of medium severity and up and Config rules turning non-compliant go to
/// the alarm topic (rules in the monitoring stack).
pub(crate) fn security(
    app: &App,
    config: &Config,
    monitoring: &Monitoring,
    logs_key: &Key,
) -> Result<SecurityBaseline> {
    let stack = crate::stack(app, config, "Security", "CloudTrail, GuardDuty, AWS Config")?;
    let access_logs = AccessLogBucket::new(
        &stack,
        "AccessLogs",
        AccessLogBucketProps::new(crate::access_log_days(config)),
    )?;
    let baseline = SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps {
            log_retention_days: if config.protect_data { 2555 } else { 365 },
            trail_key: Some(logs_key.clone()),
            access_logs: Some(ServerAccessLogs::new(&access_logs, "trail/")),
            ..SecurityBaselineProps::new(format!("omc-{}-trail", config.stage.name()))
        },
    )?;
    baseline.add_alerts(monitoring)?;
    Ok(baseline)
}
