//! Component skills, the part that needs wasmtime: compiled (once per code
//! digest, through the artifact cache), linked against the servers' typed
//! interfaces (once per state of those servers), and built from a Rust
//! crate. The source side of skills (store, manifest, staleness) is
//! [`crate::skills`], below the sandbox; this sits above it, and the
//! sandbox reaches it through [`crate::sandbox::SkillLinker`].

mod build;
mod compiled;

pub(crate) use build::build;
pub(crate) use compiled::CompiledSkills;
