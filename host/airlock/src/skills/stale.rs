//! Whether a skill still fits the tools it calls: each recorded schema
//! digest against the servers' current listings.

use std::collections::BTreeMap;

use serde::Serialize;

use super::manifest::SkillManifest;
use crate::registry::ToolRegistry;

/// A tool a skill calls that no longer matches what was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleTool {
    /// `server.tool`.
    pub tool: String,
    /// What changed.
    pub change: String,
}

impl std::fmt::Display for StaleTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.tool, self.change)
    }
}

/// The tools of `manifest` whose current schemas differ from the recorded
/// ones (empty when the skill is up to date).
pub async fn stale_tools(manifest: &SkillManifest, registry: &ToolRegistry) -> Vec<StaleTool> {
    let current = digests(registry, manifest.tools.keys()).await;
    let mut out = Vec::new();
    for (tool, recorded) in &manifest.tools {
        let change = match current.get(tool) {
            Some(Ok(digest)) if digest == recorded => continue,
            Some(Ok(_)) if legacy_digest(registry, tool).await.as_ref() == Some(recorded) => continue,
            Some(Ok(_)) => "its input or output schema changed since the skill was saved".to_string(),
            Some(Err(why)) => why.clone(),
            None => "not a server.tool name".to_string(),
        };
        out.push(StaleTool { tool: tool.clone(), change });
    }
    out
}

/// The digest a skill saved by an earlier version recorded for `server.tool`.
async fn legacy_digest(registry: &ToolRegistry, qualified: &str) -> Option<String> {
    let (server, tool) = qualified.split_once('.')?;
    let listing = registry.listing(server).await.ok()?;
    let definition = listing.definition(tool)?;
    Some(crate::tool::legacy_tool_schema_digest(definition))
}

/// The current schema digest of each `server.tool`, or why there is none.
pub async fn digests<'a>(
    registry: &ToolRegistry,
    tools: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Result<String, String>> {
    let mut out = BTreeMap::new();
    for qualified in tools {
        let Some((server, tool)) = qualified.split_once('.') else { continue };
        let digest = match registry.listing(server).await {
            Ok(listing) => match listing.tool_digest(tool) {
                Some(digest) => Ok(digest.to_string()),
                None => Err(format!("server '{server}' no longer has this tool")),
            },
            Err(error) => Err(format!("server '{server}' cannot list its tools: {}", error.message())),
        };
        out.insert(qualified.clone(), digest);
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::ToolDefinition;
    use crate::skills::SkillLanguage;

    fn registry(schema: serde_json::Value) -> ToolRegistry {
        let mut registry = ToolRegistry::default();
        let echo = |args: serde_json::Value| async move { Ok(args) };
        registry.insert("crm", ToolDefinition::new("find").input_schema(schema), Arc::new(echo));
        registry
    }

    #[tokio::test]
    async fn a_changed_or_missing_tool_makes_the_skill_stale() {
        let before = registry(json!({"type": "object", "properties": {"id": {"type": "integer"}}}));
        let recorded = digests(&before, [&"crm.find".to_string()]).await;
        let mut manifest = SkillManifest {
            name: "find-one".into(),
            description: "d".into(),
            language: SkillLanguage::JavaScript,
            version: "1".into(),
            code_sha256: String::new(),
            tools: BTreeMap::from([("crm.find".to_string(), recorded["crm.find"].clone().unwrap())]),
        };
        assert!(stale_tools(&manifest, &before).await.is_empty());

        let after = registry(json!({"type": "object", "properties": {"id": {"type": "string"}}}));
        let stale = stale_tools(&manifest, &after).await;
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].tool, "crm.find");
        assert!(stale[0].change.contains("schema changed"), "{stale:?}");

        manifest.tools.insert("crm.gone".into(), "00".into());
        manifest.tools.insert("nope.x".into(), "00".into());
        let changes: Vec<String> = stale_tools(&manifest, &before).await.into_iter().map(|s| s.change).collect();
        assert!(changes[0].contains("no longer has this tool"), "{changes:?}");
        assert!(changes[1].contains("cannot list its tools"), "{changes:?}");
    }
}
