//! ARNs that construct props take, typed by what they name and checked for shape: a role's
//! ARN cannot be given where a certificate's is expected, and a literal that is not an ARN of
//! that kind is refused when the value is made. A token (a parameter, an import, another
//! resource's attribute) is taken as it is; CloudFormation checks it at deploy time.
//!
//! ```
//! use omc_cdk::arn::{CertificateArn, RoleArn};
//! use omc_cdk::{Error, Value, fns};
//!
//! let cert = CertificateArn::new("arn:aws:acm:eu-west-1:123456789012:certificate/abc-123")?;
//! assert_eq!(Value::from(&cert).as_literal().map(String::as_str),
//!            Some("arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"));
//! // A role's ARN is not a certificate's.
//! let err = CertificateArn::new("arn:aws:iam::123456789012:role/admin").unwrap_err();
//! assert!(matches!(err, Error::InvalidArn { kind: "ACM certificate", .. }));
//! // Tokens are checked by CloudFormation.
//! let role = RoleArn::new(fns::import_value("Platform-AdminRoleArn"))?;
//! # let _ = role;
//! # Ok::<(), Error>(())
//! ```

use crate::error::{Error, Result};
use crate::value::Value;

/// What an ARN kind requires of `arn:partition:service:region:account:resource`.
struct Shape {
    kind: &'static str,
    service: &'static str,
    /// Whether the region field is filled (regional services) or empty (IAM).
    regional: bool,
    /// The resource part starts with this (`certificate/`, `role/`, `secret:`).
    resource_prefix: &'static str,
    /// Whether AWS's own account (`aws`) may stand in the account field (managed policies).
    aws_account: bool,
    example: &'static str,
}

impl Shape {
    /// Why `arn` does not have the shape, if it does not.
    fn check(&self, arn: &str) -> std::result::Result<(), String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
            return Err("is not an ARN (arn:partition:service:region:account:resource)".into());
        };
        if *prefix != "arn" || !(*partition == "aws" || partition.starts_with("aws-")) {
            return Err("does not start with arn:aws (or another AWS partition)".into());
        }
        if *service != self.service {
            return Err(format!(
                "names the service {service:?}, not {:?}",
                self.service
            ));
        }
        if self.regional == region.is_empty() {
            return Err(if self.regional {
                "has no region".into()
            } else {
                format!("has a region ({region:?}); {} ARNs have none", self.service)
            });
        }
        let account_ok = (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
            || (self.aws_account && *account == "aws");
        if !account_ok {
            return Err(format!("has the account {account:?}, not 12 digits"));
        }
        match resource.strip_prefix(self.resource_prefix) {
            Some(rest) if !rest.is_empty() && !rest.contains(char::is_whitespace) => Ok(()),
            _ => Err(format!(
                "has the resource {resource:?}, not {}<name>",
                self.resource_prefix
            )),
        }
    }
}

macro_rules! arn_type {
    ($(#[$doc:meta])* $name:ident, $shape:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name(Value<String>);

        impl $name {
            const SHAPE: Shape = $shape;

            /// The ARN, checked for shape when it is a literal (a token is taken as it is).
            /// Fails with [`Error::InvalidArn`] naming the kind, the value and an example.
            pub fn new(arn: impl Into<Value<String>>) -> Result<$name> {
                let arn = arn.into();
                if let Some(text) = arn.as_literal() {
                    Self::SHAPE.check(text).map_err(|reason| Error::InvalidArn {
                        kind: Self::SHAPE.kind,
                        arn: text.clone(),
                        reason,
                        example: Self::SHAPE.example,
                    })?;
                }
                Ok($name(arn))
            }

            /// The ARN as a value.
            pub fn value(&self) -> Value<String> {
                self.0.clone()
            }
        }

        impl From<$name> for Value<String> {
            fn from(arn: $name) -> Value<String> {
                arn.0
            }
        }

        impl From<&$name> for Value<String> {
            fn from(arn: &$name) -> Value<String> {
                arn.0.clone()
            }
        }
    };
}

arn_type!(
    /// The ARN of an ACM certificate (`arn:aws:acm:<region>:<account>:certificate/<id>`).
    CertificateArn,
    Shape {
        kind: "ACM certificate",
        service: "acm",
        regional: true,
        resource_prefix: "certificate/",
        aws_account: false,
        example: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666",
    }
);
arn_type!(
    /// The ARN of an IAM role (`arn:aws:iam::<account>:role/<path/name>`).
    RoleArn,
    Shape {
        kind: "IAM role",
        service: "iam",
        regional: false,
        resource_prefix: "role/",
        aws_account: false,
        example: "arn:aws:iam::123456789012:role/platform-admin",
    }
);
arn_type!(
    /// The ARN of an IAM managed policy, AWS's own (`arn:aws:iam::aws:policy/<name>`, see
    /// [`ManagedPolicyArn::aws_managed`]) or an account's (`arn:aws:iam::<account>:policy/..`).
    ManagedPolicyArn,
    Shape {
        kind: "IAM managed policy",
        service: "iam",
        regional: false,
        resource_prefix: "policy/",
        aws_account: true,
        example: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    }
);
arn_type!(
    /// The ARN of a Secrets Manager secret
    /// (`arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`).
    SecretArn,
    Shape {
        kind: "Secrets Manager secret",
        service: "secretsmanager",
        regional: true,
        resource_prefix: "secret:",
        aws_account: false,
        example: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:legacy-AbCdEf",
    }
);
arn_type!(
    /// The ARN of a KMS key (`arn:aws:kms:<region>:<account>:key/<id>`).
    KmsKeyArn,
    Shape {
        kind: "KMS key",
        service: "kms",
        regional: true,
        resource_prefix: "key/",
        aws_account: false,
        example: "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666",
    }
);
arn_type!(
    /// The ARN of an ECS cluster (`arn:aws:ecs:<region>:<account>:cluster/<name>`).
    ClusterArn,
    Shape {
        kind: "ECS cluster",
        service: "ecs",
        regional: true,
        resource_prefix: "cluster/",
        aws_account: false,
        example: "arn:aws:ecs:eu-west-1:123456789012:cluster/apps",
    }
);

impl ManagedPolicyArn {
    /// An AWS managed policy by name, such as `AmazonEKSClusterPolicy` or
    /// `service-role/AWS_ConfigRole`, in the stack's partition
    /// (`arn:${AWS::Partition}:iam::aws:policy/<name>`).
    pub fn aws_managed(name: &str) -> Result<ManagedPolicyArn> {
        let ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b))
            && !name.starts_with('/')
            && !name.ends_with('/');
        if !ok {
            return Err(Error::InvalidArn {
                kind: "IAM managed policy",
                arn: name.to_owned(),
                reason: "is not a managed policy name (letters, digits, +=,.@_- and '/' between path parts)".into(),
                example: "AmazonEKSClusterPolicy",
            });
        }
        Ok(ManagedPolicyArn(
            crate::fns::Sub::new()
                .text("arn:")
                .pseudo(crate::value::Pseudo::Partition)
                .text(&format!(":iam::aws:policy/{name}"))
                .build(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(e @ Error::InvalidArn { .. }) => e.to_string(),
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn arns_are_checked_for_their_kind() {
        assert!(CertificateArn::new("arn:aws:acm:eu-west-1:123456789012:certificate/abc").is_ok());
        assert!(
            CertificateArn::new("arn:aws-cn:acm:cn-north-1:123456789012:certificate/a").is_ok()
        );
        assert!(RoleArn::new("arn:aws:iam::123456789012:role/path/admin").is_ok());
        assert!(ManagedPolicyArn::new("arn:aws:iam::aws:policy/ReadOnlyAccess").is_ok());
        assert!(
            SecretArn::new("arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbC").is_ok()
        );
        assert!(KmsKeyArn::new("arn:aws:kms:eu-west-1:123456789012:key/k").is_ok());
        assert!(ClusterArn::new("arn:aws:ecs:eu-west-1:123456789012:cluster/apps").is_ok());

        let err = refused(CertificateArn::new("arn:aws:iam::123456789012:role/admin"));
        assert!(
            err.contains("names the service \"iam\", not \"acm\""),
            "{err}"
        );
        assert!(err.contains("ACM certificate"), "{err}");
        let err = refused(RoleArn::new(
            "arn:aws:iam:eu-west-1:123456789012:role/admin",
        ));
        assert!(err.contains("has a region"), "{err}");
        let err = refused(RoleArn::new("arn:aws:iam::aws:role/admin"));
        assert!(err.contains("not 12 digits"), "{err}");
        let err = refused(RoleArn::new("arn:aws:iam::123456789012:user/admin"));
        assert!(err.contains("not role/<name>"), "{err}");
        let err = refused(KmsKeyArn::new("alias/aws/sns"));
        assert!(err.contains("is not an ARN"), "{err}");
        let err = refused(SecretArn::new(
            "arn:aws:secretsmanager::123456789012:secret:x",
        ));
        assert!(err.contains("has no region"), "{err}");
        let err = refused(ManagedPolicyArn::aws_managed("${AWS::Region}"));
        assert!(err.contains("is not a managed policy name"), "{err}");
    }

    #[test]
    fn tokens_are_taken_as_they_are() {
        let token = crate::fns::import_value("Other-RoleArn");
        assert!(RoleArn::new(token).is_ok());
    }
}
