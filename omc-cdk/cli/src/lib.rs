//! An app's command line (crate `omc-cdk-cli`; users call it as `App::run` of `omc-cdk`):
//! `synth`, `list`, `check`, `cost`, and with the `deploy` feature `deploy`, `diff`, `destroy`
//! and `bootstrap`. It composes the core, the checks, cost and the deploy engine, and prints
//! what they decide.
//!
//! Exit codes: 0 success, 1 synthesis or validation errors (or a failed deployment), 2 usage
//! errors, 130 interrupted.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[cfg(feature = "deploy")]
mod deploy;
mod graph;
mod review;

#[cfg(feature = "deploy")]
pub use deploy::EXIT_INTERRUPTED;

use omc_cdk_core::{App, MAX_INLINE_TEMPLATE_BYTES, Synthesis};

#[derive(Parser, Debug)]
#[command(
    about = "Synthesizes this app's stacks into CloudFormation templates (and, built with the deploy feature, deploys them)",
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Synthesize templates into a directory, with a manifest (stacks in deploy order)
    Synth {
        /// Output directory
        #[arg(long, short, default_value = "omc.out", value_name = "DIR")]
        out: PathBuf,
        /// Only these stacks (names or `*` patterns); default: all
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
    },
    /// Run the security and resilience checks and print every finding and suppression
    Check {
        /// Output format
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
        /// The synth output directory the SARIF locations point into
        #[arg(long, short, default_value = "omc.out", value_name = "DIR")]
        out: PathBuf,
        /// Only these stacks (names or `*` patterns); default: all
        #[arg(value_name = "STACK")]
        stacks: Vec<String>,
    },
    /// Estimate the monthly cost of the stacks, per resource, from the price table
    Cost(CostArgs),
    /// List the stacks in deploy order, with their dependencies
    List {
        /// Print one JSON object per line instead of text
        #[arg(long)]
        json: bool,
    },
    /// Draw the stacks, their dependencies and references (Mermaid or DOT)
    Graph(crate::graph::GraphArgs),
    /// Deploy stacks through CloudFormation change sets
    #[cfg(feature = "deploy")]
    Deploy(crate::deploy::DeployArgs),
    /// Review a change against the deployed stacks or a synth output directory (--against)
    Diff(crate::review::DiffArgs),
    /// Delete deployed stacks, dependents first
    #[cfg(feature = "deploy")]
    Destroy(crate::deploy::DestroyArgs),
    /// Create the toolkit stack (the S3 bucket for templates over 51,200 bytes)
    #[cfg(feature = "deploy")]
    Bootstrap(crate::deploy::BootstrapArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    /// Aligned text
    Table,
    /// One JSON document
    Json,
    /// SARIF 2.1.0 for code-scanning tools
    Sarif,
}

#[derive(clap::Args, Debug)]
struct CostArgs {
    /// Only these stacks (names or `*` patterns); default: all
    #[arg(value_name = "STACK")]
    stacks: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CostFormat::Table)]
    format: CostFormat,
    /// A usage assumption, such as `nat_gb=50` (repeatable; the report lists them all)
    #[arg(long = "assume", value_name = "KEY=VALUE")]
    assume: Vec<String>,
    /// Price every stack in this region (default: each stack's own)
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// A price table file instead of the built-in one (the format of omc-cdk/pricing/*.json)
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
    /// Show the change in monthly cost against the deployed stacks (or `--against DIR`)
    #[arg(long)]
    diff: bool,
    /// With --diff: compare with a directory `synth --out` wrote instead of the deployed stacks
    #[arg(long, value_name = "DIR", requires = "diff")]
    against: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CostFormat {
    /// Aligned text (Markdown-friendly for --diff)
    Table,
    /// One JSON document
    Json,
}

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when synthesis or validation fails.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for usage errors.
pub const EXIT_USAGE: u8 = 2;

/// Runs the command line of the process: parses `std::env::args`, runs the command,
/// prints to stdout and stderr, and returns the exit code.
///
/// Programs call it as `omc_cdk::App::run`:
///
/// ```no_run
/// use std::process::ExitCode;
/// fn main() -> ExitCode {
///     let app = omc_cdk_core::App::new().named(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
///     // ... stacks ...
///     omc_cdk_cli::run(&app)
/// }
/// ```
pub fn run(app: &App) -> ExitCode {
    let code = run_streams(
        app,
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
        true,
    );
    ExitCode::from(code)
}

/// Runs a command line given as arguments (the first is the program name) on the
/// process's own stdout and stderr, as [`run`] does (progress draws live on a
/// terminal).
pub fn run_args<I, T>(app: &App, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let code = run_streams(
        app,
        args,
        &mut std::io::stdout(),
        &mut std::io::stderr(),
        true,
    );
    ExitCode::from(code)
}

/// Runs a command line given as arguments (the first is the program name), writing to the
/// given streams. Returns the exit code: 0 success, 1 synthesis failed, 2 usage error.
pub fn run_with<I, T>(app: &App, args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_streams(app, args, stdout, stderr, false)
}

fn run_streams<I, T>(
    app: &App,
    args: I,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    process: bool,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let (name, version) = { app.program() };
    let mut command = Cli::command();
    if let Some(name) = name {
        command = command.name(name);
    }
    command =
        command
            .version(version.unwrap_or_else(|| {
                concat!("(omc-cdk ", env!("CARGO_PKG_VERSION"), ")").to_owned()
            }));
    let matches = match command.try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            let rendered = err.render().to_string();
            if err.use_stderr() {
                let _ = write!(stderr, "{rendered}");
                return EXIT_USAGE;
            }
            // --help and --version.
            let _ = write!(stdout, "{rendered}");
            return EXIT_OK;
        }
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = write!(stderr, "{err}");
            return EXIT_USAGE;
        }
    };
    match cli.command {
        Command::Synth { out, stacks } => synth_command(app, &out, &stacks, stdout, stderr),
        Command::Check {
            format,
            out,
            stacks,
        } => check_command(app, format, &out, &stacks, stdout, stderr),
        Command::Cost(args) => cost_command(app, &args, stdout, stderr),
        Command::List { json } => list_command(app, json, stdout, stderr),
        Command::Diff(args) => {
            let Some((synthesis, report)) = synthesize(app, stderr) else {
                return EXIT_FAILURE;
            };
            crate::review::diff_command(app, &synthesis, &report, &args, stdout, stderr, process)
        }
        Command::Graph(args) => crate::graph::graph_command(app, &args, stdout, stderr),
        #[cfg(feature = "deploy")]
        Command::Bootstrap(args) => {
            let mut streams = crate::deploy::Streams {
                stdout,
                stderr,
                process,
            };
            crate::deploy::bootstrap(&args, &mut streams)
        }
        #[cfg(feature = "deploy")]
        command => {
            let Some((synthesis, report)) = synthesize(app, stderr) else {
                return EXIT_FAILURE;
            };
            let mut streams = crate::deploy::Streams {
                stdout,
                stderr,
                process,
            };
            match command {
                Command::Deploy(args) => {
                    if !print_check_summary(&report, streams.stderr) {
                        return EXIT_FAILURE;
                    }
                    crate::deploy::deploy(app, &synthesis, args, &mut streams)
                }
                Command::Destroy(args) => crate::deploy::destroy(&synthesis, &args, &mut streams),
                _ => EXIT_USAGE,
            }
        }
    }
}

/// The synthesis and what the checks found, also when they found errors: each command
/// decides (synth and deploy refuse errors, check lists them, diff, cost and destroy go
/// on). Problems of the templates themselves end the command here.
fn synthesize(app: &App, stderr: &mut dyn Write) -> Option<(Synthesis, omc_cdk_check::Report)> {
    match app.synth() {
        Ok(synthesis) => {
            let report = synthesis
                .checks()
                .cloned()
                .unwrap_or_else(|| app.check_synthesis(&synthesis));
            Some((synthesis, report))
        }
        Err(omc_cdk_core::Error::Checks(failed)) => {
            let failed = *failed;
            Some((failed.synthesis, failed.report))
        }
        Err(err) => {
            let _ = writeln!(stderr, "error: {err}");
            None
        }
    }
}

fn synth_command(
    app: &App,
    out: &std::path::Path,
    patterns: &[String],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let Some((synthesis, report)) = synthesize(app, stderr) else {
        return EXIT_FAILURE;
    };
    let selected = match synthesis.select(patterns) {
        Ok(selected) => selected,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let names: Vec<&str> = selected.iter().map(|s| s.name()).collect();
    let report = report.only_stacks(&names);
    if !print_check_summary(&report, stderr) {
        return EXIT_FAILURE;
    }
    let manifest = match Synthesis::write_stacks(&selected, out) {
        Ok(path) => path,
        Err(err) => {
            let _ = writeln!(stderr, "error: {err}");
            return EXIT_FAILURE;
        }
    };
    let width = selected.iter().map(|s| s.name().len()).max().unwrap_or(0);
    for stack in &selected {
        let count = stack.resource_count();
        let _ = writeln!(
            stdout,
            "{:width$}  {count:>4} resource{}  {:>9}  {}",
            stack.name(),
            if count == 1 { " " } else { "s" },
            human_size(stack.size()),
            out.join(stack.template_file()).display(),
        );
        if stack.requires_upload() {
            let _ = writeln!(
                stderr,
                "note: {} is {} bytes, over the {MAX_INLINE_TEMPLATE_BYTES} bytes CloudFormation accepts inline; deploy uploads it to S3 (marked in the manifest)",
                stack.template_file(),
                stack.size()
            );
        }
    }
    let _ = writeln!(
        stdout,
        "{} stack{} synthesized; manifest: {}",
        selected.len(),
        if selected.len() == 1 { "" } else { "s" },
        manifest.display()
    );
    EXIT_OK
}

fn check_command(
    app: &App,
    format: CheckFormat,
    out: &std::path::Path,
    patterns: &[String],
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> u8 {
    let Some((synthesis, report)) = synthesize(app, stderr) else {
        return EXIT_FAILURE;
    };
    let selected = match synthesis.select(patterns) {
        Ok(selected) => selected,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let names: Vec<&str> = selected.iter().map(|s| s.name()).collect();
    let report = report.only_stacks(&names);
    let text = match format {
        CheckFormat::Table => report.render_table(),
        CheckFormat::Json => omc_cdk_core::to_pretty_json(&report.to_json()),
        CheckFormat::Sarif => {
            let uri = |stack: &str| {
                out.join(format!("{stack}.template.json"))
                    .to_string_lossy()
                    .replace('\\', "/")
            };
            let line = |stack: &str, id: &str| synthesis.stack(stack)?.line_of(id);
            omc_cdk_core::to_pretty_json(&report.to_sarif(&uri, &line))
        }
    };
    let _ = write!(stdout, "{text}");
    if report.has_errors() {
        EXIT_FAILURE
    } else {
        EXIT_OK
    }
}

fn cost_command(app: &App, args: &CostArgs, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let mut assumptions = omc_cdk_cost::Assumptions::default();
    for assignment in &args.assume {
        if let Err(message) = assumptions.apply(assignment) {
            let _ = writeln!(stderr, "error: --assume {message}");
            return EXIT_USAGE;
        }
    }
    let prices = match &args.prices {
        None => None,
        Some(path) => {
            let table = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|text| {
                    omc_cdk_cost::PriceTable::parse(&text, &path.display().to_string())
                        .map_err(|e| e.to_string())
                });
            match table {
                Ok(t) => Some(t),
                Err(message) => {
                    let _ = writeln!(stderr, "error: {message}");
                    return EXIT_USAGE;
                }
            }
        }
    };
    let Some((synthesis, _checks)) = synthesize(app, stderr) else {
        return EXIT_FAILURE;
    };
    let selected = match synthesis.select(&args.stacks) {
        Ok(selected) => selected,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return EXIT_USAGE;
        }
    };
    let region = args.region.as_deref();
    let after =
        match omc_cdk_cost::estimate_stacks(&selected, region, prices.as_ref(), &assumptions) {
            Ok(e) => e,
            Err(message) => {
                let _ = writeln!(stderr, "error: {message}");
                return EXIT_FAILURE;
            }
        };
    if !args.diff {
        let text = match args.format {
            CostFormat::Table => after.render_table(),
            CostFormat::Json => omc_cdk_core::to_pretty_json(&after.to_json()),
        };
        let _ = write!(stdout, "{text}");
        return EXIT_OK;
    }
    let before = match cost_before(app, args, &selected, prices.as_ref(), &assumptions) {
        Ok(e) => e,
        Err(message) => {
            let _ = writeln!(stderr, "error: {message}");
            return EXIT_FAILURE;
        }
    };
    let change = omc_cdk_cost::CostDiff::between(&before, &after);
    let text = match args.format {
        CostFormat::Table => change.render(),
        CostFormat::Json => {
            let (old, new) = change.totals();
            omc_cdk_core::to_pretty_json(&serde_json::json!({
                "before": before.to_json(),
                "after": after.to_json(),
                "change": ((new - old) * 100.0).round() / 100.0,
            }))
        }
    };
    let _ = write!(stdout, "{text}");
    EXIT_OK
}

/// The estimate `cost --diff` compares with: a synth output directory, or the deployed
/// stacks.
fn cost_before(
    app: &App,
    args: &CostArgs,
    selected: &[&omc_cdk_core::SynthesizedStack],
    prices: Option<&omc_cdk_cost::PriceTable>,
    assumptions: &omc_cdk_cost::Assumptions,
) -> Result<omc_cdk_cost::Estimate, String> {
    let templates: Vec<(String, Option<String>, serde_json::Value)> = match &args.against {
        Some(dir) => omc_cdk_template::read_synth_dir(dir)?
            .into_iter()
            .filter(|(name, _, _)| {
                args.stacks.is_empty()
                    || args
                        .stacks
                        .iter()
                        .any(|p| omc_cdk_core::glob_match(p, name))
            })
            .collect(),
        None => deployed_for_cost(app, selected)?,
    };
    let mut regions = Vec::new();
    for (name, region, _) in &templates {
        regions.push(
            args.region
                .clone()
                .or_else(|| region.clone())
                .ok_or_else(|| {
                    format!("stack {name} has no region; price it with --region REGION")
                })?,
        );
    }
    let inputs: Vec<omc_cdk_check::StackInput<'_>> = templates
        .iter()
        .map(|(name, _, template)| omc_cdk_check::StackInput {
            name,
            template,
            stage: omc_cdk_core::Stage::default(),
            paths: None,
        })
        .collect();
    let tables = omc_cdk_cost::tables_for(prices, &regions);
    omc_cdk_cost::estimate(&inputs, &regions, &tables, assumptions).map_err(|e| e.to_string())
}

#[cfg(feature = "deploy")]
fn deployed_for_cost(
    _app: &App,
    selected: &[&omc_cdk_core::SynthesizedStack],
) -> Result<Vec<(String, Option<String>, serde_json::Value)>, String> {
    let deployed = crate::deploy::deployed_templates(selected)?;
    let mut out = Vec::new();
    for ((name, template), stack) in deployed.into_iter().zip(selected) {
        let Some(text) = template else { continue };
        let json = serde_json::from_str(&text)
            .map_err(|e| format!("the deployed template of {name} is not JSON: {e}"))?;
        out.push((name, stack.env().and_then(|e| e.region.clone()), json));
    }
    Ok(out)
}

#[cfg(not(feature = "deploy"))]
fn deployed_for_cost(
    _app: &App,
    _: &[&omc_cdk_core::SynthesizedStack],
) -> Result<Vec<(String, Option<String>, serde_json::Value)>, String> {
    Err("comparing with the deployed stacks needs omc-cdk's `deploy` feature; compare with a synth output directory: --diff --against DIR".into())
}

fn list_command(app: &App, json: bool, stdout: &mut dyn Write, stderr: &mut dyn Write) -> u8 {
    let Some((synthesis, _checks)) = synthesize(app, stderr) else {
        return EXIT_FAILURE;
    };
    let width = synthesis
        .stacks()
        .iter()
        .map(|s| s.name().len())
        .max()
        .unwrap_or(0);
    for stack in synthesis.stacks() {
        if json {
            let line = serde_json::json!({
                "name": stack.name(),
                "dependencies": stack.dependencies(),
            });
            let _ = writeln!(stdout, "{line}");
        } else if stack.dependencies().is_empty() {
            let _ = writeln!(stdout, "{}", stack.name());
        } else {
            let _ = writeln!(
                stdout,
                "{:width$}  <- {}",
                stack.name(),
                stack.dependencies().join(", ")
            );
        }
    }
    EXIT_OK
}

#[allow(clippy::cast_precision_loss)]
fn human_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

/// Prints the findings that need attention and a one-line summary; `false` when an error
/// stops synthesis.
fn print_check_summary(report: &omc_cdk_check::Report, stderr: &mut dyn Write) -> bool {
    let suppressed = report.findings().len() - report.active().count();
    if report.active().count() == 0 {
        return true;
    }
    let _ = write!(stderr, "{}", report.render_findings());
    let _ = writeln!(
        stderr,
        "checks: {} error{}, {} warning{}, {suppressed} suppressed (the `check` command lists everything)",
        report.errors(),
        if report.errors() == 1 { "" } else { "s" },
        report.warnings(),
        if report.warnings() == 1 { "" } else { "s" },
    );
    if report.has_errors() {
        let _ = writeln!(
            stderr,
            "error: the checks found errors; fix them, or suppress each with a reason (`Scope::suppress`)"
        );
        return false;
    }
    true
}
