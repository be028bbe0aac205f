//! Python exceptions as the host sees them, and the exceptions this guest
//! raises into agent code.
//!
//! A failed tool call raises `OSError` (Monty has no user-defined exception
//! classes), whose message starts with the error's kind:
//! `"failed: crm.refund: card declined"`. The name `ToolError` is bound to
//! `OSError`, so `except ToolError` catches it; an uncaught one reaches the
//! host named `ToolError`.

use std::fmt::Write;
use std::sync::Arc;

use monty_types::{ExcType, MontyException, StackFrame};

use crate::airlock::runtime::types::{GuestError, ToolError};

/// The host's `tool-error`, named apart from Python's `ToolError`.
pub type HostToolError = ToolError;

/// The builtin exception type `ToolError` stands for.
pub const TOOL_ERROR_TYPE: ExcType = ExcType::OSError;
/// The Python name the rewrite binds to [`TOOL_ERROR_TYPE`].
pub const TOOL_ERROR_BUILTIN: &str = "OSError";

/// Frames shown before identical repeats collapse, as CPython does.
const REPEATS_SHOWN: usize = 3;
/// Frame groups shown at most; deep tracebacks keep their two ends.
const MAX_GROUPS: usize = 40;

/// The name and text of a tool error's kind.
pub fn tool_error_parts(error: ToolError) -> (&'static str, String) {
    match error {
        ToolError::NotFound(m) => ("not-found", m),
        ToolError::Denied(m) => ("denied", m),
        ToolError::InvalidArguments(m) => ("invalid-arguments", m),
        ToolError::Failed(m) => ("failed", m),
        ToolError::Unavailable(m) => ("unavailable", m),
    }
}

/// The kinds a tool error can have.
pub const TOOL_ERROR_KINDS: [&str; 5] = ["not-found", "denied", "invalid-arguments", "failed", "unavailable"];

/// The tool errors raised in this execution, so that an uncaught one can be
/// told from an `OSError` the code raised itself.
#[derive(Default)]
pub struct ToolErrors {
    messages: Vec<String>,
}

impl ToolErrors {
    /// The exception for `error` from `what` (`crm.refund`), remembered.
    pub fn raise(&mut self, what: &str, error: ToolError) -> MontyException {
        let (kind, message) = tool_error_parts(error);
        let text = format!("{kind}: {what}: {message}");
        if !self.messages.contains(&text) {
            self.messages.push(text.clone());
        }
        MontyException::new(TOOL_ERROR_TYPE, Some(text))
    }

    /// The kind of a tool error raised here with `message`, if it was one.
    pub fn kind_of(&self, message: &str) -> Option<&'static str> {
        if !self.messages.iter().any(|m| m == message) {
            return None;
        }
        TOOL_ERROR_KINDS.into_iter().find(|kind| message.strip_prefix(kind).is_some_and(|r| r.starts_with(": ")))
    }
}

/// An exception of `exc_type` with `message`, to raise into agent code.
pub fn exception(exc_type: ExcType, message: impl Into<String>) -> MontyException {
    MontyException::new(exc_type, Some(message.into()))
}

/// Describes an uncaught exception for the host. `original` is the agent's
/// source; `rewritten` lists the lines the guest rewrote, whose previews
/// are taken from `original` instead.
pub fn guest_error(error: &MontyException, original: &str, rewritten: &[u32], tool_errors: &ToolErrors) -> GuestError {
    let message = error.message().unwrap_or_default().to_string();
    let name = if error.exc_type() == TOOL_ERROR_TYPE && tool_errors.kind_of(&message).is_some() {
        "ToolError".to_string()
    } else {
        error.exc_type().to_string()
    };
    let frames = error.traceback();
    let stack = (!frames.is_empty()).then(|| traceback(frames, original, rewritten));
    GuestError { name, message, stack }
}

/// A `SyntaxError` the guest finds itself, at `line` of `original`.
pub fn syntax_error(message: &str, line: u32, original: &str) -> GuestError {
    let mut stack = format!("Traceback (most recent call last):\n  File \"main.py\", line {line}\n");
    if let Some(text) = original.lines().nth(line.saturating_sub(1) as usize) {
        let text: String = text.trim().chars().take(120).collect();
        let _ = writeln!(stack, "    {text}");
    }
    GuestError { name: "SyntaxError".to_string(), message: message.to_string(), stack: Some(stack) }
}

/// `Traceback (most recent call last):` and the frames, CPython style.
fn traceback(frames: &[StackFrame], original: &str, rewritten: &[u32]) -> String {
    // Group identical consecutive frames (recursion).
    let mut groups: Vec<(&StackFrame, usize)> = Vec::new();
    for frame in frames {
        match groups.last_mut() {
            Some((last, count)) if same_place(last, frame) => *count += 1,
            _ => groups.push((frame, 1)),
        }
    }
    let mut out = String::from("Traceback (most recent call last):\n");
    let skip = groups.len().saturating_sub(MAX_GROUPS);
    for (i, (frame, count)) in groups.iter().enumerate() {
        if skip > 0 && i == MAX_GROUPS / 2 {
            let _ = writeln!(out, "  [{skip} more frames]");
        }
        if skip > 0 && (MAX_GROUPS / 2..MAX_GROUPS / 2 + skip).contains(&i) {
            continue;
        }
        let frame = shown(frame, original, rewritten);
        for _ in 0..(*count).min(REPEATS_SHOWN) {
            let _ = write!(out, "{frame}");
            if frame.preview_line.is_none() {
                out.push('\n');
            }
        }
        if *count > REPEATS_SHOWN {
            let _ = writeln!(out, "  [Previous line repeated {} more times]", count - REPEATS_SHOWN);
        }
    }
    out
}

fn same_place(a: &StackFrame, b: &StackFrame) -> bool {
    a.filename == b.filename && a.start.line == b.start.line && a.frame_name == b.frame_name
}

/// `frame` with its preview from the agent's own source when the guest
/// rewrote that line (the columns no longer match, so no caret either).
fn shown(frame: &StackFrame, original: &str, rewritten: &[u32]) -> StackFrame {
    let mut frame = frame.clone();
    let (first, last) = (frame.start.line, frame.end.line.max(frame.start.line));
    if (first..=last).any(|line| rewritten.contains(&line)) {
        let lines: Vec<&str> =
            original.lines().skip(first.saturating_sub(1) as usize).take((last - first + 1) as usize).collect();
        frame.preview_line = (!lines.is_empty()).then(|| Arc::from(dedent(&lines)));
        frame.hide_caret = true;
    }
    frame
}

/// The lines with their common leading whitespace removed.
fn dedent(lines: &[&str]) -> String {
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let trimmed: Vec<&str> = lines.iter().map(|l| l.get(indent..).unwrap_or(l.trim_start())).collect();
    trimmed.join("\n")
}
