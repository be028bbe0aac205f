//! [`SkillStore`]: skill folders on disk, searched in order (for example
//! the session's, the user's, the bundled `skills/`), with their code
//! checked against the SHA-256 their manifest records.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::SkillError;
use super::manifest::{SkillLanguage, SkillManifest, validate_name};
use crate::digest::hex;

/// The manifest file of a skill folder.
const MANIFEST: &str = "SKILL.md";

/// A skill read from disk, its code verified.
#[derive(Debug, Clone)]
pub struct Skill {
    /// What `SKILL.md` records.
    pub manifest: SkillManifest,
    /// The documentation after the frontmatter.
    pub documentation: String,
    /// The code file's bytes (JS/TS source, or a component), shared.
    pub code: Arc<[u8]>,
    /// The folder it was read from.
    pub folder: PathBuf,
}

/// One skill folder found by [`SkillStore::list`], readable or not.
#[derive(Debug)]
pub struct Listed {
    /// The folder's name.
    pub name: String,
    /// The skill, or why it cannot be used.
    pub skill: Result<Skill, SkillError>,
}

/// What [`SkillStore::save`] writes.
pub struct NewSkill<'a> {
    /// The manifest; its `code_sha256` is computed from `code`.
    pub manifest: SkillManifest,
    /// Documentation for the agent that reads `SKILL.md`.
    pub documentation: &'a str,
    /// The code.
    pub code: &'a [u8],
}

/// Skill folders, searched in order: a name in an earlier folder hides the
/// same name in later ones. Saving and removing happen in the first. A
/// session's view ([`SkillStore::for_session`]) searches the session's own
/// folder before all of them.
#[derive(Debug, Clone, Default)]
pub struct SkillStore {
    folders: Vec<PathBuf>,
    /// The session's folder: searched first, saved into only on request.
    session: Option<PathBuf>,
    /// Skills already read and verified, by folder, with the size and
    /// modification time of their files then: an import re-reads nothing
    /// unless a file changed. (What is served is the verified code, so a
    /// file changed behind an unchanged stamp is still never run.)
    verified: Arc<Mutex<HashMap<PathBuf, (Stamp, Skill)>>>,
    /// Held while a skill is read for the cache: imports of one skill
    /// changed on disk wait for one read, instead of each reading (and
    /// hashing) it. Lookups in the cache do not wait.
    loading: Arc<Mutex<()>>,
    /// Saves and removals in the session's folder so far, by this store
    /// and its clones: a session kept in the store stores its skills only
    /// when this moved.
    session_changes: Arc<std::sync::atomic::AtomicU64>,
}

/// Size and modification time of each file a skill folder may hold.
type Stamp = Vec<Option<(u64, SystemTime)>>;

fn stamp(dir: &Path) -> Stamp {
    [MANIFEST, "index.js", "index.ts", "skill.wasm"]
        .iter()
        .map(|file| std::fs::metadata(dir.join(file)).ok().and_then(|m| Some((m.len(), m.modified().ok()?))))
        .collect()
}

/// The user's skill folder: `$AIRLOCK_SKILLS_DIR`, else
/// `$XDG_DATA_HOME/airlock/skills`, else `~/.local/share/airlock/skills`.
pub fn user_folder() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AIRLOCK_SKILLS_DIR")
        .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("airlock").join("skills")))
        .or_else(|| var("HOME").map(|d| d.join(".local").join("share").join("airlock").join("skills")))
}

mod bundled {
    include!(concat!(env!("OUT_DIR"), "/bundled_skills.rs"));
}

/// The bundled skills (the source skills of the repository's `skills/`,
/// embedded in the library), written once into the cache folder
/// (`bundled-skills/<digest>/`) so that the store reads them like any
/// folder. `None` without a cache folder or when it cannot be written.
pub fn bundled_folder() -> Option<PathBuf> {
    let cache = crate::dirs::default_cache_dir()?;
    match bundled_folder_in(&cache) {
        Ok(folder) => Some(folder),
        Err(error) => {
            tracing::warn!(%error, "cannot write the bundled skills into the cache");
            None
        }
    }
}

/// The bundled skills, written (once) into `cache_dir/bundled-skills/`, in
/// a folder named by their digest: complete or absent, as they are written
/// aside and then renamed.
pub fn bundled_folder_in(cache_dir: &Path) -> std::io::Result<PathBuf> {
    let parent = cache_dir.join("bundled-skills");
    let parent = parent.as_path();
    let mut digest = Sha256::new();
    for (name, files) in bundled::BUNDLED {
        for (file, bytes) in *files {
            for part in [name.as_bytes(), b"/", file.as_bytes(), b"\0", bytes, b"\0"] {
                digest.update(part);
            }
        }
    }
    let folder = parent.join(&hex(&digest.finalize())[..16]);
    if folder.is_dir() {
        return Ok(folder);
    }
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::tempdir_in(parent)?;
    for (name, files) in bundled::BUNDLED {
        let skill = staging.path().join(name);
        std::fs::create_dir_all(&skill)?;
        for (file, bytes) in *files {
            std::fs::write(skill.join(file), bytes)?;
        }
    }
    let staged = staging.keep();
    match std::fs::rename(&staged, &folder) {
        Ok(()) => Ok(folder),
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staged);
            // Another process may have written the same folder first.
            if folder.is_dir() { Ok(folder) } else { Err(error) }
        }
    }
}

/// The default search order: the user's folder, then the bundled skills.
pub fn default_folders() -> Vec<PathBuf> {
    user_folder().into_iter().chain(bundled_folder()).collect()
}

impl SkillStore {
    /// A store over `folders` (missing ones are skipped when reading).
    pub fn new(folders: Vec<PathBuf>) -> Self {
        SkillStore {
            folders,
            session: None,
            verified: Arc::default(),
            loading: Arc::default(),
            session_changes: Arc::default(),
        }
    }

    /// This store as a session sees it: `folder` (the session's own skills)
    /// searched before the shared folders.
    pub fn for_session(&self, folder: PathBuf) -> Self {
        SkillStore { session: Some(folder), session_changes: Arc::default(), ..self.clone() }
    }

    /// How many saves and removals this session's view (and its clones)
    /// made in the session's folder.
    pub fn session_changes(&self) -> u64 {
        self.session_changes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Counts a save or removal in `dir`'s folder if it is the session's.
    fn changed(&self, home: &Path) {
        if self.session.as_deref() == Some(home) {
            self.session_changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Every folder, in search order: the session's, then the shared ones.
    fn search_order(&self) -> impl Iterator<Item = &PathBuf> {
        self.session.iter().chain(&self.folders)
    }

    /// The skill in `dir`, from the verified cache while its files are
    /// unchanged. A session's own skills are not cached: the cache is the
    /// runtime's, and would keep them after the session.
    fn read(&self, dir: &Path, name: &str) -> Result<Skill, SkillError> {
        if self.session.as_ref().is_some_and(|session| dir.starts_with(session)) {
            return read(dir, name);
        }
        let now = stamp(dir);
        let cached = || {
            let verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
            verified.get(dir).filter(|(seen, _)| *seen == now).map(|(_, skill)| skill.clone())
        };
        if let Some(skill) = cached() {
            return Ok(skill);
        }
        // Read and hashed outside the cache's lock: imports of skills in
        // the cache go on meanwhile.
        let _loading = self.loading.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(skill) = cached() {
            return Ok(skill);
        }
        let skill = read(dir, name)?;
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        verified.insert(dir.to_path_buf(), (now, skill.clone()));
        Ok(skill)
    }

    /// The shared folders, in search order (after the session's).
    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    /// Every skill, by name, first folder first; later folders' skills of
    /// the same name are hidden.
    pub fn list(&self) -> Vec<Listed> {
        let mut out: Vec<Listed> = Vec::new();
        for folder in self.search_order() {
            let Ok(entries) = std::fs::read_dir(folder) else { continue };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .filter(|entry| entry.path().join(MANIFEST).is_file())
                .filter_map(|entry| entry.file_name().into_string().ok())
                .filter(|name| validate_name(name).is_ok())
                .collect();
            names.sort();
            for name in names {
                if !out.iter().any(|listed| listed.name == name) {
                    let skill = self.read(&folder.join(&name), &name);
                    out.push(Listed { name, skill });
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The skill called `name`, from the first folder that has it.
    pub fn load(&self, name: &str) -> Result<Skill, SkillError> {
        validate_name(name)?;
        self.search_order()
            .map(|folder| folder.join(name))
            .find(|dir| dir.join(MANIFEST).is_file())
            .map(|dir| self.read(&dir, name))
            .unwrap_or_else(|| Err(SkillError::NotFound(name.to_string())))
    }

    /// Writes a skill into the first shared folder; refuses a name any
    /// folder already has unless `replace`. The folder appears whole or not
    /// at all.
    pub fn save(&self, skill: NewSkill<'_>, replace: bool) -> Result<Skill, SkillError> {
        let home = self.folders.first().ok_or_else(|| SkillError::Io("no skill folder to save into".into()))?;
        self.save_into(home, skill, replace, None)
    }

    /// Writes a skill into the session's folder only: later sessions do not
    /// see it.
    pub fn save_for_session(&self, skill: NewSkill<'_>, replace: bool) -> Result<Skill, SkillError> {
        let home = self.session.as_ref().ok_or_else(|| SkillError::Io("no session to save the skill for".into()))?;
        self.save_into(home, skill, replace, None)
    }

    /// Saves a component skill built from the crate in `source`, replacing
    /// an earlier build, with a copy of its source in `source/` (build
    /// output and hidden files left out) for whoever reads it later.
    pub fn save_with_source(&self, skill: NewSkill<'_>, source: &Path) -> Result<Skill, SkillError> {
        let home = self.folders.first().ok_or_else(|| SkillError::Io("no skill folder to save into".into()))?;
        self.save_into(home, skill, true, Some(source))
    }

    fn save_into(
        &self,
        home: &Path,
        skill: NewSkill<'_>,
        replace: bool,
        source: Option<&Path>,
    ) -> Result<Skill, SkillError> {
        let name = skill.manifest.name.clone();
        validate_name(&name)?;
        let io = |e: std::io::Error| SkillError::Io(format!("saving skill '{name}' in {}: {e}", home.display()));
        std::fs::create_dir_all(home).map_err(io)?;
        let _saving = lock_folder(home).map_err(io)?;
        let target = home.join(&name);
        if !replace {
            // A folder there that does not load (not built, tampered) is
            // someone's too: it is not replaced without `replace`.
            if let Ok(existing) = self.load(&name) {
                return Err(SkillError::Exists(format!("{} (in {})", name, existing.folder.display())));
            }
            if target.exists() {
                return Err(SkillError::Exists(format!("{} (in {})", name, target.display())));
            }
        }
        let manifest = SkillManifest { code_sha256: hex(&Sha256::digest(skill.code)), ..skill.manifest };
        let staging = tempfile::Builder::new().prefix(".saving-").tempdir_in(home).map_err(io)?;
        std::fs::write(staging.path().join(manifest.language.code_file()), skill.code).map_err(io)?;
        std::fs::write(staging.path().join(MANIFEST), manifest.render(skill.documentation)).map_err(io)?;
        if let Some(source) = source {
            copy_source(source, &staging.path().join("source")).map_err(io)?;
        }
        // The old version is moved aside, not deleted, until the new one is
        // in place: a failure leaves one or the other.
        let aside = tempfile::Builder::new().prefix(".replaced-").tempdir_in(home).map_err(io)?;
        let old = aside.path().join(&name);
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &old).map_err(io)?;
        }
        if let Err(e) = std::fs::rename(staging.path(), &target) {
            if had_old && let Err(restoring) = std::fs::rename(&old, &target) {
                // Neither is in place: the old version stays where it is.
                let kept = aside.keep();
                return Err(SkillError::Io(format!(
                    "saving skill '{name}': {e}; the earlier version could not be put back ({restoring}) and is \
                     kept in {}",
                    kept.display()
                )));
            }
            return Err(io(e));
        }
        // The staging folder is now the skill; `aside` (and the old version)
        // go when dropped.
        let _ = staging.keep();
        drop(aside);
        self.changed(home);
        self.read(&target, &name)
    }

    /// Removes the skill called `name` from the session's folder, else
    /// from the first shared folder.
    pub fn remove(&self, name: &str) -> Result<(), SkillError> {
        validate_name(name)?;
        let homes = self.session.iter().chain(self.folders.first());
        let dir = homes.map(|home| home.join(name)).find(|dir| dir.join(MANIFEST).is_file());
        let dir = dir.ok_or_else(|| SkillError::NotFound(format!("{name} (only saved skills can be removed)")))?;
        let failed = |e: std::io::Error| SkillError::Io(format!("removing {}: {e}", dir.display()));
        let home = dir.parent().unwrap_or(&dir);
        let _saving = lock_folder(home).map_err(failed)?;
        std::fs::remove_dir_all(&dir).map_err(failed)?;
        self.changed(home);
        Ok(())
    }
}

/// The lock a save or removal holds on a skill folder, across processes,
/// so that its check and its swap hold together; released when dropped.
pub(crate) fn lock_folder(home: &Path) -> std::io::Result<std::fs::File> {
    let lock = std::fs::File::create(home.join(LOCK_FILE))?;
    lock.lock()?;
    Ok(lock)
}

/// The file [`lock_folder`] locks (kept: removing it would let two
/// processes lock different files).
const LOCK_FILE: &str = ".saving.lock";

/// Copies a skill crate's source: everything but build output, hidden
/// files and the files a built skill folder has of its own.
fn copy_source(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let skipped = ["target", MANIFEST, "skill.wasm"].iter().any(|s| name == *s);
        if skipped || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_source(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// The largest code file a skill is read with (a component's wasm is the
/// largest kind): a bound on what a load reads and hashes.
const MAX_CODE_BYTES: u64 = 64 << 20;

/// The largest `SKILL.md` a skill is read with.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Reads and verifies the skill in `dir`.
fn read(dir: &Path, name: &str) -> Result<Skill, SkillError> {
    let io = |path: &Path, e: std::io::Error| SkillError::Io(format!("{}: {e}", path.display()));
    let manifest_path = dir.join(MANIFEST);
    let manifest_size = std::fs::metadata(&manifest_path).map_err(|e| io(&manifest_path, e))?.len();
    if manifest_size > MAX_MANIFEST_BYTES {
        return Err(SkillError::BadManifest(format!(
            "{}: {manifest_size} bytes, over the {MAX_MANIFEST_BYTES} a SKILL.md may have",
            manifest_path.display()
        )));
    }
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| io(&manifest_path, e))?;
    let (manifest, documentation) = SkillManifest::parse(&text)?;
    if manifest.name != name {
        return Err(SkillError::BadManifest(format!(
            "{} names the skill '{}', but its folder is '{name}'",
            manifest_path.display(),
            manifest.name
        )));
    }
    let code_path = dir.join(manifest.language.code_file());
    if manifest.language == SkillLanguage::Component && !code_path.exists() {
        return Err(SkillError::NotBuilt { name: name.to_string(), folder: dir.to_path_buf() });
    }
    let size = std::fs::metadata(&code_path).map_err(|e| io(&code_path, e))?.len();
    if size > MAX_CODE_BYTES {
        return Err(SkillError::Io(format!(
            "{}: {size} bytes, over the {MAX_CODE_BYTES} a skill's code may have",
            code_path.display()
        )));
    }
    let code = std::fs::read(&code_path).map_err(|e| io(&code_path, e))?;
    let actual = hex(&Sha256::digest(&code));
    if actual != manifest.code_sha256 {
        return Err(SkillError::Tampered { name: name.to_string(), expected: manifest.code_sha256.clone(), actual });
    }
    Ok(Skill { manifest, documentation, code: code.into(), folder: dir.to_path_buf() })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn new_skill<'a>(name: &str, code: &'a [u8]) -> NewSkill<'a> {
        NewSkill {
            manifest: SkillManifest {
                name: name.into(),
                description: "Does a thing.".into(),
                language: SkillLanguage::JavaScript,
                version: "1.0.0".into(),
                code_sha256: String::new(),
                tools: BTreeMap::new(),
            },
            documentation: "Use it.",
            code,
        }
    }

    #[test]
    fn saved_skills_load_list_and_go() {
        let (mine, bundled) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let store = SkillStore::new(vec![mine.path().into(), bundled.path().into()]);
        let saved = store.save(new_skill("export-csv", b"export const f = 1;"), false).unwrap();
        assert_eq!(saved.code[..], *b"export const f = 1;");
        assert_eq!(store.load("export-csv").unwrap().manifest.code_sha256, saved.manifest.code_sha256);
        assert!(matches!(store.save(new_skill("export-csv", b"x"), false), Err(SkillError::Exists(_))));
        store.save(new_skill("export-csv", b"export const f = 2;"), true).unwrap();
        assert_eq!(store.load("export-csv").unwrap().code[..], *b"export const f = 2;");

        // A bundled skill of the same name is hidden by the saved one.
        SkillStore::new(vec![bundled.path().into()]).save(new_skill("export-csv", b"old"), false).unwrap();
        SkillStore::new(vec![bundled.path().into()]).save(new_skill("page-all", b"p"), false).unwrap();
        let names: Vec<String> = store.list().into_iter().map(|listed| listed.name).collect();
        assert_eq!(names, ["export-csv", "page-all"]);
        assert_eq!(store.load("export-csv").unwrap().code[..], *b"export const f = 2;");

        store.remove("export-csv").unwrap();
        assert_eq!(store.load("export-csv").unwrap().code[..], *b"old", "the bundled one shows again");
        assert!(matches!(store.remove("page-all"), Err(SkillError::NotFound(_))), "bundled skills stay");
        let left: Vec<_> = std::fs::read_dir(mine.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
        assert_eq!(left, [LOCK_FILE], "nothing left behind but the lock");
    }

    #[test]
    fn tampered_code_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SkillStore::new(vec![dir.path().into()]);
        store.save(new_skill("page-all", b"export const ok = true;"), false).unwrap();
        std::fs::write(dir.path().join("page-all/index.js"), b"export const ok = false;").unwrap();
        match store.load("page-all") {
            Err(SkillError::Tampered { name, .. }) => assert_eq!(name, "page-all"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(store.list()[0].skill.is_err());
    }

    #[test]
    fn names_that_would_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SkillStore::new(vec![dir.path().join("skills")]);
        for name in ["../escape", "/etc", "a/b", ".."] {
            assert!(matches!(store.save(new_skill(name, b"x"), false), Err(SkillError::BadName(_))), "{name}");
            assert!(matches!(store.load(name), Err(SkillError::BadName(_))), "{name}");
            assert!(matches!(store.remove(name), Err(SkillError::BadName(_))), "{name}");
        }
        assert!(!dir.path().join("escape").exists());
    }
    #[test]
    fn a_folder_that_does_not_load_is_not_replaced_without_replace() {
        let dir = tempfile::tempdir().unwrap();
        let store = SkillStore::new(vec![dir.path().into()]);
        // A component skill's source, not built yet: it does not load.
        std::fs::create_dir_all(dir.path().join("meeting-times/src")).unwrap();
        std::fs::write(dir.path().join("meeting-times/src/lib.rs"), "// mine").unwrap();
        let error = store.save(new_skill("meeting-times", b"1"), false).unwrap_err();
        assert!(matches!(error, SkillError::Exists(_)), "{error}");
        assert!(dir.path().join("meeting-times/src/lib.rs").is_file(), "kept");
        // With replace it goes, and nothing is left behind but the skill.
        store.save(new_skill("meeting-times", b"2"), true).unwrap();
        assert_eq!(&*store.load("meeting-times").unwrap().code, b"2");
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != LOCK_FILE)
            .collect();
        assert_eq!(left, ["meeting-times"]);
    }

    #[test]
    fn of_saves_of_one_name_at_once_without_replace_one_wins_and_with_replace_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let folder: std::path::PathBuf = dir.path().into();
        let saves = |replace: bool| -> Vec<bool> {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..8)
                    .map(|n| {
                        let folder = folder.clone();
                        scope.spawn(move || {
                            let code = format!("{n}");
                            SkillStore::new(vec![folder]).save(new_skill("racy", code.as_bytes()), replace).is_ok()
                        })
                    })
                    .collect();
                handles.into_iter().map(|handle| handle.join().unwrap()).collect()
            })
        };
        assert_eq!(saves(false).iter().filter(|ok| **ok).count(), 1);
        assert!(saves(true).iter().all(|ok| *ok));
        assert!(SkillStore::new(vec![folder]).load("racy").is_ok());
    }
}
