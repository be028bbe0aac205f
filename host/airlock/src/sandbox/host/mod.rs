//! The host side of the guest's `airlock:runtime` imports, one file per WIT
//! interface. Each interface sees only its slice of the store (a view
//! struct, like wasmtime-wasi's `WasiCtxView`), so what a host call can
//! reach is read from its view's fields. `components.run` is the exception:
//! it needs the calling store itself (its fuel), see `sandbox/skill.rs`.

mod modules;
mod skills;
mod tools;
mod tree;

use wasmtime::component::{HasData, Linker};

use super::{StoreState, skill};
use crate::wit::airlock::runtime as wit;

/// `types` has no functions; its `Host` trait still needs an implementer.
struct Types;

impl HasData for Types {
    type Data<'a> = Types;
}

impl wit::types::Host for Types {}

/// Adds the `airlock:runtime` imports to `linker`, each projected to its view.
pub(crate) fn add_to_linker(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    add_skill_imports(linker)?;
    wit::modules::add_to_linker::<_, modules::Modules>(linker, StoreState::modules_view)?;
    wit::tree::add_to_linker::<_, tree::Tree>(linker, StoreState::tree_view)?;
    wit::skills::add_to_linker::<_, skills::Skills>(linker, StoreState::skills_view)?;
    linker
        .instance("airlock:runtime/components@0.1.0")?
        .func_wrap_async("run", |store, (name, input): (String, String)| {
            Box::new(async move { Ok((skill::run(store, name, input).await?,)) })
        })?;
    Ok(())
}

/// Adds what the `skill` world imports from `airlock:runtime`: types and
/// tools, and nothing that would let a component skill save skills, read
/// the module tree or run other component skills.
pub(crate) fn add_skill_imports(linker: &mut Linker<StoreState>) -> wasmtime::Result<()> {
    wit::types::add_to_linker::<_, Types>(linker, |_| Types)?;
    wit::tools::add_to_linker::<_, tools::Tools>(linker, StoreState::tools_view)?;
    Ok(())
}

pub(crate) use modules::ModulesView;
pub(crate) use skills::SkillsView;
pub(crate) use tools::ToolsView;
pub(crate) use tree::TreeView;
