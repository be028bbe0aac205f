//! `airlock bench`: prints the runtime's figures.

use clap::Args;

/// Arguments of `airlock bench`.
#[derive(Args)]
pub struct BenchArgs {}

/// Runs the benchmarks.
pub async fn bench(_args: BenchArgs) -> anyhow::Result<u8> {
    anyhow::bail!("not yet")
}
