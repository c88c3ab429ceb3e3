//! Delivery: `EcrRepository`, `ContainerImage::from_repository`, the GitHub OIDC provider,
//! `GitHubActionsRole` and `DeployRoles`: resources, least privilege of the synthesized
//! policies, cross-stack references, bad input.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{App, Environment, Error, Json, Stack, StackProps, testing};
use omc_constructs::{
    Cluster, ClusterProps, ContainerImage, ContainerProps, DeployRoles, DeployRolesProps,
    EcrRepository, EcrRepositoryAttributes, EcrRepositoryProps, FargateService,
    FargateServiceProps, GitHubActionsRole, GitHubActionsRoleProps, GitHubOidcProvider,
    GitHubOidcProviderProps, GitHubSubject, Key, KeyProps, Principal, Role, RoleProps, Vpc,
    VpcProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STAGING: &str = "210987654321";
const PRODUCTION: &str = "123456789012";

fn only<'t>(t: &'t Template, type_name: &str) -> &'t Json {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}: {found:?}");
    found[0].1
}

fn statements(role: &Json) -> Vec<Json> {
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn strings(value: &Json) -> Vec<Json> {
    match value {
        Json::Array(items) => items.clone(),
        Json::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The whole message of an `InvalidProp`, checking its field.
fn refused(err: &Error, expected_field: &str) -> String {
    match err {
        Error::InvalidProp { field, .. } => assert_eq!(*field, expected_field, "{err}"),
        other => panic!("expected InvalidProp, got {other:?}"),
    }
    err.to_string()
}

/// The refused (or resource-less) constructs added nothing: the stack cannot synthesize.
fn assert_no_resources(stack: &Stack) {
    let err = Template::from_stack(stack).map(|_| ()).unwrap_err();
    assert!(
        err.to_string().contains("the stack has no resources"),
        "{err}"
    );
}

fn stack_in(app: &App, name: &str) -> Stack {
    Stack::new(
        app,
        name,
        StackProps {
            env: Some(Environment::new(PRODUCTION, "us-east-1")),
            ..StackProps::default()
        },
    )
    .unwrap()
}

// ---- ECR ----

#[test]
fn ecr_repository_defaults_are_immutable_scanned_expiring_and_kept() -> TestResult {
    let (app, stack) = testing::stack()?;
    let repo = EcrRepository::new(&stack, "Backend", EcrRepositoryProps::new("omc-backend"))?;
    let t = Template::from_stack(&stack)?;
    let resource = only(&t, "AWS::ECR::Repository");
    assert_eq!(resource["DeletionPolicy"], "Retain");
    assert_eq!(resource["UpdateReplacePolicy"], "Retain");
    let p = &resource["Properties"];
    assert_eq!(p["RepositoryName"], "omc-backend");
    assert_eq!(p["ImageTagMutability"], "IMMUTABLE");
    assert_eq!(p["ImageScanningConfiguration"], json!({"ScanOnPush": true}));
    assert_eq!(
        p["EncryptionConfiguration"],
        json!({"EncryptionType": "AES256"})
    );
    // No pull accounts: no repository policy.
    assert!(p.get("RepositoryPolicyText").is_none(), "{p}");
    let lifecycle: Json = serde_json::from_str(
        p["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .unwrap(),
    )?;
    assert_eq!(
        lifecycle,
        json!({"rules": [
            {"rulePriority": 1, "description": "Expire untagged images 1 day after push",
             "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1},
             "action": {"type": "expire"}},
            {"rulePriority": 2, "description": "Keep only the newest 30 images",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
             "action": {"type": "expire"}}
        ]})
    );
    // The handle's values are the resource's.
    assert!(repo.repository_arn().is_intrinsic());
    assert!(repo.repository_uri().is_intrinsic());
    assert!(repo.repository_name().is_intrinsic());
    assert!(repo.resource().is_some());
    // The check rules accept the defaults; the one warning is the documented choice of
    // AES-256 over KMS (`ecr-kms-key`, which checkov's CKV_AWS_136 also reports).
    let synthesis = app.synth()?;
    let report = synthesis.checks().unwrap();
    let warnings: Vec<&str> = report.active().map(|f| f.rule.as_str()).collect();
    assert_eq!(warnings, ["ecr-kms-key"], "{}", report.render_findings());
    Ok(())
}

#[test]
fn ecr_repository_policy_lets_the_pull_accounts_pull_only() -> TestResult {
    let (app, stack) = testing::stack()?;
    let key = Key::new(&stack, "Key", KeyProps::default())?;
    EcrRepository::new(
        &stack,
        "Agents",
        EcrRepositoryProps {
            pull_accounts: vec![STAGING.into(), PRODUCTION.into()],
            encryption_key: Some(key),
            keep_images: 5,
            untagged_expire_days: 3,
            ..EcrRepositoryProps::new("omc/agents")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let p = &only(&t, "AWS::ECR::Repository")["Properties"];
    assert_eq!(
        p["RepositoryPolicyText"],
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "PullFromAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": [
                {"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::{STAGING}:root")},
                {"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::{PRODUCTION}:root")}
            ]},
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        }]})
    );
    let key_id = t.resources("AWS::KMS::Key")[0].0.to_owned();
    assert_eq!(
        p["EncryptionConfiguration"],
        json!({"EncryptionType": "KMS", "KmsKey": {"Fn::GetAtt": [key_id, "Arn"]}})
    );
    let text = p["LifecyclePolicy"]["LifecyclePolicyText"]
        .as_str()
        .unwrap();
    let lifecycle: Json = serde_json::from_str(text)?;
    assert_eq!(lifecycle["rules"][0]["selection"]["countNumber"], 3);
    assert_eq!(lifecycle["rules"][1]["selection"]["countNumber"], 5);
    app.synth()?;
    Ok(())
}

#[test]
fn ecr_grants_pull_and_push_on_the_repository_only() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let repo = EcrRepository::new(&stack, "Repo", EcrRepositoryProps::new("omc-frontend"))?;
    let puller = Role::new(
        &stack,
        "Puller",
        RoleProps::new(Principal::service("ecs-tasks.amazonaws.com")),
    )?;
    let pusher = Role::new(
        &stack,
        "Pusher",
        RoleProps::new(Principal::service("codebuild.amazonaws.com")),
    )?;
    repo.grant_pull(&puller);
    repo.grant_push(&pusher);
    let t = Template::from_stack(&stack)?;
    let repo_id = t.resources("AWS::ECR::Repository")[0].0.to_owned();
    let arn = json!({"Fn::GetAtt": [repo_id, "Arn"]});
    let role = |prefix: &str| {
        t.resources("AWS::IAM::Role")
            .into_iter()
            .find(|(id, _)| id.starts_with(prefix))
            .unwrap()
            .1
    };
    assert_eq!(
        statements(role("Puller")),
        [
            json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], "Resource": arn}),
        ]
    );
    assert_eq!(
        statements(role("Pusher")),
        [
            json!({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}),
            json!({"Effect": "Allow", "Action": [
                "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage", "ecr:UploadLayerPart"
            ], "Resource": arn}),
        ]
    );
    Ok(())
}

#[test]
fn ecr_repository_of_another_account_is_literal_and_adds_nothing() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let repo = EcrRepository::from_attributes(
        &stack,
        "Backend",
        EcrRepositoryAttributes {
            repository_name: "omc-backend".into(),
            account: PRODUCTION.into(),
            region: "us-east-1".into(),
        },
    )?;
    assert_eq!(
        repo.repository_arn().as_literal().unwrap(),
        "arn:aws:ecr:us-east-1:123456789012:repository/omc-backend"
    );
    assert_eq!(
        repo.repository_uri().as_literal().unwrap(),
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/omc-backend"
    );
    assert_eq!(repo.repository_name().as_literal().unwrap(), "omc-backend");
    assert!(repo.resource().is_none());
    let china = EcrRepository::from_attributes(
        &stack,
        "China",
        EcrRepositoryAttributes {
            repository_name: "omc/backend".into(),
            account: PRODUCTION.into(),
            region: "cn-north-1".into(),
        },
    )?;
    assert_eq!(
        china.repository_uri().as_literal().unwrap(),
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/omc/backend"
    );
    assert_eq!(
        china.repository_arn().as_literal().unwrap(),
        "arn:aws-cn:ecr:cn-north-1:123456789012:repository/omc/backend"
    );
    assert_no_resources(&stack);
    Ok(())
}

#[test]
fn ecr_bad_input_is_refused_with_whole_messages() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let err =
        EcrRepository::new(&stack, "Repo", EcrRepositoryProps::new("Omc_Backend")).unwrap_err();
    assert_eq!(
        refused(&err, "repository_name"),
        "Test/Repo: repository name \"Omc_Backend\" must be 2 to 256 characters: lower-case letters and digits, separated by single '.', '_', '-' or '/', such as \"omc-backend\" or \"omc/backend\""
    );
    let err = EcrRepository::new(&stack, "Repo", EcrRepositoryProps::new("omc--x")).unwrap_err();
    assert!(refused(&err, "repository_name").starts_with("Test/Repo: repository name \"omc--x\""));
    let err = EcrRepository::new(
        &stack,
        "Repo",
        EcrRepositoryProps {
            keep_images: 0,
            ..EcrRepositoryProps::new("omc-backend")
        },
    )
    .unwrap_err();
    assert_eq!(
        refused(&err, "keep_images"),
        "Test/Repo: keep_images is 0, which would expire every image, including the ones services run; keep at least 1 (default 30)"
    );
    let err = EcrRepository::new(
        &stack,
        "Repo",
        EcrRepositoryProps {
            untagged_expire_days: 0,
            ..EcrRepositoryProps::new("omc-backend")
        },
    )
    .unwrap_err();
    assert_eq!(
        refused(&err, "untagged_expire_days"),
        "Test/Repo: untagged_expire_days is 0; ECR counts days from 1 (default 1)"
    );
    let err = EcrRepository::new(
        &stack,
        "Repo",
        EcrRepositoryProps {
            pull_accounts: vec!["21098765432".into()],
            ..EcrRepositoryProps::new("omc-backend")
        },
    )
    .unwrap_err();
    assert_eq!(
        refused(&err, "pull_accounts"),
        "Test/Repo: account id \"21098765432\" must be 12 digits, such as \"123456789012\""
    );
    let attributes = |account: &str, region: &str| EcrRepositoryAttributes {
        repository_name: "omc-backend".into(),
        account: account.into(),
        region: region.into(),
    };
    let err = EcrRepository::from_attributes(&stack, "Other", attributes("prod", "us-east-1"))
        .unwrap_err();
    assert_eq!(
        refused(&err, "account"),
        "Test/Other: account id \"prod\" must be 12 digits, such as \"123456789012\""
    );
    let err = EcrRepository::from_attributes(&stack, "Other", attributes(PRODUCTION, "us east"))
        .unwrap_err();
    assert_eq!(
        refused(&err, "region"),
        "Test/Other: region \"us east\" is not an AWS region name such as \"us-east-1\""
    );
    // Nothing was added by the refused constructs.
    assert_no_resources(&stack);
    Ok(())
}

/// A service of `image`, its log groups (the VPC's flow logs, the containers') under a key as
/// production's checks require.
fn service_with(stack: &Stack, image: ContainerImage) -> FargateService {
    let logs_key =
        omc_constructs::Key::new(stack, "LogsKey", omc_constructs::KeyProps::default()).unwrap();
    let vpc = Vpc::new(
        stack,
        "Vpc",
        VpcProps {
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )
    .unwrap();
    let cluster = Cluster::new(stack, "Cluster", ClusterProps::new(&vpc)).unwrap();
    FargateService::new(
        stack,
        "Backend",
        FargateServiceProps {
            log_key: Some(&logs_key),
            ..FargateServiceProps::new(&cluster, vec![ContainerProps::new("backend", image)])
        },
    )
    .unwrap()
}

fn execution_role_pull(t: &Template) -> Json {
    let role = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.contains("ExecutionRole"))
        .unwrap()
        .1;
    statements(role)
        .into_iter()
        .find(|s| s["Action"].to_string().contains("ecr:BatchGetImage"))
        .unwrap()
}

#[test]
fn container_image_from_repository_pulls_exactly_that_repository() -> TestResult {
    let app = App::new();
    let stack = stack_in(&app, "Services");
    let repo = EcrRepository::new(&stack, "Repo", EcrRepositoryProps::new("omc-backend"))?;
    service_with(&stack, ContainerImage::from_repository(&repo, "4f2a9c1"));
    let t = Template::from_stack(&stack)?;
    let repo_id = t.resources("AWS::ECR::Repository")[0].0.to_owned();
    assert_eq!(
        execution_role_pull(&t)["Resource"],
        json!({"Fn::GetAtt": [repo_id, "Arn"]})
    );
    let task = only(&t, "AWS::ECS::TaskDefinition");
    assert_eq!(
        task["Properties"]["ContainerDefinitions"][0]["Image"],
        json!({"Fn::Sub": ["${Repository}:${Tag}", {
            "Repository": {"Fn::GetAtt": [repo_id, "RepositoryUri"]},
            "Tag": "4f2a9c1"
        }]})
    );
    app.synth()?;
    Ok(())
}

#[test]
fn container_image_of_another_accounts_repository_is_literal() -> TestResult {
    let app = App::new();
    let stack = stack_in(&app, "Services");
    let repo = EcrRepository::from_attributes(
        &stack,
        "Repo",
        EcrRepositoryAttributes {
            repository_name: "omc-backend".into(),
            account: STAGING.into(),
            region: "us-east-1".into(),
        },
    )?;
    service_with(&stack, ContainerImage::from_repository(&repo, "abc"));
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        execution_role_pull(&t)["Resource"],
        "arn:aws:ecr:us-east-1:210987654321:repository/omc-backend"
    );
    let task = only(&t, "AWS::ECS::TaskDefinition");
    assert_eq!(
        task["Properties"]["ContainerDefinitions"][0]["Image"],
        json!({"Fn::Sub": ["210987654321.dkr.ecr.us-east-1.amazonaws.com/omc-backend:${Tag}", {"Tag": "abc"}]})
    );
    Ok(())
}

#[test]
fn container_image_of_a_repository_of_another_stack_is_imported() -> TestResult {
    let app = App::new();
    let images = stack_in(&app, "Images");
    let repo = EcrRepository::new(&images, "Repo", EcrRepositoryProps::new("omc-backend"))?;
    let services = stack_in(&app, "Services");
    service_with(&services, ContainerImage::from_repository(&repo, "4f2a9c1"));
    let synthesis = app.synth()?;
    let synthesized = synthesis.stack("Services").unwrap();
    assert_eq!(synthesized.dependencies(), ["Images"]);
    let t = Template::from_synthesized(synthesized);
    let pull = execution_role_pull(&t);
    assert!(pull["Resource"].get("Fn::ImportValue").is_some(), "{pull}");
    let task = only(&t, "AWS::ECS::TaskDefinition");
    let image = &task["Properties"]["ContainerDefinitions"][0]["Image"]["Fn::Sub"][1];
    assert!(
        image["Repository"].get("Fn::ImportValue").is_some(),
        "{image}"
    );
    // The repository's stack exports both values.
    let exports = Template::from_synthesized(synthesis.stack("Images").unwrap());
    let outputs = exports.to_json()["Outputs"].as_object().unwrap();
    assert_eq!(outputs.len(), 2, "{outputs:?}");
    Ok(())
}

// ---- GitHub OIDC ----

#[test]
fn github_oidc_provider_has_the_github_url_and_sts_audience() -> TestResult {
    let (app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        only(&t, "AWS::IAM::OIDCProvider")["Properties"],
        json!({"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]})
    );
    assert!(provider.resource().is_some());
    let existing = GitHubOidcProvider::existing(&stack, STAGING)?;
    assert_eq!(
        existing.provider_arn().as_literal().unwrap(),
        "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    );
    assert!(existing.resource().is_none());
    let err = GitHubOidcProvider::existing(&stack, "staging").unwrap_err();
    assert_eq!(
        refused(&err, "account"),
        "Test: account id \"staging\" must be 12 digits, such as \"123456789012\""
    );
    let err = GitHubOidcProvider::new(
        &stack,
        "Bad",
        GitHubOidcProviderProps {
            thumbprints: vec!["abc".into()],
        },
    )
    .unwrap_err();
    assert_eq!(
        refused(&err, "thumbprints"),
        "Test/Bad: thumbprint \"abc\" is not a SHA-1 fingerprint of 40 hexadecimal digits"
    );
    app.synth()?;
    Ok(())
}

fn trust(t: &Template, prefix: &str) -> Json {
    let role = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with(prefix))
        .unwrap()
        .1;
    role["Properties"]["AssumeRolePolicyDocument"].clone()
}

#[test]
fn github_actions_role_trusts_exactly_the_named_jobs() -> TestResult {
    let (app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
    let cases = [
        (
            "Branch",
            vec![GitHubSubject::Branch("main".into())],
            json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:omc/omc:ref:refs/heads/main"
            }}),
        ),
        (
            "Environment",
            vec![GitHubSubject::Environment("production".into())],
            json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:omc/omc:environment:production"
            }}),
        ),
        (
            "Tag",
            vec![GitHubSubject::Tag("v*".into())],
            json!({
                "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                "StringLike": {"token.actions.githubusercontent.com:sub": "repo:omc/omc:ref:refs/tags/v*"}
            }),
        ),
        (
            "Several",
            vec![
                GitHubSubject::Branch("main".into()),
                GitHubSubject::PullRequest,
                GitHubSubject::Branch("main".into()),
            ],
            json!({"StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": ["repo:omc/omc:ref:refs/heads/main", "repo:omc/omc:pull_request"]
            }}),
        ),
    ];
    for (id, subjects, _) in &cases {
        let role = GitHubActionsRole::new(
            &stack,
            id,
            GitHubActionsRoleProps {
                max_session_hours: Some(2),
                ..GitHubActionsRoleProps::new(&provider, "omc/omc", subjects.clone())
            },
        )?;
        role.add_to_policy(omc_constructs::PolicyStatement::allow(
            ["ecs:DescribeServices"],
            ["*".into()],
        ));
    }
    let t = Template::from_stack(&stack)?;
    let actual_provider_id = t.resources("AWS::IAM::OIDCProvider")[0].0.to_owned();
    for (id, _, condition) in cases {
        assert_eq!(
            trust(&t, id),
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"Federated": {"Fn::GetAtt": [actual_provider_id, "Arn"]}},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition
            }]}),
            "{id}"
        );
    }
    let branch = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("Branch"))
        .unwrap()
        .1;
    assert_eq!(branch["Properties"]["MaxSessionDuration"], 7200);
    assert_eq!(
        branch["Properties"]["Description"],
        "GitHub Actions: omc/omc (branch main)"
    );
    app.synth()?;
    Ok(())
}

#[test]
fn github_subjects_that_would_trust_too_much_are_refused() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::existing(&stack, PRODUCTION)?;
    let attempt = |repository: &str, subjects: Vec<GitHubSubject>| {
        GitHubActionsRole::new(
            &stack,
            "Ci",
            GitHubActionsRoleProps::new(&provider, repository, subjects),
        )
        .map(|_| ())
        .unwrap_err()
    };
    let main = || vec![GitHubSubject::Branch("main".into())];
    assert_eq!(
        refused(&attempt("*/*", main()), "repository"),
        "Test/Ci: repository \"*/*\" has a wildcard, which would trust every repository it matches, including other people's; name one repository as \"owner/name\""
    );
    assert_eq!(
        refused(&attempt("omc/*", main()), "repository"),
        "Test/Ci: repository \"omc/*\" has a wildcard, which would trust every repository it matches, including other people's; name one repository as \"owner/name\""
    );
    assert_eq!(
        refused(&attempt("omc", main()), "repository"),
        "Test/Ci: repository \"omc\" is not \"owner/name\" (letters, digits and '-' for the owner; letters, digits, '-', '_' and '.' for the name), such as \"omc/omc\""
    );
    assert_eq!(
        refused(&attempt("omc/omc", vec![]), "subjects"),
        "Test/Ci: subjects is empty: a trust policy without a `sub` condition would trust every repository's workflows; list the branches, tags or environments of omc/omc that may assume the role"
    );
    assert_eq!(
        refused(
            &attempt("omc/omc", vec![GitHubSubject::Branch("*".into())]),
            "subjects"
        ),
        "Test/Ci: branch \"*\" would trust any branch of omc/omc, including ones anyone who can push creates; name the branch, such as \"main\""
    );
    assert_eq!(
        refused(
            &attempt("omc/omc", vec![GitHubSubject::Tag("*".into())]),
            "subjects"
        ),
        "Test/Ci: tag \"*\" would trust any tag of omc/omc, including ones anyone who can push creates; name the tag, such as \"v*\""
    );
    assert_eq!(
        refused(
            &attempt(
                "omc/omc",
                vec![
                    GitHubSubject::Branch("main".into()),
                    GitHubSubject::Environment("*".into())
                ]
            ),
            "subjects"
        ),
        "Test/Ci: environment \"*\" would trust any environment of omc/omc, including ones anyone who can push creates; name the environment, such as \"production\""
    );
    assert_eq!(
        refused(
            &attempt("omc/omc", vec![GitHubSubject::Branch("feature x".into())]),
            "subjects"
        ),
        "Test/Ci: branch \"feature x\" contains a space or ':', which GitHub's branch names cannot"
    );
    assert_no_resources(&stack);
    Ok(())
}

// ---- Deploy roles ----

fn deploy_roles(stack: &Stack, provider: &GitHubOidcProvider) -> omc_cdk::Result<DeployRoles> {
    DeployRoles::new(
        stack,
        "Deploy",
        DeployRolesProps {
            excluded_stacks: vec!["OmcStaging-Delivery".into()],
            ..DeployRolesProps::new(
                provider,
                "omc/omc",
                vec![GitHubSubject::Environment("staging".into())],
                "OmcStaging",
                "arn:aws:s3:::omc-toolkit-bucket",
                vec!["ec2".into(), "ecs".into(), "rds".into(), "logs".into()],
            )
        },
    )
}

fn sub_template(value: &Json) -> String {
    value["Fn::Sub"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| value["Fn::Sub"][0].as_str().map(str::to_owned))
        .unwrap_or_else(|| value.to_string())
}

#[test]
fn deploy_role_is_least_privilege() -> TestResult {
    let app = App::new();
    let stack = stack_in(&app, "OmcStaging-Delivery");
    let provider = GitHubOidcProvider::existing(&stack, STAGING)?;
    let roles = deploy_roles(&stack, &provider)?;
    assert_eq!(roles.execution_role_name(), "OmcStaging-cfn-exec");
    let t = Template::from_stack(&stack)?;
    let deploy = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("DeployDeployRole"))
        .unwrap()
        .1;
    // Trusted by the staging environment's jobs only.
    assert_eq!(
        deploy["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"],
        json!({"StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:omc/omc:environment:staging"
        }})
    );
    let all = statements(deploy);
    for s in &all {
        for action in strings(&s["Action"]) {
            let action = action.as_str().unwrap();
            assert!(
                action != "*" && !action.ends_with(":*"),
                "wildcard action {action}"
            );
            assert_ne!(action, "cloudformation:DeleteStack");
        }
    }
    // Every CloudFormation statement is on stacks of the prefix (or the toolkit stack).
    let cfn: Vec<&Json> = all
        .iter()
        .filter(|s| s["Action"].to_string().contains("cloudformation:"))
        .collect();
    assert_eq!(cfn.len(), 3, "{cfn:?}");
    for s in &cfn {
        for resource in strings(&s["Resource"]) {
            let template = sub_template(&resource);
            assert!(
                template.starts_with(
                    "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/OmcStaging-"
                ) || template.ends_with(":stack/OmcCdkToolkit/*"),
                "{template}"
            );
        }
    }
    assert_eq!(
        cfn[0]["Resource"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/OmcStaging-*/*"})
    );
    assert_eq!(
        cfn[0]["Action"],
        json!([
            "cloudformation:CreateChangeSet",
            "cloudformation:CreateStack",
            "cloudformation:DeleteChangeSet",
            "cloudformation:DescribeChangeSet",
            "cloudformation:DescribeStackEvents",
            "cloudformation:DescribeStacks",
            "cloudformation:ExecuteChangeSet",
            "cloudformation:GetTemplate",
            "cloudformation:UpdateStack",
            "cloudformation:UpdateTerminationProtection"
        ])
    );
    // The excluded stack: an explicit Deny of every write.
    let deny: Vec<&Json> = all.iter().filter(|s| s["Effect"] == "Deny").collect();
    assert_eq!(
        deny,
        [&json!({
            "Effect": "Deny",
            "Action": [
                "cloudformation:CreateChangeSet",
                "cloudformation:CreateStack",
                "cloudformation:DeleteChangeSet",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:UpdateStack",
                "cloudformation:UpdateTerminationProtection"
            ],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/OmcStaging-Delivery/*"}
        })]
    );
    assert_eq!(
        cfn[2],
        &json!({"Effect": "Allow", "Action": "cloudformation:DescribeStacks",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/OmcCdkToolkit/*"}})
    );
    // PassRole: the execution role only, to CloudFormation only.
    let pass: Vec<&Json> = all
        .iter()
        .filter(|s| s["Action"].to_string().contains("iam:"))
        .collect();
    assert_eq!(
        pass,
        [&json!({
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/OmcStaging-cfn-exec"},
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
        })]
    );
    // Templates in the toolkit bucket, under the prefix's keys.
    assert!(all.contains(&json!({
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::omc-toolkit-bucket/omc-cdk/OmcStaging-*"
    })));
    // ECS: reads only.
    let ecs: Vec<String> = all
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .filter_map(|a| a.as_str().map(str::to_owned))
        .filter(|a| a.starts_with("ecs:"))
        .collect();
    assert_eq!(ecs, ["ecs:DescribeTasks", "ecs:ListTasks"]);
    assert_eq!(all.len(), 7, "{all:#?}");
    // The app's checks pass without warnings (the execution role's service wildcards are
    // suppressed with a reason, and both suppressions are used).
    let synthesis = app.synth()?;
    let report = synthesis.checks().unwrap();
    assert_eq!(report.warnings(), 0, "{}", report.render_findings());
    assert_eq!(
        report.suppressions().len(),
        2,
        "{:?}",
        report.suppressions()
    );
    Ok(())
}

#[test]
fn cloudformation_execution_role_is_named_and_limited_to_the_prefix() -> TestResult {
    let app = App::new();
    let stack = stack_in(&app, "OmcStaging-Delivery");
    let provider = GitHubOidcProvider::existing(&stack, STAGING)?;
    deploy_roles(&stack, &provider)?;
    let t = Template::from_stack(&stack)?;
    let (_, exec) = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("DeployExecutionRole"))
        .unwrap();
    let deploy_id = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("DeployDeployRole"))
        .unwrap()
        .0
        .to_owned();
    let p = &exec["Properties"];
    assert_eq!(p["RoleName"], "OmcStaging-cfn-exec");
    assert_eq!(
        p["AssumeRolePolicyDocument"]["Statement"],
        json!([{"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}])
    );
    let all = statements(exec);
    assert_eq!(
        all[0],
        json!({"Effect": "Allow", "Action": ["ec2:*", "ecs:*", "rds:*", "logs:*"], "Resource": "*"})
    );
    // IAM only on names under the prefix.
    for s in &all[1..] {
        if s["Effect"] == "Deny" {
            continue;
        }
        for resource in strings(&s["Resource"]) {
            let template = sub_template(&resource);
            assert!(
                template.contains("/OmcStaging-*")
                    || template.ends_with(":role/aws-service-role/*"),
                "{template}"
            );
        }
        for action in strings(&s["Action"]) {
            assert!(action.as_str().unwrap().starts_with("iam:"), "{action}");
        }
    }
    assert_eq!(
        all[2],
        json!({"Effect": "Allow", "Action": "iam:PassRole",
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/OmcStaging-*"}})
    );
    // The two roles themselves are out of reach of the templates (the statement before the
    // last; the last denies attaching AWS's administrator policies).
    let deny = &all[all.len() - 2];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(
        deny["Resource"],
        json!([
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/OmcStaging-cfn-exec"},
            {"Fn::GetAtt": [deploy_id, "Arn"]}
        ])
    );
    assert!(
        deny["Action"]
            .as_array()
            .unwrap()
            .contains(&json!("iam:PutRolePolicy"))
    );
    app.synth()?;
    Ok(())
}

#[test]
fn deploy_roles_bad_input_is_refused_with_whole_messages() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::existing(&stack, STAGING)?;
    let with = |prefix: &str, services: &[&str]| {
        DeployRoles::new(
            &stack,
            "Deploy",
            DeployRolesProps::new(
                &provider,
                "omc/omc",
                vec![GitHubSubject::Branch("main".into())],
                prefix,
                "arn:aws:s3:::bucket",
                services.iter().map(|s| (*s).to_owned()).collect(),
            ),
        )
        .map(|_| ())
        .unwrap_err()
    };
    assert_eq!(
        refused(&with("OmcStaging", &["ecs", "iam"]), "execution_services"),
        "Test/Deploy: execution service \"iam\" would let a template create an administrator role and use it; IAM is granted separately, only on roles and policies named \"OmcStaging-*\""
    );
    assert_eq!(
        refused(&with("OmcStaging", &["*"]), "execution_services"),
        "Test/Deploy: execution service \"*\" would let CloudFormation do anything in the account, and so anyone who can deploy; list the services the stacks use"
    );
    assert_eq!(
        refused(&with("OmcStaging", &["EC2"]), "execution_services"),
        "Test/Deploy: execution service \"EC2\" is not a service prefix of IAM actions: lower-case letters, digits and '-', such as \"ec2\" or \"elasticloadbalancing\""
    );
    assert_eq!(
        refused(&with("OmcStaging", &[]), "execution_services"),
        "Test/Deploy: execution_services is empty; list the services whose resources the stacks create, such as \"ec2\", \"ecs\" and \"logs\""
    );
    assert_eq!(
        refused(&with("Omc*", &["ecs"]), "stack_prefix"),
        "Test/Deploy: stack prefix \"Omc*\" must be 1 to 40 letters, digits and '-', starting with a letter and not ending with '-', such as \"OmcStaging\""
    );
    let err = DeployRoles::new(
        &stack,
        "Deploy",
        DeployRolesProps {
            excluded_stacks: vec!["OmcStaging_Delivery".into()],
            ..DeployRolesProps::new(
                &provider,
                "omc/omc",
                vec![GitHubSubject::Branch("main".into())],
                "OmcStaging",
                "arn:aws:s3:::bucket",
                vec!["ecs".into()],
            )
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        refused(&err, "excluded_stacks"),
        "Test/Deploy: stack name \"OmcStaging_Delivery\" must be 1 to 128 letters, digits and '-', starting with a letter"
    );
    let err = DeployRoles::new(
        &stack,
        "Deploy",
        DeployRolesProps::new(
            &provider,
            "omc/omc",
            vec![GitHubSubject::Branch("**".into())],
            "OmcStaging",
            "arn:aws:s3:::bucket",
            vec!["ecs".into()],
        ),
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        refused(&err, "subjects"),
        "Test/Deploy: branch \"**\" would trust any branch of omc/omc, including ones anyone who can push creates; name the branch, such as \"main\""
    );
    assert_no_resources(&stack);
    Ok(())
}

#[test]
fn role_name_and_session_length_are_checked() {
    let (_app, stack) = testing::stack().unwrap();
    let err = Role::new(
        &stack,
        "Role",
        RoleProps {
            role_name: Some("bad name".into()),
            ..RoleProps::new(Principal::service("ecs-tasks.amazonaws.com"))
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        refused(&err, "role_name"),
        "Test/Role: role name \"bad name\" must be 1 to 64 letters, digits and '+', '=', ',', '.', '@', '_', '-'"
    );
    let err = Role::new(
        &stack,
        "Role",
        RoleProps {
            max_session_hours: Some(13),
            ..RoleProps::new(Principal::service("ecs-tasks.amazonaws.com"))
        },
    )
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        refused(&err, "max_session_hours"),
        "Test/Role: max_session_hours is 13; IAM allows sessions of 1 to 12 hours"
    );
}

#[test]
fn deploy_roles_with_the_provider_of_their_own_stack_synthesize() -> TestResult {
    let app = App::new();
    let stack = stack_in(&app, "OmcProduction-Delivery");
    let provider = GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
    let roles = DeployRoles::new(
        &stack,
        "Deploy",
        DeployRolesProps {
            excluded_stacks: vec!["OmcProduction-Delivery".into()],
            deploy_role_name: Some("OmcProduction-github-deploy".into()),
            max_session_hours: Some(2),
            ..DeployRolesProps::new(
                &provider,
                "omc/omc",
                vec![GitHubSubject::Environment("production".into())],
                "OmcProduction",
                "arn:aws:s3:::omc-toolkit-bucket",
                vec!["ecs".into()],
            )
        },
    )?;
    assert!(roles.deploy_role_arn().is_intrinsic());
    assert!(roles.execution_role_arn().is_intrinsic());
    let synthesis = app.synth()?;
    let t = Template::from_synthesized(synthesis.stack("OmcProduction-Delivery").unwrap());
    let provider_id = t.resources("AWS::IAM::OIDCProvider")[0].0.to_owned();
    let deploy = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("DeployDeployRole"))
        .unwrap()
        .1;
    assert_eq!(
        deploy["Properties"]["RoleName"],
        "OmcProduction-github-deploy"
    );
    assert_eq!(deploy["Properties"]["MaxSessionDuration"], 7200);
    assert_eq!(
        deploy["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Federated": {"Fn::GetAtt": [provider_id, "Arn"]}})
    );
    Ok(())
}

#[test]
fn the_provider_of_the_stacks_account_is_named_from_the_account_id() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::existing_in_stack_account(&stack);
    let role = GitHubActionsRole::new(
        &stack,
        "Ci",
        GitHubActionsRoleProps::new(&provider, "omc/omc", vec![GitHubSubject::PullRequest]),
    )?;
    assert!(role.role_arn().is_intrinsic());
    let t = Template::from_stack(&stack)?;
    assert_eq!(
        trust(&t, "Ci")["Statement"][0]["Principal"],
        json!({"Federated": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"}})
    );
    assert_eq!(
        trust(&t, "Ci")["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"],
        "repo:omc/omc:pull_request"
    );
    Ok(())
}

#[test]
fn release_images_are_kept_whatever_the_count() -> TestResult {
    let (_app, stack) = testing::stack()?;
    EcrRepository::new(
        &stack,
        "Backend",
        EcrRepositoryProps {
            keep_images: 50,
            kept_tag_prefixes: vec!["v".into()],
            ..EcrRepositoryProps::new("omc-backend")
        },
    )?;
    let t = Template::from_stack(&stack)?;
    let (_, repo) = t.resources("AWS::ECR::Repository")[0];
    let lifecycle: Json = serde_json::from_str(
        repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
            .as_str()
            .unwrap(),
    )?;
    // The release rule comes before the count rule, so the count never expires a release.
    assert_eq!(
        lifecycle["rules"][1],
        json!({"rulePriority": 2, "description": "Keep the images tagged v* (up to the newest 10000)",
               "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan", "countNumber": 10000},
               "action": {"type": "expire"}})
    );
    assert_eq!(lifecycle["rules"][2]["rulePriority"], 3);
    assert_eq!(lifecycle["rules"][2]["selection"]["tagStatus"], "any");

    let err = EcrRepository::new(
        &stack,
        "Bad",
        EcrRepositoryProps {
            kept_tag_prefixes: vec!["v*".into()],
            ..EcrRepositoryProps::new("omc-bad")
        },
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Test/Bad: kept tag prefix \"v*\" is not the start of an image tag: 1 to 128 letters, digits, '_', '.' and '-', such as \"v\""
    );
    Ok(())
}

#[test]
fn the_execution_role_may_not_attach_aws_administrator_policies() -> TestResult {
    let (_app, stack) = testing::stack()?;
    let provider = GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
    DeployRoles::new(
        &stack,
        "Deploy",
        DeployRolesProps::new(
            &provider,
            "omc/omc",
            vec![GitHubSubject::Branch("main".into())],
            "OmcStaging",
            "arn:aws:s3:::omc-cdk-toolkit-210987654321-us-east-1",
            vec!["ecs".into()],
        ),
    )?;
    let t = Template::from_stack(&stack)?;
    let execution = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(_, r)| r["Properties"]["RoleName"] == "OmcStaging-cfn-exec")
        .unwrap()
        .1;
    let statements = execution["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    let deny = statements
        .iter()
        .find(|s| s["Effect"] == "Deny" && s["Condition"].get("ArnLike").is_some())
        .unwrap();
    assert_eq!(deny["Action"], json!("iam:AttachRolePolicy"));
    assert_eq!(
        deny["Condition"]["ArnLike"]["iam:PolicyARN"],
        json!([
            "arn:*:iam::aws:policy/AdministratorAccess",
            "arn:*:iam::aws:policy/IAMFullAccess",
            "arn:*:iam::aws:policy/PowerUserAccess",
            "arn:*:iam::aws:policy/job-function/SystemAdministrator"
        ])
    );
    Ok(())
}
