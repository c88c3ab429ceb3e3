//! How containers run.

use serde_json::Value as Json;

use super::items;
use crate::{Category, Equivalents, Levels, ResourceView, Rule, RuleDoc, Severity, Violations};

/// The container definitions with their names and property paths.
fn containers<'m>(view: &ResourceView<'m>) -> Vec<(String, String, &'m Json)> {
    view.prop("ContainerDefinitions")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let name = c
                .get("Name")
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_owned();
            (format!("ContainerDefinitions[{i}]"), name, c)
        })
        .collect()
}

fn privileged(view: &ResourceView<'_>, out: &mut Violations) {
    for (path, name, c) in containers(view) {
        if c.get("Privileged")
            .and_then(|v| view.literal(v))
            .is_some_and(ResourceView::is_true)
        {
            out.add(
                format!("{path}.Privileged"),
                format!("container {name:?} runs privileged: root on the host"),
            );
        }
    }
}

/// No container runs privileged.
pub const ECS_PRIVILEGED: Rule = Rule {
    id: "ecs-privileged",
    title: "Containers do not run privileged",
    category: Category::Containers,
    levels: Levels::always(Severity::Error),
    types: &["AWS::ECS::TaskDefinition"],
    check: privileged,
    doc: RuleDoc {
        checks: "No container definition of an `AWS::ECS::TaskDefinition` has `Privileged: true`.",
        why: "A privileged container has every capability and the host's devices: an exploit in it owns the instance and every other task on it.",
        fix: "Remove `Privileged`; grant the single Linux capability the container needs under `LinuxParameters.Capabilities.Add` instead.",
        example: r#"{ "Name": "app", "Image": "app:1.0", "Privileged": false }"#,
    },
    equivalents: Equivalents::NONE,
};

fn readonly_root(view: &ResourceView<'_>, out: &mut Violations) {
    for (path, name, c) in containers(view) {
        let value = c.get("ReadonlyRootFilesystem");
        let readonly = match value {
            None => false,
            Some(v) => view.literal(v).is_none_or(ResourceView::is_true),
        };
        if !readonly {
            out.add(
                format!("{path}.ReadonlyRootFilesystem"),
                format!("container {name:?} can write to its root file system"),
            );
        }
    }
}

/// Containers have a read-only root file system where possible.
pub const ECS_READONLY_ROOT: Rule = Rule {
    id: "ecs-readonly-root",
    title: "Containers have a read-only root file system where possible",
    category: Category::Containers,
    levels: Levels::always(Severity::Warning),
    types: &["AWS::ECS::TaskDefinition"],
    check: readonly_root,
    doc: RuleDoc {
        checks: "Container definitions set `ReadonlyRootFilesystem: true`. A warning: some images must write (package caches, nginx's temp directories) and need a volume first.",
        why: "An attacker who gets code execution cannot drop tools or modify the application's files, and the container cannot fill its ephemeral storage by accident.",
        fix: "Set `ReadonlyRootFilesystem: true` (`ContainerProps::readonly_root_filesystem`, the default) and list the directories the image writes in `ContainerProps::writable_paths` (`/tmp` is always writable).",
        example: r#"{ "Name": "app", "ReadonlyRootFilesystem": true, "MountPoints": [ { "SourceVolume": "tmp", "ContainerPath": "/tmp" } ] }"#,
    },
    equivalents: Equivalents::NONE,
};

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
];

const SECRET_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("PRIVATE", "KEY"),
    ("ACCESS", "KEY"),
    ("SIGNING", "KEY"),
    ("ENCRYPTION", "KEY"),
];

/// Suffixes that make a variable a reference to a secret rather than the secret itself.
const REFERENCE_SUFFIXES: &[&str] = &[
    "ARN", "NAME", "ID", "PATH", "FILE", "REGION", "REF", "URL", "URI", "ENDPOINT", "HOST", "PORT",
    "TTL", "LENGTH", "DAYS", "HEADER",
];

/// Whether an environment variable's name says it holds a secret.
pub(crate) fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .last()
        .is_some_and(|last| REFERENCE_SUFFIXES.contains(last))
    {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(w))
        || words
            .windows(2)
            .any(|pair| SECRET_PAIRS.contains(&(pair[0], pair[1])))
}

/// Whether a literal value carries credentials (a URL with a password, a dynamic reference
/// that CloudFormation resolves into the task definition).
fn secret_value(value: &str) -> bool {
    if value.contains("{{resolve:secretsmanager:") || value.contains("{{resolve:ssm-secure:") {
        return true;
    }
    // scheme://user:password@host
    value.split_once("://").is_some_and(|(_, rest)| {
        rest.split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':') && !userinfo.contains('/'))
    })
}

fn plain_secrets(view: &ResourceView<'_>, out: &mut Violations) {
    for (path, container, c) in containers(view) {
        let Some(env) = c.get("Environment") else {
            continue;
        };
        for (i, var) in items(env).into_iter().enumerate() {
            let name = var.get("Name").and_then(Json::as_str).unwrap_or_default();
            let Some(value) = var.get("Value") else {
                continue;
            };
            let text = value.to_string();
            if secret_name(name) || secret_value(&text) {
                out.add(
                    format!("{path}.Environment[{i}]"),
                    format!(
                        "container {container:?} gets {name:?} as a plain environment variable: it is readable by anyone who can describe the task definition"
                    ),
                );
            }
        }
    }
}

/// Secrets reach containers through `Secrets`, not `Environment`.
pub const ECS_PLAIN_SECRETS: Rule = Rule {
    id: "ecs-plain-secrets",
    title: "No secrets in plain environment variables",
    category: Category::Containers,
    levels: Levels::always(Severity::Error),
    types: &["AWS::ECS::TaskDefinition"],
    check: plain_secrets,
    doc: RuleDoc {
        checks: "No `Environment` entry of a container definition has a secret-looking name (`*PASSWORD*`, `*SECRET*`, `*TOKEN*`, `*API_KEY*`, `*PRIVATE_KEY*`, `*ACCESS_KEY*`, `*CREDENTIALS*`; names ending in `_ARN`, `_NAME`, `_ID`, `_PATH`, `_FILE`, `_URL`, `_ENDPOINT`, `_HOST`, `_PORT`, `_LENGTH`, `_DAYS` and the like are references or settings and pass) or a value with credentials (`user:password@` in a URL, a `{{resolve:secretsmanager:...}}` dynamic reference, which CloudFormation writes into the task definition in clear).",
        why: "Environment values are stored in the task definition: anyone with `ecs:DescribeTaskDefinition`, and every log or tool that prints it, sees them.",
        fix: "Pass the secret under the container's `Secrets` with `ValueFrom` a Secrets Manager or Parameter Store ARN (`ContainerProps::secrets`); the execution role reads it at start.",
        example: r#"{ "Secrets": [ { "Name": "DATABASE_PASSWORD", "ValueFrom": { "Fn::Join": ["", [{ "Ref": "DbSecret" }, ":password::"]] } } ] }"#,
    },
    equivalents: Equivalents::NONE,
};

#[cfg(test)]
mod tests {
    use super::{secret_name, secret_value};

    #[test]
    fn secret_names() {
        for name in [
            "DATABASE_PASSWORD",
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "JWT_SECRET",
            "SERVICE_CREDENTIALS",
        ] {
            assert!(secret_name(name), "{name}");
        }
        for name in [
            "DATABASE_HOST",
            "SECRET_ARN",
            "TOKEN_NAME",
            "KEYCLOAK_URL",
            "LOG_LEVEL",
            "REDIS_TLS",
            "OIDC_TOKEN_URL",
            "PASSWORD_MIN_LENGTH",
            "SECRET_ROTATION_DAYS",
            "PWD",
        ] {
            assert!(!secret_name(name), "{name}");
        }
    }

    #[test]
    fn secret_values() {
        assert!(secret_value("postgres://omc:hunter2@db:5432/omc"));
        assert!(secret_value(
            "{{resolve:secretsmanager:db:SecretString:password}}"
        ));
        assert!(!secret_value("https://api.example.com/v1"));
        assert!(!secret_value("redis://cache:6379"));
    }
}
