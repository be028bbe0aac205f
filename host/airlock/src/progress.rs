//! What a runtime reports while it prepares a guest, for front ends that
//! tell their user why the first start takes seconds.

use std::path::PathBuf;
use std::sync::Arc;

/// What a runtime reports while it prepares a guest: compiling one for
/// this machine takes seconds, once; later starts load it from the cache.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Progress {
    /// The guest for `language` is being pre-initialised and compiled.
    Compiling {
        /// `JavaScript` or `Python`.
        language: &'static str,
        /// Where the result will be cached, if anywhere.
        cache: Option<PathBuf>,
    },
    /// It is ready.
    Compiled {
        /// `JavaScript` or `Python`.
        language: &'static str,
        /// How long it took.
        elapsed: std::time::Duration,
    },
}

/// Receives [`Progress`] reports.
pub(crate) type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;
