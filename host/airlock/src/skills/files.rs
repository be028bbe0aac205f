//! A skill folder's files as data: what the skills saved for a session
//! are kept in the store as (shared sessions) and journaled with (paused
//! executions), and written back from.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One skill saved for a session: the files of its folder (the manifest
/// and the code), by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SkillFiles {
    pub name: String,
    pub files: Vec<(String, String)>,
}

/// The skills in the session's folder `folder`, by name, each with its
/// files (a skill saved for a session is a manifest and a code file, both
/// text).
pub(crate) fn read_skills(folder: &Path) -> Vec<SkillFiles> {
    let mut skills: Vec<SkillFiles> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            super::validate_name(&name).ok()?;
            let mut files: Vec<(String, String)> = std::fs::read_dir(entry.path())
                .ok()?
                .flatten()
                .filter(|file| file.file_type().is_ok_and(|kind| kind.is_file()))
                .filter_map(|file| {
                    Some((file.file_name().into_string().ok()?, std::fs::read_to_string(file.path()).ok()?))
                })
                .collect();
            files.sort();
            Some(SkillFiles { name, files })
        })
        .collect();
    skills.sort_by(|a, b| a.name.cmp(&b.name));
    skills
}

/// Makes `folder` hold `skills`: a skill whose files differ is written
/// aside and swapped in; one of `known` (the set taken or stored before)
/// that `skills` no longer has is removed. Under the folder's lock, as
/// saves and removals take it.
pub(crate) fn write_skills(folder: &Path, skills: &[SkillFiles], known: &[String]) -> std::io::Result<()> {
    let _lock = super::lock_folder(folder)?;
    let here = read_skills(folder);
    let removed = known.iter().filter(|name| !skills.iter().any(|skill| &skill.name == *name));
    for gone in removed.filter(|name| super::validate_name(name).is_ok()) {
        match std::fs::remove_dir_all(folder.join(gone)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    for skill in skills.iter().filter(|skill| !here.contains(skill)) {
        // Names the store gives become paths: only plain ones are taken.
        let plain = |name: &str| !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
        if super::validate_name(&skill.name).is_err() || !skill.files.iter().all(|(name, _)| plain(name)) {
            tracing::warn!(skill = %skill.name, "a stored session skill with a name that is not plain was left out");
            continue;
        }
        let staging = tempfile::Builder::new().prefix(".taking-").tempdir_in(folder)?;
        for (name, text) in &skill.files {
            std::fs::write(staging.path().join(name), text)?;
        }
        let target = folder.join(&skill.name);
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        std::fs::rename(staging.keep(), &target)?;
    }
    Ok(())
}
