//! `<Prefix>-Monitoring`: CloudWatch alarms and a dashboard (instead of Prometheus and Grafana).

use omc_cdk::{App, Result};
use omc_constructs::{Monitoring, MonitoringProps};

use crate::config::Config;
use crate::data::Data;
use crate::services::Services;

/// The monitoring stack: an SNS alarm topic (e-mailed to the platform team), alarms on the
/// load balancer's 5xx and latency, every service's CPU and memory, the database's CPU, free
/// storage and connections and the cache's CPU and memory, and a dashboard of them all.
pub(crate) fn monitoring(
    app: &App,
    config: &Config,
    data: &Data,
    services: &Services,
) -> Result<Monitoring> {
    let stack = crate::stack(app, config, "Monitoring", "CloudWatch alarms and dashboard")?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: config.alarm_email.clone(),
            dashboard_name: Some(config.stack_name("Dashboard")),
            ..MonitoringProps::default()
        },
    )?;
    services.load_balancer.add_alarms(&monitoring)?;
    for service in [
        &services.backend,
        &services.frontend,
        &services.stream_collector,
        &services.agents,
    ] {
        service.add_alarms(&monitoring)?;
    }
    data.database
        .add_alarms(&monitoring, config.database.max_connections_alarm)?;
    data.cache.add_alarms(&monitoring)?;
    Ok(monitoring)
}
