//! AWS Budgets: a monthly cost budget of the account that alerts the alarm topic.

use omc_cdk::{Result, Scope};
use omc_cfn::budgets;

use crate::monitoring::Monitoring;
use crate::util;

/// How a budget is created.
#[derive(Clone, Debug)]
pub struct BudgetProps<'a> {
    /// The budget's name, unique in the account: up to 100 characters, without `:` or `\`.
    pub budget_name: String,
    /// The monthly limit in US dollars: the `cost` estimate plus a margin is a good start.
    pub monthly_limit_usd: u32,
    /// Percentages of the limit whose actual spend notifies the topic. Default: 80 and 100.
    pub actual_percent: Vec<u32>,
    /// A percentage of the limit that the month's forecast reaching it notifies, days before the
    /// spend does. Default: 100.
    pub forecast_percent: Option<u32>,
    /// Where the notifications go: the alarm topic (and so its e-mail and chat subscribers).
    pub monitoring: &'a Monitoring,
}

impl<'a> BudgetProps<'a> {
    /// A budget `budget_name` of `monthly_limit_usd` a month, notifying `monitoring`'s topic at
    /// 80 % and 100 % of actual spend and at a forecast of 100 %.
    pub fn new(
        budget_name: impl Into<String>,
        monthly_limit_usd: u32,
        monitoring: &'a Monitoring,
    ) -> BudgetProps<'a> {
        BudgetProps {
            budget_name: budget_name.into(),
            monthly_limit_usd,
            actual_percent: vec![80, 100],
            forecast_percent: Some(100),
            monitoring,
        }
    }
}

/// A monthly cost budget of the whole account (each OMC environment has its own account) whose
/// notifications go to the alarm topic: AWS Budgets publishes to it (the topic and key policies
/// let `budgets.amazonaws.com` in). The first two budgets of an account are free.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Budget, BudgetProps, Monitoring, MonitoringProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Ops", StackProps::default())?;
/// let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
/// Budget::new(&stack, "Budget", BudgetProps::new("omc-staging", 250, &monitoring))?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::Budgets::Budget", json!({
///     "Budget": {"BudgetLimit": {"Amount": 250.0, "Unit": "USD"}, "TimeUnit": "MONTHLY"}
/// }))?;
/// let err = Budget::new(&stack, "Zero", BudgetProps::new("omc-zero", 0, &monitoring)).unwrap_err();
/// assert_eq!(err.to_string(), "Ops/Zero: monthly_limit_usd is 0: a budget of $0 would alert on the first cent: give the expected monthly cost plus a margin (the `cost` command estimates it)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Budget {
    scope: Scope,
    name: String,
}

impl Budget {
    /// Creates the budget and its notifications.
    pub fn new(scope: &Scope, id: &str, props: BudgetProps<'_>) -> Result<Budget> {
        let path = util::path(scope, id);
        let name = &props.budget_name;
        if name.is_empty() || name.chars().count() > 100 || name.contains([':', '\\']) {
            return Err(util::invalid_prop(
                &path,
                "budget_name",
                name,
                format!("budget name {name:?} must be 1 to 100 characters without ':' or '\\'"),
            ));
        }
        if props.monthly_limit_usd == 0 {
            return Err(util::invalid_prop(
                &path,
                "monthly_limit_usd",
                "0",
                "monthly_limit_usd is 0: a budget of $0 would alert on the first cent: give the expected monthly cost plus a margin (the `cost` command estimates it)",
            ));
        }
        if props.actual_percent.is_empty() && props.forecast_percent.is_none() {
            return Err(util::invalid_prop(
                &path,
                "actual_percent",
                "[]",
                "a budget without thresholds (actual_percent empty, forecast_percent None) notifies nobody: give percentages of the limit, such as [80, 100], or a forecast_percent",
            ));
        }
        for percent in props.actual_percent.iter().chain(&props.forecast_percent) {
            if *percent == 0 || *percent > 1000 {
                return Err(util::invalid_prop(
                    &path,
                    "actual_percent",
                    percent.to_string(),
                    format!(
                        "threshold {percent} % is out of range: give a percentage of the limit from 1 to 1000"
                    ),
                ));
            }
        }
        let scope = scope.child(id)?;
        props.monitoring.allow_publisher("budgets.amazonaws.com");
        let topic = props.monitoring.alarm_topic_arn();
        let notification = |kind: &str, percent: u32| {
            budgets::budget::NotificationWithSubscribers::new(
                budgets::budget::Notification {
                    threshold_type: Some("PERCENTAGE".into()),
                    ..budgets::budget::Notification::new("GREATER_THAN", kind, f64::from(percent))
                },
                vec![budgets::budget::Subscriber::new(topic.clone(), "SNS")],
            )
        };
        let mut notifications: Vec<_> = props
            .actual_percent
            .iter()
            .map(|p| notification("ACTUAL", *p))
            .collect();
        if let Some(percent) = props.forecast_percent {
            notifications.push(notification("FORECASTED", percent));
        }
        scope.add(
            "Resource",
            budgets::Budget {
                notifications_with_subscribers: Some(notifications.into()),
                ..budgets::Budget::new(budgets::budget::BudgetData {
                    budget_name: Some(name.as_str().into()),
                    budget_limit: Some(
                        budgets::budget::Spend::new(f64::from(props.monthly_limit_usd), "USD")
                            .into(),
                    ),
                    ..budgets::budget::BudgetData::new("COST", "MONTHLY")
                })
            },
        )?;
        Ok(Budget {
            scope,
            name: props.budget_name,
        })
    }

    /// The budget's name.
    pub fn budget_name(&self) -> &str {
        &self.name
    }
}

impl omc_cdk::Construct for Budget {
    fn node(&self) -> &omc_cdk::Scope {
        &self.scope
    }
}
