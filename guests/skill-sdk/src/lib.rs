//! Write Airlock component skills in Rust.
//!
//! A component skill is a `wasm32-wasip2` component of the `skill` world:
//! it exports `run(input) -> result<output, error>` over JSON and calls tools
//! through the host, which applies the calling session's policy and PII
//! vault. This crate gives a skill:
//!
//! - [`Skill`] and [`export_skill!`]: implement `run` on JSON values;
//! - [`call_tool`] and [`call_tools`]: untyped tool calls, by server and
//!   tool name, for any server;
//! - [`ToolError`], the reason a call failed, with its kind and message.
//!
//! Typed calls come from the server's generated WIT (`airlock wit
//! <server>` into `wit/deps/<server>/`), bound in the skill's own crate
//! with `wit_bindgen::generate!`: they take and return records, and a skill
//! whose records no longer match the server fails to load, naming the
//! tool and the field, instead of failing halfway.
//!
//! ```ignore
//! use airlock_skill::{Skill, Value, export_skill, json};
//!
//! struct Hello;
//!
//! impl Skill for Hello {
//!     fn run(input: Value) -> Result<Value, String> {
//!         Ok(json!({ "hello": input }))
//!     }
//! }
//!
//! export_skill!(Hello);
//! ```
//!
//! `airlock skills build DIR` builds the crate in `DIR`, checks its typed
//! imports against the configured servers, precompiles it and saves it as
//! a skill that agent code imports: `import { run } from "./skills/<name>"`.

#![warn(missing_docs)]

// The generated export macro names this crate by its own name.
extern crate self as airlock_skill;

/// The `skill` world's bindings, generated from Airlock's WIT.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "skill",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_run",
        default_bindings_module: "airlock_skill::bindings",
        runtime_path: "airlock_skill::wit_bindgen::rt",
    });
}

pub use serde_json::{self, Value, json};
#[doc(hidden)]
pub use wit_bindgen;

use bindings::airlock::runtime::tools;
pub use bindings::airlock::runtime::types::ToolError;

/// A component skill: `run` gets the caller's input and returns the
/// output the caller's `await run(input)` resolves to; an `Err` rejects it
/// with that message.
pub trait Skill {
    /// Runs the skill once.
    fn run(input: Value) -> Result<Value, String>;
}

/// Exports a [`Skill`] as the component's `run`.
#[macro_export]
macro_rules! export_skill {
    ($skill:ty) => {
        struct __AirlockSkillExport;

        impl $crate::bindings::Guest for __AirlockSkillExport {
            fn run(input: ::std::string::String) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                $crate::run_json::<$skill>(&input)
            }
        }

        $crate::bindings::export_run!(__AirlockSkillExport with_types_in $crate::bindings);
    };
}

/// Parses the input, runs the skill and renders its output: what the
/// exported `run` does.
#[doc(hidden)]
pub fn run_json<S: Skill>(input: &str) -> Result<String, String> {
    let input: Value = serde_json::from_str(input).map_err(|e| format!("the input is not JSON: {e}"))?;
    let output = S::run(input)?;
    Ok(output.to_string())
}

impl ToolError {
    /// The kind of failure: `not-found`, `denied`, `invalid-arguments`,
    /// `failed` or `unavailable`.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::NotFound(_) => "not-found",
            ToolError::Denied(_) => "denied",
            ToolError::InvalidArguments(_) => "invalid-arguments",
            ToolError::Failed(_) => "failed",
            ToolError::Unavailable(_) => "unavailable",
        }
    }

    /// What the host or the tool said.
    pub fn message(&self) -> &str {
        match self {
            ToolError::NotFound(m)
            | ToolError::Denied(m)
            | ToolError::InvalidArguments(m)
            | ToolError::Failed(m)
            | ToolError::Unavailable(m) => m,
        }
    }
}

/// Calls `tool` of `server` with `arguments`; its result as JSON.
pub fn call_tool(server: &str, tool: &str, arguments: &Value) -> Result<Value, ToolError> {
    let result = tools::call(server, tool, &arguments.to_string())?;
    Ok(parse_result(&result))
}

/// Runs several calls concurrently on the host: `(server, tool,
/// arguments)` each; results in the same order.
pub fn call_tools(calls: &[(&str, &str, Value)]) -> Vec<Result<Value, ToolError>> {
    let calls: Vec<bindings::airlock::runtime::types::ToolCall> = calls
        .iter()
        .map(|(server, tool, arguments)| bindings::airlock::runtime::types::ToolCall {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments: arguments.to_string(),
        })
        .collect();
    tools::call_batch(&calls).into_iter().map(|result| result.map(|json| parse_result(&json))).collect()
}

/// The host always hands back valid JSON; anything else would be a host
/// bug, kept visible as a string rather than lost.
fn parse_result(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.to_string()))
}
