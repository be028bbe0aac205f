//! Which tools a skill's code calls, read from its imports: named imports
//! of `./servers/<server>` (`import { listRecords } from
//! "./servers/records"`), namespace imports and the functions used through
//! them (`records.getRecord(...)`), and `callTool("server", "tool", ...)`
//! with literal names. Nothing is type-checked; what is found is recorded
//! with the tools' current schema digests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::bindings::js_names;
use crate::tools::ToolRegistry;

/// A constant pattern; the unit tests compile every one of them.
#[allow(clippy::expect_used)]
fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("a valid constant pattern")
}

static NAMED: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r#"import\s*\{([^}]*)\}\s*from\s*["']\./servers/([A-Za-z0-9_-]+)(?:/index(?:\.ts|\.js)?)?["']"#)
});
static NAMESPACE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"import\s*\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*["']\./servers/([A-Za-z0-9_-]+)["']"#));
static CALL_TOOL: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"callTool\(\s*["']([A-Za-z0-9_-]+)["']\s*,\s*["']([^"']+)["']"#));

/// The exported function names `code` uses, per server.
fn used_functions(code: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut used: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for found in NAMED.captures_iter(code) {
        let names = found[1].split(',').filter_map(|item| item.split_whitespace().next()).map(str::to_string);
        used.entry(found[2].to_string()).or_default().extend(names.filter(|name| !name.is_empty()));
    }
    for found in NAMESPACE.captures_iter(code) {
        let names = members_called(code, &found[1]);
        used.entry(found[2].to_string()).or_default().extend(names);
    }
    used
}

/// The `name` in every `namespace.name(` of `code`.
fn members_called(code: &str, namespace: &str) -> Vec<String> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let prefix = format!("{namespace}.");
    let mut out = Vec::new();
    for (at, _) in code.match_indices(&prefix) {
        if code[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if end > 0 && rest[end..].trim_start().starts_with('(') {
            out.push(rest[..end].to_string());
        }
    }
    out
}

/// The `server.tool` names `code` calls, as far as its imports and
/// literal `callTool`s show; names a server does not have are left out.
pub async fn tools_called(code: &str, registry: &ToolRegistry) -> BTreeSet<String> {
    let mut out: BTreeSet<String> =
        CALL_TOOL.captures_iter(code).map(|call| format!("{}.{}", &call[1], &call[2])).collect();
    for (server, functions) in used_functions(code) {
        let Ok(listing) = registry.listing(&server).await else { continue };
        for (mcp, js) in js_names(&listing.definitions) {
            if functions.contains(&js) || functions.contains(&mcp) {
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
            import { listRecords, getRecord as one } from "./servers/records";
            import * as crm from './servers/crm';
            import { callTool } from "airlock";
            const all = await crm.listCustomers({}); const n = crm.count; mycrm.x();
            await callTool("mail", "send_email", {});"#;
        let used = used_functions(code);
        assert_eq!(used["records"], BTreeSet::from(["listRecords".to_string(), "getRecord".to_string()]));
        assert_eq!(used["crm"], BTreeSet::from(["listCustomers".to_string()]));
        let literal: Vec<String> = CALL_TOOL.captures_iter(code).map(|c| format!("{}.{}", &c[1], &c[2])).collect();
        assert_eq!(literal, ["mail.send_email"]);
    }
}
