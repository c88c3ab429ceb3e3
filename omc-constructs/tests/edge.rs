//! The edge of an app: `HostedZone`, `Certificate`, `AliasRecord`, `WebAcl` and the HTTPS
//! `ApplicationLoadBalancer` they serve, and their bad input.
//!
//! With `OMC_EDGE_TEMPLATE_DIR` set, `the_edge_passes_the_checks_and_is_priced` writes the
//! templates there, for `cfn-lint`.
#![allow(clippy::unwrap_used, clippy::panic)]

use omc_cdk::assertions::Template;
use omc_cdk::{App, Environment, Json, Stack, StackProps};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, AccessLogs, AliasRecord, AliasRecordProps,
    ApplicationLoadBalancer, ApplicationLoadBalancerProps, Bucket, BucketProps, Certificate,
    CertificateProps, HostedZone, HostedZoneAttributes, Key, KeyProps, Retention, ServerAccessLogs,
    Vpc, VpcProps, WebAcl, WebAclProps,
};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ZONE_ID: &str = "Z0123456789ABCDEFGHIJ";

struct Fixture {
    app: App,
    stack: Stack,
    vpc: Vpc,
    zone: HostedZone,
    logs: Bucket,
    /// The key of every log group, in [`production_fixture`].
    logs_key: Option<Key>,
}

fn fixture() -> Fixture {
    fixture_with(false)
}

/// The fixture as production wants it: log groups under a key, the load balancer's log bucket
/// logging its access to an access-log bucket.
fn production_fixture() -> Fixture {
    fixture_with(true)
}

fn fixture_with(production: bool) -> Fixture {
    let app = App::new();
    let stack = Stack::new(
        &app,
        "Edge",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )
    .unwrap();
    let logs_key = production.then(|| Key::new(&stack, "LogsKey", KeyProps::default()).unwrap());
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            flow_log_key: logs_key.clone(),
            ..VpcProps::default()
        },
    )
    .unwrap();
    let zone = HostedZone::from_attributes(
        &stack,
        "Zone",
        HostedZoneAttributes {
            hosted_zone_id: ZONE_ID.into(),
            zone_name: "omc.example".into(),
        },
    )
    .unwrap();
    let access_logs = production.then(|| {
        AccessLogBucket::new(&stack, "AccessLogs", AccessLogBucketProps::new(90)).unwrap()
    });
    let logs = Bucket::new(
        &stack,
        "AlbLogs",
        BucketProps {
            access_logs: access_logs
                .as_ref()
                .map(|bucket| ServerAccessLogs::new(bucket, "alb-logs/")),
            ..BucketProps::default()
        },
    )
    .unwrap();
    Fixture {
        app,
        stack,
        vpc,
        zone,
        logs,
        logs_key,
    }
}

fn certificate(f: &Fixture, id: &str, props: CertificateProps<'_>) -> Certificate {
    Certificate::new(&f.stack, id, props).unwrap()
}

fn https_alb(f: &Fixture, certificate: &Certificate) -> ApplicationLoadBalancer {
    ApplicationLoadBalancer::new(
        &f.stack,
        "Alb",
        ApplicationLoadBalancerProps {
            certificate_arn: Some(certificate.certificate_arn()),
            access_logs: Some(AccessLogs::new(&f.logs)),
            ..ApplicationLoadBalancerProps::new(&f.vpc)
        },
    )
    .unwrap()
}

fn only<'t>(t: &'t Template, type_name: &str) -> (&'t str, &'t Json) {
    let found = t.resources(type_name);
    assert_eq!(found.len(), 1, "{type_name}: {found:?}");
    found[0]
}

fn logical_id(t: &Template, type_name: &str) -> String {
    only(t, type_name).0.to_owned()
}

#[test]
fn certificates_are_validated_by_dns_in_the_zone_for_every_name() -> TestResult {
    let f = fixture();
    certificate(
        &f,
        "Site",
        CertificateProps {
            subject_alternative_names: vec!["www.omc.example".into(), "*.omc.example".into()],
            ..CertificateProps::new("omc.example", &f.zone)
        },
    );
    let t = Template::from_stack(&f.stack)?;
    let (_, cert) = only(&t, "AWS::CertificateManager::Certificate");
    assert_eq!(
        cert["Properties"],
        json!({
            "DomainName": "omc.example",
            // The wildcard shares omc.example's validation record: one entry for both.
            "DomainValidationOptions": [
                {"DomainName": "omc.example", "HostedZoneId": ZONE_ID},
                {"DomainName": "www.omc.example", "HostedZoneId": ZONE_ID},
            ],
            "SubjectAlternativeNames": ["www.omc.example", "*.omc.example"],
            "ValidationMethod": "DNS",
        })
    );

    // A wildcard alone is validated under its own name; no SANs, no SubjectAlternativeNames.
    let g = fixture();
    certificate(
        &g,
        "Wildcard",
        CertificateProps::new("*.staging.omc.example", &g.zone),
    );
    let t = Template::from_stack(&g.stack)?;
    let (_, cert) = only(&t, "AWS::CertificateManager::Certificate");
    assert_eq!(
        cert["Properties"],
        json!({
            "DomainName": "*.staging.omc.example",
            "DomainValidationOptions": [
                {"DomainName": "*.staging.omc.example", "HostedZoneId": ZONE_ID},
            ],
            "ValidationMethod": "DNS",
        })
    );
    Ok(())
}

#[test]
fn the_load_balancer_serves_https_with_the_certificate_and_http_only_redirects() -> TestResult {
    let f = fixture();
    let cert = certificate(&f, "Cert", CertificateProps::new("omc.example", &f.zone));
    https_alb(&f, &cert);
    let t = Template::from_stack(&f.stack)?;
    let cert_id = logical_id(&t, "AWS::CertificateManager::Certificate");
    t.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        json!({
            "Port": 443,
            "Protocol": "HTTPS",
            "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "Certificates": [{"CertificateArn": {"Ref": cert_id}}],
        }),
    )?;
    let listeners = t.resources("AWS::ElasticLoadBalancingV2::Listener");
    assert_eq!(listeners.len(), 2);
    let http: Vec<&Json> = listeners
        .iter()
        .map(|(_, l)| &l["Properties"])
        .filter(|p| p["Port"] == json!(80))
        .collect();
    assert_eq!(http.len(), 1);
    assert_eq!(http[0]["Protocol"], json!("HTTP"));
    assert_eq!(
        http[0]["DefaultActions"],
        json!([{
            "Type": "redirect",
            "RedirectConfig": {"Port": "443", "Protocol": "HTTPS", "StatusCode": "HTTP_301"},
        }])
    );
    // The internet reaches 80 (the redirect) and 443, nothing else.
    let mut ports: Vec<(i64, String)> = t
        .resources("AWS::EC2::SecurityGroupIngress")
        .iter()
        .map(|(_, r)| {
            (
                r["Properties"]["FromPort"].as_i64().unwrap(),
                r["Properties"]["CidrIp"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    ports.sort();
    assert_eq!(
        ports,
        [(80, "0.0.0.0/0".to_owned()), (443, "0.0.0.0/0".to_owned())]
    );
    Ok(())
}

#[test]
fn alias_records_point_at_the_load_balancer() -> TestResult {
    let f = fixture();
    let cert = certificate(&f, "Cert", CertificateProps::new("omc.example", &f.zone));
    let alb = https_alb(&f, &cert);
    let apex = AliasRecord::new(
        &f.stack,
        "Apex",
        AliasRecordProps {
            zone: &f.zone,
            record_name: "omc.example".into(),
            load_balancer: &alb,
        },
    )?;
    assert_eq!(apex.record_name(), "omc.example");
    AliasRecord::new(
        &f.stack,
        "Staging",
        AliasRecordProps {
            zone: &f.zone,
            record_name: "staging.omc.example".into(),
            load_balancer: &alb,
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    let alb_id = logical_id(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    let records = t.resources("AWS::Route53::RecordSet");
    // The load balancer is IPv4-only: A records, no AAAA.
    assert_eq!(records.len(), 2);
    let names: Vec<&Json> = records
        .iter()
        .map(|(_, r)| &r["Properties"]["Name"])
        .collect();
    assert_eq!(
        names,
        [&json!("omc.example"), &json!("staging.omc.example")]
    );
    for (_, record) in &records {
        let props = &record["Properties"];
        assert_eq!(props["Type"], json!("A"));
        assert_eq!(props["HostedZoneId"], json!(ZONE_ID));
        assert_eq!(
            props["AliasTarget"],
            json!({
                "DNSName": {"Fn::GetAtt": [alb_id, "DNSName"]},
                "EvaluateTargetHealth": true,
                "HostedZoneId": {"Fn::GetAtt": [alb_id, "CanonicalHostedZoneID"]},
            })
        );
        assert!(props.get("TTL").is_none() && props.get("ResourceRecords").is_none());
    }
    let a = apex.resource().logical_id();
    assert!(records.iter().any(|(id, _)| *id == a));
    Ok(())
}

#[test]
fn the_web_acl_has_managed_rules_a_rate_limit_logging_and_an_association() -> TestResult {
    let f = fixture();
    let cert = certificate(&f, "Cert", CertificateProps::new("omc.example", &f.zone));
    let alb = https_alb(&f, &cert);
    let waf = WebAcl::new(
        &f.stack,
        "Waf",
        WebAclProps {
            rate_limit_per_5_minutes: 500,
            ..WebAclProps::new(Retention::Days(90))
        },
    )?;
    alb.associate_web_acl(&waf)?;
    let t = Template::from_stack(&f.stack)?;
    let (acl_id, acl) = only(&t, "AWS::WAFv2::WebACL");
    let visibility = |metric: &str| json!({"CloudWatchMetricsEnabled": true, "MetricName": metric, "SampledRequestsEnabled": true});
    let managed = |name: &str, priority: i64| {
        json!({
            "Name": name,
            "OverrideAction": {"None": {}},
            "Priority": priority,
            "Statement": {"ManagedRuleGroupStatement": {"Name": name, "VendorName": "AWS"}},
            "VisibilityConfig": visibility(&format!("EdgeWaf-{name}")),
        })
    };
    assert_eq!(
        acl["Properties"],
        json!({
            "DefaultAction": {"Allow": {}},
            "Rules": [
                {
                    "Action": {"Block": {}},
                    "Name": "RateLimitPerIp",
                    "Priority": 0,
                    "Statement": {"RateBasedStatement": {
                        "AggregateKeyType": "IP", "EvaluationWindowSec": 300, "Limit": 500,
                    }},
                    "VisibilityConfig": visibility("EdgeWaf-RateLimitPerIp"),
                },
                managed("AWSManagedRulesAmazonIpReputationList", 1),
                managed("AWSManagedRulesCommonRuleSet", 2),
                managed("AWSManagedRulesKnownBadInputsRuleSet", 3),
            ],
            "Scope": "REGIONAL",
            "VisibilityConfig": visibility("EdgeWaf"),
        })
    );

    // Logging: a log group named aws-waf-logs-..., given by ARN without ":*".
    let log_id = waf.log_group().resource().logical_id();
    let log_group = t.resource(&log_id).unwrap();
    assert_eq!(log_group["Type"], json!("AWS::Logs::LogGroup"));
    assert_eq!(
        log_group["Properties"],
        json!({"LogGroupName": "aws-waf-logs-Edge-Waf", "RetentionInDays": 90})
    );
    assert_eq!(log_group["DeletionPolicy"], json!("Retain"));
    let (_, logging) = only(&t, "AWS::WAFv2::LoggingConfiguration");
    assert_eq!(
        logging["Properties"],
        json!({
            "LogDestinationConfigs": [{"Fn::Sub": [
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${LogGroup}",
                {"LogGroup": {"Ref": log_id}},
            ]}],
            "ResourceArn": {"Fn::GetAtt": [acl_id, "Arn"]},
        })
    );

    let alb_id = logical_id(&t, "AWS::ElasticLoadBalancingV2::LoadBalancer");
    let (_, association) = only(&t, "AWS::WAFv2::WebACLAssociation");
    assert_eq!(
        association["Properties"],
        json!({
            "ResourceArn": {"Ref": alb_id},
            "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
        })
    );

    // One web ACL per load balancer.
    let err = alb.associate_web_acl(&waf).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Edge/Alb/WebAclAssociation: Edge/Alb already has a web ACL; a load balancer is associated with at most one"
    );
    Ok(())
}

#[test]
fn web_acl_names_and_log_group_names_can_be_given() -> TestResult {
    let f = fixture();
    let waf = WebAcl::new(
        &f.stack,
        "Waf",
        WebAclProps {
            name: Some("omc-production".into()),
            log_group_name: Some("aws-waf-logs-omc-production".into()),
            log_removal_policy: omc_cdk::RemovalPolicy::Destroy,
            rate_limit_per_5_minutes: 10,
            common_rule_set_count_only: vec![
                "SizeRestrictions_BODY".into(),
                "CrossSiteScripting_BODY".into(),
            ],
            ..WebAclProps::new(Retention::Days(30))
        },
    )?;
    let t = Template::from_stack(&f.stack)?;
    let (_, acl) = only(&t, "AWS::WAFv2::WebACL");
    assert_eq!(acl["Properties"]["Name"], json!("omc-production"));
    let rules = &acl["Properties"]["Rules"];
    assert_eq!(
        rules[0]["Statement"]["RateBasedStatement"]["Limit"],
        json!(10)
    );
    // Only the common rule set's named rules count; the group as a whole still blocks.
    let count = |rule: &str| json!({"ActionToUse": {"Count": {}}, "Name": rule});
    assert_eq!(rules[2]["Name"], json!("AWSManagedRulesCommonRuleSet"));
    assert_eq!(
        rules[2]["Statement"]["ManagedRuleGroupStatement"]["RuleActionOverrides"],
        json!([
            count("SizeRestrictions_BODY"),
            count("CrossSiteScripting_BODY")
        ])
    );
    assert_eq!(rules[2]["OverrideAction"], json!({"None": {}}));
    for other in [1, 3] {
        assert!(
            rules[other]["Statement"]["ManagedRuleGroupStatement"]
                .get("RuleActionOverrides")
                .is_none()
        );
    }
    let log_group = t
        .resource(&waf.log_group().resource().logical_id())
        .unwrap();
    assert_eq!(
        log_group["Properties"]["LogGroupName"],
        json!("aws-waf-logs-omc-production")
    );
    assert_eq!(log_group["DeletionPolicy"], json!("Delete"));
    Ok(())
}

#[test]
fn a_certificate_from_another_stack_is_imported() -> TestResult {
    let f = fixture();
    let certs = Stack::new(
        &f.app,
        "Certs",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            ..StackProps::default()
        },
    )?;
    let zone = HostedZone::from_attributes(
        &certs,
        "Zone",
        HostedZoneAttributes {
            hosted_zone_id: ZONE_ID.into(),
            zone_name: "omc.example".into(),
        },
    )?;
    let cert = Certificate::new(&certs, "Cert", CertificateProps::new("omc.example", &zone))?;
    https_alb(&f, &cert);
    let t = Template::from_stack(&f.stack)?;
    let https: Vec<&Json> = t
        .resources("AWS::ElasticLoadBalancingV2::Listener")
        .into_iter()
        .map(|(_, l)| &l["Properties"])
        .filter(|p| p["Protocol"] == json!("HTTPS"))
        .collect();
    assert_eq!(https.len(), 1);
    let arn = &https[0]["Certificates"][0]["CertificateArn"];
    assert!(arn.get("Fn::ImportValue").is_some(), "{arn}");
    Ok(())
}

#[test]
fn the_edge_passes_the_checks_and_is_priced() -> TestResult {
    let f = production_fixture();
    let cert = certificate(
        &f,
        "Cert",
        CertificateProps {
            subject_alternative_names: vec!["*.omc.example".into(), "www.omc.example".into()],
            ..CertificateProps::new("omc.example", &f.zone)
        },
    );
    let alb = https_alb(&f, &cert);
    AliasRecord::new(
        &f.stack,
        "Apex",
        AliasRecordProps {
            zone: &f.zone,
            record_name: "omc.example".into(),
            load_balancer: &alb,
        },
    )?;
    let waf = WebAcl::new(
        &f.stack,
        "Waf",
        WebAclProps {
            common_rule_set_count_only: vec!["SizeRestrictions_BODY".into()],
            log_key: f.logs_key.clone(),
            ..WebAclProps::new(Retention::Days(90))
        },
    )?;
    alb.associate_web_acl(&waf)?;
    // HTTPS, the WAF's and the VPC's log groups under the key and the log bucket's access
    // logs pass every check; the constructs' own suppressions are the only ones: port 80 of
    // the redirect, and the access-log bucket's own access logs.
    let synthesis = f.app.synth()?;
    let report = synthesis.checks().unwrap();
    assert_eq!(report.warnings(), 0, "{}", report.render_findings());
    let mut suppressed: Vec<(&str, &str)> = report
        .suppressions()
        .iter()
        .map(|s| (s.rule.as_str(), s.scope.as_str()))
        .collect();
    suppressed.sort_unstable();
    assert_eq!(
        suppressed,
        [
            ("s3-access-logs", "Edge/AccessLogs"),
            ("sg-open-ingress", "Edge/Alb/SecurityGroup/FromAnyIpv4Tcp80"),
        ]
    );
    if let Some(dir) = std::env::var_os("OMC_EDGE_TEMPLATE_DIR") {
        for stack in synthesis.stacks() {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("{}.json", stack.name())),
                serde_json::to_string_pretty(&stack.template_json())?,
            )?;
        }
    }
    let estimate = omc_cdk::cost::estimate_synthesis(
        &synthesis,
        Some("us-east-1"),
        None,
        &omc_cdk::cost::Assumptions::default(),
    )?;
    let resources = &estimate.stacks[0].resources;
    let priced: Vec<&str> = resources.iter().map(|r| r.resource_type.as_str()).collect();
    for free in [
        "AWS::CertificateManager::Certificate",
        "AWS::Route53::RecordSet",
        "AWS::WAFv2::WebACLAssociation",
        "AWS::WAFv2::LoggingConfiguration",
    ] {
        assert!(!priced.contains(&free), "{free}: {priced:?}");
    }
    let acl: Vec<_> = resources
        .iter()
        .filter(|r| r.resource_type == "AWS::WAFv2::WebACL")
        .collect();
    assert_eq!(acl.len(), 1);
    // $5 + 4 rules × $1 + 10 million requests × $0.60.
    assert!((acl[0].monthly() - 15.0).abs() < 1e-9, "{:?}", acl[0]);
    assert!(
        resources.iter().all(|r| r.not_priced.is_none()),
        "{resources:?}"
    );
    Ok(())
}

fn message(result: Result<impl std::fmt::Debug, omc_cdk::Error>) -> String {
    match result {
        Err(err) => err.to_string(),
        Ok(value) => panic!("not refused: {value:?}"),
    }
}

/// What every "is not a domain name" message ends with.
const DOMAIN_RULES: &str = "a domain name is at least two dot-separated labels of 1 to 63 letters, digits and hyphens (not starting or ending with a hyphen), at most 253 characters";

#[test]
fn bad_zones_are_refused() {
    let f = fixture();
    let zone = |id: &str, name: &str| {
        HostedZone::from_attributes(
            &f.stack,
            "BadZone",
            HostedZoneAttributes {
                hosted_zone_id: id.into(),
                zone_name: name.into(),
            },
        )
    };
    assert_eq!(
        message(zone("Z12ab", "omc.example")),
        "Edge/BadZone: hosted_zone_id \"Z12ab\" is not a Route 53 hosted zone id: use 'Z' followed by 1 to 31 capital letters and digits, such as \"Z0123456789ABCDEFGHIJ\""
    );
    assert_eq!(
        message(zone("/hostedzone/Z0123456789ABCDEFGHIJ", "omc.example")),
        "Edge/BadZone: hosted_zone_id \"/hostedzone/Z0123456789ABCDEFGHIJ\" is not a Route 53 hosted zone id: use 'Z' followed by 1 to 31 capital letters and digits, such as \"Z0123456789ABCDEFGHIJ\"; drop the \"/hostedzone/\" prefix the Route 53 API adds"
    );
    assert_eq!(
        message(zone(ZONE_ID, "omc_example")),
        format!(
            "Edge/BadZone: zone_name \"omc_example\" is not a domain name: it has a single label; {DOMAIN_RULES}"
        )
    );
    assert_eq!(
        message(zone(ZONE_ID, "*.omc.example")),
        format!(
            "Edge/BadZone: zone_name \"*.omc.example\" is not a domain name: it has a wildcard label '*'; {DOMAIN_RULES}"
        )
    );
    // Nothing was added under the refused id.
    assert!(f.stack.find("BadZone").is_none());
}

#[test]
fn bad_certificate_names_are_refused() {
    let f = fixture();
    let cert = |props: CertificateProps<'_>| Certificate::new(&f.stack, "BadCert", props);
    let wildcard = ", optionally starting with \"*.\" for a wildcard";
    assert_eq!(
        message(cert(CertificateProps::new("omc example", &f.zone))),
        format!(
            "Edge/BadCert: domain_name \"omc example\" is not a domain name: it has a single label; {DOMAIN_RULES}{wildcard}"
        )
    );
    assert_eq!(
        message(cert(CertificateProps::new("omc x.example", &f.zone))),
        format!(
            "Edge/BadCert: domain_name \"omc x.example\" is not a domain name: the label \"omc x\" contains ' '; {DOMAIN_RULES}{wildcard}"
        )
    );
    assert_eq!(
        message(cert(CertificateProps::new("-www.omc.example", &f.zone))),
        format!(
            "Edge/BadCert: domain_name \"-www.omc.example\" is not a domain name: the label \"-www\" starts or ends with a hyphen; {DOMAIN_RULES}{wildcard}"
        )
    );
    assert_eq!(
        message(cert(CertificateProps::new("www.*.omc.example", &f.zone))),
        format!(
            "Edge/BadCert: domain_name \"www.*.omc.example\" is not a domain name: '*' may only be its first label; {DOMAIN_RULES}{wildcard}"
        )
    );
    assert_eq!(
        message(cert(CertificateProps::new("omc.other.example", &f.zone))),
        "Edge/BadCert: domain_name \"omc.other.example\" is not in the hosted zone omc.example (Edge/Zone); use omc.example or a name ending in \".omc.example\""
    );
    // A name that merely ends like the zone is not in it.
    assert_eq!(
        message(cert(CertificateProps::new("notomc.example", &f.zone))),
        "Edge/BadCert: domain_name \"notomc.example\" is not in the hosted zone omc.example (Edge/Zone); use omc.example or a name ending in \".omc.example\""
    );
    assert_eq!(
        message(cert(CertificateProps {
            subject_alternative_names: vec!["www.omc.example".into(), "api.omc.test".into()],
            ..CertificateProps::new("omc.example", &f.zone)
        })),
        "Edge/BadCert: subject_alternative_names \"api.omc.test\" is not in the hosted zone omc.example (Edge/Zone); use omc.example or a name ending in \".omc.example\""
    );
    assert_eq!(
        message(cert(CertificateProps {
            subject_alternative_names: vec!["OMC.example".into()],
            ..CertificateProps::new("omc.example", &f.zone)
        })),
        "Edge/BadCert: subject_alternative_names has \"OMC.example\" twice (or also as domain_name); give each name once"
    );
    let long = format!("{}.omc.example", "a".repeat(53));
    assert_eq!(
        message(cert(CertificateProps::new(long.as_str(), &f.zone))),
        format!(
            "Edge/BadCert: domain_name \"{long}\" has 65 characters; ACM takes at most 64 for a certificate's first name, so use a shorter one and put this name in subject_alternative_names"
        )
    );
    assert!(f.stack.find("BadCert").is_none());
}

#[test]
fn alias_records_outside_the_zone_are_refused() {
    let f = fixture();
    let alb =
        ApplicationLoadBalancer::new(&f.stack, "Alb", ApplicationLoadBalancerProps::new(&f.vpc))
            .unwrap();
    let record = |name: &str| {
        AliasRecord::new(
            &f.stack,
            "BadRecord",
            AliasRecordProps {
                zone: &f.zone,
                record_name: name.into(),
                load_balancer: &alb,
            },
        )
    };
    assert_eq!(
        message(record("omc..example")),
        format!(
            "Edge/BadRecord: record_name \"omc..example\" is not a domain name: it has an empty label (two dots in a row, or a dot at an end); {DOMAIN_RULES}, optionally starting with \"*.\" for a wildcard"
        )
    );
    assert_eq!(
        message(record("www.example.org")),
        "Edge/BadRecord: record_name \"www.example.org\" is not in the hosted zone omc.example (Edge/Zone); use omc.example or a name ending in \".omc.example\""
    );
    assert!(f.stack.find("BadRecord").is_none());
}

#[test]
fn bad_web_acl_props_are_refused() {
    let f = fixture();
    let acl = |props: WebAclProps| WebAcl::new(&f.stack, "BadWaf", props);
    let base = || WebAclProps::new(Retention::Days(90));
    for (limit, shown) in [(0, "0"), (9, "9"), (2_000_000_001, "2000000001")] {
        assert_eq!(
            message(acl(WebAclProps {
                rate_limit_per_5_minutes: limit,
                ..base()
            })),
            format!(
                "Edge/BadWaf: rate_limit_per_5_minutes is {shown}; WAF accepts 10 to 2000000000 requests per client address in 5 minutes"
            )
        );
    }
    assert_eq!(
        message(acl(WebAclProps {
            common_rule_set_count_only: vec!["SizeRestrictions_Body".into()],
            ..base()
        })),
        format!(
            "Edge/BadWaf: common_rule_set_count_only names \"SizeRestrictions_Body\", which is not a rule of AWSManagedRulesCommonRuleSet; use one of {}",
            omc_constructs::COMMON_RULE_SET_RULES.join(", ")
        )
    );
    assert_eq!(
        message(acl(WebAclProps {
            common_rule_set_count_only: vec![
                "SizeRestrictions_BODY".into(),
                "SizeRestrictions_BODY".into()
            ],
            ..base()
        })),
        "Edge/BadWaf: common_rule_set_count_only names \"SizeRestrictions_BODY\" twice; name each rule once"
    );
    assert_eq!(
        message(acl(WebAclProps {
            name: Some("omc production".into()),
            ..base()
        })),
        "Edge/BadWaf: web ACL name \"omc production\" must be 1 to 128 letters, digits, '_' and '-'"
    );
    assert_eq!(
        message(acl(WebAclProps {
            log_group_name: Some("/omc/waf".into()),
            ..base()
        })),
        "Edge/BadWaf: log_group_name \"/omc/waf\" does not start with \"aws-waf-logs-\"; WAF logs only to log groups whose names do"
    );
    assert_eq!(
        message(acl(WebAclProps {
            log_group_name: Some("aws-waf-logs-omc waf".into()),
            ..base()
        })),
        "Edge/BadWaf: log_group_name \"aws-waf-logs-omc waf\" must be at most 512 letters, digits, '_', '-', '/', '.' or '#'"
    );
    let err = acl(WebAclProps::new(Retention::Days(10))).unwrap_err();
    assert!(
        matches!(&err, omc_cdk::Error::InvalidProp { field: "log_retention", value, .. } if value == "10"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("Edge/BadWaf: 10 days is not a retention CloudWatch Logs accepts"),
        "{err}"
    );
    assert!(f.stack.find("BadWaf").is_none());
}
