//! Errors of the embedding API: failures to run at all. What happens
//! inside an execution is an [`crate::ExecutionError`] in its result.

use std::path::PathBuf;

/// Why Airlock could not start or run an execution.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The guest component could not be compiled, pre-initialised or
    /// instantiated.
    #[error("guest component: {0}")]
    Guest(String),
    /// A component's imports do not match what the host offers (a tool it
    /// calls is gone, or its types no longer match the server's schema).
    #[error("cannot link the component: {0}")]
    Link(String),
    /// A skill could not be found, read or verified.
    #[error("{0}")]
    Skill(#[from] crate::skills::SkillError),
    /// The artifact cache could not be read or written.
    #[error("artifact cache at {path}: {message}")]
    Cache {
        /// The cache file or folder.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The session's workspace could not be created or opened.
    #[error("workspace: {0}")]
    Workspace(String),
    /// A configuration file or value is invalid.
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    /// The runtime is draining for shutdown ([`crate::Runtime::drain`])
    /// and takes no new executions.
    #[error("the runtime is shutting down and takes no new executions")]
    ShuttingDown,
    /// Anything else wasmtime reported.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn internal(error: impl std::fmt::Display) -> Self {
        Error::Internal(format!("{error:#}"))
    }
}
