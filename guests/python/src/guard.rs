//! Rejects source that would exhaust the wasm stack inside the parser.
//!
//! Ruff's parser bounds nesting it recurses on, and Monty refuses anything
//! nested deeper than 200 levels. But a left-associative chain such as
//! `1 + 1 + ... + 1`, `a.b.b...` or `f()()()...` is parsed iteratively into
//! a tree as deep as the chain is long, and freeing that tree recurses once
//! per level: a few thousand links overflow wasmtime's 512 KiB stack. Such
//! chains are refused here, before parsing, with the `SyntaxError` Monty
//! gives for shorter ones.

use ruff_python_ast::token::TokenKind;
use ruff_python_parser::Mode;
use ruff_python_parser::lexer::lex;

/// Links in one chain accepted. Monty already refuses more than 200; this
/// only has to stop chains well before the ~3000 that overflow.
const MAX_CHAIN: usize = 1000;

/// A chain too long to parse: the message and its (approximate) line.
pub struct TooDeep {
    pub line: u32,
}

impl TooDeep {
    pub const MESSAGE: &'static str = "Source is too deeply nested";
}

/// Checks that no expression in `source` chains more than [`MAX_CHAIN`]
/// operators, attribute reads, calls or subscripts at one bracket level.
pub fn check(source: &str) -> Result<(), TooDeep> {
    // Each link takes at least two characters.
    if source.len() < 2 * MAX_CHAIN {
        return Ok(());
    }
    let mut lexer = lex(source, Mode::Module);
    // Links so far at each open bracket level.
    let mut links: Vec<usize> = vec![0];
    let mut line = 1u32;
    let mut previous = TokenKind::Newline;
    loop {
        let kind = lexer.next_token();
        let mut link =
            kind.is_arithmetic() || kind.is_bitwise_or_shift() || matches!(kind, TokenKind::Percent | TokenKind::Dot);
        match kind {
            TokenKind::EndOfFile => return Ok(()),
            TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                // `f(` and `a[` extend a chain; a bracket after an operator
                // starts a new operand.
                link = kind != TokenKind::Lbrace && ends_operand(previous);
                bump(&mut links, link);
                links.push(0);
                link = false;
            }
            TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                links.pop();
                if links.is_empty() {
                    links.push(0);
                }
            }
            TokenKind::Comma | TokenKind::Semi | TokenKind::Equal | TokenKind::Colon => {
                if let Some(top) = links.last_mut() {
                    *top = 0;
                }
            }
            TokenKind::Newline => links = vec![0],
            _ => {}
        }
        if link {
            bump(&mut links, true);
        }
        if links.last().is_some_and(|n| *n > MAX_CHAIN) {
            return Err(TooDeep { line });
        }
        if kind.is_any_newline() {
            line += 1;
        }
        previous = kind;
    }
}

fn bump(links: &mut [usize], link: bool) {
    if link && let Some(top) = links.last_mut() {
        *top += 1;
    }
}

/// The token can end an operand, so `(` or `[` after it is a call or a
/// subscript.
fn ends_operand(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Name
            | TokenKind::Int
            | TokenKind::Float
            | TokenKind::Complex
            | TokenKind::String
            | TokenKind::FStringEnd
            | TokenKind::TStringEnd
            | TokenKind::Rpar
            | TokenKind::Rsqb
            | TokenKind::Rbrace
    )
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn chains() {
        assert!(check(&format!("x = 1{}", " + 1".repeat(5000))).is_err());
        assert!(check(&format!("x = a{}", ".b".repeat(5000))).is_err());
        assert!(check(&format!("x = f{}", "()".repeat(5000))).is_err());
        assert!(check(&format!("x = [{}]", "1 + 1, ".repeat(5000))).is_ok());
        assert!(check(&format!("x = [{}]", "f(1)[0], ".repeat(5000))).is_ok());
        assert!(check(&"x = 1 + 2\n".repeat(5000)).is_ok());
    }
}
