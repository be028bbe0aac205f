//! `airlock:runtime/modules`: the source (and, for JS, precompiled
//! bytecode) of the modules agent code imports: `./servers/<name>`,
//! `./skills/<name>`.

use wasmtime::component::HasData;

use crate::module_server::ModuleServer;
use crate::registry::ToolRegistry;
use crate::skills::SkillStore;
use crate::wit::airlock::runtime::modules;

/// The `modules` interface's projection of the store.
pub(crate) struct Modules;

impl HasData for Modules {
    type Data<'a> = ModulesView<'a>;
}

/// What resolving an import reaches: the module server, the tools whose
/// declarations it generates and the skills as the session sees them.
pub(crate) struct ModulesView<'a> {
    pub server: &'a ModuleServer,
    pub tools: &'a ToolRegistry,
    pub skills: &'a SkillStore,
}

impl modules::Host for ModulesView<'_> {
    async fn load(&mut self, path: String) -> wasmtime::Result<Result<modules::ModuleSource, String>> {
        let served = self.server.module(self.tools, self.skills, &path).await;
        Ok(served.map(|m| modules::ModuleSource {
            path: m.path,
            source: m.source,
            bytecode: m.bytecode.map(|b| b.to_vec()),
        }))
    }
}
