//! TypeScript → JavaScript with oxc: parse, strip types (and lower the few
//! TypeScript constructs that need code, such as `enum`), print.
//!
//! Printing moves code around, so the source map of the print is kept as
//! a [`LineMap`] and positions in errors are mapped back to the agent's
//! own lines.

use std::path::Path;

use oxc::allocator::Allocator;
use oxc::codegen::{Codegen, CodegenOptions};
use oxc::diagnostics::OxcDiagnostic;
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};

/// A TypeScript source that could not be turned into JavaScript.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TypeScriptError {
    /// What is wrong and where (`main.ts:3:7`), one problem per line.
    pub message: String,
}

/// JavaScript made from TypeScript, with the way back to the source lines.
#[derive(Debug, Clone)]
pub struct Transpiled {
    /// The JavaScript.
    pub code: String,
    /// Generated position → source position.
    pub lines: LineMap,
}

/// Maps 1-based (line, column) positions in generated JavaScript back to
/// the TypeScript source.
#[derive(Debug, Clone, Default)]
pub struct LineMap {
    /// (generated line, generated column, source line, source column),
    /// 0-based, sorted by generated position.
    tokens: Vec<(u32, u32, u32, u32)>,
}

impl LineMap {
    /// The source position of generated `(line, column)` (1-based), when
    /// the source map covers that line.
    pub fn source_position(&self, line: u32, column: u32) -> Option<(u32, u32)> {
        let (line0, col0) = (line.checked_sub(1)?, column.saturating_sub(1));
        let after = self.tokens.partition_point(|t| (t.0, t.1) <= (line0, col0));
        let token = self.tokens[..after].last().filter(|t| t.0 == line0).or_else(|| {
            // Before the first token of the line: take that first token.
            self.tokens.get(after).filter(|t| t.0 == line0)
        })?;
        Some((token.2 + 1, token.3 + 1))
    }

    /// Rewrites every `file_js:LINE[:COL]` in `text` to `file_ts:LINE[:COL]`
    /// with source positions.
    pub fn rewrite(&self, text: &str, file_js: &str, file_ts: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(file_js) {
            out.push_str(&rest[..at]);
            rest = &rest[at + file_js.len()..];
            let (numbers, consumed) = leading_position(rest);
            match numbers.and_then(|(l, c)| Some((self.source_position(l, c.unwrap_or(1))?, c.is_some()))) {
                Some(((line, col), true)) => out.push_str(&format!("{file_ts}:{line}:{col}")),
                Some(((line, _), false)) => out.push_str(&format!("{file_ts}:{line}")),
                None => {
                    out.push_str(file_ts);
                    continue;
                }
            }
            rest = &rest[consumed..];
        }
        out.push_str(rest);
        out
    }
}

/// Parses `:LINE` or `:LINE:COL` at the start of `text`.
fn leading_position(text: &str) -> (Option<(u32, Option<u32>)>, usize) {
    let number = |s: &str| -> Option<(u32, usize)> {
        let s = s.strip_prefix(':')?;
        let len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        Some((s[..len].parse().ok()?, len + 1))
    };
    match number(text) {
        Some((line, used)) => match number(&text[used..]) {
            Some((col, more)) => (Some((line, Some(col))), used + more),
            None => (Some((line, None)), used),
        },
        None => (None, 0),
    }
}

/// The largest TypeScript source compiled: far past any agent's code or
/// skill, and small enough that its deepest nesting (one level a byte)
/// fits [`COMPILER_STACK`], in a debug build too.
pub const MAX_SOURCE_BYTES: usize = 256 << 10;

/// The compiler's stack. It recurses once per nesting level (`[[[…]]]`,
/// `!!!…x`), a few hundred bytes each: a hostile source nested a million
/// deep must fail its own execution, not overflow a thread of the host.
/// Reserved, not committed: only what a source uses is touched.
const COMPILER_STACK: usize = 1 << 30;

/// Turns `source` (named `file_name` in messages) into JavaScript.
pub fn transpile(source: &str, file_name: &str) -> Result<Transpiled, TypeScriptError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TypeScriptError {
            message: format!(
                "{file_name}: {} bytes of TypeScript, over the {MAX_SOURCE_BYTES} this host compiles",
                source.len()
            ),
        });
    }
    // The source is hostile input: a compiler panic, or nesting deeper than
    // a worker's stack, must fail this one execution, not the host that
    // serves many. So the compiler runs on a thread of its own.
    let failed = || TypeScriptError { message: format!("{file_name}: the TypeScript compiler failed on this source") };
    std::thread::scope(|scope| {
        let compiling = std::thread::Builder::new()
            .name("airlock-typescript".into())
            .stack_size(COMPILER_STACK)
            .spawn_scoped(scope, || transpile_unguarded(source, file_name));
        match compiling {
            Ok(compiling) => compiling.join().unwrap_or_else(|_| Err(failed())),
            Err(error) => Err(TypeScriptError {
                message: format!("{file_name}: cannot start the TypeScript compiler's thread: {error}"),
            }),
        }
    })
}

fn transpile_unguarded(source: &str, file_name: &str) -> Result<Transpiled, TypeScriptError> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if parsed.diagnostics.has_errors() {
        return Err(report(parsed.diagnostics.errors(), source, file_name));
    }
    let mut program = parsed.program;
    let semantic = SemanticBuilder::new().with_enum_eval(true).build(&program);
    if semantic.diagnostics.has_errors() {
        return Err(report(semantic.diagnostics.errors(), source, file_name));
    }
    let scoping = semantic.semantic.into_scoping();
    let mut options = TransformOptions::default();
    // Keep imports the code does not use as values: agents import tool
    // modules for their side effects and types alike.
    options.typescript.only_remove_type_imports = true;
    let transformed =
        Transformer::new(&allocator, Path::new(file_name), &options).build_with_scoping(scoping, &mut program);
    if transformed.diagnostics.has_errors() {
        return Err(report(transformed.diagnostics.errors(), source, file_name));
    }
    let printed = Codegen::new()
        .with_options(CodegenOptions { source_map_path: Some(file_name.into()), ..CodegenOptions::default() })
        .build(&program);
    let mut tokens: Vec<_> = printed
        .map
        .iter()
        .flat_map(|map| map.get_tokens())
        .map(|t| (t.get_dst_line(), t.get_dst_col(), t.get_src_line(), t.get_src_col()))
        .collect();
    tokens.sort_unstable();
    Ok(Transpiled { code: printed.code, lines: LineMap { tokens } })
}

/// One line per diagnostic: `message (file:line:col)`.
fn report<'d>(diagnostics: impl Iterator<Item = &'d OxcDiagnostic>, source: &str, file_name: &str) -> TypeScriptError {
    let lines: Vec<String> = diagnostics
        .map(|d| {
            let offset = d.labels.first().map(|l| l.offset());
            match offset {
                Some(offset) => {
                    let (line, col) = line_col(source, offset as usize);
                    format!("{} ({file_name}:{line}:{col})", d.message)
                }
                None => d.message.to_string(),
            }
        })
        .collect();
    TypeScriptError { message: lines.join("\n") }
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_nesting_fails_the_source_not_the_host() {
        // Each of these, at the largest size allowed, overflowed an 8 MiB
        // thread stack: one level of nesting per byte or two.
        let max = MAX_SOURCE_BYTES;
        let shapes = [
            "(".repeat(max),
            "[".repeat(max),
            "{".repeat(max),
            "!".repeat(max - 1) + "x",
            "-".repeat(max - 1) + "x",
            "a=".repeat(max / 2 - 1) + "1",
            "a?b:".repeat(max / 4 - 1) + "c",
            "a=>".repeat(max / 3 - 1) + "1",
            "typeof ".repeat(max / 7 - 1) + "x",
        ];
        for source in shapes {
            assert!(source.len() <= max);
            let outcome = transpile(&source, "main.ts");
            if let Err(error) = outcome {
                assert!(error.message.contains("main.ts"), "{}", error.message);
            }
        }
        let huge = "x;".repeat(MAX_SOURCE_BYTES);
        let error = transpile(&huge, "main.ts").unwrap_err();
        assert!(error.message.contains("over the 262144 this host compiles"), "{}", error.message);
    }

    #[test]
    fn types_vanish() {
        let source =
            "interface Row { id: number }\nconst rows: Row[] = [{ id: 1 }];\nconsole.log(rows.length as number);\n";
        let js = transpile(source, "main.ts").unwrap().code;
        assert!(js.contains("const rows = [{ id: 1 }]"), "{js}");
        assert!(!js.contains("interface") && !js.contains("Row[]") && !js.contains(" as "), "{js}");
    }

    #[test]
    fn enums_become_code() {
        let js = transpile("enum Color { Red, Green }\nconsole.log(Color.Green);\n", "main.ts").unwrap().code;
        assert!(js.contains("Color"), "{js}");
        assert!(!js.contains("enum "), "{js}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let error = transpile("const a = 1;\nconst b: = 2;\n", "main.ts").unwrap_err();
        assert!(error.message.contains("main.ts:2:"), "{}", error.message);
    }

    #[test]
    fn generated_positions_map_back_to_source_lines() {
        // Line 4 of the source becomes line 1 of the output once the
        // interface is gone.
        let source = "interface A {\n  x: number;\n}\nthrow new Error('boom');\n";
        let out = transpile(source, "main.ts").unwrap();
        let generated_line = out.code.lines().position(|l| l.contains("throw")).unwrap() as u32 + 1;
        assert_eq!(out.lines.source_position(generated_line, 1).map(|p| p.0), Some(4));
        let stack = format!("    at <anonymous> (main.js:{generated_line}:7)\n");
        assert_eq!(out.lines.rewrite(&stack, "main.js", "main.ts"), "    at <anonymous> (main.ts:4:7)\n");
    }
}
