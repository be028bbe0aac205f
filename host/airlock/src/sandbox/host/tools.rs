//! `airlock:runtime/tools`: tool calls (one, or a batch run concurrently)
//! through the capability boundary, a server's tool names, and search.

use tracing::Instrument;
use wasmtime::component::HasData;

use crate::boundary::Boundary;
use crate::codegen::DeclarationStyle;
use crate::discovery::{Detail, ToolCatalog};
use crate::limits::Limit;
use crate::sandbox::{LimitTrap, halt_trap};
use crate::skills::SkillStore;
use crate::tool::ToolError;
use crate::wit::airlock::runtime::{tools, types};

/// The `tools` interface's projection of the store.
pub(crate) struct Tools;

impl HasData for Tools {
    type Data<'a> = ToolsView<'a>;
}

/// What a `tools` call reaches: the boundary (every call goes through it),
/// the search index, and the execution's tool-call count and cap.
pub(crate) struct ToolsView<'a> {
    pub boundary: &'a Boundary,
    pub catalog: &'a ToolCatalog,
    /// The skills search indexes beside the tools.
    pub shared_skills: &'a SkillStore,
    /// The declarations `search` shows the guest's language.
    pub style: DeclarationStyle,
    /// Calls made so far, and the cap.
    pub calls_made: &'a mut u32,
    pub calls_cap: u32,
    /// Where a limit the host enforces is recorded before it traps.
    pub limit_hit: &'a mut Option<Limit>,
}

impl ToolsView<'_> {
    /// Counts `n` more tool calls, trapping once the cap would be passed.
    pub(crate) fn count(&mut self, n: usize) -> wasmtime::Result<()> {
        let total = u64::from(*self.calls_made) + n as u64;
        if total > u64::from(self.calls_cap) {
            *self.limit_hit = Some(Limit::ToolCalls);
            return Err(wasmtime::Error::new(LimitTrap(Limit::ToolCalls)));
        }
        *self.calls_made = total as u32;
        Ok(())
    }
}

/// A tool error as the guest's `tool-error` variant.
fn tool_error_to_wit(error: ToolError) -> types::ToolError {
    match error {
        ToolError::NotFound(m) => types::ToolError::NotFound(m),
        ToolError::Denied(m) => types::ToolError::Denied(m),
        ToolError::InvalidArguments(m) => types::ToolError::InvalidArguments(m),
        ToolError::Failed(m) => types::ToolError::Failed(m),
        ToolError::Unavailable(m) => types::ToolError::Unavailable(m),
    }
}

impl tools::Host for ToolsView<'_> {
    async fn call(
        &mut self,
        server: String,
        tool: String,
        arguments: String,
    ) -> wasmtime::Result<Result<String, types::ToolError>> {
        self.count(1)?;
        let index = self.boundary.claim();
        let span = tracing::debug_span!("tool_call", %server, %tool);
        let outcome = self.boundary.call_json(index, &server, &tool, &arguments).instrument(span).await;
        if self.boundary.halted() {
            return Err(halt_trap(self.boundary));
        }
        Ok(outcome.map_err(tool_error_to_wit))
    }

    async fn call_batch(
        &mut self,
        calls: Vec<types::ToolCall>,
    ) -> wasmtime::Result<Vec<Result<String, types::ToolError>>> {
        self.count(calls.len())?;
        // Numbered in the batch's order before any runs, however they finish.
        let indices: Vec<u32> = calls.iter().map(|_| self.boundary.claim()).collect();
        let numbered = indices.iter().zip(&calls);
        self.boundary
            .check_batch(numbered.map(|(&i, c)| (i, c.server.as_str(), c.tool.as_str(), c.arguments.as_str())));
        let pending: Vec<_> = indices
            .into_iter()
            .zip(&calls)
            .map(|(index, call)| {
                let span = tracing::debug_span!("tool_call", server = %call.server, tool = %call.tool);
                self.boundary.call_json(index, &call.server, &call.tool, &call.arguments).instrument(span)
            })
            .collect();
        // A gated call waits alone: the others of the batch finish first,
        // so a pause records their answers.
        let outcomes = futures::future::join_all(pending).await;
        if self.boundary.halted() {
            return Err(halt_trap(self.boundary));
        }
        Ok(outcomes.into_iter().map(|outcome| outcome.map_err(tool_error_to_wit)).collect())
    }

    async fn tool_names(&mut self, server: String) -> wasmtime::Result<Result<Vec<String>, types::ToolError>> {
        let listing = self.boundary.tools().listing(&server).await;
        Ok(listing
            .map(|listing| listing.definitions.iter().map(|tool| tool.name.clone()).collect())
            .map_err(tool_error_to_wit))
    }

    async fn search(
        &mut self,
        query: String,
        detail: tools::Detail,
        limit: u32,
    ) -> wasmtime::Result<Vec<tools::ToolMatch>> {
        let found = self.find(query, detail, limit).await?;
        Ok(found.into_iter().map(|f| f.found).collect())
    }

    async fn find(
        &mut self,
        query: String,
        detail: tools::Detail,
        limit: u32,
    ) -> wasmtime::Result<Vec<tools::FoundTool>> {
        let detail = match detail {
            tools::Detail::Name => Detail::Name,
            tools::Detail::Description => Detail::Description,
            tools::Detail::Full => Detail::Full,
        };
        // The limit is the guest's: any u32.
        let limit = (limit as usize).min(crate::discovery::MAX_LIMIT);
        let found =
            self.catalog.search(self.boundary.tools(), self.shared_skills, &query, detail, limit, self.style).await;
        Ok(found
            .matches
            .into_iter()
            .map(|m| tools::FoundTool {
                found: tools::ToolMatch {
                    server: m.server,
                    tool: m.tool,
                    score: m.score,
                    description: m.description,
                    declaration: m.declaration,
                },
                needs: m.needs,
                gives: m.gives,
            })
            .collect())
    }
}
