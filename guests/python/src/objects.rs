//! The host objects agent code holds: the `servers` package, one object per
//! server, the `airlock` module, and the external functions they hand out.
//!
//! They are Monty host-class instances. An attribute Monty does not find on
//! one (a tool, a server) suspends the run with the object's id, and the
//! runner resolves it here; that keeps every listing lazy.

use monty_types::{DictPairs, MontyClassInstance, MontyClassType, MontyObject, MontyUuid};

/// What a host object stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The `servers` package: its attributes are servers.
    Servers,
    /// One server, by MCP name; its attributes are tools.
    Server(String),
    /// The `airlock` module (all attributes eager).
    Airlock,
}

/// What an external function name handed to agent code does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Function {
    Tool { server: String, tool: String },
    SearchTools,
    ToolErrorKind,
}

/// The external function the import rewrite calls (see `rewrite`).
pub const IMPORT_FUNCTION: &str = "__airlock_import__";
/// The keyword the rewrite adds to a tool call in an `await` or
/// `asyncio.gather(...)` position: that call returns a future.
pub const ASYNC_KEYWORD: &str = "__airlock_async__";

/// Host objects and functions handed out in this execution.
#[derive(Default)]
pub struct Objects {
    /// `(id, what it is, the Python object)`.
    objects: Vec<(MontyUuid, Target, MontyObject)>,
    /// External function names and what they do.
    functions: Vec<(String, Function)>,
}

/// Ids far from Monty's own random uuid4s (whose version nibble is 4).
const ID_BASE: u128 = 0xA1A0_C000_0000_0000_0000_0000_0000_0000;

impl Objects {
    /// The object for `target`, created on first use. `name` is its Python
    /// name, used as its class name (what `repr` and errors show).
    pub fn object(&mut self, target: Target, name: &str) -> MontyObject {
        if let Some((_, _, object)) = self.objects.iter().find(|(_, t, _)| *t == target) {
            return object.clone();
        }
        let n = self.objects.len() as u128;
        let class_id = MontyUuid::from_u128(ID_BASE | (n << 1));
        let instance_id = MontyUuid::from_u128(ID_BASE | (n << 1) | 1);
        let attrs = match target {
            Target::Airlock => DictPairs::from(vec![
                (
                    MontyObject::String("search_tools".into()),
                    self.function("airlock.search_tools", Function::SearchTools),
                ),
                (
                    MontyObject::String("tool_error_kind".into()),
                    self.function("airlock.tool_error_kind", Function::ToolErrorKind),
                ),
            ]),
            _ => DictPairs::default(),
        };
        let object = MontyObject::ClassInstance(Box::new(MontyClassInstance {
            class_type: MontyClassType {
                name: name.to_string(),
                id: class_id,
                host_defined: true,
                is_dataclass: false,
                attrs: DictPairs::default(),
            },
            instance_id,
            attrs,
        }));
        self.objects.push((instance_id, target, object.clone()));
        object
    }

    /// What the object with id `id` stands for.
    pub fn target(&self, id: MontyUuid) -> Option<&Target> {
        self.objects.iter().find(|(i, _, _)| *i == id).map(|(_, t, _)| t)
    }

    /// The external function `name` doing `what`, registered for dispatch.
    pub fn function(&mut self, name: &str, what: Function) -> MontyObject {
        if !self.functions.iter().any(|(n, _)| n == name) {
            self.functions.push((name.to_string(), what));
        }
        MontyObject::Function { name: name.to_string(), docstring: None }
    }

    /// What the external function `name` does, if this guest handed it out.
    pub fn lookup_function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}
