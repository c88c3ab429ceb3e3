//! ECR repositories: immutable tags, scanned on push, a lifecycle policy that keeps the
//! repository small, and a repository policy that lets named accounts pull.

use omc_cdk::{Node, Pseudo, RemovalPolicy, Result, Scope, TypedResource, Value, fns};
use omc_cfn::ecr;

use crate::iam::{PolicyStatement, Role};
use crate::kms::Key;
use crate::util::{self, node};

/// The actions that pull an image (what ECS task execution roles call, besides
/// `ecr:GetAuthorizationToken`).
pub(crate) const PULL_ACTIONS: [&str; 3] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
];

/// The actions that push an image to a repository (`docker push`), besides the pull actions
/// it also calls.
const PUSH_ACTIONS: [&str; 4] = [
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
];

/// How many images of the kept tag prefixes a repository keeps (ECR's limit is 20,000 images).
const KEPT_TAGGED_IMAGES: u32 = 10_000;

/// How a repository is created.
#[derive(Clone, Debug)]
pub struct EcrRepositoryProps {
    /// The repository's name, such as `omc-backend` or `omc/backend`: 2 to 256 lower-case
    /// letters, digits and `.`, `_`, `-` separated path components (ECR's rule). Required.
    pub repository_name: String,
    /// Encrypts images with this customer managed key. Default: none, AES-256 with keys ECR
    /// manages (no key to pay for or to open to the pulling accounts; the rule `ecr-kms-key`
    /// warns, to be suppressed with that reason; the choice cannot change later without
    /// replacing the repository).
    pub encryption_key: Option<Key>,
    /// Untagged images (layers of a re-pushed build, failed pushes) expire this many days after
    /// they were pushed. Default: 1.
    pub untagged_expire_days: u32,
    /// Keeps only the newest this many images (tagged or not); older ones expire. Choose it
    /// larger than the number of builds you may want to roll back to. Default: 30.
    pub keep_images: u32,
    /// Images with a tag starting with one of these (release tags such as `v`) never expire by
    /// the count above: a release keeps its image however many builds come after it (up to
    /// the newest 10,000 of them). Default: none.
    pub kept_tag_prefixes: Vec<String>,
    /// Accounts (12-digit ids) whose principals may pull images, such as the staging and
    /// production accounts whose ECS task execution roles pull them; those roles still need
    /// the pull permissions in their own policies ([`ContainerImage::from_repository`]
    /// grants them). Default: none (only this account's principals, by their own policies).
    ///
    /// [`ContainerImage::from_repository`]: crate::ContainerImage::from_repository
    pub pull_accounts: Vec<String>,
    /// What happens to the repository (and its images) when it leaves the template. Default:
    /// `Retain` (running services still pull from it).
    pub removal_policy: RemovalPolicy,
}

impl EcrRepositoryProps {
    /// A repository named `repository_name` with the defaults.
    pub fn new(repository_name: impl Into<String>) -> EcrRepositoryProps {
        EcrRepositoryProps {
            repository_name: repository_name.into(),
            encryption_key: None,
            untagged_expire_days: 1,
            keep_images: 30,
            kept_tag_prefixes: Vec::new(),
            pull_accounts: Vec::new(),
            removal_policy: RemovalPolicy::Retain,
        }
    }
}

/// A repository of another account or app, for [`EcrRepository::from_attributes`].
#[derive(Clone, Debug)]
pub struct EcrRepositoryAttributes {
    /// The repository's name, such as `omc-backend`.
    pub repository_name: String,
    /// The account that holds it (12 digits).
    pub account: String,
    /// Its region, such as `us-east-1`.
    pub region: String,
}

/// An ECR repository: tags are immutable (a tag, such as a commit SHA, always names the same
/// image), images are scanned on push, a lifecycle policy expires untagged images and keeps the
/// newest ones, and the repository policy lets the `pull_accounts` pull (only pull).
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{EcrRepository, EcrRepositoryProps};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Images", StackProps::default())?;
/// let repo = EcrRepository::new(&stack, "Backend", EcrRepositoryProps {
///     pull_accounts: vec!["210987654321".into()],
///     ..EcrRepositoryProps::new("omc-backend")
/// })?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::ECR::Repository", json!({
///     "RepositoryName": "omc-backend",
///     "ImageTagMutability": "IMMUTABLE",
///     "ImageScanningConfiguration": {"ScanOnPush": true},
/// }))?;
/// // References to the resource, so what uses them depends on the repository.
/// assert!(repo.repository_uri().is_intrinsic());
/// let err = EcrRepository::new(&stack, "Bad", EcrRepositoryProps::new("Omc"));
/// assert!(err.unwrap_err().to_string().starts_with("Images/Bad: repository name \"Omc\""));
/// app.synth()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct EcrRepository {
    resource: Option<ecr::RepositoryHandle>,
    name: Value<String>,
    arn: Value<String>,
    uri: Value<String>,
    /// Where the construct created its resources.
    scope: Scope,
}

/// Whether `name` follows ECR's repository name rule: 2 to 256 characters,
/// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`.
fn valid_repository_name(name: &str) -> bool {
    let component_ok = |component: &str| {
        let bytes = component.as_bytes();
        !bytes.is_empty()
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && !bytes
                .windows(2)
                .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
    };
    (2..=256).contains(&name.len()) && name.split('/').all(component_ok)
}

fn check_repository_name(path: &str, name: &str) -> Result<()> {
    if valid_repository_name(name) {
        return Ok(());
    }
    Err(util::invalid_prop(
        path,
        "repository_name",
        name,
        format!(
            "repository name {name:?} must be 2 to 256 characters: lower-case letters and digits, separated by single '.', '_', '-' or '/', such as \"omc-backend\" or \"omc/backend\""
        ),
    ))
}

/// Checks a 12-digit account id.
pub(crate) fn check_account(path: &str, field: &'static str, account: &str) -> Result<()> {
    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    Err(util::invalid_prop(
        path,
        field,
        account,
        format!("account id {account:?} must be 12 digits, such as \"123456789012\""),
    ))
}

impl EcrRepository {
    /// Creates a repository.
    pub fn new(scope: &Scope, id: &str, props: EcrRepositoryProps) -> Result<EcrRepository> {
        let path = util::path(scope, id);
        check_repository_name(&path, &props.repository_name)?;
        if props.keep_images == 0 {
            return Err(util::invalid_prop(
                &path,
                "keep_images",
                0,
                "keep_images is 0, which would expire every image, including the ones services run; keep at least 1 (default 30)",
            ));
        }
        if props.untagged_expire_days == 0 {
            return Err(util::invalid_prop(
                &path,
                "untagged_expire_days",
                0,
                "untagged_expire_days is 0; ECR counts days from 1 (default 1)",
            ));
        }
        for account in &props.pull_accounts {
            check_account(&path, "pull_accounts", account)?;
        }
        for prefix in &props.kept_tag_prefixes {
            let ok = !prefix.is_empty()
                && prefix.len() <= 128
                && prefix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !ok {
                return Err(util::invalid_prop(
                    &path,
                    "kept_tag_prefixes",
                    prefix,
                    format!(
                        "kept tag prefix {prefix:?} is not the start of an image tag: 1 to 128 letters, digits, '_', '.' and '-', such as \"v\""
                    ),
                ));
            }
        }
        let scope = scope.child(id)?;
        let lifecycle = serde_json::json!({
            "rules": [
                {
                    "rulePriority": 1,
                    "description": format!(
                        "Expire untagged images {} after push",
                        if props.untagged_expire_days == 1 { "1 day".to_owned() } else { format!("{} days", props.untagged_expire_days) }
                    ),
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": props.untagged_expire_days
                    },
                    "action": {"type": "expire"}
                },
                {
                    // ECR wants the rule on any tag status last.
                    "rulePriority": if props.kept_tag_prefixes.is_empty() { 2 } else { 3 },
                    "description": format!("Keep only the newest {} images", props.keep_images),
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": props.keep_images
                    },
                    "action": {"type": "expire"}
                }
            ]
        });
        let mut lifecycle = lifecycle;
        if !props.kept_tag_prefixes.is_empty()
            && let Some(rules) = lifecycle["rules"].as_array_mut()
        {
            // An image a higher-priority rule selects is never expired by a lower one: this rule
            // takes the release images out of the count rule's reach.
            rules.insert(
                1,
                serde_json::json!({
                    "rulePriority": 2,
                    "description": format!(
                        "Keep the images tagged {}* (up to the newest {KEPT_TAGGED_IMAGES})",
                        props.kept_tag_prefixes.join("*, ")
                    ),
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPrefixList": props.kept_tag_prefixes,
                        "countType": "imageCountMoreThan",
                        "countNumber": KEPT_TAGGED_IMAGES
                    },
                    "action": {"type": "expire"}
                }),
            );
        }
        let encryption = match &props.encryption_key {
            Some(key) => ecr::repository::EncryptionConfiguration {
                kms_key: Some(key.key_arn()),
                ..ecr::repository::EncryptionConfiguration::new("KMS")
            },
            None => ecr::repository::EncryptionConfiguration::new("AES256"),
        };
        let resource = scope.add(
            "Resource",
            ecr::Repository {
                repository_name: Some(props.repository_name.clone().into()),
                image_tag_mutability: Some("IMMUTABLE".into()),
                image_scanning_configuration: Some(
                    ecr::repository::ImageScanningConfiguration {
                        scan_on_push: Some(true.into()),
                    }
                    .into(),
                ),
                encryption_configuration: Some(encryption.into()),
                lifecycle_policy: Some(
                    ecr::repository::LifecyclePolicy {
                        lifecycle_policy_text: Some(lifecycle.to_string().into()),
                        registry_id: None,
                    }
                    .into(),
                ),
                ..ecr::Repository::new()
            },
        )?;
        if !props.pull_accounts.is_empty() {
            let principals: Vec<Node> = props
                .pull_accounts
                .iter()
                .map(|account| {
                    node(
                        fns::Sub::new()
                            .text("arn:")
                            .pseudo(Pseudo::Partition)
                            .text(&format!(":iam::{account}:root"))
                            .build(),
                    )
                })
                .collect();
            let statement = Node::map([
                ("Sid", node("PullFromAccounts")),
                ("Effect", node("Allow")),
                ("Principal", Node::map([("AWS", Node::List(principals))])),
                (
                    "Action",
                    Node::List(PULL_ACTIONS.iter().map(|a| node(*a)).collect()),
                ),
            ]);
            let policy = Node::map([
                ("Version", node("2012-10-17")),
                ("Statement", Node::List(vec![statement])),
            ]);
            resource.update_properties(|p| {
                p.insert("RepositoryPolicyText".into(), policy);
            });
        }
        resource.apply_removal_policy(props.removal_policy);
        Ok(EcrRepository {
            name: resource.reference(),
            arn: resource.attr_arn(),
            uri: resource.attr_repository_uri(),
            resource: Some(resource),
            scope,
        })
    }

    /// A repository of another account or app, by name, account and region: its ARN and URI
    /// are literal, and nothing is added to the stack.
    pub fn from_attributes(
        scope: &Scope,
        id: &str,
        attributes: EcrRepositoryAttributes,
    ) -> Result<EcrRepository> {
        let path = util::path(scope, id);
        let EcrRepositoryAttributes {
            repository_name,
            account,
            region,
        } = attributes;
        check_repository_name(&path, &repository_name)?;
        check_account(&path, "account", &account)?;
        let region_ok = region.split('-').count() >= 3
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && region.ends_with(|c: char| c.is_ascii_digit());
        if !region_ok {
            return Err(util::invalid_prop(
                &path,
                "region",
                &region,
                format!("region {region:?} is not an AWS region name such as \"us-east-1\""),
            ));
        }
        let (partition, suffix) = if region.starts_with("cn-") {
            ("aws-cn", "amazonaws.com.cn")
        } else if region.starts_with("us-gov-") {
            ("aws-us-gov", "amazonaws.com")
        } else {
            ("aws", "amazonaws.com")
        };
        let scope = scope.child(id)?;
        Ok(EcrRepository {
            resource: None,
            arn: Value::Lit(format!(
                "arn:{partition}:ecr:{region}:{account}:repository/{repository_name}"
            )),
            uri: Value::Lit(format!(
                "{account}.dkr.ecr.{region}.{suffix}/{repository_name}"
            )),
            name: Value::Lit(repository_name),
            scope,
        })
    }

    /// The repository's name (a `Ref` of the resource, or the literal name of a repository
    /// from [`EcrRepository::from_attributes`]).
    pub fn repository_name(&self) -> Value<String> {
        self.name.clone()
    }

    /// The repository's ARN.
    pub fn repository_arn(&self) -> Value<String> {
        self.arn.clone()
    }

    /// The repository's URI, `<account>.dkr.ecr.<region>.amazonaws.com/<name>` (without a tag).
    pub fn repository_uri(&self) -> Value<String> {
        self.uri.clone()
    }

    /// The repository's resource (`None` for a repository from
    /// [`EcrRepository::from_attributes`]).
    pub fn resource(&self) -> Option<&omc_cdk::Resource> {
        self.resource.as_ref().map(TypedResource::as_resource)
    }

    /// Lets a role pull images of this repository: the pull actions on it, and
    /// `ecr:GetAuthorizationToken` (which has no resource-level form, so it is on `*`).
    pub fn grant_pull(&self, role: &Role) {
        role.add_to_policy(PolicyStatement::allow(
            ["ecr:GetAuthorizationToken"],
            ["*".into()],
        ));
        role.add_to_policy(PolicyStatement::allow(
            PULL_ACTIONS,
            [self.repository_arn()],
        ));
    }

    /// Lets a role push images to this repository (and pull, which `docker push` also calls
    /// to find the layers that are already there): the layer upload actions and
    /// `ecr:PutImage` on it, and `ecr:GetAuthorizationToken` on `*`.
    pub fn grant_push(&self, role: &Role) {
        role.add_to_policy(PolicyStatement::allow(
            ["ecr:GetAuthorizationToken"],
            ["*".into()],
        ));
        role.add_to_policy(PolicyStatement::allow(
            PULL_ACTIONS.into_iter().chain(PUSH_ACTIONS),
            [self.repository_arn()],
        ));
    }
}

impl omc_cdk::Construct for EcrRepository {
    fn node(&self) -> &Scope {
        &self.scope
    }
}

#[cfg(test)]
mod tests {
    use super::valid_repository_name;

    #[test]
    fn repository_names_follow_ecr_rule() {
        for ok in ["omc-backend", "omc/backend", "a1", "a.b_c-d/e", "ab/c/ef"] {
            assert!(valid_repository_name(ok), "{ok}");
        }
        for bad in [
            "a", "Omc", "-omc", "omc-", "omc--x", "omc/", "/omc", "om c", "omc//x", "a._b",
        ] {
            assert!(!valid_repository_name(bad), "{bad}");
        }
        assert!(valid_repository_name(&"a".repeat(256)));
        assert!(!valid_repository_name(&"a".repeat(257)));
    }
}
