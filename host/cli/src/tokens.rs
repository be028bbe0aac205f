//! `airlock tokens FILE`: what a text costs a model, in tokens.

use std::io::Read;
use std::path::PathBuf;

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE};

/// Arguments of `airlock tokens`.
#[derive(Args)]
pub struct TokensArgs {
    /// The files to count (`-` for stdin).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Prints the token count of each file (and the total of several).
pub fn tokens(args: TokensArgs) -> anyhow::Result<u8> {
    let mut total = 0;
    for path in &args.files {
        let text = if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).map(|_| text)
        } else {
            std::fs::read(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        };
        let text = match text {
            Ok(text) => text,
            Err(error) => {
                eprintln!("error: cannot read {}: {error}", path.display());
                return Ok(EXIT_USAGE);
            }
        };
        let count = airlock_serve::tokens::count(&text);
        total += count;
        println!("{count:>10}  {}", path.display());
    }
    if args.files.len() > 1 {
        println!("{total:>10}  total ({})", airlock_serve::tokens::TOKENIZER);
    }
    Ok(EXIT_OK)
}
