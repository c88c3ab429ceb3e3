//! Runs a fixture app's command line: `fixture-app <fixture> <command> [args...]`, for the
//! end-to-end CLI tests and the process benchmark. `<fixture>` is a name from
//! `omc_tests::FIXTURES` or `synthetic-<N>`. The OMC apps (`staging`, `production`, `ci`) run
//! as their binaries do: `OMC_ACCOUNT` replaces the configured accounts.
#![allow(clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    let Some(name) = args.next().and_then(|n| n.into_string().ok()) else {
        eprintln!("usage: fixture-app <fixture> <command> [args...]");
        return ExitCode::from(omc_cdk::EXIT_USAGE);
    };
    let fixture = if apps::APPS.contains(&name.as_str()) {
        Some(apps::from_env(&name))
    } else {
        omc_tests::fixture(&name)
    };
    match fixture {
        None => {
            eprintln!("no fixture named {name:?}");
            ExitCode::from(omc_cdk::EXIT_USAGE)
        }
        Some(Err(err)) => {
            eprintln!("error: {err}");
            ExitCode::from(omc_cdk::EXIT_FAILURE)
        }
        Some(Ok(app)) => app.run_args(std::iter::once(program).chain(args)),
    }
}
