//! Errors of the embedding API: failures to run at all. What happens
//! inside an execution is an [`crate::ExecutionError`] in its result.

use std::path::PathBuf;

/// A cause of any type, kept as the [`std::error::Error::source`] of an
/// [`Error`] (wasmtime's errors among them).
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why Airlock could not start or run an execution.
///
/// Each variant's message says what failed; the cause, where there is one,
/// is its [`source`](std::error::Error::source). [`Error::report`] shows
/// both on one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The guest component could not be compiled, pre-initialised or
    /// instantiated.
    #[error("guest component: {context}")]
    Guest {
        /// What was being done.
        context: String,
        /// Why it failed.
        #[source]
        source: Cause,
    },
    /// A component's imports do not match what the host offers (a tool it
    /// calls is gone, or its types no longer match the server's schema).
    #[error("cannot link the component")]
    Link(#[from] LinkError),
    /// A skill could not be found, read or verified.
    // Its own message and causes, once each in a report.
    #[error(transparent)]
    Skill(#[from] crate::skills::SkillError),
    /// The artifact cache could not be read or written.
    #[error("artifact cache at {}: {context}", path.display())]
    Cache {
        /// The cache file or folder.
        path: PathBuf,
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: Cause,
    },
    /// The session's workspace could not be created or opened.
    #[error("workspace: {context}")]
    Workspace {
        /// What was being done, with the folder.
        context: String,
        /// Why it failed.
        #[source]
        source: Cause,
    },
    /// A configuration file or value is invalid.
    // Its own message and causes, once each in a report.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A paused execution could not be stored, found or resumed.
    // Its own message and causes, once each in a report.
    #[error(transparent)]
    Resume(#[from] crate::durable::ResumeError),
    /// The runtime is draining for shutdown ([`crate::Runtime::drain`])
    /// and takes no new executions.
    #[error("the runtime is shutting down and takes no new executions")]
    ShuttingDown,
    /// Anything else wasmtime or the async runtime reported.
    #[error("internal error: {context}")]
    Internal {
        /// What was being done.
        context: &'static str,
        /// Why it failed.
        #[source]
        source: Cause,
    },
}

impl Error {
    /// This error and its causes on one line, outermost first
    /// (`cannot link the component: crm.find: the server no longer offers
    /// this tool`), for messages to people.
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }

    pub(crate) fn guest(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Guest { context: context.into(), source: source.into() }
    }

    pub(crate) fn workspace(context: impl Into<String>, source: impl Into<Cause>) -> Self {
        Error::Workspace { context: context.into(), source: source.into() }
    }

    pub(crate) fn internal(context: &'static str, source: impl Into<Cause>) -> Self {
        Error::Internal { context, source: source.into() }
    }
}

/// Why a component cannot be linked: against the host's own interfaces, or
/// against the servers it imports as they are now.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The component is not a component of the `skill` world.
    #[error("{0}")]
    NotASkillComponent(String),
    /// A server interface is imported as something other than an interface.
    #[error("{import} must be imported as an interface")]
    NotAnInterface {
        /// The import's name.
        import: String,
    },
    /// A server the component imports cannot list its tools.
    #[error("server '{server}' cannot list its tools")]
    Server {
        /// The server.
        server: String,
        /// Why.
        #[source]
        source: crate::tool::ToolError,
    },
    /// The component calls a tool its server no longer offers.
    #[error("{server}.{function}: the server no longer offers this tool")]
    ToolGone {
        /// The server.
        server: String,
        /// The component's name of the tool's function.
        function: String,
    },
    /// The component's view of a tool and the server's current schema
    /// disagree; `at` names the tool and the field.
    #[error("{at}: {problem}")]
    Mismatch {
        /// `server.tool argument.field`
        at: String,
        /// What differs.
        problem: String,
    },
    /// wasmtime refused a definition or the instantiation.
    #[error("{context}")]
    Wasmtime {
        /// What was being linked.
        context: String,
        /// Why.
        #[source]
        source: Cause,
    },
}

impl LinkError {
    pub(crate) fn wasmtime(context: impl Into<String>) -> impl FnOnce(wasmtime::Error) -> Self {
        let context = context.into();
        move |e| LinkError::Wasmtime { context, source: e.into() }
    }

    pub(crate) fn mismatch(at: &str, problem: impl Into<String>) -> Self {
        LinkError::Mismatch { at: at.to_string(), problem: problem.into() }
    }
}

/// An error and its chain of causes, displayed as `outer: cause: root`
/// (see [`Error::report`]).
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() {
                write!(f, ": {text}")?;
            }
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_shows_every_cause_in_order() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let error = Error::workspace("cannot create /w", io);
        assert_eq!(error.to_string(), "workspace: cannot create /w");
        assert_eq!(error.report().to_string(), "workspace: cannot create /w: permission denied");
        let source = std::error::Error::source(&error).expect("a source");
        assert_eq!(source.to_string(), "permission denied");
    }

    #[test]
    fn a_wrapped_error_is_reported_once() {
        let error = Error::from(crate::durable::ResumeError::NotFound("e1".into()));
        let once = "no paused execution 'e1' (already resumed, cancelled, or never paused)";
        assert_eq!(error.report().to_string(), once);
    }
}
