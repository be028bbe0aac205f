//! The JavaScript guest: QuickJS (through `rquickjs`) behind the
//! `airlock:runtime` `javascript` world (`agent` plus `compile`).
//!
//! The interpreter is started in `wizer-initialize`, so the host snapshots a
//! ready engine and every execution starts from it in a fresh instance.

mod engine;
mod fs;
mod native;
mod paths;
mod tool_queue;

wit_bindgen::generate!({
    world: "javascript",
    path: "../../wit",
});

struct Component;

impl Guest for Component {
    fn run(code: String) -> Result<String, GuestError> {
        engine::with_engine(|engine| engine.run(&code))
    }

    fn compile(path: String, source: String) -> Result<Vec<u8>, String> {
        engine::with_engine(|engine| engine.compile(&path, &source))
    }

    fn wizer_initialize() {
        engine::with_engine(|_| ());
    }
}

export!(Component);
