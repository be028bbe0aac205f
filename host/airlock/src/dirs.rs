//! Where Airlock keeps files between runs: the cache folder (compiled
//! guests and skills, the bundled skills written out) and the data folder
//! (paused executions and the key that seals them).

use std::path::PathBuf;

/// The default cache folder: `$AIRLOCK_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AIRLOCK_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("airlock")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("airlock")))
}

/// The default data folder: `$AIRLOCK_DATA_DIR`, else
/// `$XDG_DATA_HOME/airlock`, else `~/.local/share/airlock`.
pub(crate) fn default_data_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AIRLOCK_DATA_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("airlock")))
        .or_else(|| var("HOME").map(|d| d.join(".local").join("share").join("airlock")))
}
