//! The OMC staging environment: `cargo run -p apps --bin staging -- synth`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match apps::from_env("staging") {
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
