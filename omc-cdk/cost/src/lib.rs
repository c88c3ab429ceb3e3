//! Monthly cost estimates from the synthesized templates: every line traced to a price
//! table entry (`omc-cdk/pricing/<region>.json`) and to an explicit usage assumption (crate
//! `omc-cdk-cost`, re-exported as `omc_cdk::cost`). Pure: it reads templates through the model
//! of `omc-cdk-template`; [`estimate_synthesis`] prices an app's synthesis.
//!
//! ```
//! use omc_cdk_core::{App, Environment, RawResource, Stack, StackProps};
//! let app = App::new();
//! let stack = Stack::new(&app, "Net", StackProps {
//!     env: Some(Environment::region("us-east-1")),
//!     ..StackProps::default()
//! })?;
//! stack.child("Nat")?.add("Resource", RawResource::new("AWS::EC2::NatGateway"))?;
//! let estimate = omc_cdk_cost::estimate_synthesis(
//!     &app.synth_unchecked()?, None, None, &omc_cdk_cost::Assumptions::default(),
//! )?;
//! // 730 hours at $0.045, and 10 GB processed at $0.045.
//! assert!((estimate.monthly() - 33.30).abs() < 0.01);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The same over templates of any origin:
//!
//! ```
//! use omc_cdk_cost::{Assumptions, estimate, tables_for};
//! use omc_cdk_template::{Stage, StackInput};
//! let template = serde_json::json!({"Resources": {"Nat": {"Type": "AWS::EC2::NatGateway"}}});
//! let regions = ["us-east-1".to_owned()];
//! let stacks = [StackInput { name: "Net", template: &template, stage: Stage::Production, paths: None }];
//! let estimate = estimate(&stacks, &regions, &tables_for(None, &regions), &Assumptions::default())?;
//! // 730 hours at $0.045, and 10 GB processed at $0.045.
//! assert!((estimate.monthly() - 33.30).abs() < 0.01);
//! # Ok::<(), omc_cdk_cost::CostError>(())
//! ```

mod prices;
mod pricing;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value as Json, json};

pub use prices::{Price, PriceTable};

use omc_cdk_core::{Synthesis, SynthesizedStack};
use omc_cdk_template::{Model, StackInput};

/// Hours in a month, as AWS prices them (24 × 365 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The usage assumptions, with their defaults and what they mean.
const ASSUMPTIONS: &[(&str, f64, &str)] = &[
    ("nat_gb", 10.0, "GB a month each NAT gateway processes"),
    (
        "alb_lcu",
        1.0,
        "LCUs each application load balancer uses on average",
    ),
    ("log_gb", 1.0, "GB a month ingested into each log group"),
    (
        "container_insights_cluster_metrics",
        11.0,
        "Container Insights metrics of each ECS cluster itself",
    ),
    (
        "container_insights_service_metrics",
        13.0,
        "Container Insights metrics of each ECS service",
    ),
    (
        "flow_log_gb",
        1.0,
        "GB a month of flow logs each flow log delivers",
    ),
    ("efs_gb", 5.0, "GB stored in each EFS file system"),
    ("s3_gb", 5.0, "GB stored in each S3 bucket"),
    ("ecr_gb", 5.0, "GB of images each repository stores"),
    (
        "scale_to_zero_node_hours",
        100.0,
        "node-hours a month of each node group that scales to zero",
    ),
    (
        "scheduled_task_minutes",
        10.0,
        "minutes each run of a scheduled task takes",
    ),
    (
        "guardduty_events_million",
        1.0,
        "million CloudTrail management events a month GuardDuty analyses",
    ),
    (
        "guardduty_log_gb",
        5.0,
        "GB a month of VPC flow and DNS logs GuardDuty analyses",
    ),
    (
        "config_items",
        1000.0,
        "configuration items a month AWS Config records",
    ),
    (
        "config_evaluations",
        100.0,
        "evaluations a month of each AWS Config rule",
    ),
    (
        "waf_requests_million",
        10.0,
        "million requests a month each WAF web ACL inspects",
    ),
];

/// One usage assumption.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumption {
    /// The key, such as `nat_gb`.
    pub key: &'static str,
    /// The value used.
    pub value: f64,
    /// The default.
    pub default: f64,
    /// What it means.
    pub description: &'static str,
}

/// The usage assumptions of an estimate: what the templates cannot say (traffic, stored
/// data, how long jobs run). Every one has a documented default and can be overridden.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumptions {
    values: Vec<Assumption>,
}

impl Default for Assumptions {
    fn default() -> Assumptions {
        Assumptions {
            values: ASSUMPTIONS
                .iter()
                .map(|&(key, value, description)| Assumption {
                    key,
                    value,
                    default: value,
                    description,
                })
                .collect(),
        }
    }
}

impl Assumptions {
    /// Sets one assumption; unknown keys and negative values are errors that list the keys.
    pub fn set(&mut self, key: &str, value: f64) -> Result<(), CostError> {
        if !value.is_finite() || value < 0.0 {
            return Err(CostError::AssumptionValue {
                key: key.to_owned(),
                value,
            });
        }
        let Some(a) = self.values.iter_mut().find(|a| a.key == key) else {
            return Err(CostError::UnknownAssumption {
                key: key.to_owned(),
                known: self.values.iter().map(|a| a.key).collect(),
            });
        };
        a.value = value;
        Ok(())
    }

    /// Applies `KEY=VALUE`.
    pub fn apply(&mut self, assignment: &str) -> Result<(), CostError> {
        let (key, value) =
            assignment
                .split_once('=')
                .ok_or_else(|| CostError::AssumptionSyntax {
                    assignment: assignment.to_owned(),
                })?;
        let number: f64 = value
            .trim()
            .parse()
            .map_err(|_| CostError::AssumptionNumber {
                assignment: assignment.to_owned(),
                value: value.to_owned(),
            })?;
        self.set(key.trim(), number)
    }

    /// The value of an assumption (0 for an unknown key).
    pub fn get(&self, key: &str) -> f64 {
        self.values
            .iter()
            .find(|a| a.key == key)
            .map_or(0.0, |a| a.value)
    }

    /// Every assumption, in documentation order.
    pub fn all(&self) -> &[Assumption] {
        &self.values
    }
}

/// One line of a resource's cost: a quantity of a price table entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    /// What is counted, with the assumption it uses.
    pub description: String,
    /// How many units a month.
    pub quantity: f64,
    /// The unit, from the price table.
    pub unit: String,
    /// The price table key.
    pub price_key: String,
    /// USD per unit.
    pub unit_price: f64,
    /// USD a month.
    pub monthly: f64,
}

/// What one resource costs a month.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceCost {
    /// The logical id.
    pub logical_id: String,
    /// The construct path, or `Stack/LogicalId`.
    pub path: String,
    /// The resource type.
    pub resource_type: String,
    /// The lines; empty when not priced.
    pub lines: Vec<Line>,
    /// Why the resource is not priced, when it is not.
    pub not_priced: Option<String>,
}

impl ResourceCost {
    /// USD a month.
    pub fn monthly(&self) -> f64 {
        self.lines
            .iter()
            .map(|l| l.monthly)
            .fold(0.0, |total, x| total + x)
    }
}

/// What one stack costs a month: its priced and not priced resources (free ones are left
/// out).
#[derive(Clone, Debug, PartialEq)]
pub struct StackCost {
    /// The stack.
    pub name: String,
    /// The region priced.
    pub region: String,
    /// Resources that cost something or could not be priced, in template order.
    pub resources: Vec<ResourceCost>,
    /// The logical ids of every resource of the stack, free ones included.
    pub present: Vec<String>,
}

impl StackCost {
    /// USD a month.
    pub fn monthly(&self) -> f64 {
        self.resources
            .iter()
            .map(ResourceCost::monthly)
            .fold(0.0, |total, x| total + x)
    }
}

/// A monthly estimate of some stacks.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The stacks, in deploy order.
    pub stacks: Vec<StackCost>,
    /// The assumptions used.
    pub assumptions: Assumptions,
    /// The price tables used: (region, file, oldest date).
    pub tables: Vec<(String, String, String)>,
}

impl Estimate {
    /// USD a month, all stacks.
    pub fn monthly(&self) -> f64 {
        self.stacks
            .iter()
            .map(StackCost::monthly)
            .fold(0.0, |total, x| total + x)
    }

    /// The stack of this name.
    pub fn stack(&self, name: &str) -> Option<&StackCost> {
        self.stacks.iter().find(|s| s.name == name)
    }

    /// The estimate as a table: per stack, per resource and line, totals, assumptions.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        for stack in &self.stacks {
            let _ = writeln!(out, "{} ({})", stack.name, stack.region);
            let mut not_priced = Vec::new();
            for r in &stack.resources {
                if let Some(reason) = &r.not_priced {
                    not_priced.push((r, reason));
                    continue;
                }
                let _ = writeln!(
                    out,
                    "  {:>9}  {} ({})",
                    money(r.monthly()),
                    r.path,
                    r.resource_type
                );
                for l in &r.lines {
                    let _ = writeln!(
                        out,
                        "  {:>9}    {}: {} × {} [{}]",
                        money(l.monthly),
                        l.description,
                        quantity(l.quantity),
                        unit_price(l.unit_price, &l.unit),
                        l.price_key
                    );
                }
            }
            for (r, reason) in not_priced {
                let _ = writeln!(
                    out,
                    "  not priced  {} ({}): {reason}",
                    r.path, r.resource_type
                );
            }
            let _ = writeln!(
                out,
                "  {:>9}  total {}\n",
                money(stack.monthly()),
                stack.name
            );
        }
        let _ = writeln!(out, "{:>11}  total a month", money(self.monthly()));
        let _ = writeln!(out, "\nAssumptions (change with --assume KEY=VALUE):");
        for a in self.assumptions.all() {
            let changed = if (a.value - a.default).abs() > f64::EPSILON {
                format!(" (default {})", quantity(a.default))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "  {} = {}{changed}: {}",
                a.key,
                quantity(a.value),
                a.description
            );
        }
        let _ = writeln!(
            out,
            "  a month is {HOURS_PER_MONTH} hours; on-demand prices, no free tier, no data transfer out"
        );
        for (region, file, date) in &self.tables {
            let _ = writeln!(out, "Prices: {file} ({region}, recorded {date})");
        }
        out
    }

    /// The estimate as JSON.
    pub fn to_json(&self) -> Json {
        json!({
            "currency": "USD",
            "monthly": cents(self.monthly()),
            "stacks": self.stacks.iter().map(|s| json!({
                "name": s.name,
                "region": s.region,
                "monthly": cents(s.monthly()),
                "resources": s.resources.iter().map(|r| json!({
                    "logicalId": r.logical_id,
                    "path": r.path,
                    "type": r.resource_type,
                    "monthly": cents(r.monthly()),
                    "notPriced": r.not_priced,
                    "lines": r.lines.iter().map(|l| json!({
                        "description": l.description,
                        "quantity": l.quantity,
                        "unit": l.unit,
                        "priceKey": l.price_key,
                        "unitPrice": l.unit_price,
                        "monthly": cents(l.monthly),
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "assumptions": self.assumptions.all().iter().map(|a| json!({
                "key": a.key, "value": a.value, "default": a.default, "description": a.description,
            })).collect::<Vec<_>>(),
            "priceTables": self.tables.iter().map(|(region, file, date)| json!({
                "region": region, "file": file, "checked": date,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Why an estimate could not be made, or why one of its inputs (a price table, an assumption)
/// is not valid. Each variant names the bad input and what to do.
///
/// Resources the price table cannot price are not errors: the estimate lists them as not
/// priced, with the reason ([`ResourceCost::not_priced`]), and prices the rest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CostError {
    /// [`estimate`] was given a different number of regions than stacks.
    #[error("{stacks} stacks but {regions} regions: give each stack its region")]
    RegionCount {
        /// How many stacks.
        stacks: usize,
        /// How many regions.
        regions: usize,
    },
    /// An environment-agnostic stack, priced without a region.
    #[error(
        "stack {stack} has no region (it is environment-agnostic); price it with --region REGION"
    )]
    NoRegion {
        /// The stack.
        stack: String,
    },
    /// A region omc-cdk has no price table for (and none was given).
    #[error(
        "there is no price table for region {region:?} (omc-cdk has: {}); add omc-cdk/pricing/{region}.json, pass --prices FILE, or price as another region with --region",
        .known.join(", ")
    )]
    NoPriceTable {
        /// The region.
        region: String,
        /// The regions omc-cdk has tables for.
        known: Vec<&'static str>,
    },
    /// A price table that is not JSON.
    #[error("{file} is not JSON: {source}")]
    PriceTableJson {
        /// The table's file.
        file: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A price table, or an entry of one, without a text field it needs.
    #[error("{file}: {entry} has no {key:?} string")]
    PriceTableField {
        /// The table's file.
        file: String,
        /// `the table`, or the price key of the entry.
        entry: String,
        /// The missing field: `currency`, `region`, `unit`, `date` or `source`.
        key: &'static str,
    },
    /// A price table without its `prices` object.
    #[error("{file}: the table has no \"prices\" object")]
    NoPrices {
        /// The table's file.
        file: String,
    },
    /// A price table in another currency than USD.
    #[error("{file}: prices must be in USD, not {currency:?}")]
    Currency {
        /// The table's file.
        file: String,
        /// Its currency.
        currency: String,
    },
    /// A price that is not a number of zero or more.
    #[error("{file}: {key} has the price {price}, which is not a price")]
    BadPrice {
        /// The table's file.
        file: String,
        /// The price key.
        key: String,
        /// The price as written (JSON).
        price: String,
    },
    /// An assumption set to a negative number, or to one that is not finite.
    #[error("assumption {key} = {value}: use a number of zero or more")]
    AssumptionValue {
        /// The assumption.
        key: String,
        /// The value.
        value: f64,
    },
    /// An assumption that does not exist.
    #[error("there is no assumption {key:?}; the assumptions are: {}", .known.join(", "))]
    UnknownAssumption {
        /// The key given.
        key: String,
        /// The assumptions there are.
        known: Vec<&'static str>,
    },
    /// An assignment that is not `KEY=VALUE`.
    #[error("{assignment:?} is not KEY=VALUE, such as nat_gb=50")]
    AssumptionSyntax {
        /// The assignment.
        assignment: String,
    },
    /// An assignment whose value is not a number.
    #[error("{assignment:?}: {value:?} is not a number")]
    AssumptionNumber {
        /// The assignment.
        assignment: String,
        /// The value as written.
        value: String,
    },
}

use omc_cdk_template::items;

/// Estimates stacks given as templates. `regions[i]` is the region of `stacks[i]`; `tables`
/// maps regions to price tables (built-in ones are loaded for regions missing there).
pub fn estimate(
    stacks: &[StackInput<'_>],
    regions: &[String],
    tables: &BTreeMap<String, PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    if regions.len() != stacks.len() {
        return Err(CostError::RegionCount {
            stacks: stacks.len(),
            regions: regions.len(),
        });
    }
    let mut loaded: BTreeMap<String, PriceTable> = tables.clone();
    for region in regions {
        if !loaded.contains_key(region) {
            loaded.insert(region.clone(), PriceTable::built_in(region)?);
        }
    }
    let model = Model::new(stacks);
    let mut out: Vec<StackCost> = stacks
        .iter()
        .zip(regions)
        .map(|(s, region)| StackCost {
            name: s.name.to_owned(),
            region: region.clone(),
            resources: Vec::new(),
            present: Vec::new(),
        })
        .collect();
    for view in model.resources() {
        let i = view.stack_index();
        out[i].present.push(view.logical_id().to_owned());
        let Some(table) = loaded.get(&out[i].region) else {
            continue;
        };
        let pricer = pricing::Pricer { table, assumptions };
        let (lines, not_priced) = match pricer.price(&view) {
            pricing::Pricing::Free => continue,
            pricing::Pricing::Lines(lines) => (lines, None),
            pricing::Pricing::NotPriced(reason) => (Vec::new(), Some(reason)),
        };
        out[i].resources.push(ResourceCost {
            logical_id: view.logical_id().to_owned(),
            path: view.path(),
            resource_type: view.type_name().to_owned(),
            lines,
            not_priced,
        });
    }
    let mut used: Vec<(String, String, String)> = Vec::new();
    for region in regions {
        if let Some(t) = loaded.get(region)
            && !used.iter().any(|(r, _, _)| r == region)
        {
            used.push((region.clone(), t.file.clone(), t.oldest_date().to_owned()));
        }
    }
    Ok(Estimate {
        stacks: out,
        assumptions: assumptions.clone(),
        tables: used,
    })
}

/// Estimates stacks, each given with its own environment's region (`None` for an
/// environment-agnostic stack): priced in `region` when given, else in its own (a stack
/// without one then needs `region`), with the table `prices` when given, else the built-in
/// table of the region.
pub fn estimate_in_regions(
    stacks: &[(StackInput<'_>, Option<&str>)],
    region: Option<&str>,
    prices: Option<&PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    let mut regions = Vec::new();
    for (s, own) in stacks {
        let r = match (region, own) {
            (Some(r), _) => r.to_owned(),
            (None, Some(own)) => (*own).to_owned(),
            (None, None) => {
                return Err(CostError::NoRegion {
                    stack: s.name.to_owned(),
                });
            }
        };
        regions.push(r);
    }
    let inputs: Vec<StackInput<'_>> = stacks.iter().map(|(s, _)| *s).collect();
    estimate(
        &inputs,
        &regions,
        &tables_for(prices, &regions),
        assumptions,
    )
}

/// The price tables for `regions` when one table is given for all of them (`--prices`);
/// empty otherwise, so [`estimate`] loads the built-in table of each region.
pub fn tables_for(prices: Option<&PriceTable>, regions: &[String]) -> BTreeMap<String, PriceTable> {
    let mut tables = BTreeMap::new();
    if let Some(table) = prices {
        for r in regions {
            let mut t = table.clone();
            t.region.clone_from(r);
            tables.insert(r.clone(), t);
        }
    }
    tables
}

/// How a resource's cost changed.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    /// The stack.
    pub stack: String,
    /// The construct path (of the new version when there is one).
    pub path: String,
    /// The resource type.
    pub resource_type: String,
    /// USD a month before.
    pub before: f64,
    /// USD a month after.
    pub after: f64,
    /// `added`, `removed`, `changed`, or `not priced` (new or changed, but the table cannot
    /// price it: the totals leave it out).
    pub change: &'static str,
}

/// The change in monthly cost from `before` to `after`, stack by stack and resource by
/// resource.
#[derive(Clone, Debug, PartialEq)]
pub struct CostDiff {
    /// (stack, before, after) totals; a stack only on one side has 0 on the other.
    pub stacks: Vec<(String, f64, f64)>,
    /// The resources whose cost changed, that appeared or went, or that cannot be priced.
    pub resources: Vec<ResourceChange>,
}

/// The priced (or not priced) resources of a stack, by logical id.
fn costs_by_id(s: Option<&StackCost>) -> BTreeMap<&str, &ResourceCost> {
    s.map(|s| {
        s.resources
            .iter()
            .map(|r| (r.logical_id.as_str(), r))
            .collect()
    })
    .unwrap_or_default()
}

impl CostDiff {
    /// Compares two estimates.
    pub fn between(before: &Estimate, after: &Estimate) -> CostDiff {
        let mut names: Vec<&str> = after.stacks.iter().map(|s| s.name.as_str()).collect();
        for s in &before.stacks {
            if !names.contains(&s.name.as_str()) {
                names.push(&s.name);
            }
        }
        let mut stacks = Vec::new();
        let mut resources = Vec::new();
        for name in names {
            let old = before.stack(name);
            let new = after.stack(name);
            stacks.push((
                name.to_owned(),
                old.map_or(0.0, StackCost::monthly),
                new.map_or(0.0, StackCost::monthly),
            ));
            let present = |s: Option<&StackCost>, id: &str| {
                s.is_some_and(|s| s.present.iter().any(|p| p == id))
            };
            let (old_costs, new_costs) = (costs_by_id(old), costs_by_id(new));
            let mut ids: Vec<&str> = new_costs.keys().chain(old_costs.keys()).copied().collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let a = old_costs.get(id);
                let b = new_costs.get(id);
                let (x, y) = (
                    a.map_or(0.0, |r| r.monthly()),
                    b.map_or(0.0, |r| r.monthly()),
                );
                let change = if b.is_some_and(|r| r.not_priced.is_some()) {
                    if a.is_some_and(|r| r.not_priced.is_some()) {
                        continue;
                    }
                    "not priced"
                } else if !present(old, id) {
                    "added"
                } else if !present(new, id) {
                    "removed"
                } else if (x - y).abs() >= 0.005 {
                    "changed"
                } else {
                    continue;
                };
                let (path, kind) = b
                    .or(a)
                    .map(|r| (r.path.clone(), r.resource_type.clone()))
                    .unwrap_or_default();
                resources.push(ResourceChange {
                    stack: name.to_owned(),
                    path,
                    resource_type: kind,
                    before: x,
                    after: y,
                    change,
                });
            }
        }
        CostDiff { stacks, resources }
    }

    /// The total before and after.
    pub fn totals(&self) -> (f64, f64) {
        self.stacks
            .iter()
            .fold((0.0, 0.0), |(a, b), (_, x, y)| (a + x, b + y))
    }

    /// The change as Markdown-friendly text, for a pull request comment.
    pub fn render(&self) -> String {
        let (before, after) = self.totals();
        let mut out = format!(
            "Monthly cost: {} -> {} ({})\n",
            money(before),
            money(after),
            signed(after - before)
        );
        for (name, x, y) in &self.stacks {
            if (x - y).abs() >= 0.005 {
                let _ = writeln!(
                    out,
                    "  {name}: {} -> {} ({})",
                    money(*x),
                    money(*y),
                    signed(y - x)
                );
            }
        }
        for r in &self.resources {
            let amount = if r.change == "not priced" {
                "?".to_owned()
            } else {
                signed(r.after - r.before)
            };
            let _ = writeln!(
                out,
                "  {amount:>10}  {} ({}) {} [{}]",
                r.path, r.resource_type, r.change, r.stack
            );
        }
        if self.resources.is_empty() {
            out.push_str("  no resource changes cost\n");
        }
        out
    }
}

fn money(value: f64) -> String {
    format!("${value:.2}")
}

fn signed(value: f64) -> String {
    if value < 0.0 {
        format!("-${:.2}", -value)
    } else {
        format!("+${value:.2}")
    }
}

fn cents(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn quantity(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded}")
    }
}

fn unit_price(price: f64, unit: &str) -> String {
    format!("${price} per {unit}")
}

/// Estimates a synthesis: each stack priced in `region` when given, else in its own
/// environment's region (an environment-agnostic stack then needs `region`), with the table
/// `prices` when given, else the built-in table of the region.
pub fn estimate_synthesis(
    synthesis: &Synthesis,
    region: Option<&str>,
    prices: Option<&PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    let stacks: Vec<&SynthesizedStack> = synthesis.stacks().iter().collect();
    estimate_stacks(&stacks, region, prices, assumptions)
}

/// [`estimate_synthesis`] for some stacks of a synthesis.
pub fn estimate_stacks(
    stacks: &[&SynthesizedStack],
    region: Option<&str>,
    prices: Option<&PriceTable>,
    assumptions: &Assumptions,
) -> Result<Estimate, CostError> {
    let regions: Vec<Option<String>> = stacks
        .iter()
        .map(|s| s.env().and_then(|e| e.region.clone()))
        .collect();
    let inputs: Vec<(StackInput<'_>, Option<&str>)> = stacks
        .iter()
        .zip(&regions)
        .map(|(s, own)| {
            (
                StackInput {
                    name: s.name(),
                    template: s.json(),
                    stage: s.stage(),
                    paths: Some(s.paths()),
                },
                own.as_deref(),
            )
        })
        .collect();
    estimate_in_regions(&inputs, region, prices, assumptions)
}
