//! `<Prefix>-Security`: the account's security baseline.

use omc_cdk::{App, Result};
use omc_constructs::{Monitoring, SecurityBaseline, SecurityBaselineProps};

use crate::config::Config;

/// The security stack: a multi-region CloudTrail trail with log file validation into an
/// encrypted, private, TLS-only bucket; a GuardDuty detector; AWS Config with managed rules.
/// GuardDuty findings of medium severity and up and Config rules turning non-compliant go to
/// the alarm topic (rules in the monitoring stack).
pub(crate) fn security(
    app: &App,
    config: &Config,
    monitoring: &Monitoring,
) -> Result<SecurityBaseline> {
    let stack = crate::stack(app, config, "Security", "CloudTrail, GuardDuty, AWS Config")?;
    let baseline = SecurityBaseline::new(
        &stack,
        "Baseline",
        SecurityBaselineProps {
            log_retention_days: if config.protect_data { 2555 } else { 365 },
            ..SecurityBaselineProps::new(format!("omc-{}-trail", config.stage.name()))
        },
    )?;
    baseline.add_alerts(monitoring)?;
    Ok(baseline)
}
