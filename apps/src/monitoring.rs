//! `<Prefix>-Monitoring`: CloudWatch alarms and a dashboard (instead of Prometheus and Grafana),
//! and everything that must reach a person: alarms, security findings, failed scheduled runs
//! and the monthly budget go to one topic, e-mailed (and posted to Slack when configured).

use omc_cdk::{App, Result, Stack};
use omc_constructs::{Budget, BudgetProps, Monitoring, MonitoringProps};

use crate::config::Config;
use crate::data::Data;
use crate::services::Services;

/// The monitoring stack: an SNS alarm topic (e-mailed to the platform team, and posted to
/// Slack through AWS Chatbot when `config.slack` is set), alarms on the load balancer's 5xx and
/// latency, every service's CPU and memory, tasks running below the desired count and unhealthy
/// targets, the database's CPU, free storage and connections, the cache's CPU and memory, every
/// scheduled collector's failed runs (an EventBridge rule) and dead-letter queue, and a
/// dashboard of them all.
pub(crate) fn monitoring(
    app: &App,
    config: &Config,
    data: &Data,
    services: &Services,
) -> Result<(Stack, Monitoring)> {
    let stack = crate::stack(
        app,
        config,
        "Monitoring",
        "CloudWatch alarms and dashboard, alerts, budget",
    )?;
    let monitoring = Monitoring::new(
        &stack,
        "Monitoring",
        MonitoringProps {
            alarm_email: config.alarm_email.clone(),
            dashboard_name: Some(config.stack_name("Dashboard")),
            slack: config.slack.clone(),
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
    for task in &services.scheduled {
        task.add_alarms(&monitoring)?;
    }
    data.database
        .add_alarms(&monitoring, config.database.max_connections_alarm)?;
    data.cache.add_alarms(&monitoring)?;
    Ok((stack, monitoring))
}

/// The monthly budget of the environment's account, in the monitoring stack: the `cost`
/// estimate of everything else the app deploys, plus `config.budget_margin_percent`, rounded up
/// to $10; notifications at 80 % and 100 % of actual spend and at a 100 % forecast go to the
/// alarm topic. Added last, from a synthesis of every other stack (the budget itself is free).
pub(crate) fn budget(
    config: &Config,
    synthesis: &omc_cdk::Synthesis,
    stack: &Stack,
    monitoring: &Monitoring,
) -> Result<Budget> {
    let limit = crate::budget_limit(synthesis, config.budget_margin_percent)?;
    Budget::new(
        stack,
        "Budget",
        BudgetProps::new(
            format!("omc-{}-monthly", config.stage.name()),
            limit,
            monitoring,
        ),
    )
}
