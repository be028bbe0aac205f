//! Source rewriting before Monty compiles the agent's code.
//!
//! Monty has no import hook: it knows its own stdlib modules and raises
//! `ModuleNotFoundError` for any other. So imports of `servers` and
//! `airlock` are rewritten into calls of an external function the runner
//! answers (`crm = __airlock_import__("servers", "crm")`). The rewrite also
//!
//! - binds `ToolError` (and `airlock.ToolError`) to the builtin exception
//!   type tool errors are raised as, since `except` only takes builtin
//!   exception types in Monty;
//! - marks tool calls written directly under `await` or as arguments of
//!   `asyncio.gather(...)` with a keyword, so that they return futures and
//!   run as one concurrent batch.
//!
//! Every edit keeps the line structure, so the agent's line numbers stay
//! right; previews of rewritten lines are restored in tracebacks.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ExprCall, ExprContext, Stmt, StmtImport, StmtImportFrom};
use ruff_text_size::{Ranged, TextRange};

use crate::errors::TOOL_ERROR_BUILTIN;
use crate::json::write_string;
use crate::objects::{ASYNC_KEYWORD, IMPORT_FUNCTION};

/// The code to compile and which of its lines differ from the agent's.
pub struct Prepared {
    pub code: String,
    /// 1-based numbers of the lines the rewrite changed.
    pub rewritten_lines: Vec<u32>,
}

/// Rewrites `source` for Monty. Code that cannot parse is left as it is, so
/// that Monty reports the syntax error.
pub fn prepare(source: &str) -> Prepared {
    let unchanged = || Prepared { code: source.to_string(), rewritten_lines: Vec::new() };
    // Most code mentions none of these: skip the parse.
    if !["servers", "airlock", "ToolError"].iter().any(|word| source.contains(word)) {
        return unchanged();
    }
    let Ok(parsed) = ruff_python_parser::parse_module(source) else { return unchanged() };
    let mut scan = Scan { source, ..Scan::default() };
    for stmt in parsed.suite() {
        scan.visit_stmt(stmt);
    }
    let edits = scan.edits();
    if edits.is_empty() {
        return unchanged();
    }
    apply(source, edits)
}

/// Replace `range` of the source with `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// What one walk over the module finds.
#[derive(Default)]
struct Scan<'s> {
    source: &'s str,
    /// Import statements and their replacements.
    imports: Vec<Edit>,
    /// Names bound to servers, tools, the `servers` package or `airlock`
    /// and its functions: calls rooted at them may be marked async.
    async_roots: Vec<String>,
    /// Names bound to the `airlock` module.
    airlock_names: Vec<String>,
    /// `ToolError` read as a name.
    tool_error_loads: Vec<TextRange>,
    /// The code binds `ToolError` itself: leave it alone.
    tool_error_bound: bool,
    /// `<name>.ToolError` attribute reads.
    tool_error_attributes: Vec<(String, TextRange)>,
    /// Calls in await/gather positions: `(root name, insert at, with comma)`.
    async_calls: Vec<(String, usize, bool)>,
}

impl<'a> Visitor<'a> for Scan<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => self.import(import),
            Stmt::ImportFrom(import) => self.import_from(import),
            Stmt::FunctionDef(def) if def.name.as_str() == "ToolError" => self.tool_error_bound = true,
            Stmt::ClassDef(def) if def.name.as_str() == "ToolError" => self.tool_error_bound = true,
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) if name.id.as_str() == "ToolError" => match name.ctx {
                ExprContext::Load => self.tool_error_loads.push(name.range),
                _ => self.tool_error_bound = true,
            },
            Expr::Attribute(attribute) if attribute.attr.as_str() == "ToolError" => {
                if let (Expr::Name(root), ExprContext::Load) = (&*attribute.value, attribute.ctx) {
                    self.tool_error_attributes.push((root.id.to_string(), attribute.range));
                }
            }
            Expr::Await(awaited) => {
                if let Expr::Call(call) = &*awaited.value {
                    self.async_call(call);
                }
            }
            Expr::Call(call) if is_gather(&call.func) => {
                for arg in &call.arguments.args {
                    self.gathered(arg);
                }
            }
            _ => {}
        }
        walk_expr(self, expr);
    }
}

impl Scan<'_> {
    fn import(&mut self, import: &StmtImport) {
        let special = |name: &str| is_module(name, "servers") || is_module(name, "airlock");
        if !import.names.iter().any(|alias| special(alias.name.as_str())) {
            return;
        }
        let (mut kept, mut parts) = (Vec::new(), Vec::new());
        for alias in &import.names {
            let name = alias.name.as_str();
            let asname = alias.asname.as_ref().map(|a| a.as_str());
            if !special(name) {
                kept.push(match asname {
                    Some(asname) => format!("import {name} as {asname}"),
                    None => format!("import {name}"),
                });
                continue;
            }
            let top = if is_module(name, "servers") { "servers" } else { "airlock" };
            let (bind, call) = match (asname, name.split_once('.')) {
                // `import servers.crm` binds `servers` (after checking `crm`).
                (None, _) | (Some(_), None) => (asname.unwrap_or(top), import_call(name, None)),
                // `import servers.crm as c` binds the server itself, and
                // `import servers.crm.tool as t` the tool.
                (Some(asname), Some(_)) => {
                    let (module, last) = name.rsplit_once('.').unwrap_or((name, ""));
                    (asname, import_call(module, Some(last)))
                }
            };
            self.async_roots.push(bind.to_string());
            if top == "airlock" && (asname.is_none() || !name.contains('.')) {
                self.airlock_names.push(bind.to_string());
            }
            parts.push(format!("{bind} = {call}"));
        }
        self.replace_statement(import.range, kept, parts);
    }

    fn import_from(&mut self, import: &StmtImportFrom) {
        let module = import.module.as_ref().map_or("", |m| m.as_str());
        let servers = is_module(module, "servers");
        if import.level != 0 || !(servers || is_module(module, "airlock")) {
            // Another module binding `ToolError` shadows ours.
            if import.names.iter().any(|a| a.asname.as_ref().unwrap_or(&a.name).as_str() == "ToolError") {
                self.tool_error_bound = true;
            }
            return;
        }
        let mut parts = Vec::new();
        for alias in &import.names {
            let name = alias.name.as_str();
            let bind = alias.asname.as_ref().map_or(name, |a| a.as_str());
            if name == "*" {
                parts.push(import_call(module, Some("*")));
            } else if module == "airlock" && name == "ToolError" {
                parts.push(format!("{bind} = {TOOL_ERROR_BUILTIN}"));
            } else {
                self.async_roots.push(bind.to_string());
                parts.push(format!("{bind} = {}", import_call(module, Some(name))));
            }
        }
        self.replace_statement(import.range, Vec::new(), parts);
    }

    /// Replaces an import statement with `kept` imports and then `parts`,
    /// on as many lines as it had: the line breaks go inside the last
    /// part's parentheses.
    fn replace_statement(&mut self, range: TextRange, kept: Vec<String>, parts: Vec<String>) {
        let (start, end) = (range.start().to_usize(), range.end().to_usize());
        let breaks = self.source.get(start..end).map_or(0, |s| s.matches('\n').count());
        let mut parts: Vec<String> = kept.into_iter().chain(parts).collect();
        if breaks > 0
            && let Some(last) = parts.last_mut()
        {
            let newlines = "\n".repeat(breaks);
            if last.ends_with(')') {
                last.insert_str(last.len() - 1, &newlines);
            } else if let Some((bind, value)) = last.split_once(" = ") {
                *last = format!("{bind} = ({value}{newlines})");
            }
        }
        self.imports.push(Edit { start, end, text: parts.join("; ") });
    }

    /// One argument of `asyncio.gather(...)`: a call, or a starred list,
    /// tuple or comprehension of calls.
    fn gathered(&mut self, arg: &Expr) {
        match arg {
            Expr::Call(call) => self.async_call(call),
            Expr::Starred(starred) => match &*starred.value {
                Expr::ListComp(c) => self.gathered_element(&c.elt),
                Expr::SetComp(c) => self.gathered_element(&c.elt),
                Expr::Generator(c) => self.gathered_element(&c.elt),
                Expr::List(l) => l.elts.iter().for_each(|e| self.gathered_element(e)),
                Expr::Tuple(t) => t.elts.iter().for_each(|e| self.gathered_element(e)),
                _ => {}
            },
            _ => {}
        }
    }

    fn gathered_element(&mut self, element: &Expr) {
        if let Expr::Call(call) = element {
            self.async_call(call);
        }
    }

    /// Records where the async keyword would go in `call`, if its callee is
    /// rooted at a plain name (`crm.tool(...)`, `tool(...)`).
    fn async_call(&mut self, call: &ExprCall) {
        let Some(root) = root_name(&call.func) else { return };
        let arguments = &call.arguments;
        // `f(x for x in y)` cannot take another argument.
        if arguments.args.iter().any(|a| matches!(a, Expr::Generator(g) if !g.parenthesized)) {
            return;
        }
        let last = arguments
            .args
            .iter()
            .map(|a| a.range().end())
            .chain(arguments.keywords.iter().map(|k| k.range().end()))
            .max();
        let (at, comma) = match last {
            Some(end) => (end.to_usize(), true),
            None => (arguments.range.start().to_usize() + 1, false),
        };
        self.async_calls.push((root.to_string(), at, comma));
    }

    /// The edits to make, in source order, without overlaps.
    fn edits(self) -> Vec<Edit> {
        let mut edits = self.imports;
        if !self.tool_error_bound {
            edits.extend(self.tool_error_loads.iter().map(|r| replace(*r, TOOL_ERROR_BUILTIN)));
        }
        for (root, range) in &self.tool_error_attributes {
            if self.airlock_names.contains(root) {
                edits.push(replace(*range, TOOL_ERROR_BUILTIN));
            }
        }
        for (root, at, comma) in &self.async_calls {
            // The `servers` package is reachable without an import too.
            if self.async_roots.contains(root) || root == "servers" {
                let text = if *comma { format!(", {ASYNC_KEYWORD}=True") } else { format!("{ASYNC_KEYWORD}=True") };
                edits.push(Edit { start: *at, end: *at, text });
            }
        }
        edits.sort_by_key(|e| (e.start, e.end));
        edits.dedup_by_key(|e| (e.start, e.end));
        let mut kept: Vec<Edit> = Vec::with_capacity(edits.len());
        for edit in edits {
            if kept.last().is_none_or(|previous| previous.end <= edit.start) {
                kept.push(edit);
            }
        }
        kept
    }
}

fn replace(range: TextRange, text: &str) -> Edit {
    Edit { start: range.start().to_usize(), end: range.end().to_usize(), text: text.to_string() }
}

/// `name` is `module` or a submodule of it.
fn is_module(name: &str, module: &str) -> bool {
    name.strip_prefix(module).is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// `__airlock_import__("module", "name")` (or `None`).
fn import_call(module: &str, name: Option<&str>) -> String {
    let mut call = format!("{IMPORT_FUNCTION}(");
    write_string(&mut call, module);
    call.push_str(", ");
    match name {
        Some(name) => write_string(&mut call, name),
        None => call.push_str("None"),
    }
    call.push(')');
    call
}

/// `asyncio.gather` or a bare `gather`.
fn is_gather(func: &Expr) -> bool {
    match func {
        Expr::Name(name) => name.id.as_str() == "gather",
        Expr::Attribute(attribute) => {
            attribute.attr.as_str() == "gather"
                && matches!(&*attribute.value, Expr::Name(root) if root.id.as_str() == "asyncio")
        }
        _ => false,
    }
}

/// The name an attribute chain starts from: `crm` in `crm.tool`.
fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(name) => Some(name.id.as_str()),
        Expr::Attribute(attribute) => root_name(&attribute.value),
        _ => None,
    }
}

/// Applies `edits` (sorted, disjoint) and notes the lines they touch.
fn apply(source: &str, edits: Vec<Edit>) -> Prepared {
    let mut code = String::with_capacity(source.len() + edits.len() * 32);
    let mut lines = Vec::new();
    let mut at = 0;
    for edit in edits {
        let (Some(before), Some(replaced)) = (source.get(at..edit.start), source.get(edit.start..edit.end)) else {
            // Not on a char boundary: cannot happen with parser ranges;
            // compile the code as written rather than corrupt it.
            return Prepared { code: source.to_string(), rewritten_lines: Vec::new() };
        };
        code.push_str(before);
        code.push_str(&edit.text);
        let first = line_of(source, edit.start);
        let last = first + replaced.matches('\n').count() as u32;
        lines.extend(first..=last);
        at = edit.end;
    }
    code.push_str(source.get(at..).unwrap_or_default());
    lines.dedup();
    Prepared { code, rewritten_lines: lines }
}

/// The 1-based line of byte `offset`.
fn line_of(source: &str, offset: usize) -> u32 {
    source.as_bytes()[..offset.min(source.len())].iter().filter(|&&b| b == b'\n').count() as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::prepare;

    #[test]
    fn imports() {
        let out = prepare("from servers import crm, billing as b\nx = 1\n");
        assert_eq!(
            out.code,
            "crm = __airlock_import__(\"servers\", \"crm\"); b = __airlock_import__(\"servers\", \"billing\")\nx = 1\n"
        );
        assert_eq!(out.rewritten_lines, vec![1]);
        let out = prepare("import json, servers.crm\n");
        assert_eq!(out.code, "import json; servers = __airlock_import__(\"servers.crm\", None)\n");
        let out = prepare("from servers.crm import (\n  a,\n)\n");
        assert_eq!(out.code, "a = __airlock_import__(\"servers.crm\", \"a\"\n\n)\n");
    }

    #[test]
    fn tool_error_and_async() {
        let out = prepare("from servers import crm\ntry:\n  await crm.a(x=1,)\nexcept ToolError as e:\n  pass\n");
        assert!(out.code.contains("await crm.a(x=1, __airlock_async__=True,)"), "{}", out.code);
        assert!(out.code.contains("except OSError as e"));
        let out =
            prepare("import asyncio\nfrom servers import crm\nawait asyncio.gather(*[crm.b() for i in r], f())\n");
        assert!(out.code.contains("crm.b(__airlock_async__=True)"), "{}", out.code);
        assert!(out.code.contains(", f())"));
    }
}
