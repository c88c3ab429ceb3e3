//! `diff --against DIR`: the review of a change, offline, on the OMC staging app.
//!
//! The base is staging's own synthesis, edited the way an earlier version of the app would
//! have written it; the head is the app with one more edit. Together they exercise each kind of
//! finding: a database property that forces replacement (the base named the database
//! differently), a role gaining wildcard actions (the base's execution role lacked `s3:*`), a
//! security group opened to the internet on port 22 (added to the head), an export removed
//! while another stack imports it (the base had one more), a task size change that changes
//! cost (the base's backend was smaller), and a new check finding.

use std::path::{Path, PathBuf};

use omc_cdk::{App, RawResource};
use serde_json::{Value as Json, json};

use crate::output_dir;

fn edit(dir: &Path, stack: &str, change: impl FnOnce(&mut Json)) {
    let path = dir.join(format!("{stack}.template.json"));
    let mut template: Json =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut template);
    std::fs::write(&path, serde_json::to_string_pretty(&template).unwrap()).unwrap();
}

fn resource_of_type<'t>(template: &'t mut Json, type_name: &str, prefix: &str) -> &'t mut Json {
    let resources = template["Resources"].as_object_mut().unwrap();
    resources
        .iter_mut()
        .find(|(id, r)| id.starts_with(prefix) && r["Type"] == type_name)
        .map_or_else(|| panic!("no {type_name} {prefix}*"), |(_, r)| r)
}

/// The base directory and the head app.
fn scenario(name: &str) -> (PathBuf, App) {
    let dir = output_dir(name);
    let base = apps::staging().unwrap().synth().unwrap();
    base.write(&dir).unwrap();
    edit(&dir, "OmcStaging-Data", |t| {
        let db = resource_of_type(t, "AWS::RDS::DBInstance", "Database");
        db["Properties"]["DBName"] = json!("legacy");
        t["Outputs"]["LegacyEndpoint"] = json!({
            "Value": "legacy.internal",
            "Export": { "Name": "OmcStaging-Data:LegacyEndpoint" }
        });
    });
    edit(&dir, "OmcStaging-Monitoring", |t| {
        t["Outputs"]["UsesLegacy"] =
            json!({ "Value": { "Fn::ImportValue": "OmcStaging-Data:LegacyEndpoint" } });
    });
    edit(&dir, "OmcStaging-Delivery", |t| {
        let role = resource_of_type(t, "AWS::IAM::Role", "DeployExecutionRole");
        for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap()
        {
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.retain(|a| a != "s3:*");
            }
        }
    });
    edit(&dir, "OmcStaging-Services", |t| {
        let task = resource_of_type(t, "AWS::ECS::TaskDefinition", "BackendTaskDefinition");
        task["Properties"]["Cpu"] = json!("256");
        task["Properties"]["Memory"] = json!("512");
    });
    let head = apps::staging().unwrap();
    let services = head.stack("OmcStaging-Services").unwrap();
    services
        .add(
            "Ssh",
            RawResource::new("AWS::EC2::SecurityGroupIngress")
                .property("GroupId", "sg-0123456789abcdef0")
                .property("IpProtocol", "tcp")
                .property("FromPort", 22)
                .property("ToPort", 22)
                .property("CidrIp", "0.0.0.0/0")
                .property("Description", "debugging"),
        )
        .unwrap();
    (dir, head)
}

fn run(app: &App, args: &[&str]) -> (u8, String, String) {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut command_line = vec!["staging".to_owned()];
    command_line.extend(args.iter().map(|a| (*a).to_owned()));
    let code = app.run_with(command_line, &mut stdout, &mut stderr);
    (
        code,
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

#[test]
fn the_review_puts_the_replaced_database_and_port_22_first() {
    let (dir, app) = scenario("review-markdown");
    let against = dir.to_str().unwrap();
    let (code, markdown, stderr) = run(
        &app,
        &["diff", "--against", against, "--format", "markdown"],
    );
    assert_eq!(code, 0, "{stderr}");
    // The dangers come first, the database's data loss and the internet-wide port first of
    // all.
    let first: Vec<&str> = markdown
        .lines()
        .skip_while(|l| !l.starts_with("### Look at these first"))
        .skip(2)
        .take(3)
        .collect();
    assert!(
        first[0].contains("OmcStaging-Data/Database/Resource (AWS::RDS::DBInstance) is replaced (changing DBName): data is lost"),
        "{markdown}"
    );
    assert!(
        first
            .iter()
            .any(|l| l.contains("ingress tcp port 22 from 0.0.0.0/0")
                && l.contains("open to the internet")),
        "{markdown}"
    );
    assert!(
        first.iter().any(|l| l.contains("export OmcStaging-Data:LegacyEndpoint is removed while OmcStaging-Monitoring still imports it: the deploy fails")),
        "{markdown}"
    );
    assert!(markdown.chars().count() < omc_cdk::template::review::GITHUB_COMMENT_LIMIT);
    insta::assert_snapshot!("review_staging_markdown", markdown);

    let (code, text, _) = run(&app, &["diff", "--against", against]);
    assert_eq!(code, 0);
    assert!(!text.contains('\u{1b}'), "no colours off a terminal");
    insta::assert_snapshot!("review_staging_text", text);
}

#[test]
fn the_review_as_json_field_by_field() {
    let (dir, app) = scenario("review-json");
    let (code, stdout, stderr) = run(
        &app,
        &[
            "diff",
            "--against",
            dir.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let review: Json = serde_json::from_str(&stdout).unwrap();
    let stack = |name: &str| {
        review["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .cloned()
            .unwrap()
    };
    // Most dangerous first: the data stack loses its database.
    assert_eq!(review["stacks"][0]["name"], "OmcStaging-Data");
    let data = stack("OmcStaging-Data");
    assert_eq!(data["change"], "modified");
    assert_eq!(data["replacements"][0]["type"], "AWS::RDS::DBInstance");
    assert_eq!(
        data["replacements"][0]["path"],
        "OmcStaging-Data/Database/Resource"
    );
    assert_eq!(data["replacements"][0]["forcedBy"], json!(["DBName"]));
    assert_eq!(data["replacements"][0]["certain"], true);
    assert_eq!(data["replacements"][0]["stateful"], true);
    assert_eq!(data["replacements"][0]["data"], "lost");
    assert_eq!(
        data["exports"],
        json!([{ "name": "OmcStaging-Data:LegacyEndpoint", "output": "LegacyEndpoint", "change": "removed", "importedBy": ["OmcStaging-Monitoring"] }])
    );
    assert!(
        data["settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["section"] == "Outputs"
                && s["name"] == "LegacyEndpoint"
                && s["change"] == "removed")
    );

    let services = stack("OmcStaging-Services");
    let ssh = services["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["grant"]["ports"] == "22")
        .cloned()
        .unwrap();
    assert_eq!(ssh["direction"], "widens");
    assert_eq!(ssh["added"], true);
    assert_eq!(ssh["kind"], "security-group-rule");
    assert_eq!(ssh["internet"], true);
    assert_eq!(
        ssh["grant"],
        json!({ "group": "sg-0123456789abcdef0", "direction": "ingress", "peer": "0.0.0.0/0", "protocol": "tcp", "ports": "22" })
    );
    let backend = services["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "OmcStaging-Services/Backend/TaskDefinition")
        .cloned()
        .unwrap();
    assert_eq!(backend["change"], "modified");
    let cpu = backend["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Cpu")
        .cloned()
        .unwrap();
    assert_eq!(
        (cpu["old"].clone(), cpu["new"].clone()),
        (json!("256"), json!("512"))
    );

    let delivery = stack("OmcStaging-Delivery");
    let widened: Vec<&Json> = delivery["access"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["direction"] == "widens")
        .collect();
    assert_eq!(widened.len(), 1, "{delivery:#}");
    assert_eq!(widened[0]["kind"], "statement");
    assert_eq!(widened[0]["wildcard"], true);
    // The statement only gained an action: the review shows that action, not the statement
    // twice.
    assert_eq!(
        widened[0]["grant"]["actions"],
        json!(["s3:*"]),
        "{delivery:#}"
    );
    assert_eq!(widened[0]["grant"]["resources"], json!(["*"]));
    assert_eq!(
        delivery["access"].as_array().unwrap().len(),
        1,
        "{delivery:#}"
    );

    // The backend doubled: the services stack costs more, by the task's price.
    let cost = &review["cost"];
    let change = cost["change"].as_f64().unwrap();
    assert!(change > 5.0 && change < 20.0, "{cost:#}");
    let services_cost = cost["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "OmcStaging-Services")
        .cloned()
        .unwrap();
    assert!(services_cost["after"].as_f64() > services_cost["before"].as_f64());

    // The head's open port is a new check error.
    assert!(
        review["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["appeared"] == true
                && f["rule"] == "sg-open-ingress"
                && f["severity"] == "error"),
        "{:#}",
        review["findings"]
    );
}

#[test]
fn fail_on_gates_exit_one_only_for_what_they_name() {
    let (dir, app) = scenario("review-fail-on");
    let against = dir.to_str().unwrap();
    for (what, code) in [
        ("replacement", 1),
        ("widening", 1),
        ("stateful", 1),
        ("any", 1),
    ] {
        let (got, _, stderr) = run(&app, &["diff", "--against", against, "--fail-on", what]);
        assert_eq!(got, code, "--fail-on {what}: {stderr}");
    }
    // Against its own synthesis nothing differs: every gate passes.
    let own = output_dir("review-own");
    apps::staging()
        .unwrap()
        .synth()
        .unwrap()
        .write(&own)
        .unwrap();
    let staging = apps::staging().unwrap();
    for what in ["replacement", "widening", "stateful", "any"] {
        let (code, stdout, stderr) = run(
            &staging,
            &[
                "diff",
                "--against",
                own.to_str().unwrap(),
                "--fail-on",
                what,
            ],
        );
        assert_eq!(code, 0, "--fail-on {what}: {stdout}{stderr}");
        assert_eq!(stdout, "No differences.\n");
    }
    // A directory that synth did not write is a usage error naming it.
    let (code, _, stderr) = run(&staging, &["diff", "--against", "/nonexistent/base"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: cannot read /nonexistent/base/manifest.json"),
        "{stderr}"
    );
}

mod properties {
    use omc_cdk::template::diff::ChangeKind;
    use omc_cdk::template::review::{Direction, Review, StackPair, StackSide};
    use proptest::prelude::*;
    use serde_json::{Value as Json, json};

    /// A random template over a small pool of logical ids: security groups with rules, roles
    /// with statements, buckets with public-access settings, exports.
    fn template() -> impl Strategy<Value = Json> {
        let rule = (
            prop::sample::select(vec![22, 80, 443, 5432]),
            prop::sample::select(vec!["0.0.0.0/0", "10.0.0.0/8", "::/0"]),
        )
            .prop_map(|(port, cidr)| {
                let key = if cidr.contains(':') {
                    "CidrIpv6"
                } else {
                    "CidrIp"
                };
                json!({ "IpProtocol": "tcp", "FromPort": port, "ToPort": port, key: cidr })
            });
        let statement = (
            prop::sample::select(vec!["Allow", "Deny"]),
            prop::sample::subsequence(vec!["s3:GetObject", "s3:*", "sqs:SendMessage", "*"], 1..3),
            prop::sample::select(vec!["*", "arn:aws:s3:::b/*"]),
        )
            .prop_map(|(effect, actions, resource)| {
                json!({ "Effect": effect, "Action": actions, "Resource": resource })
            });
        let sg = prop::collection::vec(rule, 0..3).prop_map(|rules| {
            json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "g", "SecurityGroupIngress": rules } })
        });
        let iam_role = prop::collection::vec(statement, 0..3).prop_map(|statements| {
            json!({ "Type": "AWS::IAM::Role", "Properties": { "AssumeRolePolicyDocument": {},
                "Policies": [{ "PolicyName": "p", "PolicyDocument": { "Statement": statements } }] } })
        });
        let bucket = (any::<bool>(), any::<bool>()).prop_map(|(acls, name)| {
            let mut props = json!({ "PublicAccessBlockConfiguration": { "BlockPublicAcls": acls, "BlockPublicPolicy": true } });
            if name {
                props["BucketName"] = json!("fixed-name");
            }
            json!({ "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props })
        });
        (
            prop::option::of(sg.clone()),
            prop::option::of(sg),
            prop::option::of(iam_role),
            prop::option::of(bucket),
            prop::option::of(Just(
                json!({ "Value": "v", "Export": { "Name": "Shared:Value" } }),
            )),
        )
            .prop_map(|(web, db, role, bucket, export)| {
                let mut resources = serde_json::Map::new();
                for (id, r) in [("Web", web), ("Db", db), ("Role", role), ("Bucket", bucket)] {
                    if let Some(r) = r {
                        resources.insert(id.to_owned(), r);
                    }
                }
                let mut t = json!({ "Resources": resources });
                if let Some(e) = export {
                    t["Outputs"] = json!({ "Shared": e });
                }
                t
            })
    }

    fn review(old: &Json, new: &Json) -> Review {
        Review::new(
            &[StackPair {
                name: "Stack".into(),
                old: Some(StackSide::template(old.clone())),
                new: Some(StackSide::template(new.clone())),
            }],
            Some(omc_constructs::cfn::schema::find),
        )
    }

    fn inverse(kind: ChangeKind) -> ChangeKind {
        match kind {
            ChangeKind::Added => ChangeKind::Removed,
            ChangeKind::Removed => ChangeKind::Added,
            ChangeKind::Modified => ChangeKind::Modified,
        }
    }

    proptest! {
        #[test]
        fn a_template_against_itself_is_no_change(t in template()) {
            let r = review(&t, &t);
            prop_assert!(r.is_empty(), "{r:#?}");
            prop_assert_eq!(omc_cdk::template::review::render_text(&r, omc_cdk::template::review::Style { color: false }), "No differences.\n");
        }

        #[test]
        fn the_review_of_b_against_a_is_the_inverse(a in template(), b in template()) {
            let (forward, backward) = (review(&a, &b), review(&b, &a));
            let (f, g) = (&forward.stacks[0], &backward.stacks[0]);
            let mut resources: Vec<(String, ChangeKind)> = f.diff.resources.iter().map(|r| (r.logical_id.clone(), inverse(r.kind))).collect();
            let mut back: Vec<(String, ChangeKind)> = g.diff.resources.iter().map(|r| (r.logical_id.clone(), r.kind)).collect();
            resources.sort_by(|x, y| x.0.cmp(&y.0));
            back.sort_by(|x, y| x.0.cmp(&y.0));
            prop_assert_eq!(resources, back);
            // Every grant that appears one way disappears the other way, with the opposite
            // effect on access.
            let flip = |d: Direction| if d == Direction::Widens { Direction::Narrows } else { Direction::Widens };
            let mut access: Vec<String> = f.access.iter().map(|a| format!("{} {} {:?} {}", a.logical_id, a.grant.describe(), flip(a.direction), !a.added)).collect();
            let mut access_back: Vec<String> = g.access.iter().map(|a| format!("{} {} {:?} {}", a.logical_id, a.grant.describe(), a.direction, a.added)).collect();
            access.sort();
            access_back.sort();
            prop_assert_eq!(access, access_back);
            let settings: Vec<(String, String, ChangeKind)> = f.settings.iter().map(|s| (s.section.clone(), s.name.clone(), inverse(s.kind))).collect();
            let settings_back: Vec<(String, String, ChangeKind)> = g.settings.iter().map(|s| (s.section.clone(), s.name.clone(), s.kind)).collect();
            prop_assert_eq!(settings, settings_back);
            // A replacement is a replacement both ways.
            let replaced = |r: &Review| r.stacks[0].replacements.iter().map(|x| x.logical_id.clone()).collect::<Vec<_>>();
            prop_assert_eq!(replaced(&forward), replaced(&backward));
        }
    }

    /// Every fixture's synthesis against itself: nothing differs.
    #[test]
    fn every_fixture_against_itself_is_no_change() {
        for fixture in omc_tests::FIXTURES {
            let synthesis = (fixture.build)().unwrap().synth_unchecked().unwrap();
            let pairs: Vec<StackPair> = synthesis
                .stacks()
                .iter()
                .map(|s| StackPair {
                    name: s.name().to_owned(),
                    old: Some(StackSide::template(s.template_json())),
                    new: Some(StackSide::template(s.template_json())),
                })
                .collect();
            let r = Review::new(&pairs, Some(omc_constructs::cfn::schema::find));
            assert!(r.is_empty(), "{}", fixture.name);
        }
    }
}

/// A review longer than a comment allows folds the least important parts first and says
/// what it folded; the summary and the dangers stay.
#[test]
fn a_long_review_folds_to_fit_a_comment() {
    let synthesis = apps::production().unwrap().synth().unwrap();
    // Against nothing deployed: every resource of every stack is new.
    let pairs: Vec<omc_cdk::template::review::StackPair> = synthesis
        .stacks()
        .iter()
        .map(|s| omc_cdk::template::review::StackPair {
            name: s.name().to_owned(),
            old: None,
            new: Some(omc_cdk::template::review::StackSide::template(
                s.template_json(),
            )),
        })
        .collect();
    let review = omc_cdk::template::review::Review::new(&pairs, None);
    let full = omc_cdk::template::review::render_markdown(&review, usize::MAX);
    assert!(!full.contains("Folded"), "nothing folded without a limit");
    for limit in [20_000, 8_000] {
        let folded = omc_cdk::template::review::render_markdown(&review, limit);
        assert!(
            folded.chars().count() <= limit,
            "{limit}: {}",
            folded.chars().count()
        );
        assert!(
            folded.starts_with("## Infrastructure review\n\n| Stack |"),
            "{folded}"
        );
        assert!(
            folded.contains("_Folded to fit a comment: ")
                || folded.contains("_The review was cut to fit a comment"),
            "{folded}"
        );
    }
    let folded = omc_cdk::template::review::render_markdown(&review, 20_000);
    assert!(
        folded.contains("_Folded to fit a comment: OmcProduction-"),
        "{folded}"
    );
    assert!(folded.contains("### Look at these first"), "{folded}");
    // The least important go first: a limit just under the full length folds the lists of
    // resources (every one is new here, so there are no property-level details to fold).
    let just_under = full.chars().count() - 1;
    let lightly = omc_cdk::template::review::render_markdown(&review, just_under);
    assert!(lightly.contains(" resource changes"), "{lightly}");
    assert!(lightly.contains("<details>"), "{lightly}");
    assert!(lightly.contains("**Access**"), "{lightly}");
}

/// The engine on small templates: the cases an independent review found wrong, and each
/// `--fail-on` gate firing for its own kind of change only.
// The helpers take `json!` literals by value, for readable cases.
#[allow(clippy::needless_pass_by_value)]
mod cases {
    use omc_cdk::template::review::{
        Direction, FailOn, Fate, Review, StackPair, StackSide, render_markdown,
    };
    use serde_json::{Value as Json, json};

    fn review(old: Json, new: Json) -> Review {
        Review::new(
            &[StackPair {
                name: "S".into(),
                old: Some(StackSide::template(json!({ "Resources": old }))),
                new: Some(StackSide::template(json!({ "Resources": new }))),
            }],
            Some(omc_constructs::cfn::schema::find),
        )
    }

    fn gates(r: &Review) -> [bool; 3] {
        [
            r.fails(FailOn::Replacement),
            r.fails(FailOn::Widening),
            r.fails(FailOn::Stateful),
        ]
    }

    fn role(statement: Json) -> Json {
        json!({ "Type": "AWS::IAM::Role", "Properties": { "AssumeRolePolicyDocument": {},
            "Policies": [{ "PolicyName": "p", "PolicyDocument": { "Statement": [statement] } }] } })
    }

    fn sg(rules: Json) -> Json {
        json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": { "GroupDescription": "g", "SecurityGroupIngress": rules } })
    }

    #[test]
    fn each_gate_fires_for_its_own_kind_of_change_only() {
        // Only widening: a port opened.
        let r = review(
            json!({ "G": sg(json!([])) }),
            json!({ "G": sg(json!([{ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/8" }])) }),
        );
        assert_eq!(gates(&r), [false, true, false]);
        // Only a stateless replacement: a launch template's name.
        let r = review(
            json!({ "L": { "Type": "AWS::EC2::LaunchTemplate", "Properties": { "LaunchTemplateName": "a", "LaunchTemplateData": {} } } }),
            json!({ "L": { "Type": "AWS::EC2::LaunchTemplate", "Properties": { "LaunchTemplateName": "b", "LaunchTemplateData": {} } } }),
        );
        assert_eq!(gates(&r), [true, false, false]);
        // Only a stateful removal: a queue.
        let r = review(
            json!({ "Q": { "Type": "AWS::SQS::Queue", "Properties": {} } }),
            json!({}),
        );
        assert_eq!(gates(&r), [false, false, true]);
        assert!(r.fails(FailOn::Any));
    }

    #[test]
    fn not_action_is_compared_as_whole_statements() {
        // Dropping s3:* from NotAction allows S3: a widening.
        let r = review(
            json!({ "R": role(json!({ "Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": "*" })) }),
            json!({ "R": role(json!({ "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*" })) }),
        );
        let widened: Vec<String> = r.stacks[0]
            .access
            .iter()
            .filter(|a| a.direction == Direction::Widens)
            .map(|a| a.grant.describe())
            .collect();
        assert_eq!(widened, ["inline policy p: Allow NOT iam:* on *"]);
        assert!(r.fails(FailOn::Widening));
    }

    #[test]
    fn not_principal_allows_everyone_else() {
        let r = review(
            json!({}),
            json!({ "P": { "Type": "AWS::SQS::QueuePolicy", "Properties": { "Queues": ["q"], "PolicyDocument": { "Statement": [
                { "Effect": "Allow", "NotPrincipal": { "AWS": "arn:aws:iam::123456789012:root" }, "Action": "sqs:SendMessage", "Resource": "*" }
            ] } } } }),
        );
        let access = &r.stacks[0].access;
        assert_eq!(access.len(), 1);
        assert!(access[0].grant.internet(), "{:?}", access[0].grant);
    }

    #[test]
    fn protocol_numbers_and_names_are_the_same_rule() {
        let r = review(
            json!({ "G": sg(json!([{ "IpProtocol": "6", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0" },
                                   { "IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/8" }])) }),
            json!({ "G": sg(json!([{ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0" },
                                   { "IpProtocol": "1", "FromPort": -1, "ToPort": -1, "CidrIp": "10.0.0.0/8" }])) }),
        );
        assert!(r.stacks[0].access.is_empty(), "{:?}", r.stacks[0].access);
        let r = review(
            json!({ "G": sg(json!([])) }),
            json!({ "G": sg(json!([{ "IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "CidrIp": "10.0.0.0/8" }])) }),
        );
        assert_eq!(
            r.stacks[0].access[0].grant.describe(),
            "ingress icmp port type 8 from 10.0.0.0/8"
        );
    }

    #[test]
    fn removing_a_bucket_with_its_policy_widens_nothing_but_removing_the_policy_alone_does() {
        let bucket =
            json!({ "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {} });
        let policy = json!({ "Type": "AWS::S3::BucketPolicy", "Properties": { "Bucket": { "Ref": "B" },
            "PolicyDocument": { "Statement": [{ "Effect": "Deny", "Principal": { "AWS": "*" }, "Action": "s3:*", "Resource": "*",
                "Condition": { "Bool": { "aws:SecureTransport": "false" } } }] } } });
        let both_gone = review(
            json!({ "B": bucket.clone(), "P": policy.clone() }),
            json!({}),
        );
        assert!(
            !both_gone.fails(FailOn::Widening),
            "{:?}",
            both_gone.stacks[0].access
        );
        assert_eq!(both_gone.stacks[0].removals[0].fate, Fate::Retained);
        let policy_gone = review(
            json!({ "B": bucket.clone(), "P": policy }),
            json!({ "B": bucket }),
        );
        assert!(
            policy_gone.fails(FailOn::Widening),
            "{:?}",
            policy_gone.stacks[0].access
        );
    }

    #[test]
    fn data_fates_follow_cloudformation_defaults() {
        // A database without a deletion policy: CloudFormation snapshots it.
        let r = review(
            json!({ "Db": { "Type": "AWS::RDS::DBInstance", "Properties": { "Engine": "postgres" } } }),
            json!({}),
        );
        assert_eq!(r.stacks[0].removals[0].fate, Fate::SnapshotKept);
        assert_eq!(r.stacks[0].data_lost(), 0);
        // A table without one: its data is gone.
        let r = review(
            json!({ "T": { "Type": "AWS::DynamoDB::Table", "Properties": {} } }),
            json!({}),
        );
        assert_eq!(r.stacks[0].removals[0].fate, Fate::Lost);
        // A replacement that also weakens the policy reports the weaker one.
        let r = review(
            json!({ "Db": { "Type": "AWS::RDS::DBInstance", "UpdateReplacePolicy": "Snapshot", "Properties": { "DBName": "a" } } }),
            json!({ "Db": { "Type": "AWS::RDS::DBInstance", "UpdateReplacePolicy": "Delete", "Properties": { "DBName": "b" } } }),
        );
        assert_eq!(r.stacks[0].replacements[0].fate, Fate::Lost);
    }

    #[test]
    fn a_property_no_schema_knows_may_replace() {
        let r = Review::new(
            &[StackPair {
                name: "S".into(),
                old: Some(StackSide::template(
                    json!({ "Resources": { "X": { "Type": "Custom::Thing", "Properties": { "Size": 1 } } } }),
                )),
                new: Some(StackSide::template(
                    json!({ "Resources": { "X": { "Type": "Custom::Thing", "Properties": { "Size": 2 } } } }),
                )),
            }],
            None,
        );
        let replaced = &r.stacks[0].replacements[0];
        assert!(!replaced.certain);
        assert_eq!(replaced.forced_by, ["Size (schema unknown)"]);
        assert!(r.fails(FailOn::Replacement));
    }

    #[test]
    fn markdown_escapes_wildcards_and_pipes() {
        let r = review(
            json!({ "R": role(json!({ "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::a/*" })) }),
            json!({ "R": role(json!({ "Effect": "Allow", "Action": ["s3:GetObject", "s3:*"], "Resource": "arn:aws:s3:::a/*" })) }),
        );
        let markdown = render_markdown(&r, usize::MAX);
        assert!(
            markdown.contains("inline policy p: Allow s3:\\* on arn:aws:s3:::a/\\*"),
            "{markdown}"
        );
        for limit in [10, 40, 300] {
            assert!(
                render_markdown(&r, limit).chars().count() <= limit,
                "{limit}"
            );
        }
    }

    /// Access follows attachments: a policy attached to one more role widens that role's
    /// access, and a rule moved to another security group opens that group.
    #[test]
    fn attaching_a_policy_or_moving_a_rule_changes_access() {
        let policy = |roles: Json| {
            json!({ "Type": "AWS::IAM::ManagedPolicy", "Properties": { "Roles": roles,
                "PolicyDocument": { "Statement": [{ "Effect": "Allow", "Action": "s3:*", "Resource": "*" }] } } })
        };
        let r = review(
            json!({ "P": policy(json!([{ "Ref": "Ci" }])) }),
            json!({ "P": policy(json!([{ "Ref": "Ci" }, { "Ref": "App" }])) }),
        );
        let access: Vec<String> = r.stacks[0]
            .access
            .iter()
            .map(|a| format!("{:?} {}", a.direction, a.grant.describe()))
            .collect();
        assert_eq!(
            access,
            ["Widens policy attached to App: Allow s3:* on *"],
            "only the newly attached role gains access"
        );
        let rule = |group: &str| {
            json!({ "Type": "AWS::EC2::SecurityGroupIngress", "Properties": { "GroupId": { "Fn::GetAtt": [group, "GroupId"] },
                "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.0.0.0/16" } })
        };
        let r = review(json!({ "R": rule("Cache") }), json!({ "R": rule("Db") }));
        let access: Vec<String> = r.stacks[0]
            .access
            .iter()
            .map(|a| format!("{:?} {}", a.direction, a.grant.describe()))
            .collect();
        assert_eq!(
            access,
            [
                "Widens ingress tcp port 5432 from 10.0.0.0/16 (security group Db.GroupId)",
                "Narrows ingress tcp port 5432 from 10.0.0.0/16 (security group Cache.GroupId)",
            ]
        );
    }

    #[test]
    fn importers_outside_the_compared_stacks_count() {
        let exporter = |exported: bool| {
            let mut t =
                json!({ "Resources": { "Q": { "Type": "AWS::SQS::Queue", "Properties": {} } } });
            if exported {
                t["Outputs"] =
                    json!({ "Q": { "Value": { "Ref": "Q" }, "Export": { "Name": "Net:Q" } } });
            }
            t
        };
        let importer =
            json!({ "Outputs": { "Uses": { "Value": { "Fn::ImportValue": "Net:Q" } } } });
        let r = Review::with_others(
            &[StackPair {
                name: "Net".into(),
                old: Some(StackSide::template(exporter(true))),
                new: Some(StackSide::template(exporter(false))),
            }],
            &[("App", &importer)],
            None,
        );
        assert_eq!(r.stacks[0].exports[0].imported_by, ["App"]);
    }
}
