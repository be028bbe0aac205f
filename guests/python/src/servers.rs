//! Server and tool names: what the host lists, and the Python names they
//! are reached by.
//!
//! Listings are fetched on first use and cached for the execution, so code
//! that calls no tools never asks the host for them.

use ruff_python_stdlib::identifiers::is_identifier;

use crate::airlock::runtime::types::ToolError;
use crate::airlock::runtime::{tools, tree};

/// The Python name of an MCP server or tool: the name itself when it is a
/// valid identifier, else with every character that cannot appear in one
/// turned into `_`, a leading digit prefixed with `_`, and a keyword
/// suffixed with `_`. MCP's snake_case is kept as it is.
pub fn python_name(name: &str) -> String {
    if is_identifier(name) {
        return name.to_string();
    }
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if !is_identifier(&out) {
        // What is left can only be a keyword (`class`, `from`, ...).
        out.push('_');
    }
    out
}

/// One server's tools: `(python name, MCP name)` in the listing's order.
struct ToolTable {
    server: String,
    tools: Vec<(String, String)>,
}

/// Why a name could not be resolved, ready to become a Python exception.
pub enum Missing {
    /// No such name; the text says what there is instead.
    Unknown(String),
    /// The host could not list the tools of the MCP server named first.
    Unavailable(String, ToolError),
    /// The server list itself could not be read.
    NoListing(String),
}

/// The servers and tools this execution has looked up.
#[derive(Default)]
pub struct Directory {
    /// `(python name, MCP name)` of every server, once listed.
    servers: Option<Vec<(String, String)>>,
    tools: Vec<ToolTable>,
}

impl Directory {
    /// The MCP name of the server Python calls `name`.
    pub fn server(&mut self, name: &str) -> Result<String, Missing> {
        let servers = self.servers()?;
        match find(servers, name) {
            Some(mcp) => Ok(mcp.to_string()),
            None => {
                let names: Vec<&str> = servers.iter().map(|(py, _)| py.as_str()).collect();
                let available = if names.is_empty() {
                    "no servers are configured".to_string()
                } else {
                    format!("available servers: {}", names.join(", "))
                };
                Err(Missing::Unknown(format!("{}{available}", suggestion(name, &names))))
            }
        }
    }

    /// The MCP name of the tool Python calls `name` on MCP server `server`.
    pub fn tool(&mut self, server: &str, name: &str) -> Result<String, Missing> {
        let table = self.table(server)?;
        match find(&table.tools, name) {
            Some(mcp) => Ok(mcp.to_string()),
            None => {
                let names: Vec<&str> = table.tools.iter().map(|(py, _)| py.as_str()).collect();
                let available = if names.is_empty() {
                    "the server offers no tools".to_string()
                } else {
                    format!("available tools: {}", abbreviated(&names, 40))
                };
                Err(Missing::Unknown(format!("{}{available}", suggestion(name, &names))))
            }
        }
    }

    fn servers(&mut self) -> Result<&[(String, String)], Missing> {
        if self.servers.is_none() {
            let names = match tree::lookup("/servers") {
                Ok(tree::Node::Folder(names)) => names,
                Ok(tree::Node::File(_)) => Vec::new(),
                // No `/servers` folder: no servers configured.
                Err(tree::TreeError::NotFound(_)) => Vec::new(),
                Err(tree::TreeError::Unavailable(why)) => return Err(Missing::NoListing(why)),
            };
            self.servers = Some(named(names));
        }
        Ok(self.servers.as_deref().unwrap_or_default())
    }

    fn table(&mut self, server: &str) -> Result<&ToolTable, Missing> {
        let index = match self.tools.iter().position(|t| t.server == server) {
            Some(index) => index,
            None => {
                let names = tools::tool_names(server).map_err(|e| Missing::Unavailable(server.to_string(), e))?;
                self.tools.push(ToolTable { server: server.to_string(), tools: named(names) });
                self.tools.len() - 1
            }
        };
        Ok(&self.tools[index])
    }
}

/// Pairs each MCP name with its Python name. An exact identifier wins over
/// a sanitised name that collides with it; later collisions are dropped.
fn named(names: Vec<String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(names.len());
    for name in names.iter().filter(|n| is_identifier(n)) {
        out.push((name.clone(), name.clone()));
    }
    for name in names.iter().filter(|n| !is_identifier(n)) {
        let python = python_name(name);
        if !out.iter().any(|(py, _)| *py == python) {
            out.push((python, name.clone()));
        }
    }
    // Back to the listing's order.
    out.sort_by_key(|(_, mcp)| names.iter().position(|n| n == mcp));
    out
}

/// The MCP name for Python name `name`; the MCP name itself is accepted too.
fn find<'a>(names: &'a [(String, String)], name: &str) -> Option<&'a str> {
    names
        .iter()
        .find(|(py, _)| py == name)
        .or_else(|| names.iter().find(|(_, mcp)| mcp == name))
        .map(|(_, mcp)| mcp.as_str())
}

/// `did you mean x, y? ` for the names closest to `name`, if any are close.
fn suggestion(name: &str, names: &[&str]) -> String {
    let wanted = name.to_lowercase();
    let mut close: Vec<(usize, &str)> = names
        .iter()
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            let distance = edit_distance(&wanted, &lower);
            let near = distance <= (wanted.chars().count() / 4).max(1);
            let contains = wanted.len() >= 3 && (lower.contains(&wanted) || wanted.contains(&lower));
            (near || contains).then_some((distance, *candidate))
        })
        .collect();
    close.sort();
    close.truncate(3);
    if close.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = close.into_iter().map(|(_, n)| n).collect();
        format!("did you mean {}? ", names.join(", "))
    }
}

/// Levenshtein distance, over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// At most `max` names, then how many more there are.
fn abbreviated(names: &[&str], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{}, ... ({} more)", names[..max].join(", "), names.len() - max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_names() {
        assert_eq!(python_name("list_customers"), "list_customers");
        assert_eq!(python_name("get-user"), "get_user");
        assert_eq!(python_name("3d.render"), "_3d_render");
        assert_eq!(python_name("class"), "class_");
        assert_eq!(python_name(""), "_");
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(suggestion("list_customer", &["list_customers", "delete"]), "did you mean list_customers? ");
    }
}
