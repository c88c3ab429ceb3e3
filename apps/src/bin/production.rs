//! The OMC production environment: `cargo run -p apps --bin production -- synth`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match apps::from_env("production") {
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
