//! The errors a team meets on its first day with a real account, each one line (what failed,
//! against which endpoint or profile, what to do) with exit code 1, and no Debug dump of the
//! SDK's error in it: a refused connection (a closed port on 127.0.0.1), missing credentials
//! (an empty environment), an unknown profile, a missing region, and, from a loopback stand-in
//! for AWS (no local endpoint gives them on demand), an expired token and throttling. The same
//! stand-in serves events in pages, as AWS does and LocalStack does not.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use omc_cdk::deploy::api::{ApiErrorKind, CloudFormationApi};
use omc_cdk::deploy::sdk::SdkApi;
use omc_tests::endpoints::{Responder, closed_port};

/// The fixture app with nothing of the caller's environment: no credentials, no profile, no
/// region, no instance metadata; `vars` on top.
fn run(cwd: &Path, args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let home = cwd.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_fixture-app"));
    command
        .env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args)
        .current_dir(cwd);
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// No Debug text of the SDK's errors.
fn assert_readable(text: &str) {
    for debug in [
        "{ ",
        "DispatchFailure",
        "ConnectorError",
        "SdkError",
        "ServiceError",
    ] {
        assert!(!text.contains(debug), "{debug:?} in {text:?}");
    }
}

const CREDENTIALS: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
];

#[test]
fn a_refused_connection_is_one_line() {
    let cwd = crate::output_dir("deploy/refused");
    let port = closed_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut vars = CREDENTIALS.to_vec();
    vars.push(("AWS_ENDPOINT_URL", &url));
    for command in [
        &["localstack-v1", "deploy", "--yes"][..],
        &["localstack-v1", "diff"],
        &["localstack-v1", "destroy", "--yes"],
    ] {
        let (code, stdout, stderr) = run(&cwd, command, &vars);
        assert_eq!(code, Some(1), "{command:?}: {stdout}{stderr}");
        assert_eq!(
            stderr,
            format!(
                "error: cannot reach STS at {url} (Connection refused) after 3 attempts; check AWS_ENDPOINT_URL, AWS_REGION and the network\n"
            ),
            "{command:?}"
        );
        assert_eq!(stdout, "", "{command:?}");
        assert_readable(&stderr);
    }
    // --verbose adds what the SDK said, on its own line.
    let (_, _, stderr) = run(
        &cwd,
        &["localstack-v1", "deploy", "--yes", "--verbose"],
        &vars,
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[1].starts_with("details: dispatch failure"),
        "{stderr}"
    );
}

#[test]
fn missing_credentials_are_one_line() {
    let cwd = crate::output_dir("deploy/no-credentials");
    let port = closed_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let (code, stdout, stderr) = run(
        &cwd,
        &["localstack-v1", "deploy", "--yes"],
        &[("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &url)],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "error: no AWS credentials found (environment, ~/.aws, SSO, container or instance role); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    );
    assert_readable(&stderr);

    // A profile that does not exist names itself.
    let (code, _, stderr) = run(
        &cwd,
        &["localstack-v1", "deploy", "--yes"],
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", &url),
            ("AWS_PROFILE", "omc-prod"),
        ],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: no AWS credentials from profile \"omc-prod\" (AWS_PROFILE): it is not in the AWS config or credentials file, or holds none; check its name, or run `aws sso login --profile omc-prod`\n"
    );
    assert_readable(&stderr);
}

#[test]
fn a_laptop_without_credentials_gets_the_same_line() {
    // Not told to skip the instance metadata service, as on a newcomer's laptop: the SDK asks
    // it too (here on a closed loopback port instead of 169.254.169.254) and finds nothing.
    let cwd = crate::output_dir("deploy/no-credentials-imds");
    let port = closed_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let home = cwd.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_fixture-app"))
        .env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", &url)
        .args(["localstack-v1", "deploy", "--yes"])
        .current_dir(&cwd)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "error: no AWS credentials found (environment, ~/.aws, SSO, container or instance role); set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
    );
}

#[test]
fn an_sso_profile_without_a_session_says_to_log_in() {
    // IAM Identity Center, as most teams sign in: the profile is fine, the session is missing
    // (never logged in, or expired). Not a network problem, and not retried.
    let cwd = crate::output_dir("deploy/sso");
    let config = cwd.join("config");
    std::fs::write(
        &config,
        "[profile omc-staging]\nsso_session = omc\nsso_account_id = 210987654321\nsso_role_name = Deployer\nregion = us-east-1\n\n[sso-session omc]\nsso_start_url = https://omc.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    let port = closed_port().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let (code, stdout, stderr) = run(
        &cwd,
        &["localstack-v1", "deploy", "--yes"],
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_PROFILE", "omc-staging"),
            ("AWS_ENDPOINT_URL", &url),
        ],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot load the credentials of profile \"omc-staging\" (AWS_PROFILE) ("
        ),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("); for an SSO profile run `aws sso login --profile omc-staging`, otherwise check the profile\n"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_readable(&stderr);
}

#[test]
fn a_missing_region_is_one_line() {
    let cwd = crate::output_dir("deploy/no-region");
    // Environment-agnostic stacks take the region from the configuration, which has none.
    let (code, stdout, stderr) = run(
        &cwd,
        &["independent-2", "deploy", "--yes"],
        &CREDENTIALS[..2],
    );
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "error: no AWS region: set AWS_REGION (or a profile with a region), or give the stacks an Environment with a region\n"
    );
}

const EXPIRED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>4f5d3b1e-0000-0000-0000-000000000000</RequestId></ErrorResponse>";

const THROTTLED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>4f5d3b1e-0000-0000-0000-000000000001</RequestId></ErrorResponse>";

#[test]
fn an_expired_token_is_one_line_and_not_retried() {
    // What AWS answers to expired session credentials; no local endpoint checks expiry.
    let aws = Responder::xml(403, EXPIRED).unwrap();
    let cwd = crate::output_dir("deploy/expired");
    let url = aws.url();
    let mut vars = CREDENTIALS.to_vec();
    vars.push(("AWS_ENDPOINT_URL", &url));
    vars.push(("AWS_SESSION_TOKEN", "expired"));
    let (code, stdout, stderr) = run(&cwd, &["localstack-v1", "deploy", "--yes"], &vars);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        "error: the credentials have expired (ExpiredToken: The security token included in the request is expired); refresh them (`aws sso login`, or new session credentials) and run again\n"
    );
    assert_readable(&stderr);
    assert_eq!(aws.requests(), 1, "retrying cannot help");
}

const DENIED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::210987654321:user/ci is not authorized to perform: sts:GetCallerIdentity</Message></Error><RequestId>4f5d3b1e-0000-0000-0000-000000000002</RequestId></ErrorResponse>";

const SKEWED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>Signature expired: 20261201T100000Z is now earlier than 20261201T101500Z (20261201T102000Z - 5 min.)</Message></Error><RequestId>4f5d3b1e-0000-0000-0000-000000000003</RequestId></ErrorResponse>";

#[test]
fn access_denied_and_a_skewed_clock_are_one_line_each() {
    let cwd = crate::output_dir("deploy/denied");
    for (status, body, line) in [
        (
            403,
            DENIED,
            "error: STS denied GetCallerIdentity to the credentials (AccessDenied: User: arn:aws:iam::210987654321:user/ci is not authorized to perform: sts:GetCallerIdentity); grant the permission or use another role\n",
        ),
        (
            403,
            SKEWED,
            "error: STS refused the request's signature because this machine's clock is off (SignatureDoesNotMatch: Signature expired: 20261201T100000Z is now earlier than 20261201T101500Z (20261201T102000Z - 5 min.)); set the clock right (NTP) and run again\n",
        ),
    ] {
        let aws = Responder::xml(status, body).unwrap();
        let url = aws.url();
        let mut vars = CREDENTIALS.to_vec();
        vars.push(("AWS_ENDPOINT_URL", &url));
        let (code, stdout, stderr) = run(&cwd, &["localstack-v1", "deploy", "--yes"], &vars);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert_eq!(stderr, line);
        assert_eq!(aws.requests(), 1, "retrying cannot help");
    }
}

#[test]
fn throttling_that_outlasts_the_retries_is_one_line() {
    // The whole line a user sees after the engine's retries (about 30 s of backoff).
    let aws = Responder::xml(400, THROTTLED).unwrap();
    let cwd = crate::output_dir("deploy/throttled");
    let url = aws.url();
    let mut vars = CREDENTIALS.to_vec();
    vars.push(("AWS_ENDPOINT_URL", &url));
    let (code, stdout, stderr) = run(&cwd, &["localstack-v1", "deploy", "--yes"], &vars);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: STS at {url} throttled GetCallerIdentity (Throttling: Rate exceeded) after 8 attempts; lower --concurrency or try again later\n"
        )
    );
    assert_eq!(aws.requests(), 8);
}

#[test]
fn throttling_is_recognised_on_the_wire() {
    // The SDK's answer to a throttled call, mapped to one line; the retries and the line after
    // the last one are the engine's (omc-cdk/tests/deploy.rs, on the scripted fake).
    let aws = Responder::xml(400, THROTTLED).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(SdkApi::local(&aws.url(), "us-east-1"));
    let err = runtime.block_on(api.caller_identity()).unwrap_err();
    assert_eq!(err.kind, ApiErrorKind::Throttling);
    assert_eq!(
        err.to_string(),
        format!(
            "STS at {} throttled GetCallerIdentity (Throttling: Rate exceeded)",
            aws.url()
        )
    );
    assert_readable(&err.to_string());
    // One request: the SDK's own retries are off, the engine's are the only ones.
    assert_eq!(aws.requests(), 1);
}

/// A `DescribeStackEvents` page: `(id, seconds after 10:00, resource, status, reason)`.
fn events_page(events: &[(&str, u32, &str, &str, &str)], next: Option<&str>) -> String {
    let mut members = String::new();
    for (id, second, resource, status, reason) in events {
        let reason = if reason.is_empty() {
            String::new()
        } else {
            format!("<ResourceStatusReason>{reason}</ResourceStatusReason>")
        };
        let _ = write!(
            members,
            "<member><EventId>{id}</EventId><StackName>S</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/S/1</StackId><LogicalResourceId>{resource}</LogicalResourceId><ResourceType>AWS::SQS::Queue</ResourceType><Timestamp>2026-12-01T10:00:{second:02}.000Z</Timestamp><ResourceStatus>{status}</ResourceStatus>{reason}</member>"
        );
    }
    format!(
        "<DescribeStackEventsResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStackEventsResult><StackEvents>{members}</StackEvents>{}</DescribeStackEventsResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStackEventsResponse>",
        next.map_or_else(String::new, |n| format!("<NextToken>{n}</NextToken>"))
    )
}

#[test]
fn events_are_read_page_by_page_back_to_the_start_of_the_operation() {
    // LocalStack answers in one page; AWS pages by 100. The failure that started it all can
    // be on a later page than the first.
    let aws = Responder::script(vec![
        (
            200,
            events_page(
                &[
                    ("e5", 9, "S", "UPDATE_ROLLBACK_COMPLETE", ""),
                    ("e4", 8, "B", "UPDATE_FAILED", "Resource update cancelled"),
                ],
                Some("page-2"),
            ),
        ),
        (
            200,
            events_page(
                &[
                    ("e3", 7, "A", "UPDATE_FAILED", "Queue name taken"),
                    ("e2", 5, "A", "UPDATE_IN_PROGRESS", ""),
                    // The operation began after 10:00:04: older events are not its own.
                    ("e1", 4, "A", "UPDATE_COMPLETE", ""),
                ],
                Some("page-3"),
            ),
        ),
        (500, "never asked for".into()),
    ])
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = runtime.block_on(SdkApi::local(&aws.url(), "us-east-1"));
    let since = 1_796_119_204_000; // 2026-12-01T10:00:04Z
    let events = runtime.block_on(api.stack_events("S", since)).unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e5", "e4", "e3", "e2"]);
    assert_eq!(events[2].reason.as_deref(), Some("Queue name taken"));
    // Two pages, the second asked for with the first's token, and no third.
    let bodies = aws.bodies();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(bodies[1].contains("NextToken=page-2"), "{bodies:?}");
}
