//! Code generated from MCP tool definitions (JSON Schema): the JS modules
//! served at `./servers/<server>`, the TypeScript declarations and Python
//! signatures a model reads, and the WIT interface of each server.
//!
//! Everything here is deterministic (same tools → byte-identical text) and
//! total: tool definitions come from untrusted upstream servers, so a
//! schema this code does not understand degrades to `unknown` (TS) or
//! `json` (WIT) instead of failing.

// Parts of this API (the WIT mapping, the naming helpers) are for callers
// still being written.
#![allow(dead_code, unused_imports)]

mod javascript;
mod naming;
mod python;
mod schema;
mod typescript;
mod wit;

use crate::tool::ToolDefinition;

pub use javascript::{js_module, js_names, js_tool_module};
pub use naming::{is_js_identifier, lower_camel_case, unique_names, wit_identifier};
pub use python::{
    is_py_identifier, py_attributes, py_declarations, py_declarations_of, py_name, py_server_import,
    py_tool_declaration,
};
pub use typescript::{ts_declarations, ts_declarations_of, ts_tool_declaration};
pub use wit::{WitFunction, WitType, wit_functions, wit_interface};

/// Which language's declarations to show: what search's detail `full`
/// shows code in that language.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DeclarationStyle {
    /// TypeScript declarations, for JavaScript and TypeScript code.
    #[default]
    TypeScript,
    /// Python signatures, for Python code. Saved skills are left out of
    /// the results: they are ES modules, which Python code cannot import.
    Python,
}

impl DeclarationStyle {
    /// The declarations of every tool of `server`, as code in this style
    /// reads them.
    pub fn declarations(self, server: &str, tools: &[ToolDefinition]) -> String {
        self.declarations_of(server, &[server], tools, &|_| true)
    }

    /// The declarations of the tools of `server` that `keep` names, each
    /// under the name code calls it by among all of `tools` (names that
    /// clash are numbered over the whole listing); `servers` are all the
    /// configured servers, which Python imports by names numbered the same
    /// way.
    pub fn declarations_of(
        self,
        server: &str,
        servers: &[&str],
        tools: &[ToolDefinition],
        keep: &dyn Fn(&str) -> bool,
    ) -> String {
        match self {
            DeclarationStyle::TypeScript => ts_declarations_of(server, tools, keep),
            DeclarationStyle::Python => py_declarations_of(server, &py_server_import(server, servers), tools, keep),
        }
    }
}

/// The tools sorted by name; equal names keep their input order.
fn sorted(tools: &[ToolDefinition]) -> Vec<&ToolDefinition> {
    let mut tools: Vec<&ToolDefinition> = tools.iter().collect();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}

/// The lines of a description, fit for a doc comment: control,
/// bidirectional-override and deprecated codepoints become spaces (the WIT
/// lexer rejects them, and they can make text read differently from how it
/// parses); blank lines at either end go.
fn comment_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(clean_line).skip_while(|line| line.trim().is_empty()).collect();
    while lines.last().is_some_and(|line| line.trim().is_empty()) {
        lines.pop();
    }
    if let Some(first) = lines.first_mut() {
        *first = first.trim_start().to_string();
    }
    lines
}

/// One line with unfit codepoints replaced and trailing blanks removed.
fn clean_line(line: &str) -> String {
    let clean: String = line.chars().map(|c| if unfit_for_comment(c) { ' ' } else { c }).collect();
    clean.trim_end().to_string()
}

/// Codepoints the WIT lexer rejects anywhere in a document.
fn unfit_for_comment(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(
            c,
            '\u{149}' | '\u{673}' | '\u{f77}' | '\u{f79}' | '\u{17a3}' | '\u{17a4}' | '\u{17b4}' | '\u{17b5}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_are_clean() {
        let text = "\n  first\u{202e}line\u{7}\r\n\n  second  \n\u{1b}\n";
        assert_eq!(comment_lines(text), ["first line", "", "  second"]);
        assert!(comment_lines("\u{7}\n \t").is_empty());
    }

    #[test]
    fn a_subset_is_declared_under_the_names_of_the_whole_listing() {
        let tools: Vec<ToolDefinition> =
            ["list-items", "list_items", "list.items", "listItems"].into_iter().map(ToolDefinition::new).collect();
        for style in [DeclarationStyle::TypeScript, DeclarationStyle::Python] {
            let whole = style.declarations("s", &tools);
            let header = style.declarations_of("s", &["s"], &tools, &|_| false);
            for tool in &tools {
                let one = style.declarations_of("s", &["s"], &tools, &|name| name == tool.name);
                let body = one.strip_prefix(header.as_str()).unwrap_or("");
                assert!(!body.is_empty() && whole.contains(body), "{style:?} {}:\n{one}\nnot in\n{whole}", tool.name);
            }
        }
        let only = DeclarationStyle::Python.declarations_of("s", &["s"], &tools, &|name| name == "list.items");
        assert!(only.contains("def list_items3("), "{only}");
    }
}
