//! Host bindings for the `airlock:runtime` WIT package: the `agent` world
//! every interpreter guest exports, and the `javascript` world, which adds
//! the JS guest's `compile` (its interfaces are the `agent` world's own).

wasmtime::component::bindgen!({
    world: "agent",
    path: "../../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});

/// The JavaScript guest's world: `agent` plus `compile`.
pub(crate) mod javascript {
    wasmtime::component::bindgen!({
        world: "javascript",
        path: "../../wit",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "airlock:runtime/types": super::airlock::runtime::types,
            "airlock:runtime/tools": super::airlock::runtime::tools,
            "airlock:runtime/modules": super::airlock::runtime::modules,
            "airlock:runtime/tree": super::airlock::runtime::tree,
            "airlock:runtime/skills": super::airlock::runtime::skills,
            "airlock:runtime/components": super::airlock::runtime::components,
        },
    });
}
