//! The native functions the prelude captures: output, tool-call queueing,
//! environment and randomness.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write;

use rquickjs::{Ctx, Function, Object, Persistent};

use crate::airlock::runtime::tools::{self, Detail};
use crate::{fs, tool_queue};

thread_local! {
    // xorshift64* state behind `Math.random`; reseeded for every execution
    // because pre-initialisation would otherwise freeze it in the snapshot.
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
}

/// Reseeds `Math.random` from the host's randomness.
pub fn reseed_random() {
    let seed = getrandom::u64().unwrap_or(0x2545_F491_4F6C_DD1D);
    RANDOM_STATE.with(|s| s.set(seed | 1));
}

fn next_random() -> f64 {
    RANDOM_STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        // 53 high bits of the product → a double in [0, 1).
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Writes console output to WASI stdout (fd 1) or stderr (anything else).
/// The host caps the bytes it keeps and may end the execution here.
fn write(fd: i32, text: String) {
    let bytes = text.as_bytes();
    // A write error means the host closed the stream; the text has nowhere
    // else to go, so it is dropped.
    if fd == 1 {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes).and_then(|()| out.flush());
    } else {
        let _ = std::io::stderr().write_all(bytes);
    }
}

/// Searches every server's tools on the host: `[{name, server, tool,
/// score, description?, declaration?, needs?, gives?}]`, best first.
fn search<'js>(ctx: Ctx<'js>, query: String, detail: String, limit: u32) -> rquickjs::Result<Vec<Object<'js>>> {
    let detail = match detail.as_str() {
        "name" => Detail::Name,
        "description" => Detail::Description,
        "full" => Detail::Full,
        other => {
            let message = format!("searchTools: unknown detail '{other}' (use name, description or full)");
            return Err(rquickjs::Exception::throw_type(&ctx, &message));
        }
    };
    tools::find(&query, detail, limit)
        .into_iter()
        .map(|tools::FoundTool { found, needs, gives }| {
            let object = Object::new(ctx.clone())?;
            object.set("name", format!("{}.{}", found.server, found.tool))?;
            object.set("server", found.server)?;
            object.set("tool", found.tool)?;
            object.set("score", found.score)?;
            if let Some(description) = found.description {
                object.set("description", description)?;
            }
            if let Some(declaration) = found.declaration {
                object.set("declaration", declaration)?;
            }
            if !needs.is_empty() {
                object.set("needs", needs)?;
            }
            if !gives.is_empty() {
                object.set("gives", gives)?;
            }
            Ok(object)
        })
        .collect()
}

/// Saves a skill on the host: the `server.tool` names it calls, or throws.
fn save_skill<'js>(
    ctx: Ctx<'js>,
    name: String,
    description: String,
    code: String,
    language: String,
    replace: bool,
    session_only: bool,
) -> rquickjs::Result<Vec<String>> {
    crate::airlock::runtime::skills::save(&name, &description, &code, &language, replace, session_only)
        .map_err(|message| rquickjs::Exception::throw_message(&ctx, &message))
}

/// Runs a component skill on the host: its output (JSON text), or throws.
fn run_skill(ctx: Ctx<'_>, name: String, input: String) -> rquickjs::Result<String> {
    crate::airlock::runtime::components::run(&name, &input)
        .map_err(|message| rquickjs::Exception::throw_message(&ctx, &message))
}

/// Builds the object the prelude receives as `native`.
pub fn install<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let native = Object::new(ctx.clone())?;
    native.set("write", Function::new(ctx.clone(), write)?)?;
    native.set("random", Function::new(ctx.clone(), next_random)?)?;
    native.set("fs", fs::install(ctx)?)?;
    native.set("search", Function::new(ctx.clone(), search)?)?;
    native.set("saveSkill", Function::new(ctx.clone(), save_skill)?)?;
    native.set("runSkill", Function::new(ctx.clone(), run_skill)?)?;
    native.set("env", Function::new(ctx.clone(), || std::env::vars().collect::<BTreeMap<String, String>>())?)?;
    native.set(
        "enqueue",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, server: String, tool: String, arguments: String, settle: Function<'js>| {
                tool_queue::enqueue(server, tool, arguments, Persistent::save(&ctx, settle));
            },
        )?,
    )?;
    Ok(native)
}
