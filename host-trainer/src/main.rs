//! The `vaenmf` binary.

use clap::Parser;

fn main() {
    let cli = vaenmf_trainer::cli::Cli::parse();
    if let Err(e) = vaenmf_trainer::cli::run(cli) {
        // One line: the error and its context chain.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
