//! `airlock-bench`: Airlock's benchmarks, each printing its figures.
//!
//! Run it from a release build (`just bench`, `just bench-search`, ...); a
//! debug build measures the debug host. The whole-process figures time the
//! `airlock` binary built beside it.

mod core;
mod durable;
mod search;
mod skills;
mod tokens;
mod upstream;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = core::BenchArgs::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(core::bench(args)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
