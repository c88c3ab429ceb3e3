//! Property tests of synthesis: random construct graphs, built through the public API.
//!
//! A strategy generates a [`Plan`], plain data: stacks (ASCII, Unicode and invalid names,
//! environments, tags), parameters, conditions, resources under nested scopes (construct ids
//! of every kind: Unicode, empty, with `/`, too long, `Default`), references between
//! resources inside and across stacks (to resources added later, never added, of another app,
//! to themselves), `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, `DependsOn`, escape-hatch
//! overrides, logical id overrides, outputs with exports, and explicit stack dependencies, so
//! cycles between resources and between stacks arise. [`build`] makes the API calls the plan
//! describes, checks the outcome of each (an id the rules refuse must be refused with a typed
//! error that names it), and records what was built. [`Model`] predicts, from that record
//! alone, every problem synthesis must report. Half the plans are wild (every fault above);
//! half are tame (valid names, references only to what was built before), so that a good part
//! synthesizes and its templates are checked (`generator_statistics` prints the mix).
//!
//! The properties:
//! 1. building and synthesizing never panic, and every error is typed;
//! 2. the same plan synthesizes to the same bytes (templates, files, manifest, check report)
//!    and the same errors;
//! 3. every reference resolves or is reported: a synthesis that succeeds has only references
//!    that resolve (checked on the JSON, independently of the library's validator), and a
//!    synthesis of a plan with dangling references, cycles or other faults fails with exactly
//!    the problems the model predicts, each of the right kind and naming the culprit.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256); `.ci/run` runs 10,000 of each.

#![allow(
    // A test: a failed expectation panics, and proptest reports it with the minimal plan.
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::similar_names,
    clippy::match_same_arms,
    // Indexes of stacks, resources and conditions read best as `s`, `r`, `c`; the graph code
    // indexes its matrices.
    clippy::many_single_char_names,
    clippy::needless_range_loop,
    clippy::cast_precision_loss
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use omc_cdk_core::{
    App, AppSettings, Condition, ConditionExpr, CrossStackReferences, Environment, Error, Expr,
    IndexMap, IntoNode, Intrinsic, Node, OutputProps, Parameter, ParameterProps, ParameterType,
    PathMetadata, Problem, ProblemKind, RawResource, RefTarget, Resource, Scope, Stack, StackProps,
    Synthesis, TagFormat, Value, aws, fns, id,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value as Json;

// ---------------------------------------------------------------------------------------------
// The plan: what to build, as plain data.

const STACK_NAMES: &[&str] = &["Network", "Data", "App-1", "Web", "Edge-2", "network"];
const BAD_STACK_NAMES: &[&str] = &["", "1st", "my_stack", "Störe", "a b", "-x"];
const CONSTRUCT_IDS: &[&str] = &[
    "Bucket", "Queue", "Db", "A1", "Topic", "Größe", "😀x", "Ωmega", "café-1", "Vpc", "Logs",
];
/// Ids that collide once reduced to a logical id ("A-1" and "A1"), that logical ids leave out
/// ("Default", "Resource"), that reduce to nothing, and invalid ones.
const TRICKY_IDS: &[&str] = &[
    "A-1",
    "Default",
    "Resource",
    "x",
    "データ",
    "\u{200B}",
    "tab\tid",
    "..",
    "",
    "a/b",
    "/",
];
const ELEMENT_NAMES: &[&str] = &["Env", "Stage", "Flag", "IsProd", "Out1", "P1", "Bucket"];
const BAD_ELEMENT_NAMES: &[&str] = &["", "a-b", "Ünï", "x y"];
/// Resource types: valid ones the check rules look at, a custom type, and invalid names.
const TYPES: &[&str] = &[
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::S3::Bucket",
    "AWS::RDS::DBInstance",
    "AWS::EC2::SecurityGroup",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "Custom::Thing",
    // Invalid type names: the last two.
    "AWS::Bad",
    "not a type",
];
/// Property names, some of which the check rules read.
const KEYS: &[&str] = &[
    "Name",
    "KmsMasterKeyId",
    "StorageEncrypted",
    "SecurityGroupIngress",
    "PolicyDocument",
    "PubliclyAccessible",
    "Encrypted",
    "Value",
    "Größe",
];
const MAP_KEYS: &[&str] = &[
    "Effect",
    "Action",
    "Resource",
    "Statement",
    "Key",
    "Value",
    "CidrIp",
    "IpProtocol",
    "Ünï",
];
const STRINGS: &[&str] = &[
    "*",
    "Allow",
    "0.0.0.0/0",
    "tcp",
    "",
    "ünïcödé ✓",
    "${NotASub}",
    "alias/aws/sqs",
    "\"quoted\"",
    "line\nbreak",
];
const SUB_TEXT: &[&str] = &["arn:", "-", "/", "ü ", " "];
const ATTRS: &[&str] = &["Arn", "QueueUrl", "Endpoint.Address", "Ünï"];
/// Names written by hand (`Ref` by logical id, `DependsOn`, `Fn::Sub` variables).
const RAW_NAMES: &[&str] = &[
    "Nope",
    "Missing1",
    "AWS::Region",
    "AWS::Bogus",
    "Env",
    "Bucket",
];
const CONDITION_NAMES: &[&str] = &["Env", "NoSuchCondition", "IsProd"];
const EXPORT_NAMES: &[&str] = &["shared-export", "other-export", "ünï-export"];
const OVERRIDE_SUBKEYS: &[&str] = &["0", "1", "Sub"];
const PSEUDOS: &[&str] = &[
    "AWS::Region",
    "AWS::AccountId",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
];
/// Environments: agnostic, two regions, an account, and two invalid ones.
const ENVS: &[Option<(Option<&str>, &str)>] = &[
    None,
    Some((None, "eu-west-1")),
    Some((Some("111111111111"), "eu-west-1")),
    Some((None, "us-east-1")),
    Some((Some("123"), "eu-west-1")),
    Some((None, "EU")),
];
/// Stack tags; the last two are invalid.
const TAGS: &[(&str, &str)] = &[
    ("Project", "omc"),
    ("Team", "ünï"),
    ("", "empty key"),
    ("aws:owner", "reserved"),
];

#[derive(Clone, Debug)]
struct Plan {
    wild: bool,
    weak: bool,
    path_metadata: bool,
    stacks: Vec<StackPlan>,
}

#[derive(Clone, Debug)]
struct StackPlan {
    name: String,
    env: usize,
    tag: Option<usize>,
    params: Vec<ParamPlan>,
    conditions: Vec<CondPlan>,
    resources: Vec<ResPlan>,
    outputs: Vec<OutPlan>,
    dependencies: Vec<StackDepPlan>,
}

#[derive(Clone, Debug)]
struct ParamPlan {
    name: String,
    list: bool,
}

#[derive(Clone, Debug)]
struct CondPlan {
    name: String,
    expr: CondExprPlan,
}

/// Conditions refer to parameters by index and to earlier conditions of their stack by index
/// (taken modulo what exists).
#[derive(Clone, Debug)]
enum CondExprPlan {
    EqParam(usize, &'static str),
    EqRegion(&'static str),
    EqForeignParam { back: usize, param: usize },
    EqGhostParam,
    EqResource(TargetPlan),
    Not(usize),
    And(Vec<usize>),
    Or(Vec<usize>),
}

/// A resource: `back` stacks before the one using it (wrapping around, so later stacks too),
/// any of its resources (added yet or not); or a resource of another app.
#[derive(Clone, Debug)]
enum TargetPlan {
    Res {
        back: usize,
        res: usize,
    },
    /// A resource built before: of the same stack, added before the resource being built, or
    /// of a stack `back` before (not wrapping around). References to these make no cycle.
    Prior {
        back: usize,
        res: usize,
    },
    Ghost,
}

/// A condition: `back` stacks before the one using it, any of its conditions; or a condition of
/// another app.
#[derive(Clone, Debug)]
enum CondRefPlan {
    Cond { back: usize, cond: usize },
    Ghost,
}

/// A name written by hand: a resource's logical id (as it is when the value is built), a
/// parameter's name, or a fixed string.
#[derive(Clone, Debug)]
enum NamePlan {
    Of(TargetPlan),
    Param(usize),
    Raw(&'static str),
}

#[derive(Clone, Debug)]
enum SubPart {
    Text(&'static str),
    Name(NamePlan),
    Attr(NamePlan, &'static str),
    Var(usize),
    Escaped,
}

#[derive(Clone, Debug)]
enum ValPlan {
    Str(&'static str),
    Int(i64),
    Float(f64),
    List(Vec<ValPlan>),
    Map(Vec<(&'static str, ValPlan)>),
    Ref(TargetPlan),
    GetAtt(TargetPlan, &'static str),
    GetAttList(TargetPlan),
    Param { back: usize, param: usize },
    GhostParam,
    Pseudo(usize),
    ByName(NamePlan),
    Sub(Vec<SubPart>, Vec<ValPlan>),
    Join(Vec<ValPlan>),
    If(CondRefPlan, Box<ValPlan>, Box<ValPlan>),
}

#[derive(Clone, Debug)]
struct ResPlan {
    scope: Vec<String>,
    id: String,
    kind: usize,
    props: Vec<(&'static str, ValPlan)>,
    late: Vec<LatePlan>,
}

#[derive(Clone, Debug)]
enum OverridePath {
    Prop(&'static str),
    Nested(&'static str, &'static str),
    Meta(&'static str),
}

#[derive(Clone, Debug)]
enum CondNamePlan {
    Local(usize),
    Raw(&'static str),
}

/// What is done to a resource once every resource exists.
#[derive(Clone, Debug)]
enum LatePlan {
    SetCondition(CondRefPlan),
    DependsOn(TargetPlan),
    Set(OverridePath, ValPlan),
    Delete(OverridePath),
    DependsOnNames(Vec<NamePlan>),
    ConditionName(CondNamePlan),
    DeleteAttribute(&'static str),
    Update(&'static str, ValPlan),
    LogicalId(String),
    Metadata(&'static str, ValPlan),
    UpdatePolicy(ValPlan),
}

#[derive(Clone, Debug)]
struct OutPlan {
    name: String,
    value: ValPlan,
    export: Option<&'static str>,
    condition: Option<CondRefPlan>,
    long_description: bool,
}

#[derive(Clone, Debug)]
enum StackDepPlan {
    /// `back` stacks before, wrapping around to later stacks.
    Back(usize),
    /// `back` stacks before, if there is one.
    Earlier(usize),
    Ghost,
}

// ---------------------------------------------------------------------------------------------
// Strategies. Half the plans are wild (every fault the generator knows), half are tame: valid
// names, and references only to what was built before (the resource's own stack, or an earlier
// stack), so that they mostly synthesize and the templates can be checked.

fn stack_name(wild: bool) -> BoxedStrategy<String> {
    if !wild {
        return select(STACK_NAMES).prop_map(str::to_owned).boxed();
    }
    prop_oneof![
        12 => select(STACK_NAMES).prop_map(str::to_owned),
        1 => select(BAD_STACK_NAMES).prop_map(str::to_owned),
        1 => (127usize..130).prop_map(|n| "S".repeat(n)),
    ]
    .boxed()
}

fn construct_id(wild: bool) -> BoxedStrategy<String> {
    if !wild {
        return select(CONSTRUCT_IDS).prop_map(str::to_owned).boxed();
    }
    prop_oneof![
        10 => select(CONSTRUCT_IDS).prop_map(str::to_owned),
        4 => select(TRICKY_IDS).prop_map(str::to_owned),
        1 => (250usize..300).prop_map(|n| "L".repeat(n)),
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

fn element_name(wild: bool) -> BoxedStrategy<String> {
    if !wild {
        return select(ELEMENT_NAMES).prop_map(str::to_owned).boxed();
    }
    prop_oneof![
        12 => select(ELEMENT_NAMES).prop_map(str::to_owned),
        2 => select(BAD_ELEMENT_NAMES).prop_map(str::to_owned),
        1 => (254usize..258).prop_map(|n| "E".repeat(n)),
        1 => "\\PC{0,4}",
    ]
    .boxed()
}

fn target(wild: bool) -> BoxedStrategy<TargetPlan> {
    let prior = (0usize..3, any::<usize>()).prop_map(|(back, res)| TargetPlan::Prior { back, res });
    if !wild {
        return prior.boxed();
    }
    prop_oneof![
        6 => any::<usize>().prop_map(|res| TargetPlan::Res { back: 0, res }),
        3 => (1usize..4, any::<usize>()).prop_map(|(back, res)| TargetPlan::Res { back, res }),
        3 => prior,
        1 => Just(TargetPlan::Ghost),
    ]
    .boxed()
}

fn cond_ref(wild: bool) -> BoxedStrategy<CondRefPlan> {
    let local = any::<usize>().prop_map(|cond| CondRefPlan::Cond { back: 0, cond });
    if !wild {
        return local.boxed();
    }
    prop_oneof![
        8 => local,
        1 => (1usize..4, any::<usize>()).prop_map(|(back, cond)| CondRefPlan::Cond { back, cond }),
        1 => Just(CondRefPlan::Ghost),
    ]
    .boxed()
}

fn name_plan(wild: bool) -> BoxedStrategy<NamePlan> {
    let own = (any::<usize>()).prop_map(|res| NamePlan::Of(TargetPlan::Prior { back: 0, res }));
    if !wild {
        return prop_oneof![3 => own, 1 => any::<usize>().prop_map(NamePlan::Param)].boxed();
    }
    prop_oneof![
        4 => target(true).prop_map(NamePlan::Of),
        2 => own,
        1 => any::<usize>().prop_map(NamePlan::Param),
        2 => select(RAW_NAMES).prop_map(NamePlan::Raw),
    ]
    .boxed()
}

fn sub_part(wild: bool) -> BoxedStrategy<SubPart> {
    if !wild {
        return prop_oneof![
            3 => select(SUB_TEXT).prop_map(SubPart::Text),
            3 => name_plan(false).prop_map(SubPart::Name),
            1 => name_plan(false).prop_map(|n| SubPart::Attr(n, "Arn")),
            1 => Just(SubPart::Escaped),
        ]
        .boxed();
    }
    prop_oneof![
        3 => select(SUB_TEXT).prop_map(SubPart::Text),
        3 => name_plan(true).prop_map(SubPart::Name),
        1 => (name_plan(true), select(ATTRS)).prop_map(|(n, a)| SubPart::Attr(n, a)),
        2 => (0usize..3).prop_map(SubPart::Var),
        1 => Just(SubPart::Escaped),
    ]
    .boxed()
}

/// Values CloudFormation types as strings.
fn str_val(depth: u32, wild: bool) -> BoxedStrategy<ValPlan> {
    let leaf = prop_oneof![
        4 => select(STRINGS).prop_map(ValPlan::Str),
        4 => target(wild).prop_map(ValPlan::Ref),
        2 => (target(wild), select(ATTRS)).prop_map(|(t, a)| ValPlan::GetAtt(t, a)),
        2 => (0usize..if wild { 3 } else { 1 }, any::<usize>())
            .prop_map(|(back, param)| ValPlan::Param { back, param }),
        u32::from(wild) => Just(ValPlan::GhostParam),
        1 => (0..PSEUDOS.len()).prop_map(ValPlan::Pseudo),
        2 => name_plan(wild).prop_map(ValPlan::ByName),
        2 => prop::collection::vec(sub_part(wild), 0..4).prop_map(|p| ValPlan::Sub(p, Vec::new())),
    ]
    .boxed();
    if depth == 0 {
        return leaf;
    }
    prop_oneof![
        8 => leaf,
        1 => prop::collection::vec(str_val(depth - 1, wild), 0..3).prop_map(ValPlan::Join),
        2 => (cond_ref(wild), str_val(depth - 1, wild), str_val(depth - 1, wild))
            .prop_map(|(c, a, b)| ValPlan::If(c, Box::new(a), Box::new(b))),
        1 => (
            prop::collection::vec(sub_part(wild), 0..4),
            prop::collection::vec(str_val(depth - 1, wild), 1..3)
        )
            .prop_map(|(mut p, v)| {
                p.push(SubPart::Var(0));
                ValPlan::Sub(p, v)
            }),
    ]
    .boxed()
}

/// Any property value.
fn any_val(depth: u32, wild: bool) -> BoxedStrategy<ValPlan> {
    let float = prop_oneof![
        4 => (-1.0e6f64..1.0e6).prop_map(ValPlan::Float),
        u32::from(wild) => Just(ValPlan::Float(f64::NAN)),
        u32::from(wild) => Just(ValPlan::Float(f64::INFINITY)),
    ];
    let flat = prop_oneof![
        10 => str_val(depth, wild),
        1 => any::<i64>().prop_map(ValPlan::Int),
        1 => float,
        1 => target(wild).prop_map(ValPlan::GetAttList),
    ];
    if depth == 0 {
        return flat.boxed();
    }
    prop_oneof![
        6 => flat,
        1 => prop::collection::vec(any_val(depth - 1, wild), 0..3).prop_map(ValPlan::List),
        1 => prop::collection::vec((select(MAP_KEYS), any_val(depth - 1, wild)), 0..3)
            .prop_map(ValPlan::Map),
        1 => (cond_ref(wild), any_val(depth - 1, wild), any_val(depth - 1, wild))
            .prop_map(|(c, a, b)| ValPlan::If(c, Box::new(a), Box::new(b))),
    ]
    .boxed()
}

fn cond_expr(wild: bool) -> BoxedStrategy<CondExprPlan> {
    let w = u32::from(wild);
    prop_oneof![
        3 => (any::<usize>(), select(STRINGS)).prop_map(|(p, s)| CondExprPlan::EqParam(p, s)),
        3 => select(&["eu-west-1", "us-east-1"][..]).prop_map(CondExprPlan::EqRegion),
        w => (1usize..4, any::<usize>())
            .prop_map(|(back, param)| CondExprPlan::EqForeignParam { back, param }),
        w => Just(CondExprPlan::EqGhostParam),
        w => target(true).prop_map(CondExprPlan::EqResource),
        2 => any::<usize>().prop_map(CondExprPlan::Not),
        2 => prop::collection::vec(any::<usize>(), if wild { 1..4 } else { 2..4 }).prop_map(CondExprPlan::And),
        1 => prop::collection::vec(any::<usize>(), if wild { 1..4 } else { 2..4 }).prop_map(CondExprPlan::Or),
    ]
    .boxed()
}

fn override_path(wild: bool) -> BoxedStrategy<OverridePath> {
    prop_oneof![
        4 => select(KEYS).prop_map(OverridePath::Prop),
        u32::from(wild) => (select(KEYS), select(OVERRIDE_SUBKEYS)).prop_map(|(k, s)| OverridePath::Nested(k, s)),
        1 => select(MAP_KEYS).prop_map(OverridePath::Meta),
    ]
    .boxed()
}

fn late(wild: bool) -> BoxedStrategy<LatePlan> {
    let w = u32::from(wild);
    prop_oneof![
        1 + w => cond_ref(wild).prop_map(LatePlan::SetCondition),
        3 => target(wild).prop_map(LatePlan::DependsOn),
        5 => (override_path(wild), any_val(2, wild)).prop_map(|(p, v)| LatePlan::Set(p, v)),
        1 => override_path(wild).prop_map(LatePlan::Delete),
        1 => prop::collection::vec(name_plan(wild), 0..3).prop_map(LatePlan::DependsOnNames),
        w => prop_oneof![
            3 => any::<usize>().prop_map(CondNamePlan::Local),
            1 => select(CONDITION_NAMES).prop_map(CondNamePlan::Raw),
        ]
        .prop_map(LatePlan::ConditionName),
        1 => select(&["Condition", "DependsOn"][..]).prop_map(LatePlan::DeleteAttribute),
        2 => (select(KEYS), any_val(2, wild)).prop_map(|(k, v)| LatePlan::Update(k, v)),
        2 => prop_oneof![
            (select(MAP_KEYS), any_val(1, wild)).prop_map(|(k, v)| LatePlan::Metadata(k, v)),
            any_val(1, wild).prop_map(LatePlan::UpdatePolicy),
        ],
        1 => prop_oneof![
            3 => select(&["Renamed", "Bucket", "Env", "Queue"][..]).prop_map(str::to_owned),
            w => element_name(true),
        ]
        .prop_map(LatePlan::LogicalId),
    ]
    .boxed()
}

fn resource(wild: bool) -> impl Strategy<Value = ResPlan> {
    (
        prop::collection::vec(
            prop_oneof![
                4 => select(&["Db", "Net", "Default"][..]).prop_map(str::to_owned),
                1 => construct_id(wild),
            ],
            0..3,
        ),
        construct_id(wild),
        prop_oneof![20 => 0..TYPES.len() - 2, u32::from(wild) => TYPES.len() - 2..TYPES.len()],
        prop::collection::vec((select(KEYS), any_val(2, wild)), 0..4),
        prop::collection::vec(late(wild), 0..4),
    )
        .prop_map(|(scope, id, kind, props, late)| ResPlan {
            scope,
            id,
            kind,
            props,
            late,
        })
}

fn output(wild: bool) -> impl Strategy<Value = OutPlan> {
    (
        element_name(wild),
        str_val(2, wild),
        prop::option::weighted(if wild { 0.4 } else { 0.1 }, select(EXPORT_NAMES)),
        prop::option::weighted(0.3, cond_ref(wild)),
        prop::bool::weighted(if wild { 0.05 } else { 0.0 }),
    )
        .prop_map(
            |(name, value, export, condition, long_description)| OutPlan {
                name,
                value,
                export,
                condition,
                long_description,
            },
        )
}

fn stack(wild: bool) -> impl Strategy<Value = StackPlan> {
    let w = u32::from(wild);
    (
        stack_name(wild),
        prop_oneof![12 => Just(0usize), 4 * w => 1..4usize, w => 4..ENVS.len()],
        prop::option::weighted(0.3, prop_oneof![8 => 0..2usize, w => 2..TAGS.len()]),
        prop::collection::vec(
            (element_name(wild), any::<bool>()).prop_map(|(name, list)| ParamPlan { name, list }),
            0..3,
        ),
        prop::collection::vec(
            (element_name(wild), cond_expr(wild)).prop_map(|(name, expr)| CondPlan { name, expr }),
            0..4,
        ),
        prop_oneof![
            12 => prop::collection::vec(resource(wild), 1..6),
            w => Just(Vec::new()),
        ],
        prop::collection::vec(output(wild), 0..3),
        prop::collection::vec(
            prop_oneof![
                6 => (1usize..4).prop_map(move |back| if wild {
                    StackDepPlan::Back(back)
                } else {
                    StackDepPlan::Earlier(back)
                }),
                w => Just(StackDepPlan::Ghost),
            ],
            0..2,
        ),
    )
        .prop_map(
            |(name, env, tag, params, conditions, resources, outputs, dependencies)| StackPlan {
                name,
                env,
                tag,
                params,
                conditions,
                resources,
                outputs,
                dependencies,
            },
        )
}

fn plan_with(wild: bool) -> impl Strategy<Value = Plan> {
    (
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.8),
        prop::collection::vec(stack(wild), 1..5),
    )
        .prop_map(move |(weak, path_metadata, stacks)| Plan {
            wild,
            weak,
            path_metadata,
            stacks,
        })
}

fn plan() -> impl Strategy<Value = Plan> {
    prop_oneof![plan_with(true), plan_with(false)]
}

// ---------------------------------------------------------------------------------------------
// What was built: the record the model reads. Indexes are into the built stacks (in app
// order) and their built parameters, conditions and resources.

/// A resource a handle points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Res(usize, usize),
    Ghost,
}

/// A value as it was given to the API.
#[derive(Clone, Debug)]
#[allow(
    dead_code,
    reason = "every field is compared, through Debug, by the determinism property"
)]
enum MV {
    Str(String),
    Int(i64),
    Float(f64),
    List(Vec<MV>),
    Map(Vec<(String, MV)>),
    Ref(T),
    GetAtt(T, String, bool),
    /// `None`: the parameter of another app.
    Param(Option<(usize, usize)>),
    Pseudo(&'static str),
    ByName(String),
    Sub(String, Vec<(String, MV)>),
    Join(Vec<MV>),
    /// `None`: the condition of another app.
    If(Option<(usize, usize)>, Box<MV>, Box<MV>),
}

#[derive(Clone, Debug)]
enum BExpr {
    Equals(MV, MV),
    And(Vec<BExpr>),
    Or(Vec<BExpr>),
    Not(Box<BExpr>),
    Cond(String),
}

#[derive(Debug)]
struct BRes {
    /// Path inside the stack.
    path: String,
    logical_id: String,
    has_tags: bool,
    /// The condition given with `set_condition`.
    declared: Option<String>,
    depends: Vec<T>,
    props: Vec<(String, MV)>,
    /// `add_metadata` entries.
    metadata: Vec<(String, MV)>,
    update_policy: Option<MV>,
    /// Escape-hatch overrides in order: path, and the value (`None` deletes).
    overrides: Vec<(Vec<String>, Option<MV>)>,
}

#[derive(Debug)]
struct BOut {
    name: String,
    value: MV,
    export: Option<String>,
    condition: Option<String>,
}

#[derive(Debug)]
struct BStack {
    name: String,
    env: Environment,
    tagged: bool,
    params: Vec<String>,
    conds: Vec<(String, BExpr)>,
    resources: Vec<BRes>,
    outputs: Vec<BOut>,
    /// Explicit dependencies; `None`: a stack of another app.
    deps: Vec<Option<usize>>,
}

#[derive(Debug)]
struct Built {
    weak: bool,
    path_metadata: bool,
    stacks: Vec<BStack>,
    /// Every refused call and its error, in order.
    log: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Building: the API calls the plan describes, each outcome checked.

/// The error variants a call may be refused with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    InvalidConstructId,
    DuplicateConstructId,
    DuplicateLogicalId,
    InvalidLogicalId,
    InvalidStackName,
    DuplicateStackName,
    InvalidName,
    DuplicateName,
    InvalidValue,
}

fn kind_of(error: &Error) -> Option<K> {
    Some(match error {
        Error::InvalidConstructId { .. } => K::InvalidConstructId,
        Error::DuplicateConstructId { .. } => K::DuplicateConstructId,
        Error::DuplicateLogicalId { .. } => K::DuplicateLogicalId,
        Error::InvalidLogicalId { .. } => K::InvalidLogicalId,
        Error::InvalidStackName { .. } => K::InvalidStackName,
        Error::DuplicateStackName { .. } => K::DuplicateStackName,
        Error::InvalidName { .. } => K::InvalidName,
        Error::DuplicateName { .. } => K::DuplicateName,
        Error::InvalidValue { .. } => K::InvalidValue,
        _ => return None,
    })
}

// CloudFormation's and the construct tree's rules, written here from their documentation.

fn valid_stack_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.len() <= 128
}

/// Logical ids and names of parameters, conditions and outputs: 1 to 255 letters and digits.
fn valid_logical_id(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn valid_construct_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('/')
}

fn valid_type(type_name: &str) -> bool {
    type_name.starts_with("AWS::") && type_name.split("::").count() == 3
        || type_name.starts_with("Custom::")
}

fn tag_format(type_name: &str) -> Option<TagFormat> {
    match type_name {
        "AWS::SQS::Queue" | "AWS::SNS::Topic" | "AWS::S3::Bucket" | "AWS::RDS::DBInstance" => {
            Some(TagFormat::KeyValueList("Tags".into()))
        }
        "AWS::Logs::LogGroup" => Some(TagFormat::Map("Tags".into())),
        _ => None,
    }
}

fn env_of(index: usize) -> (Option<Environment>, bool) {
    match ENVS[index % ENVS.len()] {
        None => (None, true),
        Some((account, region)) => {
            let valid = account
                .is_none_or(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                && region.contains('-');
            (
                Some(Environment {
                    account: account.map(str::to_owned),
                    region: Some(region.to_owned()),
                }),
                valid,
            )
        }
    }
}

/// The stack, resource, parameter and condition of another app.
struct Ghost {
    _app: App,
    stack: Stack,
    resource: Resource,
    param: Parameter,
    cond: Condition,
}

fn ghost() -> Ghost {
    let app = App::new();
    let stack = Stack::new(&app, "Ghost", StackProps::default()).unwrap();
    let resource = stack
        .add("Phantom", RawResource::new("AWS::SQS::Queue"))
        .unwrap();
    let param = stack
        .add_parameter("GhostParam", ParameterProps::default())
        .unwrap();
    let cond = stack
        .add_condition("GhostCond", fns::equals(aws::region(), "x"))
        .unwrap();
    Ghost {
        _app: app,
        stack,
        resource,
        param,
        cond,
    }
}

/// The handles of one built stack, by plan index.
struct Handles {
    b: usize,
    stack: Stack,
    params: Vec<Option<(Parameter, usize)>>,
    conds: Vec<(Condition, usize)>,
    res: Vec<Option<(Resource, usize)>>,
    constructs: BTreeSet<String>,
    logical_ids: BTreeSet<String>,
}

/// Where a reference leads: a handle, or (for a resource that was never added) its name.
enum Resolved {
    Handle(Resource, T),
    Name(String),
    /// There is nothing before: a literal is used.
    Nothing,
}

struct Builder<'p> {
    plan: &'p Plan,
    app: App,
    ghost: Ghost,
    built: Built,
    stacks: Vec<Option<Handles>>,
    /// The resource being built or changed: (plan stack, plan resource).
    current: Option<(usize, usize)>,
}

/// Builds the plan; returns the app and the record of what exists.
fn build(plan: &Plan) -> (App, Built) {
    let app = App::with_settings(AppSettings {
        cross_stack_references: if plan.weak {
            CrossStackReferences::Weak
        } else {
            CrossStackReferences::Exports
        },
        path_metadata: if plan.path_metadata {
            PathMetadata::Included
        } else {
            PathMetadata::Omitted
        },
    });
    let mut b = Builder {
        plan,
        app: app.clone(),
        ghost: ghost(),
        built: Built {
            weak: plan.weak,
            path_metadata: plan.path_metadata,
            stacks: Vec::new(),
            log: Vec::new(),
        },
        stacks: Vec::new(),
        current: None,
    };
    b.stacks_and_parameters();
    for s in 0..plan.stacks.len() {
        b.resources(s);
    }
    for s in 0..plan.stacks.len() {
        b.conditions(s);
    }
    for s in 0..plan.stacks.len() {
        b.late(s);
    }
    for s in 0..plan.stacks.len() {
        b.outputs(s);
        b.dependencies(s);
    }
    (app, b.built)
}

impl Builder<'_> {
    /// Checks a call's outcome: it must fail with one of `refused` (when not empty) or succeed,
    /// and a refusal must name each of `names`.
    fn outcome<V>(
        &mut self,
        call: &str,
        result: Result<V, Error>,
        refused: &[K],
        names: &[&str],
    ) -> Option<V> {
        match result {
            Ok(v) => {
                assert!(
                    refused.is_empty(),
                    "{call} succeeded; it must be refused with one of {refused:?}"
                );
                Some(v)
            }
            Err(e) => {
                let kind = kind_of(&e);
                assert!(
                    kind.is_some_and(|k| refused.contains(&k)),
                    "{call} failed with {e:?}; expected {}",
                    if refused.is_empty() {
                        "success".to_owned()
                    } else {
                        format!("one of {refused:?}")
                    }
                );
                let text = e.to_string();
                for name in names {
                    assert!(
                        text.contains(name),
                        "{call}: the error {text:?} does not name {name:?}"
                    );
                }
                self.built.log.push(format!("{call}: {text}"));
                None
            }
        }
    }

    fn n(&self) -> usize {
        self.plan.stacks.len()
    }

    fn back(&self, s: usize, back: usize) -> usize {
        let n = self.n();
        (s + n - back % n) % n
    }

    fn target(&self, s: usize, target: &TargetPlan) -> Resolved {
        let (t, r) = match *target {
            TargetPlan::Ghost => return Resolved::Handle(self.ghost.resource.clone(), T::Ghost),
            TargetPlan::Res { back, res } => {
                let t = self.back(s, back);
                let count = self.plan.stacks[t].resources.len();
                if count == 0 {
                    return Resolved::Name("Nope".into());
                }
                (t, res % count)
            }
            TargetPlan::Prior { back, res } => {
                let mut t = s - back.min(s);
                let mut count = self.plan.stacks[t].resources.len();
                if let Some((cs, cr)) = self.current
                    && cs == t
                {
                    count = cr;
                }
                if count == 0 && t > 0 {
                    t -= 1;
                    count = self.plan.stacks[t].resources.len();
                }
                if count == 0 {
                    return Resolved::Nothing;
                }
                (t, res % count)
            }
        };
        let plans = &self.plan.stacks[t].resources;
        match self.stacks[t].as_ref().and_then(|h| h.res.get(r)?.as_ref()) {
            Some((handle, br)) => Resolved::Handle(
                handle.clone(),
                T::Res(self.stacks[t].as_ref().unwrap().b, *br),
            ),
            // Tame plans refer only to what exists.
            None if !self.plan.wild => Resolved::Nothing,
            // Not added (yet, or ever): written by hand, as the alphanumeric id.
            None => Resolved::Name(
                plans[r]
                    .id
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect(),
            ),
        }
    }

    /// A condition and where it is: (built stack, index), `None` for another app's.
    fn cond(&self, s: usize, cref: &CondRefPlan) -> Option<(Condition, Option<(usize, usize)>)> {
        match cref {
            CondRefPlan::Ghost => Some((self.ghost.cond.clone(), None)),
            CondRefPlan::Cond { back, cond } => {
                let h = self.stacks[self.back(s, *back)].as_ref()?;
                if h.conds.is_empty() {
                    return None;
                }
                let (c, bc) = &h.conds[cond % h.conds.len()];
                Some((c.clone(), Some((h.b, *bc))))
            }
        }
    }

    fn param(
        &self,
        s: usize,
        back: usize,
        param: usize,
    ) -> Result<(Parameter, (usize, usize)), String> {
        let t = self.back(s, back);
        let plans = &self.plan.stacks[t].params;
        if plans.is_empty() {
            return Err("NoParam".into());
        }
        let p = param % plans.len();
        match self.stacks[t]
            .as_ref()
            .and_then(|h| Some((h.b, h.params.get(p)?.as_ref()?)))
        {
            Some((bs, (handle, bp))) => Ok((handle.clone(), (bs, *bp))),
            None => Err(plans[p].name.clone()),
        }
    }

    fn name(&self, s: usize, name: &NamePlan) -> String {
        match name {
            NamePlan::Of(t) => match self.target(s, t) {
                // A name of another stack's resource: a fault only wild plans make.
                Resolved::Handle(_, T::Res(bs, _))
                    if !self.plan.wild && Some(bs) != self.stacks[s].as_ref().map(|h| h.b) =>
                {
                    "AWS::Region".into()
                }
                Resolved::Handle(r, _) => r.logical_id(),
                Resolved::Name(n) => n,
                Resolved::Nothing => "AWS::Region".into(),
            },
            NamePlan::Param(i) => {
                let params = &self.plan.stacks[s].params;
                if params.is_empty() {
                    if self.plan.wild {
                        "NoParam"
                    } else {
                        "AWS::Region"
                    }
                    .into()
                } else {
                    params[i % params.len()].name.clone()
                }
            }
            NamePlan::Raw(n) => (*n).to_owned(),
        }
    }

    fn by_name(name: String) -> (Value<String>, MV) {
        (
            Value::Fn(Expr::from_intrinsic_unchecked(Intrinsic::Ref(
                RefTarget::LogicalId(name.clone()),
            ))),
            MV::ByName(name),
        )
    }

    /// A string value.
    fn str_value(&self, s: usize, v: &ValPlan) -> (Value<String>, MV) {
        match v {
            ValPlan::Str(x) => (Value::from(*x), MV::Str((*x).to_owned())),
            ValPlan::Ref(t) => match self.target(s, t) {
                Resolved::Handle(r, t) => (r.reference(), MV::Ref(t)),
                Resolved::Name(n) => Self::by_name(n),
                Resolved::Nothing => (Value::from("nothing"), MV::Str("nothing".into())),
            },
            ValPlan::GetAtt(t, a) => match self.target(s, t) {
                Resolved::Handle(r, t) => (
                    r.get_att::<String>(a),
                    MV::GetAtt(t, (*a).to_owned(), false),
                ),
                Resolved::Name(n) => Self::by_name(n),
                Resolved::Nothing => (Value::from("nothing"), MV::Str("nothing".into())),
            },
            ValPlan::Param { back, param } => match self.param(s, *back, *param) {
                Ok((p, at)) => (p.value(), MV::Param(Some(at))),
                Err(_) if !self.plan.wild => (aws::region(), MV::Pseudo("AWS::Region")),
                Err(name) => Self::by_name(name),
            },
            ValPlan::GhostParam => (self.ghost.param.value(), MV::Param(None)),
            ValPlan::Pseudo(i) => {
                let value = match i {
                    0 => aws::region(),
                    1 => aws::account_id(),
                    2 => aws::partition(),
                    3 => aws::stack_name(),
                    4 => aws::stack_id(),
                    _ => aws::url_suffix(),
                };
                (value, MV::Pseudo(PSEUDOS[*i]))
            }
            ValPlan::ByName(n) => Self::by_name(self.name(s, n)),
            ValPlan::Sub(parts, vars) => {
                let mut template = String::new();
                for part in parts {
                    match part {
                        SubPart::Text(t) => template.push_str(t),
                        SubPart::Name(n) => {
                            let _ = write!(template, "${{{}}}", self.name(s, n));
                        }
                        SubPart::Attr(n, a) => match self.name(s, n) {
                            name if !self.plan.wild
                                && (name.starts_with("AWS::") || !matches!(n, NamePlan::Of(_))) =>
                            {
                                let _ = write!(template, "${{{name}}}");
                            }
                            name => {
                                let _ = write!(template, "${{{name}.{a}}}");
                            }
                        },
                        SubPart::Var(i) => {
                            let _ = write!(template, "${{V{i}}}");
                        }
                        SubPart::Escaped => template.push_str("${!Literal}"),
                    }
                }
                let built: Vec<(String, Value<String>, MV)> = vars
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let (value, mv) = self.str_value(s, v);
                        (format!("V{i}"), value, mv)
                    })
                    .collect();
                let mvs = built
                    .iter()
                    .map(|(k, _, mv)| (k.clone(), mv.clone()))
                    .collect();
                let value = if built.is_empty() {
                    fns::sub(template.clone())
                } else {
                    fns::sub_with(template.clone(), built.into_iter().map(|(k, v, _)| (k, v)))
                };
                (value, MV::Sub(template, mvs))
            }
            ValPlan::Join(items) => {
                let (values, mvs): (Vec<Value<String>>, Vec<MV>) =
                    items.iter().map(|i| self.str_value(s, i)).unzip();
                (fns::join(",", values), MV::Join(mvs))
            }
            ValPlan::If(c, a, b) => {
                let (then, then_mv) = self.str_value(s, a);
                let Some((cond, at)) = self.cond(s, c) else {
                    return (then, then_mv);
                };
                let (otherwise, otherwise_mv) = self.str_value(s, b);
                (
                    fns::if_::<String>(&cond, then, otherwise),
                    MV::If(at, Box::new(then_mv), Box::new(otherwise_mv)),
                )
            }
            other => panic!("not a string value: {other:?}"),
        }
    }

    /// Any value.
    fn node(&self, s: usize, v: &ValPlan) -> (Node, MV) {
        match v {
            ValPlan::Int(i) => (Node::Int(*i), MV::Int(*i)),
            ValPlan::Float(f) => (Node::Float(*f), MV::Float(*f)),
            ValPlan::List(items) => {
                let (nodes, mvs): (Vec<Node>, Vec<MV>) =
                    items.iter().map(|i| self.node(s, i)).unzip();
                (Node::List(nodes), MV::List(mvs))
            }
            ValPlan::Map(entries) => {
                let mut map: IndexMap<String, (Node, MV)> = IndexMap::new();
                for (k, v) in entries {
                    map.insert((*k).to_owned(), self.node(s, v));
                }
                let mvs = map
                    .iter()
                    .map(|(k, (_, mv))| (k.clone(), mv.clone()))
                    .collect();
                (
                    Node::Map(map.into_iter().map(|(k, (n, _))| (k, n)).collect()),
                    MV::Map(mvs),
                )
            }
            ValPlan::GetAttList(t) => match self.target(s, t) {
                Resolved::Handle(r, t) => (
                    r.get_att_list("Ipv6CidrBlocks").into_node(),
                    MV::GetAtt(t, "Ipv6CidrBlocks".into(), true),
                ),
                Resolved::Name(n) => {
                    let (v, mv) = Self::by_name(n);
                    (v.into_node(), mv)
                }
                Resolved::Nothing => (Node::String("nothing".into()), MV::Str("nothing".into())),
            },
            ValPlan::If(c, a, b) => {
                let (then, then_mv) = self.node(s, a);
                let Some((cond, at)) = self.cond(s, c) else {
                    return (then, then_mv);
                };
                let (otherwise, otherwise_mv) = self.node(s, b);
                (
                    fns::if_::<Node>(&cond, Value::Lit(then), Value::Lit(otherwise)).into_node(),
                    MV::If(at, Box::new(then_mv), Box::new(otherwise_mv)),
                )
            }
            other => {
                let (v, mv) = self.str_value(s, other);
                (v.into_node(), mv)
            }
        }
    }

    fn stacks_and_parameters(&mut self) {
        for s in 0..self.n() {
            let plan = &self.plan.stacks[s];
            let (env, env_ok) = env_of(plan.env);
            let mut props = StackProps {
                env: env.clone(),
                ..StackProps::default()
            };
            let mut refused = Vec::new();
            let mut tagged = false;
            if let Some(t) = plan.tag {
                let (key, value) = TAGS[t];
                props.tags.insert(key.to_owned(), value.to_owned());
                if key.is_empty() || key.starts_with("aws:") {
                    refused.push(K::InvalidValue);
                }
                tagged = true;
            }
            if !env_ok {
                refused.push(K::InvalidValue);
            }
            if !valid_stack_name(&plan.name) {
                refused.push(K::InvalidStackName);
            } else if self.built.stacks.iter().any(|b| b.name == plan.name) {
                refused.push(K::DuplicateStackName);
            }
            let call = format!("Stack::new({:?})", plan.name);
            let quoted = format!("{:?}", plan.name);
            let names: &[&str] = if refused.contains(&K::InvalidValue) {
                &[&plan.name]
            } else {
                &[&quoted]
            };
            let result = Stack::new(&self.app, &plan.name, props);
            let Some(stack) = self.outcome(&call, result, &refused, names) else {
                self.stacks.push(None);
                continue;
            };
            assert_eq!(stack.name(), plan.name);
            let b = self.built.stacks.len();
            self.built.stacks.push(BStack {
                name: plan.name.clone(),
                env: env.unwrap_or_default(),
                tagged,
                params: Vec::new(),
                conds: Vec::new(),
                resources: Vec::new(),
                outputs: Vec::new(),
                deps: Vec::new(),
            });
            let mut handles = Handles {
                b,
                stack: stack.clone(),
                params: Vec::new(),
                conds: Vec::new(),
                res: Vec::new(),
                constructs: BTreeSet::new(),
                logical_ids: BTreeSet::new(),
            };
            for p in &plan.params {
                let mut refused = Vec::new();
                if !valid_logical_id(&p.name) {
                    refused.push(K::InvalidName);
                } else if self.built.stacks[b].params.contains(&p.name) {
                    refused.push(K::DuplicateName);
                }
                let props = ParameterProps::new(if p.list {
                    ParameterType::CommaDelimitedList
                } else {
                    ParameterType::String
                });
                let call = format!("{}: add_parameter({:?})", plan.name, p.name);
                let quoted = format!("{:?}", p.name);
                let result = stack.add_parameter(&p.name, props);
                let param = self.outcome(&call, result, &refused, &[&plan.name, &quoted]);
                handles.params.push(param.map(|param| {
                    let bp = self.built.stacks[b].params.len();
                    self.built.stacks[b].params.push(p.name.clone());
                    handles.logical_ids.insert(p.name.clone());
                    (param, bp)
                }));
            }
            self.stacks.push(Some(handles));
        }
    }

    fn resources(&mut self, s: usize) {
        let Some(h) = self.stacks[s].as_ref() else {
            return;
        };
        let (stack, b) = (h.stack.clone(), h.b);
        let stack_name = self.plan.stacks[s].name.clone();
        'resources: for (ri, plan) in self.plan.stacks[s].resources.iter().enumerate() {
            let mut scope: Scope = Scope::clone(&stack);
            let mut path: Vec<&str> = Vec::new();
            for component in &plan.scope {
                let call = format!("{}: child({component:?})", scope.node_path());
                if !valid_construct_id(component) {
                    let quoted = format!("{component:?}");
                    let node_path = scope.node_path();
                    let result = scope.child(component);
                    self.outcome(
                        &call,
                        result,
                        &[K::InvalidConstructId],
                        &[&node_path, &quoted],
                    );
                    self.stacks[s].as_mut().unwrap().res.push(None);
                    continue 'resources;
                }
                path.push(component);
                let joined = path.join("/");
                if self.stacks[s]
                    .as_ref()
                    .unwrap()
                    .constructs
                    .contains(&joined)
                {
                    scope = scope
                        .find(component)
                        .unwrap_or_else(|| panic!("{call}: find({component:?}) found nothing"));
                } else {
                    let result = scope.child(component);
                    scope = self.outcome(&call, result, &[], &[]).unwrap();
                    self.stacks[s].as_mut().unwrap().constructs.insert(joined);
                }
            }
            let type_name = TYPES[plan.kind];
            let mut definition = RawResource::new(type_name);
            if let Some(format) = tag_format(type_name) {
                definition = definition.tags(format);
            }
            let mut props: IndexMap<String, MV> = IndexMap::new();
            self.current = Some((s, ri));
            for (key, value) in &plan.props {
                let (node, mv) = self.node(s, value);
                definition = definition.property(*key, node);
                props.insert((*key).to_owned(), mv);
            }
            // What the rules say about this id.
            let h = self.stacks[s].as_ref().unwrap();
            let mut components = path.clone();
            components.push(&plan.id);
            let full = components.join("/");
            let mut refused = Vec::new();
            let mut logical_id = String::new();
            if valid_construct_id(&plan.id) {
                if !valid_type(type_name) {
                    refused.push(K::InvalidValue);
                }
                if h.constructs.contains(&full) {
                    refused.push(K::DuplicateConstructId);
                }
                logical_id = id::logical_id_for_path(&components);
                if components.iter().all(|c| *c == "Default") || logical_id.is_empty() {
                    refused.push(K::InvalidLogicalId);
                } else if h.logical_ids.contains(&logical_id) {
                    refused.push(K::DuplicateLogicalId);
                }
            } else {
                refused.push(K::InvalidConstructId);
            }
            let call = format!("{}: add({:?}, {type_name:?})", scope.node_path(), plan.id);
            let quoted = format!("{:?}", plan.id);
            let names: Vec<&str> = if refused == [K::InvalidValue] {
                vec![&stack_name, type_name]
            } else if refused.contains(&K::InvalidConstructId) {
                vec![&stack_name, &quoted]
            } else {
                vec![&stack_name]
            };
            let result = scope.add(&plan.id, definition);
            let resource = self.outcome(&call, result, &refused, &names);
            let h = self.stacks[s].as_mut().unwrap();
            let Some(resource) = resource else {
                h.res.push(None);
                continue;
            };
            assert_eq!(resource.logical_id(), logical_id, "{call}");
            assert_eq!(resource.node_path(), format!("{stack_name}/{full}"));
            h.constructs.insert(full.clone());
            h.logical_ids.insert(logical_id.clone());
            let br = self.built.stacks[b].resources.len();
            h.res.push(Some((resource, br)));
            debug_assert_eq!(h.res.len(), ri + 1);
            self.built.stacks[b].resources.push(BRes {
                path: full,
                logical_id,
                has_tags: tag_format(type_name).is_some(),
                declared: None,
                depends: Vec::new(),
                props: props.into_iter().collect(),
                metadata: Vec::new(),
                update_policy: None,
                overrides: Vec::new(),
            });
        }
    }

    fn conditions(&mut self, s: usize) {
        let Some(h) = self.stacks[s].as_ref() else {
            return;
        };
        let (stack, b) = (h.stack.clone(), h.b);
        for plan in &self.plan.stacks[s].conditions {
            let (expr, bexpr) = self.cond_expr(s, &plan.expr);
            let mut refused = Vec::new();
            if !valid_logical_id(&plan.name) {
                refused.push(K::InvalidName);
            } else if self.built.stacks[b]
                .conds
                .iter()
                .any(|(n, _)| *n == plan.name)
            {
                refused.push(K::DuplicateName);
            }
            let call = format!("{}: add_condition({:?})", stack.name(), plan.name);
            let quoted = format!("{:?}", plan.name);
            let result = stack.add_condition(&plan.name, expr);
            if let Some(cond) = self.outcome(&call, result, &refused, &[&stack.name(), &quoted]) {
                let bc = self.built.stacks[b].conds.len();
                self.built.stacks[b].conds.push((plan.name.clone(), bexpr));
                self.stacks[s].as_mut().unwrap().conds.push((cond, bc));
            }
        }
    }

    fn cond_expr(&self, s: usize, e: &CondExprPlan) -> (ConditionExpr, BExpr) {
        let region = |lit: &str| {
            (
                fns::equals(aws::region(), lit),
                BExpr::Equals(MV::Pseudo("AWS::Region"), MV::Str(lit.to_owned())),
            )
        };
        let equals = |(value, mv): (Value<String>, MV)| {
            (
                fns::equals(value, "x"),
                BExpr::Equals(mv, MV::Str("x".into())),
            )
        };
        let conds = &self.stacks[s].as_ref().unwrap().conds;
        let cond = |i: usize| {
            let (c, bc) = &conds[i % conds.len()];
            let name = &self.built.stacks[self.stacks[s].as_ref().unwrap().b].conds[*bc].0;
            (fns::condition(c), BExpr::Cond(name.clone()))
        };
        match e {
            CondExprPlan::EqParam(p, lit) => match self.param(s, 0, *p) {
                Ok((param, at)) => (
                    fns::equals(param.value(), *lit),
                    BExpr::Equals(MV::Param(Some(at)), MV::Str((*lit).to_owned())),
                ),
                Err(_) => region(lit),
            },
            CondExprPlan::EqRegion(lit) => region(lit),
            CondExprPlan::EqForeignParam { back, param } => equals(self.str_value(
                s,
                &ValPlan::Param {
                    back: *back,
                    param: *param,
                },
            )),
            CondExprPlan::EqGhostParam => equals(self.str_value(s, &ValPlan::GhostParam)),
            CondExprPlan::EqResource(t) => equals(self.str_value(s, &ValPlan::Ref(t.clone()))),
            CondExprPlan::Not(i) if !conds.is_empty() => {
                let (c, bc) = cond(*i);
                (fns::not(c), BExpr::Not(Box::new(bc)))
            }
            CondExprPlan::And(items) | CondExprPlan::Or(items) => {
                let (exprs, bexprs): (Vec<ConditionExpr>, Vec<BExpr>) = items
                    .iter()
                    .map(|&i| {
                        if conds.is_empty() {
                            region("eu-west-1")
                        } else {
                            cond(i)
                        }
                    })
                    .unzip();
                if matches!(e, CondExprPlan::And(_)) {
                    (fns::and(exprs), BExpr::And(bexprs))
                } else {
                    (fns::or(exprs), BExpr::Or(bexprs))
                }
            }
            CondExprPlan::Not(_) => region("us-east-1"),
        }
    }

    fn late(&mut self, s: usize) {
        let Some(h) = self.stacks[s].as_ref() else {
            return;
        };
        let b = h.b;
        for (ri, plan) in self.plan.stacks[s].resources.iter().enumerate() {
            let Some((resource, br)) = self.stacks[s].as_ref().unwrap().res[ri].clone() else {
                continue;
            };
            let path = resource.node_path();
            self.current = Some((s, ri));
            for op in &plan.late {
                match op {
                    LatePlan::SetCondition(c) => {
                        let Some((cond, at)) = self.cond(s, c) else {
                            continue;
                        };
                        let foreign = at.is_none_or(|(cs, _)| cs != b);
                        let refused = if foreign {
                            vec![K::InvalidValue]
                        } else {
                            vec![]
                        };
                        let call = format!("{path}: set_condition({:?})", cond.name());
                        let quoted = format!("{:?}", cond.name());
                        let result = resource.set_condition(&cond);
                        if self
                            .outcome(&call, result, &refused, &[&path, &quoted])
                            .is_some()
                        {
                            self.built.stacks[b].resources[br].declared =
                                Some(cond.name().to_owned());
                        }
                    }
                    LatePlan::DependsOn(t) => {
                        let Resolved::Handle(other, t) = self.target(s, t) else {
                            continue;
                        };
                        let refused = if t == T::Res(b, br) {
                            vec![K::InvalidValue]
                        } else {
                            vec![]
                        };
                        let call = format!("{path}: add_depends_on({})", other.node_path());
                        let result = resource.add_depends_on(&other);
                        if self.outcome(&call, result, &refused, &[&path]).is_some() {
                            let depends = &mut self.built.stacks[b].resources[br].depends;
                            if !depends.contains(&t) {
                                depends.push(t);
                            }
                        }
                    }
                    LatePlan::Set(p, v) => {
                        let (node, mv) = self.node(s, v);
                        let segments = match p {
                            OverridePath::Prop(k) => {
                                resource.add_property_override(k, node);
                                vec!["Properties", k]
                            }
                            OverridePath::Nested(k, sub) => {
                                resource.add_override(&format!("Properties.{k}.{sub}"), node);
                                vec!["Properties", k, sub]
                            }
                            OverridePath::Meta(k) => {
                                resource.add_override(&format!("Metadata.{k}"), node);
                                vec!["Metadata", k]
                            }
                        };
                        self.built.stacks[b].resources[br]
                            .overrides
                            .push((segments.into_iter().map(str::to_owned).collect(), Some(mv)));
                    }
                    LatePlan::Delete(p) => {
                        let segments = match p {
                            OverridePath::Prop(k) => {
                                resource.add_property_deletion_override(k);
                                vec!["Properties", k]
                            }
                            OverridePath::Nested(k, sub) => {
                                resource.add_deletion_override(&format!("Properties.{k}.{sub}"));
                                vec!["Properties", k, sub]
                            }
                            OverridePath::Meta(k) => {
                                resource.add_deletion_override(&format!("Metadata.{k}"));
                                vec!["Metadata", k]
                            }
                        };
                        self.built.stacks[b].resources[br]
                            .overrides
                            .push((segments.into_iter().map(str::to_owned).collect(), None));
                    }
                    LatePlan::DependsOnNames(names) => {
                        let names: Vec<String> = names
                            .iter()
                            .filter(|n| self.plan.wild || matches!(n, NamePlan::Of(_)))
                            .map(|n| self.name(s, n))
                            .filter(|n| self.plan.wild || !n.starts_with("AWS::"))
                            .collect();
                        resource.add_override("DependsOn", names.clone());
                        self.built.stacks[b].resources[br].overrides.push((
                            vec!["DependsOn".into()],
                            Some(MV::List(names.into_iter().map(MV::Str).collect())),
                        ));
                    }
                    LatePlan::ConditionName(c) => {
                        let name = match c {
                            CondNamePlan::Local(i) => {
                                let conds = &self.built.stacks[b].conds;
                                if conds.is_empty() {
                                    "NoSuchCondition".to_owned()
                                } else {
                                    conds[i % conds.len()].0.clone()
                                }
                            }
                            CondNamePlan::Raw(n) => (*n).to_owned(),
                        };
                        resource.add_override("Condition", name.as_str());
                        self.built.stacks[b].resources[br]
                            .overrides
                            .push((vec!["Condition".into()], Some(MV::Str(name))));
                    }
                    LatePlan::DeleteAttribute(a) => {
                        resource.add_deletion_override(a);
                        self.built.stacks[b].resources[br]
                            .overrides
                            .push((vec![(*a).to_owned()], None));
                    }
                    LatePlan::Update(k, v) => {
                        let (node, mv) = self.node(s, v);
                        resource.update_properties(|p| {
                            p.insert((*k).to_owned(), node);
                        });
                        let props = &mut self.built.stacks[b].resources[br].props;
                        match props.iter_mut().find(|(key, _)| key == k) {
                            Some((_, value)) => *value = mv,
                            None => props.push(((*k).to_owned(), mv)),
                        }
                    }
                    LatePlan::Metadata(key, v) => {
                        let (node, mv) = self.node(s, v);
                        resource.add_metadata(key, node);
                        let metadata = &mut self.built.stacks[b].resources[br].metadata;
                        match metadata.iter_mut().find(|(k, _)| k == key) {
                            Some((_, value)) => *value = mv,
                            None => metadata.push(((*key).to_owned(), mv)),
                        }
                    }
                    LatePlan::UpdatePolicy(v) => {
                        let (node, mv) = self.node(s, v);
                        resource.set_update_policy(node);
                        self.built.stacks[b].resources[br].update_policy = Some(mv);
                    }
                    LatePlan::LogicalId(new) => {
                        let old = self.built.stacks[b].resources[br].logical_id.clone();
                        let ids = &self.stacks[s].as_ref().unwrap().logical_ids;
                        let mut refused = Vec::new();
                        if !valid_logical_id(new) {
                            refused.push(K::InvalidLogicalId);
                        } else if *new != old && ids.contains(new) {
                            refused.push(K::DuplicateLogicalId);
                        }
                        let call = format!("{path}: override_logical_id({new:?})");
                        let quoted = format!("{new:?}");
                        let result = resource.override_logical_id(new);
                        if self
                            .outcome(&call, result, &refused, &[&path, &quoted])
                            .is_some()
                        {
                            let ids = &mut self.stacks[s].as_mut().unwrap().logical_ids;
                            ids.remove(&old);
                            ids.insert(new.clone());
                            self.built.stacks[b].resources[br]
                                .logical_id
                                .clone_from(new);
                        }
                        assert_eq!(
                            resource.logical_id(),
                            self.built.stacks[b].resources[br].logical_id
                        );
                    }
                }
            }
        }
        self.current = None;
    }

    fn outputs(&mut self, s: usize) {
        let Some(h) = self.stacks[s].as_ref() else {
            return;
        };
        let (stack, b) = (h.stack.clone(), h.b);
        for plan in &self.plan.stacks[s].outputs {
            self.current = None;
            let (value, mv) = self.str_value(s, &plan.value);
            let mut refused = Vec::new();
            if !valid_logical_id(&plan.name) {
                refused.push(K::InvalidName);
            } else if self.built.stacks[b]
                .outputs
                .iter()
                .any(|o| o.name == plan.name)
            {
                refused.push(K::DuplicateName);
            }
            let mut props = OutputProps {
                export_name: plan.export.map(Value::from),
                ..OutputProps::default()
            };
            if plan.long_description {
                props.description = Some("d".repeat(1025));
                refused.push(K::InvalidValue);
            }
            let mut condition = None;
            if let Some(c) = &plan.condition
                && let Some((cond, at)) = self.cond(s, c)
            {
                if at.is_none_or(|(cs, _)| cs != b) {
                    refused.push(K::InvalidValue);
                }
                condition = Some(cond.name().to_owned());
                props.condition = Some(cond);
            }
            let call = format!("{}: add_output({:?})", stack.name(), plan.name);
            let result = stack.add_output(&plan.name, value, props);
            if self
                .outcome(&call, result, &refused, &[&stack.name()])
                .is_some()
            {
                self.built.stacks[b].outputs.push(BOut {
                    name: plan.name.clone(),
                    value: mv,
                    export: plan.export.map(str::to_owned),
                    condition,
                });
            }
        }
    }

    fn dependencies(&mut self, s: usize) {
        let Some(h) = self.stacks[s].as_ref() else {
            return;
        };
        let (stack, b) = (h.stack.clone(), h.b);
        for dep in &self.plan.stacks[s].dependencies {
            let other = match dep {
                StackDepPlan::Ghost => None,
                StackDepPlan::Back(back) => Some(self.back(s, *back)),
                StackDepPlan::Earlier(back) if *back <= s => Some(s - back),
                StackDepPlan::Earlier(_) => continue,
            };
            let (other, at) = match other {
                None => (self.ghost.stack.clone(), None),
                Some(t) => match &self.stacks[t] {
                    Some(h) => (h.stack.clone(), Some(h.b)),
                    None => continue,
                },
            };
            let refused = if at == Some(b) {
                vec![K::InvalidValue]
            } else {
                vec![]
            };
            let call = format!("{}: add_dependency({})", stack.name(), other.name());
            let result = stack.add_dependency(&other, "the plan says so");
            if self
                .outcome(&call, result, &refused, &[&stack.name()])
                .is_some()
            {
                self.built.stacks[b].deps.push(at);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The model: every problem synthesis must report, from the record of what was built.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Conditions,
    Resources,
    Outputs,
}

/// Where a problem must be reported.
#[derive(Clone, Debug)]
enum Where {
    Exact(String),
    Prefix(String),
}

/// A problem synthesis must report: its kind, where, and a text its message (or path) must
/// contain (the culprit's name).
#[derive(Clone, Debug)]
struct Fault {
    kind: ProblemKind,
    at: Where,
    needle: String,
}

impl Fault {
    fn matches(&self, p: &Problem) -> bool {
        p.kind == self.kind
            && match &self.at {
                Where::Exact(path) => p.path == *path,
                Where::Prefix(prefix) => p.path.starts_with(prefix.as_str()),
            }
            && [self.needle.clone(), format!("{:?}", self.needle)]
                .iter()
                .any(|needle| p.message.contains(needle) || p.path.contains(needle))
    }
}

/// The shape a value renders to, as far as overrides can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Null,
    Scalar,
    Intrinsic,
    Map,
    List,
}

struct Model<'b> {
    b: &'b Built,
    faults: Vec<Fault>,
    stack_edges: BTreeSet<(usize, usize)>,
    /// (stack, resource) exported to another stack.
    exported: BTreeSet<(usize, usize)>,
    /// Per stack: (from, to) between its resources.
    resource_edges: Vec<BTreeSet<(usize, usize)>>,
}

struct Ctx {
    s: usize,
    section: Section,
    element: String,
    current: usize,
    element_condition: Option<String>,
    holding: Vec<String>,
}

fn pseudo(name: &str) -> bool {
    PSEUDOS.contains(&name) || matches!(name, "AWS::NoValue" | "AWS::NotificationARNs")
}

/// `${Name}` variables of an `Fn::Sub` template; `${!Text}` is literal text.
fn sub_variables(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        if !after[..end].starts_with('!') {
            found.push(after[..end].trim());
        }
        rest = &after[end + 1..];
    }
    found
}

impl<'b> Model<'b> {
    fn new(b: &'b Built) -> Model<'b> {
        let mut m = Model {
            b,
            faults: Vec::new(),
            stack_edges: BTreeSet::new(),
            exported: BTreeSet::new(),
            resource_edges: vec![BTreeSet::new(); b.stacks.len()],
        };
        for s in 0..b.stacks.len() {
            m.render_stack(s);
        }
        let docs: Vec<Vec<MV>> = (0..b.stacks.len()).map(|s| m.documents(s)).collect();
        for (s, docs) in docs.iter().enumerate() {
            m.validate_stack(s, docs);
            m.exports_of(s, docs);
        }
        m.export_names();
        m
    }

    fn fault(&mut self, kind: ProblemKind, at: Where, needle: impl Into<String>) {
        self.faults.push(Fault {
            kind,
            at,
            needle: needle.into(),
        });
    }

    fn stack(&self, s: usize) -> &'b BStack {
        &self.b.stacks[s]
    }

    // Rendering: references across stacks, elements of other stacks and apps, numbers.

    /// Whether stack `s` can import a value of `owner` here; the problem if not.
    fn import_problem(
        &self,
        s: usize,
        section: Section,
        owner: usize,
    ) -> Option<(ProblemKind, String)> {
        let producer = self.stack(owner);
        if section == Section::Conditions {
            return Some((ProblemKind::CrossStackElement, producer.name.clone()));
        }
        let (c, p) = (&self.stack(s).env, &producer.env);
        let regions = c.region == p.region || (self.b.weak && p.region.is_some());
        (c.account != p.account || !regions)
            .then(|| (ProblemKind::CrossEnvironment, producer.name.clone()))
    }

    /// The problem of a reference to a resource of another stack or app, if any.
    fn reference_problem(&self, s: usize, section: Section, t: T) -> Option<(ProblemKind, String)> {
        match t {
            T::Ghost => Some((ProblemKind::StackNotInApp, "Ghost".into())),
            T::Res(ts, _) if ts == s => None,
            T::Res(ts, tr) => {
                let target = &self.stack(ts).resources[tr];
                if target.declared.is_some() {
                    Some((
                        ProblemKind::CrossStackElement,
                        format!("{}/{}", self.stack(ts).name, target.path),
                    ))
                } else {
                    self.import_problem(s, section, ts)
                }
            }
        }
    }

    fn render(&mut self, s: usize, section: Section, element: &str, v: &MV) {
        let at = || Where::Exact(element.to_owned());
        match v {
            MV::Float(f) if !f.is_finite() => {
                self.fault(ProblemKind::InvalidValue, at(), f.to_string());
            }
            MV::Str(_) | MV::Int(_) | MV::Float(_) | MV::Pseudo(_) | MV::ByName(_) => {}
            MV::List(items) | MV::Join(items) => {
                for item in items {
                    self.render(s, section, element, item);
                }
            }
            MV::Map(entries) | MV::Sub(_, entries) => {
                for (_, item) in entries {
                    self.render(s, section, element, item);
                }
            }
            MV::Ref(t) | MV::GetAtt(t, _, _) => match self.reference_problem(s, section, *t) {
                Some((kind, needle)) => self.fault(kind, at(), needle),
                None => {
                    if let T::Res(ts, tr) = *t
                        && ts != s
                    {
                        self.stack_edges.insert((s, ts));
                        self.exported.insert((ts, tr));
                    }
                }
            },
            MV::Param(None) => self.fault(ProblemKind::StackNotInApp, at(), "Ghost"),
            MV::Param(Some((ps, _))) if *ps != s => match self.import_problem(s, section, *ps) {
                Some((kind, needle)) => self.fault(kind, at(), needle),
                None => {
                    self.stack_edges.insert((s, *ps));
                }
            },
            MV::Param(Some(_)) => {}
            MV::If(Some((cs, _)), a, b) if *cs == s => {
                self.render(s, section, element, a);
                self.render(s, section, element, b);
            }
            MV::If(cond, _, _) => {
                let name = match cond {
                    Some((cs, ci)) => self.stack(*cs).conds[*ci].0.clone(),
                    None => "GhostCond".into(),
                };
                self.fault(ProblemKind::CrossStackElement, at(), name);
            }
        }
    }

    fn render_condition(&mut self, s: usize, element: &str, e: &BExpr) {
        match e {
            BExpr::Equals(a, b) => {
                self.render(s, Section::Conditions, element, a);
                self.render(s, Section::Conditions, element, b);
            }
            BExpr::And(items) | BExpr::Or(items) => {
                if !(2..=10).contains(&items.len()) {
                    self.fault(
                        ProblemKind::InvalidValue,
                        Where::Exact(element.to_owned()),
                        "takes 2 to 10",
                    );
                }
                for item in items {
                    self.render_condition(s, element, item);
                }
            }
            BExpr::Not(inner) => self.render_condition(s, element, inner),
            BExpr::Cond(_) => {}
        }
    }

    fn render_stack(&mut self, s: usize) {
        let st = self.stack(s);
        for dep in &st.deps {
            match dep {
                Some(t) => {
                    self.stack_edges.insert((s, *t));
                }
                None => self.fault(
                    ProblemKind::StackNotInApp,
                    Where::Exact(st.name.clone()),
                    "Ghost",
                ),
            }
        }
        for (name, expr) in &st.conds {
            self.render_condition(s, &format!("{}/Conditions/{name}", st.name), expr);
        }
        for r in &st.resources {
            let element = format!("{}/{}", st.name, r.path);
            for (_, v) in r.props.iter().chain(&r.metadata) {
                self.render(s, Section::Resources, &element, v);
            }
            if let Some(v) = &r.update_policy {
                self.render(s, Section::Resources, &element, v);
            }
            for t in &r.depends {
                match *t {
                    T::Ghost => self.fault(
                        ProblemKind::StackNotInApp,
                        Where::Exact(element.clone()),
                        "Ghost",
                    ),
                    T::Res(ts, _) if ts != s => {
                        self.stack_edges.insert((s, ts));
                    }
                    T::Res(..) => {}
                }
            }
            // Override values are rendered when applied, whatever happens to them later.
            for (_, v) in &r.overrides {
                if let Some(v) = v {
                    self.render(s, Section::Resources, &element, v);
                }
            }
        }
        for o in &st.outputs {
            let element = format!("{}/Outputs/{}", st.name, o.name);
            self.render(s, Section::Outputs, &element, &o.value);
        }
    }

    /// What a value renders to, for overrides that go through it.
    fn shape(&self, s: usize, v: &MV) -> Shape {
        match v {
            MV::Float(f) if !f.is_finite() => Shape::Null,
            MV::Str(_) | MV::Int(_) | MV::Float(_) => Shape::Scalar,
            MV::List(_) => Shape::List,
            MV::Map(_) => Shape::Map,
            MV::Ref(t) | MV::GetAtt(t, _, _) => {
                if self.reference_problem(s, Section::Resources, *t).is_some() {
                    Shape::Null
                } else {
                    Shape::Intrinsic
                }
            }
            MV::Param(None) => Shape::Null,
            MV::Param(Some((ps, _)))
                if *ps != s && self.import_problem(s, Section::Resources, *ps).is_some() =>
            {
                Shape::Null
            }
            MV::If(cond, _, _) if cond.is_none_or(|(cs, _)| cs != s) => Shape::Null,
            MV::Param(_)
            | MV::Pseudo(_)
            | MV::ByName(_)
            | MV::Sub(..)
            | MV::Join(_)
            | MV::If(..) => Shape::Intrinsic,
        }
    }

    /// Each resource of stack `s` as rendered, overrides applied.
    fn documents(&mut self, s: usize) -> Vec<MV> {
        let st = self.stack(s);
        let mut docs = Vec::new();
        for r in &st.resources {
            let element = format!("{}/{}", st.name, r.path);
            let mut doc = vec![("Type".to_owned(), MV::Str("type".into()))];
            let mut props = r.props.clone();
            if r.has_tags && st.tagged && !props.iter().any(|(k, _)| k == "Tags") {
                props.push(("Tags".into(), MV::Str("stack tags".into())));
            }
            if !props.is_empty() {
                doc.push(("Properties".into(), MV::Map(props)));
            }
            let mut depends: Vec<String> = r
                .depends
                .iter()
                .filter_map(|t| match *t {
                    T::Res(ts, tr) if ts == s => Some(st.resources[tr].logical_id.clone()),
                    _ => None,
                })
                .collect();
            depends.sort();
            depends.dedup();
            if !depends.is_empty() {
                doc.push((
                    "DependsOn".into(),
                    MV::List(depends.into_iter().map(MV::Str).collect()),
                ));
            }
            if let Some(c) = &r.declared {
                doc.push(("Condition".into(), MV::Str(c.clone())));
            }
            if let Some(policy) = &r.update_policy {
                doc.push(("UpdatePolicy".into(), policy.clone()));
            }
            let mut metadata = Vec::new();
            if self.b.path_metadata {
                metadata.push(("aws:cdk:path".into(), MV::Str(element.clone())));
            }
            metadata.extend(r.metadata.iter().cloned());
            if !metadata.is_empty() {
                doc.push(("Metadata".into(), MV::Map(metadata)));
            }
            let mut doc = MV::Map(doc);
            for (path, value) in &r.overrides {
                self.apply(s, &element, &mut doc, path, value.as_ref());
            }
            docs.push(doc);
        }
        docs
    }

    fn apply(
        &mut self,
        s: usize,
        element: &str,
        doc: &mut MV,
        path: &[String],
        value: Option<&MV>,
    ) {
        let invalid = |m: &mut Model<'_>| {
            m.fault(
                ProblemKind::InvalidValue,
                Where::Exact(element.to_owned()),
                "override path",
            );
        };
        let Some((last, parents)) = path.split_last() else {
            return;
        };
        let mut target = doc;
        for key in parents {
            let shape = self.shape(s, target);
            target = match target {
                MV::Map(entries) => {
                    let position = match entries.iter().position(|(k, _)| k == key) {
                        Some(p) => p,
                        None if value.is_none() => return,
                        None => {
                            entries.push((key.clone(), MV::Map(Vec::new())));
                            entries.len() - 1
                        }
                    };
                    &mut entries[position].1
                }
                MV::List(items) => match key.parse::<usize>().ok().filter(|&i| i < items.len()) {
                    Some(i) => &mut items[i],
                    None => return invalid(self),
                },
                // Deleting a key an intrinsic function does not have: nothing to do.
                _ if shape == Shape::Intrinsic && value.is_none() => return,
                // Writing beside the function (the override's keys are never the function's).
                _ => return invalid(self),
            };
        }
        let shape = self.shape(s, target);
        match target {
            MV::Map(entries) => {
                let position = entries.iter().position(|(k, _)| k == last);
                match (position, value) {
                    (Some(p), Some(v)) => entries[p].1 = v.clone(),
                    (None, Some(v)) => entries.push((last.clone(), v.clone())),
                    (Some(p), None) => {
                        entries.remove(p);
                    }
                    (None, None) => {}
                }
            }
            MV::List(items) => match (
                last.parse::<usize>().ok().filter(|&i| i < items.len()),
                value,
            ) {
                (Some(i), Some(v)) => items[i] = v.clone(),
                (Some(i), None) => {
                    items.remove(i);
                }
                (None, _) => invalid(self),
            },
            _ if shape == Shape::Intrinsic && value.is_none() => {}
            _ => invalid(self),
        }
    }

    // Validation: what the final templates must satisfy.

    fn condition(&self, s: usize, name: &str) -> Option<&'b BExpr> {
        self.stack(s)
            .conds
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
    }

    /// Whether condition `held` implies `wanted`: the same, or an `Fn::And` that includes it.
    fn implies(&self, s: usize, held: &str, wanted: &str) -> bool {
        fn includes(m: &Model<'_>, s: usize, e: &BExpr, wanted: &str, depth: usize) -> bool {
            if depth > 10 {
                return false;
            }
            match e {
                BExpr::Cond(n) => {
                    n == wanted
                        || m.condition(s, n)
                            .is_some_and(|e| includes(m, s, e, wanted, depth + 1))
                }
                BExpr::And(items) => items.iter().any(|i| includes(m, s, i, wanted, depth + 1)),
                _ => false,
            }
        }
        held == wanted
            || self
                .condition(s, held)
                .is_some_and(|e| includes(self, s, e, wanted, 0))
    }

    /// The use of resource `logical_id` of the stack (it exists).
    fn local_use(&mut self, c: &Ctx, docs: &[MV], logical_id: &str) {
        if c.section == Section::Conditions {
            self.fault(
                ProblemKind::InvalidValue,
                Where::Exact(c.element.clone()),
                logical_id,
            );
            return;
        }
        let st = self.stack(c.s);
        let Some(to) = st.resources.iter().position(|r| r.logical_id == logical_id) else {
            panic!("model: {logical_id} is not a resource of {}", st.name);
        };
        if c.section == Section::Resources {
            self.resource_edges[c.s].insert((c.current, to));
        }
        if let Some(wanted) = effective_condition(&docs[to]) {
            let covered = c
                .element_condition
                .iter()
                .chain(c.holding.iter())
                .any(|held| self.implies(c.s, held, &wanted));
            if !covered {
                self.fault(
                    ProblemKind::ConditionMismatch,
                    Where::Exact(c.element.clone()),
                    logical_id,
                );
            }
        }
    }

    fn is_resource(&self, s: usize, name: &str) -> bool {
        self.stack(s).resources.iter().any(|r| r.logical_id == name)
    }

    fn is_param(&self, s: usize, name: &str) -> bool {
        self.stack(s).params.iter().any(|p| p == name)
    }

    /// A name used by `Ref` or an `Fn::Sub` variable.
    fn name(&mut self, c: &Ctx, docs: &[MV], name: &str) {
        if name.starts_with("AWS::") {
            if !pseudo(name) {
                self.fault(
                    ProblemKind::MissingReference,
                    Where::Exact(c.element.clone()),
                    name,
                );
            }
        } else if self.is_param(c.s, name) {
        } else if self.is_resource(c.s, name) {
            self.local_use(c, docs, name);
        } else {
            self.fault(
                ProblemKind::MissingReference,
                Where::Exact(c.element.clone()),
                name,
            );
        }
    }

    fn visit(&mut self, c: &mut Ctx, docs: &[MV], v: &MV) {
        match v {
            MV::Str(_) | MV::Int(_) | MV::Float(_) | MV::Pseudo(_) | MV::Param(_) => {}
            MV::List(items) | MV::Join(items) => {
                for item in items {
                    self.visit(c, docs, item);
                }
            }
            MV::Map(entries) => {
                for (_, item) in entries {
                    self.visit(c, docs, item);
                }
            }
            MV::Ref(T::Res(ts, tr)) | MV::GetAtt(T::Res(ts, tr), _, _) if *ts == c.s => {
                let id = self.stack(*ts).resources[*tr].logical_id.clone();
                self.local_use(c, docs, &id);
            }
            MV::Ref(_) | MV::GetAtt(..) => {}
            MV::ByName(name) => self.name(c, docs, name),
            MV::Sub(template, vars) => {
                for variable in sub_variables(template) {
                    if vars.iter().any(|(k, _)| k == variable) {
                        continue;
                    }
                    let undefined = |m: &mut Model<'_>| {
                        m.fault(
                            ProblemKind::UndefinedSubVariable,
                            Where::Exact(c.element.clone()),
                            variable,
                        );
                    };
                    if let Some((target, _)) = variable.split_once('.')
                        && !variable.starts_with("AWS::")
                    {
                        if self.is_resource(c.s, target) {
                            self.local_use(c, docs, target);
                        } else {
                            undefined(self);
                        }
                    } else if variable.starts_with("AWS::")
                        || self.is_param(c.s, variable)
                        || self.is_resource(c.s, variable)
                    {
                        self.name(c, docs, variable);
                    } else {
                        undefined(self);
                    }
                }
                for (_, item) in vars {
                    self.visit(c, docs, item);
                }
            }
            MV::If(Some((cs, ci)), a, b) if *cs == c.s => {
                let name = self.stack(*cs).conds[*ci].0.clone();
                c.holding.push(name);
                self.visit(c, docs, a);
                c.holding.pop();
                self.visit(c, docs, b);
            }
            MV::If(..) => {}
        }
    }

    fn visit_condition(&mut self, c: &mut Ctx, docs: &[MV], e: &BExpr) {
        match e {
            BExpr::Equals(a, b) => {
                self.visit(c, docs, a);
                self.visit(c, docs, b);
            }
            BExpr::And(items) | BExpr::Or(items) => {
                for item in items {
                    self.visit_condition(c, docs, item);
                }
            }
            BExpr::Not(inner) => self.visit_condition(c, docs, inner),
            BExpr::Cond(_) => {}
        }
    }

    fn validate_stack(&mut self, s: usize, docs: &[MV]) {
        let st = self.stack(s);
        if st.resources.is_empty() {
            self.fault(
                ProblemKind::Limit,
                Where::Exact(st.name.clone()),
                "no resources",
            );
        }
        for (name, expr) in &st.conds {
            let mut c = Ctx {
                s,
                section: Section::Conditions,
                element: format!("{}/Conditions/{name}", st.name),
                current: 0,
                element_condition: None,
                holding: Vec::new(),
            };
            self.visit_condition(&mut c, docs, expr);
        }
        for (i, doc) in docs.iter().enumerate() {
            let MV::Map(entries) = doc else {
                unreachable!()
            };
            let mut c = Ctx {
                s,
                section: Section::Resources,
                element: format!("{}/{}", st.name, st.resources[i].path),
                current: i,
                element_condition: effective_condition(doc),
                holding: Vec::new(),
            };
            for (key, value) in entries {
                match key.as_str() {
                    "Type" => {}
                    "Condition" => match value {
                        MV::Str(name) => {
                            if self.condition(s, name).is_none() {
                                self.fault(
                                    ProblemKind::MissingCondition,
                                    Where::Exact(c.element.clone()),
                                    name.clone(),
                                );
                            }
                        }
                        _ => self.fault(
                            ProblemKind::InvalidValue,
                            Where::Exact(c.element.clone()),
                            "condition",
                        ),
                    },
                    "DependsOn" => {
                        let names = match value {
                            MV::List(items) => items.clone(),
                            other => vec![other.clone()],
                        };
                        for name in names {
                            match name {
                                MV::Str(name) => {
                                    match st.resources.iter().position(|r| r.logical_id == name) {
                                        Some(to) => {
                                            self.resource_edges[s].insert((i, to));
                                        }
                                        None => self.fault(
                                            ProblemKind::MissingReference,
                                            Where::Exact(c.element.clone()),
                                            name,
                                        ),
                                    }
                                }
                                _ => self.fault(
                                    ProblemKind::InvalidValue,
                                    Where::Exact(c.element.clone()),
                                    "DependsOn",
                                ),
                            }
                        }
                    }
                    _ => self.visit(&mut c, docs, value),
                }
            }
        }
        for o in &st.outputs {
            let mut c = Ctx {
                s,
                section: Section::Outputs,
                element: format!("{}/Outputs/{}", st.name, o.name),
                current: 0,
                element_condition: o.condition.clone(),
                holding: Vec::new(),
            };
            self.visit(&mut c, docs, &o.value);
        }
    }

    /// The outputs a stack adds for the stacks that import its values: a resource whose
    /// condition comes from an override (not `set_condition`) is exported without it.
    fn exports_of(&mut self, s: usize, docs: &[MV]) {
        let exported: Vec<usize> = self
            .exported
            .iter()
            .filter(|(t, _)| *t == s)
            .map(|(_, r)| *r)
            .collect();
        for r in exported {
            if effective_condition(&docs[r]).is_some() {
                let st = self.stack(s);
                self.fault(
                    ProblemKind::ConditionMismatch,
                    Where::Prefix(format!("{}/Outputs/", st.name)),
                    st.resources[r].logical_id.clone(),
                );
            }
        }
    }

    /// Export names are unique in an account and region.
    fn export_names(&mut self) {
        let mut seen = BTreeSet::new();
        for st in &self.b.stacks {
            for o in &st.outputs {
                if let Some(name) = &o.export
                    && !seen.insert((st.env.account.clone(), st.env.region.clone(), name.clone()))
                {
                    self.fault(
                        ProblemKind::Duplicate,
                        Where::Exact(format!("{}/Outputs/{}", st.name, o.name)),
                        name.clone(),
                    );
                }
            }
        }
    }
}

fn effective_condition(doc: &MV) -> Option<String> {
    let MV::Map(entries) = doc else { return None };
    entries.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("Condition", MV::Str(c)) => Some(c.clone()),
        _ => None,
    })
}

/// The strongly connected components of a graph that are cycles (two or more nodes, or one
/// with an edge to itself).
fn cyclic_components(n: usize, edges: &BTreeSet<(usize, usize)>) -> Vec<BTreeSet<usize>> {
    let mut reach = vec![vec![false; n]; n];
    for &(a, b) in edges {
        reach[a][b] = true;
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                if reach[i][k] && reach[k][j] {
                    reach[i][j] = true;
                }
            }
        }
    }
    let mut components: Vec<BTreeSet<usize>> = Vec::new();
    for i in 0..n {
        if !reach[i][i] || components.iter().any(|c| c.contains(&i)) {
            continue;
        }
        components.push((0..n).filter(|&j| reach[i][j] && reach[j][i]).collect());
    }
    components
}

/// The names of a cycle message (`... in a cycle: A -> B -> A. ...`).
fn cycle_names(message: &str) -> Vec<String> {
    let after = message.split_once("cycle: ").map_or("", |(_, rest)| rest);
    let list = after.split_once(". ").map_or(after, |(list, _)| list);
    list.split(" -> ").map(str::to_owned).collect()
}

// ---------------------------------------------------------------------------------------------
// Checking a synthesis against the model.

/// Synthesis failed with problems: exactly those the model predicts.
fn assert_reported(model: &Model<'_>, problems: &[Problem]) {
    let b = model.b;
    let listed = || {
        problems
            .iter()
            .map(|p| format!("  {:?} {p}", p.kind))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for p in problems {
        assert!(
            !p.path.is_empty() && !p.message.is_empty(),
            "empty problem {p:?}"
        );
    }
    for fault in &model.faults {
        assert!(
            problems.iter().any(|p| fault.matches(p)),
            "not reported: {fault:?}\nreported:\n{}",
            listed()
        );
    }
    for p in problems {
        if matches!(
            p.kind,
            ProblemKind::StackCycle | ProblemKind::DependencyCycle
        ) {
            continue;
        }
        assert!(
            model.faults.iter().any(|f| f.matches(p)),
            "reported, but the model has no such fault: {:?} {p}\nexpected: {:#?}",
            p.kind,
            model.faults
        );
    }
    // Cycles between stacks: one problem per cycle, naming stacks that depend on each other.
    let names: Vec<&str> = b.stacks.iter().map(|s| s.name.as_str()).collect();
    let index = |name: &str| names.iter().position(|n| *n == name);
    let components = cyclic_components(names.len(), &model.stack_edges);
    let reported: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::StackCycle)
        .collect();
    assert_eq!(
        reported.len(),
        components.len(),
        "stack cycles {components:?} of {names:?}, edges {:?}; reported:\n{}",
        model.stack_edges,
        listed()
    );
    for p in reported {
        let cycle: Vec<usize> = cycle_names(&p.message)
            .iter()
            .map(|n| index(n).unwrap_or_else(|| panic!("{p}: no stack {n:?}")))
            .collect();
        assert!(cycle.len() >= 3 && cycle.first() == cycle.last(), "{p}");
        for pair in cycle.windows(2) {
            assert!(
                model.stack_edges.contains(&(pair[0], pair[1])),
                "{p}: no such dependency"
            );
        }
    }
    // Cycles between the resources of each stack.
    for (s, st) in b.stacks.iter().enumerate() {
        let components = cyclic_components(st.resources.len(), &model.resource_edges[s]);
        let prefix = format!("{}/", st.name);
        let reported: Vec<&Problem> = problems
            .iter()
            .filter(|p| p.kind == ProblemKind::DependencyCycle && p.path.starts_with(&prefix))
            .collect();
        assert_eq!(
            reported.len(),
            components.len(),
            "resource cycles of {}: {components:?}, edges {:?}; reported:\n{}",
            st.name,
            model.resource_edges[s],
            listed()
        );
        for p in reported {
            let cycle: Vec<usize> = cycle_names(&p.message)
                .iter()
                .map(|n| {
                    st.resources
                        .iter()
                        .position(|r| r.logical_id == *n)
                        .unwrap_or_else(|| panic!("{p}: no resource {n:?}"))
                })
                .collect();
            assert!(cycle.len() >= 2 && cycle.first() == cycle.last(), "{p}");
            for pair in cycle.windows(2) {
                assert!(
                    model.resource_edges[s].contains(&(pair[0], pair[1])),
                    "{p}: no such edge"
                );
            }
        }
    }
}

/// The templates of a synthesis: every reference resolves, read from the JSON alone.
fn assert_references_resolve(synthesis: &Synthesis) {
    let stacks = synthesis.stacks();
    let position = |name: &str| stacks.iter().position(|s| s.name() == name);
    let mut exports: BTreeMap<String, &str> = BTreeMap::new();
    for st in stacks {
        for output in st
            .json()
            .get("Outputs")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(name) = output.1.pointer("/Export/Name").and_then(Json::as_str) {
                assert!(
                    exports.insert(name.to_owned(), st.name()).is_none(),
                    "export {name:?} twice"
                );
            }
        }
    }
    for (i, st) in stacks.iter().enumerate() {
        for dep in st.dependencies() {
            assert!(
                position(dep).is_some_and(|p| p < i),
                "{} depends on {dep}, which does not deploy before it",
                st.name()
            );
        }
        let t = st.json();
        let resources = t["Resources"].as_object().expect("Resources");
        assert!(!resources.is_empty(), "{}: no resources", st.name());
        let template = Template {
            stacks,
            i,
            resources,
            params: t
                .get("Parameters")
                .and_then(Json::as_object)
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            conds: t
                .get("Conditions")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default(),
            exports: &exports,
        };
        let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
        for (name, c) in &template.conds {
            let mut w = Walk {
                section: Section::Conditions,
                element: name.clone(),
                condition: None,
                holding: Vec::new(),
                uses: Vec::new(),
            };
            template.walk(&mut w, c);
        }
        for (id, r) in resources {
            let r = r.as_object().expect("resource object");
            assert!(r.get("Type").is_some_and(Json::is_string), "{id}: Type");
            let condition = r.get("Condition").map(|c| {
                let c = c.as_str().expect("Condition is a string");
                assert!(
                    template.conds.contains_key(c),
                    "{id}: condition {c:?} is not defined"
                );
                c.to_owned()
            });
            let mut w = Walk {
                section: Section::Resources,
                element: id.clone(),
                condition,
                holding: Vec::new(),
                uses: Vec::new(),
            };
            for (key, value) in r {
                match key.as_str() {
                    "Type" | "Condition" | "DeletionPolicy" | "UpdateReplacePolicy" => {}
                    "DependsOn" => {
                        let names: Vec<&Json> = match value {
                            Json::Array(items) => items.iter().collect(),
                            other => vec![other],
                        };
                        for name in names {
                            let name = name.as_str().expect("DependsOn names are strings");
                            assert!(
                                resources.contains_key(name),
                                "{id}: DependsOn {name:?} is not a resource"
                            );
                            w.uses.push(name.to_owned());
                        }
                    }
                    _ => template.walk(&mut w, value),
                }
            }
            for to in w.uses {
                edges.insert((id.clone(), to));
            }
        }
        for (name, o) in t
            .get("Outputs")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            let condition = o.get("Condition").map(|c| {
                let c = c.as_str().expect("Condition is a string");
                assert!(
                    template.conds.contains_key(c),
                    "output {name}: condition {c:?} is not defined"
                );
                c.to_owned()
            });
            let mut w = Walk {
                section: Section::Outputs,
                element: name.clone(),
                condition,
                holding: Vec::new(),
                uses: Vec::new(),
            };
            template.walk(&mut w, o);
        }
        // CloudFormation can order the resources.
        let ids: Vec<&String> = resources.keys().collect();
        let at = |id: &String| ids.iter().position(|i| *i == id).unwrap();
        let edges: BTreeSet<(usize, usize)> = edges.iter().map(|(a, b)| (at(a), at(b))).collect();
        assert!(
            cyclic_components(ids.len(), &edges).is_empty(),
            "{}: resources depend on each other in a cycle: {edges:?} of {ids:?}",
            st.name()
        );
    }
}

struct Template<'a> {
    stacks: &'a [omc_cdk_core::SynthesizedStack],
    i: usize,
    resources: &'a serde_json::Map<String, Json>,
    params: BTreeSet<String>,
    conds: serde_json::Map<String, Json>,
    exports: &'a BTreeMap<String, &'a str>,
}

struct Walk {
    section: Section,
    element: String,
    condition: Option<String>,
    holding: Vec<String>,
    /// Resources the element uses (for the order CloudFormation needs).
    uses: Vec<String>,
}

impl Template<'_> {
    fn implies(&self, held: &str, wanted: &str) -> bool {
        fn includes(t: &Template<'_>, e: &Json, wanted: &str, depth: usize) -> bool {
            if depth > 10 {
                return false;
            }
            if let Some(name) = e.get("Condition").and_then(Json::as_str) {
                return name == wanted
                    || t.conds
                        .get(name)
                        .is_some_and(|e| includes(t, e, wanted, depth + 1));
            }
            e.get("Fn::And")
                .and_then(Json::as_array)
                .is_some_and(|items| items.iter().any(|i| includes(t, i, wanted, depth + 1)))
        }
        held == wanted
            || self
                .conds
                .get(held)
                .is_some_and(|e| includes(self, e, wanted, 0))
    }

    /// A use of resource `id`, which must exist, and whose condition (if any) must hold
    /// wherever it is used.
    fn resource(&self, w: &mut Walk, id: &str) {
        assert!(
            self.resources.contains_key(id) && w.section != Section::Conditions,
            "{}: {} uses {id:?}, which is not a resource it can use",
            self.stacks[self.i].name(),
            w.element
        );
        if let Some(wanted) = self.resources[id].get("Condition").and_then(Json::as_str) {
            assert!(
                w.condition
                    .iter()
                    .chain(w.holding.iter())
                    .any(|h| self.implies(h, wanted)),
                "{}: {} uses {id:?}, which exists only under condition {wanted:?}",
                self.stacks[self.i].name(),
                w.element
            );
        }
        if w.section == Section::Resources {
            w.uses.push(id.to_owned());
        }
    }

    fn name(&self, w: &mut Walk, name: &str) {
        if pseudo(name) || self.params.contains(name) {
            return;
        }
        self.resource(w, name);
    }

    /// The producer of an imported value: another stack of the synthesis that deploys before
    /// this one, which depends on it.
    fn producer(&self, w: &Walk, producer: &str) -> usize {
        let me = &self.stacks[self.i];
        let p = self.stacks.iter().position(|s| s.name() == producer);
        assert!(
            p.is_some_and(|p| p < self.i) && me.dependencies().iter().any(|d| d == producer),
            "{}: {} imports from {producer:?}, which is not a dependency deployed before it",
            me.name(),
            w.element
        );
        p.unwrap()
    }

    fn walk(&self, w: &mut Walk, v: &Json) {
        match v {
            Json::Null => panic!("{}: {} has a null", self.stacks[self.i].name(), w.element),
            Json::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().unwrap();
                match key.as_str() {
                    "Ref" => self.name(w, arg.as_str().expect("Ref takes a name")),
                    "Fn::GetAtt" => {
                        let id = arg[0].as_str().expect("Fn::GetAtt names a resource");
                        assert!(arg[1].is_string(), "Fn::GetAtt attribute");
                        self.resource(w, id);
                    }
                    "Fn::Sub" => {
                        let (template, vars) = match arg {
                            Json::String(t) => (t.as_str(), None),
                            Json::Array(items) => {
                                (items[0].as_str().expect("template"), items[1].as_object())
                            }
                            other => panic!("Fn::Sub {other}"),
                        };
                        for variable in sub_variables(template) {
                            if vars.is_some_and(|v| v.contains_key(variable)) {
                                continue;
                            }
                            match variable.split_once('.') {
                                Some((id, _)) if !variable.starts_with("AWS::") => {
                                    self.resource(w, id);
                                }
                                _ => self.name(w, variable),
                            }
                        }
                        for value in vars.into_iter().flat_map(|v| v.values()) {
                            self.walk(w, value);
                        }
                    }
                    "Fn::If" => {
                        let c = arg[0].as_str().expect("Fn::If condition");
                        assert!(self.conds.contains_key(c), "{}: Fn::If of {c:?}", w.element);
                        w.holding.push(c.to_owned());
                        self.walk(w, &arg[1]);
                        w.holding.pop();
                        self.walk(w, &arg[2]);
                    }
                    "Condition" if w.section == Section::Conditions => {
                        let c = arg.as_str().expect("condition name");
                        assert!(self.conds.contains_key(c), "{}: Condition {c:?}", w.element);
                    }
                    "Fn::ImportValue" => {
                        let name = arg.as_str().expect("export names are literal here");
                        let producer = self.exports.get(name).unwrap_or_else(|| {
                            panic!("{}: imports {name:?}, which no stack exports", w.element)
                        });
                        self.producer(w, producer);
                    }
                    "Fn::GetStackOutput" => {
                        let stack = arg["StackName"].as_str().expect("StackName");
                        let output = arg["OutputName"].as_str().expect("OutputName");
                        let p = self.producer(w, stack);
                        assert!(
                            self.stacks[p]
                                .json()
                                .pointer(&format!("/Outputs/{output}"))
                                .is_some(),
                            "{}: reads output {output} of {stack}, which has none",
                            w.element
                        );
                    }
                    _ => self.walk(w, arg),
                }
            }
            Json::Object(map) => {
                // An intrinsic function is an object of one key: beside other keys, `Ref` and
                // `Fn::*` are not functions CloudFormation evaluates, and what they name is
                // neither resolved nor checked.
                for key in map.keys() {
                    assert!(
                        key != "Ref" && !key.starts_with("Fn::"),
                        "{}: {} has {key:?} beside other keys: {v}",
                        self.stacks[self.i].name(),
                        w.element
                    );
                }
                for value in map.values() {
                    self.walk(w, value);
                }
            }
            Json::Array(items) => {
                for item in items {
                    self.walk(w, item);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints, for determinism.

fn synthesis_text(synthesis: &Synthesis) -> String {
    let all: Vec<&omc_cdk_core::SynthesizedStack> = synthesis.stacks().iter().collect();
    // What `Synthesis::write` writes: the manifest, each template and each file.
    let mut out = Synthesis::manifest(&all);
    for st in synthesis.stacks() {
        let _ = write!(out, "\n== {}\n{}", st.template_file(), st.template());
        for (name, contents) in st.files() {
            let _ = write!(out, "\n== {}.{name}\n{contents}", st.name());
        }
        let _ = write!(out, "\n{:?} {:?}", st.dependencies(), st.paths());
    }
    if let Some(report) = synthesis.checks() {
        let _ = write!(out, "\n== checks\n{}", report.to_json());
    }
    out
}

fn outcome_text(result: &Result<Synthesis, Error>) -> String {
    match result {
        Ok(s) => synthesis_text(s),
        Err(e) => {
            let mut out = format!("{e}\n{:?}", e.problems());
            if let Error::Checks(failed) = e {
                out.push_str(&synthesis_text(&failed.synthesis));
            }
            out
        }
    }
}

/// A synthesis result that is one of the typed outcomes: templates, problems, or check errors
/// (with the templates).
fn assert_typed(what: &str, result: &Result<Synthesis, Error>) {
    match result {
        Ok(_) | Err(Error::Checks(_)) => {}
        Err(Error::Synthesis(problems)) => assert!(!problems.is_empty(), "{what}: no problems"),
        Err(other) => panic!("{what}: unexpected error {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The properties.

proptest! {
    // `PROPTEST_CASES` overrides the number of cases (default 256). The seeds of failures are
    // saved in `properties.proptest-regressions` beside this file, committed, and replayed
    // before new cases.
    #![proptest_config(ProptestConfig::default())]

    /// Building and synthesizing never panic: every call returns a value or a typed error.
    #[test]
    fn building_and_synthesizing_never_panic(plan in plan()) {
        let (app, built) = build(&plan);
        let checked = app.synth();
        assert_typed("synth", &checked);
        let unchecked = app.synth_unchecked();
        assert_typed("synth_unchecked", &unchecked);
        // The checks run only on templates that synthesize.
        match (&unchecked, &checked) {
            (Err(Error::Synthesis(a)), Err(Error::Synthesis(b))) => prop_assert_eq!(a, b),
            (Ok(_), Ok(_) | Err(Error::Checks(_))) => {}
            (a, b) => prop_assert!(false, "synth_unchecked {:?} but synth {:?}", a.is_ok(), b.is_ok()),
        }
        match app.check() {
            Ok(report) => prop_assert_eq!(report.has_errors(), matches!(checked, Err(Error::Checks(_)))),
            Err(Error::Synthesis(_)) => prop_assert!(unchecked.is_err()),
            Err(other) => prop_assert!(false, "check: unexpected error {:?}", other),
        }
        let synthesis = match (checked, unchecked) {
            (Ok(s), _) => Some(s),
            (Err(Error::Checks(failed)), _) => Some(failed.synthesis),
            (_, Ok(s)) => Some(s),
            _ => None,
        };
        if let Some(synthesis) = synthesis {
            prop_assert_eq!(synthesis.stacks().len(), built.stacks.len());
            prop_assert!(synthesis.select(&[]).is_ok());
            for st in synthesis.stacks() {
                for id in st.paths().keys() {
                    prop_assert!(st.line_of(id).is_some(), "{}: no line for {}", st.name(), id);
                }
            }
        }
    }

    /// The same plan, built twice, synthesizes to the same bytes and the same errors.
    #[test]
    fn synthesis_is_deterministic(plan in plan()) {
        let (first_app, first) = build(&plan);
        let (second_app, second) = build(&plan);
        prop_assert_eq!(format!("{first:?}"), format!("{second:?}"));
        prop_assert_eq!(outcome_text(&first_app.synth()), outcome_text(&second_app.synth()));
        prop_assert_eq!(
            outcome_text(&first_app.synth_unchecked()),
            outcome_text(&second_app.synth_unchecked())
        );
    }

    /// Every reference resolves or is reported: templates that synthesize reference only what
    /// exists, and plans with faults fail with exactly the problems the model predicts.
    #[test]
    fn every_reference_resolves_or_is_reported(plan in plan()) {
        let (app, built) = build(&plan);
        let model = Model::new(&built);
        match app.synth_unchecked() {
            Ok(synthesis) => {
                assert_references_resolve(&synthesis);
                prop_assert!(
                    model.faults.is_empty(),
                    "synthesis succeeded, but these faults must be reported: {:#?}",
                    model.faults
                );
            }
            Err(Error::Synthesis(problems)) => assert_reported(&model, &problems),
            Err(other) => prop_assert!(false, "unexpected error {:?}", other),
        }
    }
}

/// What the generator covers: how many plans synthesize, how many fail, and with which
/// problems (`cargo test -p omc-cdk-core --test properties -- --ignored --nocapture`).
#[test]
#[ignore = "prints statistics of the generator"]
fn generator_statistics() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let cases = 2000;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut shown = 0;
    for _ in 0..cases {
        let plan = plan().new_tree(&mut runner).unwrap().current();
        let mode = if plan.wild { "wild" } else { "tame" };
        let mut count = |key: String| *counts.entry(format!("{mode} {key}")).or_default() += 1;
        let (app, built) = build(&plan);
        let model = Model::new(&built);
        count(format!("refused calls: {}", built.log.len().min(5)));
        count(format!("stacks built: {}", built.stacks.len()));
        count(format!("expected faults: {}", model.faults.len().min(5)));
        match app.synth_unchecked() {
            Ok(_) => count("synthesis: ok".into()),
            Err(e) => {
                if !plan.wild && shown < 8 && std::env::var_os("SHOW").is_some() {
                    shown += 1;
                    println!("{e}");
                }
                count("synthesis: problems".into());
                let kinds: BTreeSet<String> = e
                    .problems()
                    .iter()
                    .map(|p| format!("{:?}", p.kind))
                    .collect();
                for k in kinds {
                    count(format!("problem kind: {k}"));
                }
            }
        }
        match app.synth() {
            Ok(_) => count("synth with checks: ok".into()),
            Err(Error::Checks(_)) => count("synth with checks: check errors".into()),
            Err(_) => count("synth with checks: problems".into()),
        }
        for method in [
            "Stack::new",
            "add_parameter",
            "child",
            "add(",
            "add_condition",
            "set_condition",
            "add_depends_on",
            "override_logical_id",
            "add_output",
            "add_dependency",
        ] {
            if built.log.iter().any(|l| l.contains(method)) {
                count(format!("refused: {method}"));
            }
        }
    }
    for (k, v) in counts {
        println!("{k:40} {v:5} ({:.1}%)", 100.0 * v as f64 / f64::from(cases));
    }
}
