//! Host bindings for the `airlock:runtime` WIT package.

wasmtime::component::bindgen!({
    world: "agent",
    path: "../wit",
    imports: { default: async | trappable },
    exports: { default: async },
});
