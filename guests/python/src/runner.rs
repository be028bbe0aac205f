//! One execution: compile the agent's code, run it, and answer everything
//! it suspends on until it completes or raises.
//!
//! The Ok value of `run` is the JSON of the value of the program's last
//! statement when that is an expression (Monty returns it), else `null`.

use monty::{FunctionCall, MontyRun, NameLookup, ResolveFutures, RunProgress};
use monty_types::{
    CompileOptions, DictPairs, ExcType, ExtFunctionResult, MontyException, MontyObject, NameLookupResult, PrintWriter,
    ResourceLimits, ResourceTracker,
};

use crate::airlock::runtime::tools::{self, Detail};
use crate::airlock::runtime::types::{GuestError, ToolCall};
use crate::errors::{self, ToolErrors, exception};
use crate::json::{self, Mode, quoted};
use crate::objects::{ASYNC_KEYWORD, Function, IMPORT_FUNCTION, Objects, Target};
use crate::output::{self, Stdout};
use crate::servers::{Directory, Missing, python_name};
use crate::{guard, oscalls, rewrite};

/// The file name tracebacks show.
const SCRIPT_NAME: &str = "main.py";

/// Python call depth at which `RecursionError` is raised. Monty keeps
/// Python frames on its own heap, but printing, comparing, hashing and
/// converting nested values recurses natively against the same counter,
/// and must fit wasmtime's 512 KiB stack: `repr` of nested dicts, the
/// deepest, overflows it at about 600 levels.
const RECURSION_LIMIT: usize = 400;

/// The most results `search_tools` asks for.
const MAX_SEARCH_LIMIT: i64 = 1000;

/// Monty's limits: only recursion depth. Time, memory, output and tool
/// calls are enforced by the host from outside the instance.
fn tracker() -> ResourceTracker {
    ResourceTracker::new(ResourceLimits::default().max_recursion_depth(RECURSION_LIMIT))
}

/// Runs the agent's `code` to completion.
pub fn run(code: &str) -> Result<String, GuestError> {
    if let Err(too_deep) = guard::check(code) {
        return Err(errors::syntax_error(guard::TooDeep::MESSAGE, too_deep.line, code));
    }
    let prepared = rewrite::prepare(code);
    let lines = prepared.rewritten_lines;
    let mut session = Session::default();
    let runner = MontyRun::new(prepared.code, SCRIPT_NAME, Vec::new(), CompileOptions::default())
        .map_err(|e| errors::guest_error(&e, code, &lines, &session.tool_errors))?;
    let mut out = Stdout::default();
    let mut progress = runner.start(Vec::new(), tracker(), PrintWriter::Callback(&mut out));
    loop {
        let step = match progress {
            Ok(step) => step,
            Err(error) => {
                out.flush();
                return Err(errors::guest_error(&error, code, &lines, &session.tool_errors));
            }
        };
        progress = match step {
            RunProgress::Complete(value) => {
                out.flush();
                session.warn_unawaited();
                return Ok(json::to_json(&value, Mode::Lenient).unwrap_or_else(|_| "null".to_string()));
            }
            RunProgress::FunctionCall(call) => {
                // Output printed before a host call reaches the host first.
                out.flush();
                session.call(call, &mut out)
            }
            RunProgress::NameLookup(lookup) => session.lookup(lookup, &mut out),
            RunProgress::OsCall(call) => call.resume_with(PrintWriter::Callback(&mut out), oscalls::answer),
            RunProgress::ResolveFutures(futures) => {
                out.flush();
                session.resolve(futures, &mut out)
            }
        };
    }
}

/// Runs a small program once, at pre-initialisation, so that the snapshot
/// holds Monty's lazily built tables and an allocator already grown.
pub fn warm_up() {
    let code = "rows = [{'id': i, 'name': f'n{i}', 'ok': i % 2 == 0} for i in range(64)]\n\
                picked = sorted([r for r in rows if r['ok']], key=lambda r: -r['id'])\n\
                str(picked[:2]) + repr(len(picked))";
    if let Ok(runner) = MontyRun::new(code.to_string(), SCRIPT_NAME, Vec::new(), CompileOptions::default()) {
        let _ = runner.run(Vec::new(), tracker(), PrintWriter::Disabled);
    }
    let _ = json::parse(r#"{"a": [1, 2.5, "x\u00e9", true, null]}"#);
}

/// A call whose future the code awaits.
struct Pending {
    call_id: u32,
    work: Work,
}

/// What resolves a pending call.
enum Work {
    /// A tool call, sent with the batch the code waits on.
    Tool(ToolCall),
    /// Answered by the guest already (an awaited `search_tools`).
    Done(ExtFunctionResult),
}

/// How the guest answers one suspension.
enum Answer {
    Value(MontyObject),
    Raise(MontyException),
    /// No such function: `NameError`.
    NotFound(String),
    /// An async call: a future now, resolved when the code waits on it.
    Pending(Work),
}

impl From<MontyException> for Answer {
    fn from(error: MontyException) -> Self {
        Answer::Raise(error)
    }
}

/// What one execution has looked up and handed out.
#[derive(Default)]
struct Session {
    directory: Directory,
    objects: Objects,
    tool_errors: ToolErrors,
    pending: Vec<Pending>,
}

impl Session {
    /// Answers a call of an external function or of a host object's method.
    fn call(&mut self, mut call: FunctionCall, out: &mut Stdout) -> Result<RunProgress, MontyException> {
        let name = std::mem::take(&mut call.function_name);
        let args = std::mem::take(&mut call.args);
        let kwargs = std::mem::take(&mut call.kwargs);
        let answer = match call.object_id {
            Some(id) => match self.objects.target(id).cloned() {
                Some(target) => self.method(target, &name, args, kwargs),
                None => Answer::Raise(exception(ExcType::AttributeError, format!("no attribute {}", quoted(&name)))),
            },
            None if name == IMPORT_FUNCTION => self.import(&args),
            None => match self.objects.lookup_function(&name).cloned() {
                Some(Function::Tool { server, tool }) => self.tool(server, tool, args, kwargs),
                Some(Function::SearchTools) => {
                    let (is_async, kwargs) = take_async_flag(kwargs);
                    match search_tools(args, kwargs) {
                        Answer::Value(found) if is_async => Answer::Pending(Work::Done(found.into())),
                        Answer::Raise(error) if is_async => Answer::Pending(Work::Done(error.into())),
                        answer => answer,
                    }
                }
                Some(Function::ToolErrorKind) => self.tool_error_kind(&args),
                None => Answer::NotFound(name),
            },
        };
        let print = PrintWriter::Callback(out);
        match answer {
            Answer::Value(value) => call.resume(value, print),
            Answer::Raise(error) => call.resume(error, print),
            Answer::NotFound(name) => call.resume(ExtFunctionResult::NotFound(name), print),
            Answer::Pending(work) => {
                self.pending.push(Pending { call_id: call.call_id, work });
                call.resume_pending(print)
            }
        }
    }

    /// `object.name(...)` on a host object, for a name it does not hold.
    fn method(
        &mut self,
        target: Target,
        name: &str,
        args: Vec<MontyObject>,
        kwargs: Vec<(MontyObject, MontyObject)>,
    ) -> Answer {
        match target {
            Target::Server(server) => match self.directory.tool(&server, name) {
                Ok(tool) => self.tool(server, tool, args, kwargs),
                Err(missing) => self.missing_attribute(&server, name, missing),
            },
            Target::Servers => Answer::Raise(exception(
                ExcType::TypeError,
                format!("servers.{name} is a server, not a tool: call one of its tools, servers.{name}.<tool>(...)"),
            )),
            Target::Airlock => Answer::Raise(exception(
                ExcType::AttributeError,
                format!("module 'airlock' has no attribute {}", quoted(name)),
            )),
        }
    }

    /// Reads an attribute Monty does not find on a host object, or a global
    /// name the code never bound.
    fn lookup(&mut self, lookup: NameLookup, out: &mut Stdout) -> Result<RunProgress, MontyException> {
        let name = lookup.name.as_str();
        let result = match lookup.object_id().and_then(|id| self.objects.target(id).cloned()) {
            // `servers` works without an import too.
            None if lookup.object_id().is_none() && name == "servers" => {
                NameLookupResult::Value(self.objects.object(Target::Servers, "servers"))
            }
            Some(Target::Server(server)) => match self.directory.tool(&server, name) {
                Ok(tool) => NameLookupResult::Value(self.tool_function(&server, &tool)),
                Err(missing) => match self.missing_attribute(&server, name, missing) {
                    Answer::Raise(error) => NameLookupResult::Error(error),
                    _ => NameLookupResult::Undefined,
                },
            },
            Some(Target::Servers) => match self.directory.server(name) {
                Ok(server) => NameLookupResult::Value(self.server_object(&server)),
                Err(Missing::Unknown(why)) => NameLookupResult::Error(exception(
                    ExcType::AttributeError,
                    format!("module 'servers' has no attribute {}: {why}", quoted(name)),
                )),
                Err(missing) => NameLookupResult::Error(self.unlisted(missing)),
            },
            Some(Target::Airlock) | None => NameLookupResult::Undefined,
        };
        lookup.resume(result, PrintWriter::Callback(out))
    }

    /// The error for tool `name` that server `server` does not have.
    fn missing_attribute(&mut self, server: &str, name: &str, missing: Missing) -> Answer {
        match missing {
            Missing::Unknown(why) => Answer::Raise(exception(
                ExcType::AttributeError,
                format!("server {} has no tool {}: {why}", quoted(&python_name(server)), quoted(name)),
            )),
            missing => Answer::Raise(self.unlisted(missing)),
        }
    }

    /// The error for a listing the host could not give.
    fn unlisted(&mut self, missing: Missing) -> MontyException {
        match missing {
            Missing::Unavailable(server, error) => self.tool_errors.raise(&server, error),
            Missing::NoListing(why) => exception(ExcType::ImportError, format!("cannot list the servers: {why}")),
            Missing::Unknown(why) => exception(ExcType::ImportError, why),
        }
    }

    fn server_object(&mut self, server: &str) -> MontyObject {
        self.objects.object(Target::Server(server.to_string()), &python_name(server))
    }

    fn tool_function(&mut self, server: &str, tool: &str) -> MontyObject {
        let what = Function::Tool { server: server.to_string(), tool: tool.to_string() };
        self.objects.function(&format!("{server}.{tool}"), what)
    }

    /// `__airlock_import__(module, name)`, which the rewrite puts in place
    /// of `import` statements naming `servers` or `airlock`.
    fn import(&mut self, args: &[MontyObject]) -> Answer {
        let (module, name) = match args {
            [MontyObject::String(module), MontyObject::String(name)] => (module.as_str(), Some(name.as_str())),
            [MontyObject::String(module), MontyObject::None] => (module.as_str(), None),
            _ => return exception(ExcType::TypeError, "__airlock_import__(module, name)").into(),
        };
        if name == Some("*") {
            return exception(
                ExcType::ImportError,
                format!("'from {module} import *' is not supported: import the names you use"),
            )
            .into();
        }
        match (module, name) {
            ("servers", None) => Answer::Value(self.objects.object(Target::Servers, "servers")),
            ("servers", Some(server)) => match self.directory.server(server) {
                Ok(server) => Answer::Value(self.server_object(&server)),
                Err(Missing::Unknown(why)) => exception(
                    ExcType::ImportError,
                    format!("cannot import name {} from 'servers': {why}", quoted(server)),
                )
                .into(),
                Err(missing) => self.unlisted(missing).into(),
            },
            ("airlock", None) => Answer::Value(self.objects.object(Target::Airlock, "airlock")),
            ("airlock", Some("search_tools")) => {
                Answer::Value(self.objects.function("airlock.search_tools", Function::SearchTools))
            }
            ("airlock", Some("tool_error_kind")) => {
                Answer::Value(self.objects.function("airlock.tool_error_kind", Function::ToolErrorKind))
            }
            ("airlock", Some(other)) => exception(
                ExcType::ImportError,
                format!(
                    "cannot import name {} from 'airlock' (it has search_tools, ToolError, tool_error_kind)",
                    quoted(other)
                ),
            )
            .into(),
            (module, name) => match module.strip_prefix("servers.") {
                Some(server) if !server.contains('.') => self.import_from_server(module, server, name),
                _ => exception(ExcType::ModuleNotFoundError, no_module(module, name)).into(),
            },
        }
    }

    /// `import servers.<server>` (binding `servers`) or
    /// `from servers.<server> import <tool>`.
    fn import_from_server(&mut self, module: &str, server: &str, tool: Option<&str>) -> Answer {
        let server = match self.directory.server(server) {
            Ok(server) => server,
            Err(Missing::Unknown(why)) => {
                return exception(ExcType::ModuleNotFoundError, format!("No module named {}: {why}", quoted(module)))
                    .into();
            }
            Err(missing) => return self.unlisted(missing).into(),
        };
        let Some(tool) = tool else { return Answer::Value(self.objects.object(Target::Servers, "servers")) };
        match self.directory.tool(&server, tool) {
            Ok(tool) => Answer::Value(self.tool_function(&server, &tool)),
            Err(Missing::Unknown(why)) => exception(
                ExcType::ImportError,
                format!("cannot import name {} from {}: {why}", quoted(tool), quoted(module)),
            )
            .into(),
            Err(missing) => self.unlisted(missing).into(),
        }
    }

    /// Calls `tool` of `server` now, or queues it when the rewrite marked
    /// the call as awaited.
    fn tool(
        &mut self,
        server: String,
        tool: String,
        args: Vec<MontyObject>,
        kwargs: Vec<(MontyObject, MontyObject)>,
    ) -> Answer {
        let (is_async, kwargs) = take_async_flag(kwargs);
        let label = format!("{server}.{tool}");
        let arguments = match arguments_json(&label, args, kwargs) {
            Ok(arguments) => arguments,
            Err(error) => return Answer::Raise(error),
        };
        let call = ToolCall { server, tool, arguments };
        if is_async {
            return Answer::Pending(Work::Tool(call));
        }
        let result = tools::call(&call.server, &call.tool, &call.arguments);
        match self.outcome(&label, result) {
            ExtFunctionResult::Return(value) => Answer::Value(value),
            ExtFunctionResult::Error(error) => Answer::Raise(error),
            _ => Answer::Raise(exception(ExcType::RuntimeError, "unexpected tool outcome")),
        }
    }

    /// A tool's result as a Python value, or its error as a `ToolError`.
    fn outcome(&mut self, label: &str, result: Result<String, errors::HostToolError>) -> ExtFunctionResult {
        match result {
            Ok(text) => match json::parse(&text) {
                Ok(value) => ExtFunctionResult::Return(value),
                Err(why) => ExtFunctionResult::Error(exception(
                    ExcType::ValueError,
                    format!("{label}: the tool's result cannot be read: {}", why.message),
                )),
            },
            Err(error) => ExtFunctionResult::Error(self.tool_errors.raise(label, error)),
        }
    }

    /// Sends the queued tool calls the code now waits on as one batch, and
    /// resumes with their results.
    fn resolve(&mut self, futures: ResolveFutures, out: &mut Stdout) -> Result<RunProgress, MontyException> {
        let waiting = futures.pending_call_ids().to_vec();
        let (mut ready, rest): (Vec<Pending>, Vec<Pending>) =
            std::mem::take(&mut self.pending).into_iter().partition(|p| waiting.contains(&p.call_id));
        self.pending = rest;
        // In the order the calls were made.
        ready.sort_by_key(|p| p.call_id);
        let mut results: Vec<(u32, ExtFunctionResult)> = Vec::with_capacity(waiting.len());
        let (mut ids, mut calls) = (Vec::new(), Vec::new());
        for pending in ready {
            match pending.work {
                Work::Tool(call) => {
                    ids.push(pending.call_id);
                    calls.push(call);
                }
                Work::Done(result) => results.push((pending.call_id, result)),
            }
        }
        let mut outcomes = match calls.as_slice() {
            [] => Vec::new(),
            [one] => vec![tools::call(&one.server, &one.tool, &one.arguments)],
            many => tools::call_batch(many),
        };
        // The host answers every call; should it not, the rest fail.
        outcomes.resize_with(calls.len(), || {
            Err(errors::HostToolError::Failed("the host returned no result for this call".into()))
        });
        for ((id, call), outcome) in ids.into_iter().zip(&calls).zip(outcomes) {
            results.push((id, self.outcome(&format!("{}.{}", call.server, call.tool), outcome)));
        }
        for id in &waiting {
            if !results.iter().any(|(done, _)| done == id) {
                let error = exception(ExcType::RuntimeError, "the code awaits a call that has no result");
                results.push((*id, ExtFunctionResult::Error(error)));
            }
        }
        futures.resume(results, PrintWriter::Callback(out))
    }

    /// Notes on stderr the async tool calls that were never awaited, as
    /// Python warns of a coroutine never awaited; they were never sent.
    fn warn_unawaited(&self) {
        for pending in &self.pending {
            if let Work::Tool(call) = &pending.work {
                output::warn(&format!("RuntimeWarning: tool call {}.{} was never awaited\n", call.server, call.tool));
            }
        }
    }

    /// `tool_error_kind(e)`: the kind of a tool error (`"failed"`, ...), or
    /// `None` for any other exception.
    fn tool_error_kind(&self, args: &[MontyObject]) -> Answer {
        let message = match args {
            [MontyObject::Exception { exc_type, arg: Some(message) }] if *exc_type == errors::TOOL_ERROR_TYPE => {
                message
            }
            [MontyObject::String(message)] => message,
            [_] => return Answer::Value(MontyObject::None),
            _ => return exception(ExcType::TypeError, "tool_error_kind(error) takes one exception").into(),
        };
        let kind = self.tool_errors.kind_of(message);
        Answer::Value(kind.map_or(MontyObject::None, |k| MontyObject::String(k.to_string())))
    }
}

/// Removes the keyword the rewrite adds to awaited calls; true if it was
/// there.
fn take_async_flag(mut kwargs: Vec<(MontyObject, MontyObject)>) -> (bool, Vec<(MontyObject, MontyObject)>) {
    let before = kwargs.len();
    kwargs.retain(|(key, _)| !matches!(key, MontyObject::String(k) if k == ASYNC_KEYWORD));
    (kwargs.len() != before, kwargs)
}

/// The tool's arguments object: keyword arguments, or one positional dict
/// (which keyword arguments may add to).
fn arguments_json(
    label: &str,
    args: Vec<MontyObject>,
    kwargs: Vec<(MontyObject, MontyObject)>,
) -> Result<String, MontyException> {
    let mut pairs: Vec<(String, MontyObject)> = Vec::with_capacity(kwargs.len());
    let mut args = args.into_iter();
    match (args.next(), args.len()) {
        (None, _) => {}
        (Some(MontyObject::Dict(dict)), 0) => {
            for (key, value) in dict {
                let MontyObject::String(key) = key else {
                    return Err(exception(
                        ExcType::TypeError,
                        format!("{label}(): argument names must be str, not {}", key.type_name()),
                    ));
                };
                pairs.push((key, value));
            }
        }
        (Some(other), 0) => {
            return Err(exception(
                ExcType::TypeError,
                format!(
                    "{label}() takes keyword arguments or one dict of them, not a positional {}",
                    other.type_name()
                ),
            ));
        }
        (Some(_), more) => {
            return Err(exception(
                ExcType::TypeError,
                format!(
                    "{label}() takes keyword arguments or one dict of them, but {} positional arguments were given",
                    more + 1
                ),
            ));
        }
    }
    for (key, value) in kwargs {
        let MontyObject::String(key) = key else { continue };
        match pairs.iter_mut().find(|(name, _)| *name == key) {
            Some(slot) => slot.1 = value,
            None => pairs.push((key, value)),
        }
    }
    let refs: Vec<(String, &MontyObject)> = pairs.iter().map(|(k, v)| (k.clone(), v)).collect();
    json::object_to_json(&refs, Mode::Strict).map_err(|e| {
        let exc_type = if e.type_error { ExcType::TypeError } else { ExcType::ValueError };
        exception(exc_type, format!("{label}(): {}", e.message))
    })
}

/// `No module named 'x'`, with a hint for the module paths agents try.
fn no_module(module: &str, name: Option<&str>) -> String {
    let hint = if module.starts_with("servers.") {
        ": servers are imported as `from servers import crm`, tools as `from servers.crm import list_customers`"
    } else if module.starts_with("airlock.") || name.is_some() {
        ": `airlock` has search_tools, ToolError and tool_error_kind"
    } else {
        ""
    };
    format!("No module named {}{hint}", quoted(module))
}

/// `search_tools(query, detail="description", limit=10)`.
fn search_tools(args: Vec<MontyObject>, kwargs: Vec<(MontyObject, MontyObject)>) -> Answer {
    const PARAMS: [&str; 3] = ["query", "detail", "limit"];
    let fail = |exc_type, message: String| Answer::Raise(exception(exc_type, format!("search_tools(): {message}")));
    if args.len() > PARAMS.len() {
        return fail(ExcType::TypeError, format!("takes at most 3 arguments ({} given)", args.len()));
    }
    let mut values: [Option<MontyObject>; 3] = [None, None, None];
    for (slot, arg) in values.iter_mut().zip(args) {
        *slot = Some(arg);
    }
    for (key, value) in kwargs {
        let key = match key {
            MontyObject::String(key) => key,
            other => other.to_string(),
        };
        let Some(index) = PARAMS.iter().position(|p| *p == key) else {
            return fail(ExcType::TypeError, format!("got an unexpected keyword argument {}", quoted(&key)));
        };
        if values[index].is_some() {
            return fail(ExcType::TypeError, format!("got multiple values for argument {}", quoted(&key)));
        }
        values[index] = Some(value);
    }
    let [query, detail, limit] = values;
    let query = match query {
        Some(MontyObject::String(query)) => query,
        Some(other) => return fail(ExcType::TypeError, format!("query must be a str, not {}", other.type_name())),
        None => return fail(ExcType::TypeError, "missing required argument 'query'".into()),
    };
    let detail = match detail {
        None => Detail::Description,
        Some(MontyObject::String(detail)) => match detail.as_str() {
            "name" => Detail::Name,
            "description" => Detail::Description,
            "full" => Detail::Full,
            other => {
                return fail(
                    ExcType::ValueError,
                    format!("detail must be 'name', 'description' or 'full', not {}", quoted(other)),
                );
            }
        },
        Some(other) => return fail(ExcType::TypeError, format!("detail must be a str, not {}", other.type_name())),
    };
    let limit = match limit {
        None => 10,
        Some(MontyObject::Int(n)) if n > 0 => n.min(MAX_SEARCH_LIMIT),
        Some(MontyObject::BigInt(n)) if n > 0.into() => MAX_SEARCH_LIMIT,
        Some(MontyObject::Int(_) | MontyObject::BigInt(_)) => {
            return fail(ExcType::ValueError, "limit must be a positive integer".into());
        }
        Some(other) => return fail(ExcType::TypeError, format!("limit must be an int, not {}", other.type_name())),
    };
    let found = tools::search(&query, detail, u32::try_from(limit).unwrap_or(10));
    let text = |s: String| MontyObject::String(s);
    let results = found
        .into_iter()
        .map(|m| {
            let mut pairs = vec![
                (text("name".into()), text(format!("{}.{}", m.server, m.tool))),
                (text("server".into()), text(m.server)),
                (text("tool".into()), text(m.tool)),
                (text("score".into()), MontyObject::Float(m.score)),
            ];
            if let Some(description) = m.description {
                pairs.push((text("description".into()), text(description)));
            }
            if let Some(declaration) = m.declaration {
                pairs.push((text("declaration".into()), text(declaration)));
            }
            MontyObject::Dict(DictPairs::from(pairs))
        })
        .collect();
    Answer::Value(MontyObject::List(results))
}
