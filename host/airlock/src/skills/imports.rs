//! Which tools a skill's code calls, read from its imports. JavaScript:
//! named imports of `./servers/<server>` (`import { listRecords } from
//! "./servers/records"`), namespace and default imports and the functions
//! used through them (`records.getRecord(...)`), the same by dynamic
//! `import()`, one tool's module (`./servers/records/getRecord`), and
//! `callTool("server", "tool", ...)` with literal names. A server module
//! used in a way none of these shows counts as calling every tool of the
//! server (a skill then goes stale more often, never less). Python: `from servers import records` (and `as`),
//! `import servers.records as r`, `from servers.records import get_record`,
//! and `servers.records.get_record(...)`. Nothing is type-checked; what is
//! found is recorded with the tools' current schema digests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::codegen::{js_names, py_attributes};
use crate::registry::ToolRegistry;
use crate::skills::SkillLanguage;

/// A constant pattern; the unit tests compile every one of them.
#[allow(clippy::expect_used)]
fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("a valid constant pattern")
}

static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"import\s*(?:[A-Za-z_$][\w$]*\s*,\s*)?\{([^}]*)\}\s*from\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']"#,
    )
});
static NAMESPACE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"import\s*(?:[A-Za-z_$][\w$]*\s*,\s*)?\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']"#,
    )
});
/// `import crm from` (the default export holds every function), alone or
/// before named or namespace imports.
static DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"import\s+([A-Za-z_$][\w$]*)\s*(?:,\s*(?:\{[^}]*\}|\*\s*as\s+[A-Za-z_$][\w$]*)\s*)?from\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']"#,
    )
});
/// `const crm = await import("./servers/crm")`.
static DYNAMIC: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*await\s+import\(\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']\s*\)"#,
    )
});
/// `const { getRecord } = await import("./servers/crm")`.
static DYNAMIC_NAMED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r#"(?:const|let|var)\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']\s*\)"#,
    )
});
/// Any mention of a server module, whole (`./servers/crm`) or one tool's
/// (`./servers/crm/getRecord`).
static MODULE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"["']\./servers/([A-Za-z0-9_-]+)(?:/([A-Za-z0-9_$-]+?))?(?:\.(?:js|ts))?["']"#));
static CALL_TOOL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"callTool\(\s*["']([A-Za-z0-9_-]+)["']\s*,\s*["']([^"']+)["']"#));

static PY_FROM_SERVERS: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?m)^[ \t]*from[ \t]+servers[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#]+))"));
static PY_FROM_SERVER: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?m)^[ \t]*from[ \t]+servers\.([A-Za-z_]\w*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#]+))")
});
static PY_IMPORT_SERVER: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?m)^[ \t]*import[ \t]+servers\.([A-Za-z_]\w*)(?:[ \t]+as[ \t]+([A-Za-z_]\w*))?"));
static PY_QUALIFIED: LazyLock<Regex> = LazyLock::new(|| pattern(r"\bservers\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*\("));

/// `a, b as c` → [(a, a), (b, c)]: (imported name, bound name).
fn py_names(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|item| {
            let mut words = item.split_whitespace();
            let name = words.next()?.to_string();
            let bound = match (words.next(), words.next()) {
                (Some("as"), Some(alias)) => alias.to_string(),
                _ => name.clone(),
            };
            Some((name, bound))
        })
        .collect()
}

/// The function names Python `code` uses, per server (as Python names).
fn py_used_functions(code: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let calls = member_calls(code);
    let list = |found: &regex::Captures<'_>, at: usize| {
        found.get(at).or_else(|| found.get(at + 1)).map(|m| py_names(m.as_str())).unwrap_or_default()
    };
    for found in PY_FROM_SERVERS.captures_iter(code) {
        for (server, bound) in list(&found, 1) {
            used.entry(server).or_default().extend(calls.get(bound.as_str()).into_iter().flatten().cloned());
        }
    }
    for found in PY_FROM_SERVER.captures_iter(code) {
        used.entry(found[1].to_string()).or_default().extend(list(&found, 2).into_iter().map(|(name, _)| name));
    }
    for found in PY_IMPORT_SERVER.captures_iter(code) {
        if let Some(alias) = found.get(2) {
            let names = calls.get(alias.as_str()).into_iter().flatten().cloned();
            used.entry(found[1].to_string()).or_default().extend(names);
        }
    }
    for found in PY_QUALIFIED.captures_iter(code) {
        used.entry(found[1].to_string()).or_default().insert(found[2].to_string());
    }
    used
}

/// What [`used_functions`] records for a server module used in a way it
/// cannot follow: every tool of the server.
const EVERY_TOOL: &str = "*";

/// The exported function names `code` uses, per server ([`EVERY_TOOL`]
/// when it cannot tell).
fn used_functions(code: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let calls = member_calls(code);
    // Names in `{ a, b as c }` (import) or `{ a, b: c }` (destructuring):
    // the exported ones.
    let exported = |list: &str| -> Vec<String> {
        list.split(',')
            .filter_map(|item| item.split(|c: char| c.is_whitespace() || c == ':').find(|word| !word.is_empty()))
            .map(str::to_string)
            .collect()
    };
    for found in NAMED.captures_iter(code).chain(DYNAMIC_NAMED.captures_iter(code)) {
        used.entry(found[2].to_string()).or_default().extend(exported(&found[1]));
    }
    let bound = NAMESPACE.captures_iter(code).chain(DEFAULT.captures_iter(code)).chain(DYNAMIC.captures_iter(code));
    for found in bound {
        let names = calls.get(&found[1]).into_iter().flatten().cloned();
        used.entry(found[2].to_string()).or_default().extend(names);
    }
    for found in MODULE.captures_iter(code) {
        let functions = used.entry(found[1].to_string()).or_default();
        match found.get(2).map(|tool| tool.as_str()) {
            Some(tool) if tool != "index" => {
                functions.insert(tool.to_string());
            }
            // A whole server's module that none of the forms above binds:
            // passed around, or imported for what the code does not show.
            _ if functions.is_empty() => {
                functions.insert(EVERY_TOOL.to_string());
            }
            _ => {}
        }
    }
    used
}

/// Every `namespace.name(` of `code`, names by namespace: one pass over
/// the code, however many imports it has (a scan per import was quadratic
/// in hostile code).
fn member_calls(code: &str) -> std::collections::HashMap<&str, BTreeSet<String>> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut calls: std::collections::HashMap<&str, BTreeSet<String>> = std::collections::HashMap::new();
    for (at, _) in code.match_indices('.') {
        // The identifier before the dot: back to the previous non-identifier
        // character, so the scans of all dots add up to the code's length.
        let before = &code[..at];
        let start = before.char_indices().rev().find(|(_, c)| !is_ident(*c)).map_or(0, |(i, c)| i + c.len_utf8());
        let namespace = &before[start..];
        let rest = &code[at + 1..];
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if !namespace.is_empty() && end > 0 && rest[end..].trim_start().starts_with('(') {
            calls.entry(namespace).or_default().insert(rest[..end].to_string());
        }
    }
    calls
}

/// The servers `code` imports or calls, as the code names them (a Python
/// name for Python), and whether each is one of the registry's.
pub(crate) fn servers_used(code: &str, language: SkillLanguage, registry: &ToolRegistry) -> Vec<(String, bool)> {
    let known = registry.servers();
    let named: BTreeSet<String> = match language {
        SkillLanguage::Python => py_used_functions(code).into_keys().collect(),
        _ => {
            let literal = CALL_TOOL.captures_iter(code).map(|call| call[1].to_string());
            used_functions(code).into_keys().chain(literal).collect()
        }
    };
    let python = py_attributes(known.iter().copied());
    named
        .into_iter()
        .map(|name| {
            let configured = match language {
                SkillLanguage::Python => python.contains(&name),
                _ => known.contains(&name.as_str()),
            };
            (name, configured)
        })
        .collect()
}

/// The `server.tool` names `code` (in `language`) calls, as far as its
/// imports and literal `callTool`s show; names a server does not have are
/// left out.
pub async fn tools_called(code: &str, language: SkillLanguage, registry: &ToolRegistry) -> BTreeSet<String> {
    if language == SkillLanguage::Python {
        let mut out = BTreeSet::new();
        let used = py_used_functions(code);
        let servers = registry.servers();
        for (server, python) in servers.iter().zip(py_attributes(servers.iter().copied())) {
            let Some(functions) = used.get(&python) else { continue };
            let Ok(listing) = registry.listing(server).await else { continue };
            let tools = py_attributes(listing.definitions.iter().map(|tool| tool.name.as_str()));
            for (tool, python) in listing.definitions.iter().zip(tools) {
                if functions.contains(&python) {
                    out.insert(format!("{server}.{}", tool.name));
                }
            }
        }
        return out;
    }
    let mut out: BTreeSet<String> =
        CALL_TOOL.captures_iter(code).map(|call| format!("{}.{}", &call[1], &call[2])).collect();
    for (server, functions) in used_functions(code) {
        let Ok(listing) = registry.listing(&server).await else { continue };
        let every = functions.contains(EVERY_TOOL);
        for (mcp, js) in js_names(&listing.definitions) {
            if every || functions.contains(&js) || functions.contains(&mcp) {
                out.insert(format!("{server}.{mcp}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_named_namespace_and_literal_calls() {
        let code = r#"
            import {NL  listRecords,NL  getRecord as oneNL} from "./servers/records";
            import * as crm from './servers/crm';
            import { callTool } from "airlock";
            const all = await crm.listCustomers({}); const n = crm.count; mycrm.x();
            await callTool("mail", "send_email", {});"#
            .replace("NL", "\r\n");
        let code = code.as_str();
        let used = used_functions(code);
        assert_eq!(used["records"], BTreeSet::from(["listRecords".to_string(), "getRecord".to_string()]));
        assert_eq!(used["crm"], BTreeSet::from(["listCustomers".to_string()]));
        let literal: Vec<String> = CALL_TOOL.captures_iter(code).map(|c| format!("{}.{}", &c[1], &c[2])).collect();
        assert_eq!(literal, ["mail.send_email"]);
    }

    #[test]
    fn finds_default_dynamic_and_per_tool_imports_and_falls_back_to_every_tool() {
        let code = r#"
            import crm from "./servers/crm";
            import billing, { refund } from './servers/billing';
            const mail = await import("./servers/mail");
            const { listEvents, getEvent: one } = await import("./servers/calendar");
            import getRecord from "./servers/records/getRecord";
            import { searchFiles } from "./servers/drive/searchFiles.js";
            import * as wiki from "./servers/wiki";
            await crm.listCustomers({}); await billing.charge({}); await mail.sendEmail({});
            const pick = (m) => m["createPage"]; pick(wiki);"#;
        let used = used_functions(code);
        let set = |names: &[&str]| names.iter().map(|name| name.to_string()).collect::<BTreeSet<String>>();
        assert_eq!(used["crm"], set(&["listCustomers"]));
        assert_eq!(used["billing"], set(&["charge", "refund"]));
        assert_eq!(used["mail"], set(&["sendEmail"]));
        assert_eq!(used["calendar"], set(&["getEvent", "listEvents"]));
        assert_eq!(used["records"], set(&["getRecord"]));
        assert_eq!(used["drive"], set(&["searchFiles"]));
        assert_eq!(used["wiki"], set(&[EVERY_TOOL]), "used in a way the patterns cannot follow");
    }

    #[test]
    fn finds_python_imports_and_calls() {
        let code = "from servers import records, crm as c\n\
                    import servers.mail as m\n\
                    from servers.billing import (\n    refund,\n    charge as ch,\n)\n\
                    def f():\n    records.get_record(id=1)\n    c.list_customers()\n    m.send(to=1)\n\
                    servers.time.now()\n";
        let used = py_used_functions(code);
        assert_eq!(used["records"], BTreeSet::from(["get_record".to_string()]));
        assert_eq!(used["crm"], BTreeSet::from(["list_customers".to_string()]));
        assert_eq!(used["mail"], BTreeSet::from(["send".to_string()]));
        assert_eq!(used["billing"], BTreeSet::from(["refund".to_string(), "charge".to_string()]));
        assert_eq!(used["time"], BTreeSet::from(["now".to_string()]));
    }
}
