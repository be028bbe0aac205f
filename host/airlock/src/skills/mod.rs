//! Skills: code that worked, saved to be called again. A skill is a folder
//! `<name>/` holding `SKILL.md` (manifest and documentation, see
//! [`SkillManifest`]) and its code (`index.js`, `index.ts` or
//! `skill.wasm`). The manifest records the SHA-256 of the code (code that
//! does not match is refused) and of the schemas of every tool the code
//! calls, so a skill whose tools changed is reported stale before it runs.
//!
//! This is the source side, without wasmtime: compiling and linking
//! component skills is `component_skills`' ([`crate::Runtime::build_skill`]
//! builds one).

mod build;
pub(crate) mod files;
mod imports;
mod manifest;
mod stale;
mod store;

pub(crate) use build::build_crate;
pub use build::{BuildRequest, Built};
pub use imports::tools_called;
pub use manifest::{SkillLanguage, SkillManifest, validate_name};
pub use stale::{StaleTool, digests, stale_tools};
pub(crate) use store::lock_folder;
pub use store::{Listed, NewSkill, Skill, SkillStore, bundled_folder, bundled_folder_in, default_folders, user_folder};

/// Why a skill cannot be read, saved or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillError {
    /// The name is not a valid skill name.
    #[error("{0}")]
    BadName(String),
    /// `SKILL.md` is malformed.
    #[error("bad SKILL.md: {0}")]
    BadManifest(String),
    /// The skill cannot be saved as given (its code does not compile, is
    /// too large, or calls a server that is not configured).
    #[error("cannot save the skill: {0}")]
    Refused(String),
    /// No folder has a skill of that name.
    #[error("no skill '{0}'")]
    NotFound(String),
    /// A skill of that name exists already.
    #[error("a skill named {0} exists already")]
    Exists(String),
    /// The code does not match the SHA-256 its manifest records.
    #[error("skill '{name}' is refused: its code does not match SKILL.md (code_sha256 {expected}, file {actual})")]
    Tampered {
        /// The skill.
        name: String,
        /// The digest in `SKILL.md`.
        expected: String,
        /// The digest of the code file.
        actual: String,
    },
    /// A component skill's folder has no `skill.wasm` yet.
    #[error("skill '{name}' is not built: run `airlock skills build {}`", folder.display())]
    NotBuilt {
        /// The skill.
        name: String,
        /// Its folder.
        folder: std::path::PathBuf,
    },
    /// Building a component skill failed, or it does not fit the servers.
    #[error("cannot build the skill: {0}")]
    Build(String),
    /// Reading or writing the folder failed.
    #[error("{0}")]
    Io(String),
}

/// A skill to save from source code.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SaveRequest {
    /// Its name (lowercase letters, digits, single hyphens).
    pub name: String,
    /// One line on what it does.
    pub description: String,
    /// The JS or TS module; its exports are what importers get.
    pub code: String,
    /// `javascript` (the default), `typescript` or `python`.
    #[serde(default = "default_language")]
    pub language: SkillLanguage,
    /// Documentation for `SKILL.md`; default: the description.
    #[serde(default)]
    pub documentation: Option<String>,
    /// Its version; default `1.0.0`.
    #[serde(default)]
    pub version: Option<String>,
    /// Replace a skill of the same name.
    #[serde(default)]
    pub replace: bool,
    /// Save it for the calling session only (a host folder of the session's),
    /// not for later sessions.
    #[serde(default)]
    pub session: bool,
}

fn default_language() -> SkillLanguage {
    SkillLanguage::JavaScript
}

/// The largest source a skill is saved with (JavaScript, TypeScript or
/// Python): far past any skill, and a bound on the work of reading it.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;
/// The longest description a skill is saved with (one line is the idea).
pub const MAX_DESCRIPTION_BYTES: usize = 1 << 10;
/// The longest documentation (`SKILL.md`'s body) a skill is saved with.
pub const MAX_DOCUMENTATION_BYTES: usize = 64 << 10;
/// The longest version a skill is saved with.
pub const MAX_VERSION_BYTES: usize = 64;

/// Saves source code as a skill in `store`'s first shared folder (or, with
/// `request.session`, its session's folder), recording the tools its
/// imports call with their current schema digests in `registry`.
/// TypeScript must compile; component skills are built with `airlock
/// skills build`, not saved from source.
pub async fn save_source(
    registry: &crate::registry::ToolRegistry,
    store: &SkillStore,
    request: SaveRequest,
) -> Result<Skill, SkillError> {
    validate_name(&request.name)?;
    // Each part is read at every load, and the description is shown in
    // every later session's tool list.
    let parts = [
        ("code", request.code.len(), MAX_SOURCE_BYTES),
        ("description", request.description.len(), MAX_DESCRIPTION_BYTES),
        ("documentation", request.documentation.as_ref().map_or(0, String::len), MAX_DOCUMENTATION_BYTES),
        ("version", request.version.as_ref().map_or(0, String::len), MAX_VERSION_BYTES),
    ];
    if let Some((part, size, cap)) = parts.into_iter().find(|(_, size, cap)| size > cap) {
        return Err(SkillError::Refused(format!(
            "the {part} is {size} bytes, over the {cap} a skill's {part} may have"
        )));
    }
    match request.language {
        SkillLanguage::Component => {
            return Err(SkillError::Refused("component skills are built, not saved from source".into()));
        }
        SkillLanguage::TypeScript => {
            crate::transpile::transpile(&request.code, "index.ts").map_err(|e| SkillError::Refused(e.message))?;
        }
        // Python is not parsed here: a syntax error shows where the skill
        // is imported, with its line.
        SkillLanguage::JavaScript | SkillLanguage::Python => {}
    }
    // A server the registry does not know could never be checked: the
    // skill would not be reported stale when its tools change.
    let used = imports::servers_used(&request.code, request.language, registry);
    if let Some((server, _)) = used.into_iter().find(|(_, configured)| !configured) {
        let known = registry.servers();
        return Err(SkillError::Refused(format!(
            "the code calls server '{server}', which is not configured here (configured: {}); save it where its \
             servers are configured (`--config`), so that the tools it calls are recorded and the skill is \
             reported stale when they change",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        )));
    }
    let called = tools_called(&request.code, request.language, registry).await;
    let mut tools = std::collections::BTreeMap::new();
    for (tool, digest) in digests(registry, &called).await {
        match digest {
            Ok(digest) => {
                tools.insert(tool, digest);
            }
            Err(why) => tracing::warn!(skill = %request.name, %tool, "not recorded: {why}"),
        }
    }
    let documentation = request.documentation.clone().unwrap_or_else(|| format!("{}\n", request.description));
    let manifest = SkillManifest {
        name: request.name,
        description: request.description,
        language: request.language,
        version: request.version.unwrap_or_else(|| "1.0.0".into()),
        code_sha256: String::new(),
        tools,
    };
    let skill = NewSkill { manifest, documentation: &documentation, code: request.code.as_bytes() };
    if request.session { store.save_for_session(skill, request.replace) } else { store.save(skill, request.replace) }
}
