//! How images and deploys get from a merged pull request to the accounts, without long-lived
//! keys:
//!
//! - `OmcProduction-Registry` (production app, production account): one ECR repository per
//!   image (immutable tags, scan on push, lifecycle, pull by the environments' accounts) and the
//!   image publisher role the workflow's image jobs assume (push to these repositories only).
//! - `<Prefix>-Delivery` (each environment's account): the GitHub OIDC provider, the deploy role
//!   the workflow assumes (trusted for `main` in staging, for the protected GitHub environment
//!   `production` in production) and the CloudFormation execution role every other stack of the
//!   environment is deployed with. An administrator deploys it once (README, one-time steps);
//!   the deploy role may not change it.

use omc_cdk::arn::RoleArn;
use omc_cdk::{App, Construct as _, Result, Stack};
use omc_constructs::{
    ContainerImage, DeployRoles, DeployRolesProps, EcrRepository, EcrRepositoryAttributes,
    EcrRepositoryProps, GitHubActionsRole, GitHubActionsRoleProps, GitHubOidcProvider,
    GitHubOidcProviderProps, GitHubSubject, PolicyStatement,
};

use crate::config::{Config, Image, RegistryConfig, Stage};

/// The images' repositories, as the services take them.
pub(crate) enum Registry {
    /// Created in this app (production): the services import them.
    Created(Vec<(String, EcrRepository)>),
    /// In another account (staging): referred to by name.
    Remote(RegistryConfig),
}

impl Registry {
    /// `image` at `tag`, pulled by its execution role from exactly its repository. A remote
    /// repository is referred to in `scope`.
    pub(crate) fn image(
        &self,
        scope: &Stack,
        image: &Image,
        tag: omc_cdk::Value<String>,
    ) -> Result<ContainerImage> {
        let repository = match self {
            Registry::Created(repositories) => repositories
                .iter()
                .find(|(name, _)| *name == image.repository)
                .map(|(_, repository)| repository.clone())
                .ok_or_else(|| omc_cdk::Error::InvalidValue {
                    path: "Registry".into(),
                    message: format!(
                        "no repository {:?} in the registry; it holds one per image of the config",
                        image.repository
                    ),
                })?,
            Registry::Remote(registry) => EcrRepository::from_attributes(
                scope,
                &format!("{}Repository", repository_id(&image.repository)),
                EcrRepositoryAttributes {
                    repository_name: image.repository.clone(),
                    account: registry.account.clone(),
                    region: registry.region.clone(),
                },
            )?,
        };
        Ok(ContainerImage::from_repository(&repository, tag))
    }
}

/// The images of an environment: production creates the repositories in its own stack
/// `OmcProduction-Registry` (the services then import them), with the role the workflow's
/// image jobs push with; staging refers to the same repositories in the production account.
pub(crate) fn registry(app: &App, config: &Config) -> Result<Registry> {
    let registry = &config.registry;
    if config.stage != Stage::Production {
        return Ok(Registry::Remote(registry.clone()));
    }
    let stack = crate::stack(
        app,
        config,
        "Registry",
        "ECR repositories of the platform's images, and the role that pushes them",
    )?;
    if config.env.account.as_deref() != Some(registry.account.as_str()) {
        return Err(omc_cdk::Error::InvalidValue {
            path: stack.name(),
            message: format!(
                "the registry is configured in account {} but production deploys to {}; RegistryConfig::account must be the production account",
                registry.account,
                config.env.account.as_deref().unwrap_or("(no account)")
            ),
        });
    }
    let images = [
        &config.backend_image,
        &config.frontend_image,
        &config.collectors_image,
        &config.agents_image,
    ];
    let repositories = images
        .iter()
        .map(|image| {
            let repository = EcrRepository::new(
                &stack,
                &repository_id(&image.repository),
                EcrRepositoryProps {
                    keep_images: registry.keep_images,
                    // The workflow tags a release's images with the release (v1.4.2) too:
                    // those never expire, so production can always start its tasks and roll
                    // back to an earlier release.
                    kept_tag_prefixes: vec!["v".into()],
                    pull_accounts: registry.pull_accounts.clone(),
                    // Kept when the stack is deleted (running services pull from them), but
                    // not left behind by a create that rolls back (their names are fixed).
                    removal_policy: omc_cdk::RemovalPolicy::RetainExceptOnCreate,
                    ..EcrRepositoryProps::new(image.repository.clone())
                },
            )?;
            repository.suppress(
                "ecr-kms-key",
                "The images are built from the repository's own source and hold no secrets; AES-256 encrypts them at rest. A KMS key would have to let every pulling account decrypt (staging pulls production's images) for about $1 a month and a key policy to keep in step, and the choice cannot change later without replacing the repositories.",
            )?;
            Ok((image.repository.clone(), repository))
        })
        .collect::<Result<Vec<_>>>()?;
    // The image jobs of the deploy workflow: on main (for staging) and behind the production
    // environment's approval (a release whose images were not built on main).
    let provider = GitHubOidcProvider::existing_in_stack_account(&stack);
    let publisher = GitHubActionsRole::new(
        &stack,
        "ImagePublisher",
        GitHubActionsRoleProps {
            // Under the stack prefix: the execution role may create roles of these names only.
            role_name: Some(config.stack_name("image-publisher")),
            description: Some(format!(
                "GitHub Actions of {}: builds and pushes the platform's images",
                config.github_repository
            )),
            ..GitHubActionsRoleProps::new(
                &provider,
                config.github_repository.clone(),
                vec![
                    GitHubSubject::Branch("main".into()),
                    GitHubSubject::Environment("production".into()),
                ],
            )
        },
    )?;
    for (_, repository) in &repositories {
        repository.grant_push(publisher.role());
    }
    // The workflow skips a push when the commit's tag exists (tags are immutable).
    publisher.add_to_policy(PolicyStatement::allow(
        ["ecr:DescribeImages"],
        repositories.iter().map(|(_, r)| r.repository_arn()),
    ));
    Ok(Registry::Created(repositories))
}

/// `omc-backend` -> `OmcBackend`.
fn repository_id(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The IAM service prefix of a resource type's actions (`AWS::ElasticLoadBalancingV2::...` ->
/// `elasticloadbalancing`); `None` for IAM, which the execution role gets only on the
/// environment's own names.
fn service_prefix(type_name: &str) -> Option<String> {
    let service = type_name.strip_prefix("AWS::")?.split("::").next()?;
    let prefix = match service {
        "IAM" => return None,
        "ElasticLoadBalancingV2" => "elasticloadbalancing",
        "EFS" => "elasticfilesystem",
        "CertificateManager" => "acm",
        "ApplicationAutoScaling" => "application-autoscaling",
        "Logs" => "logs",
        other => return Some(other.to_ascii_lowercase()),
    };
    Some(prefix.to_owned())
}

/// The services whose resources `synthesis` (and the resource types `added` after it) create,
/// as IAM action prefixes, sorted.
fn execution_services(synthesis: &omc_cdk::Synthesis, added: &[&str]) -> Vec<String> {
    let mut services: std::collections::BTreeSet<String> =
        added.iter().filter_map(|t| service_prefix(t)).collect();
    for stack in synthesis.stacks() {
        let resources = stack.json()["Resources"].as_object().into_iter().flatten();
        for (_, resource) in resources {
            if let Some(service) = resource["Type"].as_str().and_then(service_prefix) {
                services.insert(service);
            }
        }
    }
    services.into_iter().collect()
}

/// `<Prefix>-Delivery`: the GitHub OIDC provider, the deploy role and the CloudFormation
/// execution role of the environment, whose services are those of `synthesis` (every other
/// stack of `app`) and of the resource types `added` to them since. Every other stack of `app`
/// (so call this last) is then deployed with the execution role and after this stack.
pub(crate) fn delivery(
    app: &App,
    config: &Config,
    synthesis: &omc_cdk::Synthesis,
    added: &[&str],
) -> Result<Stack> {
    let services = execution_services(synthesis, added);
    let deployed: Vec<Stack> = app.stacks();
    let stack = crate::stack(
        app,
        config,
        "Delivery",
        "GitHub OIDC deploy role and CloudFormation execution role (an administrator deploys it)",
    )?;
    let provider = GitHubOidcProvider::new(&stack, "GitHub", GitHubOidcProviderProps::default())?;
    let subject = match config.stage {
        // Merges to main deploy staging.
        Stage::Staging => GitHubSubject::Branch("main".into()),
        // Release tags deploy production, after the approval of the protected environment.
        Stage::Production => GitHubSubject::Environment("production".into()),
    };
    let account = config.env.account.clone().unwrap_or_default();
    let roles = DeployRoles::new(
        &stack,
        "Deploy",
        DeployRolesProps {
            excluded_stacks: vec![stack.name()],
            deploy_role_name: Some(format!("{}-deploy", config.stack_prefix)),
            // A deploy of the whole environment (a new database, say) outlasts an hour.
            max_session_hours: Some(2),
            ..DeployRolesProps::new(
                &provider,
                config.github_repository.clone(),
                vec![subject],
                config.stack_prefix.clone(),
                format!("arn:aws:s3:::{}", config.template_bucket()),
                services,
            )
        },
    )?;
    let execution_role = RoleArn::new(format!(
        "arn:aws:iam::{account}:role/{}",
        roles.execution_role_name()
    ))?;
    for other in &deployed {
        other.set_execution_role(&execution_role)?;
        other.add_dependency(
            &stack,
            "deployed with the execution role of the delivery stack",
        )?;
    }
    Ok(stack)
}
