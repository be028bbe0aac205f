//! Progressive discovery: the agent finds the few tools it needs without
//! every definition in its context. A BM25 search over every server's
//! tools ([`ToolCatalog`]), and the read-only file tree of generated
//! declarations the guest and MCP clients can browse ([`tree`]).

mod bm25;
mod companions;
mod index;
mod synonyms;
pub mod tree;
mod words;

pub use crate::codegen::DeclarationStyle;
pub use companions::plural;
pub use index::{DEFAULT_DETAIL, DEFAULT_LIMIT, Detail, MAX_LIMIT, SearchResults, ToolCatalog, ToolIndex, ToolMatch};
