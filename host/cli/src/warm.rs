//! `airlock warm`: compiles the guests into the cache ahead of time.

use clap::Args;

use super::EXIT_OK;

/// Arguments of `airlock warm`.
#[derive(Args)]
pub struct WarmArgs {}

/// Loads every guest, compiling (and caching) those the cache lacks.
pub async fn warm(_args: WarmArgs) -> anyhow::Result<u8> {
    let started = std::time::Instant::now();
    let runtime = super::runtime_builder().build().await?;
    runtime.preload_python().await?;
    eprintln!("airlock: the guests are ready ({:.1} s)", started.elapsed().as_secs_f64());
    Ok(EXIT_OK)
}
