//! `airlock skills build DIR`, its first half: a Rust skill crate built
//! for `wasm32-wasip2` by cargo. Checking it against the servers' current
//! tools, precompiling and saving it take wasmtime, and happen in
//! `component_skills` ([`crate::Runtime::build_skill`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::SkillError;
use super::manifest::{SkillLanguage, SkillManifest};
use super::store::Skill;

/// The target component skills are built for.
const TARGET: &str = "wasm32-wasip2";

/// What to build.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// The skill's source folder: `Cargo.toml`, `SKILL.md` (with `language:
    /// component`), `src/` and `wit/`.
    pub source: PathBuf,
    /// Cargo's target folder. Default: `$AIRLOCK_SKILL_TARGET_DIR`, else
    /// `skill-target` in the cache folder, else `target/` in `source`.
    pub target_dir: Option<PathBuf>,
}

/// A skill built and saved.
#[derive(Debug)]
pub struct Built {
    /// The skill as saved (manifest with the code digest and the tools its
    /// typed imports call).
    pub skill: Skill,
    /// How long `cargo build` took.
    pub cargo_time: Duration,
    /// How long compiling the component to native code took.
    pub precompile_time: Duration,
}

/// A component skill's crate as cargo built it: not yet compiled, checked
/// against the servers or saved (`component_skills` does that).
pub(crate) struct CrateBuild {
    /// What its `SKILL.md` says.
    pub manifest: SkillManifest,
    /// The documentation after the frontmatter.
    pub documentation: String,
    /// The component's bytes.
    pub code: Vec<u8>,
    /// How long `cargo build` took.
    pub cargo_time: Duration,
}

/// Reads the `SKILL.md` of the Rust skill in `request.source` (it must say
/// `language: component`) and builds the crate; with no target folder
/// given, cargo's goes under `cache_dir` when there is one.
pub(crate) async fn build_crate(request: &BuildRequest, cache_dir: Option<&Path>) -> Result<CrateBuild, SkillError> {
    let manifest_path = request.source.join("SKILL.md");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| SkillError::Io(format!("{}: {e}", manifest_path.display())))?;
    let (manifest, documentation) = SkillManifest::parse(&text)?;
    if manifest.language != SkillLanguage::Component {
        return Err(SkillError::BadManifest(format!(
            "{} says `language: {}`; only component skills are built",
            manifest_path.display(),
            manifest.language.name()
        )));
    }

    let started = Instant::now();
    let wasm_path = cargo_build(&request.source, &target_dir(request, cache_dir)).await?;
    let cargo_time = started.elapsed();
    let code = std::fs::read(&wasm_path).map_err(|e| SkillError::Io(format!("{}: {e}", wasm_path.display())))?;
    Ok(CrateBuild { manifest, documentation, code, cargo_time })
}

fn target_dir(request: &BuildRequest, cache_dir: Option<&Path>) -> PathBuf {
    let from_env = std::env::var_os("AIRLOCK_SKILL_TARGET_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
    request
        .target_dir
        .clone()
        .or(from_env)
        .or_else(|| cache_dir.map(|dir| dir.join("skill-target")))
        .unwrap_or_else(|| request.source.join("target"))
}

/// Runs `cargo build --release --target wasm32-wasip2` on the crate in
/// `source` (its progress on our stderr) and returns the `.wasm` it made.
async fn cargo_build(source: &Path, target_dir: &Path) -> Result<PathBuf, SkillError> {
    let manifest = source.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(SkillError::Build(format!("{} is missing: a component skill is a Rust crate", manifest.display())));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = tokio::process::Command::new(cargo)
        .args(["build", "--release", "--target", TARGET, "--message-format=json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir)
        // The skill is built for its own target, whatever the caller's
        // settings for the host are.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        // Cargo's progress and errors go to our stderr as it writes them;
        // `output()` would capture them (and then they were lost).
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| SkillError::Build(format!("cannot run cargo: {e}")))?
        .wait_with_output()
        .await
        .map_err(|e| SkillError::Build(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(SkillError::Build(format!(
            "cargo build failed (see its messages above; is the {TARGET} target installed? `rustup target add {TARGET}`)"
        )));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    built_wasm(&stdout, &manifest)
        .ok_or_else(|| SkillError::Build(format!("cargo built no cdylib from {}", manifest.display())))
}

/// The `.wasm` cargo reported for the cdylib of the crate at `manifest`.
fn built_wasm(messages: &str, manifest: &Path) -> Option<PathBuf> {
    let manifest = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["manifest_path"].as_str().is_some_and(|path| Path::new(path) == manifest))
        .flat_map(|message| message["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(PathBuf::from))
        .rfind(|path| path.extension().is_some_and(|ext| ext == "wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cdylib_of_the_skill_crate_is_picked() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("Cargo.toml");
        std::fs::write(&manifest, "").unwrap();
        let canonical = std::fs::canonicalize(&manifest).unwrap();
        let messages = format!(
            "{{\"reason\":\"compiler-artifact\",\"manifest_path\":\"/elsewhere/Cargo.toml\",\"filenames\":[\"/t/dep.rlib\"]}}\n\
             not json\n\
             {{\"reason\":\"compiler-artifact\",\"manifest_path\":{path},\"filenames\":[\"/t/skill.wasm\"]}}\n\
             {{\"reason\":\"build-finished\",\"success\":true}}\n",
            path = serde_json::Value::String(canonical.display().to_string())
        );
        assert_eq!(built_wasm(&messages, &manifest), Some(PathBuf::from("/t/skill.wasm")));
        assert_eq!(built_wasm("", &manifest), None);
    }
}
