//! Import specifiers → normalised paths in the guest's virtual tree.
//!
//! The tree is rooted at `/`; the agent's module lives at its root, so
//! `./servers/crm` names `/servers/crm`. Nothing may climb above the root.

/// The name the agent's own module is declared under.
pub const MAIN_MODULE: &str = "main.js";

/// Built-in modules, served by the guest itself.
pub const BUILTIN_AIRLOCK: &str = "airlock";
/// The workspace file API (also importable as `node:fs`, `fs/promises`).
pub const BUILTIN_FS: &str = "fs";

/// The built-in module an import specifier names, if any.
pub fn builtin(specifier: &str) -> Option<&'static str> {
    match specifier {
        BUILTIN_AIRLOCK => Some(BUILTIN_AIRLOCK),
        "fs" | "node:fs" | "fs/promises" | "node:fs/promises" => Some(BUILTIN_FS),
        _ => None,
    }
}

/// Folders of the virtual tree whose modules the host serves.
const SERVED_ROOTS: [&str; 2] = ["/servers/", "/skills/"];

/// Resolves `specifier` as imported from the module named `base`.
pub fn resolve(base: &str, specifier: &str) -> Result<String, String> {
    if let Some(name) = builtin(specifier) {
        return Ok(name.to_string());
    }
    let joined = if specifier.starts_with('/') {
        specifier.to_string()
    } else if specifier.starts_with("./") || specifier.starts_with("../") {
        format!("{}/{specifier}", parent_dir(base))
    } else {
        return Err(format!(
            "cannot import '{specifier}': the sandbox has no package '{specifier}'; \
             import tools from './servers/<server>', skills from './skills/<name>', \
             helpers from 'airlock', or the workspace through 'fs'"
        ));
    };
    let path =
        normalise(&joined).ok_or_else(|| format!("cannot import '{specifier}': the path leaves the sandbox's tree"))?;
    let dir = format!("{path}/");
    if SERVED_ROOTS.iter().any(|root| dir.starts_with(root) && dir.len() > root.len()) {
        Ok(path)
    } else {
        Err(format!(
            "cannot import '{specifier}' (resolved to {path}): only './servers/<server>' \
             and './skills/<name>' modules exist in the sandbox"
        ))
    }
}

/// The folder a module lives in; the main module lives at the root.
fn parent_dir(base: &str) -> &str {
    match base.rfind('/') {
        Some(i) => &base[..i],
        None => "",
    }
}

/// Collapses `.`, `..` and repeated slashes; `None` when `..` climbs above `/`.
fn normalise(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(format!("/{}", parts.join("/")))
}
