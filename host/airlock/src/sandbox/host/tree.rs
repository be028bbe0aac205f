//! `airlock:runtime/tree`: the read-only `./servers` and `./skills` tree
//! agent code browses (declarations, READMEs, skill files).

use wasmtime::component::HasData;

use crate::discovery::tree::{self as fs_tree, Node, TreeError};
use crate::registry::ToolRegistry;
use crate::skills::SkillStore;
use crate::wit::airlock::runtime::tree;

/// The `tree` interface's projection of the store.
pub(crate) struct Tree;

impl HasData for Tree {
    type Data<'a> = TreeView<'a>;
}

/// What the tree shows: the servers' tools and the session's skills.
pub(crate) struct TreeView<'a> {
    pub tools: &'a ToolRegistry,
    pub skills: &'a SkillStore,
}

impl tree::Host for TreeView<'_> {
    async fn lookup(&mut self, path: String) -> wasmtime::Result<Result<tree::Node, tree::TreeError>> {
        Ok(match fs_tree::lookup(self.tools, self.skills, &path).await {
            Ok(Node::Folder(entries)) => Ok(tree::Node::Folder(entries)),
            Ok(Node::File(text)) => Ok(tree::Node::File(text)),
            Err(TreeError::NotFound(message)) => Err(tree::TreeError::NotFound(message)),
            Err(TreeError::Unavailable(message)) => Err(tree::TreeError::Unavailable(message)),
        })
    }
}
