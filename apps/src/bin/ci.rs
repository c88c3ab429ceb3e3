//! The OMC CI runner cluster: `cargo run -p apps --bin ci -- synth`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match apps::from_env("ci") {
        Ok(app) => app.run(),
        Err(err) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("error: {err}");
            }
            ExitCode::from(omc_cdk::EXIT_FAILURE)
        }
    }
}
