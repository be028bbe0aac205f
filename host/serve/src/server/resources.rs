//! The guest's read-only tree as MCP resources: `airlock://servers/<server>/
//! index.ts` and `airlock://servers/<server>/<tool>.ts`, so that a client
//! can browse the generated declarations without running code.

use rmcp::ErrorData as McpError;
use rmcp::model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents};

use airlock::ToolRegistry;
use airlock::discovery::tree::{self, Node, TreeError};
use airlock::skills::SkillStore;

/// The scheme and authority of every resource.
const PREFIX: &str = "airlock:/";

/// TypeScript declarations.
const MIME_TYPE: &str = "text/x-typescript";

/// Every declaration file, of every server that can list its tools.
pub(super) async fn list(registry: &ToolRegistry) -> ListResourcesResult {
    let resources = tree::files(registry)
        .await
        .into_iter()
        .map(|path| {
            let name = path.trim_start_matches("/servers/").to_string();
            let mut resource = Resource::new(format!("{PREFIX}{path}"), name);
            resource.mime_type = Some(MIME_TYPE.into());
            resource
        })
        .collect();
    ListResourcesResult { resources, ..Default::default() }
}

/// One file's text; a folder's entry names, one per line.
pub(super) async fn read(
    registry: &ToolRegistry,
    skills: &SkillStore,
    uri: &str,
) -> Result<ReadResourceResult, McpError> {
    let not_found = |message: String| McpError::resource_not_found(message, Some(serde_json::json!({"uri": uri})));
    let path = uri
        .strip_prefix(PREFIX)
        .filter(|path| path.starts_with('/') && !path.split('/').any(|part| part == ".." || part == "."))
        .ok_or_else(|| not_found(format!("no resource '{uri}': Airlock's resources are {PREFIX}/servers/...")))?;
    let (text, mime_type) = match tree::lookup(registry, skills, path).await {
        Ok(Node::File(text)) => (text, MIME_TYPE),
        Ok(Node::Folder(entries)) => (entries.join("\n"), "text/plain"),
        Err(TreeError::NotFound(message)) => return Err(not_found(message)),
        Err(TreeError::Unavailable(message)) => return Err(McpError::internal_error(message, None)),
    };
    let contents = ResourceContents::TextResourceContents {
        uri: uri.to_string(),
        mime_type: Some(mime_type.into()),
        text,
        meta: None,
    };
    Ok(ReadResourceResult::new(vec![contents]))
}
