//! What ended an execution that trapped: a limit the host enforces (fuel,
//! timeout, memory, output, tool calls), named with its typed error, or
//! the guest's own trap.

use wasmtime::Trap;

use super::StoreState;
use super::output::OutputLimitExceeded;
use crate::boundary::Boundary;
use crate::execution::ExecutionError;
use crate::limits::{Limit, Limits};

/// The error a host-enforced limit traps with.
#[derive(Debug, thiserror::Error)]
#[error("the {0} limit was hit")]
pub(crate) struct LimitTrap(pub Limit);

/// The error the host ends an execution with when a tool call paused it
/// for a human, or its replay diverged from its journal: not a failure of
/// the code, and never seen by it.
#[derive(Debug, thiserror::Error)]
#[error("the execution halted: {0}")]
pub(crate) struct Halted(pub &'static str);

/// The trap that ends an execution whose boundary [halted](Boundary::halted).
pub(crate) fn halt_trap(boundary: &Boundary) -> wasmtime::Error {
    let why = if boundary.recorder().paused() { "paused for approval" } else { "the replay diverged" };
    wasmtime::Error::new(Halted(why))
}

/// Names the limit behind a trap, or reports the trap itself.
pub(super) fn classify_trap(trap: &wasmtime::Error, state: &StoreState, limits: &Limits) -> ExecutionError {
    match limit_of(trap, state) {
        Some(limit) => limit_error(limit, limits),
        None => ExecutionError::Trap { message: trap_message(trap) },
    }
}

/// The limit a trap means, if it was one.
pub(super) fn limit_of(trap: &wasmtime::Error, state: &StoreState) -> Option<Limit> {
    let output = &state.surroundings;
    if trap.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        Some(Limit::Fuel)
    } else if let Some(LimitTrap(limit)) = trap.downcast_ref::<LimitTrap>() {
        Some(*limit)
    } else if trap.downcast_ref::<OutputLimitExceeded>().is_some()
        || output.stdout.truncated()
        || output.stderr.truncated()
    {
        Some(Limit::Output)
    } else if state.memory.hit {
        Some(Limit::Memory)
    } else {
        state.limit_hit
    }
}

pub(super) fn trap_message(trap: &wasmtime::Error) -> String {
    match trap.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow: the code recursed too deeply".to_string(),
        Some(Trap::MemoryOutOfBounds) => {
            "out-of-bounds memory access in the guest (deep recursion exhausts its stack this way)".to_string()
        }
        Some(other) => other.to_string(),
        None => format!("{trap:#}"),
    }
}

pub(super) fn limit_error(limit: Limit, limits: &Limits) -> ExecutionError {
    let message = match limit {
        Limit::Fuel => format!("the execution ran out of fuel ({} units)", limits.fuel),
        Limit::Timeout => format!("the execution ran past its deadline of {:?}", limits.timeout),
        Limit::Memory => format!("the guest tried to grow its memory past {} bytes", limits.memory_bytes),
        Limit::Output => format!(
            "output went past its cap (stdout {} bytes, stderr {} bytes)",
            limits.stdout_bytes, limits.stderr_bytes
        ),
        Limit::ToolCalls => format!("the code made more than {} tool calls", limits.tool_calls),
        Limit::OpenFiles => {
            format!("the code held more than {} files open at once", super::workspace::MAX_OPEN_FILES)
        }
        Limit::Workspace => {
            format!("the code wrote past what its workspace may hold ({} bytes)", limits.workspace_bytes)
        }
    };
    ExecutionError::Limit { limit, message }
}
