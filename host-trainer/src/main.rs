//! The `vaenmf` binary.

use clap::Parser;

// burn allocates a fresh buffer for every tensor operation; glibc serves the large ones with
// mmap and page-faults them in each time. mimalloc reuses them: training ~9 % faster
// (`cargo bench -p vaenmf-trainer --bench vae`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    vaenmf_trainer::nmf::gemm::single_threaded_products();
    let cli = match vaenmf_trainer::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; a bad command line is an error
            // like any other bad input: message on stderr, exit status 1.
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    if let Err(e) = vaenmf_trainer::cli::run(cli) {
        // One line: the error and its context chain.
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
