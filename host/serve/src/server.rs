//! Airlock as an MCP server: instead of every upstream tool, the model gets
//! a few code-mode tools (`execute_code`, `search_tools`, `list_servers`,
//! `describe_tools`) and the generated declarations as resources. One MCP
//! connection is one [`Session`]: its workspace and its PII vault.

mod catalog;
mod resources;

use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::ServerHandler;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CompleteRequestParams, CompleteResult, ContentBlock,
    Implementation, InitializeResult, InputResponses, JsonObject, ListPromptsResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse,
    ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{Value, json};

use airlock::ExecutionResult;
use airlock::discovery::{DEFAULT_DETAIL, DEFAULT_LIMIT};
use airlock::skills::{SaveRequest, stale_tools};
use airlock::{
    ApprovalRequest, Approver, Decision, Language, Limits, Paused, ResumeOptions, Runtime, Session, SessionStats,
};
use tokio::sync::Semaphore;

use crate::asking::{self, PeerApprover};
use crate::caps::ExecutionCaps;

/// How long `tools/list` waits for the upstream servers' tool lists, to
/// name their tools in `execute_code`'s description.
const DESCRIBE_WAIT: Duration = Duration::from_secs(10);

/// Tools named in a server's line of the description, at most.
const TOOLS_PER_LINE: usize = 12;

/// The MCP server for one client connection.
#[derive(Clone)]
pub struct CodeModeServer {
    runtime: Runtime,
    session: Arc<Session>,
    /// What `execute_code` runs when a call names no language, and whose
    /// declarations `describe_tools` and `search_tools` show by default.
    language: Language,
    /// The executions in flight allowed, per session and across sessions.
    caps: ExecutionCaps,
    /// This session's executions in flight.
    in_flight: Arc<Semaphore>,
    /// Keep the session's vault in the store under its MCP session id.
    shared_sessions: bool,
    /// The session's `--workspace` subfolder, removed when the last clone
    /// of the server ends if nothing was written to it (after the session:
    /// fields drop in order).
    folder: Option<Arc<RemoveIfEmpty>>,
    /// Dropped with the last clone of the server, after the session: the
    /// HTTP front waits for every session's to go before the process ends,
    /// so their temporary folders are removed.
    ended: Option<tokio::sync::mpsc::Sender<()>>,
}

/// A folder removed, when dropped, if it is empty: a session that wrote
/// nothing (a stateless request of a 2026-07-28 client, a client that only
/// listed tools) leaves no folder behind.
pub(crate) struct RemoveIfEmpty(pub std::path::PathBuf);

impl Drop for RemoveIfEmpty {
    fn drop(&mut self) {
        // Fails, as it should, when the folder holds anything.
        let _ = std::fs::remove_dir(&self.0);
    }
}

impl CodeModeServer {
    /// A server whose executions run in `session` of `runtime`, JavaScript
    /// by default, with the default [`crate::ExecutionLimits`] (a cap of
    /// its own across sessions).
    pub fn new(runtime: Runtime, session: Session) -> Self {
        let caps = ExecutionCaps::default();
        let in_flight = caps.session_slots();
        CodeModeServer {
            runtime,
            session: Arc::new(session),
            language: Language::JavaScript,
            caps,
            in_flight,
            shared_sessions: false,
            folder: None,
            ended: None,
        }
    }

    /// Holds `ended` until the last clone of the server is dropped (and the
    /// session with it).
    pub(crate) fn reporting_end_to(mut self, ended: tokio::sync::mpsc::Sender<()>) -> Self {
        self.ended = Some(ended);
        self
    }

    /// Removes the session's folder `folder` when the server ends, if the
    /// session wrote nothing to it.
    pub(crate) fn removing_if_empty(mut self, folder: Option<std::path::PathBuf>) -> Self {
        self.folder = folder.map(|folder| Arc::new(RemoveIfEmpty(folder)));
        self
    }

    /// Keeps the session's PII vault in the runtime's store under the MCP
    /// session id of its requests, so that any instance sharing the store
    /// resolves its tokens.
    pub fn with_shared_sessions(mut self, shared: bool) -> Self {
        self.shared_sessions = shared;
        self
    }

    /// Caps its executions in flight at `caps`: the session's own limit,
    /// and the server-wide one shared with every server given a clone of
    /// `caps`. Past either, `execute_code` is refused with a
    /// [`crate::SERVER_BUSY`] error rather than queued.
    pub fn with_execution_caps(mut self, caps: &ExecutionCaps) -> Self {
        self.in_flight = caps.session_slots();
        self.caps = caps.clone();
        self
    }

    /// Makes `language` the default of `execute_code`, `describe_tools`
    /// and `search_tools`.
    pub fn with_language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// The `language` argument of a call, or the server's default.
    fn language_of(&self, arguments: &JsonObject) -> Result<Language, CallToolResult> {
        match arguments.get("language").and_then(Value::as_str) {
            None => Ok(self.language),
            Some(name) => name.parse().map_err(text_error),
        }
    }

    /// One line per server: its name and (when it answers in time) its
    /// tools' names.
    async fn server_lines(&self) -> String {
        let tools = self.runtime.tools();
        let servers = tools.servers();
        let listed = futures::future::join_all(
            servers.iter().map(|server| tokio::time::timeout(DESCRIBE_WAIT, tools.listing(server))),
        )
        .await;
        let mut lines = String::new();
        for (server, listed) in servers.iter().zip(listed) {
            let line = match listed {
                Ok(Ok(listing)) => {
                    let definitions = &listing.definitions;
                    let names: Vec<&str> =
                        definitions.iter().take(TOOLS_PER_LINE).map(|tool| tool.name.as_str()).collect();
                    let more = definitions.len().saturating_sub(TOOLS_PER_LINE);
                    let more = if more > 0 { format!(", … {more} more") } else { String::new() };
                    format!("- {server} ({} tools): {}{more}\n", definitions.len(), names.join(", "))
                }
                Ok(Err(error)) => format!("- {server}: unavailable ({})\n", error.message()),
                Err(_) => format!("- {server}: still starting; call describe_tools\n"),
            };
            lines.push_str(&line);
        }
        if lines.is_empty() {
            lines.push_str("- (no servers configured)\n");
        }
        lines
    }

    /// The tools this server offers, as `tools/list` returns them (the
    /// `execute_code` description names the servers and their tools).
    pub async fn tools(&self) -> Vec<Tool> {
        let mut tools =
            catalog::tools(&self.server_lines().await, &self.skill_lines().await, self.runtime.limits(), self.language);
        // Nothing pauses without approval rules.
        if self.runtime.approval_settings().require.is_empty() {
            tools.retain(|tool| tool.name != "resume_execution");
        }
        tools
    }

    /// What `execute_code`'s arguments ask to run, or the error to answer.
    fn execution(&self, arguments: &JsonObject) -> Result<(String, Language, Limits), CallToolResult> {
        let Some(code) = arguments.get("code").and_then(Value::as_str) else {
            return Err(text_error("`code` (a string) is required"));
        };
        let language = self.language_of(arguments)?;
        let mut limits: Limits = self.runtime.limits().clone();
        if let Some(ms) = arguments.get("timeout_ms").and_then(Value::as_u64) {
            limits.timeout = limits.timeout.min(Duration::from_millis(ms.max(1)));
        }
        Ok((code.to_string(), language, limits))
    }

    async fn execute_code(&self, arguments: &JsonObject) -> CallToolResult {
        let (code, language, limits) = match self.execution(arguments) {
            Ok(execution) => execution,
            Err(error) => return error,
        };
        // A client that cannot be asked mid-call gets a gated call back as
        // `paused`, to continue with `resume_execution`.
        let result = self.session.execute_with_approver(&code, language, &limits, deferring()).await;
        answer(result, &self.session)
    }

    /// `resume_execution`: the human's decision on a paused execution.
    async fn resume_execution(&self, arguments: &JsonObject) -> CallToolResult {
        let id = arguments.get("execution_id").and_then(Value::as_str).unwrap_or_default();
        let approve = arguments.get("approve").and_then(Value::as_bool).unwrap_or(false);
        let reason = arguments.get("reason").and_then(Value::as_str).map(str::to_string);
        let for_session = arguments.get("allow_for_session").and_then(Value::as_bool).unwrap_or(false);
        let decision = match (approve, for_session) {
            (true, true) => Decision::AllowForSession,
            (true, false) => Decision::Approve,
            (false, _) => Decision::Decline { reason },
        };
        // The question answered: a retried answer, after the execution
        // moved on to another gated call, is refused rather than taken as
        // the answer to that one.
        let Some(call) = arguments.get("call").and_then(Value::as_u64).and_then(|call| u32::try_from(call).ok()) else {
            return text_error("cannot resume: `call` must be the call number execute_code returned with paused");
        };
        let Some(index) = call.checked_sub(1) else {
            return text_error("cannot resume: `call` counts from 1, as execute_code returned it with paused");
        };
        let expected_call = Some(index);
        let options = ResumeOptions { approver: Some(deferring()), expected_call, ..ResumeOptions::default() };
        let result = self.session.resume_with(id, decision, options).await;
        answer(result, &self.session)
    }

    /// `execute_code` for a client that can be asked about gated calls:
    /// on protocol 2026-07-28 or later through an input-required result
    /// (the execution pauses, stored; the retried call resumes it, on this
    /// instance or any other sharing the store), before it with
    /// `elicitation/create` during the call.
    async fn execute_asking(&self, arguments: &JsonObject, context: &RequestContext<RoleServer>) -> CallToolResponse {
        let (code, language, limits) = match self.execution(arguments) {
            Ok(execution) => execution,
            Err(error) => return error.into(),
        };
        let session = &self.session;
        if context.protocol_version().is_some_and(|version| version < ProtocolVersion::V_2026_07_28) {
            let approver = Arc::new(PeerApprover(context.peer.clone()));
            return answer(session.execute_with_approver(&code, language, &limits, approver).await, session).into();
        }
        let result = session.execute_with_approver(&code, language, &limits, deferring()).await;
        self.answer_or_ask(result).await
    }

    /// The retried `execute_code` of a 2026-07-28 client: the human's
    /// answer to the paused execution `state` holds, resumed from its
    /// journal with everything it printed (the client saw none of it).
    async fn resume_asked(&self, state: &str, responses: Option<&InputResponses>) -> CallToolResponse {
        let (id, call) = match self.runtime.open_answer_handle(state).await {
            Ok(opened) => opened,
            Err(error) => return text_error(format!("cannot resume: {}", error.report())).into(),
        };
        let options = ResumeOptions { approver: Some(deferring()), earlier_output: true, expected_call: Some(call) };
        let result = self.session.resume_with(&id, asking::answered(responses), options).await;
        self.answer_or_ask(result).await
    }

    /// An execution's answer, or, when it paused at a gated call, the
    /// question for the client's human with the paused execution's handle
    /// as `requestState`.
    async fn answer_or_ask(&self, result: Result<ExecutionResult, airlock::Error>) -> CallToolResponse {
        let paused = match &result {
            Ok(ExecutionResult { paused: Some(paused), .. }) => paused,
            _ => return answer(result, &self.session).into(),
        };
        let shown = Paused { arguments: self.session.shown_to_human(&paused.arguments), ..paused.clone() };
        match self.runtime.answer_handle(paused).await {
            Ok(state) => asking::question(&shown, self.runtime.approval_settings().allow_for_session, state),
            Err(error) => text_error(format!("the execution could not pause: {}", error.report())).into(),
        }
    }

    /// One line per skill, under a heading; empty without skills.
    async fn skill_lines(&self) -> String {
        let mut lines = String::new();
        // One wait for all of them: ten skills of a dead server must not
        // take ten waits.
        let deadline = tokio::time::Instant::now() + DESCRIBE_WAIT;
        for listed in self.session.skills().list() {
            let line = match listed.skill {
                Ok(skill) => {
                    // A slow server does not hold up the tool list: its
                    // skills are listed unchecked.
                    let stale = tokio::time::timeout_at(deadline, stale_tools(&skill.manifest, self.runtime.tools()));
                    let mark = match stale.await {
                        Ok(stale) => stale.first().map(|first| format!(" [stale: {first}]")).unwrap_or_default(),
                        Err(_) => " [not checked: a server it calls did not answer]".to_string(),
                    };
                    let kind = match skill.manifest.language {
                        airlock::skills::SkillLanguage::Component => " (component: `await run(input)`)",
                        _ => "",
                    };
                    format!("- {}: {}{kind}{mark}\n", listed.name, skill.manifest.description)
                }
                // A component skill's source, not built here: nothing an agent can call.
                Err(airlock::skills::SkillError::NotBuilt { .. }) => continue,
                Err(error) => format!("- {}: unusable ({error})\n", listed.name),
            };
            lines.push_str(&line);
        }
        if lines.is_empty() { lines } else { format!("Skills:\n{lines}") }
    }

    async fn save_skill(&self, arguments: &JsonObject) -> CallToolResult {
        let mut arguments = arguments.clone();
        // Code in the session's language unless the call says otherwise.
        arguments.entry("language").or_insert_with(|| Value::String(self.language.name().into()));
        let request: SaveRequest = match serde_json::from_value(Value::Object(arguments)) {
            Ok(request) => request,
            Err(error) => return text_error(format!("bad arguments: {error}")),
        };
        match airlock::skills::save_source(self.runtime.tools(), self.session.skills(), request).await {
            Ok(skill) => {
                let tools: Vec<&str> = skill.manifest.tools.keys().map(String::as_str).collect();
                let calls = if tools.is_empty() { "no tools".to_string() } else { tools.join(", ") };
                let name = &skill.manifest.name;
                let import = match skill.manifest.language {
                    airlock::skills::SkillLanguage::Python => {
                        format!("`from skills.{} import ...`", airlock::codegen::py_name(name))
                    }
                    _ => format!("`import {{ ... }} from \"./skills/{name}\"`"),
                };
                CallToolResult::success(vec![ContentBlock::text(format!(
                    "saved skill '{name}' (calls {calls}); import it with {import}"
                ))])
            }
            Err(error) => text_error(error.to_string()),
        }
    }

    /// `result` of a call that saved or removed a skill, once the session's
    /// skills are stored for the other instances serving it (a store that
    /// fails leaves them missing the change, not the call failed).
    async fn store_shared_skills(&self, result: CallToolResult) -> CallToolResult {
        if let Err(error) = self.session.store_shared_skills().await {
            tracing::warn!(%error, "cannot store the session's skills; other instances miss this change");
        }
        result
    }

    async fn get_skill(&self, arguments: &JsonObject) -> CallToolResult {
        let Some(name) = arguments.get("name").and_then(Value::as_str) else {
            return text_error("`name` (a string) is required");
        };
        match self.session.skills().load(name) {
            Ok(skill) => {
                let mut text = skill.manifest.render(&skill.documentation);
                for stale in stale_tools(&skill.manifest, self.runtime.tools()).await {
                    text.push_str(&format!("(stale: {stale})\n"));
                }
                let code = match skill.manifest.language {
                    airlock::skills::SkillLanguage::Component => format!(
                        "{} bytes of WebAssembly; call it with `import {{ run }} from \"./skills/{name}\"`",
                        skill.code.len()
                    ),
                    _ => String::from_utf8_lossy(&skill.code).into_owned(),
                };
                text.push_str(&format!("\n// {}\n{code}", skill.manifest.language.code_file()));
                CallToolResult::success(vec![ContentBlock::text(text)])
            }
            Err(error) => text_error(error.to_string()),
        }
    }

    async fn delete_skill(&self, arguments: &JsonObject) -> CallToolResult {
        let Some(name) = arguments.get("name").and_then(Value::as_str) else {
            return text_error("`name` (a string) is required");
        };
        match self.session.skills().remove(name) {
            Ok(()) => CallToolResult::success(vec![ContentBlock::text(format!("deleted skill '{name}'"))]),
            Err(error) => text_error(error.to_string()),
        }
    }

    async fn search_tools(&self, arguments: &JsonObject) -> CallToolResult {
        let Some(query) = arguments.get("query").and_then(Value::as_str) else {
            return text_error("`query` (a string) is required");
        };
        let detail = match arguments.get("detail").and_then(Value::as_str) {
            None => DEFAULT_DETAIL,
            Some(name) => match name.parse() {
                Ok(detail) => detail,
                Err(message) => return text_error(message),
            },
        };
        let limit =
            arguments.get("limit").and_then(Value::as_u64).unwrap_or(DEFAULT_LIMIT as u64).clamp(1, 100) as usize;
        let language = match self.language_of(arguments) {
            Ok(language) => language,
            Err(error) => return error,
        };
        let found = self.runtime.search_tools_for(language, query, detail, limit).await;
        let mut result = CallToolResult::success(vec![ContentBlock::text(found.to_text())]);
        result.structured_content = serde_json::to_value(&found).ok();
        result
    }

    async fn list_servers(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(self.server_lines().await)])
    }

    async fn describe_tools(&self, arguments: &JsonObject) -> CallToolResult {
        let Some(server) = arguments.get("server").and_then(Value::as_str) else {
            return text_error("`server` (a string) is required");
        };
        let definitions = match self.runtime.tools().tools(server).await {
            Ok(definitions) => definitions,
            Err(error) => return text_error(error.to_string()),
        };
        let wanted: Option<Vec<&str>> = arguments
            .get("tools")
            .and_then(Value::as_array)
            .map(|wanted| wanted.iter().filter_map(Value::as_str).collect());
        if let Some(wanted) = &wanted {
            let unknown: Vec<&str> =
                wanted.iter().copied().filter(|name| !definitions.iter().any(|t| t.name == *name)).collect();
            if !unknown.is_empty() {
                return text_error(format!("server '{server}' has no tool {}", unknown.join(", ")));
            }
        }
        // Names are given over the whole listing (clashing ones are
        // numbered), then the wanted tools declared.
        let keep = |name: &str| wanted.as_ref().is_none_or(|wanted| wanted.contains(&name));
        let servers = self.runtime.tools().servers();
        let declarations = match self.language_of(arguments) {
            Ok(language) => language.declarations().declarations_of(server, &servers, &definitions, &keep),
            Err(error) => return error,
        };
        CallToolResult::success(vec![ContentBlock::text(declarations)])
    }
}

/// The approver of a client that cannot be asked during the call: every
/// gated call pauses its execution.
fn deferring() -> Arc<dyn Approver> {
    Arc::new(|_: ApprovalRequest| async { Decision::Pause })
}

/// What `execute_code` answers for an execution of `session`.
fn answer(result: Result<ExecutionResult, airlock::Error>, session: &Session) -> CallToolResult {
    match result {
        Ok(result) => tool_result(&result, session.stats()),
        Err(error) => text_error(format!("the execution could not run: {}", error.report())),
    }
}

fn text_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// An execution as a tool result: stdout, then stderr and the error when
/// there are any, as text; stats, the error, the session's running totals
/// and the tokens the text costs a model as structured content.
pub fn tool_result(result: &ExecutionResult, session: SessionStats) -> CallToolResult {
    let mut text = result.stdout.clone();
    let section = |text: &mut String, part: String| {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&part);
    };
    if !result.stderr.is_empty() {
        section(&mut text, format!("[stderr]\n{}", result.stderr));
    }
    if let Some(error) = &result.error {
        section(&mut text, format!("[error] {error}"));
        if let airlock::ExecutionError::Exception { stack: Some(stack), .. } = error {
            section(&mut text, stack.trim_end().to_string());
        }
    }
    if let Some(paused) = &result.paused {
        section(
            &mut text,
            format!(
                "[paused] the code calls {}.{} with {}, which needs a human's approval ({}). Ask the user, then \
                 call resume_execution with execution_id \"{}\", call {} and their decision.",
                paused.server, paused.tool, paused.arguments, paused.rule, paused.execution_id, paused.call
            ),
        );
    }
    if text.is_empty() {
        text.push_str("(no output)");
    }
    let tokens = crate::tokens::count(&text);
    let mut outcome = if result.error.is_some() {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    outcome.structured_content = Some(json!({
        "ok": result.is_success(),
        "error": result.error,
        "paused": result.paused,
        "stats": result.stats,
        "session": session,
        "tokens": tokens,
    }));
    outcome
}

impl ServerHandler for CodeModeServer {
    fn get_info(&self) -> InitializeResult {
        let capabilities = ServerCapabilities::builder().enable_tools().enable_resources().build();
        let mut info = InitializeResult::new(capabilities);
        info.server_info = Implementation::new("airlock", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "Write code against the user's MCP servers with execute_code instead of calling their tools \
             one by one; search_tools finds the tools a task needs, and the airlock://servers/ resources \
             hold their TypeScript declarations."
                .into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult { tools: self.tools().await, ..Default::default() })
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let arguments = request.arguments.unwrap_or_default();
        // The vault of a session another instance may serve too.
        if self.shared_sessions
            && let Some(parts) = context.extensions.get::<http::request::Parts>()
            && let Some(id) = parts.headers.get("mcp-session-id").and_then(|id| id.to_str().ok())
        {
            self.session.keep_vault_in_store(crate::shared::key(id));
        }
        // The audit log names who asked for what.
        if let Some(client) = context.client_info() {
            self.session.set_client(format!("{} {}", client.name, client.version));
        }
        // Every tool's input schema holds as published: a misspelt
        // argument is refused, not ignored.
        let known = catalog::validators();
        if !known.contains(&request.name) {
            let names = known.names();
            let hint = airlock::suggest::did_you_mean(&request.name, names.iter().copied());
            return Err(McpError::invalid_params(format!("no tool '{}'{hint}", request.name), None));
        }
        // Arguments that do not fit the schema are a tool error the model
        // reads and corrects (MCP 2025-11-25); an unknown tool stays a
        // protocol error.
        if let Err(error) = known.check(&request.name, &Value::Object(arguments.clone())) {
            return Ok(text_error(error.message().to_string()).into());
        }
        // Skills another instance saved for this session, before tools
        // that read them (executions take them themselves).
        let reads_skills = matches!(
            request.name.as_ref(),
            "search_tools" | "save_skill" | "list_skills" | "get_skill" | "delete_skill"
        );
        if reads_skills && let Err(error) = self.session.load_shared_skills().await {
            tracing::warn!(%error, "cannot take the session's skills from the store");
        }
        let result = match request.name.as_ref() {
            "execute_code" if request.request_state.is_some() => {
                let _admitted = self.caps.admit(&self.in_flight)?;
                let state = request.request_state.as_deref().unwrap_or_default();
                return Ok(self.resume_asked(state, request.input_responses.as_ref()).await);
            }
            "execute_code" => {
                let _admitted = self.caps.admit(&self.in_flight)?;
                let can_ask = context.client_capabilities().is_some_and(|caps| caps.elicitation.is_some());
                if can_ask {
                    return Ok(self.execute_asking(&arguments, &context).await);
                }
                self.execute_code(&arguments).await
            }
            "resume_execution" => {
                let _admitted = self.caps.admit(&self.in_flight)?;
                self.resume_execution(&arguments).await
            }
            "search_tools" => self.search_tools(&arguments).await,
            "save_skill" => self.store_shared_skills(self.save_skill(&arguments).await).await,
            "list_skills" => {
                let lines = self.skill_lines().await;
                let text = if lines.is_empty() { "(no skills saved yet)\n".to_string() } else { lines };
                CallToolResult::success(vec![ContentBlock::text(text)])
            }
            "get_skill" => self.get_skill(&arguments).await,
            "delete_skill" => self.store_shared_skills(self.delete_skill(&arguments).await).await,
            "list_servers" => self.list_servers().await,
            "describe_tools" => self.describe_tools(&arguments).await,
            other => {
                return Err(McpError::invalid_params(format!("no tool '{other}'"), None));
            }
        };
        Ok(result.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(resources::list(self.runtime.tools()).await)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        Ok(resources::read(self.runtime.tools(), self.session.skills(), &request.uri).await?.into())
    }

    // rmcp 3.11 answers these two with "method not found" when the
    // capability is not declared; Airlock has always answered them empty
    // (the conformance suite's prompts-list and completion-complete pass).
    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::default())
    }

    async fn complete(
        &self,
        _request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        Ok(CompleteResult::default())
    }
}
