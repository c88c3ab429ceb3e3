//! Stack parameters on deploy: values from the command line, the deployed values kept for
//! every parameter not given (`UsePreviousValue`, so a plain redeploy never reverts an image
//! tag to the template default), defaults only for new parameters, and what changes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value as Json;

use crate::api::ParameterValue;

/// A parameter value from the command line: `NAME=VALUE` for every stack that declares
/// `NAME`, or `STACK:NAME=VALUE` for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParameterOverride {
    /// The stack, or every stack.
    pub stack: Option<String>,
    /// The parameter's name.
    pub name: String,
    /// Its value.
    pub value: String,
}

impl std::str::FromStr for ParameterOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| format!("parameter {text:?} is not NAME=VALUE or STACK:NAME=VALUE"))?;
        let (stack, name) = match key.split_once(':') {
            Some((stack, name)) => (Some(stack.to_owned()), name),
            None => (None, key),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "parameter name {name:?} in {text:?} must be letters and digits"
            ));
        }
        Ok(ParameterOverride {
            stack,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// A parameter a template declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declared {
    /// Its default, as CloudFormation reads it.
    pub default: Option<String>,
    /// Whether its value is hidden (`NoEcho`): CloudFormation shows it as `****`.
    pub no_echo: bool,
    /// Whether its value is the name of an SSM parameter that CloudFormation reads at every
    /// deploy (`AWS::SSM::Parameter::Value<...>`).
    pub from_ssm: bool,
}

/// The parameters a template declares, by name.
pub fn declared(template: &Json) -> BTreeMap<String, Declared> {
    template
        .get("Parameters")
        .and_then(Json::as_object)
        .map(|p| {
            p.iter()
                .map(|(name, spec)| {
                    let default = match &spec["Default"] {
                        Json::Null => None,
                        Json::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    };
                    let no_echo = spec["NoEcho"] == Json::Bool(true)
                        || spec["NoEcho"] == Json::String("true".into());
                    let from_ssm = spec["Type"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("AWS::SSM::Parameter::Value<"));
                    (
                        name.clone(),
                        Declared {
                            default,
                            no_echo,
                            from_ssm,
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the overrides against the stacks before anything runs: every override names a
/// parameter that one of the selected stacks declares.
pub fn check_parameters<'a>(
    templates: impl IntoIterator<Item = (&'a str, &'a Json)>,
    overrides: &[ParameterOverride],
) -> Result<(), String> {
    let templates: Vec<(&str, BTreeMap<String, Declared>)> = templates
        .into_iter()
        .map(|(name, template)| (name, declared(template)))
        .collect();
    for o in overrides {
        let known = templates.iter().any(|(stack, params)| {
            o.stack.as_deref().is_none_or(|n| n == *stack) && params.contains_key(&o.name)
        });
        if !known {
            return Err(match &o.stack {
                Some(stack) => format!(
                    "--parameters {stack}:{}: stack {stack} (or not among the selected stacks) declares no parameter {:?}",
                    o.name, o.name
                ),
                None => format!(
                    "--parameters {}: no selected stack declares a parameter {:?}",
                    o.name, o.name
                ),
            });
        }
    }
    Ok(())
}

/// Where a parameter's value comes from on this deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `--parameters`.
    Given,
    /// The deployed value, kept (`UsePreviousValue`).
    Kept,
    /// The template's default: a new parameter, a new stack, or `--reset-parameters`.
    Default,
}

/// One parameter of a deploy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The name.
    pub name: String,
    /// The value after the deploy, as CloudFormation shows it (`****` for `NoEcho`).
    pub value: String,
    /// The value before it, when the stack had the parameter.
    pub deployed: Option<String>,
    /// The template's default.
    pub default: Option<String>,
    /// Where the value comes from.
    pub source: Source,
    /// `NoEcho`: a given value cannot be compared with the deployed one.
    pub no_echo: bool,
    /// The value names an SSM parameter, read anew by every deploy.
    pub from_ssm: bool,
}

impl Resolved {
    /// Whether the deploy changes it (a hidden value that is given counts as a change).
    pub fn changes(&self) -> bool {
        match self.source {
            Source::Kept => false,
            Source::Given if self.no_echo => true,
            _ => self.deployed.as_deref() != Some(self.value.as_str()),
        }
    }
}

/// The parameters of one stack's deploy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parameters {
    /// Every declared parameter, by name.
    pub values: Vec<Resolved>,
    /// Parameters the deployed stack has and the template no longer declares.
    pub removed: Vec<String>,
}

impl Parameters {
    /// Resolves the parameters of `template` for a stack whose deployed parameters are
    /// `deployed` (`None`: a new stack). `reset`: defaults instead of deployed values. Fails
    /// with a line per parameter that has no value.
    pub fn resolve(
        stack: &str,
        template: &Json,
        overrides: &[ParameterOverride],
        deployed: Option<&BTreeMap<String, String>>,
        reset: bool,
    ) -> Result<Parameters, String> {
        let mut values = Vec::new();
        let mut missing = Vec::new();
        for (name, declared) in declared(template) {
            // A stack-specific value wins over a value for every stack.
            let given = overrides
                .iter()
                .filter(|o| o.name == name && o.stack.as_deref().is_none_or(|n| n == stack))
                .max_by_key(|o| o.stack.is_some())
                .map(|o| o.value.clone());
            let previous = deployed.and_then(|d| d.get(&name)).cloned();
            let (value, source) = match (given, &previous, &declared.default) {
                (Some(value), _, _) => (value, Source::Given),
                (None, Some(previous), _) if !reset => (previous.clone(), Source::Kept),
                (None, _, Some(default)) => (default.clone(), Source::Default),
                (None, _, None) => {
                    missing.push(format!(
                        "parameter {name} has no default{}; pass --parameters {stack}:{name}=VALUE",
                        if previous.is_some() {
                            " (--reset-parameters drops the deployed value)"
                        } else {
                            " and no deployed value"
                        }
                    ));
                    continue;
                }
            };
            values.push(Resolved {
                name,
                value,
                deployed: previous,
                default: declared.default,
                source,
                no_echo: declared.no_echo,
                from_ssm: declared.from_ssm,
            });
        }
        if !missing.is_empty() {
            return Err(missing.join("\n"));
        }
        let removed = deployed
            .map(|d| {
                d.keys()
                    .filter(|k| !values.iter().any(|v| &v.name == *k))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Parameters { values, removed })
    }

    /// What the request sends: given values and defaults as values, kept ones as
    /// `UsePreviousValue`.
    pub fn request(&self) -> BTreeMap<String, ParameterValue> {
        self.values
            .iter()
            .map(|p| {
                let value = match p.source {
                    Source::Kept => ParameterValue::UsePrevious,
                    Source::Given | Source::Default => ParameterValue::Value(p.value.clone()),
                };
                (p.name.clone(), value)
            })
            .collect()
    }

    /// Whether the deployed stack already has exactly these values (for the no-op skip). A
    /// parameter read from SSM may have a new value there, so it always counts as a change (as
    /// in AWS CDK): the change set says whether anything differs.
    pub fn unchanged(&self, deployed: &BTreeMap<String, String>) -> bool {
        self.removed.is_empty()
            && !self.values.iter().any(|p| p.from_ssm)
            && self.values.len() == deployed.len()
            && self.values.iter().all(|p| {
                !p.changes()
                    && deployed.get(&p.name).is_some_and(|d| {
                        // Hidden values show as `****`: a kept one is unchanged by definition.
                        p.source == Source::Kept || *d == p.value
                    })
            })
    }

    /// Whether any parameter changes value (for `--require-approval any`).
    pub fn any_change(&self) -> bool {
        !self.removed.is_empty() || self.values.iter().any(Resolved::changes)
    }

    /// Lines for the change summary: which parameters change, and which deployed values are
    /// kept although the template's default differs. Empty when there is nothing to say.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for p in &self.values {
            if p.changes() && p.no_echo {
                let _ = writeln!(
                    out,
                    "parameter {}: {} (NoEcho)",
                    p.name,
                    if p.source == Source::Default {
                        "the template's default"
                    } else {
                        "a new value"
                    }
                );
            } else if p.changes() {
                match &p.deployed {
                    Some(old) => {
                        let _ = writeln!(
                            out,
                            "parameter {}: {} -> {}{}",
                            p.name,
                            old,
                            p.value,
                            if p.source == Source::Default {
                                " (the template's default)"
                            } else {
                                ""
                            }
                        );
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "parameter {}: {} (new{})",
                            p.name,
                            p.value,
                            if p.source == Source::Default {
                                ", the template's default"
                            } else {
                                ""
                            }
                        );
                    }
                }
            } else if p.source == Source::Kept
                && !p.no_echo
                && p.default.as_deref() != Some(p.value.as_str())
            {
                let _ = match &p.default {
                    Some(default) => writeln!(
                        out,
                        "parameter {}: {} kept (the template's default is {default}; --reset-parameters uses it)",
                        p.name, p.value
                    ),
                    None => writeln!(
                        out,
                        "parameter {}: {} kept (the template has no default)",
                        p.name, p.value
                    ),
                };
            }
        }
        for name in &self.removed {
            let _ = writeln!(out, "parameter {name}: removed");
        }
        out.trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template() -> Json {
        json!({"Parameters": {
            "Tag": {"Type": "String", "Default": "latest"},
            "Secret": {"Type": "String", "NoEcho": true, "Default": "s"},
            "Count": {"Type": "Number", "Default": 2},
        }})
    }

    fn deployed(tag: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("Tag".to_owned(), tag.to_owned()),
            ("Secret".to_owned(), "****".to_owned()),
            ("Count".to_owned(), "2".to_owned()),
        ])
    }

    #[test]
    fn a_plain_redeploy_keeps_every_deployed_value() {
        let p =
            Parameters::resolve("S", &template(), &[], Some(&deployed("1.2.3")), false).unwrap();
        assert_eq!(
            p.request(),
            BTreeMap::from([
                ("Count".to_owned(), ParameterValue::UsePrevious),
                ("Secret".to_owned(), ParameterValue::UsePrevious),
                ("Tag".to_owned(), ParameterValue::UsePrevious),
            ])
        );
        assert!(p.unchanged(&deployed("1.2.3")));
        assert_eq!(
            p.summary(),
            "parameter Tag: 1.2.3 kept (the template's default is latest; --reset-parameters uses it)"
        );
    }

    #[test]
    fn given_values_change_and_reset_restores_defaults() {
        let given = ["S:Tag=1.5.0".parse().unwrap(), "Tag=9".parse().unwrap()];
        let p =
            Parameters::resolve("S", &template(), &given, Some(&deployed("1.2.3")), false).unwrap();
        assert_eq!(p.request()["Tag"], ParameterValue::Value("1.5.0".into()));
        assert!(!p.unchanged(&deployed("1.2.3")));
        assert_eq!(p.summary(), "parameter Tag: 1.2.3 -> 1.5.0");
        let p = Parameters::resolve("S", &template(), &[], Some(&deployed("1.2.3")), true).unwrap();
        assert_eq!(p.request()["Tag"], ParameterValue::Value("latest".into()));
        assert_eq!(p.request()["Secret"], ParameterValue::Value("s".into()));
        assert_eq!(
            p.summary(),
            "parameter Secret: the template's default (NoEcho)\nparameter Tag: 1.2.3 -> latest (the template's default)"
        );
    }

    #[test]
    fn new_stacks_and_new_parameters_take_defaults() {
        let p = Parameters::resolve("S", &template(), &[], None, false).unwrap();
        assert!(p.values.iter().all(|v| v.source == Source::Default));
        let old = BTreeMap::from([
            ("Tag".to_owned(), "1.2.3".to_owned()),
            ("Gone".to_owned(), "x".to_owned()),
        ]);
        let p = Parameters::resolve("S", &template(), &[], Some(&old), false).unwrap();
        assert_eq!(p.request()["Tag"], ParameterValue::UsePrevious);
        assert_eq!(p.request()["Count"], ParameterValue::Value("2".into()));
        assert_eq!(p.removed, ["Gone"]);
        assert!(!p.unchanged(&old));
    }

    #[test]
    fn parameters_read_from_ssm_are_never_taken_as_unchanged() {
        let t = json!({"Parameters": {"Ami": {
            "Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            "Default": "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        }}});
        let deployed = BTreeMap::from([(
            "Ami".to_owned(),
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64".to_owned(),
        )]);
        let p = Parameters::resolve("S", &t, &[], Some(&deployed), false).unwrap();
        assert_eq!(p.request()["Ami"], ParameterValue::UsePrevious);
        assert!(!p.unchanged(&deployed));
        assert!(!p.any_change());
    }

    #[test]
    fn a_kept_value_without_a_default_says_so() {
        let t = json!({"Parameters": {"Key": {"Type": "String"}}});
        let old = BTreeMap::from([("Key".to_owned(), "k".to_owned())]);
        let p = Parameters::resolve("S", &t, &[], Some(&old), false).unwrap();
        assert_eq!(
            p.summary(),
            "parameter Key: k kept (the template has no default)"
        );
    }

    #[test]
    fn a_parameter_without_default_needs_a_value_or_a_deployed_one() {
        let t = json!({"Parameters": {"Key": {"Type": "String"}}});
        assert_eq!(
            Parameters::resolve("S", &t, &[], None, false).unwrap_err(),
            "parameter Key has no default and no deployed value; pass --parameters S:Key=VALUE"
        );
        let old = BTreeMap::from([("Key".to_owned(), "k".to_owned())]);
        assert!(Parameters::resolve("S", &t, &[], Some(&old), false).is_ok());
        assert_eq!(
            Parameters::resolve("S", &t, &[], Some(&old), true).unwrap_err(),
            "parameter Key has no default (--reset-parameters drops the deployed value); pass --parameters S:Key=VALUE"
        );
    }
}
