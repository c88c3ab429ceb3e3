//! Public ACM certificates, validated through DNS records in a Route 53 hosted zone.

use omc_cdk::arn::CertificateArn;
use omc_cdk::{Result, Scope, TypedResource};
use omc_cfn::certificatemanager as acm;

use crate::dns::HostedZone;
use crate::util;

/// ACM's limit on the certificate's first name (the subject's common name).
const MAX_DOMAIN_NAME: usize = 64;

/// How a certificate is requested.
#[derive(Clone, Debug)]
pub struct CertificateProps<'a> {
    /// The certificate's name, such as `omc.example` or `*.omc.example`: a domain name in the
    /// hosted zone, at most 64 characters (ACM's limit on the first name).
    pub domain_name: String,
    /// More names the certificate covers, such as `www.omc.example`, each in the hosted zone.
    /// Default in [`CertificateProps::new`]: none.
    pub subject_alternative_names: Vec<String>,
    /// The zone that holds every name: ACM's validation records are created in it.
    pub hosted_zone: &'a HostedZone,
}

impl<'a> CertificateProps<'a> {
    /// A certificate for `domain_name`, validated in `hosted_zone`.
    pub fn new(
        domain_name: impl Into<String>,
        hosted_zone: &'a HostedZone,
    ) -> CertificateProps<'a> {
        CertificateProps {
            domain_name: domain_name.into(),
            subject_alternative_names: Vec::new(),
            hosted_zone,
        }
    }
}

/// A public ACM certificate, validated by DNS.
///
/// Defines `AWS::CertificateManager::Certificate` with `ValidationMethod: DNS` and, for every
/// name, a `DomainValidationOptions` entry naming the hosted zone: CloudFormation creates the
/// validation records in the zone and waits until ACM has issued the certificate (minutes,
/// usually). A wildcard whose base name is also on the certificate (`*.omc.example` with
/// `omc.example`) shares that name's validation record, so it gets no entry of its own.
/// [`Certificate::certificate_arn`] goes to
/// [`ApplicationLoadBalancerProps::certificate_arn`](crate::ApplicationLoadBalancerProps).
/// Public certificates cost nothing. The certificate must be in the load balancer's region.
///
/// ```
/// use omc_cdk::{App, Stack, StackProps, assertions::Template};
/// use omc_constructs::{Certificate, CertificateProps, HostedZone, HostedZoneAttributes};
/// use serde_json::json;
///
/// let app = App::new();
/// let stack = Stack::new(&app, "Edge", StackProps::default())?;
/// let zone = HostedZone::from_attributes(&stack, "Zone", HostedZoneAttributes {
///     hosted_zone_id: "Z0123456789ABCDEFGHIJ".into(),
///     zone_name: "omc.example".into(),
/// })?;
/// let certificate = Certificate::new(&stack, "Certificate", CertificateProps {
///     subject_alternative_names: vec!["www.omc.example".into()],
///     ..CertificateProps::new("omc.example", &zone)
/// })?;
/// Template::from_stack(&stack)?.has_resource_properties("AWS::CertificateManager::Certificate", json!({
///     "DomainName": "omc.example",
///     "ValidationMethod": "DNS",
///     "DomainValidationOptions": [
///         {"DomainName": "omc.example", "HostedZoneId": "Z0123456789ABCDEFGHIJ"},
///         {"DomainName": "www.omc.example", "HostedZoneId": "Z0123456789ABCDEFGHIJ"},
///     ],
/// }))?;
/// # let _ = certificate.certificate_arn();
/// let err = Certificate::new(&stack, "Bad", CertificateProps::new("omc", &zone)).unwrap_err();
/// assert!(err.to_string().contains("domain_name \"omc\" is not a domain name"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Certificate {
    scope: Scope,
    resource: acm::CertificateHandle,
    arn: CertificateArn,
}

impl Certificate {
    /// Requests a certificate.
    pub fn new(scope: &Scope, id: &str, props: CertificateProps<'_>) -> Result<Certificate> {
        let path = util::path(scope, id);
        let zone = props.hosted_zone;
        zone.check_name(&path, "domain_name", &props.domain_name)?;
        if props.domain_name.len() > MAX_DOMAIN_NAME {
            return Err(util::invalid_prop(
                &path,
                "domain_name",
                &props.domain_name,
                format!(
                    "domain_name {:?} has {} characters; ACM takes at most {MAX_DOMAIN_NAME} for a certificate's first name, so use a shorter one and put this name in subject_alternative_names",
                    props.domain_name,
                    props.domain_name.len()
                ),
            ));
        }
        let mut names: Vec<&str> = vec![props.domain_name.as_str()];
        for name in &props.subject_alternative_names {
            zone.check_name(&path, "subject_alternative_names", name)?;
            if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                return Err(util::invalid_prop(
                    &path,
                    "subject_alternative_names",
                    name,
                    format!(
                        "subject_alternative_names has {name:?} twice (or also as domain_name); give each name once"
                    ),
                ));
            }
            names.push(name);
        }
        // A wildcard and its base name are validated by the same record: one entry for both,
        // or CloudFormation tries to create the record twice.
        let validated = names.iter().filter(|name| {
            name.strip_prefix("*.")
                .is_none_or(|base| !names.iter().any(|n| n.eq_ignore_ascii_case(base)))
        });
        let options: Vec<acm::certificate::DomainValidationOption> = validated
            .map(|name| acm::certificate::DomainValidationOption {
                domain_name: Some((*name).into()),
                hosted_zone_id: Some(zone.hosted_zone_id()),
                ..acm::certificate::DomainValidationOption::default()
            })
            .collect();
        let scope = scope.child(id)?;
        let resource = scope.add(
            "Resource",
            acm::Certificate {
                validation_method: Some("DNS".into()),
                domain_validation_options: Some(options.into()),
                subject_alternative_names: (!props.subject_alternative_names.is_empty()).then(
                    || {
                        props
                            .subject_alternative_names
                            .iter()
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .into()
                    },
                ),
                ..acm::Certificate::new(props.domain_name.as_str())
            },
        )?;
        let arn = CertificateArn::new(resource.reference())?;
        Ok(Certificate {
            scope,
            resource,
            arn,
        })
    }

    /// The certificate's ARN (its `Ref`), for
    /// [`ApplicationLoadBalancerProps::certificate_arn`](crate::ApplicationLoadBalancerProps).
    pub fn certificate_arn(&self) -> CertificateArn {
        self.arn.clone()
    }

    /// The `AWS::CertificateManager::Certificate` resource.
    pub fn resource(&self) -> &omc_cdk::Resource {
        self.resource.as_resource()
    }
}

impl omc_cdk::Construct for Certificate {
    fn node(&self) -> &Scope {
        &self.scope
    }
}
