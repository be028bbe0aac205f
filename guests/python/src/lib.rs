//! The Python guest: Monty (pydantic's Python-subset interpreter) behind the
//! `airlock:runtime` `agent` world.
//!
//! Every execution compiles the agent's code, runs it and answers what it
//! suspends on: tool calls, imports of `servers` and `airlock`, OS requests.
//! Nothing persists between executions: the host instantiates a fresh
//! pre-initialised snapshot for each one.

mod errors;
mod guard;
mod json;
mod objects;
mod oscalls;
mod output;
mod rewrite;
mod runner;
mod servers;

wit_bindgen::generate!({
    world: "agent",
    path: "../../wit",
});

struct Component;

impl Guest for Component {
    fn run(code: String) -> Result<String, GuestError> {
        runner::run(&code)
    }

    fn compile(_path: String, _source: String) -> Result<Vec<u8>, String> {
        Err("compile is only for JavaScript modules".to_string())
    }

    fn wizer_initialize() {
        runner::warm_up();
    }
}

export!(Component);
