//! Builds the guest components for `wasm32-wasip2` and hands their paths and
//! sha256 digests to the library (like wasmtime's test-programs artifacts).
//!
//! `AIRLOCK_JS_GUEST_WASM=path` and `AIRLOCK_PYTHON_GUEST_WASM=path` skip the
//! build and use prebuilt interpreter guests (both must be given).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

#[path = "build/guests.rs"]
mod guests;

use guests::{build_rust_guests, fail, guest_target_dir};

/// The interpreter guests the library embeds: (file stem, env override,
/// env var carrying the digest).
const INTERPRETERS: &[(&str, &str, &str)] = &[
    ("airlock_guest_js", "AIRLOCK_JS_GUEST_WASM", "AIRLOCK_JS_GUEST_SHA256"),
    ("airlock_guest_python", "AIRLOCK_PYTHON_GUEST_WASM", "AIRLOCK_PYTHON_GUEST_SHA256"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root =
        manifest_dir.ancestors().nth(2).expect("host/airlock sits two levels below the workspace root").to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for (_, override_var, _) in INTERPRETERS {
        println!("cargo:rerun-if-env-changed={override_var}");
    }
    let prebuilt: Option<Vec<PathBuf>> =
        INTERPRETERS.iter().map(|(_, var, _)| env::var_os(var).map(PathBuf::from)).collect();
    let guests = match prebuilt {
        Some(paths) => paths,
        None => {
            let target_dir = guest_target_dir(&root, &out_dir);
            let release = build_rust_guests(&root, &out_dir, &target_dir, &["airlock-guest-js"], true);
            vec![release.join("airlock_guest_js.wasm"), build_python_guest(&root, &target_dir)]
        }
    };
    embed_bundled_skills(&root, &out_dir);
    for ((stem, _, digest_var), wasm) in INTERPRETERS.iter().zip(guests) {
        let bytes = fs::read(&wasm).unwrap_or_else(|e| fail(&format!("cannot read the guest {}: {e}", wasm.display())));
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let dest = out_dir.join(format!("{stem}.wasm"));
        fs::write(&dest, &bytes).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", dest.display())));
        println!("cargo:rustc-env={digest_var}={hex}");
    }
}

/// Writes `bundled_skills.rs`: the files of every source skill under
/// `skills/` (JavaScript, TypeScript or Python; component skills are built from
/// the source tree with `airlock skills build`), embedded so that a copied
/// binary still has them.
fn embed_bundled_skills(root: &Path, out_dir: &Path) {
    let skills = root.join("skills");
    println!("cargo:rerun-if-changed={}", skills.display());
    let mut entries: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let folders =
        fs::read_dir(&skills).map(|dir| dir.flatten().map(|e| e.path()).collect::<Vec<_>>()).unwrap_or_default();
    for folder in folders {
        let manifest = fs::read_to_string(folder.join("SKILL.md")).unwrap_or_default();
        let source = ["\"javascript\"", "\"typescript\"", "\"python\""]
            .iter()
            .any(|language| manifest.lines().any(|line| line.trim() == format!("language: {language}")));
        if !source {
            continue;
        }
        let mut files: Vec<PathBuf> = fs::read_dir(&folder)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", folder.display())))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        entries.push((name, files));
    }
    entries.sort();
    let mut code = String::from(
        "/// A bundled skill's files: (file name, bytes).\npub(crate) type Files = &'static [(&'static str, &'static [u8])];\n\
         /// Bundled skills: (name, files).\npub(crate) const BUNDLED: &[(&str, Files)] = &[\n",
    );
    for (name, files) in entries {
        code.push_str(&format!("    ({name:?}, &[\n"));
        for file in files {
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            code.push_str(&format!("        ({file_name:?}, include_bytes!({:?})),\n", file.display().to_string()));
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");
    let dest = out_dir.join("bundled_skills.rs");
    fs::write(&dest, code).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", dest.display())));
}

/// Builds the CPython guest with componentize-py: the runner package
/// `guests/python/src/airlock_guest` against the `agent` world, with
/// CPython and its standard library pre-initialised. Kept in the guests'
/// target folder under the digest of everything it is built from, so an
/// unchanged guest is never built twice.
fn build_python_guest(root: &Path, target_dir: &Path) -> PathBuf {
    let sources = root.join("guests/python/src");
    let wit = root.join("wit");
    for watched in [&sources, &wit] {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
    println!("cargo:rerun-if-env-changed=AIRLOCK_COMPONENTIZE_PY");
    let componentize = env::var_os("AIRLOCK_COMPONENTIZE_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("guests/python/.venv/bin/componentize-py"));
    let version = Command::new(&componentize).arg("--version").output().ok().filter(|o| o.status.success());
    let Some(version) = version else {
        fail(&format!(
            "componentize-py is not at {}: run `scripts/setup.sh` (it installs guests/python/requirements.txt \
             into guests/python/.venv), or set AIRLOCK_COMPONENTIZE_PY",
            componentize.display()
        ));
    };
    let mut digest = Sha256::new();
    digest.update(&version.stdout);
    let mut inputs = python_files(&sources);
    inputs.extend(fs::read_dir(&wit).map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>()).unwrap_or_default());
    inputs.sort();
    for input in &inputs {
        digest.update(input.strip_prefix(root).unwrap_or(input).to_string_lossy().as_bytes());
        digest.update(fs::read(input).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", input.display()))));
    }
    let hex: String = digest.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let wasm = target_dir.join(format!("airlock_guest_python-{hex}.wasm"));
    if wasm.exists() {
        return wasm;
    }
    fs::create_dir_all(target_dir).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", target_dir.display())));
    let building = target_dir.join(format!("airlock_guest_python-{hex}.wasm.part"));
    let status = Command::new(&componentize)
        .current_dir(root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-d", "wit", "-w", "agent", "componentize", "airlock_guest.app", "-p"])
        .arg(&sources)
        .arg("-o")
        .arg(&building)
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", componentize.display())));
    if !status.success() {
        fail("building the CPython guest with componentize-py failed (see its output above)");
    }
    fs::rename(&building, &wasm).unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", wasm.display())));
    wasm
}

/// The `.py` files under `dir`, recursively (not `__pycache__`).
fn python_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map(|d| d.flatten().collect::<Vec<_>>()).unwrap_or_default() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "__pycache__") {
            out.extend(python_files(&path));
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
    out
}
