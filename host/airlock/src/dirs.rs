//! Where Airlock keeps files between runs: the cache folder (compiled
//! guests and skills, the bundled skills written out).

use std::path::PathBuf;

/// The default cache folder: `$AIRLOCK_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AIRLOCK_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("airlock")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("airlock")))
}
