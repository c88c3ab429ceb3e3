//! The app: the set of stacks a program synthesizes and deploys together.

use crate::check::{Report, Rule, Stage};
use crate::error::{Error, Result};
use crate::settings::AppSettings;
use crate::synth;
use crate::synthesis::Synthesis;
use crate::tree::App;
use crate::tree::Stack;

impl App {
    /// An empty app with default settings.
    pub fn new() -> App {
        App::default()
    }

    /// An empty app with the given settings.
    pub fn with_settings(settings: AppSettings) -> App {
        let app = App::default();
        app.inner.borrow_mut().settings = settings;
        app
    }

    /// Names the program for `--help` and `--version`, typically
    /// `.named(env!("CARGO_BIN_NAME"), env!("CARGO_PKG_VERSION"))`.
    #[must_use]
    pub fn named(self, name: impl Into<String>, version: impl Into<String>) -> App {
        {
            let mut inner = self.inner.borrow_mut();
            inner.name = Some(name.into());
            inner.version = Some(version.into());
        }
        self
    }

    /// Tells the app where resource schemas are (typically `omc_cfn::schema::find`), so
    /// `diff` and `deploy` can say which changes replace a resource, and synthesis can check
    /// the `Fn::GetAtt` attributes of resources whose definition does not carry its schema
    /// ([`crate::RawResource`]; the typed resources of `omc-cfn` carry theirs).
    #[must_use]
    pub fn with_schemas(self, lookup: crate::schema::SchemaLookup) -> App {
        self.inner.borrow_mut().schemas = Some(lookup);
        self
    }

    /// Sets the stage of the app's stacks (a stack's own [`crate::StackProps::stage`] wins),
    /// so the checks apply the stage's severities. Without a stage, stacks are checked as
    /// production.
    #[must_use]
    pub fn with_stage(self, stage: Stage) -> App {
        self.inner.borrow_mut().stage = Some(stage);
        self
    }

    /// The app's stage, when set.
    pub fn stage(&self) -> Option<Stage> {
        self.inner.borrow().stage
    }

    /// The program's name and version for its command line, when set with [`App::named`].
    pub fn program(&self) -> (Option<String>, Option<String>) {
        let inner = self.inner.borrow();
        (inner.name.clone(), inner.version.clone())
    }

    /// Where resource schemas are, when set with [`App::with_schemas`].
    pub fn schemas(&self) -> Option<crate::schema::SchemaLookup> {
        self.inner.borrow().schemas
    }

    /// Adds a check rule to the built-in pack: one of your own, or an optional built-in one
    /// such as [`crate::check::rules::LOGS_KMS_KEY`]. Fails when a rule of this id exists.
    pub fn add_rule(&self, rule: Rule) -> Result<()> {
        if self.rules().iter().any(|r| r.id == rule.id) {
            return Err(Error::InvalidValue {
                path: "App".into(),
                message: format!(
                    "a check rule with id {:?} already exists; give the new rule its own id",
                    rule.id
                ),
            });
        }
        self.inner.borrow_mut().rules.push(rule);
        Ok(())
    }

    /// The check rules of the app: the built-in pack and the added rules.
    pub fn rules(&self) -> Vec<Rule> {
        let mut rules = crate::check::rules::all();
        rules.extend(self.inner.borrow().rules.iter().copied());
        rules
    }

    /// Synthesizes the app and runs its check rules (see [`crate::check`]): the whole report,
    /// errors included (synthesis itself fails only on problems of the templates).
    pub fn check(&self) -> Result<Report> {
        let synthesis = self.render()?;
        Ok(self.check_synthesis(&synthesis))
    }

    /// Runs the app's check rules over a synthesis of it.
    pub fn check_synthesis(&self, synthesis: &Synthesis) -> Report {
        synthesis.check(&self.rules())
    }

    /// The app's settings.
    pub fn settings(&self) -> AppSettings {
        self.inner.borrow().settings.clone()
    }

    /// The stacks, in the order they were created.
    pub fn stacks(&self) -> Vec<Stack> {
        self.inner.borrow().stacks.clone()
    }

    /// The stack with this name.
    pub fn stack(&self, name: &str) -> Option<Stack> {
        self.inner
            .borrow()
            .stacks
            .iter()
            .find(|s| s.name() == name)
            .cloned()
    }

    /// Synthesizes every stack in memory: resolves references, validates, renders, and runs
    /// the app's check rules, exactly as `synth` on the command line does.
    ///
    /// Returns every problem of the templates at once as [`crate::Error::Synthesis`], and
    /// check errors (unsuppressed findings of error severity) as [`crate::Error::Checks`];
    /// warnings and suppressions are in [`Synthesis::checks`]. Touches neither the network nor
    /// the file system; [`Synthesis::write`] writes the result.
    pub fn synth(&self) -> Result<Synthesis> {
        let synthesis = self.render()?;
        let report = self.check_synthesis(&synthesis);
        if report.has_errors() {
            return Err(Error::Checks(Box::new(crate::error::ChecksFailed {
                report,
                synthesis,
            })));
        }
        Ok(synthesis.with_report(report))
    }

    /// The templates, validated, without running the check rules: for tools that show,
    /// compare or test templates (assertions, cost, diff), never for deploying them. `synth`
    /// is what the command line uses.
    pub fn synth_unchecked(&self) -> Result<Synthesis> {
        self.render()
    }

    /// The templates, validated, before the check rules run.
    fn render(&self) -> Result<Synthesis> {
        let rules = self.rules();
        let inner = self.inner.borrow();
        synth::synthesize(
            &inner.stacks,
            &inner.settings,
            inner.stage,
            &rules,
            inner.schemas,
        )
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("App")
            .field(
                "stacks",
                &inner.stacks.iter().map(Stack::name).collect::<Vec<_>>(),
            )
            .field("settings", &inner.settings)
            .finish()
    }
}
