//! The capability boundary: every tool call guest code makes passes here.
//!
//! With PII handling on, a session's [`PiiGuard`] holds its vault: tool
//! results and tool errors are tokenized before the guest sees them;
//! arguments are checked against the flow policy and detokenized before a
//! tool (and its schema validation) sees them; an execution's output is
//! tokenized again before it leaves the host.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::approval::{ApprovalRequest, ApprovalRule, ApprovalSettings, Approver, Decision};
use crate::audit::AuditLog;
use crate::config::ConfigError;
use crate::digest::sha256_hex;
use crate::durable::lease::ResumeLease;
use crate::durable::tape::{Recorder, Step};
use crate::error::Error;
use crate::execution::{ExecutionError, ExecutionResult};
use crate::metrics::Metrics;
use crate::pii::{Detector, FlowPolicy, PiiKind, PiiSettings, Vault};
use crate::registry::ToolRegistry;
use crate::tool::ToolError;

/// What every session of a runtime shares for PII handling.
pub(crate) struct PiiEngine {
    detector: Detector,
    flows: FlowPolicy,
}

impl PiiEngine {
    /// The detector, shared with whatever else redacts in this process.
    pub(crate) fn detector(&self) -> &Detector {
        &self.detector
    }

    /// The engine for `settings`, or `None` when PII handling is off.
    pub(crate) fn new(settings: &PiiSettings) -> Result<Option<Arc<PiiEngine>>, Error> {
        if !settings.enabled {
            return Ok(None);
        }
        // Checked again here for embedders that build settings in code:
        // a misspelt kind must fail, not switch detection off.
        let config_error = |e: crate::pii::PiiConfigError| {
            Error::Config(ConfigError {
                file: None,
                field: format!("airlock.pii.{}", e.field()),
                message: e.to_string(),
            })
        };
        settings.validate().map_err(config_error)?;
        let detector = Detector::new(&settings.detect).map_err(config_error)?;
        Ok(Some(Arc::new(PiiEngine { detector, flows: settings.flows.clone() })))
    }
}

/// One session's PII state: the shared engine and the session's vault.
pub(crate) struct PiiGuard {
    engine: Arc<PiiEngine>,
    vault: Mutex<Vault>,
    /// Tokens per kind already counted in the metrics.
    counted: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl PiiGuard {
    fn vault(&self) -> MutexGuard<'_, Vault> {
        // A panic while tokenizing leaves the vault consistent: entries
        // are only ever added whole.
        self.vault.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks where `arguments` may go and gives back the real values, with
    /// the kinds and tokens that flow (for the audit log).
    fn outbound(&self, server: &str, tool: &str, arguments: Value) -> (Result<Value, ToolError>, Flow) {
        let vault = self.vault();
        let mut kinds: Vec<PiiKind> = Vec::new();
        let mut tokens: Vec<String> = Vec::new();
        for_each_text(&arguments, &mut |text| {
            for kind in vault.flowing_kinds(&self.engine.detector, text) {
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            for token in vault.tokens_in(text) {
                if !tokens.contains(&token) {
                    tokens.push(token);
                }
            }
        });
        let flow = Flow { kinds: kinds.iter().map(|kind| kind.as_str().to_owned()).collect(), tokens };
        if let Some(kind) = self.engine.flows.first_denied(server, &kinds) {
            tracing::info!(%server, %tool, %kind, "PII flow denied");
            let denied = ToolError::Denied(format!(
                "the arguments hold {kind} data, which server '{server}' may not receive (airlock.pii.flows)"
            ));
            return (Err(denied), flow);
        }
        if !kinds.is_empty() {
            tracing::debug!(%server, %tool, kinds = ?flow.kinds, "PII flows to a tool");
        }
        let growth = detokenized_growth(&vault, &arguments);
        if growth > MAX_DETOKENIZED_GROWTH {
            let too_big = ToolError::InvalidArguments(format!(
                "with their tokens' values in, the arguments would grow by {} MiB, more than the {} MiB allowed \
                 (a token repeated many times?)",
                growth >> 20,
                MAX_DETOKENIZED_GROWTH >> 20
            ));
            return (Err(too_big), flow);
        }
        (Ok(vault.detokenize_json(&arguments)), flow)
    }

    /// Tokenizes what a tool gave back, errors included (a schema error or
    /// a server's message may quote a value), into the JSON text the guest
    /// gets.
    fn inbound(&self, outcome: Result<Value, ToolError>) -> Result<String, ToolError> {
        let detector = &self.engine.detector;
        let mut vault = self.vault();
        match outcome {
            // Written as text in the same pass: the result is neither
            // copied nor serialised a second time.
            Ok(value) => {
                let text = vault.tokenize_json_to_text(detector, &value);
                drop_aside(value, text.len());
                Ok(text)
            }
            Err(error) => Err(map_message(error, |m| tokenize_message(&mut vault, detector, m))),
        }
    }

    /// Tokenizes everything an execution hands back.
    fn output(&self, mut result: ExecutionResult) -> ExecutionResult {
        let detector = &self.engine.detector;
        let mut vault = self.vault();
        let mut text = |s: &mut String| {
            if let std::borrow::Cow::Owned(safe) = vault.tokenize_output(detector, s) {
                *s = safe;
            }
        };
        text(&mut result.stdout);
        text(&mut result.stderr);
        match &mut result.error {
            Some(ExecutionError::Exception { name, message, stack }) => {
                text(name);
                text(message);
                if let Some(stack) = stack {
                    text(stack);
                }
            }
            Some(ExecutionError::Trap { message }) => text(message),
            Some(ExecutionError::Limit { .. }) | None => {}
        }
        if !result.value.is_null() {
            result.value = vault.tokenize_output_json(detector, &result.value);
        }
        // What a paused call was given is shown to the model too; code may
        // have pieced a value together that no token stands for.
        if let Some(paused) = &mut result.paused {
            paused.arguments = vault.tokenize_output_json(detector, &paused.arguments);
        }
        result
    }
}

/// Tokenizes an error message. A message that quotes arguments as JSON (a
/// schema error, a server echoing them) writes a value with a quote, a
/// line break or, in Python's default, any non-ASCII letter escaped, where
/// the vault would not recognise it: when the message unescaped still holds
/// a value, the unescaped message, tokenized, is what the guest gets.
/// Otherwise the message keeps its form (a value holding a backslash, echoed
/// as is, was already found as is).
fn tokenize_message(vault: &mut Vault, detector: &Detector, message: &str) -> String {
    let tokenized = vault.tokenize_output(detector, message).into_owned();
    let unescaped = json_unescaped(&tokenized);
    if matches!(unescaped, std::borrow::Cow::Borrowed(_)) {
        return tokenized;
    }
    match vault.tokenize_output(detector, &unescaped) {
        std::borrow::Cow::Owned(safe) => safe,
        std::borrow::Cow::Borrowed(_) => tokenized,
    }
}

/// How much longer the values of a call's tokens may make its arguments:
/// a token a guest repeats a million times would otherwise make the host
/// build gigabytes, out of reach of the guest's memory limit.
const MAX_DETOKENIZED_GROWTH: usize = 16 << 20;

/// How many bytes longer `value`'s texts become with their tokens'
/// values in (see [`MAX_DETOKENIZED_GROWTH`]).
fn detokenized_growth(vault: &Vault, value: &Value) -> usize {
    let mut growth = 0usize;
    for_each_text(value, &mut |text| growth = growth.saturating_add(vault.detokenized_growth(text)));
    growth
}

/// `text` with JSON string escapes (`\"`, `\\`, `\n`, `\u00e9`, ...)
/// replaced by the characters they stand for; unchanged without a
/// backslash. Escapes that do not decode are kept as written.
fn json_unescaped(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\\') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (decoded, used) = json_escape(rest);
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..used]),
        }
        rest = &rest[used..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The character a JSON escape at the start of `text` (which starts with
/// a backslash) stands for, and the bytes it takes; `None` when it is not
/// one (the backslash alone is taken).
fn json_escape(text: &str) -> (Option<char>, usize) {
    let unit = |hex: Option<&str>| {
        hex.filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit())).and_then(|hex| u16::from_str_radix(hex, 16).ok())
    };
    let simple = match text.as_bytes().get(1) {
        Some(b'"') => Some('"'),
        Some(b'\\') => Some('\\'),
        Some(b'/') => Some('/'),
        Some(b'n') => Some('\n'),
        Some(b't') => Some('\t'),
        Some(b'r') => Some('\r'),
        Some(b'b') => Some('\u{8}'),
        Some(b'f') => Some('\u{c}'),
        Some(b'u') => None,
        _ => return (None, 1),
    };
    if let Some(c) = simple {
        return (Some(c), 2);
    }
    let Some(high) = unit(text.get(2..6)) else { return (None, 1) };
    if let Some(c) = char::from_u32(u32::from(high)) {
        return (Some(c), 6);
    }
    // A surrogate pair: `\ud83d\ude00`.
    let low = text.get(6..8).filter(|u| *u == "\\u").and_then(|_| unit(text.get(8..12)));
    match low.map(|low| char::decode_utf16([high, low]).next()) {
        Some(Some(Ok(c))) => (Some(c), 12),
        _ => (None, 1),
    }
}

/// Results whose JSON text is at least this long are freed off the call's
/// path.
const LARGE_RESULT_BYTES: usize = 256 << 10;

/// Drops a tool result that was written out as `text_len` bytes of JSON:
/// a large one on a blocking thread, since freeing ten thousand records
/// takes milliseconds that the guest waiting for them need not spend.
fn drop_aside(value: Value, text_len: usize) {
    if text_len >= LARGE_RESULT_BYTES
        && let Ok(handle) = tokio::runtime::Handle::try_current()
    {
        drop(handle.spawn_blocking(move || drop(value)));
    }
}

/// Calls `visit` on every string and key of a JSON value, and on the text
/// of every number (a card number can travel as one).
fn for_each_text(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Number(n) => visit(&n.to_string()),
        Value::Array(items) => items.iter().for_each(|item| for_each_text(item, visit)),
        Value::Object(map) => {
            for (key, item) in map {
                visit(key);
                for_each_text(item, visit);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

fn audit_tool_call(
    audit: &Audit,
    server: &str,
    tool: &str,
    outcome: &Result<String, ToolError>,
    took: Duration,
    flow: Flow,
) {
    let outcome = match outcome {
        Ok(_) => "ok",
        Err(error) => error.kind(),
    };
    audit.record(
        "tool_call",
        json!({
            "server": server,
            "tool": tool,
            "outcome": outcome,
            "duration_us": took.as_micros() as u64,
            "pii_kinds": flow.kinds,
            "pii_tokens": flow.tokens,
        }),
    );
}

fn map_message(error: ToolError, map: impl FnOnce(&str) -> String) -> ToolError {
    match error {
        ToolError::NotFound(m) => ToolError::NotFound(map(&m)),
        ToolError::Denied(m) => ToolError::Denied(map(&m)),
        ToolError::InvalidArguments(m) => ToolError::InvalidArguments(map(&m)),
        ToolError::Failed(m) => ToolError::Failed(map(&m)),
        ToolError::Unavailable(m) => ToolError::Unavailable(map(&m)),
    }
}

/// The PII kinds and tokens that a call's arguments carry.
#[derive(Debug, Default)]
struct Flow {
    kinds: Vec<String>,
    tokens: Vec<String>,
}

/// Where a session's audit records go.
#[derive(Clone)]
pub(crate) struct Audit {
    pub log: Arc<AuditLog>,
    pub session: String,
    /// Who the session's client is (`airlock serve`: the MCP client's
    /// name and version), once known.
    pub client: Arc<Mutex<Option<String>>>,
}

impl Audit {
    fn record(&self, event: &str, fields: Value) {
        let mut record = Map::new();
        record.insert("event".into(), Value::String(event.into()));
        record.insert("session".into(), Value::String(self.session.clone()));
        if let Some(client) = self.client.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            record.insert("client".into(), Value::String(client.clone()));
        }
        if let Value::Object(fields) = fields {
            record.extend(fields);
        }
        self.log.append(record);
    }
}

/// The tools one session's executions reach, with its PII guard and its
/// audit log.
#[derive(Clone, Default)]
pub(crate) struct Boundary {
    tools: Arc<ToolRegistry>,
    pii: Option<Arc<PiiGuard>>,
    audit: Option<Audit>,
    metrics: Arc<Metrics>,
    approvals: Arc<ApprovalSettings>,
    /// Shared by the session's executions (the boundary is cloned for each).
    approver: Arc<Mutex<Option<Arc<dyn Approver>>>>,
    /// `server.tool` names a human allowed for the rest of the session.
    allowed: Arc<Mutex<BTreeSet<String>>>,
    /// Time this execution spent waiting for humans: its deadline moves
    /// by as much, since waiting is not execution time.
    waited: Arc<Mutex<WaitClock>>,
    /// This execution's tape: what the guest was answered, or the journal
    /// it replays.
    recorder: Recorder,
    /// A resume's hold on the stored execution it replays: taken (the
    /// execution leaves the store) before the waiting call goes live.
    lease: Option<Arc<ResumeLease>>,
}

/// Whether a gated call may go ahead.
enum Gate {
    Go,
    Declined(ToolError),
    /// The approver deferred the question: the execution pauses.
    Paused,
}

/// Wall time during which at least one approval of an execution was
/// pending (calls of one batch may wait at once: their waits overlap).
#[derive(Debug, Default)]
struct WaitClock {
    pending: u32,
    since: Option<Instant>,
    total: Duration,
}

impl WaitClock {
    fn start(&mut self) {
        if self.pending == 0 {
            self.since = Some(Instant::now());
        }
        self.pending += 1;
    }

    fn stop(&mut self) {
        self.pending = self.pending.saturating_sub(1);
        if self.pending == 0
            && let Some(since) = self.since.take()
        {
            self.total += since.elapsed();
        }
    }

    fn waited(&self) -> Duration {
        self.total + self.since.map_or(Duration::ZERO, |since| since.elapsed())
    }
}

impl Boundary {
    /// A boundary with a fresh vault (when PII handling is on).
    pub(crate) fn new(
        tools: Arc<ToolRegistry>,
        pii: Option<&Arc<PiiEngine>>,
        audit: Option<Audit>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let pii = pii.map(|engine| {
            Arc::new(PiiGuard { engine: engine.clone(), vault: Mutex::new(Vault::new()), counted: Mutex::default() })
        });
        Boundary {
            tools,
            pii,
            audit,
            metrics,
            approvals: Arc::default(),
            approver: Arc::default(),
            allowed: Arc::default(),
            waited: Arc::default(),
            recorder: Recorder::default(),
            lease: None,
        }
    }

    /// The boundary one execution uses: the session's, with its own count
    /// of time spent waiting for approvals.
    pub(crate) fn for_execution(&self) -> Boundary {
        // Only an execution that may pause keeps a journal.
        let recorder = if self.approvals.require.is_empty() { Recorder::live() } else { Recorder::default() };
        Boundary { waited: Arc::default(), recorder, ..self.clone() }
    }

    /// This execution answers from `recorder`'s journal before it goes
    /// live, and takes the stored execution under `lease` at the waiting
    /// call.
    pub(crate) fn replaying(self, recorder: Recorder, lease: Arc<ResumeLease>) -> Boundary {
        Boundary { recorder, lease: Some(lease), ..self }
    }

    /// This execution's tape.
    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// `value` with the tokens of this boundary's vault replaced by the
    /// values they stand for (for a human, never for the model).
    pub(crate) fn reveal(&self, value: &Value) -> Value {
        let Some(pii) = &self.pii else { return value.clone() };
        let vault = pii.vault();
        // Past the cap the call itself is refused: shown with its tokens.
        if detokenized_growth(&vault, value) > MAX_DETOKENIZED_GROWTH {
            value.clone()
        } else {
            vault.detokenize_json(value)
        }
    }

    /// How many tokens this boundary's vault has minted.
    pub(crate) fn vault_len(&self) -> usize {
        self.pii.as_ref().map_or(0, |pii| pii.vault().len())
    }

    /// Replaces this session's vault by `entries` (which extend it).
    pub(crate) fn adopt_vault(&self, entries: &[crate::pii::VaultEntry]) {
        if let Some(pii) = &self.pii {
            *pii.vault() = Vault::restore(entries);
        }
    }

    /// The session vault's entries, to seal beside a journal.
    pub(crate) fn vault_entries(&self) -> Option<Vec<crate::pii::VaultEntry>> {
        self.pii.as_ref().map(|pii| pii.vault().export())
    }

    /// This boundary asks `approver`, not the session's.
    pub(crate) fn with_own_approver(self, approver: Arc<dyn Approver>) -> Boundary {
        Boundary { approver: Arc::new(Mutex::new(Some(approver))), ..self }
    }

    /// How long of this execution so far was not execution time: waits
    /// for humans (the one going on now included), and replaying a journal.
    pub(crate) fn waited(&self) -> Duration {
        self.waited.lock().unwrap_or_else(PoisonError::into_inner).waited() + self.recorder.replay_time()
    }

    /// Gates the calls `approvals` names, asking `approver`.
    pub(crate) fn with_approvals(
        mut self,
        approvals: Arc<ApprovalSettings>,
        approver: Option<Arc<dyn Approver>>,
    ) -> Self {
        self.approvals = approvals;
        self.approver = Arc::new(Mutex::new(approver));
        self
    }

    /// Names the session's client in its audit records from now on.
    pub(crate) fn set_client(&self, client: String) {
        if let Some(audit) = &self.audit {
            *audit.client.lock().unwrap_or_else(PoisonError::into_inner) = Some(client);
        }
    }

    pub(crate) fn set_approver(&self, approver: Arc<dyn Approver>) {
        *self.approver.lock().unwrap_or_else(PoisonError::into_inner) = Some(approver);
    }

    /// Whether call `index` (in call order) may go ahead; `decided` is the
    /// human's answer when one was given before (a resumed execution).
    /// `arguments` are as the code wrote them (tokens, not values), and
    /// `text` is their JSON text as the guest sent it.
    async fn approve(
        &self,
        index: u32,
        server: &str,
        tool: &str,
        (arguments, text): (&Value, &str),
        decided: Option<Decision>,
    ) -> Gate {
        let qualified = format!("{server}.{tool}");
        let rule = match self.approvals.require.is_empty() {
            true => None,
            false => {
                let listing = self.tools.listing(server).await.ok();
                let annotations =
                    listing.as_ref().and_then(|l| l.definition(tool)).and_then(|d| d.annotations.as_ref());
                self.approvals.gate(server, tool, annotations).map(ApprovalRule::describe)
            }
        };
        let allowed = || self.allowed.lock().unwrap_or_else(PoisonError::into_inner).contains(&qualified);
        let rule = match rule {
            Some(rule) if !allowed() => rule,
            // Not gated now. A human's decline given at a pause still
            // stands when the rules or the session's allowances changed
            // since: only an approval lets a paused call go ahead.
            _ if matches!(decided, Some(Decision::Decline { .. })) => "declined at the pause".to_string(),
            _ => return Gate::Go,
        };
        let request = ApprovalRequest {
            server: server.to_string(),
            tool: tool.to_string(),
            arguments: if self.approvals.show_values { self.reveal(arguments) } else { arguments.clone() },
            rule,
            session_allowance: self.approvals.allow_for_session,
        };
        // A decision given before (a resumed execution) was not asked now:
        // nothing pending to count down.
        let asked = decided.is_none();
        let decision = match decided {
            Some(decision) => decision,
            None => {
                let approver = self.approver.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let Some(approver) = approver else {
                    self.record_approval(&request, "unasked", None, false);
                    return Gate::Declined(ToolError::Denied(format!(
                        "calling {qualified} needs a human's approval (airlock.approvals: {}), and there is no one to ask",
                        request.rule
                    )));
                };
                self.metrics.approval_asked();
                if let Some(audit) = &self.audit {
                    audit.record("approval_requested", json!({"server": server, "tool": tool, "rule": request.rule}));
                }
                self.waited.lock().unwrap_or_else(PoisonError::into_inner).start();
                let decision = approver.decide(&request).await;
                self.waited.lock().unwrap_or_else(PoisonError::into_inner).stop();
                decision
            }
        };
        let named = decision.outcome();
        let gate = match decision {
            Decision::Approve => Gate::Go,
            Decision::AllowForSession => {
                if self.approvals.allow_for_session {
                    self.allowed.lock().unwrap_or_else(PoisonError::into_inner).insert(qualified);
                }
                Gate::Go
            }
            Decision::Decline { reason } => {
                let message = match &reason {
                    Some(reason) => format!("{qualified} was declined: {reason}"),
                    None => format!("{qualified} was declined"),
                };
                self.record_approval(&request, named, reason.as_deref(), asked);
                return Gate::Declined(ToolError::Denied(message));
            }
            Decision::Pause => match self.recorder.pause(index, server, tool, text, request.rule.clone()) {
                Ok(()) => Gate::Paused,
                Err(why) => {
                    let why = format!("{qualified} needs a human's approval, and this execution cannot pause: {why}");
                    let declined = Decision::Decline { reason: None }.outcome();
                    self.record_approval(&request, declined, Some(&why), asked);
                    return Gate::Declined(ToolError::Denied(why));
                }
            },
        };
        self.record_approval(&request, named, None, asked);
        gate
    }

    /// Counts and audits a decision; `asked` when an approver was asked
    /// for it now (it was pending).
    fn record_approval(&self, request: &ApprovalRequest, outcome: &str, reason: Option<&str>, asked: bool) {
        self.metrics.approval_decided(outcome, asked);
        tracing::info!(server = %request.server, tool = %request.tool, outcome, "approval");
        if let Some(audit) = &self.audit {
            audit.record(
                "approval_decided",
                json!({"server": request.server, "tool": request.tool, "outcome": outcome, "reason": reason}),
            );
        }
    }

    /// The tools behind the boundary.
    pub(crate) fn tools(&self) -> &Arc<ToolRegistry> {
        &self.tools
    }

    /// The place in call order of the guest's next call: claim it when
    /// the guest makes the call, before awaiting it.
    pub(crate) fn claim(&self) -> u32 {
        self.recorder.claim()
    }

    /// Calls a tool with arguments as the guest wrote them (JSON text), as
    /// call `index` of the execution; the result is JSON text too. The
    /// answer is recorded on the execution's tape, or, on a replay, taken
    /// from it. A call that paused or diverged the execution gets an
    /// error the guest never sees: the host ends the execution (check
    /// [`Boundary::halted`]).
    pub(crate) async fn call_json(
        &self,
        index: u32,
        server: &str,
        tool: &str,
        arguments: &str,
    ) -> Result<String, ToolError> {
        let decided = match self.recorder.step(index, server, tool, arguments) {
            Step::Replayed(outcome) => return outcome,
            Step::Diverged => return Err(ToolError::Denied("the replay diverged".into())),
            Step::Decided(decision) => {
                self.take_lease().await?;
                decision
            }
            Step::Live => {
                self.take_lease().await?;
                None
            }
        };
        let value = match serde_json::from_str::<Value>(arguments) {
            Ok(value) => value,
            Err(e) => return Err(ToolError::InvalidArguments(format!("arguments are not valid JSON: {e}"))),
        };
        let Some(outcome) = self.call_as(index, server, tool, (value, arguments), decided).await else {
            return Err(ToolError::Denied("the execution paused for approval".into()));
        };
        self.recorder.record(index, server, tool, arguments, &outcome);
        outcome
    }

    /// On a resume, takes the stored execution out of the store before any
    /// call goes live (the waiting one, or another of its batch); refused,
    /// and the execution ends, when the resume no longer holds it.
    async fn take_lease(&self) -> Result<(), ToolError> {
        let Some(lease) = &self.lease else { return Ok(()) };
        lease.ensure_taken().await.map_err(|lost| {
            self.recorder.lose(lost);
            ToolError::Denied("the resume lost its hold on the execution".into())
        })
    }

    /// Checks the calls of a batch against a replayed journal before any
    /// of them runs (see [`Recorder::check_batch`]).
    pub(crate) fn check_batch<'a>(&self, calls: impl IntoIterator<Item = (u32, &'a str, &'a str, &'a str)>) {
        self.recorder.check_batch(calls);
    }

    /// Whether the host must end the execution now: a call paused it, or
    /// its replay diverged.
    pub(crate) fn halted(&self) -> bool {
        self.recorder.paused() || self.recorder.diverged().is_some() || self.recorder.lost().is_some()
    }

    /// Calls a tool: detokenizes and checks the arguments on the way out,
    /// tokenizes the result on the way in.
    #[cfg(test)]
    pub(crate) async fn call(&self, server: &str, tool: &str, arguments: Value) -> Result<Value, ToolError> {
        let index = self.claim();
        let text = arguments.to_string();
        let outcome = self.call_as(index, server, tool, (arguments, &text), None).await;
        let text = outcome.unwrap_or_else(|| Err(ToolError::Denied("the execution paused for approval".into())))?;
        Ok(serde_json::from_str(&text).expect("the boundary writes JSON"))
    }

    /// Call `index`, approved (with `decided`, when a human already
    /// answered), checked and tokenized, as JSON text; `None` when it
    /// paused the execution.
    async fn call_as(
        &self,
        index: u32,
        server: &str,
        tool: &str,
        (arguments, text): (Value, &str),
        decided: Option<Decision>,
    ) -> Option<Result<String, ToolError>> {
        let asked = Instant::now();
        let gate = self.approve(index, server, tool, (&arguments, text), decided).await;
        // A call that runs is timed from here: the human's wait is not its
        // time. A declined one is timed with the wait.
        let started = if matches!(gate, Gate::Go) { Instant::now() } else { asked };
        let (outcome, flow) = match (gate, &self.pii) {
            (Gate::Paused, _) => return None,
            (Gate::Declined(declined), _) => (Err(declined), Flow::default()),
            (Gate::Go, None) => {
                let text = self.tools.call(server, tool, arguments).await.map(|value| {
                    let text = value.to_string();
                    drop_aside(value, text.len());
                    text
                });
                (text, Flow::default())
            }
            (Gate::Go, Some(pii)) => match pii.outbound(server, tool, arguments) {
                (Ok(arguments), flow) => (pii.inbound(self.tools.call(server, tool, arguments).await), flow),
                (Err(denied), flow) => (Err(denied), flow),
            },
        };
        let took = started.elapsed();
        self.metrics.tool_call(server, outcome.as_ref().err().map_or("ok", ToolError::kind), took);
        if let Some(audit) = &self.audit {
            audit_tool_call(audit, server, tool, &outcome, took, flow);
        }
        Some(outcome)
    }

    /// Records a finished execution in the metrics and the audit log.
    pub(crate) fn record_execution(&self, code: &[u8], language: &str, result: &ExecutionResult) {
        let outcome = match &result.error {
            None if result.paused.is_some() => "paused".to_string(),
            None => "ok".to_string(),
            Some(ExecutionError::Limit { limit, .. }) => format!("limit:{limit}"),
            Some(ExecutionError::Exception { .. }) => "exception".to_string(),
            Some(ExecutionError::Trap { .. }) => "trap".to_string(),
        };
        self.metrics.execution(language, &outcome, result.stats.wall_time);
        if let Some(pii) = &self.pii {
            let minted = pii.vault().minted_per_kind();
            let mut counted = pii.counted.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for (kind, total) in minted {
                let before = counted.insert(kind.clone(), total).unwrap_or(0);
                if total > before {
                    self.metrics.tokens_minted(&kind, total - before);
                }
            }
        }
        let Some(audit) = &self.audit else { return };
        let (kinds, tokens) = match &self.pii {
            Some(pii) => {
                let vault = pii.vault();
                let shown = format!("{}{}", result.stdout, result.stderr);
                let kinds: Vec<String> = vault.kinds_in(&shown).iter().map(|k| k.as_str().to_owned()).collect();
                (kinds, vault.tokens_in(&shown))
            }
            None => (Vec::new(), Vec::new()),
        };
        audit.record(
            "execution",
            json!({
                "code_sha256": sha256_hex(code),
                "language": language,
                "outcome": outcome,
                "duration_us": result.stats.wall_time.as_micros() as u64,
                "tool_calls": result.stats.tool_calls,
                "fuel_used": result.stats.fuel_used,
                "pii_kinds": kinds,
                "pii_tokens": tokens,
            }),
        );
    }

    /// Tokenizes what an execution hands back (output, error, value).
    pub(crate) fn output(&self, result: ExecutionResult) -> ExecutionResult {
        match &self.pii {
            Some(pii) => pii.output(result),
            None => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool::ToolDefinition;
    use serde_json::json;

    /// A registry whose `crm.get` returns a customer and whose `mail.send`
    /// and `crm.note` echo their arguments.
    fn boundary(flows: &str) -> Boundary {
        let mut tools = ToolRegistry::default();
        let customer = |_: Value| async { Ok(json!({"name": "Ivan Petrov", "email": "ivan@example.com"})) };
        let echo = |args: Value| async move { Ok(args) };
        let reject = |args: Value| async move { Err(ToolError::Failed(format!("bad address {}", args["to"]))) };
        tools.insert("crm", ToolDefinition::new("get"), Arc::new(customer));
        tools.insert("crm", ToolDefinition::new("note"), Arc::new(echo));
        tools.insert("mail", ToolDefinition::new("send"), Arc::new(echo));
        tools.insert("mail", ToolDefinition::new("reject"), Arc::new(reject));
        let settings = PiiSettings { flows: serde_json::from_str(flows).unwrap(), ..PiiSettings::default() };
        let engine = PiiEngine::new(&settings).unwrap();
        Boundary::new(Arc::new(tools), engine.as_ref(), None, Arc::default())
    }

    #[tokio::test]
    async fn results_are_tokenized_and_arguments_detokenized() {
        let b = boundary("{}");
        let customer = b.call("crm", "get", json!({})).await.unwrap();
        assert_eq!(customer, json!({"name": "[PERSON_1]", "email": "[EMAIL_1]"}));
        // The tool receives real values, the guest gets tokens back.
        let args =
            json!({"to": "[EMAIL_1]", "text": "Dear [PERSON_1], unknown [EMAIL_9]", "n": {"deep": ["[EMAIL_1]"]}});
        let pii = b.pii.as_ref().unwrap();
        let sent = pii.outbound("mail", "send", args.clone()).0.unwrap();
        assert_eq!(
            sent,
            json!({"to": "ivan@example.com", "text": "Dear Ivan Petrov, unknown [EMAIL_9]", "n": {"deep": ["ivan@example.com"]}})
        );
        // Back in the guest, the tokens are the same; token-shaped text the
        // vault did not mint comes back escaped, so that it round-trips.
        let echoed = b.call("mail", "send", args.clone()).await.unwrap();
        assert_eq!(echoed["to"], "[EMAIL_1]");
        assert_eq!(echoed["text"], "Dear [PERSON_1], unknown [TOKEN_1]");
        assert_eq!(pii.outbound("mail", "send", echoed).0.unwrap(), sent);
    }

    #[tokio::test]
    async fn denied_flows_never_reach_the_tool() {
        let b = boundary(r#"{"mail": {"deny": ["PERSON"]}}"#);
        b.call("crm", "get", json!({})).await.unwrap();
        let error = b.call("mail", "send", json!({"to": "[EMAIL_1]", "text": "for [PERSON_1]"})).await.unwrap_err();
        assert_eq!(error.kind(), "denied");
        assert!(error.message().contains("PERSON") && error.message().contains("'mail'"), "{error}");
        assert!(!error.message().contains("Ivan"), "{error}");
        // A real value the code put back together is caught too.
        let error = b.call("mail", "send", json!({"text": "Ivan Petrov"})).await.unwrap_err();
        assert_eq!(error.kind(), "denied");
        // Other servers and other kinds pass.
        assert!(b.call("mail", "send", json!({"to": "[EMAIL_1]"})).await.is_ok());
        assert!(b.call("crm", "note", json!({"text": "[PERSON_1]"})).await.is_ok());
    }

    #[tokio::test]
    async fn errors_and_output_are_tokenized() {
        let b = boundary("{}");
        b.call("crm", "get", json!({})).await.unwrap();
        let error = b.call("mail", "reject", json!({"to": "[EMAIL_1]"})).await.unwrap_err();
        assert_eq!(error, ToolError::Failed("bad address \"[EMAIL_1]\"".into()));
        let result = ExecutionResult {
            stdout: "[PERSON_1] is ivan@example.com; new: bob@b.io\n".into(),
            stderr: "Ivan Petrov".into(),
            value: json!({"who": "ivan@example.com"}),
            error: Some(ExecutionError::Exception {
                name: "ivan@example.com".into(),
                message: "no ivan@example.com".into(),
                stack: None,
            }),
            stats: Default::default(),
            paused: Some(crate::durable::Paused {
                execution_id: "e".into(),
                call: 1,
                server: "mail".into(),
                tool: "send".into(),
                arguments: json!({"to": "ivan@example.com", "cc": "[EMAIL_1]"}),
                rule: "tools mail.*".into(),
                expires_at: 0,
            }),
        };
        let safe = b.output(result);
        assert_eq!(safe.stdout, "[PERSON_1] is [EMAIL_1]; new: [EMAIL_2]\n");
        assert_eq!(safe.stderr, "[PERSON_1]");
        assert_eq!(safe.value, json!({"who": "[EMAIL_1]"}));
        let Some(ExecutionError::Exception { name, message, .. }) = safe.error else { panic!("{:?}", safe.error) };
        assert_eq!((name.as_str(), message.as_str()), ("[EMAIL_1]", "no [EMAIL_1]"));
        assert_eq!(safe.paused.unwrap().arguments, json!({"to": "[EMAIL_1]", "cc": "[EMAIL_1]"}));
    }

    #[tokio::test]
    async fn values_a_message_quotes_as_json_are_tokenized() {
        let mut tools = ToolRegistry::default();
        let customer = |_: Value| async {
            Ok(json!({"name": "Иван Петров", "address": "221B Baker St\nLondon", "password": "p\"w\\d9Xq!zK"}))
        };
        // A server that quotes its arguments back as JSON, as Python's
        // json.dumps does (non-ASCII escaped).
        let echo_error = |_: Value| async {
            Err(ToolError::Failed(
                r#"bad {"to": "221B Baker St\nLondon", "who": "\u0418\u0432\u0430\u043d \u041f\u0435\u0442\u0440\u043e\u0432", "key": "p\"w\\d9Xq!zK"}"#.into(),
            ))
        };
        // A server that echoes a value as it is, backslashes and all, and
        // one whose message holds JSON with no personal data.
        let raw_error = |_: Value| async { Err(ToolError::Failed(r"login rejected for C:\new\top\Zq9xKv7Lm2".into())) };
        let json_error = |_: Value| async { Err(ToolError::Failed(r#"bad {"value": "say \"hi\""}"#.into())) };
        tools.insert("crm", ToolDefinition::new("get"), Arc::new(customer));
        tools.insert("crm", ToolDefinition::new("fail"), Arc::new(echo_error));
        tools.insert("crm", ToolDefinition::new("raw"), Arc::new(raw_error));
        tools.insert("crm", ToolDefinition::new("note"), Arc::new(|args: Value| async move { Ok(args) }));
        tools.insert("crm", ToolDefinition::new("json"), Arc::new(json_error));
        let engine = PiiEngine::new(&PiiSettings::default()).unwrap();
        let b = Boundary::new(Arc::new(tools), engine.as_ref(), None, Arc::default());
        let got = b.call("crm", "get", json!({})).await.unwrap();
        assert_eq!(got, json!({"name": "[PERSON_1]", "address": "[ADDRESS_1]", "password": "[SECRET_1]"}));
        let error = b.call("crm", "fail", json!({})).await.unwrap_err();
        let message = error.message();
        assert!(message.contains("[ADDRESS_1]") && message.contains("[PERSON_1]"), "{message}");
        assert!(message.contains("[SECRET_1]"), "{message}");
        for leaked in ["Baker", "\\u0418", "Петров", "d9Xq"] {
            assert!(!message.contains(leaked), "{leaked} in {message}");
        }
        assert_eq!(json_unescaped(r"a\tb \ud83d\ude00 \x \u12 \"), "a\tb 😀 \\x \\u12 \\");
        // A value with backslashes, echoed as it is, is found as it is.
        let noted = b.call("crm", "note", json!({"password": r"C:\new\top\Zq9xKv7Lm2"})).await.unwrap();
        assert_eq!(noted, json!({"password": "[SECRET_2]"}));
        let raw = b.call("crm", "raw", json!({})).await.unwrap_err();
        assert_eq!(raw.message(), "login rejected for [SECRET_2]");
        // JSON with nothing personal in it keeps its escapes.
        let json = b.call("crm", "json", json!({})).await.unwrap_err();
        assert_eq!(json.message(), r#"bad {"value": "say \"hi\""}"#);
    }

    #[tokio::test]
    async fn a_repeated_token_cannot_make_the_host_build_a_huge_text() {
        let b = boundary("{}");
        let long = "A".repeat(1 << 20);
        let tokenized = b.call("crm", "note", json!({"address": long})).await.unwrap();
        assert_eq!(tokenized, json!({"address": "[ADDRESS_1]"}));
        let pii = b.pii.as_ref().unwrap();
        // Ten copies (10 MiB) are a big but possible call; a thousand are not.
        let ten = pii.outbound("crm", "note", json!({"t": "[ADDRESS_1]".repeat(10)})).0.unwrap();
        assert_eq!(ten["t"].as_str().unwrap().len(), 10 << 20);
        let error = pii.outbound("crm", "note", json!({"t": "[ADDRESS_1]".repeat(1000)})).0.unwrap_err();
        assert_eq!(error.kind(), "invalid-arguments", "{error}");
        assert!(error.message().contains("would grow by 999 MiB, more than the 16 MiB allowed"), "{error}");
        // Nor when the arguments are shown to a human (`show_values`).
        let many = json!({"t": "[ADDRESS_1]".repeat(1000)});
        assert_eq!(b.reveal(&many), many);
        assert_eq!(b.reveal(&json!({"t": "[ADDRESS_1]"}))["t"].as_str().unwrap().len(), 1 << 20);
    }

    #[tokio::test]
    async fn sessions_do_not_share_vaults() {
        let settings = PiiSettings::default();
        let engine = PiiEngine::new(&settings).unwrap();
        let mut tools = ToolRegistry::default();
        tools.insert("s", ToolDefinition::new("echo"), Arc::new(|args: Value| async move { Ok(args) }));
        let tools = Arc::new(tools);
        let (one, two) = (
            Boundary::new(tools.clone(), engine.as_ref(), None, Arc::default()),
            Boundary::new(tools, engine.as_ref(), None, Arc::default()),
        );
        assert_eq!(one.call("s", "echo", json!({"a": "x@y.io"})).await.unwrap(), json!({"a": "[EMAIL_1]"}));
        let pii = two.pii.as_ref().unwrap();
        assert_eq!(pii.outbound("s", "echo", json!({"a": "[EMAIL_1]"})).0.unwrap(), json!({"a": "[EMAIL_1]"}));
        assert!(PiiEngine::new(&PiiSettings::disabled()).unwrap().is_none());
    }
}
