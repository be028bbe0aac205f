//! What an execution's host calls reach besides the tools behind its
//! boundary, gathered so that the runtime, which owns them, can hand them
//! to each store.

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;
use wasmtime::Engine;
use wasmtime::component::InstancePre;

use super::StoreState;
use crate::discovery::ToolCatalog;
use crate::error::LinkError;
use crate::module_server::ModuleServer;
use crate::registry::ToolRegistry;
use crate::skills::{Skill, SkillStore};

/// Compiles and links a component skill for `components.run`. Typed
/// linking needs the sandbox's linker, so it lives above the sandbox; the
/// runtime hands its implementation in.
pub(crate) trait SkillLinker: Send + Sync {
    /// `skill` compiled and linked against the current tools of `tools`.
    fn link<'a>(
        &'a self,
        engine: &'a Engine,
        skill: &'a Skill,
        tools: &'a Arc<ToolRegistry>,
    ) -> BoxFuture<'a, Result<InstancePre<StoreState>, LinkError>>;
}

/// The skills an execution imports and saves, the search index and the
/// modules its imports resolve to. The runtime holds one over its shared
/// skill folders; each session a copy that searches its own folder first.
#[derive(Clone, Default)]
pub(crate) struct Services {
    /// The skills as the session sees them (its own folder first).
    pub skills: SkillStore,
    /// The runtime's skill folders: what search indexes.
    pub shared_skills: SkillStore,
    /// The search index over every server's tools and the shared skills.
    pub catalog: Arc<ToolCatalog>,
    /// The modules served to the guest's import resolver.
    pub modules: Arc<ModuleServer>,
    /// Runs component skills; none in stores that run no agent code.
    pub components: Option<Arc<dyn SkillLinker>>,
}

impl Services {
    /// The runtime's services, over the skill folders of `skills`.
    pub(crate) fn new(skills: SkillStore, modules: ModuleServer, components: Arc<dyn SkillLinker>) -> Self {
        Services {
            skills: skills.clone(),
            shared_skills: skills,
            catalog: Arc::default(),
            modules: Arc::new(modules),
            components: Some(components),
        }
    }

    /// The same services as a session sees them: `folder` (the session's
    /// own skills) searched before the shared folders.
    pub(crate) fn for_session(&self, folder: PathBuf) -> Self {
        Services { skills: self.shared_skills.for_session(folder), ..self.clone() }
    }
}
