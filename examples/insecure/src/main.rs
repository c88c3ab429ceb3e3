//! `cargo run -p example-insecure -- synth` (fails) or `-- check`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match example_insecure::app() {
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
