//! Tool calls queued by JavaScript and handed to the host in batches.
//!
//! `callTool` returns a promise and queues the call here. When no promise
//! job can run, the engine flushes the queue: one call goes through
//! `tools.call`, several through `tools.call-batch`, which the host runs
//! concurrently. That is what makes `Promise.all` over tool calls parallel.

use std::cell::RefCell;

use rquickjs::{Ctx, Function, Persistent};

use crate::airlock::runtime::tools;
use crate::airlock::runtime::types::{ToolCall, ToolError};

/// A call waiting to be sent, with the callback that settles its promise.
pub struct Pending {
    call: ToolCall,
    settle: Persistent<Function<'static>>,
}

thread_local! {
    static QUEUE: RefCell<Vec<Pending>> = const { RefCell::new(Vec::new()) };
}

/// Queues a call; `settle(kind, payload)` is called once it completes.
pub fn enqueue(server: String, tool: String, arguments: String, settle: Persistent<Function<'static>>) {
    let call = ToolCall { server, tool, arguments };
    QUEUE.with(|q| q.borrow_mut().push(Pending { call, settle }));
}

/// Takes every queued call.
pub fn take() -> Vec<Pending> {
    QUEUE.with(|q| std::mem::take(&mut *q.borrow_mut()))
}

/// Sends `calls` to the host and returns each one's outcome beside its
/// settle callback.
pub fn send(calls: Vec<Pending>) -> Vec<(Persistent<Function<'static>>, Result<String, ToolError>)> {
    let (requests, settles): (Vec<ToolCall>, Vec<_>) = calls.into_iter().map(|p| (p.call, p.settle)).unzip();
    let results = match requests.as_slice() {
        [one] => vec![tools::call(&one.server, &one.tool, &one.arguments)],
        many => tools::call_batch(many),
    };
    settles.into_iter().zip(results).collect()
}

/// Resolves or rejects the promise behind `settle`.
pub fn settle<'js>(
    ctx: &Ctx<'js>,
    settle: Persistent<Function<'static>>,
    outcome: Result<String, ToolError>,
) -> rquickjs::Result<()> {
    let settle = settle.restore(ctx)?;
    match outcome {
        // Parsed straight from the Rust string: no intermediate JS string
        // for results that can be megabytes long.
        Ok(json) => match ctx.json_parse(json) {
            Ok(value) => settle.call::<_, ()>((rquickjs::Undefined, value)),
            Err(_) => {
                let message = "the host returned a result that is not valid JSON".to_string();
                settle.call::<_, ()>(("failed", message))
            }
        },
        Err(error) => {
            let (kind, message) = error_parts(error);
            settle.call::<_, ()>((kind, message))
        }
    }
}

fn error_parts(error: ToolError) -> (&'static str, String) {
    match error {
        ToolError::NotFound(m) => ("not-found", m),
        ToolError::Denied(m) => ("denied", m),
        ToolError::InvalidArguments(m) => ("invalid-arguments", m),
        ToolError::Failed(m) => ("failed", m),
        ToolError::Unavailable(m) => ("unavailable", m),
    }
}
