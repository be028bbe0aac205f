//! Skills: code that worked, saved to be called again. A skill is a folder
//! `<name>/` holding `SKILL.md` (manifest and documentation, see
//! [`SkillManifest`]) and its code (`index.js`, `index.ts` or
//! `skill.wasm`). The manifest records the SHA-256 of the code (code that
//! does not match is refused) and of the schemas of every tool the code
//! calls, so a skill whose tools changed is reported stale before it runs.

mod imports;
mod manifest;
mod stale;
mod store;

pub use imports::tools_called;
pub use manifest::{SkillLanguage, SkillManifest, validate_name};
pub use stale::{StaleTool, digests, stale_tools};
pub use store::{Listed, NewSkill, Skill, SkillStore, user_folder};

/// Why a skill cannot be read, saved or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillError {
    /// The name is not a valid skill name.
    #[error("{0}")]
    BadName(String),
    /// `SKILL.md` is malformed.
    #[error("bad SKILL.md: {0}")]
    BadManifest(String),
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
    /// Reading or writing the folder failed.
    #[error("{0}")]
    Io(String),
}
