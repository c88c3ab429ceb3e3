//! `cargo run -p example-orders -- synth` writes the Orders templates to `omc.out/`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match example_orders::app() {
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
